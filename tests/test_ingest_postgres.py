"""centric ingest on a PostgreSQL store: the commands that read the runs back, a failure half-way leaves PostgreSQL
as it was, and two ingests at once both land. (The same rows as on DuckDB: tests/test_ingest_engines.py.)"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from typer.testing import CliRunner

from centric import ingest
from centric.cli import app
from centric.engines import scratch as scratch_module
from centric.engines.postgres import PgStore
from centric.faults import InjectedFault
from centric.ingest import load

from .conftest import BAD
from .engines import DUCK_PG, NOW, all_rows, every_table, fixed_clock  # noqa: F401 (fixed_clock: autouse)

runner = CliRunner()


@pytest.mark.capability("ingest", engines=DUCK_PG)
def test_rejected_and_runs_commands_on_postgresql(tmp_path, pg_url):
    duck = tmp_path / "d.duckdb"
    for db in (duck, pg_url):
        r = runner.invoke(app, ["--db", str(db), "ingest", "responses", str(BAD / "out_of_range.csv"), "--no-cases"],
                          catch_exceptions=False)
        assert r.exit_code in (0, 3), r.output
        assert "rejected" in r.output and "row " in r.output  # the first rejected rows printed
    outs = [runner.invoke(app, ["--db", str(db), "rejected", "--json"], catch_exceptions=False) for db in (duck, pg_url)]
    assert outs[0].exit_code == outs[1].exit_code == 0, outs[1].output
    rejected = json.loads(outs[1].output)
    assert rejected == json.loads(outs[0].output) and rejected and all(r["reason"] for r in rejected)
    runs = [runner.invoke(app, ["--db", str(db), "runs"], catch_exceptions=False) for db in (duck, pg_url)]
    assert runs[0].exit_code == runs[1].exit_code == 0
    assert runs[0].output == runs[1].output and "│ 1 " in runs[1].output  # the run, its source and counts


@pytest.mark.parametrize("fault", ["scratch.publish_half_way", "scratch.before_commit", "follow_merges"])
def test_a_failure_while_publishing_leaves_postgresql_as_it_was(pg_url, write, monkeypatch, fault):
    with PgStore.open(pg_url) as pg:
        ingest("customers", write("a.csv", "customer_id,email\nK1,a@x.pl\n"), store=pg)
        ingest("customers", write("b.csv", "customer_id,phone\nK2,601234567\n"), store=pg)
        ingest("orders", write("o.csv", "customer_id,date,amount\nK2,2025-01-01,10\n"), store=pg)
        before = every_table(pg)
        if fault == "follow_merges":  # after the merged customer's order has moved in PostgreSQL
            real = scratch_module.Scratch._follow_merges

            def failing(self, merges):
                real(self, merges)
                assert self.pg.con.execute("SELECT customer_id FROM orders").fetchall() == [("C0000001",)]
                raise InjectedFault("after following the merges")

            monkeypatch.setattr(scratch_module.Scratch, "_follow_merges", failing)
        else:
            monkeypatch.setenv("CENTRIC_FAULT", f"{fault}:raise")
        linking = write("r.csv", "email,phone,date,nps\na@x.pl,+48 601 234 567,2025-02-01,10\n")
        with pytest.raises(InjectedFault):
            ingest("responses", linking, store=pg)
        assert every_table(pg) == before
        monkeypatch.undo()
        monkeypatch.setattr(load, "_now", lambda: NOW)
        r = ingest("responses", linking, store=pg)[0]
        assert (r.rows_stored, r.customers_merged) == (1, 1)
        assert pg.con.execute("SELECT customer_id FROM orders").fetchall() == [("C0000001",)]


def test_two_ingests_at_once_both_land(pg_url, write, monkeypatch):
    real = scratch_module.Scratch.publish

    def slow_publish(self):  # widen the window between reading and writing
        time.sleep(0.5)
        return real(self)

    monkeypatch.setattr(scratch_module.Scratch, "publish", slow_publish)
    PgStore.open(pg_url).close()  # tables created before the race
    files = [write(f"c{i}.csv", f"customer_id,name\nK{i},Name {i}\n") for i in (1, 2)]
    errors = []

    def load_one(f):
        try:
            ingest("customers", f, db=pg_url)  # each its own connection, opened from the URL
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=load_one, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PgStore.open(pg_url, read_only=True) as pg:
        assert sorted(pg.con.execute("SELECT run_id FROM ingest_runs").fetchall()) == [(1,), (2,)]
        assert sorted(pg.con.execute("SELECT customer_id FROM customers").fetchall()) == [("C0000001",), ("C0000002",)]
        assert sorted(pg.con.execute("SELECT value, run_id FROM identities").fetchall(), key=repr) in (
            [("K1", 1), ("K2", 2)], [("K1", 2), ("K2", 1)])


def test_a_write_to_a_table_not_read_is_refused(pg_url):
    from centric.errors import StoreError

    with PgStore.open(pg_url) as pg:
        with pytest.raises(StoreError, match="wrote to table orders, which was not read"):
            with scratch_module.scratch(pg, tables=["customers"]) as s:
                s.store.con.execute("INSERT INTO orders (order_id, ordered_at, amount) VALUES ('o1', now(), 1)")
        assert pg.count("orders") == 0


def test_the_difference_moves_changed_updated_repeated_and_deleted_rows(pg_url):
    """The publication by hand: a row changed in place, one deleted, one added, and one of two identical
    rows of a table without a key deleted (full-row match keys, counted as a multiset)."""
    from centric.errors import StoreError

    at = dt.datetime(2025, 1, 1, 9, 0)
    with PgStore.open(pg_url) as pg:
        with pg.transaction():
            pg.copy_rows("customers", ["customer_id", "name", "first_seen_at", "updated_at"],
                         [("C1", "Anna", at, at), ("C2", "Jan", at, at), ("C3", None, at, at)])
            pg.copy_rows("customer_merges", ["merged_customer_id", "into_customer_id", "reason", "run_id", "merged_at"],
                         [("C8", "C1", "same e-mail", 1, at)] * 2 + [("C9", "C2", "same phone", 1, at)])
            pg.copy_rows("orders", ["order_id", "customer_id", "ordered_at", "amount"], [("o1", "C9", at, 5.0)])
        with scratch_module.scratch(pg, tables=["customers", "customer_merges"]) as s:
            con = s.store.con
            con.execute("UPDATE customers SET name = 'Anna Nowak' WHERE customer_id = 'C1'")
            con.execute("DELETE FROM customers WHERE customer_id = 'C3'")
            con.execute("INSERT INTO customers (customer_id, first_seen_at, updated_at) VALUES ('C4', ?, ?)", [at, at])
            con.execute("DELETE FROM customer_merges WHERE rowid = (SELECT min(rowid) FROM customer_merges "
                        "WHERE merged_customer_id = 'C8')")
        # (no customer_key: "C1" is not an id as identity resolution writes it, and nothing filled one)
        assert all_rows(pg, "customers") == [("C1", "Anna Nowak", None, None, None, None, at, at, None),
                                              ("C2", "Jan", None, None, None, None, at, at, None),
                                              ("C4", None, None, None, None, None, at, at, None)]
        assert all_rows(pg, "customer_merges") == [("C8", "C1", "same e-mail", 1, at), ("C9", "C2", "same phone", 1, at)]
        assert all_rows(pg, "orders")[0][1] == "C9"  # no new merge: the order not touched
        # a merge while a table with customers was read only in part is refused, with nothing written
        with pytest.raises(StoreError, match="merged customers while table customer_scores was read only in part"):
            with scratch_module.scratch(pg, tables=["customers", "customer_merges", "customer_scores"],
                                        filters={"customer_scores": "false"}) as s:
                s.store.con.execute("INSERT INTO customer_merges VALUES ('C2', 'C1', 'x', 2, ?)", [at])
                s.store.con.execute("DELETE FROM customers WHERE customer_id = 'C2'")
        assert [r[0] for r in all_rows(pg, "customers")] == ["C1", "C2", "C4"]
        # the same merge with the tables whole: the order of C2's merged id moves in PostgreSQL
        with scratch_module.scratch(pg, tables=["customers", "customer_merges"]) as s:
            s.store.con.execute("INSERT INTO customer_merges VALUES ('C9', 'C1', 'x', 2, ?)", [at])
        assert all_rows(pg, "orders")[0][1] == "C1"
