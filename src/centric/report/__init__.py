"""Show: one self-contained HTML report (charts inlined, nothing fetched from the network), in English,
Polish, Russian or Italian.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     "No data yet" in build_report(s, lang="en")
True
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..council.summary import context as council_section
from ..enps.present import section as enps_section
from ..flows.summary import flows_context
from ..journeys.section import section_context
from ..metrics.cases import NO_SUB_CAUSE
from ..metrics.complaints import Unknown, unknown_figures
from ..mystery.section import context as mystery_context
from ..personas.present import section as persona_section
from ..store import Store
from . import charts
from .data import ReportData, collect
from .i18n import LANGUAGES, Formatter, translations

__all__ = ["build_report", "write_report", "drivers_figure", "report_context", "render_sections", "LANGUAGES"]

_env: dict[str, jinja2.Environment] = {}


def _environment(lang: str) -> jinja2.Environment:
    if lang not in _env:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("centric.report", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
        )
        env.install_gettext_translations(translations(lang), newstyle=True)
        _env[lang] = env
    return _env[lang]


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _kpis(d: ReportData, f: Formatter) -> list[dict[str, Any]]:
    _ = f.gettext
    out = []
    names = {"nps": _("NPS"), "csat": _("CSAT (satisfied, 4–5)"), "ces": _("CES (easy, 5–7)")}
    for m in ("nps", "csat", "ces"):
        h = d.headline[m]
        cur, ch = h["current"], h["change"]
        unit = "" if m == "nps" else "\u00a0%"
        k = {"id": m, "name": names[m], "value": None if cur.no_data else f.num(cur.value, 1, sign=m == "nps") + unit,
             "interval": None if cur.no_data else f"{f.num(cur.low, 1)} … {f.num(cur.high, 1)}",
             "n": _("n = %(n)s answers") % {"n": f.num(cur.n)} + (
                 _(" (adjusted-Wald)") if cur.method == "adjusted-wald" else ""),
             "change": "", "direction": "flat"}
        if ch is not None:
            pts = _("pts") if m == "nps" else _("pp")
            if ch.significant:
                k["direction"] = "up" if ch.delta > 0 else "down"
                arrow = "▲" if ch.delta > 0 else "▼"
                p = "< " + f.num(0.001, 3) if ch.p_value < 0.001 else "= " + f.num(ch.p_value, 3)
                k["change"] = f"{arrow} {f.num(ch.delta, 1, sign=True)} {pts} " + _("vs %(previous)s (p %(p)s)") % {
                    "previous": f.period(d.previous), "p": p}
            else:
                k["change"] = _("no significant change vs %(previous)s (%(delta)s %(unit)s)") % {
                    "previous": f.period(d.previous), "delta": f.num(ch.delta, 1, sign=True), "unit": pts}
        out.append(k)
    out.append(_complaints_kpi(d.headline["complaints"]["current"], f))
    p = d.headline["churn"]["current"]
    if p is not None:
        before = d.headline["churn"]["previous"]
        out.append({"id": "churn", "name": _("Churn rate"), "value": f.pct(p.rate),
                    "interval": f"{f.num(p.low, 1)} … {f.num(p.high, 1)}",
                    "n": _("%(churned)s of %(customers)s customers") % {"churned": f.num(p.churned),
                                                                        "customers": f.num(p.customers)},
                    "change": _("at the end of %(period)s") % {"period": f.period(d.current)} + (
                        "; " + _("%(rate)s at the end of %(previous)s") % {"rate": f.pct(before.rate),
                                                                          "previous": f.period(d.previous)}
                        if before is not None and d.compared else ""),
                    "direction": "flat"})
    purchase = d.headline["journey"]
    if purchase:
        out.append({"id": "journey", "name": _("Journey completion"), "value": f.pct(purchase.completion_pct),
                    "interval": None,
                    "n": _("%(journey)s → %(stage)s, median %(h)s h") % {
                        "journey": purchase.journey, "stage": purchase.final_stage, "h": f.num(purchase.median_hours)},
                    "change": _("journeys in %(period)s") % {"period": f.period(d.current)}, "direction": "flat"})
    return out


def _headline_lead(d: ReportData, f: Formatter) -> str:
    """Which period every headline figure is for, what it is compared with, and what an arrow means."""
    _ = f.gettext
    current = f.period(d.current) if d.current_from is None else _("%(period)s from %(date)s") % {
        "period": f.period(d.current), "date": f.date(d.current_from)}
    text = _("Every figure here is for %(current)s, the last complete period in the data.") % {"current": current}
    if not d.compared:
        return text + " " + _("%(previous)s is only partly in the data, so nothing is compared with it.") % {
            "previous": f.period(d.previous)}
    tests = sum(1 for m in ("nps", "csat", "ces") if d.headline[m]["change"] is not None)
    if not tests:
        return text + " " + _("No figure can be compared with %(previous)s.") % {"previous": f.period(d.previous)}
    return text + " " + _("Compared with %(previous)s: an arrow appears only when a change is significant (p < 0.05 after Holm's correction for the %(tests)s comparisons shown).") % {
        "previous": f.period(d.previous), "tests": f.num(tests)}


def reason(u, f: Formatter) -> str:
    """Why a complaint figure is unknown (a ``centric.metrics.complaints.Unknown``), in the report's language."""
    _ = f.gettext
    texts = {
        "no_cases": _("no cases"),
        "no_events": _("no case events in the data"),
        "no_agent_responses": _("no agent responses recorded"),
        "no_reopen_events": _("no reopen events recorded"),
        "no_close_times": _("no close times in the data"),
        "close_times_missing": _("%(missing)s of %(closed)s closed cases have no close time"),
        "events_missing": _("only %(with_events)s of %(n)s cases have case events"),
        "none_due": _("no case is past its due time or resolved yet"),
        "none_answered": _("no case answered by a person yet"),
        "none_resolved": _("no case resolved yet"),
        "no_transfer_events": _("no transfer events recorded"),
        "no_clocks": _("no service-level clocks in the data"),
        "none_decided": _("no clock met or missed yet"),
        "no_root_causes": _("no root cause recorded at closing"),
        "no_customers": _("no case names its customer"),
        "no_open_cases": _("no case open"),
    }
    return texts[u.code] % {k: f.num(v) for k, v in u.params.items()}


def _complaints_kpi(c, f: Formatter) -> dict[str, Any]:
    """The headline's complaints card: what is known, and why the rest is not."""
    _ = f.gettext
    known, unknown = [], {}
    names = {"resolution_median_h": _("resolution time"), "past_sla_pct": _("past SLA"),
             "auto_only_pct": _("answered only automatically")}
    for fld, name in names.items():
        if fld in c.unknown and c.n:
            unknown.setdefault(reason(c.unknown[fld], f), []).append(name)
    if c.resolution_median_h is not None:
        known.append(_("resolution median %(h)s h") % {"h": f.num(c.resolution_median_h, 0)})
    if c.past_sla_pct is not None:
        known.append(_("past SLA %(pct)s") % {"pct": f.pct(c.past_sla_pct)})
    note = "; ".join(_("%(what)s unknown: %(why)s") % {"what": ", ".join(what), "why": why}
                     for why, what in unknown.items())
    return {"id": "complaints", "name": _("Complaints"), "value": f.num(c.n), "interval": None,
            "n": ", ".join(known), "note": note,
            "change": "" if c.auto_only_pct is None else
            _("%(n)s answered only automatically") % {"n": f.pct(c.auto_only_pct)},
            "direction": "down" if (c.auto_only_pct or 0) > 0 else "flat"}


COMPLAINT_CELLS = {"fr_med": "first_response_median_h", "fr_p90": "first_response_p90_h",
                   "res_med": "resolution_median_h", "res_p90": "resolution_p90_h", "past_sla": "past_sla_pct",
                   "reopened": "reopened_pct", "auto_only": "auto_only_pct", "fcr": "fcr_pct",
                   "transfers": "transfers_per_case"}


def _complaint_rows(report, f: Formatter, total_label: str) -> list[dict[str, Any]]:
    rows = []
    for s, is_total in [(g, False) for g in report.groups] + [(report.total, True)]:
        rows.append({
            "name": total_label if is_total else str(next(iter(s.group.values()))), "total": is_total,
            "n": f.num(s.n), "share": f.pct(s.share), "fr_med": f.num(s.first_response_median_h, 1),
            "fr_p90": f.num(s.first_response_p90_h, 1), "res_med": f.num(s.resolution_median_h, 1),
            "res_p90": f.num(s.resolution_p90_h, 1), "past_sla": f.pct(s.past_sla_pct),
            "reopened": f.pct(s.reopened_pct), "auto_only": f.pct(s.auto_only_pct), "open_now": f.num(s.open_now),
            "fcr": f.pct(s.fcr_pct), "transfers": f.num(s.transfers_per_case, 2),
            "why": {k: reason(s.unknown[fld], f) for k, fld in COMPLAINT_CELLS.items() if fld in s.unknown}})
    return rows


def _complaint_notes(report, f: Formatter) -> list[str]:
    """Under the complaints table: each "—" with its reason (once per reason), what a share was
    computed over when part of the cases could not be judged, and what the backlog leaves out."""
    _ = f.gettext
    columns = {"first_response_median_h": _("First response, median (h)"),
               "resolution_median_h": _("Resolution, median (h)"), "past_sla_pct": _("Past SLA"),
               "reopened_pct": _("Reopened"), "auto_only_pct": _("Automatic reply only"),
               "fcr_pct": _("First-contact resolution"), "transfers_per_case": _("Transfers per case")}
    notes = []
    for group, u, fields in unknown_figures(report, list(columns)):
        what = {"what": ", ".join(columns[x] for x in fields), "why": reason(u, f)}
        notes.append(_("%(group)s — %(what)s: unknown, %(why)s") % {"group": ", ".join(map(str, group.values())), **what}
                     if group else _("— %(what)s: unknown, %(why)s") % what)
    total = report.total
    if total.past_sla_pct is not None and total.past_sla_n < total.n:
        notes.append(_("Past SLA is computed over the %(k)s of %(n)s cases that are resolved or already past their due time.") % {"k": f.num(total.past_sla_n), "n": f.num(total.n)})
    if (total.reopened_pct is not None or total.auto_only_pct is not None) and total.events_n < total.n:
        notes.append(_("Reopened and automatic reply only are computed over the %(k)s of %(n)s cases with case events.") % {"k": f.num(total.events_n), "n": f.num(total.n)})
    return notes


def _backlog_notes(report, f: Formatter) -> list[str]:
    _ = f.gettext
    notes = []
    if report.backlog and report.as_of is not None:
        notes.append(_("The last bar is %(date)s, the latest moment in the data: the cases “Open now” in the table.") % {"date": f.date(report.as_of)})
    if report.backlog_left_out:
        notes.append(_("%(n)s closed cases have no close time: when they stopped being open is unknown, so they are left out of this chart.") % {"n": f.num(report.backlog_left_out)})
    return notes


def _case_figures(m, f: Formatter) -> list[dict[str, Any]]:
    """The figure cards of the case section (``centric.metrics.cases.CaseMetrics``): each with its value,
    its detail (interval, p90, denominator) or, when unknown, the reason."""
    _ = f.gettext
    t, b, r = m.complaints.total, m.backlog, m.repeat

    def interval(name: str) -> str:
        lo, hi = t.intervals.get(name, (None, None))
        return _("95%% interval %(low)s … %(high)s") % {"low": f.num(lo, 1), "high": f.num(hi, 1)} if lo is not None \
            else ""

    def card(name: str, field: str, value: str, detail: str) -> dict[str, Any]:
        u = t.unknown.get(field)
        return {"name": name, "value": "—" if u else value, "detail": "" if u else detail,
                "why": reason(u, f) if u else ""}

    hours = _("%(h)s h")
    cards = [
        card(_("First response, median"), "first_response_median_h", hours % {"h": f.num(t.first_response_median_h, 1)},
             _("p90 %(h)s h") % {"h": f.num(t.first_response_p90_h, 1)}),
        card(_("Resolution, median"), "resolution_median_h", hours % {"h": f.num(t.resolution_median_h, 1)},
             _("p90 %(h)s h") % {"h": f.num(t.resolution_p90_h, 1)}),
        card(_("First-contact resolution"), "fcr_pct", f.pct(t.fcr_pct),
             interval("fcr_pct") + "; " + _("of %(n)s closed cases") % {"n": f.num(t.fcr_n)}),
        card(_("Reopened"), "reopened_pct", f.pct(t.reopened_pct), interval("reopened_pct")),
        card(_("Transfers per case"), "transfers_per_case", f.num(t.transfers_per_case, 2),
             _("passed from hand to hand (more than one transfer): %(pct)s") % {"pct": f.pct(t.hand_to_hand_pct)}),
        card(_("Answered only automatically"), "auto_only_pct", f.pct(t.auto_only_pct), interval("auto_only_pct")),
        {"name": _("Open now"), "value": f.num(b.open),
         "detail": _("age: median %(median)s days, p90 %(p90)s days") % {
             "median": f.num(b.median_days, 1), "p90": f.num(b.p90_days, 1)} if b.open else "", "why": ""},
        {"name": _("Repeat complaints"), "value": f.pct(r.share),
         "detail": _("%(repeat)s of %(customers)s customers had more than one case; %(per)s cases per customer") % {
             "repeat": f.num(r.repeat), "customers": f.num(r.customers), "per": f.num(r.cases_per_customer, 2)}
         if r.customers else "", "why": reason(r.unknown, f) if r.unknown else ""},
    ]
    return cards


def _clock_names(f: Formatter) -> dict[str, str]:
    _ = f.gettext
    return {"first_response": _("First response"), "next_response": _("Next response"),
            "resolution": _("Resolution"), "confirmation": _("Customer's confirmation")}


PARETO_ROWS = 8  # (root cause, sub-cause) rows shown per factor


def _cases(m, f: Formatter, names: dict[str, str]) -> dict[str, Any]:
    """The case-event part of the complaints section: figures, service levels overall and by department,
    the backlog's age, and the root-cause Pareto per factor."""
    _ = f.gettext
    clock_names = _clock_names(f)
    c = m.clocks

    def share(x) -> dict[str, str]:
        return {"share": f.pct(x.share), "interval": f"{f.num(x.low, 1)} … {f.num(x.high, 1)}" if x.share is not None
                else "", "n": f.num(x.n), "why": "" if x.share is not None else reason(Unknown("none_decided"), f)}

    clocks = [{"name": clock_names[x.clock], "met": f.num(x.met), "missed": f.num(x.missed),
               "pending": f.num(x.pending), **share(x)} for x in c.total]
    shown = [x.clock for x in c.total]
    departments = []
    for dept in dict.fromkeys(str(x.group.get("department")) for x in c.groups):
        cells = []
        for clock in shown:
            x = next((g for g in c.groups if g.clock == clock and str(g.group.get("department")) == dept), None)
            cells.append(share(x) if x is not None else {"share": "", "interval": "", "n": "0", "why": ""})
        departments.append({"name": dept, "cells": cells})
    rc = m.root_causes
    pareto = []
    order = sorted(rc.closed, key=lambda k: (-rc.closed[k][1], k))
    for factor in order:
        rows = rc.sub_causes[rc.sub_causes["factor"] == factor].head(PARETO_ROWS)
        if not len(rows):
            continue
        pareto.append({
            "factor": _("No factor (triage)") if factor == "(none)" else names.get(factor, factor),
            "closed": f.num(rc.closed[factor][0]),
            "with_cause": f.num(rc.closed[factor][1]),
            "rows": [{"cause": names.get(x.root_cause, x.root_cause), "cases": f.num(x.cases), "share": f.pct(x.share),
                      "cumulative": f.pct(x.cumulative), "sub": "" if x.root_sub_cause == NO_SUB_CAUSE
                      else x.root_sub_cause} for x in rows.itertuples()]})
    buckets = {"<1d": _("under 1 day"), "1-3d": _("1–3 days"), "3-7d": _("3–7 days"), "7-14d": _("7–14 days"),
               "14-30d": _("14–30 days"), ">30d": _("over 30 days")}
    b = m.backlog
    return {"figures": _case_figures(m, f), "clocks": clocks, "clock_names": [clock_names[k] for k in shown],
            "departments": departments, "clocks_why": reason(c.unknown, f) if c.unknown else "",
            "buckets": [{"name": buckets[k], "n": f.num(n)} for k, n in b.buckets],
            "as_of": f.datetime(b.as_of), "pareto": pareto,
            "pareto_why": reason(rc.unknown, f) if rc.unknown else ""}


def _factor_cases(complaints, rc, names: dict[str, str], f: Formatter) -> dict[str, dict[str, str]]:
    """Per factor (``cases.type``): its open cases and its top root causes, for the "What to fix first"
    table — the link between fixing one customer's problem and fixing the cause."""
    out: dict[str, dict[str, str]] = {}
    for g in complaints.groups:
        out.setdefault(str(g.group.get("type")), {"open": f.num(g.open_now), "causes": ""})
    for factor in rc.closed:
        out.setdefault(factor, {"open": f.num(0), "causes": ""})["causes"] = ", ".join(
            f"{_cause(cause, sub, factor, names)} ({f.pct(pct, 0)})" for cause, sub, _, pct in rc.top(factor, 3))
    return out


def _cause(cause: str, sub: str | None, factor: str, names: dict[str, str]) -> str:
    """A root cause as shown: its sub-cause alone when the cause is the factor itself, else
    "cause: sub-cause" (or the cause alone without a sub-cause)."""
    if sub is None:
        return names.get(cause, cause)
    return sub if cause == factor else f"{names.get(cause, cause)}: {sub}"


def _customers(o, f: Formatter, specs: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The "Customers" section: figures, tables and charts from ``centric.customers.overview``."""
    from ..customers.scoring import MODEL_NAMES

    _ = f.gettext
    if o is None:
        return None
    cur = o.currency or ""
    phase = {"new": _("new"), "ordinary": _("ordinary"), "loyal": _("loyal"), "advocate": _("advocate")}
    reason = {"p_alive_fell": _("P(alive) fell below 0.5"), "went_quiet": _("valuable, went quiet")}
    segment = {"champions": _("champions"), "loyal": _("loyal"), "cannot lose them": _("cannot lose them"),
               "potential loyalists": _("potential loyalists"), "new": _("new"), "need attention": _("need attention"),
               "promising": _("promising"), "at risk": _("at risk"), "hibernating": _("hibernating"), "lost": _("lost")}
    specs["chart-clv"] = charts.histogram(o.clv, f, _("Customer lifetime value, next %(days)s days (%(cur)s)")
                                          % {"days": f.num(o.horizon_days), "cur": cur}, cur)
    specs["chart-palive"] = charts.heatmap(o.heatmap, f, _("P(alive) by repeat purchases and days since the last one"),
                                           _("days since the last purchase"), _("repeat purchases"))
    totals = o.clv_by_currency or {cur: o.clv_total}
    out: dict[str, Any] = {
        "customers": f.num(o.customers), "likely_lost": f.num(o.likely_lost),
        "lost_pct": f.pct(100 * o.likely_lost / o.customers if o.customers else None),
        "clv_total": "; ".join(f"{f.num(v, 0)} {c}".strip() for c, v in totals.items()),
        "horizon": f.num(o.horizon_days), "model": MODEL_NAMES.get(o.model, o.model), "selected": o.selected,
        "lls": [{"model": MODEL_NAMES.get(k, k), "ll": f.num(v, 1)} for k, v in
                sorted(o.log_likelihoods.items(), key=lambda kv: -kv[1])],
        "one_time": f.num(o.one_time), "one_time_p": None if o.one_time_p_alive is None else f.num(o.one_time_p_alive, 2),
        "stored": o.stored, "scored_at": o.scored_at[:16],
        "alerts": [{"rank": int(r.rank), "id": r.customer_id, "name": "" if r.name != r.name or r.name is None
                    else str(r.name), "reason": "; ".join(reason.get(x, x) for x in r.reason.split("; ")),
                    "risk": f"{f.num(r.value_at_risk, 0)} {r.currency or ''}", "p": f.num(r.p_alive, 2),
                    "silent": f.num(r.days_silent, 0),
                    "gap": "—" if r.usual_gap_days != r.usual_gap_days else f.num(r.usual_gap_days, 0)}
                   for r in o.alerts.itertuples()],
        "reasons": None, "phases": None,
        "segments": [{"name": segment.get(str(k), str(k)), "n": f.num(int(v))} for k, v in o.segments.items()],
    }
    if o.reasons is not None:
        names = names or {}
        out["reasons"] = [{"factor": names.get(r.factor, r.factor), "lost": f.pct(100 * r.lost_share), "active": f.pct(100 * r.active_share),
                           "lift": f.num(r.lift, 2), "significant": bool(r.significant)}
                          for r in o.reasons.head(10).itertuples()]
    if o.phases is not None and len(o.phases):
        last = o.phases.iloc[-1]
        out["phases"] = [{"name": phase[p], "n": f.num(int(last[p]))} for p in ("ordinary", "loyal", "advocate")]
        out["phase_end"] = f.date(last["period_end"])
        if o.flows is not None and len(o.flows):
            end = o.flows["period_end"].max()
            specs["chart-flows"] = charts.sankey(o.flows[o.flows["period_end"] == end].to_dict(orient="records"),
                                                 phase, _("Loyalty phases: moves in the last period"))
    return out


def _quadrant_labels(f: Formatter) -> dict[str, str]:
    _ = f.gettext
    return {"fix": _("fix"), "promote": _("promote"), "maintain": _("maintain"), "observe": _("observe")}


def matrix_chart(dr, f: Formatter) -> dict[str, Any]:
    """The action matrix of a ``centric.drivers.Drivers`` as a Plotly figure specification, in the
    formatter's language."""
    _ = f.gettext
    perf_title = _("net sentiment (% positive − % negative)") if dr.settings.get("performance") == "net" else \
        _("net sentiment minus competitors'")
    x_title = _("importance (% of explained variance)") if dr.outcome else _("share of voice (% of texts mentioning the factor)")
    return charts.action_matrix(dr.factors, dr.crosshair, f, _("What to fix first"), _quadrant_labels(f),
                                x_title, perf_title, dr.names(f.lang))


def drivers_figure(dr, lang: str = "en"):
    """The action matrix of a ``centric.drivers.Drivers`` as a Plotly figure (hover shows each factor's
    figures and quotes), in ``lang``: the figure belongs to the report, the analysis does not know it;
    for example ``drivers_figure(centric.drivers.drivers(store), "it")``."""
    import plotly.graph_objects as go

    spec = matrix_chart(dr, Formatter(lang))
    return go.Figure(spec["data"], spec["layout"])


def _crosshair_note(dr, f: Formatter) -> str:
    """Where the matrix's performance crosshair is, in the reader's language."""
    _ = f.gettext
    how, cy, level = dr.settings.get("crosshair"), dr.crosshair[1], dr.settings.get("competitors_level")
    if how == "relative":
        return _("The performance crosshair is at the mean of our own factors (%(value)s): above it means better than our average, not liked.") % {"value": f.num(cy, 1, sign=True)}
    if how == "given":
        text = _("The performance crosshair is at %(value)s, as set.") % {"value": f.num(cy, 1, sign=True)}
    elif dr.settings.get("performance") == "gap":
        text = _("The performance crosshair is at the competitors' level (a gap of 0).")
    elif how == "competitors" and level is not None and level > 0:
        text = _("The performance crosshair is at the competitors' level: their net sentiment on the same factors, %(value)s.") % {"value": f.num(level, 1, sign=True)}
    elif how == "competitors":
        text = _("The performance crosshair is at neutral (net sentiment 0): the competitors' level, %(value)s, is below it.") % {"value": f.num(level, 1, sign=True)}
    else:
        text = _("The performance crosshair is at neutral (net sentiment 0).")
    return text + " " + _("A factor customers dislike (negative net sentiment) is never “promote” or “maintain”.")


def _drivers_mystery(ms, names: dict[str, str], f: Formatter) -> dict[str, Any] | None:
    """The competitors by factor from mystery shopping (``Drivers.mystery``): per factor our mean score and each
    competitor's with the difference and its Welch interval; None without visits to competitors' stores."""
    if ms is None or not len(ms):
        return None
    brands = sorted(set(ms["brand"]), key=str.lower)
    by = {(r["brand"], r["factor"]): r for r in ms.to_dict(orient="records")}

    def num(v, digits=1, sign=False):
        return "—" if v is None or v != v else f.num(v, digits, sign=sign)

    rows = []
    for fid in sorted(set(ms["factor"]), key=lambda x: names.get(x, x)):
        first = next(r for (b, x), r in by.items() if x == fid)
        cells = []
        for b in brands:
            r = by.get((b, fid))
            cells.append(None if r is None else {
                "mean": num(r["mean"]), "n": f.num(r["n"]), "diff": num(r["diff"], sign=True),
                "interval": "—" if r["diff_low"] is None or r["diff_low"] != r["diff_low"] else
                f"{num(r['diff_low'], sign=True)} … {num(r['diff_high'], sign=True)}", "significant": r["significant"]})
        rows.append({"factor": names.get(fid, fid), "ours": num(first["ours_mean"]), "ours_n": f.num(first["ours_n"]),
                     "cells": cells})
    return {"brands": brands, "rows": rows}


def _drivers(dr, f: Formatter, specs: dict[str, Any], cases: dict[str, dict[str, str]] | None = None
             ) -> dict[str, Any] | None:
    """The "What to fix first" section from ``centric.drivers``; ``cases`` (factor → its open cases and
    top root causes) adds two columns."""
    _ = f.gettext
    if dr is None:
        return None
    labels = _quadrant_labels(f)
    names = dr.names(f.lang)
    specs["chart-matrix"] = matrix_chart(dr, f)
    rows = []
    for r in dr.factors.itertuples():
        quad = r.quadrant if isinstance(r.quadrant, str) else None
        rows.append({"id": r.factor, "factor": names.get(r.factor, r.factor), "quadrant": labels[quad] if quad else "—",
                     "qclass": quad or "", "uncertain": bool(r.uncertain),
                     "importance": f.num(r.importance, 1),
                     "importance_ci": f"{f.num(r.importance_low, 1)} … {f.num(r.importance_high, 1)}",
                     "net": f.num(r.net, 1, sign=True), "net_ci": f"{f.num(r.net_low, 1)} … {f.num(r.net_high, 1)}",
                     "impact": f.num(r.impact, 1, sign=True), "voice": f.pct(r.share_of_voice),
                     "n": f.num(r.n), "complaints": f.num(r.complaints),
                     "open": (cases or {}).get(r.factor, {}).get("open", f.num(0)),
                     "causes": (cases or {}).get(r.factor, {}).get("causes", "")})
    brands = sorted(set(dr.competitors["brand"])) if len(dr.competitors) else []
    comp = []
    if brands:
        by = {(r.brand, r.factor): r for r in dr.competitors.itertuples()}
        lead = {r.factor: r for r in dr.leaders.itertuples()}
        for r in dr.factors.itertuples():
            cells = []
            for b in brands:
                c = by.get((b, r.factor))
                cells.append({"net": "—" if c is None else f.num(c.net, 1, sign=True),
                              "gap": "" if c is None or c.gap != c.gap else f.num(c.gap, 1, sign=True),
                              "significant": bool(c is not None and c.significant)})
            ld = lead.get(r.factor)
            comp.append({"factor": names.get(r.factor, r.factor), "ours": f.num(r.net, 1, sign=True), "cells": cells,
                         "leader": (_("us") if ld.leader == "ours" else ld.leader) if ld is not None else "—",
                         "lead_significant": bool(ld is not None and ld.significant)})
    mystery = _drivers_mystery(getattr(dr, "mystery", None), names, f)
    alerts = [{"factor": names.get(a.factor, a.factor), "now": f.pct(a.negative_share), "before": f.pct(a.previous_share),
               "period": a.period, "previous": a.previous, "p": f.num(a.p_adjusted, 3)} for a in dr.alerts.itertuples()]
    fix = [names.get(r.factor, r.factor) for r in dr.factors.itertuples() if r.quadrant == "fix"]
    return {"rows": rows, "brands": brands, "competitors": comp, "mystery": mystery, "alerts": alerts,
            "fix": ", ".join(fix) or "—",
            "answers": f.num(dr.answers), "r2": f.num(dr.r2, 2),
            "r2_ci": f"{f.num(dr.r2_interval[0], 2)} … {f.num(dr.r2_interval[1], 2)}",
            "outcome": {"nps": "NPS", "csat": "CSAT", "ces": "CES"}.get(dr.outcome) or _("rating"),
            "volume": dr.outcome is None, "texts": f.num(dr.texts), "crosshair": _crosshair_note(dr, f),
            "with_complaints": bool(dr.factors["complaints"].sum()), "with_cases": bool(cases)}


def _breakdown_labels(f: Formatter) -> dict[tuple[str, str], str]:
    _ = f.gettext
    return {("nps", "touchpoint"): _("NPS by touchpoint"), ("nps", "channel"): _("NPS by channel"),
            ("nps", "segment"): _("NPS by segment"), ("nps", "country"): _("NPS by country"),
            ("nps", "language"): _("NPS by language"),
            ("csat", "touchpoint"): _("CSAT by touchpoint (% satisfied)"),
            ("csat", "channel"): _("CSAT by channel (% satisfied)"), ("csat", "segment"): _("CSAT by segment (% satisfied)"),
            ("csat", "country"): _("CSAT by country (% satisfied)"),
            ("csat", "language"): _("CSAT by language (% satisfied)"),
            ("ces", "touchpoint"): _("CES by touchpoint (% easy)"), ("ces", "channel"): _("CES by channel (% easy)"),
            ("ces", "segment"): _("CES by segment (% easy)"), ("ces", "country"): _("CES by country (% easy)"),
            ("ces", "language"): _("CES by language (% easy)")}


def _topics(topics, f: Formatter, current: str | None = None) -> list[dict[str, Any]]:
    """The "Topics" section: what each kind of text is about (``centric.text.topics``). The share "now"
    and its change are those of the headline's period ``current`` (the last complete one) where the
    texts have it, so that a running period is never compared with a full one."""
    _ = f.gettext
    kinds = {"survey": _("Survey comments"), "complaint": _("Complaints"), "review": _("Reviews"),
             "social": _("Social media posts"), "chat": _("Chats"), "email": _("E-mails"),
             "mystery_shopper": _("Mystery-shopper reports"), "observation": _("Observation notes")}
    out = []
    for t in topics:
        names = t.names(f.lang)
        periods = list(t.periods)
        shown = current if current in periods else (periods[-1] if periods else None)
        before = periods[periods.index(shown) - 1] if shown is not None and periods.index(shown) > 0 else None
        last = {r.factor: r for r in t.trend if r.period == shown}
        rows = []
        for x in t.topics:
            c = last.get(x.factor)
            change = "—"
            if c is not None and c.share_change is not None:
                arrow = (" ▲" if c.share_change > 0 else " ▼") if c.share_significant else ""
                change = f.num(c.share_change, 1, sign=True) + arrow
            rows.append({"factor": names.get(x.factor, x.factor), "texts": f.num(x.texts), "share": f.pct(x.share),
                         "net": f.num(x.net, 1, sign=True), "net_ci": f"{f.num(x.net_low, 0)} … {f.num(x.net_high, 0)}",
                         "last": "—" if c is None else f.pct(c.share), "change": change,
                         "quotes": list(x.quotes)})
        out.append({"kind": kinds.get(t.source, t.source), "id": t.source, "texts": f.num(t.texts),
                    "placeholders": f.num(t.placeholders), "unclassified": f.num(t.unclassified),
                    "period": f.period(shown) if shown else "—",
                    "previous": f.period(before) if before else "—",
                    "min": f.num(t.min_texts), "rows": rows})
    return out


def _surveys(sv: dict[str, Any] | None, f: Formatter, specs: dict[str, Any]) -> dict[str, Any]:
    """The "Surveys" section: response rate per survey and touchpoint with its interval, and each survey's
    score by month with its interval (``centric.surveys.stats``); ``defined`` is False without surveys."""
    _ = f.gettext
    if sv is None:
        return {"defined": False, "rates": [], "charts": []}
    rates = []
    for r in sv["rates"].itertuples(index=False):
        rates.append({"name": r.name, "kind": r.kind.upper(), "touchpoint": "" if r.touchpoint == "(none)" else r.touchpoint,
                      "invitations": f.num(int(r.invitations)), "answers": f.num(int(r.answers)),
                      "rate": f.pct(r.rate), "interval": f"{f.num(r.low, 1)} … {f.num(r.high, 1)}"})
    names = {"nps": _("NPS"), "csat": _("CSAT (satisfied, 4–5)"), "ces": _("CES (easy, 5–7)")}
    chart_ids = []
    for i, (s, b) in enumerate(sv["trends"], start=1):
        if not any(not sc.no_data for _, sc in b.rows):
            continue
        cid = f"chart-survey-{i}"
        specs[cid] = charts.trend(b, f, _("%(survey)s: %(metric)s by month") % {"survey": html.escape(s.name),
                                                                              "metric": names[s.kind]},
                                  "" if s.kind == "nps" else " %")
        chart_ids.append(cid)
    return {"defined": True, "rates": rates, "charts": chart_ids}


def build_report(store: Store, lang: str = "en", start: dt.datetime | None = None, end: dt.datetime | None = None,
                 title: str | None = None, period: str = "quarter") -> str:
    """The report as one HTML string."""
    d = collect(store, start, end, period)
    ctx, specs = report_context(d, lang, title or Path(store.path).name)
    ctx["charts_json"] = charts_json(specs)
    ctx["plotly_js"] = Markup(_plotly_js().replace("</script", "<\\/script"))
    return _environment(lang).get_template("report.html").render(**ctx)


def charts_json(specs: dict[str, Any]) -> Markup:
    """The figure specifications as JSON that is safe inside a ``<script>`` element."""
    return Markup(json.dumps(specs, ensure_ascii=False).replace("<", "\\u003c"))


def render_sections(ctx: dict[str, Any], lang: str = "en", template: str = "_sections.html") -> Markup:
    """The report's sections (headline to data quality) as HTML, from ``report_context``: the web app's
    dashboards show them live, with ``ctx["live"]`` adding their links. ``template``: one section only
    (e.g. ``_section_journeys_map.html`` for the web app's journey pages)."""
    return Markup(_environment(lang).get_template(template).render(**ctx))


def report_context(d: ReportData, lang: str = "en", title: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """What the report's template shows of ``d`` (texts formatted in ``lang``) and its charts' Plotly
    specifications (element id → figure)."""
    f = Formatter(lang)
    _ = f.gettext
    has_data = d.last is not None and bool(d.headline)
    specs: dict[str, Any] = {}
    ctx: dict[str, Any] = {
        "lang": lang, "title": title, "has_data": has_data, "live": False,
        "first": f.date(d.first), "last": f.date(d.last), "generated": f.datetime(dt.datetime.now()),
        "current": d.current, "previous": d.previous,
    }
    if has_data:
        ctx["headline_lead"] = _headline_lead(d, f)
    if has_data:
        ctx["kpis"] = _kpis(d, f)
        specs["chart-nps-trend"] = charts.trend(d.trends["nps"], f, _("NPS by month"), "")
        specs["chart-csat-trend"] = charts.trend(d.trends["csat"], f, _("CSAT by month (% satisfied)"), " %")
        specs["chart-ces-trend"] = charts.trend(d.trends["ces"], f, _("CES by month (% easy)"), " %")
        if d.churn:
            specs["chart-churn"] = charts.churn_line(d.churn, f, _("Churn rate by month"))
        ctx["breakdowns"] = []
        labels = _breakdown_labels(f)
        for (metric, col), b in d.breakdowns.items():
            if len(b.rows) > 1 or (b.rows and str(b.rows[0][0].get(col)) != "(none)"):
                specs[f"chart-{metric}-{col}"] = charts.bars(b, f, labels[metric, col], col)
                ctx["breakdowns"].append({"id": f"chart-{metric}-{col}", "metric": metric})
        ctx["breakdown_metrics"] = ", ".join(dict.fromkeys(
            {"nps": "NPS", "csat": "CSAT", "ces": "CES"}[b["metric"]] for b in ctx["breakdowns"]))
        ctx["complaints"] = _complaint_rows(d.complaints, f, _("All cases"))
        ctx["departments"] = _complaint_rows(d.complaints_by_department, f, _("All cases"))
        specs["chart-backlog"] = charts.backlog(d.complaints.backlog, f, _("Open cases at the end of each month"))
        ctx["complaint_notes"] = list(dict.fromkeys(_complaint_notes(d.complaints, f)
                                                    + _complaint_notes(d.complaints_by_department, f)))
        ctx["backlog_notes"] = _backlog_notes(d.complaints, f)
        factor_names = d.drivers.names(lang) if d.drivers else {}
        ctx["cases"] = _cases(d.cases, f, factor_names) if d.cases.complaints.total.n else None
        ctx["journey_maps"] = section_context(d.journey_maps, f, specs)
        ctx["churn_segments"] = [{"name": str(p.group.get("segment")), "customers": f.num(p.customers),
                                  "churned": f.num(p.churned), "rate": f.pct(p.rate),
                                  "interval": f"{f.num(p.low, 1)} … {f.num(p.high, 1)}",
                                  "lost": f.num(p.lost)} for p in d.churn_by_segment]
        ctx["churn_lost"] = f.num(d.churn[-1].lost) if d.churn and d.churn[-1].lost is not None else None
        from ..customers.scoring import MODEL_NAMES

        ctx["churn_model"] = MODEL_NAMES.get(d.customers.model if d.customers else "bgnbd", "BG/NBD")
        ctx["churn_period"] = d.churn_by_segment[0].period if d.churn_by_segment else "—"
        ctx["churn_rule"] = bool(d.churn) and d.churn[-1].method == "rule"
        ctx["customers"] = _customers(d.customers, f, specs, d.drivers.names(lang) if d.drivers else None)
        ctx["drivers"] = _drivers(d.drivers, f, specs, _factor_cases(d.complaints, d.cases.root_causes,
                                                                     factor_names, f) if d.complaints.total.n else None)
        ctx["surveys"] = _surveys(d.surveys, f, specs)
        ctx["flows"] = flows_context(d.flows, f, specs)
        ctx["personas"] = persona_section(d.personas, f, specs, factor_names)
        ctx["council"] = council_section(d.council, f, specs, factor_names)
        ctx["ideas"] = _ideas_context(d.ideas, f, specs, factor_names)
        ctx["enps"] = enps_section(d.enps, f, specs)
        from ..feelings.present import section as feelings_section

        ctx["feelings"] = feelings_section(d.feelings, f, factor_names)
    ctx["topics"] = _topics(d.topics, f, d.current)
    ctx["whys"] = _whys_context(d.whys, f, d.drivers.names(lang) if d.drivers else None)
    from ..observations.present import section as observations_section
    from ..orientation.present import section as orientation_section

    ctx["orientation"] = orientation_section(d.orientation, f, specs)
    ctx["observations"] = observations_section(d.observations, f, specs)
    ctx["mystery"] = mystery_context(d.mystery, f, specs)
    q = d.quality or {"runs": [], "reasons": [], "totals": {}}
    totals = q.get("totals", {})
    ctx["quality"] = {
        "read": f.num(totals.get("read", 0)), "stored": f.num(totals.get("stored", 0)),
        "rejected": f.num(totals.get("rejected", 0)), "duplicate": f.num(totals.get("duplicate", 0)),
        "runs": [{**r, **{k: f.num(r[k]) for k in ("read", "stored", "rejected", "duplicate")}} for r in q["runs"]],
        "reasons": [(r, f.num(n)) for r, n in q["reasons"]],
        "flags": {k: f.num(v) for k, v in q.get("flags", {}).items()},
        "placeholders": f.num(q["placeholders"]) if q.get("placeholders") else None,
    }
    separators = ".," if lang == "en" else ", "
    for spec in specs.values():
        spec["layout"]["separators"] = separators
    return ctx, specs


def _ideas_context(p, f: Formatter, specs: dict[str, Any], names: dict[str, str]) -> dict[str, Any] | None:
    from ..ideas.programme import section

    return section(p, f, specs, names)


def _whys_context(tree, f: Formatter, names: dict[str, str] | None) -> dict[str, Any] | None:
    from ..whys.report import context

    return context(tree, f, names)


def write_report(store: Store, out: str | Path = "report.html", lang: str = "en", **kwargs: Any) -> Path:
    """Write the report to ``out`` and return its path."""
    path = Path(out)
    path.write_text(build_report(store, lang=lang, **kwargs), encoding="utf-8")
    return path
