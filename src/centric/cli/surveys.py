"""``centric surveys``: define surveys, pause, close and resume them, invite customers (a links file, or
e-mail), remind once, and see the answers held back as suspicious."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console

surveys_app = typer.Typer(help="Surveys centric collects itself: add, list, pause, close, resume, invite, remind, "
                          "flagged.", no_args_is_help=True)

SURVEY_ARG = typer.Argument(..., metavar="SURVEY", help="The survey's id (SV001) or slug.")
BY = "cli"
SHOWN_SKIPS = 200


def _audit(store, action: str, survey_id: str, detail: dict[str, Any] | None = None) -> None:
    from ..web import audit

    audit.record(store, BY, action, "survey", survey_id, detail)


def _shown_plainly(rows: list[dict[str, Any]], as_json: bool, empty: str) -> bool:
    """Print ``rows`` as JSON, or ``empty`` when there are none; False when a table is still to be printed."""
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        console.print(empty)
    return as_json or not rows


def _pct(v) -> str:
    return "" if v is None or v != v else f"{v:.1f}%"


@surveys_app.command("add")
def add(
    file: Path = typer.Argument(..., help="The survey's TOML file (see docs/surveys.md); a logo file beside it."),
    update: bool = typer.Option(False, "--update", help="Replace the definition of the survey with the same slug "
                                "(its status, invitations and answers stay)."),
) -> None:
    """Add a survey defined in a TOML file (or, with --update, change one)."""
    import dataclasses

    from .. import settings
    from ..surveys import load_toml, repo

    try:
        survey = load_toml(file)
        with _open() as store:
            old = repo.get(store, survey.slug)
            if old is not None and update:
                s = repo.update(store, dataclasses.replace(survey, survey_id=old.survey_id))
                _audit(store, "survey.update", s.survey_id)
                verb = "updated"
            else:
                s = repo.get(store, repo.add(store, survey))
                _audit(store, "survey.add", s.survey_id)
                verb = "added"
            base = settings.get("survey_base_url").rstrip("/")
    except CentricError as e:
        _fail(e)
    console.print(f"{verb} {s.survey_id} {escape(s.slug)}: {escape(s.name)} ({s.kind.upper()}"
                  f"{', ' + escape(s.touchpoint) if s.touchpoint else ''}; {', '.join(s.languages)}; {s.status})")
    if s.anonymous:
        console.print(f"anonymous link: {escape(base)}/s/{s.slug}")
    if verb == "added":
        console.print(f"invite customers: centric surveys invite {s.slug} --customers FILE.csv --out links.csv")


def survey_rows(store) -> list[dict[str, Any]]:
    """Each survey with its invitations, answered invitations, response rate (and interval) and answers."""
    from ..surveys import repo
    from ..surveys.stats import response_rates

    rates = response_rates(store, by=("survey",)).set_index("survey_id")
    r = store.table("responses")
    answered = r.filter(r.survey.notnull())
    answers = dict(answered.group_by("survey").aggregate(n=answered.count()).execute()
                   .itertuples(index=False, name=None))
    out = []
    for s in repo.list_all(store):
        rate = rates.loc[s.survey_id] if s.survey_id in rates.index else None
        out.append({
            "survey_id": s.survey_id, "slug": s.slug, "name": s.name, "kind": s.kind, "touchpoint": s.touchpoint,
            "channel": s.channel, "status": s.status, "anonymous": s.anonymous, "languages": list(s.languages),
            "invitations": int(rate["invitations"]) if rate is not None else 0,
            "answered": int(rate["answers"]) if rate is not None else 0,
            "answers": int(answers.get(s.slug, 0)),
            "response_rate": None if rate is None else float(rate["rate"]),
            "response_rate_interval": None if rate is None else [float(rate["low"]), float(rate["high"])],
        })
    return out


@surveys_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the surveys: id, slug, kind, touchpoint, status, invitations, those answered, the response rate with
    its interval, and all answers (--json adds the name, channel and languages)."""
    try:
        with _open(read=True) as store:
            rows = survey_rows(store)
    except CentricError as e:
        _fail(e)
    if _shown_plainly(rows, as_json, "no surveys yet (centric surveys add FILE.toml)"):
        return
    t = Table(box=box.SIMPLE_HEAD)
    for col in ("id", "slug", "kind", "touchpoint", "status", "invited", "answered", "rate", "95% interval",
                "answers"):
        t.add_column(col, justify="right" if col in ("invited", "answered", "rate", "answers") else "left",
                     no_wrap=True)
    for r in rows:
        ci = r["response_rate_interval"]
        t.add_row(r["survey_id"], escape(r["slug"]), r["kind"].upper(), escape(r["touchpoint"] or ""),
                  r["status"], f"{r['invitations']:,}", f"{r['answered']:,}", _pct(r["response_rate"]),
                  f"{ci[0]:.1f}–{ci[1]:.1f}%" if ci else "", f"{r['answers']:,}")
    console.print(t)


def _set_status(survey: str, status: str, verb: str) -> None:
    from ..surveys import repo

    try:
        with _open() as store:
            s = repo.set_status(store, repo.require(store, survey).survey_id, status)
            _audit(store, f"survey.{verb}", s.survey_id, {"status": status})
    except CentricError as e:
        _fail(e)
    console.print(f"{s.survey_id} {escape(s.slug)} is {s.status}")


@surveys_app.command("pause")
def pause(survey: str = SURVEY_ARG) -> None:
    """Pause a survey: its form takes no answers (links stay valid) and no invitations are issued."""
    _set_status(survey, "paused", "pause")


@surveys_app.command("close")
def close(survey: str = SURVEY_ARG) -> None:
    """Close a survey: its links end and it takes no answers (resume opens it again)."""
    _set_status(survey, "closed", "close")


@surveys_app.command("resume")
def resume(survey: str = SURVEY_ARG) -> None:
    """Make a paused or closed survey active again."""
    _set_status(survey, "active", "resume")


def _print_skips(plan) -> None:
    from ..surveys.invitations import REASONS

    skipped = plan.skipped
    if not len(skipped):
        return
    counts = plan.reasons()
    console.print(f"skipped {len(skipped):,}: " + "; ".join(f"{n:,} {REASONS[r]}" for r, n in counts.items()))
    for rec in skipped.head(SHOWN_SKIPS).itertuples(index=False):
        who = rec.customer_id or rec.email or ""
        console.print(f"  {escape(str(who)):<12} {rec.reason:<18} {escape(str(rec.detail))}")
    if len(skipped) > SHOWN_SKIPS:
        console.print(f"  … and {len(skipped) - SHOWN_SKIPS:,} more (--json lists them all)")


@surveys_app.command("invite")
def invite(
    survey: str = SURVEY_ARG,
    customers: Path = typer.Option(None, "--customers", help="CSV file with a column customer_id (centric's id or the "
                                   "source system's) or email."),
    segment: str = typer.Option(None, "--segment", help="Invite the customers of this segment (as the metrics' "
                                "filters read it; '(none)': customers without one)."),
    out: Path = typer.Option(None, "--out", help="Write the links here (CSV: invitation_id, customer_id, email, "
                             "language, link, expires_at)."),
    base_url: str = typer.Option(None, "--base-url", help="Address customers reach centric serve at (default: the "
                                 "survey_base_url setting)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say who would be invited and who skipped, and why."),
    send: bool = typer.Option(False, "--send", help="E-mail the invitations (smtp_* settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the counts, every skip with its reason, and the "
                                 "links."),
) -> None:
    """Issue one signed single-use link per customer; customers invited to or answering any survey within
    survey_min_interval_days are skipped (--dry-run shows who and why)."""
    from .. import settings
    from ..surveys import invitations, mailer, repo

    if (customers is None) == (segment is None):
        _fail(CentricError("give --customers FILE.csv or --segment SEGMENT (one of the two)"))
    if not (out or send or dry_run):
        _fail(CentricError("give --out links.csv to write the links (or --send to e-mail them, or --dry-run)"))
    if out is not None and not out.resolve().parent.is_dir():
        _fail(CentricError(f"--out: folder {out.resolve().parent} does not exist"))
    try:
        base = settings.get("survey_base_url", base_url)
        cfg = mailer.config() if send and not dry_run else None
        with _open() as store:
            s = repo.require(store, survey)
            frame = invitations.read_customers_csv(customers) if customers is not None else None
            plan = invitations.plan(store, s, frame, segment, send=send,
                                    source=str(customers) if customers is not None else "segment")
            links, sent = [], None
            if not dry_run:
                links = invitations.issue(store, plan, base_url=base)
                if out is not None and links:  # never replaces an earlier links file with an empty one
                    invitations.write_links(out, links)
                _audit(store, "survey.invite", s.survey_id, {"invitations": len(links), "skipped": len(plan.skipped),
                                                             "send": send})
                if send and links:
                    sent = mailer.send(store, s, links, cfg=cfg)
    except CentricError as e:
        _fail(e)
    except OSError as e:
        _fail(CentricError(f"--out: cannot write {out}: {e.strerror or e}"))
    if as_json:
        typer.echo(json.dumps({
            "survey_id": s.survey_id, "dry_run": dry_run, "invite": len(plan.invite), "skipped": plan.reasons(),
            "skips": json.loads(plan.skipped.to_json(orient="records", force_ascii=False)),
            "links": [{"invitation_id": k.invitation_id, "customer_id": k.customer_id, "email": k.email,
                       "language": k.language, "link": k.url, "expires_at": k.expires_at.isoformat()} for k in links],
            "sent": None if sent is None else len(sent.sent),
            "failed": None if sent is None else [{"invitation_id": i, "error": why} for i, why in sent.failed],
        }, ensure_ascii=False, indent=2))
        return
    langs = plan.invite["language"].value_counts()
    by_lang = ", ".join(f"{n:,} {lang}" for lang, n in langs.items())
    if dry_run:
        console.print(f"would invite {len(plan.invite):,} customers to {s.survey_id} {escape(s.slug)}"
                      + (f" ({by_lang})" if by_lang else "") + "; nothing was stored")
    else:
        where = "" if out is None else f"; links in {escape(str(out))}" if links else f"; {escape(str(out))} not written"
        expires = f", valid until {links[0].expires_at:%Y-%m-%d %H:%M} UTC" if links else ""
        console.print(f"issued {len(links):,} invitations to {s.survey_id} {escape(s.slug)}"
                      + (f" ({by_lang})" if by_lang else "") + f"{expires}{where}")
    _print_skips(plan)
    if sent is not None:
        _print_sent(sent)


def _print_sent(sent) -> None:
    console.print(f"e-mailed {len(sent.sent):,}" + (f"; {len(sent.failed):,} not sent:" if sent.failed else ""))
    for i, why in sent.failed[:SHOWN_SKIPS]:
        console.print(f"  invitation {i}: {escape(why)}")


@surveys_app.command("remind")
def remind(
    survey: str = SURVEY_ARG,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say how many would be reminded."),
) -> None:
    """E-mail the one reminder to those invited by e-mail at least survey_reminder_days ago who have not answered
    (a link not yet expired, not reminded before)."""
    from .. import settings
    from ..surveys import mailer, repo

    try:
        cfg = None if dry_run else mailer.config()
        with _open() as store:
            s = repo.require(store, survey)
            if s.status != "active":
                raise CentricError(f"survey {s.survey_id} is {s.status}: no reminders (centric surveys resume "
                                   f"{s.slug})")
            due = mailer.due_reminders(store, s)
            sent = None
            if not dry_run and due:
                sent = mailer.send(store, s, due, reminder=True, cfg=cfg)
                _audit(store, "survey.remind", s.survey_id, {"reminded": len(sent.sent), "failed": len(sent.failed)})
            days = settings.get_int("survey_reminder_days")
    except CentricError as e:
        _fail(e)
    if dry_run or not due:
        console.print(f"{len(due):,} invitations to {s.survey_id} {escape(s.slug)} are due a reminder (e-mailed "
                      f"{days}+ days ago, not answered, not reminded)" + ("; nothing sent" if dry_run else ""))
        return
    _print_sent(sent)


@surveys_app.command("flagged")
def flagged(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    all_: bool = typer.Option(False, "--all", help="Also those released or discarded."),
) -> None:
    """List the anonymous answers held back as suspicious (honeypot, too fast, rate limit), with their reasons;
    release or discard them in the web app (Surveys → Flagged)."""
    try:
        with _open(read=True) as store:
            f = store.table("survey_flagged")
            sv = store.table("surveys").select("survey_id", "slug")
            q = f.left_join(sv, f.survey_id == sv.survey_id)
            if not all_:
                q = q.filter(q.released_by.isnull())
            df = q.select("flag_id", "survey_id", "slug", "received_at", "reasons", "fields", "released_at",
                          "released_by", "response_id").order_by("received_at").execute()
    except CentricError as e:
        _fail(e)
    rows = []
    for r in df.itertuples(index=False):
        fields = _json(r.fields, {})
        rows.append({"flag_id": r.flag_id, "survey_id": r.survey_id, "survey": r.slug,
                     "received_at": r.received_at.isoformat(), "reasons": _json(r.reasons, []),
                     "score": fields.get("score"), "language": fields.get("language"),
                     "comment": fields.get("comment"), "released_at": None if r.released_at is None or
                     r.released_at != r.released_at else r.released_at.isoformat(),
                     "released_by": r.released_by, "response_id": r.response_id})
    if _shown_plainly(rows, as_json, "no flagged answers"):
        return
    t = Table(box=box.SIMPLE_HEAD)
    for col in ("id", "survey", "received", "reasons", "score", "comment"):
        t.add_column(col)
    for r in rows:
        comment = r["comment"] or ""
        t.add_row(escape(str(r["flag_id"])), escape(r["survey"] or r["survey_id"]), r["received_at"][:16],
                  escape(", ".join(map(str, r["reasons"]))), escape(str(r["score"] if r["score"] is not None else "")),
                  escape(comment[:60] + ("…" if len(comment) > 60 else "")))
    console.print(t)
    console.print(f"{len(rows):,} flagged answers (kept out of the metrics until released in the web app)")


def _json(v, default):
    try:
        return json.loads(v) if isinstance(v, str) else default
    except ValueError:
        return default


__all__ = ["surveys_app"]
