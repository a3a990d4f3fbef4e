"""Outgoing webhooks: the webhooks sub-app (centric.web.webhooks does the work)."""

from __future__ import annotations

import json
import sys

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console

webhooks_app = typer.Typer(help="Outgoing webhooks: case created, breached and closed, sent signed by centric serve.",
                           no_args_is_help=True)


@webhooks_app.command("add")
def webhooks_add(
    url: str = typer.Argument(..., help="Where to POST the events (http:// or https://)."),
    event: list[str] = typer.Option(..., "--event", help="case.created, case.breached or case.closed (repeat)."),
    secret_stdin: bool = typer.Option(False, "--secret-stdin", help="Read the signing secret (16 characters or "
                                      "more) from standard input instead of making one."),
) -> None:
    """Send case events to URL, signed with HMAC-SHA256 (header X-Centric-Signature). Only events from now on
    are sent. Prints the secret once: keep it where the receiver checks signatures."""
    from ..web.webhooks import add

    secret = sys.stdin.readline().strip() if secret_stdin else None
    try:
        with _open() as store:
            webhook_id, secret = add(store, url, event, secret=secret)
    except CentricError as e:
        _fail(e)
    console.print(f"webhook {webhook_id} added: {escape(url)} ({', '.join(event)})")
    if not secret_stdin:
        console.print("signing secret (shown once):")
        print(secret)


@webhooks_app.command("list")
def webhooks_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The active webhooks with their deliveries: delivered, waiting (to be sent or retried), given up after
    8 attempts, and the last error."""
    from ..web.webhooks import list_webhooks

    try:
        with _open(read=True) as store:
            hooks = list_webhooks(store)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(hooks, ensure_ascii=False, indent=2))
        return
    if not hooks:
        console.print("No webhooks (add one with: centric webhooks add URL --event case.created).")
        return
    t = Table("id", "url", "events", "since (UTC)", "delivered", "waiting", "given up", "last error")
    for h in hooks:
        t.add_row(h["id"], escape(h["url"]), ", ".join(h["events"]), h["created_at"] or "", f"{h['delivered']:,}",
                  f"{h['waiting']:,}", f"{h['given_up']:,}", escape(h["last_error"] or ""))
    console.print(t)


@webhooks_app.command("remove")
def webhooks_remove(which: str = typer.Argument(..., help="The webhook's id (W001) or URL.")) -> None:
    """Stop sending to a webhook (its deliveries stay on record)."""
    from ..web.webhooks import remove

    try:
        with _open() as store:
            webhook_id = remove(store, which)
    except CentricError as e:
        _fail(e)
    console.print(f"webhook {webhook_id} removed")
