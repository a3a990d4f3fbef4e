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
import json
from dataclasses import dataclass, field

import pandas as pd

from ..store import Store
from . import store_io
from .clocks import _naive, _refresh, latest_cycles
from .model import Policy, Routing

__all__ = ["TickResult", "escalations", "tick"]

EVENT_COLUMNS = ("case_id", "occurred_at", "kind", "actor", "department", "target", "level", "clock", "note", "data")
ACTOR = "system"
_DONE = ("resolved", "closed")


@dataclass(frozen=True)
class TickResult:
    """What one :func:`tick` did: clocks recomputed, breaches recorded, escalations per level (1-based)."""

    now: dt.datetime
    clocks: int
    breaches: int
    escalations: dict[int, int] = field(default_factory=dict)

    @property
    def escalated(self) -> int:
        return sum(self.escalations.values())


def escalations(cases: pd.DataFrame, clocks: pd.DataFrame, events: pd.DataFrame, policy: Policy,
                routing: Routing | None, now: dt.datetime) -> pd.DataFrame:
    """The ``sla_breached`` and ``escalated`` events to record now (columns of ``case_events`` without the id),
    breaches first. Pure; see the module's docstring."""
    now = pd.Timestamp(_naive(now))
    out = [_breaches(clocks, events, now)]
    out.append(_escalated(cases, clocks, events, policy, routing, now))
    frame = pd.concat([f for f in out if len(f)], ignore_index=True) if any(len(f) for f in out) else None
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "occurred_at" else object)
                             for c in EVENT_COLUMNS})
    frame["level"] = frame["level"].astype("Int64")
    return frame[list(EVENT_COLUMNS)]


def tick(store: Store, now: dt.datetime | None = None, routing: Routing | None = None,
         policy: Policy | None = None) -> TickResult:
    """Refresh the clocks of the open cases (and of every case with a clock still running), record new
    breaches and escalations as events, and set the cases' ``escalation_level``, ``escalated_to`` and
    ``updated_at`` — all in one transaction. Idempotent: a second tick at the same ``now`` records nothing."""
    now = store_io.utcnow() if now is None else _naive(now)
    with store.transaction() as con:
        cases, events, clocks, routing, policy = _refresh(store, con, None, now, routing, policy)
        new = escalations(cases, clocks, events, policy, routing, now)
        store_io.append_events(con, new)
        if len(new):
            store_io.update_cases(con, _projection(cases, new, now))
    levels = new.loc[new["kind"] == "escalated", "level"].value_counts() if len(new) else pd.Series(dtype=int)
    return TickResult(now=now, clocks=len(latest_cycles(clocks)), breaches=int((new["kind"] == "sla_breached").sum()),
                      escalations={int(k): int(v) for k, v in sorted(levels.items())})


def _projection(cases: pd.DataFrame, new: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """The cases' new escalation level, target and update time after ``new`` events."""
    old = cases.drop_duplicates("case_id").set_index(cases["case_id"].drop_duplicates().astype(str))
    last = new[new["kind"] == "escalated"].sort_values(["case_id", "level"]).drop_duplicates("case_id", keep="last")
    esc = dict(zip(last["case_id"], zip(last["level"], last["target"], strict=True), strict=True))
    rows = []
    for case_id in pd.unique(new["case_id"]):
        level, target = esc.get(case_id) or (old.at[case_id, "escalation_level"], old.at[case_id, "escalated_to"])
        rows.append({"case_id": case_id, "escalation_level": None if pd.isna(level) else int(level),
                     "escalated_to": None if target is None or pd.isna(target) else str(target), "updated_at": now})
    out = pd.DataFrame(rows)
    out["escalation_level"] = out["escalation_level"].astype("Int64")
    out["escalated_to"] = out["escalated_to"].astype(object)
    return out


# -- the two kinds of event ---------------------------------------------------------------------------------------

def _breaches(clocks: pd.DataFrame, events: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    if clocks is None or not len(clocks):
        return pd.DataFrame()
    stopped = clocks["stopped_at"].notna()
    late = (stopped & (clocks["stopped_at"] > clocks["due_at"])) | (~stopped & (clocks["due_at"] <= now))
    b = clocks[late]
    if not len(b):
        return pd.DataFrame()
    key = b["case_id"].astype(str) + "|" + b["clock"].astype(str) + "|" + b["started_at"].map(_iso)
    done = _recorded_breaches(events)
    b = b[~key.isin(done).to_numpy()]
    if not len(b):
        return pd.DataFrame()
    return pd.DataFrame({
        "case_id": b["case_id"].astype(str).to_numpy(),
        "occurred_at": b["due_at"].to_numpy(),
        "kind": "sla_breached",
        "actor": ACTOR,
        "department": None,
        "target": None,
        "level": None,
        "clock": b["clock"].astype(str).to_numpy(),
        "note": None,
        "data": [{"started_at": _iso(s), "due_at": _iso(d), "target_minutes": int(m), "calendar": str(c)}
                 for s, d, m, c in zip(b["started_at"], b["due_at"], b["target_minutes"], b["calendar"],
                                       strict=True)],
    })


def _recorded_breaches(events: pd.DataFrame) -> set[str]:
    if events is None or not len(events):
        return set()
    e = events[events["kind"] == "sla_breached"]
    out = set()
    if not len(e) or "clock" not in e or "data" not in e:
        return out
    for case_id, clock, data in zip(e["case_id"], e["clock"], e["data"], strict=True):
        started = _data(data).get("started_at")
        if started:
            out.add(f"{case_id}|{clock}|{_iso(started)}")
    return out


def _escalated(cases: pd.DataFrame, clocks: pd.DataFrame, events: pd.DataFrame, policy: Policy,
               routing: Routing | None, now: pd.Timestamp) -> pd.DataFrame:
    if clocks is None or not len(clocks) or not policy.escalation:
        return pd.DataFrame()
    over = clocks[clocks["stopped_at"].isna() & (clocks["state"].astype(str) == "breached")]
    if not len(over):
        return pd.DataFrame()
    over = over.sort_values("due_at", kind="stable").drop_duplicates("case_id")  # the most overdue clock
    info = cases.drop_duplicates("case_id").set_index(cases["case_id"].drop_duplicates().astype(str))
    status = info["status"].reindex(over["case_id"].astype(str)).to_numpy() if "status" in info else None
    if status is not None:
        over = over[~pd.Series(status).isin(_DONE).to_numpy()]
    applied = _applied_levels(info, events)
    departments = routing.departments if routing is not None else {}
    rows = []
    for case_id, clock, due in zip(over["case_id"].astype(str), over["clock"].astype(str), over["due_at"],
                                   strict=True):
        row = info.loc[case_id]
        priority = _value(row.get("priority"))
        levels = policy.escalation.get(priority) or policy.escalation.get(None) or ()
        late = (now - pd.Timestamp(due)) / pd.Timedelta(minutes=1)
        dept_name = _value(row.get("department"))
        dept = departments.get(dept_name) if dept_name else None
        for number in range(applied.get(case_id, 0) + 1, len(levels) + 1):
            level = levels[number - 1]
            if late < level.after_minutes:
                break  # levels are applied in order
            target, why = level.to, ""
            if level.to in ("lead", "manager"):
                target = getattr(dept, level.to) if dept is not None else None
                if not target:
                    why = (f"; department {dept_name} has no {level.to} in the routing table" if dept_name
                           else f"; the case has no department, so no {level.to}")
            rows.append({
                "case_id": case_id, "occurred_at": now, "kind": "escalated", "actor": ACTOR,
                "department": dept_name, "target": target or None, "level": number, "clock": clock,
                "note": f"level {number}: {clock} {_minutes(late)} past due, to {target or level.to}{why}",
                "data": {"clock": clock, "due_at": _iso(due), "late_minutes": int(late),
                         "after_minutes": level.after_minutes, "to": level.to},
            })
    return pd.DataFrame(rows)


def _applied_levels(info: pd.DataFrame, events: pd.DataFrame) -> dict[str, int]:
    """Per case, the highest escalation level already applied (its row or its ``escalated`` events)."""
    out: dict[str, int] = {}
    if "escalation_level" in info:
        lv = pd.to_numeric(info["escalation_level"], errors="coerce").fillna(0).astype(int)
        out.update({k: int(v) for k, v in lv.items() if v > 0})
    if events is not None and len(events) and "level" in events:
        e = events[(events["kind"] == "escalated") & events["level"].notna()]
        for case_id, v in e.groupby(e["case_id"].astype(str))["level"].max().items():
            out[case_id] = max(out.get(case_id, 0), int(v))
    return out


# -- small helpers ----------------------------------------------------------------------------------------------

def _iso(t) -> str:
    return pd.Timestamp(t).isoformat()


def _data(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _value(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _minutes(m: float) -> str:
    m = int(m)
    if m < 120:
        return f"{m} min"
    if m < 2 * 1440:
        return f"{m // 60} h {m % 60:02d} min"
    return f"{m // 1440} d {m % 1440 // 60} h"

