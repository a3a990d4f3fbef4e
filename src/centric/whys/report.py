"""The 5-whys tree in the report: the tree of the first factor in the action matrix's "fix" quadrant, and what
the report's section shows of it (texts formatted and translated, quotes masked already)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import CentricError
from ..store import Store
from .tree import WhysTree, top_fix, whys

SHOWN_IDS = 10  # evidence ids of each kind shown per node in the report


def report_tree(store: Store, drivers, start: dt.datetime | None = None,
                end: dt.datetime | None = None) -> WhysTree | None:
    """The 5-whys tree of the drivers' first "fix" factor in [start, end), or None (no such factor, no negative
    mention of it)."""
    factor = top_fix(drivers)
    if factor is None:
        return None
    try:
        return whys(store, factor, start, end, names=drivers.names("en"))
    except CentricError:
        return None


def context(tree: WhysTree | None, f, names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """What the report's section shows of ``tree``, formatted with the report's formatter ``f``: nested nodes
    with their level, label, share, baseline, p, verdict, quotes and a few evidence ids."""
    if tree is None:
        return None
    _ = f.gettext
    levels = {"problem": _("Problem"), "says": _("What customers say"), "where": _("Where in the journey"),
              "department": _("Department"), "cause": _("Root cause recorded")}
    verdicts = {"root cause": _("root cause"), "expected": _("expected"), "open": _("open")}
    units = {"sentences": _("sentences"), "texts": _("texts"), "cases": _("cases")}
    kinds = {"texts": _("Texts"), "events": _("Journey events"), "cases": _("Cases"), "case_events": _("Closing events")}

    def node(n) -> dict[str, Any]:
        label = (names or {}).get(n.key, n.label) if n.level == "problem" else n.label
        return {"id": n.id, "level": levels.get(n.level, n.level), "label": label, "n": f.num(n.n),
                "unit": units.get(n.unit, n.unit), "share": None if n.share is None else f.pct(n.share),
                "baseline": None if n.baseline is None else f.pct(n.baseline),
                "p": None if n.p is None else f.num(n.p, 3), "significant": n.significant,
                "verdict": verdicts.get(n.verdict) if n.verdict else None, "root": n.verdict == "root cause",
                "quotes": list(n.quotes), "other": f.num(n.other) if n.other else None,
                "evidence": [(kinds.get(k, k), ids[:SHOWN_IDS], len(ids) > SHOWN_IDS) for k, ids in n.evidence.items()
                             if ids],
                "children": [node(c) for c in n.children]}

    causes = [(names or {}).get(n.key, n.label) for n in tree.root_causes()]
    return {"factor": (names or {}).get(tree.factor, tree.root.label), "tree": node(tree.root),
            "root_causes": list(dict.fromkeys(causes))}
