"""A metric by its name, as ``centric metrics NAME --json`` prints it and ``GET /api/v1/metrics/NAME`` serves it.

>>> payload(store, "nps", by=["month"])  # doctest: +SKIP
{'metric': 'nps', ...}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from .. import settings
from ..errors import CentricError
from ..store import Store

__all__ = ["NAMES", "as_data", "compute", "payload", "to_json"]

NAMES = ("nps", "csat", "ces", "complaints", "journeys", "churn")
PERIODS = ("day", "week", "month", "quarter", "year")


def compute(store: Store, which: str, by: Sequence[str] = (), start: dt.datetime | None = None,
            end: dt.datetime | None = None, correction: str = "holm") -> Any:
    """The result object of metric ``which`` broken down ``by`` groups, between ``start`` (included) and
    ``end`` (excluded)."""
    from . import breakdown, churn, journeys
    from .cases import case_metrics

    groups = list(by)
    if which not in NAMES:
        raise CentricError(f"unknown metric {which!r}; use one of {', '.join(NAMES)}")
    if which == "journeys" and groups:
        raise CentricError("--by: journeys are not broken down (each journey is shown with its stages); drop --by")
    if which in ("nps", "csat", "ces"):
        return breakdown(store, which, groups, start, end, correction=correction)
    if which == "complaints":
        return case_metrics(store, tuple(groups) or ("type",), start, end, sla_hours=float(settings.get("sla_hours")))
    if which == "journeys":
        return journeys(store, start=start, end=end)
    period = next((g for g in groups if g in PERIODS), "month")
    return churn(store, period, tuple(g for g in groups if g != period), start, end)


def payload(store: Store, which: str, by: Sequence[str] = (), start: dt.datetime | None = None,
            end: dt.datetime | None = None, correction: str = "holm") -> Any:
    """The metric as JSON-ready data: what ``centric metrics NAME --json`` prints."""
    return json.loads(to_json(as_data(compute(store, which, by, start, end, correction))))


def as_data(result: Any) -> Any:
    """A metric's result object (or list of them) as dicts and lists."""
    return result.to_dict() if hasattr(result, "to_dict") else [r.to_dict() for r in result]


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
