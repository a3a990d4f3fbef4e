"""Observation notes: imported with the ordinary ingest (errors named by file, row and column), entered one by one,
analysed like any text, summarised by store with masked quotes, and kept out of the customer factor analysis.
The command line of both parts through its runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from centric import Store
from centric.cli import app
from centric.errors import CentricError
from centric.observations import add_note, summary

runner = CliRunner()


def run(*args, db):
    return runner.invoke(app, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "c.duckdb"
    with Store.open(path) as s:
        s.execute("INSERT INTO units VALUES ('S1', 'store', 'North', 'PL', 'h.boss'), "
                      "('S2', 'store', 'North', 'PL', 'k.other'), ('D1', 'department', NULL, 'PL', 'h.boss')")
        s.execute("INSERT INTO employees (employee_id, name, unit, role) VALUES "
                      "('e1', 'Anna Nowak', 'S1', 'staff'), ('e2', 'Jan Kos', 'S1', 'staff'), "
                      "('e3', 'Ewa Lis', 'S2', 'staff')")
    return path


def test_import_through_the_ordinary_ingest(db, tmp_path):
    f = tmp_path / "notatki.csv"
    f.write_text("Sklep;Data;Treść\n"
                 "S1;12.05.2026 10:00;Długie kolejki do kas, otwarta tylko jedna kasa.\n"
                 "S1;;Brak daty.\n"                       # row 3: no date
                 "S2;13.05.2026 11:00;\n"                 # row 4: no text
                 "S2;14.05.2026 12:00;Anna Nowak pomogła klientce, ale na półkach bałagan.\n", encoding="utf-8")
    r = run("ingest", "feedback", str(f), "--set", "source=observation", "--set", "brand=ours", "--no-cases", db=db)
    assert r.exit_code == 0, r.output
    assert "stored 2" in r.output and "rejected 2" in r.output
    with Store.open(db) as s:
        rows = s.execute("SELECT source, brand, store FROM feedback ORDER BY posted_at").fetchall()
        assert rows == [("observation", "ours", "S1"), ("observation", "ours", "S2")]
        rej = s.execute("SELECT row_number, column_name FROM rejected_rows ORDER BY row_number").fetchall()
        assert rej == [(3, "Data"), (4, "Treść")]
        sm = summary(s)
        assert sm.notes == 2 and list(sm.stores["store"]) == ["S1", "S2"]
        assert (sm.stores["analysed"] == 0).all()  # not analysed yet
        # quotes are masked with the names of the store's employees … Anna Nowak works in S1, not S2: S2's quote
        # masks the names of S2's staff only; a name of another store stays (it is not known to be personal there)
        assert sm.quotes["S2"][0]["text"].startswith("Anna Nowak")
        s.execute("UPDATE employees SET unit = 'S2' WHERE employee_id = 'e1'")
        assert summary(s).quotes["S2"][0]["text"].startswith("[name] pomogła")


def test_a_note_is_checked_and_analysed_like_any_text(db):
    from centric.drivers.analysis import mentions_frame
    from centric.text.batch import analyze_store

    with Store.open(db) as s:
        with pytest.raises(CentricError, match="no store 'D1'"):
            add_note(s, "D1", "a department is not a store", "h.boss")
        with pytest.raises(CentricError, match="text: write"):
            add_note(s, "S1", "   ", "h.boss")
        with pytest.raises(CentricError, match="at most"):
            add_note(s, "S1", "x" * 5001, "h.boss")
        fid = add_note(s, "S1", "Long queues at the tills, only one till open. The shop assistant was very helpful.",
                       "h.boss")
        s.execute("INSERT INTO feedback (feedback_id, source, brand, posted_at, text, store) VALUES "
                      "('rv1', 'review', 'ours', TIMESTAMP '2026-05-01', 'The shop assistant was rude.', 'S1')")
        analyze_store(s, "retail", fast=True)
        sm = summary(s)
        factors = set(sm.factors["factor"])
        assert {"store", "staff"} <= factors, factors
        assert sm.stores.iloc[0]["analysed"] == 1
        assert sm.quotes["S1"][0]["feedback_id"] == fid
        kinds = set(mentions_frame(s)["kind"])
        assert "review" in kinds and "observation" not in kinds  # the company's eyes, not the customers' voice


def test_orientation_commands(db, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("employee_id,assessed_at,view,attitude,communication\n"
                 "e1,2026-04-02,manager,4,2\ne2,2026-04-02,manager,4,4\ne3,2026-04-02,manager,3,5\n"
                 "e1,2026-04-03,self,5,4\ne2,2026-04-03,self,x,4\n", encoding="utf-8")
    r = run("orientation", "import", str(f), db=db)
    assert r.exit_code == 0, r.output
    assert "stored 4" in r.output and "rejected 1" in r.output and "row 6" in r.output
    r = run("orientation", "scores", "--by", "unit", "--json", db=db)
    got = {row["unit"]: row for row in json.loads(r.output)["rows"]}
    assert got["S1"]["score"] == pytest.approx(3.5) and got["S1"]["n"] == 2  # e1 3, e2 4
    assert got["S2"]["score"] == pytest.approx(4.0) and got["S2"]["low"] is None  # one employee
    r = run("orientation", "gap", "--json", db=db)
    rows = {row["criterion"]: row for row in json.loads(r.output)["rows"]}
    assert rows["all"]["gap"] == pytest.approx(4.5 - 3) and rows["all"]["n"] == 1
    r = run("orientation", "scores", "--by", "store", db=db)
    assert r.exit_code == 2 and "--by store" in r.output
    r = run("orientation", "import", str(tmp_path / "none.csv"), db=db)
    assert r.exit_code == 2 and "none.csv" in r.output
    r = run("orientation", "customers", "--json", db=db)
    assert [row["unit"] for row in json.loads(r.output)["rows"]] == ["S1", "S2"]
    r = run("observations", "add", "--store", "S1", "--text", "Kolejki do kas [bold]x[/bold]", "--author", "me", db=db)
    assert r.exit_code == 0
    r = run("observations", "list", "--quotes", db=db)
    assert "[bold]x[/bold]" in r.output  # Rich markup in a note is printed as text


def test_forget_employee_leaves_nothing_of_them(db, tmp_path):
    from centric.orientation import forget_employee, record_assessment

    with Store.open(db) as s:
        record_assessment(s, "e1", "manager", {"attitude": 4}, "h.boss", "a private remark about Anna")
        record_assessment(s, "e1", "self", {"attitude": 5}, "h.boss")
        record_assessment(s, "e2", "manager", {"attitude": 3}, "h.boss")
        assert forget_employee(s, "e1") == 2
        left = s.execute("SELECT employee_id FROM orientation_assessments").fetchall()
        assert left == [("e2",)]
        assert forget_employee(s, "e1") == 0


def test_the_demo_has_a_store_weak_on_conflicts_and_analysed_notes(demo_store):
    from centric.demo.orientation import WEAK_STORE
    from centric.orientation.present import report_data

    d = report_data(demo_store)
    weak = d.weak_spots()
    assert (weak["unit"] == WEAK_STORE).any() and (weak[weak["unit"] == WEAK_STORE]["criterion"]
                                                   == "conflict_handling").any()
    g = d.gap.table.set_index("criterion")
    assert g.loc["all", "gap"] > 0.2 and g.loc["all", "low"] > 0  # self a bit rosier than the manager
    assert set(d.by_period.table["period"]) == {"2026-Q2", "2026-Q3"}
    sm = summary(demo_store)
    assert 25 <= sm.notes <= 40 and sm.stores["analysed"].sum() == sm.notes
    assert {"store", "staff", "availability"} <= set(sm.factors["factor"])


def test_the_report_sections_escape_names_and_notes(tmp_path):
    from centric.orientation import record_assessment
    from centric.report import build_report

    bad = '<script>alert(1)</script>'
    with Store.open(tmp_path / "x.duckdb") as s:
        s.execute("INSERT INTO units VALUES (?, 'store', 'R', 'PL', 'm')", [bad])
        s.execute("INSERT INTO employees (employee_id, name, unit, role) VALUES ('e1', 'A B', ?, 'staff'), "
                      "('e2', 'C D', ?, 'staff')", [bad, bad])
        record_assessment(s, "e1", "manager", {"attitude": 4}, "m")
        record_assessment(s, "e2", "manager", {"attitude": 2}, "m")
        add_note(s, bad, f"Kolejki do kas {bad}", "m")
        html = build_report(s, lang="it")
    assert bad not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="orientation"' in html and 'id="observations"' in html
    assert "Orientamento al cliente del personale" in html  # the section in the report's language
