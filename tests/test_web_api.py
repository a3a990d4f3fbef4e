"""The JSON API (/api/v1) in-process: each endpoint's answers and refusals, on a copy of the small demo store."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from centric.cli import app as cli_app
from centric.web import auth, create_app

DELIVERY_COMPLAINT = ("The courier brought the fridge to the wrong address for the fourth time and the delivery "
                      "was three days late again.")


@pytest.fixture
def token(web_client):
    """``token(role, *departments)`` → the headers of a new bearer token of the web client's app."""
    hub = web_client.app.state.hub
    made = []

    def _token(role: str = "admin", *departments: str) -> dict[str, str]:
        name = f"{role}-{len(made) + 1}"
        secret, _ = hub.write(auth.add_token, name, role, departments)
        made.append(name)
        return {"Authorization": f"Bearer {secret}"}

    return _token


def _one(client, sql: str, params=()):
    return client.app.state.hub.reader().execute(sql, list(params)).fetchall()


def _case_of(client, department: str, status: str | None = None) -> str:
    cond = "AND status = ?" if status else ""
    return _one(client, f"SELECT case_id FROM cases WHERE department = ? {cond} ORDER BY case_id LIMIT 1",
                [department, *([status] if status else [])])[0][0]


# -- posting rows -------------------------------------------------------------------------------------------

def test_posted_feedback_is_stored_with_its_ids_and_customers(web_client, token):
    h = token("agent", "delivery")
    rows = [{"email": "nowa.klientka@example.com", "source": "complaint", "created_at": "02.11.2026 09:30",
             "text": DELIVERY_COMPLAINT},
            {"feedback_id": "API-1", "telefon": "+48 600 100 200", "source": "review", "created_at": "2026-11-02",
             "text": "Nice staff", "rating": 5}]
    r = web_client.post("/api/v1/feedback", json=rows, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["table"] == "feedback" and body["source"].startswith("api:feedback:agent-1:")
    stored = {s["index"]: s for s in body["stored"]}
    assert sorted(stored) == [0, 1] and stored[1]["id"] == "API-1" and not stored[0]["duplicate"]
    db = dict((k, (c, t)) for k, c, t in _one(web_client, "SELECT feedback_id, customer_id, text FROM feedback "
                                                       "WHERE feedback_id IN (?, ?)", [stored[0]["id"], "API-1"]))
    assert db[stored[0]["id"]] == (stored[0]["customer_id"], DELIVERY_COMPLAINT)
    assert db["API-1"][0] == stored[1]["customer_id"] and stored[1]["customer_id"] != stored[0]["customer_id"]
    assert _one(web_client, "SELECT value FROM identities WHERE customer_id = ? AND kind = 'phone'",
                [stored[1]["customer_id"]]) == [("+48600100200",)]
    # the same row again: stored once, said so
    again = web_client.post("/api/v1/feedback", json=rows[1], headers=h)
    assert again.status_code == 201 and again.json()["stored"] == [{**stored[1], "index": 0, "duplicate": True}]
    assert _one(web_client, "SELECT count(*) FROM feedback WHERE feedback_id = 'API-1'") == [(1,)]
    # recorded in the audit log without the text
    audit = _one(web_client, "SELECT actor, action, detail FROM audit_log WHERE action = 'feedback.post' ORDER BY "
                             "audit_id")
    assert audit[0][:2] == ("token:agent-1", "feedback.post")
    assert json.loads(audit[0][2]) == {"rows": 2, "stored": 2, "rejected": 0}


def test_a_bad_score_is_422_naming_row_and_column_and_the_row_is_kept(web_client, token):
    rows = [{"email": "a.b@example.com", "answered_at": "2026-11-02", "nps": 9, "survey": "post-delivery"},
            {"email": "c.d@example.com", "answered_at": "2026-11-02", "nps": 11, "survey": "post-delivery"}]
    r = web_client.post("/api/v1/responses", json=rows, headers=token("admin"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["rejected"] == [{"index": 1, "column": "nps", "value": "11",
                                 "reason": "nps must be a whole number from 0 to 10, got '11'"}]
    assert [s["index"] for s in body["stored"]] == [0]
    assert "1 of 2 rows rejected" in body["detail"] and f"run {body['run_id']}" in body["detail"]
    kept = _one(web_client, "SELECT source, row_number, column_name, value FROM rejected_rows WHERE run_id = ?",
                [body["run_id"]])
    assert kept == [(body["source"], 2, "nps", "11")]
    assert _one(web_client, "SELECT count(*) FROM responses WHERE response_id = ?", [body["stored"][0]["id"]]) == [(1,)]


def test_posting_needs_a_bearer_token_of_a_role_that_may(web_client, token, login):
    row = {"email": "x@example.com", "source": "complaint", "created_at": "2026-11-02", "text": "late"}
    assert web_client.post("/api/v1/feedback", json=row).status_code == 401
    assert web_client.post("/api/v1/feedback", json=row, headers={"Authorization": "Bearer ctk_nope"}).status_code == 401
    assert web_client.post("/api/v1/feedback", json=row, headers=token("analyst")).status_code == 403
    login(web_client, role="admin")  # a browser session may read the API, never post to it
    assert web_client.get("/api/v1/cases?limit=1").status_code == 200
    r = web_client.post("/api/v1/feedback", json=row)
    assert r.status_code == 401 and "bearer" in r.json()["detail"]


@pytest.mark.parametrize("body, why", [
    ([], "no rows"), ("just text", None), ([1, 2], None), ({"colour": "red"}, "required column"),
    ([{}], "no columns"), ({"nps": "\u0000"}, "required column"),
])
def test_a_body_that_is_not_rows_is_422(web_client, token, body, why):
    r = web_client.post("/api/v1/responses", json=body, headers=token("admin"))
    assert r.status_code == 422
    if why:
        assert why in r.json()["detail"]
    assert _one(web_client, "SELECT count(*) FROM ingest_runs WHERE source LIKE 'api:%'") == [(0,)]


def post_complaint(client, query, seconds: float) -> tuple[dict, dict]:
    """Post :data:`DELIVERY_COMPLAINT` with a delivery agent's token and wait (up to ``seconds``) for the
    scheduler to place it in a case; (the POST's answer, the case as the API shows it). ``query(client, sql,
    params)`` reads the store."""
    secret, _ = client.app.state.hub.write(auth.add_token, "shop", "agent", ("delivery",))
    h = {"Authorization": f"Bearer {secret}"}
    r = client.post("/api/v1/feedback", headers=h, json={
        "email": "k.nowak@example.com", "source": "complaint", "created_at": "2026-11-02T09:30:00",
        "text": DELIVERY_COMPLAINT})
    assert r.status_code == 201, r.text
    fid = r.json()["stored"][0]["id"]
    deadline, found = time.monotonic() + seconds, []
    while time.monotonic() < deadline and not found:
        time.sleep(0.25)
        found = query(client, "SELECT case_id FROM case_signals WHERE source_table = 'feedback' AND signal_id = ?",
                      [fid])
    assert found, f"no case within {seconds} s"
    case = client.get(f"/api/v1/cases/{found[0][0]}", headers=h)
    assert case.status_code == 200
    return r.json(), case.json()


def test_a_posted_complaint_becomes_a_case_routed_to_delivery(web_db):
    app = create_app(web_db, scheduler=True)
    with TestClient(app) as client:
        posted, c = post_complaint(client, _one, 20)
        assert (c["department"], c["factor"], c["customer_id"]) == ("delivery", "delivery",
                                                                     posted["stored"][0]["customer_id"])
        assert c["summary"].startswith("The courier brought the fridge")


# -- cases ---------------------------------------------------------------------------------------------------

def test_cases_are_listed_in_the_tokens_scope_with_filters(web_client, token):
    mine = web_client.get("/api/v1/cases", params={"limit": 1000}, headers=token("agent", "delivery")).json()
    expected = _one(web_client, "SELECT count(*) FROM cases WHERE department = 'delivery'")[0][0]
    assert expected > 0 and len(mine["cases"]) == expected
    assert {c["department"] for c in mine["cases"]} == {"delivery"}
    keys = {"id", "customer_id", "department", "owner", "status", "priority", "factor", "opened_at", "due"}
    assert keys <= set(mine["cases"][0]) and set(mine["cases"][0]["due"]) == {"first_response", "next_response",
                                                                               "resolution", "confirmation"}
    admin = token("admin")
    all_ = web_client.get("/api/v1/cases", params={"limit": 1000}, headers=admin).json()["cases"]
    assert len(all_) == min(1000, _one(web_client, "SELECT count(*) FROM cases")[0][0])
    # the department filter inside the scope, and outside it: nothing
    other = web_client.get("/api/v1/cases", params={"department": "sales"}, headers=token("agent", "delivery"))
    assert other.status_code == 200 and other.json()["cases"] == []
    status = web_client.get("/api/v1/cases", params={"status": ["assigned"], "department": "sales", "limit": 1000},
                            headers=admin).json()["cases"]
    assert len(status) == _one(web_client, "SELECT count(*) FROM cases WHERE status = 'assigned' AND "
                                           "department = 'sales'")[0][0]
    page = web_client.get("/api/v1/cases", params={"limit": 2, "offset": 1}, headers=admin).json()
    assert [c["id"] for c in page["cases"]] == [c["id"] for c in all_[1:3]]
    late = web_client.get("/api/v1/cases", params={"overdue": True, "limit": 1000}, headers=admin).json()["cases"]
    assert len(late) == _one(web_client, "SELECT count(DISTINCT case_id) FROM case_clocks WHERE state = 'breached' "
                                         "AND stopped_at IS NULL")[0][0]


def live_clocks(client, headers: dict[str, str], monkeypatch) -> None:
    """Two cases' resolution clocks moved as if the last tick ran before they changed state (stored on_track):
    one past its due time, one past its at-risk time only; the API gives their states at the request, as the case
    page does — breached and at risk —, and the store keeps on_track until the next tick."""
    import datetime as dt

    from centric.cases import store_io

    now = dt.datetime(2026, 12, 1, 9, 30)
    monkeypatch.setattr(store_io, "utcnow", lambda: now)
    hub = client.app.state.hub
    late, risky = [r[0] for r in hub.reader().execute(
        "SELECT case_id FROM case_clocks WHERE clock = 'resolution' AND state IN ('on_track', 'at_risk') "
        "AND stopped_at IS NULL ORDER BY case_id LIMIT 2").fetchall()]
    hour = dt.timedelta(hours=1)
    for case_id, at_risk, due in ((late, now - 3 * hour, now - hour), (risky, now - hour, now + hour)):
        hub.write(lambda store, c=case_id, r=at_risk, d=due: store.execute(
            "UPDATE case_clocks SET state = 'on_track', at_risk_at = ?, due_at = ? WHERE case_id = ? "
            "AND clock = 'resolution'", [r, d, c]))
    got = {c: client.get(f"/api/v1/cases/{c}", headers=headers).json() for c in (late, risky)}
    assert [(g["clocks"]["resolution"]["state"], g["clock_states"]["resolution"]) for g in got.values()] == [
        ("breached", "breached"), ("at_risk", "at_risk")]
    assert got[late]["clocks"]["resolution"]["due_at"] == (now - hour).isoformat() + "Z"
    assert "resolution" in got[late]["running_clocks"]
    assert hub.reader().execute("SELECT state FROM case_clocks WHERE case_id IN (?, ?) AND clock = 'resolution'",
                                [late, risky]).fetchall() == [("on_track",), ("on_track",)]


def test_a_clock_past_due_since_the_last_tick_reads_breached(web_client, token, monkeypatch):
    live_clocks(web_client, token("admin"), monkeypatch)


def test_an_agent_of_another_department_gets_404_for_a_case(web_client, token):
    case_id = _case_of(web_client, "sales")
    theirs, mine = token("agent", "delivery"), token("agent", "sales")
    assert web_client.get(f"/api/v1/cases/{case_id}", headers=mine).json()["id"] == case_id
    for r in (web_client.get(f"/api/v1/cases/{case_id}", headers=theirs),
              web_client.post(f"/api/v1/cases/{case_id}/events", json={"kind": "note", "text": "x"}, headers=theirs),
              web_client.post(f"/api/v1/cases/{case_id}/close", json={"root_cause": "price", "action": "x"},
                              headers=theirs),
              web_client.get("/api/v1/cases/CX-9999999", headers=mine)):
        assert r.status_code == 404 and "no case" in r.json()["detail"]
    # an analyst reads it but may not act
    analyst = token("analyst")
    assert web_client.get(f"/api/v1/cases/{case_id}", headers=analyst).status_code == 200
    assert web_client.post(f"/api/v1/cases/{case_id}/events", json={"kind": "note", "text": "x"},
                           headers=analyst).status_code == 403


def test_case_events_go_through_the_workflow(web_client, token):
    case_id = _case_of(web_client, "delivery", "assigned")
    h = token("agent", "delivery")

    def act(body, status=200):
        r = web_client.post(f"/api/v1/cases/{case_id}/events", json=body, headers=h)
        assert r.status_code == status, r.text
        return r.json()

    assert act({"kind": "assign", "owner": "m.lis"})["case"]["owner"] == "m.lis"
    assert act({"kind": "status", "status": "in_progress"})["status"] == "in_progress"
    act({"kind": "note", "text": "called the courier"})
    act({"kind": "comment", "text": "We are sorry; it comes tomorrow."})
    out = act({"kind": "status", "status": "resolved", "note": "delivered"})
    assert out["status"] == "resolved" and out["token"] and out["action"] == "resolved"
    events = _one(web_client, "SELECT kind, actor, target, note FROM case_events WHERE case_id = ? AND actor = "
                              "'token:agent-1' ORDER BY case_event_id", [case_id])
    assert [e[0] for e in events] == ["assigned", "started", "note", "agent_response", "resolved"]
    assert events[0][2] == "m.lis" and events[2][3] == "called the courier"
    assert act({"kind": "status", "status": "reopened"}, 422)["detail"] == "reopening a case needs the reason in 'note'"
    assert act({"kind": "status", "status": "waiting"}, 409)["detail"]  # a resolved case does not wait
    assert act({"kind": "wink"}, 422)["detail"]
    assert act({"kind": "status", "status": "reopened", "note": "not delivered after all"})["status"] == "in_progress"
    out = act({"kind": "transfer", "department": "sales", "note": "it was the price"})
    assert out["status"] == "new" and out["case"] is None  # no longer in the token's departments
    audit = _one(web_client, "SELECT action FROM audit_log WHERE object_id = ? ORDER BY audit_id", [case_id])
    assert [a for a, in audit] == ["case.assign", "case.in_progress", "case.note", "case.comment", "case.resolved",
                                   "case.reopened", "case.transfer"]


def test_closing_needs_a_root_cause_and_a_resolved_case(web_client, token):
    case_id = _case_of(web_client, "delivery", "assigned")
    h = token("admin")
    close = f"/api/v1/cases/{case_id}/close"
    r = web_client.post(close, json={"action": "new courier"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "root_cause"]
    r = web_client.post(close, json={"root_cause": "  ", "action": "new courier"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"] == f"case {case_id} cannot be closed without a root cause"
    r = web_client.post(close, json={"root_cause": "weather", "action": "new courier"}, headers=h)
    assert r.status_code == 422 and "'weather' is not a factor" in r.json()["detail"]
    r = web_client.post(close, json={"root_cause": "delivery", "action": "new courier"}, headers=h)
    assert r.status_code == 409 and "resolved" in r.json()["detail"]
    web_client.post(f"/api/v1/cases/{case_id}/events", json={"kind": "status", "status": "resolved"}, headers=h)
    r = web_client.post(close, json={"root_cause": "delivery", "action": "new courier", "sub_cause": "address"},
                        headers=h)
    assert r.status_code == 200, r.text
    c = r.json()["case"]
    assert c["status"] == "closed" and c["root_cause"] == {"cause": "delivery", "sub_cause": "address", "note": None}
    assert c["action"] == "new courier"


# -- customers, metrics, drivers -----------------------------------------------------------------------------

def test_timeline_of_a_customer_in_scope(web_client, token):
    cid, dept = _one(web_client, "SELECT customer_id, department FROM cases WHERE customer_id IS NOT NULL "
                                 "AND department = 'delivery' ORDER BY case_id LIMIT 1")[0]
    r = web_client.get(f"/api/v1/customers/{cid}/timeline", headers=token("agent", dept))
    assert r.status_code == 200
    t = r.json()
    assert t["customer"]["customer_id"] == cid and t["total"] == len(t["items"]) > 0
    assert any(i["kind"] == "case" for i in t["items"])
    no_case_there = _one(web_client, "SELECT customer_id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM cases x "
                                     "WHERE x.customer_id = c.customer_id AND x.department = 'delivery') "
                                     "ORDER BY 1 LIMIT 1")[0][0]
    assert web_client.get(f"/api/v1/customers/{no_case_there}/timeline",
                          headers=token("agent", "delivery")).status_code == 404
    assert web_client.get(f"/api/v1/customers/{no_case_there}/timeline", headers=token("analyst")).status_code == 200
    assert web_client.get("/api/v1/customers/C9999999/timeline", headers=token("admin")).status_code == 404


def _cli_json(db: str, *args: str):
    r = CliRunner().invoke(cli_app, ["--db", db, *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_metrics_and_drivers_are_the_clis_json(web_db):
    cli = {"nps": _cli_json(web_db, "metrics", "nps", "--by", "quarter", "--from", "2025-01"),
           "complaints": _cli_json(web_db, "metrics", "complaints", "--by", "department"),
           "drivers": _cli_json(web_db, "drivers", "--reps", "20")}
    app = create_app(web_db, scheduler=False)
    with TestClient(app) as client:
        secret, _ = app.state.hub.write(auth.add_token, "bi", "analyst")
        h = {"Authorization": f"Bearer {secret}"}
        nps = client.get("/api/v1/metrics/nps", params={"by": "quarter", "from": "2025-01"}, headers=h)
        assert nps.status_code == 200 and nps.json() == cli["nps"]
        complaints = client.get("/api/v1/metrics/complaints", params={"by": "department"}, headers=h)
        assert complaints.json() == cli["complaints"]
        drivers = client.get("/api/v1/drivers", params={"reps": 20}, headers=h)
        assert drivers.status_code == 200 and drivers.json() == cli["drivers"]
        bad = client.get("/api/v1/metrics/nps", params={"from": "2025-13"}, headers=h)
        assert bad.status_code == 422 and "is not a date" in bad.json()["detail"]
        assert client.get("/api/v1/metrics/nps", params={"from": "2025-06", "to": "2025-01"},
                          headers=h).status_code == 422
        assert client.get("/api/v1/metrics/churn", headers=h).status_code == 422
        agent, _ = app.state.hub.write(auth.add_token, "desk", "agent", ("delivery",))
        assert client.get("/api/v1/metrics/nps", headers={"Authorization": f"Bearer {agent}"}).status_code == 403


def test_the_openapi_document_describes_every_api_route(web_client):
    doc = web_client.get("/openapi.json").json()
    assert set(doc["paths"]) == {
        "/api/v1/feedback", "/api/v1/responses", "/api/v1/cases", "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/events", "/api/v1/cases/{case_id}/close", "/api/v1/customers/{customer_id}/timeline",
        "/api/v1/metrics/{name}", "/api/v1/drivers"}
    post = doc["paths"]["/api/v1/feedback"]["post"]
    assert set(post["responses"]) >= {"201", "401", "403", "422"}
    assert "CloseBody" in doc["components"]["schemas"]

