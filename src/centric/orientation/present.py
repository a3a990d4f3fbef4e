"""What the report's section and the web app's page show of the orientation scores: ``report_data`` gathers the
figures (once per period), ``section`` formats them in a language and adds their charts."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..store import Store
from .analysis import (
    Gap,
    OrientationScores,
    UnitsVsCustomers,
    assessments_frame,
    gap,
    scores,
    units_vs_customers,
)
from .criteria import CRITERIA

__all__ = ["OrientationReport", "report_data", "section"]


@dataclass(frozen=True)
class OrientationReport:
    by_unit: OrientationScores
    self_by_unit: OrientationScores
    by_period: OrientationScores
    by_criterion: OrientationScores
    by_unit_criterion: OrientationScores
    gap: Gap
    units: UnitsVsCustomers
    assessments: int
    employees: int

    def weak_spots(self) -> pd.DataFrame:
        """Unit × criterion cells whose 95% interval lies wholly below the company's score of that criterion."""
        company = self.by_criterion.table.set_index("criterion")["score"]
        t = self.by_unit_criterion.table
        if t.empty:
            return t
        below = t["high"] < t["criterion"].map(company)
        return t[below.fillna(False)].sort_values("score")


def report_data(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None) -> OrientationReport | None:
    """The figures of the section, or None when no assessment is in [start, end)."""
    if not store.count("orientation_assessments"):
        return None
    df = assessments_frame(store, start, end)
    if df.empty:
        return None
    return OrientationReport(
        by_unit=scores(store, "unit", frame=df), self_by_unit=scores(store, "unit", "self", frame=df),
        by_period=scores(store, "period", frame=df), by_criterion=scores(store, "criterion", frame=df),
        by_unit_criterion=scores(store, ("unit", "criterion"), frame=df), gap=gap(store, frame=df),
        units=units_vs_customers(store, start, end, frame=df), assessments=len(df),
        employees=int(df["employee_id"].nunique()))


def _num(f, v, digits: int = 2) -> str:
    return f.num(None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v), digits)


def _interval(f, lo, hi, digits: int = 2) -> str:
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return "—"
    return f"{_num(f, lo, digits)} … {_num(f, hi, digits)}"


def section(data: OrientationReport | None, f: Any, specs: dict[str, Any], prefix: str = "chart-orientation") \
        -> dict[str, Any] | None:
    """The section's context (texts in ``f``'s language) and its charts in ``specs``."""
    if data is None:
        return None
    from .charts import gap_spec, scores_spec, units_spec

    _ = f.gettext
    lang = f.lang
    names = {c.id: c.name(lang) for c in CRITERIA}
    all_name = _("All criteria")
    selfs = data.self_by_unit.table.set_index("unit")["score"].to_dict()
    weakest = {}
    for u, g in data.by_unit_criterion.table.groupby("unit"):
        w = g.sort_values("score").iloc[0]
        weakest[u] = f"{names.get(w['criterion'], w['criterion'])} ({_num(f, w['score'])})"
    units = [{"unit": r.unit, "score": _num(f, r.score), "interval": _interval(f, r.low, r.high), "n": f.num(r.n),
              "self": _num(f, selfs.get(r.unit)), "weakest": weakest.get(r.unit, "—")}
             for r in data.by_unit.table.itertuples()]
    gap_rows = {r.criterion: r for r in data.gap.table.itertuples()}
    criteria = []
    for r in data.by_criterion.table.itertuples():
        g = gap_rows.get(r.criterion)
        criteria.append({"name": names.get(r.criterion, r.criterion), "score": _num(f, r.score),
                         "interval": _interval(f, r.low, r.high), "n": f.num(r.n),
                         "self": _num(f, g.self) if g else "—", "gap": f.num(g.gap, 2, sign=True) if g else "—",
                         "gap_interval": _interval(f, g.low, g.high) if g else "—", "pairs": f.num(g.n) if g else "0"})
    overall = gap_rows.get("all")
    link = []
    for r in data.units.table.itertuples():
        link.append({"unit": r.unit, "score": _num(f, r.score), "n": f.num(r.n), "nps": _num(f, r.nps, 1),
                     "nps_interval": _interval(f, r.nps_low, r.nps_high, 1), "nps_n": f.num(r.nps_n),
                     "staff": _num(f, r.staff_net, 1), "staff_n": f.num(r.staff_n)})
    what = {"nps": _("customer NPS"), "staff_sentiment": _("customers' sentiment about the staff")}
    cors = []
    for c in data.units.correlations:
        if c.r is None:
            cors.append(_("Orientation and %(what)s: no correlation (%(n)s stores with both; it needs 3 that "
                          "differ).") % {"what": what[c.y], "n": c.n})
        elif c.low is None:
            cors.append(_("Orientation and %(what)s: r = %(r)s over %(n)s stores (too few for an interval).")
                        % {"what": what[c.y], "r": f.num(c.r, 2), "n": c.n})
        else:
            cors.append(_("Orientation and %(what)s: r = %(r)s (95%% interval %(low)s … %(high)s) over %(n)s stores.")
                        % {"what": what[c.y], "r": f.num(c.r, 2), "low": f.num(c.low, 2), "high": f.num(c.high, 2),
                           "n": c.n})
    weak = [{"unit": r.unit, "criterion": names.get(r.criterion, r.criterion), "score": _num(f, r.score),
             "interval": _interval(f, r.low, r.high)} for r in data.weak_spots().itertuples()]
    specs[f"{prefix}-units"] = scores_spec(data.by_unit, _("Customer orientation by store or department (manager's "
                                                           "view, 1–5)"), lang)
    specs[f"{prefix}-periods"] = scores_spec(data.by_period, _("Customer orientation by quarter (manager's view)"),
                                             lang)
    if not data.gap.table.empty:
        specs[f"{prefix}-gap"] = gap_spec(data.gap, _("Self view − manager's view, by criterion"), lang, all_name)
    has_nps = data.units.table["nps"].notna().any() and data.units.table["score"].notna().any()
    if has_nps:
        specs[f"{prefix}-nps"] = units_spec(data.units, "nps", _("Stores: orientation and customer NPS"),
                                            _("orientation (1–5)"), "NPS")
    return {"units": units, "criteria": criteria, "link": link, "correlations": cors, "weak": weak,
            "assessments": f.num(data.assessments), "employees": f.num(data.employees),
            "gap_all": None if overall is None else {"gap": f.num(overall.gap, 2, sign=True),
                                                     "interval": _interval(f, overall.low, overall.high),
                                                     "n": f.num(overall.n)},
            "charts": [k for k in (f"{prefix}-units", f"{prefix}-periods", f"{prefix}-gap", f"{prefix}-nps")
                       if k in specs]}
