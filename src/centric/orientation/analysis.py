"""Scores of the customer-orientation assessments: by unit, period (quarter), criterion or region, the gap between
the employees' own view and their managers', and the units' scores next to their customers' (NPS, sentiment about
the staff).

**The score and its interval.** A score is a mean rating on the scale 1–5. Ratings of one person are not
independent (a manager who rates someone well on one criterion tends to rate them well on the others), so the
*employee* is the unit of analysis: each employee of a group contributes one value, the mean of all their ratings
in the group (every criterion rated, every assessment of the period), and the group's score is the mean of those
values with a Student t interval: mean ± t(0.975, n − 1) · sd / √n, n = employees (no interval for one employee).
By criterion, an employee's value is their mean rating of that criterion.

**The gap** (self − manager) is paired: for each employee and quarter with both a self-assessment and a manager's
assessment, the difference of their means (per criterion, and over all criteria); its mean with a paired t
interval over those pairs.

**Units and their customers.** Per store: the manager-view score, the customers' NPS from survey answers about
that store (``responses.store``; Wald interval, adjusted Wald below 30 answers, as ``centric metrics``) and the net
sentiment of the customers' mentions of the ``staff`` factor in texts about the store (survey comments and our
brand's feedback with ``store`` set; observation notes are not customers' voice and are left out): 100 · (positive −
negative) / mentions. Across stores, Pearson's r with a Fisher z interval: tanh(atanh r ± 1.96 / √(n − 3)), given
from 4 stores on (r alone from 3).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.periods import label
from ..metrics.results import Tabular, html_table
from ..metrics.stats import mean_interval, nps_score
from ..schema import COMPANY_SOURCES
from ..store import Store
from .criteria import CRITERIA, VIEWS, criterion_names

__all__ = ["BY", "METHOD", "Correlation", "Gap", "OrientationScores", "UnitsVsCustomers", "assessments_frame",
           "correlation", "gap", "gap_table", "group_scores", "long_frame", "scores", "units_vs_customers"]

CRITERION_IDS = [c.id for c in CRITERIA]
BY = ("unit", "period", "criterion", "region")
METHOD = ("mean of the employees' mean ratings (1–5), Student t 95% interval over employees")
GAP_METHOD = "paired: self − manager per employee and quarter, Student t 95% interval over the pairs"
CORRELATION_METHOD = "Pearson r across stores, Fisher z 95% interval (from 4 stores)"
STAFF_FACTOR = "staff"
OURS = "ours"


def assessments_frame(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None) -> pd.DataFrame:
    """Every assessment in [start, end) with its employee's unit (the assessment's, else the employee's), the unit's
    region and the quarter (``period``); one column per criterion."""
    a = store.table("orientation_assessments")
    if start is not None:
        a = a.filter(a.assessed_at >= start)
    if end is not None:
        a = a.filter(a.assessed_at < end)
    e = store.table("employees").select(e_id="employee_id", e_unit="unit")
    u = store.table("units").select(u_unit="unit", region="region", kind="kind")
    j = a.left_join(e, a.employee_id == e.e_id)
    j = j.mutate(unit=j.unit.fill_null(j.e_unit))
    j = j.left_join(u, j.unit == u.u_unit)
    cols = ["assessment_id", "employee_id", "assessed_at", "view", "assessor", "unit", "region", "kind",
            *CRITERION_IDS]
    df = j.select(*cols).execute()
    df["period"] = [label("quarter", t) for t in df["assessed_at"]] if len(df) else pd.Series(dtype=object)
    return df


def long_frame(df: pd.DataFrame) -> pd.DataFrame:
    """One row per assessment × criterion rated (``criterion``, ``rating``); criteria left empty are not rated."""
    keep = [c for c in df.columns if c not in CRITERION_IDS]
    out = df.melt(id_vars=keep, value_vars=CRITERION_IDS, var_name="criterion", value_name="rating")
    out = out[out["rating"].notna()].copy()
    out["rating"] = out["rating"].astype(float)
    return out


def group_scores(long: pd.DataFrame, by: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The score of each group of ``by`` (see the module's docstring): ``score``, ``low``, ``high``, ``n``
    (employees), ``assessments``, ``sd``. Without ``by``: one row, the whole frame.

    >>> long = pd.DataFrame({"employee_id": ["a", "a", "b", "c"], "rating": [4.0, 2.0, 4.0, 5.0],
    ...                      "assessment_id": ["1", "1", "2", "3"]})
    >>> r = group_scores(long, []).iloc[0]   # employees' means 3, 4, 5: mean 4, sd 1
    >>> float(r["score"]), int(r["n"]), round(float(r["high"]) - 4, 3)   # t(0.975, 2) = 4.303; 4.303 / √3
    (4.0, 3, 2.484)
    """
    by = list(by)
    cols = [*by, "score", "low", "high", "n", "assessments", "sd"]
    if long.empty:
        return pd.DataFrame(columns=cols)
    per = long.groupby([*by, "employee_id"], dropna=False).agg(v=("rating", "mean"),
                                                               k=("assessment_id", "nunique")).reset_index()
    rows = []
    groups = per.groupby(by, dropna=False) if by else [((), per)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        n = len(g)
        mean = float(g["v"].mean())
        sd = float(g["v"].std(ddof=1)) if n > 1 else math.nan
        lo, hi = mean_interval(mean, sd, n) if n > 1 else (math.nan, math.nan)
        rows.append([*key, mean, lo, hi, n, int(g["k"].sum()), sd])
    return pd.DataFrame(rows, columns=cols)


class _TableResult(Tabular):
    """A result holding a frame ``table`` and the ``method`` of its intervals."""

    table: pd.DataFrame
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _rows(self) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in r.items()} for r in self.table.to_dict("records")]

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "rows": self._rows()}


@dataclass(frozen=True)
class OrientationScores(_TableResult):
    """Scores by ``by`` of the ``view`` (manager or self); ``table`` has the groups' columns and ``score``, ``low``,
    ``high`` (95%), ``n`` (employees), ``assessments``."""

    by: tuple[str, ...]
    view: str
    table: pd.DataFrame
    method: str = METHOD

    def _title(self) -> str:
        return f"Customer orientation ({self.view} view) by {', '.join(self.by) or 'all'}"

    def to_dict(self) -> dict[str, Any]:
        return {"by": list(self.by), "view": self.view, **super().to_dict()}

    def figure(self, lang: str = "en"):
        """Plotly figure: the scores with their 95% intervals (a line over quarters when ``by`` is the period)."""
        from .charts import scores_figure

        return scores_figure(self, lang)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if math.isnan(v) else float(v)
    return v


def scores(store: Store, by: str | tuple[str, ...] = "unit", view: str = "manager", start: dt.datetime | None = None,
           end: dt.datetime | None = None, frame: pd.DataFrame | None = None) -> OrientationScores:
    """Scores of the ``view``'s assessments by ``by`` (one or more of unit, period, criterion, region)."""
    from ..errors import CentricError

    by_t = (by,) if isinstance(by, str) else tuple(by)
    bad = [b for b in by_t if b not in BY]
    if bad:
        raise CentricError(f"--by {', '.join(bad)}: use one or more of {', '.join(BY)}")
    if view not in VIEWS:
        raise CentricError(f"--view {view}: use one of {', '.join(VIEWS)}")
    df = assessments_frame(store, start, end) if frame is None else frame
    long = long_frame(df[df["view"] == view])
    table = group_scores(long, by_t)
    if "criterion" in by_t and len(table):
        order = {c: i for i, c in enumerate(CRITERION_IDS)}
        table = _sort(table, by_t, order)
    return OrientationScores(by_t, view, table.reset_index(drop=True))


def _sort(table: pd.DataFrame, by: tuple[str, ...], order: dict[str, int]) -> pd.DataFrame:
    t = table.assign(_o=table["criterion"].map(order))
    keys = ["_o" if b == "criterion" else b for b in by]
    return t.sort_values(keys).drop(columns="_o")


# -- the gap between the self view and the manager's ------------------------------------------------------------

def gap_table(long: pd.DataFrame) -> pd.DataFrame:
    """Per criterion (and ``all``): ``self``, ``manager`` (their means over the pairs), ``gap`` (self − manager),
    ``low``, ``high`` (paired t 95%) and ``n`` (pairs of employee × quarter with both views).

    >>> long = pd.DataFrame({"employee_id": ["a", "a", "b", "b"], "period": ["q"] * 4, "criterion": ["attitude"] * 4,
    ...                      "view": ["self", "manager", "self", "manager"], "rating": [5.0, 3.0, 4.0, 3.0]})
    >>> r = gap_table(long).set_index("criterion").loc["attitude"]
    >>> float(r["gap"]), int(r["n"])   # differences 2 and 1
    (1.5, 2)
    """
    cols = ["criterion", "self", "manager", "gap", "low", "high", "n"]
    if long.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    both = [("all", long)] + [(c, long[long["criterion"] == c]) for c in CRITERION_IDS if (long["criterion"] == c).any()]
    for name, part in both:
        m = part.groupby(["employee_id", "period", "view"])["rating"].mean().unstack("view")
        if "self" not in m or "manager" not in m:
            continue
        m = m.dropna(subset=["self", "manager"])
        n = len(m)
        if not n:
            continue
        d = m["self"] - m["manager"]
        mean = float(d.mean())
        lo, hi = mean_interval(mean, float(d.std(ddof=1)), n) if n > 1 else (math.nan, math.nan)
        rows.append([name, float(m["self"].mean()), float(m["manager"].mean()), mean, lo, hi, n])
    return pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class Gap(_TableResult):
    """Self − manager per criterion (``table``: see :func:`gap_table`)."""

    table: pd.DataFrame
    method: str = GAP_METHOD

    def _title(self) -> str:
        return "Customer orientation: self view − manager's view"

    def figure(self, lang: str = "en"):
        from .charts import gap_figure

        return gap_figure(self, lang)


def gap(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None, unit: str | None = None,
        frame: pd.DataFrame | None = None) -> Gap:
    """The self-vs-manager gap per criterion (of one unit's employees with ``unit``)."""
    df = assessments_frame(store, start, end) if frame is None else frame
    if unit is not None:
        df = df[df["unit"] == unit]
    return Gap(gap_table(long_frame(df)))


# -- units next to their customers' scores ----------------------------------------------------------------------

@dataclass(frozen=True)
class Correlation:
    x: str
    y: str
    r: float | None
    low: float | None
    high: float | None
    n: int
    note: str = ""


def correlation(x, y, x_name: str = "x", y_name: str = "y") -> Correlation:
    """Pearson's r of the pairs where both are known, with its Fisher z 95% interval (n ≥ 4).

    >>> c = correlation([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])
    >>> round(c.r, 4), round(c.low, 3), round(c.high, 3), c.n
    (0.7746, -0.34, 0.984, 5)
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(xa) | np.isnan(ya))
    xa, ya = xa[ok], ya[ok]
    n = len(xa)
    if n < 3:
        return Correlation(x_name, y_name, None, None, None, n, "fewer than 3 stores with both values")
    if np.std(xa) == 0 or np.std(ya) == 0:
        return Correlation(x_name, y_name, None, None, None, n, "one of the two does not vary across the stores")
    r = float(np.corrcoef(xa, ya)[0, 1])
    if n < 4:
        return Correlation(x_name, y_name, r, None, None, n, "no interval below 4 stores")
    z, se = math.atanh(max(min(r, 0.999999), -0.999999)), 1 / math.sqrt(n - 3)
    return Correlation(x_name, y_name, r, math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se), n)


@dataclass(frozen=True)
class UnitsVsCustomers(_TableResult):
    """Per store: ``score`` (manager view) with ``low``, ``high``, ``n``; ``nps`` with ``nps_low``, ``nps_high``,
    ``nps_n``; ``staff_net`` (net sentiment of customers' mentions of the staff, %) with ``staff_n`` mentions. And
    the correlations across stores."""

    table: pd.DataFrame
    correlations: tuple[Correlation, ...] = field(default_factory=tuple)
    method: str = CORRELATION_METHOD

    def _title(self) -> str:
        return "Customer orientation by store next to the store's customer scores"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(),
                "correlations": [{k: _clean(v) for k, v in c.__dict__.items()} for c in self.correlations]}

    def _repr_html_(self) -> str:
        notes = "; ".join(f"r({c.x}, {c.y}) = {'—' if c.r is None else f'{c.r:.2f}'}, n = {c.n}"
                          for c in self.correlations)
        return html_table(self.table, self._title(), f": {notes}")

    def figure(self, y: str = "nps", lang: str = "en"):
        from .charts import units_figure

        return units_figure(self, y, lang)


def _store_nps(store: Store, start, end) -> pd.DataFrame:
    r = store.table("responses")
    r = r.filter(r.store.notnull(), r.nps.notnull())
    if start is not None:
        r = r.filter(r.responded_at >= start)
    if end is not None:
        r = r.filter(r.responded_at < end)
    g = r.group_by(unit=r.store).aggregate(pro=(r.nps >= 9).sum(),
                                           pas=((r.nps >= 7) & (r.nps <= 8)).sum(),
                                           det=(r.nps <= 6).sum())
    df = g.execute()
    rows = []
    for u, pro, pas, det in df.itertuples(index=False):
        s = nps_score(int(pro), int(pas), int(det))
        rows.append({"unit": u, "nps": s.value, "nps_low": s.low, "nps_high": s.high, "nps_n": s.n})
    return pd.DataFrame(rows, columns=["unit", "nps", "nps_low", "nps_high", "nps_n"])


def _store_staff(store: Store, start, end) -> pd.DataFrame:
    """Net sentiment of customers' mentions of the staff factor per store (observation and mystery-shopping notes
    left out)."""
    import ibis

    m = store.table("mentions")
    m = m.filter(m.factor == STAFF_FACTOR)
    r = store.table("responses")
    f = store.table("feedback")
    f = f.filter(f.store.notnull(), f.brand.fill_null(OURS) == OURS, ~f.source.cast("string").isin(COMPANY_SOURCES))
    r = r.filter(r.store.notnull())
    if start is not None:
        r, f = r.filter(r.responded_at >= start), f.filter(f.posted_at >= start)
    if end is not None:
        r, f = r.filter(r.responded_at < end), f.filter(f.posted_at < end)
    texts = r.select(t_source=ibis.literal("responses"), t_id=r.response_id, unit=r.store).union(
        f.select(t_source=ibis.literal("feedback"), t_id=f.feedback_id, unit=f.store))
    j = m.join(texts, (m.source.cast("string") == texts.t_source) & (m.text_id == texts.t_id))
    g = j.group_by("unit").aggregate(pos=(j.sentiment.cast("string") == "positive").sum(),
                                     neg=(j.sentiment.cast("string") == "negative").sum(),
                                     staff_n=j.count())
    df = g.execute()
    df["staff_net"] = np.where(df["staff_n"] > 0, 100 * (df["pos"] - df["neg"]) / df["staff_n"].clip(lower=1), np.nan)
    return df[["unit", "staff_net", "staff_n"]]


def units_vs_customers(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
                       frame: pd.DataFrame | None = None) -> UnitsVsCustomers:
    """Each store's manager-view score next to its customers' NPS and sentiment about the staff, in [start, end);
    the correlations across stores (see the module's docstring)."""
    df = assessments_frame(store, start, end) if frame is None else frame
    units = store.table("units")
    stores = units.filter(units.kind == "store").select("unit", "region").execute()
    sc = group_scores(long_frame(df[df["view"] == "manager"]), ["unit"])[["unit", "score", "low", "high", "n"]]
    t = stores.merge(sc, on="unit", how="left").merge(_store_nps(store, start, end), on="unit", how="left") \
        .merge(_store_staff(store, start, end), on="unit", how="left")
    t["n"] = t["n"].fillna(0).astype(int)
    t["nps_n"] = t["nps_n"].fillna(0).astype(int)
    t["staff_n"] = t["staff_n"].fillna(0).astype(int)
    t = t.sort_values("unit").reset_index(drop=True)
    cors = (correlation(t["score"], t["nps"], "orientation", "nps"),
            correlation(t["score"], t["staff_net"], "orientation", "staff_sentiment"))
    return UnitsVsCustomers(t, cors)


def names(lang: str = "en") -> dict[str, str]:
    """Criterion id → name, and ``all`` → "All criteria" (in ``lang``)."""
    out = criterion_names(lang)
    out["all"] = {"en": "All criteria", "pl": "Wszystkie kryteria", "ru": "Все критерии",
                  "it": "Tutti i criteri"}.get(lang, "All criteria")
    return out
