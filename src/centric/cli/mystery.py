"""Mystery shopping: centric mystery (templates, import, scores, calibration, cases)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import between, one_of

mystery_app = typer.Typer(help="Mystery shopping: checklist templates, visits, scores with intervals, calibration.",
                          no_args_is_help=True)
template_app = typer.Typer(help="Checklist templates: sections, weighted items, critical items, factors.",
                           no_args_is_help=True)
mystery_app.add_typer(template_app, name="template")


def _num(v, fmt: str = "{:.1f}") -> str:
    return "—" if v is None or v != v else fmt.format(v)


@template_app.command("add")
def template_add(file: Path = typer.Argument(..., help="The template's TOML file (see docs/mystery.md).")) -> None:
    """Add a checklist template, or a new version of one (the same file again adds nothing)."""
    from ..mystery.template import add_template

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        _fail(CentricError(f"{file}: cannot read it ({e.__class__.__name__})"))
    try:
        with _open() as store:
            t, added = add_template(store, text, file.name)
    except CentricError as e:
        _fail(e)
    what = f"added as version {t.version}" if added else f"unchanged (version {t.version})"
    console.print(f"template {escape(t.id)} ({escape(t.name)}): {len(t.items)} items, "
                  f"{sum(i.critical for i in t.items)} critical — {what}")


@template_app.command("list")
def template_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The templates, each with its latest version."""
    from ..mystery.template import list_templates

    try:
        with _open(read=True) as store:
            rows = list_templates(store)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("no templates yet (centric mystery template add FILE.toml)")
        return
    t = Table("template", "name", "version", "items", "critical")
    for r in rows:
        t.add_row(escape(r["template_id"]), escape(r["name"]), str(r["version"]), str(r["items"]), str(r["critical"]))
    console.print(t)


@mystery_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="The visits' export: CSV, Excel, JSON or Parquet, wide (one column per "
                                "item) or long (item and answer columns)."),
    template: str = typer.Option(None, "--template", help="The template of rows without a template column."),
    brand: str = typer.Option(None, "--brand", help="The brand of rows without a brand column (default: ours; a "
                              "competitor's name for visits to their stores)."),
    sheet: str = typer.Option(None, "--sheet", help="Excel: the sheet to read (default: the first)."),
    analyze: bool = typer.Option(True, "--analyze/--no-analyze", help="Analyse the visits' notes at once with the "
                                 "text pipeline (as centric analyze; --no-analyze: at the next centric analyze)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Import mystery-shopping visits from an export; rejected rows are kept (centric rejected), the same file
    again adds nothing, a failed critical item opens its case, and the visits' notes go through the text
    pipeline."""
    from ..mystery.importer import import_visits
    from ..mystery.notes import analyze_notes

    analysed = None
    try:
        with _open() as store:
            r = import_visits(store, file, template_id=template, brand=brand, sheet=sheet)
            if analyze and r.visits_stored:
                analysed = analyze_notes(store)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps({**r.to_dict(), "texts_analysed": analysed.texts if analysed else 0}, default=str,
                         ensure_ascii=False, indent=2))
        return
    if r.duplicate_file:
        console.print(f"{escape(str(file))}: this file was imported before; nothing added")
        return
    console.print(f"{escape(str(file))} ({r.shape}): {r.rows_read:,} rows, {r.visits_stored:,} visits stored, "
                  f"{r.visits_duplicate:,} already stored, {r.rows_rejected:,} rows rejected, "
                  f"{r.cases_opened:,} cases opened")
    if analysed:
        console.print(f"notes: {analysed.texts:,} texts analysed, {analysed.mentions:,} factor mentions")
    for x in r.rejected[:10]:
        console.print(f"  row {x['row']}" + (f", column {escape(str(x['column']))!r}" if x["column"] else "")
                      + f": {escape(x['reason'])}")
    if len(r.rejected) > 10:
        console.print(f"  … {len(r.rejected) - 10} more (centric rejected)")


@mystery_app.command("scores")
def scores_cmd(
    by: str = typer.Option("store", "--by", help="store, region, visit or brand.",
                           callback=one_of("store", "region", "visit", "brand")),
    brand: str = typer.Option("ours", "--brand", help="Whose visits: ours (default) or a competitor's name; with "
                              "--by brand, every brand."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (n, mean score and 95% interval per group)."),
) -> None:
    """Mystery-shopping scores with n and 95% intervals (t over visits); a failed critical item scores 0."""
    from ..mystery.scores import scores

    try:
        with _open(read=True) as store:
            res = scores(store, by=by, brand=None if by == "brand" else brand)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(res.to_dict(), default=str, ensure_ascii=False, indent=2))
        return
    df = res.frame
    if not len(df):
        console.print("no visits yet (centric mystery import FILE, or the web app's form)")
        return
    if by == "visit":
        t = Table("visit", "store", "shopper", "date", "score", "raw", "failed", "case")
        for r in df.itertuples(index=False):
            t.add_row(escape(str(r.visit)), escape(str(r.store)), escape(str(r.shopper or "")), f"{r.visited_at:%Y-%m-%d}",
                      _num(r.score), _num(r.raw_score), "yes" if r.failed_critical else "",
                      escape(str(r.case_id)) if isinstance(r.case_id, str) else "")
    else:
        t = Table(by, "visits", "score", "95% interval", "failed")
        for r in df.to_dict(orient="records"):
            t.add_row(escape(str(r[by])), str(r["n"]), _num(r["mean"]),
                      "—" if r["low"] is None or r["low"] != r["low"] else f"{r['low']:.1f} … {r['high']:.1f}",
                      str(r["failed"]))
    console.print(t)
    console.print("[dim]score: passed weight / applicable weight × 100, 0 when a critical item failed; interval: "
                  "Student's t over visits[/dim]")


@mystery_app.command("calibration")
def calibration_cmd(
    window: int = typer.Option(14, "--window", help="At most this many days between the two visits.",
                               callback=between(0, 3650)),
    max_diff: float = typer.Option(15.0, "--max-diff", help="Flag a pair whose scores differ by more points.",
                                   callback=between(0, 100)),
    min_agreement: float = typer.Option(0.8, "--min-agreement", help="Flag a pair that agrees on a smaller share "
                                        "of the items (0–1).", callback=between(0, 1)),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Inter-shopper calibration: the same store scored by two shoppers within the window — percent agreement,
    Cohen's kappa and the score difference per pair, flagged when large."""
    from ..mystery.calibration import calibration

    try:
        with _open(read=True) as store:
            c = calibration(store, window, max_diff, min_agreement)
    except CentricError as e:
        _fail(e)
    df = c.pairs
    if as_json:
        print(json.dumps(json.loads(df.to_json(orient="records", date_format="iso")), ensure_ascii=False, indent=2))
        return
    if not len(df):
        console.print(f"no store was scored by two shoppers within {window} days")
        return
    t = Table("store", "shopper A", "shopper B", "days", "items", "agreement", "kappa", "diff", "flag")
    for r in df.itertuples(index=False):
        t.add_row(escape(r.store), escape(str(r.shopper_a)), escape(str(r.shopper_b)), f"{r.days:g}", str(r.items),
                  _num(r.agreement, "{:.0%}"), _num(r.kappa, "{:.2f}"), _num(r.diff, "{:+.1f}"),
                  "[red]calibrate[/red]" if r.flagged else "")
    console.print(t)


@mystery_app.command("cases")
def cases_cmd() -> None:
    """Open the cases of visits whose critical item failed and that have none yet (the form and the import do
    this themselves; running again opens nothing new)."""
    from ..mystery.cases import open_cases

    try:
        with _open() as store:
            opened = open_cases(store)
    except CentricError as e:
        _fail(e)
    console.print(f"{len(opened)} cases opened")
    for r in opened.itertuples(index=False):
        console.print(f"  {escape(r.case_id)}: {escape(r.store)} → {escape(str(r.owner or r.department))}")
