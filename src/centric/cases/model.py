"""The closed loop's vocabulary and its configuration, defined once.

A case's state is kept as events (``case_events``); the ``cases`` row is their projection, updated in the
same transaction as the events that change it. The configuration — who handles which factor (routing) and
how fast (service levels, calendars, escalation) — is two TOML files described in docs/cases.md and parsed
by :mod:`centric.cases.config`; these dataclasses are what the rest of the loop sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import CASE_CLOCKS, CASE_EVENT_KINDS, CASE_PRIORITIES, CASE_STATUSES, CLOCK_STATES
from .calendar import Calendar

__all__ = [
    "AT_RISK", "CASE_CLOCKS", "CASE_EVENT_KINDS", "CASE_PRIORITIES", "CASE_STATUSES", "CLOCK_STATES", "OPEN",
    "TRANSITIONS", "Department", "EscalationLevel", "Policy", "Route", "Routing", "Target",
]

OPEN = ("new", "open", "assigned", "in_progress", "waiting")
"""Statuses of a case someone still has to act on (``resolved`` waits for the customer's confirmation)."""

AT_RISK = 0.8
"""A running clock is at risk once this share of its business time has elapsed."""

# status → the statuses a person may move the case to (escalation, signals and confirmations are
# applied by the loop itself; see workflow)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("assigned", "in_progress", "waiting", "resolved"),
    "open": ("assigned", "in_progress", "waiting", "resolved"),
    "assigned": ("in_progress", "waiting", "resolved"),
    "in_progress": ("waiting", "resolved"),
    "waiting": ("in_progress", "resolved"),
    "resolved": ("closed", "in_progress"),  # in_progress: reopened
    "closed": ("in_progress",),  # reopened within the grace period
}

PRIORITY_RANK = {p: i for i, p in enumerate(CASE_PRIORITIES)}


@dataclass(frozen=True)
class Department:
    """A department of the routing table: its agents (owners of cases), lead and manager (escalation
    targets) and the business calendar its clocks count on (a name from the SLA policy)."""

    name: str
    agents: tuple[str, ...] = ()
    lead: str | None = None
    manager: str | None = None
    calendar: str | None = None  # None: the policy's default calendar


@dataclass(frozen=True)
class Route:
    """One routing rule: cases about ``factor`` (None: any) go to ``department``, optionally only for
    one ``country`` (ISO alpha-2) or ``store``. The most specific matching rule wins."""

    department: str
    factor: str | None = None
    country: str | None = None
    store: str | None = None

    @property
    def specificity(self) -> int:
        return (self.factor is not None) * 4 + (self.store is not None) * 2 + (self.country is not None)


@dataclass(frozen=True)
class Routing:
    """Factor → department, departments and their people, and how priority is set."""

    routes: tuple[Route, ...]
    departments: dict[str, Department]
    default_department: str = "customer_service"  # factors no rule covers
    triage_department: str = "triage"  # signals with no factor
    proactive_department: str = "customer_service"  # proactive contacts of customers gone quiet
    public_channels: tuple[str, ...] = ("social", "review")  # a public post: at least high
    vip_share: float = 0.1  # the top share of customers by CLV: one step up
    urgent_flags: tuple[str, ...] = ("extortion", "go_public")  # text flags that make a case urgent
    base_priority: str = "normal"
    source: str = "routing"


@dataclass(frozen=True)
class Target:
    """Service-level targets, in business minutes, for cases of ``priority`` from ``channel`` (None: any);
    the most specific matching target wins. ``calendar`` overrides the department's calendar."""

    first_response: int
    next_response: int
    resolution: int
    confirmation: int
    priority: str | None = None
    channel: str | None = None
    calendar: str | None = None

    def minutes(self, clock: str) -> int:
        return int(getattr(self, clock))

    @property
    def specificity(self) -> int:
        return (self.channel is not None) * 2 + (self.priority is not None)


@dataclass(frozen=True)
class EscalationLevel:
    """Escalate when a clock is ``after_minutes`` (real minutes) past due, to ``to``: ``lead`` or
    ``manager`` (of the case's department) or a named person."""

    after_minutes: int
    to: str


@dataclass(frozen=True)
class Policy:
    """Calendars, targets and escalation levels (per priority; ``None`` key: any priority)."""

    calendars: dict[str, Calendar]
    targets: tuple[Target, ...]
    escalation: dict[str | None, tuple[EscalationLevel, ...]] = field(default_factory=dict)
    default_calendar: str = "office"
    source: str = "sla"
