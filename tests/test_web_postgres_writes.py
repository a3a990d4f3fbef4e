"""The web app's and the command line's writes on a PostgreSQL store (the small demo store copied into a
throwaway server, tests/pg.py): surveys added, listed, paused and closed from the command line and the pages,
invitations issued, and the public survey form — an invited link answered exactly once, even under parallel
submits, the anonymous link with its bot quarantine, the refusals counted — with the same answers as on DuckDB."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from centric.cli import app as cli_app

from . import test_surveys_mailer, test_web_postgres
from .engines import DUCK_PG, assert_same
from .test_surveys_cli import TOML
from .test_web_postgres import rows

pg_web, pg_client = test_web_postgres.pg_web, test_web_postgres.pg_client  # the fixtures
sink = test_surveys_mailer.sink  # an SMTP server that keeps what it receives

runner = CliRunner()

def run(db, *args):
    return runner.invoke(cli_app, ["--db", str(db), *args], catch_exceptions=False)


def _definition(folder) -> str:
    """The CLI tests' survey (``after-install``, with its logo) written to ``folder``; the TOML file's path."""
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (folder / "s.toml").write_text(TOML, encoding="utf-8")
    return str(folder / "s.toml")


def _links(path):
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_surveys_status_and_invitations_as_on_duckdb(pg_web, web_db, tmp_path):
    toml = _definition(tmp_path)
    answers = []
    for db in (web_db, pg_web):
        got = {}
        r = run(db, "surveys", "add", toml)
        assert r.exit_code == 0, r.output
        sid = r.output.split()[1]
        again = run(db, "surveys", "add", toml)
        assert again.exit_code == 2 and "slug 'after-install' exists already" in again.output
        got["pause"] = run(db, "surveys", "pause", "after-install").output
        got["close"] = run(db, "surveys", "close", sid).output
        got["resume"] = run(db, "surveys", "resume", sid.lower()).output
        assert f"{sid} after-install is active" in got["resume"]
        dry = run(db, "surveys", "invite", "after-install", "--segment", "vip", "--dry-run", "--json")
        assert dry.exit_code == 0, dry.output
        got["dry"] = {k: v for k, v in json.loads(dry.output).items() if k != "survey_id"}
        out = tmp_path / f"links-{len(answers)}.csv"
        r = run(db, "surveys", "invite", "after-install", "--segment", "vip", "--out", str(out))
        assert r.exit_code == 0, r.output
        links = _links(out)
        got["links"] = sorted((x["customer_id"], x["language"]) for x in links)
        got["issued"] = r.output.split("invitations to")[0]
        from centric.engines import open_store

        with open_store(db) as store:
            stored = store.execute("SELECT invitation_id, customer_id FROM survey_invitations WHERE survey_id = ?",
                                   [sid]).fetchall()
            got["audit"] = [a for (a,) in store.execute(
                "SELECT action FROM audit_log WHERE object_id = ? ORDER BY audit_id", [sid]).fetchall()]
        assert sorted((str(i), c) for i, c in stored) == sorted((x["invitation_id"], x["customer_id"]) for x in links)
        got["listed"] = [{k: v for k, v in x.items() if k != "survey_id"}
                         for x in json.loads(run(db, "surveys", "list", "--json").output) if x["survey_id"] == sid]
        answers.append(got)
    duck, pg = answers
    assert duck["dry"]["invite"] == len(duck["links"]) > 0  # invite makes as many links as the dry run said
    assert duck["issued"] == f"issued {len(duck['links']):,} "
    assert duck["audit"] == ["survey.add", "survey.pause", "survey.close", "survey.resume", "survey.invite"]
    assert duck["listed"][0]["invitations"] == len(duck["links"])
    assert pg["dry"] == duck["dry"] and pg["links"] == duck["links"] and pg["audit"] == duck["audit"]
    assert pg["listed"] == duck["listed"]
    assert {k: v.replace(pg_web, "") for k, v in pg.items() if k in ("pause", "close", "resume")} == {
        k: v for k, v in duck.items() if k in ("pause", "close", "resume")}


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_invitations_emailed_and_reminders_on_postgresql(pg_web, web_db, sink, tmp_path):
    assert run(pg_web, "surveys", "add", _definition(tmp_path)).exit_code == 0
    r = run(pg_web, "surveys", "invite", "after-install", "--segment", "vip", "--send", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["sent"] == len(sink.messages) > 0 and got["failed"] == []
    from centric.engines import open_store

    with open_store(pg_web) as store:
        assert store.execute("SELECT count(*) FROM survey_invitations WHERE survey_id = ? AND sent_at IS NOT NULL",
                             [got["survey_id"]]).fetchone()[0] == got["sent"]
    r = run(pg_web, "surveys", "remind", "after-install", "--dry-run")
    assert r.exit_code == 0 and "0 invitations to" in r.output, r.output  # e-mailed today: none due yet
    flagged = [json.loads(run(db, "surveys", "flagged", "--all", "--json").output) for db in (web_db, pg_web)]
    assert flagged[0] and flagged[1] == flagged[0]  # the demo's answers kept aside, as on DuckDB


# -- the public survey form on PostgreSQL ---------------------------------------------------------------------

def _write(store, sql: str, params: list) -> None:
    with store.transaction():
        store.execute(sql, params)


def _survey(client, n: int = 3, languages=("en", "pl", "it")):
    """The web test's survey stored through the client's hub and ``n`` demo customers without an answer invited;
    (survey id, links)."""
    import pandas as pd

    from centric.surveys import from_dict, invitations, repo

    from .test_web_surveys import DEFINITION

    hub = client.app.state.hub
    survey_id = hub.write(repo.add, from_dict(DEFINITION))
    customers = [c for (c,) in rows(client, "SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT "
                                            "customer_id FROM responses WHERE customer_id IS NOT NULL) "
                                            "ORDER BY customer_id LIMIT ?", [n])]

    def issue(store):
        plan = invitations.plan(store, repo.get(store, survey_id), customers=pd.DataFrame({"customer_id": customers}),
                                interval_days=0)
        return invitations.issue(store, plan, base_url="http://testserver")

    links = hub.write(issue)
    assert [x.customer_id for x in links] == customers
    for link, lang in zip(links, languages, strict=False):
        hub.write(_write, "UPDATE survey_invitations SET language = ? WHERE invitation_id = ?",
                  [lang, link.invitation_id])
    return survey_id, links


@pytest.fixture
def pg_surveyed(pg_client):
    pg_client.survey_id, pg_client.links = _survey(pg_client)
    return pg_client


def token_of(link) -> str:
    return link.url.rsplit("/", 1)[1]


def answers(client, slug="web-test-delivery"):
    return rows(client, "SELECT response_id, customer_id, nps, comment, language FROM responses WHERE survey = ? "
                        "ORDER BY response_id", [slug])


def refusals(client) -> dict:
    return {(s, r): int(n) for s, r, n in rows(
        client, "SELECT survey_id, reason, sum(count) FROM survey_refusals GROUP BY survey_id, reason")}


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_an_invited_link_takes_one_answer_on_postgresql(pg_surveyed):
    client, link = pg_surveyed, pg_surveyed.links[1]
    url = f"/s/{token_of(link)}"
    page = client.get(url)
    assert page.status_code == 200 and 'name="score"' in page.text
    assert rows(client, "SELECT opened_at IS NOT NULL FROM survey_invitations WHERE invitation_id = ?",
                [link.invitation_id]) == [(True,)]
    r = client.post(url, data={"score": "7", "comment": "Ok", "q_on_time": "yes", "lang": "pl"})
    assert r.status_code == 200 and "Dziękujemy" in r.text
    assert answers(client) == [(f"SVR-{link.invitation_id}", link.customer_id, 7, "Ok", "pl")]
    assert rows(client, "SELECT question_id, value FROM survey_answers WHERE survey_id = ?",
                [client.survey_id]) == [("on_time", "yes")]
    assert rows(client, "SELECT answered_at IS NOT NULL, response_id FROM survey_invitations WHERE invitation_id = ?",
                [link.invitation_id]) == [(True, f"SVR-{link.invitation_id}")]
    r = client.post(url, data={"score": "0", "comment": "again"})
    assert r.status_code == 409 and "Już otrzymaliśmy Twoją odpowiedź" in r.text  # the invitation's language
    assert len(answers(client)) == 1
    r = client.get(url)
    assert r.status_code == 200 and 'name="score"' not in r.text
    assert refusals(client) == {(client.survey_id, "already"): 1}


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_bad_input_and_forged_links_store_nothing_and_are_counted_on_postgresql(pg_surveyed):
    client = pg_surveyed
    first, second, third = client.links
    r = client.post(f"/s/{token_of(first)}", data={"score": "11"})
    assert r.status_code == 422 and "Choose a score from 0 to 10." in r.text
    r = client.post(f"/s/{token_of(first)}", data={"score": "5", "coupon": "FREE"})
    assert r.status_code == 422
    r = client.post(f"/s/{token_of(first)[:-2]}xx", data={"score": "9"})
    assert r.status_code == 404 and "This link does not work" in r.text
    assert answers(client) == []
    assert rows(client, "SELECT count(*) FROM survey_invitations WHERE survey_id = ? AND answered_at IS NOT NULL",
                [client.survey_id]) == [(0,)]
    from centric.surveys import repo

    client.app.state.hub.write(repo.set_status, client.survey_id, "paused")
    r = client.post(f"/s/{token_of(second)}", data={"score": "9"})
    assert r.status_code == 503 and "Ta ankieta jest wstrzymana" in r.text
    assert answers(client) == []
    assert client.post(f"/s/{token_of(third)}", data={"score": "8"}).status_code == 503
    client.app.state.intake.close()  # writes the counts still held
    assert refusals(client) == {(client.survey_id, "out_of_range"): 1, (client.survey_id, "unknown_field"): 1,
                                (None, "forged_link"): 1, (client.survey_id, "paused"): 2}


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_fifty_parallel_submits_of_one_link_store_one_answer_on_postgresql(pg_surveyed):
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    client, link = pg_surveyed, pg_surveyed.links[0]
    url = f"/s/{token_of(link)}"
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: TestClient(client.app).post(url, data={"score": str(i % 11)}).status_code,
                              range(50)))
    assert sorted(set(codes)) == [200, 409] and codes.count(200) == 1
    assert len(answers(client)) == 1
    assert rows(client, "SELECT count(*) FROM survey_answers WHERE response_id = ?",
                [f"SVR-{link.invitation_id}"]) == [(0,)]


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_two_web_apps_on_one_store_store_one_answer_per_link(pg_web):
    """Two apps (two hubs, two intakes: as two worker processes) answer the same links at once: each link is
    answered once — the other app's intake finds it answered in the store, whatever its own memory says."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from centric.web import create_app

    with TestClient(create_app(pg_web)) as one, TestClient(create_app(pg_web)) as two:
        _, links = _survey(one, n=3)
        for app in (one, two):  # both have read the links once (as a page's GET does)
            assert app.get(f"/s/{token_of(links[0])}").status_code == 200
        jobs = [(app, link, i) for i in range(10) for app in (one, two) for link in links]
        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda j: TestClient(j[0].app).post(
                f"/s/{token_of(j[1])}", data={"score": str(j[2] % 11)}).status_code, jobs))
        assert codes.count(200) == 3 and set(codes) == {200, 409}
        got = answers(one)
        assert sorted((r, c) for r, c, *_ in got) == sorted((f"SVR-{x.invitation_id}", x.customer_id) for x in links)


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_anonymous_numbers_stay_unique_and_consecutive_across_batches_and_two_apps(pg_web, monkeypatch):
    """Two apps (two intakes, as two worker processes) number anonymous answers and flagged ones on one store:
    batch after batch, alternating, the numbers are 1, 2, 3 … with none given twice and none skipped; the store's
    highest number is read once per batch that needs one, and not at all by a batch of invited answers or of
    comments (each such batch one UPDATE for all its comments)."""
    from fastapi.testclient import TestClient

    from centric.surveys import intake as intake_module
    from centric.surveys.answers import Answer
    from centric.surveys.intake import Submission
    from centric.web import create_app

    reads = []
    real = intake_module._PgTx.last_number
    monkeypatch.setattr(intake_module._PgTx, "last_number", staticmethod(lambda store: reads.append(1) or real(store)))
    with TestClient(create_app(pg_web)) as one, TestClient(create_app(pg_web)) as two:
        survey_id, links = _survey(one, n=2)
        first, second = (c.app.state.intake for c in (one, two))
        reads.clear()  # each intake read it once when it started
        base = max(first._seq, second._seq)  # the demo's anonymous answers and flags so far
        got = []
        for k in range(6):
            intake = (first, second)[k % 2]
            sub = Submission("anonymous", survey_id=survey_id, answer=Answer(k % 11),
                             flags=["honeypot"] if k == 3 else [])
            got.append(intake.submit(sub).response_id)
            if k == 1:
                assert reads == [1, 1]
                assert first.submit(Submission("invited", invitation_id=links[0].invitation_id,
                                               answer=Answer(4))).status == "stored"
                assert reads == [1, 1]  # an invited answer's batch reads no number
        assert len(reads) == 6
        assert got == [f"SVA-{base + 1}", f"SVA-{base + 2}", f"SVA-{base + 3}", f"F{base + 4}", f"SVA-{base + 5}",
                       f"SVA-{base + 6}"]
        assert second.submit(Submission("invited", invitation_id=links[1].invitation_id,
                                        answer=Answer(7))).status == "stored"
    assert len(reads) == 6
    # the comments of a batch: one UPDATE for all, and only answers without a comment take one
    from types import SimpleNamespace

    from centric.engines.postgres import PgStore

    rids = [f"SVR-{x.invitation_id}" for x in links]
    store = PgStore.open(pg_web, migrate=False)
    try:
        statements = []

        def transaction():
            tx = intake_module._PgTx(SimpleNamespace(_store=store, _con=store.con))
            real_run = tx._run
            tx._run = lambda sql, params=(): statements.append(sql) or real_run(sql, params)
            return tx

        tx = transaction()
        assert tx.comment([(rids[0], "Slow"), (rids[1], "Late"), ("SVR-0", "nobody's")]) == set(rids)
        tx.commit()
        tx = transaction()
        assert tx.comment([(rids[0], "Again")]) == set()  # it has one already
        tx.commit()
        assert len(statements) == 2  # one a batch
        assert store.execute("SELECT response_id, comment FROM responses WHERE response_id IN (?, ?) ORDER BY "
                             "response_id", rids).fetchall() == sorted(zip(rids, ("Slow", "Late"), strict=True))
    finally:
        store.close()

@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_anonymous_answers_and_the_bot_quarantine_on_postgresql(pg_surveyed, login):
    import re
    import time

    from centric.web import public
    from tests.conftest import csrf_of

    from .test_web_surveys import SLUG, _request

    client = pg_surveyed
    st = public.state(_request(client))

    def stamp(seconds_ago):
        return st.stamp(st.survey(SLUG).survey_id, now=time.time() - seconds_ago)

    human = client.post(f"/s/{SLUG}", data={"score": "10", "comment": "Great", "t": stamp(30), "website": ""})
    bot = client.post(f"/s/{SLUG}", data={"score": "10", "comment": "Buy followers", "website": "http://x.example",
                                          "t": stamp(0.2)})
    spam = client.post(f"/s/{SLUG}", data={"score": "0", "comment": "spam spam"})  # no stamp at all
    assert human.status_code == bot.status_code == spam.status_code == 200
    strip = re.compile(r'name="t" value="[^"]*"')
    assert strip.sub("", human.text) == strip.sub("", bot.text)  # a bot learns nothing
    assert [(c, n, t) for _, c, n, t, _ in answers(client)] == [(None, 10, "Great")]
    flags = rows(client, "SELECT flag_id, reasons FROM survey_flagged WHERE survey_id = ? ORDER BY received_at, "
                         "flag_id", [client.survey_id])
    assert len(flags) == 2 and sorted(json.loads(flags[0][1])) == ["honeypot", "too_fast"]
    assert "bad_timestamp" in json.loads(flags[1][1])
    numbers = sorted(int(r[4:]) for (r, *_) in answers(client)) + sorted(int(f[1:]) for f, _ in flags)
    assert len(set(numbers)) == 3  # anonymous answers and flags share one count

    login(client, role="admin")
    page = client.get("/surveys/flagged")
    assert page.status_code == 200 and "Buy followers" in page.text
    token = csrf_of(page.text)
    r = client.post(f"/surveys/flagged/{flags[0][0]}/release", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"] == "/surveys/flagged?done=released"
    r = client.post(f"/surveys/flagged/{flags[1][0]}/discard", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"] == "/surveys/flagged?done=discarded"
    again = client.post(f"/surveys/flagged/{flags[0][0]}/release", data={"csrf_token": token},
                        follow_redirects=False)
    assert again.headers["location"] == "/surveys/flagged?done=handled"
    assert sorted(t for _, _, _, t, _ in answers(client)) == ["Buy followers", "Great"]
    assert rows(client, "SELECT released_by FROM survey_flagged WHERE flag_id = ?", [flags[1][0]])[0][0].startswith(
        "discarded: ")
    assert rows(client, "SELECT action, object_id FROM audit_log WHERE action IN ('survey.release', "
                        "'survey.discard') ORDER BY audit_id") == [("survey.release", flags[0][0]),
                                                                   ("survey.discard", flags[1][0])]


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_the_survey_pages_create_and_pause_a_survey_on_postgresql(pg_surveyed, login):
    from centric.surveys import repo
    from tests.conftest import csrf_of

    client = pg_surveyed
    login(client, role="admin")
    listed = client.get("/surveys")
    assert listed.status_code == 200 and "After delivery" in listed.text
    token = csrf_of(client.get("/surveys/new").text)
    fields = {"csrf_token": token, "name": "After support", "slug": "web-test-support", "kind": "csat",
              "touchpoint": "support", "languages": ["en", "pl"], "default_language": "en",
              "branding.company": "Domix", "branding.primary": "#0b7a5a", "branding.background": "#ffffff",
              "branding.text": "#1a1a1a", "questions[1].id": "speed", "questions[1].type": "rating",
              "questions[1].scale": "1-5", "questions[1].label.en": "How fast?", "questions[1].label.pl": "Jak szybko?"}
    r = client.post("/surveys/new", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    survey = repo.get(client.app.state.hub.reader(), "web-test-support")
    assert r.headers["location"] == f"/surveys/{survey.survey_id}?changed=saved"
    assert survey.kind == "csat" and survey.languages == ("en", "pl") and survey.questions[0].scale == (1, 5)
    assert client.post("/surveys/new", data=fields).status_code == 422  # the slug is taken

    page = client.get(f"/surveys/{client.survey_id}")
    assert page.status_code == 200
    url = f"/s/{token_of(client.links[0])}"
    r = client.post(f"/surveys/{client.survey_id}/status", data={"csrf_token": token, "action": "pause"},
                    follow_redirects=False)
    assert r.status_code == 303 and repo.get(client.app.state.hub.reader(), client.survey_id).status == "paused"
    assert client.get(url).status_code == 503
    client.post(f"/surveys/{client.survey_id}/status", data={"csrf_token": token, "action": "resume"})
    assert client.get(url).status_code == 200
    client.post(f"/surveys/{client.survey_id}/status", data={"csrf_token": token, "action": "close"})
    assert client.get(url).status_code == 410
    assert [a for (a,) in rows(client, "SELECT action FROM audit_log WHERE action LIKE 'survey.%' ORDER BY audit_id")] \
        == ["survey.add", "survey.pause", "survey.resume", "survey.close"]


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_a_low_score_opens_a_case_through_the_scheduler_on_postgresql(pg_web):
    import time

    from fastapi.testclient import TestClient

    from centric.web import create_app

    with TestClient(create_app(pg_web, scheduler=True)) as client:
        _, links = _survey(client, n=1)
        link = links[0]
        r = client.post(f"/s/{token_of(link)}", data={
            "score": "1", "comment": "The courier was two days late and the parcel was damaged."})
        assert r.status_code == 200
        rid = f"SVR-{link.invitation_id}"
        assert answers(client)[0][:3] == (rid, link.customer_id, 1)  # committed before the page
        deadline = time.monotonic() + 240
        case = []
        while not case and time.monotonic() < deadline:
            time.sleep(1)
            case = rows(client, "SELECT c.customer_id, c.department FROM case_signals g JOIN cases c "
                                "ON c.case_id = g.case_id WHERE g.signal_id = ?", [rid])
        assert case == [(link.customer_id, "delivery")]


# -- ideas and the council: the same flows on both engines ---------------------------------------------------

@pytest.fixture(params=["duckdb", "postgresql"])
def both(request):
    """A signed-out client over a copy of the small demo store: on DuckDB, then on PostgreSQL."""
    from fastapi.testclient import TestClient

    from centric.web import create_app

    db = request.getfixturevalue("web_db" if request.param == "duckdb" else "pg_web")
    with TestClient(create_app(db, scheduler=False), base_url="http://testserver") as client:
        yield client


def _post(client, url: str, **data):
    from tests.conftest import csrf_of

    token = csrf_of(client.get("/me").text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.mark.capability("ideas", engines=DUCK_PG)
def test_ideas_submitted_voted_commented_answered_rewarded_and_merged(both, login):
    from centric.ideas import box

    client, hub = both, both.app.state.hub
    login(client, role="agent")
    r = _post(client, "/ideas", title="Water by the till", text="A water dispenser by the checkout, please.")
    assert r.status_code == 303
    idea = r.headers["location"].split("/")[2].split("?")[0]
    assert _post(client, f"/ideas/{idea}/vote").headers["location"].endswith("done=voted")
    assert _post(client, f"/ideas/{idea}/vote").headers["location"].endswith("done=unvoted")
    _post(client, f"/ideas/{idea}/vote")
    user = rows(client, "SELECT user_id FROM ideas WHERE idea_id = ?", [idea])[0][0]
    assert hub.write(box.vote, idea, f"user:{user}") is False  # the store refuses a second vote
    assert box.votes_of(hub.reader(), idea) == 1
    assert _post(client, f"/ideas/{idea}/comment", text="Yes, and cups.").status_code == 303
    assert "Yes, and cups." in client.get(f"/ideas/{idea}").text
    assert [a for (a,) in rows(client, "SELECT action FROM audit_log WHERE object_type = 'idea' AND object_id = ? "
                                       "ORDER BY audit_id", [idea])] == [
        "ideas.submit", "ideas.vote", "ideas.unvote", "ideas.vote", "ideas.comment"]

    a = hub.write(box.submit, "Open the shop on Sundays too, please", "customer", author_name="Ewa Kowal")
    b = hub.write(box.submit, "Open the shop on Sundays too please!", "customer")
    for v in ("customer:C1", "customer:C2"):
        hub.write(box.vote, a, v)
    for v in ("customer:C2", "customer:C3"):
        hub.write(box.vote, b, v)
    login(client, role="analyst")
    listing = client.get("/ideas").text
    assert f'action="/ideas/{a}/merge"' in listing or f'action="/ideas/{b}/merge"' in listing  # proposed
    r = _post(client, f"/ideas/{a}/status", status="under_review", answer="We are asking the store managers.")
    assert r.headers["location"].endswith("done=status%3Ano_mail_server")
    refused = _post(client, f"/ideas/{a}/status", status="new", answer="x")  # back to new: not a move
    assert refused.headers["location"].startswith(f"/ideas/{a}?error=status")
    assert _post(client, f"/ideas/{a}/reward", what="Voucher", amount="50,5", unit="PLN",
                 recipient="Ewa Kowal").status_code == 303
    assert _post(client, f"/ideas/{b}/merge", into=a).headers["location"] == f"/ideas/{a}?done=merged"
    assert box.votes_of(hub.reader(), a) == 3  # C1, C2 (voted for both: once), C3
    page = client.get(f"/ideas/{a}").text
    assert "We are asking the store managers." in page and "50" in page and b in page
    assert rows(client, "SELECT amount FROM idea_rewards WHERE idea_id = ?", [a]) == [(50.5,)]
    assert rows(client, "SELECT merged_into FROM ideas WHERE idea_id = ?", [b]) == [(a,)]


@pytest.mark.capability("ideas", engines=DUCK_PG)
def test_the_public_ideas_page_keeps_a_bots_idea_aside(both, monkeypatch):
    import re

    from fastapi.testclient import TestClient

    client = TestClient(both.app)
    form = client.get("/i/new")
    assert form.status_code == 200 and 'name="website"' in form.text
    stamp = re.search(r'name="t" value="([^"]+)"', form.text).group(1)
    monkeypatch.setattr("centric.web.public.PublicState.stamp_age", lambda self, key, stamp, now=None: 60.0)
    ok = client.post("/i/new", data={"t": stamp, "text": "Longer opening hours on Saturdays", "email": "ann@example.com",
                                     "lang": "pl"})
    assert ok.status_code == 200 and "Dziękujemy za pomysł." in ok.text
    bot = client.post("/i/new", data={"t": stamp, "text": "Buy cheap watches", "website": "http://spam.example"})
    assert bot.status_code == 200 and "Thank you for your idea." in bot.text
    assert dict(rows(both, "SELECT text, flags FROM ideas WHERE source = 'public'")) == {
        "Longer opening hours on Saturdays": None, "Buy cheap watches": '["honeypot"]'}
    from centric.web.pages import ideas as pages

    assert pages.PUBLIC_KEY == "ideas"
    empty = client.post("/i/new", data={"t": stamp, "text": "  "})  # refused with the reason, nothing stored
    assert empty.status_code == 422 and "text: must not be empty" in empty.text
    assert rows(both, "SELECT count(*) FROM ideas WHERE source = 'public'") == [(2,)]


@pytest.mark.capability("council", engines=DUCK_PG)
def test_an_analyst_runs_a_council_meeting(both, login):
    from centric import council
    from tests.conftest import csrf_of

    client, hub = both, both.app.state.hub
    login(client, role="analyst", email="lead@example.com")
    page = client.get("/council")
    assert page.status_code == 200 and "Customer council" in page.text
    token = csrf_of(page.text)
    cid = rows(client, "SELECT min(customer_id) FROM customers WHERE customer_id NOT IN (SELECT customer_id "
                       "FROM council_members WHERE customer_id IS NOT NULL)")[0][0]
    r = client.post("/council/members", data={"csrf_token": token, "who": cid, "consent": "council, contact",
                                              "joined": "2026-09-01", "role": "member"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/council?done=added"
    mid = council.roster_ops.current_member(hub.reader(), cid)
    r = client.post("/council/members", data={"csrf_token": token, "who": cid}, follow_redirects=False)
    assert r.status_code == 422 and "is a member already" in r.text
    r = client.post("/council/meetings", data={"csrf_token": token, "title": "Returns", "held_on": "2026-10-20",
                                               "agenda": "Free returns\n\nShorter form\n"}, follow_redirects=False)
    assert r.status_code == 303
    meeting = r.headers["location"].rsplit("/", 1)[1]
    url = f"/council/meetings/{meeting}"
    for data in [{"op": "attendance", "member_id": mid, "status": "present"},
                 {"op": "minutes", "minutes": "Members want a shorter form."},
                 {"op": "decision", "item": "2", "text": "Shorten the returns form"}]:
        assert client.post(url, data={"csrf_token": token, **data}, follow_redirects=False).status_code == 303
    got = council.get_meeting(hub.reader(), meeting)
    decision = got.decisions["decision_id"].iloc[0]
    # the owner must be a user of the web app
    bad = client.post(url, data={"csrf_token": token, "op": "action", "what": "Redesign", "owner": "x@nowhere.com",
                                 "due_on": "2026-11-01", "decision_id": decision}, follow_redirects=False)
    assert bad.status_code == 422 and "is not a user of the web app" in bad.text
    ok = client.post(url, data={"csrf_token": token, "op": "action", "what": "Redesign", "owner": "lead@example.com",
                                "due_on": "2026-11-01", "decision_id": decision}, follow_redirects=False)
    assert ok.status_code == 303
    got = council.get_meeting(hub.reader(), meeting)
    assert list(got.agenda["title"]) == ["Free returns", "Shorter form"] and got.counts["present"] == 1
    assert got.minutes == "Members want a shorter form." and list(got.decisions["item"]) == [2]
    action = got.actions["action_id"].iloc[0]
    assert action in client.get("/council/actions?overdue=1").text
    assert client.post(f"/council/actions/{action}", data={"csrf_token": token, "status": "done"},
                       follow_redirects=False).status_code == 303
    assert council.actions(hub.reader()).table.set_index("action_id").loc[action, "status"] == "done"
    assert [a for (a,) in rows(client, "SELECT action FROM audit_log WHERE action LIKE 'council.%' ORDER BY audit_id")] \
        == ["council.add", "council.meeting", "council.attendance", "council.minutes", "council.decision",
            "council.action", "council.action_status"]


@pytest.mark.capability("ideas", engines=DUCK_PG)
@pytest.mark.capability("council", engines=DUCK_PG)
def test_ideas_and_council_from_the_command_line_as_on_duckdb(pg_web, web_db):
    outs = []
    for db in (web_db, pg_web):
        got = {}
        ideas = json.loads(run(db, "ideas", "list", "--status", "new", "--json", "--limit", "0").output)
        first, second = ideas[0]["idea_id"], ideas[1]["idea_id"]
        got["first"], got["second"] = first, second
        r = run(db, "ideas", "status", first, "under_review", "--answer", "We are looking at it.")
        assert r.exit_code == 0, r.output
        got["status"] = r.output
        r = run(db, "ideas", "merge", second, first)
        assert r.exit_code == 0, r.output
        got["merge"] = r.output
        got["ideas"] = json.loads(run(db, "ideas", "list", "--json", "--limit", "0").output)
        got["duplicates"] = json.loads(run(db, "ideas", "duplicates", "--json").output)
        from centric.engines import open_store

        with open_store(db) as store:
            cid = store.execute("SELECT min(customer_id) FROM customers WHERE customer_id NOT IN (SELECT customer_id "
                                "FROM council_members WHERE customer_id IS NOT NULL)").fetchone()[0]
        r = run(db, "council", "add", cid, "--joined", "2026-09-01", "--consent", "council, contact")
        assert r.exit_code == 0, r.output
        got["add"] = r.output
        member = json.loads(run(db, "council", "members", "--json").output)
        got["members"] = member
        mid = next(m["member_id"] for m in member if m["customer_id"] == cid)
        r = run(db, "council", "leave", mid, "--on", "2026-10-01")
        assert r.exit_code == 0, r.output
        got["leave"] = r.output
        for cmd in (["members", "--all", "--json"], ["meetings", "--json"], ["actions", "--json"],
                    ["compare", "--json"]):
            r = run(db, "council", *cmd)
            assert r.exit_code == 0, (cmd, r.output)
            got[" ".join(cmd)] = json.loads(r.output)
        outs.append(got)
    duck, pg = outs
    assert {i["idea_id"]: i["status"] for i in duck["ideas"]}[duck["first"]] == "under_review"
    assert duck["second"] not in {i["idea_id"] for i in duck["ideas"]}  # merged away: counted in the first
    assert_same(duck, pg)  # floats (the members' revenue) to 1e-9


# -- the settings page: the routing table, the policy and the store's own factors -----------------------------

@pytest.mark.capability("settings page", engines=DUCK_PG)
def test_the_settings_page_saves_routing_refuses_a_broken_policy_and_adds_a_factor(both, login):
    import re

    from centric.cases import config
    from centric.text.taxonomy import active_taxonomy
    from tests.conftest import csrf_of

    client, hub = both, both.app.state.hub
    email = login(client, role="admin")
    page = client.get("/settings")
    assert page.status_code == 200 and "[calendars.office]" in page.text
    count = "SELECT count(*) FROM case_config WHERE name = ?"
    before = rows(client, count, ["sla"])
    text, _ = config.active_text(hub.reader(), "sla")
    broken = text.replace('default_calendar = "office"', 'default_calendar = "nights"')
    r = client.post("/settings/sla", data={"csrf_token": csrf_of(page.text), "text": broken})
    assert r.status_code == 422 and "calendar &#39;nights&#39; is not defined" in r.text
    assert rows(client, count, ["sla"]) == before
    form = {"csrf_token": csrf_of(page.text), "id": "parking", "name_en": "Parking", "name_pl": "Parking",
            "name_ru": "Парковка", "name_it": "Parcheggio", "keywords": "no parking space\nparking lot, car park"}
    r = client.post("/settings/factors", data=form)
    assert r.status_code == 200 and "Парковка" in r.text
    f = active_taxonomy(hub.reader()).factor("parking")
    assert f.names["it"] == "Parcheggio" and f.examples == {"en": ["no parking space", "parking lot", "car park"]}
    again = client.post("/settings/factors", data=form)
    assert again.status_code == 422 and "the taxonomy has it already" in again.text
    text, _ = config.active_text(hub.reader(), "routing")
    changed = re.sub(r'(?m)^delivery = "delivery"$', 'delivery = "logistics"', text).replace(
        "[factors]\n", '[factors]\nparking = "stores"\n')
    r = client.post("/settings/routing", data={"csrf_token": csrf_of(page.text), "text": changed},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/settings?saved=routing")
    routes = {(x.factor, x.department) for x in config.active(hub.reader())[0].routes}
    assert {("delivery", "logistics"), ("parking", "stores")} <= routes
    assert rows(client, "SELECT actor, action, object_id FROM audit_log WHERE action IN ('config.save', "
                        "'taxonomy.add_factor') ORDER BY audit_id") == [
        (email, "taxonomy.add_factor", "parking"), (email, "config.save", "routing")]


# -- webhooks: the outbox and its deliveries --------------------------------------------------------------------

@pytest.fixture(params=["duckdb", "postgresql"])
def any_hub(request):
    from centric.web.hub import Hub

    hub = Hub(request.getfixturevalue("web_db" if request.param == "duckdb" else "pg_web"))
    yield hub
    hub.close()


@pytest.mark.capability("webhooks", engines=DUCK_PG)
def test_webhooks_send_the_events_after_them_signed_and_retry(any_hub):
    import datetime as dt
    import hashlib
    import hmac

    from centric.cases import workflow
    from centric.web import webhooks

    from .test_web_postgres import query
    from .test_web_webhooks import Receiver

    hub = any_hub
    ok, failing = Receiver((200,)), Receiver((500, 200))
    try:
        history = query(hub.reader(), "SELECT count(*) FROM case_events WHERE kind IN ('opened', 'closed')")[0][0]
        wid, secret = hub.write(webhooks.add, ok.url, ["case.created", "case.closed"])
        other, _ = hub.write(webhooks.add, failing.url, ["case.closed"])
        assert (wid, other) == ("W001", "W002")
        assert query(hub.reader(), "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?", [wid]) == [
            (history,)]
        assert webhooks.deliver(hub) == webhooks.DeliveryResult()  # the history is not sent
        case = query(hub.reader(), "SELECT min(case_id) FROM cases WHERE status = 'assigned'")[0][0]
        hub.write(workflow.resolve, case, actor="a.nowak")
        hub.write(workflow.close, case, actor="a.nowak", root_cause="delivery", action="courier changed")
        t0 = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        r = webhooks.deliver(hub, now=t0)
        assert (r.enqueued, r.attempted, r.delivered, r.failed) == (2, 2, 1, 1)
        (headers, body), = ok.got
        assert headers["X-Centric-Signature"] == "sha256=" + hmac.new(secret.encode(), body,
                                                                      hashlib.sha256).hexdigest()
        payload = json.loads(body)
        assert (payload["event"], payload["case"]["id"], payload["case"]["status"]) == ("case.closed", case, "closed")
        failed = "SELECT attempts, next_attempt_at, delivered_at, last_status, last_error FROM webhook_deliveries " \
                 "WHERE webhook_id = ? AND attempts > 0"
        assert query(hub.reader(), failed, [other]) == [(1, t0 + dt.timedelta(minutes=1), None, 500, "HTTP 500")]
        assert webhooks.deliver(hub, now=t0 + dt.timedelta(seconds=59)).attempted == 0  # not yet
        r = webhooks.deliver(hub, now=t0 + dt.timedelta(seconds=60))
        assert (r.attempted, r.delivered) == (1, 1) and failing.got[0][1] == failing.got[1][1]
        assert query(hub.reader(), failed, [other])[0][:3] == (2, None, t0 + dt.timedelta(seconds=60))
        assert hub.write(webhooks.remove, failing.url) == other
        assert [w["id"] for w in webhooks.list_webhooks(hub.reader())] == [wid]
    finally:
        ok.close()
        failing.close()


# -- observation notes ----------------------------------------------------------------------------------------

@pytest.mark.capability("observations", engines=DUCK_PG)
def test_observation_notes_from_the_page_and_the_command_line(both, login):
    from tests.conftest import csrf_of

    client = both
    db = client.app.state.hub.url if client.app.state.hub.postgres else client.app.state.hub.path
    login(client, role="admin", agent="s.manager")
    unit = rows(client, "SELECT min(unit) FROM units WHERE kind = 'store'")[0][0]
    assert client.get("/observations").status_code == 200
    page = client.get(f"/observations/new?store={unit}")
    assert page.status_code == 200
    r = client.post("/observations/new", data={"csrf_token": csrf_of(page.text), "store": unit,
                                               "text": "The fitting rooms were closed all afternoon."},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    fid = r.headers["location"].rsplit("done=", 1)[1]
    assert rows(client, "SELECT store, author, text FROM feedback WHERE feedback_id = ?", [fid]) == [
        (unit, "s.manager", "The fitting rooms were closed all afternoon.")]
    assert rows(client, "SELECT action, object_id FROM audit_log WHERE action = 'observations.write'") == [
        ("observations.write", fid)]
    r = run(db, "observations", "add", "--store", unit, "--text", "Queues at the tills at noon.", "--author", "cli")
    assert r.exit_code == 0, r.output
    r = run(db, "observations", "add", "--store", "nowhere", "--text", "x", "--author", "cli")
    assert r.exit_code == 2 and "there is no store 'nowhere'" in r.output
    listed = json.loads(run(db, "observations", "list", "--store", unit, "--json").output)
    assert listed["stores"][0]["notes"] >= 2


@pytest.mark.capability("observations", engines=DUCK_PG)
def test_the_observations_summary_is_that_of_duckdb(pg_web, web_db):
    listed = [json.loads(run(db, "observations", "list", "--quotes", "--json").output) for db in (web_db, pg_web)]
    assert listed[0]["stores"]
    assert_same(listed[0], listed[1])


# -- staff orientation: a manager's assessment, the self-assessment links -------------------------------------

@pytest.mark.capability("orientation", engines=DUCK_PG)
def test_a_manager_assesses_and_an_employee_answers_their_link_once(both, login, tmp_path):
    import threading

    from tests.conftest import csrf_of

    client, hub = both, both.app.state.hub
    db = hub.url if hub.postgres else hub.path
    manager = "h.dabrowska"
    login(client, role="agent", departments=("stores",), email=f"{manager}@voltaro.example")
    mine = rows(client, "SELECT min(e.employee_id) FROM employees e JOIN units u ON u.unit = e.unit WHERE u.manager = ? "
                        "AND u.kind = 'store' AND e.role = 'staff' AND e.left_at IS NULL", [manager])[0][0]
    unit = rows(client, "SELECT unit FROM employees WHERE employee_id = ?", [mine])[0][0]
    assert client.get("/orientation").status_code == 200
    assert client.get(f"/orientation/assess?employee={mine}").status_code == 200
    data = {"csrf_token": csrf_of(client.get("/me").text), "employee_id": mine, "view": "manager", "comment": "",
            "attitude": "5", "conflict_handling": "2"}
    r = client.post("/orientation/assess", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/orientation/assess?done=OA-")
    aid = r.headers["location"].split("done=")[1]
    assert rows(client, "SELECT employee_id, view, assessor, attitude, conflict_handling, communication FROM "
                        "orientation_assessments WHERE assessment_id = ?", [aid]) == [
        (mine, "manager", manager, 5, 2, None)]
    assert client.post("/orientation/assess", data={**data, "attitude": "9"}).status_code == 422

    out = tmp_path / "links.csv"
    r = run(db, "orientation", "invite", "--period", "2026-Q4", "--unit", unit, "--out", str(out))
    assert r.exit_code == 0 and "invited" in r.output, r.output
    links = {x["employee_id"]: x["link"].rsplit("/", 1)[1] for x in _links(out)}
    assert mine in links and rows(client, "SELECT count(*) FROM orientation_invitations WHERE period = '2026-Q4'") \
        == [(len(links),)]
    again = run(db, "orientation", "invite", "--period", "2026-Q4", "--unit", unit, "--dry-run", "--json")
    assert json.loads(again.output)["invite"] == 0  # invited already
    selfs = "SELECT count(*) FROM orientation_assessments WHERE employee_id = ? AND view = 'self'"
    before = rows(client, selfs, [mine])[0][0]
    public = client.__class__(client.app)
    token = links[mine]
    assert public.get(f"/o/{token}").status_code == 200
    assert public.post(f"/o/{token}", data={"attitude": "9"}).status_code == 422
    codes: list[int] = []
    barrier = threading.Barrier(8)

    def send(i: int) -> None:
        barrier.wait()
        codes.append(public.post(f"/o/{token}", data={"attitude": str(1 + i % 5)}).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(codes) == [200] + [409] * 7
    assert rows(client, selfs, [mine]) == [(before + 1,)]
    assert public.post(f"/o/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}", data={"attitude": "5"}).status_code \
        == 404


@pytest.mark.capability("orientation", engines=DUCK_PG)
def test_the_orientation_scores_are_those_of_duckdb(pg_web, web_db):
    got = []
    for db in (web_db, pg_web):
        got.append({cmd: json.loads(run(db, "orientation", cmd, "--json").output)
                    for cmd in ("scores", "gap", "customers")})
        got[-1]["employees"] = json.loads(run(db, "employees", "list", "--json").output)
    assert got[0]["scores"] and got[0]["employees"]
    assert_same(got[0], got[1])


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_the_intake_connects_again_after_the_server_ended_its_session(pg_surveyed):
    """The intake's own connection lost (the server restarted): the batch is tried again on a new one, so the
    answer is stored and thanked for (the hub's connections connect again at their next failure, see
    test_web_postgres.py)."""
    import psycopg

    client, link = pg_surveyed, pg_surveyed.links[2]
    url = client.app.state.hub.url
    assert client.get(f"/s/{token_of(link)}").status_code == 200  # the form read (its survey kept for the page)
    with psycopg.connect(url, autocommit=True) as admin:  # as a restarted server would: every session ends
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()")
    r = client.post(f"/s/{token_of(link)}", data={"score": "6"})
    assert r.status_code == 200 and f'action="/s/{token_of(link)}/comment' in r.text  # thanked, asked for more
    with pytest.raises(psycopg.OperationalError):
        answers(client)  # this thread's reader: its session ended too (it connects again at its next read)
    assert answers(client) == [(f"SVR-{link.invitation_id}", link.customer_id, 6, None, "it")]
