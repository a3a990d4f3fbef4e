"""The demo company's employee surveys: a quarterly eNPS survey (three quarters) and a monthly pulse (three
months), the employees of every unit invited (leavers and people not yet hired are not), about seven in ten
answering, some with a comment in their language (Polish or Italian).

Each store's employees are happier where its customers are: a store's mean employee score follows its
customers' NPS in the quarter (standardised across stores) plus noise of its own, so the stores' eNPS
correlates positively — not perfectly — with their customer NPS. Departments are small (one to four people):
their cuts fall below the reporting threshold, as they should.

Answers go through the same path as the web form's (``centric.enps.answers.record_many``): random ids,
the period only, rows rewritten in random order. A random stream of its own (seed + 707).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..enps import analysis, answers, invitations
from ..enps.invitations import period_bounds
from ..store import Store
from ..surveys import from_dict, repo
from ..surveys.answers import Answer

ANSWER_SHARE = 0.7
COMMENT_SHARE = 0.5
QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3")
MONTHS = ("2026-08", "2026-09", "2026-10")

# comments by language and mood: (theme, text)
COMMENTS = {
    "pl": {
        "good": ["Świetny zespół, zawsze sobie pomagamy.", "Kierownik sklepu nas słucha i tłumaczy decyzje.",
                 "Lubię pomagać klientom w wyborze sprzętu.", "Dużo się tu nauczyłam, dobre szkolenia z produktów.",
                 "Dobra atmosfera w zespole, przyjazni ludzie.", "Elastyczny grafik, można się dogadać ze zmianami."],
        "bad": ["Grafik dostajemy za późno, ciągłe zmiany w ostatniej chwili.", "Za mało ludzi na zmianie, "
                "ciągłe nadgodziny.", "Klienci krzyczą na nas przez opóźnione dostawy, a my nic nie wiemy.",
                "Pensja za niska jak na tyle pracy, brak podwyżki od dwóch lat.", "System kasowy jest wolny i "
                "ciągle się zawiesza.", "Brak szkoleń z nowych produktów, nie umiemy odpowiadać klientom."],
    },
    "it": {
        "good": ["Squadra fantastica, ci aiutiamo sempre a vicenda.", "Il responsabile ci ascolta e spiega le "
                 "decisioni.", "Mi piace aiutare i clienti a scegliere.", "Ho imparato molto, buona formazione sui "
                 "prodotti.", "Bel clima nel negozio, colleghi gentili.", "Orari flessibili, i turni si "
                 "concordano."],
        "bad": ["I turni arrivano troppo tardi e cambiano all'ultimo momento.", "Siamo sempre sotto organico, "
                "troppi straordinari.", "I clienti ci urlano contro per le consegne in ritardo.", "Lo stipendio è "
                "basso per tutto questo lavoro.", "Il sistema di cassa è lento e si blocca spesso.", "Nessuna "
                "formazione sui nuovi prodotti, non sappiamo rispondere ai clienti."],
    },
}
ENPS_SURVEY = {
    "slug": "enps-quarterly", "name": "Employee NPS (quarterly)", "kind": "nps", "audience": "employees",
    "period": "quarter", "languages": ["pl", "it", "en", "ru"], "branding": {"company": "Voltaro",
                                                                            "primary": "#0f766e"},
}
PULSE_SURVEY = {
    "slug": "pulse-monthly", "name": "Monthly pulse", "kind": "csat", "audience": "employees", "period": "month",
    "languages": ["pl", "it", "en", "ru"], "branding": {"company": "Voltaro", "primary": "#0f766e"},
    "questions": [
        {"id": "workload", "type": "rating", "scale": [1, 5], "label": {
            "en": "I can manage my workload.", "pl": "Daję radę z ilością pracy.", "ru": "Я справляюсь с нагрузкой.",
            "it": "Riesco a gestire il mio carico di lavoro."}},
        {"id": "manager", "type": "rating", "scale": [1, 5], "label": {
            "en": "My manager supports me.", "pl": "Mój przełożony mnie wspiera.", "ru": "Руководитель меня "
            "поддерживает.", "it": "Il mio responsabile mi sostiene."}},
        {"id": "customers", "type": "rating", "scale": [1, 5], "label": {
            "en": "I have what I need to serve customers well.", "pl": "Mam wszystko, czego potrzebuję, by dobrze "
            "obsłużyć klientów.", "ru": "У меня есть всё, чтобы хорошо обслуживать клиентов.",
            "it": "Ho ciò che serve per servire bene i clienti."}},
    ],
}


@dataclass(frozen=True)
class DemoEnps:
    invitations: int
    answers: int
    comments: int
    hidden_units: int
    correlation: float | None


def _store_effects(store: Store, period: str) -> dict[str, float]:
    """Each store's customer NPS in ``period``, standardised across the stores."""
    start, end = period_bounds(period)
    rows = store.con.execute(
        "SELECT store, avg(CASE WHEN nps >= 9 THEN 1.0 ELSE 0.0 END) - avg(CASE WHEN nps <= 6 THEN 1.0 ELSE 0.0 END) "
        "FROM responses WHERE store IS NOT NULL AND nps IS NOT NULL AND responded_at >= ? AND responded_at < ? "
        "GROUP BY store", [start, end]).fetchall()
    if len(rows) < 2:
        return {}
    v = np.array([r[1] for r in rows], dtype=float)
    sd = v.std() or 1.0
    return {r[0]: float((r[1] - v.mean()) / sd) for r in rows}


def add_employee_surveys(store: Store, seed: int = 7) -> DemoEnps:
    """Add the two employee surveys, their invitations and answers, and the comments' themes."""
    rng = np.random.default_rng(seed + 707)
    surveys = {}
    for d in (ENPS_SURVEY, PULSE_SURVEY):
        s = from_dict({**d, "branding": {**d["branding"]}})
        surveys[d["slug"]] = repo.get(store, repo.add(store, s))
    staff = store.con.execute("SELECT employee_id, language FROM employees").df()
    lang_of = dict(zip(staff["employee_id"], staff["language"], strict=True))
    unit_mood = {u: float(rng.normal(0, 0.5)) for u in store.con.execute("SELECT unit FROM units").df()["unit"]}
    n_inv = n_ans = n_com = 0
    for slug, periods in (("enps-quarterly", QUARTERS), ("pulse-monthly", MONTHS)):
        s = surveys[slug]
        for period in periods:
            start, _ = period_bounds(period)
            day = start + dt.timedelta(days=10)
            effects = _store_effects(store, period)
            plan = invitations.plan(store, s, day=day, period=period)
            links = invitations.issue(store, plan, base_url="https://voltaro.example", link_days=30)
            n_inv += len(links)
            ids = store.con.execute("SELECT invitation_id, employee_id, unit FROM employee_invitations WHERE "
                                    "survey_id = ? AND period = ?", [s.survey_id, period]).fetchall()
            items = []
            for invitation_id, employee_id, unit in sorted(ids, key=lambda r: str(r[1])):
                if rng.random() >= ANSWER_SHARE:
                    continue
                mood = 0.6 * effects.get(unit, 0.0) + unit_mood.get(unit, 0.0) + float(rng.normal(0, 1.0))
                lang = lang_of.get(employee_id) or "pl"
                if s.kind == "nps":
                    score = int(np.clip(round(7.4 + 1.6 * mood), 0, 10))
                    good = score >= 8
                    extras: dict[str, str] = {}
                else:
                    score = int(np.clip(round(3.6 + 0.8 * mood), 1, 5))
                    good = score >= 4
                    extras = {q: str(int(np.clip(round(score + rng.normal(0, 0.8)), 1, 5)))
                              for q in ("workload", "manager", "customers")}
                comment = None
                if rng.random() < COMMENT_SHARE:
                    texts = COMMENTS["it" if lang == "it" else "pl"]["good" if good else "bad"]
                    comment = texts[int(rng.integers(len(texts)))]
                    n_com += 1
                items.append((invitation_id, Answer(score, comment, extras, lang)))
            out = answers.record_many(store, items, today=day + dt.timedelta(days=3))
            n_ans += sum(o.status == "stored" for o in out)
    analysis.analyze(store)
    comp = analysis.compare(store, surveys["enps-quarterly"])
    hidden = sum(c.hidden is not None for c in analysis.enps(store, "unit", surveys["enps-quarterly"]).rows)
    return DemoEnps(n_inv, n_ans, n_com, hidden, comp.with_nps.r)


__all__ = ["DemoEnps", "add_employee_surveys"]

