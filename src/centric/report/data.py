"""Everything the report shows, gathered from the metrics (no formatting, no HTML)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import metrics, settings
from ..council.summary import summary as council_summary
from ..council.summary import version as council_version
from ..enps.analysis import overview as enps_overview
from ..errors import CentricError
from ..flows.summary import journey_flows
from ..journeys.section import for_report as journey_maps
from ..metrics import stats
from ..metrics.complaints import DIMENSIONS
from ..metrics.filters import CUSTOMER_COLUMNS, Where, normalise
from ..metrics.periods import headline_periods, label
from ..metrics.survey import RESPONSE_COLUMNS
from ..mystery.section import for_report as mystery_section
from ..personas.present import bundle as persona_bundle
from ..store import Store

HEADLINE_CORRECTION = "holm"


@dataclass
class ReportData:
    first: dt.datetime | None
    last: dt.datetime | None
    period: str
    current: str | None
    previous: str | None
    headline: dict[str, Any] = field(default_factory=dict)
    trends: dict[str, metrics.Breakdown] = field(default_factory=dict)
    breakdowns: dict[tuple[str, str], metrics.Breakdown] = field(default_factory=dict)  # (metric, column)
    complaints: metrics.ComplaintReport | None = None
    complaints_by_department: metrics.ComplaintReport | None = None
    cases: Any = None  # centric.metrics.cases.CaseMetrics by department: clocks, backlog now, repeat, root causes
    journey_maps: list[Any] = field(default_factory=list)  # centric.journeys.JourneyMap per journey
    churn: list[metrics.ChurnPoint] = field(default_factory=list)
    churn_by_segment: list[metrics.ChurnPoint] = field(default_factory=list)
    customers: Any = None  # centric.customers.overview.Overview, or None without orders
    drivers: Any = None  # centric.drivers.Drivers, or None before centric analyze
    topics: list[Any] = field(default_factory=list)  # centric.text.topics.Topics per kind of text analysed
    quality: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    correction: str = HEADLINE_CORRECTION  # how the headline's changes are corrected for their number
    compared: bool = True  # False when the previous period is only partly in the data (or the selection)
    current_from: dt.datetime | None = None  # set when --from cuts into the headline period
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the filters (centric.metrics.filters)
    brand: str = "ours"  # the brand of the factor analysis
    surveys: Any = None  # centric's own surveys: {"rates": DataFrame, "trends": [(Survey, Breakdown)]}, or None
    whys: Any = None  # centric.whys.WhysTree of the first "fix" factor, or None
    flows: Any = None  # centric.flows.summary.JourneyFlows of the journey with the most events, or None
    personas: Any = None  # centric.personas.present.Bundle: personas and their empathy maps, or None
    council: Any = None  # centric.council.summary.Summary, or None without a customer council
    ideas: Any = None  # centric.ideas.Programme: the suggestion box's figures, or None without ideas
    orientation: Any = None  # centric.orientation.present.OrientationReport, or None without assessments
    observations: Any = None  # centric.observations.present.ObservationReport, or None without observation notes
    mystery: Any = None  # centric.mystery.section.MysteryData, or None without visits
    enps: Any = None  # centric.enps.Overview: employee NPS and pulse with the threshold applied, or None
    feelings: Any = None  # centric.feelings.Feelings: the texts' emotions by factor and segment, or None


def only(where: Where, columns) -> dict[str, tuple[str, ...]]:
    """The part of ``where`` about ``columns`` (and the customer's columns): each section filters by
    the columns its rows have."""
    return {c: v for c, v in normalise(where).items() if c in columns or c in CUSTOMER_COLUMNS}


SURVEY_FILTERS = RESPONSE_COLUMNS
CASE_FILTERS = DIMENSIONS
DRIVER_FILTERS = ("channel", "touchpoint", "language")
UNFILTERED = ("journey_maps", "churn", "customers", "topics", "surveys", "flows")
"""Sections that take the period only: ``where`` does not narrow them."""


def _bounds(store: Store, start, end) -> tuple[dt.datetime | None, dt.datetime | None]:
    def span(*columns) -> tuple[dt.datetime | None, dt.datetime | None]:
        found = []
        for table, column in columns:
            c = store.table(table)[column]
            r = store.table(table).aggregate(lo=c.min(), hi=c.max()).execute().iloc[0]
            found += [pd.Timestamp(v).to_pydatetime() for v in (r["lo"], r["hi"]) if v is not None and not pd.isna(v)]
        return (min(found), max(found)) if found else (None, None)

    lo, hi = span(("responses", "responded_at"), ("orders", "ordered_at"), ("cases", "opened_at"))
    if hi is None:  # only feedback texts (e.g. complaints): their dates, so that their factors are shown
        lo, hi = span(("feedback", "posted_at"))
    if start is not None:
        lo = max(lo, start) if lo else start
    if end is not None:
        hi = min(hi, end - dt.timedelta(seconds=1)) if hi else end
    return lo, hi


def churn_at(points: list[metrics.ChurnPoint], end: dt.datetime) -> metrics.ChurnPoint | None:
    """The churn level at the end of the period that ends at ``end`` (exclusive): the monthly point of
    its last month, or None when the data has none."""
    want = label("month", end - dt.timedelta(days=1))
    return next((p for p in points if p.period == want and not p.group), None)


def collect(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
            period: str = "quarter", where: Where = None, brand: str = "ours",
            memo: dict | None = None) -> ReportData:
    """Every section's figures for [start, end). ``where`` (``centric.metrics.filters``) narrows the
    survey scores (response and customer columns), the complaints and cases (case and customer columns)
    and the factor analysis (channel, touchpoint, language and customer columns), each by the columns
    it has; ``brand`` is whose factors are analysed. The sections in ``UNFILTERED`` take the period only:
    with ``memo`` (a dict the caller keeps while the data does not change) they are computed once per
    period and reused for every filter."""

    def once(name: str, *args, compute):
        if memo is None:
            return compute()
        key = (name, start, end, period, *args)
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    first, last = _bounds(store, start, end)
    data = ReportData(first, last, period, None, None, where=normalise(where), brand=brand)
    sw, cw = only(where, SURVEY_FILTERS), only(where, CASE_FILTERS)
    data.counts = store.counts()
    data.orientation = once("orientation", compute=lambda: _orientation(store, start, end))
    data.observations = once("observations", compute=lambda: _observations(store, start, end))
    data.topics = once("topics", compute=lambda: _topics(store, period, start, end))  # texts alone (complaints without scores) have topics too
    if last is None:
        data.quality = quality(store)
        return data
    (c0, c1), (p0, p1) = headline_periods(last, period)
    data.current, data.previous = label(period, c0), label(period, p0)
    if start is not None and start > c0:
        c0 = data.current_from = start
    all3 = ("nps", "csat", "ces")
    cur_all = metrics.breakdowns(store, all3, (), c0, c1, where=sw)
    prev_all = metrics.breakdowns(store, all3, (), p0, p1, where=sw)
    data.trends = metrics.breakdowns(store, all3, ["month"], start, end, where=sw)
    # a period the data (or --from) starts inside of is partial: nothing is compared with it
    data.compared = first is not None and first.date() <= p0.date()
    changes = {}
    for m in all3:
        cur, prev = cur_all[m].rows[0][1], prev_all[m].rows[0][1]
        data.headline[m] = {"current": cur, "previous": prev}
        changes[m] = stats.change(m, prev, cur, data.previous, data.current) if data.compared else None
    tested = [m for m in all3 if changes[m] is not None]
    for m, c in zip(tested, stats.correct([changes[m] for m in tested], data.correction), strict=True):
        changes[m] = c
    for m in all3:
        data.headline[m]["change"] = changes[m]
    by_column = {col: metrics.breakdowns(store, all3, [col], start, end, where=sw)
                 for col in ("touchpoint", "channel", "segment", "country", "language")}
    data.breakdowns = {(m, col): b[m] for m in all3 for col, b in by_column.items()}
    sla = float(settings.get("sla_hours"))
    data.complaints = metrics.complaints(store, ("type",), start, end, sla_hours=sla, where=cw)
    from ..metrics.cases import case_metrics

    data.cases = case_metrics(store, ("department",), start, end, sla_hours=sla, with_backlog=False, where=cw)
    data.complaints_by_department = data.cases.complaints
    cur_cases = metrics.complaints(store, (), c0, c1, sla_hours=sla, with_backlog=False, where=cw).total
    prev_cases = metrics.complaints(store, (), p0, p1, sla_hours=sla, with_backlog=False, where=cw).total
    data.headline["complaints"] = {"current": cur_cases, "previous": prev_cases}
    data.journey_maps = once("journey_maps", compute=lambda: journey_maps(store, start, end))
    data.headline["journey"] = next((j for j in once("journeys", c0, c1, compute=lambda: metrics.journeys(
        store, start=c0, end=c1)) if len(j.stages) > 1),
                                    None)
    data.churn = once("churn", compute=lambda: metrics.churn(store, "month", (), start, end))
    data.headline["churn"] = {"current": churn_at(data.churn, c1), "previous": churn_at(data.churn, p1)}
    data.churn_by_segment = list(once("churn_by_segment", compute=lambda: metrics.churn(
        store, "quarter", ("segment",), start, end)))
    if data.churn_by_segment:  # the headline's quarter when it has points (never a running quarter), else the last
        quarters = {p.period for p in data.churn_by_segment}
        want = label("quarter", c0)
        last_q = want if want in quarters else data.churn_by_segment[-1].period
        data.churn_by_segment = [p for p in data.churn_by_segment if p.period == last_q]
    from ..customers.overview import overview

    data.customers = once("customers", compute=lambda: overview(store, period=period))
    data.drivers = _drivers(store, period, brand, only(where, DRIVER_FILTERS), start, end)
    data.feelings = _feelings(store, brand, only(where, DRIVER_FILTERS), start, end)
    data.whys = once("whys", _top_fix(data.drivers), compute=lambda: _whys(store, data.drivers, start, end))
    data.surveys = once("surveys", compute=lambda: _surveys(store, start, end))
    data.flows = once("flows", compute=lambda: journey_flows(store, start=start, end=end))
    data.personas = once("personas", compute=lambda: persona_bundle(store))
    data.council = once("council", compute=lambda: council_summary(store, start=start, end=end))
    data.ideas = once("ideas", compute=lambda: _ideas(store))
    data.mystery = once("mystery", compute=lambda: mystery_section(store, start, end))
    data.enps = once("enps", compute=lambda: enps_overview(store))
    data.quality = quality(store)
    return data


def _surveys(store: Store, start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any] | None:
    """Response rates per survey and touchpoint and each survey's monthly trend (``centric.surveys.stats``), or
    None when no survey is defined."""
    if not store.count("surveys"):
        return None
    from ..surveys.stats import response_rates, trend_breakdowns

    return {"rates": response_rates(store, ("survey", "touchpoint"), start, end),
            "trends": trend_breakdowns(store, period="month", start=start, end=end)}


def _topics(store: Store, period: str, start: dt.datetime | None, end: dt.datetime | None) -> list[Any]:
    """What each kind of text (complaints, reviews, survey comments …) about our brand is about."""
    from ..text.topics import sources, topics

    out = []
    for kind in sources(store):
        t = topics(store, source=kind, period=period, since=start, until=end)
        if t.texts or t.placeholders:
            out.append(t)
    return out


def _orientation(store: Store, start: dt.datetime | None, end: dt.datetime | None):
    from ..orientation.present import report_data

    return report_data(store, start, end)


def _observations(store: Store, start: dt.datetime | None, end: dt.datetime | None):
    from ..observations.present import report_data

    return report_data(store, start, end)


def _top_fix(drivers) -> str | None:
    from ..whys import top_fix

    return top_fix(drivers)


def _whys(store: Store, drivers, start: dt.datetime | None, end: dt.datetime | None):
    """The 5-whys tree of the first factor to fix (``centric.whys.report``), or None."""
    from ..whys.report import report_tree

    return report_tree(store, drivers, start, end)


def _drivers(store: Store, period: str = "quarter", brand: str = "ours", where: Where = None,
             start: dt.datetime | None = None, end: dt.datetime | None = None):
    """The factor analysis for ``brand`` in the selection, or None when it cannot be made (no mentions,
    too few answers)."""
    from ..drivers import drivers

    try:
        return drivers(store, brand=brand, reps=200, period=period, where=where, start=start, end=end)
    except CentricError:
        return None


def _feelings(store: Store, brand: str, where: Where, start: dt.datetime | None, end: dt.datetime | None):
    """The emotions of the texts of ``brand`` in the selection, by factor and segment (the texts the factor
    analysis reads, with its filters)."""
    from ..feelings import feelings

    return feelings(store, brand=brand, where=where, start=start, end=end)


def quality(store: Store) -> dict[str, Any]:
    from ..text.suspicious import flag_counts

    runs = store.con.execute(
        "SELECT run_id, table_name, source, format, encoding, status, rows_read, rows_stored, rows_rejected, "
        "rows_duplicate FROM ingest_runs ORDER BY run_id").fetchall()
    keys = ("run", "table", "source", "format", "encoding", "status", "read", "stored", "rejected", "duplicate")
    reasons = store.con.execute(
        "SELECT regexp_replace(reason, '''[^'']*''', '…', 'g') AS kind, count(*) AS n FROM rejected_rows "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 8").fetchall()
    df = pd.DataFrame(runs, columns=keys)
    live = df[df["status"] != "replaced"] if len(df) else df  # a replaced run's rows are gone
    totals = {k: int(live[k].sum()) if len(live) else 0 for k in ("read", "stored", "rejected", "duplicate")}
    from ..text.batch import placeholder_count

    return {"runs": [dict(zip(keys, r, strict=True)) for r in runs], "reasons": reasons, "totals": totals,
            "flags": flag_counts(store), "placeholders": placeholder_count(store)}


VERSION_TABLES = ("customers", "identities", "orders", "responses", "feedback", "events", "cases", "case_events",
                  "case_clocks", "case_config", "text_analyses", "mentions", "customer_scores", "erasures",
                  "ingest_runs", "surveys", "survey_invitations")
VERSION_TABLES += ("orientation_assessments",)  # staff orientation: an assessment entered in the web app


def data_version(store: Store) -> tuple:
    """A cheap fingerprint of what the report's figures rest on: the rows of its tables and the latest
    change of a case. It changes whenever data is loaded, analysed, scored or erased and whenever a case
    moves, so a figure cached under it is never stale."""
    counts = tuple(store.count(t) for t in VERSION_TABLES)
    cases = store.table("cases")
    return counts + (str(cases.updated_at.max().execute()),) + council_version(store)


def _ideas(store: Store):
    from ..ideas.programme import programme

    return programme(store)
