"""The headline metrics: centric metrics."""

from __future__ import annotations

import json

import typer

from .. import settings
from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import (
    bound,
    bounds,
    one_of,
)

METRIC_CHOICES = ("nps", "csat", "ces", "complaints", "journeys", "churn")


def metrics(
    which: str = typer.Argument(..., help="One of: " + ", ".join(METRIC_CHOICES),
                               callback=one_of(*METRIC_CHOICES, what="metric")),
    by: list[str] = typer.Option([], "--by", help="Break down by a column or period (repeat, or comma-separate): "
                                 "day, week, month, quarter, year, survey, channel, touchpoint, language, segment, "
                                 "country, city; complaints: type, channel, department, owner, priority, status, origin "
                                 "and the periods."),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025).",
                              callback=bound()),
    to: str = typer.Option(None, "--to", help="First day excluded.", callback=bound()),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (value, n, interval, counts per group)."),
    correction: str = typer.Option("holm", "--correction", help="How changes between periods are corrected for "
                                   "their number: holm (default), bh (Benjamini-Hochberg) or none.",
                                   callback=one_of("holm", "bh", "none")),
) -> None:
    """Print a metric with n and its 95% interval, overall or by group."""
    from .. import metrics as m

    groups = [b.strip() for item in by for b in item.split(",") if b.strip()]
    start, end = bounds(from_, to)
    if which == "journeys" and groups:
        _fail(CentricError("--by: journeys are not broken down (each journey is shown with its stages); drop --by"))
    try:
        if which not in METRIC_CHOICES:
            raise CentricError(f"unknown metric {which!r}; use one of {', '.join(METRIC_CHOICES)}")
        with _open(read=True) as store:
            if which in ("nps", "csat", "ces"):
                result = m.breakdown(store, which, groups, start, end, correction=correction)
            elif which == "complaints":
                from ..metrics.cases import case_metrics

                result = case_metrics(store, tuple(groups) or ("type",), start, end,
                                      sla_hours=float(settings.get("sla_hours")))
            elif which == "journeys":
                result = m.journeys(store, start=start, end=end)
            else:
                period = next((g for g in groups if g in ("day", "week", "month", "quarter", "year")), "month")
                result = m.churn(store, period, tuple(g for g in groups if g != period), start, end)
    except CentricError as e:
        _fail(e)
    if as_json:
        payload = result.to_dict() if hasattr(result, "to_dict") else [r.to_dict() for r in result]
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    from ..render_text import render_metric

    console.print(render_metric(which, result))
