"""Mystery shopping and the text pipeline: a visit's notes analysed by the real pipeline (as feedback of source
mystery_shopper linked to the visit), shown per store, kept out of the customers' factor analysis; and the competitor
comparison by factor from the visits in ``centric drivers`` (known means, Welch's interval against SciPy)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from centric.cli import app
from centric.drivers import drivers
from centric.drivers.analysis import mentions_frame
from centric.drivers.mystery import mystery_comparison
from centric.engines import open_store
from centric.mystery import add_template, record_visit
from centric.mystery.notes import feedback_id, summary, sync_notes, visit_factors
from centric.text.batch import analyze_store

from .conftest import db_of

# staff is measured by two items (weights 1 and 3), the store by one: factor scores 0, 25, 75 or 100
TWO = """
id = "two"
name = "Two"
[[sections]]
id = "s"
title = "S"
[[sections.items]]
id = "greet"
text = "Greeted?"
weight = 1
factor = "staff"
[[sections.items]]
id = "advice"
text = "Advised?"
weight = 3
factor = "staff"
[[sections.items]]
id = "clean"
text = "Clean?"
weight = 1
factor = "store"
"""

REVIEWS = [("r1", "ours", "The staff were friendly and helpful."), ("r2", "ours", "Delivery was quick."),
           ("r3", "ours", "The staff were rude."), ("r4", "Rival", "Their staff were helpful."),
           ("r5", "Rival", "The delivery was late.")]


@pytest.fixture
def store(store):
    """conftest's store (DuckDB, or PostgreSQL in the suite's PostgreSQL leg) with the template, a unit, a person."""
    s = store
    add_template(s, TWO, "two.toml")
    with s.transaction() as con:
        con.execute("INSERT INTO units (unit, kind, region, country, manager) VALUES ('North 1', 'store', 'North', "
                    "'PL', 'ann')")
        con.execute("INSERT INTO employees (employee_id, name, unit, role) VALUES ('e1', 'Anna Nowak', 'North 1', "
                    "'staff')")
    return s


def visit(s, vid, where, day, greet, advice, clean, brand="ours", notes=None):
    return record_visit(s, "two", vid, where, dt.datetime(2026, 3, day, 12),
                        {"greet": greet, "advice": advice, "clean": clean}, shopper="kasia", brand=brand, notes=notes)


def reviews(s):
    with s.transaction():
        for i, (fid, brand, text) in enumerate(REVIEWS):
            s.execute("INSERT INTO feedback (feedback_id, source, brand, posted_at, text, store) VALUES "
                      "(?, 'review', ?, ?, ?, 'North 1')", [fid, brand, dt.datetime(2026, 3, 1 + i), text])


def four_visits(s):
    visit(s, "o1", "North 1", 2, "yes", "yes", "yes")  # staff 100, store 100
    visit(s, "o2", "North 1", 3, "yes", "no", "no")  # staff 1/4 = 25, store 0
    visit(s, "c1", "Rival Centre", 4, "no", "no", "yes", brand="Rival")  # staff 0, store 100
    visit(s, "c2", "Rival Centre", 5, "yes", "no", "yes", brand="Rival")  # staff 25, store 100


def test_the_factor_comparison_by_hand_and_welch_against_scipy(store):
    four_visits(store)
    got = mystery_comparison(store).set_index(["brand", "factor"])
    staff = got.loc[("Rival", "staff")]
    assert (staff["ours_n"], staff["n"]) == (2, 2)
    assert staff["ours_mean"] == pytest.approx(62.5) and staff["mean"] == pytest.approx(12.5)
    assert staff["diff"] == pytest.approx(50.0)
    ref = stats.ttest_ind([100.0, 25.0], [0.0, 25.0], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (staff["diff_low"], staff["diff_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert staff["p_value"] == pytest.approx(ref.pvalue) and staff["significant"] == (ref.pvalue < 0.05)
    shop = got.loc[("Rival", "store")]
    assert (shop["ours_mean"], shop["mean"], shop["diff"]) == (pytest.approx(50.0), pytest.approx(100.0),
                                                               pytest.approx(-50.0))
    # the period: only the visits from 4 March on — no visit of ours, so no difference
    late = mystery_comparison(store, start=dt.datetime(2026, 3, 4)).set_index(["brand", "factor"])
    assert late.loc[("Rival", "staff"), "ours_n"] == 0 and pd.isna(late.loc[("Rival", "staff"), "diff"])


def test_drivers_json_carries_the_mystery_comparison_and_nothing_without_competitor_visits(store):
    reviews(store)
    analyze_store(store, "retail", fast=True)
    path = db_of(store)
    visit(store, "o1", "North 1", 2, "yes", "yes", "yes")  # our visits alone: nothing to compare
    store.close()
    run = CliRunner()
    before = run.invoke(app, ["--db", path, "drivers", "--json"], catch_exceptions=False)
    assert before.exit_code == 0, before.output
    assert "mystery_shopping" not in before.output
    with open_store(path) as s:
        visit(s, "o2", "North 1", 3, "yes", "no", "no")
        visit(s, "c1", "Rival Centre", 4, "no", "no", "yes", brand="Rival")
        visit(s, "c2", "Rival Centre", 5, "yes", "no", "yes", brand="Rival")
    after = run.invoke(app, ["--db", path, "drivers", "--json"], catch_exceptions=False)
    comp = json.loads(after.output)["competitors"]
    by = {(r["brand"], r["factor"]): r for r in comp}
    ms = by[("Rival", "staff")]["mystery_shopping"]
    assert ms["measure"].startswith("mystery shopping")
    assert (ms["ours_n"], ms["ours_mean"], ms["n"], ms["mean"], ms["diff"]) == (2, 62.5, 2, 12.5, 50.0)
    # the mentions' figures are untouched: the same rows as before the competitor visits, with the visits beside them
    old = {(r["brand"], r["factor"]): r for r in json.loads(before.output)["competitors"]}
    for key, r in old.items():
        assert {k: v for k, v in by[key].items() if k != "mystery_shopping"} == r
    # a pair only the visits have (no review of the rival's store) comes with empty mention fields
    assert by[("Rival", "store")]["net"] is None and by[("Rival", "store")]["mystery_shopping"]["diff"] == -50.0
    text = run.invoke(app, ["--db", path, "drivers"], catch_exceptions=False).output
    assert "Mystery shopping by factor" in text and "+50.0" in text


def test_a_visits_notes_are_analysed_by_the_text_pipeline(store):
    visit(store, "o1", "North 1", 2, "yes", "yes", "yes",
          notes="The delivery was late and the staff were rude. Anna Nowak did not help.")
    visit(store, "o2", "North 1", 3, "yes", "yes", "yes")  # no notes: no text
    row = store.execute("SELECT source, brand, store, author, text FROM feedback WHERE feedback_id = ?",
                        [feedback_id("o1")]).fetchone()
    assert row[:4] == ("mystery_shopper", "ours", "North 1", "kasia")
    assert store.count("feedback") == 1
    assert visit_factors(store, "o1")["analysed"] is False
    assert visit_factors(store, "o2") is None
    analyze_store(store, "retail", fast=True)
    got = visit_factors(store, "o1")
    sentiment = {m["factor"]: m["sentiment"] for m in got["factors"]}
    assert sentiment.get("delivery") == "negative" and sentiment.get("staff") == "negative", sentiment
    sm = summary(store)
    f = sm.factors.set_index("factor")
    assert f.loc["delivery", "net"] == -100 and f.loc["delivery", "notes"] == 1
    assert "[name]" in sm.quotes["North 1"][0]["text"] and "Anna" not in sm.quotes["North 1"][0]["text"]
    # a store made before: the notes are stored as feedback once, however often synced
    with store.transaction():
        store.execute("DELETE FROM feedback WHERE feedback_id = ?", [feedback_id("o1")])
    assert sync_notes(store) == 1 and sync_notes(store) == 0


def test_an_imported_visits_notes_are_analysed_at_once(store, tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("visit_id,store,date,greet,advice,clean,notes\n"
                 "i1,North 1,2026-03-02 12:00,yes,no,yes,The staff were rude and nobody helped.\n", encoding="utf-8")
    path = db_of(store)
    store.close()
    r = CliRunner().invoke(app, ["--db", path, "mystery", "import", str(f), "--template", "two", "--json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["texts_analysed"] == 1
    with open_store(path) as s:
        assert s.execute("SELECT source, store FROM feedback WHERE feedback_id = 'mystery:i1'").fetchone() == (
            "mystery_shopper", "North 1")
        got = visit_factors(s, "i1")
        assert got["analysed"] and {"staff": "negative"}.items() <= {m["factor"]: m["sentiment"]
                                                                    for m in got["factors"]}.items()


def test_a_mystery_note_does_not_change_the_customers_drivers(store):
    from centric.orientation.analysis import _store_staff

    reviews(store)
    analyze_store(store, "retail", fast=True)
    before = drivers(store)
    staff_before = _store_staff(store, None, None)
    visit(store, "o1", "North 1", 2, "no", "no", "no", notes="The delivery was late and the staff were rude.")
    visit(store, "c1", "Rival Centre", 4, "no", "no", "yes", brand="Rival", notes="The staff were rude.")
    analyze_store(store, "retail", fast=True)
    assert store.execute("SELECT count(*) FROM mentions WHERE text_id LIKE 'mystery:%'").fetchone()[0] >= 3
    after = drivers(store)
    cols = ["factor", "importance", "net", "n", "complaints"]
    pd.testing.assert_frame_equal(before.factors[cols], after.factors[cols])
    pd.testing.assert_frame_equal(before.competitors, after.competitors)
    assert "mystery_shopper" not in set(mentions_frame(store)["kind"])
    pd.testing.assert_frame_equal(staff_before, _store_staff(store, None, None))


def test_the_demos_notes_are_analysed_with_the_other_texts(demo_store, demo_duckdb):
    s = demo_store
    notes = s.execute("SELECT count(*), count(DISTINCT brand) FROM feedback WHERE source = 'mystery_shopper'"
                      ).fetchone()
    visits = s.execute("SELECT count(*) FROM mystery_visits WHERE notes IS NOT NULL").fetchone()[0]
    assert notes[0] == visits > 0 and notes[1] == 3  # ours and both competitors
    unanalysed = s.execute("SELECT count(*) FROM feedback f WHERE source = 'mystery_shopper' AND NOT EXISTS "
                           "(SELECT 1 FROM text_analyses a WHERE a.text_id = f.feedback_id)").fetchone()[0]
    assert unanalysed == 0
    assert len(summary(s).factors) > 0
    assert len(mystery_comparison(s)) > 0
    from pathlib import Path

    # the report the demo wrote beside its DuckDB file (the PostgreSQL store is a copy of that file)
    report = (Path(demo_duckdb.path).parent / "report.html").read_text(encoding="utf-8")
    assert "Against competitors in mystery shopping" in report and "What the shoppers" in report
