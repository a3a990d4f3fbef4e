"""The store's engines: an embedded DuckDB file (``centric.store.Store``, the default), a shared
PostgreSQL database (``centric.engines.postgres.PgStore``) or a lake of Parquet tables read by Spark
(``centric.engines.spark.SparkStore``), chosen by the ``db`` setting (``--db``, ``CENTRIC_DB``): a path opens
a DuckDB file, ``postgresql://USER:PASSWORD@HOST:PORT/DB`` a PostgreSQL database,
``spark:MASTER?warehouse=PATH`` Spark on MASTER over the lake at PATH.

PostgreSQL and Spark each run a slice of centric (see docs/deploy.md): the commands in :data:`PORTED` for
that engine; every other command refuses with :func:`not_available`'s message rather than fail with a DuckDB
error or run approximately.

>>> is_postgres("postgresql://centric:secret@db.example.com:5432/centric"), is_postgres("centric.duckdb")
(True, False)
>>> redact("postgresql://centric:secret@db.example.com:5432/centric")
'postgresql://centric:***@db.example.com:5432/centric'
>>> redact("spark:local[2]?warehouse=s3a://key:secret@bucket/lake")
'spark:local[2]?warehouse=s3a://key:***@bucket/lake'
>>> engine_name("centric.duckdb"), engine_name("postgres://db/centric"), engine_name("spark:local[2]?warehouse=/l")
('DuckDB', 'PostgreSQL', 'Spark')
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import StoreError

__all__ = ["PORTED", "engine_name", "is_postgres", "is_spark", "in_scratch", "kept_read_only", "not_available", "open_store",
           "ported", "read_write_scratch", "redact",
           "temp_tables", "values_table"]

_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)
_SPARK = re.compile(r"^spark:", re.IGNORECASE)

PORTED = ("status", "schema", "settings", "metrics nps", "metrics csat", "metrics ces", "drivers", "flows",
          "ingest", "rejected", "runs", "analyze", "customers score", "customers summary",
          "cases", "sla")
PORTED += ("metrics complaints", "metrics journeys", "metrics churn", "customers merges", "customers alerts",
           "customers validate", "customers reasons", "customers phases", "journeys map", "report")
PORTED += ("personas", "empathy", "mystery scores", "mystery calibration", "mystery template list", "enps",
           "enps pulse", "enps compare", "enps themes", "customers timeline", "customers forget")
PORTED += ("serve", "users", "tokens")
PORTED += ("surveys",)
PORTED += ("webhooks",)  # and the settings page (`settings` is above)
PORTED += ("observations", "orientation criteria", "orientation scores", "orientation gap", "orientation customers",
           "orientation invite", "employees list")
PORTED += ("ideas list", "ideas status", "ideas merge", "ideas duplicates", "council members", "council add",
           "council leave", "council meetings", "council actions", "council compare")
PORTED += ("employees forget", "enps forget", "enps invite", "enps analyze")
PORTED += ("ideas import", "council import", "orientation import")
PORTED += ("whys",)
PORTED += ("mystery import", "mystery cases", "mystery template add")
PORTED += ("text flagged", "text topics", "text discover", "text analyze")  # text analyze: files only
PORTED += ("text feelings",)
"""The commands that work on a PostgreSQL store (``store copy`` writes into one from a DuckDB store)."""

SPARK_PORTED = ("status", "schema", "settings", "metrics nps", "metrics csat", "metrics ces", "drivers", "flows",
                "customers summary", "ingest", "rejected", "runs", "analyze", "metrics complaints", "metrics journeys",
                "metrics churn", "customers merges", "customers alerts", "customers validate", "customers reasons",
                "customers phases", "journeys map", "compact")
"""The commands that work on a Spark store (``ingest`` and ``analyze`` write a local lake through
``centric.engines.lake``;
``store copy --to spark:…`` writes a whole store into an empty lake)."""

PORTED_BY_ENGINE = {"PostgreSQL": PORTED, "Spark": SPARK_PORTED}
"""What runs on each engine other than DuckDB (DuckDB runs every command)."""


def is_postgres(db: str | None) -> bool:
    """Whether the ``db`` setting names a PostgreSQL database (a ``postgresql://`` or ``postgres://`` URL)."""
    return bool(db) and bool(_URL.match(str(db).strip()))


def is_spark(db: str | None) -> bool:
    """Whether the ``db`` setting names a Spark store (``spark:MASTER?warehouse=PATH``)."""
    return bool(db) and bool(_SPARK.match(str(db).strip()))


def engine_name(db: str | None) -> str:
    return "PostgreSQL" if is_postgres(db) else "Spark" if is_spark(db) else "DuckDB"


def ported(command: str, db: str | None) -> bool:
    """Whether ``command`` (``"drivers"``, ``"metrics nps"``, ``"customers summary"``) runs on the engine of ``db``.

    >>> ported("cases assign", "postgresql://db/c"), ported("enps", "postgresql://db/c")
    (True, True)
    >>> ported("enps pulse", "postgresql://db/c"), ported("demo", "postgresql://db/c")
    (True, False)
    >>> ported("enps pulse", "spark:local[2]?warehouse=/lake"), ported("metrics nps", "spark:local[2]?warehouse=/l")
    (False, True)
    """
    engine = engine_name(db)
    if engine == "DuckDB":
        return True
    listed = PORTED_BY_ENGINE[engine]
    if command in listed:
        return True
    # a group listed alone (``cases``) is ported with every sub-command; a group listed beside some of its
    # sub-commands (``enps``, ``enps pulse``) only for the group's own command and those
    group = command.split(" ")[0]
    return command != group and group in listed and not any(p.startswith(group + " ") for p in listed)


def temp_tables(of) -> bool:
    """Whether queries over ``of`` (an Ibis expression, an Ibis backend or a connection) may create temporary
    tables — which Ibis's in-memory tables are on PostgreSQL. Not in a read-only PostgreSQL session (the web
    app's readers): there the queries inline their few values, or compute again what they would have kept.

    >>> import ibis
    >>> temp_tables(ibis.duckdb.connect()), temp_tables(ibis.memtable({"a": [1]}))  # the latter: Ibis's default
    (True, True)
    """
    if hasattr(of, "_find_backend"):
        from ibis.common.exceptions import IbisError

        try:
            of = of._find_backend()
        except IbisError:  # an expression of in-memory tables only: it runs on Ibis's default backend, DuckDB
            return True
    con = getattr(of, "con", of)
    if not type(con).__module__.startswith("psycopg"):
        return True
    status = con.info.parameter_status("default_transaction_read_only")  # reported by the server from 14 on
    if status is None:  # PostgreSQL 13 does not report it: ask
        status = con.execute("SHOW default_transaction_read_only").fetchone()[0]
    return status != "on"


@contextlib.contextmanager
def read_write_scratch(backend) -> Iterator[bool]:
    """On a read-only PostgreSQL session (the web app's readers, where :func:`temp_tables` is false): a transaction
    of its own for the block, opened ``READ WRITE`` so that :func:`kept_read_only` and :func:`values_table` may make
    temporary tables (``ON COMMIT DROP``, their only writes), and always rolled back, so nothing the block did
    outlives it and the session stays read-only. Yields ``True``; ``False`` (nothing done) when the session is in a
    transaction already, or may not make temporary tables (a role without the ``TEMPORARY`` privilege on the
    database, a standby server) — then the block's queries compute everything themselves."""
    import psycopg
    from psycopg.pq import TransactionStatus

    con = backend.con
    if con.info.transaction_status != TransactionStatus.IDLE:
        yield False
        return
    try:
        con.execute("BEGIN READ WRITE")
        con.execute(f'CREATE TEMPORARY TABLE "_centric_probe_{uuid.uuid4().hex[:12]}" (a integer) ON COMMIT DROP')
    except psycopg.Error:  # not allowed here
        _rollback(con)
        yield False
        return
    except BaseException:  # anything else (an interrupt): no transaction may stay open on the reader
        _rollback(con)
        raise
    con._centric_scratch = True
    try:
        yield True
    finally:
        con._centric_scratch = False
        _rollback(con)


def in_scratch(of) -> bool:
    """Whether queries over ``of`` (an Ibis expression or backend) run inside :func:`read_write_scratch`."""
    from psycopg.pq import TransactionStatus

    if hasattr(of, "_find_backend"):
        from ibis.common.exceptions import IbisError

        try:
            of = of._find_backend()
        except IbisError:
            return False
    con = getattr(of, "con", of)
    return bool(getattr(con, "_centric_scratch", False)) and con.info.transaction_status == TransactionStatus.INTRANS


def values_table(backend, frame):
    """The rows of ``frame`` (a pandas DataFrame, every column as text) as a temporary table of ``backend``'s
    session, loaded with ``COPY``, inside :func:`read_write_scratch` (where Ibis's in-memory tables must not be
    used: their finaliser drops them later, on the read-only session)."""
    name = f"_centric_values_{uuid.uuid4().hex[:12]}"
    cols = [str(c) for c in frame.columns]
    con = backend.con
    con.execute(f'CREATE TEMPORARY TABLE "{name}" (' + ", ".join(f'"{c}" text' for c in cols) + ") ON COMMIT DROP")
    with con.cursor() as cur, cur.copy(f'COPY "{name}" (' + ", ".join(f'"{c}"' for c in cols) + ") FROM STDIN") as cp:
        for row in frame.itertuples(index=False):
            cp.write_row([None if v is None or v != v else str(v) for v in row])
    return backend.table(name)


@contextlib.contextmanager
def kept_read_only(backend, expr, prefix: str) -> Iterator[Any | None]:
    """``expr`` computed once into a temporary table on a read-only PostgreSQL session, for the analyses of the
    block, inside :func:`read_write_scratch`. Yields the table, or ``None`` (nothing done) where no such transaction
    can be opened — then the caller computes ``expr`` in each query."""
    sql = backend.compile(expr)  # before the transaction
    with read_write_scratch(backend) as ok:
        if not ok:
            yield None
            return
        name = f"{prefix}{uuid.uuid4().hex[:12]}"
        backend.con.execute(f'CREATE TEMPORARY TABLE "{name}" ON COMMIT DROP AS {sql}')
        yield backend.table(name)


def _rollback(con) -> None:
    """End the transaction under way on psycopg connection ``con``, if any."""
    from psycopg.pq import TransactionStatus

    if con.info.transaction_status != TransactionStatus.IDLE:
        con.execute("ROLLBACK")


def redact(url: str) -> str:
    """The URL without its password, for messages and logs (a PostgreSQL URL's, or a lake URI's in a Spark URL)."""
    text = re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", str(url), flags=re.IGNORECASE)
    if is_spark(text):
        text = re.sub(r"(warehouse=[A-Za-z][A-Za-z0-9+.-]*://[^:/@?]*):[^@/?]*@", r"\1:***@", text)
    return text


def not_available(command: str, db: str | None = "postgresql://") -> StoreError:
    """The error an unported command gives on a PostgreSQL or Spark store."""
    engine = engine_name(db)
    if engine == "DuckDB":
        engine = "PostgreSQL"
    why = " (on Spark centric writes the lake only by ingest, analyze and store copy)" if engine == "Spark" else " yet"
    return StoreError(f"centric {command} is not available on {engine}{why}; use a DuckDB store "
                      f"(--db centric.duckdb). On {engine} today: {', '.join(PORTED_BY_ENGINE[engine])} "
                      "(see docs/deploy.md)")


def open_store(db: str | None = None, read_only: bool = False, reading: bool = False):
    """The store the ``db`` setting names, on its engine. ``read_only`` opens without creating or
    migrating; ``reading`` opens for writing when possible, else read-only (``Store.open_for_reading``)."""
    from .. import settings

    p = settings.get("db", None if db is None else str(db))
    if is_spark(p):
        from .spark import SparkStore

        return SparkStore.open(p)
    if is_postgres(p):
        from .postgres import PgStore

        if reading and not read_only:
            try:
                return PgStore.open(p)
            except StoreError as first:  # a role that may only read: no migration, read-only
                try:
                    return PgStore.open(p, read_only=True)
                except StoreError:
                    raise first from None
        return PgStore.open(p, read_only=read_only)
    from ..store import Store

    if reading:
        return Store.open_for_reading(p)
    return Store.open(p, read_only=read_only)
