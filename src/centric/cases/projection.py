"""The ``cases`` row from the case's events: state is kept as events, the row is their projection.

The workflow updates the row as it appends each event; :func:`project` derives it from a whole event log
at once — for an event log replayed in bulk (a helpdesk's history, the demo's service team) and to check
that the rows agree with the events.

Rules, event by event in time order:

- ``opened``: status new, the department of the event; ``assigned``: the owner (``target``), status
  assigned when it was new or open; ``transferred``: the department of the event, the owner ``target``
  (none: the new department's queue, status new; else assigned), one more transfer;
- ``started``, ``agent_response`` (when new, open or assigned): in progress; ``waiting``: waiting;
  ``customer_contact`` or ``signal`` while waiting: in progress;
- ``resolved``: resolved (``resolved_at``); ``reopened``: in progress, one more reopening, no close time;
  ``closed``: closed (``closed_at``) with the root cause, sub-cause, note and action of its data;
- ``escalated``: the level (the highest so far) and target. Other events change nothing in the row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .store_io import parse_json

__all__ = ["COLUMNS", "project"]

COLUMNS = ["case_id", "status", "owner", "department", "transfers", "reopen_count", "resolved_at", "closed_at",
           "root_cause", "root_sub_cause", "root_cause_note", "action_taken", "escalation_level", "escalated_to",
           "updated_at"]


def project(events: pd.DataFrame) -> pd.DataFrame:
    """One row per case of ``events`` (columns of ``case_events``) with the projected columns."""
    if not len(events):
        return pd.DataFrame(columns=COLUMNS)
    ev = events.sort_values(["case_id", "occurred_at", "case_event_id"] if "case_event_id" in events.columns
                            else ["case_id", "occurred_at"], kind="stable")
    cols = {c: ev[c].to_numpy() if c in ev.columns else np.full(len(ev), None, dtype=object)
            for c in ("case_id", "kind", "occurred_at", "department", "target", "level", "data")}
    out: list[list] = []
    row: list | None = None
    current = None
    for i in range(len(ev)):
        cid = cols["case_id"][i]
        if cid != current:
            if row is not None:
                out.append(row)
            current = cid
            row = [cid, "new", None, None, 0, 0, None, None, None, None, None, None, 0, None, None]
        kind, at, dept = cols["kind"][i], cols["occurred_at"][i], cols["department"][i]
        status = row[1]
        if kind == "opened":
            row[1] = "new"
            row[3] = dept if _given(dept) else row[3]
        elif kind == "assigned":
            row[2] = cols["target"][i] if _given(cols["target"][i]) else None
            if status in ("new", "open"):
                row[1] = "assigned"
        elif kind == "transferred":
            row[3] = dept if _given(dept) else row[3]
            row[2] = cols["target"][i] if _given(cols["target"][i]) else None
            row[4] += 1
            row[1] = "assigned" if row[2] else "new"  # in the new department's hands, or its queue
        elif kind == "started" or (kind == "agent_response" and status in ("new", "open", "assigned")):
            row[1] = "in_progress"
        elif kind == "waiting":
            row[1] = "waiting"
        elif kind in ("customer_contact", "signal") and status == "waiting":
            row[1] = "in_progress"
        elif kind == "resolved":
            row[1], row[6] = "resolved", at
        elif kind == "reopened":
            row[1], row[7] = "in_progress", None
            row[5] += 1
        elif kind == "closed":
            row[1], row[7] = "closed", at
            d = _data(cols["data"][i])
            row[8], row[9], row[10], row[11] = (d.get("root_cause"), d.get("sub_cause"), d.get("note"),
                                                d.get("action"))
        elif kind == "escalated":
            lvl = cols["level"][i]
            if _given(lvl) and int(lvl) >= row[12]:
                row[12], row[13] = int(lvl), cols["target"][i] if _given(cols["target"][i]) else None
        row[14] = at
    out.append(row)
    df = pd.DataFrame(out, columns=COLUMNS)
    for c in ("resolved_at", "closed_at", "updated_at"):
        df[c] = pd.to_datetime(df[c])
    for c in ("transfers", "reopen_count", "escalation_level"):
        df[c] = df[c].astype("int64")
    return df


def _given(v) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NA and v is not pd.NaT


def _data(v) -> dict:
    d = parse_json(v) if isinstance(v, str) else v
    return d if isinstance(d, dict) else {}
