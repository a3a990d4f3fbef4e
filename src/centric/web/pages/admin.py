"""Administration: settings (the routing table and the service-level policy as TOML, calendars, taxonomy
factors, the settings registry), users and API tokens, the audit log, and erasing a customer.

Every change goes through the hub and is audited; a file that does not validate is shown again with the
error (file line and key) beside it and nothing is saved (422).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from .. import audit, auth, deps
from ..deps import render, require
from ..permissions import ROLES, Actor

router = APIRouter()

AUDIT_PAGE = 50
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# -- settings ---------------------------------------------------------------------------------------------

def _hours(intervals) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}" for a, b in intervals) or "—"


def _calendars(policy) -> list[dict[str, Any]]:
    """The policy's calendars as rows: name, time zone, hours per weekday, holidays."""
    return [{"name": name, "timezone": c.timezone, "hours": [_hours(h) for h in c.hours],
             "holidays": sorted(c.holidays), "default": name == policy.default_calendar}
            for name, c in policy.calendars.items()]


def _settings_page(request: Request, actor: Actor, status: int = 200, **override: Any) -> Response:
    from ... import settings as registry
    from ...cases import config
    from ...text.taxonomy import active_taxonomy, store_factor_rows, store_taxonomy_name

    store = deps.reader(request)
    lang = deps.language(request, actor)
    texts = {name: config.active_text(store, name)[0] for name in config.CONFIG_NAMES}
    texts.update(override.pop("texts", {}))
    try:
        routing, policy = config.active(store)
        calendars = _calendars(policy)
    except CentricError:
        calendars = []
    taxonomy = active_taxonomy(store)
    added = {r["id"]: r for r in store_factor_rows(store)}
    factors = [{"id": f.id, "name": f.name(lang), "names": f.names, "examples": sum(len(v) for v in f.examples.values()),
                "added": added.get(f.id)} for f in taxonomy.factors]
    values = [{"name": s.name, "value": value, "default": s.default, "env": s.env, "help": s.help, "error": error}
              for s, value, error in registry.effective()]
    ctx = {"title": "Settings", "texts": texts, "errors": {}, "saved": request.query_params.get("saved"),
           "history": config.history(store), "calendars": calendars, "weekdays": WEEKDAYS,
           "taxonomy": store_taxonomy_name(store), "factors": factors, "settings": values,
           "factor_form": {}, "factor_error": None, "languages": ("en", "pl", "ru", "it")}
    ctx.update(override)
    return render(request, "settings.html", ctx, status=status)


@router.get("/settings", include_in_schema=False)
def settings_page(request: Request, actor: Actor = Depends(require("admin.config"))) -> Response:
    return _settings_page(request, actor)


def _save_config(store, name: str, text: str, actor: Actor, ip: str) -> None:
    from ...cases import config

    with store.transaction():
        config.save(store, name, text, f"web: {actor.name}", audit.now())
        audit.write(store, actor.name, actor.role, "config.save", "case_config", name, {"lines": text.count("\n") + 1},
                    ip)


@router.post("/settings/factors", include_in_schema=False)
async def add_factor(request: Request, actor: Actor = Depends(require("admin.config"))) -> Response:
    """Add a factor to the store's taxonomy: id, names in the four languages, keywords and phrases."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("id", "name_en", "name_pl", "name_ru", "name_it", "keywords")}
    return await run_in_threadpool(_add_factor, request, actor, fields)


def _add_factor(request: Request, actor: Actor, fields: dict[str, str]) -> Response:
    from ...text.taxonomy import add_store_factor

    keywords = [k.strip() for line in fields["keywords"].splitlines() for k in line.split(",") if k.strip()]
    names = {lang: fields[f"name_{lang}"] for lang in ("en", "pl", "ru", "it")}

    def add(store):
        f = add_store_factor(store, fields["id"].strip().lower(), names, {"en": keywords}, by=actor.name)
        audit.record(store, actor, "taxonomy.add_factor", "factor", f.id, {"keywords": len(keywords)},
                     deps.client_ip(request))
        return f

    try:
        deps.hub(request).write(add)
    except CentricError as e:
        return _settings_page(request, actor, 422, factor_form=fields, factor_error=str(e))
    return RedirectResponse("/settings?saved=factor#factors", status_code=303)


@router.post("/settings/{kind}", include_in_schema=False)
def save_settings(request: Request, kind: str, text: str = Form(""),
                  actor: Actor = Depends(require("admin.config"))) -> Response:
    """Save the routing table (``routing``) or the service-level policy (``sla``): validated with the
    other active file; an error is shown beside the field (422) and nothing is saved."""
    from ...cases.config import CONFIG_NAMES, CaseConfigError

    name = kind
    if name not in CONFIG_NAMES:
        raise HTTPException(404, "there is no such page")
    text = text.replace("\r\n", "\n")
    try:
        deps.hub(request).write(_save_config, name, text, actor, deps.client_ip(request))
    except CaseConfigError as e:  # the file is named by its kind in the message, not by who saved it
        message = str(e).replace(f"web: {actor.name}", name, 1)
        return _settings_page(request, actor, 422, texts={name: text}, errors={name: message})
    return RedirectResponse(f"/settings?saved={name}#{name}", status_code=303)


# -- users and tokens ---------------------------------------------------------------------------------------

def _users_page(request: Request, actor: Actor, status: int = 200, **override: Any) -> Response:
    store = deps.reader(request)
    try:
        departments = auth.known_departments(store)
    except CentricError:
        departments = ()
    ctx = {"title": "Users", "users": auth.list_users(store), "tokens": auth.list_tokens(store),
           "departments": departments, "roles": ROLES, "error": None, "form": {}, "new_token": None,
           "done": request.query_params.get("done"), "me": actor.id}
    ctx.update(override)
    return render(request, "users.html", ctx, status=status)


@router.get("/users", include_in_schema=False)
def users_page(request: Request, actor: Actor = Depends(require("admin.users"))) -> Response:
    return _users_page(request, actor)


async def _form(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}, [str(v) for v in form.getlist("departments")]


@router.post("/users", include_in_schema=False)
async def add_user(request: Request, actor: Actor = Depends(require("admin.users"))) -> Response:
    from starlette.concurrency import run_in_threadpool

    fields, departments = await _form(request)

    def run() -> Response:
        try:
            deps.hub(request).write(
                auth.add_user, fields.get("email", ""), fields.get("role", ""), fields.get("password", ""),
                departments=departments, name=fields.get("name") or None, language=fields.get("language") or None,
                agent=fields.get("agent") or None, by=actor, ip=deps.client_ip(request))
        except CentricError as e:
            kept = {k: v for k, v in fields.items() if k not in ("password", "csrf_token")}
            return _users_page(request, actor, 422, error=str(e), form={**kept, "departments": departments})
        return RedirectResponse("/users?done=added", status_code=303)

    return await run_in_threadpool(run)


def _user_or_404(request: Request, user_id: str) -> dict[str, Any]:
    user = auth.get_user(deps.reader(request), user_id=user_id)
    if user is None:
        raise HTTPException(404, "there is no such user")
    return user


@router.post("/users/{user_id}/{change}", include_in_schema=False)
async def change_user(request: Request, user_id: str, change: str,
                      actor: Actor = Depends(require("admin.users"))) -> Response:
    """``set`` (role, departments, language), ``disable`` or ``enable`` a user. An admin cannot disable
    nor demote themselves (the store would be left without anyone to undo it)."""
    from starlette.concurrency import run_in_threadpool

    if change not in ("set", "disable", "enable"):
        raise HTTPException(404, "there is no such page")
    fields, departments = await _form(request)

    def run() -> Response:
        user = _user_or_404(request, user_id)
        kw: dict[str, Any] = {"by": actor, "ip": deps.client_ip(request)}
        if change == "set":
            kw.update(role=fields.get("role") or None, departments=departments,
                      language=fields.get("language", "") if "language" in fields else None)
        else:
            kw["enabled"] = change == "enable"
        try:
            if user_id == actor.id and (change == "disable" or kw.get("role") not in (None, "admin")):
                raise CentricError("you cannot disable yourself nor take your own admin role; ask another admin")
            deps.hub(request).write(auth.set_user, user["email"], **kw)
        except CentricError as e:
            return _users_page(request, actor, 422, error=str(e))
        return RedirectResponse(f"/users?done={change}", status_code=303)

    return await run_in_threadpool(run)


@router.post("/users/tokens", include_in_schema=False)
async def add_token(request: Request, actor: Actor = Depends(require("admin.users"))) -> Response:
    """A new API token, shown once on the page that answers (only its hash is kept)."""
    from starlette.concurrency import run_in_threadpool

    fields, departments = await _form(request)

    def run() -> Response:
        try:
            token, row = deps.hub(request).write(auth.add_token, fields.get("name", ""), fields.get("role", ""),
                                                 departments, by=actor)
        except CentricError as e:
            return _users_page(request, actor, 422, error=str(e))
        return _users_page(request, actor, new_token={"token": token, "name": row["name"]})

    response = await run_in_threadpool(run)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/users/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(request: Request, token_id: str, actor: Actor = Depends(require("admin.users"))) -> Response:
    rows = auth.list_tokens(deps.reader(request), token_id)
    if not rows or rows[0]["revoked_at"] is not None:
        raise HTTPException(404, "there is no such live token")
    deps.hub(request).write(auth.revoke_token, rows[0]["name"], by=actor)
    return RedirectResponse("/users?done=revoked#tokens", status_code=303)


# -- the audit log -------------------------------------------------------------------------------------------

def audit_entries(store, actor: str = "", action: str = "", since: dt.datetime | None = None,
                  until: dt.datetime | None = None, page: int = 1, size: int = AUDIT_PAGE
                  ) -> tuple[list[dict[str, Any]], int]:
    """One page of the audit log, the latest first, filtered by actor (part of the name), action (a prefix
    such as ``case.`` or the whole name) and time [since, until); and how many entries match."""
    t = store.table("audit_log")
    if actor:
        t = t.filter(t.actor.lower().contains(actor.strip().lower()))
    if action:
        a = action.strip()
        t = t.filter((t.action == a) | t.action.startswith(a if a.endswith(".") else a + "."))
    if since is not None:
        t = t.filter(t["at"] >= since)
    if until is not None:
        t = t.filter(t["at"] < until)
    total = int(t.count().execute())
    rows = t.order_by([t["at"].desc(), t.audit_id.desc()]).limit(size, offset=(page - 1) * size).execute()
    return rows.to_dict(orient="records"), total


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, actor: Actor = Depends(require("audit.read"))) -> Response:
    from ...metrics.periods import parse_bound

    q = request.query_params
    try:
        page = max(1, int(q.get("page") or 1))
    except ValueError:
        page = 1
    since = parse_bound(q.get("from") or None)
    until = parse_bound(q.get("to") or None)
    until = until + dt.timedelta(days=1) if until else None
    rows, total = audit_entries(deps.reader(request), q.get("actor", ""), q.get("action", ""), since, until, page)
    pages = max(1, math.ceil(total / AUDIT_PAGE))
    keep = {k: q.get(k, "") for k in ("actor", "action", "from", "to")}
    return render(request, "audit.html", {"title": "Audit log", "rows": rows, "total": total, "page": page,
                                          "pages": pages, "filters": keep})


# -- erasing a customer --------------------------------------------------------------------------------------

@router.get("/customers/{customer_id}/forget", include_in_schema=False)
def forget_form(request: Request, customer_id: str, actor: Actor = Depends(require("customer.forget"))) -> Response:
    return render(request, "forget.html", {"title": "Erase a customer", "customer_id": customer_id, "error": None,
                                           "erased": None})


@router.post("/customers/{customer_id}/forget", include_in_schema=False)
def forget(request: Request, customer_id: str, confirm: str = Form(""),
           actor: Actor = Depends(require("customer.forget"))) -> Response:
    """Erase the customer's personal data (``centric.privacy.forget``) once the admin has typed the
    customer's id; audited as ``customer.forget`` with counts only."""
    from ...privacy import forget as erase

    if confirm.strip() != customer_id:
        return render(request, "forget.html", {"title": "Erase a customer", "customer_id": customer_id,
                                               "error": "confirm", "erased": None}, status=422)

    def run(store):
        e = erase(store, customer_id)
        audit.record(store, actor, "customer.forget", "customer", e.customer_id,
                     {"identities_removed": e.identities_removed, "rows_anonymised": e.rows_anonymised,
                      "rejected_rows_removed": e.rejected_rows_removed}, deps.client_ip(request))
        return e

    erased = deps.hub(request).write(run)
    return render(request, "forget.html", {"title": "Erase a customer", "customer_id": customer_id, "error": None,
                                           "erased": erased})
