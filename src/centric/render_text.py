"""Metric results as Rich tables for the terminal (the CLI's view; no analytics here)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table


def _f(v, digits: int = 1, suffix: str = "") -> str:
    return "—" if v is None else f"{v:,.{digits}f}{suffix}"


def render_metric(which: str, result) -> Table:
    if which in ("nps", "csat", "ces"):
        return _survey(result)
    if which == "complaints":
        return _complaints(result)
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
                     "past_sla_pct": "past SLA", "reopened_pct": "reopened", "auto_only_pct": "auto reply only"}


def _complaints(r) -> Table:
    t = Table(title=f"Complaints by {', '.join(r.by)}" if r.by else "Complaints")
    for col in [*r.by, "cases", "share", "1st response median h", "p90 h", "resolution median h", "p90 h",
                "past SLA", "reopened", "auto reply only", "open now"]:
        t.add_column(col, justify="left" if col in r.by else "right")
    for s in [*r.groups, r.total]:
        name = [escape(str(s.group.get(c, "all"))) for c in r.by]
        t.add_row(*name, f"{s.n:,}", _f(s.share, 1, " %"), _f(s.first_response_median_h), _f(s.first_response_p90_h),
                  _f(s.resolution_median_h), _f(s.resolution_p90_h), _f(s.past_sla_pct, 1, " %"),
                  _f(s.reopened_pct, 1, " %"), _f(s.auto_only_pct, 1, " %"), f"{s.open_now:,}")
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
        notes.append(f"reopened and auto reply only over the {t.events_n:,} of {t.n:,} cases with case events")
    if r.as_of is not None:
        notes.append(f"open now: on {r.as_of:%Y-%m-%d %H:%M}, the latest moment in the data")
    if len(notes) > limit:
        notes = notes[:limit] + [f"… and {len(notes) - limit} more (see --json)"]
    return notes


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
