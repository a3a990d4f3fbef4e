"""``centric analyze``: run the text pipeline over every survey comment and feedback text in the store
that has not been analysed yet with the same taxonomy; results go to ``text_analyses`` (one row per
text) and ``mentions`` (one row per text × sentence × factor). Each batch is written in its own
transaction, so an interrupted run keeps what it finished and the next run carries on.

Placeholder answers ("did not answer", "n/a", only a score; see ``placeholders``) get a row in
``text_analyses`` with the flag ``placeholder``, no sentiment and no mentions; texts analysed as
opinions by an earlier version are turned into placeholders (their mentions removed) on the next run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from ..store import Store
from .pipeline import PLACEHOLDER, PLACEHOLDER_LIKE, Analyzer, placeholder_flag
from .placeholders import placeholder
from .suspicious import STORE_FLAGS, store_flags

SOURCES = {
    "responses": ("response_id", "comment", "language"),
    "feedback": ("feedback_id", "text", "language"),
}


@dataclass(frozen=True)
class AnalyzeResult:
    texts: int
    mentions: int
    skipped: int  # already analysed
    placeholders: int = 0  # placeholder answers in the store for this taxonomy: kept, not analysed
    reclassified: int = 0  # of them, analysed as opinions by an earlier run and turned into placeholders now

READS = ("responses", "feedback", "text_analyses", "mentions")
"""The tables ``analyze_store`` reads and writes (on PostgreSQL, what its scratch store receives)."""

_IS_PLACEHOLDER = f"flags LIKE '{PLACEHOLDER_LIKE}'"


def pending(store: Store, taxonomy: str) -> list[tuple[str, str, str, str | None]]:
    """(source, id, text, language) of the texts not analysed with ``taxonomy`` yet."""
    out = []
    for source, (key, col, lang) in SOURCES.items():
        out += store.execute(  # the store's interface: the same query on DuckDB and PostgreSQL
            f"""SELECT '{source}', t.{key}, t.{col}, t.{lang} FROM {source} t
                WHERE t.{col} IS NOT NULL AND trim(t.{col}) <> ''
                  AND NOT EXISTS (SELECT 1 FROM text_analyses a WHERE a.source = '{source}'
                                  AND a.text_id = t.{key} AND a.taxonomy = ?)
                ORDER BY t.{key}""", [taxonomy]).fetchall()
    return out


def analyze_store(store: Store, taxonomy: str = "retail", fast: bool = False, batch: int = 256,
                  progress: Callable[[int, int], None] | None = None, analyzer: Analyzer | None = None,
                  gate: float | None = None) -> AnalyzeResult:
    if getattr(store, "engine", "duckdb") == "postgresql":
        # the same analysis in a scratch DuckDB store holding the texts and their analyses; what it wrote goes
        # into PostgreSQL in one transaction at the end (centric.engines.scratch)
        from ..engines.scratch import scratch

        with scratch(store, tables=READS) as s:
            return analyze_store(s.store, taxonomy, fast=fast, batch=batch, progress=progress, analyzer=analyzer,
                                 gate=gate)
    if getattr(store, "engine", "duckdb") == "spark":
        # the same pipeline as a Spark batch job over the lake's new texts, written back through the lake's
        # all-or-nothing write path (centric.text.spark_batch)
        from .spark_batch import analyze_lake

        return analyze_lake(store, taxonomy, fast=fast, batch=batch, progress=progress, gate=gate)
    todo = pending(store, taxonomy)
    done_before = sum(store.con.execute("SELECT count(*) FROM text_analyses WHERE taxonomy = ?", [taxonomy]).fetchall()[0])
    reclassified = mark_placeholders(store, taxonomy)
    if not todo:
        apply_store_flags(store, taxonomy)
        return AnalyzeResult(0, 0, done_before, placeholder_count(store, taxonomy), reclassified)
    if analyzer is None:  # the taxonomy with the factors added in the store (the web app's settings page)
        from .taxonomy import load_taxonomy, with_store_factors

        analyzer = Analyzer(with_store_factors(load_taxonomy(taxonomy), store), fast=fast, gate=gate)
    model = model_name(analyzer, fast, gate)
    n_mentions = 0
    for start in range(0, len(todo), batch):
        rows, mentions = analysis_rows(analyzer, todo[start:start + batch], taxonomy, model)
        with store.transaction():
            store.con.executemany("INSERT INTO text_analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if mentions:
                store.con.executemany("INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", mentions)
        n_mentions += len(mentions)
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    apply_store_flags(store, taxonomy)
    return AnalyzeResult(len(todo), n_mentions, done_before, placeholder_count(store, taxonomy), reclassified)


def model_name(analyzer: Analyzer, fast: bool, gate: float | None) -> str:
    """What ``text_analyses.model`` records: the embedder, the polarity stage and the taxonomy."""
    polarity = "fast" if fast else f"cascade {gate}" if gate else "e5-small"
    return f"{analyzer.embedder.name}+{polarity}; taxonomy {analyzer.taxonomy.name}"


def analysis_rows(analyzer: Analyzer, chunk: list[tuple[str, str, str, str | None]], taxonomy: str,
                  model: str) -> tuple[list[tuple], list[tuple]]:
    """The text pipeline over one batch of (source, id, text, language): the rows of ``text_analyses`` and of
    ``mentions`` it gives (the same function per batch on DuckDB and per partition on Spark)."""
    results = analyzer.analyze([{"id": (src, tid), "text": text, "lang": lang} for src, tid, text, lang in chunk])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows, mentions = [], []
    for r in results:
        src, tid = r.id
        rows.append((src, tid, taxonomy, r.lang, r.sentiment, _clip(r.score),
                     json.dumps(r.emotions), json.dumps(r.flags, ensure_ascii=False), model, now))
        mentions += [(src, tid, f["sentence"], f["factor"], f["sentiment"], _clip(f["score"]),
                      f.get("confidence"), taxonomy, r.lang) for f in r.factors]
    return rows, mentions


def _clip(score: float | None) -> float | None:
    return None if score is None else max(-1.0, min(1.0, score))


def placeholder_count(store: Store, taxonomy: str | None = None) -> int:
    """How many texts are placeholder answers (analysed with ``taxonomy``, or with any, each text once)."""
    a = store.table("text_analyses")
    a = a.filter(a.flags.like(PLACEHOLDER_LIKE))
    if taxonomy:
        a = a.filter(a.taxonomy == taxonomy)
    return int(a.select("source", "text_id").distinct().count().execute())


def mark_placeholders(store: Store, taxonomy: str, max_chars: int = 60) -> int:
    """Turn texts analysed as opinions before placeholders were recognised into placeholders: their
    mentions go, their sentiment is emptied and they get the flag. Returns how many changed."""
    updates = placeholder_updates(store, taxonomy, max_chars)
    if updates:
        with store.transaction():
            store.con.executemany("DELETE FROM mentions WHERE source = ? AND text_id = ? AND taxonomy = ?",
                                  [u[1:] for u in updates])
            store.con.executemany("UPDATE text_analyses SET sentiment = NULL, score = NULL, emotions = '{}', flags = ? "
                                  "WHERE source = ? AND text_id = ? AND taxonomy = ?", updates)
    return len(updates)


def placeholder_updates(store: Store, taxonomy: str, max_chars: int = 60) -> list[tuple[str, str, str, str]]:
    """(new flags, source, text id, taxonomy) of the texts :func:`mark_placeholders` turns into placeholders."""
    rows = []
    for source, (key, col, _) in SOURCES.items():
        rows += store.con.execute(
            f"""SELECT a.source, a.text_id, t.{col}, a.flags FROM text_analyses a
                JOIN {source} t ON a.source = '{source}' AND a.text_id = t.{key}
                WHERE a.taxonomy = ? AND length(trim(t.{col})) <= ? AND (a.flags IS NULL OR NOT a.{_IS_PLACEHOLDER})
                ORDER BY a.text_id""", [taxonomy, max_chars]).fetchall()
    updates = []
    for source, tid, text, raw in rows:
        if why := placeholder(text):
            flags = [f for f in json.loads(raw or "[]") if f.get("flag") != PLACEHOLDER] + [placeholder_flag(why)]
            updates.append((json.dumps(flags, ensure_ascii=False), source, tid, taxonomy))
    return updates


def apply_store_flags(store: Store, taxonomy: str) -> int:
    """Add the store-level flags (near-duplicates among feedback and survey comments, bursts) to the
    texts' analyses, replacing those of an earlier run; returns the number of texts flagged."""
    flagged = store_flags(store)
    rows = store.con.execute("SELECT source, text_id, flags FROM text_analyses WHERE taxonomy = ?",
                             [taxonomy]).fetchall()
    updates = []
    for source, tid, raw in rows:
        old = json.loads(raw or "[]")
        new = [f for f in old if f.get("flag") not in STORE_FLAGS] + flagged.get((source, tid), [])
        if new != old:
            updates.append((json.dumps(new, ensure_ascii=False), source, tid, taxonomy))
    if updates:
        with store.transaction():
            store.con.executemany("UPDATE text_analyses SET flags = ? WHERE source = ? AND text_id = ? "
                                  "AND taxonomy = ?", updates)
    return len(flagged)
