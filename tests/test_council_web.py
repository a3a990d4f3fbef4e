"""The council's pages on the small demo store: an analyst adds a member, plans a meeting, records attendance, a
decision and an action and closes it — each change audited; the dashboards' Council filter gives the members' NPS
that the comparison gives; the demo's council is there with its overdue action."""

from __future__ import annotations

import datetime as dt
import re

from centric import council
from centric.council.compare import compare
from tests.conftest import csrf_of


def test_an_analyst_runs_a_meeting(web_client, login):
    hub = web_client.app.state.hub
    login(web_client, role="analyst", email="lead@example.com")
    page = web_client.get("/council")
    assert page.status_code == 200 and "Customer council" in page.text
    token = csrf_of(page.text)
    cid = hub.reader().con.execute("SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT customer_id "
                                   "FROM council_members WHERE customer_id IS NOT NULL) ORDER BY 1 LIMIT 1").fetchone()[0]
    r = web_client.post("/council/members", data={"csrf_token": token, "who": cid, "consent": "council, contact",
                                                  "joined": "2026-09-01", "role": "member"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/council?done=added"
    mid = council.roster_ops.current_member(hub.reader(), cid)
    r = web_client.post("/council/members", data={"csrf_token": token, "who": cid}, follow_redirects=False)
    assert r.status_code == 422 and "is a member already" in r.text
    r = web_client.post("/council/meetings", data={"csrf_token": token, "title": "Returns", "held_on": "2026-10-20",
                                                   "agenda": "Free returns\n\nShorter form\n"}, follow_redirects=False)
    assert r.status_code == 303
    meeting = r.headers["location"].rsplit("/", 1)[1]
    url = f"/council/meetings/{meeting}"
    steps = [{"op": "attendance", "member_id": mid, "status": "present"},
             {"op": "minutes", "minutes": "Members want a shorter form."},
             {"op": "decision", "item": "2", "text": "Shorten the returns form"}]
    for data in steps:
        assert web_client.post(url, data={"csrf_token": token, **data}, follow_redirects=False).status_code == 303
    got = council.get_meeting(hub.reader(), meeting)
    decision = got.decisions["decision_id"].iloc[0]
    # the owner must be a user of the web app
    bad = web_client.post(url, data={"csrf_token": token, "op": "action", "what": "Redesign", "owner": "x@nowhere.com",
                                     "due_on": "2026-11-01", "decision_id": decision}, follow_redirects=False)
    assert bad.status_code == 422 and "is not a user of the web app" in bad.text
    ok = web_client.post(url, data={"csrf_token": token, "op": "action", "what": "Redesign", "owner": "lead@example.com",
                                    "due_on": "2026-11-01", "decision_id": decision}, follow_redirects=False)
    assert ok.status_code == 303
    got = council.get_meeting(hub.reader(), meeting)
    assert list(got.agenda["title"]) == ["Free returns", "Shorter form"] and got.counts["present"] == 1
    assert got.minutes == "Members want a shorter form." and list(got.decisions["item"]) == [2]
    action = got.actions["action_id"].iloc[0]
    page = web_client.get("/council/actions?overdue=1")
    assert action in page.text  # due 1 November 2026, open: overdue from then on
    assert web_client.post(f"/council/actions/{action}", data={"csrf_token": token, "status": "done"},
                           follow_redirects=False).status_code == 303
    assert council.actions(hub.reader()).table.set_index("action_id").loc[action, "status"] == "done"
    audit = hub.reader().con.execute("SELECT action, object_id FROM audit_log WHERE action LIKE 'council.%' "
                                     "ORDER BY audit_id").fetchall()
    assert [a for a, _ in audit] == ["council.add", "council.meeting", "council.attendance", "council.minutes",
                                     "council.decision", "council.action", "council.action_status"]
    # a state-changing request without the form's token is refused
    assert web_client.post(f"/council/actions/{action}", data={"status": "open"}).status_code == 403


def test_the_dashboards_council_filter_matches_the_comparison(web_client, login):
    from centric.metrics import score
    from centric.metrics.periods import headline_periods
    from centric.report.data import _bounds

    login(web_client, role="analyst")
    store = web_client.app.state.hub.reader()
    assert compare(store).scores["nps"][0].n > 0  # the demo's council answered surveys
    page = web_client.get("/dashboards")
    assert re.search(r'<select name="council">', page.text)
    (c0, c1), _ = headline_periods(_bounds(store, None, None)[1], "quarter")
    members = score(store, "nps", c0, c1, where={"council": ["member"]})
    everyone = score(store, "nps", c0, c1)
    filtered = web_client.get("/dashboards?council=member").text
    assert f"n = {members.n}" in filtered and f"n = {everyone.n:,}" not in filtered


def test_the_demo_council(demo_store):
    r = council.roster(demo_store, as_of=dt.date(2026, 10, 31))
    assert len(r.current) == 11 and len(r.former) == 1 and r.current["segment"].nunique() == 3
    assert set(r.current["country"]) == {"PL", "IT"}
    assert (r.former["left_reason"] == "consent_withdrawn").all() and (r.former["consents"] == "").all()
    t = council.actions(demo_store, as_of=dt.date(2026, 10, 31))
    assert t.counts()["overdue"] == 1 and len(council.meetings(demo_store)) == 3
