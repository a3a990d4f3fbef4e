"""Complaints and the closed loop, from ``cases`` and ``case_events``, computed in the database.

Per case (``case_facts``): time to first response (the first ``agent_response``; an ``auto_reply`` is
not a response), time to resolution (to the last ``resolved`` event not followed by a ``reopened``, else
the last such ``closed``, else ``closed_at``: reopening a case never makes it look fast), whether it went
past its service-level target (its ``resolution`` clock in ``case_clocks`` where the loop computed one,
else ``due_at``, else ``opened_at`` + the ``sla_hours`` setting), whether it was reopened, how many times
it was transferred, whether it was resolved at first contact, and whether it was answered only
automatically.

A figure the data cannot support is not given (None) and ``unknown`` says why — never 0% or 100%:

- **past SLA** is known for a case with a resolution time (past when it came after the due time) and
  for an open case already past its due time at ``as_of``; an open case not yet due is still pending
  and left out. A closed case without any close time cannot be judged: unless the cases that can be
  judged are more than half, the share is unknown ("no close times in the data").
- **reopened**, **transfers** and **first-contact resolution** need ``reopened`` / ``transferred``
  events recorded somewhere in the store, **answered only automatically**, **first response** and
  first-contact resolution need ``agent_response`` events recorded (without them no case can be told
  apart from one nobody answered); all are computed over the cases that have case events, and are
  unknown unless more than half of the cases have any. Cases the loop opened (origin ``signal``,
  ``proactive`` or ``manual``) keep every event, so a store with such cases records every kind.
- **resolution time** needs close times; unknown unless more than half of the closed cases have one.

Each share comes with the number of cases it was computed over (``past_sla_n``, ``events_n``,
``fcr_n``) and a Wilson 95% interval (``intervals``).
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
from .filters import Where, restrict
from .periods import label, selection
from .results import Tabular, html_table
from .stats import wilson

DIMENSIONS = ("type", "channel", "department", "owner", "priority", "status", "origin")
PERIOD_UNITS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}  # by the case's opening
LOOP_ORIGINS = ("signal", "proactive", "manual")  # cases the loop opened: their events are complete
MAJORITY = 0.5  # a figure is given only when more than this part of its cases can be judged

REASONS = {
    "no_cases": "no cases",
    "no_events": "no case events in the data",
    "no_agent_responses": "no agent responses recorded",
    "no_reopen_events": "no reopen events recorded",
    "no_transfer_events": "no transfer events recorded",
    "no_close_times": "no close times in the data",
    "close_times_missing": "{missing:,} of {closed:,} closed cases have no close time",
    "events_missing": "only {with_events:,} of {n:,} cases have case events",
    "none_due": "no case is past its due time or resolved yet",
    "none_answered": "no case answered by a person yet",
    "none_resolved": "no case resolved yet",
    "no_clocks": "no service-level clocks in the data",
    "none_decided": "no clock met or missed yet",
    "no_root_causes": "no root cause recorded at closing",
    "no_customers": "no case names its customer",
    "no_open_cases": "no case open",
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


def check_by(by: Sequence[str], allowed: Sequence[str] = DIMENSIONS, what: str = "complaints") -> None:
    """Refuse a breakdown column that is neither one of ``allowed`` nor a period."""
    for b in by:
        if b not in allowed and b not in PERIOD_UNITS:
            raise CentricError(f"cannot break {what} down by {b!r}; use one of "
                               f"{', '.join([*allowed, *PERIOD_UNITS])}")


def group_columns(t, by: Sequence[str]) -> dict[str, Any]:
    """Ibis expressions to group ``t`` by: a column (empty: "(none)"), or the start of the period of
    ``opened_at`` (turned into its label by ``group_value``)."""
    return {b: t.opened_at.truncate(PERIOD_UNITS[b]) if b in PERIOD_UNITS else t[b].fill_null("(none)")
            for b in by}


def group_value(b: str, v: Any) -> Any:
    """A group's value as shown: a period's label (2026-10, 2026-Q3 …), else the value itself."""
    return label(b, pd.Timestamp(v).to_pydatetime()) if b in PERIOD_UNITS else v


def opened_in(store: Store, start: dt.datetime | None, end: dt.datetime | None, where: Where = None):
    """The ``cases`` opened in [start, end) (an Ibis table; either bound may be None) — complaints and every
    other matter a customer raised; proactive contacts (the team calls a customer gone quiet) are not
    complaints and are left out. ``where`` keeps some values of case columns (``DIMENSIONS``) or of the
    customer's columns (segment, country, city; see ``centric.metrics.filters``)."""
    cases = restrict(store, store.table("cases"), where, DIMENSIONS, "cases")
    cases = cases.filter(cases.origin.isnull() | (cases.origin != "proactive"))
    if start is not None:
        cases = cases.filter(cases.opened_at >= start)
    if end is not None:
        cases = cases.filter(cases.opened_at < end)
    return cases


def case_facts(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
               as_of: dt.datetime | None = None, sla_hours: float = 48.0, where: Where = None):
    """An Ibis table: one row per case opened in [start, end) with its times and flags. ``sla`` is
    past, met, pending (open, not yet due) or unknown (closed without a close time)."""
    cases = opened_in(store, start, end, where)
    ev = store.table("case_events")

    def n(kind: str):
        return (ev.kind == kind).sum()

    per = ev.group_by(ev.case_id.name("ev_case_id")).aggregate(
        first_response_at=ev.occurred_at.min(where=ev.kind == "agent_response"),
        last_resolved_at=ev.occurred_at.max(where=ev.kind == "resolved"),
        last_closed_at=ev.occurred_at.max(where=ev.kind == "closed"),
        last_reopened_at=ev.occurred_at.max(where=ev.kind == "reopened"),
        responses=n("agent_response"), auto_replies=n("auto_reply"), ev_transfers=n("transferred"),
        reopens=n("reopened"), events=ev.count(),
    )
    clocks = store.table("case_clocks")
    rc = clocks.filter(clocks.clock == "resolution").select(
        rc_case_id=clocks.case_id, rc_due_at=clocks.due_at, rc_state=clocks.state)
    c = cases.left_join(per, cases.case_id == per.ev_case_id).left_join(rc, cases.case_id == rc.rc_case_id)
    as_of_lit = ibis.literal(as_of or _latest(store))

    def after_reopening(t):
        return (t.notnull() & (c.last_reopened_at.isnull() | (t > c.last_reopened_at))).fill_null(False)

    # the final resolution: the last resolved (else closed) event not followed by a reopening, else the
    # close time of a case never reopened after it
    resolved_at = ibis.cases((after_reopening(c.last_resolved_at), c.last_resolved_at),
                             (after_reopening(c.last_closed_at), c.last_closed_at),
                             (after_reopening(c.closed_at), c.closed_at), else_=ibis.null("timestamp"))
    # closed by its events or close time, or by its status (resolved: waiting for the customer's word)
    closed_now = resolved_at.notnull() | c.status.isin(["resolved", "closed"]).fill_null(False)
    due = ibis.coalesce(c.rc_due_at, c.due_at, c.opened_at + ibis.interval(minutes=int(sla_hours * 60)))
    sla = ibis.cases((c.rc_state == "met", "met"), (c.rc_state == "breached", "past"),
                     (c.rc_state.notnull(), "pending"),
                     (resolved_at.notnull() & (resolved_at > due), "past"), (resolved_at.notnull(), "met"),
                     (~closed_now & (as_of_lit > due), "past"), (~closed_now, "pending"), else_="unknown")
    has_events = c.events.fill_null(0) > 0
    transfers, reopens, responses = c.ev_transfers.fill_null(0), c.reopens.fill_null(0), c.responses.fill_null(0)
    return c.select(
        "case_id", "customer_id", "author", "type", "channel", "department", "owner", "priority", "status",
        "origin", "opened_at", "root_cause", "root_sub_cause",
        first_response_hours=_seconds(c.first_response_at, c.opened_at) / 3600.0,
        resolution_hours=_seconds(resolved_at, c.opened_at) / 3600.0,
        sla=sla,
        past_sla=sla == "past",
        reopened=reopens > 0,
        auto_only=(c.auto_replies.fill_null(0) > 0) & c.first_response_at.isnull(),
        transfers=transfers,
        responses=responses,
        # resolved at first contact: resolved or closed, at most one answer by a person, never transferred,
        # never reopened
        fcr=closed_now & has_events & (responses <= 1) & (transfers == 0) & (reopens == 0),
        has_events=has_events,
        open=~closed_now,
        closed=closed_now,
        closed_no_time=closed_now & resolved_at.isnull(),
        closed_final_at=ibis.cases((closed_now, resolved_at), else_=ibis.null("timestamp")),
    )


def _seconds(a, b):
    """a − b in seconds (fractions kept)."""
    return a.epoch_seconds().cast("float64") - b.epoch_seconds().cast("float64")


def _latest(store: Store) -> dt.datetime:
    """The latest moment the data speaks of (an event, an opening, a closing, or the latest clock the loop
    computed anew): "now" for open cases."""
    ev = store.table("case_events")
    cases = store.table("cases")
    clocks = store.table("case_clocks")
    found = [ev.occurred_at.max().execute(), cases.opened_at.max().execute(), cases.closed_at.max().execute(),
             clocks.computed_at.max().execute()]
    found = [pd.Timestamp(v).to_pydatetime() for v in found if v is not None and not pd.isna(v)]
    return max(found) if found else dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Recorded:
    """What the store has ever recorded, store-wide: decides which figures the data can support. Cases
    the loop opened (``loop``) keep every event, so with any of them every kind counts as recorded."""

    events: int
    responses: int
    reopens: int
    close_times: int
    transfers: int = 0
    loop: int = 0

    def has(self, kind: str) -> bool:
        return bool(getattr(self, kind) or self.loop)


def _recorded(store: Store) -> _Recorded:
    ev = store.table("case_events")

    def n(kind: str):
        return (ev.kind == kind).sum()

    e = ev.aggregate(events=ev.count(), responses=n("agent_response"), reopens=n("reopened"),
                     transfers=n("transferred"),
                     closings=ev.kind.isin(["resolved", "closed"]).sum()).execute().iloc[0]
    cases = store.table("cases")
    c = cases.aggregate(closed_at=cases.closed_at.count(),
                        loop=cases.origin.isin(LOOP_ORIGINS).sum()).execute().iloc[0]

    def i(v):
        return 0 if v is None or pd.isna(v) else int(v)

    return _Recorded(i(e.events), i(e.responses), i(e.reopens), i(e.closings) + i(c.closed_at), i(e.transfers),
                     i(c.loop))


SHARES = ("past_sla_pct", "reopened_pct", "auto_only_pct", "fcr_pct", "hand_to_hand_pct")


@dataclass(frozen=True)
class ComplaintStats(Tabular):
    """Complaint figures for one group (or all cases). A figure that is None without data has its
    reason in ``unknown`` (field name → ``Unknown``); each share has its Wilson 95% interval in
    ``intervals`` (field name → (low, high), percent)."""

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
    events_n: int = 0  # cases with case events: the denominator of reopened, transfers and answered-automatically
    closed_no_time: int = 0  # closed cases without any close time
    unknown: dict[str, Unknown] = field(default_factory=dict)
    fcr_pct: float | None = None  # resolved at first contact, of the closed cases with events
    fcr_n: int = 0  # closed cases with case events: the denominator of fcr_pct
    transfers_per_case: float | None = None
    hand_to_hand_pct: float | None = None  # passed from hand to hand: more than one transfer
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["group"] = {k: str(v) for k, v in self.group.items()}
        d["unknown"] = {k: u.to_dict() for k, u in self.unknown.items()}
        d["intervals"] = {k: [lo, hi] for k, (lo, hi) in self.intervals.items()}
        return {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in d.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row: the group's columns, the figures with ``<share>_low``/``_high``, and ``<figure>_why``
        for each unknown figure."""
        d = {k: v for k, v in self.to_dict().items() if k not in ("group", "unknown", "intervals")}
        for k, (lo, hi) in self.intervals.items():
            d.update({f"{k}_low": lo, f"{k}_high": hi})
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


def count_if(flag):
    """How many rows ``flag`` is true for (an Ibis aggregate)."""
    return flag.sum()


@selection
def complaints(store: Store, by: Sequence[str] = ("type",), start: dt.datetime | None = None,
               end: dt.datetime | None = None, sla_hours: float = 48.0,
               as_of: dt.datetime | None = None, with_backlog: bool = True, facts=None,
               where: Where = None) -> ComplaintReport:
    """Counts and shares by ``by`` (type, channel, department, owner, priority, status, origin, or a
    period of the opening: day, week, month, quarter, year), response and resolution times (median and
    p90, hours), past-SLA, reopened, first-contact-resolution and auto-only shares with their Wilson
    intervals, transfers per case and the share passed from hand to hand (None, with the reason in
    ``unknown``, where the data cannot support them), and (unless ``with_backlog=False``) the open
    backlog at the end of each month up to ``as_of`` (default: the latest moment in the data). ``facts``:
    the ``case_facts`` of this selection when the caller has them already. ``where`` keeps some values of
    case or customer columns (``opened_in``)."""
    check_by(by)
    as_of = as_of or _latest(store)
    facts = facts if facts is not None else case_facts(store, start, end, as_of, sla_hours, where)
    recorded = _recorded(store)

    def aggs(t):
        return dict(
            n=t.count(),
            fr_med=t.first_response_hours.quantile(0.5), fr_p90=t.first_response_hours.quantile(0.9),
            res_med=t.resolution_hours.quantile(0.5), res_p90=t.resolution_hours.quantile(0.9),
            sla_past=count_if(t.sla == "past"), sla_known=count_if(t.sla.isin(["past", "met"])),
            closed=count_if(t.closed), closed_no_time=count_if(t.closed_no_time), with_events=count_if(t.has_events),
            reopened=count_if(t.reopened & t.has_events), auto_only=count_if(t.auto_only), open_now=count_if(t.open),
            fcr=count_if(t.fcr), fcr_n=count_if(t.closed & t.has_events), transfers=t.transfers.sum(where=t.has_events),
            hand_to_hand=count_if(t.has_events & (t.transfers > 1)),
        )

    total_df = facts.aggregate(**aggs(facts)).execute()
    total_n = int(total_df.n.iloc[0] or 0)
    total = _stats({}, total_df.iloc[0], total_n, recorded)
    groups = []
    if by:
        df = facts.group_by(**group_columns(facts, by)).aggregate(**aggs(facts)).execute()
        periods = [b for b in by if b in PERIOD_UNITS]
        rest = [b for b in by if b not in PERIOD_UNITS]  # equal counts: by the groups' names, so the order is fixed
        df = df.sort_values(periods + ["n"] + rest, ascending=[True] * len(periods) + [False] + [True] * len(rest),
                            na_position="last", kind="stable")
        groups = [_stats({b: group_value(b, r[b]) for b in by}, r, total_n, recorded) for _, r in df.iterrows()]
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
    intervals: dict[str, tuple[float, float]] = {}
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

    def share(name: str, k: int, of: int) -> float:
        intervals[name] = wilson(k, of)
        return 100.0 * k / of

    past_sla = None
    if not why(("past_sla_pct",), close_gap if no_time and no_time >= known else
               Unknown("none_due") if known == 0 else None):
        past_sla = share("past_sla_pct", i(r.sla_past), known)
    event_reason = (Unknown("no_events") if not rec.events else
                    Unknown("events_missing", {"with_events": with_events, "n": n}) if with_events <= MAJORITY * n
                    else None)
    no_reopens = event_reason or (Unknown("no_reopen_events") if not rec.has("reopens") else None)
    reopened = None
    if not why(("reopened_pct",), no_reopens):
        reopened = share("reopened_pct", i(r.reopened), with_events)
    no_response = event_reason or (Unknown("no_agent_responses") if not rec.has("responses") else None)
    auto_only = None
    if not why(("auto_only_pct",), no_response):
        auto_only = share("auto_only_pct", i(r.auto_only), with_events)
    no_transfers = event_reason or (Unknown("no_transfer_events") if not rec.has("transfers") else None)
    transfers = hand = None
    if not why(("transfers_per_case", "hand_to_hand_pct"), no_transfers):
        transfers = i(r.transfers) / with_events
        hand = share("hand_to_hand_pct", i(r.hand_to_hand), with_events)
    fcr_n = i(r.fcr_n)
    fcr = None
    if not why(("fcr_pct",), no_response or no_reopens or no_transfers or
               (Unknown("none_resolved") if fcr_n == 0 else None)):
        fcr = share("fcr_pct", i(r.fcr), fcr_n)
    response = ("first_response_median_h", "first_response_p90_h")
    fr = (None, None)
    if not why(response, no_response or (Unknown("none_answered") if f(r.fr_med) is None else None)):
        fr = (f(r.fr_med), f(r.fr_p90))
    resolution = ("resolution_median_h", "resolution_p90_h")
    res = (None, None)
    if not why(resolution, close_gap if no_time and no_time >= closed - no_time else
               Unknown("none_resolved") if f(r.res_med) is None else None):
        res = (f(r.res_med), f(r.res_p90))
    return ComplaintStats(group, n, 100.0 * n / total_n if total_n else None, *fr, *res, past_sla, reopened,
                          auto_only, i(r.open_now), known, with_events, no_time, unknown, fcr, fcr_n, transfers,
                          hand, intervals)


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
                             left_out=facts.closed_no_time.sum()).execute().iloc[0]
    if pd.isna(bounds.lo):
        return [], 0
    hi = max(pd.Timestamp(bounds.hi), pd.Timestamp(as_of))
    months = pd.date_range(pd.Timestamp(bounds.lo).to_period("M").to_timestamp(),
                           hi.to_period("M").to_timestamp(), freq="MS")
    timed = facts.filter(~facts.closed_no_time)
    from ..engines import temp_tables

    if not temp_tables(facts):  # a read-only PostgreSQL session makes no in-memory table: counted here
        t = timed.select("opened_at", "closed_final_at").execute()
        if not len(t):
            return [], int(bounds.left_out or 0)
        opened, closed = pd.to_datetime(t["opened_at"]), pd.to_datetime(t["closed_final_at"])
        counts = []
        for m in months:
            end = m + pd.offsets.MonthBegin(1)
            counts.append((m.strftime("%Y-%m"), int(((opened < end) & (closed.isna() | (closed >= end))).sum())))
        return counts, int(bounds.left_out or 0)
    ends = ibis.memtable({"month": [m.strftime("%Y-%m") for m in months],
                          "month_end": [(m + pd.offsets.MonthBegin(1)).to_pydatetime() for m in months]})
    j = ends.cross_join(timed.select("opened_at", "closed_final_at"))
    open_at_end = (j.opened_at < j.month_end) & (j.closed_final_at.isnull() | (j.closed_final_at >= j.month_end))
    df = j.group_by("month").aggregate(open=open_at_end.sum()).order_by("month").execute()
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
