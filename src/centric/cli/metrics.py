"""The headline metrics: centric metrics."""

from __future__ import annotations

import typer

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
    from ..engines import not_available, ported
    from ..metrics.named import as_data, compute, to_json
    from ._common import state

    if not ported(f"metrics {which}", state.db):
        _fail(not_available(f"metrics {which}", state.db))
    groups = [b.strip() for item in by for b in item.split(",") if b.strip()]
    start, end = bounds(from_, to)
    try:
        with _open(read=True) as store:
            result = compute(store, which, groups, start, end, correction=correction)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(to_json(as_data(result)))
        return
    from ..render_text import render_metric

    console.print(render_metric(which, result))
