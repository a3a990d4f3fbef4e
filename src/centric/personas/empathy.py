"""The empathy map of a group of customers — a persona or a segment — built from their rows.

Six cells, each a list of items and each item carrying the ids of the rows behind it:

- **says** — quotes: their texts nearest the group's centre (personal data masked), with source and id;
- **thinks** — the factors they mention, with how many customers mention each positively and negatively
  and the ids of the texts;
- **does** — behaviour from orders and events: orders per customer, preferred channels and categories,
  the stages they reach, with the ids of a few customers as examples;
- **feels** — emotions from the text pipeline (Plutchik's eight): the share of their texts that show
  each (probability at least 0.5), with the ids of those texts, the surest first;
- **pains** and **gains** — factors mentioned negatively / positively more often than by all customers
  (lift), with the ids of the texts.

A cell with thin evidence — fewer than ``THIN_CUSTOMERS`` customers, or, for the cells built from
texts (says, thinks, feels, pains, gains), fewer than ``THIN_TEXTS`` texts — is marked ``thin``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CentricError
from ..feelings import emotion_values
from ..store import Store
from ..text.emotions import EMOTIONS, PRESENT
from .cards import Personas, quotes_near
from .features import decode_path, texts_table

THIN_CUSTOMERS = 5
THIN_TEXTS = 10
EVIDENCE = 20  # ids kept per item
CELLS = ("says", "thinks", "does", "feels", "pains", "gains")
TEXT_CELLS = ("says", "thinks", "feels", "pains", "gains")


@dataclass
class Cell:
    name: str
    items: list[dict[str, Any]] = field(default_factory=list)
    customers: int = 0
    texts: int = 0
    thin: bool = False


@dataclass
class EmpathyMap:
    """``group``: what the map is of ("persona 2" or "segment vip"); ``title``: its name."""
    group: str
    title: str
    customers: int
    cells: dict[str, Cell]

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "title": self.title, "customers": self.customers,
                "cells": {k: {"items": c.items, "customers": c.customers, "texts": c.texts, "thin": c.thin}
                          for k, c in self.cells.items()}}

    def to_frame(self) -> pd.DataFrame:
        rows = [{"cell": k, "item": i.get("label"), "value": i.get("value"), "customers": c.customers,
                 "texts": c.texts, "thin": c.thin} for k, c in self.cells.items() for i in c.items]
        return pd.DataFrame(rows, columns=["cell", "item", "value", "customers", "texts", "thin"])


@dataclass
class Evidence:
    """The rows every map draws on, read once: ``mentions`` (source, text_id, customer_id, factor,
    sentiment — positive and negative only) and ``emotions`` (source, text_id, customer_id and one
    column per emotion) of the customers' texts."""
    mentions: pd.DataFrame
    emotions: pd.DataFrame

    def __post_init__(self):
        for f in (self.mentions, self.emotions):  # plain objects: Arrow strings are slow to group and filter
            for c in ("source", "text_id", "customer_id", "factor", "sentiment"):
                if c in f.columns:
                    f[c] = f[c].astype(object)
        self.counts = self.mentions.groupby(["factor", "sentiment"], as_index=False).agg(
            customers=("customer_id", "nunique"))


def evidence(store: Store, ids: list[str] | None = None) -> Evidence:
    """The mentions and emotions of the texts of the customers ``ids`` (all customers: None)."""
    texts = texts_table(store)
    if ids is not None:
        texts = texts.filter(texts.customer_id.isin(ids))
    m = store.table("mentions")
    m = m.filter(m.sentiment.isin(["negative", "positive"]))
    j = m.join(texts, [m.source == texts.source, m.text_id == texts.text_id])
    mentions = j.select(m.source, m.text_id, texts.customer_id, m.factor, m.sentiment).distinct().execute()
    ta = store.table("text_analyses")
    j = texts.join(ta, [texts.source == ta.source, texts.text_id == ta.text_id])
    emotions = j.select(texts.source, texts.text_id, texts.customer_id, **emotion_values(store, j.emotions)).execute()
    return Evidence(mentions, emotions)


def _ref(source: str, text_id: str, customer_id: str | None = None) -> dict[str, str]:
    out = {"source": str(source), "text_id": str(text_id)}
    if customer_id is not None:
        out["customer_id"] = str(customer_id)
    return out


def _refs(m: pd.DataFrame, keys: list[str]) -> tuple[dict, dict]:
    """Per ``keys`` group (rows of ``m`` in id order): the first ``EVIDENCE`` (source, text_id,
    customer_id) refs and the number of different texts."""
    refs: dict = {}
    counts: dict = {}
    seen: set = set()
    cols = [m[c].tolist() for c in (*keys, "source", "text_id", "customer_id")]
    for row in zip(*cols, strict=True):
        key = row[: len(keys)] if len(keys) > 1 else row[0]
        if (key, row[-3], row[-2]) in seen:
            continue
        seen.add((key, row[-3], row[-2]))
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= EVIDENCE:
            refs.setdefault(key, []).append(_ref(row[-3], row[-2], row[-1]))
    return refs, counts


def _lift_items(per: pd.DataFrame, refs: dict, counts: dict, all_counts: dict, n_writers: int,
                n_all_writers: int, sentiment: str, top: int = 5) -> list[dict[str, Any]]:
    out = []
    for (fac, sent), cust in per.items():
        if sent != sentiment:
            continue
        share = cust / max(n_writers, 1)
        share_all = all_counts.get((fac, sent), 0) / max(n_all_writers, 1)
        if share_all <= 0 or share <= share_all:
            continue
        out.append({"label": str(fac), "value": round(100 * share, 1), "customers": int(cust),
                    "share_all": round(100 * share_all, 1), "lift": round(share / share_all, 2),
                    "thin": bool(cust < THIN_CUSTOMERS),
                    "evidence": {"texts": refs.get((fac, sent), []), "total": int(counts.get((fac, sent), 0))}})
    return sorted(out, key=lambda x: (-x["lift"], x["label"]))[:top]


def empathy_maps(store: Store, result: Personas) -> list[EmpathyMap]:
    """The empathy map of every persona of ``result``, from one reading of the evidence."""
    ev = evidence(store)
    return [empathy_map(store, result, persona=p.number, ev=ev) for p in result.personas]


def empathy_map(store: Store, result: Personas, persona: str | int | None = None,
                segment: str | None = None, ev: Evidence | None = None) -> EmpathyMap:
    """The empathy map of persona ``persona`` (number or name) of ``result``, or of the customers of
    ``segment`` (``customers.segment``), described by the same features. ``ev``: the evidence of all
    customers, when it was read already (``evidence``)."""
    frame = result.features.frame
    frame = frame[[c for c in frame.columns if c in ("segment", "texts", "orders", "revenue", "gap_days", "path")
                   or c.startswith(("channel:", "category:"))]]
    if segment is not None:
        members = (frame["segment"] == segment).to_numpy()
        if not members.any():
            known = sorted(str(s) for s in frame["segment"].dropna().unique())
            raise CentricError(f"no customer in segment {segment!r} (segments: {', '.join(known) or 'none'})")
        group, title, quotes_of = f"segment {segment}", segment, None
    else:
        if persona is None:
            raise CentricError("name a persona (number or name) or a segment")
        p = result.persona(persona)
        members = (result.labels.reindex(frame.index).to_numpy() == p.number)
        group, title, quotes_of = f"persona {p.number}", p.name(), p
    sub = frame[members]
    ids = [str(i) for i in sub.index]
    n = len(ids)
    writers = int((sub["texts"] > 0).sum()) if "texts" in sub.columns else 0
    cells = {c: Cell(c) for c in CELLS}
    # says
    if quotes_of is not None:
        quotes = list(quotes_of.quotes)
    else:
        z = result.z.reindex(sub.index).fillna(0.0).to_numpy()
        zall = result.z.reindex(frame.index).fillna(0.0).to_numpy()
        quotes = quotes_near(store, frame, zall, z.mean(axis=0) if len(z) else np.zeros(zall.shape[1]), members, n=5)
    cells["says"].items = [{"label": q["text"], "language": q.get("language"),
                            "evidence": {"texts": [_ref(q["source"], q["text_id"], q["customer_id"])],
                                         "customers": [q["customer_id"]]}}
                           for q in quotes]
    # thinks, pains, gains
    ev = ev if ev is not None else evidence(store)
    allm = ev.counts
    mine = set(ids)
    m = ev.mentions[ev.mentions["customer_id"].isin(mine)]
    emo = ev.emotions[ev.emotions["customer_id"].isin(mine)]
    texts_mentioning = m[["source", "text_id"]].drop_duplicates()
    all_writers = int((frame["texts"] > 0).sum()) if "texts" in frame.columns else 0
    m = m.sort_values(["source", "text_id"], kind="stable")
    per = m.groupby(["factor", "sentiment"])["customer_id"].nunique()
    per_factor = m.groupby("factor")["customer_id"].nunique()
    refs, counts = _refs(m, ["factor", "sentiment"])
    frefs, fcounts = _refs(m, ["factor"])
    all_counts = {(r.factor, r.sentiment): int(r.customers) for r in allm.itertuples(index=False)}
    for fac, cust in per_factor.items():
        cells["thinks"].items.append({
            "label": str(fac), "value": int(cust), "positive": int(per.get((fac, "positive"), 0)),
            "negative": int(per.get((fac, "negative"), 0)), "thin": bool(cust < THIN_CUSTOMERS),
            "evidence": {"texts": frefs.get(fac, []), "total": int(fcounts.get(fac, 0))}})
    cells["thinks"].items.sort(key=lambda x: (-x["value"], x["label"]))
    cells["pains"].items = _lift_items(per, refs, counts, all_counts, writers, all_writers, "negative")
    cells["gains"].items = _lift_items(per, refs, counts, all_counts, writers, all_writers, "positive")
    # feels
    for e in EMOTIONS:
        if e not in emo.columns or not len(emo):
            continue
        v = emo[e].astype(float)
        analysed = v.notna()  # a placeholder answer carries no emotions
        shown = v.fillna(0.0) >= PRESENT
        if not shown.any():
            continue
        strong = emo[shown].assign(v=v[shown]).sort_values(["v", "text_id"], ascending=[False, True])
        cells["feels"].items.append({
            "label": e, "value": round(100 * float(shown.sum()) / max(int(analysed.sum()), 1), 1),
            "texts_with": int(shown.sum()), "thin": bool(shown.sum() < THIN_CUSTOMERS),
            "evidence": {"texts": [_ref(s, t, c) for s, t, c in zip(strong["source"], strong["text_id"],
                                                                     strong["customer_id"], strict=True)][:EVIDENCE],
                         "total": int(shown.sum())}})
    cells["feels"].items.sort(key=lambda x: (-x["value"], x["label"]))
    # does
    buyers = sub[sub["orders"] > 0] if "orders" in sub.columns else sub.iloc[:0]
    examples = [str(i) for i in buyers.sort_values(["orders", "revenue"], ascending=False, kind="stable").index[:EVIDENCE]]
    does = []
    if len(buyers):
        does.append({"label": "orders per customer", "kind": "orders", "value": round(float(buyers["orders"].mean()), 2),
                     "median": float(buyers["orders"].median()), "evidence": {"customers": examples, "total": len(buyers)}})
        if "gap_days" in buyers.columns and buyers["gap_days"].notna().any():
            does.append({"label": "days between purchases", "kind": "gap", "value": round(float(buyers["gap_days"].median()), 1),
                         "evidence": {"customers": [str(i) for i in buyers["gap_days"].dropna().index[:EVIDENCE]],
                                      "total": int(buyers["gap_days"].notna().sum())}})
        for kind in ("channel", "category"):
            cols = [c for c in buyers.columns if c.startswith(kind + ":")]
            w = buyers["orders"].to_numpy(dtype=np.float64)
            shares = sorted(((c, float((buyers[c].fillna(0) * w).sum() / w.sum())) for c in cols), key=lambda t: -t[1])
            for c, s in shares[:2]:
                if s <= 0:
                    continue
                who = buyers[buyers[c] > 0].index[:EVIDENCE]
                does.append({"label": f"{kind}: {c.partition(':')[2]}", "kind": kind, "key": c.partition(":")[2], "value": round(100 * s, 1),
                             "evidence": {"customers": [str(i) for i in who], "total": int((buyers[c] > 0).sum())}})
    if "path" in sub.columns and sub["path"].notna().any():
        vc = sub["path"].dropna().value_counts()
        vc = vc[vc == vc.max()].sort_index()
        who = sub.index[sub["path"] == vc.index[0]][:EVIDENCE]
        stages = [s for _, s in decode_path(float(vc.index[0]), result.features.stages)]
        does.append({"label": "path: " + " → ".join(stages), "kind": "path", "key": stages,
                     "value": round(100 * float(vc.iloc[0]) / float(sub["path"].notna().sum()), 1),
                     "evidence": {"customers": [str(i) for i in who], "total": int(vc.iloc[0])}})
    cells["does"].items = does
    # evidence counts and thinness
    for name, c in cells.items():
        if name == "does":
            c.customers, c.texts = len(buyers), 0
            c.thin = c.customers < THIN_CUSTOMERS
        else:
            c.customers = writers
            c.texts = (int(sub["texts"].sum()) if name == "says" else int(len(emo)) if name == "feels"
                       else int(len(texts_mentioning)))
            c.thin = c.customers < THIN_CUSTOMERS or c.texts < THIN_TEXTS
    return EmpathyMap(group, title, n, cells)
