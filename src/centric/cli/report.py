"""The HTML report: centric report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import (
    LANGUAGES,
    bound,
    bounds,
    one_of,
    output_file,
)


def report(
    out: Path = typer.Option(Path("report.html"), "--out", help="Where to write the HTML file.",
                             callback=output_file()),
    lang: str = typer.Option("en", "--lang", help="Language: en, pl, ru or it.", callback=one_of(*LANGUAGES)),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025).",
                              callback=bound()),
    to: str = typer.Option(None, "--to", help="First day excluded.", callback=bound()),
    period: str = typer.Option("quarter", "--period", help="Headline period: month or quarter (the last full one).",
                               callback=one_of("month", "quarter")),
    title: str = typer.Option(None, "--title", help="Title shown in the header (default: the store's file name)."),
) -> None:
    """Write a self-contained HTML report that opens offline."""
    from ..report import write_report

    start, end = bounds(from_, to)
    try:
        with _open(read=True) as store:
            path = write_report(store, out, lang=lang, start=start, end=end, period=period, title=title)
    except CentricError as e:
        _fail(e)
    console.print(f"report written: {escape(str(path.resolve()))}")
