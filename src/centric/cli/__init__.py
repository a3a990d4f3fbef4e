"""The command line: parses arguments, calls the core, prints. No analytics here.

One module per capability; this one builds the root app, its ``--db``/``--verbose`` options and registers
every module's commands in the order ``centric --help`` lists them.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.markup import escape
from typer.core import TyperGroup

from ..errors import CentricError
from . import admin, cases, customers, drivers, ingest, metrics, report, sla, surveys, text, web
from . import flows as flows_cli
from . import personas as personas_cli
from . import whys as whys_cli
from ._common import DB_HELP, err, refuse_unported, state
from .checks import db_path
from .council import council_app
from .employees import employees_app
from .enps import enps_app
from .ideas import ideas_app
from .journeys import journeys_app
from .mystery import mystery_app
from .orientation import observations_app, orientation_app
from .store import store_app
from .webhooks import webhooks_app


class _Root(TyperGroup):
    """The root command group; keeps the subcommand's own arguments where the root callback can read them
    (``refuse_unported`` names a group's subcommand, and lets ``--help`` through)."""

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta["centric.args"] = list(rest)
        return name, cmd, rest


app = typer.Typer(
    cls=_Root,
    help="centric: listen to customers in every channel, measure, understand, decide and act.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(text.text_app, name="text")
app.add_typer(customers.customers_app, name="customers")


@app.callback()
def _main(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", help=DB_HELP, envvar="CENTRIC_DB", callback=db_path()),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    state.db = db
    refuse_unported(ctx, db)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


app.command()(admin.demo)
app.command()(ingest.ingest)
app.command()(metrics.metrics)
app.command()(report.report)
app.command()(ingest.rejected)
app.command()(ingest.runs)
app.command()(admin.status)
app.command("schema")(admin.schema_cmd)
app.command("settings")(admin.settings_cmd)
app.command("compact")(admin.compact_cmd)
app.command("drivers")(drivers.drivers_cmd)
app.command("analyze")(text.analyze_cmd)
app.add_typer(sla.sla_app, name="sla")
app.add_typer(cases.cases_app, name="cases")
app.command("serve")(web.serve)
app.add_typer(web.users_app, name="users")
app.add_typer(web.tokens_app, name="tokens")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(surveys.surveys_app, name="surveys")
app.command("whys")(whys_cli.whys_cmd)
app.command("flows")(flows_cli.flows_cmd)
app.command("personas")(personas_cli.personas_cmd)
app.command("empathy")(personas_cli.empathy_cmd)
app.add_typer(journeys_app, name="journeys")
app.add_typer(council_app, name="council")
app.add_typer(ideas_app, name="ideas")
app.add_typer(orientation_app, name="orientation")
app.add_typer(observations_app, name="observations")
app.add_typer(mystery_app, name="mystery")
app.add_typer(enps_app, name="enps")
app.add_typer(employees_app, name="employees")
app.add_typer(store_app, name="store")


def main() -> None:
    try:
        app()
    except CentricError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        sys.exit(2)


__all__ = ["app", "main"]
