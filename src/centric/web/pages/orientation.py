"""Staff customer-orientation in the web app: the scores (by unit with intervals, by quarter, the self-vs-manager gap,
the stores next to their customers' scores) and the assessment form.

Who sees what: analysts and admins (``dashboard.read``) the whole company; a unit's manager (``units.manager``,
their agent name) the scores of the units they manage. Assessing (``orientation.assess``): a manager assesses the
employees of their own units only, an admin anyone — checked on the server for the employee posted (another unit's
employee is a 404, as if they did not exist). The self view comes from the employee's own signed link (``/o/TOKEN``,
public like ``/s/TOKEN``: no sign-in, no CSRF token — the token is the secret) or is entered by the manager on the
employee's behalf. Every assessment goes through the hub's writer; the managers' go into the audit log (ids only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from .. import audit, deps
from ..deps import SIGNED_IN, render, require
from ..permissions import Actor, allowed

router = APIRouter()


def read_scope(actor: Actor, action: str, managed):
    """The units whose figures ``actor`` may read: None for all (dashboard readers), else ``managed(actor.agent)``,
    those they manage — for an actor who may take ``action`` (403 otherwise)."""
    if allowed(actor, "dashboard.read"):
        return None
    if not allowed(actor, action):
        raise HTTPException(403, "you may not do this")
    return managed(actor.agent)


def _reader_scope(actor: Actor, store) -> list[str] | None:
    from ...orientation import managed_units

    return read_scope(actor, "orientation.assess", lambda agent: managed_units(store, agent))


def _assess_scope(actor: Actor, store) -> list[str]:
    """The units whose employees ``actor`` may assess."""
    from ...orientation import managed_units

    return managed_units(store, None if actor.role == "admin" else actor.agent)


@router.get("/orientation", include_in_schema=False)
def orientation_page(request: Request, actor: Actor = Depends(require(SIGNED_IN))) -> Response:
    from ...orientation import assessments_frame
    from ...orientation.present import OrientationReport, section
    from ...report import charts_json
    from ...report.i18n import Formatter

    store = deps.reader(request)
    scope = _reader_scope(actor, store)
    lang = deps.language(request, actor)
    f = Formatter(lang)
    ctx: dict[str, Any] = {"title": f.gettext("Staff customer orientation"), "scoped": scope is not None,
                           "units": scope, "may_assess": allowed(actor, "orientation.assess") and bool(
                               _assess_scope(actor, store)), "section": None, "charts": "{}"}
    df = assessments_frame(store)
    if scope is not None:
        df = df[df["unit"].isin(scope)]
    if len(df):
        from ...orientation import gap, scores, units_vs_customers

        link = units_vs_customers(store, frame=df)
        if scope is not None:  # a manager: their stores only
            link = type(link)(link.table[link.table["unit"].isin(scope)].reset_index(drop=True), link.correlations)
        data = OrientationReport(
            scores(store, "unit", frame=df), scores(store, "unit", "self", frame=df), scores(store, "period", frame=df),
            scores(store, "criterion", frame=df), scores(store, ("unit", "criterion"), frame=df),
            gap(store, frame=df), link, len(df), int(df["employee_id"].nunique()))
        specs: dict[str, Any] = {}
        ctx["section"] = section(data, f, specs)
        if scope is not None:
            ctx["section"]["correlations"] = []  # across a manager's few stores a correlation says nothing
        ctx["charts"] = charts_json(specs)
    return render(request, "orientation.html", ctx)


def _employee(request: Request, actor: Actor, employee_id: str) -> dict[str, Any]:
    """The employee when ``actor`` may assess them; 404 otherwise (another unit's employee is not told to exist)."""
    from ...orientation import employee_unit

    emp = employee_unit(deps.reader(request), employee_id)
    if emp is None or emp["left_at"] is not None or not allowed(actor, "orientation.assess", {"manager": emp["manager"]}):
        raise HTTPException(404, "there is no such employee in the units you manage")
    return emp


@router.get("/orientation/assess", include_in_schema=False)
def assess_page(request: Request, actor: Actor = Depends(require("orientation.assess"))) -> Response:
    from ...orientation import CRITERIA, SCALE, VIEWS, anchor, team

    store = deps.reader(request)
    lang = deps.language(request, actor)
    units = _assess_scope(actor, store)
    q = request.query_params
    emp, view = None, q.get("view") or "manager"
    if view not in VIEWS:
        raise HTTPException(422, f"view: {view!r} is not one of {', '.join(VIEWS)}")
    if q.get("employee"):
        emp = _employee(request, actor, q["employee"])
    people = team(store, units).to_dict("records")
    return render(request, "orientation_assess.html", {
        "title": "Assess customer orientation", "units": units, "people": people, "employee": emp, "view": view,
        "criteria": [{"id": c.id, "name": c.name(lang), "description": c.description(lang)} for c in CRITERIA],
        "scale": [(p, anchor(p, lang)) for p in SCALE], "done": q.get("done"), "error": q.get("error")})


@router.post("/orientation/assess", include_in_schema=False)
async def assess_post(request: Request, actor: Actor = Depends(require("orientation.assess"))) -> Response:
    from ...orientation import CRITERIA, record_assessment

    form = await request.form()
    employee_id = str(form.get("employee_id") or "").strip()
    view = str(form.get("view") or "")
    if not employee_id:
        raise HTTPException(422, "employee_id: choose the employee to assess")
    emp = _employee(request, actor, employee_id)
    ratings = {c.id: str(form.get(c.id) or "") for c in CRITERIA}
    comment = str(form.get("comment") or "")
    try:
        aid = deps.hub(request).write(record_assessment, employee_id, view, ratings, actor.agent, comment)
    except CentricError as e:
        raise HTTPException(422, str(e)) from None
    deps.hub(request).write(audit.record, actor, "orientation.assess", "employee", employee_id,
                            {"assessment": aid, "view": view, "unit": emp["unit"]}, deps.client_ip(request))
    return RedirectResponse(f"/orientation/assess?done={aid}", status_code=303)


# -- the employee's self-assessment by signed link (public: the token is the secret, as /s/TOKEN) ------------------

def _self_page(request: Request, kind: str, lang: str, status: int, **ctx: Any) -> Response:
    from ...orientation import SCALE, anchor
    from ...orientation.criteria import CRITERIA
    from ...orientation.records import MAX_COMMENT
    from .. import public

    context = {"kind": kind, "period": "", "action": request.url.path, "error": None, "values": {},
               "comment_max": MAX_COMMENT, "switch": kind == "form",
               "criteria": [{"id": c.id, "name": c.name(lang), "description": c.description(lang)} for c in CRITERIA],
               "scale": [(p, anchor(p, lang)) for p in SCALE]}
    context.update(ctx)
    return public._page(request, "orientation_self.html", context, lang, status)


def _self_link(request: Request, token: str):
    """The link's invitation id (None: not a genuine self-assessment token) and the public pages' state."""
    from ...surveys import tokens
    from .. import public

    st = public.state(request)
    return tokens.read(st.secret, token, tokens.ORIENTATION), st


_SELF_CODES = {"already": 409, "expired": 410, "left": 410, "unknown": 404}


@router.get("/o/{token}", include_in_schema=False)
def self_form(request: Request, token: str) -> Response:
    """The self-assessment form of a signed link, in the employee's language (``?lang=`` switches)."""
    import datetime as dt

    from ...orientation.invitations import invitation, state
    from .. import public

    invitation_id, st = _self_link(request, token)
    if st.pages.hit(public._ip(request)):
        return _self_page(request, "busy", public._language(request), 429)
    row = invitation(deps.reader(request), invitation_id) if invitation_id is not None else None
    if row is None:
        st.forged.hit(public._ip(request))
        return _self_page(request, "forged", public._language(request), 404)
    lang = public._language(request, row["language"])
    why = state(row, dt.datetime.now(dt.UTC).date())
    if why is not None:
        return _self_page(request, why, lang, 200 if why == "already" else _SELF_CODES[why])
    return _self_page(request, "form", lang, 200, period=row["period"])


_FIELD_MESSAGES = {
    "not_a_rating": "%(name)s: choose a rating from 1 to 5.",
    "out_of_scale": "%(name)s: choose a rating from 1 to 5.",
    "unknown_field": "“%(name)s” is not a question of this form.",
    "none_rated": "Rate at least one criterion.",
    "too_long": "The comment is too long: at most %(max)s characters.",
}


@router.post("/o/{token}", include_in_schema=False)
async def self_answer(request: Request, token: str) -> Response:
    """The employee's answer: one self view stored for the link's employee and period (through the hub's writer,
    one transaction), or nothing — with a page saying why and a 4xx naming the field at fault."""
    from starlette.concurrency import run_in_threadpool

    from ...orientation.criteria import CRITERIA, criterion
    from ...orientation.invitations import invitation, record
    from ...orientation.records import MAX_COMMENT, RatingError
    from .. import public

    form = await request.form()
    invitation_id, st = _self_link(request, token)
    if invitation_id is None:
        wait = st.forged.hit(public._ip(request))
        lang = public._language(request, fields=form)
        return _self_page(request, "busy" if wait else "forged", lang, 429 if wait else 404)
    ratings: dict[str, Any] = {}
    for name in form:
        if name in ("lang", "comment"):
            continue
        sent = form.getlist(name)
        ratings[name] = sent[0] if len(sent) == 1 and isinstance(sent[0], str) else "?"
    comment = form.get("comment")
    comment = comment if isinstance(comment, str) else ""
    try:
        outcome = await run_in_threadpool(deps.hub(request).write, record, int(invitation_id), ratings, comment)
    except RatingError as e:
        row = await run_in_threadpool(lambda: invitation(deps.reader(request), int(invitation_id)))  # that thread's reader
        lang = public._language(request, row["language"] if row else None, fields=form)
        from ...report.i18n import translations

        try:
            name = criterion(e.field).name(lang)
        except KeyError:
            name = e.field
        message = translations(lang).gettext(_FIELD_MESSAGES[e.code]) % {"name": name, "max": f"{MAX_COMMENT:,}"}
        anchor = e.field if e.code in ("not_a_rating", "out_of_scale", "too_long") else CRITERIA[0].id
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return _self_page(request, "form", lang, 422, period=row["period"] if row else "", values=values,
                          error={"field": e.field, "code": e.code, "message": message, "anchor": anchor})
    lang = public._language(request, outcome.language, fields=form)
    if outcome.status == "stored":
        return _self_page(request, "stored", lang, 200)
    if outcome.status == "unknown":
        st.forged.hit(public._ip(request))
        return _self_page(request, "forged", lang, 404)
    return _self_page(request, outcome.status, lang, _SELF_CODES[outcome.status])
