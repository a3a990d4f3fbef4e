"""The customer council: the roster with consent, the members against everyone else, meetings (agenda, attendance,
minutes, decisions, actions) and the action tracker. Reading needs ``dashboard.read``; adding members, recording
meetings and moving actions ``council.manage`` (analysts and admins). Every change goes through the hub's writer
and into the audit log (ids and operation names only, never what was written)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from ...schema import COUNCIL_ACTION_STATUSES, COUNCIL_ATTENDANCE
from .. import audit, deps
from ..deps import render, require
from ..permissions import Actor, allowed

router = APIRouter()
MEMBER_OPS = ("leave", "withdraw", "notes", "consent")
MEETING_OPS = ("agenda", "attendance", "minutes", "decision", "action")


def _records(frame) -> list[dict]:
    """The rows of ``frame`` as dicts, missing values as None (what the templates test for)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _owners(store) -> list[str]:
    from ..auth import list_users

    return sorted(u["email"] for u in list_users(store) if not u.get("disabled_at"))


def _done(request: Request, actor: Actor, action: str, object_type: str, object_id: str, detail: dict | None,
          to: str) -> Response:
    """Write the change to the audit log and send the browser to ``to``."""
    deps.hub(request).write(audit.record, actor, action, object_type, object_id, detail, deps.client_ip(request))
    return RedirectResponse(to, status_code=303)


def _write(request: Request, fn, *args, **kw):
    try:
        return deps.hub(request).write(fn, *args, **kw)
    except CentricError as e:
        raise HTTPException(422, str(e)) from None


@router.get("/council", include_in_schema=False)
def council_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...council import meetings, roster
    from ...council.compare import compare
    from ...text.taxonomy import active_taxonomy

    store = deps.reader(request)
    lang = deps.language(request, actor)
    r = roster(store)
    try:
        names = {f.id: f.name(lang) for f in active_taxonomy(store).factors}
    except CentricError:
        names = {}
    q = request.query_params
    return render(request, "council.html", {
        "title": "Customer council", "roster": _records(r.to_frame()), "current": len(r.current),
        "former": len(r.former), "meetings": _records(meetings(store)), "cmp": compare(store),
        "names": names, "may_manage": allowed(actor, "council.manage"), "may_read_customers": allowed(actor, "customer.read"),
        "show_former": q.get("former") == "1", "done": q.get("done")})


@router.post("/council/members", include_in_schema=False)
def add_member(request: Request, who: str = Form(...), consent: str = Form("council"), joined: str = Form(""),
               consent_date: str = Form(""), role: str = Form(""), notes: str = Form(""), evidence: str = Form(""),
               actor: Actor = Depends(require("council.manage"))) -> Response:
    from ...council import add_member as add

    mid = _write(request, add, who, actor.name, consent, consent_date or None, joined or None, role, notes, evidence)
    return _done(request, actor, "council.add", "council_member", mid, None, "/council?done=added")


@router.post("/council/members/{member_id}", include_in_schema=False)
def change_member(request: Request, member_id: str, op: str = Form(...), purpose: str = Form(""),
                  role: str = Form(""), notes: str = Form(""), on: str = Form(""),
                  actor: Actor = Depends(require("council.manage"))) -> Response:
    from ...council import roster_ops as r

    if r.get_member(deps.reader(request), member_id) is None:
        raise HTTPException(404, "there is no such member")
    if op not in MEMBER_OPS:
        raise HTTPException(422, f"op: {op!r} is not one of {', '.join(MEMBER_OPS)}")
    if op == "leave":
        _write(request, r.leave, member_id, actor.name, on or None)
    elif op == "withdraw":
        _write(request, r.withdraw_consent, member_id, purpose or "council", actor.name)
    elif op == "consent":
        _write(request, r.give_consent, member_id, purpose, actor.name)
    else:
        _write(request, r.update_member, member_id, actor.name, role, notes)
    return _done(request, actor, f"council.{op}", "council_member", member_id,
                 {"purpose": purpose} if purpose and op in ("withdraw", "consent") else None, "/council?done=" + op)


@router.post("/council/meetings", include_in_schema=False)
def add_meeting(request: Request, title: str = Form(...), held_on: str = Form(...), place: str = Form(""),
                agenda: str = Form(""), actor: Actor = Depends(require("council.manage"))) -> Response:
    from ...council import add_meeting as add

    items = [line for line in agenda.splitlines() if line.strip()]
    mid = _write(request, add, title, held_on, actor.name, place, items)
    return _done(request, actor, "council.meeting", "council_meeting", mid, {"items": len(items)},
                 f"/council/meetings/{mid}")


@router.get("/council/meetings/{meeting_id}", include_in_schema=False)
def meeting_page(request: Request, meeting_id: str, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...council import get_meeting

    store = deps.reader(request)
    try:
        m = get_meeting(store, meeting_id)
    except CentricError:
        raise HTTPException(404, "there is no such meeting") from None
    may = allowed(actor, "council.manage")
    return render(request, "council_meeting.html", {
        "title": m.title, "m": m, "agenda": _records(m.agenda),
        "attendance": _records(m.attendance), "decisions": _records(m.decisions),
        "actions": _records(m.actions), "may_manage": may, "owners": _owners(store) if may else [],
        "attendance_states": COUNCIL_ATTENDANCE, "may_read_customers": allowed(actor, "customer.read"),
        "done": request.query_params.get("done")})


@router.post("/council/meetings/{meeting_id}", include_in_schema=False)
def change_meeting(request: Request, meeting_id: str, op: str = Form(...), title: str = Form(""),
                   change: str = Form(""), member_id: str = Form(""), status: str = Form(""), note: str = Form(""),
                   minutes: str = Form(""), item: str = Form(""), text: str = Form(""), what: str = Form(""),
                   owner: str = Form(""), due_on: str = Form(""), decision_id: str = Form(""),
                   actor: Actor = Depends(require("council.manage"))) -> Response:
    from ... import council as c

    store = deps.reader(request)
    try:
        c.get_meeting(store, meeting_id)
    except CentricError:
        raise HTTPException(404, "there is no such meeting") from None
    detail: dict = {"op": op}
    if op == "agenda":
        detail["item"] = _write(request, c.add_agenda_item, meeting_id, title, change or None)
    elif op == "attendance":
        _write(request, c.set_attendance, meeting_id, member_id, status, note or None)
        detail["member"] = member_id
    elif op == "minutes":
        _write(request, c.set_minutes, meeting_id, minutes, actor.name)
    elif op == "decision":
        detail["decision"] = _write(request, c.add_decision, meeting_id, item or None, text, actor.name)
    elif op == "action":
        detail["action"] = _write(request, c.add_action, meeting_id, what, owner, due_on, actor.name,
                                  decision_id=decision_id or None, owners=_owners(store))
    else:
        raise HTTPException(422, f"op: {op!r} is not one of {', '.join(MEETING_OPS)}")
    return _done(request, actor, f"council.{op}", "council_meeting", meeting_id, detail,
                 f"/council/meetings/{meeting_id}?done={op}#{op}")


@router.get("/council/actions", include_in_schema=False)
def actions_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...council import actions

    q = request.query_params
    status = q.get("status") if q.get("status") in COUNCIL_ACTION_STATUSES else None
    overdue = q.get("overdue") == "1"
    a = actions(deps.reader(request), status=status, overdue=overdue)
    return render(request, "council_actions.html", {
        "title": "Action tracker", "rows": _records(a.table), "counts": a.counts(), "as_of": a.as_of,
        "status": status or "", "overdue": overdue, "statuses": COUNCIL_ACTION_STATUSES,
        "may_manage": allowed(actor, "council.manage"), "done": q.get("done")})


@router.post("/council/actions/{action_id}", include_in_schema=False)
def change_action(request: Request, action_id: str, status: str = Form(...),
                  actor: Actor = Depends(require("council.manage"))) -> Response:
    from ...council.meetings import get_action, set_action

    if get_action(deps.reader(request), action_id) is None:
        raise HTTPException(404, "there is no such action")
    _write(request, set_action, action_id, status, actor.name)
    return _done(request, actor, "council.action_status", "council_action", action_id, {"status": status},
                 "/council/actions?done=1")
