"""The command line through its runner, in-process."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from centric import schema
from centric.cli import app

from .conftest import BAD
from .engines import ALL

runner = CliRunner()


def run(*args, db=None):
    return runner.invoke(app, [*(["--db", str(db)] if db else []), *args], catch_exceptions=False)


def test_help_lists_every_command_with_a_line():
    out = run("--help").output
    for cmd in ("demo", "ingest", "rejected", "runs", "status", "schema", "settings", "customers"):
        assert cmd in out
    assert "merges" in run("customers", "--help").output


def test_ingest_prints_counts_and_reasons(tmp_path):
    db = tmp_path / "c.duckdb"
    res = run("ingest", "responses", str(BAD / "out_of_range.csv"), db=db)
    assert res.exit_code == 3  # more rows rejected than stored
    assert "read 5, stored 1, rejected 4, duplicate 0" in res.output
    assert "row 2, column 'nps': nps must be a whole number from 0 to 10, got '11'" in res.output
    strict = run("ingest", "responses", str(BAD / "out_of_range.csv"), "--strict", db=db)
    assert strict.exit_code == 3  # rows were rejected
    listed = run("rejected", "--json", db=db)
    got = json.loads(listed.output)
    assert len(got) == 8 and got[0]["reason"].startswith("nps must be")


def test_ingest_exit_codes(tmp_path):
    db = tmp_path / "c.duckdb"
    missing = run("ingest", "orders", str(BAD / "missing_column.csv"), db=db)
    assert missing.exit_code == 1
    assert "required column 'amount'" in missing.output
    ok = run("ingest", "orders", str(BAD / "mixed_dates.csv"), "--json", db=db)
    assert ok.exit_code == 0 and json.loads(ok.output)[0]["rows_stored"] == 6
    again = run("ingest", "orders", str(BAD / "mixed_dates.csv"), db=db)
    assert again.exit_code == 0  # reloading stores nothing new, but is not a failure
    assert run("ingest", "orders", str(tmp_path / "nope.csv"), db=db).exit_code == 1
    assert run("ingest", "orders", str(BAD / "binary.csv"), "--set", "oops", db=db).exit_code == 2


def test_all_rows_rejected_exits_non_zero(tmp_path, write):
    f = write("allbad.csv", "order_id,email,date,amount\nA,a@x.pl,never,1\n")
    assert run("ingest", "orders", str(f), db=tmp_path / "c.duckdb").exit_code == 1


@pytest.mark.capability("status", engines=ALL)
def test_status_schema_settings(store, engine):
    db = engine.db_of(store)
    out = run("status", db=db).output
    assert f"schema version {schema.SCHEMA_VERSION}" in out and "orders" in out
    assert "# Data model" in run("schema", "--markdown", db=db).output
    assert "day_first" in run("settings", db=db).output


def test_db_from_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("CENTRIC_DB", str(db))
    assert run("status").exit_code == 0
    assert db.exists()
