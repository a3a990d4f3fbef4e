"""The Ideas pages: submit, vote once, comment, the public page's protection (time stamp, rate: flagged, not
dropped), escaping, and the four languages. (Status with answer, reward and merge by an analyst, and the honeypot,
are tested on DuckDB and PostgreSQL alike in tests/test_web_postgres_writes.py.)"""

from __future__ import annotations

from fastapi.testclient import TestClient

from centric.ideas import box
from tests.conftest import csrf_of


def _post(client, url: str, **data):
    token = csrf_of(client.get("/me").text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def test_an_employee_submits_votes_once_and_comments(web_client, login):
    login(web_client, role="agent")
    r = _post(web_client, "/ideas", title="Water by the till", text="A water dispenser by the checkout, please.")
    assert r.status_code == 303
    idea_id = r.headers["location"].split("/")[2].split("?")[0]
    assert _post(web_client, f"/ideas/{idea_id}/vote").headers["location"].endswith("done=voted")
    hub = web_client.app.state.hub
    assert box.votes_of(hub.reader(), idea_id) == 1
    # the second press takes the vote back (a toggle); the store itself refuses a second vote
    assert _post(web_client, f"/ideas/{idea_id}/vote").headers["location"].endswith("done=unvoted")
    assert box.votes_of(hub.reader(), idea_id) == 0
    _post(web_client, f"/ideas/{idea_id}/vote")
    user = hub.reader().execute("SELECT user_id FROM ideas WHERE idea_id = ?", [idea_id]).fetchone()[0]
    assert hub.write(box.vote, idea_id, f"user:{user}") is False
    assert box.votes_of(hub.reader(), idea_id) == 1
    assert _post(web_client, f"/ideas/{idea_id}/comment", text="Yes, and cups.").status_code == 303
    page = web_client.get(f"/ideas/{idea_id}").text
    assert "Yes, and cups." in page and "Take my vote back" in page
    # an agent may not change the status
    assert _post(web_client, f"/ideas/{idea_id}/status", status="planned", answer="x").status_code == 403
    actions = [r[0] for r in hub.reader().execute(
        "SELECT action FROM audit_log WHERE object_type = 'idea' AND object_id = ? ORDER BY audit_id", [idea_id]).fetchall()]
    assert actions == ["ideas.submit", "ideas.vote", "ideas.unvote", "ideas.vote", "ideas.comment"]



def test_the_public_page_flags_too_fast_and_too_many(web_client, monkeypatch):
    from centric.web.pages.ideas import bot_reasons
    from centric.web.public import state

    client = TestClient(web_client.app)
    client.get("/i/new")

    class Req:
        app = web_client.app

    st = state(Req)
    fresh = st.stamp("ideas")
    assert bot_reasons(Req, {"t": fresh}, "h1") == ["too_fast"]
    assert bot_reasons(Req, {"t": "123.forged"}, "h2") == ["bad_timestamp"]
    old = st.stamp("ideas", now=1_000.0)
    limit = int(__import__("centric.settings", fromlist=["x"]).get_positive_int("survey_rate_per_hour"))
    got = [bot_reasons(Req, {"t": old}, "h3", now=1_060.0 + i) for i in range(limit + 1)]
    assert got[:limit] == [[]] * limit and got[limit] == ["rate_limited"]


def test_the_pages_speak_four_languages(web_client, login):
    hub = web_client.app.state.hub
    idea = hub.write(box.submit, "Parking for customers", "customer")
    hub.write(box.change_status, idea, "declined", "No space.", "analyst")
    login(web_client, role="analyst")
    words = {"en": ("Ideas", "declined"), "pl": ("Pomysły", "odrzucony"), "ru": ("Идеи", "отклонена"),
             "it": ("Idee", "respinta")}
    for lang, (title, status) in words.items():
        page = web_client.get(f"/ideas?lang={lang}").text
        assert f"<h1>{title}</h1>" in page and status in page, lang
        assert status in web_client.get(f"/ideas/{idea}?lang={lang}").text


def test_customer_text_is_escaped(web_client, login):
    hub = web_client.app.state.hub
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    idea = hub.write(box.submit, payload, "customer", payload, author_name=payload)
    hub.write(box.comment, idea, payload, payload, "customer")
    login(web_client, role="admin")
    for url in ("/ideas", f"/ideas/{idea}"):
        page = web_client.get(url).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
