"""Signing in and out, the person's own page (language), the front door and the health check."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from .. import audit, auth, deps
from ..deps import LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, SIGNED_IN, render, require
from ..errors import local_path
from ..i18n import LANGUAGES
from ..permissions import Actor, allowed

router = APIRouter()


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def _public(request: Request) -> None:
    wait = request.app.state.public_limit.hit(deps.client_ip(request))
    if wait:
        raise HTTPException(429, "too many requests; try again later", headers={"Retry-After": str(wait)})


def _login_token(request: Request) -> tuple[str, bool]:
    """The pre-session CSRF token of the sign-in form (double-submit: a signed cookie and the form field);
    (token, whether the cookie must be set)."""
    sent = deps.unsign(request, "login", request.cookies.get(LOGIN_COOKIE))
    return (sent, False) if sent else (secrets.token_urlsafe(32), True)


def _login_page(request: Request, status: int = 200, error: str | None = None, email: str = "",
                next_path: str = "/", headers: dict[str, str] | None = None) -> Response:
    token, fresh = _login_token(request)
    response = render(request, "login.html", {"error": error, "email": email, "next": next_path, "login_csrf": token},
                      status=status, headers=headers)
    if fresh:
        _cookie(response, request, LOGIN_COOKIE, deps.signer(request, "login").sign(token).decode())
    lang = request.query_params.get("lang")
    if lang in LANGUAGES:
        _cookie(response, request, LANG_COOKIE, lang, max_age=365 * 86400)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    _public(request)
    return _login_page(request, next_path=local_path(next))


@router.post("/login")
async def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("/"),
                csrf_token: str = Form("")) -> Response:
    _public(request)
    expected = deps.unsign(request, "login", request.cookies.get(LOGIN_COOKIE))
    await deps.check_csrf(request, expected=expected or "")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_sign_in, request, email.strip().lower()[:320], password, local_path(next))


def _sign_in(request: Request, email: str, password: str, next_path: str) -> Response:
    hub, ip = deps.hub(request), deps.client_ip(request)
    throttle = request.app.state.login_throttle
    wait = throttle.wait(email, ip)
    if wait:
        return _login_page(request, 429, "throttled", email, next_path, headers={"Retry-After": str(wait)})
    user = auth.authenticate(deps.reader(request), email, password)
    if user is None:
        throttle.failed(email, ip)
        hub.write(audit.record, email or "(empty)", "login.failed", "user", None, None, ip)
        return _login_page(request, 401, "wrong", email, next_path)
    throttle.succeeded(email)
    old = deps.unsign(request, "session", request.cookies.get(SESSION_COOKIE))
    if old:  # whatever session the browser had ends; the new one never reuses its id
        hub.write(auth.delete_session, old)
    sid, _ = hub.write(auth.create_session, user["user_id"], ip, request.headers.get("user-agent"))
    hub.write(audit.record, auth.user_actor(user), "login", "user", user["user_id"], None, ip)
    response = RedirectResponse(next_path if next_path != "/" else _home(auth.user_actor(user), request),
                                status_code=303)
    _cookie(response, request, SESSION_COOKIE, deps.signer(request, "session").sign(sid).decode(),
            max_age=auth.session_hours() * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, actor: Actor = Depends(require(SIGNED_IN))) -> Response:
    sid = deps.unsign(request, "session", request.cookies.get(SESSION_COOKIE))
    if sid:
        deps.hub(request).write(auth.delete_session, sid)
        deps.hub(request).write(audit.record, actor, "logout", "user", actor.id, None, deps.client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def me(request: Request, actor: Actor = Depends(require(SIGNED_IN))) -> Response:
    return render(request, "me.html", {"saved": request.query_params.get("saved") == "1"})


@router.post("/me")
def me_save(request: Request, language: str = Form(""), actor: Actor = Depends(require(SIGNED_IN))) -> Response:
    if actor.kind != "user":
        raise HTTPException(403, "only a signed-in person has a profile")
    if language not in ("", *LANGUAGES):
        raise HTTPException(400, f"unknown language {language!r}")
    deps.hub(request).write(auth.set_user, actor.name, language=language, by=actor, ip=deps.client_ip(request))
    return RedirectResponse("/me?saved=1", status_code=303)


def _home(actor: Actor, request: Request) -> str:
    paths = deps.page_paths(request)
    for path, action in (("/inbox", "case.read") if actor.role == "agent" else ("/dashboards", "dashboard.read"),
                         ("/inbox", "case.read"), ("/dashboards", "dashboard.read"),
                         ("/mystery/new", "mystery.enter")):
        if path in paths and allowed(actor, action):
            return path
    return "/me"


@router.get("/")
def home(request: Request, actor: Actor = Depends(require(SIGNED_IN))) -> Response:
    return RedirectResponse(_home(actor, request), status_code=303)


@router.get("/healthz")
def healthz(request: Request) -> Response:
    _public(request)
    deps.reader(request).execute("SELECT 1").fetchone()
    ready = getattr(request.app.state, "ready", None)
    return JSONResponse({"status": "ok", "ready": bool(ready is not None and ready.is_set())})
