"""Period columns (day, week, month, quarter, year) derived from a timestamp, and their labels."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable, Sequence

PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def label(period: str, start: dt.datetime | dt.date) -> str:
    """2025-03 (month), 2025-Q1 (quarter), 2025-W09 (ISO week), 2025 (year), 2025-03-14 (day)."""
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if period == "year":
        return str(start.year)
    return start.strftime("%Y-%m-%d")


def by_columns(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """``by`` as a tuple of column names: a string names one column, or several comma-separated.

    >>> by_columns("touchpoint"), by_columns("month, channel"), by_columns(["month"]), by_columns(None)
    (('touchpoint',), ('month', 'channel'), ('month',), ())
    """
    if by is None:
        return ()
    items = [by] if isinstance(by, str) else list(by)
    return tuple(b.strip() for item in items for b in str(item).split(",") if b.strip())


def as_bound(v: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """A start or end given as a datetime, a date or text (see ``parse_bound``)."""
    if v is None or isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    return parse_bound(str(v))


def selection(func: Callable) -> Callable:
    """Let a metric function take ``by`` as a string or a list (``by_columns``) and ``start``/``end``
    as text or dates (``as_bound``)."""
    sig = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        for name, fix in (("by", by_columns), ("start", as_bound), ("end", as_bound)):
            if name in bound.arguments:
                bound.arguments[name] = fix(bound.arguments[name])
        return func(*bound.args, **bound.kwargs)

    return wrapper


def parse_bound(text: str | None) -> dt.datetime | None:
    """--from/--to values: 2025-01-01, 2025-01 (first day of the month) or 2025 (first day of the year)."""
    if not text:
        return None
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
    from ..errors import CentricError

    raise CentricError(f"{text!r} is not a date (use 2025-01-31, 2025-01 or 2025)")


def _quarter_start(d: dt.datetime) -> dt.datetime:
    return dt.datetime(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _month_start(d: dt.datetime) -> dt.datetime:
    return dt.datetime(d.year, d.month, 1)


def _shift(d: dt.datetime, months: int) -> dt.datetime:
    m = d.month - 1 + months
    return dt.datetime(d.year + m // 12, m % 12 + 1, 1)


def headline_periods(last: dt.datetime, period: str) -> tuple[tuple[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime]]:
    """The last full period that ends by ``last`` (inclusive of its final day), and the one before it:
    every figure of the headline is for the first of them, so a period still running is never shown
    nor compared with a full one."""
    step = 3 if period == "quarter" else 1
    begin = _quarter_start(last) if period == "quarter" else _month_start(last)
    end_ = _shift(begin, step)
    if last < end_ - dt.timedelta(days=1):  # the period is still running
        end_, begin = begin, _shift(begin, -step)
    return (begin, end_), (_shift(begin, -step), begin)
