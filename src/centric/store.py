"""The store: one DuckDB file by default, created and migrated automatically.

Writes go through ``Store.transaction()`` (all or nothing). Read queries for analytics go through
Ibis (``Store.table(name)``), so that other backends (PostgreSQL, Spark) can be added without
rewriting the analytics.

DuckDB lets one process write to a file, or many processes read it: ``Store.open(path,
read_only=True)`` (or ``centric.connect``) reads without locking other readers out, also a store the
user may only read; a store in use by another process raises ``StoreLockedError`` naming that process.

>>> with Store.open(":memory:") as s:
...     s.count("orders")
0
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import duckdb

from . import engines, schema, settings
from .errors import StoreError, StoreLockedError

META = "centric_meta"

# version -> statements that bring the store from version-1 to version.
MIGRATIONS: dict[int, list[str]] = {v: schema.ddl(v) for v in range(1, schema.SCHEMA_VERSION + 1)}


class Tables:
    """What every engine's store shares: Ibis tables by name (over ``self.ibis``, kept in ``self._tables``),
    their counts, and closing ``self.con``."""

    def table(self, name: str):
        """An Ibis table expression for table ``name`` (made once per open store: asking the database for a
        table's columns costs a round trip, and the schema changes only when the store is migrated)."""
        if name not in schema.TABLES:
            raise StoreError(f"unknown table {name!r}; tables: {', '.join(schema.TABLES)}")
        if name not in self._tables:
            self._tables[name] = self.ibis.table(name)
        return self._tables[name]

    @staticmethod
    def rows(expr) -> list[tuple]:
        """The rows of an Ibis query as tuples of Python values (``datetime``, ``None`` for null), as a DuckDB
        cursor's ``fetchall()`` gives them, on every engine."""
        t = expr.to_pyarrow()
        return list(zip(*(c.to_pylist() for c in t.columns), strict=True)) if t.num_columns else []

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in schema.TABLES}

    def execute(self, sql: str, params: list | tuple = ()):
        """Run one parameterised statement (placeholders ``?``) on this store's connection — inside the caller's
        ``transaction()`` when one is open — and return its cursor (``fetchone()``, ``fetchall()``). For the few
        small reads by key and writes of one row that the web app makes per request; the SQL must be what both
        DuckDB and PostgreSQL read (no engine's own functions)."""
        return self.con.execute(sql, params)

    def insert_frame(self, table: str, rows) -> int:
        """Insert the rows of the DataFrame ``rows`` (columns named as in ``table``) inside the caller's
        ``transaction()``; how many. One statement from the frame on DuckDB, one COPY on PostgreSQL — never a
        statement per row."""
        if not len(rows):
            return 0
        cols = ", ".join(f'"{c}"' for c in rows.columns)
        view = f"_centric_insert_{table}"
        self.con.register(view, rows)
        try:
            self.con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM {view}')
        finally:
            self.con.unregister(view)
        return len(rows)

    def lock_writes(self) -> None:
        """Inside ``transaction()``: wait for the store's write lock, held until the commit (PostgreSQL, where
        several processes write; ids taken as the highest plus one stay unique). DuckDB has one writer process:
        nothing to do."""

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def next_free_id(store, table: str, column: str, prefix: str, width: int) -> str:
    """The next free id of ``table`` (``U0001``, ``I000042``: ``prefix`` and the row count plus one, zero-padded to
    ``width``, or the first free one after it), inside the caller's transaction. ``store``: a store of any engine
    (the write lock is taken, so the id holds until the commit) or a DuckDB connection.

    >>> with Store.open(":memory:") as s:
    ...     next_free_id(s, "users", "user_id", "U", 4)
    'U0001'
    """
    if isinstance(store, Tables):
        store.lock_writes()
    n = int(store.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    while True:
        n += 1
        candidate = f"{prefix}{n:0{width}d}"
        if not store.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", [candidate]).fetchone():
            return candidate


class Store(Tables):
    engine = "duckdb"
    migrated_from: int | None = None  # the schema version migrate() found, when it migrated

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str):
        self.con = con
        self.path = path
        self.read_only = False
        self._ibis = None
        self._tables: dict = {}

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, read_only: bool = False) -> Store:
        """Open (and create or migrate when needed) the store at ``path``; default: the ``db`` setting.

        ``read_only=True`` neither creates nor migrates; other processes may read the file at the same
        time, but none can write to it while it is open."""
        p = settings.get("db", None if path is None else str(path))
        if engines.is_postgres(p) or engines.is_spark(p):
            name = engines.engine_name(p)
            raise StoreError(f"{engines.redact(p)} is a {name} store: this part of centric is not available "
                             f"on {name}{' yet' if name == 'PostgreSQL' else ''}; use a DuckDB store (see docs/deploy.md)")
        if p != ":memory:":
            file = Path(p).expanduser()
            if read_only and not file.is_file():
                raise StoreError(f"no store at {p} (a read-only store must exist; create it with centric ingest)")
            if not file.resolve().parent.exists():
                raise StoreError(f"cannot create the store {p}: folder {file.resolve().parent} does not exist")
            if file.is_dir():
                raise StoreError(f"cannot open the store {p}: it is a folder; give a file such as {p}/centric.duckdb")
        try:
            con = duckdb.connect(p, read_only=read_only)
        except duckdb.Error as e:
            raise _open_error(p, e) from e
        con.execute("SET TimeZone = 'UTC'")
        store = cls(con, p)
        store.read_only = read_only
        if not read_only:
            store.migrate()
        elif store.schema_version != schema.SCHEMA_VERSION:
            version = store.schema_version
            store.close()
            fix = ("upgrade centric" if version > schema.SCHEMA_VERSION else
                   "open it once for writing (e.g. centric status as a user who may write to it) to migrate it")
            raise StoreError(f"the store {p} has schema version {version}, this centric reads version "
                             f"{schema.SCHEMA_VERSION}; {fix}")
        return store

    @classmethod
    def open_for_reading(cls, path: str | os.PathLike | None = None) -> Store:
        """Open for writing when possible (creating or migrating the store), else read-only: for
        commands that only read, so they work on a store the user may only read, or one that other
        processes are reading. A store another process is writing to still raises ``StoreLockedError``."""
        try:
            return cls.open(path, read_only=False)
        except StoreError as first:
            p = settings.get("db", None if path is None else str(path))
            if p == ":memory:" or not Path(p).expanduser().is_file():
                raise
            try:
                return cls.open(path, read_only=True)
            except StoreError:
                raise first from None

    # -- schema ---------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [META]
        ).fetchall()[0][0]
        if not exists:
            return 0
        row = self.con.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchall()
        return int(row[0][0]) if row else 0

    def migrate(self) -> None:
        current = self.schema_version
        if current > schema.SCHEMA_VERSION:
            raise StoreError(
                f"the store {self.path} has schema version {current}, newer than this centric "
                f"({schema.SCHEMA_VERSION}); upgrade centric"
            )
        if current == schema.SCHEMA_VERSION:
            return
        self._tables.clear()
        with self.transaction():
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
            for version in range(current + 1, schema.SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[version]:
                    self.con.execute(stmt)
            self.con.execute(
                f"INSERT OR REPLACE INTO {META} VALUES ('schema_version', ?)", [str(schema.SCHEMA_VERSION)]
            )
        self.migrated_from = current  # 0: the store was created

    def index_lookups(self) -> None:
        """Index the columns the web app looks rows up by (:data:`centric.schema.LOOKUPS`); a no-op when
        they are indexed already."""
        with self.transaction():
            for stmt in schema.lookup_ddl():
                self.con.execute(stmt)

    # -- writing --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All writes inside happen together or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def kept_secret(self, name: str) -> str:
        """A random key generated on first use and kept in the store's metadata under ``name`` (the keys that
        sign cookies and survey links, when no setting gives one), so it survives restarts."""
        row = self.con.execute(f"SELECT value FROM {META} WHERE key = ?", [name]).fetchone()
        if row:
            return row[0]
        import secrets

        key = secrets.token_urlsafe(48)
        with self.transaction() as con:
            con.execute(f"INSERT OR REPLACE INTO {META} VALUES (?, ?)", [name, key])
        return key

    # -- reading --------------------------------------------------------------------------------
    @property
    def ibis(self):
        """The Ibis backend over this store's connection (for portable read queries)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis



def connect(path: str | os.PathLike | None = None, read_only: bool = True) -> Store:
    """Open the store for a notebook or a script: read-only by default, so that the commands that only
    read (status, metrics, report …) keep working beside it. Commands that write (ingest, analyze,
    customers score) need it closed: open it in a ``with`` block, which closes it at the block's end.

    >>> import centric
    >>> with centric.connect(":memory:", read_only=False) as store:
    ...     store.read_only
    False
    """
    return Store.open(path, read_only=read_only)


def compact(path: str | os.PathLike | None = None) -> tuple[int, int]:
    """Rewrite the store's file so that nothing deleted or erased stays readable in its free blocks
    (DuckDB reuses freed space but does not wipe it): its contents are copied into a new file beside
    it, which then replaces it in one rename. Needs the store to itself (no other process may have it
    open). Returns the file's size before and after, in bytes.

    Specific to the DuckDB file (a server database has its own: VACUUM FULL on PostgreSQL)."""
    p = settings.get("db", None if path is None else str(path))
    file = Path(p).expanduser()
    if p == ":memory:" or not file.is_file():
        raise StoreError(f"no store file at {p} to compact")
    tmp = file.with_name(f".{file.name}.compact-{os.getpid()}")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    # the store stays open (and locked) until the new file has replaced it, so nobody writes in between
    with Store.open(p) as store:
        con = store.con
        con.execute("CHECKPOINT")
        before = file.stat().st_size
        name = con.execute("SELECT current_database()").fetchall()[0][0]
        try:
            con.execute(f"ATTACH {_quote(str(tmp))} AS centric_compacted")
            con.execute(f"COPY FROM DATABASE {_ident(name)} TO centric_compacted")
            con.execute("DETACH centric_compacted")
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, file)
        except (duckdb.Error, OSError) as e:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot compact the store {p}: {e}") from e
    return before, file.stat().st_size


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open_error(path: str, e: duckdb.Error) -> StoreError:
    """DuckDB's error in words a user can act on; a lock names the process that holds it (DuckDB's
    message carries its PID) and its command line where the system shows it."""
    msg = str(e)
    m = re.search(r"\(PID (\d+)\)", msg)
    if m:
        pid = int(m.group(1))
        return StoreLockedError(path, pid, _command_line(pid), readers="read-only mode" in msg)
    if "Permission denied" in msg or "Read-only file system" in msg:
        return StoreError(f"cannot open the store {path}: permission denied; commands that only read it "
                          "(status, metrics, report …) open it read-only, and so does centric.connect()")
    return StoreError(f"cannot open the store {path}: {msg}")


def _command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return " ".join(" ".join(raw.decode("utf-8", "replace").split("\0")).split())[:300] or None
