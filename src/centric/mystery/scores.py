"""Mystery-shopping scores per visit, store and region, with 95% intervals and trends; scores by factor, ours
against each competitor's.

**Intervals.** A store's (or region's) score is the mean of its visits' scores (failed visits count with their
score, 0). Its 95% interval is Student's t interval over the visits, ``mean ± t(0.975, n−1) · s/√n``, clipped to
0–100: the visits are the independent units (the items of one visit are not). One visit has no interval.

**By factor.** Each visit gets a score per factor: the passed weight over the applicable weight of the items
that measure the factor, × 100 (critical items count with their weight; the knock-out applies to the visit's
score only). A brand's factor score is the mean over its visits with the same t interval; ours against a
competitor's is the difference of the two means with Welch's interval.

>>> summarise(pd.DataFrame({"store": ["A", "A", "A"], "score": [80.0, 90.0, 100.0],
...                         "failed_critical": [False, False, False]}), "store").round(2).to_dict("records")
[{'store': 'A', 'n': 3, 'mean': 90.0, 'low': 65.16, 'high': 100.0, 'failed': 0}]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..store import Store
from .visits import OURS, visits_frame

__all__ = ["ScoreTable", "factor_scores", "mean_interval", "scores", "summarise", "trend", "welch"]

BY = ("visit", "store", "region", "brand")


def mean_interval(values) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high) of ``values``: Student's t 95% interval, clipped to 0–100; no interval for one value."""
    x = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    if not len(x):
        return None, None, None
    m = float(x.mean())
    if len(x) < 2:
        return m, None, None
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, max(0.0, m - half), min(100.0, m + half)


def welch(a, b) -> tuple[float | None, float | None, float | None, float | None]:
    """Difference of means a − b with Welch's 95% interval and two-sided p-value (None where undefined)."""
    x = np.asarray([v for v in a if not pd.isna(v)], dtype=float)
    y = np.asarray([v for v in b if not pd.isna(v)], dtype=float)
    if not len(x) or not len(y):
        return None, None, None, None
    d = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return d, None, None, None
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(va + vb)
    if se == 0:
        return d, d, d, (1.0 if d == 0 else 0.0)
    df = (va + vb) ** 2 / (va ** 2 / (len(x) - 1) + vb ** 2 / (len(y) - 1))
    t = float(stats.t.ppf(0.975, df))
    p = float(2 * stats.t.sf(abs(d) / se, df))
    return d, d - t * se, d + t * se, p


def summarise(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """One row per group (or one row overall): n visits, mean score with its interval, failed visits."""
    rows = []
    groups = [(None, frame)] if by is None else frame.groupby(by, sort=True, dropna=False)
    for key, g in groups:
        m, lo, hi = mean_interval(g["score"])
        row = {} if by is None else {by: key}
        rows.append({**row, "n": int(g["score"].notna().sum()), "mean": m, "low": lo, "high": hi,
                     "failed": int(g["failed_critical"].astype(bool).sum())})
    cols = ([by] if by else []) + ["n", "mean", "low", "high", "failed"]
    return pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class ScoreTable:
    """Scores by ``by`` (store, region, brand, visit; None: overall) for ``brand``: ``frame`` has one row per group
    (n, mean, low, high, failed), ``trend`` the mean per group and month."""

    by: str | None
    brand: str
    frame: pd.DataFrame
    trend: pd.DataFrame
    method: str = "t"

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def to_dict(self) -> dict:
        def clean(v):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return None
            return v.item() if hasattr(v, "item") else v
        return {"by": self.by, "brand": self.brand, "method": "t interval over visits (95%)",
                "groups": [{("group" if k == self.by else k): clean(v) for k, v in r.items()}
                           for r in self.frame.to_dict(orient="records")]}

    def figure(self, title: str = "Mystery-shopping score by month"):
        return trend_figure(self.trend, self.by, title)


def _filter(df: pd.DataFrame, brand: str | None, start=None, end=None) -> pd.DataFrame:
    if brand is not None:
        df = df[df["brand"].str.lower() == brand.lower()]
    if start is not None:
        df = df[df["visited_at"] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df["visited_at"] < pd.Timestamp(end)]
    return df


def trend(frame: pd.DataFrame, by: str | None, period: str = "M") -> pd.DataFrame:
    """Mean score per group and period (month by default), with n and the t interval."""
    if not len(frame):
        return pd.DataFrame(columns=([by] if by else []) + ["period", "n", "mean", "low", "high"])
    f = frame.assign(period=frame["visited_at"].dt.to_period(period).astype(str))
    keys = ([by] if by else []) + ["period"]
    rows = []
    for key, g in f.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        m, lo, hi = mean_interval(g["score"])
        rows.append({**dict(zip(keys, key, strict=True)), "n": len(g), "mean": m, "low": lo, "high": hi})
    return pd.DataFrame(rows)


def scores(store: Store, by: str | None = "store", brand: str = OURS, start=None, end=None,
           frame: pd.DataFrame | None = None) -> ScoreTable:
    """Scores of ``brand``'s visits by ``by`` (see :class:`ScoreTable`); ``frame``: the visits already read."""
    if by is not None and by not in BY:
        raise ValueError(f"by: one of {', '.join(BY)}")
    df = _filter(visits_frame(store) if frame is None else frame, brand, start, end)
    if by == "visit":
        out = df[["visit_id", "store", "region", "shopper", "visited_at", "score", "raw_score", "failed_critical",
                  "case_id"]].rename(columns={"visit_id": "visit"}).reset_index(drop=True)
        return ScoreTable("visit", brand, out, trend(df, None))
    if by == "region":
        df = df.assign(region=df["region"].fillna("—"))
    return ScoreTable(by, brand, summarise(df, by), trend(df, by))


# -- by factor, ours against competitors --------------------------------------------------------------------
def visit_factor_scores(store: Store) -> pd.DataFrame:
    """One row per visit × factor: brand, store, factor, score (passed / applicable weight × 100 of the factor's
    items; empty when none applied)."""
    a = store.table("mystery_answers")
    v = store.table("mystery_visits")
    applicable = a.answer != "na"
    per = a.group_by([a.visit_id, a.factor]).aggregate(
        applicable=applicable.ifelse(a.weight, 0.0).sum(),
        passed=(a.answer == "yes").ifelse(a.weight, 0.0).sum())
    vs = v.select(v_id=v.visit_id, brand=v.brand, store=v.store, visited_at=v.visited_at)
    j = per.join(vs, per.visit_id == vs.v_id)
    df = j.select("visit_id", "factor", "brand", "store", "visited_at", "applicable", "passed").execute()
    df["brand"] = df["brand"].fillna(OURS)
    df["score"] = np.where(df["applicable"] > 0, 100.0 * df["passed"] / df["applicable"].where(df["applicable"] > 0),
                           np.nan)
    return df


def factor_scores(store: Store | None = None, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per brand × factor: n visits, mean factor score with its t interval; and, for each competitor, the
    difference ours − theirs with Welch's interval and p-value (columns ``diff``, ``diff_low``, ``diff_high``,
    ``p`` on the competitor's rows)."""
    df = visit_factor_scores(store) if frame is None else frame
    rows = []
    for (brand, factor), g in df.groupby(["brand", "factor"], sort=True):
        m, lo, hi = mean_interval(g["score"])
        rows.append({"brand": brand, "factor": factor, "n": int(g["score"].notna().sum()), "mean": m, "low": lo,
                     "high": hi, "diff": None, "diff_low": None, "diff_high": None, "p": None})
    out = pd.DataFrame(rows, columns=["brand", "factor", "n", "mean", "low", "high", "diff", "diff_low",
                                      "diff_high", "p"])
    ours = df[df["brand"].str.lower() == OURS]
    for i, r in out.iterrows():
        if str(r["brand"]).lower() == OURS:
            continue
        theirs = df[(df["brand"] == r["brand"]) & (df["factor"] == r["factor"])]["score"]
        d, lo, hi, p = welch(ours[ours["factor"] == r["factor"]]["score"], theirs)
        out.loc[i, ["diff", "diff_low", "diff_high", "p"]] = [d, lo, hi, p]
    return out


# -- figures -----------------------------------------------------------------------------------------------
def trend_figure(trend_frame: pd.DataFrame, by: str | None, title: str = "Mystery-shopping score by month"):
    """Lines of the mean score per month (one per group), with the interval as error bars."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = [(None, trend_frame)] if by is None or by not in trend_frame.columns else trend_frame.groupby(by)
    for key, g in groups:
        fig.add_trace(go.Scatter(
            x=g["period"], y=g["mean"], mode="lines+markers", name=str(key) if key is not None else "",
            error_y={"type": "data", "symmetric": False, "array": (g["high"] - g["mean"]).fillna(0),
                     "arrayminus": (g["mean"] - g["low"]).fillna(0)}))
    fig.update_layout(title=title, yaxis={"range": [0, 105], "title": "score"}, height=360,
                      margin={"l": 50, "r": 20, "t": 50, "b": 40})
    return fig


def factor_figure(factors: pd.DataFrame, title: str = "Score by factor", names: dict | None = None):
    """Grouped bars of the factor scores per brand, with their intervals."""
    import plotly.graph_objects as go

    names = names or {}
    fig = go.Figure()
    for brand, g in factors.groupby("brand", sort=False):
        fig.add_trace(go.Bar(x=[names.get(f, f) for f in g["factor"]], y=g["mean"], name=str(brand),
                             error_y={"type": "data", "symmetric": False, "array": (g["high"] - g["mean"]).fillna(0),
                                      "arrayminus": (g["mean"] - g["low"]).fillna(0)}))
    fig.update_layout(title=title, barmode="group", yaxis={"range": [0, 105]}, height=360,
                      margin={"l": 50, "r": 20, "t": 50, "b": 60})
    return fig
