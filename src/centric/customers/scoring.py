"""Scores in the store and the alerts drawn from them.

``score(store)`` fits the purchase rhythm (BG/NBD or the modified BG/NBD, whichever fits the orders
better) and Gamma-Gamma spend to every customer's orders, and appends P(alive), expected purchases and
CLV per customer to ``customer_scores`` (with the parameters, the settings, the model version and a
fingerprint of the orders scored), in one transaction. ``alerts(store)`` compares the latest scoring
with the latest earlier scoring of *other* data (an earlier day, or orders that changed since):
customers whose P(alive) fell below the threshold, and valuable customers who went quiet against their
own rhythm, ranked by value at risk within each currency (or across currencies at stated rates).

One definition of a lost customer serves every view: P(alive) below :data:`LOST_THRESHOLD` (0.5)
in the latest scoring.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from ..errors import CentricError
from ..store import Store
from .models import MODEL_VERSION, BetaGeo, ConvergenceError, GammaGamma, ModifiedBetaGeo, discounted_value
from .rfm import rfm_summary

MODEL = f"bgnbd+gammagamma/{MODEL_VERSION}"
PURCHASE_MODELS = {"bgnbd": BetaGeo, "mbgnbd": ModifiedBetaGeo}
MODEL_CHOICES = ("auto", *PURCHASE_MODELS)
MODEL_NAMES = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}
LOST_THRESHOLD = 0.5  # P(alive) below this: the customer counts as lost, in every view


@dataclass
class Scoring:
    scored_at: dt.datetime
    as_of: dt.date
    customers: int
    purchases: BetaGeo
    spend: dict[str, GammaGamma]  # per currency
    scores: pd.DataFrame
    model: str = "bgnbd"  # the purchase model used: bgnbd or mbgnbd
    log_likelihoods: dict[str, float] | None = None  # of each model fitted, when the choice was automatic

    def summary(self) -> dict:
        s = self.scores
        return {"scored_at": self.scored_at.isoformat(timespec="seconds"), "as_of": str(self.as_of),
                "customers": self.customers, "model": self.model, "params": self.purchases.params_,
                "log_likelihood": self.purchases.log_likelihood_,
                "model_selection": self.log_likelihoods,
                "gammagamma": {c: m.params_ for c, m in self.spend.items()
                               if all(np.isfinite(v) for v in m.params_.values())},
                "mean_p_alive": round(float(s["p_alive"].mean()), 4),
                "lost_threshold": LOST_THRESHOLD,
                "likely_lost": int((s["p_alive"] < LOST_THRESHOLD).sum()),
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
    """The orders with a customer (up to the day ``as_of``), in a fixed order whatever the engine: by
    customer, time, amount and currency (so that sums of amounts come out the same)."""
    o = store.table("orders")
    o = o.filter(o.customer_id.notnull())
    if as_of is not None:
        o = o.filter(o.ordered_at.date() <= as_of)
    cols = ["customer_id", "ordered_at", "amount", "currency"]
    df = o.select(*cols).execute()
    return df.sort_values(cols, kind="stable", na_position="last").reset_index(drop=True)


def fit_purchases(summary: pd.DataFrame, model: str = "auto",
                  weights: str | None = None) -> tuple[str, BetaGeo, dict[str, float] | None]:
    """(name, fitted model, log-likelihoods) of the purchase model. ``"auto"`` fits BG/NBD and the
    modified BG/NBD and keeps the one with the higher log-likelihood — both have four parameters, so
    this is also the lower BIC — preferring MBG/NBD on a tie (it lets one-time buyers drop out).
    ``weights`` names a column of counts when the summary is grouped (``rfm.grouped_summary``)."""
    if model not in MODEL_CHOICES:
        raise CentricError(f"unknown purchase model {model!r}; use {', '.join(MODEL_CHOICES)}")
    if model != "auto":
        return model, PURCHASE_MODELS[model]().fit(summary, weights=weights), None
    fits: dict[str, BetaGeo] = {}
    error: ConvergenceError | None = None
    for name, cls in PURCHASE_MODELS.items():
        try:
            fits[name] = cls().fit(summary, weights=weights)
        except ConvergenceError as e:
            error = e
    if not fits:
        assert error is not None
        raise error
    best = max(fits, key=lambda k: (fits[k].log_likelihood_, k == "mbgnbd"))
    return best, fits[best], {k: float(m.log_likelihood_) for k, m in fits.items()}


def fit(orders: pd.DataFrame, as_of: dt.date | None = None, spend: bool = True,
        model: str = "auto") -> tuple[pd.DataFrame, BetaGeo, GammaGamma | None]:
    """The summary (in days), the fitted purchase model (``"auto"``: BG/NBD or MBG/NBD, whichever has
    the higher likelihood; or the one named) and (with ``spend``) Gamma-Gamma on all amounts."""
    if orders.empty:
        raise CentricError("there are no orders with a customer to score; load orders first (centric ingest orders …)")
    summary = rfm_summary(orders, unit="D", observation_end=as_of)
    _, purchases, _ = fit_purchases(summary, model)
    return summary, purchases, GammaGamma().fit(summary) if spend else None


def scored_model(store: Store) -> str:
    """The purchase model of the latest scoring (bgnbd or mbgnbd), or ``"auto"`` before any scoring:
    what the churn rate and the loyalty phases use, so that they count lost customers as the scores do."""
    cs = store.table("customer_scores")
    row = cs.order_by(cs.scored_at.desc()).limit(1).select("model").execute()
    name = str(row["model"].iloc[0]).split("+")[0] if len(row) else "auto"
    return name if name in PURCHASE_MODELS else "auto"


def fingerprint(orders: pd.DataFrame) -> str:
    """A short hash of the orders scored (customer, time, amount, currency): two scorings with the
    same fingerprint and day saw the same data."""
    cols = ["customer_id", "ordered_at", "amount", "currency"]
    frame = orders[cols].assign(currency=orders["currency"].fillna("")).sort_values(cols).reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()[:16]


def main_currency(orders: pd.DataFrame) -> pd.Series:
    """Each customer's currency: the one of most of their orders (ties: alphabetical)."""
    cur = orders["currency"].fillna("")
    counts = orders.assign(currency=cur).groupby(["customer_id", "currency"]).size().reset_index(name="n")
    counts = counts.sort_values(["customer_id", "n", "currency"], ascending=[True, False, True])
    return counts.drop_duplicates("customer_id").set_index("customer_id")["currency"]


def score(store: Store, horizon_days: int = 365, discount_rate: float = 0.01, as_of: dt.date | None = None,
          write: bool = True, model: str = "auto") -> Scoring:
    """Fit the models on the store's orders up to ``as_of`` (default: the last order's day) and append
    one row per customer to ``customer_scores``. ``discount_rate`` is per month (30 days).

    The purchase rhythm is fitted once on every purchase day; spend (Gamma-Gamma) is fitted
    per currency, on the orders in each customer's main currency, so that amounts in PLN and EUR are
    never mixed. Everything is written in one transaction. ``model``: ``"auto"`` (default) fits BG/NBD
    and the modified BG/NBD (under which one-time buyers can be lost too) and keeps the one with the
    higher likelihood; ``"bgnbd"`` or ``"mbgnbd"`` forces one."""
    if horizon_days < 30:
        raise CentricError("the horizon must be at least 30 days")
    if getattr(store, "engine", "duckdb") == "postgresql":
        # the same scoring in a scratch DuckDB store holding the orders and the latest scoring (which the new
        # one must follow in time); the new rows go into PostgreSQL with COPY (centric.engines.scratch)
        from ..engines.scratch import scratch

        latest_only = "scored_at = (SELECT max(scored_at) FROM customer_scores)"
        with scratch(store, tables=["orders", "customer_scores"], filters={"customer_scores": latest_only}) as s:
            return score(s.store, horizon_days=horizon_days, discount_rate=discount_rate, as_of=as_of, write=write,
                         model=model)
    orders = orders_frame(store, as_of)
    if orders.empty:
        raise CentricError("there are no orders with a customer to score; load orders first (centric ingest orders …)")
    summary = rfm_summary(orders, unit="D", observation_end=as_of)
    model, bg, lls = fit_purchases(summary, model)
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
                         "model_selection": lls, "orders": len(orders), "data": fingerprint(orders),
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
    return Scoring(scored_at, day, len(out), bg, models, out, model, lls)


def latest(store: Store) -> pd.DataFrame:
    """The latest scoring's rows (empty when the store was never scored)."""
    cs = store.table("customer_scores")
    last = cs.scored_at.max().execute()
    if last is None or pd.isna(last):
        return cs.limit(0).execute()
    return _by_customer(cs.filter(cs.scored_at == pd.Timestamp(last).to_pydatetime()).execute())


def _by_customer(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of their customer ids, whatever order the engine returned them in."""
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _scorings(store: Store) -> pd.DataFrame:
    """One row per stored scoring, newest first: scored_at, as_of, model, and the fingerprint of the
    orders it saw (None for scorings stored before fingerprints were kept)."""
    cs = store.table("customer_scores")
    df = cs.group_by("scored_at").aggregate(as_of=cs.as_of.min(), model=cs.model.min(), params=cs.params.min()
                                            ).order_by(ibis.desc("scored_at")).execute()
    df["data"] = [json.loads(p).get("data") if p else None for p in df["params"]]
    return df.drop(columns="params")


def baseline(store: Store) -> tuple[dt.datetime, dt.datetime | None]:
    """(latest scoring, the scoring its alerts compare with). The baseline is the newest earlier scoring
    with the same model of *other data*: an earlier day, or the same day with other orders. A scoring
    repeated on unchanged data is not a baseline, so scoring twice gives the same alerts."""
    runs = _scorings(store)
    if runs.empty:
        raise CentricError("no scores yet: run centric customers score first")
    cur = runs.iloc[0]
    for r in runs.iloc[1:].itertuples(index=False):
        if r.model != cur["model"] or r.as_of > cur["as_of"]:
            continue
        if r.as_of < cur["as_of"] or (r.data is not None and cur["data"] is not None and r.data != cur["data"]):
            return cur["scored_at"], r.scored_at
    return cur["scored_at"], None


def alerts(store: Store, threshold: float = LOST_THRESHOLD, quiet_multiple: float = 2.0, valuable_share: float = 0.2,
           limit: int | None = None, convert_to: str | None = None, rates: dict[str, float] | None = None,
           contact: bool = True) -> pd.DataFrame:
    """Customers to call, from the latest scoring compared with its baseline (see :func:`baseline` and
    :func:`alerts_from`), with each customer's name, e-mail and phone (``contact``)."""
    now, before = baseline(store)
    cs = store.table("customer_scores")

    def scoring(at):
        return cs.filter(cs.scored_at == pd.Timestamp(at).to_pydatetime())

    cur = _by_customer(scoring(now).execute())
    prev = _by_customer(scoring(before).select("customer_id", "p_alive").execute()) if before is not None else None
    out = alerts_from(cur, prev, threshold, quiet_multiple, valuable_share, limit, convert_to, rates)
    out.attrs["baseline"] = before
    out.attrs["baseline_as_of"] = _day(scoring(before).as_of.min().execute()) if before is not None else None
    return with_contacts(store, out) if contact else out


def _day(v) -> dt.date | None:
    """A day from a query (a date or a timestamp, as the engine returns it), None for a missing one."""
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def with_contacts(store: Store, alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts with ``name``, ``email`` and ``phone`` after ``customer_id`` (several e-mails or
    phones of one customer joined by "; ", in the order they were first seen)."""
    ids = set(alerts["customer_id"])
    names = store.table("customers").select("customer_id", "name").execute()
    names = names[names["customer_id"].isin(ids)].set_index("customer_id")["name"]
    idt = store.table("identities")
    ident = idt.filter(idt.kind.isin(["email", "phone"])).select("customer_id", "kind", "value", "first_seen_at")
    ident = ident.execute()
    ident = ident[ident["customer_id"].isin(ids)].sort_values(["first_seen_at", "value"])
    joined = ident.groupby(["customer_id", "kind"], sort=False)["value"].agg("; ".join).unstack("kind")
    out = alerts.copy()
    at = list(out.columns).index("customer_id") + 1
    for i, (col, values) in enumerate((("name", names), ("email", joined.get("email")), ("phone", joined.get("phone")))):
        v = out["customer_id"].map(values) if values is not None else None
        out.insert(at + i, col, v if v is not None else pd.Series([None] * len(out), index=out.index, dtype=object))
    out.attrs.update(alerts.attrs)
    return out


def convert(amounts: pd.Series, currencies: pd.Series, to: str, rates: dict[str, float]) -> pd.Series:
    """Amounts in ``to`` at the stated ``rates`` (units of ``to`` for one unit of each currency); a
    currency without a rate is an error naming it, never a silent 1:1."""
    to = to.upper()
    table = {k.upper(): float(v) for k, v in (rates or {}).items()}
    table[to] = 1.0
    missing = sorted({str(c) for c in currencies.fillna("(none)")} - set(table))
    if missing:
        raise CentricError(f"no exchange rate to {to} for {', '.join(missing)}: add --rate "
                           + " --rate ".join(f"{c}=…" for c in missing) + f" (units of {to} for one unit)")
    bad = [k for k, v in table.items() if not np.isfinite(v) or v <= 0]
    if bad:
        raise CentricError(f"the exchange rate for {', '.join(bad)} must be a positive number")
    return amounts * currencies.fillna("(none)").map(table)


def alerts_from(cur: pd.DataFrame, prev: pd.DataFrame | None, threshold: float = LOST_THRESHOLD,
                quiet_multiple: float = 2.0, valuable_share: float = 0.2, limit: int | None = None,
                convert_to: str | None = None, rates: dict[str, float] | None = None) -> pd.DataFrame:
    """Customers to call, ranked by value at risk, from a scoring (``cur``, rows as in
    ``customer_scores``) and optionally its baseline (``prev``: customer_id, p_alive):

    - ``p_alive_fell``: P(alive) is below ``threshold`` now and was at or above it before (with no
      baseline: every repeat buyer below the threshold);
    - ``went_quiet``: among the most valuable customers (top ``valuable_share`` by spend so far, within
      their currency), repeat buyers whose time since the last purchase exceeds ``quiet_multiple`` ×
      their own mean gap.

    Value at risk = (1 − P(alive)) × the value of the horizon at the customer's own pace (spend per
    purchase × purchase days per day so far × horizon days), in the customer's currency. Amounts in
    different currencies are never compared: ``rank`` counts within each currency (the currency with
    the most alerts first; ``limit`` keeps the first ``limit`` of each), unless ``convert_to`` names a currency and ``rates`` gives one rate per
    other currency — then ``converted_value_at_risk`` (in ``converted_currency``, at ``rate``) ranks
    everyone together. One row per customer; a customer with both reasons has them joined by "; "."""
    cur = cur.copy()
    if prev is not None:
        cur = cur.merge(prev.rename(columns={"p_alive": "p_alive_before"}), on="customer_id", how="left")
        fell = (cur["p_alive"] < threshold) & (cur["p_alive_before"] >= threshold)
    else:
        cur["p_alive_before"] = np.nan
        fell = (cur["p_alive"] < threshold) & (cur["frequency"] > 0)
    spent = cur["monetary_value"] * cur["frequency"]
    # the most valuable within each currency: 1,000 PLN and 1,000 EUR are not the same spend
    top = spent.groupby(cur["currency"].fillna("")).transform(lambda v: v.quantile(1 - valuable_share))
    valuable = spent >= top
    gap = cur["recency_days"] / cur["frequency"].where(cur["frequency"] > 0)
    silent = cur["age_days"] - cur["recency_days"]
    quiet = valuable & (cur["frequency"] >= 2) & (silent > quiet_multiple * gap)
    pace = (cur["frequency"] + 1) / cur["age_days"].clip(lower=1)
    cur["value_at_risk"] = (1 - cur["p_alive"]) * cur["expected_spend"] * pace * cur["horizon_days"]
    cur["days_silent"] = silent
    cur["usual_gap_days"] = gap
    reasons = np.where(fell & quiet, "p_alive_fell; went_quiet", np.where(fell, "p_alive_fell", "went_quiet"))
    cur["reason"] = reasons
    out = cur[fell | quiet].copy()
    out["currency"] = out["currency"].astype(object).where(out["currency"].notna(), None)
    cols = ["customer_id", "reason", "currency", "value_at_risk", "p_alive", "p_alive_before", "clv", "frequency",
            "days_silent", "usual_gap_days", "monetary_value", "as_of"]
    if convert_to:
        out["converted_value_at_risk"] = convert(out["value_at_risk"], out["currency"], convert_to, rates or {})
        out["converted_currency"] = convert_to.upper()
        out["rate"] = out["converted_value_at_risk"] / out["value_at_risk"].where(out["value_at_risk"] != 0)
        out = out.sort_values(["converted_value_at_risk", "customer_id"], ascending=[False, True])
        out["rank"] = np.arange(1, len(out) + 1)
        cols += ["converted_value_at_risk", "converted_currency", "rate"]
    else:
        key = out["currency"].fillna("")
        order = key.value_counts()
        out["_n"], out["_cur"] = -key.map(order), key
        out = out.sort_values(["_n", "_cur", "value_at_risk", "customer_id"], ascending=[True, True, False, True])
        out["rank"] = out.groupby("_cur", sort=False).cumcount() + 1
    out = out[["rank", *cols]].reset_index(drop=True)
    return top_per_currency(out, limit) if limit else out


def top_per_currency(alerts: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` alerts of each currency (ranked within it), or the first ``n`` overall when the
    alerts were converted to one currency."""
    if "converted_currency" in alerts.columns:
        return alerts.head(n)
    return alerts[alerts["rank"] <= n]
