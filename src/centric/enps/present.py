"""The eNPS section's context (for the report's ``_section_enps.html`` and the web page ``/enps``): numbers
written in the reader's language, hidden cuts said so, and the chart's Plotly specification."""

from __future__ import annotations

import html
from typing import Any

from .analysis import Overview, taxonomy


def _score(f, s) -> dict[str, Any]:
    return {"value": f.num(s.value, 1, sign=True), "interval": f"{f.num(s.low, 1)} … {f.num(s.high, 1)}",
            "n": f.num(s.n)}


def _cut(f, c, key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": str(c.group.get(key)) if key else "", "hidden": c.hidden}
    if c.score is not None:
        out.update(_score(f, c.score))
    return out


def section(o: Overview | None, f, specs: dict[str, Any]) -> dict[str, Any] | None:
    """The template's context, or None without an eNPS survey with answers."""
    if o is None:
        return None
    from ..report.charts import BLUE, _layout  # here: centric.report imports this module

    _ = f.gettext
    comp = o.comparison
    units = []
    for r in comp.rows:
        units.append({"unit": r.unit, "region": r.region or "", "hidden": r.hidden,
                      "enps": _score(f, r.enps) if r.enps is not None else None,
                      "nps": _score(f, r.nps) if r.nps.value is not None else None,
                      "complaints": f.num(r.complaints), "orders": f.num(r.orders),
                      "rate": f.num(r.complaint_rate, 2)})

    def corr(c) -> dict[str, Any] | None:
        if c.r is None:
            return None
        return {"r": f.num(c.r, 2), "low": f.num(c.low, 2) if c.low is not None else None,
                "high": f.num(c.high, 2) if c.high is not None else None, "n": c.n,
                "rho": f.num(c.spearman, 2), "p": f.num(c.spearman_p, 3)}

    shown = [r for r in comp.rows if r.enps is not None and r.nps.value is not None]
    if len(shown) >= 2:
        specs["chart-enps-units"] = {
            "data": [{"type": "scatter", "mode": "markers+text", "x": [round(r.enps.value, 1) for r in shown],
                      "y": [round(r.nps.value, 1) for r in shown], "text": [html.escape(r.unit) for r in shown],
                      "textposition": "top center", "marker": {"color": BLUE, "size": 10},
                      "error_x": {"type": "data", "symmetric": False,
                                  "array": [round(r.enps.high - r.enps.value, 1) for r in shown],
                                  "arrayminus": [round(r.enps.value - r.enps.low, 1) for r in shown],
                                  "color": "#94a3b8"},
                      "hovertemplate": "%{text}: eNPS %{x}, NPS %{y}<extra></extra>"}],
            "layout": _layout(_("Stores: employees' eNPS and customers' NPS"), _("Customer NPS"), height=380,
                              xaxis={"title": {"text": "eNPS"}, "gridcolor": "#e5e7eb", "zerolinecolor": "#9ca3af"}),
        }
    pulse: list[dict[str, Any]] = []
    pulse_stores: list[dict[str, Any]] = []
    if o.pulse is not None:
        units_rows: dict[str, list] = {}
        if o.pulse_units is not None:
            for r in o.pulse_units.rows:
                units_rows.setdefault(r.question, []).append(r)
        ps = o.extra.get("pulse_survey")
        for r in o.pulse.rows:
            label = r.label
            if ps is not None:  # in the reader's language
                q = ps.question(r.question)
                label = q.label(f.lang) if q is not None else ps.text(f.lang).question
            pulse.append({"label": label, "hidden": r.hidden, "mean": f.num(r.mean, 2),
                          "interval": f"{f.num(r.low, 2)} … {f.num(r.high, 2)}", "top": f.pct(r.top_box),
                          "n": f.num(r.n) if r.n is not None else ""})
        stores: dict[str, list] = {}
        for q in (r.question for r in o.pulse.rows):
            for u in units_rows.get(q, []):
                stores.setdefault(str(u.group.get("store")), []).append(
                    {"hidden": u.hidden, "mean": f.num(u.mean, 2), "interval": f"{f.num(u.low, 2)} … {f.num(u.high, 2)}"})
        pulse_stores = [{"unit": k, "cells": v} for k, v in stores.items()]
    th = o.themes
    names = {x.id: x.name(f.lang) for x in taxonomy().factors}
    dep_rows, dep_corr = [], []
    dc = o.department_cases
    if dc is not None:
        for r in dc.rows:
            dep_rows.append({
                "unit": r.unit, "hidden": r.hidden, "enps": _score(f, r.enps) if r.enps is not None else None,
                "cases": f.num(r.cases), "sla": f.pct(r.within_sla_pct), "resolution": f.num(r.resolution_median_h, 1),
                "reopened": f.pct(r.reopened_pct), "asked": f.num(r.asked), "solved": f.pct(r.solved_pct),
                "csat": f.pct(r.csat_pct), "ces": f.num(r.ces_mean, 2)})
        labels = {"within_sla_pct": _("share within SLA"), "resolution_median_h": _("median time to resolve"),
                  "reopened_pct": _("share reopened"), "solved_pct": _("share solved, say customers"),
                  "csat_pct": _("customers' CSAT")}
        for key, c in dc.correlations.items():
            dep_corr.append({"label": labels.get(key, key), "n": c.n, "note": c.note, **(corr(c) or {})})
    unit_themes = None
    ut = o.unit_themes
    if ut is not None and ut.company.themes:
        factors = [t.factor for t in ut.company.themes]
        grid = []
        for g, why in ut.groups:
            cells = []
            for fac in factors:
                c = ut.cell(g, fac)
                cells.append({"hidden": c.hidden, "comments": f.num(c.comments),
                              "net": f.num(c.net, 0, sign=True) if c.net is not None else ""} if c is not None else
                             {"hidden": "few_comments"})
            grid.append({"name": g if g is not None else "", "hidden": why, "cells": cells})
        unit_themes = {"by": ut.by, "factors": [names.get(x, x) for x in factors], "rows": grid}
    return {
        "survey": o.survey.name, "slug": o.survey.slug, "period": o.period, "threshold": o.threshold,
        "periods": [c.group["period"] for c in o.trend.rows],
        "company": _cut(f, o.company.rows[0]) if o.company.rows else None,
        "invited": f.num(o.invited), "answered": f.num(o.answered), "rate": f.pct(o.response_rate),
        "trend": [_cut(f, c, "period") for c in o.trend.rows],
        "stores": [_cut(f, c, "store") for c in o.stores.rows],
        "departments": [_cut(f, c, "department") for c in o.departments.rows],
        "units": units, "corr_nps": corr(comp.with_nps), "corr_complaints": corr(comp.with_complaints),
        "shown_units": len(shown), "themes": [{"name": names.get(t.factor, t.name), "comments": f.num(t.comments), "net": f.num(t.net, 0,
                                                                                                            sign=True)}
                                              for t in th.themes],
        "themes_withheld": th.withheld, "themes_waiting": th.waiting,
        "comments": [{"unit": u, "texts": texts[:5], "more": max(0, len(texts) - 5)}
                     for u, texts in o.comments.by_unit.items()],
        "comments_withheld": o.comments.withheld_units,
        "pulse": pulse, "pulse_stores": pulse_stores, "pulse_survey": o.extra["pulse_survey"].name if o.pulse else None,
        "pulse_period": o.pulse.period if o.pulse else None,
        "dep_cases": dep_rows, "dep_corr": dep_corr, "dep_shown": dc.shown if dc is not None else 0,
        "unit_themes": unit_themes,
    }


def render_section(lang: str, ctx: dict[str, Any], live: bool = False):
    """``_section_enps.html`` in ``lang`` as HTML, for the web page."""
    from markupsafe import Markup

    from ..report import _environment

    return Markup(_environment(lang).get_template("_section_enps.html").render(enps=ctx, live=live))


__all__ = ["render_section", "section"]
