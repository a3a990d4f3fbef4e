"""The closed loop: cases, service levels and business calendars.

So far: business calendars (:mod:`centric.cases.calendar`) and the SLA engine (:mod:`centric.cases.sla`),
due times in business time, with its JSON-lines file interface (:mod:`centric.cases.sla_file`) behind
``centric sla due``.
"""

from .calendar import Calendar, CalendarError, load_calendar, parse_calendar
from .config import CaseConfigError, load_policy, load_routing
from .routing import go_public, route
from .sla import SlaError, due, due_many
from .views import case_json, list_cases, show_case
from .workflow import (
                       CaseError,
                       Outcome,
                       answer_confirmation,
                       assign,
                       close,
                       comment,
                       customer_message,
                       note,
                       reopen,
                       resolve,
                       start,
                       transfer,
                       wait,
)

__all__ = ["Calendar", "CalendarError", "SlaError", "due", "due_many", "load_calendar", "parse_calendar"]
__all__ += ["CaseConfigError", "go_public", "load_policy", "load_routing", "route"]
__all__ += ["CaseError", "Outcome", "answer_confirmation", "assign", "case_json", "close", "comment",
            "customer_message", "list_cases", "note", "reopen", "resolve", "show_case", "start", "transfer", "wait"]
