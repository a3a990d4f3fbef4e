"""The council's meetings: agenda items (each the change the council is consulted on), attendance, minutes,
decisions on agenda items and the action tracker (what, owner, due date, status; overdue when open past its due
day).

>>> from centric import Store
>>> s = Store.open(":memory:")
>>> mt = add_meeting(s, "Delivery", "2026-03-10", "lead@example.com", agenda=["Two-hour delivery slots"])
>>> d = add_decision(s, mt, 1, "Pilot the slots in Kraków", "lead@example.com")
>>> a = add_action(s, mt, "Brief the couriers", "ops@example.com", "2026-04-01", "lead@example.com", decision_id=d)
>>> actions(s, as_of=dt.date(2026, 4, 2)).to_frame()[["action_id", "status", "overdue"]]
  action_id status  overdue
0    AC0001   open     True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..errors import CentricError
from ..schema import COUNCIL_ACTION_STATUSES, COUNCIL_ATTENDANCE
from ..store import Store
from .roster import MAX_SHORT, MAX_TEXT, as_date, clean, next_id, now, today

OPEN = ("open", "in_progress")
MAX_MINUTES = 20_000


def _meeting_row(store: Store, meeting_id: str) -> dict:
    row = store.execute("SELECT meeting_id, title, held_on, place, minutes FROM council_meetings "
                        "WHERE meeting_id = ?", [str(meeting_id).strip()]).fetchone()
    if row is None:
        raise CentricError(f"meeting: there is no council meeting {meeting_id!r}")
    return dict(zip(("meeting_id", "title", "held_on", "place", "minutes"), row, strict=True))


def _agenda_item(title: str | tuple | dict) -> tuple[str, str | None, str | None]:
    if isinstance(title, dict):
        return (clean(title.get("title"), "agenda item", required=True) or "",
                clean(title.get("change"), "change", MAX_TEXT), clean(title.get("factor"), "factor", 80))
    if isinstance(title, tuple):
        t, change, factor = (*title, None, None)[:3]
        return (clean(t, "agenda item", required=True) or "", clean(change, "change", MAX_TEXT),
                clean(factor, "factor", 80))
    return clean(title, "agenda item", required=True) or "", None, None


def add_meeting(store: Store, title: str, held_on: dt.date | str, by: str, place: str | None = None,
                agenda: Iterable[str | tuple | dict] = ()) -> str:
    """Plan (or record) a meeting on ``held_on`` with its agenda: titles, (title, change, factor) tuples or dicts
    with those keys; its id."""
    title = clean(title, "title", required=True) or ""
    day = as_date(held_on, "held on")
    if day is None:
        raise CentricError("held on: give the meeting's day")
    items = [_agenda_item(a) for a in agenda]
    with store.transaction():
        mid = next_id(store, "council_meetings", "meeting_id", "MT")
        store.execute("INSERT INTO council_meetings (meeting_id, title, held_on, place, created_by, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", [mid, title, day, clean(place, "place"), by, now()])
        for n, (t, change, factor) in enumerate(items, start=1):
            store.execute("INSERT INTO council_agenda VALUES (?, ?, ?, ?, ?)", [mid, n, t, change, factor])
    return mid


def add_agenda_item(store: Store, meeting_id: str, title: str, change: str | None = None,
                    factor: str | None = None) -> int:
    """Append an item to a meeting's agenda; its number."""
    m = _meeting_row(store, meeting_id)
    t, change, factor = _agenda_item((title, change, factor))
    with store.transaction():
        n = store.execute("SELECT coalesce(max(item), 0) + 1 FROM council_agenda WHERE meeting_id = ?",
                          [m["meeting_id"]]).fetchall()[0][0]
        store.execute("INSERT INTO council_agenda VALUES (?, ?, ?, ?, ?)", [m["meeting_id"], n, t, change, factor])
    return int(n)


def set_minutes(store: Store, meeting_id: str, minutes: str | None, by: str) -> None:
    m = _meeting_row(store, meeting_id)
    with store.transaction():
        store.execute("UPDATE council_meetings SET minutes = ?, updated_at = ? WHERE meeting_id = ?",
                      [clean(minutes, "minutes", MAX_MINUTES, lines=True), now(), m["meeting_id"]])
    del by


def set_attendance(store: Store, meeting_id: str, member_id: str, status: str, note: str | None = None) -> None:
    """Record whether a member was present, absent or excused (a second call replaces the first). The member must
    have been on the council on the meeting's day."""
    m = _meeting_row(store, meeting_id)
    if status not in COUNCIL_ATTENDANCE:
        raise CentricError(f"attendance: {status!r} is not one of {', '.join(COUNCIL_ATTENDANCE)}")
    row = store.execute("SELECT joined_on, left_on, customer_id FROM council_members WHERE member_id = ?",
                        [str(member_id).strip()]).fetchone()
    if row is None:
        raise CentricError(f"member: there is no council membership {member_id!r}")
    joined, left, cid = row
    if joined > m["held_on"] or (left is not None and left < m["held_on"]):
        raise CentricError(f"member: {member_id} was not on the council on {m['held_on']}")
    note = clean(note, "note", MAX_SHORT)
    if note and cid is None:
        raise CentricError(f"member: {member_id}'s data was erased; no note can be added")
    with store.transaction():
        store.execute("DELETE FROM council_attendance WHERE meeting_id = ? AND member_id = ?",
                      [m["meeting_id"], member_id])
        store.execute("INSERT INTO council_attendance VALUES (?, ?, ?, ?)", [m["meeting_id"], member_id, status, note])


def add_decision(store: Store, meeting_id: str, item: int | str | None, text: str, by: str) -> str:
    """Record a decision on agenda item ``item`` (None: on the meeting as a whole); its id."""
    m = _meeting_row(store, meeting_id)
    text = clean(text, "decision", MAX_TEXT, required=True, lines=True) or ""
    n = _item(store, m["meeting_id"], item)
    with store.transaction():
        did = next_id(store, "council_decisions", "decision_id", "DC")
        store.execute("INSERT INTO council_decisions VALUES (?, ?, ?, ?, ?, ?)", [did, m["meeting_id"], n, text, by, now()])
    return did


def _item(store: Store, meeting_id: str, item: int | str | None) -> int | None:
    if item in (None, ""):
        return None
    try:
        n = int(str(item).strip())
    except ValueError:
        raise CentricError(f"item: {item!r} is not an agenda item number") from None
    if not store.execute("SELECT 1 FROM council_agenda WHERE meeting_id = ? AND item = ?", [meeting_id, n]).fetchone():
        raise CentricError(f"item: meeting {meeting_id} has no agenda item {n}")
    return n


def add_action(store: Store, meeting_id: str, what: str, owner: str, due_on: dt.date | str, by: str,
               decision_id: str | None = None, owners: Sequence[str] | None = None) -> str:
    """Add an action to the tracker: ``what`` is to be done by ``owner`` (a user's e-mail; with ``owners``, it
    must be one of them) by ``due_on``; it may carry out a decision of the same meeting. Its id."""
    m = _meeting_row(store, meeting_id)
    what = clean(what, "what", MAX_TEXT, required=True, lines=True) or ""
    owner = (clean(owner, "owner", required=True) or "").lower()
    if owners is not None and owner not in {o.lower() for o in owners}:
        raise CentricError(f"owner: {owner!r} is not a user of the web app")
    due = as_date(due_on, "due")
    if due is None:
        raise CentricError("due: give the day it is due")
    decision_id = clean(decision_id, "decision")
    if decision_id and not store.execute("SELECT 1 FROM council_decisions WHERE decision_id = ? AND meeting_id = ?",
                                         [decision_id, m["meeting_id"]]).fetchone():
        raise CentricError(f"decision: meeting {m['meeting_id']} has no decision {decision_id!r}")
    with store.transaction():
        aid = next_id(store, "council_actions", "action_id", "AC")
        store.execute("INSERT INTO council_actions (action_id, meeting_id, decision_id, what, owner, due_on, status, "
                      "updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
                      [aid, m["meeting_id"], decision_id, what, owner, due, by, now()])
    return aid


def get_action(store: Store, action_id: str) -> dict | None:
    row = store.execute("SELECT action_id, meeting_id, what, owner, due_on, status FROM council_actions "
                        "WHERE action_id = ?", [str(action_id).strip()]).fetchone()
    return None if row is None else dict(zip(("action_id", "meeting_id", "what", "owner", "due_on", "status"), row,
                                             strict=True))


def set_action(store: Store, action_id: str, status: str, by: str, on: dt.date | str | None = None) -> None:
    """Move an action to ``status`` (open, in_progress, done, dropped); done and dropped record the day (``on``,
    today)."""
    if status not in COUNCIL_ACTION_STATUSES:
        raise CentricError(f"status: {status!r} is not one of {', '.join(COUNCIL_ACTION_STATUSES)}")
    aid = str(action_id).strip()
    if get_action(store, aid) is None:
        raise CentricError(f"action: there is no council action {action_id!r}")
    day = (as_date(on, "on") or today()) if status not in OPEN else None
    with store.transaction():
        store.execute("UPDATE council_actions SET status = ?, done_on = ?, updated_by = ?, updated_at = ? "
                      "WHERE action_id = ?", [status, day, by, now(), aid])


@dataclass(frozen=True)
class Actions:
    """The action tracker as of a day: every action with its meeting, decision and ``overdue`` (open or in
    progress past its due day)."""

    table: pd.DataFrame
    as_of: dt.date

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def counts(self) -> dict[str, int]:
        t = self.table
        out = {s: int((t["status"] == s).sum()) for s in COUNCIL_ACTION_STATUSES}
        out["overdue"] = int(t["overdue"].sum()) if len(t) else 0
        return out


ACTION_COLUMNS = ("action_id", "meeting_id", "meeting", "held_on", "decision_id", "decision", "what", "owner",
                  "due_on", "status", "done_on", "overdue", "days_overdue")


def actions(store: Store, as_of: dt.date | None = None, status: str | None = None, owner: str | None = None,
            overdue: bool = False, meeting_id: str | None = None) -> Actions:
    """The tracker (open ones first, by due day), optionally only one status, owner, meeting, or the overdue."""
    as_of = as_of or today()
    if status is not None and status not in COUNCIL_ACTION_STATUSES:
        raise CentricError(f"status: {status!r} is not one of {', '.join(COUNCIL_ACTION_STATUSES)}")
    a = store.table("council_actions")
    mt = store.table("council_meetings").select("meeting_id", meeting="title", held_on="held_on")
    d = store.table("council_decisions").select("decision_id", decision="text")
    if status:
        a = a.filter(a.status == status)
    if owner:
        a = a.filter(a.owner == owner.strip().lower())
    if meeting_id:
        a = a.filter(a.meeting_id == meeting_id)
    q = a.left_join(mt, "meeting_id").left_join(d, "decision_id")
    t = q.select("action_id", "meeting_id", "meeting", "held_on", "decision_id", "decision", "what", "owner",
                 "due_on", "status", "done_on").execute()
    for col in ("held_on", "due_on", "done_on"):
        t[col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in t[col]]
    t["overdue"] = [s in OPEN and due < as_of for s, due in zip(t["status"], t["due_on"], strict=True)]
    t["days_overdue"] = [(as_of - due).days if o else 0 for o, due in zip(t["overdue"], t["due_on"], strict=True)]
    if overdue:
        t = t[t["overdue"]]
    t["_rank"] = [0 if s in OPEN else 1 for s in t["status"]]
    t = t.sort_values(["_rank", "due_on", "action_id"]).drop(columns="_rank")
    return Actions(t[list(ACTION_COLUMNS)].reset_index(drop=True), as_of)


@dataclass(frozen=True)
class Meeting:
    """One meeting: agenda, attendance (every member on the council that day, ``not recorded`` when nobody
    said), decisions and actions."""

    meeting_id: str
    title: str
    held_on: dt.date
    place: str | None
    minutes: str | None
    agenda: pd.DataFrame
    attendance: pd.DataFrame
    decisions: pd.DataFrame
    actions: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def held(self, as_of: dt.date | None = None) -> bool:
        return self.held_on <= (as_of or today())


def get_meeting(store: Store, meeting_id: str, as_of: dt.date | None = None) -> Meeting:
    m = _meeting_row(store, meeting_id)
    mid, day = m["meeting_id"], m["held_on"]
    agenda = pd.DataFrame(store.execute("SELECT item, title, change, factor FROM council_agenda WHERE meeting_id = ? "
                                        "ORDER BY item", [mid]).fetchall(), columns=["item", "title", "change", "factor"])
    att = pd.DataFrame(store.execute(
        """SELECT mb.member_id, mb.customer_id, c.name, c.segment, coalesce(a.status, 'not recorded') AS status, a.note
           FROM council_members mb
           LEFT JOIN council_attendance a ON a.member_id = mb.member_id AND a.meeting_id = ?
           LEFT JOIN customers c ON c.customer_id = mb.customer_id
           WHERE (mb.joined_on <= ? AND (mb.left_on IS NULL OR mb.left_on >= ?)) OR a.status IS NOT NULL
           ORDER BY mb.member_id""", [mid, day, day]).fetchall(),
        columns=["member_id", "customer_id", "name", "segment", "status", "note"])
    decisions = pd.DataFrame(store.execute("SELECT decision_id, item, text FROM council_decisions WHERE meeting_id = ? "
                                           "ORDER BY decision_id", [mid]).fetchall(), columns=["decision_id", "item", "text"])
    acts = actions(store, as_of, meeting_id=mid).table
    counts = {s: int((att["status"] == s).sum()) for s in (*COUNCIL_ATTENDANCE, "not recorded")}
    return Meeting(mid, m["title"], day, m["place"], m["minutes"], agenda, att, decisions, acts, counts)


def meetings(store: Store, as_of: dt.date | None = None) -> pd.DataFrame:
    """Every meeting (latest first) with its agenda items, attendance counts, decisions and actions (open, done)."""
    as_of = as_of or today()
    mt = store.table("council_meetings").execute()
    if mt.empty:
        return pd.DataFrame(columns=["meeting_id", "title", "held_on", "place", "held", "items", "present", "absent",
                                     "excused", "decisions", "actions", "actions_open"])

    def per(sql: str) -> dict:
        return {k: int(v) for k, v in store.execute(sql).fetchall()}

    items = per("SELECT meeting_id, count(*) FROM council_agenda GROUP BY meeting_id")
    dec = per("SELECT meeting_id, count(*) FROM council_decisions GROUP BY meeting_id")
    act = per("SELECT meeting_id, count(*) FROM council_actions GROUP BY meeting_id")
    act_open = per("SELECT meeting_id, count(*) FROM council_actions WHERE status IN ('open', 'in_progress') "
                   "GROUP BY meeting_id")
    att = {s: per(f"SELECT meeting_id, count(*) FROM council_attendance WHERE status = '{s}' GROUP BY meeting_id")
           for s in COUNCIL_ATTENDANCE}
    rows = []
    for r in mt.sort_values(["held_on", "meeting_id"], ascending=False).itertuples(index=False):
        day = pd.Timestamp(r.held_on).date()
        rows.append({"meeting_id": r.meeting_id, "title": r.title, "held_on": day, "place": r.place,
                     "held": day <= as_of, "items": items.get(r.meeting_id, 0),
                     **{s: att[s].get(r.meeting_id, 0) for s in COUNCIL_ATTENDANCE},
                     "decisions": dec.get(r.meeting_id, 0), "actions": act.get(r.meeting_id, 0),
                     "actions_open": act_open.get(r.meeting_id, 0)})
    return pd.DataFrame(rows)
