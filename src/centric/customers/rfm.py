"""Orders → one row per customer with the statistics the purchase models read.

Columns as in lifetimes: ``frequency`` (repeat purchases: purchase days after the first; several
orders on one day count once), ``recency`` (first to last purchase day), ``T`` (first purchase day to
the end of the observation), ``monetary_value`` (mean spend of the repeat purchase days; 0 without
repeat purchases). Times are in days (``unit="D"``) or weeks (``unit="W"``: days / 7, so 213 days is
30.43 weeks, as in the published CDNOW summary). With ``calibration_end`` the statistics describe
the calibration period and ``frequency_holdout``, ``monetary_value_holdout`` and ``duration_holdout``
describe what followed it up to ``observation_end``.

>>> import pandas as pd
>>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
...                        "ordered_at": ["2025-01-01", "2025-01-01", "2025-01-11", "2025-01-05"],
...                        "amount": [10.0, 5.0, 30.0, 8.0]})
>>> rfm_summary(orders, observation_end="2025-01-21").to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
{'a': {'frequency': 1, 'recency': 10.0, 'T': 20.0, 'monetary_value': 30.0},
 'b': {'frequency': 0, 'recency': 0.0, 'T': 16.0, 'monetary_value': 0.0}}
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import CentricError

UNITS = {"D": 1.0, "W": 7.0}


def _day(v, name: str) -> pd.Timestamp | None:
    if v is None:
        return None
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError) as e:
        raise CentricError(f"{name}: cannot read {v!r} as a date") from e
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def rfm_summary(orders: pd.DataFrame, unit: str = "D", observation_end: dt.date | str | None = None,
                calibration_end: dt.date | str | None = None, customer_col: str = "customer_id",
                date_col: str = "ordered_at", amount_col: str | None = "amount") -> pd.DataFrame:
    """One row per customer (index ``customer_id``); see the module's description of the columns.
    ``observation_end`` defaults to the last order's day; orders after it are ignored."""
    if unit not in UNITS:
        raise CentricError(f"unknown time unit {unit!r}; use 'D' (days) or 'W' (weeks)")
    for c in (customer_col, date_col) + ((amount_col,) if amount_col else ()):
        if c not in orders.columns:
            raise CentricError(f"the orders have no column {c!r} (columns: {', '.join(map(str, orders.columns))})")
    days = pd.to_datetime(orders[date_col], errors="coerce", utc=True, format="mixed")
    if days.isna().any():
        i = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise CentricError(f"column {date_col!r}, row {i + 1}: cannot read {orders[date_col].iloc[i]!r} as a date")
    frame = pd.DataFrame({"c": orders[customer_col].to_numpy(),
                          "d": days.dt.tz_localize(None).dt.normalize().to_numpy(),
                          "v": orders[amount_col].to_numpy(dtype=np.float64) if amount_col else 0.0})
    frame = frame[frame["c"].notna()]
    end = _day(observation_end, "observation_end") or frame["d"].max()
    cal = _day(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise CentricError(f"calibration_end {cal:%Y-%m-%d} must come before observation_end {end:%Y-%m-%d}")
    frame = frame[frame["d"] <= end]
    # one row per customer and purchase day
    daily = frame.groupby(["c", "d"], sort=True, observed=True)["v"].sum().reset_index()
    cut = cal if cal is not None else end
    calib = daily[daily["d"] <= cut]
    g = calib.groupby("c", sort=True)
    first, last = g["d"].min(), g["d"].max()
    n_days, spend = g["d"].size(), g["v"].sum()
    first_spend = calib.loc[g["d"].idxmin(), ["c", "v"]].set_index("c")["v"]
    scale = UNITS[unit] * 86400e9  # nanoseconds per unit
    out = pd.DataFrame(index=first.index.rename("customer_id"))
    out["frequency"] = (n_days - 1).astype(np.int64)
    out["recency"] = ((last - first).to_numpy(dtype="timedelta64[ns]").astype(np.float64) / scale)
    out["T"] = ((cut - first).to_numpy(dtype="timedelta64[ns]").astype(np.float64) / scale)
    repeat = (spend - first_spend).to_numpy()
    out["monetary_value"] = np.where(out["frequency"] > 0, repeat / np.maximum(out["frequency"], 1), 0.0)
    if cal is not None:
        hold = daily[(daily["d"] > cal) & daily["c"].isin(out.index)]
        h = hold.groupby("c")
        out["frequency_holdout"] = h.size().reindex(out.index, fill_value=0).astype(np.int64)
        hv = h["v"].mean().reindex(out.index)
        out["monetary_value_holdout"] = hv.fillna(0.0)
        out["duration_holdout"] = (end - cal).days / UNITS[unit]
    out.attrs["unit"] = unit
    out.attrs["observation_end"] = str(end.date())
    if cal is not None:
        out.attrs["calibration_end"] = str(cal.date())
    return out


def calibration_table(model, summary: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Predicted against actual holdout purchases by calibration frequency (the Fader–Hardie chart):
    one row per frequency 0 … ``max_frequency`` (the last row gathers that and more) with the number of
    customers, the actual and predicted mean purchases in the holdout and their totals."""
    if "frequency_holdout" not in summary.columns:
        raise CentricError("the summary has no holdout: build it with rfm_summary(..., calibration_end=...)")
    t = summary["duration_holdout"].to_numpy(dtype=np.float64)
    if not np.allclose(t, t[0]):
        raise CentricError("the holdout must have one length for everyone")
    pred = model.expected_purchases(float(t[0]), summary)
    group = np.minimum(summary["frequency"].to_numpy(), max_frequency)
    frame = pd.DataFrame({"frequency": group, "actual": summary["frequency_holdout"].to_numpy(dtype=np.float64),
                          "predicted": pred})
    g = frame.groupby("frequency")
    out = pd.DataFrame({"customers": g.size(), "actual": g["actual"].mean(), "predicted": g["predicted"].mean(),
                        "actual_total": g["actual"].sum(), "predicted_total": g["predicted"].sum()})
    out.index = [f"{i}+" if i == max_frequency else str(i) for i in out.index]
    out.index.name = "frequency"
    return out


# -- the same summary computed by the store's engine (DuckDB, PostgreSQL or Spark), through Ibis ----------------
SECONDS_PER_DAY = 86400


def _daily(store, observation_end: dt.date | str | None = None):
    """(one row per customer and purchase day: ``customer_id``, ``day`` — whole days since 1970-01-01, UTC — and
    ``v``, the day's spend; the last day observed). Days come from epoch seconds (integer division), never from
    interval arithmetic; orders without a customer are left out, as ``rfm_summary`` leaves them out."""
    import ibis

    o = store.table("orders")
    o = o.filter(o.customer_id.notnull())
    day = (o.ordered_at.epoch_seconds().cast("int64") // SECONDS_PER_DAY).cast("int64")
    daily = (o.mutate(day=day).group_by(["customer_id", "day"])
             .aggregate(v=ibis.coalesce(o.amount.cast("float64").sum(), 0.0)))
    end = _day(observation_end, "observation_end")
    if end is None:
        last = daily.day.max().execute()
        if last is None or pd.isna(last):
            raise CentricError("there are no orders with a customer to summarise; load orders first "
                               "(centric ingest orders …)")
        end_day = int(last)
    else:
        end_day = int((end - pd.Timestamp("1970-01-01")).days)
    return daily.filter(daily.day <= end_day), end_day


def summary_table(store, observation_end: dt.date | str | None = None, unit: str = "D"):
    """``rfm_summary`` of the store's orders as an Ibis table computed by the store's engine — ``customer_id``,
    ``frequency``, ``recency``, ``T``, ``monetary_value`` — and the last day observed (a ``datetime.date``).
    Equal to ``rfm_summary(orders, unit, observation_end)`` of the same orders (the spend to floating-point
    rounding: the engines sum in another order)."""
    import ibis

    if unit not in UNITS:
        raise CentricError(f"unknown time unit {unit!r}; use 'D' (days) or 'W' (weeks)")
    daily, end_day = _daily(store, observation_end)
    first = daily.day.min().over(group_by=daily.customer_id)
    d = daily.mutate(first=first)
    per = d.group_by("customer_id").aggregate(
        n=d.count(), first=d.first.min(), last=d.day.max(), spend=d.v.sum(),
        first_spend=ibis.ifelse(d.day == d.first, d.v, 0.0).sum())
    scale = UNITS[unit]
    frequency = (per.n - 1).cast("int64")
    out = per.select(
        "customer_id",
        frequency=frequency,
        recency=(per["last"] - per["first"]).cast("float64") / scale,
        T=(ibis.literal(end_day, "int64") - per["first"]).cast("float64") / scale,
        monetary_value=ibis.ifelse(frequency > 0, (per.spend - per.first_spend) / frequency.cast("float64"), 0.0),
    )
    return out, (pd.Timestamp("1970-01-01") + pd.Timedelta(days=end_day)).date()


def store_summary(store, observation_end: dt.date | str | None = None, unit: str = "D") -> pd.DataFrame:
    """``summary_table`` read into a frame indexed and sorted by ``customer_id``, like ``rfm_summary``'s."""
    table, end = summary_table(store, observation_end, unit)
    df = table.execute().set_index("customer_id").sort_index()
    df["frequency"] = df["frequency"].astype(np.int64)
    df.attrs["unit"] = unit
    df.attrs["observation_end"] = str(end)
    return df


def grouped_summary(store, observation_end: dt.date | str | None = None, unit: str = "D") -> pd.DataFrame:
    """The sufficient statistics the purchase models fit on, grouped by the engine: one row per distinct
    (``frequency``, ``recency``, ``T``) with ``n``, its number of customers, sorted — what ``BetaGeo.fit(grouped,
    weights="n")`` reads, so that only these rows (at most customers × days, usually far fewer) leave the lake."""
    table, end = summary_table(store, observation_end, unit)
    df = (table.group_by(["frequency", "recency", "T"]).aggregate(n=table.count()).execute()
          .sort_values(["frequency", "recency", "T"]).reset_index(drop=True))
    df["frequency"] = df["frequency"].astype(np.int64)
    df["n"] = df["n"].astype(np.int64)
    df.attrs["unit"] = unit
    df.attrs["observation_end"] = str(end)
    return df
