"""Small frozen result objects that the CLI, the report, the web app and notebooks all use."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


@dataclass(frozen=True)
class Score:
    """One metric over one set of answers: the value, n, a 95% interval and the counts behind it.

    ``value`` is None when there is no data (n = 0): shown as "no data", never as NaN.
    ``method`` names the interval: wald, adjusted-wald (NPS, small n), wilson (shares), t (means).
    """

    metric: str
    value: float | None
    n: int
    low: float | None
    high: float | None
    method: str
    counts: dict[str, int] = field(default_factory=dict)
    se: float | None = None
    mean: float | None = None
    mean_low: float | None = None
    mean_high: float | None = None

    @property
    def no_data(self) -> bool:
        return self.value is None

    def to_dict(self) -> dict[str, Any]:
        d = {k: _clean(v) for k, v in asdict(self).items() if k != "se"}
        d["interval"] = [d.pop("low"), d.pop("high")]
        if self.mean is None:
            for k in ("mean", "mean_low", "mean_high"):
                d.pop(k)
        return d


@dataclass(frozen=True)
class Change:
    """The change of a metric between two consecutive periods, with its z-test.

    When several changes are shown together (month by month, per group), ``p_adjusted`` is the p-value
    adjusted across the ``family`` of them by ``correction`` (holm or bh, see ``stats.adjust_p``), and
    ``significant`` means ``p_adjusted`` < 0.05; with ``correction`` "none" it is the p-value alone."""

    metric: str
    from_period: str
    to_period: str
    delta: float
    z: float
    p_value: float
    significant: bool
    p_adjusted: float | None = None
    correction: str = "none"
    family: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Breakdown:
    """A metric by groups: each row is (group values, Score); ``changes`` holds the change between
    consecutive periods within each group when the breakdown includes a period column."""

    metric: str
    by: tuple[str, ...]
    rows: list[tuple[dict[str, Any], Score]]
    changes: list[tuple[dict[str, Any], Change]] = field(default_factory=list)
    correction: str = "none"  # how the changes' p-values were adjusted for their number (holm, bh, none)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "metric": self.metric,
            "by": list(self.by),
            "groups": [{**{k: str(v) for k, v in g.items()}, **s.to_dict()} for g, s in self.rows],
            "changes": [{**{k: str(v) for k, v in g.items()}, **c.to_dict()} for g, c in self.changes],
        }
        if self.changes:
            d["significance"] = {"alpha": 0.05, "correction": self.correction, "tests": len(self.changes)}
        return d
