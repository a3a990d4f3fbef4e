"""The customers sub-app: merges, erasure, scores, alerts, validation, churn reasons, loyalty phases, the purchase
statistics (summary)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .. import settings
from ..errors import CentricError
from ._common import _compact, _day_option, _fail, _open, console, state
from .checks import (
    at_least,
    between,
    day,
    one_of,
    output_file,
)

customers_app = typer.Typer(help="Customers: purchase rhythm and lifetime value, alerts, churn reasons, loyalty "
                            "phases; merges across channels, erasure.", no_args_is_help=True)


@customers_app.command("merges")
def customers_merges(limit: int = typer.Option(50, "--limit", help="At most this many merges.",
                                              callback=at_least(1))) -> None:
    """List customers merged across channels, and why."""
    import pandas as pd

    with _open(read=True) as store:
        cols = ["merged_customer_id", "into_customer_id", "reason", "run_id", "merged_at"]
        m = store.table("customer_merges")
        first = m.order_by("merged_at").limit(limit).merged_at.max().execute()  # the limit's last moment
        df = m.filter(m.merged_at <= first).select(*cols).execute() if first is not None and not pd_isna(first) \
            else pd.DataFrame(columns=cols)
        # ties of time by id, as text's bytes order it (the same on every engine)
        df = df.sort_values(["merged_at", "merged_customer_id"], kind="stable").head(limit)
        rows = [tuple("None" if pd_isna(v) else v for v in r) for r in df.itertuples(index=False)]
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
    from ..engines import is_postgres
    from ..privacy import find_customer, forget

    on_postgres = is_postgres(settings.get("db", state.db))
    if compact and on_postgres:
        _fail(CentricError("--compact rewrites a DuckDB file; on PostgreSQL erase without it, then run "
                           "VACUUM FULL on the tables (see docs/deploy.md)"))
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
    elif on_postgres:
        console.print("the erased values stay in the database's files (and its write-ahead log and backups) until "
                      "PostgreSQL reuses the space: VACUUM FULL rewrites the tables")
    else:
        console.print("the erased data stay readable in the file's free space until it is rewritten: "
                      "run centric compact")


def pd_isna(v) -> bool:
    """A missing value in a row of a result frame (None, NaN, NaT or pandas' NA)."""
    import pandas as pd

    return bool(pd.isna(v))


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
    from ..customers import scoring

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
    from ..customers import scoring

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
    from ..customers import BetaGeo, calibration_table, rfm_summary
    from ..customers.scoring import orders_frame

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
    from ..customers.loyalty import churn_reasons

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


@customers_app.command("summary")
def customers_summary(
    as_of: str = typer.Option(None, "--as-of", help="Last day observed (default: the last order's day); later "
                              "orders are left out.", callback=day()),
    unit: str = typer.Option("D", "--unit", help="Times in days (D) or weeks (W).", callback=one_of("D", "W")),
    fit: bool = typer.Option(False, "--fit", help="Also fit BG/NBD and the modified BG/NBD to the grouped "
                             "statistics and print the one with the higher likelihood."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the totals and every group."),
) -> None:
    """The purchase statistics per customer (RFM: repeat purchase days, recency, age T, repeat spend), computed by
    the store's engine and grouped by (frequency, recency, T): what the purchase models fit on. Runs on DuckDB,
    PostgreSQL's and Spark's engines alike (on Spark only the groups leave the lake)."""
    from ..customers.models import ConvergenceError
    from ..customers.rfm import grouped_summary
    from ..customers.scoring import fit_purchases

    try:
        with _open(read=True) as store:
            g = grouped_summary(store, observation_end=as_of, unit=unit)
        chosen = fit_purchases(g, weights="n") if fit else None
    except ConvergenceError as e:
        _fail(e)
    except CentricError as e:
        _fail(e)
    customers = int(g["n"].sum())
    repeat = int(g.loc[g["frequency"] > 0, "n"].sum())
    out = {"observation_end": g.attrs["observation_end"], "unit": unit, "customers": customers,
           "repeat_customers": repeat,
           "mean_frequency": float((g["frequency"] * g["n"]).sum() / customers) if customers else None,
           "groups": [{"frequency": int(r.frequency), "recency": float(r.recency), "T": float(r.T),
                       "customers": int(r.n)} for r in g.itertuples(index=False)]}
    if chosen is not None:
        name, model, lls = chosen
        out["fit"] = {"model": name, "params": model.params_, "log_likelihood": float(model.log_likelihood_),
                      "model_selection": lls}
    if as_json:
        print(json.dumps(out, indent=2))
        return
    console.print(f"{customers:,} customers ({repeat:,} bought again) observed to {out['observation_end']}; "
                  f"{len(g):,} distinct (frequency, recency, T) groups, times in {'days' if unit == 'D' else 'weeks'}")
    if chosen is not None:
        p = out["fit"]["params"]
        console.print(f"{out['fit']['model']}: " + " ".join(f"{k}={v:.4f}" for k, v in p.items())
                      + f", log-likelihood {out['fit']['log_likelihood']:,.2f}")


@customers_app.command("phases")
def customers_phases(
    period: str = typer.Option("quarter", "--period", help="month, quarter or year.",
                               callback=one_of("month", "quarter", "year")),
) -> None:
    """Loyalty phases (ordinary, loyal, advocate) at each period end and the flows between them."""
    from ..customers.loyalty import loyalty_phases

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


@customers_app.command("timeline")
def customers_timeline(
    who: str = typer.Argument(..., help="Customer id (also one merged into another), e-mail, phone (any format), "
                              "handle (with or without @), loyalty card or the source's crm id."),
    as_json: bool = typer.Option(False, "--json", help="Print the profile, scores and items as JSON."),
    limit: int = typer.Option(None, "--limit", help="Only the newest N items (default: all).", callback=at_least(1)),
    kind: list[str] = typer.Option([], "--kind", help="Only items of these kinds: order, response, feedback, event, "
                                   "case, case_event (repeat, or separate with commas)."),
) -> None:
    """One customer's whole history, newest first: orders, survey answers, feedback texts, journey events,
    cases with their events and signals, across every identity and merged id, with P(alive), CLV and
    the loyalty phase."""
    from ..cases.timeline import KINDS, timeline

    kinds = [k.strip() for item in kind for k in item.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        _fail(CentricError(f"--kind: {', '.join(map(repr, bad))} is not a kind of item; use {', '.join(KINDS)}"))
    try:
        with _open(read=True) as store:
            t = timeline(store, who, limit=limit, kinds=kinds or None)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(t.to_dict(), ensure_ascii=False, indent=2))
        return
    p = t.profile
    about = ", ".join(escape(str(v)) for v in (p.segment, p.country, p.language, p.city) if v)
    console.print(f"[bold]customer {escape(p.customer_id)}[/bold]" + (f" — {escape(p.name)}" if p.name else "")
                  + (f" ({about})" if about else "") + f"; found by {escape(p.looked_up)}")
    if p.merged_ids:
        console.print("merged ids: " + escape(", ".join(p.merged_ids)))
    if p.identities:
        console.print("identities: " + escape("; ".join(f"{i['kind']} {i['value']}" for i in p.identities)))
    s = t.scores
    if s:
        before = "" if s["p_alive_before"] is None else f" (before {s['p_alive_before']:.2f})"
        console.print(f"P(alive) {s['p_alive']:.2f}{before} · CLV {s['clv']:,.2f} {escape(str(s['currency'] or ''))} "
                      f"over {s['horizon_days']} days · {s['loyalty_phase']} · scored "
                      f"{str(s['scored_at'])[:16]} (as of {s['as_of']})")
    else:
        console.print("no scores yet (centric customers score)")
    table = Table("when (UTC)", "kind", "id", "summary")
    for i in t.items:
        table.add_row(str(i.at)[:19], i.kind.replace("_", " "), escape(i.id), escape(i.summary))
    console.print(table)
    shown = "" if len(t.items) == t.total else f", the newest {len(t.items):,} shown"
    console.print(f"{t.total:,} items{shown}" + (": " if t.total else "")
                  + ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in t.counts.items() if n))
