"""Proactive contact: valuable customers gone quiet, and customers whose P(alive) fell, become cases.

``proactive(store)`` takes the customers of ``centric customers alerts`` (``scoring.alerts``: P(alive)
fell below the threshold since the baseline scoring, or valuable customers silent for more than twice
their own gap between purchases) and opens one case per customer for the service team to call them —
without pestering anyone:

- **min days**: no new proactive case for a customer contacted proactively within ``proactive_min_days``
  (30) days, nor for one who has an open case of any kind (the team is already talking to them);
- **daily cap**: at most ``proactive_daily_cap`` (20) proactive cases are given to one agent per
  calendar day (UTC), counting those already given that day; a department without agents takes at most
  that many a day into its queue. Customers beyond the caps are **deferred**: not opened, reported, and
  considered again at the next run while they are still in the alerts.

The signal is the scoring: ``case_signals`` gets ``source_table = "customer_scores"``, ``signal_id =
"<customer_id>@<scored_at ISO>"``, ``kind = "proactive"``, so running again on the same scoring opens
nothing new. The case: ``origin = "proactive"``, ``type`` empty (a proactive contact has no factor until
the conversation finds one), the department ``routing.proactive_department``, the owner its least-loaded
agent (:func:`centric.cases.routing.route`, ties round-robin), status ``assigned`` (``new`` without an
owner), priority ``high`` for the top decile by value at risk in the customer's currency (⌊n/10⌋ of its
n alerts) and the routing table's base priority for the others, the customer's language and country, and
a summary of why (reason, value at risk, P(alive)). Events ``opened`` and ``assigned`` are written with
the case, all in one transaction (on PostgreSQL in a scratch store, :func:`write_scope`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import settings
from ..engines.scratch import portable
from ..errors import CentricError
from ..store import Store
from . import store_io
from .model import OPEN, Routing

__all__ = ["ProactiveResult", "proactive"]

TOP_SHARE = 0.1
"""The share of the alerts (by value at risk, within a currency) whose proactive case is high priority."""


@dataclass(frozen=True)
class ProactiveResult:
    """What one run did. ``opened``: the cases opened (case_id, customer_id, department, owner, priority,
    reason, currency, value_at_risk, signal_id); ``deferred``: customers over the daily cap (customer_id,
    reason, currency, value_at_risk), to be opened at a later run; ``skipped``: customers not contacted
    (customer_id, why: ``already`` — a case from this scoring exists; ``open_case``; ``contacted_recently``
    — a proactive case opened within ``min_days``)."""

    now: dt.datetime
    scored_at: dt.datetime
    department: str
    min_days: int
    daily_cap: int
    opened: pd.DataFrame
    deferred: pd.DataFrame
    skipped: pd.DataFrame

    def summary(self) -> dict:
        why = self.skipped["why"].value_counts()
        return {"now": self.now.isoformat(timespec="seconds"), "scored_at": self.scored_at.isoformat(),
                "department": self.department, "opened": len(self.opened), "deferred": len(self.deferred),
                "skipped": {k: int(why.get(k, 0)) for k in ("already", "open_case", "contacted_recently")},
                "min_days": self.min_days, "daily_cap": self.daily_cap}

    def to_dict(self) -> dict:
        """The summary with the cases opened and the customers deferred, in plain JSON types."""
        def records(frame: pd.DataFrame) -> list[dict]:
            return [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                    for r in frame.to_dict(orient="records")]
        return {**self.summary(), "cases": records(self.opened), "deferred_customers": records(self.deferred)}


def proactive(store: Store, now: dt.datetime | None = None, routing: Routing | None = None,
              min_days: int | None = None, daily_cap: int | None = None,
              customers: Sequence[str] | None = None) -> ProactiveResult:
    """Open proactive-contact cases for the customers of the latest alerts (see the module docstring).

    ``now`` (naive UTC; default: now) is when the cases open and which day the cap counts; ``routing``
    defaults to the active routing table (:func:`centric.cases.config.active`); ``min_days`` and
    ``daily_cap`` default to the settings ``proactive_min_days`` and ``proactive_daily_cap``. Raises
    CentricError when the customers were never scored (``centric customers score``). ``customers``: only
    these of the alerts (the web app's one-click contact); one that is not among the alerts raises
    CentricError."""
    from ..customers import scoring
    from .routing import agent_load

    now = now or store_io.utcnow()
    min_days = settings.get_int("proactive_min_days", min_days)
    daily_cap = settings.get_int("proactive_daily_cap", daily_cap)
    if routing is None:
        from .config import active

        routing = active(store)[0]
    dept = routing.proactive_department
    agents = tuple(routing.departments[dept].agents) if dept in routing.departments else ()
    scored_at = scoring.baseline(store)[0]
    alerts = scoring.alerts(store, contact=False)
    if customers is not None:
        missing = sorted(set(customers) - set(alerts["customer_id"].astype(str)))
        if missing:
            raise CentricError(f"{', '.join(missing)}: not among the customers to contact of the scoring of "
                               f"{scored_at:%Y-%m-%d %H:%M} (centric customers alerts)")
        alerts = alerts[alerts["customer_id"].astype(str).isin(list(customers))]
    cands = _candidates(alerts, scored_at, routing)
    why = _why_not(store, cands, now, min_days)
    skipped = pd.DataFrame({"customer_id": cands.loc[why.notna(), "customer_id"], "why": why[why.notna()]},
                           columns=["customer_id", "why"]).reset_index(drop=True)
    cands = cands[why.isna()].reset_index(drop=True)

    load, last = agent_load(store)
    left = _left_today(store, now, dept, agents, daily_cap)
    owners: list[str | None] = []
    for _ in range(len(cands)):
        owner = _next_owner(routing, dept, agents, left, load, last, now, len(owners))
        if owner is False:
            break
        owners.append(owner)
    opened = cands.iloc[:len(owners)].assign(owner=owners, department=dept)
    deferred = cands.iloc[len(owners):][["customer_id", "reason", "currency", "value_at_risk"]].reset_index(drop=True)
    if len(opened):
        opened = _write(store, opened, now, scored_at)
    cols = ["case_id", "customer_id", "department", "owner", "priority", "reason", "currency", "value_at_risk",
            "signal_id"]
    return ProactiveResult(now, scored_at, dept, min_days, daily_cap,
                           opened.reindex(columns=cols).reset_index(drop=True), deferred, skipped)


def _candidates(alerts: pd.DataFrame, scored_at: dt.datetime, routing: Routing) -> pd.DataFrame:
    """The alerts in the order they are served — the first of every currency, then the second … — with
    their signal id and priority."""
    a = alerts.copy()
    a["signal_id"] = a["customer_id"].astype(str) + "@" + pd.Timestamp(scored_at).isoformat()
    cur = a["currency"].fillna("")
    rank = a.groupby(cur)["value_at_risk"].rank(method="first", ascending=False)
    top = np.floor(TOP_SHARE * cur.map(cur.value_counts()))
    a["priority"] = np.where(rank <= top, "high", routing.base_priority)
    a["_rank"] = rank
    return a.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def _why_not(store: Store, cands: pd.DataFrame, now: dt.datetime, min_days: int) -> pd.Series:
    """Per candidate: why no case is opened (already / open_case / contacted_recently), or None."""
    ids = list(cands["customer_id"].astype(str))
    why = pd.Series([None] * len(cands), index=cands.index, dtype=object)
    if not ids:
        return why
    s = store.table("case_signals")
    done = set(store_io.only(s.filter(s.source_table == "customer_scores"), "signal_id", cands["signal_id"])
               .signal_id.execute())
    c = store_io.only(store.table("cases"), "customer_id", ids)
    open_ = set(c.filter(c.status.isin(list(OPEN)) | c.status.isnull()).customer_id.execute())
    since = now - dt.timedelta(days=min_days)
    recent = set(c.filter((c.origin == "proactive") & (c.opened_at > since)).customer_id.execute()) if min_days else set()
    cid = cands["customer_id"].astype(str)
    why[cid.isin(recent)] = "contacted_recently"
    why[cid.isin(open_)] = "open_case"
    why[cands["signal_id"].isin(done)] = "already"
    return why


def _left_today(store: Store, now: dt.datetime, dept: str, agents: tuple[str, ...], cap: int) -> dict:
    """How many more proactive cases each agent may be given on ``now``'s day (UTC); without agents, the
    department's queue (key None)."""
    start = dt.datetime.combine(now.date(), dt.time())
    end = start + dt.timedelta(days=1)
    cases = store.table("cases")
    mine = cases.filter(cases.origin == "proactive")
    if not agents:
        n = mine.filter((mine.department == dept) & (mine.opened_at >= start) & (mine.opened_at < end)).count()
        return {None: cap - int(n.execute())}
    ev = store.table("case_events")
    given = ev.filter((ev.kind == "assigned") & ev.target.isin(list(agents)) & (ev.occurred_at >= start)
                      & (ev.occurred_at < end))
    given = given.join(mine.select("case_id"), "case_id").group_by("target").aggregate(n=lambda t: t.count())
    counts = dict(given.execute().itertuples(index=False, name=None))
    return {a: cap - int(counts.get(a, 0)) for a in agents}


def _next_owner(routing: Routing, dept: str, agents: tuple[str, ...], left: dict, load: dict, last: dict,
                now: dt.datetime, k: int):
    """The owner of the next case: the least-loaded agent (by :func:`route`) among those under the cap;
    None for a department without agents while its queue is under the cap; False when every cap is
    reached. Updates ``left``, ``load`` and ``last``."""
    from .routing import route

    if not agents:
        if left[None] <= 0:
            return False
        left[None] -= 1
        return None
    free = tuple(a for a in agents if left[a] > 0)
    if not free:
        return False
    only = dataclasses.replace(routing, routes=(), triage_department=dept, departments={
        dept: dataclasses.replace(routing.departments[dept], agents=free)})
    owner = route(pd.DataFrame({"factor": [None]}), only, load, last)["owner"].iloc[0]
    left[owner] -= 1
    load[owner] = load.get(owner, 0) + 1
    last[owner] = now + dt.timedelta(microseconds=k)  # in memory only: keeps the round-robin order of this run
    return owner


def write_scope(pg, opened: pd.DataFrame, *args, **kwargs):
    """What :func:`_write` reads on PostgreSQL, where it runs in a scratch store (one transaction, inside the web
    app's write when it makes one): the case with the highest id, the customers contacted (their language and
    country), the configuration (the clocks)."""
    from .postgres import _HIGHEST_ID, _literal

    ids = ", ".join(_literal(pg, c) for c in dict.fromkeys(opened["customer_id"].astype(str)))
    return (["cases", "customers", "case_config"], ["case_events", "case_signals", "case_clocks"],
            {"cases": _HIGHEST_ID, "customers": f"customer_id IN ({ids})"})


@portable(write_scope)
def _write(store: Store, opened: pd.DataFrame, now: dt.datetime, scored_at: dt.datetime) -> pd.DataFrame:
    """The cases, their opened and assigned events and their signals, in one transaction."""
    people = store.table("customers")
    ids = list(opened["customer_id"].astype(str))
    about = people.filter(people.customer_id.isin(ids)).select("customer_id", "language", "country").execute()
    about = about.set_index("customer_id")
    with store.transaction() as con:
        opened = opened.assign(case_id=store_io.new_case_ids(con, len(opened)))
        cases = pd.DataFrame({
            "case_id": opened["case_id"], "customer_id": opened["customer_id"], "opened_at": now,
            "origin": "proactive", "department": opened["department"], "owner": opened["owner"],
            "status": np.where(opened["owner"].notna(), "assigned", "new"), "priority": opened["priority"],
            "language": opened["customer_id"].map(about["language"]), "country": opened["customer_id"].map(about["country"]),
            "summary": [_summary(r) for r in opened.itertuples(index=False)],
            "escalation_level": 0, "reopen_count": 0, "transfers": 0, "updated_at": now})
        store_io.insert_rows(con, "cases", cases)
        events = [{"case_id": r.case_id, "occurred_at": now, "kind": "opened", "actor": "system",
                   "department": r.department,
                   "data": {"origin": "proactive", "signal": {"table": "customer_scores", "id": r.signal_id}}}
                  for r in opened.itertuples(index=False)]
        events += [{"case_id": r.case_id, "occurred_at": now, "kind": "assigned", "actor": "system",
                    "department": r.department, "target": r.owner}
                   for r in opened.itertuples(index=False) if r.owner is not None]
        events = pd.DataFrame(events)
        events["order"] = events["kind"].map({"opened": 0, "assigned": 1})
        store_io.append_events(con, events.sort_values(["case_id", "order"]).drop(columns="order"))
        store_io.insert_rows(con, "case_signals", pd.DataFrame({
            "source_table": "customer_scores", "signal_id": opened["signal_id"], "case_id": opened["case_id"],
            "customer_id": opened["customer_id"], "kind": "proactive", "signal_at": min(scored_at, now),
            "action": "opened", "attached_at": now}))
        from .clocks import refresh_clocks

        refresh_clocks(store, con, list(opened["case_id"]), now=now)
    return opened


def _summary(r) -> str:
    """Why the customer is to be called, without personal data."""
    parts = [r.reason.replace("p_alive_fell", "P(alive) fell").replace("went_quiet", "went quiet")]
    if not pd.isna(r.value_at_risk):
        parts.append(f"value at risk {r.value_at_risk:,.2f} {r.currency or ''}".rstrip())
    before = "" if pd.isna(r.p_alive_before) else f" (was {r.p_alive_before:.2f})"
    parts.append(f"P(alive) {r.p_alive:.2f}{before}")
    if not pd.isna(r.days_silent) and not pd.isna(r.usual_gap_days):
        parts.append(f"{r.days_silent:.0f} days silent, usual gap {r.usual_gap_days:.0f}")
    return "Proactive contact: " + "; ".join(parts)


def contacts(store: Store, now: dt.datetime | None = None, routing: Routing | None = None,
             min_days: int | None = None, limit: int | None = None) -> pd.DataFrame:
    """The customers of the latest alerts in the order ``proactive`` serves them (at most ``limit``), each
    with ``why`` it would not be contacted now (``already`` — a case from this scoring exists, ``open_case``,
    ``contacted_recently``; None: it may be) and ``case_id``, the proactive case opened from this scoring
    when there is one. Raises CentricError when the customers were never scored."""
    from ..customers import scoring

    now = now or store_io.utcnow()
    min_days = settings.get_int("proactive_min_days", min_days)
    if routing is None:
        from .config import active

        routing = active(store)[0]
    scored_at = scoring.baseline(store)[0]
    cands = _candidates(scoring.alerts(store, contact=False), scored_at, routing)
    if limit is not None:
        cands = cands.head(limit)
    cands = cands.assign(why=_why_not(store, cands, now, min_days))
    s = store.table("case_signals")
    done = store_io.only(s.filter(s.source_table == "customer_scores"), "signal_id", cands["signal_id"]).select(
        "signal_id", "case_id").execute()
    return cands.assign(case_id=cands["signal_id"].map(dict(zip(done["signal_id"], done["case_id"], strict=True))))
