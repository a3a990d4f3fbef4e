"""What the scores mean for the business: RFM segments with plain names, loyalty phases and the flows
between them, and the reasons of customers now likely lost (the churn rate per period from P(alive)
is ``centric.metrics.churn``).

A customer is **lost** when their P(alive) is below the threshold (0.5) — in the RFM segments, the
churn reasons, the churn metric and the scores alike (``centric.customers.scoring.LOST_THRESHOLD``).

Loyalty phases (PRODUCT.md): **ordinary** (bought), **loyal** (repeat buyer and still active:
P(alive) ≥ 0.5), **advocate** (loyal and a promoter — latest NPS 9–10 — or wrote a positive public
review or post about us).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import CentricError
from ..metrics.periods import PERIODS
from ..metrics.stats import two_proportions
from ..store import Store
from .models import BetaGeo
from .rfm import rfm_summary
from .scoring import LOST_THRESHOLD, fit, orders_frame, scored_model

PHASES = ("ordinary", "loyal", "advocate")

# (name, rule on R and F scores 1–5); the first rule that matches names the segment. "lost" is not an
# RFM rule: it is P(alive) below the threshold, and comes before every rule (see rfm_segments).
SEGMENTS = (
    ("champions", lambda r, f: (r >= 4) & (f >= 4)),
    ("loyal", lambda r, f: (r == 3) & (f >= 4)),
    ("cannot lose them", lambda r, f: (r <= 2) & (f >= 4)),
    ("potential loyalists", lambda r, f: (r >= 4) & (f >= 2)),
    ("new", lambda r, f: (r >= 4) & (f <= 1)),
    ("need attention", lambda r, f: (r == 3) & (f >= 2)),
    ("promising", lambda r, f: r == 3),
    ("at risk", lambda r, f: (r == 2) & (f >= 2)),
    ("hibernating", lambda r, f: r <= 2),
)


def _score5(values: pd.Series, higher_is_better: bool = True) -> np.ndarray:
    """1–5 by quintile of rank (ties share the average rank)."""
    return _bins(values.rank(method="average", ascending=higher_is_better).to_numpy(), len(values), 5)


def _bins(rank: np.ndarray, n: int, k: int) -> np.ndarray:
    """1…k from ranks 1…n (lowest rank → 1)."""
    return np.clip(np.floor((rank - 1) / max(n, 1) * k) + 1, 1, k).astype(int)


def rfm_segments(summary: pd.DataFrame, p_alive: np.ndarray | pd.Series | None = None,
                 threshold: float = LOST_THRESHOLD) -> pd.DataFrame:
    """R, F and M scores 1–5 and a plain segment name per customer of an ``rfm_summary``. R is the
    time since the last purchase by quintile (shorter is better), F is 1 for one-time buyers and 2–5
    by quartile of repeat purchases, M the mean spend by quintile. With ``p_alive`` (one value per
    row, from the scores), customers below ``threshold`` are "lost" whatever their scores — the one
    definition of lost; without it nobody is called lost (RFM alone cannot tell), and the longest
    silent are "hibernating"."""
    silent = summary["T"] - summary["recency"]
    r = _score5(silent, higher_is_better=False)
    # one-time buyers are F = 1; repeat buyers 2–5 by quartile of their repeat purchases
    freq = summary["frequency"]
    f = np.ones(len(summary), dtype=int)
    rep = (freq > 0).to_numpy()
    if rep.any():
        f[rep] = 1 + _bins(freq[rep].rank(method="average").to_numpy(), int(rep.sum()), 4)
    m = _score5(summary["monetary_value"])
    name = np.full(len(summary), "hibernating", dtype=object)
    done = np.zeros(len(summary), dtype=bool)
    if p_alive is not None:
        done = np.asarray(p_alive, dtype=np.float64) < threshold
        name[done] = "lost"
    for seg, rule in SEGMENTS:
        hit = rule(r, f) & ~done
        name[hit] = seg
        done |= hit
    return pd.DataFrame({"r": r, "f": f, "m": m, "segment": name}, index=summary.index)


def _period_ends(first: dt.date, last: dt.date, period: str) -> list[pd.Timestamp]:
    if period not in PERIODS:
        raise CentricError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    freq = {"day": "D", "week": "W-SUN", "month": "ME", "quarter": "QE", "year": "YE"}[period]
    ends = [e for e in pd.date_range(first, last, freq=freq)]
    if not ends or ends[-1] < pd.Timestamp(last):
        ends.append(pd.Timestamp(last))
    return ends


def p_alive_at(model: BetaGeo, orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """P(alive) of every customer who had bought by ``end``, from the orders up to ``end``."""
    s = rfm_summary(orders, unit="D", observation_end=end)
    s["p_alive"] = model.probability_alive(s)
    return s


def advocates(store: Store, end: pd.Timestamp, customers: list[str] | None = None) -> set[str]:
    """Customers (all, or those of ``customers``) whose latest NPS up to ``end`` is 9–10, or who wrote a
    positive review/post about us."""
    import ibis

    if customers is not None and not customers:
        return set()
    end_at = pd.Timestamp(end).to_pydatetime()
    r = store.table("responses")
    r = r.filter(r.customer_id.notnull(), r.nps.notnull(), r.responded_at <= end_at)
    if customers is not None:
        r = r.filter(r.customer_id.isin(list(customers)))
    # the latest answer of each customer (of two at the same moment, the higher score: the same on every engine)
    w = ibis.window(group_by=r.customer_id, order_by=[ibis.desc(r.responded_at), ibis.desc(r.nps)])
    r = r.mutate(k=ibis.row_number().over(w))
    promoters = r.filter((r.k == 0) & (r.nps >= 9)).select("customer_id").execute()["customer_id"]
    f = store.table("feedback")
    a = store.table("text_analyses")
    a = a.filter(a.source == "feedback").select(aid=a.text_id, sent=a.sentiment)
    f = f.filter(f.customer_id.notnull(), f.source.isin(["review", "social"]), f.brand.fill_null("ours") == "ours",
                 f.posted_at <= end_at)
    if customers is not None:
        f = f.filter(f.customer_id.isin(list(customers)))
    j = f.left_join(a, f.feedback_id == a.aid)
    liked = (j.rating >= ibis.ifelse(j.rating > 5, 9, 4)) | (j.sent == "positive")
    public = j.filter(liked.fill_null(False)).select("customer_id").distinct().execute()["customer_id"]
    return set(promoters) | set(public)


def phases(frequency, p_alive, advocate, threshold: float = LOST_THRESHOLD) -> np.ndarray:
    """The loyalty phase of each customer: advocate (loyal and an advocate), loyal (a repeat buyer with
    P(alive) ≥ ``threshold``) or ordinary.

    >>> phases([2, 2, 0], [0.9, 0.9, 0.9], [True, False, True]).tolist()
    ['advocate', 'loyal', 'ordinary']
    """
    loyal = (np.asarray(frequency) > 0) & (np.asarray(p_alive, dtype=np.float64) >= threshold)
    return np.where(loyal & np.asarray(advocate, dtype=bool), "advocate", np.where(loyal, "loyal", "ordinary"))


def loyalty_phases(store: Store, period: str = "quarter",
                   threshold: float = LOST_THRESHOLD) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts, flows): customers per phase at each period end, and the number of customers moving from
    one phase to another between consecutive period ends (``from`` is "new" for first-time buyers). The
    purchase model is the latest scoring's (else the better-fitting one)."""
    orders = orders_frame(store)
    if orders.empty:
        raise CentricError("there are no orders with a customer; load orders first")
    _, bg, _ = fit(orders, spend=False, model=scored_model(store))
    days = pd.to_datetime(orders["ordered_at"])
    counts, flows = [], []
    before: pd.Series | None = None
    for end in _period_ends(days.min().date(), days.max().date(), period):
        s = p_alive_at(bg, orders, end)
        adv = s.index.isin(list(advocates(store, end)))
        phase = pd.Series(phases(s["frequency"], s["p_alive"], adv, threshold), index=s.index)
        counts.append({"period_end": end.date(), **{p: int((phase == p).sum()) for p in PHASES}})
        prev = before.reindex(phase.index).fillna("new") if before is not None else pd.Series("new", index=phase.index)
        moved = pd.crosstab(prev, phase).stack()
        for (a, b), n in moved.items():
            if n and a != b and before is not None:
                flows.append({"period_end": end.date(), "from": a, "to": b, "customers": int(n)})
        before = phase
    return pd.DataFrame(counts), pd.DataFrame(flows, columns=["period_end", "from", "to", "customers"])


def churn_reasons(store: Store, threshold: float = LOST_THRESHOLD, alpha: float = 0.05) -> pd.DataFrame:
    """For customers now likely lost (latest P(alive) < ``threshold``) against active ones: the share
    of each group who raised a factor negatively (in survey comments or feedback about us), the lift
    (lost share / active share) and a two-proportion z-test. Under BG/NBD one-time buyers are left out
    on both sides (the model cannot call them lost, so they would only swell the active side); under
    the modified BG/NBD everyone counts. Either way the lost side is every lost customer of the
    scores. Needs ``centric customers score`` and ``centric analyze``."""
    import ibis

    cs = store.table("customer_scores")
    last = cs.scored_at.max().execute()
    if last is None or pd.isna(last):
        raise CentricError("no scores yet: run centric customers score first")
    cs = cs.filter(cs.scored_at == pd.Timestamp(last).to_pydatetime(),
                   (cs.frequency > 0) | ~cs.model.like("bgnbd%"))
    s = cs.select("customer_id", lost=cs.p_alive < threshold)
    m = store.table("mentions")
    m = m.filter(m.sentiment == "negative")
    r = store.table("responses")
    r = r.filter(r.customer_id.notnull())
    f = store.table("feedback")
    f = f.filter(f.customer_id.notnull(), f.brand.fill_null("ours") == "ours")
    from_responses = m.join(r, (m.source == "responses") & (m.text_id == r.response_id)).select("customer_id", "factor")
    from_feedback = m.join(f, (m.source == "feedback") & (m.text_id == f.feedback_id)).select("customer_id", "factor")
    said = ibis.union(from_responses, from_feedback, distinct=True)
    d = said.join(s, "customer_id")
    df = d.group_by(["factor", "lost"]).aggregate(k=d.customer_id.nunique()).execute()
    n = cs.group_by(lost=cs.p_alive < threshold).aggregate(n=cs.count()).execute()
    sizes = {k: int(v) for k, v in zip(n["lost"], n["n"], strict=True) if k is not None and not pd.isna(k)}
    n_lost, n_active = sizes.get(True, 0), sizes.get(False, 0)
    rows = []
    for factor, g in df.groupby("factor"):
        k_lost = int(g.loc[g["lost"], "k"].sum())
        k_act = int(g.loc[~g["lost"], "k"].sum())
        p1 = k_lost / n_lost if n_lost else np.nan
        p0 = k_act / n_active if n_active else np.nan
        z, p = two_proportions(k_lost, n_lost, k_act, n_active)
        rows.append({"factor": factor, "lost_customers": k_lost, "lost_share": p1, "active_customers": k_act,
                     "active_share": p0, "lift": p1 / p0 if p0 else np.inf if p1 else np.nan, "z": z,
                     "p_value": p, "significant": bool(p < alpha and p1 > p0)})
    out = pd.DataFrame(rows, columns=["factor", "lost_customers", "lost_share", "active_customers", "active_share",
                                      "lift", "z", "p_value", "significant"])
    out.attrs.update(lost=n_lost, active=n_active)
    return out.sort_values(["significant", "lift"], ascending=False).reset_index(drop=True)
