"""The demo company's mystery shopping: the bundled "store visit" checklist, about forty visits to its eight stores
over the last five months and a few to the competitors' stores, two calibration pairs (one store scored by two
shoppers a few days apart, twice) and exactly one failed critical item — the price at the till did not match the
label in one store —, whose case goes to the store's manager through the closed loop.

A random stream of its own (seed + 808), so that adding mystery shopping changes nothing else in the demo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..mystery.cases import open_cases
from ..mystery.template import add_template, get_template
from ..mystery.visits import visit_rows, write_visits
from ..store import Store
from .generator import COMPETITORS, END, STORES

__all__ = ["MysterySummary", "add_mystery"]

TEMPLATE = Path(__file__).parent.parent / "mystery" / "templates" / "store-visit.toml"
SHOPPERS = {"PL": ("shopper.kasia", "shopper.tomek"), "IT": ("shopper.giulia", "shopper.marco")}
COMPETITOR_STORES = {COMPETITORS[0]: ("ElektroMax Warszawa Centrum", "ElektroMax Kraków Kazimierz"),
                     COMPETITORS[1]: ("CasaTech Milano Duomo",)}
# how well each store does (probability that an item is passed); the demo's stores differ a little
STORE_SKILL = (0.93, 0.9, 0.86, 0.91, 0.88, 0.94, 0.84, 0.9)
COMPETITOR_SKILL = {COMPETITORS[0]: 0.82, COMPETITORS[1]: 0.88}
CRITICAL_PASS = "yes"  # critical items pass in every visit but the one planted failure
STRICT = -1.0  # the calibration pair's strict shopper: fails the advice and the queue where the other passed them
STRICT_FAILS = ("needs", "knowledge", "in_stock", "queue")


@dataclass(frozen=True)
class MysterySummary:
    visits: int
    competitor_visits: int
    calibration_pairs: int
    failed: int
    cases: list[str]


def _answers(rng: np.random.Generator, template, skill: float) -> dict[str, str]:
    out = {}
    for item in template.items:
        if item.critical:
            out[item.id] = CRITICAL_PASS
        elif item.na and rng.random() < 0.05:
            out[item.id] = "na"
        else:
            out[item.id] = "yes" if rng.random() < skill else "no"
    return out


# what the shoppers write (chosen by the visit's place in the plan, not drawn: the random stream stays as it was)
OUR_NOTES = ("Friendly adviser, but the queue at the till was long.",
             "The adviser knew the washing machines well and helped me compare two models.",
             "Only one till open and a long queue; the staff did not open a second one.",
             "Doradca był bardzo pomocny, ale w sklepie był bałagan przy półkach z telewizorami.",
             "Commessa gentile e preparata, ma alla cassa una lunga coda.")
COMPETITOR_NOTES = ("Nobody came to help for ten minutes; the staff were busy with each other.",
                    "Clean store and a quick checkout, but the adviser could not explain the warranty.",
                    "Negozio ordinato, personale disponibile e nessuna coda alla cassa.")


def add_mystery(store: Store, seed: int, open_case: bool = True) -> MysterySummary:
    """Add the demo's checklist and visits, and open the failed visit's case (see the module); ``open_case``
    False: leave that to :func:`centric.mystery.open_cases` (the demo stores the visits before its text step, so
    that the shoppers' notes are analysed with the other texts, and opens the case after the closed loop)."""
    rng = np.random.default_rng(seed + 808)
    template, _ = add_template(store, TEMPLATE.read_text(encoding="utf-8"), TEMPLATE.name)
    template = get_template(store, template.id)
    start = END - dt.timedelta(days=150)
    ours = [(country, s) for country, stores in STORES.items() for s in stores]
    plan = []  # (store, brand, shopper, when, skill)
    for k, (country, s) in enumerate(ours):
        for _ in range(5):  # each store has its regular shopper, so that only the pairs below are calibration pairs
            when = start + dt.timedelta(days=float(rng.uniform(0, 100)))
            when = when.replace(hour=int(rng.integers(10, 19)), minute=int(rng.integers(0, 60)), second=0, microsecond=0)
            plan.append((s, "ours", SHOPPERS[country][k % 2], when, STORE_SKILL[k]))
    # two calibration pairs: the same store scored by both shoppers of its country within a week (more than two
    # weeks after its regular visits)
    for k in (0, 5):
        country, s = ours[k]
        when = END - dt.timedelta(days=int(rng.integers(20, 34)))
        when = when.replace(hour=11, minute=0, second=0, microsecond=0)
        a, b = SHOPPERS[country]
        plan.append((s, "ours", a, when, STORE_SKILL[k]))
        # the second pair's second shopper judges more strictly: a pair to calibrate
        plan.append((s, "ours", b, when + dt.timedelta(days=int(rng.integers(2, 6)), hours=3),
                     STORE_SKILL[k] if k == 0 else STRICT))
    n_ours = len(plan)
    for brand, stores in COMPETITOR_STORES.items():
        for s in stores:
            for _ in range(2):
                when = start + dt.timedelta(days=float(rng.uniform(0, 148)))
                when = when.replace(hour=int(rng.integers(10, 19)), minute=0, second=0, microsecond=0)
                country = "IT" if brand == COMPETITORS[1] else "PL"
                plan.append((s, brand, str(rng.choice(SHOPPERS[country])), when, COMPETITOR_SKILL[brand]))
    failing = int(rng.integers(0, 40))  # the one visit whose price did not match the label
    visits, answers = [], []
    for i, (s, brand, shopper, when, skill) in enumerate(plan):
        ans = _answers(rng, template, STORE_SKILL[5] if skill == STRICT else skill)
        if skill == STRICT:
            ans.update(dict.fromkeys(STRICT_FAILS, "no"))
        notes = None
        if i == failing:
            ans["price_label"] = "no"
            notes = "The till charged more than the shelf label of the washing machine; corrected only after asking."
        elif i < n_ours and rng.random() < 0.15:
            notes = OUR_NOTES[i % len(OUR_NOTES)]
        elif i >= n_ours and (i - n_ours) % 2 == 0:
            notes = COMPETITOR_NOTES[(i - n_ours) // 2 % len(COMPETITOR_NOTES)]
        row, a = visit_rows(template, f"MS-{i + 1:04d}", s, when, ans, shopper, brand, notes,
                            entered_by="demo", now=END)
        visits.append(row)
        answers.append(a)
    with store.transaction() as con:
        write_visits(con, pd.DataFrame(visits), pd.concat(answers, ignore_index=True))
    opened = open_cases(store, now=END)["case_id"].tolist() if open_case else []
    return MysterySummary(n_ours, len(plan) - n_ours, 2, 1, opened)
