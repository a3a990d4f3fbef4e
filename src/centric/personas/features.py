"""One row per customer with what they do and what they say, computed in the database through Ibis.

Behaviour (from ``orders``, ``customer_scores`` and ``events``):

- ``orders``, ``purchase_days``, ``revenue`` (in the customer's main currency: the one most of their
  spend is in), ``order_value`` (revenue / orders), ``days_silent`` (from the last order to the last
  order in the store), ``tenure_days`` (first order to that day), ``gap_days`` (mean days between
  purchase days, NaN for one purchase day);
- ``p_alive``, ``clv`` (and ``clv_currency``) of the latest stored scoring (NaN when never scored);
- ``channel:C`` — the share of the customer's orders in channel C (an order without a channel but with
  a store is a ``store`` order), for the most common channels;
- ``category:X`` — the share of orders in category X, for the most common categories;
- ``stage:J/S`` — 1 when the customer's events reached stage S of journey J, for the most common stages;
  ``path`` — the customer's stages in the order they first reached them (a code, see ``decode_path``).

Attitudes (from ``responses``, ``feedback``, ``text_analyses`` and ``mentions``):

- ``nps``, ``csat``, ``ces`` — mean answers; ``promoters``, ``passives``, ``detractors`` — counts of NPS answers;
- ``texts`` — analysed texts written by the customer;
- ``pain:F`` / ``gain:F`` — 1 when the customer mentioned factor F negatively / positively;
- ``emotion:E`` — the share of the customer's texts that show emotion E (probability at least 0.5 in
  ``text_analyses.emotions``; Plutchik's eight).

Everything is aggregated in the database (group by, conditional sums, a window function for the path);
only one row per customer comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from ..feelings.analysis import emotion_values, shown
from ..store import Store
from ..text.emotions import EMOTIONS

DAY = 86400.0
MAX_PATH = 12  # stages kept in a path code (base 16: exact in a double up to 13 positions)
BASE = 16


@dataclass
class Features:
    """``frame``: one row per customer (index ``customer_id``), columns as in the module's description.
    ``groups``: feature group → the clustering columns in it. ``stages``: path code digit → (journey,
    stage). ``currency``: the main currency of the store's revenue."""

    frame: pd.DataFrame
    groups: dict[str, list[str]] = field(default_factory=dict)
    stages: dict[int, tuple[str, str]] = field(default_factory=dict)
    currency: str | None = None
    as_of: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for cols in self.groups.values() for c in cols]

    def to_frame(self) -> pd.DataFrame:
        return self.frame


def decode_path(code: float, stages: dict[int, tuple[str, str]]) -> list[tuple[str, str]]:
    """The (journey, stage) sequence a path code stands for (first stage in the lowest digit)."""
    out = []
    c = int(code) if code == code else 0
    while c:
        c, d = divmod(c, BASE)
        if d in stages:
            out.append(stages[d])
    return out


def _top(t, col: str, n: int, where=None) -> list[str]:
    q = t.filter(t[col].notnull()) if where is None else t.filter(t[col].notnull() & where)
    df = q.group_by(col).aggregate(n=q.count()).order_by([ibis.desc("n"), col]).limit(n).execute()
    return [str(v) for v in df[col]]


def _orders(store: Store, top_channels: int, top_categories: int):
    """(per-customer orders expression, channels, categories, end of the data in epoch seconds)."""
    o = store.table("orders")
    o = o.filter(o.customer_id.notnull())
    o = o.mutate(ch=ibis.coalesce(o.channel, ibis.ifelse(o.store.notnull(), "store", None)),
                 at=o.ordered_at.epoch_seconds(), day=o.ordered_at.date())
    end = o.at.max().execute()
    if end is None or end != end:
        return None, [], [], None
    channels = _top(o, "ch", top_channels)
    categories = _top(o, "category", top_categories)
    aggs = {"orders": o.count(), "purchase_days": o.day.nunique(), "first_at": o.at.min(), "last_at": o.at.max()}
    for c in channels:
        aggs[f"channel:{c}"] = (o.ch == c).ifelse(1.0, 0.0).mean()
    for c in categories:
        aggs[f"category:{c}"] = (o.category == c).ifelse(1.0, 0.0).mean()
    per = o.group_by("customer_id").aggregate(**aggs)
    # revenue in the customer's main currency (amounts in different currencies are never added)
    cur = o.group_by(["customer_id", "currency"]).aggregate(revenue=o.amount.sum())
    cur = cur.mutate(rn=ibis.row_number().over(group_by="customer_id", order_by=[ibis.desc("revenue"), "currency"]))
    cur = cur.filter(cur.rn == 0).select(cid="customer_id", currency="currency", revenue="revenue")
    per = per.left_join(cur, per.customer_id == cur.cid).drop("cid")
    return per, channels, categories, float(end)


def _scores(store: Store):
    s = store.table("customer_scores")
    last = s.scored_at.max()
    q = s.filter(s.scored_at == last)
    return q.group_by("customer_id").aggregate(p_alive=q.p_alive.max(), clv=q.clv.max(), clv_currency=q.currency.max())


def _events(store: Store, top_stages: int):
    """(per-customer stages expression, path code digit → (journey, stage))."""
    e = store.table("events")
    e = e.filter(e.customer_id.notnull() & e.stage.notnull())
    e = e.mutate(journey=e.journey.fill_null(""), at=e.occurred_at.epoch_seconds())
    counts = (e.group_by(["journey", "stage"]).aggregate(n=e.customer_id.nunique())
              .order_by([ibis.desc("n"), "journey", "stage"]).limit(BASE - 1).execute())
    if counts.empty:
        return None, {}
    stages = {i + 1: (str(r.journey), str(r.stage)) for i, r in enumerate(counts.itertuples(index=False))}
    digit = ibis.cases(*[((e.journey == j) & (e.stage == s), d) for d, (j, s) in stages.items()], else_=0)
    firsts = e.mutate(d=digit).filter(lambda x: x.d > 0).group_by(["customer_id", "d"]).aggregate(at=lambda x: x.at.min())
    ranked = firsts.mutate(r=ibis.row_number().over(group_by="customer_id", order_by=["at", "d"]))
    ranked = ranked.filter(ranked.r < MAX_PATH)
    aggs = {"path": (ranked.d.cast("float64") * (ibis.literal(float(BASE)) ** ranked.r.cast("float64"))).sum()}
    for d, (j, s) in list(stages.items())[:top_stages]:
        aggs[f"stage:{j}/{s}"] = (ranked.d == d).ifelse(1.0, 0.0).max()
    return ranked.group_by("customer_id").aggregate(**aggs), stages


def _answers(store: Store):
    r = store.table("responses")
    r = r.filter(r.customer_id.notnull())
    return r.group_by("customer_id").aggregate(
        answers=r.count(), nps=r.nps.mean(), csat=r.csat.mean(), ces=r.ces.mean(),
        promoters=(r.nps >= 9).ifelse(1, 0).sum(), passives=((r.nps >= 7) & (r.nps <= 8)).ifelse(1, 0).sum(),
        detractors=(r.nps <= 6).ifelse(1, 0).sum())


def texts_table(store: Store):
    """Every customer's text as (source, text_id, customer_id): survey comments and feedback."""
    r, f = store.table("responses"), store.table("feedback")
    a = r.filter(r.customer_id.notnull() & r.comment.notnull()).select(
        source=ibis.literal("responses"), text_id=r.response_id, customer_id=r.customer_id)
    b = f.filter(f.customer_id.notnull() & f.text.notnull()).select(
        source=ibis.literal("feedback"), text_id=f.feedback_id, customer_id=f.customer_id)
    return a.union(b)


def _texts(store: Store, top_factors: int):
    """(per-customer texts and emotions expression, per-customer pains and gains expression or None, factors)."""
    texts = texts_table(store)
    ta = store.table("text_analyses")
    j = texts.join(ta, [texts.source == ta.source, texts.text_id == ta.text_id])
    aggs = {"texts": j.count()}
    for e, p in emotion_values(store, j.emotions).items():
        # the share of the customer's texts showing the emotion (p >= 0.5); a placeholder answer ({})
        # is null and left out
        # (1.0 or 0.0 by a condition: PostgreSQL has no cast from boolean to a float)
        aggs[f"emotion:{e}"] = shown(p).mean()
    per = j.group_by("customer_id").aggregate(**aggs)
    m = store.table("mentions")
    m = m.filter(m.sentiment.isin(["negative", "positive"]))
    mj = m.join(texts, [m.source == texts.source, m.text_id == texts.text_id])
    factors = _top(mj, "factor", top_factors)
    if not factors:
        return per, None, []
    aggs = {}
    for fac in factors:
        aggs[f"pain:{fac}"] = ((mj.factor == fac) & (mj.sentiment == "negative")).ifelse(1.0, 0.0).max()
        aggs[f"gain:{fac}"] = ((mj.factor == fac) & (mj.sentiment == "positive")).ifelse(1.0, 0.0).max()
    return per, mj.group_by("customer_id").aggregate(**aggs), factors


def customer_features(store: Store, top_channels: int = 4, top_categories: int = 8, top_stages: int = 8,
                      top_factors: int = 8) -> Features:
    """The features of every customer (see the module's description); customers without any order,
    answer or text are not in it. The parts are joined in the database and read in one query."""
    c = store.table("customers")
    orders, channels, categories, end = _orders(store, top_channels, top_categories)
    events, stages = _events(store, top_stages)
    texts, said, factors = _texts(store, top_factors)
    q = c.select("customer_id", "language", "segment")
    for part in (orders, _scores(store), events, _answers(store), texts, said):
        if part is not None:
            part = part.rename(cid_="customer_id")
            q = q.left_join(part, q.customer_id == part.cid_).drop("cid_")
    frame = q.execute()
    frame["customer_id"] = frame["customer_id"].astype(object)
    frame = frame.set_index("customer_id").sort_index()
    for col in ("orders", "purchase_days", "revenue", "answers", "texts", "promoters", "passives", "detractors"):
        if col in frame.columns:
            frame[col] = frame[col].fillna(0).astype(np.float64)
    for col in [x for x in frame.columns if x.startswith(("pain:", "gain:", "stage:"))]:
        frame[col] = frame[col].fillna(0.0).astype(np.float64)
    if orders is not None:
        last, first = frame.pop("last_at").astype(np.float64), frame.pop("first_at").astype(np.float64)
        frame["days_silent"] = (end - last) / DAY
        frame["tenure_days"] = (end - first) / DAY
        days = frame["purchase_days"].to_numpy(dtype=np.float64)
        frame["gap_days"] = np.where(days > 1, (last - first) / DAY / np.maximum(days - 1, 1), np.nan)
        frame["order_value"] = np.where(frame["orders"] > 0, frame["revenue"] / np.maximum(frame["orders"], 1), np.nan)
    for col in ("currency", "clv_currency", "language", "segment"):
        if col in frame.columns:
            frame[col] = frame[col].astype(object)
    has = (frame.get("orders", 0) > 0) | (frame.get("answers", 0) > 0) | (frame.get("texts", 0) > 0)
    frame = frame[has]
    groups = {
        "value": [c for c in ("orders", "revenue", "order_value", "days_silent", "tenure_days", "gap_days",
                              "p_alive", "clv") if c in frame.columns and frame[c].notna().any()],
        "channels": [f"channel:{c}" for c in channels],
        "categories": [f"category:{c}" for c in categories],
        "journeys": [c for c in frame.columns if c.startswith("stage:")],
        "scores": [c for c in ("nps", "csat", "ces") if c in frame.columns and frame[c].notna().any()],
        "pains": [f"pain:{f}" for f in factors],
        "gains": [f"gain:{f}" for f in factors],
        "emotions": [f"emotion:{e}" for e in EMOTIONS if f"emotion:{e}" in frame.columns
                     and frame[f"emotion:{e}"].fillna(0).gt(0).any()],
    }
    groups = {k: v for k, v in groups.items() if v}
    cur = None
    if "currency" in frame.columns and frame["currency"].notna().any():
        cur = str(frame.groupby("currency")["orders"].sum().sort_values(ascending=False).index[0])
    as_of = pd.Timestamp(end, unit="s").strftime("%Y-%m-%d") if end is not None else None
    return Features(frame, groups, stages, cur, as_of)
