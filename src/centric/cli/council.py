"""The customer council: centric council members | add | leave | import | meetings | actions | compare."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console

council_app = typer.Typer(help="The customer council: its members and their consent, meetings, decisions and the "
                          "action tracker; members' scores against everyone else's.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _audit(store, action: str, object_type: str, object_id: str, detail: dict[str, Any] | None = None) -> None:
    from ..web import audit

    audit.record(store, f"cli:{_by()}", action, object_type, object_id, detail)


def _records(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _json(frame) -> str:
    return json.dumps(_records(frame), ensure_ascii=False, indent=2, default=str)


def _table(frame, columns: list[str], headers: list[str] | None = None) -> Table:
    t = Table(*(headers or columns))
    for r in frame[columns].itertuples(index=False):
        t.add_row(*("" if v is None or (isinstance(v, float) and v != v) else escape(_fmt(v)) for v in r))
    return t


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, bool):
        return "yes" if v else ""
    return str(v)


@council_app.command("members")
def members(
    former: bool = typer.Option(False, "--all", help="Former members too."),
    as_json: bool = JSON,
) -> None:
    """The roster: each member's customer, segment, country, value (revenue and predicted lifetime value), tenure
    (days since the first order), consents in force, role and dates."""
    from ..council import roster

    with _open(read=True) as store:
        r = roster(store, status=None if former else "member")
    f = r.to_frame().drop(columns=["notes"])
    if as_json:
        print(_json(f))
        return
    cols = ["member_id", "customer_id", "segment", "country", "clv", "tenure_days", "consents", "joined_on", "role"]
    heads = ["member", "customer", "segment", "country", "CLV", "tenure (days)", "consents", "joined", "role"]
    if former:
        cols, heads = [*cols, "left_on"], [*heads, "left"]
    console.print(_table(f, cols, heads))
    console.print(f"{len(r.current)} members now, {len(r.former)} former" if former else f"{len(f)} members now "
                  "(--all: former members too)")


@council_app.command("add")
def add(
    who: str = typer.Argument(..., help="The customer: a customer id, e-mail, phone, handle, crm id or card."),
    consent: str = typer.Option("council", "--consent", help="What they consented to, comma-separated; council (taking "
                                "part) is needed, e.g. council,contact,recording."),
    consent_date: str = typer.Option(None, "--consent-date", help="When they gave it (default: the day they join)."),
    joined: str = typer.Option(None, "--joined", help="The day they join (default: today)."),
    role: str = typer.Option(None, "--role", help="Their role, e.g. member or chair."),
    notes: str = typer.Option(None, "--notes", help="Notes (personal data: erased with the customer)."),
    evidence: str = typer.Option(None, "--evidence", help="Where the consent is recorded, e.g. a form's number."),
) -> None:
    """Add a customer to the council, with their consent."""
    from ..council import add_member

    try:
        with _open() as store:
            mid = add_member(store, who, _by(), consent, consent_date, joined, role, notes, evidence)
            _audit(store, "council.add", "council_member", mid)
    except CentricError as e:
        _fail(e)
    console.print(f"added {mid}")


@council_app.command("leave")
def leave_cmd(
    member: str = typer.Argument(..., help="The membership id, e.g. CM0003."),
    on: str = typer.Option(None, "--on", help="The day they left (default: today)."),
    withdrawn: bool = typer.Option(False, "--consent-withdrawn", help="They withdrew their consent: every consent ends "
                                   "and their notes are removed."),
) -> None:
    """End a membership."""
    from ..council import leave

    try:
        with _open() as store:
            leave(store, member, _by(), on, "consent_withdrawn" if withdrawn else "left")
            _audit(store, "council.leave", "council_member", member, {"consent_withdrawn": withdrawn})
    except CentricError as e:
        _fail(e)
    console.print(f"{escape(member)} left the council")


@council_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A roster: CSV, Excel, JSON or Parquet with a customer column (id, e-mail, "
                                "phone …) and optionally consent, consent_date, joined, role, notes, evidence."),
    as_json: bool = JSON,
) -> None:
    """Add the members a roster file lists; rejected rows are kept with file, row, column and reason (centric
    rejected); members already on the council are skipped."""
    from ..council.importer import import_roster

    try:
        with _open() as store:
            r = import_roster(store, file, _by(), name=str(file))
            _audit(store, "council.import", "ingest_run", str(r.run_id), {"added": len(r.added)})
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(f"{escape(str(file))}: read {r.rows_read}, added {len(r.added)}, already members {r.duplicate}, "
                  f"rejected {len(r.rejected)} (run {r.run_id})")
    for x in r.rejected[:20]:
        console.print(f"  row {x.row}{', column ' + escape(x.column) if x.column else ''}: {escape(x.reason)}")


@council_app.command("meetings")
def meetings_cmd(as_json: bool = JSON) -> None:
    """The council's meetings: agenda items, attendance, decisions and actions."""
    from ..council import meetings

    with _open(read=True) as store:
        f = meetings(store)
    if as_json:
        print(_json(f))
        return
    console.print(_table(f, ["meeting_id", "held_on", "title", "items", "present", "absent", "excused", "decisions",
                             "actions", "actions_open"],
                         ["meeting", "day", "title", "items", "present", "absent", "excused", "decisions", "actions",
                          "open"]))


@council_app.command("actions")
def actions_cmd(
    open_only: bool = typer.Option(False, "--open", help="Open and in-progress ones only."),
    overdue: bool = typer.Option(False, "--overdue", help="Overdue ones only (open past their due day)."),
    as_json: bool = JSON,
) -> None:
    """The action tracker: what, owner, due day, status; overdue ones marked."""
    from ..council import actions

    with _open(read=True) as store:
        a = actions(store, overdue=overdue)
    f = a.to_frame()
    if open_only:
        f = f[f["status"].isin(("open", "in_progress"))]
    if as_json:
        print(_json(f))
        return
    console.print(_table(f, ["action_id", "meeting_id", "what", "owner", "due_on", "status", "days_overdue"],
                         ["action", "meeting", "what", "owner", "due", "status", "days overdue"]))
    c = a.counts()
    console.print(f"{c['open'] + c['in_progress']} open ({c['overdue']} overdue), {c['done']} done, {c['dropped']} "
                  f"dropped (as of {dt.date.today():%Y-%m-%d})")


@council_app.command("compare")
def compare_cmd(as_json: bool = JSON) -> None:
    """The members' NPS, CSAT and CES against everyone else's, with 95% intervals and the difference's test
    (Holm-corrected), and the factors they raise."""
    from ..council.compare import compare

    try:
        with _open(read=True) as store:
            c = compare(store)
    except CentricError as e:
        _fail(e)
    f = c.to_frame()
    if as_json:
        print(json.dumps({"members": c.members, "scores": _records(f), "factors": _records(c.factors),
                          "open_cases": list(c.cases["case_id"])}, ensure_ascii=False, indent=2, default=str))
        return
    t = Table("metric", "members", "interval", "n", "everyone else", "interval", "n", "difference", "p (Holm)")
    for m, (a, b, ch) in c.scores.items():
        def s(x):
            return ("no data", "", "0") if x.value is None else (f"{x.value:.1f}", f"{x.low:.1f} … {x.high:.1f}",
                                                                 f"{x.n:,}")
        t.add_row(m.upper(), *s(a), *s(b), "—" if ch is None else f"{ch.delta:+.1f}{' *' if ch.significant else ''}",
                  "—" if ch is None else f"{ch.p_adjusted if ch.p_adjusted is not None else ch.p_value:.3f}")
    console.print(t)
    if len(c.factors):
        console.print(_table(c.factors.assign(factor=c.factors["factor"].astype(str)),
                             ["factor", "members_n", "members_net", "others_n", "others_net"],
                             ["factor", "members: mentions", "net", "others: mentions", "net"]))
    console.print(f"{c.members} members now; their open cases: {len(c.cases)}")
