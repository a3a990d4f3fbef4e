"""Response rates and trends of the surveys centric collects (the report's and the web app's "Surveys").

``response_rates``: per survey (and touchpoint, language …) the invitations issued, how many were answered,
and the response rate (answered / invited, in percent) with its Wilson 95% interval. ``trends``: each
survey's metric (NPS, CSAT or CES, as ``centric.metrics`` computes it, with its interval) per period, from the
answers in ``responses`` whose ``survey`` is the survey's slug — invited and anonymous answers alike.
Counting happens in the database through Ibis; only one row per group comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ..metrics import stats as mstats
from ..metrics.periods import PERIODS
from ..metrics.results import Breakdown
from ..store import Store
from .model import Survey, SurveyError

RATE_BY = ("survey", "touchpoint", "language")
RATE_COLUMNS = ["survey_id", "survey", "name", "kind", "touchpoint", "language", "invitations", "answers", "rate",
                "low", "high"]
TREND_COLUMNS = ["survey_id", "survey", "name", "kind", "period", "value", "low", "high", "n", "method"]


def response_rates(store: Store, by: Sequence[str] = ("survey", "touchpoint"), start: dt.datetime | None = None,
                   end: dt.datetime | None = None) -> pd.DataFrame:
    """Invitations, answers (invitations answered) and the response rate in percent with its Wilson 95%
    interval (``low``, ``high``), per group of ``by`` (``survey``, ``touchpoint``, ``language``); one row per
    group, sorted by survey id. ``survey`` is the slug; grouping by survey brings its id, name and kind.
    ``start``/``end``: only the invitations issued in [start, end)."""
    by = tuple(by)
    for b in by:
        if b not in RATE_BY:
            raise SurveyError(f"cannot group response rates by {b!r}; use {', '.join(RATE_BY)}")
    inv = store.table("survey_invitations")
    if start is not None:
        inv = inv.filter(inv.created_at >= start)
    if end is not None:
        inv = inv.filter(inv.created_at < end)
    sv = store.table("surveys")
    j = inv.join(sv, inv.survey_id == sv.survey_id)
    keys = {}
    if "survey" in by:
        keys.update(survey_id=j.survey_id, survey=j.slug, name=j.name, kind=j.kind)
    if "touchpoint" in by:
        keys["touchpoint"] = j.touchpoint.fill_null("(none)")
    if "language" in by:
        keys["language"] = j.language
    aggs = {"invitations": j.invitation_id.count(), "answers": j.answered_at.count()}
    df = (j.group_by(**keys).aggregate(**aggs) if keys else j.aggregate(**aggs)).execute()
    if keys:
        df = df.sort_values(list(keys), kind="stable").reset_index(drop=True)
    if not keys and len(df) and int(df["invitations"].iloc[0]) == 0:
        df = df.iloc[0:0]
    df["invitations"] = df["invitations"].astype("int64")
    df["answers"] = df["answers"].astype("int64")
    rates = [_rate(int(k), int(n)) for k, n in zip(df["answers"], df["invitations"], strict=True)]
    df["rate"] = [r[0] for r in rates]
    df["low"] = [r[1] for r in rates]
    df["high"] = [r[2] for r in rates]
    return df[[c for c in RATE_COLUMNS if c in df.columns]]


def _rate(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    lo, hi = mstats.wilson(k, n)
    return 100 * k / n, lo, hi


def trend_breakdowns(store: Store, survey: str | None = None, period: str = "month",
                     start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[tuple[Survey, Breakdown]]:
    """Each customer survey (or the one ``survey`` names) with its metric per ``period`` in [start, end): a
    ``centric.metrics`` Breakdown of the answers whose ``survey`` is its slug. Employee surveys have no answers
    in ``responses`` (see centric.enps)."""
    from ..metrics.survey import breakdown
    from . import repo

    if period not in PERIODS:
        raise SurveyError(f"period {period!r} must be one of {', '.join(PERIODS)}")
    surveys = ([repo.require(store, survey)] if survey else
               [s for s in repo.list_all(store) if s.audience == "customers"])  # employees': centric.enps
    return [(s, breakdown(store, s.kind, period, start, end, where={"survey": [s.slug]})) for s in surveys]


def trends(store: Store, survey: str | None = None, period: str = "month", start: dt.datetime | None = None,
           end: dt.datetime | None = None) -> pd.DataFrame:
    """Each survey's metric per ``period`` (day, week, month, quarter, year) with its 95% interval (NPS in
    points, CSAT and CES as top-box shares in percent, as ``centric metrics`` shows them); ``survey``: one
    survey's id or slug, else every survey. Periods without answers are absent."""
    rows = []
    for s, b in trend_breakdowns(store, survey, period, start, end):
        for group, score in b.rows:
            rows.append({"survey_id": s.survey_id, "survey": s.slug, "name": s.name, "kind": s.kind,
                         "period": group[period], "value": score.value, "low": score.low, "high": score.high,
                         "n": score.n, "method": score.method})
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


__all__ = ["response_rates", "trend_breakdowns", "trends"]
