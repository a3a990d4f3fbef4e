"""Units' employees: centric employees list [--unit U] [--json], employees forget EMPLOYEE [--yes] [--json]."""

from __future__ import annotations

import getpass
import json

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console

employees_app = typer.Typer(help="The company's employees (loaded with centric ingest employees): the list, and "
                                 "erasing one employee's personal data everywhere.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON.")


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def audited(actor: str, role: str | None = None, ip: str | None = None):
    """The ``on_done`` of :func:`centric.employees.forget` that writes the audit entry (ids and counts only) in
    the erasure's own transaction."""
    from ..web import audit

    def write(con, e) -> None:
        audit.write(con, actor, role, "employee.forget", "employee", e.employee_id, e.counts, ip)

    return write


@employees_app.command("list")
def list_cmd(unit: str = typer.Option(None, "--unit", help="Only the employees of this store or department."),
             as_json: bool = JSON) -> None:
    """List the employees: id, name, unit, role, dates; erased ones show no name."""
    from ..employees import employees

    with _open(read=True) as store:
        df = employees(store, unit)
    rows = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return
    if not rows:
        console.print("no employees" + (f" in {escape(unit)}" if unit else "") + " (centric ingest employees FILE)")
        return
    t = Table("id", "name", "unit", "role", "hired", "left")
    for r in rows:
        name = "[erased]" if r["erased"] else (r["name"] or "—")
        t.add_row(escape(r["employee_id"]), escape(name), escape(r["unit"]), escape(r["role"] or "—"),
                  str(r["hired_at"] or "—"), str(r["left_at"] or "—"))
    console.print(t)
    console.print(f"{len(rows):,} employees")


def print_erasure(e, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(e.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(f"employee {escape(e.employee_id)} erased: {e.total:,} rows changed")
    for table, n in e.counts.items():
        console.print(f"  {table}: {n:,}")


@employees_app.command("forget")
def forget_cmd(who: str = typer.Argument(..., help="The employee's id or work e-mail."),
               yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
               as_json: bool = typer.Option(False, "--json", help="Print what was erased as JSON (implies --yes)."),
               ) -> None:
    """Erase one employee's personal data everywhere, in one transaction.

    Their name and e-mail (the row stays, pseudonymous), the link of their survey invitations, their
    customer-orientation assessments, their ideas' texts and authorship, votes and comments, their authorship of
    observation notes, their web account's e-mail and name, the rejected rows naming them, and their name and
    e-mail in every free text (their first name or surname alone, too, in notes about their own unit). Their
    anonymous survey answers stay. Prints the rows changed per table; recorded in the audit log."""
    from ..employees import find_employee, forget

    try:
        with _open() as store:
            employee_id = find_employee(store, who)[0]
            if not (yes or as_json) and not typer.confirm(f"Erase the personal data of employee {employee_id}?"):
                raise typer.Exit(1)
            e = forget(store, employee_id, on_done=audited(f"cli:{_by()}"))
    except CentricError as ex:
        _fail(ex)
    print_erasure(e, as_json)
    if not as_json:
        console.print("the erased data stay readable in the file's free space until it is rewritten: "
                      "run centric compact")
