"""The employee's self-assessment by signed link: who gets a link (centric orientation invite), the public form
/o/TOKEN in the employee's language, one self view stored per link — twice sent, forged, expired, out of range,
unknown fields, parallel submits — and the gap computed from these self views against a hand calculation."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric import Store
from centric.cli import app
from centric.enps.invitations import LINK_COLUMNS
from centric.orientation import gap, invitations, record_assessment
from centric.orientation.invitations import dated, plan, record
from centric.orientation.records import RatingError
from centric.surveys import tokens


def _company(con, unit: str | None = None) -> str:
    """A store of its own with four employees: e1 (pl), e2 (it), a leaver and one who starts next year."""
    unit = unit or f"Sklep {uuid.uuid4().hex[:8]}"
    con.execute("INSERT INTO units (unit, kind, region, country, manager) VALUES (?, 'store', 'R', 'PL', 'boss')",
                [unit])
    tag = unit[-8:]
    today = dt.datetime.now(dt.UTC).date()
    rows = [(f"E1-{tag}", "Ala", "ala@x.example", "pl", None, None), (f"E2-{tag}", "Gio", None, "it", None, None),
            (f"E3-{tag}", "Lev", None, "ru", today - dt.timedelta(days=3), None),
            (f"E4-{tag}", "New", None, "en", None, today + dt.timedelta(days=400))]
    for emp, name, email, lang, left, hired in rows:
        con.execute("INSERT INTO employees (employee_id, name, email, unit, role, language, left_at, hired_at) "
                    "VALUES (?, ?, ?, ?, 'staff', ?, ?, ?)", [emp, name, email, unit, lang, left, hired])
    return unit


def _token(url: str) -> str:
    return url.rsplit("/o/", 1)[1]


def test_plan_issue_and_record_in_the_core(tmp_path):
    with Store.open(tmp_path / "c.duckdb") as s:
        unit = _company(s, "Sklep A")
        p = plan(s, "2026-q2", [unit])  # the leaver and the newcomer are not invited
        assert p.period == "2026-Q2"
        assert dict(zip(p.invite["employee_id"], p.invite["language"], strict=True)) == {"E1-Sklep A": "pl",
                                                                                        "E2-Sklep A": "it"}
        assert p.reasons() == {"left": 1, "not_started": 1}
        # a plan made on a day long before the leaver left still has them
        early = plan(s, "2026-Q2", [unit], day=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=30))
        assert sorted(early.invite["employee_id"]) == ["E1-Sklep A", "E2-Sklep A", "E3-Sklep A"]
        links = invitations.issue(s, p, link_days=10)
        assert len(links) == 2 and {lk.language for lk in links} == {"pl", "it"}
        t = _token(links[0].url)
        assert len(t) <= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", t)
        assert links[0].expires_on == dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)
        key = tokens.secret(s)
        iid = tokens.read(key, t, tokens.ORIENTATION)
        assert iid is not None
        assert tokens.read(key, t) is None and tokens.read(key, t, tokens.EMPLOYEE) is None  # a key space of its own
        # a second plan for the period skips both (links already), the leaver and the newcomer
        again = plan(s, "2026-Q2", [unit])
        assert again.invite.empty and again.reasons() == {"left": 1, "not_started": 1, "already_invited": 2}
        with pytest.raises(RatingError) as e:
            record(s, iid, {"attitude": "6"})
        assert e.value.field == "attitude" and e.value.code == "out_of_scale"
        with pytest.raises(RatingError) as e:
            record(s, iid, {"attitude": "4", "salary": "5"})
        assert e.value.field == "salary" and e.value.code == "unknown_field"
        assert s.count("orientation_assessments") == 0
        out = record(s, iid, {"attitude": "4", "clear_speech": "5", "adapting": ""}, "ok")
        assert out.status == "stored"
        row = s.execute("SELECT employee_id, view, assessor, attitude, clear_speech, adapting, comment "
                            "FROM orientation_assessments").fetchall()
        emp = links[0].employee_id
        assert row == [(emp, "self", emp, 4, 5, None, "ok")]
        assert record(s, iid, {"attitude": "1"}).status == "already"
        assert s.count("orientation_assessments") == 1
        assert s.execute("SELECT used, assessment_id FROM orientation_invitations WHERE invitation_id = ?",
                             [iid]).fetchone() == (True, out.assessment_id)
        assert record(s, 12345, {"attitude": "1"}).status == "unknown"


def test_a_late_answer_is_dated_inside_its_period():
    assert dated("2026-Q2", dt.datetime(2026, 7, 3, 9)) == dt.datetime(2026, 6, 30, 23, 59, 59)
    assert dated("2026-Q2", dt.datetime(2026, 3, 30, 9)) == dt.datetime(2026, 4, 1)
    assert dated("2026-05", dt.datetime(2026, 5, 20, 8, 30)) == dt.datetime(2026, 5, 20, 8, 30)


def test_the_cli_writes_links_and_a_dry_run_writes_nothing(tmp_path):
    db = tmp_path / "c.duckdb"
    with Store.open(db) as s:
        unit = _company(s, "Sklep B")
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db), "orientation", "invite", "--period", "2026-Q2", "--unit", unit,
                            "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    assert '"invite": 2' in r.output and '"left": 1' in r.output
    with Store.open(db) as s:
        assert s.count("orientation_invitations") == 0
    out = tmp_path / "links.csv"
    r = runner.invoke(app, ["--db", str(db), "orientation", "invite", "--period", "2026-Q2", "--unit", unit,
                            "--out", str(out)], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "invited 2 employees" in r.output, r.output
    links = pd.read_csv(out)
    assert list(links.columns) == LINK_COLUMNS and len(links) == 2
    assert all("/o/" in u for u in links["link"])
    r = runner.invoke(app, ["--db", str(db), "orientation", "invite", "--period", "2026-Q7", "--dry-run"])
    assert r.exit_code != 0 and "2026-Q7" in r.output
    r = runner.invoke(app, ["--db", str(db), "orientation", "invite", "--period", "2026-Q2", "--unit", "Nowhere",
                            "--dry-run"])
    assert r.exit_code != 0 and "Nowhere" in r.output


@pytest.fixture
def linked(web_client):
    """The web client, a store of its own with two invited employees: (unit, {employee_id: token})."""
    hub = web_client.app.state.hub
    unit = _company(hub.writer)
    links = hub.write(lambda s: invitations.issue(s, plan(s, None, [unit])))
    return unit, {lk.employee_id: _token(lk.url) for lk in links}


def _selfs(client, emp: str) -> int:
    return client.app.state.hub.reader().execute(
        "SELECT count(*) FROM orientation_assessments WHERE employee_id = ? AND view = 'self'", [emp]).fetchone()[0]


def test_the_form_in_the_employees_language_and_one_answer(web_client, linked):
    unit, links = linked
    (pl_emp, pl), (it_emp, it) = sorted(links.items())
    r = web_client.get(f"/o/{pl}")
    assert r.status_code == 200 and '<html lang="pl">' in r.text
    assert "Rozwiązywanie konfliktów" in r.text and "Zawsze, wzór dla innych" in r.text  # criteria and anchors
    assert "<script" not in r.text and "csrf_token" not in r.text
    assert r.text.count('type="radio"') == 6 * 5
    r = web_client.get(f"/o/{it}")
    assert '<html lang="it">' in r.text and "Gestione dei conflitti" in r.text
    assert '<html lang="ru">' in web_client.get(f"/o/{it}?lang=ru").text
    # out of range: 422 naming the field (its name in the page's language), nothing stored
    r = web_client.post(f"/o/{pl}", data={"lang": "pl", "attitude": "9", "communication": "4"})
    assert r.status_code == 422 and 'data-field="attitude"' in r.text and "Spokojna i pozytywna postawa" in r.text
    assert 'value="4" id="communication-4" checked' in r.text  # what was sent is kept
    r = web_client.post(f"/o/{pl}", data={"attitude": "4", "bonus": "5"})
    assert r.status_code == 422 and 'data-field="bonus"' in r.text
    r = web_client.post(f"/o/{pl}", data={"comment": "nic"})
    assert r.status_code == 422 and 'data-field="ratings"' in r.text
    assert _selfs(web_client, pl_emp) == 0
    r = web_client.post(f"/o/{pl}", data={"lang": "pl", "attitude": "5", "communication": "4", "comment": "<b>x</b>"})
    assert r.status_code == 200 and "zapisane" in r.text.lower()
    assert _selfs(web_client, pl_emp) == 1
    stored = web_client.app.state.hub.reader().execute(
        "SELECT attitude, communication, product_knowledge, comment, unit FROM orientation_assessments "
        "WHERE employee_id = ?", [pl_emp]).fetchone()
    assert stored == (5, 4, None, "<b>x</b>", unit)
    # sent again: a friendly page, nothing stored; the form says the same
    r = web_client.post(f"/o/{pl}", data={"attitude": "1"})
    assert r.status_code == 409 and 'role="status"' in r.text
    assert _selfs(web_client, pl_emp) == 1
    r = web_client.get(f"/o/{pl}")
    assert r.status_code == 200 and 'type="radio"' not in r.text


def test_forged_and_expired_links(web_client, linked):
    _, links = linked
    emp, t = sorted(links.items())[0]
    forged = t[:-1] + ("A" if t[-1] != "A" else "B")
    for url in (f"/o/{forged}", "/o/nothing", f"/o/{t}x"):
        assert web_client.get(url).status_code == 404
        r = web_client.post(url, data={"attitude": "5"})
        assert r.status_code == 404 and "This link does not work" in r.text
    hub = web_client.app.state.hub
    iid = tokens.read(hub.write(tokens.secret), t, tokens.ORIENTATION)
    hub.writer.execute("UPDATE orientation_invitations SET expires_on = ? WHERE invitation_id = ?",
                           [dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1), iid])
    assert web_client.get(f"/o/{t}").status_code == 410
    r = web_client.post(f"/o/{t}", data={"attitude": "5"})
    assert r.status_code == 410 and _selfs(web_client, emp) == 0


def test_parallel_submits_of_one_link_store_one(web_client, linked):
    _, links = linked
    emp, t = sorted(links.items())[1]
    n = 8
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def send(i: int) -> None:
        barrier.wait()
        codes.append(web_client.post(f"/o/{t}", data={"attitude": str(1 + i % 5)}).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(codes) == [200] + [409] * (n - 1)
    assert _selfs(web_client, emp) == 1


def test_the_gap_uses_the_self_views_sent_by_link(web_client, linked, login):
    unit, links = linked
    (a, ta), (b, tb) = sorted(links.items())
    hub = web_client.app.state.hub
    for emp in (a, b):  # the manager rates both 3 on attitude and communication
        hub.write(record_assessment, emp, "manager", {"attitude": 3, "communication": 3}, "boss")
    web_client.post(f"/o/{ta}", data={"attitude": "5", "communication": "4"})  # self mean 4.5: +1.5
    web_client.post(f"/o/{tb}", data={"attitude": "4", "communication": "3"})  # self mean 3.5: +0.5
    g = gap(hub.reader(), unit=unit).table.set_index("criterion")
    assert int(g.loc["all", "n"]) == 2 and g.loc["all", "gap"] == pytest.approx(1.0)
    assert g.loc["attitude", "gap"] == pytest.approx(1.5)  # (2 + 1) / 2
    assert g.loc["communication", "gap"] == pytest.approx(0.5)  # (1 + 0) / 2
    login(web_client, role="admin")
    r = web_client.get("/orientation")
    assert r.status_code == 200
