"""The command line: parses arguments, calls the core, prints. No analytics here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import schema, settings
from .cli_checks import (
    LANGUAGES,
    at_least,
    between,
    bound,
    bounds,
    day,
    db_path,
    input_file,
    one_of,
    output_file,
    output_folder,
)
from .errors import CentricError
from .store import Store
from .text.taxonomy import builtin_names

app = typer.Typer(
    help="centric: listen to customers in every channel, measure, understand, decide and act.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
text_app = typer.Typer(help="Text analytics: factors, sentiment per factor, emotions, flags.", no_args_is_help=True)
app.add_typer(text_app, name="text")
customers_app = typer.Typer(help="Customers: purchase rhythm and lifetime value, alerts, churn reasons, loyalty "
                            "phases; merges across channels, erasure.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DB_HELP = settings.SETTINGS["db"].help
TAXONOMY_HELP = f"Built-in taxonomy ({', '.join(builtin_names())}) or the path of a .toml file."


class _State:
    db: str | None = None


state = _State()


@app.callback()
def _main(
    db: str = typer.Option(None, "--db", help=DB_HELP, envvar="CENTRIC_DB", callback=db_path()),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    state.db = db
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


def _open(read: bool = False) -> Store:
    """The store; ``read``: the command only reads, so a store that cannot be written to (file
    permissions, other processes reading it) is opened read-only."""
    try:
        return Store.open_for_reading(state.db) if read else Store.open(state.db)
    except CentricError as e:
        _fail(e)


def _fail(e: Exception) -> None:
    err.print(f"[red]error:[/red] {escape(str(e))}")
    raise typer.Exit(2)


@app.command()
def demo(
    dir: Path = typer.Option(Path("centric-demo"), "--dir", help="Folder for the demo's files and store.",
                             callback=output_folder()),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same company.",
                             callback=between(0, 2**32 - 1)),
    customers: int = typer.Option(20_000, "--customers", help="Number of customers to generate (at least 10).",
                                  callback=between(10, 10_000_000)),
    lang: str = typer.Option("en", "--lang", help="Language of the demo's report: en, pl, ru or it.",
                             callback=one_of(*LANGUAGES)),
) -> None:
    """Build the demo company: generate its files and load them.

    The files go to DIR/files and the store to DIR/centric.duckdb (or --db); they are loaded through
    the same path as `centric ingest`, and a summary is printed."""
    from .demo import build_demo

    try:
        summary, report_path = build_demo(dir, seed=seed, n_customers=customers, db=state.db, console=console,
                                          lang=lang)
    except CentricError as e:
        _fail(e)
    console.print(summary)
    console.print(f"Report written: {escape(str(report_path))}")


@app.command()
def ingest(
    table: str = typer.Argument(..., help="Target table: " + ", ".join(
        t.name for t in schema.TABLES.values() if t.ingestable)),
    files: list[Path] = typer.Argument(..., help="Files: .csv/.tsv/.txt, .xlsx, .json, .jsonl, .parquet."),
    mapping: Path = typer.Option(None, "--mapping", help="TOML file naming columns, recoding their values "
                                 "(value tables, formulas such as 6 - x, no-answer codes) and giving constants."),
    set_: list[str] = typer.Option([], "--set", help="A constant for a missing column, e.g. --set source=review."),
    replace: bool = typer.Option(False, "--replace", help="Load a file loaded before again (e.g. with a better "
                                 "mapping or settings), replacing what it stored then, all or nothing."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 3 when any row is rejected."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
    day_first: str = typer.Option(None, "--day-first", help=settings.SETTINGS["day_first"].help),
    timezone: str = typer.Option(None, "--timezone", help=settings.SETTINGS["timezone"].help),
    default_country: str = typer.Option(None, "--default-country",
                                        help=settings.SETTINGS["default_country"].help),
    currency: str = typer.Option(None, "--currency", help=settings.SETTINGS["currency"].help),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Load files into a table and report what was stored or rejected.

    Prints read / stored / rejected / duplicate counts per file, the first rejection reasons, what
    the mapping recoded and what was assumed (with the setting that would change it).
    Exit codes: 0 loaded; 1 a file could not be loaded or none of its rows stored; 2 a usage error
    (bad argument, invalid mapping file); 3 a file was loaded only in part: more of its rows were
    rejected than stored (with --strict: any row rejected)."""
    from .ingest import Mapping
    from .ingest import ingest as do_ingest
    from .ingest.load import resolve_options

    values = {}
    for item in set_:
        k, sep, v = item.partition("=")
        if not sep:
            _fail(CentricError(f"--set takes column=value, got {item!r}"))
        values[k.strip()] = v.strip()
    try:
        rules = Mapping.load(mapping) if mapping else None
        if rules is not None and table in schema.TABLES and schema.TABLES[table].ingestable:
            rules.check(schema.TABLES[table])
        resolve_options(rules or Mapping(), {"day_first": day_first, "timezone": timezone,
                                             "default_country": default_country, "currency": currency})
    except CentricError as e:
        _fail(e)
    failed = partial = False
    results = []
    with _open() as store:
        for f in files:
            try:
                res = do_ingest(table, f, store=store, mapping=rules, values=values, sheet=sheet,
                                day_first=day_first, timezone=timezone, default_country=default_country,
                                currency=currency, replace=replace)[0]
            except CentricError as e:
                err.print(f"[red]error:[/red] {escape(str(e))}")
                failed = True
                continue
            results.append(res)
            failed |= not res.ok
            partial |= res.partial or (strict and res.rows_rejected > 0)
            if not as_json:
                _print_result(store, res)
    if as_json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, default=str, indent=2))
    if failed:
        raise typer.Exit(1)
    if partial:
        raise typer.Exit(3)


def _print_result(store: Store, res) -> None:
    from .ingest.load import rejected_summary

    how = ", ".join(x for x in (res.format, res.encoding, repr(res.delimiter) if res.delimiter else None) if x)
    console.print(
        f"{escape(res.source)} → {res.table} ({how}): read {res.rows_read:,}, stored {res.rows_stored:,}, "
        f"rejected {res.rows_rejected:,}, duplicate {res.rows_duplicate:,}"
        + (f" — {res.status}" if res.status != "stored" else "")
    )
    if res.replaced_runs:
        console.print(f"  replaced run {', '.join(map(str, res.replaced_runs))}: {res.rows_removed:,} rows it had "
                      "stored were taken out, its rejected rows too")
    if res.customers_created or res.customers_merged:
        console.print(f"  customers: {res.customers_created:,} new, {res.customers_merged:,} merged")
    if res.ignored_columns:
        console.print(f"  columns not used: {escape(', '.join(res.ignored_columns))}")
    if res.rows_rejected and res.run_id:
        for r in rejected_summary(store, res.run_id, limit=5):
            col = f", column '{escape(r['column'])}'" if r["column"] else ""
            console.print(f"  [yellow]row {r['row']}{col}[/yellow]: {escape(r['reason'])}")
        if res.rows_rejected > 5:
            console.print(f"  … see all with: centric rejected --run {res.run_id}")
    for note in res.notes:
        console.print(f"  [cyan]note:[/cyan] {escape(note)}")
    if not res.ok:
        err.print(f"[red]{escape(res.source)}: nothing could be stored[/red]")


METRIC_CHOICES = ("nps", "csat", "ces", "complaints", "journeys", "churn")


@app.command()
def metrics(
    which: str = typer.Argument(..., help="One of: " + ", ".join(METRIC_CHOICES),
                               callback=one_of(*METRIC_CHOICES, what="metric")),
    by: list[str] = typer.Option([], "--by", help="Break down by a column or period (repeat, or comma-separate): "
                                 "day, week, month, quarter, year, survey, channel, touchpoint, language, segment, "
                                 "country, city; complaints: type, channel, department, priority, status."),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025).",
                              callback=bound()),
    to: str = typer.Option(None, "--to", help="First day excluded.", callback=bound()),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (value, n, interval, counts per group)."),
    correction: str = typer.Option("holm", "--correction", help="How changes between periods are corrected for "
                                   "their number: holm (default), bh (Benjamini-Hochberg) or none.",
                                   callback=one_of("holm", "bh", "none")),
) -> None:
    """Print a metric with n and its 95% interval, overall or by group."""
    from . import metrics as m

    groups = [b.strip() for item in by for b in item.split(",") if b.strip()]
    start, end = bounds(from_, to)
    if which == "journeys" and groups:
        _fail(CentricError("--by: journeys are not broken down (each journey is shown with its stages); drop --by"))
    try:
        if which not in METRIC_CHOICES:
            raise CentricError(f"unknown metric {which!r}; use one of {', '.join(METRIC_CHOICES)}")
        with _open(read=True) as store:
            if which in ("nps", "csat", "ces"):
                result = m.breakdown(store, which, groups, start, end, correction=correction)
            elif which == "complaints":
                result = m.complaints(store, tuple(groups) or ("type",), start, end,
                                      sla_hours=float(settings.get("sla_hours")))
            elif which == "journeys":
                result = m.journeys(store, start=start, end=end)
            else:
                period = next((g for g in groups if g in ("day", "week", "month", "quarter", "year")), "month")
                result = m.churn(store, period, tuple(g for g in groups if g != period), start, end)
    except CentricError as e:
        _fail(e)
    if as_json:
        payload = result.to_dict() if hasattr(result, "to_dict") else [r.to_dict() for r in result]
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    from .render_text import render_metric

    console.print(render_metric(which, result))


@app.command()
def report(
    out: Path = typer.Option(Path("report.html"), "--out", help="Where to write the HTML file.",
                             callback=output_file()),
    lang: str = typer.Option("en", "--lang", help="Language: en, pl, ru or it.", callback=one_of(*LANGUAGES)),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025).",
                              callback=bound()),
    to: str = typer.Option(None, "--to", help="First day excluded.", callback=bound()),
    period: str = typer.Option("quarter", "--period", help="Headline period: month or quarter (the last full one).",
                               callback=one_of("month", "quarter")),
    title: str = typer.Option(None, "--title", help="Title shown in the header (default: the store's file name)."),
) -> None:
    """Write a self-contained HTML report that opens offline."""
    from .report import write_report

    start, end = bounds(from_, to)
    try:
        with _open(read=True) as store:
            path = write_report(store, out, lang=lang, start=start, end=end, period=period, title=title)
    except CentricError as e:
        _fail(e)
    console.print(f"report written: {escape(str(path.resolve()))}")


@app.command()
def rejected(
    run: int = typer.Option(None, "--run", help="Only this ingest run.", callback=at_least(1)),
    limit: int = typer.Option(50, "--limit", help="At most this many rows.", callback=at_least(1)),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List rejected rows with file, row, column, value and reason."""
    with _open(read=True) as store:
        where, params = ("WHERE run_id = ?", [run]) if run is not None else ("", [])
        rows = store.con.execute(
            f"SELECT run_id, source, row_number, column_name, value, reason FROM rejected_rows {where} "
            f"ORDER BY run_id, row_number LIMIT ?", [*params, limit]).fetchall()
    keys = ("run", "source", "row", "column", "value", "reason")
    if as_json:
        print(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], ensure_ascii=False, indent=2))
        return
    t = Table(*keys)
    for r in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in r))
    console.print(t)


@app.command()
def runs(limit: int = typer.Option(50, "--limit", help="At most this many runs.", callback=at_least(1))) -> None:
    """List ingest runs: what was loaded, when, and with what result."""
    with _open(read=True) as store:
        rows = store.con.execute(
            "SELECT run_id, table_name, source, format, encoding, status, rows_read, rows_stored, rows_rejected, "
            "rows_duplicate, finished_at FROM ingest_runs ORDER BY run_id DESC LIMIT ?", [limit]).fetchall()
    t = Table("run", "table", "source", "format", "encoding", "status", "read", "stored", "rejected",
              "duplicate", "finished (UTC)")
    for r in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in r))
    console.print(t)


@app.command()
def status() -> None:
    """Show the store: path, schema version and rows per table (read-only when it cannot be written)."""
    with _open(read=True) as store:
        console.print(f"store {escape(store.path)}, schema version {store.schema_version}"
                      + (" (opened read-only)" if store.read_only else ""))
        t = Table("table", "rows")
        for name, n in store.counts().items():
            t.add_row(name, f"{n:,}")
        console.print(t)


@app.command("schema")
def schema_cmd(markdown: bool = typer.Option(False, "--markdown", help="Print docs/data-model.md.")) -> None:
    """Print the data model (tables, columns, types, allowed values)."""
    if markdown:
        sys.stdout.write(schema.markdown() + "\n")
        return
    for t in schema.TABLES.values():
        console.print(f"[bold]{t.name}[/bold]: {escape(t.doc)}")
        for c in t.columns:
            req = "required" if c.required else "optional"
            console.print(f"  {c.name:<18} {c.type:<9} {req:<8} {escape(c.describe_allowed())}")


@app.command("settings")
def settings_cmd() -> None:
    """List the settings with their current values, defaults and help."""
    t = Table("setting", "value", "default", "environment", "help")
    bad = []
    for s in settings.SETTINGS.values():
        try:
            value = settings.get(s.name)
        except CentricError as e:
            value = f"{os.environ.get(s.env)!r} (invalid)"
            bad.append(str(e))
        t.add_row(s.name, escape(value), s.default, s.env, s.help)
    console.print(t)
    for why in bad:
        err.print(f"[red]error:[/red] {escape(why)}")
    if bad:
        raise typer.Exit(2)


@customers_app.command("merges")
def customers_merges(limit: int = typer.Option(50, "--limit", help="At most this many merges.",
                                              callback=at_least(1))) -> None:
    """List customers merged across channels, and why."""
    with _open(read=True) as store:
        rows = store.con.execute(
            "SELECT merged_customer_id, into_customer_id, reason, run_id, merged_at FROM customer_merges "
            "ORDER BY merged_at, merged_customer_id LIMIT ?", [limit]).fetchall()
        total = store.count("customer_merges")
    t = Table("merged", "into", "why", "run", "when (UTC)")
    for r in rows:
        t.add_row(*(escape(str(v)) for v in r))
    console.print(t)
    console.print(f"{total:,} merges in all")


@customers_app.command("forget")
def customers_forget(
    who: str = typer.Argument(..., help="Customer id (C0000042), e-mail, phone, handle, crm id or card."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    compact: bool = typer.Option(False, "--compact", help="Then rewrite the store's file (as centric compact), so "
                                 "the erased data cannot be read from its free space either."),
) -> None:
    """Erase one customer's personal data; orders and scores stay.

    Their identities, merges, free text and the rejected rows that name them (by e-mail, phone however
    written, handle, id, full name or their words) go; orders, scores, events and cases stay, unlinked,
    so totals do not change. The erasure is recorded in the erasures table. The erased bytes stay in
    the file's free space until it is rewritten: add --compact, or run centric compact."""
    from .privacy import find_customer, forget

    try:
        with _open() as store:
            cid = find_customer(store, who, settings.get("default_country"))
            if not yes and not typer.confirm(f"Erase the personal data of customer {cid}?"):
                raise typer.Exit(1)
            e = forget(store, cid)
    except CentricError as ex:
        _fail(ex)
    console.print(f"customer {e.customer_id} erased: {e.identities_removed} identities removed, "
                  f"{e.rows_anonymised} rows unlinked and stripped of free text, "
                  f"{e.rejected_rows_removed} rejected rows removed")
    if compact:
        _compact()
    else:
        console.print("the erased data stay readable in the file's free space until it is rewritten: "
                      "run centric compact")


def _compact() -> None:
    from .store import compact

    try:
        before, after = compact(state.db)
    except CentricError as e:
        _fail(e)
    console.print(f"store rewritten: {before / 1e6:,.1f} MB → {after / 1e6:,.1f} MB; deleted and erased data "
                  "are gone from the file")


@app.command("compact")
def compact_cmd() -> None:
    """Rewrite the store's file, so that deleted and erased data cannot be read from its free space.

    Copies everything into a new file beside it, which replaces the old one in one rename; needs the
    store to itself (close notebooks and other commands using it)."""
    _compact()


def pd_isna(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _day_option(v: str | None, name: str):
    if v is None:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        _fail(CentricError(f"{name}: {v!r} is not a date (YYYY-MM-DD)"))


@customers_app.command("score")
def customers_score(
    horizon: int = typer.Option(365, "--horizon", help="Days ahead for expected purchases and CLV.",
                                callback=between(1, 36_500)),
    discount: float = typer.Option(0.01, "--discount", help="Discount rate per month for CLV (0 to 1).",
                                   callback=between(0, 1, high_open=True)),
    as_of: str = typer.Option(None, "--as-of", help="Score as of this day (YYYY-MM-DD; default: the last order).",
                              callback=day()),
    model: str = typer.Option("auto", "--model", help="Purchase model: auto (BG/NBD or MBG/NBD, whichever fits "
                              "the orders better), bgnbd, or mbgnbd (one-time buyers can be lost too).",
                              callback=one_of("auto", "bgnbd", "mbgnbd")),
    as_json: bool = typer.Option(False, "--json", help="Print the fitted models and totals as JSON."),
) -> None:
    """Fit the purchase rhythm (BG/NBD or MBG/NBD) and Gamma-Gamma to the orders and store P(alive),
    expected purchases and CLV.

    Every run appends one row per customer to customer_scores, so `centric customers alerts` can
    see who fell since the last scoring of other data."""
    from .customers import scoring

    try:
        with _open() as store:
            res = scoring.score(store, horizon_days=horizon, discount_rate=discount,
                                as_of=_day_option(as_of, "--as-of"), model=model)
    except CentricError as e:
        _fail(e)
    info = res.summary()
    if as_json:
        print(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        return
    p = info["params"]
    console.print(f"scored {info['customers']:,} customers as of {info['as_of']}: "
                  f"{scoring.MODEL_NAMES[res.model]} r={p['r']:.3f} alpha={p['alpha']:.3f} a={p['a']:.3f} "
                  f"b={p['b']:.3f}")
    if res.log_likelihoods and len(res.log_likelihoods) > 1:
        lls = ", ".join(f"{scoring.MODEL_NAMES[k]} {v:,.1f}" for k, v in res.log_likelihoods.items())
        console.print(f"  chosen by log-likelihood ({lls}; same number of parameters, so also by BIC)")
    for cur, g in info["gammagamma"].items():
        console.print(f"  spend ({escape(cur)}): Gamma-Gamma p={g['p']:.3f} q={g['q']:.3f} gamma={g['gamma']:.3f}")
    console.print(f"  mean P(alive) {info['mean_p_alive']:.3f}; likely lost (P(alive) < {info['lost_threshold']}): "
                  f"{info['likely_lost']:,}")
    for cur, v in info["clv_by_currency"].items():
        console.print(f"  CLV of the next {horizon} days: {v:,.2f} {escape(cur)}")


def _rates(items: list[str]) -> dict[str, float]:
    """--rate EUR=4.31 (repeatable, or comma-separated) → {"EUR": 4.31}."""
    out: dict[str, float] = {}
    for item in (x.strip() for i in items for x in i.split(",") if x.strip()):
        cur, sep, value = item.partition("=")
        try:
            if not sep or not cur.strip().isalpha() or len(cur.strip()) != 3:
                raise ValueError
            out[cur.strip().upper()] = float(value.replace(",", "."))
        except ValueError:
            raise CentricError(f"--rate: {item!r} is not CURRENCY=RATE (for example EUR=4.31)") from None
    return out


_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(v):
    """A text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + v if isinstance(v, str) and v.startswith(_CSV_FORMULA) else v


@customers_app.command("alerts")
def customers_alerts(
    threshold: float = typer.Option(0.5, "--threshold", help="P(alive) below which a customer is at risk (0 to 1).",
                                    callback=between(0, 1, low_open=True)),
    limit: int = typer.Option(30, "--limit", help="Rows to print per currency (the CSV gets all).",
                              callback=at_least(1)),
    csv_out: Path = typer.Option(None, "--csv", help="Write every alert to this CSV file for the service team: "
                                 "name, e-mail, phone, reason, currency and amounts.", callback=output_file()),
    convert_to: str = typer.Option(None, "--convert-to", help="Rank every currency together in this one "
                                   "(needs --rate for each other currency); default: rank within each currency."),
    rate: list[str] = typer.Option([], "--rate", help="Exchange rate for --convert-to: units of it for one unit of "
                                   "a currency, e.g. --rate EUR=4.31 (repeat per currency)."),
) -> None:
    """Customers to call first: P(alive) fell below the threshold since the last scoring of other data,
    or valuable customers who went quiet against their own rhythm; ranked by value at risk within each
    currency (or across currencies with --convert-to and --rate), with name and contact."""
    from .customers import scoring

    try:
        rates = _rates(rate)
        if rates and not convert_to:
            raise CentricError("--rate needs --convert-to (the currency to convert into)")
        with _open(read=True) as store:
            a = scoring.alerts(store, threshold=threshold, convert_to=convert_to, rates=rates)
        if csv_out:
            money = [c for c in ("value_at_risk", "clv", "monetary_value", "converted_value_at_risk") if c in a]
            a.assign(**{c: a[c].map(_csv_safe) for c in ("name", "email")}).round(
                {**dict.fromkeys(money, 2), "p_alive": 4, "p_alive_before": 4, "usual_gap_days": 1}
            ).to_csv(csv_out, index=False)
    except CentricError as e:
        _fail(e)
    except OSError as e:
        _fail(CentricError(f"--csv: cannot write {csv_out}: {e.strerror or e}"))
    if csv_out:
        console.print(f"{len(a):,} alerts written to {escape(str(csv_out))}")
    converted = "converted_currency" in a.columns
    t = Table("#", "customer", "name", "contact", "reason", "value at risk", "P(alive)", "before",
              "days silent / usual gap")
    for r in scoring.top_per_currency(a, limit).itertuples():
        risk = f"{r.value_at_risk:,.0f} {escape(str(r.currency or '(none)'))}"
        if converted:
            risk += f" = {r.converted_value_at_risk:,.0f} {escape(r.converted_currency)}"
        contact = "; ".join(str(v) for v in (r.phone, r.email) if not pd_isna(v))
        t.add_row(str(r.rank), escape(str(r.customer_id)), "" if pd_isna(r.name) else escape(str(r.name)),
                  escape(contact), r.reason, risk, f"{r.p_alive:.2f}",
                  "—" if pd_isna(r.p_alive_before) else f"{r.p_alive_before:.2f}",
                  f"{r.days_silent:.0f} / " + ("—" if pd_isna(r.usual_gap_days) else f"{r.usual_gap_days:.0f}"))
    console.print(t)
    before = a.attrs.get("baseline")
    console.print(f"compared with the scoring of {str(before)[:19]} (as of {a.attrs['baseline_as_of']})"
                  if before is not None else
                  "no earlier scoring of other data: every repeat buyer below the threshold is listed")
    if converted:
        used = ", ".join(f"1 {c} = {v:g} {convert_to.upper()}" for c, v in sorted(rates.items()))
        console.print(f"ranked across currencies in {escape(convert_to.upper())} at the stated rates ({escape(used)})")
    else:
        per = a.groupby(a["currency"].fillna("(none)"), sort=False).size()
        console.print("ranked within each currency (amounts in different currencies are not compared): "
                      + ", ".join(f"{n:,} in {escape(str(c))}" for c, n in per.items()))
    console.print(f"{len(a):,} alerts in all")


@customers_app.command("validate")
def customers_validate(
    calibration_end: str = typer.Option(..., "--calibration-end", help="Last day of the calibration period.",
                                        callback=day()),
    observation_end: str = typer.Option(None, "--observation-end", help="Last day of the holdout (default: last order).",
                                        callback=day()),
    unit: str = typer.Option("W", "--unit", help="Time unit of the model: D (days) or W (weeks).",
                             callback=one_of("D", "W")),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """Fit BG/NBD on the orders up to the calibration end and compare predicted with actual purchases
    in the holdout, by number of repeat purchases in the calibration (the Fader–Hardie check)."""
    from .customers import BetaGeo, calibration_table, rfm_summary
    from .customers.scoring import orders_frame

    if observation_end and observation_end <= calibration_end:
        _fail(CentricError(f"--observation-end: {observation_end} must come after --calibration-end "
                           f"{calibration_end}"))
    try:
        with _open(read=True) as store:
            orders = orders_frame(store)
        summary = rfm_summary(orders, unit=unit, calibration_end=_day_option(calibration_end, "--calibration-end"),
                              observation_end=_day_option(observation_end, "--observation-end"))
        model = BetaGeo().fit(summary)
        table = calibration_table(model, summary)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps({"params": model.params_, "log_likelihood": model.log_likelihood_,
                          "rows": table.reset_index().to_dict(orient="records")}, indent=2, default=float))
        return
    p = model.params_
    console.print(f"BG/NBD on {len(summary):,} customers, calibration to {summary.attrs['calibration_end']}: "
                  f"r={p['r']:.3f} alpha={p['alpha']:.3f} a={p['a']:.3f} b={p['b']:.3f}, "
                  f"log-likelihood {model.log_likelihood_:,.1f}")
    t = Table("repeat purchases (calibration)", "customers", "actual (mean)", "predicted (mean)", "actual", "predicted")
    for freq, r in table.iterrows():
        t.add_row(str(freq), f"{r.customers:,.0f}", f"{r.actual:.3f}", f"{r.predicted:.3f}",
                  f"{r.actual_total:,.0f}", f"{r.predicted_total:,.1f}")
    t.add_row("all", f"{table.customers.sum():,.0f}", "", "", f"{table.actual_total.sum():,.0f}",
              f"{table.predicted_total.sum():,.1f}")
    console.print(t)
    console.print(f"holdout: {summary['duration_holdout'].iloc[0]:.2f} {'weeks' if unit == 'W' else 'days'} "
                  f"to {summary.attrs['observation_end']}")


@customers_app.command("reasons")
def customers_reasons(
    threshold: float = typer.Option(0.5, "--threshold", help="P(alive) below which a customer counts as likely lost "
                                    "(0 to 1).", callback=between(0, 1, low_open=True)),
) -> None:
    """Churn reasons: factors that customers now likely lost raised negatively, against active ones."""
    from .customers.loyalty import churn_reasons

    try:
        with _open(read=True) as store:
            r = churn_reasons(store, threshold=threshold)
    except CentricError as e:
        _fail(e)
    t = Table("factor", "lost who raised it", "active who raised it", "lift", "p", "significant")
    for row in r.itertuples():
        t.add_row(escape(row.factor), f"{row.lost_customers:,} ({100 * row.lost_share:.1f}%)",
                  f"{row.active_customers:,} ({100 * row.active_share:.1f}%)", f"{row.lift:.2f}",
                  f"{row.p_value:.3g}", "yes" if row.significant else "no")
    console.print(t)
    console.print(f"{r.attrs.get('lost', 0):,} customers likely lost, {r.attrs.get('active', 0):,} active")


@customers_app.command("phases")
def customers_phases(
    period: str = typer.Option("quarter", "--period", help="month, quarter or year.",
                               callback=one_of("month", "quarter", "year")),
) -> None:
    """Loyalty phases (ordinary, loyal, advocate) at each period end and the flows between them."""
    from .customers.loyalty import loyalty_phases

    try:
        with _open(read=True) as store:
            counts, flows = loyalty_phases(store, period=period)
    except CentricError as e:
        _fail(e)
    t = Table("period end", "ordinary", "loyal", "advocate")
    for r in counts.itertuples():
        t.add_row(str(r.period_end), f"{r.ordinary:,}", f"{r.loyal:,}", f"{r.advocate:,}")
    console.print(t)
    if len(flows):
        last = flows[flows.period_end == flows.period_end.max()]
        f = Table("from", "to", f"customers (to {last.period_end.iloc[0]})")
        for r in last.to_dict(orient="records"):
            f.add_row(r["from"], r["to"], f"{r['customers']:,}")
        console.print(f)


@app.command("drivers")
def drivers_cmd(
    brand: str = typer.Option("ours", "--brand", help="Whose factors: ours, or a competitor's name."),
    period: str = typer.Option("month", "--period", help="Period of the trends and emerging issues: month or quarter.",
                               callback=one_of("month", "quarter")),
    outcome: str = typer.Option(None, "--outcome", help="What the key drivers explain: nps, csat, ces (survey "
                                "answers) or rating (reviews); default: the one with the most answers with an "
                                "analysed text; with fewer than 30 for each, factors are ranked by volume.",
                                callback=one_of("nps", "csat", "ces", "rating")),
    performance: str = typer.Option("net", "--performance", help="Matrix performance axis: net (net sentiment) or "
                                    "gap (net sentiment minus the other brands' mean)."),
    importance: str = typer.Option("relative_weight", "--importance", help="relative_weight or lmg.",
                                   callback=one_of("relative_weight", "lmg")),
    reps: int = typer.Option(200, "--reps", help="Bootstrap replicates for the intervals.", callback=between(0, 100_000)),
    cross_x: float = typer.Option(None, "--cross-importance", help="Importance crosshair (default: the mean)."),
    cross_y: float = typer.Option(None, "--cross-performance", help="Performance crosshair at this value "
                                  "(overrides --crosshair)."),
    crosshair: str = typer.Option(None, "--crosshair", help="Where the performance crosshair sits: neutral (net "
                                  "sentiment 0), competitors (their net sentiment on the same factors, never below "
                                  "neutral; the default when there are competitors' mentions) or relative (the mean "
                                  "of our own factors).", callback=one_of("neutral", "competitors", "relative")),
    as_json: bool = typer.Option(False, "--json", help="Print the whole analysis as JSON."),
) -> None:
    """What matters to customers and what to fix first: key drivers of NPS, CSAT, CES or ratings (or, with no
    score, factors by volume), perception, competitors, the action matrix (fix / promote / maintain / observe)
    and emerging issues. Needs `centric analyze`."""
    from .drivers import drivers

    try:
        with _open() as store:
            d = drivers(store, brand=brand, outcome=outcome, period=period, performance=performance,
                        importance_by=importance, reps=reps, crosshair=(cross_x, cross_y), crosshair_at=crosshair)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    lo, hi = d.r2_interval
    for note in d.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if d.outcome:
        console.print(f"Key drivers of {d.outcome_name} for {escape(d.brand)}: {d.answers:,} answers, "
                      f"R² {d.r2:.3f} ({lo:.3f} … {hi:.3f})")
    else:
        console.print(f"Factors of {escape(d.brand)} ranked by volume (no outcome to explain): {d.texts:,} texts")
    with_complaints = bool(d.factors["complaints"].sum())
    scored = ["impact", "voice %"] if d.outcome else []  # by volume, importance is the share of voice
    t = Table("#", "factor", "importance % (95%)" if d.outcome else "share of voice % (95%)", "net sentiment (95%)",
              *scored, "n", *(["complaints"] if with_complaints else []), "quadrant")

    def with_ci(v, a, b, sign=""):
        if v != v:
            return "—"
        return f"{v:{sign}.1f}" + ("" if a != a or b != b else f" ({a:{sign}.0f}…{b:{sign}.0f})")

    for r in d.factors.itertuples():
        t.add_row(str(r.rank), escape(r.factor), with_ci(r.importance, r.importance_low, r.importance_high),
                  with_ci(r.net, r.net_low, r.net_high, "+"),
                  *([f"{r.impact:+.1f}", f"{r.share_of_voice:.1f}"] if d.outcome else []),
                  "0" if r.n != r.n else f"{int(r.n):,}", *([f"{r.complaints:,}"] if with_complaints else []),
                  (r.quadrant + ("?" if r.uncertain else "")) if isinstance(r.quadrant, str) else "—")
    console.print(t)
    cx, cy = d.crosshair
    figure = {"nps": "NPS", "csat": "CSAT (% satisfied, 4–5)", "ces": "CES (% easy, 5–7)", "rating": "mean rating"}
    console.print(f"{d.crosshair_note()}; importance crosshair at {cx:.1f} (the mean); '?': an interval straddles "
                  "a crosshair. " + (f"importance = share of R²; impact = {figure[d.outcome]} of all answers minus "
                                     "those without the factor" if d.outcome else
                                     "the matrix is volume (share of voice) × net sentiment"))
    for quad in ("fix", "promote", "maintain", "observe"):
        names = [f"{r.factor}{'?' if r.uncertain else ''}" for r in d.factors.itertuples() if r.quadrant == quad]
        console.print(f"  {quad:<9} {escape(', '.join(names)) or '—'}")
    if len(d.leaders) and d.leaders["runner_up"].notna().any():  # only with other brands to lead
        lt = Table("factor", "leader", "net sentiment", "runner-up", "significant lead")
        for r in d.leaders.itertuples():
            runner = r.runner_up if isinstance(r.runner_up, str) else "—"
            lt.add_row(escape(r.factor), escape(r.leader), f"{r.net:+.1f}", escape(runner),
                       "yes" if r.significant else "no")
        console.print(lt)
    for r in d.alerts.itertuples():
        console.print(f"[red]emerging:[/red] {escape(r.factor)}: negative {r.negative_share:.1f}% in {r.period} "
                      f"against {r.previous_share:.1f}% in {r.previous} (p {r.p_value:.3g})")


@app.command("analyze")
def analyze_cmd(
    taxonomy: str = typer.Option("retail", "--taxonomy", help=TAXONOMY_HELP),
    fast: bool = typer.Option(False, "--fast", help="Judge polarity on the factor embeddings (several times "
                              "faster, 3–9 points less accurate)."),
    gate: float = typer.Option(None, "--gate", help="Cascade: the fast model decides where it is at least this "
                               "sure (e.g. 0.8), the accurate one the rest (two to three times as fast).",
                               callback=between(0, 1, low_open=True)),
) -> None:
    """Analyse every comment and feedback text not analysed yet into mentions."""
    from rich.progress import Progress

    from .text.batch import analyze_store

    try:
        with _open() as store, Progress(console=console, transient=True) as bar:
            task = bar.add_task("analysing texts", total=None)
            result = analyze_store(store, taxonomy, fast=fast, gate=gate,
                                   progress=lambda done, total: bar.update(task, completed=done, total=total))
    except CentricError as e:
        _fail(e)
    console.print(f"{result.texts:,} texts analysed, {result.mentions:,} factor mentions stored "
                  f"({result.skipped:,} analysed before)")
    if result.placeholders:
        again = f", {result.reclassified:,} of them analysed as opinions before" if result.reclassified else ""
        console.print(f"{result.placeholders:,} placeholder answers (“did not answer”, “n/a”, “nothing”, only a "
                      f"score …) kept but not analysed as opinions{again}")


@text_app.command("analyze")
def text_analyze(
    input: Path = typer.Argument(..., help='JSON lines: {"id": …, "text": …, "lang"?: …, "factors"?: [ID, …]}.',
                                 callback=input_file()),
    taxonomy: str = typer.Option("retail", "--taxonomy", help=TAXONOMY_HELP),
    out: Path = typer.Option(..., "--out", help="Where to write the results (JSON lines).", callback=output_file()),
) -> None:
    """Analyse texts from a JSON-lines file into a JSON-lines file."""
    from .text import Analyzer

    try:
        items = []
        with open(input, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CentricError(f"{input} line {n}: not valid JSON ({e.msg})") from e
                if not isinstance(rec, dict) or "text" not in rec:
                    raise CentricError(f'{input} line {n}: expected an object with "id" and "text"')
                items.append(rec)
        analyzer = Analyzer(taxonomy)
        with open(out, "w", encoding="utf-8") as f:
            for i in range(0, len(items), 512):
                for r in analyzer.analyze(items[i:i + 512]):
                    d = r.to_dict()
                    f.write(json.dumps({k: d[k] for k in ("id", "lang", "sentiment", "score", "factors", "emotions",
                                                          "flags")}, ensure_ascii=False) + "\n")
    except FileNotFoundError as e:
        _fail(CentricError(f"{e.filename}: no such file"))
    except CentricError as e:
        _fail(e)
    console.print(f"{len(items):,} texts analysed → {escape(str(out))}")


@text_app.command("flagged")
def text_flagged(
    flag: str = typer.Option(None, "--flag", help="Only this flag: near_duplicate, burst or extortion."),
    limit: int = typer.Option(100, "--limit", help="At most this many rows.", callback=at_least(1)),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the texts `centric analyze` flagged as suspicious, with the reason (nothing is deleted)."""
    from .text.suspicious import FLAGS, flagged

    if flag and flag not in FLAGS:
        _fail(CentricError(f"--flag: {flag!r} is not one of {', '.join(FLAGS)}"))
    try:
        with _open(read=True) as store:
            rows = flagged(store, flag=flag, limit=limit)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("No flagged texts (run `centric analyze` first).")
        return
    t = Table("when", "source", "id", "brand", "author", "flag", "reason", "text")
    for r in rows:
        t.add_row(*(escape(str(r[k] if r[k] is not None else "")) for k in
                    ("at", "source", "id", "brand", "author", "flag", "reason", "excerpt")))
    console.print(t)


@text_app.command("topics")
def text_topics(
    source: str = typer.Option(None, "--source", help="Only this kind of text: survey (survey comments), "
                               "complaint, review, social, chat, email, mystery_shopper or observation; "
                               "default: all."),
    brand: str = typer.Option("ours", "--brand", help="Texts about this brand: ours, a competitor's name, or all."),
    period: str = typer.Option("month", "--period", help="Period of the trend: week, month, quarter or year."),
    since: str = typer.Option(None, "--since", help="Texts written on or after this date (YYYY-MM-DD)."),
    taxonomy: str = typer.Option(None, "--taxonomy", help="The taxonomy they were analysed with (default: the "
                                 "one that analysed most of them)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole view as JSON."),
) -> None:
    """What the texts are about: per factor the texts that raise it and their share, net sentiment,
    the trend by period (changes tested, Holm-corrected) and typical quotes. Needs `centric analyze`."""
    from .text.topics import topics

    try:
        day = _day_option(since, "--since")
        with _open() as store:
            t = topics(store, source=source, brand=None if brand == "all" else brand, period=period, since=day,
                       taxonomy=taxonomy)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(t.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    what = f"{source} texts" if source else "texts"
    if not t.texts and not t.placeholders:
        console.print(f"No analysed {what}{' about ' + escape(brand) if brand != 'all' else ''}"
                      f"{' since ' + str(day) if day else ''}: run `centric analyze` first, or widen the selection.")
        return
    console.print(f"Topics of {t.texts:,} {escape(what)} about {escape(brand)} (taxonomy {escape(t.taxonomy or '')}"
                  f"{', since ' + str(day) if day else ''}): {t.placeholders:,} placeholder answers not analysed, "
                  f"{t.unclassified:,} texts with no factor")
    shown = t.periods[-6:]
    cells = {(r.factor, r.period): r for r in t.trend}
    span = f"{shown[0]} → {shown[-1]}" if len(shown) > 1 else (shown[0] if shown else "")
    tab = Table("factor", "texts", "share %", "net sentiment (95%)", f"share % by {t.period}, {span}")
    for x in t.topics:
        net = "—" if x.net is None else f"{x.net:+.1f} ({x.net_low:+.0f}…{x.net_high:+.0f})"
        trend = []
        for p in shown:
            c = cells.get((x.factor, p))
            arrow = "" if c is None or not c.share_significant else "▲" if c.share_change > 0 else "▼"
            trend.append("—" if c is None or c.share is None else f"{c.share:.0f}{arrow}")
        tab.add_row(escape(x.name), f"{x.texts:,}", f"{x.share:.1f}", net, " ".join(trend))
    console.print(tab)
    console.print(f"share: % of the {t.texts:,} analysed texts (a text may raise several factors); net sentiment: "
                  f"% positive − % negative mentions; ▲▼: the change of the share from the {t.period} before is "
                  f"significant after Holm's correction over the {t.tests:,} changes tested (p < 0.05; periods with "
                  f"fewer than {t.min_texts} texts are not tested); --json for every period and the p-values")
    for x in t.topics:
        for q in x.quotes[:2]:
            console.print(f"  {escape(x.name)}: “{escape(q)}”")


@text_app.command("discover")
def text_discover(
    input: Path = typer.Argument(None, help='JSON lines with "id" and "text" (as for text analyze); without it, '
                                 "the store's texts analysed by `centric analyze`.", callback=input_file()),
    taxonomy: str = typer.Option("retail", "--taxonomy", help=TAXONOMY_HELP),
    clusters: int = typer.Option(None, "--clusters", help="Number of clusters (default: from the data).",
                                 callback=between(2, 1000)),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same input and seed give the same result.",
                             callback=between(0, 2**32 - 1)),
    since: str = typer.Option(None, "--since", help="Store only: texts written on or after this date (YYYY-MM-DD).",
                              callback=day()),
    brand: str = typer.Option(None, "--brand", help="Store only: reviews and posts about this brand."),
    out: Path = typer.Option(None, "--out", help="Write the candidates as JSON here.", callback=output_file()),
) -> None:
    """Propose factors nobody named: clusters of sentences that match no factor."""
    from .text import Analyzer
    from .text.discovery import discover, store_sentences
    from .text.embed import USEEmbedder
    from .text.pipeline import unmatched

    try:
        if input is None:
            day = _day_option(since, "--since")
            with _open() as store:
                sentences, langs = store_sentences(store, taxonomy, since=day and day.isoformat(), brand=brand,
                                                   seed=seed)
            if not sentences:
                console.print("No unmatched sentences: run `centric analyze` first, or widen --since / --brand.")
                return
            embedder = USEEmbedder()
        else:
            items = [json.loads(line) for line in open(input, encoding="utf-8") if line.strip()]
            analyzer = Analyzer(taxonomy, fast=True)
            sentences, langs = unmatched(analyzer, analyzer.analyze(items))
            embedder = analyzer.embedder
        found = discover(sentences, embedder.encode(sentences), langs, k=clusters, seed=seed)
    except (OSError, json.JSONDecodeError) as e:
        _fail(CentricError(f"{input}: {e}"))
    except CentricError as e:
        _fail(e)
    if out:
        out.write_text(json.dumps([c.to_dict() for c in found], ensure_ascii=False, indent=2), encoding="utf-8")
    for i, c in enumerate(found, start=1):
        console.print(f"[bold]{i}. {escape(', '.join(c.terms))}[/bold] — {c.size} sentences "
                      f"({escape(', '.join(f'{k} {v}' for k, v in c.languages.items()))})")
        for q in c.quotes:
            console.print(f"   “{escape(q[:160])}”")


sla_app = typer.Typer(help="Service levels: due times in business time on a calendar.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")


@sla_app.command("due")
def sla_due(
    calendar: Path = typer.Option(..., "--calendar", help="Calendar TOML: timezone, [hours] mon … sun, holidays."),
    input: Path = typer.Option(..., "--in", help='JSON lines: {"id": …, "start": ISO with offset, "minutes": N, '
                               '"pauses"?: [[from, to], …]}.'),
    out: Path = typer.Option(..., "--out", help='Where to write {"id": …, "due": UTC ISO} lines, in input order.'),
) -> None:
    """Due time of each clock: when MINUTES of open business time have passed after START, pauses excluded.

    A bad line refuses the whole run (exit code 2, nothing written) and every bad line is listed."""
    from .cases.calendar import load_calendar
    from .cases.sla_file import run

    try:
        n = run(load_calendar(calendar), input, out)
    except CentricError as e:
        _fail(e)
    except OSError as e:
        _fail(CentricError(f"{e.filename or out}: {e.strerror or e}"))
    console.print(f"{n:,} due times → {escape(str(out))}")


def main() -> None:
    try:
        app()
    except CentricError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        sys.exit(2)


if __name__ == "__main__":
    main()
