"""The web app on a PostgreSQL store (the small demo store copied with ``centric store copy`` into a throwaway
server, tests/pg.py): the service team's core through the ASGI client — sign-in, inbox, case page, transfer,
close with a root cause, the customer's page, the API's complaint that becomes a case, the departments'
404 — the refusal of the pages not on PostgreSQL yet, and two processes writing to one store at once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from centric.cli import app as cli_app
from centric.web import auth, create_app
from tests.conftest import csrf_of

from .engines import DUCK_PG, POSTGRESQL
from .test_web_api import DELIVERY_COMPLAINT, live_clocks, post_complaint

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_web(demo_store, pg_server, tmp_path):
    """The URL of a new PostgreSQL database holding a copy of the small demo store."""
    import shutil

    demo_store.con.execute("CHECKPOINT")
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_store.path, path)
    name = pg_server.create_database()
    url = pg_server.url(name)
    r = runner.invoke(cli_app, ["--db", str(path), "store", "copy", "--to", url], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    yield url
    pg_server.drop_database(name)


@pytest.fixture
def pg_client(pg_web):
    app = create_app(pg_web, scheduler=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def query(store, sql: str, params=()):
    """A query's rows (``?`` placeholders: ``store.execute``)."""
    return store.execute(sql, list(params)).fetchall()


def rows(client, sql: str, params=()):
    """A query's rows through the client's hub's read store."""
    return query(client.app.state.hub.reader(), sql, params)


def a_case(client, department: str, statuses=("assigned", "in_progress")) -> str:
    marks = ", ".join("?" * len(statuses))
    return rows(client, f"SELECT min(case_id) FROM cases WHERE department = ? AND status IN ({marks})",
                [department, *statuses])[0][0]


def test_the_service_team_works_a_case_on_postgresql(pg_client, login):
    client = pg_client
    assert client.app.state.hub.postgres
    login(client, "agent", departments=("delivery", "returns"), agent="a.nowak")
    inbox = client.get("/inbox?view=all")
    assert inbox.status_code == 200
    shown = re.findall(r'class="case-link" href="/cases/([^"]+)"', inbox.text)
    departments = {d for (d,) in rows(client, "SELECT department FROM cases WHERE case_id IN ({})".format(
        ", ".join("?" * len(shown))), shown)}
    assert shown and departments <= {"delivery", "returns"}  # the inbox holds only the agent's departments

    case, customer = rows(client, "SELECT case_id, customer_id FROM cases WHERE department = 'delivery' AND "
                                  "status IN ('assigned', 'in_progress') AND customer_id IS NOT NULL "
                                  "ORDER BY case_id LIMIT 1")[0]
    page = client.get(f"/cases/{case}")
    assert page.status_code == 200 and f'<h1 id="case-title">{case}</h1>' in page.text
    assert f'href="/customers/{customer}' in page.text  # the customer's timeline beside the case
    mine = client.get(f"/customers/{customer}")
    assert mine.status_code == 200 and f'href="/cases/{case}"' in mine.text
    secret, _ = client.app.state.hub.write(auth.add_token, "timeline", "agent", ("delivery",))
    timeline = client.get(f"/api/v1/customers/{customer}/timeline", headers={"Authorization": f"Bearer {secret}"})
    assert timeline.status_code == 200 and case in timeline.text, timeline.text[:500]
    token = csrf_of(page.text)
    r = client.post(f"/cases/{case}/transfer", data={"department": "returns", "reason": "refund of the fee",
                                                      "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case}?done=transfer"
    assert "Transferred to Returns" in client.get(r.headers["location"]).text
    assert rows(client, "SELECT department, status, owner FROM cases WHERE case_id = ?", [case]) == [
        ("returns", "new", None)]

    r = client.post(f"/cases/{case}/close", data={"root_cause": "", "action": "refunded", "csrf_token": token})
    assert r.status_code == 422 and "Choose the root cause." in r.text
    r = client.post(f"/cases/{case}/close", data={"root_cause": "delivery", "sub_cause": "wrong address used",
                                                   "action": "refunded", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Closed with root cause Delivery" in client.get(r.headers["location"]).text
    assert rows(client, "SELECT status, root_cause, root_sub_cause, action_taken FROM cases WHERE case_id = ?",
                [case]) == [("closed", "delivery", "wrong address used", "refunded")]
    audit = rows(client, "SELECT action, detail FROM audit_log WHERE object_id = ? ORDER BY audit_id", [case])
    assert [a for a, _ in audit] == ["case.transfer", "case.close"]
    assert json.loads(audit[0][1])["department"] == "returns" and json.loads(audit[1][1])["root_cause"] == "delivery"

    r = client.post(f"/cases/{case}/reopen", data={"reason": "the refund did not arrive", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert rows(client, "SELECT status FROM cases WHERE case_id = ?", [case]) != [("closed",)]
    assert client.get("/healthz").json()["status"] == "ok"


def test_resolve_then_the_customer_answers_was_it_solved_on_postgresql(pg_client, login, monkeypatch):
    client = pg_client
    monkeypatch.delenv("CENTRIC_SMTP_HOST", raising=False)
    login(client, "agent", departments=("delivery",), agent="a.nowak")
    case = a_case(client, "delivery")
    r = client.post(f"/cases/{case}/resolve", data={"csrf_token": csrf_of(client.get(f"/cases/{case}").text)},
                    follow_redirects=False)
    assert r.status_code == 200 and "No mail server is set up" in r.text
    token = re.search(r'value="http://127\.0\.0\.1:8000/solved/([A-Za-z0-9_-]+)"', r.text).group(1)
    assert rows(client, "SELECT status FROM cases WHERE case_id = ?", [case]) == [("resolved",)]
    public = TestClient(client.app)  # the customer: no session
    assert "Has your problem been solved?" in public.get(f"/solved/{token}?lang=en").text
    r = public.post(f"/solved/{token}", data={"solved": "no", "csat": "2", "ces": "3", "comment": "Still broken",
                                               "lang": "en"})
    assert r.status_code == 200 and "Your case is open again" in r.text
    assert rows(client, "SELECT status, reopen_count FROM cases WHERE case_id = ?", [case])[0][1] == 1
    assert rows(client, "SELECT csat, ces, comment FROM responses WHERE survey = 'case-confirmation'") == [
        (2, 3, "Still broken")]
    assert "You have answered already" in public.post(f"/solved/{token}", data={"solved": "yes", "lang": "en"}).text
    assert public.get("/solved/not-a-token").status_code == 404


def test_an_agent_of_another_department_gets_404(pg_client, login):
    client = pg_client
    case = a_case(client, "delivery")
    login(client, "agent", departments=("returns",), agent="r.agent")
    assert client.get(f"/cases/{case}").status_code == 404
    assert client.get("/cases/CX-9999999").status_code == 404
    own = a_case(client, "returns", ("new", "assigned", "in_progress", "waiting", "resolved", "closed"))
    token = csrf_of(client.get(f"/cases/{own}").text)
    r = client.post(f"/cases/{case}/note", data={"text": "hello", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 404
    assert rows(client, "SELECT department FROM cases WHERE case_id = ?", [case]) == [("delivery",)]


def test_the_pages_not_on_postgresql_are_refused_with_the_commands_message(pg_client, login):
    client = pg_client
    login(client, "admin")
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboards"  # as on DuckDB
    r = client.post("/reports/new", data={"customer_id": "C1"})  # a page without a command of its own
    assert r.status_code == 501 and "centric serve: the page /reports is not available on PostgreSQL yet" in r.text
    assert "Traceback" not in r.text
    secret, _ = client.app.state.hub.write(auth.add_token, "reader", "analyst")
    r = client.get("/api/v1/customers/C1/forget", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 501 and "not available on PostgreSQL yet" in r.json()["detail"]


def test_a_clock_past_due_since_the_last_tick_reads_breached_on_postgresql(pg_client, monkeypatch):
    secret, _ = pg_client.app.state.hub.write(auth.add_token, "reader", "admin")
    live_clocks(pg_client, {"Authorization": f"Bearer {secret}"}, monkeypatch)


def test_an_admin_adds_a_user_and_reads_the_audit_log_on_postgresql(pg_client, login):
    client = pg_client
    login(client, "admin")
    page = client.get("/users")
    assert page.status_code == 200
    r = client.post("/users", data={"email": "new.agent@example.com", "role": "agent", "password": "a long password",
                                    "departments": "delivery", "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users?done=added"
    assert rows(client, "SELECT role, departments FROM users WHERE email = 'new.agent@example.com'") == [
        ("agent", '["delivery"]')]
    audit = client.get("/audit?action=user")
    assert audit.status_code == 200 and "user.add" in audit.text
    assert client.get("/settings").status_code == 200  # as on DuckDB
    secret, token = client.app.state.hub.write(auth.add_token, "reporting", "analyst")
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page = client.get("/users")
    r = client.post(f"/users/tokens/{token['token_id']}/revoke", data={"csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users?done=revoked#tokens"
    assert rows(client, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE token_id = ?", [token["token_id"]]) == [
        (True,)]
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_complaint_posted_to_the_api_becomes_a_case_on_postgresql(pg_web):
    app = create_app(pg_web, scheduler=True)
    with TestClient(app) as client:
        posted, c = post_complaint(client, rows, 60)
        fid = posted["stored"][0]["id"]
        assert rows(client, "SELECT text FROM feedback WHERE feedback_id = ?", [fid]) == [(DELIVERY_COMPLAINT,)]
        assert (c["department"], c["factor"], c["customer_id"]) == ("delivery", "delivery",
                                                                     posted["stored"][0]["customer_id"])
        assert client.get(f"/api/v1/cases/{c['id']}", headers={"Authorization": "Bearer ctk_nope"}).status_code == 401


@pytest.mark.capability("surveys", engines=(POSTGRESQL,))
def test_an_employee_answers_on_their_link_on_postgresql(pg_client):
    """The employee's form on PostgreSQL: the answer stored once, anonymously, its period's rows in the order of
    their random ids."""
    from .test_enps_web import _counts, _open_link

    token, inv = _open_link(pg_client)
    page = pg_client.get(f"/s/{token}")
    assert page.status_code == 200 and 'name="score"' in page.text and f'lang="{inv["language"]}"' in page.text
    responses, answers = _counts(pg_client)
    r = pg_client.post(f"/s/{token}", data={"score": "9", "comment": "Dobry zespół"})
    assert r.status_code == 200, r.text[:500]
    assert _counts(pg_client) == (responses, answers + 1)
    assert rows(pg_client, "SELECT used FROM employee_invitations WHERE invitation_id = ?",
                [inv["invitation_id"]]) == [(True,)]
    assert rows(pg_client, "SELECT count(*) FROM employee_answers WHERE comment = 'Dobry zespół' AND unit = ? AND "
                           "period = ?", [inv["unit"], inv["period"]]) == [(1,)]
    stored = [a for (a,) in rows(pg_client, "SELECT answer_id FROM employee_answers WHERE period = ? ORDER BY ctid",
                                 [inv["period"]])]
    assert len(stored) > 1 and stored == sorted(stored)
    assert pg_client.post(f"/s/{token}", data={"score": "1"}).status_code == 409
    assert _counts(pg_client) == (responses, answers + 1)


@pytest.mark.capability("users", engines=(POSTGRESQL,))
def test_users_and_tokens_from_the_command_line_on_postgresql(pg_web):
    r = runner.invoke(cli_app, ["--db", pg_web, "users", "add", "lead@example.com", "--role", "agent",
                                "--department", "delivery", "--password-stdin"], input="a long password\n")
    assert r.exit_code == 0, r.output
    assert "added lead@example.com (U0001, agent, delivery)" in r.output
    r = runner.invoke(cli_app, ["--db", pg_web, "users", "add", "lead@example.com", "--role", "agent",
                                "--password-stdin"], input="a long password\n")
    assert r.exit_code == 2 and "exists already" in r.output
    r = runner.invoke(cli_app, ["--db", pg_web, "tokens", "add", "shop", "--role", "agent", "--department",
                                "delivery"])
    assert r.exit_code == 0 and r.output.strip().splitlines()[-1].startswith("ctk_")
    assert runner.invoke(cli_app, ["--db", pg_web, "users", "disable", "lead@example.com"]).exit_code == 0
    listed = json.loads(runner.invoke(cli_app, ["--db", pg_web, "users", "list", "--json"]).output)
    assert [(u["user_id"], u["email"], u["disabled_at"] is not None) for u in listed] == [
        ("U0001", "lead@example.com", True)]
    from centric.engines.postgres import PgStore

    with PgStore.open(pg_web) as store:
        got = store.execute("SELECT audit_id, actor, action, object_id FROM audit_log ORDER BY audit_id").fetchall()
    first = got[0][0]
    assert got == [(first, "cli", "user.add", "U0001"), (first + 1, "cli", "token.add", "T0001"),
                   (first + 2, "cli", "user.disable", "U0001")]


@pytest.mark.duckdb_only(reason="the refusal is DuckDB's (one writing process); on PostgreSQL several workers are "
                                 "allowed and the command would start serving")
def test_serve_refuses_several_workers_on_duckdb(web_db):
    r = runner.invoke(cli_app, ["serve", "--db", web_db, "--workers", "2", "--port", "1"])
    assert r.exit_code == 2
    assert "a DuckDB store is written by one process" in " ".join(r.output.split())


# -- two processes on one store ------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from centric.cases import workflow
    from centric.web.hub import Hub
    from centric.web.scheduler import Scheduler

    url, case, name, go, n = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
    hub = Hub(url)
    scheduler = Scheduler(hub, interval=3600)  # not started: only its election is tried
    print("elected", scheduler.elect(), flush=True)
    while not go.exists():
        time.sleep(0.05)
    for i in range(n):
        hub.write(workflow.note, case, f"{name} note {i}", actor=name)
    print("done", flush=True)
    while not (go.parent / "stop").exists():
        time.sleep(0.05)
    scheduler.stop()
    hub.close()
""")


def test_two_processes_write_to_one_case_and_one_scheduler_is_elected(pg_web, tmp_path):
    from centric.web.hub import Hub
    from centric.web.scheduler import Scheduler

    hub = Hub(pg_web)
    try:
        case = query(hub.reader(), "SELECT min(case_id) FROM cases WHERE status = 'in_progress'")[0][0]
        before = hub.generation
        notes = "SELECT case_event_id, note FROM case_events WHERE case_id = ? AND kind = 'note'"
        notes_before = len(query(hub.reader(), notes, [case]))
        script = tmp_path / "writer.py"
        script.write_text(WRITER)
        go = tmp_path / "go"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        n = 8
        procs = [subprocess.Popen([sys.executable, str(script), pg_web, case, who, str(go), str(n)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for who in ("first", "second")]
        elected = [p.stdout.readline().strip() for p in procs]
        assert sorted(elected) == ["elected False", "elected True"]  # exactly one process runs the scheduler
        third = Scheduler(hub, interval=3600)
        assert not third.elect()  # nor this third one while the elected one lives
        go.touch()
        assert [p.stdout.readline().strip() for p in procs] == ["done", "done"], [p.stderr.read() for p in procs]
        (tmp_path / "stop").touch()
        for p in procs:
            assert p.wait(60) == 0, p.stderr.read()
        events = query(hub.reader(), notes, [case])
        assert len(events) == notes_before + 2 * n
        assert len({e for e, _ in events}) == len(events)  # distinct ids
        bodies = {b for _, b in events}
        assert {f"{who} note {i}" for who in ("first", "second") for i in range(n)} <= bodies
        assert hub.generation != before  # this process is told of the other processes' writes
        assert third.elect()  # the elected process is gone: another one takes over
        third.stop()
    finally:
        hub.close()


def test_serve_with_two_workers_on_postgresql(pg_web):
    """``centric serve --workers 2``: two worker processes answer, a user signs in and a note is stored."""
    import socket
    import urllib.request

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(cli_app, ["--db", pg_web, "users", "add", "agent@example.com", "--role", "agent",
                                "--department", "delivery", "--password-stdin"], input="a long password\n")
    assert r.exit_code == 0, r.output
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "centric.cli", "serve", "--db", pg_web, "--workers", "2",
                               "--port", str(port), "--no-scheduler"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                    assert json.loads(answer.read())["status"] == "ok"
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.5)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        if children.exists():  # Linux: the workers are the server's child processes
            workers = [c for c in children.read_text().split()
                       if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
            assert len(workers) == 2
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
            page = client.get("/login")
            from tests.conftest import login_csrf

            r = client.post("/login", data={"email": "agent@example.com", "password": "a long password",
                                            "csrf_token": login_csrf(page.text), "next": "/inbox"})
            assert r.status_code == 303 and r.headers["location"] == "/inbox"
            from centric.engines.postgres import PgStore

            with PgStore.open(pg_web, read_only=True) as store:
                case = query(store, "SELECT min(case_id) FROM cases WHERE department = 'delivery' "
                                    "AND status IN ('assigned', 'in_progress')")[0][0]
            for i in range(4):  # the connection may reach either worker: each takes the session
                token = csrf_of(client.get(f"/cases/{case}").text)
                r = client.post(f"/cases/{case}/note", data={"text": f"served note {i}", "csrf_token": token})
                assert r.status_code == 303, r.text[:300]
            with PgStore.open(pg_web, read_only=True) as store:
                notes = query(store, "SELECT note FROM case_events WHERE case_id = ? AND note LIKE 'served note %'",
                              [case])
            assert sorted(n for (n,) in notes) == [f"served note {i}" for i in range(4)]
    finally:
        server.terminate()
        server.wait(60)


def test_a_lost_connection_fails_one_request_and_the_next_connects_again(pg_web):
    import psycopg

    from centric.web.hub import Hub
    from centric.web.scheduler import Scheduler

    hub = Hub(pg_web)
    scheduler = Scheduler(hub, interval=3600)
    try:
        assert scheduler.elect()
        users = "SELECT count(*) FROM users"
        assert query(hub.reader(), users) == [(0,)]
        with psycopg.connect(pg_web, autocommit=True) as admin:  # as a restarted server would: every session ends
            ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
        assert ended >= 3  # the hub's writer and reader, the scheduler's lock
        with pytest.raises(psycopg.OperationalError):
            query(hub.reader(), users)
        assert query(hub.reader(), users) == [(0,)]  # this thread's reader connected again
        with pytest.raises(psycopg.OperationalError):
            hub.write(auth.add_user, "again@example.com", "admin", "a long password")
        hub.write(auth.add_user, "again@example.com", "admin", "a long password")
        assert query(hub.reader(), "SELECT user_id, email FROM users") == [("U0001", "again@example.com")]
        assert scheduler.elect()  # its lock went with its session: taken again on a new one
    finally:
        scheduler.stop()
        hub.close()


@pytest.mark.capability("serve", engines=DUCK_PG)
def test_the_journeys_pages_and_the_apis_metrics_are_those_of_duckdb(pg_web, web_db, login):
    """The pages whose analyses run on PostgreSQL: the same bytes as on the DuckDB store they were copied from
    (the pages' content, without the menu, which shows only what runs, and the session's own form token)."""
    answers = []
    for db in (web_db, pg_web):
        with TestClient(create_app(db, scheduler=False), base_url="http://testserver") as client:
            login(client, "admin")
            secret, _ = client.app.state.hub.write(auth.add_token, "reader", "analyst")
            h = {"Authorization": f"Bearer {secret}"}
            journeys = sorted(set(re.findall(r'href="/journeys/([^"?/]+)', client.get("/journeys").text)))
            assert journeys
            got = {}
            import html

            cells = [html.unescape(m) for j in journeys for m in re.findall(
                r'href="(/journeys/[^"/]+/cell\?[^"]+)"', client.get(f"/journeys/{j}").text)[:2]]
            assert cells
            for path in ["/journeys", *(f"/journeys/{j}" for j in journeys), *cells,
                         "/api/v1/metrics/nps?by=quarter", "/api/v1/metrics/csat", "/api/v1/drivers"]:
                r = client.get(path, headers=h if path.startswith("/api") else None)
                assert r.status_code == 200, (db, path, r.text[:300])
                body = r.text if path.startswith("/api") else re.search(r"<main.*</main>", r.text, re.S).group(0)
                got[path] = re.sub(r'name="csrf_token" value="[^"]+"', "", body)
            answers.append(got)
    duck, pg = answers
    assert duck.keys() == pg.keys()
    for path in duck:
        assert pg[path] == duck[path], path


def test_a_wake_up_from_another_process_reaches_the_elected_scheduler(pg_web):
    """A worker whose scheduler is not elected asks for a round (an API post does): the elected one, elsewhere,
    runs it at once rather than at its next interval."""
    from centric.web import scheduler as background
    from centric.web.hub import Hub

    elected_hub, other_hub = Hub(pg_web), Hub(pg_web)
    elected = background.Scheduler(elected_hub, interval=3600)
    try:
        assert elected.elect()
        elected.start()
        assert elected.wait_rounds(1, 120)  # its first round; the next one is an hour away
        other = background.start(other_hub, interval=3600)  # this process's scheduler: not elected
        assert other.wait_rounds(1, 60) and not other.elected
        assert background.wake(other_hub, ("tick",))
        assert elected.wait_rounds(2, 30), "the elected scheduler was not woken"
        assert set(elected.last.results) == {"tick"}  # the step asked for, and only it
    finally:
        background.stop()
        elected.stop()
        other_hub.close()
        elected_hub.close()
