"""A failed critical item opens a case for the store's manager, through the closed loop.

:func:`open_cases` takes every visit to one of our stores with a critical item answered "no" that no case
covers yet and opens one case per visit: ``origin = "mystery"``, ``type`` the factor of the first failed critical
item, ``store`` the store, the owner the store's manager (``units.manager``) — in the routing table's department
that has the manager among its agents, else the department the routing table gives the factor (the default
department when none) —, priority ``high``, and a summary naming the failed items (no personal data). The visit
is the case's signal (``case_signals``: ``source_table = "mystery_visits"``, ``signal_id`` the visit id, ``kind =
"mystery"``), so running again opens nothing new; the visit records its case. The events ``opened`` and
``assigned``, the signal and the clocks are written in one transaction — the caller's when the import or the form
opens the cases of the visits it stores (:func:`open_cases_in`), so that a failure leaves neither the visit nor its
case.

On PostgreSQL it runs in a scratch store (:func:`centric.engines.scratch.portable`) holding what
:func:`cases_scope` names — the failed visits no case covers yet, their failed critical answers, the case with the
highest id, the configuration, the stores and the templates —, and what it wrote is published in one transaction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..cases import store_io
from ..cases.postgres import _HIGHEST_ID
from ..engines.scratch import portable
from ..store import Store

__all__ = ["cases_scope", "open_cases", "open_cases_in"]

_UNCOVERED = ("failed_critical AND NOT EXISTS (SELECT 1 FROM case_signals s WHERE s.source_table = 'mystery_visits' "
              "AND s.signal_id = mystery_visits.visit_id)")


def cases_scope(pg, *args, visits: str | None = None, **kwargs) -> tuple[list[str], list[str], dict[str, str]]:
    """What :func:`open_cases` reads on PostgreSQL (see the module); ``visits``: a condition on ``mystery_visits``
    naming more visits to fetch (a caller's own), or "" for every visit."""
    uncovered = f"visit_id IN (SELECT visit_id FROM mystery_visits WHERE {_UNCOVERED})"
    filters = {"mystery_answers": f"critical AND answer = 'no' AND {uncovered}", "cases": _HIGHEST_ID}
    if visits != "":
        filters["mystery_visits"] = _UNCOVERED if visits is None else f"({_UNCOVERED}) OR {visits}"
    return (["mystery_visits", "mystery_answers", "mystery_templates", "units", "cases", "case_config"],
            ["case_events", "case_clocks", "case_signals"], filters)


def _department(routing, manager: str | None, factor: str | None, store_name: str) -> str:
    if manager:
        for name, d in routing.departments.items():
            if manager in d.agents:
                return name
    for r in sorted(routing.routes, key=lambda r: -r.specificity):
        if r.factor == factor and r.store in (None, store_name) and r.country is None:
            return r.department
    return routing.default_department


@portable(cases_scope)
def open_cases(store: Store, now: dt.datetime | None = None, routing=None) -> pd.DataFrame:
    """Open the cases of failed visits not covered yet (see the module), in one transaction; the cases opened
    (case_id, visit_id, store, owner, department)."""
    with store.transaction() as con:
        return open_cases_in(store, con, now=now, routing=routing)


def open_cases_in(store: Store, con, now: dt.datetime | None = None, routing=None) -> pd.DataFrame:
    """:func:`open_cases` inside the caller's transaction (``con`` from ``store.transaction()``): the import and
    the form store a visit and open its case together, so that a failure in between leaves neither."""
    todo = con.execute(
        "SELECT v.visit_id, v.store, v.visited_at, v.template_id, u.manager, u.country FROM mystery_visits v "
        "LEFT JOIN units u ON u.unit = v.store WHERE v.failed_critical AND lower(coalesce(v.brand, 'ours')) = 'ours' "
        "AND NOT EXISTS (SELECT 1 FROM case_signals s WHERE s.source_table = 'mystery_visits' "
        "AND s.signal_id = v.visit_id) ORDER BY v.visited_at, v.visit_id").fetchdf()
    cols = ["case_id", "visit_id", "store", "owner", "department"]
    if not len(todo):
        return pd.DataFrame(columns=cols)
    if routing is None:
        from ..cases.config import active

        routing = active(store)[0]
    now = now or store_io.utcnow()
    failed = con.execute(
        "SELECT a.visit_id, a.item_id, a.factor FROM mystery_answers a JOIN mystery_visits v USING (visit_id) "
        "WHERE a.critical AND a.answer = 'no' AND v.failed_critical").fetchdf()
    order = {}
    from .template import get_template

    rows, events, signals = [], [], []
    ids = store_io.new_case_ids(con, len(todo))
    for case_id, r in zip(ids, todo.itertuples(index=False), strict=True):
        key = (r.template_id,)
        if key not in order:
            t = get_template(store, r.template_id, missing_ok=True)
            order[key] = {i.id: k for k, i in enumerate(t.items)} if t else {}
        mine = failed[failed["visit_id"] == r.visit_id].copy()
        mine["pos"] = mine["item_id"].map(order[key]).fillna(1e9)
        mine = mine.sort_values("pos")
        factor = mine["factor"].iloc[0] if len(mine) else None
        manager = None if pd.isna(r.manager) else r.manager
        dept = _department(routing, manager, factor, r.store)
        opened_at = min(pd.Timestamp(r.visited_at).to_pydatetime(), now)
        rows.append({"case_id": case_id, "opened_at": opened_at, "type": factor, "channel": "store",
                     "department": dept, "owner": manager, "status": "assigned" if manager else "new",
                     "priority": "high", "origin": "mystery", "store": r.store,
                     "country": None if pd.isna(r.country) else r.country,
                     "summary": "Mystery shopping: critical item failed — " + ", ".join(mine["item_id"]),
                     "escalation_level": 0, "reopen_count": 0, "transfers": 0, "updated_at": now})
        events.append({"case_id": case_id, "occurred_at": opened_at, "kind": "opened", "actor": "system",
                       "department": dept,
                       "data": {"origin": "mystery", "signal": {"table": "mystery_visits", "id": r.visit_id}}})
        if manager:
            events.append({"case_id": case_id, "occurred_at": opened_at, "kind": "assigned", "actor": "system",
                           "department": dept, "target": manager})
        signals.append({"source_table": "mystery_visits", "signal_id": r.visit_id, "case_id": case_id,
                        "kind": "mystery", "factor": factor, "signal_at": r.visited_at, "action": "opened",
                        "attached_at": now})
    cases = pd.DataFrame(rows)
    store_io.insert_rows(con, "cases", cases)
    store_io.append_events(con, pd.DataFrame(events))
    store_io.insert_rows(con, "case_signals", pd.DataFrame(signals))
    for s in signals:
        con.execute("UPDATE mystery_visits SET case_id = ? WHERE visit_id = ?", [s["case_id"], s["signal_id"]])
    from ..cases.clocks import refresh_clocks

    refresh_clocks(store, con, list(cases["case_id"]), now=now, routing=routing)
    return pd.DataFrame({"case_id": cases["case_id"], "visit_id": [s["signal_id"] for s in signals],
                         "store": cases["store"], "owner": cases["owner"], "department": cases["department"]})
