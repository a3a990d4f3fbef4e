"""The JSON API, ``/api/v1`` (docs/web.md, "API"); the OpenAPI document at ``/openapi.json`` describes it.

Requests are authenticated with a bearer token (``Authorization: Bearer ctk_…``; ``centric tokens add``); a
signed-in browser session may GET too, never POST. Every decision goes through
:func:`centric.web.permissions.allowed` and lists are filtered by :func:`~centric.web.permissions.case_scope` in
the query: an agent's token sees its departments' cases only, and any other case is a 404. Writes go through the
hub's one writer; rows posted to ``/feedback`` and ``/responses`` go through the same validation as a file
(:func:`centric.ingest.records.ingest_records`), then the background work is woken so that a complaint is
analysed and placed in its case within seconds.

Views are thin: they parse, ask the core (``centric.cases``, ``centric.metrics``, ``centric.drivers``) and
answer its JSON objects; errors are ``{"detail": …}`` with 401, 403, 404, 409 or 422.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from ...errors import CaseError, CentricError
from ...schema import CASE_STATUSES
from .. import audit, deps, errors, scheduler
from ..permissions import Actor, allowed, case_scope
from .models import (
    CONTROL,
    FEEDBACK_EXAMPLE,
    NAME_PATTERN,
    RESPONSE_EXAMPLE,
    CaseDetail,
    CaseEventBody,
    CaseList,
    CaseOutcome,
    CloseBody,
    Error,
    PostResult,
    RejectedResult,
    Row,
)

__all__ = ["MAX_ROWS", "router"]

MAX_ROWS = 5000
"""Most rows one POST may carry."""

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "No valid bearer token (or session, for GET)."},
    403: {"model": Error, "description": "The token's role may not do this."},
    422: {"model": Error, "description": "A body or parameter that does not validate: `detail` says which (a "
               "list of problems with their location, or a sentence)."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Error, "description": "No such case, or not in the "
                                                    "token's departments."}}

router = APIRouter(prefix="/api/v1", responses=ERRORS)


# -- posting rows ---------------------------------------------------------------------------------------------

def _rows(body: Row | list[Row]) -> list[Row]:
    rows = [body] if isinstance(body, dict) else list(body)
    if not rows:
        raise HTTPException(422, "no rows given: post one object or a list of objects")
    if len(rows) > MAX_ROWS:
        raise HTTPException(422, f"{len(rows):,} rows in one request; post at most {MAX_ROWS:,} at a time")
    return rows


def _post(table: str, body: Row | list[Row], actor: Actor, hub) -> Any:
    from ...ingest.records import ingest_records

    rows = _rows(body)
    now = dt.datetime.now(dt.UTC)
    who = actor.name.removeprefix("token:")
    source = f"api:{table}:{who}:{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
    try:
        result = hub.write(ingest_records, table, rows, source)
    except CentricError as e:
        raise HTTPException(422, str(e)) from e
    hub.write(audit.record, actor, "feedback.post", table, result.run_id and str(result.run_id),
              {"rows": len(rows), "stored": result.rows_new, "rejected": result.rows_rejected})
    if result.rows_new:
        scheduler.wake(hub)
    answer = {"table": table, "source": source, "run_id": result.run_id, "stored": result.stored,
              "ignored_columns": result.ignored_columns,
              "notes": [n for n in result.notes if "--replace" not in n]}  # the CLI's advice means nothing here
    if result.rejected:
        n = result.rows_rejected
        detail = (f"{n:,} of {len(rows):,} rows rejected (kept with their reasons in rejected_rows, run "
                  f"{result.run_id}: centric rejected --run {result.run_id})"
                  + ("; the others are stored" if result.stored else "; nothing was stored"))
        return JSONResponse(RejectedResult(detail=detail, rejected=result.rejected, **answer).model_dump(),
                            status_code=422)
    return PostResult(**answer)


_POST_DOC = (" One object or a list (at most {max} rows), with the columns a file would have; the same "
             "validation as `centric ingest`. 201: every row stored (or stored before); the ids are the rows' keys, "
             "derived from the content when not given. 422: the rejected rows with index, column and reason — "
             "kept in rejected_rows — and the stored ones' ids. New texts are then analysed and placed in cases "
             "within seconds.")
REJECTED: dict[int | str, dict[str, Any]] = {422: {
    "model": RejectedResult | Error,
    "description": "Rows rejected — each with its index, column and reason, the rest stored — or a body that cannot be "
                   "read at all (`detail` only)."}}


@router.post("/feedback", status_code=201, response_model=PostResult, responses=REJECTED, tags=["data"],
             summary="Post feedback: complaints, reviews, posts, chats…",
             description="Feedback texts (table feedback)." + _POST_DOC.format(max=MAX_ROWS))
def post_feedback(body: Annotated[Row | list[Row], Body(examples=[FEEDBACK_EXAMPLE, [FEEDBACK_EXAMPLE]])],
                  actor: Actor = Depends(deps.require("feedback.post")), hub=Depends(deps.hub)):
    return _post("feedback", body, actor, hub)


@router.post("/responses", status_code=201, response_model=PostResult, responses=REJECTED, tags=["data"],
             summary="Post survey answers", description="Survey answers (table responses)." + _POST_DOC.format(
                 max=MAX_ROWS))
def post_responses(body: Annotated[Row | list[Row], Body(examples=[RESPONSE_EXAMPLE, [RESPONSE_EXAMPLE]])],
                   actor: Actor = Depends(deps.require("feedback.post")), hub=Depends(deps.hub)):
    return _post("responses", body, actor, hub)


# -- cases ----------------------------------------------------------------------------------------------------

CaseId = Annotated[str, Path(min_length=1, max_length=100, pattern=NAME_PATTERN, examples=["CX-0000042"])]
Status = Literal[CASE_STATUSES]  # type: ignore[valid-type]


@router.get("/cases", response_model=CaseList, tags=["cases"], summary="List cases",
            description="The cases the token may read, the most urgent first (priority, then the oldest).")
def get_cases(status: Annotated[list[Status] | None, Query(description="One or more statuses (repeat).")] = None,
              department: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
              owner: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
              overdue: Annotated[bool, Query(description="Only cases with a running clock past due.")] = False,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
              actor: Actor = Depends(deps.require("case.read")), hub=Depends(deps.hub)):
    from ...cases.views import list_cases

    store = hub.reader()  # this thread's reader (a dependency may run on another thread)
    cases = list_cases(store, status=status or None, department=department, owner=owner, overdue=overdue,
                       limit=limit, offset=offset, departments=case_scope(actor))
    return {"cases": cases, "limit": limit, "offset": offset}


def _case(store, actor: Actor, case_id: str, action: str = "case.read") -> dict[str, Any]:
    """The case's object with its clocks' states as at now (as the case page shows them: a clock past due reads
    breached before the next tick records it), or 404 when there is none or the actor may not take ``action``
    on it."""
    from ...cases.views import live_case, show_case

    try:
        case = show_case(store, case_id)
    except CaseError:
        raise HTTPException(404, f"there is no case {case_id!r}") from None
    if not allowed(actor, action, case):
        raise HTTPException(404, f"there is no case {case_id!r}")
    return live_case(case)


def _readable(store, actor: Actor, case_id: str) -> dict[str, Any] | None:
    try:
        return _case(store, actor, case_id)
    except HTTPException:
        return None


def _case_for(action: str):
    """A dependency: (the actor, the case of the path) when the actor may take ``action`` on it — checked before
    the body is read, so a case outside the actor's departments is a 404 whatever was posted."""
    need = deps.require(action)

    def dependency(case_id: CaseId, actor: Actor = Depends(need), hub=Depends(deps.hub)):
        store = hub.reader()  # this thread's reader (a dependency may run on another thread)
        return actor, _case(store, actor, case_id, action)

    return dependency


READ_CASE, ACT_ON_CASE = _case_for("case.read"), _case_for("case.act")


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=NOT_FOUND, tags=["cases"],
            summary="One case", description="The case with its clocks (their states as at the request, as the "
            "case page shows them), root cause, action, summary and events.")
def get_case(case_id: CaseId, access=Depends(READ_CASE)):
    return access[1]


def _act(hub, actor: Actor, case_id: str, what: str, fn, *args, **kw) -> dict[str, Any]:
    """Run workflow ``fn`` on the case (the actor may: see ``ACT_ON_CASE``); 409 / 422 when the workflow refuses."""
    try:
        out = hub.write(fn, case_id, *args, actor=actor.agent, **kw)
    except CaseError as e:
        raise HTTPException(errors.case_status(e), str(e)) from e
    token = None
    if isinstance(out, str):  # resolve answers the customer's one-time token
        token, out = out, None
    hub.write(audit.record, actor, f"case.{what}", "case", case_id, {"via": "api"})
    scheduler.wake(hub, ("webhooks",))  # the event goes out without waiting for the next round
    now = _readable(hub.reader(), actor, out.case_id if out else case_id)
    return {"case_id": out.case_id if out else case_id, "status": now["status"] if now else out.status,
            "action": out.action if out else "resolved", "linked_from": out.linked_from if out else None,
            "token": token, "case": now}


@router.post("/cases/{case_id}/events", response_model=CaseOutcome, responses={**NOT_FOUND, 409: {
    "model": Error, "description": "The case's state does not allow it (the detail says what to do instead)."}},
             tags=["cases"], summary="Act on a case: comment, note, assign, transfer, status")
def post_case_event(case_id: CaseId, body: Annotated[CaseEventBody, Body(examples=[
        {"kind": "comment", "text": "We are sorry: the courier will call you tomorrow before 10."},
        {"kind": "transfer", "department": "delivery", "note": "wrong address again"},
        {"kind": "status", "status": "in_progress"}])],
                    access=Depends(ACT_ON_CASE), hub=Depends(deps.hub)):
    from ...cases import workflow as w

    actor = access[0]
    if body.kind == "comment":
        return _act(hub, actor, case_id, "comment", w.comment, body.text)
    if body.kind == "note":
        return _act(hub, actor, case_id, "note", w.note, body.text)
    if body.kind == "assign":
        return _act(hub, actor, case_id, "assign", w.assign, body.owner)
    if body.kind == "transfer":
        return _act(hub, actor, case_id, "transfer", w.transfer, body.department, note=body.note,
                    owner=body.owner or None)
    if body.status == "reopened" and not (body.note or "").strip():
        raise HTTPException(422, "reopening a case needs the reason in 'note'")
    fn, kw = {"in_progress": (w.start, {}), "waiting": (w.wait, {"note": body.note}),
              "resolved": (w.resolve, {"note": body.note}), "reopened": (w.reopen, {"reason": body.note})}[body.status]
    return _act(hub, actor, case_id, body.status, fn, **kw)


@router.post("/cases/{case_id}/close", response_model=CaseOutcome, responses={**NOT_FOUND, 409: {
    "model": Error, "description": "The case is not resolved yet (resolve it first)."}}, tags=["cases"],
             summary="Close a case with its root cause and the action taken",
             description="422 without a root cause or an action, or with a root cause that is not a factor of the "
                         "taxonomy (or `other`).")
def post_close(case_id: CaseId, body: CloseBody, access=Depends(ACT_ON_CASE), hub=Depends(deps.hub)):
    from ...cases import workflow as w

    store = hub.reader()  # this thread's reader (a dependency may run on another thread)
    root, action = body.root_cause.strip(), body.action.strip()
    if not root or not action:
        raise HTTPException(422, f"case {case_id} cannot be closed without "
                            + " and ".join(x for x, v in (("a root cause", root), ("the action taken", action)) if not v))
    causes = w.root_causes(store)
    if root not in causes:
        raise HTTPException(422, f"root cause {root!r} is not a factor of the taxonomy; use one of: "
                            f"{', '.join(causes)}")
    return _act(hub, access[0], case_id, "close", w.close, root_cause=root, action=action,
                sub_cause=body.sub_cause, note=body.note)


# -- customers, metrics, drivers ------------------------------------------------------------------------------

@router.get("/customers/{customer_id}/timeline", responses=NOT_FOUND, tags=["customers"],
            summary="A customer's timeline",
            description="The customer's profile, latest scores and everything that happened, newest first: orders, "
                        "answers, posts, cases and case events (as `centric customers timeline --json`).")
def get_timeline(customer_id: Annotated[str, Path(min_length=1, max_length=200, pattern=NAME_PATTERN,
                                                  examples=["C0000042"])],
                 limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
                 actor: Actor = Depends(deps.require("customer.read")), hub=Depends(deps.hub)) -> dict[str, Any]:
    from ...cases.timeline import timeline

    store = hub.reader()  # this thread's reader (a dependency may run on another thread)
    try:
        t = timeline(store, customer_id, limit=limit)
    except CentricError:
        raise HTTPException(404, f"there is no customer {customer_id!r}") from None
    scope = case_scope(actor)
    if scope is not None:
        ids = [t.profile.customer_id, *t.profile.merged_ids]
        c = store.table("cases")
        mine = c.filter(c.customer_id.isin(ids) & c.department.isin(list(scope))).count().execute()
        if not mine:
            raise HTTPException(404, f"there is no customer {customer_id!r}")
    return t.to_dict()


def _bounds(from_: str | None, to: str | None):
    from ...metrics.periods import parse_bound

    try:
        start, end = parse_bound(from_), parse_bound(to)
    except CentricError as e:
        raise HTTPException(422, str(e)) from e
    if start is not None and end is not None and end <= start:
        raise HTTPException(422, f"to: {to} must come after from {from_} (from is the first day included, to the "
                            "first day excluded)")
    return start, end


@router.get("/metrics/{name}", tags=["analytics"], summary="A metric (as `centric metrics NAME --json`)",
            description="NPS, CSAT, CES with n and 95% intervals, or the complaint (case) metrics; broken down by "
                        "the groups of `by` and limited to [from, to).")
def get_metric(name: Literal["nps", "csat", "ces", "complaints"],
               by: Annotated[list[str], Query(description="Groups (repeat, or comma-separate): day, week, month, "
                                                          "quarter, year, survey, channel, touchpoint, segment, …; "
                                                          "complaints: type, channel, department, …")] = [],  # noqa: B006
               from_: Annotated[str | None, Query(alias="from", max_length=20, examples=["2026-01"])] = None,
               to: Annotated[str | None, Query(max_length=20, examples=["2026-07"])] = None,
               correction: Literal["holm", "bh", "none"] = "holm",
               actor: Actor = Depends(deps.require("dashboard.read")), hub=Depends(deps.hub)) -> Any:
    from ...metrics.named import payload

    store = hub.reader()  # this thread's reader (a dependency may run on another thread)
    groups = [b.strip() for item in by for b in item.split(",") if b.strip()]
    if any(re.search(CONTROL, g) for g in groups):
        raise HTTPException(422, "by: a group name cannot hold control characters")
    start, end = _bounds(from_, to)
    try:
        return payload(store, name, groups, start, end, correction)
    except CentricError as e:
        raise HTTPException(422, str(e)) from e


@router.get("/drivers", tags=["analytics"], summary="Key drivers (as `centric drivers --json`)",
            description="Importance and perception of each factor, competitors, the action matrix and emerging "
                        "issues.")
def get_drivers(brand: Annotated[str, Query(min_length=1, max_length=200, pattern=NAME_PATTERN)] = "ours",
                outcome: Literal["nps", "csat", "ces", "rating"] | None = None,
                period: Literal["month", "quarter"] = "month",
                performance: Literal["net", "gap"] = "net",
                importance: Literal["relative_weight", "lmg"] = "relative_weight",
                reps: Annotated[int, Query(ge=0, le=1000)] = 200,
                crosshair: Literal["neutral", "competitors", "relative"] | None = None,
                actor: Actor = Depends(deps.require("dashboard.read")), hub=Depends(deps.hub)) -> Any:
    from ...drivers import drivers
    from ...metrics.named import to_json

    store = hub.reader()  # this thread's reader (a dependency may run on another thread)
    try:
        d = drivers(store, brand=brand, outcome=outcome, period=period, performance=performance,
                    importance_by=importance, reps=reps, crosshair_at=crosshair)
    except CentricError as e:
        raise HTTPException(422, str(e)) from e
    import json

    return json.loads(to_json(d.to_dict()))
