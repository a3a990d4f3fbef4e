"""User flows: the paths customers actually take, mined from an event log in the database.

>>> from centric.flows import read_log, graph, variants   # doctest: +SKIP
>>> log = read_log("log.csv", case="case", activity="activity", time="time")   # doctest: +SKIP
>>> g = graph(log.table); v = variants(log.table)   # doctest: +SKIP

See ``docs/flows.md``.
"""

from .analysis import (
    LEFT,
    NOWHERE,
    OTHER,
    Comparison,
    Edge,
    EdgeDifference,
    Graph,
    Loop,
    Loops,
    Plan,
    Sankey,
    Variant,
    Variants,
    batch,
    compare,
    compare_plan,
    graph,
    loops,
    loops_plan,
    mine,
    ordered,
    sankey,
    sankey_plan,
    variants,
)
from .log import EventLog, Rejected, from_table, journey_log, read_log

__all__ = [
    "LEFT", "NOWHERE", "OTHER", "Comparison", "Edge", "EdgeDifference", "EventLog", "Graph", "Loop", "Loops",
    "Plan", "Rejected", "Sankey", "Variant", "Variants", "batch", "compare", "compare_plan", "from_table", "graph",
    "journey_log", "loops", "loops_plan", "mine", "ordered", "read_log", "sankey", "sankey_plan", "variants",
]
