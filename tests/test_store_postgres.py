"""The store on PostgreSQL: tables created from the schema, a DuckDB store copied all or nothing, the survey
metrics equal on both engines, and the commands not ported yet refused by name."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from typer.testing import CliRunner

from centric import schema
from centric.cli import app
from centric.engines import copy as copy_module
from centric.engines.postgres import PgStore
from centric.errors import StoreError
from centric.metrics.named import payload
from centric.store import Store

from .engines import DUCK_PG

runner = CliRunner()

# written out here (not imported) so that a wrong mapping in the engine cannot agree with itself
EXPECTED_TYPES = {"text": "text", "enum": "text", "json": "text", "integer": "integer", "bigint": "bigint",
                  "number": "double precision", "timestamp": "timestamp without time zone", "date": "date",
                  "boolean": "boolean"}


def run(*args, db=None):
    return runner.invoke(app, [*(["--db", str(db)] if db else []), *args], catch_exceptions=False)


def pg_columns(con, table):
    return con.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                       "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                       [table]).fetchall()


@pytest.mark.capability("tables", engines=("postgresql",))
def test_migrate_creates_every_table_with_its_columns(pg_url):
    with PgStore.open(pg_url) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        for t in schema.TABLES.values():
            expected = [(c.name, EXPECTED_TYPES[c.type],
                         "NO" if c.required and not (c.name == "customer_id" and t.customer_ref != "required")
                         else "YES") for c in t.columns]
            assert pg_columns(store.con, t.name) == expected, t.name
        assert store.counts() == dict.fromkeys(schema.TABLES, 0)
        key = store.kept_secret("cookie_key")
    # opening again changes nothing and keeps the metadata
    with PgStore.open(pg_url) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        assert store.kept_secret("cookie_key") == key
        n_tables = store.con.execute("SELECT count(*) FROM information_schema.tables "
                                     "WHERE table_schema = 'public'").fetchone()[0]
        assert n_tables == len(schema.TABLES) + 1  # and centric_meta


def test_the_planner_knows_how_many_periods_the_answers_span(pg_url):
    """PostgreSQL keeps statistics on each period key exactly as the metrics query computes it, so that it
    expects as many groups as there are periods, not as many as answers (and sums them in parallel)."""
    import ibis

    from centric.metrics.survey import aggregate_query

    # 2,000 answers, a different second each, 4 hours apart: 2024-01-01 to 2024-11-29 (334 days)
    start = dt.datetime(2024, 1, 1)
    rows = [(f"r{i}", start + dt.timedelta(hours=4 * i, seconds=i), ("web", "app")[i % 2], i % 11) for i in range(2000)]
    assert rows[-1][1].date() == dt.date(2024, 11, 29)
    with PgStore.open(pg_url) as store:
        with store.transaction():
            store.copy_rows("responses", ["response_id", "responded_at", "channel", "nps"], rows)
        store.con.execute("ANALYZE responses")

        def expected_groups(by):
            sql = ibis.to_sql(aggregate_query(store, ["nps", "csat", "ces"], by), dialect="postgres")
            return store.con.execute("EXPLAIN (FORMAT JSON) " + sql).fetchone()[0][0]["Plan"]["Plan Rows"]

        assert {p: expected_groups([p]) for p in ("day", "month", "quarter", "year")} == {
            "day": 334, "month": 11, "quarter": 4, "year": 1}
        assert expected_groups(["month", "channel"]) == 22
        names = "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'responses'::regclass ORDER BY 1"
        made = store.con.execute(names).fetchall()
    with PgStore.open(pg_url) as store:  # opening again adds none
        assert store.con.execute(names).fetchall() == made and len(made) == 5


def test_transaction_is_all_or_nothing_and_copy_rows_loads(pg_url):
    with PgStore.open(pg_url) as store:
        at = dt.datetime(2025, 3, 1, 10, 30)
        with pytest.raises(RuntimeError), store.transaction():
            store.copy_rows("orders", ["order_id", "ordered_at", "amount"], [("o1", at, 10.5)])
            raise RuntimeError("stop")
        assert store.count("orders") == 0
        with store.transaction():
            n = store.copy_rows("orders", ["order_id", "ordered_at", "amount"], [("o1", at, 10.5), ("o2", at, 0.1)])
        assert n == 2
        assert store.con.execute("SELECT order_id, ordered_at, amount FROM orders ORDER BY 1").fetchall() == [
            ("o1", at, 10.5), ("o2", at, 0.1)]


def table_fingerprint(rows) -> tuple[int, str]:
    """Row count and a checksum independent of row order and of the engine (rows as Python values)."""
    lines = sorted(repr(tuple(r)) for r in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture
def copied(web_db, pg_url):
    """The small demo store (built by centric's own ingest) copied into PostgreSQL with the command."""
    r = run("store", "copy", "--to", pg_url, "--json", db=web_db)
    assert r.exit_code == 0, r.output
    return web_db, pg_url, json.loads(r.output)


@pytest.mark.capability("store copy", engines=DUCK_PG)
def test_copy_keeps_every_table_row_for_row(copied):
    web_db, pg_url, out = copied
    assert out["target"] == pg_url  # no password in this URL to hide
    with Store.open(web_db, read_only=True) as duck, PgStore.open(pg_url, read_only=True) as pg:
        assert duck.count("responses") > 100 and duck.count("cases") > 10  # a store worth copying
        assert out["rows"] == duck.counts()
        for t in schema.TABLES.values():
            cols = ", ".join(f'"{c}"' for c in t.column_names)
            a = table_fingerprint(duck.con.execute(f'SELECT {cols} FROM "{t.name}"').fetchall())
            b = table_fingerprint(pg.con.execute(f'SELECT {cols} FROM "{t.name}"').fetchall())
            assert a == b, t.name
        meta = "SELECT key, value FROM centric_meta ORDER BY key"
        assert duck.con.execute(meta).fetchall() == pg.con.execute(meta).fetchall()
        # the planner has its statistics at once (the copy analysed every table it loaded)
        analysed = dict(pg.con.execute("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables").fetchall())
        assert all(analysed[t] for t in schema.TABLES), [t for t in schema.TABLES if not analysed.get(t)]
        periods = "SELECT count(*) FROM pg_statistic_ext WHERE stxrelid = 'responses'::regclass"
        assert pg.con.execute(periods).fetchone()[0] == 5  # and its statistics on the answers' periods
    # a second copy into the same database is refused, and changes nothing
    r = run("store", "copy", "--to", pg_url, db=web_db)
    assert r.exit_code == 2 and "already holds data" in r.output
    with PgStore.open(pg_url, read_only=True) as pg:
        assert pg.counts() == out["rows"]


@pytest.mark.capability("metrics", engines=DUCK_PG)
@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_survey_metrics_are_equal_on_both_engines(copied, metric):
    web_db, pg_url, _ = copied
    with Store.open(web_db, read_only=True) as duck, PgStore.open(pg_url, read_only=True) as pg:
        for by in (["month", "segment"], ["week"], []):
            a, b = payload(duck, metric, by), payload(pg, metric, by)
            assert a == b, (metric, by)
    groups = a["groups"] if "groups" in a else [a]
    assert any(g.get("interval", [None])[0] is not None for g in groups)  # intervals, not only counts
    # and through the command, by month x segment with intervals and changes
    ra = run("metrics", metric, "--by", "month,segment", "--json", db=web_db)
    rb = run("metrics", metric, "--by", "month,segment", "--json", db=pg_url)
    assert ra.exit_code == rb.exit_code == 0, rb.output
    da, db_ = json.loads(ra.output), json.loads(rb.output)
    assert da == db_
    assert len(da["groups"]) > 5 and all(g["n"] > 0 for g in da["groups"]) and da["changes"]


def test_a_failed_copy_leaves_postgresql_as_it_was(web_db, pg_url, monkeypatch):
    real_rows = copy_module._rows
    copied = []

    def failing_rows(con, table, columns):
        copied.append(table)
        if table == "cases":  # mid-way: tables before it are loaded, then a bad value mid-table
            for i, row in enumerate(real_rows(con, table, columns)):
                if i == 3:
                    row = ("not a time" if c == "opened_at" else v for c, v in zip(columns, row, strict=True))
                yield tuple(row)
        else:
            yield from real_rows(con, table, columns)

    monkeypatch.setattr(copy_module, "_rows", failing_rows)
    r = run("store", "copy", "--to", pg_url, db=web_db)
    assert r.exit_code == 2
    assert "cannot copy table cases" in r.output and "PostgreSQL is as it was" in r.output
    assert copied.index("cases") > 5  # other tables were loaded before the failure
    import psycopg

    with psycopg.connect(pg_url) as con:
        left = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                           ).fetchall()
    assert left == []  # not even the tables: the creation was part of the transaction


def test_commands_not_ported_are_refused_by_name(pg_url):
    r = run("demo", db=pg_url)
    assert r.exit_code == 2
    assert "centric demo is not available on PostgreSQL yet; use a DuckDB store" in r.output
    r = run("compact", db=pg_url)
    assert r.exit_code == 2 and "centric compact is not available on PostgreSQL yet" in r.output
    with pytest.raises(StoreError, match="not available on PostgreSQL yet"):
        Store.open(pg_url)
    # what is ported works
    r = run("store", "migrate", "--json", db=pg_url)
    assert r.exit_code == 0 and json.loads(r.output)["schema_version"] == schema.SCHEMA_VERSION, r.output
    r = run("status", db=pg_url)
    assert r.exit_code == 0 and f"schema version {schema.SCHEMA_VERSION}" in r.output
    r = run("store", "migrate", db=pg_url)
    assert r.exit_code == 0 and f"schema version {schema.SCHEMA_VERSION} (this centric's)" in r.output


def test_a_password_never_shows_in_messages(pg_server):
    url = f"postgresql://{pg_server.user}:s3cret-pw@{pg_server.host}:{pg_server.port}/no_such_db"
    r = run("status", db=url)
    assert r.exit_code == 2 and "s3cret-pw" not in r.output and "no_such_db" in r.output


def test_arrow_results_are_read_by_a_query_postgresql_may_run_in_parallel(pg_url):
    """PostgreSQL never gives a cursor's query (DECLARE CURSOR, as Ibis reads Arrow results) parallel workers; the
    store reads them as a stream instead. With parallel plans forced, a function the workers evaluate reports
    their process ids: other processes than the session's own, and every row of a result larger than a chunk."""
    import pyarrow as pa

    from centric.engines import postgres

    with PgStore.open(pg_url) as store:
        store.con.execute("CREATE FUNCTION _pid() RETURNS integer LANGUAGE plpgsql PARALLEL SAFE "
                          "AS $$ BEGIN RETURN pg_backend_pid(); END $$")
        version = int(store.con.execute("SHOW server_version_num").fetchone()[0])
        store.con.execute(f"SET {'force_parallel_mode' if version < 160000 else 'debug_parallel_query'} = on")
        own = store.con.execute("SELECT pg_backend_pid()").fetchone()[0]
        n = postgres.STREAM_CHUNK * 2 + 7
        store.con.execute(f"CREATE VIEW _pids AS SELECT i, _pid() AS pid, CASE WHEN mod(i, 2) = 0 THEN NULL ELSE "
                          f"i END AS odd FROM generate_series(1, {n}) AS s(i)")
        t = store.ibis.table("_pids").to_pyarrow()
        assert isinstance(t, pa.Table) and t.num_rows == n
        assert sorted(t["i"].to_pylist()) == list(range(1, n + 1)) and t["odd"].null_count == n // 2
        assert own not in set(t["pid"].to_pylist())  # computed by a parallel worker, not the session's process
        assert store.rows(store.table("customers").count().as_table()) == [(0,)]  # the connection is usable after
