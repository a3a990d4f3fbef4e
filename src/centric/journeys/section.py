"""What the report's and the web app's journey-map section shows: the maps computed once per period
(``for_report``) and formatted for the template (``section_context``) in the reader's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import CentricError
from ..store import Store
from .map import JourneyMap, journey_map

REPORT_REPS = 100


def for_report(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[JourneyMap]:
    """Every journey's map for the report (fewer bootstrap replicates), or none without events."""
    if not store.count("events"):
        return []
    try:
        return journey_map(store, reps=REPORT_REPS, start=start, end=end)
    except CentricError:
        return []


def _tone(value: float | None, low: float, high: float) -> str:
    if value is None:
        return ""
    return "bad" if value < low else "good" if value >= high else "mid"


def section_context(maps: list[JourneyMap], f, specs: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's rows for ``maps``, formatted with ``f`` (``centric.report.i18n.Formatter``); adds each
    journey's funnel chart to ``specs``."""
    from ..report import charts

    _ = f.gettext

    def hours(v: float | None) -> str:
        if v is None:
            return "—"
        if v >= 48:
            return _("%(n)s d") % {"n": f.num(v / 24, 1)}
        return _("%(n)s h") % {"n": f.num(v, 1)} if v >= 1 else _("%(n)s min") % {"n": f.num(v * 60)}

    def score(s, sign: bool = False) -> dict[str, Any] | None:
        if s.value is None:
            return None
        return {"value": f.num(s.value, 1, sign=sign), "interval": f"{f.num(s.low, 0, sign=sign)} … "
                f"{f.num(s.high, 0, sign=sign)}", "n": f.num(s.n)}

    out = []
    for i, m in enumerate(maps, start=1):
        cid = f"chart-journey-map-{i}"
        specs[cid] = charts.funnel(m, f, _("Journey “%(name)s”: instances at each stage") % {"name": m.journey},
                                   _("optional"))
        stages = []
        for s in m.stages:
            stages.append({
                "name": s.stage, "optional": s.optional, "after_final": s.after_final, "final": s.stage == m.final_stage,
                "reached": f.num(s.reached), "entered": f.num(s.entered), "customers": f.num(s.customers),
                "conversion": f.pct(s.conversion_pct) if s.conversion_pct is not None else None,
                "drop_off": f.pct(s.drop_off_pct) if s.drop_off_pct is not None else None,
                "share": f.pct(s.share_pct) if s.share_pct is not None else None,
                "time_in": f"{hours(s.in_median_hours)} / {hours(s.in_p90_hours)}" if s.in_n else "—",
                "between": f"{hours(s.between_median_hours)} / {hours(s.between_p90_hours)}" if s.between_n else "—",
                "previous": s.previous})
        rows = []
        for t in m.touchpoints:
            cells = []
            for s in m.stages:
                c = m.cell(s.stage, t.touchpoint)
                cells.append(None if c is None else {
                    "instances": f.num(c.instances), "customers": f.num(c.customers), "events": f.num(c.events),
                    "channels": ", ".join(f"{k} {f.num(v)}" for k, v in sorted(c.channels.items(),
                                                                             key=lambda kv: -kv[1]))})
            main = t.nps if t.nps.value is not None else t.csat
            if t.pain_by == "sentiment":
                reason = _("net sentiment significantly negative: %(v)s") % {"v": f.num(t.sentiment.value, 1, sign=True)}
            elif t.pain_by:
                reason = _("%(metric)s %(delta)s points below the other touchpoints (significant)") % {
                    "metric": t.pain_by.upper(), "delta": f.num(-(t.pain_delta or 0.0), 1)}
            else:
                reason = None
            rows.append({
                "touchpoint": t.touchpoint, "cells": cells, "pain": t.pain, "pain_reason": reason,
                "truth": t.moment_of_truth,
                "weight": f.pct(100 * t.weight) if t.weight is not None else None,
                "weight_interval": (f"{f.num(100 * t.weight_low, 1)} … {f.num(100 * t.weight_high, 1)}"
                                    if t.weight is not None else None),
                "nps": score(t.nps, True), "csat": score(t.csat), "ces": score(t.ces),
                "sentiment": score(t.sentiment, True), "open_cases": f.num(t.open_cases),
                "tone": _tone(main.value, 0.0, 30.0) if main is t.nps else _tone(main.value, 60.0, 80.0),
                "factors": [{"factor": x["factor"], "net": f.num(x["net"], 0, sign=True),
                             "mentions": f.num(x["mentions"])} for x in t.factors[:3]],
                "quotes": [{"text": q.text, "polarity": q.polarity, "id": q.id, "source": q.source}
                           for q in t.quotes]})
        out.append({
            "name": m.journey, "final": m.final_stage, "instances": f.num(m.instances), "customers": f.num(m.customers),
            "completion": f.pct(m.completion_pct) if m.completion_pct is not None else "—",
            "median": hours(m.complete_median_hours), "p90": hours(m.complete_p90_hours),
            "stages": stages, "rows": rows, "chart": cid,
            "pain_points": m.pain_points, "moments": m.moments_of_truth,
            "r2": f.pct(100 * m.r_squared) if m.r_squared is not None else None,
            "kda_customers": f.num(m.kda_customers)})
    return out
