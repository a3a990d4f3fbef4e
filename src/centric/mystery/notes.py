"""The shoppers' notes through the text pipeline.

A visit's notes (``mystery_visits.notes``) are stored as well as one ``feedback`` text of source
``mystery_shopper``, written in the same transaction as the visit: ``feedback_id`` ``mystery:VISIT_ID`` (the link
to the visit), the visit's brand (ours or the competitor's) and store, its time as ``posted_at``, the shopper as
``author``, channel and touchpoint ``store``. The text pipeline (``centric analyze``; the web app's scheduler at
once) then analyses it like any other text — language, factors with their sentiment, emotions — into
``text_analyses`` and ``mentions``, and :func:`summary` shows per store the factors the notes raise (the same
figures as the store observation notes: :func:`centric.observations.summary`).

Like the observation notes, the shoppers' notes are the company's own eyes, not the customers' voice: they are
left out of the customers' factor analysis (:data:`centric.schema.COMPANY_SOURCES`).

>>> feedback_id("MS-0001")
'mystery:MS-0001'
>>> visit_id_of("mystery:MS-0001")
'MS-0001'
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..store import Store

__all__ = ["PREFIX", "SOURCE", "feedback_id", "feedback_rows", "summary", "sync_notes", "visit_id_of", "write_notes"]

SOURCE = "mystery_shopper"
PREFIX = "mystery:"


def feedback_id(visit_id: str) -> str:
    """The ``feedback_id`` of the notes of visit ``visit_id``."""
    return PREFIX + visit_id


def visit_id_of(feedback_id: str) -> str | None:
    """The visit whose notes are feedback ``feedback_id`` (None for another text)."""
    return feedback_id[len(PREFIX):] if isinstance(feedback_id, str) and feedback_id.startswith(PREFIX) else None


def feedback_rows(visits: pd.DataFrame) -> pd.DataFrame:
    """The ``feedback`` rows of the visits (``mystery_visits`` rows) that have notes."""
    cols = ["feedback_id", "source", "brand", "posted_at", "text", "author", "channel", "touchpoint", "store"]
    if visits is None or not len(visits) or "notes" not in visits.columns:
        return pd.DataFrame(columns=cols)
    v = visits[visits["notes"].map(lambda x: isinstance(x, str) and bool(x.strip()))]
    if not len(v):
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "feedback_id": [feedback_id(x) for x in v["visit_id"]], "source": SOURCE,
        "brand": v["brand"].fillna("ours").to_numpy(), "posted_at": pd.to_datetime(v["visited_at"]).to_numpy(),
        "text": v["notes"].str.strip().to_numpy(), "author": v["shopper"].to_numpy(), "channel": "store",
        "touchpoint": "store", "store": v["store"].to_numpy()}, columns=cols)


def write_notes(con, visits: pd.DataFrame) -> int:
    """Insert the notes of ``visits`` as feedback (inside the caller's transaction; notes stored before are not
    stored again); how many were inserted. ``con``: a DuckDB connection, or a store of either engine."""
    from ..cases import store_io

    rows = feedback_rows(visits)
    if not len(rows):
        return 0
    ids = rows["feedback_id"].tolist()
    have = {r[0] for r in con.execute(
        f"SELECT feedback_id FROM feedback WHERE feedback_id IN ({', '.join('?' * len(ids))})", ids).fetchall()}
    rows = rows[~rows["feedback_id"].isin(have)]
    return store_io.insert_rows(con, "feedback", rows)


def sync_notes(store: Store) -> int:
    """Store as feedback the notes of the visits stored before their notes were analysed (a store made by an
    earlier version); how many were added. Running it again adds nothing."""
    cols = ["visit_id", "brand", "store", "shopper", "visited_at", "notes"]
    got = store.execute(
        f"SELECT {', '.join('v.' + c for c in cols)} FROM mystery_visits v "
        "WHERE v.notes IS NOT NULL AND trim(v.notes) <> '' AND NOT EXISTS "
        "(SELECT 1 FROM feedback f WHERE f.feedback_id = CAST(? AS VARCHAR) || v.visit_id)", [PREFIX]).fetchall()
    if not got:
        return 0
    with store.transaction():
        return write_notes(store, pd.DataFrame(got, columns=cols))


def summary(store: Store, unit: str | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None,
            quotes: int = 2):
    """The shoppers' notes by store (of store ``unit`` alone when given), visited in [start, end): an
    :class:`centric.observations.ObservationSummary` — per store the notes and how many are analysed, per store ×
    factor the notes that raise it with their net sentiment, and the latest notes as masked quotes."""
    from ..observations import summary as notes_summary

    return notes_summary(store, unit, start, end, quotes=quotes, source=SOURCE)


def visit_factors(store: Store, visit_id: str) -> dict | None:
    """The analysis of one visit's notes: overall ``sentiment`` and ``factors`` (factor, sentiment, sentence …
    one per mention); None when the visit has no notes stored as feedback, ``analysed`` False when the text
    pipeline has not run on them yet."""
    fid = feedback_id(visit_id)
    if not store.execute("SELECT 1 FROM feedback WHERE feedback_id = ? AND source = ?", [fid, SOURCE]).fetchone():
        return None
    a = store.execute("SELECT sentiment FROM text_analyses WHERE source = 'feedback' AND text_id = ? "
                      "ORDER BY analyzed_at DESC LIMIT 1", [fid]).fetchone()
    m = store.execute("SELECT factor, sentiment, sentence FROM mentions WHERE source = 'feedback' AND text_id = ? "
                      "ORDER BY sentence, factor", [fid]).fetchall()
    return {"feedback_id": fid, "analysed": a is not None, "sentiment": None if a is None else a[0],
            "factors": [{"factor": f, "sentiment": s, "sentence": n} for f, s, n in m]}


def pending_notes(store: Store) -> int:
    """How many of the shoppers' notes the text pipeline has not analysed yet."""
    return int(store.execute(
        "SELECT count(*) FROM feedback f WHERE f.source = ? AND NOT EXISTS (SELECT 1 FROM text_analyses a "
        "WHERE a.source = 'feedback' AND a.text_id = f.feedback_id)", [SOURCE]).fetchone()[0])


def analyze_notes(store: Store, fast: bool = False, gate: float | None = None):
    """Run the text pipeline (:func:`centric.text.batch.analyze_store`: every text not analysed yet, the notes among
    them) with the taxonomy the store's texts are analysed with (retail when none is); its result, or None when no
    note waits."""
    from ..text.batch import analyze_store

    if not pending_notes(store):
        return None
    row = store.execute("SELECT taxonomy, count(*) FROM text_analyses GROUP BY taxonomy ORDER BY 2 DESC, 1 "
                        "LIMIT 1").fetchone()
    return analyze_store(store, row[0] if row else "retail", fast=fast, gate=gate)
