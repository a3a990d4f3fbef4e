"""The store's engines: an embedded DuckDB file (``centric.store.Store``, the default) or a shared
PostgreSQL database (``centric.engines.postgres.PgStore``), chosen by the ``db`` setting (``--db``,
``CENTRIC_DB``): a path opens a DuckDB file, ``postgresql://USER:PASSWORD@HOST:PORT/DB`` a PostgreSQL
database.

PostgreSQL runs a first slice of centric (see docs/deploy.md): the commands in :data:`PORTED`; every
other command refuses with :func:`not_available`'s message rather than fail with a DuckDB error.

>>> is_postgres("postgresql://centric:secret@db.example.com:5432/centric"), is_postgres("centric.duckdb")
(True, False)
>>> redact("postgresql://centric:secret@db.example.com:5432/centric")
'postgresql://centric:***@db.example.com:5432/centric'
>>> engine_name("centric.duckdb"), engine_name("postgres://db/centric")
('DuckDB', 'PostgreSQL')
"""

from __future__ import annotations

import re

from ..errors import StoreError

__all__ = ["PORTED", "engine_name", "is_postgres", "not_available", "open_store", "redact"]

_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)

PORTED = ("status", "schema", "settings", "metrics nps", "metrics csat", "metrics ces", "drivers", "flows",
          "ingest", "rejected", "runs", "analyze", "customers score")
PORTED += ("metrics complaints", "metrics journeys", "metrics churn", "customers merges", "customers alerts",
           "customers validate", "customers reasons", "customers phases", "journeys map", "report")
"""The commands that work on a PostgreSQL store (``store copy`` writes into one from a DuckDB store)."""


def is_postgres(db: str | None) -> bool:
    """Whether the ``db`` setting names a PostgreSQL database (a ``postgresql://`` or ``postgres://`` URL)."""
    return bool(db) and bool(_URL.match(str(db).strip()))


def engine_name(db: str | None) -> str:
    return "PostgreSQL" if is_postgres(db) else "DuckDB"


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", str(url), flags=re.IGNORECASE)


def not_available(command: str) -> StoreError:
    """The error an unported command gives on a PostgreSQL store."""
    return StoreError(f"centric {command} is not available on PostgreSQL yet; use a DuckDB store "
                      f"(--db centric.duckdb). On PostgreSQL today: {', '.join(PORTED)} "
                      "(see docs/deploy.md)")


def open_store(db: str | None = None, read_only: bool = False, reading: bool = False):
    """The store the ``db`` setting names, on its engine. ``read_only`` opens without creating or
    migrating; ``reading`` opens for writing when possible, else read-only (``Store.open_for_reading``)."""
    from .. import settings

    p = settings.get("db", None if db is None else str(db))
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
