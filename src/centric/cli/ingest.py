"""Loading data and its record: ingest, rejected, runs."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .. import schema, settings
from ..errors import CentricError
from ..store import Store
from ._common import _fail, _open, console, err, run_loop
from .checks import (
    at_least,
)

LOOP_TABLES = ("responses", "feedback", "cases", "customers")  # new rows there may be (or link) signals


def ingest(
    table: str = typer.Argument(..., help="Target table: " + ", ".join(
        t.name for t in schema.TABLES.values() if t.ingestable)),
    files: list[Path] = typer.Argument(..., help="Files: .csv/.tsv/.txt, .xlsx, .json, .jsonl, .parquet."),
    mapping: Path = typer.Option(None, "--mapping", help="TOML file naming columns, recoding their values "
                                 "(value tables, formulas such as 6 - x, no-answer codes) and giving constants."),
    set_: list[str] = typer.Option([], "--set", help="A constant for a missing column, e.g. --set source=review."),
    replace: bool = typer.Option(False, "--replace", help="Load a file loaded before again (e.g. with a better "
                                 "mapping or settings), replacing what it stored then, all or nothing."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 3 when any row is rejected."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
    day_first: str = typer.Option(None, "--day-first", help=settings.SETTINGS["day_first"].help),
    timezone: str = typer.Option(None, "--timezone", help=settings.SETTINGS["timezone"].help),
    default_country: str = typer.Option(None, "--default-country",
                                        help=settings.SETTINGS["default_country"].help),
    currency: str = typer.Option(None, "--currency", help=settings.SETTINGS["currency"].help),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    cases: bool = typer.Option(True, "--cases/--no-cases", help="Afterwards, open cases for new complaints, "
                               "unhappy answers and negative posts (centric cases sync)."),
) -> None:
    """Load files into a table and report what was stored or rejected.

    Prints read / stored / rejected / duplicate counts per file, the first rejection reasons, what
    the mapping recoded and what was assumed (with the setting that would change it).
    Exit codes: 0 loaded; 1 a file could not be loaded or none of its rows stored; 2 a usage error
    (bad argument, invalid mapping file); 3 a file was loaded only in part: more of its rows were
    rejected than stored (with --strict: any row rejected)."""
    from ..ingest import Mapping
    from ..ingest import ingest as do_ingest
    from ..ingest.load import resolve_options

    values = set_values(set_)
    try:
        rules = Mapping.load(mapping) if mapping else None
        if rules is not None and table in schema.TABLES and schema.TABLES[table].ingestable:
            rules.check(schema.TABLES[table])
        resolve_options(rules or Mapping(), {"day_first": day_first, "timezone": timezone,
                                             "default_country": default_country, "currency": currency})
    except CentricError as e:
        _fail(e)
    failed = partial = False
    results = []
    with _open() as store:
        for f in files:
            try:
                res = do_ingest(table, f, store=store, mapping=rules, values=values, sheet=sheet,
                                day_first=day_first, timezone=timezone, default_country=default_country,
                                currency=currency, replace=replace)[0]
            except CentricError as e:
                err.print(f"[red]error:[/red] {escape(str(e))}")
                failed = True
                continue
            results.append(res)
            failed |= not res.ok
            partial |= res.partial or (strict and res.rows_rejected > 0)
            if not as_json:
                _print_result(store, res)
        if cases and any(r.rows_stored for r in results) and table in LOOP_TABLES:
            if getattr(store, "engine", "duckdb") in ("spark", "lake"):
                if not as_json:  # cases do not run on Spark: the lake is for the analyses at scale
                    console.print("cases: not synced (centric cases is not available on Spark)")
            else:
                run_loop(store, as_json)
    finish(results, as_json, failed, partial)


def set_values(set_: list[str]) -> dict[str, str]:
    """The ``--set column=value`` options as a dict (a usage error without ``=``)."""
    values = {}
    for item in set_:
        k, sep, v = item.partition("=")
        if not sep:
            _fail(CentricError(f"--set takes column=value, got {item!r}"))
        values[k.strip()] = v.strip()
    return values


def finish(results: list, as_json: bool, failed: bool, partial: bool) -> None:
    """Print the results as JSON (with ``as_json``) and exit 1 when a source failed, 3 when one loaded in part."""
    if as_json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, default=str, indent=2))
    if failed:
        raise typer.Exit(1)
    if partial:
        raise typer.Exit(3)


def _print_result(store: Store, res) -> None:
    from ..ingest.load import rejected_summary

    how = ", ".join(x for x in (res.format, res.encoding, repr(res.delimiter) if res.delimiter else None) if x)
    console.print(
        f"{escape(res.source)} → {res.table} ({how}): read {res.rows_read:,}, stored {res.rows_stored:,}, "
        f"rejected {res.rows_rejected:,}, duplicate {res.rows_duplicate:,}"
        + (f" — {res.status}" if res.status != "stored" else "")
    )
    if res.replaced_runs:
        console.print(f"  replaced run {', '.join(map(str, res.replaced_runs))}: {res.rows_removed:,} rows it had "
                      "stored were taken out, its rejected rows too")
    if res.customers_created or res.customers_merged:
        console.print(f"  customers: {res.customers_created:,} new, {res.customers_merged:,} merged")
    if res.ignored_columns:
        console.print(f"  columns not used: {escape(', '.join(res.ignored_columns))}")
    if res.rows_rejected and res.run_id:
        for r in rejected_summary(store, res.run_id, limit=5):
            col = f", column '{escape(r['column'])}'" if r["column"] else ""
            console.print(f"  [yellow]row {r['row']}{col}[/yellow]: {escape(r['reason'])}")
        if res.rows_rejected > 5:
            console.print(f"  … see all with: centric rejected --run {res.run_id}")
    for note in res.notes:
        console.print(f"  [cyan]note:[/cyan] {escape(note)}")
    if not res.ok:
        err.print(f"[red]{escape(res.source)}: nothing could be stored[/red]")


def rejected(
    run: int = typer.Option(None, "--run", help="Only this ingest run.", callback=at_least(1)),
    limit: int = typer.Option(50, "--limit", help="At most this many rows.", callback=at_least(1)),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List rejected rows with file, row, column, value and reason."""
    with _open(read=True) as store:
        t = store.table("rejected_rows")
        if run is not None:
            t = t.filter(t.run_id == run)
        cols = ("run_id", "source", "row_number", "column_name", "value", "reason")
        got = t.order_by([t.run_id, t.row_number, t.column_name]).select(*cols).limit(limit).to_pyarrow()
        rows = list(zip(*(got[c].to_pylist() for c in cols), strict=True))
    keys = ("run", "source", "row", "column", "value", "reason")
    if as_json:
        print(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], ensure_ascii=False, indent=2))
        return
    t = Table(*keys)
    for r in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in r))
    console.print(t)


def runs(limit: int = typer.Option(50, "--limit", help="At most this many runs.", callback=at_least(1))) -> None:
    """List ingest runs: what was loaded, when, and with what result."""
    with _open(read=True) as store:
        t = store.table("ingest_runs")
        cols = ("run_id", "table_name", "source", "format", "encoding", "status", "rows_read", "rows_stored",
                "rows_rejected", "rows_duplicate", "finished_at")
        got = t.order_by(t.run_id.desc()).select(*cols).limit(limit).to_pyarrow()
        rows = list(zip(*(got[c].to_pylist() for c in cols), strict=True))
    t = Table("run", "table", "source", "format", "encoding", "status", "read", "stored", "rejected",
              "duplicate", "finished (UTC)")
    for r in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in r))
    console.print(t)
