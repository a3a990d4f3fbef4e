"""The web app from the command line: ``centric serve``, the users sub-app and the tokens sub-app."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console, state
from .checks import db_path

users_app = typer.Typer(help="People who sign in to the web app: add, list, disable, change.",
                        no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens of the web app's JSON API: add, list, revoke.", no_args_is_help=True)

ROLE_HELP = ("admin (everything), analyst (reads everything, acts on nothing), agent (works its departments' cases) "
             "or shopper (enters mystery-shopping visits and sees their own).")
DEPARTMENT_HELP = "A department of the routing table in use (repeat for several); an agent sees only their cases."
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password (at least 10 characters) from "
                              "standard input, e.g. printf '%s' \"$PW\" | centric users add …")
BY = "cli"


def _read_password() -> str:
    if sys.stdin is None or (hasattr(sys.stdin, "isatty") and sys.stdin.isatty()):
        import getpass

        return getpass.getpass("password: ")
    return sys.stdin.read().rstrip("\r\n")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on.", min=1, max=65535),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Do not run the background work (analysis of "
                                      "new texts, case sync and escalations, webhooks)."),
    db: str = typer.Option(None, "--db", help="The store (as the global --db, which it overrides).",
                           callback=db_path()),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes serving requests side by "
                                "side (PostgreSQL only: a DuckDB store has one writing process). The background "
                                "work runs in one of them."),
) -> None:
    """Run the web app: the inbox, cases, customers, dashboards, alerts, settings and the JSON API.

    On PostgreSQL (--db postgresql://…) the service team's pages, the API and the dashboards, flows, alerts,
    personas, eNPS, mystery scores, the five whys, surveys and more run, and several --workers may serve one store;
    the other pages (employees …) answer that they are not available there yet (see docs/deploy.md)."""
    import uvicorn

    from ..engines import is_postgres

    if db is not None:
        state.db = db
    from ..web import auth, create_app

    store_db = state.db or "centric.duckdb"
    if workers > 1 and not is_postgres(store_db):
        _fail(CentricError(f"--workers {workers}: a DuckDB store is written by one process, so it is served by one "
                           "worker (its threads serve requests side by side); several workers need a PostgreSQL "
                           "store (--db postgresql://…, see docs/deploy.md)"))

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        _fail(CentricError(f"cannot listen on {host}:{port}: {e.strerror or e} (another program uses the port? "
                           "choose another with --port)"))
    if workers > 1:  # each worker process makes its own app (uvicorn imports it by name); checked here first
        from ..engines import open_store

        try:
            with open_store(store_db) as store:  # creates or migrates the tables once, before the workers start
                n, path = auth.count_users(store), store.path
        except CentricError as e:
            _fail(e)
        _listening(host, port, path, n, workers)
        from ..web import app as web_app

        os.environ[web_app.DB_VARIABLE] = store_db
        os.environ[web_app.SCHEDULER_VARIABLE] = "0" if no_scheduler else "1"
        uvicorn.run("centric.web.app:from_environment", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", proxy_headers=False, server_header=False)
        return
    try:
        app = create_app(store_db, scheduler=not no_scheduler)
    except CentricError as e:
        _fail(e)
    hub = app.state.hub
    _listening(host, port, hub.path, auth.count_users(hub.reader()), workers)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False)


def _listening(host: str, port: int, path: str, n: int, workers: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    processes = f"; {workers} worker processes" if workers > 1 else ""
    console.print(f"centric is listening on http://{shown}:{port} (store {escape(path)}; {n:,} users{processes})")
    if n == 0:
        console.print("no users yet: add one with\n"
                      "  printf '%s' 'a long password' | centric users add you@example.com --role admin "
                      "--password-stdin")


def _do(fn, *args: Any, **kwargs: Any) -> Any:
    try:
        with _open() as store:
            return fn(store, *args, **kwargs)
    except CentricError as e:
        _fail(e)


# -- users --------------------------------------------------------------------------------------------------
@users_app.command("add")
def users_add(
    email: str = typer.Argument(..., help="Sign-in e-mail."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    department: list[str] = typer.Option([], "--department", help=DEPARTMENT_HELP),
    agent: str = typer.Option(None, "--agent", help="The person's name in the routing table and as a case owner "
                              "(default: the e-mail's part before @)."),
    name: str = typer.Option(None, "--name", help="Name shown in the app."),
    language: str = typer.Option(None, "--language", help="Language of the pages: en, pl, ru or it (default: "
                                 "the browser's)."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Add a person who signs in to the web app."""
    from ..web import auth

    if not password_stdin:
        _fail(CentricError("give the password on standard input with --password-stdin (it never goes on the "
                           "command line)"))
    password = _read_password()
    user = _do(auth.add_user, email, role, password, department, agent=agent, name=name, language=language, by=BY)
    console.print(f"added {escape(user['email'])} ({user['user_id']}, {user['role']}"
                  + (f", {escape(', '.join(user['departments']))}" if user["departments"] else "") + ")")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the people who may sign in (and those disabled)."""
    from ..web import auth

    users = _do(auth.list_users)
    if as_json:
        out = [{k: (v.isoformat() if hasattr(v, "isoformat") else list(v) if isinstance(v, tuple) else v)
                for k, v in u.items() if k != "password_hash"} for u in users]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not users:
        console.print("no users yet (centric users add EMAIL --role admin --password-stdin)")
        return
    t = Table(box=box.SIMPLE_HEAD)
    for col in ("id", "e-mail", "name", "role", "agent", "departments", "language", "state"):
        t.add_column(col)
    for u in users:
        t.add_row(u["user_id"], escape(u["email"]), escape(u["name"] or ""), u["role"], escape(u["agent"]),
                  escape(", ".join(u["departments"])), u["language"] or "browser",
                  f"disabled {u['disabled_at']:%Y-%m-%d}" if u["disabled_at"] else "active")
    console.print(t)


@users_app.command("disable")
def users_disable(email: str = typer.Argument(..., help="The user's e-mail.")) -> None:
    """Disable a user: their sessions end at once and they cannot sign in (the history keeps their name)."""
    from ..web import auth

    user = _do(auth.set_user, email, enabled=False, by=BY)
    console.print(f"disabled {escape(user['email'])}; their sessions are ended")


@users_app.command("set")
def users_set(
    email: str = typer.Argument(..., help="The user's e-mail."),
    role: str = typer.Option(None, "--role", help=ROLE_HELP),
    department: list[str] = typer.Option(None, "--department", help=DEPARTMENT_HELP + " Replaces the list."),
    agent: str = typer.Option(None, "--agent", help="The person's name in the routing table and as a case owner."),
    name: str = typer.Option(None, "--name", help="Name shown in the app."),
    language: str = typer.Option(None, "--language", help="en, pl, ru or it."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read a new password from standard input."),
    enable: bool = typer.Option(False, "--enable", help="Enable a disabled user again."),
) -> None:
    """Change a user's role, departments, names, language or password (a change of role, departments or
    password ends their sessions)."""
    from ..web import auth

    password = _read_password() if password_stdin else None
    user = _do(auth.set_user, email, role=role, departments=department or None, agent=agent, name=name,
               language=language, password=password, enabled=True if enable else None, by=BY)
    console.print(f"changed {escape(user['email'])} ({user['role']}"
                  + (f", {escape(', '.join(user['departments']))}" if user["departments"] else "") + ")")


def team(routing) -> dict[str, tuple[str, ...]]:
    """Every agent, lead and manager of the routing table → the departments they work, lead or manage."""
    people: dict[str, list[str]] = {}
    for dept in routing.departments.values():
        for person in (*dept.agents, dept.lead, dept.manager):
            if person and dept.name not in people.setdefault(person, []):
                people[person].append(dept.name)
    return {p: tuple(d) for p, d in sorted(people.items())}


@users_app.command("add-team")
def users_add_team(
    domain: str = typer.Option("example.com", "--domain", help="E-mail domain: each person signs in as NAME@DOMAIN."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the one password they all get from "
                                        "standard input (default: one is generated and printed once)."),
) -> None:
    """Add an agent login for every agent, lead and manager of the routing table in use, with the departments
    they work in (a lead or manager: those they lead or manage). People already added are left as they are."""
    from ..cases.config import active
    from ..web import auth

    password = _read_password() if password_stdin else secrets.token_urlsafe(12)
    added, kept = [], []
    try:
        with _open() as store:
            auth.check_password(password)
            people = team(active(store)[0])
            if not people:
                raise CentricError("the routing table in use names no agents, leads or managers; load one with "
                                   "centric cases config --routing FILE")
            for person, deps in people.items():
                email = f"{person}@{domain}"
                if auth.get_user(store, email=email):
                    kept.append(email)
                    continue
                auth.add_user(store, email, "agent", password, deps, agent=person, by=BY)
                added.append((email, deps))
    except CentricError as e:
        _fail(e)
    for email, deps in added:
        console.print(f"added {escape(email)} (agent, {escape(', '.join(deps))})")
    if kept:
        console.print(f"{len(kept)} already present, left as they are")
    console.print(f"{len(added)} agents added")
    if added and not password_stdin:
        console.print(f"their password (shown once): {password}")


# -- tokens -------------------------------------------------------------------------------------------------
@tokens_app.command("add")
def tokens_add(
    name: str = typer.Argument(..., help="A name for the token (who or what uses it)."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    department: list[str] = typer.Option([], "--department", help=DEPARTMENT_HELP),
) -> None:
    """Make an API token; it is printed once, on the last line (only its hash is kept)."""
    from ..web import auth

    token, row = _do(auth.add_token, name, role, department, by=BY)
    console.print(f"token {escape(row['name'])} ({row['token_id']}, {row['role']}"
                  + (f", {escape(', '.join(row['departments']))}" if row["departments"] else "")
                  + "); use it as  Authorization: Bearer TOKEN  — it is shown only now:")
    typer.echo(token)


@tokens_app.command("list")
def tokens_list() -> None:
    """List the API tokens (never the tokens themselves)."""
    from ..web import auth

    rows = _do(auth.list_tokens)
    if not rows:
        console.print("no tokens yet (centric tokens add NAME --role …)")
        return
    t = Table(box=box.SIMPLE_HEAD)
    for col in ("id", "name", "role", "departments", "created", "last used", "state"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["token_id"], escape(r["name"]), r["role"], escape(", ".join(r["departments"])),
                  f"{r['created_at']:%Y-%m-%d %H:%M}",
                  f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "never",
                  f"revoked {r['revoked_at']:%Y-%m-%d}" if r["revoked_at"] else "live")
    console.print(t)


@tokens_app.command("revoke")
def tokens_revoke(name: str = typer.Argument(..., help="The token's name.")) -> None:
    """Revoke a token: it is refused from the next request on."""
    from ..web import auth

    row = _do(auth.revoke_token, name, by=BY)
    console.print(f"revoked {escape(row['name'])} ({row['token_id']})")


__all__ = ["serve", "tokens_app", "users_app"]
