"""Breaches and escalation of overdue cases, and ``tick``, which applies them (docs/cases.md, "Escalation").

:func:`escalations` is pure: from the cases, their clocks (:func:`~centric.cases.clocks.compute_clocks`)
and their events it returns the events still to record —

- ``sla_breached``, once per clock (for next_response and confirmation once per cycle: a breach is known by
  its clock and the clock's start), dated at the moment the clock fell due. A clock past due that runs,
  is paused, or stopped late is breached; one recorded earlier is not recorded again.
- ``escalated``, for each level of the policy's escalation for the case's priority (else its levels for any
  priority) that the case has reached and not been given: a case is ``after_minutes`` real minutes past
  due when its most overdue running clock (not paused) fell due that long ago. Levels are applied in
  order and never twice (the case's ``escalation_level`` and its ``escalated`` events say which were);
  a late tick that has crossed several levels records each of them. Never on a resolved or closed case.
  ``lead`` and ``manager`` are those of the case's department in the routing table; a department
  without one gets the event all the same, with no target and a note that says so.

:func:`tick` refreshes the clocks and records those events in one transaction; run again at the same
``now`` it records nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..store import Store
from . import store_io
from .clocks import _naive, _refresh
from .model import Policy, Routing
from .postgres import portable, tick_scope

__all__ = ["TickResult", "escalations", "tick"]

EVENT_COLUMNS = ("case_id", "occurred_at", "kind", "actor", "department", "target", "level", "clock", "note", "data")
ACTOR = "system"
LOOP_ORIGINS = ("signal", "proactive", "manual")  # cases the loop owns; imported ones get no events from it
_DONE = ("resolved", "closed")


@dataclass(frozen=True)
class TickResult:
    """What one :func:`tick` did: clocks recomputed, breaches recorded, escalations (in all and per level,
    1-based)."""

    now: dt.datetime
    clocks: int
    breaches: int
    escalated: int = 0
    escalations: dict[int, int] = field(default_factory=dict)


def escalations(cases: pd.DataFrame, clocks: pd.DataFrame, events: pd.DataFrame, policy: Policy,
                routing: Routing | None, now: dt.datetime) -> pd.DataFrame:
    """The ``sla_breached`` and ``escalated`` events to record now (columns of ``case_events`` without the id),
    breaches first. Pure and vectorised; see the module's docstring. Pass clocks with every next-response
    cycle (``compute_clocks(..., all_cycles=True)``) so that a cycle answered late between two ticks is
    recorded."""
    return _new_events(_Cases(cases), clocks, events, policy, routing, pd.Timestamp(_naive(now)))


@portable(tick_scope)
def tick(store: Store, now: dt.datetime | None = None, routing: Routing | None = None,
         policy: Policy | None = None, between: Callable[[], None] | None = None) -> TickResult:
    """Refresh the clocks of the open cases (and of every case with a clock still running or with events but
    no clocks yet), record new breaches and escalations as events, and set the cases' ``escalation_level``,
    ``escalated_to`` and ``updated_at`` — all in one transaction. Idempotent: a second tick at the same
    ``now`` records nothing. Cases imported from a helpdesk export get clocks (for the metrics) but no new
    events: they stay as they are. ``between``: called between its steps (the read, the computation, the
    writes), inside the transaction — the web app's scheduler gives the interpreter to the requests there."""
    now = store_io.utcnow() if now is None else _naive(now)
    computed, breaches, levels = 0, 0, pd.Series(dtype=np.int64)
    with store.transaction() as con:
        # up to SLICE cases as one read; more (a backlog of a million open cases) a slice at a time, so that
        # memory follows the slice, not the backlog — each case's clocks and events are its own
        slices = [None] if _ticked_count(store) <= SLICE else _slices(_ticked_ids(store), SLICE)
        for ids in slices:
            cases, events, clocks, n, routing, policy = _refresh(store, con, ids, now, routing, policy,
                                                                 only_changed=True, between=between)
            known = _Cases(cases)
            new = _new_events(known, clocks, events, policy, routing, pd.Timestamp(now))
            del clocks, events
            if len(new) and "origin" in cases.columns:  # cases imported from a helpdesk export stay as they are
                imported = cases.loc[~pd.Series(cases["origin"]).isin(LOOP_ORIGINS).to_numpy(), "case_id"]
                new = new[~new["case_id"].isin(imported).to_numpy()].reset_index(drop=True)
            store_io.append_events(con, new)
            if len(new):
                store_io.update_cases(con, _projection(known, new, now))
            computed += n
            breaches += int((new["kind"] == "sla_breached").sum())
            levels = levels.add(new.loc[(new["kind"] == "escalated").to_numpy(), "level"].value_counts(),
                                fill_value=0)
            del cases, known, new
            if len(slices) > 1:
                from .sync import _free

                _free()  # what the slice's frames held, before the next slice's read
    levels = levels.astype(np.int64)
    return TickResult(now=now, clocks=computed, breaches=breaches,
                      escalated=int(levels.sum()), escalations={int(k): int(v) for k, v in sorted(levels.items())})


SLICE = 100_000
"""Cases a tick reads, computes and writes at a time (all in its one transaction)."""


def _ticked_count(store: Store) -> int:
    """How many cases a tick refreshes (see :func:`~centric.cases.clocks.refresh_clocks`)."""
    from .clocks import _ticked

    return int(_ticked(store).count().execute())


def _ticked_ids(store: Store) -> list[str]:
    """The ids of the cases a tick refreshes, in order."""
    from .clocks import _ticked

    return [str(v) for v in _ticked(store).select("case_id").order_by("case_id").to_pyarrow().column(0).to_pylist()]


def _slices(ids: list, size: int) -> list[list]:
    """``ids`` in consecutive parts of ``size``.

    >>> _slices(list("abcde"), 2)
    [['a', 'b'], ['c', 'd'], ['e']]
    """
    return [ids[i:i + size] for i in range(0, len(ids), size)]


class _Cases:
    """The cases by position: their ids and what escalation reads of them."""

    def __init__(self, cases: pd.DataFrame):
        c = cases.drop_duplicates("case_id")
        self.ids = pd.Index(c["case_id"].astype(str).to_numpy(dtype=object))
        self.status, self.priority = _column(c, "status"), _column(c, "priority")
        self.department, self.escalated_to = _column(c, "department"), _column(c, "escalated_to")
        self.level = pd.to_numeric(pd.Series(_column(c, "escalation_level")), errors="coerce").fillna(0) \
            .to_numpy(dtype=np.int64)

    def of(self, ids) -> np.ndarray:
        """Positions of ``ids`` (-1: not one of these cases)."""
        return self.ids.get_indexer(np.asarray(ids, dtype=object))


def _new_events(known: _Cases, clocks, events, policy, routing, now: pd.Timestamp) -> pd.DataFrame:
    parts = [f for f in (_breaches(known, clocks, events, now), _escalated(known, clocks, events, policy, routing,
                                                                           now)) if len(f)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "occurred_at" else object)
                             for c in EVENT_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    frame["level"] = frame["level"].astype("Int64")
    return frame[list(EVENT_COLUMNS)]


def _projection(known: _Cases, new: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """The cases' escalation level, its target and update time after ``new`` events (a case with a breach
    only keeps its escalation)."""
    pos = known.of(new["case_id"])
    touched = np.unique(pos[pos >= 0])
    level, target = known.level.copy(), known.escalated_to.copy()
    esc = np.flatnonzero((new["kind"] == "escalated").to_numpy() & (pos >= 0))
    if len(esc):  # a case's levels come in ascending order: its last row is its highest level
        last = esc[::-1]
        _, i = np.unique(pos[last], return_index=True)
        last = last[i]
        level[pos[last]] = new["level"].to_numpy()[last]
        target[pos[last]] = new["target"].to_numpy(dtype=object)[last]
    return pd.DataFrame({
        "case_id": known.ids.to_numpy()[touched],
        "escalation_level": pd.array(np.where(level[touched] > 0, level[touched], 0), dtype="Int64"),
        "escalated_to": pd.Series(target[touched], dtype=object).where(pd.notna(target[touched]), None),
        "updated_at": now,
    })


# -- the two kinds of event ---------------------------------------------------------------------------------------

def _breaches(known: _Cases, clocks: pd.DataFrame, events: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    if clocks is None or not len(clocks):
        return pd.DataFrame()
    stopped = clocks["stopped_at"].notna()
    late = (stopped & (clocks["stopped_at"] > clocks["due_at"])) | (~stopped & (clocks["due_at"] <= now))
    b = clocks[late.to_numpy()]
    if not len(b):
        return pd.DataFrame()
    case_id, clock = b["case_id"].astype(str).to_numpy(), b["clock"].astype(str).to_numpy()
    started = b["started_at"].to_numpy(dtype="datetime64[us]")
    done = _recorded_breaches(events)
    if len(done):
        seen = pd.MultiIndex.from_arrays([case_id, clock, started]).isin(done)
        b, case_id, clock, started = b[~seen], case_id[~seen], clock[~seen], started[~seen]
    if not len(b):
        return pd.DataFrame()
    due = b["due_at"].to_numpy(dtype="datetime64[us]")
    data = _text('{"started_at": "', _iso(started), '", "due_at": "', _iso(due), '", "target_minutes": ',
                 _str(b["target_minutes"].to_numpy(dtype=np.int64)), ', "calendar": "',
                 _str(b["calendar"].astype(str).str.replace('"', "'").to_numpy(dtype=object)), '"}')
    return pd.DataFrame({
        "case_id": case_id, "occurred_at": due, "kind": "sla_breached", "actor": ACTOR,
        "department": _take(known.department, known.of(case_id)),
        "target": None, "level": None, "clock": clock, "note": None, "data": data,
    })


def _recorded_breaches(events: pd.DataFrame) -> pd.MultiIndex:
    """(case, clock, start) of the breaches already recorded (the start is read from the event's data)."""
    if events is None or not len(events) or "clock" not in events or "data" not in events:
        return pd.MultiIndex.from_arrays([[], [], []])
    e = events[(events["kind"] == "sla_breached").to_numpy()]
    started = pd.to_datetime(e["data"].astype(str).str.extract(r'"started_at":\s*"([^"]+)"', expand=False),
                             errors="coerce", format="ISO8601")
    ok = started.notna().to_numpy()
    return pd.MultiIndex.from_arrays([e["case_id"].astype(str).to_numpy()[ok], e["clock"].astype(str).to_numpy()[ok],
                                      started.to_numpy(dtype="datetime64[us]")[ok]])


def _escalated(known: _Cases, clocks: pd.DataFrame, events: pd.DataFrame, policy: Policy,
               routing: Routing | None, now: pd.Timestamp) -> pd.DataFrame:
    if clocks is None or not len(clocks) or not policy.escalation:
        return pd.DataFrame()
    running = (clocks["stopped_at"].isna() & (clocks["state"].astype(str) == "breached")).to_numpy()
    pos = known.of(clocks["case_id"].to_numpy(dtype=object)[running])
    due = clocks["due_at"].to_numpy(dtype="datetime64[us]")[running]
    clock_of = clocks["clock"].astype(str).to_numpy(dtype=object)[running]
    open_ = pos >= 0
    open_[open_] = ~np.isin(known.status[pos[open_]], _DONE)
    pos, due, clock_of = pos[open_], due[open_], clock_of[open_]
    if not len(pos):
        return pd.DataFrame()
    order = np.lexsort((due, pos))  # the most overdue clock of each case
    _, first = np.unique(pos[order], return_index=True)
    pick = order[first]
    x_pos, x_due, x_clock = pos[pick], due[pick], clock_of[pick]
    applied = known.level.copy()
    if events is not None and len(events) and "level" in events:
        e = events[((events["kind"] == "escalated") & events["level"].notna()).to_numpy()]
        e_pos = known.of(e["case_id"])
        ok = e_pos >= 0
        np.maximum.at(applied, e_pos[ok], e["level"].to_numpy(dtype=np.int64)[ok])
    applied = applied[x_pos]
    late = ((now.to_datetime64() - x_due) // np.timedelta64(1, "m")).astype(np.int64)

    # levels per priority: how many the case has reached, in order
    prio = known.priority[x_pos]
    reached = np.zeros(len(x_pos), dtype=np.int64)
    ladders: dict[object, tuple] = {}
    for p in pd.unique(prio):
        levels = policy.escalation.get(p) or policy.escalation.get(None) or ()
        ladders[p] = levels
        if not levels:
            continue
        sel = prio == p
        ok = late[sel, None] >= np.array([lv.after_minutes for lv in levels])[None, :]
        reached[sel] = np.where(ok.all(axis=1), len(levels), np.argmin(ok, axis=1))  # the first not reached stops
    count = np.maximum(reached - applied, 0)
    if not count.sum():
        return pd.DataFrame()
    row = np.repeat(np.arange(len(x_pos)), count)
    number = applied[row] + 1 + (np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count))
    to, after = np.empty(len(row), dtype=object), np.zeros(len(row), dtype=np.int64)
    for p, levels in ladders.items():
        sel = np.flatnonzero(prio[row] == p) if p is not None else np.flatnonzero(pd.isna(prio[row]))
        if len(sel) and levels:
            to[sel] = np.array([lv.to for lv in levels], dtype=object)[number[sel] - 1]
            after[sel] = np.array([lv.after_minutes for lv in levels])[number[sel] - 1]

    # who: the department's lead or manager, else the person named
    dept = known.department[x_pos][row]
    departments = routing.departments if routing is not None else {}
    role = np.isin(to, ["lead", "manager"])
    target = to.copy()
    for d in pd.unique(dept[role]):
        for r in ("lead", "manager"):
            sel = role & (dept == d) & (to == r) if d is not None else role & pd.isna(dept) & (to == r)
            person = getattr(departments.get(d), r, None) if d is not None else None
            target[sel] = person or None
    clock = x_clock[row]
    missing = role & pd.isna(target)
    whom = _str(np.where(pd.notna(target), target, to))
    why = pc.if_else(pa.array(missing), pc.if_else(pa.array(pd.isna(dept)),
                                                    _text_arrow("; the case has no department, so no ", _str(to)),
                                                    _text_arrow("; department ", _str(dept), " has no ", _str(to),
                                                          " in the routing table")), "")
    note = _text("level ", _str(number), ": ", _str(clock), " ", _durations(late[row]), " past due, to ", whom, why)
    data = _text('{"clock": "', _str(clock), '", "due_at": "', _iso(x_due[row]),
                 '", "late_minutes": ', _str(late[row]), ', "after_minutes": ', _str(after), ', "to": "',
                 _str(np.char.replace(to.astype(str), '"', "'")), '"}')
    return pd.DataFrame({
        "case_id": known.ids.to_numpy()[x_pos][row], "occurred_at": now, "kind": "escalated", "actor": ACTOR,
        "department": dept, "target": target, "level": number, "clock": clock, "note": note, "data": data,
    })


# -- small helpers ----------------------------------------------------------------------------------------------

def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), None, dtype=object)
    col = frame[name]
    return col.astype(object).where(col.notna(), None).to_numpy()


def _take(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """values[pos], None where pos is -1."""
    out = values[np.maximum(pos, 0)] if len(values) else np.full(len(pos), None, dtype=object)
    return np.where(pos >= 0, out, None)


def _str(values) -> pa.Array:
    """Values as an Arrow string array (None stays null)."""
    v = np.asarray(values)
    if v.dtype.kind in "iu":
        return pc.cast(pa.array(v), pa.string())
    return pa.array(v, type=pa.string(), from_pandas=True)


def _text(*parts) -> pd.Series:
    """Strings and string arrays joined element by element (in Arrow: fast for millions of rows)."""
    return _text_arrow(*parts).to_pandas()


def _iso(values) -> pa.Array:
    """ISO-8601 text of naive UTC datetime64 values (to the second, or the microsecond when they have one)."""
    v = np.asarray(values, dtype="datetime64[us]")
    whole = not len(v) or not (v.astype(np.int64) % 1_000_000).any()
    text = pc.cast(pa.array(v.astype("datetime64[s]") if whole else v), pa.string())  # "2026-03-02 10:00:00"
    return pc.replace_substring(text, " ", "T", max_replacements=1)


def _durations(minutes: np.ndarray) -> pa.Array:
    """'95 min', '4 h 01 min', '3 d 2 h' for whole minutes."""
    m = minutes.astype(np.int64)
    return pc.if_else(pa.array(m < 120), _text_arrow(_str(m), " min"),
                      pc.if_else(pa.array(m < 2880),
                                 _text_arrow(_str(m // 60), " h ", pc.utf8_lpad(_str(m % 60), 2, padding="0"), " min"),
                                 _text_arrow(_str(m // 1440), " d ", _str(m % 1440 // 60), " h")))


def _text_arrow(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*[p if isinstance(p, pa.Array | pa.ChunkedArray) else pa.scalar(p)
                                         for p in parts], "")
