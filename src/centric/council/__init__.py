"""The customer council: a roster of members with their consent (``roster``), meetings with agendas, attendance,
minutes and decisions, an action tracker (``meetings``), the members' feedback as a segment of its own against
everyone else's (``compare``; also the ``council`` filter of ``centric.metrics.filters``), roster imports
(``importer``) and what ``centric customers forget`` erases (``erase``). See docs/council.md."""

from __future__ import annotations

from . import roster as roster_ops  # the module (``roster`` below is its function)
from .meetings import (
    Actions,
    Meeting,
    actions,
    add_action,
    add_agenda_item,
    add_decision,
    add_meeting,
    get_meeting,
    meetings,
    set_action,
    set_attendance,
    set_minutes,
)
from .roster import (
    Roster,
    add_member,
    get_member,
    give_consent,
    leave,
    roster,
    update_member,
    withdraw_consent,
)

__all__ = [
    "Actions", "Meeting", "Roster", "actions", "add_action", "add_agenda_item", "add_decision", "add_meeting",
    "add_member", "get_meeting", "get_member", "give_consent", "leave", "meetings", "roster", "set_action",
    "roster_ops", "set_attendance", "set_minutes", "update_member", "withdraw_consent",
]
