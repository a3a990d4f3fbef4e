"""The command line: parses arguments, calls the core, prints. No analytics here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import schema, settings
from .errors import CentricError
from .store import Store

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


class _State:
    db: str | None = None


state = _State()


@app.callback()
def _main(
    db: str = typer.Option(None, "--db", help=DB_HELP, envvar="CENTRIC_DB"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    state.db = db
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


def _open() -> Store:
    return Store.open(state.db)


def _fail(e: Exception) -> None:
    err.print(f"[red]error:[/red] {escape(str(e))}")
    raise typer.Exit(2)


@app.command()
def demo(
    dir: Path = typer.Option(Path("centric-demo"), "--dir", help="Folder for the demo's files and store."),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same company."),
    customers: int = typer.Option(20_000, "--customers", help="Number of customers to generate."),
    lang: str = typer.Option("en", "--lang", help="Language of the demo's report: en, pl, ru or it."),
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
    mapping: Path = typer.Option(None, "--mapping", help="TOML file naming columns and constant values."),
    set_: list[str] = typer.Option([], "--set", help="A constant for a missing column, e.g. --set source=review."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero when any row is rejected."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)."),
    day_first: str = typer.Option(None, "--day-first", help=settings.SETTINGS["day_first"].help),
    timezone: str = typer.Option(None, "--timezone", help=settings.SETTINGS["timezone"].help),
    default_country: str = typer.Option(None, "--default-country",
                                        help=settings.SETTINGS["default_country"].help),
    currency: str = typer.Option(None, "--currency", help=settings.SETTINGS["currency"].help),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Load files into a table and report what was stored or rejected.

    Prints read / stored / rejected / duplicate counts per file and the first rejection reasons."""
    from .ingest import ingest as do_ingest

    values = {}
    for item in set_:
        k, sep, v = item.partition("=")
        if not sep:
            _fail(CentricError(f"--set takes column=value, got {item!r}"))
        values[k.strip()] = v.strip()
    failed = rejected = False
    results = []
    with _open() as store:
        for f in files:
            try:
                res = do_ingest(table, f, store=store, mapping=mapping, values=values, sheet=sheet,
                                day_first=day_first, timezone=timezone, default_country=default_country,
                                currency=currency)[0]
            except CentricError as e:
                err.print(f"[red]error:[/red] {escape(str(e))}")
                failed = True
                continue
            results.append(res)
            failed |= not res.ok
            rejected |= res.rows_rejected > 0
            if not as_json:
                _print_result(store, res)
    if as_json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, default=str, indent=2))
    if failed or (strict and rejected):
        raise typer.Exit(1)


def _print_result(store: Store, res) -> None:
    from .ingest.load import rejected_summary

    how = ", ".join(x for x in (res.format, res.encoding, repr(res.delimiter) if res.delimiter else None) if x)
    console.print(
        f"{escape(res.source)} → {res.table} ({how}): read {res.rows_read:,}, stored {res.rows_stored:,}, "
        f"rejected {res.rows_rejected:,}, duplicate {res.rows_duplicate:,}"
        + (f" — {res.status}" if res.status != "stored" else "")
    )
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
    if not res.ok:
        err.print(f"[red]{escape(res.source)}: nothing could be stored[/red]")


METRIC_CHOICES = ("nps", "csat", "ces", "complaints", "journeys", "churn")


@app.command()
def metrics(
    which: str = typer.Argument(..., help="One of: " + ", ".join(METRIC_CHOICES)),
    by: list[str] = typer.Option([], "--by", help="Break down by a column or period (repeat, or comma-separate): "
                                 "day, week, month, quarter, year, survey, channel, touchpoint, language, segment, "
                                 "country, city; complaints: type, channel, department, priority, status."),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025)."),
    to: str = typer.Option(None, "--to", help="First day excluded."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (value, n, interval, counts per group)."),
) -> None:
    """Print a metric with n and its 95% interval, overall or by group."""
    from . import metrics as m
    from .metrics.periods import parse_bound

    groups = [b.strip() for item in by for b in item.split(",") if b.strip()]
    try:
        start, end = parse_bound(from_), parse_bound(to)
        if which not in METRIC_CHOICES:
            raise CentricError(f"unknown metric {which!r}; use one of {', '.join(METRIC_CHOICES)}")
        with _open() as store:
            if which in ("nps", "csat", "ces"):
                result = m.breakdown(store, which, groups, start, end)
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
    out: Path = typer.Option(Path("report.html"), "--out", help="Where to write the HTML file."),
    lang: str = typer.Option("en", "--lang", help="Language: en, pl, ru or it."),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025)."),
    to: str = typer.Option(None, "--to", help="First day excluded."),
    period: str = typer.Option("quarter", "--period", help="Headline period: month or quarter (the last full one)."),
    title: str = typer.Option(None, "--title", help="Title shown in the header (default: the store's file name)."),
) -> None:
    """Write a self-contained HTML report that opens offline."""
    from .metrics.periods import parse_bound
    from .report import write_report

    try:
        if period not in ("month", "quarter"):
            raise CentricError(f"--period must be month or quarter, got {period!r}")
        with _open() as store:
            path = write_report(store, out, lang=lang, start=parse_bound(from_), end=parse_bound(to), period=period,
                                title=title)
    except CentricError as e:
        _fail(e)
    console.print(f"report written: {escape(str(path.resolve()))}")


@app.command()
def rejected(
    run: int = typer.Option(None, "--run", help="Only this ingest run."),
    limit: int = typer.Option(50, "--limit", help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List rejected rows with file, row, column, value and reason."""
    with _open() as store:
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
def runs(limit: int = typer.Option(50, "--limit", help="At most this many runs.")) -> None:
    """List ingest runs: what was loaded, when, and with what result."""
    with _open() as store:
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
    """Show the store: path, schema version and rows per table."""
    with _open() as store:
        console.print(f"store {escape(store.path)}, schema version {store.schema_version}")
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
    for s in settings.SETTINGS.values():
        t.add_row(s.name, settings.get(s.name), s.default, s.env, s.help)
    console.print(t)


@customers_app.command("merges")
def customers_merges(limit: int = typer.Option(50, "--limit", help="At most this many merges.")) -> None:
    """List customers merged across channels, and why."""
    with _open() as store:
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
) -> None:
    """Erase one customer's personal data; orders and scores stay.

    Their identities, merges, free text and rejected rows go; orders, scores, events and cases stay,
    unlinked, so totals do not change. The erasure is recorded in the erasures table."""
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
    horizon: int = typer.Option(365, "--horizon", help="Days ahead for expected purchases and CLV."),
    discount: float = typer.Option(0.01, "--discount", help="Discount rate per month for CLV."),
    as_of: str = typer.Option(None, "--as-of", help="Score as of this day (YYYY-MM-DD; default: the last order)."),
    model: str = typer.Option("bgnbd", "--model", help="Purchase model: bgnbd, or mbgnbd (one-time buyers can "
                              "be lost too)."),
    as_json: bool = typer.Option(False, "--json", help="Print the fitted models and totals as JSON."),
) -> None:
    """Fit BG/NBD and Gamma-Gamma to the orders and store P(alive), expected purchases and CLV.

    Every run appends one row per customer to customer_scores, so `centric customers alerts` can
    see who fell since the last scoring."""
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
    p = info["bgnbd"]
    console.print(f"scored {info['customers']:,} customers as of {info['as_of']}: "
                  f"{'MBG/NBD' if model == 'mbgnbd' else 'BG/NBD'} r={p['r']:.3f} alpha={p['alpha']:.3f} a={p['a']:.3f} b={p['b']:.3f}")
    for cur, g in info["gammagamma"].items():
        console.print(f"  spend ({escape(cur)}): Gamma-Gamma p={g['p']:.3f} q={g['q']:.3f} gamma={g['gamma']:.3f}")
    console.print(f"  mean P(alive) {info['mean_p_alive']:.3f}; likely lost (P(alive) < 0.5): {info['likely_lost']:,}")
    for cur, v in info["clv_by_currency"].items():
        console.print(f"  CLV of the next {horizon} days: {v:,.2f} {escape(cur)}")


@customers_app.command("alerts")
def customers_alerts(
    threshold: float = typer.Option(0.5, "--threshold", help="P(alive) below which a customer is at risk."),
    limit: int = typer.Option(30, "--limit", help="Rows to print (the CSV gets all)."),
    csv_out: Path = typer.Option(None, "--csv", help="Write every alert to this CSV file for the service team."),
) -> None:
    """Customers to call first: P(alive) fell below the threshold since the last scoring, or valuable
    customers who went quiet against their own rhythm; ranked by value at risk."""
    from .customers import scoring

    try:
        with _open() as store:
            a = scoring.alerts(store, threshold=threshold)
    except CentricError as e:
        _fail(e)
    if csv_out:
        a.to_csv(csv_out, index=False)
        console.print(f"{len(a):,} alerts written to {escape(str(csv_out))}")
    t = Table("customer", "reason", "value at risk", "P(alive)", "before", "days silent", "usual gap", "currency")
    for r in a.head(limit).itertuples():
        t.add_row(escape(str(r.customer_id)), r.reason, f"{r.value_at_risk:,.0f}", f"{r.p_alive:.2f}",
                  "—" if pd_isna(r.p_alive_before) else f"{r.p_alive_before:.2f}", f"{r.days_silent:.0f}",
                  "—" if pd_isna(r.usual_gap_days) else f"{r.usual_gap_days:.0f}", escape(str(r.currency or "")))
    console.print(t)
    console.print(f"{len(a):,} alerts in all")


@customers_app.command("validate")
def customers_validate(
    calibration_end: str = typer.Option(..., "--calibration-end", help="Last day of the calibration period."),
    observation_end: str = typer.Option(None, "--observation-end", help="Last day of the holdout (default: last order)."),
    unit: str = typer.Option("W", "--unit", help="Time unit of the model: D (days) or W (weeks)."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """Fit BG/NBD on the orders up to the calibration end and compare predicted with actual purchases
    in the holdout, by number of repeat purchases in the calibration (the Fader–Hardie check)."""
    from .customers import BetaGeo, calibration_table, rfm_summary
    from .customers.scoring import orders_frame

    try:
        with _open() as store:
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
    threshold: float = typer.Option(0.5, "--threshold", help="P(alive) below which a customer counts as likely lost."),
) -> None:
    """Churn reasons: factors that customers now likely lost raised negatively, against active ones."""
    from .customers.loyalty import churn_reasons

    try:
        with _open() as store:
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
    period: str = typer.Option("quarter", "--period", help="month, quarter or year."),
) -> None:
    """Loyalty phases (ordinary, loyal, advocate) at each period end and the flows between them."""
    from .customers.loyalty import loyalty_phases

    try:
        with _open() as store:
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
    period: str = typer.Option("month", "--period", help="Period of the trends and emerging issues: month or quarter."),
    outcome: str = typer.Option(None, "--outcome", help="What the key drivers explain: nps, csat, ces (survey "
                                "answers) or rating (reviews); default: the one with the most answers with an "
                                "analysed text; with fewer than 30 for each, factors are ranked by volume."),
    performance: str = typer.Option("net", "--performance", help="Matrix performance axis: net (net sentiment) or "
                                    "gap (net sentiment minus the other brands' mean)."),
    importance: str = typer.Option("relative_weight", "--importance", help="relative_weight or lmg."),
    reps: int = typer.Option(200, "--reps", help="Bootstrap replicates for the intervals."),
    cross_x: float = typer.Option(None, "--cross-importance", help="Importance crosshair (default: the mean)."),
    cross_y: float = typer.Option(None, "--cross-performance", help="Performance crosshair at this value "
                                  "(overrides --crosshair)."),
    crosshair: str = typer.Option(None, "--crosshair", help="Where the performance crosshair sits: neutral (net "
                                  "sentiment 0), competitors (their net sentiment on the same factors, never below "
                                  "neutral; the default when there are competitors' mentions) or relative (the mean "
                                  "of our own factors)."),
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
    taxonomy: str = typer.Option("retail", "--taxonomy", help="Built-in taxonomy name or a .toml file."),
    fast: bool = typer.Option(False, "--fast", help="Judge polarity on the factor embeddings (several times "
                              "faster, 3–9 points less accurate)."),
    gate: float = typer.Option(None, "--gate", help="Cascade: the fast model decides where it is at least this "
                               "sure (e.g. 0.8), the accurate one the rest (two to three times as fast)."),
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


@text_app.command("analyze")
def text_analyze(
    input: Path = typer.Argument(..., help='JSON lines: {"id": …, "text": …, "lang"?: …, "factors"?: [ID, …]}.'),
    taxonomy: str = typer.Option("retail", "--taxonomy", help="Built-in taxonomy name or a .toml file."),
    out: Path = typer.Option(..., "--out", help="Where to write the results (JSON lines)."),
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
    limit: int = typer.Option(100, "--limit", help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the texts `centric analyze` flagged as suspicious, with the reason (nothing is deleted)."""
    from .text.suspicious import FLAGS, flagged

    if flag and flag not in FLAGS:
        _fail(CentricError(f"--flag: {flag!r} is not one of {', '.join(FLAGS)}"))
    try:
        with _open() as store:
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


@text_app.command("discover")
def text_discover(
    input: Path = typer.Argument(None, help='JSON lines with "id" and "text" (as for text analyze); without it, '
                                 "the store's texts analysed by `centric analyze`."),
    taxonomy: str = typer.Option("retail", "--taxonomy", help="Built-in taxonomy name or a .toml file."),
    clusters: int = typer.Option(None, "--clusters", help="Number of clusters (default: from the data)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same input and seed give the same result."),
    since: str = typer.Option(None, "--since", help="Store only: texts written on or after this date (YYYY-MM-DD)."),
    brand: str = typer.Option(None, "--brand", help="Store only: reviews and posts about this brand."),
    out: Path = typer.Option(None, "--out", help="Write the candidates as JSON here."),
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


def main() -> None:
    try:
        app()
    except CentricError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        sys.exit(2)


if __name__ == "__main__":
    main()
