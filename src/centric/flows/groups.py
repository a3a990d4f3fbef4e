"""Two groups of cases to compare: cases that reach an activity against those that do not (converted vs
dropped), and, for journeys in the store, the instances of promoters against those of detractors."""

from __future__ import annotations

from typing import Any

from ..store import Store
from .log import ACTIVITY, CASE


def reached(events: Any, activity: str) -> tuple[Any, Any]:
    """(cases with ``activity``, cases without it), as Ibis tables of ``case_id``."""
    cases = events.select(CASE).distinct()
    hit = events.filter(events[ACTIVITY] == activity).select(CASE).distinct()
    return hit, cases.anti_join(hit, CASE)


def nps_groups(store: Store, events: Any) -> tuple[Any, Any]:
    """(cases of promoters, cases of detractors) of a journey log (:func:`~centric.flows.log.journey_log`):
    a customer is a promoter (NPS 9–10) or a detractor (0–6) by the latest answer with an NPS."""
    con = store.ibis
    r = con.table("responses")
    r = r.filter(r.nps.notnull() & r.customer_id.notnull())
    latest = r.group_by("customer_id").aggregate(at=r.responded_at.max())
    last = r.join(latest, [r.customer_id == latest.customer_id, r.responded_at == latest.at])
    score = last.group_by("customer_id").aggregate(nps=last.nps.max())
    cases = events.select(CASE).distinct()
    cases = cases.mutate(customer_id=cases[CASE].re_replace(r"#[0-9]+$", ""))
    j = cases.join(score, "customer_id")
    return j.filter(j.nps >= 9).select(CASE), j.filter(j.nps <= 6).select(CASE)
