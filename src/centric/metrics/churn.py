"""Churn level at the end of each period: the share of churned customers among those who had bought
by then (a period still running is measured at the last order in the data), with a Wilson interval.

Two definitions (``method``):

- ``"p_alive"`` (default): a customer counts as churned when the BG/NBD probability that they still
  buy, given their own purchase rhythm up to the period end, is below ``threshold`` (0.5). The model
  is fitted once on all orders (``centric.customers``); each period end is judged on the orders up
  to it.
- ``"rule"``: no purchase for longer than 3× the customer's own median gap between purchase days; a
  customer with one purchase day uses the 80th percentile of all gaps instead. Computed in the
  database; used when the model cannot be fitted (for example, no customer bought twice yet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import CentricError
from ..store import Store
from .periods import PERIODS, label, selection
from .results import Tabular, interval, results
from .stats import wilson

CUSTOMER_COLUMNS = ("segment", "country", "city", "language")


@dataclass(frozen=True)
class ChurnPoint(Tabular):
    period: str
    group: dict[str, Any]
    customers: int
    churned: int
    rate: float | None
    low: float | None
    high: float | None
    method: str = "p_alive"

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, **{k: str(v) for k, v in self.group.items()}, "customers": self.customers,
                "churned": self.churned, "rate": self.rate, "interval": [self.low, self.high], "method": self.method}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"period": self.period, **self.group, "customers": self.customers,
                              "churned": self.churned, "rate": self.rate, "low": self.low, "high": self.high,
                              "method": self.method}])

    def _display(self) -> pd.DataFrame:
        return pd.DataFrame([{"period": self.period, **{k: str(v) for k, v in self.group.items()},
                              "churn %": self.rate, "95% interval": interval(self.low, self.high),
                              "n (customers)": self.customers, "churned": self.churned, "method": self.method}])


@results
@selection
def churn(store: Store, period: str = "month", by: tuple[str, ...] = (), start: dt.datetime | None = None,
          end: dt.datetime | None = None, multiple: float = 3.0, quantile: float = 0.8, method: str = "p_alive",
          threshold: float = 0.5) -> list[ChurnPoint]:
    """Churn rate at the end of each period (with a Wilson interval), optionally by customer columns.
    Each point's ``method`` says which definition produced it."""
    if period not in PERIODS:
        raise CentricError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    if method not in ("p_alive", "rule"):
        raise CentricError(f"unknown churn method {method!r}; use p_alive or rule")
    for b in by:
        if b not in CUSTOMER_COLUMNS:
            raise CentricError(f"cannot break churn down by {b!r}; use one of {', '.join(CUSTOMER_COLUMNS)}")
    bounds = store.con.execute("SELECT min(ordered_at), max(ordered_at) FROM orders").fetchall()[0]
    if bounds[0] is None:
        return []
    lo, hi = start or bounds[0], end or bounds[1]
    if method == "p_alive":
        from ..customers import ConvergenceError

        try:
            return _p_alive_churn(store, period, by, lo, hi, threshold)
        except ConvergenceError:
            pass  # e.g. nobody bought twice yet: the rule still gives an answer
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
                              {b: getattr(r, b) for b in by}, n, k, 100.0 * k / n if n else None, low, high, "rule"))
    return out


def _p_alive_churn(store: Store, period: str, by: tuple[str, ...], lo: dt.datetime, hi: dt.datetime,
                   threshold: float) -> list[ChurnPoint]:
    from ..customers import rfm_summary
    from ..customers.scoring import fit, orders_frame

    orders = orders_frame(store)
    if orders.empty:
        return []
    _, model, _ = fit(orders, spend=False)
    cols = store.con.execute(f"SELECT customer_id{''.join(', ' + b for b in by)} FROM customers").df()
    cols = cols.set_index("customer_id").fillna("(none)") if by else None
    freq = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}[period]
    first = pd.Timestamp(lo).normalize()
    starts = pd.date_range(pd.Timestamp(first).to_period(PERIODS[period]).start_time, hi, freq=freq)
    last_day = pd.Timestamp(hi).normalize()
    out = []
    for i, st in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else None
        day = min(nxt - pd.Timedelta(days=1), last_day) if nxt is not None else last_day
        s = rfm_summary(orders, unit="D", observation_end=day)
        frame = pd.DataFrame({"churned": model.probability_alive(s) < threshold}, index=s.index)
        if by:
            frame = frame.join(cols, how="left").fillna({b: "(none)" for b in by})
            groups = frame.groupby(list(by), sort=True)["churned"]
        else:
            groups = frame.assign(_all=1).groupby("_all")["churned"]
        for key, g in groups:
            n, k = len(g), int(g.sum())
            low, high = wilson(k, n)
            key = key if isinstance(key, tuple) else (key,)
            out.append(ChurnPoint(label(period, st.to_pydatetime()), dict(zip(by, key, strict=False)) if by else {},
                                  n, k, 100.0 * k / n, low, high, "p_alive"))
    return out
