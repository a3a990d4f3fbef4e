"""Complaints and the closed loop, from ``cases`` and ``case_events``, computed in the database.

Per case: time to first response (the first ``agent_response``; an ``auto_reply`` is not a response),
time to resolution (the first ``resolved`` or ``closed`` event, else ``closed_at``), whether it went
past its service-level target (``due_at``, else ``opened_at`` + the ``sla_hours`` setting; an open case
is measured at ``as_of``), whether it was reopened, and whether it was answered only automatically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from ..errors import CentricError
from ..store import Store
from .periods import selection
from .results import Tabular, html_table

DIMENSIONS = ("type", "channel", "department", "priority", "status")


def case_facts(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
               as_of: dt.datetime | None = None, sla_hours: float = 48.0):
    """An Ibis table: one row per case opened in [start, end) with its times and flags."""
    cases = store.table("cases")
    if start is not None:
        cases = cases.filter(cases.opened_at >= start)
    if end is not None:
        cases = cases.filter(cases.opened_at < end)
    ev = store.table("case_events")
    closing = ev.kind.isin(["resolved", "closed"])
    per = ev.group_by(ev.case_id.name("ev_case_id")).aggregate(
        first_response_at=ev.occurred_at.min(where=ev.kind == "agent_response"),
        first_resolved_at=ev.occurred_at.min(where=closing),
        last_closing_at=ev.occurred_at.max(where=closing),
        last_reopened_at=ev.occurred_at.max(where=ev.kind == "reopened"),
        auto_replies=(ev.kind == "auto_reply").sum(),
        transfers=(ev.kind == "transferred").sum(),
    )
    c = cases.left_join(per, cases.case_id == per.ev_case_id)
    as_of_lit = ibis.literal(as_of or _latest(store))
    resolved_at = ibis.coalesce(c.first_resolved_at, c.closed_at)
    closed_now = (c.last_closing_at.notnull() & (c.last_reopened_at.isnull() | (c.last_closing_at > c.last_reopened_at))
                  ).fill_null(False) | c.status.isin(["resolved", "closed"]).fill_null(False)
    due = ibis.coalesce(c.due_at, c.opened_at + ibis.interval(minutes=int(sla_hours * 60)))
    return c.select(
        "case_id", "type", "channel", "department", "priority", "status", "opened_at",
        first_response_hours=_seconds(c.first_response_at, c.opened_at) / 3600.0,
        resolution_hours=_seconds(resolved_at, c.opened_at) / 3600.0,
        past_sla=ibis.coalesce(resolved_at, as_of_lit) > due,
        reopened=c.last_reopened_at.notnull(),
        auto_only=(c.auto_replies.fill_null(0) > 0) & c.first_response_at.isnull(),
        transfers=c.transfers.fill_null(0),
        open=~closed_now,
        closed_final_at=ibis.cases((closed_now, ibis.coalesce(c.last_closing_at, c.closed_at)), else_=ibis.null()),
    )


def _seconds(a, b):
    """a − b in seconds (fractions kept)."""
    return a.epoch_seconds().cast("float64") - b.epoch_seconds().cast("float64")


def _latest(store: Store) -> dt.datetime:
    ev = store.table("case_events")
    latest = ev.occurred_at.max().execute()
    if latest is None or pd.isna(latest):
        latest = store.table("cases").opened_at.max().execute()
    if latest is None or pd.isna(latest):
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return pd.Timestamp(latest).to_pydatetime()


@dataclass(frozen=True)
class ComplaintStats(Tabular):
    """Complaint figures for one group (or all cases)."""

    group: dict[str, Any]
    n: int
    share: float | None  # of all cases in the selection, percent
    first_response_median_h: float | None
    first_response_p90_h: float | None
    resolution_median_h: float | None
    resolution_p90_h: float | None
    past_sla_pct: float | None
    reopened_pct: float | None
    auto_only_pct: float | None
    open_now: int

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["group"] = {k: str(v) for k, v in self.group.items()}
        return {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in d.items()}

    def to_frame(self) -> pd.DataFrame:
        d = {k: v for k, v in self.to_dict().items() if k != "group"}
        return pd.DataFrame([{**self.group, **d}])


@dataclass(frozen=True)
class ComplaintReport(Tabular):
    total: ComplaintStats
    by: tuple[str, ...]
    groups: list[ComplaintStats]
    backlog: list[tuple[str, int]] = field(default_factory=list)  # (month, open cases at its end)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total.to_dict(), "by": list(self.by), "groups": [g.to_dict() for g in self.groups],
                "backlog": [{"month": m, "open": n} for m, n in self.backlog]}

    def to_frame(self) -> pd.DataFrame:
        """One row per group (``by``), or the total alone when there is no breakdown."""
        rows = self.groups if self.by else [self.total]
        frames = [g.to_frame() for g in rows]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*self.by, "n"])

    def backlog_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.backlog, columns=["month", "open"])

    def _repr_html_(self) -> str:
        return html_table(self.to_frame(), f"Complaints{' by ' + ', '.join(self.by) if self.by else ''}",
                          f": {self.total.n:,} cases")


@selection
def complaints(store: Store, by: Sequence[str] = ("type",), start: dt.datetime | None = None,
               end: dt.datetime | None = None, sla_hours: float = 48.0,
               as_of: dt.datetime | None = None, with_backlog: bool = True) -> ComplaintReport:
    """Counts and shares by ``by`` (type, channel, department, priority, status), response and
    resolution times (median and p90, hours), past-SLA, reopened and auto-only shares, and (unless
    ``with_backlog=False``) the open backlog at the end of each month."""
    for b in by:
        if b not in DIMENSIONS:
            raise CentricError(f"cannot break complaints down by {b!r}; use one of {', '.join(DIMENSIONS)}")
    facts = case_facts(store, start, end, as_of, sla_hours)
    cols = {b: facts[b].fill_null("(none)") for b in by}

    def aggs(t):
        return dict(
            n=t.count(),
            fr_med=t.first_response_hours.quantile(0.5), fr_p90=t.first_response_hours.quantile(0.9),
            res_med=t.resolution_hours.quantile(0.5), res_p90=t.resolution_hours.quantile(0.9),
            past_sla=t.past_sla.cast("float64").mean() * 100, reopened=t.reopened.cast("float64").mean() * 100,
            auto_only=t.auto_only.cast("float64").mean() * 100, open_now=t.open.cast("int64").sum(),
        )

    total_df = facts.aggregate(**aggs(facts)).execute()
    total_n = int(total_df.n.iloc[0] or 0)
    total = _stats({}, total_df.iloc[0], total_n)
    groups = []
    if by:
        df = facts.group_by(**cols).aggregate(**aggs(facts)).execute().sort_values("n", ascending=False)
        groups = [_stats({b: r[b] for b in by}, r, total_n) for _, r in df.iterrows()]
    return ComplaintReport(total, tuple(by), groups, backlog(store, facts) if with_backlog else [])


def _stats(group: dict, r, total_n: int) -> ComplaintStats:
    n = int(r.n or 0)

    def f(v):
        return None if v is None or pd.isna(v) else float(v)

    return ComplaintStats(group, n, 100.0 * n / total_n if total_n else None, f(r.fr_med), f(r.fr_p90),
                          f(r.res_med), f(r.res_p90), f(r.past_sla), f(r.reopened), f(r.auto_only),
                          int(r.open_now or 0))


def backlog(store: Store, facts=None) -> list[tuple[str, int]]:
    """Open cases at the end of each month, from the first case to the last."""
    facts = facts if facts is not None else case_facts(store)
    bounds = facts.aggregate(lo=facts.opened_at.min(), hi=facts.opened_at.max()).execute().iloc[0]
    if pd.isna(bounds.lo):
        return []
    months = pd.date_range(pd.Timestamp(bounds.lo).to_period("M").to_timestamp(),
                           pd.Timestamp(bounds.hi).to_period("M").to_timestamp(), freq="MS")
    ends = ibis.memtable({"month": [m.strftime("%Y-%m") for m in months],
                          "month_end": [(m + pd.offsets.MonthBegin(1)).to_pydatetime() for m in months]})
    j = ends.cross_join(facts.select("opened_at", "closed_final_at"))
    open_at_end = (j.opened_at < j.month_end) & (j.closed_final_at.isnull() | (j.closed_final_at >= j.month_end))
    df = j.group_by("month").aggregate(open=open_at_end.cast("int64").sum()).order_by("month").execute()
    return [(r.month, int(r.open)) for r in df.itertuples(index=False)]


@dataclass(frozen=True)
class Durations:
    """Case durations (first to last event), in days."""

    n: int
    mean_days: float | None
    median_days: float | None
    p90_days: float | None


def case_durations(events) -> Durations:
    """Durations of cases in any Ibis table with ``case_id`` and ``occurred_at`` (e.g. ``case_events``,
    or an imported process log)."""
    per = events.group_by("case_id").aggregate(
        days=_seconds(events.occurred_at.max(), events.occurred_at.min()) / 86400.0)
    r = per.aggregate(n=per.count(), mean=per.days.mean(), med=per.days.quantile(0.5),
                      p90=per.days.quantile(0.9)).execute().iloc[0]
    return Durations(int(r.n), *(None if pd.isna(v) else float(v) for v in (r["mean"], r.med, r.p90)))
