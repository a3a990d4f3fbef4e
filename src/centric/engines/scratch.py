"""Writing commands on PostgreSQL: parse in DuckDB, merge into PostgreSQL.

centric's writing commands (ingest, analyze, customers score) are written once, in DuckDB SQL. On a
PostgreSQL store they run unchanged in a *scratch* store — an in-memory DuckDB store — that first receives
the rows of the PostgreSQL tables the command reads; afterwards only the difference is written back:

    with scratch(pg, tables=["orders", "customers", …], append=["rejected_rows"]) as s:
        ingest_source(s.store, "orders", "orders.csv")
    # published: PostgreSQL now holds what the command wrote, in one transaction

How a write works:

- **One writer at a time.** A PostgreSQL transaction is opened and an advisory lock (:data:`WRITE_LOCK`) is
  taken before anything is read, and held until the commit: two writers never interleave (as on DuckDB,
  where one process writes at a time). Readers are never blocked.
- **Read.** Each table in ``tables`` is fetched whole with ``COPY (SELECT …) TO STDOUT`` (CSV streamed into
  DuckDB's reader, with the schema's types) and a copy of it is kept as it was. Tables in ``append`` are not
  fetched: the command only adds rows to them (and reads back only what it added). Every other table starts
  empty; a command that writes to one fails the publication (nothing is lost silently).
- **Difference.** Per fetched table, in DuckDB: the rows added and the rows gone (``EXCEPT ALL``, full-row
  comparison, NULLs equal), and from them the *match keys* that changed (:func:`match_columns`: the table's
  key, or a group such as an ingest run's ``run_id``; any columns are correct, narrower ones move fewer
  rows).
- **Publish**, in the same PostgreSQL transaction: the PostgreSQL rows with a changed match key are deleted
  (their keys loaded with COPY into a temporary table, one ``DELETE … USING``), and the scratch rows with
  those keys inserted with COPY (:meth:`PgStore.copy_rows`), as are the rows added to ``append`` tables.
  Customers merged by the command (new ``customer_merges`` rows) are followed in the tables that were not
  fetched: their ``customer_id`` is moved to the customer merged into, as DuckDB's ingest does in the
  tables it holds. Then the commit. A failure anywhere rolls everything back: PostgreSQL is as it was.

The cost: the tables a command reads are fetched on each run (the target table of an ingest, customers and
their identities …), so a run takes time in proportion to them, not only to the file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator

from .. import faults, schema
from ..errors import StoreError

__all__ = ["WRITE_LOCK", "Scratch", "match_columns", "portable", "scratch"]

WRITE_LOCK = 0x63656E77
"""The number of the advisory lock a writing command holds on PostgreSQL from its first read to its commit."""

BATCH_ROWS = 50_000

# tables without a key column: the columns that group their rows for the difference (a changed row
# moves its whole group; what is written per run or per text moves together anyway)
_GROUPS = {
    "identities": ("kind", "value"),
    "ingest_rows": ("run_id",),
    "rejected_rows": ("run_id",),
    "ingest_runs": ("run_id",),
    "text_analyses": ("source", "text_id"),
    "mentions": ("source", "text_id"),
    "customer_scores": ("customer_id", "scored_at"),
}


def match_columns(table: str) -> tuple[str, ...]:
    """The columns by which the rows of ``table`` are deleted and re-inserted when they changed."""
    t = schema.TABLES[table]
    if table in _GROUPS:
        return _GROUPS[table]
    if t.key:
        return (t.key,)
    return tuple(t.column_names)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Scratch:
    """The in-memory DuckDB store a writing command runs in (``store``), and what it came from."""

    def __init__(self, pg, store, tables: list[str], append: list[str], filters: dict[str, str] | None = None):
        self.pg = pg
        self.store = store
        self.tables = tables
        self.append = append
        self.filters = filters or {}
        self.written: dict[str, int] = {}  # table -> rows deleted plus rows inserted in PostgreSQL

    # -- reading --------------------------------------------------------------------------------
    def fetch(self, table: str) -> int:
        """Copy the PostgreSQL table's rows into the scratch table and keep them as they were."""
        from psycopg import sql

        t = schema.TABLES[table]
        cols = t.column_names
        stmt = sql.SQL("COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT csv)").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(table),
            sql.SQL(f" WHERE {self.filters[table]}" if table in self.filters else ""))
        fd, path = tempfile.mkstemp(prefix="centric-scratch-", suffix=".csv")
        try:
            size = 0
            with os.fdopen(fd, "wb") as f, self.pg.con.cursor() as cur, cur.copy(stmt) as copy:
                for chunk in copy:
                    f.write(chunk)
                    size += len(chunk)
            if size:
                types = ", ".join(f"'{c.name}': '{c.sql_type}'" for c in t.columns)
                self.store.con.execute(
                    f"INSERT INTO {_q(table)} SELECT * FROM read_csv(?, header = false, auto_detect = false, "
                    f"delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, "
                    f"columns = {{{types}}})", [path])
        finally:
            os.unlink(path)
        self.store.con.execute(f"CREATE TABLE _before.{_q(table)} AS SELECT * FROM main.{_q(table)}")
        return self.store.con.execute(f"SELECT count(*) FROM _before.{_q(table)}").fetchone()[0]

    def fetch_meta(self) -> None:
        """The store's metadata (the factors added in the store …) beside the scratch's schema version:
        read, never written back."""
        from .postgres import META

        rows = self.pg.con.execute(f"SELECT key, value FROM {META} WHERE key <> 'schema_version'").fetchall()
        if rows:
            self.store.con.executemany(f"INSERT OR REPLACE INTO {META} VALUES (?, ?)", rows)
        self._meta = sorted(rows)

    # -- writing --------------------------------------------------------------------------------
    def publish(self) -> dict[str, int]:
        """Write the difference into PostgreSQL (inside the open transaction). Returns rows written per table."""
        self.check_writes("PostgreSQL")
        merges = self._new_merges()
        if merges:
            partial = [n for n in self.filters if "customer_id" in schema.TABLES[n].column_names]
            if partial:  # rows left out of the scratch store would keep the merged customers' ids
                raise StoreError(f"the command merged customers while table {partial[0]} was read only in part; "
                                 "nothing was written (PostgreSQL is as it was)")
            self._follow_merges(merges)
        for name in self.tables:
            self._publish_table(name)
            faults.checkpoint("scratch.publish_half_way")
        for name in self.append:
            n = self.pg.copy_rows(name, schema.TABLES[name].column_names,
                                  self._rows(f"SELECT * FROM main.{_q(name)}"))
            if n:
                self.written[name] = self.written.get(name, 0) + n
        return self.written

    def check_writes(self, target: str) -> None:
        """Refuse what a scratch store cannot write back into ``target`` ("PostgreSQL", "the lake"): rows in a
        table that was not read, or changed metadata."""
        for name in schema.TABLES:
            if name not in self.tables and name not in self.append and self._count(f"main.{_q(name)}"):
                raise StoreError(f"the command wrote to table {name}, which was not read from {target}; "
                                 f"nothing was written ({target} is as it was)")
        from .postgres import META

        if sorted(self.store.con.execute(f"SELECT key, value FROM {META} WHERE key <> 'schema_version'")
                  .fetchall()) != self._meta:
            raise StoreError("the command changed the store's metadata, which is not written back from a scratch "
                             f"store; nothing was written ({target} is as it was)")

    def _publish_table(self, name: str) -> None:
        con = self.store.con
        t = schema.TABLES[name]
        keys = match_columns(name)
        k = ", ".join(_q(c) for c in keys)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _centric_changed AS SELECT DISTINCT {k} FROM (
                  (SELECT * FROM main.{_q(name)} EXCEPT ALL SELECT * FROM _before.{_q(name)})
                  UNION ALL
                  (SELECT * FROM _before.{_q(name)} EXCEPT ALL SELECT * FROM main.{_q(name)}))""")
        if not self._count("_centric_changed"):
            return
        match = " AND ".join(f"x.{_q(c)} IS NOT DISTINCT FROM d.{_q(c)}" for c in keys)
        deleted = 0
        gone = f"SELECT {k} FROM _centric_changed d WHERE EXISTS (SELECT 1 FROM _before.{_q(name)} x WHERE {match})"
        if self._count(f"({gone})"):  # keys PostgreSQL holds (new keys have nothing to delete)
            deleted = self._delete(name, keys, gone)
        # … and the scratch rows of those keys come in their place
        inserted = self.pg.copy_rows(name, t.column_names, self._rows(
            f"SELECT * FROM main.{_q(name)} x WHERE EXISTS (SELECT 1 FROM _centric_changed d WHERE {match})"))
        self.written[name] = deleted + inserted

    def _delete(self, name: str, keys: tuple[str, ...], query: str) -> int:
        """Delete the PostgreSQL rows of ``name`` whose ``keys`` are among the rows of the scratch ``query``."""
        from psycopg import sql

        t = schema.TABLES[name]
        temp = f"_centric_del_{name}"
        self.pg.con.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
                            .format(sql.Identifier(temp), sql.SQL(", ").join(sql.Identifier(c) for c in keys),
                                    sql.Identifier(name)))
        with self.pg.con.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(temp))) as cp:
            for row in self._rows(query):
                cp.write_row(row)
        required = {c.name for c in t.columns if c.required}
        cond = sql.SQL(" AND ").join(
            sql.SQL("t.{c} = d.{c}" if c in required else "t.{c} IS NOT DISTINCT FROM d.{c}").format(
                c=sql.Identifier(c)) for c in keys)
        n = self.pg.con.execute(sql.SQL("DELETE FROM {} t USING {} d WHERE {}").format(
            sql.Identifier(name), sql.Identifier(temp), cond)).rowcount
        # dropped now, not only at the commit: several scratch writes may share one transaction (a web app's write)
        self.pg.con.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(temp)))
        return n

    def _new_merges(self) -> list[tuple[str, str]]:
        """(merged, into) of the customers the command merged."""
        before = ("EXCEPT ALL SELECT merged_customer_id, into_customer_id FROM _before.customer_merges"
                  if "customer_merges" in self.tables else "")
        return self.store.con.execute(
            f"SELECT merged_customer_id, into_customer_id FROM main.customer_merges {before}").fetchall()

    def _follow_merges(self, merges: list[tuple[str, str]]) -> None:
        """Move the references of merged customers in the PostgreSQL tables the scratch did not hold."""
        from psycopg import sql

        self.pg.con.execute("CREATE TEMPORARY TABLE _centric_remap (old TEXT, new TEXT) ON COMMIT DROP")
        with self.pg.con.cursor() as cur, cur.copy("COPY _centric_remap (old, new) FROM STDIN") as cp:
            for row in merges:
                cp.write_row(row)
        for t in schema.TABLES.values():
            if (t.name in self.tables or t.name in ("customers", "customer_merges")
                    or "customer_id" not in t.column_names):
                continue
            # the key moves with the id (centric.customer_keys)
            rekey = f", customer_key = {schema.customer_key_sql('r.new')}" if "customer_key" in t.column_names else ""
            n = self.pg.con.execute(sql.SQL("UPDATE {t} SET customer_id = r.new" + rekey + " FROM _centric_remap r "
                                            "WHERE {t}.customer_id = r.old").format(t=sql.Identifier(t.name))).rowcount
            if n:
                self.written[t.name] = self.written.get(t.name, 0) + n
        self.pg.con.execute("DROP TABLE _centric_remap")

    def _count(self, relation: str) -> int:
        return self.store.con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]

    def _rows(self, query: str) -> Iterator[tuple]:
        reader = self.store.con.execute(query).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)


@contextlib.contextmanager
def scratch(pg, tables: Iterable[str], append: Iterable[str] = (), filters: dict[str, str] | None = None
            ) -> Iterator[Scratch]:
    """A scratch DuckDB store holding ``pg``'s ``tables`` (``append``: tables the command only adds rows to);
    when the block ends without an error, the difference is written into PostgreSQL and committed, all or
    nothing, under the write lock (see the module's docstring).

    ``filters`` fetches only part of a table (table -> a condition in SQL both engines read, without
    parameters): the rows left out are never touched, which is right only when no row the command changes
    shares a match key with them (e.g. the latest scoring of ``customer_scores``, when the command adds a
    new scoring with a new ``scored_at``)."""
    from ..store import Store

    if getattr(pg, "read_only", False):
        raise StoreError(f"the store {pg.path} is open read-only")
    tables = list(dict.fromkeys(tables))
    append = [a for a in dict.fromkeys(append) if a not in tables]
    for name in (*tables, *append):
        if name not in schema.TABLES:
            raise StoreError(f"unknown table {name!r}; tables: {', '.join(schema.TABLES)}")
    duck = Store.open(":memory:")
    try:
        duck.con.execute("ATTACH ':memory:' AS _before")
        with pg.transaction():
            pg.con.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            s = Scratch(pg, duck, tables, append, filters)
            s.fetch_meta()
            for name in tables:
                s.fetch(name)
            yield s
            s.publish()
            faults.checkpoint("scratch.before_commit")
    finally:
        duck.close()


def portable(scope: Callable[..., tuple[list[str], list[str], dict[str, str]]]):
    """Make an operation ``op(store, …)`` written for DuckDB take a PostgreSQL store too: there it runs in a
    scratch store holding what ``scope(pg, …)`` names (called with the operation's arguments after the
    store), and what it changed is published in one transaction."""

    def wrap(op):
        @functools.wraps(op)
        def run(store, *args, **kwargs):
            if getattr(store, "engine", "duckdb") != "postgresql":
                return op(store, *args, **kwargs)
            tables, append, filters = scope(store, *args, **kwargs)
            with scratch(store, tables, append=append, filters=filters) as s:
                return op(s.store, *args, **kwargs)

        return run

    return wrap
