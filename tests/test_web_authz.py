"""The authorisation matrix: every route of the web app × every role, against ONE table of expectations.

Each route (method and path template, as FastAPI lists it) needs an entry: the least action it requires —
an action of ``centric.web.permissions.ACTIONS``, or ``SIGNED_IN`` (anyone signed in). A route that appears
without an entry fails the test ("new route without an authorisation expectation"); an entry without its
route fails too. Each part of the app fills its own dictionary below.

What the matrix expects, per role (anonymous; agent of department A; agent of department B; analyst; admin):
- anonymous: a page redirects to /login (303), the API answers 401;
- a role that may not take the action: 403;
- a role that may: neither 401, 403, 404 nor 5xx — except an agent of department B on a route with an
  object of department A in its path (``{case_id}``, ``{customer_id}``): 404, as if it did not exist.
Pages are requested with a signed-in session (and its CSRF token on POST); /api routes with a bearer token
of the same role. Path parameters come from ``PARAMS`` (a value, or a function of the ``sample`` objects);
bodies from ``BODIES`` (empty when a route has none).

The matrix runs on both engines (the PostgreSQL leg gives ``web_client`` a PostgreSQL store). On PostgreSQL a page
that does not run there (``centric.web.portable.refusal``) answers 501 to the roles that would get "ok" or the
other department's 404 — after the page's own sign-in and permission check, whose refusals (sign in, 401, 403)
stay as on DuckDB (``_on_engine``).
"""

from __future__ import annotations

import pytest
from fastapi import Depends, Request
from fastapi.testclient import TestClient

from centric.web import auth
from centric.web.deps import SIGNED_IN, routes
from centric.web.permissions import ACTIONS, GRANTS, Actor, allowed, case_scope
from centric.web.portable import refusal
from tests.conftest import csrf_of

# -- the expectations: "METHOD /path" → the least action ---------------------------------------------------
EXPECT_CORE = {
    "GET /": SIGNED_IN,
    "POST /logout": SIGNED_IN,
    "GET /me": SIGNED_IN,
    "POST /me": SIGNED_IN,
}

# cases: the inbox, case and customer pages
EXPECT_CASES: dict[str, str] = {
    "GET /inbox": "case.read",
    "GET /cases/{case_id}": "case.read",
    **{f"POST /cases/{{case_id}}/{action}": "case.act"
       for action in ("assign", "transfer", "start", "wait", "comment", "note", "message", "resolve", "close",
                      "reopen")},
    "GET /customers": "customer.read",
    "GET /customers/{customer_id}": "customer.read",
}

# dash: dashboards, alerts, settings, users, audit
EXPECT_DASH: dict[str, str] = {
    "GET /dashboards": "dashboard.read",
    "GET /dashboards/factor/{factor}": "case.read",
    "GET /flows": "dashboard.read",
    "GET /personas": "dashboard.read",
    "GET /personas/{number}": "dashboard.read",
    "GET /journeys": "dashboard.read",
    "GET /journeys/{journey}": "dashboard.read",
    "GET /journeys/{journey}/cell": "dashboard.read",
    "GET /alerts": SIGNED_IN,  # alert.act or dashboard.read: every role has one of them
    "POST /alerts/proactive": "alert.act",
    "GET /settings": "admin.config",
    "POST /settings/factors": "admin.config",
    "POST /settings/{kind}": "admin.config",
    "GET /users": "admin.users",
    "POST /users": "admin.users",
    "POST /users/{user_id}/{change}": "admin.users",
    "POST /users/tokens": "admin.users",
    "POST /users/tokens/{token_id}/revoke": "admin.users",
    "GET /audit": "audit.read",
    "GET /customers/{customer_id}/forget": "customer.forget",
    "POST /customers/{customer_id}/forget": "customer.forget",
}

# api: /api/v1
EXPECT_API: dict[str, str] = {
    "POST /api/v1/feedback": "feedback.post",
    "POST /api/v1/responses": "feedback.post",
    "GET /api/v1/cases": "case.read",
    "GET /api/v1/cases/{case_id}": "case.read",
    "POST /api/v1/cases/{case_id}/events": "case.act",
    "POST /api/v1/cases/{case_id}/close": "case.act",
    "GET /api/v1/customers/{customer_id}/timeline": "customer.read",
    "GET /api/v1/metrics/{name}": "dashboard.read",
    "GET /api/v1/drivers": "dashboard.read",
}

# surveys: the signed-in survey pages (the public form under /s/ is outside the matrix)
EXPECT_SURVEYS: dict[str, str] = {
    "GET /surveys": "surveys.view",
    "GET /surveys/flagged": "surveys.view",
    "POST /surveys/flagged/{flag_id}/release": "surveys.release",
    "POST /surveys/flagged/{flag_id}/discard": "surveys.release",
    "GET /surveys/new": "surveys.manage",
    "POST /surveys/new": "surveys.manage",
    "GET /surveys/{survey_id}": "surveys.view",
    "GET /surveys/{survey_id}/edit": "surveys.manage",
    "POST /surveys/{survey_id}/edit": "surveys.manage",
    "POST /surveys/{survey_id}/status": "surveys.manage",
}

# whys: 5-whys trees (compute and read: dashboards' readers; save, edit, attach: analysts and admins)
EXPECT_WHYS: dict[str, str] = {
    "GET /whys": "dashboard.read",
    "POST /whys": "whys.edit",
    "GET /whys/{tree_id}": "dashboard.read",
    "POST /whys/{tree_id}/edit": "whys.edit",
    "POST /whys/{tree_id}/attach": "whys.edit",
    "POST /whys/{tree_id}/detach": "whys.edit",
}

# council: the customer council (read: dashboards' readers; add members, record meetings, move actions: analysts
# and admins)
EXPECT_COUNCIL: dict[str, str] = {
    "GET /council": "dashboard.read",
    "POST /council/members": "council.manage",
    "POST /council/members/{member_id}": "council.manage",
    "POST /council/meetings": "council.manage",
    "GET /council/meetings/{meeting_id}": "dashboard.read",
    "POST /council/meetings/{meeting_id}": "council.manage",
    "GET /council/actions": "dashboard.read",
    "POST /council/actions/{action_id}": "council.manage",
}

# ideas: the suggestion box (read, submit, vote, comment: every role; status, factor, reward, merge, release:
# analysts and admins; the public idea page under /i/ is outside the matrix)
EXPECT_IDEAS: dict[str, str] = {
    "GET /ideas": "ideas.use",
    "POST /ideas": "ideas.use",
    "POST /ideas/suggest": "ideas.manage",
    "GET /ideas/{idea_id}": "ideas.use",
    "POST /ideas/{idea_id}/vote": "ideas.use",
    "POST /ideas/{idea_id}/comment": "ideas.use",
    **{f"POST /ideas/{{idea_id}}/{action}": "ideas.manage" for action in ("status", "factor", "reward", "merge",
                                                                         "release")},
}

# orientation: staff customer-orientation scores (readers: all units; a manager: their own) and assessments;
# observation notes by store and their entry form (a manager: their stores; analysts and admins: any)
EXPECT_ORIENT: dict[str, str] = {
    "GET /orientation": SIGNED_IN,  # dashboard.read or orientation.assess: every role has one of them
    "GET /orientation/assess": "orientation.assess",
    "POST /orientation/assess": "orientation.assess",
    "GET /observations": SIGNED_IN,  # dashboard.read or observations.write: every role has one of them
    "GET /observations/new": "observations.write",
    "POST /observations/new": "observations.write",
}

# mystery: mystery shopping (scores for analysts and admins; visits of one's stores or one's own; entry by shoppers)
EXPECT_MYSTERY: dict[str, str] = {
    "GET /mystery": "mystery.read",
    "GET /mystery/calibration": "mystery.scores",
    "GET /mystery/new": "mystery.enter",
    "POST /mystery/new": "mystery.enter",
    "GET /mystery/sw.js": "mystery.enter",
    "GET /mystery/visits/{visit_id}": "mystery.read",
    "GET /mystery/visits/{visit_id}/files/{attachment_id}": "mystery.read",
}

# enps: employee NPS and pulse results (read-only analysis: dashboards' readers)
EXPECT_ENPS: dict[str, str] = {
    "GET /enps": "dashboard.read",
}

# employees: the list and erasing one (admins only)
EXPECT_EMPLOYEES: dict[str, str] = {
    "GET /employees": "employee.forget",
    "GET /employees/{employee_id}/forget": "employee.forget",
    "POST /employees/{employee_id}/forget": "employee.forget",  # without the typed id: 422, nothing erased
}

EXPECT = {**EXPECT_CORE, **EXPECT_CASES, **EXPECT_DASH, **EXPECT_API, **EXPECT_SURVEYS, **EXPECT_WHYS,
          **EXPECT_COUNCIL, **EXPECT_IDEAS, **EXPECT_ORIENT, **EXPECT_MYSTERY,
          **EXPECT_ENPS, **EXPECT_EMPLOYEES}

# Bodies to send (JSON for /api, form fields for pages; the CSRF token is added): a valid body reaches the
# checks a route makes after reading it (an empty one may stop at validation, 422, before them).
BODIES: dict[str, dict] = {
    "POST /api/v1/cases/{case_id}/events": {"kind": "comment", "text": "checked by the authorisation matrix"},
    "POST /api/v1/cases/{case_id}/close": {"root_cause": "delivery", "action": "checked by the matrix"},
    "POST /council/members/{member_id}": {"op": "notes", "role": "member"},
    "POST /council/meetings/{meeting_id}": {"op": "agenda", "title": "checked by the matrix"},
    "POST /council/actions/{action_id}": {"status": "in_progress"},
}

# Routes outside the matrix: public by design (each has its own tests).
PUBLIC = ("/static", "/healthz", "/login", "/openapi.json", "/docs", "/s/", "/solved/", "/i/", "/o/")

# Path parameters: a value, or a function of the sample objects (see the ``sample`` fixture).
PARAMS = {
    "case_id": lambda s: s["case_id"],
    "customer_id": lambda s: s["customer_id"],
    "factor": "delivery",
    "user_id": lambda s: s["user_id"],
    "token_id": lambda s: s["token_id"],
    "kind": "sla",  # POST /settings/{kind}: an empty policy is refused (422), nothing saved
    "change": "set",
    "name": "nps",  # GET /api/v1/metrics/{name}
    "survey_id": lambda s: s["survey_id"],
    "journey": "purchase",
    "flag_id": lambda s: s["flag_id"],  # released by the admin's first POST; the second finds it handled (303)
    "tree_id": lambda s: s["tree_id"],
    "number": 1,  # GET /personas/{number}
    "member_id": lambda s: s["member_id"],
    "meeting_id": lambda s: s["meeting_id"],
    "action_id": lambda s: s["action_id"],
    "idea_id": lambda s: s["idea_id"],
    "visit_id": lambda s: s["visit_id"],  # a visit to a store that agent A manages
    "attachment_id": lambda s: s["visit_id"] + "-1",
    "employee_id": "E1001",  # a demo employee
}
# Parameters naming an object of department A (an agent of department B must get 404).
DEPARTMENTAL = {"case_id", "customer_id", "visit_id"}
DEPT_A, DEPT_B = "delivery", "finance"
ROLES = ("anonymous", "agent_a", "agent_b", "analyst", "admin")


def app_routes(app) -> list[tuple[str, str, object]]:
    """(method, path, endpoint) of every route in the matrix."""
    return [(m, p, e) for m, p, e in routes(app) if not p.startswith(PUBLIC)]


@pytest.fixture
def sample(web_client):
    """Objects the routes' path parameters name: a case of department A whose customer has no case in
    department B, that customer, a user and a token nobody else uses."""
    hub = web_client.app.state.hub
    store = hub.reader()
    row = store.execute(
        "SELECT c.case_id, c.customer_id FROM cases c WHERE c.department = ? AND c.customer_id IS NOT NULL "
        "AND c.customer_id NOT IN (SELECT customer_id FROM cases WHERE department = ? AND customer_id IS NOT NULL) "
        "ORDER BY c.case_id LIMIT 1", [DEPT_A, DEPT_B]).fetchone()
    assert row, "the demo store has no case of department A"
    user = hub.write(auth.add_user, "someone@example.com", "agent", "a password long enough", [DEPT_A])
    _, token = hub.write(auth.add_token, "sample", "agent", [DEPT_A])
    from tests.test_web_surveys import add_flagged, add_survey

    survey_id, _ = add_survey(hub, n=1)
    from centric.whys import Node, WhysTree, saved

    tree_id = hub.write(saved.save, WhysTree("delivery", Node("0", "problem", "Delivery")), "matrix", "matrix")
    from centric.ideas import box

    idea_id = hub.write(box.submit, "A water dispenser by the checkout", "customer", source="test")
    from centric import council

    meeting_id = hub.write(council.add_meeting, "matrix", "2026-10-01", "matrix", agenda=["a change"])
    member_id = hub.write(council.add_member, row[1], "matrix", joined_on="2026-09-01")
    action_id = hub.write(council.add_action, meeting_id, "check", "matrix@example.com", "2026-11-01", "matrix")
    from tests.test_mystery_web import add_visit

    visit_id = add_visit(hub, manager="agent_a")
    return {"case_id": row[0], "customer_id": row[1], "user_id": user["user_id"], "token_id": token["token_id"],
            "survey_id": survey_id, "flag_id": add_flagged(web_client, survey_id), "tree_id": tree_id,
            "member_id": member_id, "meeting_id": meeting_id, "action_id": action_id, "idea_id": idea_id,
            "visit_id": visit_id}


def _fill(path: str, sample: dict) -> str:
    import re

    def value(m):
        name = m.group(1).split(":")[0]
        assert name in PARAMS, f"path parameter {{{name}}} of {path} has no value in PARAMS (tests/test_web_authz.py)"
        v = PARAMS[name]
        return str(v(sample) if callable(v) else v)

    return re.sub(r"\{([^}]+)\}", value, path)


def test_every_route_has_an_expectation(web_client):
    found = {f"{m} {p}" for m, p, _ in app_routes(web_client.app)}
    assert {"GET /me", "POST /logout"} <= found, "the routes of included routers are not enumerated"
    missing = sorted(found - set(EXPECT))
    assert not missing, f"new route without an authorisation expectation (tests/test_web_authz.py): {missing}"
    stale = sorted(set(EXPECT) - found)
    assert not stale, f"authorisation expectations for routes the app does not have: {stale}"
    unknown = {k: v for k, v in EXPECT.items() if v not in (*ACTIONS, SIGNED_IN)}
    assert not unknown, f"expectations name unknown actions: {unknown}"


def _clients(web_client, login) -> dict[str, tuple[TestClient, TestClient]]:
    """role → (a browser signed in as it, an API client with its bearer token)."""
    app, hub = web_client.app, web_client.app.state.hub
    out = {"anonymous": (TestClient(app), TestClient(app))}
    for role, kind, deps in (("agent_a", "agent", (DEPT_A,)), ("agent_b", "agent", (DEPT_B,)),
                             ("analyst", "analyst", ()), ("admin", "admin", ())):
        browser = TestClient(app)
        login(browser, role=kind, departments=deps, email=f"{role}@example.com")
        token, _ = hub.write(auth.add_token, f"matrix-{role}", kind, deps)
        out[role] = (browser, TestClient(app, headers={"Authorization": f"Bearer {token}"}))
    return out


def _expected(role: str, action: str, path: str, api: bool) -> str:
    if role == "anonymous":
        return "401" if api else "login"
    kind = "agent" if role.startswith("agent") else role
    deps = {"agent_a": (DEPT_A,), "agent_b": (DEPT_B,)}.get(role, ())
    actor = Actor("user", "U", role, kind, role, deps)
    if action != SIGNED_IN and not allowed(actor, action):
        return "403"
    if role == "agent_b" and action in GRANTS["agent"] and DEPARTMENTAL & _params(path):
        return "404"
    return "ok"


def _on_engine(want: str, url: str, postgres: bool) -> str:
    """The outcome ``_expected`` gives on DuckDB, on the app's engine: on PostgreSQL a page that does not run there
    answers 501 to whoever its own checks let through (an agent of the other department too: the page's code, which
    would answer 404, does not run, and the 501 says nothing of the object); the checks' refusals stay."""
    if postgres and refusal(url) is not None and want in ("ok", "404"):
        return "501"
    return want


def _params(path: str) -> set[str]:
    import re

    return {m.split(":")[0] for m in re.findall(r"\{([^}]+)\}", path)}


def _outcome(response, api: bool) -> str:
    s = response.status_code
    if not api and s in (302, 303, 307) and response.headers.get("location", "").startswith("/login?next="):
        return "login"
    if s in (401, 403, 404, 501):
        return str(s)
    assert s < 500, f"server error {s}: {response.text[:300]}"
    return "ok"


def test_the_matrix(web_client, login, sample):
    postgres = web_client.app.state.hub.postgres
    clients = _clients(web_client, login)
    # signing out last: it ends the session the other requests use
    routes = sorted(app_routes(web_client.app), key=lambda r: r[:2] == ("POST", "/logout"))
    failures = []
    # admin last: its POSTs may change things; every other role's request is refused or harmless
    for role in ROLES:
        browser, api_client = clients[role]
        for method, path, _ in routes:
            action = EXPECT.get(f"{method} {path}")
            if action is None:
                continue  # reported by test_every_route_has_an_expectation
            api = path.startswith("/api/")
            client = api_client if api else browser
            url = _fill(path, sample)
            kwargs = {}
            body = BODIES.get(f"{method} {path}", {})
            if method != "GET" and not api:
                token = csrf_of(browser.get("/me").text) if role != "anonymous" else ""
                kwargs["data"] = {**body, "csrf_token": token}
            elif method != "GET" and api:
                kwargs["json"] = body
            r = client.request(method, url, follow_redirects=False, **kwargs)
            got, want = _outcome(r, api), _on_engine(_expected(role, action, path, api), url, postgres)
            if got != want:
                failures.append(f"{role:9} {method} {url}: expected {want}, got {got} ({r.status_code})")
    assert not failures, "\n".join(failures)


# Routes a test adds to the app on paths PostgreSQL's gate refuses (DuckDB runs them): "METHOD /path" → the route's
# check (an action, "alerts": GET /alerts' check, or None: a public page); once it passed, their code answers
# {"ok": …} (a case's 404 for an agent of another department)
PROBES = {
    "GET /reports/cases/{case_id}": "case.read",  # an object of department A: 404 for an agent of department B
    "POST /reports/cases/{case_id}": "case.act",
    "GET /reports/settings": "admin.config",
    "GET /reports/alerts": "alerts",  # alert.act or dashboard.read, as GET /alerts checks
    "GET /reports/public": None,
    "GET /api/v1/reports/{case_id}": "case.read",
    "POST /api/v1/reports": "feedback.post",
}
NOWHERE = "/reports/no/such/page"  # a path no route serves


def _add_probes(app) -> None:
    from centric.web import deps
    from centric.web.pages.alerts import _any_of

    def probe(check):
        if check is None:
            return lambda: {"ok": "anyone"}

        def endpoint(request: Request, actor: Actor = Depends(check)):
            case_id = request.path_params.get("case_id")
            if case_id is not None:
                row = deps.reader(request).execute("SELECT department FROM cases WHERE case_id = ?",
                                                   [case_id]).fetchone()
                deps.check_case(actor, {"department": row[0]} if row else None)
            return {"ok": actor.name}

        return endpoint

    for key, action in PROBES.items():
        method, path = key.split(" ", 1)
        check = (None if action is None else _any_of("alert.act", "dashboard.read") if action == "alerts"
                 else deps.require(action))
        app.add_api_route(path, probe(check), methods=[method], include_in_schema=False)


def test_refused_pages_check_sign_in_and_permission_first(web_client, login, sample):
    """A page PostgreSQL does not run answers 501 only to those its own checks let through: an anonymous caller is
    sent to sign in (the API: 401), a role without the permission gets 403, a form without its CSRF token 403, as on
    DuckDB, where the same routes run (and an agent of department B gets 404 for a case of department A); a public
    page answers 501 to anyone; a path no route serves 404 on DuckDB, and on PostgreSQL 501 to whoever signed in
    (with or without a form's CSRF token: nothing runs)."""
    postgres = web_client.app.state.hub.postgres
    _add_probes(web_client.app)
    clients = _clients(web_client, login)
    failures = []
    for role in ROLES:
        browser, api_client = clients[role]
        for key, action in [*PROBES.items(), (f"GET {NOWHERE}", "nowhere"), (f"POST {NOWHERE}", "nowhere")]:
            method, path = key.split(" ", 1)
            api = path.startswith("/api/")
            url = _fill(path, sample)
            assert refusal(url) is not None, f"{url} runs on PostgreSQL: choose a probe's path that does not"
            if action == "nowhere":
                want = "404" if not postgres else ("login" if role == "anonymous" else "501")
            elif action is None:
                want = _on_engine("ok", url, postgres)
            else:
                least = "dashboard.read" if action == "alerts" and role == "analyst" else (
                    "alert.act" if action == "alerts" else action)
                want = _on_engine(_expected(role, least, path, api), url, postgres)
            kwargs = {}
            if method != "GET":
                kwargs = {"json": {}} if api else {"data": {"csrf_token": csrf_of(browser.get("/me").text)
                                                            if role != "anonymous" else ""}}
            client = api_client if api else browser
            r = client.request(method, url, follow_redirects=False, **kwargs)
            got = _outcome(r, api)
            if got == "501":
                assert "not available on PostgreSQL yet" in r.text, r.text[:300]
            if got != want:
                failures.append(f"{role:9} {method} {url}: expected {want}, got {got} ({r.status_code})")
            if method == "POST" and not api and role != "anonymous" and want not in ("login", "403"):
                r = client.request(method, url, data={"csrf_token": "forged"}, follow_redirects=False)
                if _outcome(r, api) != (want if action == "nowhere" else "403"):  # no route: nothing to protect
                    failures.append(f"{role:9} {method} {url} with a wrong CSRF token: got {r.status_code}")
    assert not failures, "\n".join(failures)


def test_a_session_cannot_post_to_the_api(web_client, login, sample):
    api_posts = [(m, p) for m, p, _ in app_routes(web_client.app) if p.startswith("/api/") and m != "GET"]
    login(web_client, role="admin")
    token = csrf_of(web_client.get("/me").text)
    for method, path in api_posts:
        r = web_client.request(method, _fill(path, sample), json={}, headers={"X-CSRF-Token": token})
        assert r.status_code == 401, (method, path, r.status_code)


def test_default_deny():
    admin = Actor("user", "U1", "a@example.com", "admin", "a")
    assert not allowed(admin, "case.delete_everything")
    assert not allowed(Actor("user", "U2", "x@example.com", "stranger", "x"), "case.read")
    agent = Actor("user", "U3", "b@example.com", "agent", "b")  # an agent of no department
    assert not allowed(agent, "case.read") and case_scope(agent) == ()
    assert [a for a in ACTIONS if allowed(Actor("user", "U4", "c@example.com", "analyst", "c"), a)] == [
        "case.read", "customer.read", "dashboard.read", "surveys.view", "whys.edit", "council.manage", "ideas.use",
        "ideas.manage", "orientation.assess", "observations.write", "mystery.read", "mystery.scores"]
