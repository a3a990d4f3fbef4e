"""Staff customer-orientation and store observation notes: centric orientation …, centric observations …"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import bound, bounds, one_of

orientation_app = typer.Typer(help="Staff customer-orientation: managers' assessments of their teams (and the "
                              "employees' own view) on six criteria, scored by unit and quarter with 95% intervals.",
                              no_args_is_help=True)
observations_app = typer.Typer(help="Store observation notes: what managers see when they watch customers in the "
                               "stores, analysed like any other text.", no_args_is_help=True)

FROM_HELP = "First day included (2025-01-01, 2025-01 or 2025)."
TO_HELP = "First day excluded."
LANGS = ("en", "pl", "ru", "it")


def _compute(fn, as_json: bool, *args, **kw):
    """``fn(store, *args, **kw)`` on the store opened for reading; printed as JSON with ``as_json`` (then None)."""
    try:
        with _open(read=True) as store:
            result = fn(store, *args, **kw)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        return None
    return result


def _n(v, digits: int = 2) -> str:
    return "—" if v is None or v != v else f"{float(v):.{digits}f}"


def _interval(lo, hi, digits: int = 2) -> str:
    return "—" if lo is None or lo != lo else f"{_n(lo, digits)} … {_n(hi, digits)}"


@orientation_app.command("criteria")
def criteria_cmd(lang: str = typer.Option("en", "--lang", help="Language: en, pl, ru or it.",
                                          callback=one_of(*LANGS))) -> None:
    """The checklist: the six criteria with what each means, and the scale's anchors (1–5)."""
    from ..orientation import CRITERIA, SCALE, anchor

    t = Table("criterion", "name", "what it means", title="Customer-orientation criteria")
    for c in CRITERIA:
        t.add_row(c.id, escape(c.name(lang)), escape(c.description(lang)))
    console.print(t)
    console.print("scale: " + "; ".join(f"{p} = {escape(anchor(p, lang))}" for p in SCALE))


@orientation_app.command("scores")
def scores_cmd(
    by: list[str] = typer.Option(["unit"], "--by", help="Group by unit, period (quarter), criterion or region (repeat, "
                                 "or comma-separate, e.g. --by unit,criterion)."),
    view: str = typer.Option("manager", "--view", help="Whose view: manager or self.",
                             callback=one_of("manager", "self")),
    from_: str = typer.Option(None, "--from", help=FROM_HELP, callback=bound()),
    to: str = typer.Option(None, "--to", help=TO_HELP, callback=bound()),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (score, interval, employees, assessments per "
                                 "group)."),
) -> None:
    """Customer-orientation scores (mean rating 1–5) with 95% intervals: each employee counts once (the mean of
    their ratings in the group), t interval over employees."""
    from ..orientation import scores

    groups = tuple(b.strip() for item in by for b in item.split(",") if b.strip())
    start, end = bounds(from_, to)
    result = _compute(scores, as_json, groups, view, start, end)
    if result is None:
        return
    if result.table.empty:
        console.print("no assessments (enter them in the web app or load a file: centric orientation import FILE)")
        return
    t = Table(*groups, "score", "95% interval", "employees", "assessments",
              title=f"Customer orientation, {view} view")
    for r in result.table.to_dict("records"):
        t.add_row(*(escape(str(r[g])) for g in groups), _n(r["score"]), _interval(r["low"], r["high"]),
                  f"{int(r['n']):,}", f"{int(r['assessments']):,}")
    console.print(t)
    console.print(f"[dim]{escape(result.method)}[/dim]")


@orientation_app.command("gap")
def gap_cmd(
    unit: str = typer.Option(None, "--unit", help="Only this unit's employees."),
    from_: str = typer.Option(None, "--from", help=FROM_HELP, callback=bound()),
    to: str = typer.Option(None, "--to", help=TO_HELP, callback=bound()),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The self-vs-manager gap per criterion: for each employee and quarter with both views, self − manager; the
    mean with a paired 95% t interval."""
    from ..orientation import gap

    start, end = bounds(from_, to)
    result = _compute(gap, as_json, start, end, unit=unit)
    if result is None:
        return
    if result.table.empty:
        console.print("no employee has both a self-assessment and a manager's assessment in the same quarter")
        return
    t = Table("criterion", "self", "manager", "gap", "95% interval", "pairs", title="Self view − manager's view")
    for r in result.table.itertuples():
        t.add_row(r.criterion, _n(r.self), _n(r.manager), f"{r.gap:+.2f}", _interval(r.low, r.high), f"{r.n:,}")
    console.print(t)


@orientation_app.command("customers")
def customers_cmd(
    from_: str = typer.Option(None, "--from", help=FROM_HELP, callback=bound()),
    to: str = typer.Option(None, "--to", help=TO_HELP, callback=bound()),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each store's orientation score next to its customers' NPS (answers about the store) and their net sentiment
    about the staff, with the correlations across stores (Pearson r, Fisher z interval from 4 stores)."""
    from ..orientation import units_vs_customers

    start, end = bounds(from_, to)
    result = _compute(units_vs_customers, as_json, start, end)
    if result is None:
        return
    t = Table("store", "orientation", "95% interval", "NPS", "95% interval", "answers", "staff sentiment",
              "mentions", title="Stores: orientation and customers")
    for r in result.table.itertuples():
        t.add_row(escape(str(r.unit)), _n(r.score), _interval(r.low, r.high), _n(r.nps, 1),
                  _interval(r.nps_low, r.nps_high, 1), f"{r.nps_n:,}", _n(r.staff_net, 1), f"{r.staff_n:,}")
    console.print(t)
    for c in result.correlations:
        if c.r is None:
            console.print(f"r(orientation, {c.y}): — ({escape(c.note)})")
        else:
            ci = f" (95% {c.low:.2f} … {c.high:.2f})" if c.low is not None else f" ({escape(c.note)})"
            console.print(f"r(orientation, {c.y}) = {c.r:.2f}{ci}, n = {c.n} stores")


@orientation_app.command("import")
def import_cmd(
    files: list[Path] = typer.Argument(..., help="Files of assessments: .csv, .xlsx, .json, .jsonl, .parquet; one "
                                       "row per assessment, one column per criterion (docs/orientation.md)."),
    set_: list[str] = typer.Option([], "--set", help="A constant for a missing column, e.g. --set view=self."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
    replace: bool = typer.Option(False, "--replace", help="Load a file loaded before again, replacing what it "
                                 "stored then."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Load assessments through the ordinary ingest: columns recognised in four languages, each rejected row kept
    with its file, row, column and reason (centric rejected), also a row naming an employee who is not in
    employees. Exit code 1 when a file stored nothing, 3 when more rows were rejected than stored."""
    from ..orientation import import_assessments
    from .ingest import _print_result, finish, set_values

    values = set_values(set_)
    results, failed, partial = [], False, False
    with _open() as store:
        for f in files:
            try:
                res = import_assessments(store, f, values=values, sheet=sheet, replace=replace)
            except CentricError as e:
                _fail(e)
            results.append(res)
            failed |= not res.ok
            partial |= res.partial
            if not as_json:
                _print_result(store, res)
    finish(results, as_json, failed, partial)



@orientation_app.command("invite")
def invite_cmd(
    period: str = typer.Option(..., "--period", help="The period the self-assessments are for: a quarter like "
                               "2026-Q2 (or a month like 2026-05)."),
    unit: list[str] = typer.Option([], "--unit", help="Invite the employees of this store or department (repeat; "
                                   "default: every unit)."),
    out: Path = typer.Option(None, "--out", help="Write the links here (CSV: employee_id, email, language, unit, "
                             "period, link, expires_on) for a mail merge."),
    base_url: str = typer.Option(None, "--base-url", help="Address employees reach centric serve at (default: the "
                                 "survey_base_url setting)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say who would be invited and who skipped, and why."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the counts and every skip with its reason."),
) -> None:
    """Issue one signed single-use self-assessment link per employee of the chosen units (/o/TOKEN, valid
    survey_link_days days, in the employee's language): the employee rates their own customer orientation, stored
    as their self view for the period. Leavers, those with a link or a self view for the period already are
    skipped."""
    from ..orientation import invitations

    if not (out or dry_run):
        _fail(CentricError("give --out links.csv to write the links (or --dry-run)"))
    if out is not None and not out.resolve().parent.is_dir():
        _fail(CentricError(f"--out: folder {out.resolve().parent} does not exist"))
    links = []
    try:
        with _open() as store:
            plan = invitations.plan(store, period.strip(), [u.strip() for u in unit if u.strip()] or None)
            links = [] if dry_run else invitations.issue(store, plan, base_url=base_url)
            if out is not None and links:
                invitations.write_links(out, links)
    except CentricError as e:
        _fail(e)
    except OSError as e:
        _fail(CentricError(f"--out: cannot write {out}: {e.strerror or e}"))
    if as_json:
        print(json.dumps({"period": plan.period, "dry_run": dry_run, "invite": len(plan.invite),
                          "skipped": plan.reasons(),
                          "skips": json.loads(plan.skipped.to_json(orient="records", force_ascii=False))},
                         ensure_ascii=False, indent=2))
        return
    verb = "would invite" if dry_run else "invited"
    skipped = ", ".join(f"{n:,} {invitations.REASONS[r]}" for r, n in plan.reasons().items())
    console.print(f"{verb} {len(plan.invite):,} employees to assess themselves for {escape(plan.period)}"
                  + (f"; skipped {skipped}" if skipped else "") + (f"; links in {escape(str(out))}" if links else ""))

# -- observation notes -------------------------------------------------------------------------------------------

@observations_app.command("list")
def observations_list(
    store_name: str = typer.Option(None, "--store", help="Only this store."),
    from_: str = typer.Option(None, "--from", help=FROM_HELP, callback=bound()),
    to: str = typer.Option(None, "--to", help=TO_HELP, callback=bound()),
    quotes: bool = typer.Option(False, "--quotes", help="Show each store's latest notes (masked)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (stores, factors, periods, masked quotes)."),
) -> None:
    """The observation notes by store: how many, the factors they raise (notes, mentions, net sentiment) and, with
    --quotes, the latest notes with personal data masked. Needs `centric analyze` for the factors."""
    from ..observations import summary

    start, end = bounds(from_, to)
    s = _compute(summary, as_json, store_name, start, end)
    if s is None:
        return
    if not s.notes:
        console.print("no observation notes (enter them in the web app or load a file: centric ingest feedback "
                      "notes.csv --set source=observation --set brand=ours)")
        return
    t = Table("store", "notes", "analysed", "factors (notes, net sentiment)", title="Store observation notes")
    for r in s.stores.itertuples():
        fa = s.factors[s.factors["store"] == r.store].head(5)
        t.add_row(escape(r.store), f"{r.notes:,}", f"{r.analysed:,}",
                  escape("; ".join(f"{x.factor} ({x.notes}, {x.net:+.0f})" for x in fa.itertuples())))
    console.print(t)
    if quotes:
        for unit, qs in s.quotes.items():
            for q in qs:
                console.print(f"[bold]{escape(unit)}[/bold] {str(q['posted_at'])[:10]}: “{escape(q['text'])}” "
                              f"[dim]{escape(', '.join(q['factors']))}[/dim]")


@observations_app.command("add")
def observations_add(
    store_name: str = typer.Option(..., "--store", help="The store observed (as named in units)."),
    text: str = typer.Option(..., "--text", help="What you observed."),
    author: str = typer.Option(..., "--author", help="Who observed it (e.g. your web login)."),
    language: str = typer.Option(None, "--language", help="Language of the note (detected when not given)."),
) -> None:
    """Add one observation note (stored as feedback of source observation; run centric analyze for its factors)."""
    from ..observations import add_note

    try:
        with _open() as store:
            fid = add_note(store, store_name, text, author, language=language, via="cli")
    except CentricError as e:
        _fail(e)
    console.print(f"observation note {escape(fid)} stored for {escape(store_name)}; its factors after centric analyze")
