"""The customer's "Was it solved?" through the web app: resolving a case e-mails the question (or shows its
one-time link to the agent once), and the public page /solved/TOKEN takes the answer exactly once."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy

import pytest

from centric.cases import tokens
from tests.conftest import csrf_of
from tests.test_surveys_mailer import Sink
from tests.test_web_cases import small  # noqa: F401  the fixture

LINK = re.compile(r'value="http://127\.0\.0\.1:8000/solved/([A-Za-z0-9_-]+)"')


def _resolve(client, case_id: str):
    token = csrf_of(client.get(f"/cases/{case_id}").text)
    return client.post(f"/cases/{case_id}/resolve", data={"csrf_token": token}, follow_redirects=False)


def _count(client, sql: str) -> int:
    return client.app.state.hub.reader().con.execute(sql).fetchone()[0]


def _case(client, case_id: str) -> dict:
    row = client.app.state.hub.reader().con.execute(
        "SELECT status, reopen_count FROM cases WHERE case_id = ?", [case_id]).fetchone()
    return {"status": row[0], "reopen_count": row[1]}


@pytest.fixture
def agent(small, login):  # noqa: F811
    login(small, "agent", departments=("delivery",), agent="ann")
    return small


def test_without_a_mail_server_the_agent_gets_the_link_once_and_the_customer_answers_once(agent, monkeypatch):
    monkeypatch.delenv("CENTRIC_SMTP_HOST", raising=False)
    page = _resolve(agent, "CX-1")
    assert page.status_code == 200 and "shown only now" in page.text
    assert "No mail server is set up" in page.text
    token = LINK.search(page.text).group(1)
    assert _case(agent, "CX-1")["status"] == "resolved"
    assert LINK.search(agent.get("/cases/CX-1").text) is None  # never shown again

    public = agent.__class__(agent.app)  # the customer: no session
    for _ in range(3):  # a mail scanner opening the link uses nothing up
        shown = public.get(f"/solved/{token}")
        assert shown.status_code == 200 and "Has your problem been solved?" in shown.text
    assert _count(agent, "SELECT count(*) FROM case_tokens WHERE used_at IS NOT NULL") == 0
    assert 'value="no" id="solved-no" checked' in public.get(f"/solved/{token}?solved=no").text

    before = _count(agent, "SELECT count(*) FROM responses")
    bad = [({"solved": "maybe"}, 422, "solved"), ({"solved": "no", "csat": "9"}, 422, "csat"),
           ({"solved": "no", "ces": "x"}, 422, "ces"), ({"solved": "no", "comment": "x" * 5001}, 422, "comment"),
           ({"solved": "no", "admin": "1"}, 400, "admin")]
    for data, status, field in bad:
        r = public.post(f"/solved/{token}", data=data)
        assert r.status_code == status and f'href="#f-{field}"' in r.text, (data, r.status_code)
    assert _count(agent, "SELECT count(*) FROM responses") == before  # nothing stored, nothing half-stored

    r = public.post(f"/solved/{token}", data={"solved": "no", "csat": "2", "ces": "3", "comment": "Still <b>broken</b>"})
    assert r.status_code == 200 and "Your case is open again" in r.text
    case = _case(agent, "CX-1")
    assert case["status"] != "resolved" and case["reopen_count"] == 1
    got = agent.app.state.hub.reader().con.execute(
        "SELECT survey, csat, ces, comment, customer_id FROM responses WHERE survey = 'case-confirmation'").fetchall()
    assert got == [("case-confirmation", 2, 3, "Still <b>broken</b>", "C0000001")]
    again = public.post(f"/solved/{token}", data={"solved": "yes"})
    assert again.status_code == 200 and "You have answered already" in again.text
    assert _count(agent, "SELECT count(*) FROM responses") == before + 1
    assert _case(agent, "CX-1")["reopen_count"] == 1
    assert "Still &lt;b&gt;broken&lt;/b&gt;" in agent.get("/cases/CX-1").text  # shown back escaped


def test_unknown_and_expired_links(agent, monkeypatch):
    monkeypatch.delenv("CENTRIC_SMTP_HOST", raising=False)
    public = agent.__class__(agent.app)
    assert public.get("/solved/not-a-token").status_code == 404
    assert public.post("/solved/not-a-token", data={"solved": "yes"}).status_code == 404
    token = LINK.search(_resolve(agent, "CX-1").text).group(1)
    agent.app.state.hub.write(lambda s: s.con.execute("UPDATE case_tokens SET expires_at = ?",
                                                      [dt.datetime(2020, 1, 1)]))
    assert public.get(f"/solved/{token}").status_code == 410
    assert public.post(f"/solved/{token}", data={"solved": "yes"}).status_code == 410
    assert _case(agent, "CX-1")["status"] == "resolved"


def test_the_page_speaks_the_customers_language(agent, monkeypatch):
    monkeypatch.delenv("CENTRIC_SMTP_HOST", raising=False)
    agent.app.state.hub.write(lambda s: s.con.execute("UPDATE cases SET language = 'pl' WHERE case_id = 'CX-4'"))
    token = LINK.search(_resolve(agent, "CX-4").text).group(1)
    page = agent.__class__(agent.app).get(f"/solved/{token}")
    assert '<html lang="pl"' in page.text and tokens.LABELS["pl"]["question"] in page.text


def test_with_a_mail_server_the_customer_is_emailed_in_their_language(agent, monkeypatch):
    sink = Sink()
    for k, v in {"HOST": "127.0.0.1", "PORT": str(sink.port), "FROM": "care@kettle.example",
                 "STARTTLS": "false"}.items():
        monkeypatch.setenv(f"CENTRIC_SMTP_{k}", v)
    monkeypatch.delenv("CENTRIC_SMTP_USER", raising=False)
    r = _resolve(agent, "CX-2")  # C0000002 has the address bo.ray@example.com
    assert r.status_code == 303 and "done=resolve" in r.headers["location"]
    assert len(sink.messages) == 1
    rcpts, raw = sink.messages[0]
    assert rcpts == ["bo.ray@example.com"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == tokens.LABELS["en"]["subject"]
    text = mail.get_body(("plain",)).get_content()
    yes = re.search(r"http://127\.0\.0\.1:8000/solved/([A-Za-z0-9_-]+)\?solved=yes", text)
    assert yes and "CX-2" in text
    public = agent.__class__(agent.app)
    assert 'value="yes" id="solved-yes" checked' in public.get(f"/solved/{yes.group(1)}?solved=yes").text
    done = public.post(f"/solved/{yes.group(1)}", data={"solved": "yes", "csat": "5"})
    assert done.status_code == 200 and tokens.LABELS["en"]["thanks"] in done.text
    kinds = [k for (k,) in agent.app.state.hub.reader().con.execute(
        "SELECT kind FROM case_events WHERE case_id = 'CX-2' ORDER BY occurred_at, kind").fetchall()]
    assert "confirmed" in kinds and _case(agent, "CX-2")["status"] == "resolved"
