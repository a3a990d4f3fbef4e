"""Metric results as Rich tables for the terminal (the CLI's view; no analytics here)."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.table import Table


def _f(v, digits: int = 1, suffix: str = "") -> str:
    return "—" if v is None else f"{v:,.{digits}f}{suffix}"


def render_metric(which: str, result) -> Table | Group:
    if which in ("nps", "csat", "ces"):
        return _survey(result)
    if which == "complaints":
        return case_tables(result) if hasattr(result, "clocks") else _complaints(result)
    if which == "journeys":
        return _journeys(result)
    return _churn(result)


def _survey(b) -> Table:
    unit = " pts" if b.metric == "nps" else " %"
    t = Table(title=f"{b.metric.upper()}" + (f" by {', '.join(b.by)}" if b.by else ""))
    for col in b.by:
        t.add_column(col)
    counts_label = "promoters/passives/detractors" if b.metric == "nps" else "top box/others"
    for col in ("value", "95% interval", "n", counts_label, "method"):
        t.add_column(col, justify="right" if col in ("value", "n") else "left")
    if b.metric != "nps":
        t.add_column("mean", justify="right")
    changes = {tuple(sorted((k, str(v)) for k, v in g.items())): c for g, c in b.changes}
    if b.changes:
        t.add_column("change vs previous")
    for g, s in b.rows:
        if s.no_data:
            cells = ["no data", "", "0", "", ""]
        else:
            cells = [_f(s.value, 1, unit), f"{_f(s.low)} … {_f(s.high)}", f"{s.n:,}",
                     "/".join(f"{v:,}" for v in s.counts.values()), s.method]
        row = [escape(str(g[c])) for c in b.by] + cells
        if b.metric != "nps":
            row.append(_f(s.mean, 2))
        if b.changes:
            c = changes.get(tuple(sorted((k, str(v)) for k, v in g.items())))
            row.append("" if c is None else f"{c.delta:+.1f} (p {_p(c)}){_arrow(c)}")
        t.add_row(*row)
    if b.changes:
        t.caption = significance_legend(b)
        t.caption_justify = "left"
    return t


CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def _p(c) -> str:
    if c.p_adjusted is None or c.correction == "none":
        return f"{c.p_value:.3f}"
    return f"{c.p_value:.3f}, adjusted {c.p_adjusted:.3f}"


def _arrow(c) -> str:
    return (" ▲" if c.delta > 0 else " ▼") if c.significant else ""


def significance_legend(b) -> str:
    """What an arrow means, naming the correction for the number of changes tested."""
    m = len(b.changes)
    if b.correction == "none":
        return f"▲▼: change significant at p < 0.05, each of the {m:,} changes tested alone (no correction)"
    return (f"▲▼: change significant at p < 0.05 after {CORRECTION_NAMES[b.correction]}'s correction "
            f"across the {m:,} changes in this table")


COMPLAINT_FIGURES = {"first_response_median_h": "1st response", "first_response_p90_h": "1st response",
                     "resolution_median_h": "resolution", "resolution_p90_h": "resolution",
                     "past_sla_pct": "past SLA", "reopened_pct": "reopened", "auto_only_pct": "auto reply only",
                     "fcr_pct": "FCR", "transfers_per_case": "transfers", "hand_to_hand_pct": "transfers"}


def _complaints(r) -> Table:
    t = Table(title=f"Complaints by {', '.join(r.by)}" if r.by else "Complaints")
    for col in [*r.by, "cases", "share", "1st response median h", "p90 h", "resolution median h", "p90 h",
                "past SLA", "reopened", "auto reply only", "FCR", "transfers per case", "> 1 transfer", "open now"]:
        t.add_column(col, justify="left" if col in r.by else "right")
    for s in [*r.groups, r.total]:
        name = [escape(str(s.group.get(c, "all"))) for c in r.by]
        t.add_row(*name, f"{s.n:,}", _f(s.share, 1, " %"), _f(s.first_response_median_h), _f(s.first_response_p90_h),
                  _f(s.resolution_median_h), _f(s.resolution_p90_h), _f(s.past_sla_pct, 1, " %"),
                  _f(s.reopened_pct, 1, " %"), _f(s.auto_only_pct, 1, " %"), _f(s.fcr_pct, 1, " %"),
                  _f(s.transfers_per_case, 2), _f(s.hand_to_hand_pct, 1, " %"), f"{s.open_now:,}")
    t.caption = "\n".join(complaint_notes(r))
    t.caption_justify = "left"
    return t


def complaint_notes(r, limit: int = 12) -> list[str]:
    """Why a figure shows "—", over how many cases a share was computed, and what the open counts mean."""
    from .metrics.complaints import unknown_figures

    notes = []
    for group, u, fields in unknown_figures(r, list(COMPLAINT_FIGURES)):
        who = ", ".join(str(v) for v in group.values()) + ": " if group else ""
        labels = ", ".join(dict.fromkeys(COMPLAINT_FIGURES[f] for f in fields))
        notes.append(f"— {escape(who)}{labels}: unknown, {escape(u.text)}")
    t = r.total
    if t.past_sla_pct is not None and t.past_sla_n < t.n:
        notes.append(f"past SLA over {t.past_sla_n:,} of {t.n:,} cases: open cases not yet due"
                     + (f" and {t.closed_no_time:,} closed cases without a close time" if t.closed_no_time else "")
                     + " are left out")
    if (t.reopened_pct is not None or t.auto_only_pct is not None) and t.events_n < t.n:
        notes.append(f"reopened, auto reply only and transfers over the {t.events_n:,} of {t.n:,} cases with case "
                     "events")
    if t.fcr_pct is not None:
        notes.append(f"FCR (first-contact resolution): of the {t.fcr_n:,} closed cases with case events, those "
                     "closed after at most one answer by a person, never transferred nor reopened")
    if r.as_of is not None:
        notes.append(f"open now: on {r.as_of:%Y-%m-%d %H:%M}, the latest moment in the data")
    if len(notes) > limit:
        notes = notes[:limit] + [f"… and {len(notes) - limit} more (see --json)"]
    return notes


PARETO_ROWS = 6  # (root cause, sub-cause) rows shown per factor
CLOCK_NAMES = {"first_response": "first response", "next_response": "next response", "resolution": "resolution",
               "confirmation": "confirmation"}


def _interval(low, high) -> str:
    return "" if low is None or high is None else f"{_f(low)} … {_f(high)}"


def case_tables(m) -> Group:
    """Every case metric (``centric.metrics.cases.CaseMetrics``): the complaint figures, the service
    levels, the backlog now, repeat complaints and the root causes."""
    parts: list = [_complaints(m.complaints)]
    c = m.clocks
    t = Table(title="Service levels: share of clocks met (met / (met + missed); running clocks not yet due are "
                    "pending and left out)", title_justify="left")
    for col in ["clock", *c.by, "met", "missed", "pending", "share met", "95% interval"]:
        t.add_column(col, justify="left" if col in ("clock", *c.by) else "right")
    for r in [*c.total, *c.groups]:
        t.add_row(CLOCK_NAMES[r.clock], *[escape(str(r.group.get(b, "all"))) for b in c.by], f"{r.met:,}",
                  f"{r.missed:,}", f"{r.pending:,}", _f(r.share, 1, " %"), _interval(r.low, r.high))
    if c.unknown:
        t.caption = f"— unknown, {c.unknown.text}"
        t.caption_justify = "left"
    parts.append(t)
    b = m.backlog
    t = Table(title=f"Open cases at {b.as_of:%Y-%m-%d %H:%M} and their age (days)" if b.as_of else "Open cases",
              title_justify="left")
    for col in [*b.by, "open", "median age", "p90 age", *([k for k, _ in b.buckets] if not b.by else [])]:
        t.add_column(col, justify="left" if col in b.by else "right")
    for g, n, med, p90 in b.groups:
        t.add_row(*[escape(str(g[k])) for k in b.by], f"{n:,}", _f(med), _f(p90))
    t.add_row(*(["all"] * len(b.by)), f"{b.open:,}", _f(b.median_days), _f(b.p90_days),
              *([f"{n:,}" for _, n in b.buckets] if not b.by else []))
    if b.by:
        t.caption = "age: " + ", ".join(f"{k} {n:,}" for k, n in b.buckets)
        t.caption_justify = "left"
    parts.append(t)
    r = m.repeat
    t = Table(title="Repeat complaints (a customer, or an author when the customer is unknown)", title_justify="left")
    for col in ("customers", "more than one case", "share", "95% interval", "cases per customer",
                "1 / 2 / 3 / 4+ cases"):
        t.add_column(col, justify="right")
    t.add_row(f"{r.customers:,}", f"{r.repeat:,}", _f(r.share, 1, " %"), _interval(r.low, r.high),
              _f(r.cases_per_customer, 2), " / ".join(f"{n:,}" for _, n in r.distribution))
    if r.no_customer:
        t.caption = f"{r.no_customer:,} cases name neither a customer nor an author and are left out"
    parts.append(t)
    rc = m.root_causes
    t = Table(title="Root causes per factor (Pareto of the closed cases with a root cause; the top "
                    f"{PARETO_ROWS} per factor, all in --json)", title_justify="left")
    for col in ("factor", "root cause", "sub-cause", "cases", "share", "cumulative"):
        t.add_column(col, justify="left" if col in ("factor", "root cause", "sub-cause") else "right")
    for factor, rows in rc.sub_causes.groupby("factor", sort=False):
        closed, caused = rc.closed.get(factor, (0, 0))
        for i, x in enumerate(rows.head(PARETO_ROWS).itertuples()):
            t.add_row(escape(f"{factor} ({caused:,} of {closed:,} closed)") if i == 0 else "", escape(str(x.root_cause)),
                      escape(str(x.root_sub_cause)), f"{x.cases:,}", _f(x.share, 1, " %"), _f(x.cumulative, 1, " %"))
    if rc.unknown:
        t.caption = f"— unknown, {rc.unknown.text}"
        t.caption_justify = "left"
    parts.append(t)
    return Group(*parts)


def _journeys(js) -> Table:
    t = Table(title="Journeys")
    for col in ("journey", "stage", "reached", "reached %", "drop-off %", "completion", "median h", "p90 h"):
        t.add_column(col, justify="left" if col in ("journey", "stage") else "right")
    for j in js:
        t.add_row(escape(j.journey), f"→ {escape(j.final_stage)}", f"{j.completed:,} of {j.instances:,}", "", "",
                  _f(j.completion_pct, 1, " %"), _f(j.median_hours), _f(j.p90_hours))
        for s in j.stages:
            t.add_row("", escape(s.stage), f"{s.reached:,}", _f(s.reached_pct), _f(s.drop_off_pct), "", "", "")
    return t


def _churn(points) -> Table:
    rule = bool(points) and points[0].method == "rule"
    if rule:
        t = Table(title="Churn level (no purchase for more than 3× the customer's own median gap)")
        cols = ["customers", "churned", "rate", "95% interval"]
    else:
        t = Table(title="Churn rate: expected share of the customers active at the period start who dropped out "
                        "during it (purchase rhythm); lost: P(alive) below 0.5 at the period end")
        cols = ["active at start", "dropped out", "rate", "95% interval", "lost", "bought"]
    keys = list(points[0].group) if points else []
    for col in ["period", *keys, *cols]:
        t.add_column(col, justify="left" if col in ["period", *keys] else "right")
    for p in points:
        extra = [] if rule else [f"{p.lost:,}", f"{p.bought:,}"]
        t.add_row(p.period, *[escape(str(p.group[k])) for k in keys], f"{p.customers:,}", f"{p.churned:,}",
                  _f(p.rate, 1, " %"), f"{_f(p.low)} … {_f(p.high)}", *extra)
    return t
