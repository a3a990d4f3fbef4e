"""Units in more detail: each department's eNPS beside the customer side of the cases it owns, and the comment
themes of each store, department or region — pure functions over the store, returning frozen results, with
the reporting threshold of :mod:`.analysis` applied.

**Departments beside their customers.** A department has no customers' NPS of its own, but it owns cases
(``cases.department``: the department responsible now — for a closed case, the one that closed it). For each
department, in the eNPS survey's period: its employees' eNPS (hidden below the threshold as in ``enps``), and
from the closed loop (``centric.metrics.complaints``, the one place that defines a case's times and flags) the
cases opened in the period and routed to it, the share resolved within their service level (of the cases
whose outcome is known), the median time to resolve (hours), the share reopened, and what the customers
said when asked "Was it solved?" about those cases (the ``confirmed`` / ``not_solved`` answers): the share
solved, CSAT (share answering 4–5 of 1–5) and the mean CES (1–7). The store links no NPS to a case's handling —
the survey answers joined to cases are mostly the unhappy answers that opened them, given before the
department acted — so no NPS is shown. Across the departments whose eNPS is visible, the correlation of eNPS
with each figure (``analysis.correlation``: Pearson's r with its Fisher-z interval from 4 units, Spearman's
rho; ``note`` says when there are too few units).

**Themes by unit.** The themes of ``analysis.themes`` per store, department or region. A unit's themes show
only where its eNPS cut shows (``analysis.hide`` over the units' answer counts, complementary hiding
included). Within a shown unit a theme raised by fewer comments than the threshold is hidden. Then, for each
theme, the company's count minus the shown units' counts must not give a hidden unit's count: the hidden
cells of a theme (hidden units, hidden cells, and the company's answers outside the cut — the departments
when cutting by store) are completed by ``hide(..., empty_too=True)`` until they hold at least the threshold
together — also when they hold none, since "none of the hidden raised it" is a count too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import settings
from ..errors import CentricError
from ..metrics.results import Score, Tabular, _clean
from ..metrics.stats import wilson
from ..store import Store
from ..surveys.model import Survey
from .analysis import (
    NONE,
    Correlation,
    Themes,
    _select,
    answers,
    correlation,
    enps,
    hide,
    survey_of,
    themes,
    themes_of,
    threshold,
)
from .invitations import period_bounds

# the department figures set beside eNPS
FIGURES = ("within_sla_pct", "resolution_median_h", "reopened_pct", "solved_pct", "csat_pct")
THEME_BY = ("store", "department", "region")
REST = ("\x00rest",)  # the company's answers outside the cut (the departments when cutting by store)
CELL_HIDDEN = {"few_comments": "raised by fewer comments than the reporting threshold"}


# -- departments beside their customers ------------------------------------------------------------------------

@dataclass(frozen=True)
class DepartmentRow:
    """One department: eNPS (None when hidden, with why) and the customer side of its cases in the period.
    A figure the data cannot support is None, its reason in ``unknown`` (figure → text)."""

    unit: str
    enps: Score | None
    hidden: str | None
    cases: int
    within_sla_pct: float | None
    within_sla_interval: tuple[float, float] | None
    sla_n: int  # cases whose service-level outcome is known
    resolution_median_h: float | None
    reopened_pct: float | None
    reopened_interval: tuple[float, float] | None
    asked: int  # "Was it solved?" answers about the cases
    solved_pct: float | None
    csat_pct: float | None  # share answering 4–5 (CSAT 1–5)
    csat_interval: tuple[float, float] | None
    csat_n: int
    ces_mean: float | None
    ces_n: int
    unknown: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        def iv(v):
            return None if v is None else [_clean(v[0]), _clean(v[1])]

        return {"unit": self.unit, "enps": None if self.enps is None else self.enps.to_dict(),
                "hidden": self.hidden, "cases": self.cases, "within_sla_pct": _clean(self.within_sla_pct),
                "within_sla_interval": iv(self.within_sla_interval), "sla_n": self.sla_n,
                "resolution_median_h": _clean(self.resolution_median_h), "reopened_pct": _clean(self.reopened_pct),
                "reopened_interval": iv(self.reopened_interval), "asked": self.asked,
                "solved_pct": _clean(self.solved_pct), "csat_pct": _clean(self.csat_pct),
                "csat_interval": iv(self.csat_interval), "csat_n": self.csat_n, "ces_mean": _clean(self.ces_mean),
                "ces_n": self.ces_n, "unknown": dict(self.unknown)}


@dataclass(frozen=True)
class DepartmentComparison(Tabular):
    survey: str
    period: str | None
    threshold: int
    rows: list[DepartmentRow]
    correlations: dict[str, Correlation]  # figure → eNPS ~ figure across the departments with a visible eNPS

    @property
    def shown(self) -> int:
        return sum(r.enps is not None for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "department", "survey": self.survey, "period": self.period, "threshold": self.threshold,
                "units": [r.to_dict() for r in self.rows],
                "correlations": {k: c.to_dict() for k, c in self.correlations.items()},
                "customer_nps": None, "customer_nps_why": "no customer NPS is linked to a case's handling"}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"department": r.unit, "enps": None if r.enps is None else r.enps.value,
                              "enps_n": None if r.enps is None else r.enps.n, "hidden": r.hidden, "cases": r.cases,
                              **{f: getattr(r, f) for f in FIGURES}, "asked": r.asked, "csat_n": r.csat_n,
                              "ces_mean": r.ces_mean} for r in self.rows])

    def _title(self) -> str:
        return f"Departments, {self.period}: eNPS and the customer side of their cases"


def _bounds(period: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    if not period:
        return None, None
    a, b = period_bounds(period)
    return dt.datetime.combine(a, dt.time()), dt.datetime.combine(b, dt.time())


def _answers_about(store: Store, facts) -> pd.DataFrame:
    """The customers' "Was it solved?" answers about the cases of ``facts``: department, solved, csat, ces."""
    ev = store.table("case_events")
    ev = ev.filter(ev.kind.isin(["confirmed", "not_solved"])).select("case_id", "kind", "data")
    own = facts.select(f_case_id=facts.case_id, department=facts.department)
    got = ev.join(own, ev.case_id == own.f_case_id).select("department", "kind", "data").execute()
    rows = []
    for dep, kind, data in zip(got["department"], got["kind"], got["data"], strict=True):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = {}
        data = data if isinstance(data, dict) else {}
        rows.append({"department": dep, "solved": kind == "confirmed", "csat": data.get("csat"),
                     "ces": data.get("ces")})
    frame = pd.DataFrame(rows, columns=["department", "solved", "csat", "ces"])
    for c in ("csat", "ces"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    return frame


def compare_departments(store: Store, survey: str | Survey | None = None, period: str | None = None,
                        threshold_value: int | None = None, frame: pd.DataFrame | None = None,
                        sla_hours: float | None = None) -> DepartmentComparison:
    """Each department's eNPS beside the cases it owns in the same period — within SLA, median time to resolve,
    reopened, and the customers' "Was it solved?" answers — and the correlations across the departments whose
    eNPS is visible (see the module's docstring)."""
    from ..metrics.complaints import case_facts, complaints

    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "nps")
    data = answers(store, s) if frame is None else frame
    b = enps(store, "department", s, period, threshold_value, frame=data)
    start, end = _bounds(b.period)
    sla = float(sla_hours if sla_hours is not None else settings.get("sla_hours"))
    facts = case_facts(store, start, end, sla_hours=sla)
    rep = complaints(store, ("department",), start, end, sla_hours=sla, with_backlog=False, facts=facts)
    stats = {g.group["department"]: g for g in rep.groups}
    asked = _answers_about(store, facts)
    u = store.table("units")
    deps = u.filter(u.kind == "department").unit.to_pyarrow().to_pylist()
    cuts = {c.group["department"]: c for c in b.rows}
    rows = []
    for unit in sorted(set(deps) | set(cuts)):
        c = cuts.get(unit)
        g = stats.get(unit)
        unknown: dict[str, str] = {}
        within = within_iv = res = reopened = reopened_iv = None
        if g is None:
            unknown = {f: "no cases" for f in ("within_sla_pct", "resolution_median_h", "reopened_pct")}
        else:
            if g.past_sla_pct is not None:
                within = 100.0 - g.past_sla_pct
                lo, hi = g.intervals["past_sla_pct"]
                within_iv = (100.0 - hi, 100.0 - lo)
            else:
                unknown["within_sla_pct"] = g.unknown["past_sla_pct"].text
            res = g.resolution_median_h
            if res is None:
                unknown["resolution_median_h"] = g.unknown["resolution_median_h"].text
            reopened = g.reopened_pct
            if reopened is not None:
                reopened_iv = g.intervals["reopened_pct"]
            else:
                unknown["reopened_pct"] = g.unknown["reopened_pct"].text
        a = asked[asked["department"] == unit]
        csat = a["csat"].dropna()
        ces = a["ces"].dropna()
        solved = 100.0 * a["solved"].sum() / len(a) if len(a) else None
        top = int((csat >= 4).sum())
        csat_pct = 100.0 * top / len(csat) if len(csat) else None
        if not len(a):
            unknown.update(solved_pct="no customer answered \"Was it solved?\"", csat_pct="no CSAT given")
        elif not len(csat):
            unknown["csat_pct"] = "no CSAT given"
        rows.append(DepartmentRow(
            unit, None if c is None else c.score, "no_answers" if c is None else c.hidden,
            0 if g is None else g.n, within, within_iv, 0 if g is None else g.past_sla_n, res, reopened,
            reopened_iv, len(a), solved, csat_pct, wilson(top, len(csat)) if len(csat) else None, len(csat),
            float(ces.mean()) if len(ces) else None, len(ces), unknown))
    shown = [r for r in rows if r.enps is not None]
    corr = {f: correlation([r.enps.value for r in shown],
                           [float("nan") if getattr(r, f) is None else getattr(r, f) for r in shown], "enps", f)
            for f in FIGURES}
    return DepartmentComparison(s.slug, b.period, b.threshold, rows, corr)


# -- themes by unit -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThemeCell:
    """One theme in one group: its comments and their sentiment, or nothing and why."""

    group: str | None
    factor: str
    name: str
    comments: int | None
    positive: int | None
    negative: int | None
    hidden: str | None = None

    @property
    def net(self) -> float | None:
        if not self.comments:
            return None
        return 100 * ((self.positive or 0) - (self.negative or 0)) / self.comments


@dataclass(frozen=True)
class UnitThemes(Tabular):
    """The company's themes (``company``) and, for each group of ``by``, each of those themes' cell — hidden
    below the threshold, with its reason. ``groups``: each group and why it is hidden as a whole (None: shown)."""

    survey: str
    by: str
    period: str | None
    threshold: int
    company: Themes
    groups: list[tuple[str | None, str | None]]
    cells: list[ThemeCell]

    def cell(self, group: str | None, factor: str) -> ThemeCell | None:
        return next((c for c in self.cells if c.group == group and c.factor == factor), None)

    def to_dict(self) -> dict[str, Any]:
        from .analysis import HIDDEN as UNIT

        HIDDEN = {**UNIT, **CELL_HIDDEN}
        out = []
        for g, why in self.groups:
            row: dict[str, Any] = {self.by: g, "hidden": why, "themes": []}
            if why:
                row["why"] = HIDDEN.get(why, why)
            for c in self.cells:
                if c.group != g:
                    continue
                d: dict[str, Any] = {"factor": c.factor, "name": c.name, "comments": c.comments,
                                     "positive": c.positive, "negative": c.negative,
                                     "net": None if c.net is None else round(c.net, 1), "hidden": c.hidden}
                if c.hidden:
                    d["why"] = HIDDEN.get(c.hidden, c.hidden)
                row["themes"].append(d)
            out.append(row)
        return {"survey": self.survey, "by": self.by, "period": self.period, "threshold": self.threshold,
                "company": self.company.to_dict(), "groups": out}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{self.by: c.group, "factor": c.factor, "name": c.name, "comments": c.comments,
                              "positive": c.positive, "negative": c.negative, "hidden": c.hidden}
                             for c in self.cells], columns=[self.by, "factor", "name", "comments", "positive",
                                                            "negative", "hidden"])

    def _title(self) -> str:
        return f"Themes by {self.by}" + (f", {self.period}" if self.period else "")


def themes_by(store: Store, by: str = "store", survey: str | Survey | None = None, period: str | None = None,
              threshold_value: int | None = None, lang: str = "en") -> UnitThemes:
    """The comment themes of ``period`` per store, department or region, each cell hidden below the threshold
    and completed so that the company's counts minus the shown cells reveal no hidden one (module docstring)."""
    if by not in THEME_BY:
        raise CentricError(f"--by {by!r}: themes are cut by one of {', '.join(THEME_BY)}")
    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "nps")
    t = threshold(threshold_value)
    data = answers(store, s)
    company = themes(store, s, period, t, lang)
    chosen = company.period
    everyone, _ = _select(data, (), chosen)
    rows, _ = _select(data, (by,), chosen)
    rows = rows.assign(**{by: rows[by].where(rows[by].notna(), None).astype(object)})
    key = {a: (None if pd.isna(g) else str(g),) for a, g in zip(rows["answer_id"], rows[by], strict=True)}
    counts = {}
    for a, g in zip(rows["answer_id"], rows["score"], strict=True):
        counts[key[a]] = counts.get(key[a], 0) + int(pd.notna(g))
    # across cuts: a region holding a store or department hidden in its own cut — or whose cell of a theme is
    # hidden there — is hidden too, or the region minus its shown units would give the hidden one away
    over: dict[tuple, str] = {}
    over_theme: set[tuple] = set()  # (region, factor)
    if by == "region":
        region_of = dict(zip(data["unit"], data["region"], strict=False))

        def region(unit):
            r = region_of.get(unit)
            return None if r is None or pd.isna(r) else str(r)

        for finer in ("store", "department"):
            f = themes_by(store, finer, s, chosen, t, lang)
            over.update({(region(u),): "complementary" for u, why in f.groups if why})
            over_theme.update((region(c.group), c.factor) for c in f.cells if c.hidden)
    unit_hidden = hide(counts, [by], t, hidden={k: v for k, v in over.items() if k in counts})
    groups = sorted(counts, key=lambda k: (k[0] is None, str(k[0])))
    rest = set(everyone["answer_id"]) - set(key)
    found = pd.DataFrame(columns=["answer_id", "factor", "sentiment"])
    if company.themes:
        found = themes_of(store, s, chosen)
        found = found[found["factor"] != NONE].reset_index(drop=True).drop_duplicates(["answer_id", "factor"])
    found["group"] = [key.get(a, REST) for a in found["answer_id"]]
    cells: list[ThemeCell] = []
    for th in company.themes:
        f = found[found["factor"] == th.factor]
        per = {k: g for k, g in f.groupby("group", sort=False)} if len(f) else {}
        column = {k: len(per[k]) if k in per else 0 for k in groups}
        given = {k: why for k, why in unit_hidden.items()}
        given.update({k: "complementary" for k in groups if (k[0], th.factor) in over_theme and k not in given})
        if rest:
            column[REST] = len(per[REST]) if REST in per else 0
            given[REST] = "outside"
        why = hide(column, [by], t, hidden=given, empty_too=True)
        why = {k: "few_comments" if v == "below_threshold" and k not in unit_hidden else v for k, v in why.items()}
        for k in groups:
            g = per.get(k)
            if k in why:
                cells.append(ThemeCell(k[0], th.factor, th.name, None, None, None, why[k]))
            else:
                cells.append(ThemeCell(k[0], th.factor, th.name, column[k], int((g["sentiment"] == "positive").sum()),
                                       int((g["sentiment"] == "negative").sum())))
    return UnitThemes(s.slug, by, chosen, t, company, [(k[0], unit_hidden.get(k)) for k in groups], cells)


__all__ = ["FIGURES", "THEME_BY", "DepartmentComparison", "DepartmentRow", "ThemeCell", "UnitThemes",
           "compare_departments", "themes_by"]
