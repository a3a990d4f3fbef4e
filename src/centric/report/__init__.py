"""Show: one self-contained HTML report (charts inlined, nothing fetched from the network), in English,
Polish, Russian or Italian.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     "No data yet" in build_report(s, lang="en")
True
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..store import Store
from . import charts
from .data import ReportData, collect
from .i18n import LANGUAGES, Formatter, translations

__all__ = ["build_report", "write_report", "LANGUAGES"]

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
                    "previous": d.previous, "p": p}
            else:
                k["change"] = _("no significant change vs %(previous)s (%(delta)s %(unit)s)") % {
                    "previous": d.previous, "delta": f.num(ch.delta, 1, sign=True), "unit": pts}
        out.append(k)
    c = d.headline["complaints"]["current"]
    out.append({"id": "complaints", "name": _("Complaints"), "value": f.num(c.n),
                "interval": None, "n": _("resolution median %(h)s h, past SLA %(pct)s") % {
                    "h": f.num(c.resolution_median_h, 0), "pct": f.pct(c.past_sla_pct)},
                "change": _("%(n)s answered only automatically") % {"n": f.pct(c.auto_only_pct)},
                "direction": "down" if (c.auto_only_pct or 0) > 0 else "flat"})
    if d.churn:
        p = d.churn[-1]
        out.append({"id": "churn", "name": _("Churn rate"), "value": f.pct(p.rate),
                    "interval": f"{f.num(p.low, 1)} … {f.num(p.high, 1)}",
                    "n": _("%(churned)s of %(customers)s customers") % {"churned": f.num(p.churned),
                                                                        "customers": f.num(p.customers)},
                    "change": f.period(p.period), "direction": "flat"})
    purchase = next((j for j in d.journeys if len(j.stages) > 1), None)
    if purchase:
        out.append({"id": "journey", "name": _("Journey completion"), "value": f.pct(purchase.completion_pct),
                    "interval": None,
                    "n": _("%(journey)s → %(stage)s, median %(h)s h") % {
                        "journey": purchase.journey, "stage": purchase.final_stage, "h": f.num(purchase.median_hours)},
                    "change": "", "direction": "flat"})
    return out


def _complaint_rows(report, f: Formatter, total_label: str) -> list[dict[str, Any]]:
    rows = []
    for s, is_total in [(g, False) for g in report.groups] + [(report.total, True)]:
        rows.append({
            "name": total_label if is_total else str(next(iter(s.group.values()))), "total": is_total,
            "n": f.num(s.n), "share": f.pct(s.share), "fr_med": f.num(s.first_response_median_h, 1),
            "fr_p90": f.num(s.first_response_p90_h, 1), "res_med": f.num(s.resolution_median_h, 1),
            "res_p90": f.num(s.resolution_p90_h, 1), "past_sla": f.pct(s.past_sla_pct),
            "reopened": f.pct(s.reopened_pct), "auto_only": f.pct(s.auto_only_pct), "open_now": f.num(s.open_now)})
    return rows


def _customers(o, f: Formatter, specs: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The "Customers" section: figures, tables and charts from ``centric.customers.overview``."""
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
    out: dict[str, Any] = {
        "customers": f.num(o.customers), "likely_lost": f.num(o.likely_lost),
        "lost_pct": f.pct(100 * o.likely_lost / o.customers if o.customers else None),
        "clv_total": f"{f.num(o.clv_total, 0)} {cur}", "horizon": f.num(o.horizon_days),
        "stored": o.stored, "scored_at": o.scored_at[:16],
        "alerts": [{"id": r.customer_id, "reason": "; ".join(reason.get(x, x) for x in r.reason.split("; ")),
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


def _drivers(dr, f: Formatter, specs: dict[str, Any]) -> dict[str, Any] | None:
    """The "What to fix first" section from ``centric.drivers``."""
    _ = f.gettext
    if dr is None:
        return None
    labels = _quadrant_labels(f)
    names = dr.names(f.lang)
    specs["chart-matrix"] = matrix_chart(dr, f)
    rows = []
    for r in dr.factors.itertuples():
        quad = r.quadrant if isinstance(r.quadrant, str) else None
        rows.append({"factor": names.get(r.factor, r.factor), "quadrant": labels[quad] if quad else "—",
                     "qclass": quad or "", "uncertain": bool(r.uncertain),
                     "importance": f.num(r.importance, 1),
                     "importance_ci": f"{f.num(r.importance_low, 1)} … {f.num(r.importance_high, 1)}",
                     "net": f.num(r.net, 1, sign=True), "net_ci": f"{f.num(r.net_low, 1)} … {f.num(r.net_high, 1)}",
                     "impact": f.num(r.impact, 1, sign=True), "voice": f.pct(r.share_of_voice),
                     "n": f.num(r.n), "complaints": f.num(r.complaints)})
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
    alerts = [{"factor": names.get(a.factor, a.factor), "now": f.pct(a.negative_share), "before": f.pct(a.previous_share),
               "period": a.period, "previous": a.previous, "p": f.num(a.p_value, 3)} for a in dr.alerts.itertuples()]
    fix = [names.get(r.factor, r.factor) for r in dr.factors.itertuples() if r.quadrant == "fix"]
    return {"rows": rows, "brands": brands, "competitors": comp, "alerts": alerts, "fix": ", ".join(fix) or "—",
            "answers": f.num(dr.answers), "r2": f.num(dr.r2, 2),
            "r2_ci": f"{f.num(dr.r2_interval[0], 2)} … {f.num(dr.r2_interval[1], 2)}",
            "outcome": {"nps": "NPS", "csat": "CSAT", "ces": "CES"}.get(dr.outcome) or _("rating"),
            "volume": dr.outcome is None, "texts": f.num(dr.texts), "crosshair": _crosshair_note(dr, f),
            "with_complaints": bool(dr.factors["complaints"].sum())}


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


def build_report(store: Store, lang: str = "en", start: dt.datetime | None = None, end: dt.datetime | None = None,
                 title: str | None = None, period: str = "quarter") -> str:
    """The report as one HTML string."""
    f = Formatter(lang)
    _ = f.gettext
    d = collect(store, start, end, period)
    has_data = d.last is not None and bool(d.headline)
    specs: dict[str, Any] = {}
    ctx: dict[str, Any] = {
        "lang": lang, "title": title or Path(store.path).name, "has_data": has_data,
        "first": f.date(d.first), "last": f.date(d.last), "generated": f.datetime(dt.datetime.now()),
        "current": d.current, "previous": d.previous,
    }
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
        ctx["journeys"] = []
        for i, j in enumerate(d.journeys, start=1):
            ctx["journeys"].append({"name": j.journey, "final": j.final_stage, "instances": f.num(j.instances),
                                    "completion": f.pct(j.completion_pct), "median": f.num(j.median_hours, 1),
                                    "p90": f.num(j.p90_hours, 1)})
            specs[f"chart-journey-{i}"] = charts.funnel(j, f, _("Journey “%(name)s”: share reaching each stage")
                                                        % {"name": j.journey})
        ctx["churn_segments"] = [{"name": str(p.group.get("segment")), "customers": f.num(p.customers),
                                  "churned": f.num(p.churned), "rate": f.pct(p.rate),
                                  "interval": f"{f.num(p.low, 1)} … {f.num(p.high, 1)}"} for p in d.churn_by_segment]
        ctx["churn_period"] = d.churn_by_segment[0].period if d.churn_by_segment else "—"
        ctx["churn_rule"] = bool(d.churn) and d.churn[-1].method == "rule"
        ctx["customers"] = _customers(d.customers, f, specs, d.drivers.names(lang) if d.drivers else None)
        ctx["drivers"] = _drivers(d.drivers, f, specs)
    q = d.quality or {"runs": [], "reasons": [], "totals": {}}
    totals = q.get("totals", {})
    ctx["quality"] = {
        "read": f.num(totals.get("read", 0)), "stored": f.num(totals.get("stored", 0)),
        "rejected": f.num(totals.get("rejected", 0)), "duplicate": f.num(totals.get("duplicate", 0)),
        "runs": [{**r, **{k: f.num(r[k]) for k in ("read", "stored", "rejected", "duplicate")}} for r in q["runs"]],
        "reasons": [(r, f.num(n)) for r, n in q["reasons"]],
        "flags": {k: f.num(v) for k, v in q.get("flags", {}).items()},
    }
    separators = ".," if lang == "en" else ", "
    for spec in specs.values():
        spec["layout"]["separators"] = separators
    ctx["charts_json"] = Markup(json.dumps(specs, ensure_ascii=False).replace("<", "\\u003c"))
    ctx["plotly_js"] = Markup(_plotly_js().replace("</script", "<\\/script"))
    return _environment(lang).get_template("report.html").render(**ctx)


def write_report(store: Store, out: str | Path = "report.html", lang: str = "en", **kwargs: Any) -> Path:
    """Write the report to ``out`` and return its path."""
    path = Path(out)
    path.write_text(build_report(store, lang=lang, **kwargs), encoding="utf-8")
    return path
