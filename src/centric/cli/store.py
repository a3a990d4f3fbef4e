"""The store between engines: centric store copy (a DuckDB store into PostgreSQL, or into a lake for Spark) and
centric store migrate (any store to this centric's schema version)."""

from __future__ import annotations

import typer
from rich.markup import escape

from ..errors import CentricError
from ._common import _fail, _open, console, state

store_app = typer.Typer(help="The store between engines: copy a DuckDB store into PostgreSQL or a lake for Spark; "
                        "migrate a store to this centric's schema version.",
                        no_args_is_help=True)


@store_app.command("copy")
def copy_cmd(
    to: str = typer.Option(..., "--to", help="The PostgreSQL database: postgresql://USER:PASSWORD@HOST:PORT/DB "
                           "(empty of centric data; its tables are created), or a Spark store's lake: "
                           "spark:MASTER?warehouse=PATH (a local folder, empty of centric tables; each table is "
                           "written as PATH/TABLE/data.parquet)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows copied per table as JSON."),
) -> None:
    """Copy the whole DuckDB store (--db) into a PostgreSQL database or a Spark lake, all or nothing.

    PostgreSQL: the tables are created and filled with COPY in one PostgreSQL transaction, and each table's row
    count is checked against the DuckDB store's before it commits: a failure leaves PostgreSQL as it was.
    Spark: every table is written as Parquet into a hidden folder of the lake, its row count checked, then moved
    into place; a failure leaves the lake as it was. The DuckDB store is only read. Afterwards point centric at
    the copy with --db or CENTRIC_DB (see docs/deploy.md)."""
    from ..engines import engine_name, is_postgres, is_spark, redact
    from ..engines.copy import copy_store, copy_to_lake

    if is_postgres(state.db) or is_spark(state.db):
        _fail(CentricError(f"--db {redact(state.db)} is {engine_name(state.db)}: store copy reads a DuckDB store "
                           "(--db FILE.duckdb) and writes it into PostgreSQL or a Spark lake (--to URL)"))
    if not is_postgres(to) and not is_spark(to):
        _fail(CentricError(f"--to {to!r} is neither a PostgreSQL URL nor a Spark store; give "
                           "postgresql://USER:PASSWORD@HOST:PORT/DB or spark:MASTER?warehouse=PATH"))

    def progress(table: str, n: int) -> None:
        if not as_json:
            console.print(f"{table}: {n:,} rows")

    try:
        with _open(read=True) as source:
            result = (copy_to_lake if is_spark(to) else copy_store)(source, to, progress=progress)
    except CentricError as e:
        _fail(e)
    if as_json:
        import json

        print(json.dumps({"target": result.target, "rows": result.rows}, indent=2))
        return
    console.print(f"copied {result.total:,} rows in {len(result.rows)} tables into {escape(result.target)}")


@store_app.command("migrate")
def migrate_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the schema versions before and after as JSON."),
) -> None:
    """Bring the store (--db) to this centric's schema version, all or nothing.

    A DuckDB or PostgreSQL store is migrated whenever centric opens it for writing; this command does it on
    purpose and says so. A Spark store's lake (a local folder) is migrated by the next write into it (centric
    ingest) or by this command, without Spark: each table whose files lack the newer columns is rewritten with
    them (the customer keys filled from the ids), and all of it committed at once; Spark reads only a lake of
    this centric's version."""
    from ..engines import is_spark, open_store, redact
    from ..engines.lake import migrate_lake

    try:
        if is_spark(state.db):
            before, after = migrate_lake(state.db)
        else:
            with open_store(state.db, reading=False) as store:  # migrated when opened for writing
                after = store.schema_version
                before = after if store.migrated_from is None else store.migrated_from
    except CentricError as e:
        _fail(e)
    target = redact(state.db)
    if as_json:
        import json

        print(json.dumps({"store": target, "schema_version_before": before, "schema_version": after}))
        return
    if before == after:
        console.print(f"{escape(target)}: schema version {after} (this centric's)")
    elif before == 0:
        console.print(f"{escape(target)}: created with schema version {after}")
    else:
        console.print(f"{escape(target)}: migrated from schema version {before} to {after}")
