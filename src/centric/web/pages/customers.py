"""The customer pages: ``/customers?q=`` (search by id, e-mail, phone, handle, card or name) and
``/customers/{id}`` (who they are, their scores, merges, cases and whole timeline).

The service team sees identities in full (they are how a customer is recognised on the phone); they are
never logged. An agent sees only customers with at least one case in the agent's departments (any other
is a 404), and of the customer's cases only those of the agent's departments are links — the others say
"case in another department" and nothing more.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...cases.timeline import find_customers, timeline
from ...errors import CentricError
from ...privacy import merged_into
from ..deps import reader, render, require
from ..i18n import url
from ..permissions import Actor, case_scope
from .cases import TIMELINE_ITEMS, common, visible_items

router = APIRouter()

PAGE_SIZE = 50


@router.get("/customers")
def customers(request: Request, actor: Actor = Depends(require("customer.read"))) -> Response:
    p = request.query_params
    store = reader(request)
    q = (p.get("q") or "").strip()[:200]
    scope = case_scope(actor)
    try:
        page = max(int(p.get("page") or 1), 1)
    except ValueError:
        page = 1
    rows, total = find_customers(store, q, departments=scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    ctx = common(request, actor)
    return render(request, "customers.html", {
        **ctx, "title": ctx["tr"]("Customers"), "rows": rows, "q": q, "total": total, "page": page,
        "pages": pages, "link": lambda **change: url("/customers", **{"q": q or None, **change})})


@router.get("/customers/{customer_id}")
def customer(request: Request, customer_id: str, actor: Actor = Depends(require("customer.read"))) -> Response:
    store = reader(request)
    full = request.query_params.get("timeline") == "all"
    try:
        tl = timeline(store, customer_id, limit=None if full else TIMELINE_ITEMS, count=False, brief=True)
    except CentricError:
        raise HTTPException(404, "there is no such customer") from None
    items = visible_items(actor, tl)
    cases = [i for i in items if i["kind"] == "case"]
    scope = case_scope(actor)
    if scope is not None and not any(not c["hidden"] for c in cases):
        raise HTTPException(404, "there is no such customer")  # no case of the agent's departments
    if tl.profile.customer_id != customer_id:  # a merged id, or an identity: the customer's own page
        return RedirectResponse(url(f"/customers/{tl.profile.customer_id}"), status_code=303)
    ctx = common(request, actor)
    return render(request, "customer.html", {
        **ctx, "title": tl.profile.name or tl.profile.customer_id, "timeline": tl, "timeline_error": None,
        "customer_page": True,
        "items": items, "cases": cases, "timeline_full": full, "timeline_limit": TIMELINE_ITEMS,
        "merged_into": merged_into(store, customer_id)})
