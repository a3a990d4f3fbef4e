"""One factor up close — what the action matrix opens on a click: what customers said about it (quotes)
and its open cases, in the same selection (period, brand, ``where``) as the matrix.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     d = factor_detail(s, "delivery")
>>> d.factor, d.mentions, d.quotes, d.cases
('delivery', 0, [], [])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from ..metrics.complaints import opened_in
from ..metrics.filters import CUSTOMER_COLUMNS, Where, normalise
from ..store import Store
from .analysis import FILTER_COLUMNS, OURS, mentions_frame

__all__ = ["FactorDetail", "factor_detail"]

CASE_LIMIT = 50


@dataclass(frozen=True)
class FactorDetail:
    """``quotes``: (text, sentiment, language) of the most telling sentences, personal data masked, the negative ones first;
    ``cases``: the factor's open cases (case_id, customer_id, department, owner, status, priority,
    opened_at), the most urgent first, at most ``CASE_LIMIT`` (``open_cases`` counts them all)."""

    factor: str
    brand: str
    mentions: int
    negative: int
    positive: int
    quotes: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    open_cases: int = 0


def _sentences(store: Store, picks: pd.DataFrame, width: int) -> list[dict[str, Any]]:
    """The picked sentences, personal data masked (the customer's name and the author's among it)."""
    from ..text.masking import mask_personal, text_names
    from ..text.sentences import split_sentences

    out = []
    texts: dict[tuple[str, str], tuple[str, str | None]] = {}
    for source, key, col in (("responses", "response_id", "comment"), ("feedback", "feedback_id", "text")):
        ids = list(picks.loc[picks["source"] == source, "text_id"])
        if ids:
            t = store.table(source)
            rows = t.filter(t[key].isin(ids)).select(key, col, "language").execute()
            texts.update({(source, r[0]): (r[1] or "", r[2]) for r in rows.itertuples(index=False)})
    names = text_names(store, zip(picks["source"], picks["text_id"], strict=True))
    for r in picks.itertuples(index=False):
        text, lang = texts.get((r.source, r.text_id), ("", None))
        sents = split_sentences(text) or [text]
        s = mask_personal(sents[int(r.sentence)] if int(r.sentence) < len(sents) else sents[0],
                          names.get((r.source, r.text_id), ()))
        out.append({"text": s if len(s) <= width else s[: width - 1].rstrip() + "…", "sentiment": r.sentiment,
                    "language": lang})
    return out


def _quotes(store: Store, m: pd.DataFrame, n: int, width: int) -> list[dict[str, Any]]:
    """Up to ``n`` different sentences: the most confident negative ones, then positive ones (half each
    when both are there), one per text."""
    m = m.assign(strength=m["confidence"].fillna(0) * m["score"].abs().fillna(0)).sort_values(
        "strength", ascending=False).drop_duplicates(["source", "text_id"])
    said: list[dict[str, Any]] = []
    seen: set[str] = set()
    sides = [m[m["sentiment"] == "negative"], m[m["sentiment"] == "positive"]]
    for i, side in enumerate(sides):
        want = n - len(said) if i or not len(sides[1]) else (n + 1) // 2
        for q in _sentences(store, side.head(4 * n), width):
            key = q["text"].lower().strip(" .!?…")
            if key not in seen and want > 0:
                seen.add(key)
                said.append(q)
                want -= 1
    return said


def factor_detail(store: Store, factor: str, brand: str = OURS, where: Where = None,
                  start: dt.datetime | None = None, end: dt.datetime | None = None,
                  departments: Sequence[str] | None = None, quotes: int = 8, width: int = 240) -> FactorDetail:
    """The factor's mentions in [start, end) about ``brand`` (those ``where`` keeps: channel, touchpoint,
    language, the customer's segment, country or city), its ``quotes`` most confident sentences (one per
    text; the prevailing direction first), and its cases opened in [start, end) that are open now, of
    ``departments`` only (None: every department; an empty list: none — whom the reader may see)."""
    w = normalise(where)
    m = mentions_frame(store, where={k: v for k, v in w.items() if k in (*FILTER_COLUMNS, *CUSTOMER_COLUMNS)},
                       start=start, end=end)
    m = m[(m["factor"] == factor) & (m["brand"] == brand)] if len(m) else m
    neg = int((m["sentiment"] == "negative").sum()) if len(m) else 0
    pos = int((m["sentiment"] == "positive").sum()) if len(m) else 0
    said = _quotes(store, m, quotes, width) if len(m) else []
    cases: list[dict[str, Any]] = []
    n_open = 0
    if brand == OURS and (departments is None or len(departments)):
        from ..cases.model import OPEN, PRIORITY_RANK

        case_where = {k: v for k, v in w.items() if k in ("channel", *CUSTOMER_COLUMNS)}
        c = opened_in(store, start, end, case_where)
        c = c.filter((c.type == factor) & (c.status.isin(list(OPEN)) | c.status.isnull()))
        if departments is not None:
            c = c.filter(c.department.isin(list(departments)))
        n_open = int(c.count().execute())
        rank = c.priority.cases(*((p, r) for p, r in PRIORITY_RANK.items()), else_=PRIORITY_RANK["normal"])
        c = c.order_by([ibis.desc(rank), c.opened_at.asc(), c.case_id.asc()]).limit(CASE_LIMIT)
        df = c.select("case_id", "customer_id", "department", "owner", "status", "priority", "opened_at").execute()
        cases = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in df.to_dict(orient="records")]
    return FactorDetail(factor, brand, int(len(m)), neg, pos, said, cases, n_open)
