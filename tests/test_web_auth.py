"""Signing in and out, sessions, users, API tokens, the users/tokens commands and the Hub."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from centric.cli import app as cli
from centric.errors import StoreError
from centric.web import audit, auth, deps
from centric.web.hub import Hub
from centric.web.permissions import Actor
from tests.conftest import WEB_PASSWORD, csrf_of, login_csrf


def _sign_in(client: TestClient, email: str, password: str = WEB_PASSWORD, next_path: str = "/me"):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": login_csrf(page.text),
                                       "next": next_path}, follow_redirects=False)


def _add(client: TestClient, email: str, role: str = "agent", departments=("delivery",), **kw) -> dict:
    return client.app.state.hub.write(auth.add_user, email, role, WEB_PASSWORD, departments, **kw)


def _audit(client: TestClient, action: str) -> list[dict]:
    cur = client.app.state.hub.reader().execute(
        'SELECT "at", actor, role, action, object_type, object_id, detail, ip FROM audit_log WHERE action = ? '
        "ORDER BY audit_id", [action])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


# -- signing in and out ------------------------------------------------------------------------------------
def test_sign_in_and_out(web_client):
    _add(web_client, "ann@example.com", name="Ann Nowak")
    r = _sign_in(web_client, "ANN@example.com ")
    assert r.status_code == 303 and r.headers["location"] == "/me"
    cookie = r.cookies[deps.SESSION_COOKIE]
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=lax" in r.headers["set-cookie"].lower()
    me = web_client.get("/me")
    assert me.status_code == 200 and "ann@example.com" in me.text and "delivery" in me.text
    assert [(a["actor"], a["action"]) for a in _audit(web_client, "login")] == [("ann@example.com", "login")]

    out = web_client.post("/logout", data={"csrf_token": csrf_of(me.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert web_client.app.state.hub.reader().count("web_sessions") == 0
    # the old cookie, replayed by anyone, is dead
    replay = TestClient(web_client.app, cookies={deps.SESSION_COOKIE: cookie})
    r = replay.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fme"


def test_wrong_password_and_unknown_email_are_refused_alike(web_client):
    _add(web_client, "ann@example.com")
    wrong = _sign_in(web_client, "ann@example.com", "not the password at all")
    unknown = _sign_in(web_client, "nobody@example.com", "not the password at all")
    for r in (wrong, unknown):
        assert r.status_code == 401 and deps.SESSION_COOKIE not in r.cookies
        assert "The e-mail or the password is not right" in r.text
    failed = _audit(web_client, "login.failed")
    assert [a["actor"] for a in failed] == ["ann@example.com", "nobody@example.com"]
    everything = json.dumps([list(r) for r in web_client.app.state.hub.reader().execute(
        "SELECT * FROM audit_log").fetchall()], default=str)
    assert "not the password" not in everything


def test_a_disabled_user_cannot_sign_in_and_their_sessions_die(web_client):
    _add(web_client, "ann@example.com")
    other = TestClient(web_client.app)
    assert _sign_in(web_client, "ann@example.com").status_code == 303
    assert web_client.get("/me").status_code == 200
    web_client.app.state.hub.write(auth.set_user, "ann@example.com", enabled=False)
    r = web_client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert _sign_in(other, "ann@example.com").status_code == 401
    assert web_client.app.state.hub.reader().count("web_sessions") == 0


def test_throttling_per_email(web_client):
    _add(web_client, "ann@example.com")
    for _ in range(5):
        assert _sign_in(web_client, "ann@example.com", "wrong password!").status_code == 401
    r = _sign_in(web_client, "ann@example.com")  # even the right password waits now
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 15 * 60
    assert "Too many failed attempts" in r.text
    assert len(_audit(web_client, "login.failed")) == 5
    _add(web_client, "bo@example.com")
    assert _sign_in(web_client, "bo@example.com").status_code == 303  # another e-mail from the same address


def test_throttling_per_address(web_client):
    for i in range(20):
        assert _sign_in(web_client, f"guess{i}@example.com", "wrong password!").status_code == 401
    _add(web_client, "ann@example.com")
    r = _sign_in(web_client, "ann@example.com")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_session_fixation(web_client):
    """An id the browser holds before signing in is never adopted: a new one is made, and the old one ends."""
    _add(web_client, "mallory@example.com")
    _add(web_client, "ann@example.com")
    attacker = TestClient(web_client.app)
    planted = _sign_in(attacker, "mallory@example.com").cookies[deps.SESSION_COOKIE]
    victim = TestClient(web_client.app, cookies={deps.SESSION_COOKIE: planted})
    assert "mallory@example.com" in victim.get("/me").text
    r = _sign_in(victim, "ann@example.com")
    fresh = r.cookies[deps.SESSION_COOKIE]
    assert fresh != planted
    assert "ann@example.com" in victim.get("/me").text
    assert attacker.get("/me", follow_redirects=False).status_code == 303  # the planted session is gone
    # an unsigned id chosen by an attacker is never stored
    chosen = TestClient(web_client.app, cookies={deps.SESSION_COOKIE: "attacker-chosen-id"})
    r = _sign_in(chosen, "ann@example.com")
    assert r.status_code == 303 and r.cookies[deps.SESSION_COOKIE] != "attacker-chosen-id"
    hashes = {h for (h,) in web_client.app.state.hub.reader().execute(
        "SELECT session_hash FROM web_sessions").fetchall()}
    assert auth.sha256("attacker-chosen-id") not in hashes and len(hashes) == 2


def test_session_idle_and_absolute_expiry(web_client, monkeypatch):
    monkeypatch.setenv("CENTRIC_WEB_SESSION_HOURS", "2")
    _add(web_client, "ann@example.com")
    hub = web_client.app.state.hub
    _sign_in(web_client, "ann@example.com")
    created, expires = hub.reader().execute("SELECT created_at, expires_at FROM web_sessions").fetchone()
    assert expires - created == dt.timedelta(hours=2)

    def age(store, column, hours):
        with store.transaction():
            store.execute(f"UPDATE web_sessions SET {column} = {column} - INTERVAL '{hours} hours'")

    hub.write(age, "last_seen_at", 1)  # idle for an hour: still signed in
    assert web_client.get("/me").status_code == 200
    hub.write(age, "last_seen_at", 3)  # idle longer than 2 hours: gone
    assert web_client.get("/me", follow_redirects=False).status_code == 303
    _sign_in(web_client, "ann@example.com")
    hub.write(age, "expires_at", 3)  # used a moment ago, but past its absolute lifetime
    assert web_client.get("/me", follow_redirects=False).status_code == 303


def test_language_of_the_pages(web_client, login):
    assert '<html lang="pl">' in web_client.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).text
    assert '<html lang="ru">' in web_client.get("/login?lang=ru").text
    assert '<html lang="ru">' in web_client.get("/login").text  # kept in a cookie after ?lang=
    login(web_client, role="analyst")
    me = web_client.get("/me", headers={"Accept-Language": "it"})
    assert '<html lang="ru">' in me.text  # the browser's own choice (the cookie) before its default
    r = web_client.post("/me", data={"language": "pl", "csrf_token": csrf_of(me.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert '<html lang="pl">' in web_client.get("/me", headers={"Accept-Language": "it"}).text
    assert _audit(web_client, "user.set")[-1]["detail"] == '{"fields": ["language"]}'


def test_front_door_and_health(web_client, login):
    assert web_client.get("/healthz").json()["status"] == "ok"
    # ready once the start-up work is done: the lookup indexes are there by then
    assert web_client.app.state.ready.wait(120)
    assert web_client.get("/healthz").json() == {"status": "ok", "ready": True}
    hub = web_client.app.state.hub
    catalog = ("SELECT indexname FROM pg_indexes" if hub.postgres else "SELECT index_name FROM duckdb_indexes()")
    indexes = hub.reader().execute(f"SELECT * FROM ({catalog}) AS i(name) WHERE name LIKE 'lookup_%'").fetchall()
    from centric.schema import LOOKUPS
    assert len(indexes) == sum(len(c) for c in LOOKUPS.values())
    r = web_client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    login(web_client, role="agent")
    r = web_client.get("/", follow_redirects=False)
    paths = {p for _, p, _ in deps.routes(web_client.app)}
    assert r.headers["location"] == ("/inbox" if "/inbox" in paths else "/me")


# -- API tokens ---------------------------------------------------------------------------------------------
def _probe(app):
    """A JSON route under /api that needs ``case.read`` (the real API's routes are tested by their part)."""

    def read(actor: Actor = Depends(deps.require("case.read"))):
        return {"actor": actor.name, "role": actor.role}

    app.add_api_route("/api/v1/_probe", read, methods=["GET", "POST"])


@pytest.mark.duckdb_only(reason="adds a route of its own, which the PostgreSQL store's gate (centric.web.portable) "
                                 "refuses with 501 before it runs, as it refuses every page not ported")
def test_bearer_tokens(web_client, login):
    _probe(web_client.app)
    hub = web_client.app.state.hub
    token, row = hub.write(auth.add_token, "crm", "agent", ["delivery"])
    assert token.startswith("ctk_") and row["token_hash"] == auth.sha256(token)
    ok = TestClient(web_client.app, headers={"Authorization": f"Bearer {token}"})
    assert ok.get("/api/v1/_probe").json() == {"actor": "token:crm", "role": "agent"}
    assert ok.post("/api/v1/_probe", json={}).status_code == 200  # a bearer needs no CSRF token
    assert auth.list_tokens(hub.reader())[0]["last_used_at"] is not None

    for header in ("Bearer ctk_wrong", f"Bearer {token[:-1]}", "Basic abc", ""):
        r = TestClient(web_client.app, headers={"Authorization": header} if header else {}).get("/api/v1/_probe")
        assert r.status_code == 401 and r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    hub.write(auth.revoke_token, "crm")
    assert ok.get("/api/v1/_probe").status_code == 401
    # a session reads the API, but never writes to it
    login(web_client, role="admin")
    assert web_client.get("/api/v1/_probe").status_code == 200
    csrf = csrf_of(web_client.get("/me").text)
    assert web_client.post("/api/v1/_probe", json={}, headers={"X-CSRF-Token": csrf}).status_code == 401


def test_user_validation():
    from centric import Store

    with Store.open(":memory:") as store:
        with pytest.raises(auth.AuthError, match="not an e-mail address"):
            auth.add_user(store, "ann.example.com", "agent", WEB_PASSWORD)
        with pytest.raises(auth.AuthError, match="unknown role 'boss'"):
            auth.add_user(store, "ann@example.com", "boss", WEB_PASSWORD)
        with pytest.raises(auth.AuthError, match="at least 10 characters"):
            auth.add_user(store, "ann@example.com", "agent", "123456789")
        with pytest.raises(auth.AuthError, match="unknown department 'nowhere'"):
            auth.add_user(store, "ann@example.com", "agent", WEB_PASSWORD, ["nowhere"])
        with pytest.raises(auth.AuthError, match="unknown language 'de'"):
            auth.add_user(store, "ann@example.com", "agent", WEB_PASSWORD, language="de")
        u = auth.add_user(store, "Ann@Example.com", "agent", WEB_PASSWORD, ["delivery"])
        assert (u["user_id"], u["email"], u["agent"], u["departments"]) == ("U0001", "ann@example.com", "ann",
                                                                            ("delivery",))
        assert u["password_hash"].startswith("$argon2id$") and WEB_PASSWORD not in u["password_hash"]
        with pytest.raises(auth.AuthError, match="exists already"):
            auth.add_user(store, "ANN@example.com", "admin", WEB_PASSWORD)
        assert auth.authenticate(store, "ann@example.com", WEB_PASSWORD)["user_id"] == "U0001"
        assert auth.authenticate(store, "ann@example.com", WEB_PASSWORD + "x") is None


# -- the users and tokens commands -----------------------------------------------------------------------------
def _cli(db, *args, input=None):
    return CliRunner().invoke(cli, ["--db", db, *args], input=input)


@pytest.mark.capability("users", engines=("duckdb",))
def test_users_commands(web_db):
    r = _cli(web_db, "users", "add", "ann@example.com", "--role", "agent", "--department", "delivery",
             "--department", "returns", "--name", "Ann Nowak", "--password-stdin", input=WEB_PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert "added ann@example.com (U0001, agent, delivery, returns)" in r.output
    r = _cli(web_db, "users", "list", "--json")
    [ann] = json.loads(r.output)
    assert (ann["email"], ann["name"], ann["departments"], ann["disabled_at"]) == (
        "ann@example.com", "Ann Nowak", ["delivery", "returns"], None)
    assert "password_hash" not in ann
    r = _cli(web_db, "users", "set", "ann@example.com", "--role", "analyst", "--language", "it")
    assert r.exit_code == 0 and "changed ann@example.com (analyst" in r.output
    listed = _cli(web_db, "users", "list").output
    assert "U0001" in listed and "active" in listed
    r = _cli(web_db, "users", "disable", "ann@example.com")
    assert r.exit_code == 0
    [ann] = json.loads(_cli(web_db, "users", "list", "--json").output)
    assert ann["role"] == "analyst" and ann["language"] == "it" and ann["disabled_at"] is not None


@pytest.mark.parametrize("args, stdin, message", [
    (["users", "add", "ann", "--role", "agent"], WEB_PASSWORD, "'ann' is not an e-mail address"),
    (["users", "add", "ann@example.com", "--role", "chief"], WEB_PASSWORD, "unknown role 'chief'"),
    (["users", "add", "ann@example.com", "--role", "agent", "--department", "kitchen-x"], WEB_PASSWORD,
     "unknown department 'kitchen-x'"),
    (["users", "add", "ann@example.com", "--role", "agent"], "short", "at least 10 characters"),
    (["users", "disable", "nobody@example.com"], None, "no user with the e-mail nobody@example.com"),
    (["tokens", "revoke", "nothing"], None, "no live token named 'nothing'"),
    (["tokens", "add", "bad name", "--role", "agent"], None, "is not a token name"),
])
def test_users_commands_refuse_bad_input(web_db, args, stdin, message):
    if stdin is not None:
        args = [*args, "--password-stdin"]
    r = _cli(web_db, *args, input=stdin)
    assert r.exit_code == 2 and "error:" in r.output and message in r.output, r.output


def test_users_add_refuses_a_duplicate_and_a_password_on_the_command_line(web_db):
    assert _cli(web_db, "users", "add", "ann@example.com", "--role", "admin", "--password-stdin",
                input=WEB_PASSWORD).exit_code == 0
    r = _cli(web_db, "users", "add", "ANN@example.com", "--role", "agent", "--password-stdin", input=WEB_PASSWORD)
    assert r.exit_code == 2 and "a user with the e-mail ann@example.com exists already" in r.output
    r = _cli(web_db, "users", "add", "bo@example.com", "--role", "agent")
    assert r.exit_code == 2 and "--password-stdin" in r.output


def test_users_add_team(web_db):
    from centric.cases.config import active
    from centric.cli.web import team
    from centric.engines import open_store

    r = _cli(web_db, "users", "add-team", "--domain", "voltaro.example")
    assert r.exit_code == 0, r.output
    password = r.output.strip().splitlines()[-1].split(": ")[-1]
    with open_store(web_db) as store:
        people = team(active(store)[0])
        users = {u["email"]: u for u in auth.list_users(store)}
        # the demo's routing: a.nowak works in delivery; m.lis leads delivery and installation
        assert users["a.nowak@voltaro.example"]["departments"] == ("delivery",)
        assert set(users["m.lis@voltaro.example"]["departments"]) == {"delivery", "installation"}
        manager = users["k.zielinska@voltaro.example"]
        assert manager["agent"] == "k.zielinska" and len(manager["departments"]) == 10
        assert len(users) == len(people) and {u["role"] for u in users.values()} == {"agent"}
        assert auth.authenticate(store, "a.nowak@voltaro.example", password) is not None
    again = _cli(web_db, "users", "add-team", "--domain", "voltaro.example", "--password-stdin",
                 input=WEB_PASSWORD)
    assert again.exit_code == 0 and f"{len(people)} already present" in again.output and "0 agents added" in again.output


def test_tokens_commands(web_db):
    r = _cli(web_db, "tokens", "add", "crm-sync", "--role", "agent", "--department", "delivery")
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("ctk_") and len(token) > 40
    from centric.engines import open_store

    with open_store(web_db) as store:
        row = auth.lookup_token(store, token)
        assert (row["name"], row["role"], row["departments"]) == ("crm-sync", "agent", ("delivery",))
    listed = _cli(web_db, "tokens", "list").output
    assert "T0001" in listed and "live" in listed and token not in listed
    r = _cli(web_db, "tokens", "add", "crm-sync", "--role", "agent")
    assert r.exit_code == 2 and "exists already" in r.output
    assert _cli(web_db, "tokens", "revoke", "crm-sync").exit_code == 0
    with open_store(web_db) as store:
        assert auth.lookup_token(store, token) is None
    assert "revoked" in _cli(web_db, "tokens", "list").output


# -- the Hub ------------------------------------------------------------------------------------------------
def test_hub_readers_see_committed_writes_and_never_write(tmp_path):
    hub = Hub(str(tmp_path / "hub.duckdb"))
    try:
        reader = hub.reader()
        assert reader.count("audit_log") == 0
        hub.write(audit.record, "system", "test.one", "case", "CX-1")
        assert reader.count("audit_log") == 1  # the same reader, after the write committed
        seen = []
        t = threading.Thread(target=lambda: seen.append((hub.reader() is not reader, hub.reader().count("audit_log"))))
        t.start()
        t.join()
        assert seen == [(True, 1)]  # another thread has its own reader
        with pytest.raises(StoreError, match="writes go through Hub.write"):
            with reader.transaction():
                pass
    finally:
        hub.close()


def test_hub_serialises_concurrent_writes(tmp_path):
    hub = Hub(str(tmp_path / "hub.duckdb"))
    errors = []

    def append(i):
        try:
            hub.write(audit.record, f"user{i}@example.com", "test.concurrent", "case", f"CX-{i}")
        except Exception as e:  # pragma: no cover - shown by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        rows = hub.reader().execute("SELECT audit_id, object_id FROM audit_log ORDER BY audit_id").fetchall()
        assert [r[0] for r in rows] == list(range(1, 21))
        assert {r[1] for r in rows} == {f"CX-{i}" for i in range(20)}
    finally:
        hub.close()
