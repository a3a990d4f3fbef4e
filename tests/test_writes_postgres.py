"""centric analyze and centric customers score on a PostgreSQL store: the same results as on DuckDB, written
through the scratch store (centric.engines.scratch) in one transaction."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from centric import ingest
from centric.cli import app
from centric.customers import scoring
from centric.engines.postgres import PgStore
from centric.store import Store
from centric.text.batch import analyze_store

from .engines import DUCK_PG, all_rows

runner = CliRunner()

RESPONSES = """email,date,nps,comment
a@x.pl,2025-01-01,2,The delivery was a week late and nobody answered the phone.
b@x.pl,2025-01-02,10,
c@x.pl,2025-01-03,9,Kurier był punktualny.
d@x.pl,2025-01-04,7,n/a
e@x.pl,2025-01-05,3,Staff were rude and the refund took a month.
"""
FEEDBACK = ('{"id": "F1", "text": "Refund me or I will post it everywhere.", "date": "2025-01-04"}\n'
            '{"id": "F2", "text": "Great prices, quick checkout.", "date": "2025-01-05"}\n')


def analyses(store) -> list[tuple]:
    """text_analyses without the time of the analysis (each engine analysed at its own moment)."""
    return sorted((r[:-1] for r in all_rows(store, "text_analyses")), key=repr)


@pytest.mark.capability("analyze", engines=DUCK_PG)
def test_analyze_gives_the_same_analyses_on_both_engines(tmp_path, pg_url, write):
    duck, pg = Store.open(tmp_path / "d.duckdb"), PgStore.open(pg_url)
    try:
        for store in (duck, pg):
            ingest("responses", write("r.csv", RESPONSES), store=store)
            ingest("feedback", write("f.jsonl", FEEDBACK), store=store, values={"source": "review"})
        a, b = analyze_store(duck, "retail", fast=True), analyze_store(pg, "retail", fast=True)
        assert a == b and (b.texts, b.skipped) == (6, 0) and b.mentions > 2 and b.placeholders == 1
        assert analyses(duck) == analyses(pg) and len(analyses(pg)) == 6
        assert all_rows(duck, "mentions") == all_rows(pg, "mentions")
        delivery = [r for r in all_rows(pg, "mentions") if r[3] == "delivery"]
        assert delivery and {r[0] for r in delivery} == {"responses"}
        flags = pg.con.execute("SELECT flags FROM text_analyses WHERE text_id = 'F1'").fetchone()[0]
        assert json.loads(flags)[0]["flag"] == "extortion"
        # a second run analyses nothing and changes nothing
        before = all_rows(pg, "text_analyses")
        again = analyze_store(pg, "retail", fast=True)
        assert (again.texts, again.skipped) == (0, 6) and all_rows(pg, "text_analyses") == before
        # new texts: only they are analysed, the earlier analyses stay as they were
        for store in (duck, pg):
            ingest("feedback", write("g.jsonl", '{"id": "F3", "text": "The parcel arrived broken.", '
                                                '"date": "2025-01-06"}\n'), store=store, values={"source": "review"})
        a, b = analyze_store(duck, "retail", fast=True), analyze_store(pg, "retail", fast=True)
        assert a == b and (b.texts, b.skipped) == (1, 6)
        assert analyses(duck) == analyses(pg)
        assert set(all_rows(pg, "text_analyses")) >= set(before)
    finally:
        duck.close()
        pg.close()


def test_analyze_command_on_postgresql(pg_url, write):
    with PgStore.open(pg_url) as pg:
        ingest("responses", write("r.csv", RESPONSES), store=pg)
    r = runner.invoke(app, ["--db", pg_url, "analyze", "--fast"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "4 texts analysed" in r.output and "cases: 2 opened" in r.output  # the loop runs after it
    with PgStore.open(pg_url, read_only=True) as pg:
        assert pg.count("text_analyses") == 4 and pg.count("mentions") > 0 and pg.count("cases") == 2


@pytest.mark.capability("customers score", engines=DUCK_PG)
def test_customers_score_gives_the_same_scores_on_both_engines(web_db, pg_url):
    r = runner.invoke(app, ["--db", web_db, "store", "copy", "--to", pg_url], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    with Store.open(web_db) as duck, PgStore.open(pg_url) as pg:
        n_before = pg.count("customer_scores")
        a, b = scoring.score(duck, horizon_days=365), scoring.score(pg, horizon_days=365)
        assert (a.customers, a.as_of, a.model) == (b.customers, b.as_of, b.model) and b.customers > 100
        da, dbb = a.scores.drop(columns=["scored_at"]), b.scores.drop(columns=["scored_at"])
        assert da.equals(dbb)
        assert pg.count("customer_scores") == n_before + b.customers
        got = pg.con.execute("SELECT count(*), count(DISTINCT customer_id) FROM customer_scores WHERE scored_at = %s",
                             [b.scored_at]).fetchone()
        assert got == (b.customers, b.customers)
        # a second scoring follows the first in time and leaves it as it was
        first = sorted(pg.con.execute("SELECT customer_id, p_alive, clv FROM customer_scores WHERE scored_at = %s",
                                      [b.scored_at]).fetchall())
        c = scoring.score(pg, horizon_days=180)
        assert c.scored_at > b.scored_at and pg.count("customer_scores") == n_before + 2 * b.customers
        assert sorted(pg.con.execute("SELECT customer_id, p_alive, clv FROM customer_scores WHERE scored_at = %s",
                                     [b.scored_at]).fetchall()) == first
    r = runner.invoke(app, ["--db", pg_url, "customers", "score", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["customers"] == b.customers


@pytest.mark.parametrize("command", [["customers", "forget"], ["surveys", "list"]])
def test_the_rest_of_a_group_stays_refused(pg_url, command):
    r = runner.invoke(app, ["--db", pg_url, *command], catch_exceptions=False)
    assert r.exit_code == 2 and f"centric {' '.join(command)} is not available on PostgreSQL yet" in r.output
