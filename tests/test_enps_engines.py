"""``centric enps invite`` and ``enps analyze`` on each engine (DuckDB and PostgreSQL): the known answers of
tests/test_enps.py — who is invited and who skipped, and why; the comments' themes — on a store built on DuckDB
and copied to the engine (``engine.writable_of``)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from centric.engines import open_store
from centric.enps import analysis, invitations
from centric.store import Store
from centric.surveys import tokens

from .engines import DUCK_PG, run, sql_rows
from .test_enps import DAY, ENPS, FixedThemes, answer_all, company, invite, survey

LEAVER = {"employee_id": "L1", "name": "Gone", "email": "gone@domix.example", "unit": "S1", "role": "staff",
          "language": "pl", "hired_at": dt.date(2020, 1, 1), "left_at": dt.date(2026, 4, 30)}
LATER = {**LEAVER, "employee_id": "N1", "email": "new@domix.example", "left_at": None, "hired_at": dt.date(2026, 6, 1)}
RU = {**LEAVER, "employee_id": "R1", "email": "ru@domix.example", "left_at": None, "language": "ru"}


@pytest.mark.capability("enps writes", engines=DUCK_PG)
def test_enps_invite_on_each_engine(engine, tmp_path):
    path = tmp_path / "c.duckdb"
    with Store.open(path) as duck:
        company(duck, {"S1": 3, "D1": 2}, [LEAVER, LATER, RU])
        s = survey(duck, {**ENPS, "languages": ["pl", "it", "en"]})
        store = engine.writable_of(duck)
        plan, links = invite(store, s, units=["S1"])
        assert sorted(plan.invite["employee_id"]) == ["R1", "S1-0", "S1-1", "S1-2"]
        assert plan.reasons() == {"left": 1, "not_started": 1}
        lang = dict(zip(plan.invite["employee_id"], plan.invite["language"], strict=True))
        assert lang == {"S1-0": "it", "S1-1": "pl", "S1-2": "it", "R1": "pl"}  # ru: not a language of the survey
        stored = sql_rows(store, "SELECT employee_id, email, unit, language, period, expires_on, used, invitation_id "
                                 "FROM employee_invitations WHERE survey_id = ?", [s.survey_id])
        assert sorted(r[:7] for r in stored) == sorted(
            (e, e.lower().replace("-", ".") + "@domix.example" if e != "R1" else "ru@domix.example", "S1", lang[e],
             "2026-Q2", DAY + dt.timedelta(days=30), False) for e in lang)
        # each link's token reads back as the number of its stored invitation
        secret = tokens.secret(store)
        numbers = {r[0]: r[7] for r in stored}
        assert {link.employee_id: tokens.read(secret, link.url.rsplit("/", 1)[1], tokens.EMPLOYEE)
                for link in links} == numbers
        again, _ = invite(store, s, units=["S1"])
        assert len(again.invite) == 0 and again.reasons()["already_invited"] == 4
        db = str(path) if engine.name == "duckdb" else store.url
    # the command line: a file naming employees, its rows' reasons; then the links of another period
    staff = tmp_path / "staff.csv"
    staff.write_text("E-mail;Note\nd1.0@domix.example;x\nnobody@domix.example;y\nD1.0@DOMIX.example;z\n"
                     "gone@domix.example;w\n", encoding="utf-8")
    r = run("enps", "invite", "enps", "--employees", str(staff), "--dry-run", "--json", db=db)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["invite"] == 1 and out["skipped"] == {"unknown_employee": 1, "repeated": 1, "left": 1}
    assert [(x["row"], x["reason"]) for x in out["skips"]] == [(3, "unknown_employee"), (4, "repeated"),
                                                                (5, "left")]
    r = run("enps", "invite", "enps", "--unit", "D1", "--unit", "S1", "--period", "2026-Q3", "--out",
            str(tmp_path / "links.csv"), db=db)
    # today N1 has started (on 2026-06-01), L1 has left
    assert r.exit_code == 0 and "invited 7 employees" in r.output and "skipped 1 the employee has left" in r.output
    links = pd.read_csv(tmp_path / "links.csv")
    assert list(links.columns) == invitations.LINK_COLUMNS and sorted(links["employee_id"]) == [
        "D1-0", "D1-1", "N1", "R1", "S1-0", "S1-1", "S1-2"]
    with open_store(db, read_only=True) as store:
        assert sql_rows(store, "SELECT count(*) FROM employee_invitations WHERE period = '2026-Q3'") == [(7,)]
    r = run("enps", "invite", "enps", "--unit", "S9", "--dry-run", db=db)
    assert r.exit_code == 2 and "--unit 'S9': no such store or department" in r.output


@pytest.mark.capability("enps writes", engines=DUCK_PG)
def test_enps_analyze_on_each_engine(engine, tmp_path, monkeypatch):
    path = tmp_path / "c.duckdb"
    with Store.open(path) as duck:
        company(duck, {"S1": 6, "S2": 6, "S3": 3})
        s = survey(duck)
        invite(duck, s)
        comments = {f"S1-{i}": f"schedule late {i}" for i in range(6)}
        comments |= {f"S2-{i}": ("pay low" if i < 4 else f"tools slow {i}") for i in range(6)}
        comments |= {f"S3-{i}": f"management mail me at boss{i}@domix.example" for i in range(3)}
        comments["S1-0"] = "   "  # blank: nothing to analyse
        answer_all(duck, s, {e: 5 for e in comments}, comments)
        store = engine.writable_of(duck)
        assert analysis.analyze(store, FixedThemes()) == 14
        assert analysis.analyze(store, FixedThemes()) == 0  # nothing left to analyse
        assert sorted(sql_rows(store, "SELECT factor, sentiment, count(*) FROM employee_themes GROUP BY 1, 2")) == [
            ("management", "negative", 3), ("pay", "negative", 4), ("schedule", "negative", 5),
            ("tools", "negative", 2)]
        th = analysis.themes(store, "enps")
        # schedule: 5 comments (shown, the threshold is 5); pay 4, tools 2, management 3: withheld
        assert [(t.factor, t.comments, t.net) for t in th.themes] == [("schedule", 5, -100.0)]
        assert th.withheld == 3 and th.waiting == 0
        db = str(path) if engine.name == "duckdb" else store.url
        from .engines import execute

        execute(store, "UPDATE employee_answers SET comment = 'pay again' WHERE answer_id = (SELECT min(answer_id) "
                       "FROM employee_answers WHERE comment IS NULL OR trim(comment) = '')")
    # the command line, with the stand-in for the text pipeline: the new comment is analysed, once
    monkeypatch.setattr(analysis, "_analyzer", FixedThemes)
    r = run("enps", "analyze", db=db)
    assert r.exit_code == 0 and "1 employee comments analysed" in r.output, r.output
    r = run("enps", "analyze", db=db)
    assert r.exit_code == 0 and "0 employee comments analysed" in r.output, r.output
    with open_store(db, read_only=True) as store:
        assert sorted(sql_rows(store, "SELECT factor, count(*) FROM employee_themes GROUP BY 1")) == [
            ("management", 3), ("pay", 5), ("schedule", 5), ("tools", 2)]
