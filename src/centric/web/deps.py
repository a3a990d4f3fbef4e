"""FastAPI dependencies: the hub, this thread's read store, the actor of the request (a session cookie or a
bearer token), ``require(action)`` (sign-in, permission and — for a state-changing request — the CSRF
token), ``check_case`` (a case outside the actor's departments is a 404) and ``render`` (a page with the
common context).

A view::

    @router.get("/things", include_in_schema=False)
    def things(request: Request, actor: Actor = Depends(require("case.read"))):
        rows = list_things(reader(request), departments=case_scope(actor))
        return render(request, "things.html", {"rows": rows, "title": _("Things")})
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import iter_route_contexts
from itsdangerous import BadSignature, Signer
from starlette.concurrency import run_in_threadpool

from ..store import Store
from . import auth, i18n
from .hub import Hub
from .permissions import Actor, allowed

SESSION_COOKIE = "centric_session"
LOGIN_COOKIE = "centric_login"
LANG_COOKIE = "centric_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNED_IN = "signed_in"  # the pseudo-action of pages every signed-in person may use (/me, /logout)
_TOUCH_EVERY = dt.timedelta(seconds=60)

# The menu: (path, label, the actions any of which shows it). Only routes the app has are shown.
NAV = (
    ("/inbox", "Inbox", ("case.read",)),
    ("/customers", "Customers", ("customer.read",)),
    ("/dashboards", "Dashboards", ("dashboard.read",)),
    ("/journeys", "Journeys", ("dashboard.read",)),
    ("/flows", "User flows", ("dashboard.read",)),
    ("/personas", "Personas", ("dashboard.read",)),
    ("/alerts", "Alerts", ("alert.act", "dashboard.read")),
    ("/whys", "5 whys", ("dashboard.read",)),
    ("/council", "Council", ("dashboard.read",)),
    ("/surveys", "Surveys", ("surveys.view",)),
    ("/ideas", "Ideas", ("ideas.use",)),
    ("/orientation", "Staff orientation", ("dashboard.read", "orientation.assess")),
    ("/observations", "Observation notes", ("dashboard.read", "observations.write")),
    ("/mystery", "Mystery shopping", ("mystery.scores", "mystery.read", "mystery.enter")),
    ("/enps", "Employee NPS", ("dashboard.read",)),
    ("/settings", "Settings", ("admin.config",)),
    ("/users", "Users", ("admin.users",)),
    ("/audit", "Audit", ("audit.read",)),
    ("/employees", "Employees", ("employee.forget",)),
)
NAV_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "inside": ("Inside", ("/enps", "/orientation", "/observations", "/mystery", "/ideas", "/council")),
    "admin": ("Administration", ("/settings", "/users", "/audit", "/employees")),
}
"""Menu entries gathered under one drop-down (a ``<details>``, no script): name → (label, the pages' paths)."""


class CSRFError(HTTPException):
    """A state-changing request without the right CSRF token (403; the page says so)."""

    def __init__(self) -> None:
        super().__init__(403, "the form's security token is missing or wrong; reload the page and try again")


def hub(request: Request) -> Hub:
    return request.app.state.hub


def reader(request: Request) -> Store:
    """This thread's read store (writes go through ``hub(request).write``)."""
    return hub(request).reader()


def signer(request: Request, purpose: str) -> Signer:
    return Signer(request.app.state.secret, salt=f"centric.{purpose}")


def unsign(request: Request, purpose: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return signer(request, purpose).unsign(value).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def _identify(request: Request) -> None:
    """Find the request's actor once: a bearer token (``Authorization: Bearer ctk_…``) or, without one, the
    session cookie. Sets ``request.state.actor`` (None when anonymous), ``.via`` ("token", "session" or
    None) and ``.session``."""
    state = request.state
    state.actor, state.via, state.session = None, None, None
    store = reader(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer":
            row = auth.lookup_token(store, token.strip())
            state.via = "token" if row else "bad_token"
            if row:
                state.actor = auth.token_actor(row)
                if row["last_used_at"] is None or auth.now() - row["last_used_at"] > _TOUCH_EVERY:
                    hub(request).note(auth.touch_token, row["token_id"])
            return
    sid = unsign(request, "session", request.cookies.get(SESSION_COOKIE))
    if sid is None:
        return
    found = auth.lookup_session(store, sid)
    if found is None:
        return
    user, session = found
    state.actor, state.via, state.session = auth.user_actor(user), "session", session
    if auth.now() - session["last_seen_at"] > _TOUCH_EVERY:
        hub(request).note(auth.touch_session, session["session_hash"])


def current_actor(request: Request) -> Actor | None:
    """The actor of this request, or None (anonymous)."""
    if not hasattr(request.state, "via"):
        _identify(request)
    return request.state.actor


def session_csrf(request: Request) -> str | None:
    session = getattr(request.state, "session", None)
    return session["csrf_token"] if session else None


async def check_csrf(request: Request, expected: str | None = None) -> None:
    """A state-changing request from a browser must carry the session's CSRF token, as the form field
    ``csrf_token`` or the header ``X-CSRF-Token``; 403 otherwise."""
    expected = expected if expected is not None else session_csrf(request)
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
        field = next((k for k, v in form.multi_items() if isinstance(v, str) and "\x00" in v), None)
        if field is not None:
            from fastapi import HTTPException

            raise HTTPException(422, f"{field}: a NUL character is not allowed")
    from .security import same_token

    if not same_token(sent, expected):
        raise CSRFError()


async def _authorise(request: Request, action: str) -> Actor:
    actor = await run_in_threadpool(current_actor, request)
    if actor is None:
        raise HTTPException(401, "sign in first" if not is_api(request) else "a valid bearer token is needed")
    unsafe = request.method not in SAFE_METHODS
    if is_api(request) and unsafe and request.state.via != "token":
        raise HTTPException(401, "a state-changing API request needs a bearer token (centric tokens add)")
    if action != SIGNED_IN and not allowed(actor, action):
        raise HTTPException(403, "you may not do this")
    if unsafe and request.state.via == "session":
        await check_csrf(request)
    return actor


def require(action: str):
    """A dependency returning the actor allowed to take ``action`` (or ``SIGNED_IN``: anyone signed in):
    401 when anonymous (a page: redirect to /login), 403 when the role may not, and for a POST from a
    session 403 without the session's CSRF token. An API POST needs a bearer token."""

    async def dependency(request: Request) -> Actor:
        return await _authorise(request, action)

    dependency.action = action  # type: ignore[attr-defined]  # read by the authorisation matrix test
    return dependency


def check_case(actor: Actor, case: dict[str, Any] | None, action: str = "case.read") -> dict[str, Any]:
    """``case`` when ``actor`` may take ``action`` on it; 404 otherwise (a case outside the actor's departments
    is not told to exist)."""
    if case is None or not allowed(actor, action, case):
        raise HTTPException(404, "there is no such case")
    return case


def language(request: Request, actor: Actor | None = None) -> str:
    """``?lang=`` > the user's language > the ``centric_lang`` cookie > the browser's > en."""
    actor = actor if actor is not None else getattr(request.state, "actor", None)
    q = request.query_params.get("lang")
    preferred = q if q in i18n.LANGUAGES else (actor.language if actor else None) or request.cookies.get(LANG_COOKIE)
    return i18n.choose(preferred, request.headers.get("accept-language"))


def routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path, endpoint) of every route of the app, those of included routers too (FastAPI keeps an
    included router as one entry of ``app.routes``); HEAD and mounts (static files) left out."""
    out = []
    for r in iter_route_contexts(app.routes):
        for method in sorted((r.methods or set()) - {"HEAD"}):
            out.append((method, r.path, r.endpoint))
    return out


def page_paths(request: Request) -> set[str]:
    """The paths of the app's pages (GET) that this store serves: on PostgreSQL, those that run there."""
    paths = {p for m, p, _ in routes(request.app) if m == "GET"}
    if hub(request).postgres:
        from .portable import refusal

        paths = {p for p in paths if refusal(p) is None}
    return paths


def nav(request: Request, actor: Actor | None) -> list[dict[str, Any]]:
    """The menu's entries ``actor`` may see, in :data:`NAV`'s order: ``href``, ``label``, ``current``; the pages of
    a :data:`NAV_GROUPS` group are gathered into one entry (``group``, ``label``, ``current``, ``links``) where the first of
    them stands. Each link is shown by its own permission; a group none of whose pages may be seen is not shown."""
    paths = page_paths(request)
    here = request.url.path
    group_of = {p: name for name, (_, members) in NAV_GROUPS.items() for p in members}
    out: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for p, label, actions in NAV:
        if p not in paths or not any(allowed(actor, a) for a in actions):
            continue
        item = {"href": p, "label": label, "current": here == p or here.startswith(p + "/")}
        name = group_of.get(p)
        if name is None:
            out.append(item)
            continue
        if name not in groups:
            groups[name] = {"group": name, "label": NAV_GROUPS[name][0], "current": False, "links": []}
            out.append(groups[name])
        groups[name]["links"].append(item)
        groups[name]["current"] |= item["current"]
    return out


def render(request: Request, template: str, ctx: dict[str, Any] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page template with the common context: ``actor``, ``lang``, ``csrf_token``, ``nav``, ``title``,
    ``path`` (and ``languages``, ``fmt``, ``url`` from the environment). ``ctx`` adds to or overrides it."""
    actor = current_actor(request)
    lang = language(request, actor)
    env = i18n.templates(lang)
    context: dict[str, Any] = {
        "actor": actor,
        "lang": lang,
        "csrf_token": session_csrf(request) or "",
        "nav": nav(request, actor),
        "title": "",
        "path": request.url.path,
        "query": str(request.url.query),
    }
    context.update(ctx or {})
    html = env.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=headers)
