"""Writing commands on a lake of Parquet folders (the Spark store's tables), all or nothing.

As on PostgreSQL (``centric.engines.scratch``), a writing command such as ``centric ingest`` runs unchanged in an
in-memory DuckDB *scratch* store; here the scratch is filled straight from the lake's Parquet files (DuckDB's
``read_parquet``; Spark is not needed), and every table the command changed is written back:

    with lake_scratch("spark:local[2]?warehouse=/data/lake", tables=["orders", …], append=["rejected_rows"]) as s:
        ingest_source(s.store, "orders", "orders.csv")
    # committed: the lake's changed tables are the new ones, all of them or none

How a write works (a local or ``file://`` lake only):

- **One writer at a time**: the writer holds an exclusive lock on ``PATH/.centric-write.lock`` (``flock``) from
  its first read to its commit; a second writer fails at once with a message naming the file.
- **Read**: each table in ``tables`` is loaded whole from ``PATH/TABLE/*.parquet`` (a table without a folder is
  empty) and a copy kept as it was; tables in ``append`` start empty (the command only adds rows to them).
- **Write**: each table whose rows differ (full-row comparison) is written whole as a new Parquet file beside
  its old ones, under a temporary name (``.part-TOKEN.parquet.tmp``, which no reader lists); the rows added to
  an ``append`` table go into a new file of their own (the old files stay). Customers merged by the command are
  followed in the tables that were not read (their files are rewritten with the new ``customer_id``).
- **Commit**: a journal (``PATH/.centric-journal.json``: the renames to make and the old files to remove) is
  written and synced to disk, then the renames and removals are done and the journal removed. Whoever opens the
  lake next (a ``SparkStore``, the next writer) first finishes a journal left by a crash (*roll forward*), or —
  when no journal was completed — removes the temporary files (*roll back*). A crash at any point leaves the old
  lake or the new one, never a mix. The renames happen under ``PATH/.centric-commit.lock``, which a Spark store
  also takes while it lists the lake's files, so it never lists half a commit.

The same journal commits ``centric store migrate`` on a lake of an older schema version (``migrate_lake``; also
done by the next write) and ``centric compact`` (``compact_lake``: each table's files merged into one).

The cost: the tables an ingest reads (its target table, customers, identities …) are loaded on each run, and the
changed ones rewritten whole, so a run takes time in proportion to them, not only to the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import faults, schema
from ..errors import StoreError
from . import redact
from .scratch import Scratch, _q

__all__ = ["JOURNAL", "Lake", "LakeScratch", "compact_lake", "lake_path", "lake_scratch", "lake_version",
           "migrate_lake", "migrate_older", "recover", "opened_for_reading"]

META = "centric_meta"
JOURNAL = ".centric-journal.json"
WRITE_LOCK = ".centric-write.lock"
COMMIT_LOCK = ".centric-commit.lock"
TEMP_SUFFIX = ".parquet.tmp"


def lake_path(url: str, what: str = "centric ingest") -> Path:
    """The local folder of a Spark URL's lake (``warehouse=/path`` or ``file:///path``); a remote lake
    (``hdfs://``, ``s3a://``) is refused: centric writes a lake only on this machine's file system."""
    from .spark import parse_url

    _, warehouse = parse_url(url)
    if warehouse.startswith("file://"):
        warehouse = warehouse[len("file://"):]
    elif "://" in warehouse:
        raise StoreError(f"{what} writes a lake on this machine's file system (warehouse=/path or file:///path), "
                         f"not {redact(warehouse)}; write a local lake, then upload it with the lake's own tools")
    return Path(warehouse).expanduser().absolute()


class Lake:
    """A lake to write into without Spark: ``centric.ingest(table, file, store=Lake(url))`` (the CLI opens a
    ``SparkStore``, which writes the same way)."""

    engine = "lake"

    def __init__(self, url: str):
        self.url = url
        self.path = redact(url)
        self.folder = lake_path(url)
        self.read_only = False

    def close(self) -> None:
        pass

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- files and locks -----------------------------------------------------------------------------------------
def table_files(lake: Path, table: str) -> list[Path]:
    """The Parquet files of a table, as Spark lists them (hidden and temporary files left out)."""
    folder = lake / table
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")) and p.is_file())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _flock(path: Path, wait: bool, held_message: str | None = None) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise StoreError(held_message or f"{path} is locked") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _rename(source: Path, target: Path) -> None:
    os.replace(source, target)


def _roll_forward(lake: Path, journal: dict) -> None:
    """Finish a committed write: every rename (those already done are skipped), every removal, then the journal."""
    folders = set()
    for tmp, final in journal["renames"]:
        if (lake / tmp).exists():
            _rename(lake / tmp, lake / final)
        folders.add((lake / final).parent)
    for old in journal["removes"]:
        (lake / old).unlink(missing_ok=True)
        folders.add((lake / old).parent)
    for folder in folders:
        _fsync(folder)
    (lake / JOURNAL).unlink(missing_ok=True)
    _fsync(lake)


def _remove_temporary(lake: Path) -> None:
    """Roll back a write that never committed: its temporary files (and an unfinished journal) go."""
    (lake / (JOURNAL + ".tmp")).unlink(missing_ok=True)
    for folder in lake.iterdir():
        if folder.is_dir():
            for p in folder.glob(f".part-*{TEMP_SUFFIX}"):
                p.unlink(missing_ok=True)


def _undo_uncommitted(lake: Path) -> None:
    """After a write failed: unless its journal was committed, its temporary files go (the lake is as it was)."""
    if not (lake / JOURNAL).exists():
        _remove_temporary(lake)


def recover(lake: Path, writer: bool) -> str | None:
    """Leave ``lake`` whole after a crash: finish a completed journal (``"rolled forward"``), or — for a writer,
    which holds the write lock, so no other write is under way — remove an uncommitted write's temporary files
    (``"rolled back"``). Called under the commit lock."""
    journal = lake / JOURNAL
    if journal.exists():
        _roll_forward(lake, json.loads(journal.read_text(encoding="utf-8")))
        return "rolled forward"
    if writer:
        _remove_temporary(lake)
        return "rolled back"
    return None


@contextlib.contextmanager
def opened_for_reading(warehouse: str) -> Iterator[None]:
    """For a reader (the Spark store) listing the lake's files: a local lake's unfinished commit is finished
    first, and no commit's renames happen while it lists (the commit lock). A remote lake is read as it is."""
    if warehouse.startswith("file://"):
        warehouse = warehouse[len("file://"):]
    lake = Path(warehouse).expanduser()
    if "://" in warehouse or not lake.is_dir():
        yield
        return
    try:
        lock = _flock(lake / COMMIT_LOCK, wait=True)
        lock.__enter__()
    except OSError:  # a lake this process may only read: nothing to finish from here
        yield
        return
    try:
        recover(lake, writer=False)
        yield
    finally:
        lock.__exit__(None, None, None)


# -- the scratch ---------------------------------------------------------------------------------------------
def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files_sql(files: list[Path]) -> str:
    return "[" + ", ".join(_quote(str(f)) for f in files) + "]"


class LakeScratch(Scratch):
    """The scratch store of a write into a lake (``store``): what it read and what it writes back."""

    def __init__(self, lake: Path, store, tables: list[str], append: list[str]):
        super().__init__(None, store, tables, append)
        self.lake = lake
        self.token = uuid.uuid4().hex[:16]

    def fetch(self, table: str) -> int:
        """Load the table's Parquet files into the scratch table and keep a copy as it was."""
        cols = ", ".join(_q(c) for c in schema.TABLES[table].column_names)
        files = table_files(self.lake, table)
        if files:
            self.store.con.execute(f"INSERT INTO main.{_q(table)} ({cols}) SELECT {cols} FROM "
                                   f"read_parquet({_files_sql(files)}, union_by_name = true)")
        self.store.con.execute(f"CREATE TABLE _before.{_q(table)} AS SELECT * FROM main.{_q(table)}")
        return self._count(f"_before.{_q(table)}")

    def fetch_meta(self) -> None:
        """The lake's settings beside the scratch's schema version (read, never written back); a lake of another
        schema version is refused."""
        files = table_files(self.lake, META)
        rows = []
        if files:
            rows = self.store.con.execute(f"SELECT key, value FROM read_parquet({_files_sql(files)})").fetchall()
        version = next((int(v) for k, v in rows if k == "schema_version"), schema.SCHEMA_VERSION)
        if version != schema.SCHEMA_VERSION:
            raise StoreError(f"the lake {self.lake} has schema version {version}, this centric writes version "
                             f"{schema.SCHEMA_VERSION}; nothing was written")
        rows = [(k, v) for k, v in rows if k != "schema_version"]
        if rows:
            self.store.con.executemany(f"INSERT OR REPLACE INTO {META} VALUES (?, ?)", rows)
        self._meta = sorted(rows)

    # -- writing --------------------------------------------------------------------------------
    def _write(self, table: str, query: str, expected: int) -> tuple[Path, Path]:
        written = _rewrite(self.store.con, self.lake, table, query, expected, self.token, "in the scratch store")
        self.written[table] = expected
        return written

    def _changed(self, table: str) -> bool:
        t = _q(table)
        return bool(self._count(f"""((SELECT * FROM main.{t} EXCEPT ALL SELECT * FROM _before.{t})
                                     UNION ALL (SELECT * FROM _before.{t} EXCEPT ALL SELECT * FROM main.{t}))"""))

    def publish(self) -> dict[str, int]:
        """Write the changed tables' new files under temporary names, then commit them with the journal."""
        self.check_writes("the lake")
        renames: list[tuple[Path, Path]] = []
        removes: list[Path] = []
        for name in self.tables:
            if self._changed(name):
                cols = ", ".join(_q(c) for c in schema.TABLES[name].column_names)
                renames.append(self._write(name, f"SELECT {cols} FROM main.{_q(name)}",
                                           self._count(f"main.{_q(name)}")))
                removes += table_files(self.lake, name)
        for name in self.append:
            n = self._count(f"main.{_q(name)}")
            if n:
                cols = ", ".join(_q(c) for c in schema.TABLES[name].column_names)
                renames.append(self._write(name, f"SELECT {cols} FROM main.{_q(name)}", n))
        merges = self._new_merges()
        if merges:
            renames_removes = self._follow_merges(merges)
            renames += renames_removes[0]
            removes += renames_removes[1]
        if renames:
            self.commit(renames, removes)
        return self.written

    def _follow_merges(self, merges: list[tuple[str, str]]) -> tuple[list, list]:
        """The tables not read that refer to a merged customer, rewritten with the customer merged into."""
        con = self.store.con
        con.execute("CREATE OR REPLACE TEMP TABLE _centric_remap (old TEXT, new TEXT)")
        con.executemany("INSERT INTO _centric_remap VALUES (?, ?)", merges)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _centric_remap AS SELECT old, new, "
                    f"{schema.customer_key_sql('new')} AS new_key FROM _centric_remap")
        renames, removes = [], []
        for t in schema.TABLES.values():
            if (t.name in self.tables or t.name in ("customers", "customer_merges")
                    or "customer_id" not in t.column_names):
                continue
            files = table_files(self.lake, t.name)
            if not files:
                continue
            source = f"read_parquet({_files_sql(files)}, union_by_name = true)"
            moved = self._count(f"(SELECT 1 FROM {source} WHERE customer_id IN (SELECT old FROM _centric_remap))")
            if not moved:
                continue
            # the key moves with the id (centric.customer_keys), as in the tables the command read
            cols = ", ".join(
                "coalesce((SELECT r.new FROM _centric_remap r WHERE r.old = x.customer_id), x.customer_id) "
                "AS customer_id" if c == "customer_id" else
                "coalesce((SELECT r.new_key FROM _centric_remap r WHERE r.old = x.customer_id), CASE WHEN "
                "x.customer_id IN (SELECT old FROM _centric_remap) THEN NULL ELSE x.customer_key END) "
                "AS customer_key" if c == "customer_key" else f"x.{_q(c)}"
                for c in t.column_names)
            renames.append(self._write(t.name, f"SELECT {cols} FROM {source} x", self._count(source)))
            removes += files
        return renames, removes

    def commit(self, renames: list[tuple[Path, Path]], removes: list[Path]) -> None:
        _commit(self.lake, renames, removes)


def _commit(lake: Path, renames: list[tuple[Path, Path]], removes: list[Path]) -> None:
    """The journal, synced to disk, then the renames and removals (see the module's docstring)."""
    journal = {"renames": [[str(a.relative_to(lake)), str(b.relative_to(lake))] for a, b in renames],
               "removes": [str(p.relative_to(lake)) for p in removes]}
    for folder in {a.parent for a, _ in renames}:
        _fsync(folder)
    faults.checkpoint("lake.before_journal")
    with _flock(lake / COMMIT_LOCK, wait=True):
        tmp = lake / (JOURNAL + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(journal, f)
            f.flush()
            os.fsync(f.fileno())
        _rename(tmp, lake / JOURNAL)
        _fsync(lake)  # from here on the write is committed: a crash is rolled forward
        _roll_forward(lake, journal)


# -- migrating an older lake -----------------------------------------------------------------------------------
def lake_version(lake: Path) -> int:
    """The schema version in the lake's ``centric_meta`` (this centric's when the lake has none)."""
    import duckdb

    files = table_files(lake, META)
    if not files:
        return schema.SCHEMA_VERSION
    rows = duckdb.execute(f"SELECT value FROM read_parquet({_files_sql(files)}) WHERE key = 'schema_version'"
                          ).fetchall()
    return int(rows[0][0]) if rows else schema.SCHEMA_VERSION


def _migrate(lake: Path) -> tuple[int, int]:
    """Bring a lake of an older schema version to this centric's, as ``Store.migrate`` does a DuckDB store: each
    table whose files lack columns added since is rewritten whole with them (empty, or computed from the row by
    the versions' ``schema.BACKFILLS``: the customer keys), streamed by DuckDB from the old files into the new
    one, and ``centric_meta`` gets the new version — all committed at once by the journal (a failure leaves the
    lake as it was). The caller holds the write lock. Returns (the version before, the version after)."""
    version = lake_version(lake)
    if version > schema.SCHEMA_VERSION:
        raise StoreError(f"the lake {lake} has schema version {version}, newer than this centric "
                         f"({schema.SCHEMA_VERSION}); upgrade centric")
    if version == schema.SCHEMA_VERSION:
        return version, version
    token = uuid.uuid4().hex[:16]
    renames: list[tuple[Path, Path]] = []
    removes: list[Path] = []
    fills = {(b.table, b.column): b for v in range(version + 1, schema.SCHEMA_VERSION + 1)
             for b in schema.BACKFILLS.get(v, [])}
    with _rewriting(lake) as con:
        for name, table in schema.TABLES.items():
            files = table_files(lake, name)
            if not files:
                continue  # a table the lake does not have yet is read as empty
            source = f"read_parquet({_files_sql(files)}, union_by_name = true)"
            present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
            if all(c in present for c in table.column_names) and not any(t == name for t, _ in fills):
                continue
            cols = []
            for c in table.columns:
                value = _q(c.name) if c.name in present else "NULL"
                if (name, c.name) in fills:
                    value = fills[name, c.name].projection(otherwise=value)
                cols.append(f"CAST({value} AS {schema.SQL_TYPES[c.type]}) AS {_q(c.name)}")
            n = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
            renames.append(_rewrite(con, lake, name, f"SELECT {', '.join(cols)} FROM {source}", n, token,
                                    "in its old files (migrating)"))
            removes += files
        faults.checkpoint("lake.migrate_half_way")
        meta = table_files(lake, META)
        tmp = lake / META / f".part-{token}{TEMP_SUFFIX}"
        keep = f"UNION ALL SELECT key, value FROM read_parquet({_files_sql(meta)}) WHERE key <> 'schema_version'"
        con.execute(f"COPY (SELECT 'schema_version' AS key, {_quote(str(schema.SCHEMA_VERSION))} AS value "
                    f"{keep if meta else ''}) TO {_quote(str(tmp))} (FORMAT parquet)")
        _fsync(tmp)
        renames.append((tmp, lake / META / f"part-{token}.parquet"))
        removes += meta
        _commit(lake, renames, removes)
    return version, schema.SCHEMA_VERSION


@contextlib.contextmanager
def _rewriting(lake: Path) -> Iterator:
    """A DuckDB connection (UTC) to rewrite the lake's files with; when the block fails before its journal was
    committed, the temporary files it wrote go (the lake is as it was)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    except BaseException:
        _undo_uncommitted(lake)
        raise
    finally:
        con.close()


def _rewrite(con, lake: Path, table: str, query: str, expected: int, token: str, counted: str) -> tuple[Path, Path]:
    """``query``'s rows written as the table's new file under a temporary name (which no reader lists), synced,
    and counted back against ``expected`` (``counted``: where those were counted, for the message); returns
    (temporary name, final name) for the commit."""
    folder = lake / table
    folder.mkdir(exist_ok=True)
    tmp = folder / f".part-{token}{TEMP_SUFFIX}"
    con.execute(f"COPY ({query}) TO {_quote(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
    _fsync(tmp)
    got = con.execute(f"SELECT count(*) FROM read_parquet({_quote(str(tmp))})").fetchone()[0]
    if got != expected:
        raise StoreError(f"table {table}: {got:,} rows written to the lake, {expected:,} {counted}")
    return tmp, folder / f"part-{token}.parquet"


def _compact(lake: Path) -> dict[str, tuple[int, int, int]]:
    """Each table held in more than one Parquet file (every ingest adds a file to the tables it only appends to,
    such as the rows each ingest read and rejected) rewritten as one, all committed at once by the journal. The caller
    holds the write lock. Returns {table: (files before, bytes before, bytes after)} for the tables rewritten."""

    token = uuid.uuid4().hex[:16]
    renames: list[tuple[Path, Path]] = []
    removes: list[Path] = []
    sizes: dict[str, tuple[int, int, int]] = {}
    with _rewriting(lake) as con:
        for name, table in schema.TABLES.items():
            files = table_files(lake, name)
            if len(files) < 2:
                continue
            source = f"read_parquet({_files_sql(files)}, union_by_name = true)"
            n = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
            cols = ", ".join(_q(c) for c in table.column_names)
            tmp, final = _rewrite(con, lake, name, f"SELECT {cols} FROM {source}", n, token,
                                  "in its old files (compacting)")
            renames.append((tmp, final))
            removes += files
            sizes[name] = (len(files), sum(f.stat().st_size for f in files), tmp.stat().st_size)
        if renames:
            _commit(lake, renames, removes)
    return sizes


def _locked(url: str, what: str):
    """The lake of ``url`` under the write lock, a crashed write finished or rolled back first (a context)."""

    @contextlib.contextmanager
    def held() -> Iterator[Path]:
        lake = lake_path(url, what)
        if not (lake / META).is_dir():
            raise StoreError(f"no lake at {lake} (its centric_meta folder is missing)")
        message = (f"the lake {lake} is being written by another process (it holds the lock {lake / WRITE_LOCK}); "
                   "try again when that write has finished")
        with _flock(lake / WRITE_LOCK, wait=False, held_message=message):
            with _flock(lake / COMMIT_LOCK, wait=True):
                recover(lake, writer=True)
            yield lake

    return held()


def compact_lake(url: str) -> dict[str, tuple[int, int, int]]:
    """``centric compact`` on a Spark store's local lake (see ``_compact``); an older lake is migrated first."""
    with _locked(url, "centric compact") as lake:
        _migrate(lake)
        return _compact(lake)


def migrate_older(url: str) -> None:
    """For a command that writes into the lake of ``url`` (``centric ingest``, ``centric analyze``): a local lake of
    an older schema version is migrated before the Spark store reads it (a remote lake is left to the command,
    which refuses to write it; a lake that does not exist yet is created by the write)."""
    try:
        lake = lake_path(url)
    except StoreError:
        return
    if (lake / META).is_dir() and lake_version(lake) < schema.SCHEMA_VERSION:
        migrate_lake(url)


def migrate_lake(url: str) -> tuple[int, int]:
    """``centric store migrate`` on a Spark store's lake (see ``_migrate``): under the write lock, after
    finishing or rolling back a crashed write. Returns (the version before, the version after)."""
    with _locked(url, "centric store migrate") as lake:
        return _migrate(lake)


def _create(lake: Path) -> None:
    """An empty lake: the folder and ``centric_meta`` with this centric's schema version."""
    import duckdb

    (lake / META).mkdir(exist_ok=True)
    tmp, final = lake / META / f".part-new{TEMP_SUFFIX}", lake / META / "data.parquet"
    duckdb.execute(f"COPY (SELECT 'schema_version' AS key, {_quote(str(schema.SCHEMA_VERSION))} AS value) "
                   f"TO {_quote(str(tmp))} (FORMAT parquet)")
    _fsync(tmp)
    _rename(tmp, final)
    _fsync(lake / META)
    _fsync(lake)


@contextlib.contextmanager
def lake_scratch(url: str, tables: Iterable[str], append: Iterable[str] = ()) -> Iterator[LakeScratch]:
    """A scratch DuckDB store holding the lake's ``tables`` (``append``: tables the command only adds rows to);
    when the block ends without an error, the changed tables are written into the lake, all or nothing, under the
    write lock (see the module's docstring). A lake that does not exist yet is created (empty)."""
    from ..store import Store

    lake = lake_path(url)
    tables = list(dict.fromkeys(tables))
    append = [a for a in dict.fromkeys(append) if a not in tables]
    for name in (*tables, *append):
        if name not in schema.TABLES:
            raise StoreError(f"unknown table {name!r}; tables: {', '.join(schema.TABLES)}")
    if lake.exists() and not lake.is_dir():
        raise StoreError(f"the lake {lake} is a file; give a folder (spark:MASTER?warehouse=/path/to/lake)")
    if not lake.exists():
        if not lake.parent.is_dir():
            raise StoreError(f"cannot create the lake {lake}: folder {lake.parent} does not exist")
        lake.mkdir(exist_ok=True)
    held = (f"the lake {lake} is being written by another process (it holds the lock {lake / WRITE_LOCK}); "
            "try again when that write has finished")
    with _flock(lake / WRITE_LOCK, wait=False, held_message=held):
        if not (lake / META).is_dir() and not any(p.is_dir() for p in lake.iterdir()):
            _create(lake)  # a new lake: empty, with this centric's schema version
        with _flock(lake / COMMIT_LOCK, wait=True):
            recover(lake, writer=True)
        _migrate(lake)  # a lake of an older schema version is migrated first, as a DuckDB store is when opened
        duck = Store.open(":memory:")
        try:
            duck.con.execute("ATTACH ':memory:' AS _before")
            s = LakeScratch(lake, duck, tables, append)
            s.fetch_meta()
            for name in tables:
                s.fetch(name)
            yield s
            try:
                s.publish()
            except BaseException:
                _undo_uncommitted(lake)
                raise
        finally:
            duck.close()
