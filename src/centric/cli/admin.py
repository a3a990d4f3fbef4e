"""The store's upkeep and description: demo, status, schema, settings, compact."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .. import schema, settings
from ..errors import CentricError
from ._common import _compact, _fail, _open, console, err, state
from .checks import (
    LANGUAGES,
    between,
    one_of,
    output_folder,
)


def demo(
    dir: Path = typer.Option(Path("centric-demo"), "--dir", help="Folder for the demo's files and store.",
                             callback=output_folder()),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same company.",
                             callback=between(0, 2**32 - 1)),
    customers: int = typer.Option(20_000, "--customers", help="Number of customers to generate (at least 10).",
                                  callback=between(10, 10_000_000)),
    lang: str = typer.Option("en", "--lang", help="Language of the demo's report: en, pl, ru or it.",
                             callback=one_of(*LANGUAGES)),
) -> None:
    """Build the demo company: generate its files and load them.

    The files go to DIR/files and the store to DIR/centric.duckdb (or --db); they are loaded through
    the same path as `centric ingest`, and a summary is printed."""
    from ..demo import build_demo

    try:
        summary, report_path = build_demo(dir, seed=seed, n_customers=customers, db=state.db, console=console,
                                          lang=lang)
    except CentricError as e:
        _fail(e)
    console.print(summary)
    console.print(f"Report written: {escape(str(report_path))}")


def status() -> None:
    """Show the store: path, schema version and rows per table (read-only when it cannot be written)."""
    with _open(read=True) as store:
        console.print(f"store {escape(store.path)}, schema version {store.schema_version}"
                      + (" (opened read-only)" if store.read_only else ""))
        t = Table("table", "rows")
        for name, n in store.counts().items():
            t.add_row(name, f"{n:,}")
        console.print(t)


def schema_cmd(markdown: bool = typer.Option(False, "--markdown", help="Print docs/data-model.md.")) -> None:
    """Print the data model (tables, columns, types, allowed values)."""
    if markdown:
        sys.stdout.write(schema.markdown() + "\n")
        return
    for t in schema.TABLES.values():
        console.print(f"[bold]{t.name}[/bold]: {escape(t.doc)}")
        for c in t.columns:
            req = "required" if c.required else "optional"
            console.print(f"  {c.name:<18} {c.type:<9} {req:<8} {escape(c.describe_allowed())}")


def settings_cmd() -> None:
    """List the settings with their current values, defaults and help."""
    t = Table("setting", "value", "default", "environment", "help")
    bad = []
    for s, value, error in settings.effective():
        if error:
            bad.append(error)
        t.add_row(s.name, escape(value), s.default, s.env, s.help)
    console.print(t)
    for why in bad:
        err.print(f"[red]error:[/red] {escape(why)}")
    if bad:
        raise typer.Exit(2)


def compact_cmd() -> None:
    """Rewrite the store's file, so that deleted and erased data cannot be read from its free space.

    Copies everything into a new file beside it, which replaces the old one in one rename; needs the
    store to itself (close notebooks and other commands using it). On a Spark store's local lake: each table
    kept in several Parquet files (every ingest adds one) is rewritten as one file, all tables committed at once;
    Spark is not started. A Spark store opened before (a notebook, a long command) must be opened again: the old
    files are gone."""
    _compact()
