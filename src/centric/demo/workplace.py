"""The demo company's own side: its stores and departments (``units``) and the people who work in them
(``employees``), written as the HR system's exports and loaded through the ordinary ingest.

A random stream of its own (seed + 404), so that adding the workplace changes nothing else in the demo.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .generator import DEPARTMENTS, END, NAMES, STORES
from .service import TEAM

__all__ = ["REGIONS", "STORE_MANAGERS", "write_workplace"]

REGIONS = {
    "Voltaro Warszawa Arkadia": "PL Centre", "Voltaro Łódź Manufaktura": "PL Centre",
    "Voltaro Kraków Bonarka": "PL South", "Voltaro Wrocław Magnolia": "PL South",
    "Voltaro Gdańsk Oliwa": "PL North",
    "Voltaro Milano Città Studi": "IT North", "Voltaro Torino Lingotto": "IT North",
    "Voltaro Roma Tiburtina": "IT Centre",
}
# the web users who manage the stores (the demo's "stores" department: cases about a store go to them)
STORE_MANAGERS = {"PL": TEAM["stores"][0][1], "IT": TEAM["stores"][0][0]}
STAFF_PER_STORE = (7, 12)


def _ascii(s: str) -> str:
    s = s.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().replace(" ", "")


def write_workplace(out: Path, seed: int) -> list[tuple[str, str, dict]]:
    """Write ``units.csv`` and ``employees.csv`` (Polish headers, as an HR export) into ``out``; return their
    ingest plan entries (table, file name, constants)."""
    rng = np.random.default_rng(seed + 404)
    units = [{"Jednostka": s, "Rodzaj": "store", "Region": REGIONS[s], "Kraj": country,
              "Kierownik": STORE_MANAGERS[country]} for country, stores in STORES.items() for s in stores]
    units += [{"Jednostka": d, "Rodzaj": "department", "Region": None, "Kraj": "PL", "Kierownik": TEAM[d][1]}
              for d in sorted(set(DEPARTMENTS.values()) | set(TEAM))]
    people, seen = [], set()

    def person(lang: str, unit: str, role: str, login: str | None = None) -> None:
        fem, mal, last, last_adj = NAMES[lang]
        if login:  # a member of the service team: their web login is first-initial.surname
            name = f"{rng.choice(fem + mal)} {login.split('.')[1].capitalize()}"
        elif last_adj and rng.random() < 0.4:
            female = rng.random() < 0.55
            name = f"{rng.choice(fem if female else mal)} {rng.choice(last_adj)}{'a' if female else 'i'}"
        else:
            name = f"{rng.choice(fem + mal)} {rng.choice(last)}"
        first, *rest = name.split(" ")
        email = f"{_ascii(first)}.{_ascii(''.join(rest))}"
        while email in seen:
            email += str(int(rng.integers(2, 9)))
        seen.add(email)
        hired = END.date() - dt.timedelta(days=int(rng.gamma(2.0, 500)) + 30)
        left = None
        if rng.random() < 0.06:  # a few have left since: no longer invited
            left = min(END.date() - dt.timedelta(days=int(rng.integers(10, 200))), END.date())
            left = max(left, hired + dt.timedelta(days=60))
        people.append({"Nr ewidencyjny": f"E{len(people) + 1001}", "Imię i nazwisko": name,
                       "E-mail": f"{email}@voltaro.example", "Jednostka": unit,
                       "Stanowisko": role, "Język": lang, "Data zatrudnienia": hired.isoformat(),
                       "Data zwolnienia": left.isoformat() if left else None})

    for country, stores in STORES.items():
        lang = "pl" if country == "PL" else "it"
        for store in stores:
            person(lang, store, "manager")
            for _ in range(int(rng.integers(*STAFF_PER_STORE))):
                person(lang, store, "staff")
    for dept, (agents, _lead) in TEAM.items():
        for login in agents:
            person("it" if login in {"f.russo", "s.greco", "g.bianchi", "l.conti", "n.colombo", "m.rossi",
                                     "a.ricci", "u.gallo", "c.romano"} else "pl", dept, "staff", login)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(units).to_csv(out / "units.csv", sep=";", index=False, encoding="utf-8")
    pd.DataFrame(people).to_csv(out / "employees.csv", sep=";", index=False, encoding="utf-8")
    return [("units", "units.csv", {}), ("employees", "employees.csv", {})]
