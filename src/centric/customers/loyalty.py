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
    con = store.con
    only, params = "", []
    if customers is not None:
        only = f" AND customer_id IN ({', '.join('?' * len(customers))})" if customers else " AND false"
        params = list(customers)
    promoters = con.execute(f"""
        SELECT customer_id FROM (
            SELECT customer_id, nps, row_number() OVER (PARTITION BY customer_id ORDER BY responded_at DESC) AS k
            FROM responses WHERE customer_id IS NOT NULL AND nps IS NOT NULL AND responded_at <= ?{only})
        WHERE k = 1 AND nps >= 9""", [end.to_pydatetime(), *params]).fetchall()
    public = con.execute(f"""
        SELECT DISTINCT f.customer_id FROM feedback f
        LEFT JOIN text_analyses a ON a.source = 'feedback' AND a.text_id = f.feedback_id
        WHERE f.customer_id IS NOT NULL AND f.source IN ('review', 'social') AND coalesce(f.brand, 'ours') = 'ours'
          AND f.posted_at <= ?{only.replace('customer_id', 'f.customer_id')}
          AND (f.rating >= CASE WHEN f.rating > 5 THEN 9 ELSE 4 END OR a.sentiment = 'positive')""",
                         [end.to_pydatetime(), *params]).fetchall()
    return {r[0] for r in promoters} | {r[0] for r in public}


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
    con = store.con
    if not con.execute("SELECT count(*) FROM customer_scores").fetchall()[0][0]:
        raise CentricError("no scores yet: run centric customers score first")
    df = con.execute("""
        WITH s AS (SELECT customer_id, p_alive < ? AS lost FROM customer_scores
                   WHERE scored_at = (SELECT max(scored_at) FROM customer_scores)
                     AND (frequency > 0 OR model NOT LIKE 'bgnbd%')),
        said AS (
            SELECT r.customer_id, m.factor FROM mentions m JOIN responses r
                ON m.source = 'responses' AND m.text_id = r.response_id
            WHERE m.sentiment = 'negative' AND r.customer_id IS NOT NULL
            UNION
            SELECT f.customer_id, m.factor FROM mentions m JOIN feedback f
                ON m.source = 'feedback' AND m.text_id = f.feedback_id
            WHERE m.sentiment = 'negative' AND f.customer_id IS NOT NULL AND coalesce(f.brand, 'ours') = 'ours')
        SELECT d.factor, s.lost, count(DISTINCT d.customer_id) AS k
        FROM said d JOIN s USING (customer_id)
        GROUP BY d.factor, s.lost""", [threshold]).df()
    sizes = dict(con.execute("""SELECT p_alive < ?, count(*) FROM customer_scores
                               WHERE scored_at = (SELECT max(scored_at) FROM customer_scores)
                                 AND (frequency > 0 OR model NOT LIKE 'bgnbd%')
                               GROUP BY 1""",
                             [threshold]).fetchall())
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
