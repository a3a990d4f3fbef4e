"""centric ingest into a lake of Parquet folders (the Spark store's; the same rows as on DuckDB:
tests/test_ingest_engines.py): a write that fails before its journal is complete leaves the old lake,
one that fails after leaves a journal that the next opener finishes — never a mix; one writer at a time. The lake
is read back with DuckDB; one test runs the command line on Spark."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from centric import ingest, schema
from centric.cli import app
from centric.engines import lake as lake_module
from centric.engines.lake import JOURNAL, WRITE_LOCK, Lake, opened_for_reading
from centric.errors import StoreError
from centric.faults import InjectedFault
from centric.store import Store

from .conftest import BAD
from .engines import DUCKDB, SPARK, every_table, fixed_clock, lake_rows  # noqa: F401 (fixed_clock: autouse)
from .spark import url

runner = CliRunner()


@pytest.fixture
def stores(tmp_path):
    duck = Store.open(tmp_path / "d.duckdb")
    yield duck, Lake(url(tmp_path / "lake"))
    duck.close()


def _three_loads(store, write):
    ingest("customers", write("a.csv", "customer_id,email\nK1,a@x.pl\n"), store=store)
    ingest("customers", write("b.csv", "customer_id,phone\nK2,601234567\n"), store=store)
    ingest("orders", write("o.csv", "customer_id,date,amount\nK2,2025-01-01,10\nK3,bad,1\n"), store=store)


LINKING = "email,phone,date,nps\na@x.pl,+48 601 234 567,2025-02-01,10\n"


@pytest.mark.parametrize("crash", ["before the journal", "after some renames"])
def test_a_write_that_fails_half_way_leaves_the_old_lake_or_the_new_one(stores, write, monkeypatch, crash):
    duck, lake = stores
    for store in (duck, lake):
        _three_loads(store, write)
    before = every_table(lake.folder)
    assert before == every_table(duck)
    linking = write("r.csv", LINKING)
    ingest("responses", linking, store=duck)  # what the lake holds if the write is rolled forward
    after = every_table(duck)
    # the linking answer changes customers, identities, merges, runs, responses, and orders (a merge)
    changed = [t for t in schema.TABLES if before[t] != after[t]]
    assert {"responses", "customers", "customer_merges", "orders", "ingest_runs"} <= set(changed)

    if crash == "before the journal":
        monkeypatch.setenv("CENTRIC_FAULT", "lake.before_journal:raise")
    else:
        real, done = lake_module._rename, []

        def crashing(a, b):  # the process dies after two tables' new files were renamed into place
            if len(done) == 2:
                raise InjectedFault("crash half-way through the renames")
            real(a, b)
            done.append(b)

        monkeypatch.setattr(lake_module, "_rename", crashing)
    with pytest.raises(InjectedFault):
        ingest("responses", linking, store=lake)
    monkeypatch.undo()
    if crash == "before the journal":
        assert every_table(lake.folder) == before  # rolled back at once: the temporary files are gone
        assert not list(lake.folder.rglob("*.tmp")) and not (lake.folder / JOURNAL).exists()
    else:
        assert (lake.folder / JOURNAL).exists()
        half = every_table(lake.folder)
        assert half not in (before, after)  # the files as the crash left them: a mix, until the lake is opened
        with opened_for_reading(str(lake.folder)):  # what a Spark store does first: the commit is finished
            assert every_table(lake.folder) == after
        assert not (lake.folder / JOURNAL).exists() and not list(lake.folder.rglob("*.tmp"))


def test_an_unfinished_write_is_rolled_back_by_the_next_writer(stores, write):
    _, lake = stores
    _three_loads(lake, write)
    before = every_table(lake.folder)
    # a writer killed while writing its new files: temporary files, and a journal never completed
    stray = lake.folder / "orders" / ".part-0123456789abcdef.parquet.tmp"
    stray.write_bytes(b"half a file")
    (lake.folder / (JOURNAL + ".tmp")).write_text('{"renames": [["orders/.part-0', encoding="utf-8")
    r = ingest("orders", write("o2.csv", "customer_id,date,amount\nK1,2025-03-01,7\n"), store=lake)[0]
    assert r.rows_stored == 1 and not stray.exists() and not (lake.folder / (JOURNAL + ".tmp")).exists()
    assert len(every_table(lake.folder)["orders"]) == len(before["orders"]) + 1


def test_one_writer_at_a_time_and_only_a_local_lake(stores, write, tmp_path):
    _, lake = stores
    _three_loads(lake, write)
    before = every_table(lake.folder)
    with lake_module._flock(lake.folder / WRITE_LOCK, wait=False):  # another process writing
        with pytest.raises(StoreError, match=f"being written by another process .*{WRITE_LOCK}"):
            ingest("orders", write("o2.csv", "customer_id,date,amount\nK1,2025-03-01,7\n"), store=lake)
    assert every_table(lake.folder) == before
    with pytest.raises(StoreError, match="this machine's file system"):
        Lake("spark:local[2]?warehouse=s3a://bucket/lake")


@pytest.mark.capability("ingest", engines=(DUCKDB, SPARK))
def test_ingest_on_spark_from_the_command_line(spark_session, tmp_path, write):
    """The command line on a lake that does not exist yet: ingest (rejected rows printed), rejected and runs, then
    the NPS on Spark equals the NPS of the DuckDB store the same files went into."""
    duck, spark = tmp_path / "d.duckdb", url(tmp_path / "lake")
    answers = write("answers.csv", "response_id,email,date,nps,channel\n" + "".join(
        f"A{i},p{i % 7}@x.pl,2025-0{1 + i % 3}-1{i % 9},{(i * 7) % 11},{('web', 'phone')[i % 2]}\n"
        for i in range(40)))
    for db in (duck, spark):
        for f in (answers, BAD / "out_of_range.csv"):
            r = runner.invoke(app, ["--db", str(db), "ingest", "responses", str(f)], catch_exceptions=False)
            assert r.exit_code in (0, 3), r.output
        assert "rejected" in r.output and "row " in r.output  # the first rejected rows, read back from the store
    assert every_table(Store.open(duck, read_only=True))["responses"] == lake_rows(tmp_path / "lake", "responses")
    outs = [runner.invoke(app, ["--db", str(db), "rejected", "--json"], catch_exceptions=False) for db in (duck, spark)]
    assert outs[0].exit_code == outs[1].exit_code == 0, outs[1].output
    rejected = json.loads(outs[1].output)
    assert rejected == json.loads(outs[0].output) and rejected and all(r["reason"] for r in rejected)
    runs = [runner.invoke(app, ["--db", str(db), "runs"], catch_exceptions=False) for db in (duck, spark)]
    assert runs[0].exit_code == runs[1].exit_code == 0
    assert runs[0].output == runs[1].output and "│ 2 " in runs[1].output  # both runs, their sources and counts
    nps = [runner.invoke(app, ["--db", str(db), "metrics", "nps", "--by", "channel", "--json"],
                         catch_exceptions=False) for db in (duck, spark)]
    assert nps[0].exit_code == nps[1].exit_code == 0, nps[1].output
    a, b = json.loads(nps[0].output), json.loads(nps[1].output)
    assert a == b and sum(g["n"] for g in a["groups"]) >= 40


# -- a lake of an older schema version ---------------------------------------------------------------------------
def _as_version_10(folder) -> dict[str, list]:
    """Rewrite a lake as centric 10 wrote it (no customer keys, version 10 in centric_meta); returns the files of
    the tables that version 11 did not change."""
    import duckdb

    from centric.engines.lake import table_files

    for table in ("customers", "responses"):
        files = table_files(folder, table)
        target = folder / table / "part-v10.parquet"
        duckdb.execute(f"COPY (SELECT * EXCLUDE (customer_key) FROM read_parquet(?)) TO '{target}' (FORMAT parquet)",
                       [[str(f) for f in files]])
        for f in files:
            f.unlink()
    for f in table_files(folder, "centric_meta"):
        f.unlink()
    duckdb.execute(f"COPY (SELECT 'schema_version' AS key, '10' AS value) TO "
                   f"'{folder / 'centric_meta' / 'data.parquet'}' (FORMAT parquet)")
    return {t: table_files(folder, t) for t in ("orders", "identities", "ingest_runs")}


def _keys(folder) -> list[tuple]:
    return [(r[0], r[1], r[-1]) for r in lake_rows(folder, "responses")]


def test_a_lake_of_version_10_is_migrated_by_the_command_all_or_nothing(stores, write, monkeypatch):
    from centric import customer_keys
    from centric.engines.lake import lake_version, table_files

    _, lake = stores
    _three_loads(lake, write)
    ingest("responses", write("r.csv", LINKING + "b@x.pl,,2025-02-02,3\n,,2025-02-03,9\n"), store=lake)
    before = every_table(lake.folder)
    keys = _keys(lake.folder)
    assert len(keys) == 3 and all(k == customer_keys.key_of(c) for _, c, k in keys)
    untouched = _as_version_10(lake.folder)
    lake_files = sorted(str(p) for p in lake.folder.rglob("*") if p.is_file())
    cli = ["--db", lake.url, "store", "migrate", "--json"]

    monkeypatch.setenv("CENTRIC_FAULT", "lake.migrate_half_way:raise")
    r = runner.invoke(app, cli)
    assert r.exit_code != 0 and isinstance(r.exception, InjectedFault)
    assert sorted(str(p) for p in lake.folder.rglob("*") if p.is_file()) == lake_files  # as it was
    assert lake_version(lake.folder) == 10
    monkeypatch.delenv("CENTRIC_FAULT")

    r = runner.invoke(app, cli, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["schema_version_before"] == 10 and json.loads(r.output)["schema_version"] == 11
    assert lake_version(lake.folder) == schema.SCHEMA_VERSION == 11
    assert every_table(lake.folder) == before  # the keys filled from the ids, every other value as it was
    assert {t: table_files(lake.folder, t) for t in untouched} == untouched  # tables without new columns: not rewritten
    r = runner.invoke(app, cli, catch_exceptions=False)
    assert r.exit_code == 0 and json.loads(r.output)["schema_version_before"] == 11


def test_a_write_into_a_lake_of_version_10_migrates_it_first(stores, write):
    from centric.engines.lake import lake_version

    duck, lake = stores
    for store in (duck, lake):
        _three_loads(store, write)
        ingest("responses", write("r.csv", LINKING), store=store)
    _as_version_10(lake.folder)
    for store in (duck, lake):
        ingest("responses", write("r2.csv", "email,date,nps\nb@x.pl,2025-03-01,6\n"), store=store)
    assert lake_version(lake.folder) == 11
    assert every_table(lake.folder) == every_table(duck)  # the old answers' keys filled, the new one's written


def test_a_lake_of_a_newer_version_is_not_migrated(stores, write):
    import duckdb

    from centric.engines.lake import migrate_lake, table_files

    _, lake = stores
    _three_loads(lake, write)
    for f in table_files(lake.folder, "centric_meta"):
        f.unlink()
    duckdb.execute(f"COPY (SELECT 'schema_version' AS key, '99' AS value) TO "
                   f"'{lake.folder / 'centric_meta' / 'data.parquet'}' (FORMAT parquet)")
    with pytest.raises(StoreError, match="schema version 99, newer than this centric"):
        migrate_lake(lake.url)
    with pytest.raises(StoreError, match="schema version 99, newer than this centric"):
        ingest("orders", write("o2.csv", "customer_id,date,amount\nK1,2025-03-01,7\n"), store=lake)


@pytest.mark.capability("compact", engines=(SPARK,))
def test_compact_makes_each_table_one_file_with_the_same_rows_all_or_nothing(stores, write, monkeypatch):
    from centric.engines.lake import table_files

    _, lake = stores
    _three_loads(lake, write)
    for i in range(3):
        ingest("responses", write(f"r{i}.csv", f"email,date,nps\nq{i}@x.pl,2025-03-0{i + 1},{i}\n"), store=lake)
    many = {t: len(table_files(lake.folder, t)) for t in schema.TABLES if len(table_files(lake.folder, t)) > 1}
    assert list(many) == ["ingest_rows"] and many["ingest_rows"] >= 3  # a file of their own per ingest
    before = every_table(lake.folder)
    files = sorted(str(p) for p in lake.folder.rglob("*") if p.is_file())
    cli = ["--db", lake.url, "compact"]

    monkeypatch.setenv("CENTRIC_FAULT", "lake.before_journal:raise")
    r = runner.invoke(app, cli)
    assert r.exit_code != 0 and isinstance(r.exception, InjectedFault)
    assert sorted(str(p) for p in lake.folder.rglob("*") if p.is_file()) == files  # as it was
    monkeypatch.delenv("CENTRIC_FAULT")

    r = runner.invoke(app, cli, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert f"ingest_rows: {many['ingest_rows']} files → 1" in r.output and "1 table rewritten" in r.output
    assert all(len(table_files(lake.folder, t)) <= 1 for t in schema.TABLES)
    assert every_table(lake.folder) == before
    r = runner.invoke(app, cli, catch_exceptions=False)
    assert r.exit_code == 0 and "already compact" in r.output
    ingest("orders", write("o9.csv", "customer_id,date,amount\nK1,2025-04-01,5\n"), store=lake)  # writable after
    assert len(every_table(lake.folder)["orders"]) == len(before["orders"]) + 1


@pytest.mark.capability("ingest", engines=(DUCKDB, SPARK))
def test_ingest_on_spark_from_the_command_line_migrates_a_lake_of_version_10(spark_session, stores, write):
    """The command line opens a Spark store, which reads only a lake of its own version: a writing command
    migrates the lake first, as the refusal of a reading one says."""
    from centric.engines.lake import lake_version

    _, lake = stores
    _three_loads(lake, write)
    ingest("responses", write("r.csv", LINKING), store=lake)
    _as_version_10(lake.folder)
    r = runner.invoke(app, ["--db", lake.url, "metrics", "nps"])
    assert r.exit_code != 0 and "store migrate" in r.output and lake_version(lake.folder) == 10, r.output
    orders = str(write("o5.csv", "customer_id,date,amount\nK1,2025-05-01,3\n"))
    r = runner.invoke(app, ["--db", lake.url, "ingest", "orders", orders], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert lake_version(lake.folder) == 11 and len(lake_rows(lake.folder, "orders")) == 2
