"""Complaints and the closed loop, from ``cases`` and ``case_events``, computed in the database.

Per case: time to first response (the first ``agent_response``; an ``auto_reply`` is not a response),
time to resolution (the first ``resolved`` or ``closed`` event, else ``closed_at``), whether it went
past its service-level target (``due_at``, else ``opened_at`` + the ``sla_hours`` setting), whether it
was reopened, and whether it was answered only automatically.

A figure the data cannot support is not given (None) and ``unknown`` says why — never 0% or 100%:

- **past SLA** is known for a case with a resolution time (past when it came after the due time) and
  for an open case already past its due time at ``as_of``; an open case not yet due is still pending
  and left out. A closed case without any close time cannot be judged: unless the cases that can be
  judged are more than half, the share is unknown ("no close times in the data").
- **reopened** needs ``reopened`` events recorded somewhere in the store, **answered only
  automatically** and **first response** need ``agent_response`` events recorded (without them no
  case can be told apart from one nobody answered); both are computed over the cases that have case
  events, and are unknown unless more than half of the cases have any.
- **resolution time** needs close times; unknown unless more than half of the closed cases have one.

Each share comes with the number of cases it was computed over (``past_sla_n``, ``events_n``).
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
MAJORITY = 0.5  # a figure is given only when more than this part of its cases can be judged

REASONS = {
    "no_cases": "no cases",
    "no_events": "no case events in the data",
    "no_agent_responses": "no agent responses recorded",
    "no_reopen_events": "no reopen events recorded",
    "no_close_times": "no close times in the data",
    "close_times_missing": "{missing:,} of {closed:,} closed cases have no close time",
    "events_missing": "only {with_events:,} of {n:,} cases have case events",
    "none_due": "no case is past its due time or resolved yet",
    "none_answered": "no case answered by a person yet",
    "none_resolved": "no case resolved yet",
}


@dataclass(frozen=True)
class Unknown:
    """Why a figure cannot be given: ``code`` (a key of ``REASONS``) for programs, ``text`` for people."""

    code: str
    params: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return REASONS[self.code].format(**self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.text}


def case_facts(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
               as_of: dt.datetime | None = None, sla_hours: float = 48.0):
    """An Ibis table: one row per case opened in [start, end) with its times and flags. ``sla`` is
    past, met, pending (open, not yet due) or unknown (closed without a close time)."""
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
        events=ev.count(),
    )
    c = cases.left_join(per, cases.case_id == per.ev_case_id)
    as_of_lit = ibis.literal(as_of or _latest(store))
    resolved_at = ibis.coalesce(c.first_resolved_at, c.closed_at)
    # closed by its events (a closing not followed by a reopening), by its status, or — without a
    # status — by a close time not followed by a reopening
    closed_now = (c.last_closing_at.notnull() & (c.last_reopened_at.isnull() | (c.last_closing_at > c.last_reopened_at))
                  ).fill_null(False) | c.status.isin(["resolved", "closed"]).fill_null(False) | (
        c.status.isnull() & c.closed_at.notnull() & (c.last_reopened_at.isnull() | (c.closed_at > c.last_reopened_at))
    ).fill_null(False)
    due = ibis.coalesce(c.due_at, c.opened_at + ibis.interval(minutes=int(sla_hours * 60)))
    sla = ibis.cases((resolved_at.notnull() & (resolved_at > due), "past"), (resolved_at.notnull(), "met"),
                     (~closed_now & (as_of_lit > due), "past"), (~closed_now, "pending"), else_="unknown")
    return c.select(
        "case_id", "type", "channel", "department", "priority", "status", "opened_at",
        first_response_hours=_seconds(c.first_response_at, c.opened_at) / 3600.0,
        resolution_hours=_seconds(resolved_at, c.opened_at) / 3600.0,
        sla=sla,
        past_sla=sla == "past",
        reopened=c.last_reopened_at.notnull(),
        auto_only=(c.auto_replies.fill_null(0) > 0) & c.first_response_at.isnull(),
        transfers=c.transfers.fill_null(0),
        has_events=c.events.fill_null(0) > 0,
        open=~closed_now,
        closed=closed_now,
        closed_no_time=closed_now & resolved_at.isnull(),
        closed_final_at=ibis.cases((closed_now, ibis.coalesce(c.last_closing_at, c.closed_at)), else_=ibis.null()),
    )


def _seconds(a, b):
    """a − b in seconds (fractions kept)."""
    return a.epoch_seconds().cast("float64") - b.epoch_seconds().cast("float64")


def _latest(store: Store) -> dt.datetime:
    """The latest moment the data speaks of (an event, an opening or a closing): "now" for open cases."""
    ev = store.table("case_events")
    cases = store.table("cases")
    found = [ev.occurred_at.max().execute(), cases.opened_at.max().execute(), cases.closed_at.max().execute()]
    found = [pd.Timestamp(v).to_pydatetime() for v in found if v is not None and not pd.isna(v)]
    return max(found) if found else dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Recorded:
    """What the store has ever recorded, store-wide: decides which figures the data can support."""

    events: int
    responses: int
    reopens: int
    close_times: int


def _recorded(store: Store) -> _Recorded:
    ev = store.table("case_events")
    e = ev.aggregate(events=ev.count(), responses=(ev.kind == "agent_response").cast("int64").sum(),
                     reopens=(ev.kind == "reopened").cast("int64").sum(),
                     closings=ev.kind.isin(["resolved", "closed"]).cast("int64").sum()).execute().iloc[0]
    cases = store.table("cases")
    closed_at = int(cases.closed_at.count().execute() or 0)

    def i(v):
        return 0 if v is None or pd.isna(v) else int(v)

    return _Recorded(i(e.events), i(e.responses), i(e.reopens), i(e.closings) + closed_at)


@dataclass(frozen=True)
class ComplaintStats(Tabular):
    """Complaint figures for one group (or all cases). A figure that is None without data has its
    reason in ``unknown`` (field name → ``Unknown``)."""

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
    past_sla_n: int = 0  # cases whose SLA outcome is known: the share's denominator
    events_n: int = 0  # cases with case events: the denominator of reopened and answered-automatically
    closed_no_time: int = 0  # closed cases without any close time
    unknown: dict[str, Unknown] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["group"] = {k: str(v) for k, v in self.group.items()}
        d["unknown"] = {k: u.to_dict() for k, u in self.unknown.items()}
        return {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in d.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row: the group's columns, the figures, and ``<figure>_why`` for each unknown figure."""
        d = {k: v for k, v in self.to_dict().items() if k not in ("group", "unknown")}
        d.update({f"{k}_why": u.text for k, u in self.unknown.items()})
        return pd.DataFrame([{**self.group, **d}])


@dataclass(frozen=True)
class ComplaintReport(Tabular):
    total: ComplaintStats
    by: tuple[str, ...]
    groups: list[ComplaintStats]
    backlog: list[tuple[str, int]] = field(default_factory=list)  # (month, open cases at its end)
    as_of: dt.datetime | None = None  # "now" for open cases: the backlog's last month ends with it
    backlog_left_out: int = 0  # closed cases without a close time: when they stopped being open is unknown

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total.to_dict(), "by": list(self.by), "groups": [g.to_dict() for g in self.groups],
                "backlog": [{"month": m, "open": n} for m, n in self.backlog],
                "as_of": self.as_of.isoformat() if self.as_of else None, "backlog_left_out": self.backlog_left_out}

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
    resolution times (median and p90, hours), past-SLA, reopened and auto-only shares (None, with the
    reason in ``unknown``, where the data cannot support them), and (unless ``with_backlog=False``) the
    open backlog at the end of each month up to ``as_of`` (default: the latest moment in the data)."""
    for b in by:
        if b not in DIMENSIONS:
            raise CentricError(f"cannot break complaints down by {b!r}; use one of {', '.join(DIMENSIONS)}")
    as_of = as_of or _latest(store)
    facts = case_facts(store, start, end, as_of, sla_hours)
    recorded = _recorded(store)
    cols = {b: facts[b].fill_null("(none)") for b in by}

    def count(flag):
        return flag.cast("int64").sum()

    def aggs(t):
        return dict(
            n=t.count(),
            fr_med=t.first_response_hours.quantile(0.5), fr_p90=t.first_response_hours.quantile(0.9),
            res_med=t.resolution_hours.quantile(0.5), res_p90=t.resolution_hours.quantile(0.9),
            sla_past=count(t.sla == "past"), sla_known=count(t.sla.isin(["past", "met"])),
            closed=count(t.closed), closed_no_time=count(t.closed_no_time), with_events=count(t.has_events),
            reopened=count(t.reopened & t.has_events), auto_only=count(t.auto_only), open_now=count(t.open),
        )

    total_df = facts.aggregate(**aggs(facts)).execute()
    total_n = int(total_df.n.iloc[0] or 0)
    total = _stats({}, total_df.iloc[0], total_n, recorded)
    groups = []
    if by:
        df = facts.group_by(**cols).aggregate(**aggs(facts)).execute().sort_values("n", ascending=False)
        groups = [_stats({b: r[b] for b in by}, r, total_n, recorded) for _, r in df.iterrows()]
    points, left_out = backlog(store, facts, as_of) if with_backlog else ([], 0)
    return ComplaintReport(total, tuple(by), groups, points, as_of, left_out)


def _stats(group: dict, r, total_n: int, rec: _Recorded) -> ComplaintStats:
    def i(v) -> int:
        return 0 if v is None or pd.isna(v) else int(v)

    def f(v):
        return None if v is None or pd.isna(v) else float(v)

    n, known, closed, no_time, with_events = i(r.n), i(r.sla_known), i(r.closed), i(r.closed_no_time), \
        i(r.with_events)
    unknown: dict[str, Unknown] = {}
    close_gap = Unknown("no_close_times") if not rec.close_times else \
        Unknown("close_times_missing", {"missing": no_time, "closed": closed})

    def why(fields: tuple[str, ...], reason: Unknown | None) -> bool:
        """Record the reason for each field; True when there is one (the figure is not given)."""
        if n == 0:
            reason = Unknown("no_cases")
        for name in fields:
            if reason is not None:
                unknown[name] = reason
        return reason is not None

    def share(k: int, of: int) -> float:
        return 100.0 * k / of

    past_sla = None
    if not why(("past_sla_pct",), close_gap if no_time and no_time >= known else
               Unknown("none_due") if known == 0 else None):
        past_sla = share(i(r.sla_past), known)
    event_reason = (Unknown("no_events") if not rec.events else
                    Unknown("events_missing", {"with_events": with_events, "n": n}) if with_events <= MAJORITY * n
                    else None)
    reopened = None
    if not why(("reopened_pct",), event_reason or (Unknown("no_reopen_events") if not rec.reopens else None)):
        reopened = share(i(r.reopened), with_events)
    no_response = event_reason or (Unknown("no_agent_responses") if not rec.responses else None)
    auto_only = None
    if not why(("auto_only_pct",), no_response):
        auto_only = share(i(r.auto_only), with_events)
    response = ("first_response_median_h", "first_response_p90_h")
    fr = (None, None)
    if not why(response, no_response or (Unknown("none_answered") if f(r.fr_med) is None else None)):
        fr = (f(r.fr_med), f(r.fr_p90))
    resolution = ("resolution_median_h", "resolution_p90_h")
    res = (None, None)
    if not why(resolution, close_gap if no_time and no_time >= closed - no_time else
               Unknown("none_resolved") if f(r.res_med) is None else None):
        res = (f(r.res_med), f(r.res_p90))
    return ComplaintStats(group, n, share(n, total_n) if total_n else None, *fr, *res, past_sla, reopened,
                          auto_only, i(r.open_now), known, with_events, no_time, unknown)


def unknown_figures(report: ComplaintReport, fields: Sequence[str]) -> list[tuple[dict[str, Any], Unknown, list[str]]]:
    """Each distinct reason why some of ``fields`` are unknown: (the group, ``{}`` for all cases; the
    reason; the fields it applies to, in the order given). A group is listed only where its reason
    differs from that of all cases — what a table's notes under "—" need to say."""
    out: dict[tuple, tuple[dict[str, Any], Unknown, list[str]]] = {}
    total = report.total
    for s in [total, *report.groups]:
        group = {} if s is total else s.group
        for name in fields:
            u = s.unknown.get(name)
            if u is None or (s is not total and total.unknown.get(name) == u):
                continue
            key = (tuple(group.items()), u.code, tuple(u.params.items()))
            out.setdefault(key, (group, u, []))[2].append(name)
    return list(out.values())


def backlog(store: Store, facts=None, as_of: dt.datetime | None = None) -> tuple[list[tuple[str, int]], int]:
    """Open cases at the end of each month, from the month of the first case to the month of ``as_of``
    (whose count is the cases open now), and the number of closed cases left out because they have no
    close time. A case is open from ``opened_at`` until its last closing (a ``resolved`` or ``closed``
    event not followed by a reopening, else ``closed_at``)."""
    as_of = as_of or _latest(store)
    facts = facts if facts is not None else case_facts(store, as_of=as_of)
    bounds = facts.aggregate(lo=facts.opened_at.min(), hi=facts.opened_at.max(),
                             left_out=facts.closed_no_time.cast("int64").sum()).execute().iloc[0]
    if pd.isna(bounds.lo):
        return [], 0
    hi = max(pd.Timestamp(bounds.hi), pd.Timestamp(as_of))
    months = pd.date_range(pd.Timestamp(bounds.lo).to_period("M").to_timestamp(),
                           hi.to_period("M").to_timestamp(), freq="MS")
    ends = ibis.memtable({"month": [m.strftime("%Y-%m") for m in months],
                          "month_end": [(m + pd.offsets.MonthBegin(1)).to_pydatetime() for m in months]})
    timed = facts.filter(~facts.closed_no_time)
    j = ends.cross_join(timed.select("opened_at", "closed_final_at"))
    open_at_end = (j.opened_at < j.month_end) & (j.closed_final_at.isnull() | (j.closed_final_at >= j.month_end))
    df = j.group_by("month").aggregate(open=open_at_end.cast("int64").sum()).order_by("month").execute()
    return [(r.month, int(r.open)) for r in df.itertuples(index=False)], int(bounds.left_out or 0)


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
