"""What the commands share: the consoles, the chosen store, opening it, failing, small option parsers."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.markup import escape

from .. import settings
from ..errors import CentricError
from ..store import Store
from ..text.taxonomy import builtin_names

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DB_HELP = settings.SETTINGS["db"].help
TAXONOMY_HELP = f"Built-in taxonomy ({', '.join(builtin_names())}) or the path of a .toml file."


class _State:
    db: str | None = None


state = _State()


def _open(read: bool = False) -> Store:
    """The store; ``read``: the command only reads, so a store that cannot be written to (file
    permissions, other processes reading it) is opened read-only."""
    from ..engines import is_spark, open_store

    try:
        if is_spark(state.db) and not read:  # a writing command: as a DuckDB store opened for writing is migrated
            from ..engines.lake import migrate_older

            migrate_older(state.db)
        return open_store(state.db, reading=read)
    except CentricError as e:
        _fail(e)


def refuse_unported(ctx: typer.Context, db: str | None) -> None:
    """On a PostgreSQL or Spark store, stop a command that does not run on that engine with a message naming
    it (before it could fail with a DuckDB error). The lists are ``centric.engines.PORTED_BY_ENGINE``;
    ``metrics`` checks its metric itself; ``--help`` always works."""
    from ..engines import not_available, ported

    command = ctx.invoked_subcommand
    args = ctx.meta.get("centric.args", [])
    if not command or "--help" in args or command in ("store", "metrics"):
        return
    # the words that name sub-commands (``enps pulse``, ``mystery template list``), wherever the group's options
    # put them (``enps --by store pulse``); the group's own command when no word names one (``enps --by store``)
    name, group = command, ctx.command.get_command(ctx, command) if hasattr(ctx.command, "get_command") else None
    for word in (a for a in args if not a.startswith("-")):
        sub = group.get_command(ctx, word) if hasattr(group, "get_command") else None
        if sub is not None:
            name, group = f"{name} {word}", sub
    if ported(name, db):  # a sub-command may be ported before its group's others
        return
    _fail(not_available(name, db))


def _fail(e: Exception) -> None:
    err.print(f"[red]error:[/red] {escape(str(e))}")
    raise typer.Exit(2)


def run_loop(store: Store, as_json: bool = False) -> None:
    """After new data (ingest, analyze): place new signals in cases (``centric cases sync``), printing one
    line. A failure here is reported but does not undo what the command stored."""
    from ..cases.sync import sync

    try:
        r = sync(store)
    except CentricError as e:
        err.print(f"[yellow]cases not synced:[/yellow] {escape(str(e))} (run centric cases sync)")
        return
    if as_json or not (r.signals or r.pending):
        return
    waits = f", {r.pending:,} wait for centric analyze" if r.pending else ""
    console.print(f"cases: {r.opened:,} opened, {r.joined:,} signals joined an open case, {r.reopened:,} reopened"
                  f"{waits} (centric cases list)")


def _compact() -> None:
    from ..engines import is_spark
    from ..store import compact

    if is_spark(state.db):
        _compact_lake()
        return
    try:
        before, after = compact(state.db)
    except CentricError as e:
        _fail(e)
    console.print(f"store rewritten: {before / 1e6:,.1f} MB → {after / 1e6:,.1f} MB; deleted and erased data "
                  "are gone from the file")


def _compact_lake() -> None:
    from ..engines.lake import compact_lake

    try:
        sizes = compact_lake(state.db)
    except CentricError as e:
        _fail(e)
    if not sizes:
        console.print("lake already compact: every table is one file at most")
        return
    for table, (files, before, after) in sizes.items():
        console.print(f"{table}: {files} files → 1, {before / 1e6:,.1f} MB → {after / 1e6:,.1f} MB")
    console.print(f"{len(sizes)} table{'s' if len(sizes) > 1 else ''} rewritten; the old files are gone")


def _day_option(v: str | None, name: str):
    if v is None:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        _fail(CentricError(f"{name}: {v!r} is not a date (YYYY-MM-DD)"))
