"""The four service-level clocks of every case, computed from its events (vectorised).

A case's clocks are a pure function of its events, its priority, channel and department, the SLA policy
and "now"; :func:`compute_clocks` computes them for any number of cases at once and
:func:`refresh_clocks` rewrites their rows in ``case_clocks``. Definitions (docs/cases.md, "The four
clocks"):

- **first_response** starts when the case is opened (``cases.opened_at``) and stops at the first
  ``agent_response``. An ``auto_reply`` never stops it, nor a ``note``.
- **next_response** starts at a customer message (``customer_contact`` or ``signal``) that follows an
  ``agent_response``; further messages before the answer do not restart it (the customer's oldest
  unanswered message counts). It stops at the next ``agent_response``. Only the case's latest cycle has a
  row; a case whose customer never wrote after the first answer has none.
- **resolution** starts when the case is opened and stops at its last ``resolved`` (or ``closed``, when
  it was closed without being resolved) that is not followed by ``reopened``. Reopening continues the
  same clock: the time between the resolution and the reopening is a pause.
- **confirmation** starts at the last ``resolved`` and stops at ``confirmed``, ``not_solved``,
  ``closed`` or ``reopened``.
- **Pauses.** Every interval from ``waiting`` to the next ``customer_contact``, ``signal``, ``started``,
  ``agent_response``, ``resolved``, ``closed`` or ``reopened`` pauses every clock; the time between a
  ``resolved`` and the ``reopened`` that follows it pauses the first three. A clock paused now is due as
  if the pause ended now.
- **The end of a case stops its response clocks.** A case that is resolved or closed for good (no
  ``reopened`` after) stops first_response and next_response at that moment if they still run: the
  resolution message (with its "Was it solved?" link) is the answer; the clock is met or breached by
  that time.
- **Targets.** Minutes of business time from the policy's most specific :class:`~centric.cases.model.Target`
  for the case's (priority, channel); calendar = the target's calendar, else the department's, else
  the policy's default. ``at_risk_at`` is the due time of ``ceil(0.8 × minutes)``.
- **State.** Stopped: ``met`` when it stopped at or before its due time, else ``breached``. Running:
  ``paused`` while the case waits for the customer, else ``breached`` once due, ``at_risk`` once at risk,
  else ``on_track``.

Events after ``now`` and events before the case was opened are ignored. A case without events has no
clocks: cases imported from a helpdesk export get clocks only when their events were imported too, and
an imported case whose row says ``closed`` (or ``resolved``) without a matching event is taken as
stopped at its ``closed_at`` (``resolved_at``), else at its last event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from ..errors import CentricError
from ..schema import CASE_CLOCKS, CASE_EVENT_KINDS, CLOCK_STATES
from . import store_io
from .model import AT_RISK, Policy, Routing, Target
from .sla import due_many

__all__ = ["ClockError", "compute_clocks", "latest_cycles", "refresh_clocks", "target_for"]

US = 1_000_000
NONE = np.iinfo(np.int64).min  # "no time"
CLOCK_COLUMNS = ("case_id", "clock", "started_at", "target_minutes", "calendar", "due_at", "at_risk_at",
                 "stopped_at", "state", "computed_at")
_K = {k: i for i, k in enumerate(CASE_EVENT_KINDS)}
_FINAL_STOPS = ("resolved", "closed")
_WAIT_ENDS = ("customer_contact", "signal", "started", "agent_response", "resolved", "closed", "reopened")
_MESSAGES = ("customer_contact", "signal")
_CONFIRMATION_ENDS = ("confirmed", "not_solved", "closed", "reopened")
_CASE_COLUMNS = ("case_id", "opened_at", "status", "priority", "channel", "department", "closed_at", "resolved_at",
                 "escalation_level", "escalated_to", "origin")  # what the clocks and escalation read


class ClockError(CentricError):
    """The clocks cannot be computed (e.g. the policy names a calendar it does not define)."""


def target_for(policy: Policy, priority: str | None, channel: str | None) -> Target:
    """The policy's most specific target matching ``priority`` and ``channel`` (the first one listed among
    equally specific ones)."""
    best = None
    for t in policy.targets:
        if (t.priority is None or t.priority == priority) and (t.channel is None or t.channel == channel):
            if best is None or t.specificity > best.specificity:
                best = t
    if best is None:
        raise ClockError(f"{policy.source}: no target applies to priority {priority!r}, channel {channel!r} "
                         "(a target without priority and channel is the fallback)")
    return best


def compute_clocks(cases: pd.DataFrame, events: pd.DataFrame, policy: Policy, routing: Routing | None,
                   now: dt.datetime, *, all_cycles: bool = False) -> pd.DataFrame:
    """The clocks of ``cases`` (columns of ``cases``) from their ``events`` (columns of ``case_events``), one
    row per case × clock that has started, with the columns of ``case_clocks``. Pure; see the module's
    docstring for the definitions. ``all_cycles``: a row for every next-response cycle, not only the
    latest (what breaches are looked for in)."""
    now_us = _micros_scalar(now)
    if not len(cases) or events is None or not len(events):
        return _empty()
    opened = _micros(cases["opened_at"])
    code, t, kind = _ordered_events(cases, events, opened, now_us)
    if not len(code):
        return _empty()
    r = _walk(cases, code, t, kind, opened, now_us, all_cycles)
    r_case, r_clock, r_start, r_stop, running = r.case, r.clock, r.start, r.stop, r.stop == NONE
    minutes, cal_code, cal_names = _targets(cases, policy, routing)
    r_minutes = minutes[r_case, r_clock]
    r_cal = cal_code[r_case]
    due, risk = _due_times(policy, cal_names, r_cal, r_start, r_minutes, *_row_pauses(r, len(cases), now_us))
    s = {k: np.int8(i) for i, k in enumerate(CLOCK_STATES)}
    state = np.where(running,
                     np.where(r.paused_now[r_case], s["paused"],
                              np.where(now_us >= due, s["breached"],
                                       np.where(now_us >= risk, s["at_risk"], s["on_track"]))),
                     np.where(r_stop <= due, s["met"], s["breached"]))
    return pd.DataFrame({
        "case_id": cases["case_id"].take(r_case).to_numpy(),
        "clock": pd.Categorical.from_codes(r_clock, CASE_CLOCKS),
        "started_at": _stamps(r_start),
        "target_minutes": r_minutes,
        "calendar": pd.Categorical.from_codes(r_cal, cal_names),
        "due_at": _stamps(due),
        "at_risk_at": _stamps(risk),
        "stopped_at": _stamps(r_stop),
        "state": pd.Categorical.from_codes(state, CLOCK_STATES),
        "computed_at": _stamps(np.full(len(r_case), now_us)),
    })


def refresh_clocks(store, con, case_ids=None, now: dt.datetime | None = None, routing: Routing | None = None,
                   policy: Policy | None = None, cases: pd.DataFrame | None = None,
                   events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recompute the clocks of ``case_ids`` (None: every case that is not closed, every case with a stored
    clock that still runs, and every closed case with events whose clocks were never computed, such as
    cases imported from a helpdesk export) from their events, and replace their rows in ``case_clocks``
    inside the caller's transaction (``con`` from ``store.transaction()``). Routing and policy default to
    the store's active configuration. ``cases`` and ``events``: the cases' rows and all their events when
    the caller has them already (a case just opened), instead of reading them. Returns the new rows."""
    return latest_cycles(_refresh(store, con, case_ids, now, routing, policy, cases, events)[2])


def latest_cycles(clocks: pd.DataFrame) -> pd.DataFrame:
    """Clocks with only each case's latest next-response cycle (what ``case_clocks`` keeps)."""
    if not len(clocks):
        return clocks
    last = ~clocks.duplicated(["case_id", "clock"], keep="last").to_numpy()
    return clocks[last].reset_index(drop=True)


def _refresh(store, con, case_ids, now, routing, policy, cases=None, events=None, only_changed=False, between=None):
    """refresh_clocks, returning what it read too: (cases, events, clocks with every cycle, how many clock rows
    the cases have — stored or, with ``only_changed``, left as they were —, routing, policy). ``only_changed``: rewrite only the rows of the cases whose clocks changed
    (the tick's refresh of every open case: rewriting tens of thousands of unchanged rows each minute made
    DuckDB's next checkpoint hold every other commit back for seconds). ``between``: called after the read and
    after the computation."""
    between = between or (lambda: None)
    now = store_io.utcnow() if now is None else _naive(now)
    if routing is None or policy is None:
        from .config import active

        r, p = active(store)
        routing, policy = routing or r, policy or p
    if case_ids is None or cases is None or events is None:  # else the caller has them
        cases, events = _read(store, case_ids)
        between()
    clocks = compute_clocks(cases, events, policy, routing, now, all_cycles=True)
    between()
    latest = latest_cycles(clocks)
    computed = len(latest)
    ids = pd.DataFrame({"case_id": pd.unique(cases["case_id"].astype(str))})
    if only_changed and len(ids):  # the cases whose rows would change, and only their rows
        ids = _changed_cases(con, ids, latest)
        latest = latest[latest["case_id"].astype(str).isin(ids["case_id"]).to_numpy()]
    if len(ids):
        con.register("_centric_clock_cases", ids)
        try:
            con.execute("DELETE FROM case_clocks WHERE case_id IN (SELECT case_id FROM _centric_clock_cases)")
        finally:
            con.unregister("_centric_clock_cases")
    store_io.insert_rows(con, "case_clocks", latest)
    return cases, events, clocks, computed, routing, policy


_COMPARED = ("started_at", "target_minutes", "calendar", "due_at", "at_risk_at", "stopped_at", "state")
"""What makes a clock's row change (``computed_at`` alone does not)."""


def _changed_cases(con, ids: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """Of the cases ``ids``, those whose stored clock rows differ from ``latest`` (a row new, gone, or with a
    value of :data:`_COMPARED` changed). Compared where the rows are, in one query: the database does it
    without holding the interpreter (the tick runs beside the web app's requests), where comparing tens of
    thousands of rows as Python texts held it for a third of a second."""
    new = latest[["case_id", "clock", *_COMPARED]]
    con.register("_centric_clock_cases", ids)
    con.register("_centric_clock_new", new)
    try:
        differs = " OR ".join(f"{_typed('n', c)} IS DISTINCT FROM {_typed('o', c)}" for c in _COMPARED)
        found = con.execute(
            "WITH o AS (SELECT * FROM case_clocks WHERE case_id IN (SELECT case_id FROM _centric_clock_cases)), "
            "n AS (SELECT * FROM _centric_clock_new) "
            "SELECT DISTINCT coalesce(CAST(n.case_id AS VARCHAR), o.case_id) AS case_id FROM n FULL OUTER JOIN o "
            "ON CAST(n.case_id AS VARCHAR) = o.case_id AND CAST(n.clock AS VARCHAR) = o.clock "
            f"WHERE n.case_id IS NULL OR o.case_id IS NULL OR {differs}").fetchall()
    finally:
        con.unregister("_centric_clock_new")
        con.unregister("_centric_clock_cases")
    return pd.DataFrame({"case_id": pd.Series([r[0] for r in found], dtype=object)})


def _typed(side: str, column: str) -> str:
    """A compared column of either side as one type: times as timestamps, minutes as numbers, the rest as text."""
    kind = "TIMESTAMP" if column.endswith("_at") else "DOUBLE" if column == "target_minutes" else "VARCHAR"
    return f"CAST({side}.{column} AS {kind})"


def _read(store, case_ids):
    """The cases to refresh (see refresh_clocks) and their events, with only the columns needed."""
    cases_t, ev = store.table("cases"), store.table("case_events")
    if case_ids is None:
        cases_t = _ticked(store)
        ev = ev.filter(ev.case_id.isin(cases_t.case_id))
    else:
        case_ids = sorted({str(c) for c in case_ids})
        if 0 < len(case_ids) <= _PREPARED_IDS:  # a sync's few touched cases: compiled once, the ids bound
            return (store_io.prepared(store, "clocks.cases", lambda ids: _columns(*_of(store, ids))[0], ids=case_ids),
                    store_io.prepared(store, "clocks.events", lambda ids: _columns(*_of(store, ids))[1], ids=case_ids))
        cases_t, ev = store_io.only(cases_t, "case_id", case_ids), store_io.only(ev, "case_id", case_ids)
    cases_t, events = _columns(cases_t, ev)
    return cases_t.execute(), events.execute()


def _ticked(store):
    """The cases whose clocks a refresh of "every open case" recomputes: not closed, or with a clock still
    running, or with events but no clocks yet."""
    cases_t, ev, stored = store.table("cases"), store.table("case_events"), store.table("case_clocks")
    running = stored.filter(stored.stopped_at.isnull())
    return cases_t.filter(cases_t.status.isnull() | (cases_t.status != "closed")
                          | cases_t.case_id.isin(running.case_id)
                          | (cases_t.case_id.isin(ev.case_id) & ~cases_t.case_id.isin(stored.case_id)))


_PREPARED_IDS = 512
"""Up to this many cases, :func:`_read` binds their ids to a query compiled once (see :func:`store_io.prepared`)."""


def _of(store, ids):
    """The cases and events tables, filtered to the case ids ``ids`` (parameters)."""
    cases_t, ev = store.table("cases"), store.table("case_events")
    return cases_t.filter(cases_t.case_id.isin(ids)), ev.filter(ev.case_id.isin(ids))


def _columns(cases_t, ev):
    """What :func:`_read` reads of the cases and of their events (in order)."""
    events = ev.select("case_event_id", "case_id", "occurred_at", "kind", "level", "clock",
                       data=ibis.cases((ev.kind == "sla_breached", ev.data), else_=None))
    return cases_t.select(*_CASE_COLUMNS), events.order_by(["case_id", "occurred_at", "case_event_id"])


# -- the computation, in steps ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rows:
    """The clock rows of a batch (case position, clock number, start, stop or NONE) and the pauses of its cases
    (case position, from, to, whether the pause is a resolved → reopened gap), and which cases wait now."""

    case: np.ndarray
    clock: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    p_case: np.ndarray
    p_from: np.ndarray
    p_to: np.ndarray
    p_gap: np.ndarray
    paused_now: np.ndarray


def _ordered_events(cases: pd.DataFrame, events: pd.DataFrame, opened: np.ndarray, now_us: int):
    """The events that count — of these cases, of known kinds, between the opening and now — as (case position,
    time, kind number) arrays, each case's together and in order."""
    case_index = pd.Index(cases["case_id"])
    ec, eu = pd.factorize(events["case_id"])  # factorised first: the ids of a million cases are looked up once
    code = case_index.get_indexer(eu)[ec] if len(eu) else np.full(len(ec), -1)
    t = _micros(events["occurred_at"])
    kc, ku = pd.factorize(events["kind"])
    kind = np.array([_K.get(k, -1) for k in ku], dtype=np.int16)[kc] if len(ku) else np.full(len(kc), -1, np.int16)
    keep = (code >= 0) & (kind >= 0) & (t != NONE)
    keep[keep] &= (t[keep] <= now_us) & (t[keep] >= opened[code[keep]])
    code, t, kind = code[keep], t[keep], kind[keep]
    if not _contiguous_sorted(code, t):
        order = np.lexsort((t, code))  # stable: events at the same instant keep the caller's (id) order
        code, t, kind = code[order], t[order], kind[order]
    return code, t, kind


def _walk(cases, code, t, kind, opened, now_us, all_cycles) -> _Rows:
    """Where each clock starts and stops, and the pauses, from the ordered events (see the module's docstring)."""
    n = len(cases)
    N = len(code)
    head = np.ones(N, dtype=bool)
    head[1:] = code[1:] != code[:-1]
    heads = np.flatnonzero(head)  # where each case's events begin
    tails = np.append(heads[1:] - 1, N - 1)
    has = np.zeros(n, dtype=bool)
    has[code] = True
    last_t = np.full(n, NONE)
    last_t[code[tails]] = t[tails]

    def isin(kinds) -> np.ndarray:
        return np.isin(kind, [_K[k] for k in kinds])

    def bounds(q):  # the first and last position of the case of each position in q
        h = np.searchsorted(heads, q, side="right") - 1
        return heads[h], tails[h]

    def prev_at(mask, q):  # for positions q: the last position ≤ q of a ``mask`` event of the same case, else -1
        p = np.flatnonzero(mask)
        if not len(p) or not len(q):
            return np.full(len(q), -1)
        j = np.searchsorted(p, q, side="right") - 1
        cand = p[np.maximum(j, 0)]
        return np.where((j >= 0) & (cand >= bounds(q)[0]), cand, -1)

    def next_at(mask, q):  # for positions q: the first position ≥ q of a ``mask`` event of the same case, else N
        p = np.flatnonzero(mask)
        if not len(p) or not len(q):
            return np.full(len(q), N)
        j = np.searchsorted(p, q, side="left")
        cand = p[np.minimum(j, len(p) - 1)]
        return np.where((j < len(p)) & (cand <= bounds(q)[1]), cand, N)

    def first_per_case(at):  # per case: the first of the positions ``at`` (ascending), else N
        out = np.full(n, N)
        c, i = np.unique(code[at], return_index=True)
        out[c] = at[i]
        return out

    t_pad = np.append(t, NONE)  # t_pad[N] = NONE: "no such event"
    reopen, agent = kind == _K["reopened"], kind == _K["agent_response"]
    stops = np.flatnonzero(isin(_FINAL_STOPS))
    stop_reopen = next_at(reopen, stops)

    # -- the end of the case: the first resolved/closed after the last reopening ------------------------------
    final_pos = first_per_case(stops[stop_reopen == N])
    final_t = t_pad[final_pos]
    status = cases["status"].astype(object).to_numpy() if "status" in cases else np.full(n, None, dtype=object)
    synthetic = has & (final_t == NONE) & np.isin(status, ["closed", "resolved"])
    if synthetic.any():  # an imported case whose row says it ended without an event that does
        row_end = np.maximum(_col_micros(cases, "closed_at"), _col_micros(cases, "resolved_at"))
        end = np.where(row_end != NONE, np.minimum(row_end, now_us), last_t)
        final_t = np.where(synthetic, np.maximum(end, opened), final_t)

    # -- pauses: waiting → the next event that ends it; resolved → reopened (not for confirmation) --------------
    waits = np.flatnonzero(kind == _K["waiting"])
    w_end_pos = next_at(isin(_WAIT_ENDS), waits)
    w_open = w_end_pos == N
    paused_now = np.zeros(n, dtype=bool)
    paused_now[code[waits[w_open]]] = True
    p_case = code[waits]
    p_from = t[waits]
    p_to = np.where(w_open, now_us, t_pad[w_end_pos])
    gap_stops = stops[stop_reopen < N]
    nr, i = np.unique(stop_reopen[stop_reopen < N], return_index=True)  # the first stop before each reopening
    g_case, g_from, g_to = code[gap_stops[i]], t[gap_stops[i]], t[nr]

    # -- the clocks ------------------------------------------------------------------------------------------------
    def finish(*ends):  # the earliest of several optional stop times
        out = np.full(len(ends[0]), NONE)
        for e in ends:
            out = np.where((e != NONE) & ((out == NONE) | (e < out)), e, out)
        return out

    fr_stop = finish(t_pad[first_per_case(np.flatnonzero(agent))], final_t)
    # next_response: a message after an agent response and before the end starts a cycle; the latest cycle counts
    m = np.flatnonzero(isin(_MESSAGES))
    last_agent = prev_at(agent, m)
    ok = (last_agent >= 0) & (m < final_pos[code[m]])
    if synthetic.any():
        ok &= ~synthetic[code[m]] | (t[m] < final_t[code[m]])
    m, last_agent = m[ok], last_agent[ok]
    _, i = np.unique(last_agent, return_index=True)
    cycles = m[i]  # the first message after each answered stretch
    if not all_cycles:  # per case with a cycle: its latest
        rc = cycles[::-1]
        _, i = np.unique(code[rc], return_index=True)
        cycles = np.sort(rc[i])
    nr_case = code[cycles]
    nr_start = t[cycles]
    nr_stop = finish(t_pad[next_at(agent, cycles)], final_t[nr_case])
    res = np.flatnonzero(kind == _K["resolved"])[::-1]
    c, i = np.unique(code[res], return_index=True)
    last_res = np.full(n, -1)
    last_res[c] = res[i]  # per case: its last resolution
    cf_start = np.where(last_res >= 0, t_pad[last_res], NONE)
    ce = np.full(n, N)
    ce[c] = next_at(isin(_CONFIRMATION_ENDS), res[i])
    cf_stop = np.where(last_res >= 0, t_pad[ce], NONE)

    rows_case, rows_clock, rows_start, rows_stop = [], [], [], []
    every, resolved = np.arange(n), last_res >= 0
    for k, (case_of, start, stop) in enumerate((
            (every[has], opened[has], fr_stop[has]), (nr_case, nr_start, nr_stop),
            (every[has], opened[has], final_t[has]), (every[resolved], cf_start[resolved], cf_stop[resolved]))):
        rows_case.append(case_of)
        rows_clock.append(np.full(len(case_of), k, dtype=np.int8))
        rows_start.append(start)
        rows_stop.append(stop)
    rc_ = np.concatenate(rows_case)
    order = np.lexsort((np.concatenate(rows_start), np.concatenate(rows_clock), rc_))
    r_case = rc_[order]
    r_clock = np.concatenate(rows_clock)[order]
    r_start = np.concatenate(rows_start)[order]
    r_stop = np.concatenate(rows_stop)[order]
    r_stop = np.where(r_stop != NONE, np.maximum(r_stop, r_start), NONE)
    pc = np.concatenate([p_case, g_case])
    po = np.argsort(pc, kind="stable")
    return _Rows(r_case, r_clock, r_start, r_stop, pc[po], np.concatenate([p_from, g_from])[po],
                 np.concatenate([p_to, g_to])[po],
                 np.concatenate([np.zeros(len(p_case), bool), np.ones(len(g_case), bool)])[po], paused_now)


def _row_pauses(r: _Rows, n: int, now_us: int):
    """The pauses of each clock row (row, from, to): its case's, cut at its stop (or now); a resolved →
    reopened gap does not pause the confirmation."""
    pc, pf, pt, is_gap = r.p_case, r.p_from, r.p_to, r.p_gap
    r_case, r_clock, r_stop = r.case, r.clock, r.stop
    running = r_stop == NONE
    count = np.bincount(pc, minlength=n)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    per_row = count[r_case]
    p_row = np.repeat(np.arange(len(r_case)), per_row)
    within = np.arange(len(p_row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    src = np.repeat(first[r_case], per_row) + within
    p_from_r, p_to_r, p_gap = pf[src], pt[src], is_gap[src]
    p_end = np.where(running[p_row], now_us, r_stop[p_row])
    p_to_r = np.minimum(p_to_r, p_end)
    ok = (p_to_r > p_from_r) & ~(p_gap & (r_clock[p_row] == 3))
    p_row, p_from_r, p_to_r = p_row[ok], p_from_r[ok], p_to_r[ok]
    return p_row, p_from_r, p_to_r


def _due_times(policy, cal_names, r_cal, r_start, r_minutes, p_row, p_from_r, p_to_r):
    """Due and at-risk instants of every row: one ``due_many`` call per calendar."""
    due = np.empty(len(r_start), dtype=np.int64)
    risk = np.empty(len(r_start), dtype=np.int64)
    risk_minutes = -(-r_minutes * round(AT_RISK * 100) // 100)
    for j, name in enumerate(cal_names):
        calendar = policy.calendars.get(name)
        if calendar is None:
            raise ClockError(f"{policy.source}: calendar {name!r} is not defined (calendars: "
                             f"{', '.join(sorted(policy.calendars)) or 'none'})")
        sel = np.flatnonzero(r_cal == j)
        if not len(sel):
            continue
        local = np.full(len(r_start), -1)
        local[sel] = np.arange(len(sel))
        pm = local[p_row] >= 0
        pl = local[p_row[pm]]
        k = len(sel)
        out = due_many(calendar, np.concatenate([r_start[sel], r_start[sel]]),
                       np.concatenate([r_minutes[sel], risk_minutes[sel]]),
                       (np.concatenate([pl, pl + k]), np.tile(p_from_r[pm], 2), np.tile(p_to_r[pm], 2)))
        due[sel], risk[sel] = out[:k], out[k:]
    return due, risk


# -- helpers -------------------------------------------------------------------------------------------------------

def _targets(cases: pd.DataFrame, policy: Policy, routing: Routing | None
             ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per case: the target minutes of each clock (n × 4) and the calendar (a code into the returned names)."""
    n = len(cases)
    parts, values = [], []
    for name in ("priority", "channel", "department"):
        if name in cases:
            c, u = pd.factorize(cases[name])  # missing values: -1
            values.append([None, *map(str, u)])
            parts.append(c.astype(np.int64) + 1)
        else:
            values.append([None])
            parts.append(np.zeros(n, dtype=np.int64))
    combo = (parts[0] * len(values[1]) + parts[1]) * len(values[2]) + parts[2]
    codes, uniq = pd.factorize(combo)
    departments = routing.departments if routing is not None else {}
    mins = np.empty((len(uniq), len(CASE_CLOCKS)), dtype=np.int64)
    names: list[str] = []
    cal = np.empty(len(uniq), dtype=np.int64)
    for u, key in enumerate(uniq):
        rest, d = divmod(int(key), len(values[2]))
        p, ch = divmod(rest, len(values[1]))
        target = target_for(policy, values[0][p], values[1][ch])
        mins[u] = [target.minutes(c) for c in CASE_CLOCKS]
        dept = departments.get(values[2][d]) if d else None
        name = target.calendar or (dept.calendar if dept is not None else None) or policy.default_calendar
        if name not in names:
            names.append(name)
        cal[u] = names.index(name)
    return mins[codes], cal[codes], names


def _contiguous_sorted(code: np.ndarray, t: np.ndarray) -> bool:
    """Whether each case's events are together and in time order (then no sort is needed)."""
    if not len(code):
        return True
    change = code[1:] != code[:-1]
    if int(np.count_nonzero(np.bincount(code))) != int(change.sum()) + 1:
        return False
    return bool(np.all(change | (t[1:] >= t[:-1])))


def _micros(values) -> np.ndarray:
    s = pd.to_datetime(pd.Series(values), utc=False)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    out = s.to_numpy(dtype="datetime64[us]").astype(np.int64)
    out[s.isna().to_numpy()] = NONE
    return out


def _col_micros(frame: pd.DataFrame, name: str) -> np.ndarray:
    return _micros(frame[name]) if name in frame else np.full(len(frame), NONE)


def _naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def _micros_scalar(t: dt.datetime) -> int:
    return (_naive(t) - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)


def _stamps(us: np.ndarray) -> pd.Series:
    out = pd.Series(np.where(us == NONE, 0, us).astype("datetime64[us]"))
    out[us == NONE] = pd.NaT
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c.endswith("_at") else object)
                         for c in CLOCK_COLUMNS}).astype({"target_minutes": "int64"})
