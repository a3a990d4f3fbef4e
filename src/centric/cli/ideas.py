"""The suggestion box: centric ideas list | import | status | merge | duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ..schema import IDEA_AUTHORS, IDEA_STATUSES
from ._common import _fail, _open, console, err
from .checks import between, one_of

ideas_app = typer.Typer(help="The suggestion box: ideas of customers and employees, their votes, statuses, "
                        "rewards and merges.", no_args_is_help=True)


@ideas_app.command("list")
def list_cmd(
    status: str = typer.Option(None, "--status", help="Only ideas in this status: " + ", ".join(IDEA_STATUSES) + ".",
                               callback=one_of(*IDEA_STATUSES, what="status")),
    factor: str = typer.Option(None, "--factor", help="Only ideas addressing this factor (a factor id)."),
    kind: str = typer.Option(None, "--kind", help="Only ideas of customers or of employees.",
                             callback=one_of(*IDEA_AUTHORS, what="author kind")),
    flagged: bool = typer.Option(False, "--flagged", help="The public submissions kept aside as automated instead."),
    limit: int = typer.Option(50, "--limit", help="At most this many (0: all).", callback=between(0, 10_000_000)),
    as_json: bool = typer.Option(False, "--json", help="Print the ideas as JSON."),
) -> None:
    """The ideas with their votes, most votes first: status, factor, who proposed them (customer or employee),
    comments. Ideas merged into another are counted in that one and not listed."""
    from ..ideas.views import frame

    with _open(read=True) as store:
        df = frame(store, status, factor, kind, flagged=flagged, limit=limit or None)
    if as_json:
        out = df.astype(object).where(df.notna(), None)
        out["created_at"] = df["created_at"].astype(str)
        print(json.dumps(out.to_dict(orient="records"), ensure_ascii=False, indent=2))
        return
    if not len(df):
        console.print("no ideas" + (" with these filters" if status or factor or kind else
                                    " yet (centric ideas import FILE, or the web app's Ideas page)"))
        return
    t = Table("idea", "votes", "status", "factor", "author", "comments", "title", box=None)
    for r in df.itertuples():
        t.add_row(r.idea_id, f"{r.votes:,}", r.status.replace("_", " "), escape(r.factor if isinstance(r.factor, str) else "—"), r.author_kind,
                  f"{r.comments:,}", escape(r.title))
    console.print(t)


@ideas_app.command("import")
def import_cmd(
    files: list[Path] = typer.Argument(..., help="Files: .csv/.tsv/.txt, .xlsx, .json, .jsonl, .parquet."),
    kind: str = typer.Option(None, "--kind", help="Whose ideas they are when the file does not say (column "
                             "author_kind): customer or employee; default customer.",
                             callback=one_of(*IDEA_AUTHORS, what="author kind")),
    mapping: Path = typer.Option(None, "--mapping", help="TOML file naming columns, recoding values and giving "
                                 "constants, as for centric ingest."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
    suggest: bool = typer.Option(True, "--suggest/--no-suggest", help="Suggest the factor of ideas without one "
                                 "(the text pipeline's factor matcher; loads the sentence encoder)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Load ideas gathered elsewhere (a suggestion-box export, a spreadsheet from the stores) through the ordinary
    ingest: columns text (required), created_at (required), title, author_kind, author_name, status, factor,
    votes (a count), language (detected when not given), and identity columns (e-mail, phone, customer id …)
    that link an idea to its customer. Every rejected row is kept with its file, row, column and reason (centric rejected); loading the
    same file again adds nothing. Exit codes as centric ingest."""
    from .. import schema
    from ..ideas.imports import import_ideas
    from ..ingest import Mapping
    from .ingest import _print_result

    try:
        rules = Mapping.load(mapping) if mapping else None
        if rules is not None:
            rules.check(schema.TABLES["ideas"])
    except CentricError as e:
        _fail(e)
    results, failed, suggested, not_suggested = [], False, 0, None
    with _open() as store:
        for f in files:
            try:
                # the file with its defaults, languages and suggested factors: one transaction
                got = import_ideas(store, f, mapping=rules, values={"author_kind": kind} if kind else {},
                                   sheet=sheet, suggest=suggest and not_suggested is None)
            except CentricError as e:
                err.print(f"[red]error:[/red] {escape(str(e))}")
                failed = True
                continue
            res = got.result
            suggested += got.suggested
            not_suggested = not_suggested or got.not_suggested
            results.append(res)
            failed |= not res.ok
            if not as_json:
                _print_result(store, res)
        if suggest and any(r.rows_stored for r in results):
            if not_suggested:
                err.print(f"[yellow]factors not suggested:[/yellow] {escape(not_suggested)}")
            if not as_json:
                console.print(f"factor suggested for {suggested:,} ideas (change it on the idea's page)")
    if as_json:
        print(json.dumps({"files": [r.__dict__ for r in results], "factors_suggested": suggested},
                         ensure_ascii=False, default=str, indent=2))
    if failed:
        raise typer.Exit(1)


@ideas_app.command("status")
def status_cmd(
    idea_id: str = typer.Argument(..., help="The idea (I000001 …)."),
    to: str = typer.Argument(..., help="The new status: " + ", ".join(IDEA_STATUSES) + ".",
                             callback=one_of(*IDEA_STATUSES, what="status")),
    answer: str = typer.Option(..., "--answer", help="The answer to the idea's author (required; e-mailed when a "
                               "mail server is set and the author has an address, always on the idea's page)."),
    by: str = typer.Option("cli", "--by", help="Who decides (kept in the history)."),
) -> None:
    """Change an idea's status with an answer for its author: new → under_review → planned → done, or declined."""
    from ..ideas import box
    from ..ideas.notify import notify

    try:
        with _open() as store:
            at = box.now()
            before = box.change_status(store, idea_id, to, answer, by, at=at)
            how = notify(store, idea_id, at)
    except CentricError as e:
        _fail(e)
    said = {"emailed": "the answer was e-mailed to its author", "no_mail_server": "no mail server (smtp_host): the "
            "answer is on the idea's page", "no_address": "its author left no address: the answer is on the idea's "
            "page", "mail_failed": "the mail server failed: the answer is on the idea's page"}.get(how, how)
    console.print(f"{escape(idea_id)}: {before.replace('_', ' ')} → {to.replace('_', ' ')}; {said}")


@ideas_app.command("merge")
def merge_cmd(
    merged: str = typer.Argument(..., help="The idea merged away."),
    into: str = typer.Argument(..., help="The idea that stays."),
    by: str = typer.Option("cli", "--by", help="Who merges (kept with the merge)."),
) -> None:
    """Merge a duplicate idea into another: its voters join the other's (someone who voted for both counts once),
    imported vote counts add up, its comments move, and it points to the one that stays."""
    from ..ideas import box

    try:
        with _open() as store:
            m = box.merge(store, merged, into, by)
            total = box.votes_of(store, into)
    except CentricError as e:
        _fail(e)
    console.print(f"{escape(merged)} merged into {escape(into)}: {m.votes_moved:,} voters joined, {m.votes_shared:,} "
                  f"had voted for both (counted once), {m.comments_moved:,} comments moved; {escape(into)} has "
                  f"{total:,} votes")


@ideas_app.command("duplicates")
def duplicates_cmd(
    threshold: float = typer.Option(0.5, "--threshold", help="How alike two texts must be (Jaccard of their "
                                    "character 5-grams, 0–1).", callback=between(0.05, 1)),
    meaning: bool = typer.Option(False, "--meaning", help="Also pairs alike in meaning though worded differently or "
                                 "written in another language (multilingual sentence encoder; slower)."),
    as_json: bool = typer.Option(False, "--json", help="Print the pairs as JSON."),
) -> None:
    """Near-duplicate ideas proposed for merging (the one with more votes stays); merge with centric ideas merge."""
    from ..ideas.duplicates import proposals

    try:
        with _open(read=True) as store:
            embedder = None
            if meaning:
                from ..text.embed import USEEmbedder

                embedder = USEEmbedder()
            found = proposals(store, embedder=embedder, threshold=threshold)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps([p.to_dict() for p in found], ensure_ascii=False, indent=2))
        return
    if not found:
        console.print("no near-duplicate ideas")
        return
    for p in found:
        console.print(f"{p.merge} → {p.keep}  similarity {p.similarity:.2f} ({p.how}): centric ideas merge "
                      f"{p.merge} {p.keep}")
