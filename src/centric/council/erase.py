"""What ``centric customers forget`` does to the council (``erase``, called inside its transaction).

Personal, and removed: the link to the customer (``customer_id``) of every membership and consent, the member's
notes, their attendance notes, the consents' evidence (a signed form's reference names the person), and their full
name or e-mail address where the minutes, agenda, decisions or actions mention them (replaced by ``[erased]``).

Kept, no longer personal once nobody can be linked to it: that a membership existed, with its role, the days it
began and ended (ended on the erasure's day if it had not) and why (``erased``); that consents existed, for what
and when they were given and withdrawn (withdrawn on the erasure's day if they had not been); attendance as
present, absent or excused. The council's history — how many took part, how often, what was decided — stays true.
"""

from __future__ import annotations

import datetime as dt
import re

ERASED = "[erased]"
TEXTS = (("council_meetings", "meeting_id", "minutes"), ("council_meetings", "meeting_id", "title"),
         ("council_agenda", "meeting_id, item", "title"), ("council_agenda", "meeting_id, item", "change"),
         ("council_decisions", "decision_id", "text"), ("council_actions", "action_id", "what"))


def erase(con, customer_id: str, now: dt.datetime) -> int:
    """Erase the customer's council data through ``con`` (before their ``customers`` row goes); the rows changed."""
    members = [r[0] for r in con.execute("SELECT member_id FROM council_members WHERE customer_id = ?",
                                         [customer_id]).fetchall()]
    if not members:
        return 0
    touched = 0
    marks = ", ".join("?" * len(members))
    touched += len(con.execute(f"UPDATE council_attendance SET note = NULL WHERE member_id IN ({marks}) "
                               "AND note IS NOT NULL RETURNING 1", members).fetchall())
    touched += len(con.execute(
        "UPDATE council_consents SET customer_id = NULL, evidence = NULL, withdrawn_at = coalesce(withdrawn_at, ?) "
        "WHERE customer_id = ? RETURNING 1", [now, customer_id]).fetchall())
    touched += _redact(con, _names(con, customer_id))
    touched += len(con.execute(
        "UPDATE council_members SET customer_id = NULL, notes = NULL, left_on = coalesce(left_on, ?), "
        "left_reason = CASE WHEN left_on IS NULL THEN 'erased' ELSE left_reason END, updated_at = ? "
        "WHERE customer_id = ? RETURNING 1", [now.date(), now, customer_id]).fetchall())
    return touched


def _names(con, customer_id: str) -> list[str]:
    """How the staff's texts may name the customer: their full name in either order, their e-mail addresses."""
    out: list[str] = []
    row = con.execute("SELECT name FROM customers WHERE customer_id = ?", [customer_id]).fetchone()
    words = (row[0] or "").split() if row else []
    if len(words) >= 2:  # one word alone ("Anna") would erase other people's mentions too
        out += [" ".join(words), " ".join(reversed(words))]
    out += [r[0] for r in con.execute("SELECT value FROM identities WHERE customer_id = ? AND kind = 'email'",
                                      [customer_id]).fetchall()]
    return out


def _redact(con, names: list[str]) -> int:
    if not names:
        return 0
    pattern = re.compile("|".join(r"\s+".join(map(re.escape, n.split())) for n in sorted(names, key=len, reverse=True)),
                         re.IGNORECASE)
    changed = 0
    for table, key, col in TEXTS:
        keys = [k.strip() for k in key.split(",")]
        rows = con.execute(f"SELECT {key}, {col} FROM {table} WHERE {col} IS NOT NULL").fetchall()
        for row in rows:
            text = row[-1]
            new = pattern.sub(ERASED, text)
            if new != text:
                where = " AND ".join(f"{k} = ?" for k in keys)
                con.execute(f"UPDATE {table} SET {col} = ? WHERE {where}", [new, *row[:-1]])
                changed += 1
    return changed
