"""Service levels: the sla sub-app."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ..errors import CentricError
from ._common import _fail, console

sla_app = typer.Typer(help="Service levels: due times in business time on a calendar.", no_args_is_help=True)


@sla_app.command("due")
def sla_due(
    calendar: Path = typer.Option(..., "--calendar", help="Calendar TOML: timezone, [hours] mon … sun, holidays."),
    input: Path = typer.Option(..., "--in", help='JSON lines: {"id": …, "start": ISO with offset, "minutes": N, '
                               '"pauses"?: [[from, to], …]}.'),
    out: Path = typer.Option(..., "--out", help='Where to write {"id": …, "due": UTC ISO} lines, in input order.'),
) -> None:
    """Due time of each clock: when MINUTES of open business time have passed after START, pauses excluded.

    A bad line refuses the whole run (exit code 2, nothing written) and every bad line is listed."""
    from ..cases.calendar import load_calendar
    from ..cases.sla_file import run

    try:
        n = run(load_calendar(calendar), input, out)
    except CentricError as e:
        _fail(e)
    except OSError as e:
        _fail(CentricError(f"{e.filename or out}: {e.strerror or e}"))
    console.print(f"{n:,} due times → {escape(str(out))}")
