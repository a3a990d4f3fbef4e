"""Employee surveys in the web app: the employee's form on an employee link (in their language; the answer
goes to employee_answers, never to responses; one answer per link), the analysts' page /enps with the
threshold shown, who may see it, and comments shown escaped."""

from __future__ import annotations

import re

from centric.enps import analysis
from centric.surveys import tokens


def _open_link(client, unit_kind: str = "store") -> tuple[str, dict]:
    """A token of an unused employee link of the demo's eNPS survey's latest period, and its invitation."""
    store = client.app.state.hub.reader()
    row = store.execute(
        "SELECT i.invitation_id, i.unit, i.language, i.period FROM employee_invitations i JOIN surveys s ON "
        "s.survey_id = i.survey_id JOIN units u ON u.unit = i.unit WHERE s.slug = 'enps-quarterly' AND NOT i.used "
        "AND u.kind = ? ORDER BY i.period DESC, i.unit LIMIT 1", [unit_kind]).fetchone()
    assert row is not None, "the demo has an unused employee link"
    client.app.state.hub.write(_extend, row[0])  # the demo's links ended with its data; this one works today
    return tokens.make(client.app.state.hub.write(tokens.secret), row[0], tokens.EMPLOYEE), dict(
        zip(("invitation_id", "unit", "language", "period"), row, strict=True))


def _counts(client) -> tuple[int, int]:
    store = client.app.state.hub.reader()
    return (store.execute("SELECT count(*) FROM responses").fetchone()[0],
            store.execute("SELECT count(*) FROM employee_answers").fetchone()[0])


def test_an_employee_answers_on_their_link_anonymously_once(web_client):
    token, inv = _open_link(web_client)
    page = web_client.get(f"/s/{token}")
    assert page.status_code == 200 and 'name="score"' in page.text
    assert f'lang="{inv["language"]}"' in page.text
    question = {"pl": "miejsce pracy", "it": "posto di lavoro"}[inv["language"]]
    assert question in page.text  # the eNPS question, in the employee's language
    responses, answers = _counts(web_client)
    r = web_client.post(f"/s/{token}", data={"score": "9", "comment": "Dobry zespół"})
    assert r.status_code == 200 and "/comment" not in r.text and "contact" not in r.text  # no follow-up on the link
    assert _counts(web_client) == (responses, answers + 1)
    con = web_client.app.state.hub.reader()
    assert con.execute("SELECT used FROM employee_invitations WHERE invitation_id = ?",
                       [inv["invitation_id"]]).fetchone()[0] is True
    assert con.execute("SELECT count(*) FROM employee_answers WHERE comment = 'Dobry zespół' AND unit = ? AND "
                       "period = ?", [inv["unit"], inv["period"]]).fetchone()[0] == 1
    again = web_client.post(f"/s/{token}", data={"score": "1"})
    assert again.status_code == 409
    assert web_client.get(f"/s/{token}").status_code == 200  # "answered already", calmly
    assert _counts(web_client) == (responses, answers + 1)


def test_a_bad_answer_is_refused_and_a_forged_employee_link_is_not_ours(web_client):
    token, _ = _open_link(web_client)
    responses, answers = _counts(web_client)
    r = web_client.post(f"/s/{token}", data={"score": "11"})
    assert r.status_code == 422 and 'name="score"' in r.text
    forged = token[:-1] + ("x" if token[-1] != "x" else "y")  # one character changed (never the same token)
    assert web_client.get(f"/s/{forged}").status_code == 404
    secret = tokens.secret(web_client.app.state.hub.reader())
    assert web_client.get(f"/s/{tokens.make(secret, 987654321, tokens.EMPLOYEE)}").status_code == 404
    assert _counts(web_client) == (responses, answers)


def test_the_enps_page_shows_units_with_the_threshold_and_the_correlation(web_client, login):
    login(web_client, role="analyst")
    r = web_client.get("/enps")
    assert r.status_code == 200
    html = r.text
    assert "Employee NPS" in html and "hidden: fewer than 5 answers" in html  # the demo's small departments
    o = analysis.overview(web_client.app.state.hub.reader())
    assert o is not None and any(c.hidden for c in o.departments.rows)
    cases = {r.unit: r for r in o.department_cases.rows}
    for cut in o.departments.rows:
        if cut.hidden:  # a hidden department's eNPS carries no number; its cases (not the employees') do show
            row = re.search(rf"<tr><td class=\"text\">{re.escape(cut.group['department'])}</td>(.*?)</tr>", html)
            assert row, cut
            first = re.match(r"<td class=\"text\" colspan=\"3\">(.*?)</td><td>([^<]*)</td>", row.group(1))
            assert first, row.group(1)
            assert not re.search(r"\d", first.group(1).replace("fewer than 5 answers", "")), first.group(1)
            assert first.group(2).replace(",", "") == str(cases[cut.group["department"]].cases)
    assert "Fisher" in html
    assert "too few departments with a visible eNPS for a correlation" in html  # the demo's departments are small
    by_region = web_client.get("/enps?themes_by=region")
    assert by_region.status_code == 200 and '<option value="region" selected>' in by_region.text
    assert web_client.get("/enps?themes_by=<script>").status_code == 200  # anything else: by store
    pl = web_client.get("/enps?lang=pl")
    assert pl.status_code == 200
    assert "ukryte: mniej niż 5 odpowiedzi" in pl.text and "eNPS pracowników" in pl.text
    other = web_client.get("/enps?survey=no-such-survey")
    assert other.status_code == 404


def test_agents_do_not_see_the_enps_page(web_client, login):
    login(web_client, role="agent")
    assert web_client.get("/enps", follow_redirects=False).status_code == 403


def test_employee_comments_are_shown_escaped(web_client, login):
    hub = web_client.app.state.hub
    store = hub.reader()
    o = analysis.overview(store)
    visible = [c.group["store"] for c in o.stores.rows if c.score is not None]
    assert visible
    inv = store.execute(
        "SELECT i.invitation_id FROM employee_invitations i JOIN surveys s ON s.survey_id = i.survey_id WHERE "
        "s.slug = 'enps-quarterly' AND i.period = ? AND i.unit = ? AND NOT i.used LIMIT 1",
        [o.period, visible[0]]).fetchone()
    if inv is None:  # every link of the unit was used: issue one more for the test
        inv = store.execute("SELECT max(invitation_id) + 1 FROM employee_invitations").fetchone()
        hub.write(_add_link, inv[0], o.survey.survey_id, o.period, visible[0])
    hub.write(_extend, inv[0])
    token = tokens.make(tokens.secret(store), inv[0], tokens.EMPLOYEE)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert web_client.post(f"/s/{token}", data={"score": "7", "comment": evil}).status_code == 200
    login(web_client, role="analyst")
    html = web_client.get("/enps").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&quot;x&quot;)" in html


def _add_link(store, invitation_id: int, survey_id: str, period: str, unit: str) -> None:
    with store.transaction():
        store.execute("INSERT INTO employee_invitations (invitation_id, survey_id, period, unit, language, expires_on, "
                      "used) VALUES (?, ?, ?, ?, 'pl', DATE '2099-01-01', false)",
                      [invitation_id, survey_id, period, unit])


def _extend(store, invitation_id: int) -> None:
    with store.transaction():
        store.execute("UPDATE employee_invitations SET expires_on = DATE '2099-01-01' WHERE invitation_id = ?",
                      [invitation_id])
