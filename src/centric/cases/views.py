"""Cases as JSON objects: what ``centric cases list/show --json`` print and the web app's API serves.

Keep these objects stable (docs/cases.md, "Case objects (JSON)"): fields are added, never renamed or
dropped. Times are ISO-8601 UTC strings (``2026-10-31T09:15:00Z``); a missing value is ``null``.

>>> cases = list_cases(store, status="assigned", overdue=True)  # doctest: +SKIP
>>> cases[0]["due"]["first_response"]  # doctest: +SKIP
'2026-10-30T14:00:00Z'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..errors import CaseError
from ..store import Store
from . import store_io
from .model import CASE_CLOCKS, PRIORITY_RANK

__all__ = ["CLOCK_SEVERITY", "case_json", "list_cases", "show_case", "worst_clock"]

HAND_TO_HAND = 1
"""A case transferred more times than this is flagged as passed from hand to hand."""

CLOCK_SEVERITY = {"breached": 4, "at_risk": 3, "on_track": 2, "paused": 1, "met": 0}
"""How bad a clock's state is, for showing a case's worst clock."""


def case_json(case: dict[str, Any], clocks: Iterable[dict[str, Any]] = (),
              signals: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """The object of one case from its ``cases`` row, its ``case_clocks`` rows and its ``case_signals``
    rows (the case's own imported feedback_id/response_id are added to the signals)."""
    case = {k: _value(v) for k, v in case.items()}
    by_clock = {c["clock"]: {k: _value(v) for k, v in c.items()} for c in clocks}
    sigs = [{"table": s["source_table"], "id": s["signal_id"], "kind": _value(s.get("kind")),
             "at": _iso(_value(s.get("signal_at")))} for s in signals]
    seen = {(s["table"], s["id"]) for s in sigs}
    for table, col in (("feedback", "feedback_id"), ("responses", "response_id")):
        if case.get(col) is not None and (table, case[col]) not in seen:
            sigs.insert(0, {"table": table, "id": case[col], "kind": None, "at": None})
    transfers = int(case.get("transfers") or 0)
    return {
        "id": case["case_id"],
        "customer_id": case.get("customer_id"),
        "author": case.get("author"),
        "department": case.get("department"),
        "owner": case.get("owner"),
        "status": case.get("status") or "open",
        "priority": case.get("priority"),
        "factor": case.get("type"),
        "origin": case.get("origin") or "import",  # the loop always sets it: a case without one was imported
        "channel": case.get("channel"),
        "country": case.get("country"),
        "store": case.get("store"),
        "language": case.get("language"),
        "opened_at": _iso(case.get("opened_at")),
        "updated_at": _iso(case.get("updated_at")),
        "resolved_at": _iso(case.get("resolved_at")),
        "closed_at": _iso(case.get("closed_at")),
        "due": {c: _iso(by_clock[c]["due_at"]) if c in by_clock else None for c in CASE_CLOCKS},
        "clock_states": {c: by_clock[c]["state"] if c in by_clock else None for c in CASE_CLOCKS},
        "escalation_level": int(case.get("escalation_level") or 0),
        "escalated_to": case.get("escalated_to"),
        "transfers": transfers,
        "passed_hand_to_hand": transfers > HAND_TO_HAND,
        "reopen_count": int(case.get("reopen_count") or 0),
        "linked_case_id": case.get("linked_case_id"),
        "signals": sigs,
    }


def list_cases(store: Store, status: str | Iterable[str] | None = None, department: str | None = None,
               owner: str | None = None, overdue: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """Case objects, the most urgent first (priority, then the oldest): filtered by status (one or several),
    department, owner, and ``overdue`` — a running clock (not stopped) whose stored state is breached."""
    t = store.table("cases")
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        cond = t.status.isin(wanted)
        t = t.filter(cond | t.status.isnull() if "open" in wanted else cond)  # imported without a status: open
    if department is not None:
        t = t.filter(t.department == department)
    if owner is not None:
        t = t.filter(t.owner == owner)
    if overdue:
        c = store.table("case_clocks")
        late = c.filter((c.state == "breached") & c.stopped_at.isnull()).select("case_id").distinct()
        t = t.filter(t.case_id.isin(late.case_id))
    rank = t.priority.cases(*((p, r) for p, r in PRIORITY_RANK.items()), else_=PRIORITY_RANK["normal"])
    t = t.mutate(_rank=rank)
    t = t.order_by([t["_rank"].desc(), t.opened_at.asc(), t.case_id.asc()])
    if limit is not None:
        t = t.limit(int(limit))
    t = t.drop("_rank")
    return _objects(store, t.execute(), t.case_id)


def show_case(store: Store, case_id: str) -> dict[str, Any]:
    """One case's object with its clocks in full, root cause, action taken, summary and events (oldest
    first). CaseError when there is no such case."""
    cases = store_io.load_cases(store, [case_id])
    if not len(cases):
        raise CaseError(f"there is no case {case_id!r}")
    obj = _objects(store, cases, [case_id])[0]
    row = {k: _value(v) for k, v in cases.iloc[0].to_dict().items()}
    clocks = store.table("case_clocks")
    clocks = clocks.filter(clocks.case_id == case_id).execute()
    obj["clocks"] = {r["clock"]: {k: (_iso(v) if k.endswith("_at") else v) for k, v in r.items()
                                  if k not in ("case_id", "clock")}
                     for r in _records(clocks)}
    obj["root_cause"] = {"cause": row.get("root_cause"), "sub_cause": row.get("root_sub_cause"),
                         "note": row.get("root_cause_note")}
    obj["action"] = row.get("action_taken")
    obj["summary"] = row.get("summary")
    events = store_io.load_events(store, [case_id])
    obj["events"] = [{"id": e["case_event_id"], "at": _iso(e["occurred_at"]), "kind": e["kind"],
                      "actor": e["actor"], "department": e["department"], "target": e["target"],
                      "note": e["note"], "level": e["level"], "clock": e["clock"], "data": _data(e["data"])}
                     for e in _records(events)]
    return obj


def worst_clock(obj: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(clock, state, due) of a case object's worst clock, for a one-line view; Nones without clocks."""
    states = {c: s for c, s in obj["clock_states"].items() if s is not None}
    if not states:
        return None, None, None
    clock = max(states, key=lambda c: (CLOCK_SEVERITY.get(states[c], 0), -CASE_CLOCKS.index(c)))
    return clock, states[clock], obj["due"][clock]


def _objects(store: Store, cases: pd.DataFrame, ids) -> list[dict[str, Any]]:
    """Case objects of the ``cases`` rows; ``ids``: their ids, as a list or as the column of the query that
    chose them (so the clocks and signals are read with one join, not a list of every id)."""
    if not len(cases):
        return []
    c = store.table("case_clocks")
    clocks = c.filter(c.case_id.isin(ids)).execute()
    s = store.table("case_signals")
    signals = s.filter(s.case_id.isin(ids)).order_by([s.signal_at, s.source_table, s.signal_id]).execute()
    clocks_of: dict[str, list] = {}
    for r in _records(clocks):
        clocks_of.setdefault(r["case_id"], []).append(r)
    signals_of: dict[str, list] = {}
    for r in _records(signals):
        signals_of.setdefault(r["case_id"], []).append(r)
    return [case_json(r, clocks_of.get(r["case_id"], ()), signals_of.get(r["case_id"], ()))
            for r in _records(cases)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _value(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _value(v: Any) -> Any:
    """A plain Python value: None for every kind of missing; ints and floats as Python's."""
    if v is None:
        return None
    if isinstance(v, (list, dict, tuple)):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return v
    if hasattr(v, "item") and not isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.item()
    return v


def _iso(v: Any) -> str | None:
    v = _value(v)
    if v is None:
        return None
    t = pd.Timestamp(v)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return t.to_pydatetime().isoformat(timespec="seconds") + "Z"


def _data(v: Any) -> Any:
    return store_io.parse_json(_value(v))
