"""User flows in the web app: pick a journey, see the paths from (or to) a chosen step as a Sankey, the
most frequent steps and paths, the loops, and compare two groups edge by edge. A GET form (works without
JavaScript); the figures come from ``centric.flows`` and are kept per (store, data version, choice)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...errors import CentricError
from .. import deps
from ..deps import render, require
from ..permissions import Actor

router = APIRouter()

DIRECTIONS = ("forward", "backward")
COMPARISONS = ("", "reached", "nps")
CACHE_SIZE = 16
_cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def _int(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if not text:
        return default
    try:
        v = int(text)
    except ValueError:
        raise CentricError(f"{name}: {text!r} is not a whole number") from None
    if not low <= v <= high:
        raise CentricError(f"{name}: {v} is not between {low} and {high}")
    return v


def _choice(text: str | None, name: str, allowed: tuple[str, ...]) -> str:
    v = text or allowed[0]
    if v not in allowed:
        raise CentricError(f"{name}: {v!r} is not one of {', '.join(a for a in allowed if a) or '(none)'}")
    return v


def _compute(store, journey: str, step: str | None, backwards: bool, steps: int, top: int, compare_by: str,
             target: str | None) -> dict[str, Any]:
    from ...flows import batch, compare, compare_plan, journey_log, loops_plan, mine, sankey_plan
    from ...flows.groups import nps_groups, reached
    from ...flows.log import materialized

    with materialized(journey_log(store, journey)) as log:
        ev = log.table
        g, v = mine(ev)
        if not g.cases:
            return {"graph": g}
        activities = sorted({*g.start, *g.end, *(e.source for e in g.edges), *(e.target for e in g.edges)})
        step = step or next(iter(g.start if not backwards else g.end))
        if step not in activities:
            raise CentricError(f"step: {step!r} is not a stage of the journey {journey!r}")
        plans = [sankey_plan(ev, step, steps=steps, top=top, backwards=backwards), loops_plan(ev)]
        if compare_by == "reached":
            target = target or next(iter(g.end))
            if target not in activities:
                raise CentricError(f"reached: {target!r} is not a stage of the journey {journey!r}")
            plans.append(compare_plan(ev, *reached(ev, target), "reached", "not reached"))
        # the paths, the loops and the comparison of reached in one query (on PostgreSQL the journey's
        # instances are computed once for them, not once each)
        s, lp, *comparison = batch(*plans)
        out: dict[str, Any] = {"graph": g, "variants": v.variants[:15], "n_variants": len(v.variants),
                               "coverage80": v.coverage(0.8), "curve": v.curve(), "activities": activities,
                               "step": step, "sankey": s, "loops": lp, "comparison": None}
        if compare_by == "reached":
            out["comparison"] = comparison[0]
            out["target"] = target
        elif compare_by == "nps":
            a, b = nps_groups(store, ev)
            try:
                out["comparison"] = compare(ev, a, b, "promoters", "detractors")
            except CentricError:
                out["comparison_missing"] = True
        return out


@router.get("/flows", include_in_schema=False)
def flows_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...flows import LEFT, NOWHERE, OTHER
    from ...flows.charts import coverage_spec, sankey_spec
    from ...flows.summary import duration, journey_names
    from ...report import charts_json
    from ...report.data import data_version
    from ...report.i18n import Formatter

    store = deps.reader(request)
    lang = deps.language(request, actor)
    f = Formatter(lang)
    _ = f.gettext
    q = request.query_params
    names = journey_names(store)
    ctx: dict[str, Any] = {"title": "User flows", "journeys": names, "directions": DIRECTIONS,
                           "comparisons": COMPARISONS, "empty": False, "activities": [], "step": None,
                           "target": None, "comparison": None, "comparison_missing": False, "charts": "{}"}
    if not names:
        return render(request, "flows.html", {**ctx, "empty": True})
    journey = q.get("journey") or names[0]
    if journey not in names:
        raise CentricError(f"journey: {journey!r} is not a journey of the events; the journeys are {', '.join(names)}")
    direction = _choice(q.get("direction"), "direction", DIRECTIONS)
    steps = _int(q.get("steps"), "steps", 4, 1, 10)
    top = _int(q.get("top"), "top", 5, 1, 20)
    compare_by = _choice(q.get("compare"), "compare", COMPARISONS)
    step, target = q.get("step") or None, q.get("target") or None
    key = (deps.hub(request).path, data_version(store), journey, step, direction, steps, top, compare_by, target)
    with _lock:
        parts = _cache.get(key)
    if parts is None:
        parts = _compute(store, journey, step, direction == "backward", steps, top, compare_by, target)
        with _lock:
            _cache[key] = parts
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    specs: dict[str, Any] = {}
    g = parts["graph"]
    if g.cases:
        names_end = {LEFT: _("left here"), NOWHERE: _("came from nowhere"), OTHER: _("other")}
        s = parts["sankey"]
        title = (_("Paths to “%(step)s”") if s.backwards else _("Paths from “%(step)s”")) % {"step": s.anchor}
        specs["chart-flows-sankey"] = sankey_spec(s, title, names_end)
        specs["chart-flows-coverage"] = coverage_spec(
            parts["curve"], _("Share of journeys covered by the most frequent paths"), _("paths, most frequent first"),
            _("% of journeys"))
        separators = ".," if lang == "en" else ", "
        for spec in specs.values():
            spec["layout"]["separators"] = separators
    return render(request, "flows.html", {
        **ctx, **parts, "journey": journey, "direction": direction, "steps": steps, "top": top,
        "compare": compare_by, "g": g, "duration": lambda sec: duration(sec, f), "charts": charts_json(specs)})
