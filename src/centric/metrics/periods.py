"""Period columns (day, week, month, quarter, year) derived from a timestamp, and their labels."""

from __future__ import annotations

import datetime as dt

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
