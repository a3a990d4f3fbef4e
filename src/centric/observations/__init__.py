"""Store observation notes: what managers see when they watch customers in a store ("turn every point of sale
into a laboratory"). A note is a ``feedback`` row of source ``observation`` about our brand with its ``store`` set,
entered in the web app (:func:`add_note`) or imported with the ordinary ingest (``centric ingest feedback notes.csv
--set source=observation``); the text pipeline analyses it like any other text, and :func:`summary` shows per store
the factors the notes raise (notes, mentions, sentiment), their course over time and masked quotes.

Observation notes are the company's own eyes, not the customers' voice: they are left out of the customer factor
analysis (``centric drivers``, the action matrix, the 5 whys and the alerts on factors) and of the customers'
sentiment about the staff that staff orientation is compared with; they never open a case. See
docs/observations.md.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     summary(s).notes
0
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import CentricError
from ..metrics.periods import label
from ..metrics.results import Tabular
from ..store import Store
from ..text.masking import mask_personal

__all__ = ["MAX_TEXT", "SOURCE", "ObservationSummary", "add_note", "notes_frame", "stores", "summary"]

SOURCE = "observation"
MAX_TEXT = 5000
OURS = "ours"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def stores(store: Store, agent: str | None = None) -> list[str]:
    """The stores in ``units`` (those ``agent`` manages when given)."""
    if agent is None:
        rows = store.execute("SELECT unit FROM units WHERE kind = 'store' ORDER BY unit").fetchall()
    else:
        rows = store.execute("SELECT unit FROM units WHERE kind = 'store' AND manager = ? ORDER BY unit",
                             [agent]).fetchall()
    return [r[0] for r in rows]


def store_manager(store: Store, unit: str) -> str | None | bool:
    """The manager of store ``unit`` (None when it has none); False when there is no such store."""
    row = store.execute("SELECT manager FROM units WHERE unit = ? AND kind = 'store'", [unit]).fetchone()
    return False if row is None else row[0]


def add_note(store: Store, unit: str, text: str, author: str, posted_at: dt.datetime | None = None,
             language: str | None = None, via: str = "web") -> str:
    """Store one observation note about store ``unit`` through the ingest (as a one-row source named
    ``via:observations:AUTHOR:TIME``); its ``feedback_id``. Raises CentricError naming the field at fault. The text
    is analysed by the next ``centric analyze`` (the web app's scheduler runs it at once)."""
    from ..ingest.records import ingest_records

    unit = (unit or "").strip()
    if store_manager(store, unit) is False:
        raise CentricError(f"store: there is no store {unit!r} in units")
    text = (text or "").strip()
    if not text:
        raise CentricError("text: write what you observed")
    if len(text) > MAX_TEXT:
        raise CentricError(f"text: {len(text):,} characters; at most {MAX_TEXT:,}")
    at = posted_at or _now()
    record = {"source": SOURCE, "brand": OURS, "store": unit, "text": text, "posted_at": at.isoformat(),
              "author": author, "channel": "store", "touchpoint": "store"}
    if language:
        record["language"] = language
    name = f"{via}:observations:{author}:{_now().strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
    res = ingest_records(store, "feedback", [record], name)
    if res.rejected:
        r = res.rejected[0]
        raise CentricError(f"{r['column'] or 'note'}: {r['reason']}")
    return res.stored[0]["id"]


def notes_frame(store: Store, unit: str | None = None, start: dt.datetime | None = None,
                end: dt.datetime | None = None, source: str = SOURCE) -> pd.DataFrame:
    """The observation notes (of store ``unit``) in [start, end): feedback_id, store, posted_at, author, language,
    text, and the overall sentiment when analysed. ``source``: the feedback source of the notes (``mystery_shopper``
    for the shoppers' visit notes)."""
    f = store.table("feedback")
    f = f.filter(f.source.cast("string") == source, f.store.notnull())
    if unit is not None:
        f = f.filter(f.store == unit)
    if start is not None:
        f = f.filter(f.posted_at >= start)
    if end is not None:
        f = f.filter(f.posted_at < end)
    a = store.table("text_analyses")
    a = a.filter(a.source.cast("string") == "feedback")
    a = a.group_by(a_id=a.text_id).aggregate(sentiment=a.sentiment.cast("string").max())  # one per text
    j = f.left_join(a, f.feedback_id == a.a_id)
    return j.select("feedback_id", "store", "posted_at", "author", "language", "text",
                    sentiment=j.sentiment.cast("string")).order_by("posted_at").execute()


def _mentions(store: Store, ids: list[str]) -> pd.DataFrame:
    if not ids:
        return pd.DataFrame(columns=["text_id", "factor", "sentiment", "sentence"])
    m = store.table("mentions")
    m = m.filter(m.source.cast("string") == "feedback", m.text_id.isin(ids))
    return m.select("text_id", "factor", sentiment=m.sentiment.cast("string"), sentence="sentence").execute()


@dataclass(frozen=True)
class ObservationSummary(Tabular):
    """What the notes raise. ``stores``: per store its notes, analysed notes, first and last; ``factors``: per store ×
    factor the notes that mention it, the mentions, positive, negative and ``net`` (100 · (positive − negative) /
    mentions); ``periods``: per store × quarter the notes and their net sentiment (of their factor mentions);
    ``quotes``: per store its latest notes, masked (e-mails, phones, numbers, the names of the store's employees),
    each with its factors."""

    stores: pd.DataFrame
    factors: pd.DataFrame
    periods: pd.DataFrame
    quotes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def notes(self) -> int:
        return int(self.stores["notes"].sum()) if len(self.stores) else 0

    def to_frame(self) -> pd.DataFrame:
        return self.factors.copy()

    def _title(self) -> str:
        return "Store observation notes: factors by store"

    def to_dict(self) -> dict[str, Any]:
        def rows(df):
            return [{k: (None if isinstance(v, float) and math.isnan(v) else
                         str(v) if isinstance(v, (pd.Timestamp, dt.datetime)) else v) for k, v in r.items()}
                    for r in df.to_dict("records")]
        return {"stores": rows(self.stores), "factors": rows(self.factors), "periods": rows(self.periods),
                "quotes": {k: [{**q, "posted_at": str(q["posted_at"])} for q in v] for k, v in self.quotes.items()}}

    def figure(self, unit: str | None = None):
        """Plotly figure: the factors the notes raise (of ``unit`` or all stores), bars split by sentiment."""
        import plotly.graph_objects as go

        from .charts import factors_spec

        return go.Figure(factors_spec(self, unit, "Factors raised by observation notes"))


def _net(pos, neg, n):
    return 100 * (pos - neg) / n if n else math.nan


def summary(store: Store, unit: str | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None,
            period: str = "quarter", quotes: int = 5, source: str = SOURCE) -> ObservationSummary:
    """The observation notes by store (of store ``unit`` alone when given), in [start, end); see
    :class:`ObservationSummary`. ``source``: the feedback source of the notes (``mystery_shopper`` for the shoppers'
    visit notes, :mod:`centric.mystery.notes`)."""
    notes = notes_frame(store, unit, start, end, source)
    st_cols = ["store", "notes", "analysed", "first", "last"]
    if notes.empty:
        return ObservationSummary(pd.DataFrame(columns=st_cols),
                                  pd.DataFrame(columns=["store", "factor", "notes", "mentions", "positive",
                                                        "negative", "net"]),
                                  pd.DataFrame(columns=["store", "period", "notes", "net"]), {})
    m = _mentions(store, notes["feedback_id"].tolist())
    analysed = notes["sentiment"].notna() | notes["feedback_id"].isin(m["text_id"])
    st = notes.assign(analysed=analysed).groupby("store").agg(
        notes=("feedback_id", "nunique"), analysed=("analysed", "sum"), first=("posted_at", "min"),
        last=("posted_at", "max")).reset_index()
    st["analysed"] = st["analysed"].astype(int)
    mm = m.merge(notes[["feedback_id", "store", "posted_at"]], left_on="text_id", right_on="feedback_id")
    if len(mm):
        fa = mm.assign(pos=mm["sentiment"] == "positive", neg=mm["sentiment"] == "negative").groupby(
            ["store", "factor"]).agg(notes=("text_id", "nunique"), mentions=("text_id", "size"),
                                     positive=("pos", "sum"), negative=("neg", "sum")).reset_index()
        fa["net"] = [_net(p, q, n) for p, q, n in zip(fa["positive"], fa["negative"], fa["mentions"], strict=True)]
        fa = fa.sort_values(["store", "notes", "mentions", "factor"], ascending=[True, False, False, True])
    else:
        fa = pd.DataFrame(columns=["store", "factor", "notes", "mentions", "positive", "negative", "net"])
    notes["period"] = [label(period, t) for t in notes["posted_at"]]
    pe = notes.groupby(["store", "period"]).agg(notes=("feedback_id", "nunique")).reset_index()
    if len(mm):
        mm["period"] = [label(period, t) for t in mm["posted_at"]]
        s = mm.assign(pos=mm["sentiment"] == "positive", neg=mm["sentiment"] == "negative").groupby(
            ["store", "period"]).agg(pos=("pos", "sum"), neg=("neg", "sum"), n=("text_id", "size")).reset_index()
        s["net"] = [_net(p, q, n) for p, q, n in zip(s["pos"], s["neg"], s["n"], strict=True)]
        pe = pe.merge(s[["store", "period", "net"]], on=["store", "period"], how="left")
    else:
        pe["net"] = math.nan
    factors_of = m.groupby("text_id")["factor"].agg(lambda s: sorted(set(s))).to_dict() if len(m) else {}
    e = store.table("employees")
    staff = store.rows(e.filter(e.name.notnull()).select("unit", "name"))
    names: dict[str, list[str]] = {}
    for u, n in staff:
        names.setdefault(u, []).append(n)
    qs: dict[str, list[dict[str, Any]]] = {}
    for u, g in notes.sort_values("posted_at", ascending=False).groupby("store", sort=True):
        qs[u] = [{"feedback_id": r.feedback_id, "posted_at": r.posted_at,
                  "text": mask_personal(r.text, names.get(u, [])), "factors": factors_of.get(r.feedback_id, []),
                  "sentiment": r.sentiment} for r in g.head(quotes).itertuples()]
    return ObservationSummary(st.reset_index(drop=True), fa.reset_index(drop=True),
                              pe.sort_values(["store", "period"]).reset_index(drop=True), qs)
