"""What of the web app runs on PostgreSQL, and the refusal of the rest.

On a PostgreSQL store the app serves the service team's core — signing in, the inbox, the cases and their
actions, the customers' pages, the "Was it solved?" page, the JSON API's cases, timelines and posted feedback,
the health check, the administration of users, tokens and the audit log, the journeys' maps and the API's
metrics and drivers, the surveys' pages and the public survey form, the ideas (and their public page) and the
council, the employees' list and their erasure, a customer's erasure, and the analyses: the dashboards (a factor's detail too), the
user flows, the alerts, the personas with their empathy maps, the employees' NPS, the five whys (their trees saved,
edited and attached to cases), the mystery shopping scores and calibration, a mystery visit's entry form and page,
and the alerts' proactive case. Every other page answers **501** with the message its command gives on PostgreSQL
(``centric serve: the page /reports is not available on PostgreSQL yet; …``), as a page or, under ``/api``, as JSON — never
a DuckDB error or a 500 — to whoever its own sign-in and permission check lets through; the others get that check's
answer, as on DuckDB (sign in, 401, 403). On DuckDB nothing of this runs (:class:`Unported` is installed on
PostgreSQL only).

>>> refusal("/inbox"), refusal("/cases/CX-0000001/close"), refusal("/api/v1/cases"), refusal("/users/tokens/7/revoke")
(None, None, None, None)
>>> refusal("/surveys/new"), refusal("/s/3kTq9x_token/comment"), refusal("/ideas/I000001/vote"), refusal("/council")
(None, None, None, None)
>>> refusal("/employees"), refusal("/employees/E0000001/forget")
(None, None)
>>> refusal("/dashboards"), refusal("/dashboards/factor/delivery"), refusal("/flows"), refusal("/personas/2")
(None, None, None, None)
>>> refusal("/alerts/proactive"), refusal("/reports").split(";")[0]
(None, 'centric serve: the page /reports is not available on PostgreSQL yet')
>>> refusal("/mystery/calibration"), refusal("/mystery/new"), refusal("/mystery/visits/v1/files/v1-1")
(None, None, None)
>>> refusal("/customers/C1/forget"), refusal("/api/v1/customers/C1/forget").split(";")[0]
(None, 'centric serve: the page /api is not available on PostgreSQL yet')
>>> refusal("/whys"), refusal("/whys/Y0001"), refusal("/whys/Y0001/attach")
(None, None, None)
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..engines import not_available

PORTED_PAGES = re.compile(
    r"^/(?:$|static/|login$|logout$|me$|healthz$|inbox$|cases/[^/]+(?:/[a-z]+)?$|customers(?:/[^/]+)?$"
    r"|solved/[^/]+$|openapi\.json$|users(?:/tokens|/[^/]+/[a-z]+)?$|audit$"
    r"|journeys(?:/[^/]+(?:/cell)?)?$"
    r"|dashboards(?:/factor/[^/]+)?$|flows$|alerts$|personas(?:/[^/]+)?$|enps$|mystery(?:/calibration)?$"
    r"|surveys(?:/new|/flagged(?:/[^/]+/(?:release|discard))?|/[^/]+(?:/edit|/status)?)?$|s/[^/]+(?:/[a-z]+|/style\.css)?$"
    r"|ideas(?:/[^/]+(?:/[a-z]+)?)?$|i/new$|council(?:/[a-z]+(?:/[^/]+)?)?$"
    r"|settings(?:/[a-z]+)?$"
    r"|observations(?:/new)?$|orientation(?:/assess)?$|o/[^/]+$"
    r"|employees(?:/[^/]+/forget)?$|customers/[^/]+/forget$"
    r"|whys(?:/[^/]+(?:/(?:edit|attach|detach))?)?$"
    r"|mystery/(?:new|sw\.js|visits/[^/]+(?:/files/[^/]+)?)$"
    r"|alerts/proactive$|users/tokens/[^/]+/revoke$"
    r"|api/v1/(?:cases(?:/[^/]+(?:/events|/close)?)?|feedback|responses|customers/[^/]+/timeline"
    r"|metrics/[^/]+|drivers)$)")
"""The paths that run on PostgreSQL."""

COMMANDS = (  # the first page of a path → the command whose refusal it gives (else "serve: the page …")
    ("/customers/", "/forget", "customers forget"),
    ("/surveys", "", "surveys"), ("/s/", "", "surveys"), ("/whys", "", "whys"), ("/personas", "", "personas"),
    ("/council", "", "council"), ("/ideas", "", "ideas"), ("/i/", "", "ideas"),
    ("/orientation", "", "orientation"), ("/o/", "", "orientation"), ("/observations", "", "observations"),
    ("/mystery", "", "mystery"), ("/enps", "", "enps"), ("/employees", "", "employees"),
)


def refusal(path: str) -> str | None:
    """The message refusing ``path`` on PostgreSQL; None when it runs there."""
    if PORTED_PAGES.match(path):
        return None
    for start, end, command in COMMANDS:
        if path.startswith(start) and path.endswith(end):
            return str(not_available(command))
    first = "/" + path.strip("/").split("/")[0]
    return str(not_available(f"serve: the page {first}"))


def check_of(app, method: str, path: str):
    """The sign-in and permission check of the route that serves ``method path`` in ``app``: the dependency that
    :func:`centric.web.deps.require` made (it carries ``.action``), the outermost one found; None for a route without
    one (a public page); when no route serves the request, a check that the caller signed in (a form sent to no
    route changes nothing: no CSRF token is asked for)."""
    from fastapi.routing import iter_route_contexts

    for route in iter_route_contexts(app.routes):
        regex, methods = getattr(route, "path_regex", None), route.methods or ()
        if regex is None or not regex.match(path) or (
                methods and method not in methods and not (method == "HEAD" and "GET" in methods)):
            continue
        dependant = getattr(route, "dependant", None)
        return _check_in(dependant) if dependant is not None else None
    return _signed_in


async def _signed_in(request: Request) -> None:
    from . import deps

    if await run_in_threadpool(deps.current_actor, request) is None:
        raise HTTPException(401, "a valid bearer token is needed" if deps.is_api(request) else "sign in first")


def _check_in(dependant):
    for d in dependant.dependencies:
        if hasattr(d.call, "action"):
            return d.call
        found = _check_in(d)
        if found is not None:
            return found
    return None


class Unported:
    """ASGI middleware (PostgreSQL only): a request for a page that does not run there gets a 501 page (or JSON
    under /api) with :func:`refusal`'s message, before any of the page's code runs — but after the page's own
    sign-in and permission check (:func:`check_of`), so that whoever may not use the page learns nothing of the
    store: an anonymous caller is sent to sign in (the API: 401), a signed-in one without the permission gets 403
    (and a form without its CSRF token 403), as on DuckDB. A path no route serves needs a signed-in caller (on
    DuckDB it is a 404, whoever asks)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            why = refusal(scope["path"])
            if why is not None:
                from .errors import http_error, respond

                request = Request(scope, receive)
                check = check_of(scope["app"], scope["method"], scope["path"])
                try:
                    if check is not None:
                        await check(request)
                except HTTPException as e:
                    response = await run_in_threadpool(http_error, request, e)
                else:
                    response = await run_in_threadpool(respond, request, 501, why)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
