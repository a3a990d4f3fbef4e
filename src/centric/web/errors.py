"""The one error handler: every refusal and failure becomes a calm page in the reader's language, or JSON
``{"detail": …}`` under /api. A page that needs sign-in redirects to ``/login?next=<path>``.

Status codes: CentricError 400; CaseError 404 (no such case), 422 (missing or invalid input such as a root
cause) or 409 (the case's state forbids it); HTTPException its own; a page not available on the store's engine
501 (its message shown, see ``centric.web.portable``); an unexpected error 500 (logged, never shown).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import CaseError, CentricError
from . import deps

log = logging.getLogger("centric.web")

_UNPROCESSABLE = ("cannot be closed without", "is missing", "must be a whole number", "is not a factor",
                  "there is no department")


def case_status(e: CaseError) -> int:
    """The HTTP status of a refused case operation, from its message (the core raises one CaseError)."""
    msg = str(e)
    if msg.startswith("there is no case"):
        return 404
    return 422 if any(m in msg for m in _UNPROCESSABLE) else 409


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site (for ``?next=``); ``default`` otherwise — never another
    site (no scheme, no ``//host``, no backslash tricks, no control characters).

    >>> local_path("/cases/K1?x=1"), local_path("//evil.example/"), local_path("https://evil.example")
    ('/cases/K1?x=1', '/', '/')
    >>> local_path("/\\\\evil.example"), local_path("/login")
    ('/', '/')
    """
    t = target or ""
    if (not t.startswith("/") or t.startswith("//") or "\\" in t or any(ord(c) < 32 or ord(c) == 127 for c in t)
            or t.startswith(("/login", "/logout"))):
        return default
    return t


def _next_param(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(local_path(path), safe="")


def respond(request: Request, status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    """The response for an error: JSON under /api, else a page (401 on a page: redirect to sign-in)."""
    if deps.is_api(request):
        h = dict(headers or {})
        if status == 401:
            h.setdefault("WWW-Authenticate", "Bearer")
        return JSONResponse({"detail": detail}, status_code=status, headers=h)
    if status == 401:
        return RedirectResponse(f"/login?next={_next_param(request)}", status_code=303)
    try:
        return deps.render(request, "error.html", {"status": status, "detail": detail if status < 500 or status == 501 else "",
                                                           "error_kind": getattr(request.state, "error_kind", None)},
                           status=status, headers=headers)
    except Exception:  # the error page itself failed (e.g. the store is gone): plain text, still calm
        log.exception("error page failed")
        return Response(f"Error {status}", status_code=status, media_type="text/plain", headers=headers)


def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    kind = "csrf" if isinstance(exc, deps.CSRFError) else None
    if kind:
        request.state.error_kind = kind
    return respond(request, exc.status_code, exc.detail, getattr(exc, "headers", None))


def validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    if deps.is_api(request):
        return JSONResponse({"detail": errors}, status_code=422)
    fields = ", ".join(str(e["loc"][-1]) for e in errors if e["loc"])
    return respond(request, 400, f"the form is missing or has an invalid value: {fields}")


def centric_error(request: Request, exc: CentricError) -> Response:
    status = case_status(exc) if isinstance(exc, CaseError) else 400
    return respond(request, status, str(exc))


def server_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    response = respond(request, 500, "something went wrong on our side; the error is logged")
    from .security import HEADERS

    response.headers.update(HEADERS)  # the outermost handler runs outside the headers middleware
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(CentricError, centric_error)
    app.add_exception_handler(Exception, server_error)
