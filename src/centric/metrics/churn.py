"""Churn per period, with a Wilson interval (a period still running is measured at the last order in
the data).

Two definitions (``method``):

- ``"p_alive"`` (default): the **churn rate** of a period is the share of the customers active at its
  start who dropped out during it. Nobody can see a drop-out on the day it happens, so the counts are
  the purchase model's expectations rather than a threshold: the customers who had bought before the
  period are expected to be Σ P(alive) active at its start (each P(alive) from their orders up to
  then) and Σ P(alive) active at its end (from their orders up to the end); the difference is the
  expected number who dropped out. The purchase model (BG/NBD or the modified BG/NBD, as in the latest
  scoring; else the better-fitting one) is fitted once on the orders up to the last period's end, so
  every period is judged by the same rhythm. A base with a constant hazard gives a flat rate. Each
  point also counts the customers **lost** at the period end — P(alive) below ``threshold`` (0.5),
  the same definition as the scores, so the last point's ``lost`` is the latest scoring's.
- ``"rule"``: a level, not a rate: the share of the customers who had bought by the period end with
  no purchase for longer than 3× their own median gap between purchase days (a customer with one
  purchase day uses the 80th percentile of all gaps instead). Computed in the database; used when the
  model cannot be fitted (for example, no customer bought twice yet).
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
    lost: int | None = None  # customers with P(alive) below the threshold at the period end
    bought: int | None = None  # customers who had bought by the period end

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, **{k: str(v) for k, v in self.group.items()}, "customers": self.customers,
                "churned": self.churned, "rate": self.rate, "interval": [self.low, self.high], "method": self.method,
                "lost": self.lost, "bought": self.bought}

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
          threshold: float = 0.5, model: str | None = None) -> list[ChurnPoint]:
    """Churn per period (with a Wilson interval), optionally by customer columns; see the module's
    description. Each point's ``method`` says which definition produced it. ``model``: the purchase
    model (bgnbd, mbgnbd or auto; default: the latest scoring's)."""
    if period not in PERIODS:
        raise CentricError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    if method not in ("p_alive", "rule"):
        raise CentricError(f"unknown churn method {method!r}; use p_alive or rule")
    for b in by:
        if b not in CUSTOMER_COLUMNS:
            raise CentricError(f"cannot break churn down by {b!r}; use one of {', '.join(CUSTOMER_COLUMNS)}")
    o = store.table("orders")
    found = o.aggregate(lo=o.ordered_at.min(), hi=o.ordered_at.max()).execute().iloc[0]
    if found["lo"] is None or pd.isna(found["lo"]):
        return []
    lo = start or pd.Timestamp(found["lo"]).to_pydatetime()
    hi = end or pd.Timestamp(found["hi"]).to_pydatetime()
    if method == "p_alive":
        from ..customers import ConvergenceError

        try:
            return _p_alive_churn(store, period, by, lo, hi, threshold, model)
        except ConvergenceError:
            pass  # e.g. nobody bought twice yet: the rule still gives an answer
    return _rule_churn(store, period, by, lo, hi, multiple, quantile)


def _rule_churn(store: Store, period: str, by: tuple[str, ...], lo: dt.datetime, hi: dt.datetime,
                multiple: float, quantile: float) -> list[ChurnPoint]:
    """The ``"rule"`` definition: the customers' distinct purchase days are read through Ibis (the same on
    every engine), the gaps, quantiles and medians (linear interpolation) computed here."""
    o = store.table("orders")
    o = o.filter(o.customer_id.notnull())
    d = o.select("customer_id", day=o.ordered_at.date()).distinct().execute()
    if d.empty:
        return []
    d["day"] = pd.to_datetime(d["day"])
    d = d.sort_values(["customer_id", "day"]).reset_index(drop=True)
    d["gap"] = d.groupby("customer_id")["day"].diff().dt.days  # whole days; NaN for a customer's first day
    if by:
        cols = store.table("customers").select("customer_id", *by).execute()
        cols = cols.drop_duplicates("customer_id").set_index("customer_id")
    freq = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}[period]
    last = pd.Timestamp(hi).normalize()
    first = pd.Timestamp(pd.Timestamp(lo).normalize()).to_period(PERIODS[period]).start_time
    starts = pd.date_range(first, last, freq=freq)
    out = []
    for i, st in enumerate(starts):
        end = min(starts[i + 1] if i + 1 < len(starts) else st + pd.tseries.frequencies.to_offset(freq),
                  last + pd.Timedelta(days=1))
        upto = d[d["day"] < end]
        if upto.empty:
            continue
        gaps = upto["gap"].dropna()
        p_gap = float(gaps.quantile(quantile)) if len(gaps) else float("nan")
        per = upto.groupby("customer_id").agg(last_day=("day", "max"), n=("day", "size"), med=("gap", "median"))
        since = (end - per["last_day"]).dt.days
        limit = per["med"].mul(multiple).where(per["n"] > 1, p_gap)
        per["churned"] = since > limit  # no gap to judge by (NaN): not counted as churned
        if by:
            per = per.join(cols, how="left")
            per[list(by)] = per[list(by)].fillna("(none)")
            groups = per.groupby(list(by), sort=True)
        else:
            groups = per.assign(_all=1).groupby("_all")
        for key, g in groups:
            n, k = len(g), int(g["churned"].sum())
            low, high = wilson(k, n) if n else (None, None)
            key = key if isinstance(key, tuple) else (key,)
            out.append(ChurnPoint(label(period, st.to_pydatetime()), dict(zip(by, key, strict=False)) if by else {},
                                  n, k, 100.0 * k / n if n else None, low, high, "rule"))
    return out


def _p_alive_churn(store: Store, period: str, by: tuple[str, ...], lo: dt.datetime, hi: dt.datetime,
                   threshold: float, model: str | None) -> list[ChurnPoint]:
    from ..customers import rfm_summary
    from ..customers.scoring import fit_purchases, orders_frame, scored_model

    orders = orders_frame(store)
    if orders.empty:
        return []
    last_day = pd.Timestamp(hi).normalize()
    summaries: dict[pd.Timestamp, pd.DataFrame] = {}

    def upto(day: pd.Timestamp) -> pd.DataFrame:
        if day not in summaries:
            summaries[day] = rfm_summary(orders, unit="D", observation_end=day)
        return summaries[day]

    _, purchases, _ = fit_purchases(upto(last_day), model or scored_model(store))
    cols = store.table("customers").select("customer_id", *by).execute()
    cols = cols.set_index("customer_id").fillna("(none)") if by else None
    first_order = pd.Timestamp(orders["ordered_at"].min()).normalize()
    freq = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}[period]
    first = pd.Timestamp(lo).normalize()
    starts = pd.date_range(pd.Timestamp(first).to_period(PERIODS[period]).start_time, hi, freq=freq)
    out = []
    for i, st in enumerate(starts):
        before = st - pd.Timedelta(days=1)
        if before < first_order:
            continue  # nobody had bought before this period: no one could drop out of it
        nxt = starts[i + 1] if i + 1 < len(starts) else None
        day = min(nxt - pd.Timedelta(days=1), last_day) if nxt is not None else last_day
        s0, s1 = upto(before), upto(day)
        frame = pd.DataFrame({"p_end": purchases.probability_alive(s1), "bought": 1}, index=s1.index)
        frame["lost"] = frame["p_end"] < threshold
        frame["p_start"] = pd.Series(purchases.probability_alive(s0), index=s0.index)
        frame["before"] = frame["p_start"].notna()
        frame["p_start"] = frame["p_start"].fillna(0.0)
        frame["p_kept"] = frame["p_end"].where(frame["before"], 0.0)
        if by:
            frame = frame.join(cols, how="left").fillna({b: "(none)" for b in by})
            groups = frame.groupby(list(by), sort=True)
        else:
            groups = frame.assign(_all=1).groupby("_all")
        for key, g in groups:
            active, kept = float(g["p_start"].sum()), float(g["p_kept"].sum())
            dropped = max(0.0, active - kept)
            # the interval treats the expected counts as counts: approximate, and honest about the size
            low, high = wilson(min(dropped, active), active) if active > 0 else (None, None)
            key = key if isinstance(key, tuple) else (key,)
            out.append(ChurnPoint(label(period, st.to_pydatetime()), dict(zip(by, key, strict=False)) if by else {},
                                  round(active), round(dropped), 100.0 * dropped / active if active > 0 else None,
                                  low, high, "p_alive",
                                  int(g["lost"].sum()), int(g["bought"].sum())))
    return out
