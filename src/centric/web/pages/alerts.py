"""Alerts: emerging issues (factors whose share of negative mentions rose significantly) and customers
going quiet, each with one button that opens a proactive-contact case for the service team
(``centric.cases.proactive`` with that customer only, through the hub; audited)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from .. import audit, deps
from ..deps import render, require
from ..permissions import Actor, allowed

router = APIRouter()

SHOWN = 50  # customers listed: those still to call first


def _any_of(*actions: str):
    """A dependency: the actor when it may take any of ``actions`` (else 403, or sign-in)."""
    from fastapi import HTTPException

    base = require(deps.SIGNED_IN)

    async def dependency(request: Request) -> Actor:
        actor = await base(request)
        if not any(allowed(actor, a) for a in actions):
            raise HTTPException(403, "you may not do this")
        return actor

    dependency.action = actions[0]  # type: ignore[attr-defined]  # read by the authorisation matrix test
    return dependency


def _emerging(store, lang: str) -> list[dict[str, Any]]:
    from ...drivers import emerging
    from ...drivers.analysis import OURS, mentions_frame
    from ...text.taxonomy import active_taxonomy

    m = mentions_frame(store)
    if not len(m):
        return []
    m = m[(m["brand"] == OURS) & (m["kind"] != "complaint")]
    names = {f.id: f.name(lang) for f in active_taxonomy(store).factors}
    return [{"id": r.factor, "name": names.get(r.factor, r.factor), "now": r.negative_share,
             "before": r.previous_share, "n": int(r.n), "previous_n": int(r.previous_n), "period": r.period,
             "previous": r.previous, "p": r.p_adjusted} for r in emerging(m, "month").itertuples()]


def _customers(store) -> tuple[list[dict[str, Any]], str | None]:
    from ...cases.proactive import contacts

    try:
        c = contacts(store)
    except CentricError as e:
        return [], str(e)
    # those still to call first (in the order they are served), then those already handled
    c = c.assign(_done=c["why"].notna()).sort_values("_done", kind="stable").head(SHOWN)

    def v(x):
        return None if x is None or (isinstance(x, float) and pd.isna(x)) or x is pd.NA else x

    return [{"id": r.customer_id, "reason": r.reason, "risk": v(r.value_at_risk), "currency": v(r.currency) or "",
             "p": v(r.p_alive), "silent": v(r.days_silent), "gap": v(r.usual_gap_days), "why": v(r.why),
             "case_id": v(r.case_id)} for r in c.itertuples()], None


@router.get("/alerts", include_in_schema=False)
def alerts(request: Request, actor: Actor = Depends(_any_of("alert.act", "dashboard.read"))) -> Response:
    store = deps.reader(request)
    lang = deps.language(request, actor)
    customers, why_none = _customers(store)
    q = request.query_params
    return render(request, "alerts.html", {
        "title": "Alerts", "issues": _emerging(store, lang), "customers": customers, "why_none": why_none,
        "may_act": allowed(actor, "alert.act"), "may_read_cases": allowed(actor, "case.read"),
        "opened": q.get("opened"), "refused": q.get("refused"), "customer": q.get("customer")})


@router.post("/alerts/proactive", include_in_schema=False)
def proactive_case(request: Request, customer_id: str = Form(...),
                   actor: Actor = Depends(require("alert.act"))) -> Response:
    """Open a proactive-contact case for one customer of the alerts; a customer who has one from this
    scoring, an open case or a recent contact gets none (the page says why)."""
    from ...cases.proactive import proactive

    customer_id = customer_id.strip()
    result = deps.hub(request).write(proactive, customers=[customer_id], daily_cap=10 ** 6)
    if len(result.opened):
        case_id = str(result.opened["case_id"].iloc[0])
        deps.hub(request).write(audit.record, actor, "case.proactive", "case", case_id,
                                {"customer_id": customer_id}, deps.client_ip(request))
        return RedirectResponse(f"/alerts?opened={case_id}", status_code=303)
    why = str(result.skipped["why"].iloc[0]) if len(result.skipped) else "deferred"
    return RedirectResponse(f"/alerts?refused={why}&customer={customer_id}", status_code=303)
