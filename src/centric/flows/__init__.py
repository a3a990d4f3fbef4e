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
    Sankey,
    Variant,
    Variants,
    compare,
    graph,
    loops,
    mine,
    ordered,
    sankey,
    variants,
)
from .log import EventLog, Rejected, from_table, journey_log, read_log

__all__ = [
    "LEFT", "NOWHERE", "OTHER", "Comparison", "Edge", "EdgeDifference", "EventLog", "Graph", "Loop", "Loops",
    "Rejected", "Sankey", "Variant", "Variants", "compare", "from_table", "graph", "journey_log", "loops",
    "mine", "ordered", "read_log", "sankey", "variants",
]
