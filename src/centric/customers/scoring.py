"""Scores in the store and the alerts drawn from them.

``score(store)`` fits BG/NBD and Gamma-Gamma to every customer's orders, and appends P(alive),
expected purchases and CLV per customer to ``customer_scores`` (with the parameters, the settings and
the model version), in one transaction. ``alerts(store)`` compares the latest scoring with the one
before: customers whose P(alive) fell below a threshold, ranked by value at risk, and valuable
customers who went quiet against their own rhythm.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import CentricError
from ..store import Store
from .models import MODEL_VERSION, BetaGeo, ConvergenceError, GammaGamma, ModifiedBetaGeo, discounted_value
from .rfm import rfm_summary

MODEL = f"bgnbd+gammagamma/{MODEL_VERSION}"
PURCHASE_MODELS = {"bgnbd": BetaGeo, "mbgnbd": ModifiedBetaGeo}


@dataclass
class Scoring:
    scored_at: dt.datetime
    as_of: dt.date
    customers: int
    purchases: BetaGeo
    spend: dict[str, GammaGamma]  # per currency
    scores: pd.DataFrame

    def summary(self) -> dict:
        s = self.scores
        return {"scored_at": self.scored_at.isoformat(timespec="seconds"), "as_of": str(self.as_of),
                "customers": self.customers, "bgnbd": self.purchases.params_,
                "gammagamma": {c: m.params_ for c, m in self.spend.items()
                               if all(np.isfinite(v) for v in m.params_.values())},
                "mean_p_alive": round(float(s["p_alive"].mean()), 4),
                "likely_lost": int((s["p_alive"] < 0.5).sum()),
                "clv_by_currency": {str(c): round(float(v), 2) for c, v in s.groupby("currency")["clv"].sum().items()}}

    def to_frame(self) -> pd.DataFrame:
        """One row per customer: P(alive), expected purchases, CLV and the figures behind them."""
        return self.scores.copy()

    def _repr_html_(self) -> str:
        from ..metrics.results import html_table

        p = self.purchases.params_
        return html_table(self.scores, f"Scores of {self.customers:,} customers as of {self.as_of}",
                          f": {type(self.purchases).__name__} r={p['r']:.3f} alpha={p['alpha']:.3f} "
                          f"a={p['a']:.3f} b={p['b']:.3f}")


def orders_frame(store: Store, as_of: dt.date | None = None) -> pd.DataFrame:
    sql = "SELECT customer_id, ordered_at, amount, currency FROM orders WHERE customer_id IS NOT NULL"
    params = []
    if as_of is not None:
        sql += " AND CAST(ordered_at AS DATE) <= ?"
        params.append(as_of)
    return store.con.execute(sql, params).df()


def fit(orders: pd.DataFrame, as_of: dt.date | None = None, spend: bool = True,
        model: str = "bgnbd") -> tuple[pd.DataFrame, BetaGeo, GammaGamma | None]:
    """The summary (in days), the fitted purchase model (BG/NBD, or MBG/NBD with ``model="mbgnbd"``)
    and (with ``spend``) Gamma-Gamma on all amounts."""
    if model not in PURCHASE_MODELS:
        raise CentricError(f"unknown purchase model {model!r}; use {' or '.join(PURCHASE_MODELS)}")
    if orders.empty:
        raise CentricError("there are no orders with a customer to score; load orders first (centric ingest orders …)")
    summary = rfm_summary(orders, unit="D", observation_end=as_of)
    return summary, PURCHASE_MODELS[model]().fit(summary), GammaGamma().fit(summary) if spend else None


def main_currency(orders: pd.DataFrame) -> pd.Series:
    """Each customer's currency: the one of most of their orders (ties: alphabetical)."""
    cur = orders["currency"].fillna("")
    counts = orders.assign(currency=cur).groupby(["customer_id", "currency"]).size().reset_index(name="n")
    counts = counts.sort_values(["customer_id", "n", "currency"], ascending=[True, False, True])
    return counts.drop_duplicates("customer_id").set_index("customer_id")["currency"]


def score(store: Store, horizon_days: int = 365, discount_rate: float = 0.01, as_of: dt.date | None = None,
          write: bool = True, model: str = "bgnbd") -> Scoring:
    """Fit the models on the store's orders up to ``as_of`` (default: the last order's day) and append
    one row per customer to ``customer_scores``. ``discount_rate`` is per month (30 days).

    The purchase rhythm (BG/NBD) is fitted once on every purchase day; spend (Gamma-Gamma) is fitted
    per currency, on the orders in each customer's main currency, so that amounts in PLN and EUR are
    never mixed. Everything is written in one transaction. ``model="mbgnbd"`` uses the modified BG/NBD,
    under which one-time buyers can be lost too."""
    if horizon_days < 30:
        raise CentricError("the horizon must be at least 30 days")
    orders = orders_frame(store, as_of)
    summary, bg, _ = fit(orders, as_of, spend=False, model=model)
    months = max(1, round(horizon_days / 30))
    end = summary.attrs["observation_end"]
    currency = main_currency(orders).reindex(summary.index)
    spend = np.zeros(len(summary))
    monetary = np.zeros(len(summary))
    models: dict[str, GammaGamma] = {}
    limits: dict[str, float] = {}  # currencies where the spend model fell back to the mean
    for cur in sorted(currency.unique()):
        who = (currency == cur).to_numpy()
        mine = orders[orders["customer_id"].isin(summary.index[who]) & (orders["currency"].fillna("") == cur)]
        sub = rfm_summary(mine, unit="D", observation_end=end).reindex(summary.index[who])
        sub = sub.fillna({"frequency": 0, "monetary_value": 0.0})
        monetary[who] = sub["monetary_value"].to_numpy()
        try:
            models[cur or "-"] = gg = GammaGamma().fit(sub)
            spend[who] = gg.expected_spend(sub)
        except ConvergenceError:
            # the model's limit when customers' mean spends do not differ beyond chance (q, γ → ∞):
            # everyone's expected spend is the group's mean spend per purchase day
            daily = mine.groupby(["customer_id", mine["ordered_at"].astype("datetime64[ns]").dt.normalize()])["amount"]
            mean = float(daily.sum().mean()) if len(mine) else 0.0
            models[cur or "-"] = GammaGamma.from_params(p=float("inf"), q=float("inf"), gamma=float("inf"))
            limits[cur or "-"] = mean
            spend[who] = mean
    p_alive = bg.probability_alive(summary)
    expected = bg.expected_purchases(float(horizon_days), summary)
    value = discounted_value(bg, summary, spend, months, discount_rate, unit="D")
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    last = store.con.execute("SELECT max(scored_at) FROM customer_scores").fetchall()[0][0]
    if last is not None and scored_at <= last:  # one value per scoring, in order, even within a microsecond
        scored_at = last + dt.timedelta(microseconds=1)
    day = pd.Timestamp(end).date()
    params = json.dumps({model: bg.params_, f"{model}_log_likelihood": bg.log_likelihood_,
                         "gammagamma": {c: m.params_ for c, m in models.items() if c not in limits},
                         "mean_spend_without_spread": limits, "unit": "D",
                         "horizon_days": horizon_days, "discount_rate_per_month": discount_rate,
                         "clv_months": months, "customers": len(summary)})
    out = pd.DataFrame({
        "customer_id": summary.index.astype(str), "scored_at": scored_at, "as_of": day,
        "frequency": summary["frequency"].to_numpy(), "recency_days": summary["recency"].to_numpy(),
        "age_days": summary["T"].to_numpy(), "monetary_value": monetary,
        "p_alive": p_alive, "expected_purchases": expected, "expected_spend": spend, "clv": value,
        "horizon_days": horizon_days, "currency": currency.replace("", None).to_numpy(),
        "model": MODEL.replace("bgnbd", model),
        "params": params,
    })
    if write:
        with store.transaction():
            store.con.register("_scores", out)
            try:
                cols = ", ".join(f'"{c}"' for c in out.columns)
                store.con.execute(f"INSERT INTO customer_scores ({cols}) SELECT {cols} FROM _scores")
            finally:
                store.con.unregister("_scores")
    return Scoring(scored_at, day, len(out), bg, models, out)


def latest(store: Store) -> pd.DataFrame:
    """The latest scoring's rows (empty when the store was never scored)."""
    return store.con.execute(
        "SELECT * FROM customer_scores WHERE scored_at = (SELECT max(scored_at) FROM customer_scores)").df()


def alerts(store: Store, threshold: float = 0.5, quiet_multiple: float = 2.0, valuable_share: float = 0.2,
           limit: int | None = None) -> pd.DataFrame:
    """Customers to call, from the latest scoring compared with the one before; see ``alerts_from``."""
    con = store.con
    times = [r[0] for r in con.execute(
        "SELECT DISTINCT scored_at FROM customer_scores ORDER BY scored_at DESC LIMIT 2").fetchall()]
    if not times:
        raise CentricError("no scores yet: run centric customers score first")
    cur = con.execute("SELECT * FROM customer_scores WHERE scored_at = ?", [times[0]]).df()
    prev = (con.execute("SELECT customer_id, p_alive FROM customer_scores WHERE scored_at = ?", [times[1]]).df()
            if len(times) > 1 else None)
    return alerts_from(cur, prev, threshold, quiet_multiple, valuable_share, limit)


def alerts_from(cur: pd.DataFrame, prev: pd.DataFrame | None, threshold: float = 0.5, quiet_multiple: float = 2.0,
                valuable_share: float = 0.2, limit: int | None = None) -> pd.DataFrame:
    """Customers to call, ranked by value at risk, from a scoring (``cur``, rows as in
    ``customer_scores``) and optionally the one before (``prev``: customer_id, p_alive):

    - ``p_alive_fell``: P(alive) is below ``threshold`` now and was at or above it before (with no
      earlier scoring: every repeat buyer below the threshold);
    - ``went_quiet``: among the most valuable customers (top ``valuable_share`` by spend so far), repeat
      buyers whose time since the last purchase exceeds ``quiet_multiple`` × their own mean gap.

    Value at risk = (1 − P(alive)) × the value of the horizon at the customer's own pace (spend per
    purchase × purchase days per day so far × horizon days). One row per customer; a customer with both
    reasons has them joined by "; ".
    """
    cur = cur.copy()
    if prev is not None:
        cur = cur.merge(prev.rename(columns={"p_alive": "p_alive_before"}), on="customer_id", how="left")
        fell = (cur["p_alive"] < threshold) & (cur["p_alive_before"] >= threshold)
    else:
        cur["p_alive_before"] = np.nan
        fell = (cur["p_alive"] < threshold) & (cur["frequency"] > 0)
    spent = cur["monetary_value"] * cur["frequency"]
    valuable = spent >= spent.quantile(1 - valuable_share) if len(cur) else spent > 0
    gap = cur["recency_days"] / cur["frequency"].where(cur["frequency"] > 0)
    silent = cur["age_days"] - cur["recency_days"]
    quiet = valuable & (cur["frequency"] >= 2) & (silent > quiet_multiple * gap)
    pace = (cur["frequency"] + 1) / cur["age_days"].clip(lower=1)
    cur["value_at_risk"] = (1 - cur["p_alive"]) * cur["expected_spend"] * pace * cur["horizon_days"]
    cur["days_silent"] = silent
    cur["usual_gap_days"] = gap
    reasons = np.where(fell & quiet, "p_alive_fell; went_quiet", np.where(fell, "p_alive_fell", "went_quiet"))
    cur["reason"] = reasons
    out = cur[fell | quiet].sort_values("value_at_risk", ascending=False)
    cols = ["customer_id", "reason", "value_at_risk", "p_alive", "p_alive_before", "clv", "frequency",
            "days_silent", "usual_gap_days", "monetary_value", "currency", "as_of"]
    out = out[cols].reset_index(drop=True)
    return out.head(limit) if limit else out
