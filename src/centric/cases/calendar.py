"""Business calendars: opening hours per weekday, holidays and a time zone.

A calendar file is TOML::

    timezone = "Europe/Warsaw"
    holidays = ["2026-12-24", "2026-12-25"]   # whole local days, closed

    [hours]
    mon = ["08:00-12:00", "13:00-17:00"]       # several intervals a day
    tue = ["08:00-17:00"]
    sat = ["10:00-14:00"]                      # a day that is not listed is closed
    sun = []                                   # so is a day with no intervals

Each interval is ``"HH:MM-HH:MM"`` in local wall-clock time, start before end, within 00:00–24:00
("24:00" only as an end); overlapping intervals of one day are joined. An interval cannot cross midnight:
write "22:00-24:00" on one day and "00:00-02:00" on the next. A moment is open when its local wall-clock
time falls inside an interval of its weekday and its local date is not a holiday — so when the clocks go
back, an open hour that repeats is open twice, and an hour skipped when they go forward never is.

A malformed file raises :class:`CalendarError` naming the file, the line and the key:

>>> parse_calendar('timezone = "Europe/Warsaw"\\n[hours]\\nmon = ["09:00-08:00"]\\n', "cal.toml")
Traceback (most recent call last):
...
centric.cases.calendar.CalendarError: cal.toml line 3, key 'hours.mon': interval '09:00-08:00' ends before it starts (split one that crosses midnight over two days)
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import CentricError

__all__ = ["DAYS", "Calendar", "CalendarError", "from_dict", "load_calendar", "parse_calendar"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")


class CalendarError(CentricError):
    """A calendar file or definition is invalid (a ``CentricError``: the CLI prints it without a traceback)."""


@dataclass(frozen=True)
class Calendar:
    """Opening hours in a time zone. ``hours[i]`` holds weekday ``i``'s (Monday = 0) open intervals as sorted,
    disjoint ``(start, end)`` minutes after local midnight (end ≤ 1440); ``holidays`` are closed local dates.

    >>> c = Calendar("Europe/Warsaw", hours=(((540, 1020),),) * 5 + ((), ()))
    >>> c.weekly_open_minutes
    2400
    """

    timezone: str
    hours: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[dt.date] = frozenset()
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise CalendarError(f"{self.source or 'calendar'}: hours must list 7 weekdays, got {len(self.hours)}")
        _zone(self.timezone, self.source or "calendar")
        if not self.weekly_open_minutes:
            raise CalendarError(f"{self.source or 'calendar'}: the calendar is never open")

    @property
    def weekly_open_minutes(self) -> int:
        return sum(b - a for day in self.hours for a, b in day)


def _zone(name: object, where: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise CalendarError(f"{where}, key 'timezone': expected a time zone name such as \"Europe/Warsaw\"")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise CalendarError(f"{where}, key 'timezone': unknown time zone {name!r} "
                            "(use an IANA name such as \"Europe/Warsaw\" or \"UTC\")") from e


def load_calendar(path: str | Path) -> Calendar:
    """Read a calendar TOML file (see the module's docstring for the format)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise CalendarError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise CalendarError(f"{path}: cannot be read as UTF-8 text ({e})") from e
    return parse_calendar(text, str(path))


def parse_calendar(text: str, source: str = "calendar") -> Calendar:
    """Parse a calendar from TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CalendarError(f"{source}: not valid TOML ({e})") from e
    return from_dict(data, source, text)


def from_dict(data: dict, source: str = "calendar", text: str = "") -> Calendar:
    """Build a calendar from parsed TOML (``text``, when given, lets messages name the line)."""

    def fail(key: str, message: str, value: object = None) -> CalendarError:
        line = _line_of(text, key, value)
        where = f"{source} line {line}" if line else source
        return CalendarError(f"{where}, key '{key}': {message}")

    unknown = sorted(set(data) - {"timezone", "hours", "holidays"})
    if unknown:
        raise fail(unknown[0], "unknown key (a calendar has timezone, [hours] and holidays)")
    if "timezone" not in data:
        raise CalendarError(f"{source}: key 'timezone' is missing (for example timezone = \"Europe/Warsaw\")")
    line = _line_of(text, "timezone")
    _zone(data["timezone"], f"{source} line {line}" if line else source)

    hours = data.get("hours", {})
    if not isinstance(hours, dict):
        raise fail("hours", "expected a table [hours] with keys mon … sun")
    bad = sorted(set(hours) - set(DAYS))
    if bad:
        raise fail(f"hours.{bad[0]}", f"unknown day (use {', '.join(DAYS)})")
    week = []
    for day in DAYS:
        key = f"hours.{day}"
        spans = hours.get(day, [])
        if not isinstance(spans, list):
            raise fail(key, 'expected a list of "HH:MM-HH:MM" intervals, e.g. ["08:00-16:00"]')
        parsed = []
        for s in spans:
            parsed.append(_interval(s, lambda msg, s=s, key=key: fail(key, msg, s)))
        week.append(_join(parsed))
    if not any(week):
        raise fail("hours", "the calendar is never open: give at least one day opening hours")

    holidays = data.get("holidays", [])
    if not isinstance(holidays, list):
        raise fail("holidays", 'expected a list of dates, e.g. ["2026-12-24"]')
    days = set()
    for h in holidays:
        if isinstance(h, dt.date) and not isinstance(h, dt.datetime):
            days.add(h)
            continue
        try:
            if not isinstance(h, str) or len(h) != 10:
                raise ValueError
            days.add(dt.date.fromisoformat(h))
        except ValueError:
            raise fail("holidays", f"{h!r} is not a date YYYY-MM-DD", h) from None
    return Calendar(data["timezone"], tuple(week), frozenset(days), source)


def _interval(s: object, fail) -> tuple[int, int]:
    m = _INTERVAL.match(s) if isinstance(s, str) else None
    if not m:
        raise fail(f'{s!r} is not an interval "HH:MM-HH:MM"')
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise fail(f"interval {s!r} is outside 00:00–24:00 (24:00 is allowed only as an end)")
    a, b = h1 * 60 + m1, h2 * 60 + m2
    if a > b:
        raise fail(f"interval {s!r} ends before it starts (split one that crosses midnight over two days)")
    if a == b:
        raise fail(f"interval {s!r} is empty")
    return a, b


def _join(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _line_of(text: str, key: str, value: object = None) -> int | None:
    """The 1-based line of ``key``'s assignment in ``text`` or, given a string ``value``, of that value at or
    after it (an array may span lines), if it can be found."""
    if not text:
        return None
    lines = text.splitlines()
    name = key.rsplit(".", 1)[-1]
    pattern = re.compile(rf"^\s*(\[\s*{re.escape(name)}\s*\]|[\"']?{re.escape(name)}[\"']?\s*=)")
    at = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
    if isinstance(value, str):
        for i in range(at or 0, len(lines)):
            if f'"{value}"' in lines[i] or f"'{value}'" in lines[i]:
                return i + 1
    return None if at is None else at + 1
