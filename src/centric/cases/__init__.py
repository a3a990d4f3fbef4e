"""The closed loop: cases, service levels and business calendars.

So far: business calendars (:mod:`centric.cases.calendar`) and the SLA engine (:mod:`centric.cases.sla`),
due times in business time, with its JSON-lines file interface (:mod:`centric.cases.sla_file`) behind
``centric sla due``.
"""

from .calendar import Calendar, CalendarError, load_calendar, parse_calendar
from .clocks import compute_clocks, refresh_clocks
from .config import CaseConfigError, load_policy, load_routing
from .escalation import TickResult, escalations, tick
from .routing import go_public, route
from .sla import SlaError, due, due_many

__all__ = ["Calendar", "CalendarError", "SlaError", "due", "due_many", "load_calendar", "parse_calendar"]
__all__ += ["CaseConfigError", "go_public", "load_policy", "load_routing", "route"]
__all__ += ["TickResult", "compute_clocks", "escalations", "refresh_clocks", "tick"]
