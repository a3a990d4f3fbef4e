"""Who may do what: one actor, one check (``allowed``), one place that turns it into query filters
(``case_scope``). Default deny: an action not granted below is refused.

>>> agent = Actor("user", "U0001", "ann@example.com", "agent", "ann", ("delivery",))
>>> allowed(agent, "case.act", {"department": "delivery"}), allowed(agent, "case.act", {"department": "billing"})
(True, False)
>>> allowed(agent, "customer.read", {"departments": ["billing", "delivery"]})
True
>>> allowed(None, "case.read"), allowed(agent, "admin.users")
(False, False)
>>> case_scope(agent), case_scope(Actor("user", "U0002", "bo@example.com", "analyst", "bo"))
(('delivery',), None)
>>> shopper = Actor("user", "U0003", "cy@example.com", "shopper", "cy")
>>> allowed(shopper, "mystery.read", {"shopper": "cy"}), allowed(shopper, "mystery.read", {"shopper": "ann"})
(True, False)
>>> allowed(agent, "mystery.read", {"manager": "ann"}), allowed(shopper, "case.read")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("case.read", "case.act", "customer.read", "customer.forget", "dashboard.read", "alert.act",
           "feedback.post", "admin.users", "admin.config", "audit.read", "surveys.view", "surveys.manage",
           "surveys.release", "whys.edit", "council.manage", "ideas.use", "ideas.manage", "orientation.assess",
           "observations.write", "mystery.enter", "mystery.read", "mystery.scores",
           "employee.forget")
ROLES = ("admin", "analyst", "agent", "shopper")

# role → the actions it may take (agents: on their departments' objects only, see ``allowed``)
GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTIONS),
    "analyst": frozenset({"case.read", "customer.read", "dashboard.read", "surveys.view", "whys.edit",
                          "council.manage", "ideas.use", "ideas.manage", "orientation.assess", "observations.write",
                          "mystery.read", "mystery.scores"}),
    "agent": frozenset({"case.read", "case.act", "customer.read", "feedback.post", "alert.act", "ideas.use",
                        "orientation.assess", "observations.write", "mystery.read"}),
    # mystery shoppers enter visits and see their own, nothing else
    "shopper": frozenset({"mystery.enter", "mystery.read"}),
}
_DEPARTMENTAL = frozenset({"case.read", "case.act", "customer.read"})

# staff orientation and store observation notes: a unit's manager (``units.manager``, a user's agent name) acts on
# their own units only; an admin on any, an analyst writes observation notes for any store
_UNIT_SCOPED = {"orientation.assess": ("analyst", "agent"), "observations.write": ("agent",)}


@dataclass(frozen=True)
class Actor:
    """Whoever makes a request: a signed-in user or an API token."""

    kind: str  # "user" | "token"
    id: str  # user_id or token_id
    name: str  # e-mail, or "token:NAME" — shown in the audit log
    role: str  # "admin" | "analyst" | "agent"
    agent: str  # the case-owner name used in case events
    departments: tuple[str, ...] = ()
    language: str | None = None


def allowed(actor: Actor | None, action: str, resource: dict | None = None) -> bool:
    """May ``actor`` take ``action`` (on ``resource``: a case, a dict with its ``department``; a customer, a
    dict with ``departments``, those of the customer's cases; a unit, a dict with its ``manager``)? Without a resource: may it take the action on
    some objects (an agent: on its departments')."""
    if actor is None or action not in ACTIONS:
        return False
    if action not in GRANTS.get(actor.role, frozenset()):
        return False
    if action in _UNIT_SCOPED:
        return resource is None or actor.role not in _UNIT_SCOPED[action] or resource.get("manager") == actor.agent
    if actor.role == "agent" and action in _DEPARTMENTAL:
        if resource is None:
            return bool(actor.departments)
        mine = set(actor.departments)
        return resource.get("department") in mine or bool(mine & set(resource.get("departments") or ()))
    if action == "mystery.read" and resource is not None and actor.role in ("agent", "shopper"):
        # a visit: store managers (agents) see their stores' visits, shoppers their own
        return resource.get("manager" if actor.role == "agent" else "shopper") == actor.agent
    return True


def case_scope(actor: Actor) -> tuple[str, ...] | None:
    """The departments whose cases ``actor`` may read; None: all. Lists filter by it in the query."""
    if actor.role == "agent":
        return tuple(actor.departments)
    return None if allowed(actor, "case.read") else ()
