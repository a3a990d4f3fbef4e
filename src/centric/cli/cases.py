"""The closed loop: the cases sub-app (sync, tick, list, show, the workflow, the customer's answer, config)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import _check, at_least, between, input_file

cases_app = typer.Typer(help="The closed loop: cases from signals, on the clock, owned until the customer says "
                        "it is solved.", no_args_is_help=True)


def _now_test(v: str) -> str | None:
    try:
        dt.datetime.fromisoformat(v)
    except ValueError:
        return f"{v!r} is not an ISO time such as 2026-10-31T14:30 or 2026-10-31T14:30+01:00"
    return None


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


ACTOR = typer.Option(None, "--actor", help="Who does it (default: the user running the command).")
NOW = typer.Option(None, "--now", help="When it happens, ISO time (without an offset: UTC); for replaying "
                   "history. Default: now.", callback=_check(_now_test))
CASE_ID = typer.Argument(..., help="Case id, e.g. CX-0000042.")


def _when(v: str | None) -> dt.datetime | None:
    if v is None:
        return None
    t = dt.datetime.fromisoformat(v)
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def _do(op: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a workflow operation on the store; a refusal ends in ``error: …`` and exit code 2."""
    try:
        with _open() as store:
            return op(store, *args, **kwargs)
    except CentricError as e:
        _fail(e)


def _said(outcome) -> None:
    console.print(escape(outcome.message))


# -- the loop ---------------------------------------------------------------------------------------------

@cases_app.command("sync")
def cases_sync(
    unanalysed: bool = typer.Option(False, "--unanalysed", help="Take texts centric analyze has not seen yet as "
                                    "they are (without a factor: into triage) instead of leaving them waiting."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    now: str = NOW,
) -> None:
    """Place new signals (complaints, unhappy survey answers, negative posts about our brand) in cases; running
    it twice creates nothing new."""
    from ..cases.sync import sync

    r = _do(sync, now=_when(now), unanalysed=unanalysed)
    if as_json:
        print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"{r.signals:,} new signals: {r.opened:,} cases opened ({r.triage:,} in triage), {r.joined:,} "
                  f"joined an open case, {r.reopened:,} reopened a case, {r.imported:,} covered by imported cases")
    if r.pending:
        console.print(f"{r.pending:,} signals wait for centric analyze (or run with --unanalysed)")
    if r.proactive is not None:
        console.print(f"proactive contacts: {escape(_summary(r.proactive))}")


@cases_app.command("tick")
def cases_tick(as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
               now: str = NOW) -> None:
    """Refresh the clocks, record breaches and apply escalation levels (each once; never on closed cases)."""
    from ..cases.escalation import tick

    r = _do(tick, now=_when(now))
    if as_json:
        print(json.dumps({"now": _iso(r.now), "clocks": r.clocks, "breaches": r.breaches,
                          "escalations": {str(k): v for k, v in r.escalations.items()}}, indent=2))
        return
    levels = ", ".join(f"level {k}: {v:,}" for k, v in r.escalations.items())
    console.print(f"{r.clocks:,} clocks refreshed at {_iso(r.now)}: {r.breaches:,} new breaches, {r.escalated:,} "
                  f"escalations" + (f" ({levels})" if levels else ""))


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds") + "Z"


def _summary(result: Any) -> str:
    """A one-line account of a result object: its whole numbers, by name."""
    d = result.to_dict() if hasattr(result, "to_dict") else vars(result)
    parts = [f"{k.replace('_', ' ')} {v:,}" for k, v in d.items() if isinstance(v, int) and not isinstance(v, bool)]
    return ", ".join(parts) or str(result)


# -- reading ----------------------------------------------------------------------------------------------

@cases_app.command("list")
def cases_list(
    status: list[str] = typer.Option(None, "--status", help="Only cases in this status (repeat for several).",
                                     callback=_check(lambda vs: _statuses(vs))),
    department: str = typer.Option(None, "--department", help="Only this department's cases."),
    owner: str = typer.Option(None, "--owner", help="Only this person's cases."),
    overdue: bool = typer.Option(False, "--overdue", help="Only cases with a running clock past due."),
    limit: int = typer.Option(None, "--limit", help="At most this many cases.", callback=at_least(1)),
    as_json: bool = typer.Option(False, "--json", help="Print the case objects as JSON (docs/cases.md)."),
) -> None:
    """Cases, the most urgent first (priority, then the oldest): who owns them and how their clocks stand."""
    from ..cases.views import list_cases

    try:
        with _open(read=True) as store:
            cases = list_cases(store, status=status or None, department=department, owner=owner,
                               overdue=overdue, limit=limit)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(cases, ensure_ascii=False, indent=2))
        return
    console.print(_table(cases))
    flagged = sum(c["passed_hand_to_hand"] for c in cases)
    console.print(f"{len(cases):,} cases" + (f"; ⚑ {flagged:,} passed from hand to hand (transferred more than "
                                             "once)" if flagged else ""))


def _statuses(values: list[str]) -> str | None:
    from ..cases.model import CASE_STATUSES

    bad = [v for v in values if v not in CASE_STATUSES]
    return f"unknown status {bad[0]!r}; use one of {', '.join(CASE_STATUSES)}" if bad else None


_CLOCK_SHORT = {"first_response": "first", "next_response": "next", "resolution": "resolution",
                "confirmation": "confirm"}


def _table(cases: list[dict]) -> Table:
    """One line a case; the worst clock (breached before at risk before on track) with its due time;
    ⚑ marks a case passed from hand to hand (more than one transfer). On a narrow terminal the less
    needed columns are left out (the JSON has everything)."""
    from ..cases.views import worst_clock

    rows = []
    for c in cases:
        clock, state, due = worst_clock(c)
        rows.append({
            "case": c["id"], "customer": c["customer_id"] or c["author"], "factor": c["factor"],
            "department": c["department"], "owner": c["owner"], "status": c["status"], "prio": c["priority"],
            "clock": f"{_CLOCK_SHORT[clock]} {state.replace('_', ' ')}" if clock else None,
            "due (UTC)": due[:16].replace("T", " ") if due else None, "esc": c["escalation_level"] or None,
            "moves": f"{c['transfers']} ⚑" if c["passed_hand_to_hand"] else c["transfers"] or None})
    columns = ["case", "customer", "factor", "department", "owner", "status", "prio", "clock", "due (UTC)", "esc",
               "moves"]
    for leave_out in (None, "customer", "esc", "prio", "factor", "moves", "owner"):
        if leave_out:
            columns.remove(leave_out)
        t = Table(*columns, box=box.SIMPLE_HEAD, pad_edge=False)
        for r in rows:
            t.add_row(*(escape(str(r[k])) if r[k] is not None else "" for k in columns))
        if console.measure(t, options=console.options.update_width(10_000)).maximum <= console.width:
            break
    return t


@cases_app.command("show")
def cases_show(case_id: str = CASE_ID,
               as_json: bool = typer.Option(False, "--json", help="Print the case object as JSON.")) -> None:
    """One case: its clocks, signals, root cause and every event."""
    from ..cases.views import show_case

    try:
        with _open(read=True) as store:
            case = show_case(store, case_id)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(case, ensure_ascii=False, indent=2))
        return
    _print_case(case)


def _print_case(c: dict) -> None:
    def line(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            console.print(f"[bold]{label}:[/bold] {escape(str(value))}")

    line("case", f"{c['id']} — {c['status']}, {c['priority'] or 'no'} priority")
    line("customer", c["customer_id"] or c["author"])
    line("factor", c["factor"])
    line("department", c["department"])
    line("owner", c["owner"])
    line("channel", c["channel"])
    line("opened", c["opened_at"])
    if c["escalation_level"]:
        line("escalation level", f"{c['escalation_level']} ({c['escalated_to']})")
    if c["transfers"]:
        line("transfers", f"{c['transfers']}" + (" — passed from hand to hand" if c["passed_hand_to_hand"] else ""))
    line("reopened", c["reopen_count"] or None)
    line("linked to", c["linked_case_id"])
    line("signals", ", ".join(f"{s['table']} {s['id']}" for s in c["signals"]))
    line("root cause", " / ".join(v for v in (c["root_cause"]["cause"], c["root_cause"]["sub_cause"]) if v))
    line("root cause note", c["root_cause"]["note"])
    line("action taken", c["action"])
    if c["clocks"]:
        t = Table("clock", "state", "started", "due", "stopped", "target (business min)", title="clocks (UTC)")
        for name, k in c["clocks"].items():
            t.add_row(*(escape(str(v)) if v is not None else "" for v in (
                name, k.get("state"), k.get("started_at"), k.get("due_at"), k.get("stopped_at"),
                k.get("target_minutes"))))
        console.print(t)
    t = Table("when (UTC)", "event", "who", "department", "to", "note", title="events")
    for e in c["events"]:
        extra = e["note"] or (json.dumps(e["data"], ensure_ascii=False) if e["data"] else None)
        t.add_row(*(escape(str(v)) if v is not None else "" for v in (
            e["at"], e["kind"], e["actor"], e["department"], e["target"], extra)))
    console.print(t)


# -- the workflow -----------------------------------------------------------------------------------------

@cases_app.command("assign")
def cases_assign(case_id: str = CASE_ID, owner: str = typer.Argument(..., help="The new owner."),
                 actor: str = ACTOR, now: str = NOW) -> None:
    """Give a case to a person."""
    from ..cases.workflow import assign

    _said(_do(assign, case_id, owner, actor or _actor(), now=_when(now)))


@cases_app.command("transfer")
def cases_transfer(
    case_id: str = CASE_ID, department: str = typer.Argument(..., help="The department to pass it to."),
    owner: str = typer.Option(None, "--owner", help="Its new owner there (else it waits in their queue)."),
    note: str = typer.Option(None, "--note", help="Why (internal)."),
    actor: str = ACTOR, now: str = NOW,
) -> None:
    """Pass a case to another department; more than one transfer flags it as passed from hand to hand."""
    from ..cases.workflow import transfer

    _said(_do(transfer, case_id, department, actor or _actor(), note=note, owner=owner, now=_when(now)))


@cases_app.command("start")
def cases_start(case_id: str = CASE_ID, actor: str = ACTOR, now: str = NOW) -> None:
    """Start work on a case (in progress); an unowned case becomes yours."""
    from ..cases.workflow import start

    _said(_do(start, case_id, actor or _actor(), now=_when(now)))


@cases_app.command("wait")
def cases_wait(case_id: str = CASE_ID, note: str = typer.Option(None, "--note", help="What you wait for."),
               actor: str = ACTOR, now: str = NOW) -> None:
    """The case waits for the customer: its clocks pause until the customer writes."""
    from ..cases.workflow import wait

    _said(_do(wait, case_id, actor or _actor(), note=note, now=_when(now)))


@cases_app.command("comment")
def cases_comment(case_id: str = CASE_ID, text: str = typer.Argument(..., help="The message to the customer."),
                  actor: str = ACTOR, now: str = NOW) -> None:
    """Record a message to the customer (it stops the response clocks)."""
    from ..cases.workflow import comment

    _said(_do(comment, case_id, text, actor or _actor(), now=_when(now)))


@cases_app.command("note")
def cases_note(case_id: str = CASE_ID, text: str = typer.Argument(..., help="The internal note."),
               actor: str = ACTOR, now: str = NOW) -> None:
    """Add an internal note (the customer does not see it; it stops no clock)."""
    from ..cases.workflow import note

    _said(_do(note, case_id, text, actor or _actor(), now=_when(now)))


@cases_app.command("message")
def cases_message(case_id: str = CASE_ID, text: str = typer.Argument(..., help="What the customer wrote."),
                  actor: str = typer.Option("customer", "--actor", help="Who wrote it."), now: str = NOW) -> None:
    """Record a customer's message: it ends waiting; on a resolved or closed case it reopens it within the
    grace period (cases_grace_days), later it opens a new case linked to it."""
    from ..cases.workflow import customer_message

    _said(_do(customer_message, case_id, text, actor, now=_when(now)))


@cases_app.command("resolve")
def cases_resolve(case_id: str = CASE_ID, note: str = typer.Option(None, "--note", help="What was done."),
                  actor: str = ACTOR, now: str = NOW) -> None:
    """Mark a case resolved and create the customer's one-time "Was it solved?" link (printed once)."""
    from ..cases.tokens import link
    from ..cases.workflow import resolve

    token = _do(resolve, case_id, actor or _actor(), note=note, now=_when(now))
    console.print(f"case {escape(case_id)}: resolved; the customer's one-time link: {escape(link(token))}")


@cases_app.command("close")
def cases_close(
    case_id: str = CASE_ID,
    root_cause: str = typer.Option(None, "--root-cause", help="The root cause: a factor of the taxonomy, or other."),
    action: str = typer.Option(None, "--action", help="The action taken."),
    sub_cause: str = typer.Option(None, "--sub-cause", help="The sub-cause, in a few words."),
    note: str = typer.Option(None, "--note", help="The root cause in free text."),
    actor: str = ACTOR, now: str = NOW,
) -> None:
    """Close a resolved case; refused without a root cause and the action taken."""
    from ..cases.workflow import close

    _said(_do(close, case_id, actor or _actor(), root_cause, action, sub_cause=sub_cause, note=note,
              now=_when(now)))


@cases_app.command("reopen")
def cases_reopen(case_id: str = CASE_ID, reason: str = typer.Option(..., "--reason", help="Why."),
                 actor: str = ACTOR, now: str = NOW) -> None:
    """Reopen a resolved or closed case within the grace period; after it, open a new case linked to it."""
    from ..cases.workflow import reopen

    _said(_do(reopen, case_id, actor or _actor(), reason, now=_when(now)))


@cases_app.command("answer")
def cases_answer(
    token: str = typer.Argument(..., help="The token of the customer's link (/solved/TOKEN)."),
    solved: bool = typer.Option(..., "--solved/--not-solved", help="The customer's answer."),
    csat: int = typer.Option(None, "--csat", help="Satisfaction, 1–5.", callback=between(1, 5)),
    ces: int = typer.Option(None, "--ces", help="Ease, 1–7.", callback=between(1, 7)),
    comment: str = typer.Option(None, "--comment", help="The customer's comment."),
    now: str = NOW,
) -> None:
    """Record the customer's answer to "Was it solved?" (the link answers once); "no" reopens the case."""
    from ..cases.workflow import answer

    _said(_do(answer, token.rsplit("/solved/", 1)[-1], solved, csat=csat, ces=ces, comment=comment,
              now=_when(now)))


@cases_app.command("config")
def cases_config(
    routing: Path = typer.Option(None, "--routing", help="A routing TOML file to make active.",
                                 callback=input_file()),
    sla: Path = typer.Option(None, "--sla", help="An SLA policy TOML file to make active.", callback=input_file()),
    show: bool = typer.Option(False, "--show", help="Print the active configuration."),
) -> None:
    """Make routing and SLA files active (checked first; kept in the store), or show what is active."""
    from ..cases import config

    try:
        with _open(read=not (routing or sla)) as store:
            if routing or sla:
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                files = [(name, path) for name, path in (("routing", routing), ("sla", sla)) if path]
                _save_config(store, files, now)
                console.print("active: " + ", ".join(escape(str(p)) for p in (routing, sla) if p))
            if show or not (routing or sla):
                r, p = config.active(store)
                console.print(f"routing: {escape(r.source)} — {len(r.departments)} departments, "
                              f"{len(r.routes)} rules")
                console.print(f"sla: {escape(p.source)} — {len(p.calendars)} calendars, {len(p.targets)} targets")
    except CentricError as e:
        _fail(e)
    except (OSError, UnicodeDecodeError) as e:
        _fail(CentricError(f"{getattr(e, 'filename', None) or routing or sla}: {e}"))


def _save_config(store, files: list[tuple[str, Path]], now: dt.datetime) -> None:
    """Keep the files in the store, both or neither (the pair is checked once); on PostgreSQL through a
    scratch store holding the configuration."""
    from ..cases import config
    from ..cases.postgres import config_scope, portable

    @portable(config_scope)
    def save(store) -> None:
        with store.transaction() as con:
            for i, (name, path) in enumerate(files):
                config.save(con, name, path.read_text(encoding="utf-8"), str(path), now,
                            check_pair=i == len(files) - 1)

    save(store)


__all__ = ["cases_app"]
