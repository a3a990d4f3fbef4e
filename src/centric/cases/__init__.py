"""The closed loop: every unhappy customer becomes one case that a person owns, on the clock, until the
customer says it is solved (docs/cases.md).

- signals and cases: :mod:`~centric.cases.signals`, :func:`sync` (one case per customer × factor × window);
- who and how fast: :mod:`~centric.cases.config` (routing table and service-level policy files),
  :mod:`~centric.cases.routing`, business calendars (:mod:`~centric.cases.calendar`) and the SLA engine
  (:mod:`~centric.cases.sla`, ``centric sla due``);
- the four clocks, breaches and escalation: :mod:`~centric.cases.clocks`, :func:`tick`;
- the workflow and "Was it solved?": :mod:`~centric.cases.workflow`, :mod:`~centric.cases.tokens`;
- what the service team sees: :func:`list_cases`, :func:`show_case`, :func:`timeline`;
- proactive contact of valuable customers gone quiet: :func:`proactive`;
- metrics from the case events: :func:`case_metrics` (from :mod:`centric.metrics.cases`).

State is kept as events (``case_events``); the ``cases`` row is their projection
(:mod:`~centric.cases.projection`). Reads and writes of the store go through :mod:`~centric.cases.store_io`.
"""

from ..metrics.cases import case_metrics
from .calendar import Calendar, CalendarError, load_calendar, parse_calendar
from .clocks import compute_clocks, refresh_clocks
from .config import CaseConfigError, load_policy, load_routing
from .escalation import TickResult, tick
from .proactive import ProactiveResult, proactive
from .routing import go_public, route
from .sla import SlaError, due, due_many
from .sync import SyncResult, sync
from .timeline import Timeline, timeline
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

__all__ = [
    "Calendar", "CalendarError", "CaseConfigError", "CaseError", "Outcome", "ProactiveResult", "SlaError",
    "SyncResult", "TickResult", "Timeline", "answer_confirmation", "assign", "case_json", "case_metrics", "close",
    "comment",
    "compute_clocks", "customer_message", "due", "due_many", "go_public", "list_cases", "load_calendar",
    "load_policy", "load_routing", "note", "parse_calendar", "proactive", "refresh_clocks", "reopen", "resolve",
    "route", "show_case", "start", "sync", "tick", "timeline", "transfer", "wait",
]
