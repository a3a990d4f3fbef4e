"""Persona cards: segments of customers found in what they do and what they say.

``personas(store)`` computes the features (``features``), standardises them and chooses the number
of personas (``cluster``), fits k-means and describes every persona:

- a plain name from its distinguishing features — the two (or more, to keep names apart) features
  whose mean z-score differs most from the customers' mean, each said in words ("frequent buyers",
  "delivery critics"); nothing is invented;
- its size, its share of the revenue and of the expected value (CLV of the latest scoring), each within
  the store's main currency (amounts in different currencies are never added);
- NPS with its 95% interval, the mean P(alive) and the share likely lost (P(alive) below 0.5);
- preferred channels (share of orders) and languages (share of customers);
- top pains and gains: factors its customers with texts mention negatively / positively more often than
  all customers with texts do (lift), with at least ``MIN_MENTIONS`` customers behind each;
- its most common journey path (the stages in the order first reached);
- three real quotes: texts of the customers nearest the persona's centre, with personal data masked
  (``centric.text.masking``), each with the ids of its row.

Customers without an order cannot be described by behaviour: they are counted in ``not_enough``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..customers.scoring import LOST_THRESHOLD
from ..errors import CentricError
from ..metrics.results import Score
from ..metrics.stats import nps_score
from ..store import Store
from ..text.masking import mask_personal
from . import cluster
from .features import Features, customer_features, decode_path

MIN_MENTIONS = 3
QUOTES = 3
QUOTE_WIDTH = 280
MIN_CUSTOMERS = 30  # fewer customers with orders: no personas

# feature → (phrase when high, phrase when low); None: not said in that direction. {x} is the value.
PHRASES: dict[str, tuple[str | None, str | None]] = {
    "orders": ("frequent buyers", "one-time buyers"),
    "revenue": ("big spenders", "small spenders"),
    "order_value": ("large baskets", "small baskets"),
    "days_silent": ("long silent", "recent buyers"),
    "tenure_days": ("long-standing customers", "newcomers"),
    "gap_days": ("slow to come back", "quick to come back"),
    "p_alive": ("likely to return", "drifting away"),
    "clv": ("high expected value", "low expected value"),
    "channel": ("{x} buyers", None),
    "category": ("buy {x}", None),
    "stage": ("reach {x}", "stop before {x}"),
    "nps": ("promoters", "detractors"),
    "csat": ("satisfied", "dissatisfied"),
    "ces": ("find it easy", "find it hard"),
    "pain": ("{x} critics", None),
    "gain": ("praise {x}", None),
    "emotion:joy": ("joyful", None),
    "emotion:anger": ("angry", None),
    "emotion:sadness": ("sad", None),
    "emotion:fear": ("worried", None),
    "emotion:surprise": ("surprised", None),
    "emotion:disgust": ("disgusted", None),
    "emotion:anticipation": ("eager", None),
    "emotion:trust": ("trusting", None),
}


def phrase_of(feature: str, high: bool) -> tuple[str, str | None, str] | None:
    """(phrase template, value for {x}, kind of feature) of a feature in a direction, or None when it is
    not said so."""
    kind, _, value = feature.partition(":")
    pair = PHRASES.get(feature) or PHRASES.get(kind)
    if pair is None:
        return None
    text = pair[0] if high else pair[1]
    if text is None:
        return None
    if kind == "stage":
        value = value.partition("/")[2] or value
    return text, (value or None), kind


@dataclass
class Persona:
    """One persona (see the module's description). ``number`` counts from 1, largest first."""
    number: int
    name_parts: list[tuple[str, str | None, str]]  # (phrase template, value, kind), most distinguishing first
    distinguishing: list[dict[str, Any]]  # feature, difference (z), mean here, mean of all
    customers: int
    share: float  # of the customers with enough data, %
    revenue_share: float | None  # %, main currency
    clv_share: float | None  # %, main currency of CLV
    nps: Score
    p_alive: float | None
    likely_lost: float | None  # %
    channels: list[tuple[str, float]]  # (channel, % of orders)
    languages: list[tuple[str, float]]  # (language, % of customers)
    pains: list[dict[str, Any]]  # factor, customers, share %, lift
    gains: list[dict[str, Any]]
    path: list[tuple[str, str]]  # (journey, stage) in order
    path_share: float | None  # % of the persona's customers with events who took it
    quotes: list[dict[str, Any]] = field(default_factory=list)  # text, source, text_id, customer_id, language

    def name(self, gettext: Callable[[str], str] | None = None, values: dict[str, str] | None = None) -> str:
        """The name in words, translated by ``gettext``; ``values`` renames the factors (ids → names)."""
        tr = gettext or (lambda s: s)
        values = values or {}
        parts = [tr(t).replace("{x}", values.get(v, "") if k in ("pain", "gain") and v in values
                               else (v or "").replace("_", " ")) for t, v, k in self.name_parts]
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]

    @property
    def slug(self) -> str:
        return str(self.number)


@dataclass
class Personas:
    """The personas of a store. ``labels``: customer id → persona number (0: not enough data)."""
    personas: list[Persona]
    selection: cluster.Selection
    seed: int
    not_enough: int
    customers: int
    labels: pd.Series
    features: Features = field(repr=False)
    z: pd.DataFrame = field(repr=False)  # unweighted z-scores, customers with enough data
    currency: str | None = None
    clv_currency: str | None = None

    @property
    def k(self) -> int:
        return self.selection.k

    def persona(self, key: str | int) -> Persona:
        """A persona by number or by (case-insensitive, English) name."""
        s = str(key).strip()
        for p in self.personas:
            if s == str(p.number) or s.lower() == p.name().lower():
                return p
        raise CentricError(f"no persona {s!r}: choose a number 1–{len(self.personas)} or one of "
                           + "; ".join(f"{p.number} {p.name()}" for p in self.personas))

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for p in self.personas:
            rows.append({"persona": p.number, "name": p.name(), "customers": p.customers, "share": p.share,
                         "revenue_share": p.revenue_share, "clv_share": p.clv_share, "nps": p.nps.value,
                         "nps_low": p.nps.low, "nps_high": p.nps.high, "nps_n": p.nps.n, "p_alive": p.p_alive,
                         "likely_lost": p.likely_lost,
                         "channels": ", ".join(c for c, _ in p.channels),
                         "languages": ", ".join(c for c, _ in p.languages),
                         "pains": ", ".join(x["factor"] for x in p.pains),
                         "gains": ", ".join(x["factor"] for x in p.gains),
                         "path": " → ".join(s for _, s in p.path)})
        return pd.DataFrame(rows).set_index("persona") if rows else pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        def num(v, d=2):
            return None if v is None or v != v else round(float(v), d)

        return {
            "k": self.k, "seed": self.seed, "customers": self.customers, "not_enough_data": self.not_enough,
            "currency": self.currency, "clv_currency": self.clv_currency,
            "selection": {"rule": self.selection.rule,
                          "table": [{k: num(v, 4) if k != "k" else int(v) for k, v in r.items()}
                                    for r in self.selection.table.to_dict("records")]},
            "personas": [{
                "number": p.number, "name": p.name(), "customers": p.customers, "share": num(p.share),
                "revenue_share": num(p.revenue_share), "clv_share": num(p.clv_share),
                "nps": {"value": num(p.nps.value, 1), "low": num(p.nps.low, 1), "high": num(p.nps.high, 1),
                        "n": p.nps.n},
                "p_alive": num(p.p_alive, 3), "likely_lost": num(p.likely_lost),
                "channels": [{"channel": c, "share": num(s)} for c, s in p.channels],
                "languages": [{"language": c, "share": num(s)} for c, s in p.languages],
                "distinguishing": [{k: num(v, 3) if isinstance(v, float) else v for k, v in d.items()}
                                   for d in p.distinguishing],
                "pains": [{k: num(v, 3) if isinstance(v, float) else v for k, v in x.items()} for x in p.pains],
                "gains": [{k: num(v, 3) if isinstance(v, float) else v for k, v in x.items()} for x in p.gains],
                "path": [{"journey": j, "stage": s} for j, s in p.path], "path_share": num(p.path_share),
                "quotes": p.quotes} for p in self.personas]}


def _name(diff: pd.Series, taken: set[str], most: int = 4) -> list[tuple[str, str | None, str]]:
    """The phrases of the most distinguishing features: two, or more (up to ``most``) until the name
    differs from those ``taken``."""
    parts: list[tuple[str, str | None, str]] = []
    for feat in diff.abs().sort_values(ascending=False, kind="stable").index:
        if abs(diff[feat]) < 0.1:
            break
        ph = phrase_of(feat, diff[feat] > 0)
        if ph is None or ph in parts:
            continue
        parts.append(ph)
        key = "|".join(f"{t}={v}" for t, v, _k in parts)
        if len(parts) >= 2 and key not in taken or len(parts) >= most:
            break
    return parts or [("customers", None, "")]


def _lifts(frame: pd.DataFrame, members: np.ndarray, kind: str) -> list[dict[str, Any]]:
    cols = [c for c in frame.columns if c.startswith(kind + ":")]
    wrote = frame["texts"].to_numpy() > 0
    here = members & wrote
    if not cols or not here.any():
        return []
    out = []
    for c in cols:
        v = frame[c].to_numpy(dtype=np.float64)
        n_here, n_all = int(v[here].sum()), int(v[wrote].sum())
        share_here, share_all = n_here / here.sum(), n_all / wrote.sum()
        if n_here >= MIN_MENTIONS and share_all > 0 and share_here > share_all:
            out.append({"factor": c.partition(":")[2], "customers": n_here, "share": 100 * share_here,
                        "share_all": 100 * share_all, "lift": share_here / share_all})
    return sorted(out, key=lambda x: (-x["lift"], x["factor"]))[:3]


def _share(values: pd.Series, keys: pd.Series, members: np.ndarray, currency: str | None) -> float | None:
    if currency is None:
        return None
    ok = (keys == currency).to_numpy()
    v = values.fillna(0).to_numpy(dtype=np.float64)
    total = v[ok].sum()
    return 100 * v[ok & members].sum() / total if total > 0 else None


def nearest_writers(frame: pd.DataFrame, z: np.ndarray, centre: np.ndarray, members: np.ndarray,
                    limit: int) -> list[str]:
    """The ids of up to ``limit`` members with analysed texts, nearest ``centre`` (in z-space) first."""
    idx = np.flatnonzero(members & (frame["texts"].to_numpy() > 0))
    if not len(idx):
        return []
    dist = ((z[idx] - centre) ** 2).sum(axis=1)
    return [str(i) for i in frame.index.to_numpy()[idx[np.lexsort((frame.index.to_numpy()[idx], dist))][:limit]]]


def pick_quotes(ids: list[str], texts: dict[str, dict[str, Any]], n: int = QUOTES,
                width: int = QUOTE_WIDTH) -> list[dict[str, Any]]:
    """Up to ``n`` texts of the customers ``ids`` in that order, one per customer, no two with the same
    words; personal data masked, cut to ``width`` characters."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for cid in ids:
        t = texts.get(cid)
        if t is None:
            continue
        key = "".join(ch for ch in t["text"].lower() if ch.isalnum())
        if key in seen:  # the same words from another customer say nothing new
            continue
        seen.add(key)
        text = mask_personal(t["text"], [t["name"]])
        if len(text) > width:
            text = text[: width - 1].rstrip() + "…"
        out.append({"text": text, "source": t["source"], "text_id": t["text_id"], "customer_id": cid,
                    "language": t["language"]})
        if len(out) >= n:
            break
    return out


def quotes_near(store: Store, frame: pd.DataFrame, z: np.ndarray, centre: np.ndarray, members: np.ndarray,
                n: int = QUOTES, width: int = QUOTE_WIDTH) -> list[dict[str, Any]]:
    """Up to ``n`` texts, one per customer, of the members nearest ``centre`` (in z-space) who wrote an
    analysed text that is not a placeholder nor a near-duplicate; personal data masked."""
    ids = nearest_writers(frame, z, centre, members, 20 * n)
    return pick_quotes(ids, candidate_texts(store, ids), n, width)


def candidate_texts(store: Store, customer_ids: list[str], min_chars: int = 20) -> dict[str, dict[str, Any]]:
    """Per customer: their longest analysed text (survey comment or feedback) of at least ``min_chars``
    characters, without flags (placeholders and near-duplicates are flagged), with their name."""
    import ibis

    if not customer_ids:
        return {}
    r, f, ta, c = (store.table(n) for n in ("responses", "feedback", "text_analyses", "customers"))
    a = r.filter(r.customer_id.isin(customer_ids) & r.comment.notnull()).select(
        source=ibis.literal("responses"), text_id=r.response_id, customer_id=r.customer_id, text=r.comment.cast("string"))
    b = f.filter(f.customer_id.isin(customer_ids) & f.text.notnull()).select(
        source=ibis.literal("feedback"), text_id=f.feedback_id, customer_id=f.customer_id, text=f.text.cast("string"))
    t = a.union(b)
    t = t.filter(t.text.length() >= min_chars)
    j = t.join(ta, [t.source == ta.source, t.text_id == ta.text_id]).filter(
        lambda x: ~x.flags.fill_null("[]").contains('"flag"'))
    j = j.select("source", "text_id", "customer_id", "text", "language")
    j = j.left_join(c.select("customer_id", "name"), "customer_id").select(
        "source", "text_id", "customer_id", "text", "language", "name")
    df = j.execute()
    if df.empty:
        return {}
    df["len"] = df["text"].str.len()
    df = df.sort_values(["customer_id", "len", "text_id"], ascending=[True, False, True]).drop_duplicates("customer_id")
    return {str(r.customer_id): {"text": str(r.text), "source": str(r.source), "text_id": str(r.text_id),
                                 "language": None if r.language is None or r.language != r.language else str(r.language),
                                 "name": None if r.name is None or r.name != r.name else str(r.name)}
            for r in df.itertuples(index=False)}


def personas(store: Store, k: int | None = None, seed: int = 0, ks=cluster.KS, sample: int = 2000,
             rounds: int = 3, features: Features | None = None, quotes: bool = True) -> Personas:
    """The personas of the store (see the module's description). ``k`` fixes their number (else it is
    chosen by ``cluster.choose_k`` over ``ks``); ``seed`` makes the result reproducible."""
    if k is not None and k < 2:
        raise CentricError(f"--k must be 2 or more (got {k})")
    feats = features if features is not None else customer_features(store)
    frame = feats.frame
    enough = frame["orders"].to_numpy() > 0 if "orders" in frame.columns else np.zeros(len(frame), bool)
    data = frame[enough]
    if len(data) < MIN_CUSTOMERS:
        raise CentricError(f"personas need at least {MIN_CUSTOMERS} customers with orders; the store has {len(data)}")
    x, z, cols = cluster.standardise(data, feats.groups)
    if k is not None:
        if k >= len(data):
            raise CentricError(f"--k {k} is not below the number of customers with orders ({len(data)})")
        sel = cluster.choose_k(x, ks=[k], seed=seed, sample=sample, rounds=rounds)
    else:
        sel = cluster.choose_k(x, ks=ks, seed=seed, sample=sample, rounds=rounds)
    labels, _ = cluster.fit(x, sel.k, seed=seed)
    zf = pd.DataFrame(z, index=data.index, columns=cols)
    clv_cur = None
    if "clv_currency" in data.columns and data["clv_currency"].notna().any():
        clv_cur = str(data.groupby("clv_currency")["clv"].sum().sort_values(ascending=False).index[0])
    cards: list[Persona] = []
    taken: set[str] = set()
    langs = data["language"].fillna("—")
    ch_cols = feats.groups.get("channels", [])
    # means per persona, computed once (z-scores and the raw columns of the distinguishing features)
    zmeans = pd.DataFrame(z, columns=cols).groupby(labels).mean() - z.mean(axis=0)
    raw = data[cols].groupby(labels).mean()
    raw_all = data[cols].mean()
    slim = data[[c for c in data.columns if not c.startswith(("category:", "stage:", "emotion:"))]]
    for i in range(sel.k):
        members = labels == i
        diff = zmeans.loc[i]
        parts = _name(diff, taken)
        taken.add("|".join(f"{t}={v}" for t, v, _k in parts))
        top = diff.abs().sort_values(ascending=False, kind="stable").index[:6]
        dist = [{"feature": c, "difference": float(diff[c]), "mean": float(raw.loc[i, c]),
                 "mean_all": float(raw_all[c])} for c in top]
        sub = slim[members]
        score = nps_score(int(sub["promoters"].sum()), int(sub["passives"].sum()), int(sub["detractors"].sum()))
        pa = sub["p_alive"].dropna() if "p_alive" in sub.columns else pd.Series(dtype=float)
        orders = sub["orders"].to_numpy(dtype=np.float64)
        channels = sorted(((c.partition(":")[2], 100 * float((sub[c].fillna(0) * orders).sum() / orders.sum()))
                           for c in ch_cols), key=lambda t: -t[1])
        lang = langs[members].value_counts(normalize=True)
        lang = lang.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        path, path_share = [], None
        if "path" in sub.columns and sub["path"].notna().any():
            vc = sub["path"].dropna().value_counts()
            vc = vc[vc == vc.max()].sort_index()
            path = decode_path(float(vc.index[0]), feats.stages)
            path_share = 100 * float(vc.iloc[0]) / float(sub["path"].notna().sum())
        cards.append(Persona(
            number=i + 1, name_parts=parts, distinguishing=dist, customers=int(members.sum()),
            share=100 * float(members.mean()),
            revenue_share=_share(data["revenue"], data["currency"], members, feats.currency) if "currency" in data else None,
            clv_share=_share(data["clv"], data["clv_currency"], members, clv_cur) if clv_cur else None,
            nps=score, p_alive=float(pa.mean()) if len(pa) else None,
            likely_lost=100 * float((pa < LOST_THRESHOLD).mean()) if len(pa) else None,
            channels=[c for c in channels if c[1] >= 1][:2], languages=[(str(a), 100 * float(b)) for a, b in lang.head(2).items()],
            pains=_lifts(slim, members, "pain"), gains=_lifts(slim, members, "gain"), path=path, path_share=path_share))
    if quotes:  # one query for every persona's candidates
        near = [nearest_writers(data, z, z[labels == i].mean(axis=0), labels == i, 20 * QUOTES) for i in range(sel.k)]
        texts = candidate_texts(store, sorted({c for ids in near for c in ids}))
        for card, ids in zip(cards, near, strict=True):
            card.quotes = pick_quotes(ids, texts)
    lab = pd.Series(0, index=frame.index, dtype=np.int64)
    lab[data.index] = labels + 1
    return Personas(cards, sel, seed, int((~enough).sum()), int(enough.sum()), lab, feats, zf, feats.currency,
                    clv_cur)
