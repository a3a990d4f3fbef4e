"""5 whys: a problem's root-cause tree computed from the data (``tree``), and the trees analysts edit, save
and attach to the cases they explain (``saved``)."""

from .drop import previous_period, whys_drop
from .tree import LEVELS, VERDICTS, Node, WhysTree, subtopics, top_fix, whys

__all__ = ["LEVELS", "VERDICTS", "Node", "WhysTree", "subtopics", "previous_period", "top_fix", "whys", "whys_drop"]
