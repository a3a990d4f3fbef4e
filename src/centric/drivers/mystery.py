"""Competitors by factor from mystery shopping: our mean factor score against each competitor's, from the checklist
visits to their stores — next to, never mixed with, the net sentiment of the mentions (another scale).

A visit's factor score is the weight passed over the weight that applied among the checklist items measuring the
factor (× 100; each item names its factor of the taxonomy, :func:`centric.mystery.scores.visit_factor_scores`);
per brand × factor the mean over the visits, and for each competitor the difference ours − theirs with Welch's
95% interval and p-value (:func:`centric.mystery.scores.factor_scores`, which this only reshapes).

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     len(mystery_comparison(s))
0
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..store import Store

__all__ = ["COLUMNS", "MEASURE", "mystery_comparison"]

COLUMNS = ["brand", "factor", "ours_n", "ours_mean", "n", "mean", "diff", "diff_low", "diff_high", "p_value",
           "significant"]
MEASURE = "mystery shopping: mean factor score 0–100 over checklist visits (weight of the items passed / applicable)"


def mystery_comparison(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None) -> pd.DataFrame:
    """One row per competitor × factor with visits to the competitor's stores in [start, end): ``ours_n`` and
    ``ours_mean`` (our visits), ``n`` and ``mean`` (theirs), ``diff`` = ours − theirs with Welch's ``diff_low`` …
    ``diff_high`` and ``p_value``; ``significant`` when p < 0.05. Empty without competitor visits."""
    from ..mystery.scores import OURS, factor_scores, visit_factor_scores

    if not store.count("mystery_visits"):
        return pd.DataFrame(columns=COLUMNS)
    fs = visit_factor_scores(store)
    if start is not None:
        fs = fs[fs["visited_at"] >= pd.Timestamp(start)]
    if end is not None:
        fs = fs[fs["visited_at"] < pd.Timestamp(end)]
    if not (fs["brand"].str.lower() != OURS).any():
        return pd.DataFrame(columns=COLUMNS)
    f = factor_scores(frame=fs)
    is_ours = f["brand"].str.lower() == OURS
    ours = f[is_ours].set_index("factor")
    rows = []
    for r in f[~is_ours].to_dict(orient="records"):
        o = ours.loc[r["factor"]] if r["factor"] in ours.index else None
        p = r["p"]
        rows.append({"brand": r["brand"], "factor": r["factor"], "ours_n": 0 if o is None else int(o["n"]),
                     "ours_mean": None if o is None else o["mean"], "n": int(r["n"]), "mean": r["mean"],
                     "diff": r["diff"], "diff_low": r["diff_low"], "diff_high": r["diff_high"], "p_value": p,
                     "significant": bool(p is not None and not pd.isna(p) and p < 0.05)})
    return pd.DataFrame(rows, columns=COLUMNS)
