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


@pytest.mark.parametrize("command", [["demo"]])
def test_the_rest_of_a_group_stays_refused(pg_url, command):
    r = runner.invoke(app, ["--db", pg_url, *command], catch_exceptions=False)
    assert r.exit_code == 2 and f"centric {' '.join(command)} is not available on PostgreSQL yet" in r.output


def _erasable(duck: str) -> tuple[str, str, str]:
    """Two customers of the demo store with much to erase, and more traces of them added: (a council member with a
    merged id, cases and answers; an ideas' author, named by their phone written otherwise; that phone)."""
    import duckdb

    with duckdb.connect(duck) as con:
        member = con.execute(
            "SELECT m.customer_id FROM council_members m JOIN customer_merges g ON g.into_customer_id = m.customer_id "
            "JOIN cases c ON c.customer_id = m.customer_id ORDER BY 1 LIMIT 1").fetchone()[0]
        author, phone = con.execute(
            "SELECT i.customer_id, p.value FROM ideas i JOIN identities p ON p.customer_id = i.customer_id "
            "AND p.kind = 'phone' WHERE i.customer_id <> ? ORDER BY 1 LIMIT 1", [member]).fetchone()
        email = con.execute("SELECT value FROM identities WHERE customer_id = ? AND kind = 'email'",
                            [member]).fetchone()[0]
        idea = con.execute("SELECT min(idea_id) FROM ideas WHERE customer_id = ?", [author]).fetchone()[0]
        # a rejected row naming the member by e-mail (in other case), one naming the author's phone with spaces,
        # one naming nobody; the author's vote, comment and reward
        con.execute("INSERT INTO rejected_rows VALUES (7, 'responses', 'x.csv', 90, 'email', ?, 'bad date', ?), "
                    "(7, 'responses', 'x.csv', 91, 'phone', ?, 'bad date', NULL), "
                    "(7, 'responses', 'x.csv', 92, 'nps', '11', 'out of range', NULL)",
                    [email.upper(), json.dumps({"email": email.upper(), "nps": "11"}),
                     " ".join([phone[:3], phone[3:6], phone[6:]])])
        con.execute("INSERT INTO idea_votes VALUES (?, ?, 'customer', TIMESTAMP '2026-01-02 10:00:00')",
                    [idea, f"customer:{author}"])
        con.execute("INSERT INTO idea_comments VALUES ('K-T1', ?, 'Me', 'customer', ?, 'Thanks, and one more idea "
                    "from me', TIMESTAMP '2026-01-03 10:00:00')", [idea, author])
        con.execute("INSERT INTO idea_rewards VALUES ('R-T1', ?, 'voucher', 50, 'PLN', 'them', 'staff', "
                    "TIMESTAMP '2026-01-04 10:00:00')", [idea])
    return member, author, "+" + phone.lstrip("+")[:2] + " " + phone.lstrip("+")[2:]


def _erased_view(tables: dict[str, list[tuple]], since) -> dict[str, list[tuple]]:
    """Every table with what an erasure stamps by the clock (times from ``since`` on) and by chance (the tokens
    that replace a voter) made comparable."""
    import datetime as dt

    def one(v):
        if isinstance(v, dt.datetime) and v >= since:
            return "now"
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime) and v >= since.date():
            return "today"
        if isinstance(v, str) and v.startswith("erased:"):
            return "erased:"
        return v

    return {t: sorted((tuple(one(v) for v in r) for r in rows), key=repr) for t, rows in tables.items()}


@pytest.mark.capability("customers forget", engines=DUCK_PG)
def test_forget_erases_the_same_on_both_engines(web_db, pg_url):
    import datetime as dt

    from centric import schema

    from .test_ingest_postgres import every_table

    member, author, phone = _erasable(web_db)
    r = runner.invoke(app, ["--db", web_db, "store", "copy", "--to", pg_url], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    for who in (member, phone):
        outs = []
        for db in (web_db, pg_url):
            r = runner.invoke(app, ["--db", db, "customers", "forget", who, "--yes"], catch_exceptions=False)
            assert r.exit_code == 0, r.output
            outs.append(r.output.splitlines()[0])
        assert outs[0] == outs[1]
    with Store.open(web_db, read_only=True) as d, PgStore.open(pg_url, read_only=True) as p:
        a, b = _erased_view(every_table(d), since), _erased_view(every_table(p), since)
        assert sorted(a) == sorted(schema.TABLES)
        for t in a:
            assert a[t] == b[t], t
        # what was erased, in PostgreSQL
        for cid in (member, author):
            assert not p.con.execute("SELECT count(*) FROM identities WHERE customer_id = %s", [cid]).fetchone()[0]
            assert not p.con.execute("SELECT count(*) FROM orders WHERE customer_id = %s", [cid]).fetchone()[0]
        assert [r[0] for r in p.con.execute("SELECT customer_id FROM erasures ORDER BY 1").fetchall()] == sorted(
            [member, author])
        assert [r[3] for r in p.con.execute("SELECT * FROM rejected_rows WHERE run_id = 7 AND row_number >= 90"
                                            ).fetchall()] == [92]
        assert p.con.execute("SELECT text, customer_id FROM idea_comments WHERE comment_id = 'K-T1'").fetchone() == (
            "[erased]", None)
        assert p.con.execute("SELECT recipient FROM idea_rewards WHERE reward_id = 'R-T1'").fetchone() == ("[erased]",)
        assert not p.con.execute("SELECT count(*) FROM idea_votes WHERE voter = %s", [f"customer:{author}"]
                                 ).fetchone()[0]
        assert not p.con.execute("SELECT count(*) FROM council_members WHERE customer_id = %s", [member]).fetchone()[0]
    # the orders stay, unlinked: the totals do not change
    assert len(a["orders"]) == len(b["orders"]) > 1000
    r = runner.invoke(app, ["--db", pg_url, "customers", "timeline", member], catch_exceptions=False)
    assert r.exit_code == 2 and f"customer {member} was erased on" in r.output


@pytest.mark.parametrize("fault", ["scratch.publish_half_way", "scratch.before_commit"])
def test_a_failed_forget_leaves_postgresql_as_it_was(web_db, pg_url, monkeypatch, fault):
    from centric.faults import InjectedFault

    from .test_ingest_postgres import every_table

    member, _, _ = _erasable(web_db)
    r = runner.invoke(app, ["--db", web_db, "store", "copy", "--to", pg_url], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    with PgStore.open(pg_url, read_only=True) as p:
        before = every_table(p)
    monkeypatch.setenv("CENTRIC_FAULT", f"{fault}:raise")
    with pytest.raises(InjectedFault):
        runner.invoke(app, ["--db", pg_url, "customers", "forget", member, "--yes"], catch_exceptions=False)
    with PgStore.open(pg_url, read_only=True) as p:
        assert every_table(p) == before
    monkeypatch.delenv("CENTRIC_FAULT")
    r = runner.invoke(app, ["--db", pg_url, "customers", "forget", member, "--yes"], catch_exceptions=False)
    assert r.exit_code == 0 and f"customer {member} erased" in r.output


def test_forget_with_compact_is_refused_on_postgresql_before_erasing(web_db, pg_url):
    r = runner.invoke(app, ["--db", web_db, "store", "copy", "--to", pg_url], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", pg_url, "customers", "forget", "C0000006", "--yes", "--compact"],
                      catch_exceptions=False)
    assert r.exit_code == 2 and "--compact rewrites a DuckDB file" in r.output
    with PgStore.open(pg_url, read_only=True) as p:
        assert p.count("erasures") == 0
