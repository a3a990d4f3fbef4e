"""Churn level by the simple purchase-rhythm rule (until the customer models replace it):
a customer counts as churned at time t when no purchase came for longer than 3× their own median
gap between purchases (days, same-day purchases merged) up to t; a customer with one purchase by t
uses the 80th percentile of all gaps up to t instead. The churn rate at the end of a period is the
share of churned customers among those who had bought by then (a period still running is measured at
the last order in the data). Computed in the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import CentricError
from ..store import Store
from .periods import PERIODS, label
from .stats import wilson

CUSTOMER_COLUMNS = ("segment", "country", "city", "language")


@dataclass(frozen=True)
class ChurnPoint:
    period: str
    group: dict[str, Any]
    customers: int
    churned: int
    rate: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, **{k: str(v) for k, v in self.group.items()}, "customers": self.customers,
                "churned": self.churned, "rate": self.rate, "interval": [self.low, self.high]}


def churn(store: Store, period: str = "month", by: tuple[str, ...] = (), start: dt.datetime | None = None,
          end: dt.datetime | None = None, multiple: float = 3.0, quantile: float = 0.8) -> list[ChurnPoint]:
    """Churn rate at the end of each period (with a Wilson interval), optionally by customer columns."""
    if period not in PERIODS:
        raise CentricError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    for b in by:
        if b not in CUSTOMER_COLUMNS:
            raise CentricError(f"cannot break churn down by {b!r}; use one of {', '.join(CUSTOMER_COLUMNS)}")
    bounds = store.con.execute("SELECT min(ordered_at), max(ordered_at) FROM orders").fetchall()[0]
    if bounds[0] is None:
        return []
    lo, hi = start or bounds[0], end or bounds[1]
    unit = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}[period]
    groups = ", ".join(f"coalesce(c.{b}, '(none)') AS {b}" for b in by)
    group_cols = ", ".join(by)
    sql = f"""
        WITH d AS (SELECT DISTINCT customer_id, CAST(ordered_at AS DATE) AS day FROM orders
                   WHERE customer_id IS NOT NULL),
        ends AS (SELECT CAST(p AS DATE) AS period_start,
                        least(CAST(p + INTERVAL 1 {unit} AS DATE), CAST(TIMESTAMP '{hi:%Y-%m-%d}' AS DATE) + 1)
                            AS period_end
                 FROM range(date_trunc('{unit}', TIMESTAMP '{lo:%Y-%m-%d}'),
                            TIMESTAMP '{hi:%Y-%m-%d}' + INTERVAL 1 DAY, INTERVAL 1 {unit}) t(p)),
        g AS (SELECT customer_id, day,
                     day - lag(day) OVER (PARTITION BY customer_id ORDER BY day) AS gap FROM d),
        upto AS (SELECT e.period_start, e.period_end, g.customer_id, g.day, g.gap
                 FROM ends e JOIN g ON g.day < e.period_end),
        base AS (SELECT period_start, quantile_cont(gap, {quantile}) AS p_gap FROM upto
                 WHERE gap IS NOT NULL GROUP BY 1),
        per AS (SELECT period_start, period_end, customer_id, max(day) AS last_day, count(*) AS n,
                       median(gap) AS med_gap
                FROM upto GROUP BY 1, 2, 3)
        SELECT per.period_start{', ' + groups if by else ''},
               count(*) AS customers,
               count(*) FILTER (WHERE (per.period_end - per.last_day) >
                   CASE WHEN per.n > 1 THEN {multiple} * per.med_gap ELSE base.p_gap END) AS churned
        FROM per LEFT JOIN base USING (period_start)
        {'LEFT JOIN customers c USING (customer_id)' if by else ''}
        WHERE per.period_start >= CAST(date_trunc('{unit}', TIMESTAMP '{lo:%Y-%m-%d}') AS DATE)
        GROUP BY ALL ORDER BY per.period_start{', ' + group_cols if by else ''}"""
    df = store.ibis.sql(sql).execute()
    out = []
    for r in df.itertuples(index=False):
        n, k = int(r.customers), int(r.churned)
        low, high = wilson(k, n) if n else (None, None)
        out.append(ChurnPoint(label(period, pd.Timestamp(r.period_start).to_pydatetime()),
                              {b: getattr(r, b) for b in by}, n, k, 100.0 * k / n if n else None, low, high))
    return out
