"""Service-level due times in business time: pure functions over a :class:`~centric.cases.calendar.Calendar`.

``due(calendar, start, minutes, pauses)`` is the instant at which ``minutes`` minutes of open business time
have elapsed after ``start``, not counting time inside ``pauses``; :func:`due_many` does the same for many
clocks at once, vectorised. Definitions:

- A moment is open when the calendar's local wall-clock time falls inside an interval of a day that is not a
  holiday. Time is counted in real (UTC) time, so an open hour that repeats when the clocks go back counts
  twice, and one skipped when they go forward never counts.
- Pauses are half-open ``[from, to)`` intervals; they may overlap, be unordered, or begin before ``start``.
- The due instant is the *first* instant at which the open, unpaused time since ``start`` reaches
  ``minutes``: when the time runs out exactly at closing, the due time is the closing time, not the next
  opening. With ``minutes = 0`` nothing has to elapse, so the due time is ``start`` itself, open or not.
- Clocks that would need more than :data:`HORIZON_YEARS` years raise :class:`SlaError`, which names the
  clocks (the calendar is open too little for them), instead of searching for ever.

How: the calendar's open intervals are turned, once per batch, into sorted UTC intervals ``[S, E)`` with the
open time before each (``zoneinfo`` handles every daylight-saving change and holiday while they are built);
``F(t)``, the open time before ``t``, is then a binary search, and so is its inverse. Pauses are mapped
through ``F``, merged per clock and walked in that "open-time" axis, all in NumPy. Times are integer
microseconds since 1970-01-01 UTC.

>>> import datetime as dt
>>> from centric.cases.calendar import parse_calendar
>>> cal = parse_calendar('timezone = "Europe/Warsaw"\\n[hours]\\nfri = ["09:00-17:00"]\\nmon = ["09:00-17:00"]')
>>> due(cal, dt.datetime.fromisoformat("2026-03-06T16:00:00+01:00"), 120).isoformat()   # Fri 16:00 + 2 h
'2026-03-09T09:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import numpy as np

from ..errors import CentricError
from .calendar import Calendar

__all__ = ["HORIZON_YEARS", "SlaError", "due", "due_many", "to_datetime", "to_micros"]

HORIZON_YEARS = 10
"""A clock must fall due within this many years of its start (else :class:`SlaError`)."""
MIN_YEAR, MAX_YEAR = 1900, 2200
"""Starts and pauses must lie in these years (the calendar is built for the span the clocks need)."""

MAX_MINUTES = HORIZON_YEARS * 366 * 1440
"""More minutes than this can never fall due within :data:`HORIZON_YEARS` years."""
US = 1_000_000
DAY_US = 86_400 * US
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)


class SlaError(CentricError):
    """A due time cannot be computed; ``lines`` holds the 0-based positions of the clocks concerned."""

    def __init__(self, reason: str, lines: Iterable[int] = (), field: str = ""):
        self.lines, self.field, self.reason = [int(i) for i in lines], field, reason
        where = f" (clock{'s' if len(self.lines) > 1 else ''} {', '.join(map(str, self.lines[:5]))}" \
                f"{' …' if len(self.lines) > 5 else ''})" if self.lines else ""
        super().__init__(f"{field}: {reason}{where}" if field else f"{reason}{where}")


def to_micros(t: dt.datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (naive ones are refused: their instant is unknown)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise SlaError(f"{t.isoformat()} has no UTC offset (give one, e.g. +01:00 or Z)")
    return (t - EPOCH) // _ONE_US


def to_datetime(us: int) -> dt.datetime:
    """The aware UTC datetime of microseconds since 1970-01-01 UTC."""
    return EPOCH + dt.timedelta(microseconds=int(us))


def due(calendar: Calendar, start: dt.datetime, minutes: int,
        pauses: Iterable[tuple[dt.datetime, dt.datetime]] = ()) -> dt.datetime:
    """The UTC instant at which ``minutes`` minutes of open, unpaused business time have elapsed after ``start``.

    ``start`` and the pauses' ends must be aware datetimes. See the module's docstring for the definitions."""
    pauses = list(pauses)
    ps = np.array([to_micros(a) for a, _ in pauses], dtype=np.int64)
    pe = np.array([to_micros(b) for _, b in pauses], dtype=np.int64)
    out = due_many(calendar, np.array([to_micros(start)], dtype=np.int64), np.array([minutes], dtype=np.int64),
                   (np.zeros(len(pauses), dtype=np.int64), ps, pe))
    return to_datetime(out[0])


def due_many(calendar: Calendar, starts: np.ndarray, minutes: np.ndarray,
             pauses: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Due times of many clocks at once (all in microseconds since 1970-01-01 UTC).

    ``starts`` and ``minutes`` are int64 arrays of equal length; ``pauses``, when given, is three equally long
    arrays ``(clock, from, to)``: the 0-based clock each pause belongs to and its half-open interval. Returns
    an int64 array of due instants. Raises :class:`SlaError` for invalid input or clocks that need more than
    :data:`HORIZON_YEARS` years."""
    starts = np.asarray(starts, dtype=np.int64)
    minutes = np.asarray(minutes, dtype=np.int64)
    if starts.shape != minutes.shape or starts.ndim != 1:
        raise SlaError("starts and minutes must be one-dimensional arrays of the same length")
    n = len(starts)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if pauses is None:
        pauses = (np.empty(0, np.int64),) * 3
    pl, ps, pe = (np.asarray(a, dtype=np.int64) for a in pauses)
    _check(starts, minutes, pl, ps, pe)
    need = minutes * (60 * US)

    # Only what can delay a clock matters: the part of each pause after the clock's start.
    ps = np.maximum(ps, starts[pl])
    keep = pe > ps
    pl, ps, pe = pl[keep], ps[keep], pe[keep]
    most = int((need + np.bincount(pl, weights=pe - ps, minlength=n)).max())

    first = _year(int(starts.min()) - 2 * DAY_US)
    last_start = _year(int(starts.max()))
    weekly = calendar.weekly_open_minutes * 60 * US
    years = 1 + -(-most // (weekly * 50))  # about enough; extended below when holidays or pauses ask for more
    while True:
        last = min(last_start + years, last_start + HORIZON_YEARS + 1)
        result, short = _solve(_open_time(calendar, first, last), starts, need, pl, ps, pe)
        if not short.any() or last == last_start + HORIZON_YEARS + 1:
            break
        years *= 2
    late = np.flatnonzero(short | (result - starts > HORIZON_YEARS * 365 * DAY_US))
    if len(late):
        raise SlaError(f"would not fall due within {HORIZON_YEARS} years of the start: the calendar is open "
                       "too little for so many minutes", late, "minutes")
    result[need == 0] = starts[need == 0]
    return result


def _check(starts, minutes, pl, ps, pe) -> None:
    lo, hi = _micros_of_year(MIN_YEAR), _micros_of_year(MAX_YEAR + 1)
    for field, what, bad in (("minutes", "must be a whole number ≥ 0", minutes < 0),
                             ("minutes", f"would not fall due within {HORIZON_YEARS} years of the start: more minutes "
                              f"than {HORIZON_YEARS} years have", minutes > MAX_MINUTES),
                             ("start", f"must lie in the years {MIN_YEAR}–{MAX_YEAR}", (starts < lo) | (starts >= hi))):
        if bad.any():
            raise SlaError(what, np.flatnonzero(bad), field)
    if not (len(pl) == len(ps) == len(pe)):
        raise SlaError("pauses must be three arrays of the same length")
    if len(pl) and (pl.min() < 0 or pl.max() >= len(starts)):
        raise SlaError("a pause names a clock that does not exist")
    for what, bad in (("a pause ends before it begins", pe < ps),
                      (f"a pause must lie in the years {MIN_YEAR}–{MAX_YEAR}",
                       (ps < lo) | (pe < lo) | (ps >= hi) | (pe >= hi))):
        if bad.any():
            raise SlaError(what, np.unique(pl[bad]), "pauses")


def _solve(ot: _OpenTime, starts, need, pl, ps, pe) -> tuple[np.ndarray, np.ndarray]:
    """Due times, and where the built horizon is too short for them."""
    x0 = ot.before(starts)
    target = x0 + need
    if len(pl):
        target += _paused(ot, x0, need, pl, ps, pe)
    return ot.at(target), target > ot.total


def _paused(ot: _OpenTime, x0, need, pl, ps, pe) -> np.ndarray:
    """For each clock, the open time inside its pauses that falls before its due time.

    In the open-time axis x = F(t) a clock starts at x0 and needs ``need`` unpaused units; its pauses are the
    intervals [F(from), F(to)). Merged per clock and taken in order, pause j (starting at offset a_j after x0,
    with L_j paused units before it) delays the clock iff a_j − L_j < need, and those pauses form a prefix."""
    a = ot.before(ps) - x0[pl]
    b = ot.before(pe) - x0[pl]
    keep = b > a  # pauses wholly in closed time change nothing
    pl, a, b = pl[keep], a[keep], b[keep]
    extra = np.zeros(len(x0), dtype=np.int64)
    if not len(pl):
        return extra
    # Ranks of (clock, value) pairs make one global running maximum act per clock: every rank of a later
    # clock is larger than every rank of an earlier one.
    rank = _dense_rank(np.concatenate([pl, pl]), np.concatenate([a, b]))
    ra, rb = rank[: len(a)], rank[len(a):]
    order = np.argsort(ra, kind="stable")
    pl, a, b, ra, rb = pl[order], a[order], b[order], ra[order], rb[order]
    reach = np.maximum.accumulate(rb)
    new = np.ones(len(a), dtype=bool)
    new[1:] = ra[1:] > reach[:-1]
    heads = np.flatnonzero(new)
    ma, mb, ml = a[heads], np.maximum.reduceat(b, heads), pl[heads]
    length = mb - ma
    cum = np.concatenate([[0], np.cumsum(length)])
    first_of_clock = np.ones(len(ml), dtype=bool)
    first_of_clock[1:] = ml[1:] != ml[:-1]
    starts_at = np.flatnonzero(first_of_clock)
    base = np.repeat(cum[starts_at], np.diff(np.append(starts_at, len(ml))))
    before = cum[:-1] - base  # paused units of the same clock before each merged pause
    delays = (ma - before) < need[ml]
    np.add.at(extra, ml[delays], length[delays])
    return extra


def _dense_rank(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    order = np.lexsort((minor, major))
    m, v = major[order], minor[order]
    step = np.empty(len(order), dtype=np.int64)
    step[0] = 0
    step[1:] = (m[1:] != m[:-1]) | (v[1:] != v[:-1])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(step)
    return rank


class _OpenTime:
    """Sorted disjoint open UTC intervals [S, E) with the open time before each (microseconds)."""

    def __init__(self, s: np.ndarray, e: np.ndarray):
        self.s, self.e = s, e
        length = e - s
        self.cum_end = np.cumsum(length)
        self.cum = self.cum_end - length
        self.total = int(self.cum_end[-1]) if len(s) else 0

    def before(self, t: np.ndarray) -> np.ndarray:
        """F(t): open time in the horizon before instant t."""
        if not len(self.s):
            return np.zeros(len(t), dtype=np.int64)
        k = np.searchsorted(self.s, t, side="right") - 1
        kc = np.maximum(k, 0)
        inside = np.clip(t - self.s[kc], 0, self.e[kc] - self.s[kc])
        return np.where(k >= 0, self.cum[kc] + inside, 0)

    def at(self, x: np.ndarray) -> np.ndarray:
        """The first instant t with F(t) ≥ x (for 0 < x ≤ total)."""
        if not len(self.s):
            return np.zeros(len(x), dtype=np.int64)
        k = np.minimum(np.searchsorted(self.cum_end, x, side="left"), len(self.s) - 1)
        return self.s[k] + (x - self.cum[k])


@functools.lru_cache(maxsize=32)
def _open_time(calendar: Calendar, first_year: int, last_year: int) -> _OpenTime:
    """The calendar's open intervals in UTC for the local days of ``first_year`` … ``last_year``."""
    d0 = (dt.date(first_year, 1, 1) - dt.date(1970, 1, 1)).days
    d1 = (dt.date(last_year + 1, 1, 1) - dt.date(1970, 1, 1)).days
    days = np.arange(d0, d1, dtype=np.int64)
    if calendar.holidays:
        off = np.array([(h - dt.date(1970, 1, 1)).days for h in calendar.holidays], dtype=np.int64)
        days = days[~np.isin(days, off)]
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    lo, hi = [], []
    for w, spans in enumerate(calendar.hours):
        if not spans:
            continue
        on = days[weekday == w] * DAY_US
        for a, b in spans:
            lo.append(on + a * 60 * US)
            hi.append(on + b * 60 * US)
    wall_a = np.concatenate(lo)
    wall_b = np.concatenate(hi)
    order = np.argsort(wall_a, kind="stable")
    wall_a, wall_b = wall_a[order], wall_b[order]

    # UTC offset segments: segment j covers UTC [t_j, t_{j+1}) with offset o_j, i.e. wall [t_j+o_j, t_{j+1}+o_j).
    t, o = _segments(calendar.timezone, first_year - 1, last_year + 1)
    t_next = np.append(t[1:], np.iinfo(np.int64).max // 2)
    w_start, w_end = t + o, t_next + o
    j = np.clip(np.searchsorted(w_start, wall_a, side="right") - 1, 0, len(t) - 1)
    prev_end = np.where(j > 0, w_end[np.maximum(j - 1, 0)], np.iinfo(np.int64).min // 2)
    next_start = np.where(j + 1 < len(t), w_start[np.minimum(j + 1, len(t) - 1)], np.iinfo(np.int64).max // 2)
    simple = (wall_a >= w_start[j]) & (wall_b <= w_end[j]) & (wall_b <= next_start) & (wall_a >= prev_end)
    s = wall_a[simple] - o[j[simple]]
    e = wall_b[simple] - o[j[simple]]
    extra_s, extra_e = [], []
    for i in np.flatnonzero(~simple):  # intervals that meet a daylight-saving change: a handful a year
        A, B, J = int(wall_a[i]), int(wall_b[i]), int(j[i])
        for k in range(max(0, J - 3), min(len(t), J + 4)):
            a, b = max(A, int(w_start[k])), min(B, int(w_end[k]))
            if a < b:
                extra_s.append(a - int(o[k]))
                extra_e.append(b - int(o[k]))
    s = np.concatenate([s, np.array(extra_s, dtype=np.int64)])
    e = np.concatenate([e, np.array(extra_e, dtype=np.int64)])
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    if len(s):  # join intervals that touch (e.g. 24:00 of one day and 00:00 of the next)
        reach = np.maximum.accumulate(e)
        head = np.ones(len(s), dtype=bool)
        head[1:] = s[1:] > reach[:-1]
        idx = np.flatnonzero(head)
        s, e = s[idx], np.maximum.reduceat(e, idx)
    return _OpenTime(s, e)


def _segments(name: str, first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC instants at which the zone's offset changes (µs; the first is far in the past) and the offsets."""
    starts = [np.iinfo(np.int64).min // 4]
    offsets = [_year_transitions(name, first_year)[0]]
    for y in range(first_year, last_year + 1):
        for at, off in _year_transitions(name, y)[1]:
            if off != offsets[-1]:
                starts.append(at)
                offsets.append(off)
    return np.array(starts, dtype=np.int64), np.array(offsets, dtype=np.int64)


@functools.lru_cache(maxsize=1024)
def _year_transitions(name: str, year: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The zone's offset at the start of ``year`` (UTC) and its changes during it, as (instant, offset) in µs.

    The offset is sampled every three hours and each change is found to the second by bisection (no zone
    changes its offset twice within three hours)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(name)

    def offset(sec: int) -> int:
        return int((EPOCH + dt.timedelta(seconds=sec)).astimezone(tz).utcoffset().total_seconds() * US)

    t0 = int((dt.datetime(year, 1, 1, tzinfo=dt.UTC) - EPOCH).total_seconds())
    t1 = int((dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) - EPOCH).total_seconds())
    step = 3 * 3600
    first = prev = offset(t0)
    changes = []
    sec = t0
    while sec < t1:
        nxt = min(sec + step, t1)
        cur = offset(nxt)
        if cur != prev:
            lo, hi = sec, nxt  # offset(lo) == prev, offset(hi) != prev
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            changes.append((hi * US, cur))
            prev = cur
        sec = nxt
    return first, tuple(changes)


def _year(us: int) -> int:
    return to_datetime(us).year


def _micros_of_year(year: int) -> int:
    return (dt.datetime(year, 1, 1, tzinfo=dt.UTC) - EPOCH) // _ONE_US
