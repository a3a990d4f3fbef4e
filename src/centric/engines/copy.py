"""``centric store copy``: a whole DuckDB store into a PostgreSQL database, the way a team moves from the
embedded store to a shared one (:func:`copy_store`), or into a lake of Parquet folders that Spark reads
(:func:`copy_to_lake`).

Everything happens in one PostgreSQL transaction: the tables are created (``PgStore._migrate``), each
table is loaded with COPY, the metadata (the keys that sign cookies and survey links) follows, and every
table's row count is checked against the source's before the commit. Any failure rolls it all back:
PostgreSQL is left as it was. The DuckDB store is read in one transaction too (one consistent snapshot)
and never written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .. import schema
from ..errors import StoreError
from . import redact
from .postgres import META, PgStore

BATCH_ROWS = 50_000

__all__ = ["CopyResult", "copy_store", "copy_to_lake"]


@dataclass(frozen=True)
class CopyResult:
    target: str  # the URL without its password
    rows: dict[str, int]  # table -> rows copied

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _rows(source_con, table: str, columns: list[str]) -> Iterator[tuple]:
    """The rows of a DuckDB table, read in Arrow batches."""
    cols = ", ".join(f'"{c}"' for c in columns)
    reader = source_con.execute(f'SELECT {cols} FROM "{table}"').to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)


def copy_table(source_con, target: PgStore, table: str) -> int:
    """One table from the DuckDB connection into the PostgreSQL store (inside its open transaction)."""
    columns = schema.TABLES[table].column_names
    return target.copy_rows(table, columns, _rows(source_con, table, columns))


def copy_store(source, url: str, progress: Callable[[str, int], None] | None = None) -> CopyResult:
    """Copy every table of the DuckDB store ``source`` (a ``centric.store.Store``) into the PostgreSQL
    database at ``url``, which must hold no centric data yet. All or nothing; returns the rows per table."""
    import psycopg

    if getattr(source, "engine", "duckdb") != "duckdb":
        raise StoreError("store copy reads a DuckDB store (--db FILE.duckdb) and writes it into PostgreSQL (--to URL)")
    target = PgStore.open(url, migrate=False)
    table = "(the tables' creation)"
    copied: dict[str, int] = {}
    try:
        source.con.execute("BEGIN TRANSACTION")  # one snapshot of the source
        try:
            expected = {name: source.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                        for name in schema.TABLES}
            with target.transaction():
                target._migrate()
                for name in schema.TABLES:
                    table = name
                    if target.con.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")').fetchone()[0]:
                        raise StoreError(f"the PostgreSQL store {target.path} already holds data (table {name} "
                                         "is not empty); copy into an empty database")
                for name in schema.TABLES:
                    table = name
                    copied[name] = copy_table(source.con, target, name)
                    if progress:
                        progress(name, copied[name])
                table = META
                _copy_meta(source.con, target)
                for name, n in expected.items():
                    got = target.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                    if got != n:
                        raise StoreError(f"table {name}: {got:,} rows in PostgreSQL, {n:,} in the DuckDB store")
                # the planner's statistics at once, not when autovacuum gets round to it: without them it
                # sorts 10 M answers to join the customers instead of hashing 200,000 customers (2× slower)
                target.period_statistics()
                for name in schema.TABLES:
                    target.con.execute(f'ANALYZE "{name}"')
        finally:
            source.con.execute("COMMIT")
    except psycopg.Error as e:
        where = f" ({e.diag.context.strip()})" if getattr(e, "diag", None) and e.diag.context else ""
        message = (e.diag.message_primary if getattr(e, "diag", None) and e.diag.message_primary
                   else str(e).strip().splitlines()[0])
        raise StoreError(f"cannot copy table {table} into {target.path}: {message}{where}; nothing was "
                         "copied (PostgreSQL is as it was)") from e
    except StoreError as e:
        raise StoreError(f"{e}; nothing was copied (PostgreSQL is as it was)") from e
    finally:
        target.close()
    return CopyResult(redact(url), copied)


def _copy_meta(source_con, target: PgStore) -> None:
    """The source's metadata (kept secrets …) beside the target's schema version, through COPY into a
    temporary table and one upsert."""
    rows = source_con.execute(f"SELECT key, value FROM {META} WHERE key <> 'schema_version'").fetchall()
    target.con.execute("CREATE TEMPORARY TABLE centric_meta_in (key TEXT, value TEXT) ON COMMIT DROP")
    with target.con.cursor() as cur, cur.copy("COPY centric_meta_in (key, value) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    target.con.execute(f"INSERT INTO {META} SELECT key, value FROM centric_meta_in "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


# -- into a lake of Parquet folders, for Spark ----------------------------------------------------------------
def lake_folder(url: str):
    """The local folder of a Spark URL's lake, which ``store copy`` writes (see ``lake.lake_path``); a remote
    lake (``hdfs://``, ``s3a://``) is written locally and then uploaded with its own tools."""
    from .lake import lake_path

    return lake_path(url, "store copy")


def copy_to_lake(source, url: str, progress: Callable[[str, int], None] | None = None) -> CopyResult:
    """Write every table of the DuckDB store ``source`` as Parquet into the lake of the Spark URL ``url``
    (``spark:MASTER?warehouse=PATH``): ``PATH/TABLE/data.parquet`` for each table of the schema, and
    ``PATH/centric_meta/`` with the schema version and the store's settings (the taxonomy's added factors …), never
    its secret keys (``*_secret``, which sign cookies and survey links: the lake is for the analyses).

    The lake must hold no centric table yet. Everything is written into a hidden folder inside it first and
    every file's row count is checked against the source's (one snapshot of it) before the tables are moved into
    place by renames; any failure removes what was written, so the lake is left as it was."""
    import os
    import shutil
    import uuid

    import duckdb

    if getattr(source, "engine", "duckdb") != "duckdb":
        raise StoreError("store copy reads a DuckDB store (--db FILE.duckdb) and writes it into a lake (--to spark:…)")
    lake = lake_folder(url)
    if lake.exists() and not lake.is_dir():
        raise StoreError(f"the lake {lake} is a file; give a folder (spark:MASTER?warehouse=/path/to/lake)")
    if not lake.parent.is_dir():
        raise StoreError(f"cannot create the lake {lake}: folder {lake.parent} does not exist")
    taken = [name for name in (*schema.TABLES, META) if (lake / name).exists()]
    if taken:
        raise StoreError(f"the lake {lake} already holds centric data (folder {taken[0]}); copy into an empty folder")
    created = not lake.exists()
    lake.mkdir(exist_ok=True)
    work = lake / f".centric-copy-{uuid.uuid4().hex[:12]}"
    work.mkdir()
    table = "(the lake)"
    copied: dict[str, int] = {}
    moved: list[str] = []
    try:
        source.con.execute("BEGIN TRANSACTION")  # one snapshot of the source
        try:
            for name, t in schema.TABLES.items():
                table = name
                cols = ", ".join(f'"{c}"' for c in t.column_names)
                target = work / name / "data.parquet"
                target.parent.mkdir()
                source.con.execute(f'COPY (SELECT {cols} FROM "{name}") TO {_quote(str(target))} '
                                   "(FORMAT parquet, COMPRESSION zstd)")
                want = source.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                got = duckdb.execute(f"SELECT count(*) FROM read_parquet({_quote(str(target))})").fetchone()[0]
                if got != want:
                    raise StoreError(f"table {name}: {got:,} rows written to the lake, {want:,} in the DuckDB store")
                copied[name] = want
                if progress:
                    progress(name, want)
            table = META
            (work / META).mkdir()
            source.con.execute(f"COPY (SELECT 'schema_version' AS key, {_quote(str(schema.SCHEMA_VERSION))} AS value "
                               f"UNION ALL SELECT key, value FROM {META} WHERE key <> 'schema_version' "
                               f"AND NOT suffix(key, '_secret')) TO {_quote(str(work / META / 'data.parquet'))} "
                               "(FORMAT parquet)")
        finally:
            source.con.execute("COMMIT")
        for name in (*schema.TABLES, META):
            table = name
            os.rename(work / name, lake / name)
            moved.append(name)
    except (duckdb.Error, OSError, StoreError) as e:
        for name in moved:
            shutil.rmtree(lake / name, ignore_errors=True)
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreError(f"cannot copy table {table} into the lake {lake}: {message}; nothing was copied (the lake "
                         "is as it was)") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if created and not copied.keys() - moved and not any(lake.iterdir()):
            lake.rmdir()
    return CopyResult(redact(url), copied)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
