"""The demo company's staff customer-orientation assessments and its store managers' observation notes, written as
export files (``files/orientation.csv`` with Polish headers, as the HR tool would, and ``files/observations.csv``)
and loaded through the ordinary paths: ``centric orientation import`` and ``centric ingest feedback
observations.csv --set source=observation --set brand=ours``.

Each store's staff get a manager's assessment in the last two full quarters of the data and, most of them, a
self-assessment too — a little rosier than the manager's, as in life; the staff of one store
(:data:`WEAK_STORE`) handle conflicts clearly worse. About thirty observation notes in Polish and Italian (and a
few in English) tell of queues at the tills, staff helping, products not found, a children's corner …

A random stream of its own (seed + 909), so that adding it changes nothing else in the demo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..store import Store
from .generator import END

__all__ = ["WEAK_STORE", "InsideSummary", "add_orientation"]

WEAK_STORE = "Voltaro Łódź Manufaktura"
QUARTERS = (dt.datetime(2026, 4, 1), dt.datetime(2026, 7, 1))  # the last two full quarters before END
assert QUARTERS[1] + dt.timedelta(days=92) <= END + dt.timedelta(days=1)
LEVEL = {"attitude": 0.1, "communication": 0.0, "product_knowledge": -0.1, "conflict_handling": -0.2,
         "clear_speech": 0.15, "adapting": -0.1}
HEADERS = {"employee_id": "Nr ewidencyjny", "assessed_at": "Data oceny", "view": "Widok", "assessor": "Oceniający",
           "attitude": "Postawa", "communication": "Komunikacja", "product_knowledge": "Znajomość produktów",
           "conflict_handling": "Rozwiązywanie konfliktów", "clear_speech": "Wyraźna mowa",
           "adapting": "Dopasowanie do klienta", "comment": "Komentarz"}
COMMENTS = {
    "pl": ["Dobrze radzi sobie z trudnymi klientami.", "Powinien więcej pytać o potrzeby klienta.",
           "Bardzo dobra znajomość AGD.", "Czasem zbyt szybko mówi przy kasie."],
    "it": ["Gestisce bene i clienti difficili.", "Dovrebbe chiedere di più sulle esigenze del cliente.",
           "Ottima conoscenza dei prodotti.", "A volte parla troppo in fretta."],
}

# (language, text, the store's country or a store's name); {name}: an employee of the store, masked when quoted
NOTES = [
    ("pl", "Długie kolejki do kas w sobotę po południu, otwarta tylko jedna kasa. Kilku klientów odłożyło towar i "
           "wyszło.", "PL"),
    ("pl", "Sprzedawca cierpliwie pomógł starszej pani wybrać pralkę, wszystko wyjaśnił spokojnie.", "PL"),
    ("pl", "Klient szukał odkurzacza z reklamy, ale produkt był niedostępny i nikt nie wiedział, kiedy będzie "
           "dostawa.", "PL"),
    ("pl", "Kącik dla dzieci bardzo się sprawdza: rodzice spokojnie oglądają telewizory, a dzieci się bawią.", "PL"),
    ("pl", "Przy kasie klient kłócił się o cenę, a sprzedawca podniósł głos zamiast spokojnie wyjaśnić promocję.",
     WEAK_STORE),
    ("pl", "Klient z reklamacją został odesłany od jednego sprzedawcy do drugiego, nikt nie chciał się tym zająć.",
     WEAK_STORE),
    ("pl", "Ceny na półkach nie zgadzały się z ceną w kasie, klienci byli zdezorientowani.", "PL"),
    ("pl", "Terminal płatniczy przy drugiej kasie nie działał, klienci musieli czekać na płatność kartą.", "PL"),
    ("pl", "Bałagan na półkach przy telefonach, klienci nie mogli znaleźć modeli z gazetki.", "PL"),
    ("pl", "Personel przy ekspozycji AGD bardzo pomocny, klienci chętnie pytali o porady.", "PL"),
    ("pl", "Klientka czekała kwadrans na sprzedawcę przy lodówkach, nikt do niej nie podszedł.", "PL"),
    ("pl", "Sklep czysty i uporządkowany, działy dobrze oznaczone.", "PL"),
    ("pl", "Rozmowa z klientem z reklamacją: {name} zachowuje spokój i szybko znajduje rozwiązanie.", "PL"),
    ("pl", "Wielu klientów pytało o termin dostawy i montażu zmywarki; sprzedawcy nie znali terminów.", "PL"),
    ("pl", "Produkt z wystawy był uszkodzony i klient zrezygnował z zakupu.", "PL"),
    ("pl", "Sprzedawcy dobrze znają telewizory i uczciwie porównują modele.", "PL"),
    ("pl", "Brak towaru z promocji już w sobotę rano, klienci wychodzili z pustymi rękami.", "PL"),
    ("it", "Code lunghe alle casse il sabato mattina, solo due casse aperte.", "IT"),
    ("it", "Il commesso è stato molto disponibile con una coppia anziana, ha spiegato tutto con calma.", "IT"),
    ("it", "Un cliente cercava una lavatrice in promozione ma era esaurita, nessuno ha proposto un'alternativa.", "IT"),
    ("it", "L'angolo bambini è sempre pieno, i genitori restano più a lungo in negozio.", "IT"),
    ("it", "Scaffali in disordine nel reparto telefonia, i clienti non trovavano i prodotti.", "IT"),
    ("it", "Il personale ha gestito bene un cliente arrabbiato per un reso, con pazienza e cortesia.", "IT"),
    ("it", "Prezzi sui cartellini diversi da quelli in cassa, diversi clienti si sono lamentati.", "IT"),
    ("it", "Negozio pulito e ordinato, buona illuminazione.", "IT"),
    ("it", "Nessuno al banco informazioni per venti minuti, i clienti se ne andavano.", "IT"),
    ("it", "Il pagamento con carta non funzionava alla cassa tre.", "IT"),
    ("it", "I clienti chiedevano i tempi di consegna del frigorifero, il venditore non sapeva rispondere.", "IT"),
    ("it", "Il venditore conosce bene i prodotti e consiglia con onestà.", "IT"),
    ("en", "Long queues at the tills around lunchtime; customers gave up and left their baskets.", "PL"),
    ("en", "The staff at the TV section were very helpful and explained the differences clearly.", "IT"),
    ("en", "Several customers could not find the advertised coffee machines; they were out of stock.", "PL"),
    ("en", "The children's corner kept kids busy while their parents compared fridges.", "IT"),
]


@dataclass(frozen=True)
class InsideSummary:
    assessments: int
    self_assessments: int
    notes: int


def _assessments(store: Store, rng: np.random.Generator) -> pd.DataFrame:
    staff = store.con.execute(
        "SELECT e.employee_id, e.unit, e.language, u.manager FROM employees e JOIN units u ON u.unit = e.unit "
        "WHERE u.kind = 'store' AND e.role = 'staff' AND e.left_at IS NULL ORDER BY e.employee_id").fetchall()
    rows = []
    for emp, unit, lang, manager in staff:
        base = rng.normal(3.7, 0.45)
        for qi, q in enumerate(QUARTERS):
            latent = {c: base + off + 0.1 * qi + (-1.4 if unit == WEAK_STORE and c == "conflict_handling" else 0)
                      for c, off in LEVEL.items()}
            day = q + dt.timedelta(days=int(rng.integers(40, 80)), hours=int(rng.integers(9, 18)))
            views = [("manager", 0.0)] + ([("self", 0.45)] if rng.random() < 0.8 else [])
            for view, rosier in views:
                r = {HEADERS[c]: int(np.clip(np.rint(v + rosier + rng.normal(0, 0.5)), 1, 5))
                     for c, v in latent.items()}
                comment = None
                if view == "manager" and rng.random() < 0.25:
                    pool = COMMENTS["it" if lang == "it" else "pl"]
                    comment = pool[int(rng.integers(len(pool)))]
                rows.append({HEADERS["employee_id"]: emp, HEADERS["assessed_at"]: day.strftime("%d.%m.%Y"),
                             HEADERS["view"]: view, HEADERS["assessor"]: manager, **r, HEADERS["comment"]: comment})
    return pd.DataFrame(rows, columns=list(HEADERS.values()))


def _notes(store: Store, rng: np.random.Generator) -> pd.DataFrame:
    units = store.con.execute("SELECT unit, country FROM units WHERE kind = 'store' ORDER BY unit").fetchall()
    by_country: dict[str, list[str]] = {}
    for u, c in units:
        by_country.setdefault(c, []).append(u)
    start, days = QUARTERS[0], (END - QUARTERS[0]).days
    rows = []
    for lang, text, where in NOTES:
        unit = where if where not in by_country else by_country[where][int(rng.integers(len(by_country[where])))]
        if "{name}" in text:
            who = store.con.execute("SELECT name FROM employees WHERE unit = ? AND role = 'staff' AND name IS NOT "
                                    "NULL ORDER BY employee_id LIMIT 1", [unit]).fetchone()
            text = text.format(name=who[0] if who else "Kasia")
        at = start + dt.timedelta(days=int(rng.integers(0, days)), hours=int(rng.integers(9, 20)),
                                  minutes=int(rng.integers(0, 60)))
        rows.append({"Sklep": unit, "Data": at.strftime("%Y-%m-%d %H:%M"), "Treść": text, "Język": lang,
                     "Autor": "manager"})
    return pd.DataFrame(rows)


def add_orientation(store: Store, files: Path, seed: int) -> InsideSummary:
    """Write and load the demo's assessments and observation notes (needs ``units`` and ``employees`` loaded)."""
    from ..ingest import ingest
    from ..orientation import import_assessments

    rng = np.random.default_rng(seed + 909)
    files = Path(files)
    files.mkdir(parents=True, exist_ok=True)
    a = _assessments(store, rng)
    a.to_csv(files / "orientation.csv", sep=";", index=False, encoding="utf-8")
    n = _notes(store, rng)
    managers = dict(store.con.execute("SELECT unit, manager FROM units").fetchall())
    n["Autor"] = [managers.get(u) or "manager" for u in n["Sklep"]]
    n.to_csv(files / "observations.csv", index=False, encoding="utf-8")
    res = import_assessments(store, files / "orientation.csv", name="orientation.csv") if len(a) else None
    notes = ingest("feedback", files / "observations.csv", store=store, name="observations.csv",
                   values={"source": "observation", "brand": "ours", "channel": "store"})[0] if len(n) else None
    stored = res.rows_stored if res else 0
    selfs = int((a[HEADERS["view"]] == "self").sum()) if len(a) else 0
    return InsideSummary(stored, selfs, notes.rows_stored if notes else 0)
