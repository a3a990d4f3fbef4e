"""Metrics from the case events, beyond the per-group complaint figures of :mod:`.complaints` — computed
in the database through Ibis; only per-group counts, quantiles and sums come back to Python.

- **Service levels** (``clock_shares``): of the clocks in ``case_clocks`` (first_response,
  next_response, resolution, confirmation), the share met — ``met`` is met, ``breached`` is missed; a
  clock still running and not yet due (on_track, at_risk, paused) is pending and left out — with a
  Wilson 95% interval, per clock and by department, owner, channel or period.
- **Backlog now** (``backlog_age``): the cases open at ``as_of`` and their age (median, p90, buckets).
- **Repeat complaints** (``repeat_customers``): customers with more than one case in the selection,
  and cases per customer.
- **Root causes** (``root_causes``): a Pareto of the root causes (and sub-causes) recorded at closing,
  per factor (``cases.type``): counts, share and cumulative share.
- ``case_metrics`` gathers them with :func:`.complaints.complaints`: what ``centric metrics complaints``
  and the report show.

Every per-case fact (open or closed, when it was resolved) comes from ``complaints.case_facts``, the one
place that defines them.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     m = case_metrics(s, by=())
>>> m.complaints.total.n, m.backlog.open, m.clocks.unknown.text
(0, 0, 'no service-level clocks in the data')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from ..schema import CASE_CLOCKS
from ..store import Store
from .complaints import (
    ComplaintReport,
    Unknown,
    _latest,
    _seconds,
    case_facts,
    check_by,
    complaints,
    count_if,
    group_columns,
    group_value,
    opened_in,
)
from .filters import Where
from .periods import selection
from .results import Tabular, html_table
from .stats import wilson

__all__ = ["AGE_BUCKETS", "BacklogAge", "CaseMetrics", "ClockReport", "ClockShare", "RepeatCustomers", "RootCauses",
           "backlog_age", "case_metrics", "clock_shares", "repeat_customers", "root_causes"]

CLOCK_DIMENSIONS = ("type", "channel", "department", "owner", "priority", "origin")
AGE_BUCKETS = ((0, 1, "<1d"), (1, 3, "1-3d"), (3, 7, "3-7d"), (7, 14, "7-14d"), (14, 30, "14-30d"),
               (30, None, ">30d"))
"""Backlog age buckets in days: [low, high) and a key."""
NO_SUB_CAUSE = "(none)"


def _f(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _i(v) -> int:
    return 0 if v is None or pd.isna(v) else int(v)


# -- service levels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockShare:
    """One clock over one group: met, missed (breached) and pending clocks; ``share`` met (percent) over
    ``met + missed`` with its Wilson 95% interval (None without a decided clock)."""

    clock: str
    group: dict[str, Any]
    met: int
    missed: int
    pending: int
    share: float | None
    low: float | None
    high: float | None

    @property
    def n(self) -> int:
        return self.met + self.missed

    def to_dict(self) -> dict[str, Any]:
        return {"clock": self.clock, "group": {k: str(v) for k, v in self.group.items()}, "met": self.met,
                "missed": self.missed, "pending": self.pending, "n": self.n, "share_met": self.share,
                "interval": [self.low, self.high]}


@dataclass(frozen=True)
class ClockReport(Tabular):
    """Clock shares: ``total`` one per clock (in ``CASE_CLOCKS`` order, clocks without rows left out),
    ``groups`` per clock × ``by`` group. ``unknown`` says why there is nothing (no clocks at all)."""

    by: tuple[str, ...]
    total: list[ClockShare]
    groups: list[ClockShare]
    unknown: Unknown | None = None

    def get(self, clock: str, group: dict[str, Any] | None = None) -> ClockShare | None:
        rows = self.groups if group else self.total
        return next((r for r in rows if r.clock == clock and (not group or r.group == group)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"by": list(self.by), "total": [r.to_dict() for r in self.total],
                "groups": [r.to_dict() for r in self.groups],
                "unknown": self.unknown.to_dict() if self.unknown else None}

    def to_frame(self) -> pd.DataFrame:
        rows = [{**r.group, "clock": r.clock, "met": r.met, "missed": r.missed, "pending": r.pending, "n": r.n,
                 "share_met": r.share, "low": r.low, "high": r.high} for r in (self.groups or self.total)]
        return pd.DataFrame(rows, columns=[*self.by, "clock", "met", "missed", "pending", "n", "share_met", "low",
                                           "high"])

    def _title(self) -> str:
        return "Service levels: share of clocks met" + (f" by {', '.join(self.by)}" if self.by else "")


def _share(clock: str, group: dict[str, Any], met: int, missed: int, pending: int) -> ClockShare:
    n = met + missed
    if not n:
        return ClockShare(clock, group, met, missed, pending, None, None, None)
    low, high = wilson(met, n)
    return ClockShare(clock, group, met, missed, pending, 100.0 * met / n, low, high)


@selection
def clock_shares(store: Store, by: Sequence[str] = (), start: dt.datetime | None = None,
                 end: dt.datetime | None = None, where: Where = None) -> ClockReport:
    """The share of each clock met, of the cases opened in [start, end) (those ``where`` keeps), overall
    and by ``by`` (department, owner, channel, type, priority, origin, or a period of the case's opening)."""
    check_by(by, CLOCK_DIMENSIONS, "service levels")
    clocks = store.table("case_clocks")
    j = clocks.join(opened_in(store, start, end, where), "case_id")
    aggs = dict(met=count_if(j.state == "met"), missed=count_if(j.state == "breached"),
                pending=count_if(~j.state.isin(["met", "breached"])))
    order = {c: i for i, c in enumerate(CASE_CLOCKS)}
    total_df = j.group_by("clock").aggregate(**aggs).execute()
    if not len(total_df):
        return ClockReport(tuple(by), [], [], Unknown("no_clocks"))
    total_df = total_df.sort_values("clock", key=lambda s: s.map(order))
    total = [_share(r.clock, {}, _i(r.met), _i(r.missed), _i(r.pending)) for r in total_df.itertuples()]
    groups = []
    if by:
        df = j.group_by(clock=j.clock, **group_columns(j, by)).aggregate(**aggs).execute()
        df = df.sort_values(["clock", *by], key=lambda s: s.map(order) if s.name == "clock" else s)
        groups = [_share(r["clock"], {b: group_value(b, r[b]) for b in by}, _i(r["met"]), _i(r["missed"]),
                         _i(r["pending"])) for _, r in df.iterrows()]
    return ClockReport(tuple(by), total, groups)


# -- backlog now --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacklogAge(Tabular):
    """The cases open at ``as_of`` and their age in days: median, p90 and how many fall in each of
    ``AGE_BUCKETS``; by ``by`` in ``groups`` (group, open, median, p90). ``left_out``: closed cases
    without a close time (when they stopped being open is unknown)."""

    as_of: dt.datetime | None
    open: int
    median_days: float | None
    p90_days: float | None
    buckets: list[tuple[str, int]]
    by: tuple[str, ...] = ()
    groups: list[tuple[dict[str, Any], int, float | None, float | None]] = field(default_factory=list)
    left_out: int = 0
    unknown: Unknown | None = None

    def open_in(self, **group: Any) -> int:
        """Open cases of one group (0 when it has none)."""
        return next((n for g, n, _, _ in self.groups if g == group), 0)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "open": self.open,
                "median_days": self.median_days, "p90_days": self.p90_days,
                "buckets": [{"age": k, "open": n} for k, n in self.buckets], "by": list(self.by),
                "groups": [{"group": {k: str(v) for k, v in g.items()}, "open": n, "median_days": med,
                            "p90_days": p90} for g, n, med, p90 in self.groups],
                "left_out": self.left_out, "unknown": self.unknown.to_dict() if self.unknown else None}

    def to_frame(self) -> pd.DataFrame:
        if self.by:
            return pd.DataFrame([{**g, "open": n, "median_days": med, "p90_days": p90}
                                 for g, n, med, p90 in self.groups], columns=[*self.by, "open", "median_days",
                                                                              "p90_days"])
        return pd.DataFrame([{"open": self.open, "median_days": self.median_days, "p90_days": self.p90_days,
                              **dict(self.buckets)}])

    def _title(self) -> str:
        return f"Open cases at {self.as_of:%Y-%m-%d %H:%M}" if self.as_of else "Open cases"


def _open_at(facts, as_of: dt.datetime):
    """Cases open at ``as_of``: opened by then and not closed (or closed only after it); a case closed
    at an unknown time is left out."""
    return facts.filter((facts.opened_at <= as_of) & ~facts.closed_no_time
                        & (facts.closed_final_at.isnull() | (facts.closed_final_at > as_of)))


@selection
def backlog_age(store: Store, by: Sequence[str] = (), start: dt.datetime | None = None,
                end: dt.datetime | None = None, as_of: dt.datetime | None = None, facts=None,
                where: Where = None) -> BacklogAge:
    """The cases (opened in [start, end), those ``where`` keeps) open at ``as_of`` (default: the latest
    moment in the data) and how long they have been open."""
    check_by(by)
    as_of = as_of or _latest(store)
    facts = facts if facts is not None else case_facts(store, start, end, as_of, where=where)
    left_out = _i(facts.aggregate(n=count_if(facts.closed_no_time)).execute().iloc[0]["n"])
    o = _open_at(facts, as_of)
    o = o.mutate(age_days=_seconds(ibis.literal(as_of), o.opened_at) / 86400.0)
    aggs = dict(open=o.count(), med=o.age_days.quantile(0.5), p90=o.age_days.quantile(0.9),
                **{f"b{i}": count_if((o.age_days >= lo) & (o.age_days < hi) if hi is not None else o.age_days >= lo)
                   for i, (lo, hi, _) in enumerate(AGE_BUCKETS)})
    r = o.aggregate(**aggs).execute().iloc[0]
    buckets = [(key, _i(r[f"b{i}"])) for i, (_, _, key) in enumerate(AGE_BUCKETS)]
    groups = []
    if by:
        df = o.group_by(**group_columns(o, by)).aggregate(open=o.count(), med=o.age_days.quantile(0.5),
                                                         p90=o.age_days.quantile(0.9)).execute()
        df = df.sort_values(["open", *by], ascending=[False, *[True] * len(by)])  # ties by name: the same every run
        groups = [({b: group_value(b, g[b]) for b in by}, _i(g["open"]), _f(g["med"]), _f(g["p90"]))
                  for _, g in df.iterrows()]
    n = _i(r["open"])
    return BacklogAge(as_of, n, _f(r["med"]), _f(r["p90"]), buckets, tuple(by), groups, left_out,
                      None if n else Unknown("no_open_cases"))


# -- repeat complaints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatCustomers(Tabular):
    """Customers with a case in the selection: how many, how many had more than one (``repeat``, with
    its share and Wilson interval), cases per customer, and how many customers had 1, 2, 3 and 4 or
    more cases. A case is the customer's by ``customer_id``, else by ``author`` (the handle of an
    unknown customer); ``no_customer`` counts the cases with neither."""

    customers: int
    repeat: int
    share: float | None
    low: float | None
    high: float | None
    cases: int
    cases_per_customer: float | None
    distribution: list[tuple[str, int]]
    no_customer: int = 0
    unknown: Unknown | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("low", "high", "distribution", "unknown")}
        return {**d, "interval": [self.low, self.high],
                "distribution": [{"cases": k, "customers": n} for k, n in self.distribution],
                "unknown": self.unknown.to_dict() if self.unknown else None}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in self.to_dict().items() if k not in ("distribution", "unknown")}])

    def _title(self) -> str:
        return "Repeat complaints"


@selection
def repeat_customers(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
                     facts=None, where: Where = None) -> RepeatCustomers:
    """Repeat complaints of the cases opened in [start, end) (those ``where`` keeps)."""
    facts = facts if facts is not None else case_facts(store, start, end, where=where)
    key = facts.customer_id.fill_null(ibis.literal("author:").concat(facts.author))
    keyed = facts.mutate(key=key)
    no_customer = _i(keyed.aggregate(n=count_if(keyed.key.isnull())).execute().iloc[0]["n"])
    known = keyed.filter(keyed.key.notnull())
    per = known.group_by("key").aggregate(cases=known.count())
    r = per.aggregate(customers=per.count(), cases=per.cases.sum(), repeat=count_if(per.cases > 1),
                      c1=count_if(per.cases == 1), c2=count_if(per.cases == 2), c3=count_if(per.cases == 3),
                      c4=count_if(per.cases >= 4)).execute().iloc[0]
    customers, repeat, cases = _i(r["customers"]), _i(r["repeat"]), _i(r["cases"])
    dist = [(k, _i(r[c])) for k, c in (("1", "c1"), ("2", "c2"), ("3", "c3"), ("4+", "c4"))]
    if not customers:
        return RepeatCustomers(0, 0, None, None, None, 0, None, dist, no_customer, Unknown("no_customers"))
    low, high = wilson(repeat, customers)
    return RepeatCustomers(customers, repeat, 100.0 * repeat / customers, low, high, cases, cases / customers, dist,
                           no_customer)


# -- root causes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootCauses(Tabular):
    """Root causes recorded at closing, per factor (``cases.type``), as a Pareto: ``causes`` rows (factor,
    root cause, cases, share of the factor's cases with a root cause, cumulative share), most frequent
    first; ``sub_causes`` the same per (factor, root cause, sub-cause); ``closed`` per factor: (closed
    cases, closed cases with a root cause)."""

    causes: pd.DataFrame
    sub_causes: pd.DataFrame
    closed: dict[str, tuple[int, int]]
    unknown: Unknown | None = None

    def top(self, factor: str, k: int = 3) -> list[tuple[str, str | None, int, float]]:
        """The factor's ``k`` most frequent (root cause, sub-cause) pairs: (cause, sub-cause or None,
        cases, share %). Sub-causes, because a root cause is often the factor itself (a category of the
        factor taxonomy) and what to fix is in the sub-cause."""
        rows = self.sub_causes[self.sub_causes["factor"] == factor].head(k)
        return [(r.root_cause, None if r.root_sub_cause == NO_SUB_CAUSE else r.root_sub_cause, int(r.cases),
                 float(r.share)) for r in rows.itertuples()]

    def to_dict(self) -> dict[str, Any]:
        return {"causes": self.causes.to_dict(orient="records"),
                "sub_causes": self.sub_causes.to_dict(orient="records"),
                "closed": {k: {"closed": c, "with_root_cause": w} for k, (c, w) in self.closed.items()},
                "unknown": self.unknown.to_dict() if self.unknown else None}

    def to_frame(self) -> pd.DataFrame:
        return self.sub_causes

    def _repr_html_(self) -> str:
        return html_table(self.causes, "Root causes per factor (Pareto)")


def _pareto(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Shares and cumulative shares within each factor, most frequent first (ties by name)."""
    df = df.astype({"cases": "int64"}).sort_values(["factor", "cases", *keys],
                                                   ascending=[True, False, *[True] * len(keys)])
    total = df.groupby("factor")["cases"].transform("sum")
    df["share"] = 100.0 * df["cases"] / total
    df["cumulative"] = 100.0 * df.groupby("factor")["cases"].cumsum() / total
    return df.reset_index(drop=True)[["factor", *keys, "cases", "share", "cumulative"]]


@selection
def root_causes(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
                facts=None, where: Where = None) -> RootCauses:
    """The root-cause Pareto of the closed cases opened in [start, end) (those ``where`` keeps), per factor."""
    facts = facts if facts is not None else case_facts(store, start, end, where=where)
    closed = facts.filter(facts.closed).mutate(factor=facts.type.fill_null("(none)"))
    per = closed.group_by("factor").aggregate(closed=closed.count(),
                                              with_cause=count_if(closed.root_cause.notnull())).execute()
    done = {r.factor: (_i(r.closed), _i(r.with_cause)) for r in per.sort_values("factor").itertuples()}
    caused = closed.filter(closed.root_cause.notnull())
    sub = caused.mutate(root_sub_cause=caused.root_sub_cause.fill_null(NO_SUB_CAUSE))
    subs = sub.group_by(["factor", "root_cause", "root_sub_cause"]).aggregate(cases=sub.count()).execute()
    causes = subs.groupby(["factor", "root_cause"], as_index=False)["cases"].sum() if len(subs) else \
        pd.DataFrame(columns=["factor", "root_cause", "cases"])
    unknown = None if len(subs) else Unknown("no_root_causes")
    return RootCauses(_pareto(causes, ["root_cause"]), _pareto(subs, ["root_cause", "root_sub_cause"]), done,
                      unknown)


# -- all of them --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _materialised(store: Store, expr) -> Iterator[Any]:
    """``expr`` computed once into a temporary table, dropped afterwards; on Spark, whose Ibis backend has no
    temporary tables, a cached DataFrame (Ibis's cache), released afterwards; in a read-only PostgreSQL session
    a temporary table in a transaction of its own, rolled back afterwards (``centric.engines.kept_read_only``),
    or ``expr`` itself when the session is in a transaction already."""
    if store.ibis.name == "pyspark":
        with expr.cache() as t:
            yield t
        return
    from ..engines import kept_read_only, temp_tables

    if not temp_tables(store.ibis):  # a read-only PostgreSQL session (the web app's readers)
        with kept_read_only(store.ibis, expr, "_centric_facts_") as t:
            yield expr if t is None else t
        return
    name = f"_centric_facts_{uuid.uuid4().hex[:12]}"
    t = store.ibis.create_table(name, expr, temp=True)
    try:
        yield t
    finally:
        store.con.execute(f'DROP TABLE IF EXISTS "{name}"')


@dataclass(frozen=True)
class CaseMetrics(Tabular):
    """Every case metric over one selection: the complaint figures by ``by`` (``complaints``), the
    service-level clocks, the backlog now and its age, repeat complaints and the root-cause Pareto."""

    complaints: ComplaintReport
    clocks: ClockReport
    backlog: BacklogAge
    repeat: RepeatCustomers
    root_causes: RootCauses

    def to_dict(self) -> dict[str, Any]:
        return {**self.complaints.to_dict(), "clocks": self.clocks.to_dict(), "backlog_now": self.backlog.to_dict(),
                "repeat": self.repeat.to_dict(), "root_causes": self.root_causes.to_dict()}

    def to_frame(self) -> pd.DataFrame:
        return self.complaints.to_frame()

    def _repr_html_(self) -> str:
        return "".join(x._repr_html_() for x in (self.complaints, self.clocks, self.backlog, self.repeat,
                                                 self.root_causes))


@selection
def case_metrics(store: Store, by: Sequence[str] = ("type",), start: dt.datetime | None = None,
                 end: dt.datetime | None = None, sla_hours: float = 48.0, as_of: dt.datetime | None = None,
                 with_backlog: bool = True, where: Where = None) -> CaseMetrics:
    """Every case metric of the cases opened in [start, end), broken down by ``by`` (the clocks and the
    backlog by the same columns, the clocks by all of them but ``status``); ``where`` keeps some values
    of case or customer columns (``complaints.opened_in``)."""
    check_by(by)
    as_of = as_of or _latest(store)
    clock_by = tuple(b for b in by if b != "status")
    # the per-case facts once, in a temporary table, for every figure
    with _materialised(store, case_facts(store, start, end, as_of, sla_hours, where)) as facts:
        return CaseMetrics(
            complaints(store, by, start, end, sla_hours=sla_hours, as_of=as_of, with_backlog=with_backlog,
                       facts=facts),
            clock_shares(store, clock_by, start, end, where), backlog_age(store, by, start, end, as_of=as_of, facts=facts),
            repeat_customers(store, start, end, facts=facts), root_causes(store, start, end, facts=facts))
