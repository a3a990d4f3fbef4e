"""Erasing one employee everywhere (centric.employees.forget, centric employees forget): a small company with two
employees called Anna in different stores; one is erased, the other keeps everything."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric import Store
from centric.employees import employees, forget
from centric.errors import CentricError

EMAIL = "anna.nowak@firma.example"
OTHER_EMAIL = "anna.kowal@firma.example"


def build(store: Store) -> dict:
    """The company: stores S1 (Anna Nowak E1, Piotr Zając E3) and S2 (Anna Kowal E2), each Anna with a web
    account, and what they left behind. Returns the ids made."""
    from centric.ideas import box
    from centric.ingest import ingest_source
    from centric.mystery.template import add_template, get_template
    from centric.mystery.visits import record_visit
    from centric.observations import add_note
    from centric.orientation.records import record_assessment
    from centric.web import auth
    from tests.test_mystery_web import TEMPLATE

    with store.transaction() as con:
        con.execute("INSERT INTO units VALUES ('S1', 'store', 'North', 'PL', 'p.zajac'), "
                    "('S2', 'store', 'North', 'PL', 'boss2')")
    ingest_source(store, "employees", pd.DataFrame([
        {"employee_id": "E1", "name": "Anna Nowak", "email": EMAIL, "unit": "S1", "role": "staff"},
        {"employee_id": "E2", "name": "Anna Kowal", "email": OTHER_EMAIL, "unit": "S2", "role": "staff"},
        {"employee_id": "E3", "name": "Piotr Zając", "email": "piotr.zajac@firma.example", "unit": "S1",
         "role": "manager"},
        {"employee_id": "E9", "name": "Anna Nowak", "email": EMAIL, "unit": "S1", "role": "chief"},  # rejected
    ]), name="hr.csv")
    u1 = auth.add_user(store, EMAIL, "agent", "a password long enough", agent="a.n1")["user_id"]
    u2 = auth.add_user(store, OTHER_EMAIL, "agent", "a password long enough", agent="a.k2")["user_id"]
    for who, view in (("E1", "manager"), ("E1", "self"), ("E2", "manager"), ("E3", "manager")):
        record_assessment(store, who, view, {"attitude": 4}, "p.zajac", comment="calm with customers")
    i1 = box.submit(store, "A bench by the fitting rooms", "employee", "Bench", user_id=u1, author_name="Anna Nowak")
    i2 = box.submit(store, "Ask Anna Nowak how she arranges the shelves", "employee", "Shelves", user_id=u2,
                    author_name="Anna Kowal")
    box.vote(store, i2, f"user:{u1}")
    box.vote(store, i1, f"user:{u2}")
    box.vote(store, i2, f"user:{u2}")
    box.comment(store, i2, "Good idea", EMAIL)
    box.comment(store, i1, "Thanks, Anna Nowak", OTHER_EMAIL)
    notes = {
        "n1": add_note(store, "S1", "Anna greeted every customer; Nowak knows the products.", "p.zajac"),
        "n2": add_note(store, "S1", "A queue at the till at noon.", "a.n1"),
        "n3": add_note(store, "S2", "Anna helped a customer with a return.", "boss2"),
        "n4": add_note(store, "S2", "Nowak  Anna came from S1 to help Anna.", "boss2"),
    }
    add_template(store, TEMPLATE.read_text(encoding="utf-8"), "store-visit.toml")
    items = {i.id: "yes" for i in get_template(store, "store-visit").items}
    at = dt.datetime(2026, 10, 1, 12)
    record_visit(store, "store-visit", "V1", "S1", at, items, shopper="shopper.kasia", entered_by=EMAIL,
                 notes=f"Anna at the till was quick; write to {EMAIL}")
    record_visit(store, "store-visit", "V2", "S2", at, items, shopper="shopper.kasia", notes="Anna was helpful")
    return {"u1": u1, "u2": u2, "i1": i1, "i2": i2, **notes}


def text_columns(con) -> list[tuple[str, str]]:
    """Every text column of every table, read from the database itself (not from centric's schema)."""
    return con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' "
                       "ORDER BY table_name, column_name").fetchall()


def occurrences(con, needles: list[str]) -> dict[str, int]:
    """table.column → rows whose value holds one of ``needles`` (case and spacing ignored)."""
    found = {}
    for table, column in text_columns(con):
        values = [v for (v,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()]
        n = sum(1 for v in values if any(x in " ".join(v.casefold().split()) for x in needles))
        if n:
            found[f"{table}.{column}"] = n
    return found


def snapshot(con, sql: str, params=()) -> list:
    return sorted(con.execute(sql, list(params)).fetchall(), key=repr)


NEEDLES = [EMAIL, "anna nowak", "nowak anna"]
OTHERS = {  # what belongs to Anna Kowal (E2) and Piotr Zając (E3): must not change
    "employees": "SELECT * FROM employees WHERE employee_id IN ('E2', 'E3')",
    "assessments": "SELECT employee_id, view, comment FROM orientation_assessments WHERE employee_id <> 'E1'",
    "user": "SELECT user_id, email, agent, disabled_at FROM users WHERE email = 'anna.kowal@firma.example'",
    "votes": ("SELECT idea_id, voter FROM idea_votes WHERE voter IN (SELECT 'user:' || user_id FROM users "
              "WHERE email = 'anna.kowal@firma.example')"),
    "n3": "SELECT feedback_id, text, author FROM feedback WHERE store = 'S2' AND text LIKE 'Anna helped%'",
    "v2": "SELECT visit_id, notes, shopper FROM mystery_visits WHERE visit_id = 'V2'",
}


def test_forget_erases_the_employee_everywhere_and_leaves_the_namesake(tmp_path):
    with Store.open(tmp_path / "c.duckdb") as store:
        ids = build(store)
        con = store.con
        before = occurrences(con, NEEDLES)
        assert before  # the name and e-mail are there to find
        kept = {k: snapshot(con, q) for k, q in OTHERS.items()}
        audit_rows = con.execute("SELECT count(*) FROM audit_log WHERE lower(coalesce(actor, '') || "
                                 "coalesce(detail, '')) LIKE ?", [f"%{EMAIL}%"]).fetchone()[0]
        rejected = con.execute("SELECT count(*) FROM rejected_rows WHERE record LIKE '%Anna Nowak%'").fetchone()[0]
        assert rejected == 1

        e = forget(store, EMAIL.upper())

        assert e.employee_id == "E1"
        # hand-counted: E1's row; E1's two assessments; I1 (theirs) and I2 (names them); their vote on I2; their
        # comment and the comment naming them; notes n1 (S1: first name and surname alone), n2 (they wrote it) and
        # n4 (full name, reversed, in S2); visit V1; their account; the rejected HR row; the audit entries with
        # their e-mail; V1's entered_by; V1's notes kept as feedback for the text pipeline (mystery:V1)
        expected = {"employees": 1, "orientation_assessments": 2, "ideas": 2, "idea_votes": 1, "idea_comments": 2,
                    "feedback": 4, "mystery_visits": 1, "users": 1, "rejected_rows": 1}
        if audit_rows:
            expected["audit_log"] = audit_rows
        assert e.counts == expected
        # the independent check: no text column of any table holds the name or the e-mail any more
        assert occurrences(con, NEEDLES) == {}
        # everybody else is untouched
        assert {k: snapshot(con, q) for k, q in OTHERS.items()} == kept
        assert con.execute("SELECT count(*) FROM orientation_assessments").fetchone()[0] == 2
        # what stays, and how it reads now
        assert con.execute("SELECT name, email, unit, role FROM employees WHERE employee_id = 'E1'").fetchone() == (
            None, None, "S1", "staff")
        notes = dict(con.execute("SELECT feedback_id, text FROM feedback").fetchall())
        assert notes[ids["n1"]] == "[name] greeted every customer; [name] knows the products."
        assert notes[ids["n4"]] == "[name] came from S1 to help Anna."
        assert notes[ids["n3"]] == "Anna helped a customer with a return."
        assert con.execute("SELECT author FROM feedback WHERE feedback_id = ?", [ids["n2"]]).fetchone() == (None,)
        assert con.execute("SELECT notes FROM mystery_visits WHERE visit_id = 'V1'").fetchone() == (
            "[name] at the till was quick; write to [e-mail]",)
        assert notes["mystery:V1"] == "[name] at the till was quick; write to [e-mail]"
        assert notes["mystery:V2"] == "Anna was helpful"  # another unit's Anna
        idea = con.execute("SELECT title, text, author_name, user_id FROM ideas WHERE idea_id = ?",
                           [ids["i1"]]).fetchone()
        assert idea == ("[erased]", "[erased]", None, None)
        assert con.execute("SELECT text, author_name FROM ideas WHERE idea_id = ?", [ids["i2"]]).fetchone() == (
            "Ask [name] how she arranges the shelves", "Anna Kowal")
        votes = dict(con.execute("SELECT idea_id, count(*) FROM idea_votes GROUP BY 1").fetchall())
        assert votes == {ids["i1"]: 1, ids["i2"]: 2}  # their vote still counts, under a random token
        user = con.execute("SELECT email, name, disabled_at IS NOT NULL FROM users WHERE user_id = ?",
                           [ids["u1"]]).fetchone()
        assert user == (f"erased-{ids['u1'].lower()}@erased.invalid", None, True)
        # the employee list says so
        df = employees(store)
        assert list(df.employee_id) == ["E1", "E3", "E2"] and list(df.erased) == [True, False, False]
        with pytest.raises(CentricError, match="erased already"):
            forget(store, "E1")


def test_an_unknown_employee_changes_nothing(tmp_path):
    with Store.open(tmp_path / "c.duckdb") as store:
        build(store)
        before = occurrences(store.con, NEEDLES)
        for who in ("nobody@firma.example", "E7", " "):
            with pytest.raises(CentricError, match="no employee|name the employee"):
                forget(store, who)
        assert occurrences(store.con, NEEDLES) == before


def test_a_failure_half_way_leaves_the_store_unchanged(tmp_path, monkeypatch):
    from centric.employees import privacy

    with Store.open(tmp_path / "c.duckdb") as store:
        build(store)
        con = store.con
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        before = {t: snapshot(con, f'SELECT * FROM "{t}"') for t in tables}

        def boom(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(privacy, "_forget_account", boom)  # after ideas, notes and visits were changed
        with pytest.raises(RuntimeError, match="disk full"):
            forget(store, "E1")
        assert {t: snapshot(con, f'SELECT * FROM "{t}"') for t in tables} == before


def test_the_command_line_lists_and_forgets_with_json(tmp_path):
    from centric.cli import app

    db = tmp_path / "c.duckdb"
    with Store.open(db) as store:
        build(store)
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db), "employees", "list", "--unit", "S1", "--json"])
    assert r.exit_code == 0, r.output
    assert [(x["employee_id"], x["name"], x["erased"]) for x in json.loads(r.output)] == [
        ("E1", "Anna Nowak", False), ("E3", "Piotr Zając", False)]
    r = runner.invoke(app, ["--db", str(db), "employees", "forget", "E1"], input="n\n")
    assert r.exit_code == 1
    r = runner.invoke(app, ["--db", str(db), "employees", "forget", "nobody@firma.example", "--yes"])
    assert r.exit_code == 2 and "no employee with the id or e-mail 'nobody@firma.example'" in r.output
    r = runner.invoke(app, ["--db", str(db), "employees", "forget", EMAIL, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["employee_id"] == "E1" and out["counts"]["orientation_assessments"] == 2
    assert out["counts"]["ideas"] == 2 and out["total"] == sum(out["counts"].values())
    with Store.open(db) as store:
        logged = store.con.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = 'employee.forget'"
                                   ).fetchall()
        assert len(logged) == 1 and logged[0][0].startswith("cli:") and logged[0][1] == "E1"
        assert json.loads(logged[0][2]) == out["counts"]
        assert occurrences(store.con, NEEDLES) == {}
    r = runner.invoke(app, ["--db", str(db), "employees", "list"])
    assert r.exit_code == 0 and "[erased]" in r.output and "Anna Kowal" in r.output
    # centric enps forget is the same erasure
    r = runner.invoke(app, ["--db", str(db), "enps", "forget", OTHER_EMAIL])
    assert r.exit_code == 0 and "employee E2" in r.output and "orientation_assessments: 1" in r.output
