"""Checks of command-line arguments, run while the arguments are parsed (before any work): each one
prints ``error: --name …`` naming the argument and exits with code 2, like every user error.

>>> import typer
>>> limit = typer.Option(50, "--limit", callback=at_least(1))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import CentricError

LANGUAGES = ("en", "pl", "ru", "it")


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit with code 2."""
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(2)


def _name(param: Any) -> str | None:
    """An option's long name; None for a positional argument (its message names what it is)."""
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return max(opts, key=len) if opts else None


def _check(test: Callable[[Any], str | None]) -> Callable:
    """A typer callback from ``test(value) -> why it is wrong, or None``; None values (not given) pass."""

    def callback(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        if value is None or ctx.resilient_parsing:
            return value
        why = test(value)
        if why:
            name = _name(param)
            fail(f"{name}: {why}" if name else why)
        return value

    return callback


def between(low: float | None = None, high: float | None = None, low_open: bool = False,
            high_open: bool = False) -> Callable:
    """A number within [low, high] (``low_open``/``high_open``: the bound itself is excluded)."""

    def num(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"

    def test(v: float) -> str | None:
        if v != v:
            return "expected a number, got nan"
        too_low = low is not None and (v <= low if low_open else v < low)
        too_high = high is not None and (v >= high if high_open else v > high)
        if not (too_low or too_high):
            return None
        if low is not None and high is not None:
            lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
            return f"must be in {lo}{num(low)}, {num(high)}{hi}, got {num(v)}"
        if low is not None:
            return f"must be {'greater than' if low_open else 'at least'} {num(low)}, got {num(v)}"
        return f"must be {'less than' if high_open else 'at most'} {num(high)}, got {num(v)}"

    return _check(test)


def at_least(low: float) -> Callable:
    return between(low)


def one_of(*choices: str, what: str = "") -> Callable:
    """One of the given words (``what`` they are, for the message)."""
    return _check(lambda v: None if v in choices else
                  f"{'unknown ' + what + ' ' if what else ''}{v!r}{'; use' if what else ' is not'} one of "
                  f"{', '.join(choices)}")


def output_file() -> Callable:
    """A file to write: its folder must exist and it must not be a folder (checked before the work)."""

    def test(v: Path) -> str | None:
        p = Path(v).expanduser()
        if p.is_dir():
            return f"{v} is a folder; give a file name"
        if not p.resolve().parent.is_dir():
            return f"folder {p.resolve().parent} does not exist"
        return None

    return _check(test)


def output_folder() -> Callable:
    """A folder to write into (created when missing): it must not be a file."""
    return _check(lambda v: f"{v} is a file, not a folder" if Path(v).expanduser().exists()
                  and not Path(v).expanduser().is_dir() else None)


def input_file() -> Callable:
    """A file to read: it must exist."""
    return _check(lambda v: None if Path(v).expanduser().is_file() else f"{v}: no such file")


def day() -> Callable:
    """A day written YYYY-MM-DD."""

    def test(v: str) -> str | None:
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            return f"{v!r} is not a date (YYYY-MM-DD)"
        return None

    return _check(test)


def bound() -> Callable:
    """A --from/--to bound: 2025-01-01, 2025-01 or 2025."""

    def test(v: str) -> str | None:
        from ..metrics.periods import parse_bound

        try:
            parse_bound(v)
        except CentricError as e:
            return str(e)
        return None

    return _check(test)


def bounds(from_: str | None, to: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The parsed --from/--to pair; --to must come after --from."""
    from ..metrics.periods import parse_bound

    start, end = parse_bound(from_), parse_bound(to)
    if start is not None and end is not None and end <= start:
        fail(f"--to: {to} must come after --from {from_} (--from is the first day included, --to the first "
             "day excluded)")
    return start, end


def db_path() -> Callable:
    """--db: an empty path would open a store in memory and lose whatever is loaded."""

    def test(v: str) -> str | None:
        if not str(v).strip():
            return ("an empty path would open a store in memory, and everything loaded would vanish; give a "
                    "file such as centric.duckdb (or unset CENTRIC_DB)")
        return None

    return _check(test)
