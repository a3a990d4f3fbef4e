"""``centric analyze``: run the text pipeline over every survey comment and feedback text in the store
that has not been analysed yet with the same taxonomy; results go to ``text_analyses`` (one row per
text) and ``mentions`` (one row per text × sentence × factor). Each batch is written in its own
transaction, so an interrupted run keeps what it finished and the next run carries on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from ..store import Store
from .pipeline import Analyzer
from .suspicious import store_flags

SOURCES = {
    "responses": ("response_id", "comment", "language"),
    "feedback": ("feedback_id", "text", "language"),
}


@dataclass(frozen=True)
class AnalyzeResult:
    texts: int
    mentions: int
    skipped: int  # already analysed


def pending(store: Store, taxonomy: str) -> list[tuple[str, str, str, str | None]]:
    """(source, id, text, language) of the texts not analysed with ``taxonomy`` yet."""
    out = []
    for source, (key, col, lang) in SOURCES.items():
        out += store.con.execute(
            f"""SELECT '{source}', t.{key}, t.{col}, t.{lang} FROM {source} t
                WHERE t.{col} IS NOT NULL AND trim(t.{col}) <> ''
                  AND NOT EXISTS (SELECT 1 FROM text_analyses a WHERE a.source = '{source}'
                                  AND a.text_id = t.{key} AND a.taxonomy = ?)
                ORDER BY t.{key}""", [taxonomy]).fetchall()
    return out


def analyze_store(store: Store, taxonomy: str = "retail", fast: bool = False, batch: int = 256,
                  progress: Callable[[int, int], None] | None = None, analyzer: Analyzer | None = None,
                  gate: float | None = None) -> AnalyzeResult:
    todo = pending(store, taxonomy)
    done_before = sum(store.con.execute("SELECT count(*) FROM text_analyses WHERE taxonomy = ?", [taxonomy]).fetchall()[0])
    if not todo:
        apply_store_flags(store, taxonomy)
        return AnalyzeResult(0, 0, done_before)
    analyzer = analyzer or Analyzer(taxonomy, fast=fast, gate=gate)
    polarity = "fast" if fast else f"cascade {gate}" if gate else "e5-small"
    model = f"{analyzer.embedder.name}+{polarity}; taxonomy {analyzer.taxonomy.name}"
    n_mentions = 0
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        results = analyzer.analyze([{"id": (src, tid), "text": text, "lang": lang} for src, tid, text, lang in chunk])
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows, mentions = [], []
        for r in results:
            src, tid = r.id
            rows.append((src, tid, taxonomy, r.lang, r.sentiment, max(-1.0, min(1.0, r.score)),
                         json.dumps(r.emotions), json.dumps(r.flags, ensure_ascii=False), model, now))
            mentions += [(src, tid, f["sentence"], f["factor"], f["sentiment"], max(-1.0, min(1.0, f["score"])),
                          f.get("confidence"), taxonomy, r.lang) for f in r.factors]
        with store.transaction():
            store.con.executemany("INSERT INTO text_analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if mentions:
                store.con.executemany("INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", mentions)
        n_mentions += len(mentions)
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    apply_store_flags(store, taxonomy)
    return AnalyzeResult(len(todo), n_mentions, done_before)


def apply_store_flags(store: Store, taxonomy: str) -> int:
    """Add the store-level flags (near-duplicates, bursts) to the feedback's analyses, replacing those
    of an earlier run; returns the number of texts flagged."""
    flagged = store_flags(store)
    rows = store.con.execute("SELECT text_id, flags FROM text_analyses WHERE source = 'feedback' AND taxonomy = ?",
                             [taxonomy]).fetchall()
    updates = []
    for tid, raw in rows:
        own = [f for f in json.loads(raw or "[]") if f.get("flag") not in ("near_duplicate", "burst")]
        new = own + flagged.get(tid, [])
        if new != json.loads(raw or "[]"):
            updates.append((json.dumps(new, ensure_ascii=False), tid, taxonomy))
    if updates:
        with store.transaction():
            store.con.executemany("UPDATE text_analyses SET flags = ? WHERE source = 'feedback' AND text_id = ? "
                                  "AND taxonomy = ?", updates)
    return len(flagged)
