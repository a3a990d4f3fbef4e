"""The service team's pages through the ASGI client: who sees which case, the inbox's order and filters,
the actions (transfer, close with a root cause), CSRF, flash messages and escaped customer text."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from centric import Store
from centric.cases import store_io
from tests.conftest import csrf_of

H = dt.timedelta(hours=1)


def case_ids(html: str) -> list[str]:
    """The case ids of an inbox page, in their order."""
    return re.findall(r'class="case-link" href="/cases/([^"]+)"', html)


def cases_of(client, **where) -> pd.DataFrame:
    c = client.app.state.hub.reader().table("cases")
    for col, value in where.items():
        c = c.filter(c[col].isin(value) if isinstance(value, list) else c[col] == value)
    return c.order_by("case_id").execute()


# -- a small hand-built store with known answers -----------------------------------------------------------

XSS = '<script>alert("x")</script> The courier & his "van" came late. The fridge itself is fine.'


@pytest.fixture
def small(tmp_path):
    """Six cases of three departments, their clocks relative to now, and one customer text with a script."""
    now = store_io.utcnow()
    path = tmp_path / "small.duckdb"
    store = Store.open(path)
    rows = [  # id, department, owner, status, priority, opened (days ago), customer, summary, factor
        ("CX-1", "delivery", "ann", "assigned", "normal", 9, "C0000001", "Late parcel", "delivery"),
        ("CX-2", "delivery", None, "new", "high", 8, "C0000002", "Courier was rude", "delivery"),
        ("CX-3", "service", "bo", "in_progress", "urgent", 7, "C0000003", "Broken door", "product_quality"),
        ("CX-4", "delivery", "ann", "waiting", "normal", 6, "C0000001", "Wrong address", "delivery"),
        ("CX-5", "triage", None, "new", "normal", 5, "C0000004", "Fridge delivered twice", None),
        ("CX-6", "delivery", "ann", "closed", "low", 4, "C0000003", "Missing screws", "delivery"),
    ]
    cases = pd.DataFrame([{"case_id": c, "department": d, "owner": o, "status": s, "priority": p,
                           "opened_at": now - dt.timedelta(days=ago), "customer_id": cust, "summary": text,
                           "type": f, "channel": "email", "origin": "signal", "language": "en",
                           "feedback_id": "F1" if c == "CX-2" else None}
                          for c, d, o, s, p, ago, cust, text, f in rows])
    clocks = pd.DataFrame([{"case_id": c, "clock": k, "started_at": now - 60 * H, "target_minutes": 60,
                            "calendar": "office", "due_at": now + due, "at_risk_at": now + risk, "state": state,
                            "stopped_at": now - H if state == "met" else None, "computed_at": now}
                           for c, k, due, risk, state in [
                               ("CX-1", "first_response", 2 * H + 10 * dt.timedelta(minutes=1), H, "on_track"),
                               ("CX-2", "first_response", -3 * H, -4 * H, "breached"),
                               ("CX-3", "first_response", H / 2, -H / 6, "at_risk"),
                               ("CX-4", "resolution", -24 * H, -30 * H, "paused"),
                               ("CX-6", "resolution", -48 * H, -50 * H, "met")]])
    customers = pd.DataFrame({"customer_id": ["C0000001", "C0000002", "C0000003", "C0000004"],
                              "name": ["Ann Lee", "Bo Ray", "Cy Day", "Di Fay"], "country": "PL"})
    with store.transaction() as con:
        store_io.insert_rows(con, "customers", customers)
        store_io.insert_rows(con, "identities", pd.DataFrame({
            "kind": ["email", "phone"], "value": ["bo.ray@example.com", "+48600100200"],
            "customer_id": ["C0000002", "C0000002"], "first_seen_at": now}))
        store_io.insert_rows(con, "feedback", pd.DataFrame([{
            "feedback_id": "F1", "customer_id": "C0000002", "posted_at": now - dt.timedelta(days=8),
            "source": "complaint", "brand": "ours", "text": XSS, "language": "en"}]))
        con.execute("INSERT INTO mentions VALUES ('feedback', 'F1', 0, 'delivery', 'negative', -0.8, 0.9, 'retail', "
                    "'en')")
        store_io.insert_rows(con, "cases", cases)
        store_io.insert_rows(con, "case_clocks", clocks)
    store.close()
    from centric.web import create_app

    with TestClient(create_app(str(path), scheduler=False), base_url="http://testserver") as client:
        yield client


def test_inbox_sorts_by_time_left_overdue_first_and_counts_each_view(small, login):
    login(small, "agent", departments=("delivery",), agent="ann")
    page = small.get("/inbox?view=all")
    assert page.status_code == 200
    # CX-2 overdue by 3 h, CX-1 due in 2 h 10 min, then the cases no clock runs for: priority, then the oldest
    assert case_ids(page.text) == ["CX-2", "CX-1", "CX-4", "CX-6"]
    assert "overdue by 3 h" in page.text and "2 h 10 min left" in page.text
    counts = dict(re.findall(r'/inbox\?view=(\w+)[^>]*>[^<]*<span class="count[^"]*">(\d+)<', page.text))
    assert counts == {"mine": "2", "queue": "1", "at_risk": "0", "overdue": "1", "triage": "0", "all": "4"}
    assert case_ids(small.get("/inbox").text) == ["CX-1", "CX-4"]  # an agent starts with their own cases
    assert case_ids(small.get("/inbox?view=queue").text) == ["CX-2"]
    assert case_ids(small.get("/inbox?view=all&sort=opened").text) == ["CX-6", "CX-4", "CX-2", "CX-1"]
    assert case_ids(small.get("/inbox?view=all&sort=priority").text) == ["CX-2", "CX-1", "CX-4", "CX-6"]


def test_the_inbox_is_read_again_after_a_write_and_only_then(small, login, monkeypatch):
    login(small, "agent", departments=("delivery",), agent="ann")
    import centric.web.pages.cases as pages

    now = store_io.utcnow()
    monkeypatch.setattr(pages, "utcnow", lambda: now)  # one minute of "now" throughout
    hub = small.app.state.hub
    assert case_ids(small.get("/inbox?view=queue").text) == ["CX-2"]
    before = hub.generation
    hub.note(lambda store: store.execute("UPDATE web_sessions SET last_seen_at = last_seen_at"))
    assert hub.generation == before  # bookkeeping is no change to the data pages show
    # a change behind the app's back (no write through the hub) is not seen while nothing was written ...
    with hub.writer.transaction() as con:
        con.execute("UPDATE cases SET owner = 'bo', status = 'assigned' WHERE case_id = 'CX-2'")
    assert case_ids(small.get("/inbox?view=queue").text) == ["CX-2"]
    # ... and any write through the hub (an agent's action) makes every page read the store again
    hub.write(lambda store: None)
    assert hub.generation == before + 1
    assert case_ids(small.get("/inbox?view=queue").text) == []
    assert case_ids(small.get("/inbox").text) == ["CX-1", "CX-4"]


def test_inbox_filters_and_search(small, login):
    login(small, "analyst")
    assert case_ids(small.get("/inbox").text) == ["CX-2", "CX-3", "CX-1", "CX-4", "CX-5", "CX-6"]
    assert case_ids(small.get("/inbox?view=all&priority=normal").text) == ["CX-1", "CX-4", "CX-5"]
    assert case_ids(small.get("/inbox?view=all&department=service").text) == ["CX-3"]
    assert case_ids(small.get("/inbox?view=all&status=new").text) == ["CX-2", "CX-5"]
    assert case_ids(small.get("/inbox?view=all&q=FRIDGE").text) == ["CX-5"]
    assert case_ids(small.get("/inbox?view=all&q=C0000003&sort=opened").text) == ["CX-6", "CX-3"]
    assert case_ids(small.get("/inbox?view=at_risk").text) == ["CX-3"]
    assert case_ids(small.get("/inbox?view=triage").text) == ["CX-5"]
    assert "No cases here." in small.get("/inbox?view=all&q=nothing-like-this").text


def test_agent_sees_only_their_departments_and_other_cases_are_not_found(small, login):
    login(small, "agent", departments=("delivery",), agent="ann")
    missing = small.get("/cases/CX-404")
    other = small.get("/cases/CX-3")  # service
    assert missing.status_code == other.status_code == 404
    assert other.text == missing.text  # the same page: the case's existence is not told
    assert case_ids(small.get("/inbox?view=all&q=CX-3").text) == []
    token = csrf_of(small.get("/cases/CX-1").text)
    r = small.post("/cases/CX-3/note", data={"text": "hello", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 404
    r = small.post("/cases/CX-3/transfer", data={"department": "delivery", "reason": "mine now", "csrf_token": token},
                   follow_redirects=False)
    assert r.status_code == 404
    assert cases_of(small, case_id="CX-3")["department"].tolist() == ["service"]
    # a customer with no case of the agent's departments is not found either; C0000003 has one (CX-6)
    assert small.get("/customers/C0000004").status_code == 404
    page = small.get("/customers/C0000003")
    assert page.status_code == 200
    assert 'href="/cases/CX-6"' in page.text and 'href="/cases/CX-3"' not in page.text
    assert "case in another department" in page.text and "Broken door" not in page.text


def test_analyst_reads_everything_and_acts_on_nothing(small, login):
    login(small, "analyst")
    page = small.get("/cases/CX-3")
    assert page.status_code == 200
    assert "/cases/CX-3/transfer" not in page.text and "<textarea" not in page.text
    token = csrf_of(small.get("/me").text)
    for action in ("assign", "transfer", "start", "wait", "comment", "note", "message", "resolve", "close",
                   "reopen"):
        r = small.post(f"/cases/CX-3/{action}", data={"csrf_token": token, "text": "x", "reason": "x"},
                       follow_redirects=False)
        assert r.status_code == 403, action
    assert cases_of(small, case_id="CX-3")["status"].tolist() == ["in_progress"]
    assert small.get("/customers/C0000004").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(small, login):
    login(small, "agent", departments=("delivery",), agent="ann")
    r = small.post("/cases/CX-1/note", data={"text": "hello"}, follow_redirects=False)
    assert r.status_code == 403 and "security token" in r.text
    r = small.post("/cases/CX-1/note", data={"text": "hello", "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    events = small.app.state.hub.reader().table("case_events")
    assert int(events.filter(events.case_id == "CX-1").count().execute()) == 0


def test_the_customers_text_is_escaped_and_its_factor_marked(small, login):
    login(small, "agent", departments=("delivery",), agent="ann")
    page = small.get("/cases/CX-2").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # the sentence the analysis found about the case's factor (the first) is marked, in the text's language
    assert re.search(r'<mark class="hl"[^>]*>&lt;script&gt;alert\(&#34;x&#34;\)&lt;/script&gt; The courier &amp; his '
                     r'&#34;van&#34; came late\.</mark> The fridge itself is fine\.</p>', page)
    assert '<p class="customer-text" lang="en">' in page
    assert "bo.ray@example.com" in page and "+48600100200" in page  # the service team sees the identities


def test_customer_search_by_identity_and_name(small, login):
    login(small, "agent", departments=("delivery",), agent="ann")
    found = small.get("/customers", params={"q": "bo.ray@example.com"}).text
    assert re.findall(r'href="/customers/(C\d+)"', found) == ["C0000002"]
    assert re.findall(r'href="/customers/(C\d+)"', small.get("/customers?q=ann").text) == ["C0000001"]
    listed = re.findall(r'href="/customers/(C\d+)"', small.get("/customers").text)
    assert listed == ["C0000001", "C0000002", "C0000003"]  # Di Fay has only a triage case
    r = small.get("/customers/bo.ray@example.com", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/customers/C0000002"
    # an identity of a customer outside the agent's departments tells nothing, not even the customer's id
    small.app.state.hub.write(_identity, "di@example.com", "C0000004")
    r = small.get("/customers/di@example.com", follow_redirects=False)
    assert r.status_code == 404 and "C0000004" not in r.text
    assert re.findall(r'href="/customers/(C\d+)"', small.get("/customers?q=di@example.com").text) == []


def _identity(store, email: str, customer: str) -> None:
    with store.transaction() as con:
        store_io.insert_rows(con, "identities", pd.DataFrame({"kind": ["email"], "value": [email],
                                                               "customer_id": [customer],
                                                               "first_seen_at": [store_io.utcnow()]}))


# -- the demo store: the actions as an agent works ------------------------------------------------------------

def test_transfer_then_close_with_a_root_cause(web_client, login):
    client = web_client
    login(client, "agent", departments=("delivery", "returns"), agent="a.nowak")
    case = cases_of(client, department="delivery", status=["assigned", "in_progress"]).iloc[0]["case_id"]
    page = client.get(f"/cases/{case}")
    token = csrf_of(page.text)
    r = client.post(f"/cases/{case}/transfer", data={"department": "returns", "reason": "refund of the fee",
                                                      "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case}?done=transfer"
    after = client.get(r.headers["location"]).text
    assert "Transferred to Returns" in after
    row = cases_of(client, case_id=case).iloc[0]
    assert (row["department"], row["status"]) == ("returns", "new") and pd.isna(row["owner"])

    r = client.post(f"/cases/{case}/close", data={"root_cause": "", "action": "refunded", "csrf_token": token})
    assert r.status_code == 422
    assert re.search(r'<span class="field-error" id="err-root_cause">Choose the root cause\.</span>', r.text)
    assert 'value="refunded"' in r.text  # what was typed is kept
    assert cases_of(client, case_id=case).iloc[0]["status"] == "new"

    r = client.post(f"/cases/{case}/close", data={"root_cause": "delivery", "sub_cause": "wrong address used",
                                                   "action": "refunded", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Closed with root cause Delivery" in client.get(r.headers["location"]).text
    row = cases_of(client, case_id=case).iloc[0]
    assert (row["status"], row["root_cause"], row["root_sub_cause"], row["action_taken"]) == (
        "closed", "delivery", "wrong address used", "refunded")
    audit = client.app.state.hub.reader().table("audit_log")
    got = audit.filter(audit.object_id == case).order_by("audit_id").execute()
    assert got["action"].tolist() == ["case.transfer", "case.close"]
    details = [json.loads(d) for d in got["detail"]]
    assert details[0]["department"] == "returns" and details[1]["root_cause"] == "delivery"
    assert "refund of the fee" not in got["detail"].str.cat()  # no free text in the audit log


def test_a_refused_move_shows_the_case_with_the_reason(web_client, login):
    client = web_client
    login(client, "agent", departments=("delivery",), agent="a.nowak")
    case = cases_of(client, department="delivery", status="closed").iloc[0]["case_id"]
    token = csrf_of(client.get(f"/cases/{case}").text)
    r = client.post(f"/cases/{case}/wait", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 409
    assert "is closed and cannot become waiting" in r.text and "Traceback" not in r.text
    assert f'<h1 id="case-title">{case}</h1>' in r.text


def test_transferring_out_of_ones_departments_returns_to_the_inbox(web_client, login):
    client = web_client
    login(client, "agent", departments=("delivery",), agent="a.nowak")
    case = cases_of(client, department="delivery", status=["assigned", "in_progress"]).iloc[0]["case_id"]
    token = csrf_of(client.get(f"/cases/{case}").text)
    r = client.post(f"/cases/{case}/transfer", data={"department": "installation", "reason": "fitting",
                                                      "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/inbox?done=transfer")
    assert f"Case {case} transferred to Installation" in client.get(r.headers["location"]).text
    assert client.get(f"/cases/{case}").status_code == 404


def test_the_case_page_shows_a_clock_state_as_of_now_not_the_last_tick(small, login, monkeypatch):
    """CX-1's first-response clock was stored "on track" (due in 2 h 10 min, at risk in 1 h); with no tick
    since, the page reads its state from the due times at the time of the request."""
    login(small, "agent", departments=("delivery",), agent="ann")
    import centric.web.pages.cases as pages

    def state_at(hours):
        monkeypatch.setattr(pages, "utcnow", lambda: store_io.utcnow() + hours * H)
        html = small.get("/cases/CX-1").text
        table = html[html.index('class="clocks"'):]
        return re.search(r'<span class="state state-(\w+)">([^<]+)</span>', table).groups()

    assert state_at(0) == ("on_track", "On track")
    assert state_at(1.5) == ("at_risk", "At risk")
    assert state_at(3) == ("breached", "Breached")
    # CX-4's paused clock is overdue by its times but stays paused (the customer is being waited for)
    login(small, "agent", departments=("delivery",), agent="ann")
    html = small.get("/cases/CX-4").text
    assert re.search(r'<span class="state state-(\w+)">', html[html.index('class="clocks"'):]).group(1) == "paused"
