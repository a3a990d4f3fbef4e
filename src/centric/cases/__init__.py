"""The closed loop: cases, service levels and business calendars.

So far: business calendars (:mod:`centric.cases.calendar`) and the SLA engine (:mod:`centric.cases.sla`),
due times in business time, with its JSON-lines file interface (:mod:`centric.cases.sla_file`) behind
``centric sla due``.
"""

from .calendar import Calendar, CalendarError, load_calendar, parse_calendar
from .proactive import ProactiveResult, proactive
from .sla import SlaError, due, due_many
from .timeline import Timeline, timeline

__all__ = ["Calendar", "CalendarError", "SlaError", "due", "due_many", "load_calendar", "parse_calendar"]
__all__ += ["ProactiveResult", "Timeline", "proactive", "timeline"]
