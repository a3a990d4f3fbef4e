"""NPS, CSAT and CES from the ``responses`` table, computed inside the database through Ibis: only the
per-group counts and sums come back to Python, where the intervals are computed (``stats``).

``by`` takes any response column (survey, channel, touchpoint, language), any customer column
(segment, country, city) and the periods day, week, month, quarter and year: one name
(``by="touchpoint"``), several comma-separated, or a list. ``start``/``end`` take a datetime, a date or
text such as "2025-01". ``where`` keeps only some values of response or customer columns (see
``centric.metrics.filters``): ``nps(store, where={"channel": ["app"], "segment": ["vip"]})``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence

import ibis

from .. import customer_keys
from ..errors import CentricError
from ..store import Store
from . import stats
from .filters import CUSTOMER_COLUMNS as FILTER_CUSTOMER_COLUMNS
from .filters import Where, restrict
from .periods import PERIODS, label, selection
from .results import Breakdown, Score

CUSTOMER_COLUMNS = ("segment", "country", "city")
RESPONSE_COLUMNS = ("survey", "channel", "touchpoint", "language")
METRICS = ("nps", "csat", "ces")
log = logging.getLogger(__name__)
# Months, quarters and years are grouped by a number counted from year 0 (year × 12 + month − 1 for a
# month) rather than by a truncated timestamp: extracting the year and the month is several times cheaper
# than truncating a timestamp on DuckDB (0.06 against 0.36 CPU seconds over 10 M answers), and portable.
# ``_period_start`` turns the number back into the period's first instant once the groups are back.
CALENDAR = {"month": lambda t: t.year().cast("int64") * 12 + t.month().cast("int64") - 1,
            "quarter": lambda t: t.year().cast("int64") * 4 + t.quarter().cast("int64") - 1,
            "year": lambda t: t.year().cast("int64")}


def period_key(period: str, at):
    """The group key of the period (one of ``PERIODS``) holding the timestamp ``at`` (an Ibis column): a number
    for a month, quarter or year (``CALENDAR``), the period's first instant for a day or a week. PostgreSQL's
    store keeps the planner's statistics on these very expressions (``centric.engines.postgres``)."""
    return CALENDAR[period](at) if period in CALENDAR else at.truncate(PERIODS[period])


def _frame(store: Store, by: Sequence[str], start: dt.datetime | None, end: dt.datetime | None,
           metrics: Sequence[str], where: Where = None):
    """The answers the metrics count (``where``, the period, at least one of ``metrics`` answered) and the customer
    columns among ``by`` (which need the customers joined)."""
    r = restrict(store, store.table("responses"), where, RESPONSE_COLUMNS, "survey answers",
                 customer_columns=FILTER_CUSTOMER_COLUMNS)
    if len(metrics) == 1:
        r = r.filter(r[metrics[0]].notnull())
    else:
        r = r.filter(ibis.or_(*[r[m].notnull() for m in metrics]))
    if start is not None:
        r = r.filter(r.responded_at >= start)
    if end is not None:
        r = r.filter(r.responded_at < end)
    for b in by:
        if b not in PERIODS and b not in RESPONSE_COLUMNS and b not in CUSTOMER_COLUMNS:
            raise CentricError(f"cannot break down by {b!r}; use one of: "
                               f"{', '.join(list(PERIODS) + list(RESPONSE_COLUMNS) + list(CUSTOMER_COLUMNS))}")
    return r, [b for b in by if b in CUSTOMER_COLUMNS]


def _grouped(t, by: Sequence[str], metrics: Sequence[str], extra: dict | None = None):
    """The counts and sums of ``metrics`` over ``t`` per group of ``by`` (periods as ``period_key``, NULL values of
    other columns as "(none)")."""
    cols = {b: period_key(b, t.responded_at) if b in PERIODS else t[b].fill_null("(none)") for b in by}
    aggs = {**aggregations(t, metrics), **(extra or {})}
    return t.group_by(**cols).aggregate(**aggs) if cols else t.aggregate(**aggs)


ROWS, TOTAL = "_answers", "_all_answers"  # the answers a keyed query counted, and all of them (``_aggregate``)


def _aggregate(store: Store, metrics: Sequence[str], by: Sequence[str], start, end, where: Where = None) -> dict[str, list]:
    """One pass over the answers: the counts and sums behind every metric asked for, per group, as columns
    of Python values (fetched as Arrow: no DataFrame is needed for a few hundred groups; NULL is None).

    Joined to the customers on the integer ``customer_key`` (``centric.customer_keys``), the query also counts the
    answers it grouped, and all the answers, in the same statement (one snapshot): a keyed answer whose customer
    is not there would be missed by the inner join. Then the query runs again on the text ``customer_id``."""
    out = aggregate_query(store, metrics, by, start, end, where).to_pyarrow().to_pydict()
    if ROWS in out:
        counted, totals = sum(out.pop(ROWS)), out.pop(TOTAL)
        total = totals[0] if totals else _frame(store, by, start, end, metrics, where)[0].count().to_pyarrow().as_py()
        if counted != total:
            log.warning("survey metrics: %d of %d answers met their customer by customer_key; counted again by "
                        "customer_id", counted, total)
            out = aggregate_query(store, metrics, by, start, end, where, keys=False).to_pyarrow().to_pydict()
    return out


def aggregate_query(store: Store, metrics: Sequence[str], by: Sequence[str], start=None, end=None,
                    where: Where = None, keys: bool = True):
    """The Ibis query behind ``_aggregate`` (not executed). With customer columns among ``by`` on a store that has
    integer customer keys (``customer_keys.keyed``) and ``keys``: the keyed answers joined to the customers on the
    key, the others (anonymous, or not keyed) by a left join on ``customer_id``, the two sets of sums added. On
    DuckDB the key's join is an inner join, and the query also gives the answers grouped (``ROWS``) and all of them
    (``TOTAL``, the same in every row); on Spark a left join."""
    r, need = _frame(store, by, start, end, metrics, where)
    if not need:
        return _grouped(r, by, metrics)
    c = store.table("customers")
    by_id = c.select("customer_id", *need)
    if not (keys and customer_keys.keyed(store, r, c)):
        return _grouped(r.left_join(by_id, r.customer_id == by_id.customer_id), by, metrics)
    by_key = c.select("customer_key", *need)
    keyed = r.filter(r.customer_key.notnull())
    # DuckDB's perfect hash join is an inner join's only; Spark's broadcast join is as fast left, which misses no
    # answer, so Spark needs no count of them all (a scan of its own there: 0.5 s of 2.6 on 10 M answers)
    inner = getattr(store, "engine", "duckdb") == "duckdb"
    keyed = (keyed.inner_join(by_key, "customer_key") if inner else
             keyed.left_join(by_key, keyed.customer_key == by_key.customer_key))
    rest = r.filter(r.customer_key.isnull())
    rest = rest.left_join(by_id, rest.customer_id == by_id.customer_id)
    u = _grouped(keyed, by, metrics, {ROWS: keyed.count()} if inner else None).union(
        _grouped(rest, by, metrics, {ROWS: rest.count()} if inner else None), distinct=False)
    sums = u.group_by(*by).aggregate(**{n: u[n].sum() for n in u.columns if n not in by})
    return sums.mutate(**{TOTAL: r.count().as_scalar()}) if inner else sums


def aggregations(r, metrics: Sequence[str]) -> dict:
    """The per-group counts and sums behind ``metrics``, as Ibis aggregates over the answers ``r``."""
    aggs = {}
    for metric in metrics:
        v = r[metric]
        if metric == "nps":
            aggs.update(nps_promoters=_count(v >= 9), nps_passives=_count((v >= 7) & (v <= 8)),
                        nps_detractors=_count(v <= 6))
        else:
            top = 4 if metric == "csat" else 5
            # integer sums are exact on every engine (mean and sd follow in Python); the answers (at most 10)
            # and their squares stay 32-bit integers, whose sum PostgreSQL keeps in a bigint, not in numeric
            aggs.update({f"{metric}_n": v.count(), f"{metric}_top": _count(v >= top), f"{metric}_sum": v.sum(),
                         f"{metric}_sumsq": (v * v).sum()})
    return aggs


def _count(condition):
    """How many rows of the group meet ``condition``: its sum as a 32-bit integer. (Ibis sums a boolean as a
    64-bit integer, which PostgreSQL sums into numeric; ``count(where=…)`` costs DuckDB more.)"""
    return condition.cast("int32").sum()


def _scores(metric: str, cols: dict[str, list]) -> list[Score]:
    """The metric's score for each group of the columns ``_aggregate`` returns. The t quantiles of the means'
    intervals are computed for all groups in one call (``stats.t975``), not one SciPy call per group."""
    def get(name):
        return [0 if v is None else int(v) for v in cols[f"{metric}_{name}"]]

    if metric == "nps":
        return [stats.nps_score(p, pa, d) for p, pa, d in zip(get("promoters"), get("passives"), get("detractors"),
                                                               strict=True)]
    ns, tops, sums, squares = get("n"), get("top"), get("sum"), get("sumsq")
    quantiles = stats.t975(ns)
    top_label = "satisfied (4-5)" if metric == "csat" else "easy (5-7)"
    out = []
    for n, top, total, sq, q in zip(ns, tops, sums, squares, quantiles, strict=True):
        if n == 0:
            out.append(Score(metric, None, 0, None, None, "none", {"n": 0}))
            continue
        mean, sd = _mean_sd(n, total, sq)
        lo, hi = stats.mean_interval(mean, sd, n, q)
        s = stats.share_score(metric, top, n, {top_label: top, "others": n - top}, mean=mean)
        out.append(Score(s.metric, s.value, s.n, s.low, s.high, s.method, s.counts, s.se, mean,
                         None if math.isnan(lo) else float(lo), None if math.isnan(hi) else float(hi)))
    return out


def _mean_sd(n: int, total: int, squares: int) -> tuple[float, float]:
    """The mean and the sample standard deviation of ``n`` integer answers from their sum and sum of
    squares, computed exactly (rational arithmetic, rounded once): the same on every engine, whatever its
    own AVG and STDDEV do with the last bits.

    >>> _mean_sd(3, 1 + 2 + 6, 1 + 4 + 36)
    (3.0, 2.6457513110645907)
    >>> _mean_sd(1, 5, 25)
    (5.0, 0.0)
    """
    from fractions import Fraction

    mean = total / n  # int / int: correctly rounded
    if n < 2:
        return mean, 0.0
    variance = Fraction(n * squares - total * total, n * (n - 1))
    return mean, math.sqrt(variance)


@selection
def score(store: Store, metric: str, start: dt.datetime | None = None, end: dt.datetime | None = None,
          where: Where = None) -> Score:
    """One metric over all answers in [start, end) (those ``where`` keeps)."""
    _check(metric)
    return _scores(metric, _aggregate(store, [metric], (), start, end, where))[0]


@selection
def breakdowns(store: Store, metrics: str | Sequence[str], by: str | Sequence[str], start: dt.datetime | None = None,
               end: dt.datetime | None = None, correction: str = "holm", where: Where = None) -> dict[str, Breakdown]:
    """Several metrics per group from one pass over the answers (see ``breakdown``)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for m in metrics:
        _check(m)
    stats.adjust_p([], correction)  # an unknown correction fails before any work
    cols = _aggregate(store, metrics, by, start, end, where)
    if not by:
        return {m: Breakdown(m, (), [({}, _scores(m, cols)[0])]) for m in metrics}
    for b in by:
        if b in CALENDAR:  # each period's first instant computed once, not once per group
            starts = {v: _period_start(b, int(v)) for v in set(cols[b])}
            cols[b] = [starts[v] for v in cols[b]]
    period = next((b for b in by if b in PERIODS), None)
    others = [b for b in by if b != period]
    keys = [*others, *([period] if period else [])]
    order = sorted(range(len(cols[by[0]])), key=lambda i: tuple(cols[b][i] for b in keys))
    labels = {v: label(period, _as_datetime(v)) for v in set(cols[period])} if period else {}
    out = {}
    for metric in metrics:
        scores = _scores(metric, cols)
        rows = []
        for i in order:
            s = scores[i]
            if s.no_data and len(metrics) > 1:
                continue  # a group with answers to other questions only
            group = {b: cols[b][i] for b in by}
            if period:
                group[period] = labels[group[period]]
            rows.append((group, s))
        changes = []
        if period:
            prev: dict[tuple, tuple[dict, Score]] = {}
            for group, s in rows:
                key = tuple(group[o] for o in others)
                if key in prev:
                    g0, s0 = prev[key]
                    c = stats.change(metric, s0, s, g0[period], group[period])
                    if c is not None:
                        changes.append((group, c))
                prev[key] = (group, s)
        adjusted = stats.correct([c for _, c in changes], correction)
        changes = [(g, c) for (g, _), c in zip(changes, adjusted, strict=True)]
        out[metric] = Breakdown(metric, by, rows, changes, correction if period else "none")
    return out


def breakdown(store: Store, metric: str, by: str | Sequence[str], start: dt.datetime | None = None,
              end: dt.datetime | None = None, correction: str = "holm", where: Where = None) -> Breakdown:
    """The metric per group; with a period among ``by``, also the significance of each change between
    consecutive periods within each of the other groups. All those changes form one family: their
    p-values are adjusted for how many there are (``correction``: ``holm``, the default, ``bh`` for
    Benjamini–Hochberg, or ``none``), so that 70 month-by-month tests do not flag changes by chance.
    ``where`` keeps only the answers with some values of response or customer columns."""
    return breakdowns(store, [metric], by, start, end, correction, where)[metric]


def nps(store: Store, by: str | Sequence[str] = (), start=None, end=None, where: Where = None) -> Breakdown:
    """NPS (promoters 9–10 minus detractors 0–6, in points) with n and 95% interval, per group."""
    return breakdown(store, "nps", by, start, end, where=where)


def csat(store: Store, by: str | Sequence[str] = (), start=None, end=None, where: Where = None) -> Breakdown:
    """CSAT: share of answers 4 or 5 on 1–5 (top-2-box), with a Wilson interval, and the mean."""
    return breakdown(store, "csat", by, start, end, where=where)


def ces(store: Store, by: str | Sequence[str] = (), start=None, end=None, where: Where = None) -> Breakdown:
    """CES 2.0: mean agreement 1–7 with a t interval, and the share answering 5–7 (Wilson)."""
    return breakdown(store, "ces", by, start, end, where=where)


def _check(metric: str) -> None:
    if metric not in METRICS:
        raise CentricError(f"unknown survey metric {metric!r}; use one of {', '.join(METRICS)}")


def _period_start(period: str, n: int) -> dt.datetime:
    """The first instant of the month, quarter or year numbered ``n`` by ``CALENDAR``.

    >>> _period_start("month", 2025 * 12 + 2), _period_start("quarter", 2025 * 4 + 3), _period_start("year", 2025)
    (datetime.datetime(2025, 3, 1, 0, 0), datetime.datetime(2025, 10, 1, 0, 0), datetime.datetime(2025, 1, 1, 0, 0))
    """
    if period == "month":
        return dt.datetime(n // 12, n % 12 + 1, 1)
    if period == "quarter":
        return dt.datetime(n // 4, 3 * (n % 4) + 1, 1)
    return dt.datetime(n, 1, 1)


def _as_datetime(v) -> dt.datetime:
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    return v


__all__ = ["nps", "csat", "ces", "score", "breakdown", "breakdowns"]
