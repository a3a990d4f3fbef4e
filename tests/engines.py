"""The engines for the tests: one known-answer test run on DuckDB, PostgreSQL and Spark with the same assertions,
the helpers the engine tests share, and the capabilities that docs/deploy.md's table of engines is generated from.

A test that takes the ``engine`` fixture runs once per engine (the test ids end in ``[duckdb]``,
``[postgresql]``, ``[spark]``). It builds its store on DuckDB as before, then asks the engine for it:

- ``engine.store_of(store)`` — the same store on the engine: the DuckDB store itself, or a copy made by
  ``centric store copy`` (``copy_store`` into a new PostgreSQL database, ``copy_to_lake`` into a new lake)
  opened there;
- ``engine.db_of(store)`` — the ``--db`` value of that copy, for the command line;
- ``engine.new_store()`` — an empty store on the engine to write into (``ingest``), read back with
  ``engine.rows(store, table)``.

Which engines a test runs on, and what it shows, is said by its marker:
``@pytest.mark.capability("metrics", engines=ALL)`` (``engines`` defaults to every engine). A test that compares two
engines without the fixture (the dedicated PostgreSQL and Spark files) names the engines it exercises the same
way. ``scripts/engine_table.py`` collects those markers into the table of docs/deploy.md, and
``tests/test_engine_table.py`` fails when the table differs from what the tests declare.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DUCKDB, POSTGRESQL, SPARK = "duckdb", "postgresql", "spark"
ALL = (DUCKDB, POSTGRESQL, SPARK)
DUCK_PG = (DUCKDB, POSTGRESQL)
TITLES = {DUCKDB: "DuckDB", POSTGRESQL: "PostgreSQL", SPARK: "Spark"}

CAPABILITIES: dict[str, tuple[str, str]] = {
    # name used by the markers: (the table's first cell, notes)
    "tables": ("creating and migrating the tables (every table and column of [data-model.md](data-model.md))",
               "`centric store migrate`, or when opened for writing; Spark: `store copy` or `ingest` creates a "
               "local lake, `store migrate` or the next `ingest` migrates it (no Spark needed), Spark reads a lake "
               "of its own version only"),
    "status": ("`centric status`, `centric schema`, `centric settings`", ""),
    "metrics": ("`centric metrics nps`, `csat`, `ces` (any `--by`, `--from`/`--to`, `--json`)",
                "the same answers on every engine, to the last digit"),
    "store copy": ("`centric store copy --to postgresql://…` / `--to spark:…`",
                   "DuckDB is the source, PostgreSQL or a lake the target; all or nothing"),
    "drivers": ("`centric drivers` (every option, `--json`)",
                "the same answers (counts equal, floats to 1e-9; identical in the tests)"),
    "flows": ("`centric flows --journey J` (with `--loops`, `--sankey-from`, `--backwards`, `--compare-reached`, "
              "`--compare-nps`, `--gap-days`)",
              "the same answers (counts equal, median seconds to 1e-9); Spark's medians are exact (`percentile`)"),
    "flows file": ("`centric flows LOG.csv …` (an event-log file)",
                   "the file is read in memory, the store is not used"),
    "customers summary": ("`centric customers summary` (RFM per customer, grouped; `--fit`)", "the same answers"),
    "ingest": ("`centric ingest` (every option: `--mapping`, `--set`, `--replace`, `--day-first`, `--timezone` …), "
               "`centric rejected`, `centric runs`",
               "the same stored rows, rejected rows with their reasons, duplicates, customers and merges (every "
               "table identical in the tests); on PostgreSQL new signals are placed in cases afterwards, as on "
               "DuckDB; on Spark into a local lake, and cases are not synced afterwards"),
    "analyze": ("`centric analyze`",
                "DuckDB: each batch of texts in its own transaction; PostgreSQL: the whole run in one transaction; "
                "Spark: into a local lake, as a Spark batch job (scores to 1e-6), the whole run one commit"),
    "customers score": ("`centric customers score`", "the same scores (identical in the tests); Spark refuses it "
                        "(it writes scores)"),
    "cases": ("`centric cases sync` (also the automatic one after `ingest` and `analyze`), `tick`, `list`, `show`, "
              "`config`, and the workflow: `assign`, `transfer`, `start`, `wait`, `comment`, `note`, `message`, "
              "`resolve`, `close`, `reopen`, `answer`",
              "the same cases, events, clocks, signals and links, and the same `--json`; each command one "
              "transaction"),
    "sla": ("`centric sla due`", "it reads and writes files, not the store; Spark refuses it"),
    "metrics reads": ("`centric metrics complaints`, `journeys`, `churn` (any `--by`, `--from`/`--to`, `--json`)",
                      "counts equal; the complaints' medians and 90th percentiles to 1e-9; on Spark durations from "
                      "epoch seconds with their fraction"),
    "customers reads": ("`centric customers merges`, `alerts`, `validate`, `reasons`, `phases`",
                        "the same output (identical in the tests)"),
    "journeys map": ("`centric journeys map` (every option, `--json`)", "the same map"),
    "report": ("`centric report`",
               "every section and chart identical to DuckDB's in the tests (personas, mystery shopping and eNPS "
               "included)"),
    "personas": ("`centric personas`, `centric empathy` (every option, `--json`)",
                 "the same personas, empathy maps and quotes (identical in the tests)"),
    "mystery": ("`centric mystery scores`, `mystery calibration`, `mystery template list`",
                "the same answers (identical in the tests)"),
    "enps": ("`centric enps` (any `--by`), `enps pulse`, `enps compare`, `enps themes`",
             "the same answers (the departments' case medians of `enps compare --kind department` to 1e-9)"),
    "employees forget": ("`centric employees forget`, `centric enps forget`, the pages `/employees…`",
                         "the same erasure, every table identical in the tests (but the erasure's own time and the "
                         "random tokens that replace their votes); one transaction"),
    "enps writes": ("`centric enps invite` (by `--unit` or from an `--employees` file), `centric enps analyze`",
                    "the same invitations with the same reasons for the skipped, the same themes; each run one "
                    "transaction"),
    "customers timeline": ("`centric customers timeline`", "the same history (identical in the tests)"),
    "customers forget": ("`centric customers forget`, the page `/customers/…/forget` of `serve`",
                         "the same erasure, every table identical in the tests (but the erasure's own time); one "
                         "transaction ([below](#erasure-on-postgresql)); `--compact` is refused on PostgreSQL"),
    "serve": ("`centric serve` (`--workers N`): signing in, the inbox, the case page and its actions, the customers' "
              "pages with their timelines, the \"Was it solved?\" page, `/users`, `/audit`, `/journeys…`, the API's "
              "cases, metrics, drivers, timelines and `POST` of feedback and responses, the background scheduler",
              "DuckDB: one worker process; PostgreSQL: several worker processes (see [The web app on "
              "PostgreSQL](#the-web-app-on-postgresql)), every other page answers 501 with its command's refusal"),
    "web reads": ("`centric serve`'s analyses: `/dashboards` (every filter, a factor's detail), `/flows`, `/alerts`, "
                  "`/personas` (the empathy maps), `/enps`, `/mystery` and `/mystery/calibration`",
                  "the same pages as DuckDB's (identical in the tests)"),
    "users": ("`centric users add\\|list\\|set\\|disable\\|add-team`, `centric tokens add\\|list\\|revoke`",
              "the same rows and audit entries"),
    "surveys": ("`centric surveys add\\|list\\|pause\\|close\\|resume\\|invite\\|remind\\|flagged`, the pages "
                "`/surveys…` and the public survey form `/s/…` (invited and anonymous links, the bot quarantine)",
                "the same rows; a link's answer stored exactly once, also under parallel submits and from several "
                "worker processes"),
    "ideas": ("`centric ideas list\\|status\\|merge\\|duplicates`, the pages `/ideas…` and the public page `/i/new`",
              "the same rows and audit entries"),
    "council": ("`centric council members\\|add\\|leave\\|meetings\\|actions\\|compare`, the pages `/council…`",
                "the same rows and audit entries"),
    "imports": ("`centric ideas import`, `centric council import`, `centric orientation import`",
                "the same rows stored, every rejected row with the same file, row, column and reason; a file's rows "
                "stored whole or not at all"),
    "settings page": ("the page `/settings` of `serve`: the routing table, the service-level policy, the store's own "
                      "factors", "the same rows and audit entries"),
    "webhooks": ("`centric webhooks add\\|list\\|remove` and their deliveries by the web app's scheduler",
                 "the same rows; on PostgreSQL sent by the elected scheduler"),
    "observations": ("`centric observations list\\|add`, the pages `/observations` and `/observations/new`",
                     "the same notes (stored through the ingest, analysed by the scheduler) and summaries"),
    "orientation": ("`centric orientation criteria\\|scores\\|gap\\|customers\\|invite`, the pages `/orientation…` "
                    "and the self-assessment links `/o/…`, `centric employees list`",
                    "the same rows and answers; a link's answer stored once"),
    "whys": ("`centric whys` (a factor's tree, `--metric` a drop's, every option, `--json`), the pages `/whys…` (a "
             "tree computed, saved, edited, attached to cases)",
             "the same trees and pages (identical in the tests); each save, edit and attachment one transaction"),
    "mystery writes": ("`centric mystery template add`, `mystery import`, `mystery cases`, the pages `/mystery/new` "
                       "and a visit's `/mystery/visits/…` (with its files)",
                       "the same rows and pages (identical in the tests); a visit or an import and the cases it opens "
                       "are one transaction"),
    "proactive case": ("the alerts' button that opens a proactive case (`POST /alerts/proactive` of `serve`)",
                       "the same case, events, signal and clocks; one transaction"),
    "text reads": ("`centric text flagged`, `text topics`, `text discover`, `text feelings` (the store's texts), "
                   "`text analyze` (files)",
                   "the same answers (identical in the tests)"),
    "other commands": ("the other pages of `serve` (none but a path with no page), `centric demo`, "
                       "every other command", "refused by name on PostgreSQL and Spark"),
    "compact": ("`centric compact`", "PostgreSQL's own `VACUUM FULL` does that job; on Spark (a local lake) each "
                "table's Parquet files become one, all tables committed at once"),
}
"""Every capability the markers may name, in the table's order, with the prose of its row."""


# -- assertions shared by the engine tests ---------------------------------------------------------------------
def assert_same(a, b, where="$"):
    """Equal structures: the same keys, lengths, texts, integers and booleans; floats within 1e-9 relative."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (where, a, b)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (where, list(a), b)
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (where, len(a), b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def run(*args, db):
    """``centric --db DB ARGS…`` in this process (a ``click.testing.Result``)."""
    from typer.testing import CliRunner

    from centric.cli import app

    return CliRunner().invoke(app, ["--db", str(db), *args], catch_exceptions=False)


def both_json(both, *args):
    """The ``--json`` output of one command on each store of the pair ``both``, parsed."""
    ra, rb = run(*args, db=both[0]), run(*args, db=both[1])
    assert ra.exit_code == 0, ra.output
    assert rb.exit_code == 0, rb.output
    return json.loads(ra.output), json.loads(rb.output)


NOW = dt.datetime(2025, 6, 1, 12, 0, 0, 123456)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Every engine's ingest runs stamped with one time, so that whole rows (first_seen_at …) can be compared
    (imported by a module, it is autouse there)."""
    from centric.ingest import load

    monkeypatch.setattr(load, "_now", lambda: NOW)


def result_facts(r) -> tuple:
    """What an ingest run reports, without its timing."""
    return (r.table, r.run_id, r.rows_read, r.rows_stored, r.rows_rejected, r.rows_duplicate, r.status,
            r.customers_created, r.customers_merged, r.top_reasons, r.replaced_runs, r.rows_removed, r.notes)


def ingest_both(duck, other, table, source, **kw):
    """The same file ingested into a DuckDB store and another; both report the same run; returns DuckDB's."""
    from centric import ingest

    a = ingest(table, source, store=duck, **kw)[0]
    b = ingest(table, source, store=other, **kw)[0]
    assert result_facts(a) == result_facts(b), (table, source)
    return a


def lake_rows(folder, table: str) -> list[tuple]:
    """The rows of a lake's table, read from its Parquet files with DuckDB, sorted (order-independent)."""
    import duckdb

    from centric import schema
    from centric.engines.lake import table_files

    files = table_files(folder, table)
    if not files:
        return []
    names = schema.TABLES[table].column_names if table in schema.TABLES else ["key", "value"]
    cols = ", ".join(f'"{c}"' for c in names)
    return sorted(duckdb.execute(f"SELECT {cols} FROM read_parquet(?, union_by_name = true)",
                                 [[str(f) for f in files]]).fetchall(), key=repr)


def all_rows(store, table: str) -> list[tuple]:
    """The rows of ``table`` as Python values, sorted: order-independent and engine-independent. ``store`` is a
    DuckDB or PostgreSQL store, or a lake (``centric.engines.lake.Lake``) or its folder."""
    from centric import schema
    from centric.engines.lake import Lake

    if isinstance(store, Lake):
        store = store.folder
    if isinstance(store, str | Path):
        return lake_rows(store, table)
    cols = ", ".join(f'"{c}"' for c in schema.TABLES[table].column_names)
    return sorted(store.con.execute(f'SELECT {cols} FROM "{table}"').fetchall(), key=repr)


def sql_rows(store, sql: str, params=None) -> list[tuple]:
    """The rows of a query written for DuckDB (``?`` placeholders), on any engine's store: DuckDB's own, on
    PostgreSQL with ``%s`` placeholders, and on a lake over its Parquet files, read into an in-memory DuckDB."""
    from centric.engines.lake import Lake

    if isinstance(store, Lake):
        import duckdb

        from centric import schema

        con = duckdb.connect()
        for statement in schema.ddl():
            con.execute(statement)
        for table in schema.TABLES:
            found = lake_rows(store.folder, table)
            if found:
                marks = ", ".join("?" for _ in schema.TABLES[table].column_names)
                con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', found)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()
    if getattr(store, "engine", DUCKDB) == POSTGRESQL:
        sql = sql.replace("?", "%s")
    return store.con.execute(sql, params or []).fetchall()


def execute(store, sql: str, params=()) -> None:
    """A write written for DuckDB (``?`` placeholders) on a DuckDB or PostgreSQL store, in one transaction."""
    if getattr(store, "engine", DUCKDB) == POSTGRESQL:
        sql = sql.replace("?", "%s")
    with store.transaction() as con:
        con.execute(sql, list(params))


def executemany(store, sql: str, rows) -> None:
    """One statement written for DuckDB (``?`` placeholders) for each of ``rows``, on a DuckDB or PostgreSQL store, in
    the caller's transaction."""
    if getattr(store, "engine", DUCKDB) == POSTGRESQL:
        with store.con.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), list(rows))
    else:
        store.con.executemany(sql, rows)


def db_of(store) -> str:
    """The ``--db`` of a DuckDB or PostgreSQL store, for the command line (the DuckDB file checkpointed)."""
    if getattr(store, "engine", DUCKDB) == POSTGRESQL:
        return store.url
    store.con.execute("CHECKPOINT")
    return str(store.path)


def every_table(store) -> dict[str, list[tuple]]:
    from centric import schema

    return {t: all_rows(store, t) for t in schema.TABLES}


# -- the engine fixture --------------------------------------------------------------------------------------------
@dataclass
class Engine:
    """One engine for one test: stores copied or created there are closed and dropped after the test."""

    name: str
    tmp: Path
    pg_server: object = None
    _close: list = field(default_factory=list)
    _n: int = 0

    def __str__(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        return TITLES[self.name]

    def _lake_url(self) -> str:
        from .spark import url

        self._n += 1
        return url(self.tmp / f"lake-{self._n}")

    def _database(self) -> str:
        name = self.pg_server.create_database()
        self._close.append(lambda: self.pg_server.drop_database(name))
        return self.pg_server.url(name)

    def db_of(self, store) -> str:
        """The ``--db`` of the DuckDB ``store``'s data on this engine (a copy made as ``centric store copy`` makes
        it; the file itself on DuckDB, checkpointed)."""
        if self.name == DUCKDB:
            store.con.execute("CHECKPOINT")
            return str(store.path)
        from centric.engines.copy import copy_store, copy_to_lake

        if self.name == POSTGRESQL:
            url = self._database()
            copy_store(store, url)
            return url
        url = self._lake_url()
        copy_to_lake(store, url)
        return url

    def store_of(self, store):
        """The DuckDB ``store``'s data on this engine, opened for reading (the store itself on DuckDB)."""
        if self.name == DUCKDB:
            return store
        from centric.engines import open_store

        opened = open_store(self.db_of(store), read_only=True)
        self._close.insert(0, opened.close)
        return opened

    def writable_of(self, store):
        """The DuckDB ``store``'s data on this engine, opened for writing (the store itself on DuckDB)."""
        if self.name == DUCKDB:
            return store
        from centric.engines import open_store

        opened = open_store(self.db_of(store))
        self._close.insert(0, opened.close)
        return opened

    def empty_db(self) -> str:
        """The ``--db`` of a new, empty store on this engine (created by the first command that writes)."""
        if self.name == DUCKDB:
            self._n += 1
            return str(self.tmp / f"empty-{self._n}.duckdb")
        return self._database() if self.name == POSTGRESQL else self._lake_url()

    def new_store(self):
        """An empty store on this engine to write into: a DuckDB file, a PostgreSQL database or a local lake."""
        if self.name == DUCKDB:
            from centric.store import Store

            self._n += 1
            s = Store.open(self.tmp / f"new-{self._n}.duckdb")
        elif self.name == POSTGRESQL:
            from centric.engines.postgres import PgStore

            s = PgStore.open(self._database())
        else:
            from centric.engines.lake import Lake

            return Lake(self._lake_url())
        self._close.insert(0, s.close)
        return s

    def rows(self, store, table: str) -> list[tuple]:
        return all_rows(store, table)

    def close(self) -> None:
        for f in self._close:
            f()
        self._close.clear()


@pytest.fixture
def engine(request, tmp_path_factory):
    """The engine a test runs on (parametrised by its ``capability`` marker's ``engines``; see the module)."""
    name = request.param
    server = None
    if name == POSTGRESQL:
        server = request.getfixturevalue("pg_server")
    elif name == SPARK:
        request.getfixturevalue("spark_session")
    e = Engine(name, tmp_path_factory.mktemp(f"engine-{name}"), server)
    yield e
    e.close()


@pytest.fixture
def engine_store(engine):
    """An empty store on the test's engine to write into (a lake on Spark); read it with ``sql_rows``."""
    return engine.new_store()


class _Demo:
    """The small demo store on each engine, copied once per session with ``centric store copy``."""

    def __init__(self, demo_store, folder: Path):
        self.demo_store, self.folder, self.dbs = demo_store, folder, {}
        self.copied: dict[str, dict[str, int]] = {}  # the rows per table ``store copy --json`` reported

    def db(self, request, name: str) -> str:
        if name in self.dbs:
            return self.dbs[name]
        path = self.folder / "demo.duckdb"
        if not path.exists():
            self.demo_store.con.execute("CHECKPOINT")
            shutil.copyfile(self.demo_store.path, path)
        if name == DUCKDB:
            self.dbs[name] = str(path)
            return self.dbs[name]
        if name == POSTGRESQL:
            server = request.getfixturevalue("pg_server")
            target = server.url(server.create_database())  # kept until the session's server is removed
        else:
            from .spark import url

            request.getfixturevalue("spark_session")
            target = url(self.folder / "lake")
        r = run("store", "copy", "--to", target, "--json", db=path)
        assert r.exit_code == 0, r.output
        self.copied[name] = json.loads(r.output)["rows"]
        self.dbs[name] = target
        return target


@pytest.fixture(scope="session")
def demo_engines(demo_duckdb, tmp_path_factory):
    """The small demo store on each engine, copied with ``store copy`` the first time a test asks for it:
    ``demo_engines.db(request, "postgresql")`` is its ``--db``. Tests must only read it."""
    return _Demo(demo_duckdb, tmp_path_factory.mktemp("demo-engines"))


@pytest.fixture
def demo_db(demo_engines, engine, request):
    """The ``--db`` of the small demo store on the test's engine (copied once per session; read only)."""
    return demo_engines.db(request, engine.name)


@pytest.fixture
def demo_on(demo_engines, engine, request, demo_duckdb):
    """The small demo store on the test's engine, opened for reading (the session's DuckDB store itself on
    DuckDB)."""
    if engine.name == DUCKDB:
        yield demo_duckdb
        return
    from centric.engines import open_store

    with open_store(demo_engines.db(request, engine.name), read_only=True) as s:
        yield s


def pair(demo_engines, request, other: str) -> tuple[str, str]:
    """(the demo store's DuckDB file, its copy on ``other``), for the tests that compare two engines' answers."""
    return demo_engines.db(request, DUCKDB), demo_engines.db(request, other)


# -- the capabilities that the table of engines is made of ------------------------------------------------------
def engines_of(item) -> list[tuple[str, str]]:
    """[(capability, engine)] that the collected test ``item`` declares."""
    found = []
    param = getattr(getattr(item, "callspec", None), "params", {}).get("engine")
    for m in item.iter_markers("capability"):
        name = m.args[0]
        if name not in CAPABILITIES:
            raise pytest.UsageError(f"{item.nodeid}: unknown capability {name!r}; add it to tests/engines.py's "
                                    "CAPABILITIES")
        engines = [param] if param else list(m.kwargs.get("engines", (DUCKDB,)))
        found += [(name, e) for e in engines]
    return found


def generate(metafunc) -> None:
    """``pytest_generate_tests``: a test that takes ``engine`` runs on its marker's engines."""
    if "engine" not in metafunc.fixturenames:
        return
    engines = ALL
    for m in metafunc.definition.iter_markers("capability"):
        if "engines" in m.kwargs:
            engines = tuple(m.kwargs["engines"])
            break
    metafunc.parametrize("engine", engines, indirect=True)


def table(found: dict[str, dict[str, str]]) -> str:
    """The markdown table: ``found[capability][engine]`` is "passed", "collected" or "failed"."""
    lines = ["| | DuckDB | PostgreSQL | Spark | notes |", "|---|---|---|---|---|"]
    for name, (title, notes) in CAPABILITIES.items():
        cells = ["yes" if found.get(name, {}).get(e) in ("passed", "collected") else "no" for e in ALL]
        lines.append(f"| {title} | {' | '.join(cells)} | {notes} |")
    return "\n".join(lines) + "\n"
