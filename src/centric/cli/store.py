"""The store between engines: centric store copy (a DuckDB store into PostgreSQL)."""

from __future__ import annotations

import typer
from rich.markup import escape

from ..errors import CentricError
from ._common import _fail, _open, console, state

store_app = typer.Typer(help="The store between engines: copy a DuckDB store into PostgreSQL.",
                        no_args_is_help=True)


@store_app.command("copy")
def copy_cmd(
    to: str = typer.Option(..., "--to", help="The PostgreSQL database: postgresql://USER:PASSWORD@HOST:PORT/DB "
                           "(empty of centric data; its tables are created)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows copied per table as JSON."),
) -> None:
    """Copy the whole DuckDB store (--db) into a PostgreSQL database, all or nothing.

    The tables are created and filled with COPY in one PostgreSQL transaction, and each table's row count is
    checked against the DuckDB store's before it commits: a failure leaves PostgreSQL as it was. The DuckDB
    store is only read. Afterwards point centric at PostgreSQL with --db or CENTRIC_DB (see docs/deploy.md)."""
    from ..engines import is_postgres, redact
    from ..engines.copy import copy_store

    if is_postgres(state.db):
        _fail(CentricError(f"--db {redact(state.db)} is PostgreSQL: store copy reads a DuckDB store (--db FILE.duckdb) "
                           "and writes it into PostgreSQL (--to URL)"))
    if not is_postgres(to):
        _fail(CentricError(f"--to {to!r} is not a PostgreSQL URL; give postgresql://USER:PASSWORD@HOST:PORT/DB"))

    def progress(table: str, n: int) -> None:
        if not as_json:
            console.print(f"{table}: {n:,} rows")

    try:
        with _open(read=True) as source:
            result = copy_store(source, to, progress=progress)
    except CentricError as e:
        _fail(e)
    if as_json:
        import json

        print(json.dumps({"target": result.target, "rows": result.rows}, indent=2))
        return
    console.print(f"copied {result.total:,} rows in {len(result.rows)} tables into {escape(result.target)}")
