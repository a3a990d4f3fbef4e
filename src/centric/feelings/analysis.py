"""The shares of texts with each emotion, by factor and by segment (see :mod:`centric.feelings`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from ..drivers.analysis import OURS, _sources
from ..metrics.filters import Where
from ..store import Store
from ..text.emotions import EMOTIONS, PRESENT

MIN_TEXTS = 10
"""Groups with fewer texts are shown with their count only: a share of a handful of texts says little."""


@dataclass
class Feelings:
    """``overall``: the share of all texts of the selection showing each emotion (and ``texts``, how many);
    ``by_factor``: one row per factor — ``texts`` (mentioning it), ``negative_texts`` (with a negative mention of
    it), each emotion's share among the texts mentioning it (``anger`` …) and among the negative ones
    (``negative:anger`` …); ``by_segment``: one row per segment, ``texts`` and the eight shares. Shares are 0–1,
    null for a group under ``MIN_TEXTS`` texts. Rows by number of texts, largest first."""

    overall: dict[str, float]
    texts: int
    by_factor: pd.DataFrame
    by_segment: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.texts == 0

    def lift(self, row: pd.Series, prefix: str = "") -> dict[str, float]:
        """Each emotion's share in ``row`` minus its share over all texts, in percentage points (null where the
        row has no share)."""
        return {e: (None if pd.isna(row[prefix + e]) or self.overall.get(e) is None
                    else 100 * (float(row[prefix + e]) - self.overall[e])) for e in EMOTIONS}


def emotion_values(store: Store, column) -> dict:
    """Each of the eight emotions' probability (float, null when absent) from the JSON text ``column``. Ibis 12
    compiles ``unwrap_as`` on PostgreSQL to SQL that PostgreSQL refuses (``->> VARIADIC ARRAY[]``): there the
    value is read with ``json_extract_path_text`` and cast, which parses the same JSON number to the same double."""
    if getattr(store, "engine", "duckdb") != "postgresql":
        emo = column.cast("json")
        return {e: emo[e].unwrap_as("float64") for e in EMOTIONS}

    @ibis.udf.scalar.builtin(name="json_extract_path_text", signature=(("json", "string"), "string"))
    def json_text(j, key): ...

    return {e: json_text(column.cast("json"), e).cast("float64") for e in EMOTIONS}


def shown(p):
    """1.0 when the probability ``p`` shows the emotion (p ≥ 0.5), 0.0 when not, null when there is none (a
    placeholder answer). By conditions: PostgreSQL has no cast from boolean to a float."""
    return ibis.ifelse(p.isnull(), ibis.null("float64"), ibis.ifelse(p >= PRESENT, 1.0, 0.0))


def _texts(store: Store, brand: str, where: Where, start, end):
    """(source, text_id, segment, one column per emotion: 1.0 / 0.0) of every analysed text of ``brand`` in the
    selection that carries emotions."""
    r, f = _sources(store, where, start, end)
    r = r.filter(ibis.literal(brand) == OURS)  # survey answers are about us
    r = r.select(source=ibis.literal("responses"), text_id=r.response_id, customer_id=r.customer_id)
    f = f.filter(f.brand.fill_null(OURS) == brand)
    f = f.select(source=ibis.literal("feedback"), text_id=f.feedback_id, customer_id=f.customer_id)
    t = r.union(f)
    a = store.table("text_analyses")
    values = emotion_values(store, a.emotions)
    # a text analysed with two taxonomies counts once (its emotions do not depend on the taxonomy)
    a = a.select("source", "text_id", **{e: shown(p) for e, p in values.items()})
    a = a.filter(a[EMOTIONS[0]].notnull()).group_by(["source", "text_id"]).aggregate(
        **{e: a[e].max() for e in EMOTIONS})
    t = t.join(a, [t.source == a.source, t.text_id == a.text_id]).select(t.source, t.text_id, t.customer_id,
                                                                           *EMOTIONS)
    c = store.table("customers").select(cid_="customer_id", segment_="segment")
    t = t.left_join(c, t.customer_id == c.cid_)
    return t.select("source", "text_id", *EMOTIONS, segment=t.segment_, customer=t.customer_id.notnull())


def _hide_small(frame: pd.DataFrame, count: str, least: int, prefix: str = "") -> pd.DataFrame:
    small = frame[count] < least
    for e in EMOTIONS:
        frame[prefix + e] = frame[prefix + e].astype("float64").where(~small)
    return frame


def feelings(store: Store, brand: str = OURS, where: Where = None, start: dt.datetime | None = None,
             end: dt.datetime | None = None, taxonomy: str | None = None, min_texts: int = MIN_TEXTS) -> Feelings:
    """The shares of texts with each emotion over all texts, by factor and by segment (see
    :class:`Feelings`), for the texts of ``brand`` in [start, end) that ``where`` keeps (channel, touchpoint,
    language, the customer's segment, country, city). ``taxonomy``: whose factors (default: all found); groups
    with fewer than ``min_texts`` texts get their count only."""
    t = _texts(store, brand, where, start, end)
    cols = ["texts", *EMOTIONS]
    # one pass for the segments; the shares over all texts follow from their sums (the joined texts are built
    # twice, not three times)
    by_segment = t.group_by(["segment", "customer"]).aggregate(
        texts=t.count(), **{e: t[e].sum() for e in EMOTIONS}).execute()
    n = int(by_segment["texts"].sum())
    if n == 0:
        return Feelings({}, 0, pd.DataFrame(columns=["factor", "negative_texts", *cols]),
                        pd.DataFrame(columns=["segment", "customer", *cols]))
    overall = {e: float(by_segment[e].astype("float64").sum()) / n for e in EMOTIONS}
    by_segment["texts"] = by_segment["texts"].astype("int64")
    for e in EMOTIONS:
        by_segment[e] = by_segment[e].astype("float64") / by_segment["texts"]
    m = store.table("mentions")
    if taxonomy:
        m = m.filter(m.taxonomy == taxonomy)
    m = m.group_by(["source", "text_id", "factor"]).aggregate(
        negative=(m.sentiment == "negative").ifelse(1, 0).max())
    j = m.join(t, [m.source == t.source, m.text_id == t.text_id])
    neg = {f"negative:{e}": (j.negative == 1).ifelse(j[e], ibis.null("float64")).mean() for e in EMOTIONS}
    by_factor = j.group_by("factor").aggregate(texts=j.count(), negative_texts=j.negative.sum(),
                                               **{e: j[e].mean() for e in EMOTIONS}, **neg).execute()
    by_factor["negative_texts"] = by_factor["negative_texts"].fillna(0).astype("int64")
    by_factor["texts"] = by_factor["texts"].astype("int64")
    by_factor = _hide_small(_hide_small(by_factor, "texts", min_texts), "negative_texts", min_texts, "negative:")
    by_factor = by_factor.sort_values(["texts", "factor"], ascending=[False, True], ignore_index=True)
    by_segment["segment"] = by_segment["segment"].astype(object).where(by_segment["segment"].notna(), None)
    by_segment["customer"] = by_segment["customer"].astype(bool)
    by_segment = _hide_small(by_segment, "texts", min_texts).sort_values(
        ["texts", "segment"], ascending=[False, True], ignore_index=True, na_position="last")
    return Feelings(overall, n, by_factor, by_segment)
