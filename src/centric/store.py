"""The store: one DuckDB file by default, created and migrated automatically.

Writes go through ``Store.transaction()`` (all or nothing). Read queries for analytics go through
Ibis (``Store.table(name)``), so that other backends (PostgreSQL, Spark) can be added without
rewriting the analytics.

>>> with Store.open(":memory:") as s:
...     s.count("orders")
0
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from . import schema, settings
from .errors import StoreError

META = "centric_meta"

# version -> statements that bring the store from version-1 to version.
MIGRATIONS: dict[int, list[str]] = {v: schema.ddl(v) for v in range(1, schema.SCHEMA_VERSION + 1)}


class Store:
    def __init__(self, con: duckdb.DuckDBPyConnection, path: str):
        self.con = con
        self.path = path
        self._ibis = None

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, read_only: bool = False) -> Store:
        """Open (and create or migrate when needed) the store at ``path``; default: the ``db`` setting."""
        p = str(path) if path is not None else settings.get("db")
        if p != ":memory:":
            parent = Path(p).expanduser().resolve().parent
            if not parent.exists():
                raise StoreError(f"cannot create the store {p}: folder {parent} does not exist")
        try:
            con = duckdb.connect(p, read_only=read_only)
        except duckdb.Error as e:
            raise StoreError(f"cannot open the store {p}: {e}") from e
        con.execute("SET TimeZone = 'UTC'")
        store = cls(con, p)
        if not read_only:
            store.migrate()
        return store

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
        with self.transaction():
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
            for version in range(current + 1, schema.SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[version]:
                    self.con.execute(stmt)
            self.con.execute(
                f"INSERT OR REPLACE INTO {META} VALUES ('schema_version', ?)", [str(schema.SCHEMA_VERSION)]
            )

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

    # -- reading --------------------------------------------------------------------------------
    @property
    def ibis(self):
        """The Ibis backend over this store's connection (for portable read queries)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str):
        """An Ibis table expression for table ``name``."""
        if name not in schema.TABLES:
            raise StoreError(f"unknown table {name!r}; tables: {', '.join(schema.TABLES)}")
        return self.ibis.table(name)

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in schema.TABLES}

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
