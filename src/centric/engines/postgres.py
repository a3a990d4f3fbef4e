"""The store on PostgreSQL: the same tables as the DuckDB file (``centric.schema``), read through Ibis.

``PgStore`` offers what ``centric.store.Store`` offers to the code that is portable: ``migrate()`` (every
table of the schema, DuckDB's types mapped to PostgreSQL's by :data:`PG_TYPES`), ``ibis``/``table(name)``
for reads, ``transaction()`` (all or nothing) and ``copy_rows()`` for bulk loads through PostgreSQL's COPY
(never row-by-row INSERTs). ``con`` is a psycopg connection (placeholders ``%s``, not DuckDB's ``?``).

Keys are kept unique by centric (as on DuckDB), not by an index; the metadata table's key is a primary key.
Timestamps are ``timestamp without time zone`` holding UTC, like DuckDB's ``TIMESTAMP``; the session's
time zone is UTC.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Sequence

from .. import schema
from ..errors import StoreError
from ..store import Tables
from . import redact

META = "centric_meta"

PG_TYPES = {
    "text": "TEXT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "number": "DOUBLE PRECISION",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "enum": "TEXT",
    "json": "TEXT",
}
"""centric's logical column types (``schema.SQL_TYPES`` gives DuckDB's) as PostgreSQL types."""

# version -> statements that bring the store from version-1 to version.
MIGRATIONS: dict[int, list[str]] = {v: schema.ddl(v, PG_TYPES, backfill=False)  # (see schema.BACKFILLS)
                                   for v in range(1, schema.SCHEMA_VERSION + 1)}

# one number for pg_advisory_xact_lock: two processes migrating one database take turns
_MIGRATION_LOCK = 0x63656E74


class PgStore(Tables):
    """A centric store in a PostgreSQL database. Open it with ``PgStore.open(url)``."""

    engine = "postgresql"
    migrated_from: int | None = None  # the schema version migrate() found, when it migrated

    def __init__(self, con, url: str):
        self.con = con
        self.url = url
        self.path = redact(url)  # what messages show: never the password
        self.read_only = False
        self._ibis = None
        self._tables: dict = {}

    @classmethod
    def open(cls, url: str, read_only: bool = False, migrate: bool = True) -> PgStore:
        """Connect to ``url`` (``postgresql://USER:PASSWORD@HOST:PORT/DB``) and create or migrate the
        tables when needed; ``read_only`` neither creates nor migrates, and refuses every write;
        ``migrate=False`` only connects (``store copy`` migrates inside its own transaction)."""
        import psycopg

        try:
            con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as e:
            raise StoreError(f"cannot open the PostgreSQL store {redact(url)}: {_first_line(e)}") from e
        con.execute("SET TIME ZONE 'UTC'")
        if read_only:
            con.execute("SET default_transaction_read_only = on")
        store = cls(con, url)
        store.read_only = read_only
        try:
            if not read_only and migrate:
                store.migrate()
            elif read_only and store.schema_version != schema.SCHEMA_VERSION:
                raise StoreError(f"the store {store.path} has schema version {store.schema_version}, this "
                                 f"centric reads version {schema.SCHEMA_VERSION}; open it once for writing "
                                 "(centric status) to migrate it")
        except psycopg.Error as e:
            con.close()
            raise StoreError(f"cannot open the PostgreSQL store {redact(url)}: {_first_line(e)}") from e
        except BaseException:
            con.close()
            raise
        return store

    # -- schema ---------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        if self.con.execute("SELECT to_regclass(%s)", [META]).fetchone()[0] is None:
            return 0
        row = self.con.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """Create the tables (or add what newer schema versions added), all in one transaction; then the
        planner's statistics on the answers' periods, where missing (see ``period_statistics``)."""
        with self.transaction():
            self._migrate()
        import psycopg

        try:
            with self.transaction():
                created = self.period_statistics()
        except psycopg.errors.InsufficientPrivilege:
            return  # a user who does not own the tables reads them all the same, only slower
        if created:
            self.con.execute('ANALYZE "responses"')

    def period_statistics(self) -> int:
        """Create the statistics PostgreSQL keeps on each period key of the survey metrics (the answer's month,
        quarter … as :func:`centric.metrics.survey.period_key` computes it), where missing; returns how many
        were created (ANALYZE fills them). Without them the planner takes a period's number of values for the
        number of answers (it knows only that their timestamps are all different), expects as many groups as
        answers and sorts 10 M answers in parallel instead of summing them into a few hundred groups."""
        if self.con.info.server_version < 140000:  # statistics on expressions came with PostgreSQL 14
            return 0

        def missing() -> dict[str, str]:
            have = {r[0] for r in self.con.execute(
                "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'responses'::regclass").fetchall()}
            return {f"responses_{p}": e for p, e in _period_expressions().items() if f"responses_{p}" not in have}

        if not missing():
            return 0
        self.con.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK])  # two processes opening take turns
        todo = missing()
        for name, expression in todo.items():
            self.con.execute(f'CREATE STATISTICS "{name}" ON ({expression}) FROM "responses"')
        return len(todo)

    def _migrate(self) -> None:
        """``migrate`` inside a transaction already open (``store copy`` creates and fills in one)."""
        self.con.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK])
        current = self.schema_version
        if current > schema.SCHEMA_VERSION:
            raise StoreError(f"the store {self.path} has schema version {current}, newer than this centric "
                             f"({schema.SCHEMA_VERSION}); upgrade centric")
        if current == schema.SCHEMA_VERSION:
            return
        self._tables.clear()
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT)")
        for version in range(current + 1, schema.SCHEMA_VERSION + 1):
            for stmt in MIGRATIONS[version]:
                self.con.execute(stmt)
        self.con.execute(f"INSERT INTO {META} VALUES ('schema_version', %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [str(schema.SCHEMA_VERSION)])
        self.migrated_from = current  # 0: the tables were created

    def index_lookups(self) -> None:
        """Index the columns the web app looks rows up by (see ``centric.schema.LOOKUPS``)."""
        with self.transaction():
            for stmt in schema.lookup_ddl():
                self.con.execute(stmt)

    # -- writing --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator:
        """All writes inside happen together or not at all (nested: a savepoint)."""
        with self.con.transaction():
            yield self.con

    def execute(self, sql: str, params: list | tuple = ()):
        """:meth:`centric.store.Tables.execute`: the statement's ``?`` placeholders become psycopg's ``%s`` and its
        ``%`` (``LIKE 'a%'``) ``%%`` (the statement holds no other ``?``)."""
        return self.con.execute(sql.replace("%", "%%").replace("?", "%s"), params)

    def lock_writes(self) -> None:
        """Inside ``transaction()``: wait for the advisory write lock every writer takes
        (:data:`centric.engines.scratch.WRITE_LOCK`), held until the commit."""
        from .scratch import WRITE_LOCK

        self.con.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Load ``rows`` (values in the order of ``columns``) into ``table`` with one COPY; returns how many.
        Call it inside ``transaction()`` to make it part of a larger all-or-nothing write."""
        from psycopg import sql

        if table not in schema.TABLES and table != META:
            raise StoreError(f"unknown table {table!r}; tables: {', '.join(schema.TABLES)}")
        stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        n = 0
        with self.con.cursor() as cur, cur.copy(stmt) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n

    def insert_frame(self, table: str, rows) -> int:
        """:meth:`centric.store.Tables.insert_frame`: the frame's rows with one COPY (pandas' and numpy's values as
        Python's; missing values as NULL)."""
        import pandas as pd

        def plain(v):
            if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
                return None
            if isinstance(v, pd.Timestamp):
                return v.to_pydatetime()
            return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v

        return self.copy_rows(table, list(rows.columns),
                              ([plain(v) for v in row] for row in rows.itertuples(index=False, name=None)))

    def kept_secret(self, name: str) -> str:
        """A random key generated on first use and kept in the metadata under ``name`` (see ``Store``): read
        without a transaction when it is there (a read-only store, the web app's readers, reads it as on DuckDB)."""
        import secrets

        row = self.con.execute(f"SELECT value FROM {META} WHERE key = %s", [name]).fetchone()
        if row:
            return row[0]
        with self.transaction() as con:
            con.execute(f"INSERT INTO {META} VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                        [name, secrets.token_urlsafe(48)])
            return con.execute(f"SELECT value FROM {META} WHERE key = %s", [name]).fetchone()[0]

    # -- reading --------------------------------------------------------------------------------
    @property
    def ibis(self):
        """The Ibis backend over this store's connection (for portable read queries)."""
        if self._ibis is None:
            self._ibis = _backend().from_connection(self.con)
        return self._ibis


# rows a streamed result brings from the server at a time (libpq's chunked mode; one at a time before libpq 17)
STREAM_CHUNK = 10_000


@functools.cache
def _backend():
    """Ibis's PostgreSQL backend, but reading Arrow results (``to_pyarrow``, ``to_pyarrow_batches``, hence
    ``Tables.rows``) as a stream of chunks of rows instead of through a server-side cursor: PostgreSQL never runs
    a cursor's query in parallel (a ``DECLARE CURSOR`` may be suspended), and a stream's query is run whole, so
    the planner may give it parallel workers. The survey metrics over 10 M answers: 6.2 s -> 3.1 s on 2 cores
    (benchmarks/README.md). Memory stays bounded: the rows are turned into Arrow batches as they come."""
    import psycopg
    import pyarrow as pa
    from ibis.backends.postgres import Backend

    size = STREAM_CHUNK if psycopg.pq.version() >= 170000 else 1

    class StreamingBackend(Backend):
        def to_pyarrow_batches(self, expr, /, *, params=None, limit=None, chunk_size: int = 1_000_000, **_):
            def batches(struct_type: pa.StructType, query: str):
                con = self.con
                with con.cursor() as cursor, con.transaction():
                    rows = []
                    for row in cursor.stream(query, size=size):
                        rows.append(row)
                        if len(rows) >= chunk_size:
                            yield pa.RecordBatch.from_struct_array(pa.array(rows, type=struct_type))
                            rows = []
                    if rows:
                        yield pa.RecordBatch.from_struct_array(pa.array(rows, type=struct_type))

            self._run_pre_execute_hooks(expr)
            raw_schema = expr.as_table().schema()
            query = self.compile(expr, limit=limit, params=params)
            return pa.RecordBatchReader.from_batches(
                raw_schema.to_pyarrow(), batches(raw_schema.as_struct().to_pyarrow(), query))

    return StreamingBackend


@functools.cache
def _period_expressions() -> dict[str, str]:
    """Each period's key over ``responses.responded_at`` in PostgreSQL's SQL, as Ibis writes it in the metrics'
    queries: the planner uses a statistics object only for the very expression it was made on."""
    import ibis

    from ..metrics.periods import PERIODS
    from ..metrics.survey import period_key

    t = ibis.table({"responded_at": "timestamp"}, name="responses")
    out = {}
    for period in PERIODS:
        sql = ibis.to_sql(t.select(key=period_key(period, t.responded_at)), dialect="postgres")
        out[period] = sql.split("SELECT", 1)[1].rsplit(' AS "key"', 1)[0].replace('"t0".', "").strip()
    return out


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
