"""The user flows of one journey for the report and the web app: its directly-follows graph, its variants
and coverage, and the Sankey of paths from its most common first step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..store import Store
from .analysis import Graph, Sankey, Variants, mine, sankey
from .log import journey_log, materialized

TOP_VARIANTS = 10


@dataclass(frozen=True)
class JourneyFlows:
    journey: str
    graph: Graph
    variants: Variants  # the most frequent ones only (``TOP_VARIANTS``); coverage and count below
    n_variants: int
    coverage80: int
    curve: list[float]
    sankey: Sankey


def journey_names(store: Store) -> list[str]:
    """Journeys in the store's events, the one with the most events first."""
    e = store.table("events")
    df = e.group_by("journey").aggregate(n=e.count()).execute()
    return [j for j, _ in sorted(zip(df.journey, df.n, strict=True), key=lambda x: (-x[1], x[0]))]


def journey_flows(store: Store, journey: str | None = None, start: dt.datetime | None = None,
                  end: dt.datetime | None = None, steps: int = 4, top: int = 5) -> JourneyFlows | None:
    """The flows of ``journey`` (default: the journey with the most events) in [start, end), or None
    when there are no events."""
    names = journey_names(store)
    if not names:
        return None
    journey = journey or names[0]
    # the instances are cut once: the queries below read a temporary table, not the events again
    with materialized(journey_log(store, journey, start=start, end=end)) as log:
        ev = log.table
        g, v = mine(ev)
        if not g.cases:
            return None
        s = sankey(ev, next(iter(g.start)), steps=steps, top=top)
    return JourneyFlows(journey, g, Variants(v.cases, v.variants[:TOP_VARIANTS]), len(v.variants),
                        v.coverage(0.8), v.curve()[:200], s)


def duration(seconds: float, f: Any) -> str:
    """A median time in the unit that reads best, in ``f``'s language (``f``: the report's Formatter)."""
    _ = f.gettext
    if seconds < 120:
        return _("%(n)s s") % {"n": f.num(seconds)}
    if seconds < 7200:
        return _("%(n)s min") % {"n": f.num(seconds / 60)}
    if seconds < 172800:
        return _("%(n)s h") % {"n": f.num(seconds / 3600, 1)}
    return _("%(n)s d") % {"n": f.num(seconds / 86400, 1)}


def flows_context(jf: JourneyFlows | None, f: Any, specs: dict[str, Any], top_edges: int = 12) -> dict | None:
    """What ``_section_flows.html`` shows of ``jf`` (``f``: the report's Formatter) and its charts in ``specs``."""
    if jf is None:
        return None
    from .analysis import LEFT, NOWHERE, OTHER
    from .charts import coverage_spec, sankey_spec

    _ = f.gettext
    names = {LEFT: _("left here"), NOWHERE: _("came from nowhere"), OTHER: _("other")}
    specs["chart-flows-sankey"] = sankey_spec(
        jf.sankey, _("Journey “%(name)s”: paths from “%(step)s”") % {"name": jf.journey, "step": jf.sankey.anchor},
        names)
    specs["chart-flows-coverage"] = coverage_spec(
        jf.curve, _("Share of journeys covered by the most frequent paths"), _("paths, most frequent first"),
        _("% of journeys"))
    g = jf.graph
    cum = 0
    variants_rows = []
    for x in jf.variants.variants:
        cum += x.cases
        variants_rows.append({"path": " → ".join(x.activities), "cases": f.num(x.cases),
                              "share": f.pct(100 * x.cases / g.cases), "cumulative": f.pct(100 * cum / g.cases)})
    return {
        "journey": jf.journey, "cases": f.num(g.cases), "events": f.num(g.events), "n_variants": f.num(jf.n_variants),
        "coverage80": f.num(jf.coverage80), "anchor": jf.sankey.anchor,
        "edges": [{"from": e.source, "to": e.target, "count": f.num(e.count),
                   "share": f.pct(100 * e.count / g.cases), "median": duration(e.median_seconds, f)}
                  for e in g.edges[:top_edges]],
        "variants": variants_rows,
        "starts": [(a, f.num(n)) for a, n in list(g.start.items())[:5]],
        "ends": [(a, f.num(n)) for a, n in list(g.end.items())[:5]],
    }
