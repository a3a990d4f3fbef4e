"""``centric analyze`` on a Spark store: the text pipeline as a Spark batch job over the lake.

The same analysis as on DuckDB (``centric.text.batch.analyze_store``), in three steps:

1. **Which texts are new**: Spark reads the lake's survey comments (``responses``) and feedback texts and keeps
   those without an analysis with the taxonomy (an anti-join against ``text_analyses``).
2. **The pipeline, per partition**: the new texts are repartitioned over the cluster's cores and each partition is
   analysed by ``mapInPandas`` with centric's own batch function (:func:`centric.text.batch.analysis_rows`, the one
   ``analyze_store`` calls per batch), in batches of ``batch`` texts. The pipeline and its models are loaded once
   per Python worker (:data:`_ANALYZERS`, a cache in this module; Spark reuses its Python workers between tasks),
   so the results are those of a DuckDB run.
3. **The write**: the rows come back to the driver and are written into the lake by the lake's all-or-nothing
   write path (``centric.engines.lake``): under its write lock, in one commit — the new ``mentions`` as a new
   Parquet file, ``text_analyses`` (whose store-level flags change with every run) rewritten whole. The work after
   the pipeline (placeholders found anew, near-duplicate and burst flags) runs in the write's scratch store as on
   DuckDB.

The executors need centric itself (``pip install centric`` on every node): the job calls its functions there.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from collections.abc import Callable, Iterator

from .batch import (
    READS,
    SOURCES,
    AnalyzeResult,
    analysis_rows,
    apply_store_flags,
    mark_placeholders,
    model_name,
    placeholder_count,
    placeholder_updates,
)
from .pipeline import Analyzer

__all__ = ["analyze_lake", "pending_frame"]

_ANALYZERS: dict[bytes, Analyzer] = {}
"""The pipelines loaded in this Python process, by (taxonomy, fast, gate): a Spark worker loads its models once."""

RESULT_SCHEMA = "source STRING, text_id STRING, analysis STRING"
"""What the job gives per text: its ``text_analyses`` row (without the taxonomy and the time) and its ``mentions``
rows, as JSON (which keeps NULLs and floats exactly through pandas and Arrow)."""


def _analyzer(key: bytes) -> Analyzer:
    """The pipeline for ``key`` (the pickled taxonomy, fast and gate), built on its first use in this process."""
    if key not in _ANALYZERS:
        taxonomy, fast, gate = pickle.loads(key)
        _ANALYZERS[key] = Analyzer(taxonomy, fast=fast, gate=gate)
    return _ANALYZERS[key]


def pending_frame(spark, taxonomy: str):
    """A Spark DataFrame of (source, text_id, text, lang): the texts of the store's views not analysed with
    ``taxonomy`` yet (as ``centric.text.batch.pending``)."""
    from pyspark.sql import functions as F

    done = spark.table("text_analyses").where(F.col("taxonomy") == F.lit(taxonomy)).select("source", "text_id")
    frames = []
    for source, (key, col, lang) in SOURCES.items():
        frames.append(spark.table(source)
                      .where(F.col(col).isNotNull() & (F.trim(F.col(col)) != F.lit("")))
                      .select(F.lit(source).alias("source"), F.col(key).alias("text_id"), F.col(col).alias("text"),
                              F.col(lang).alias("lang")))
    texts = frames[0].unionByName(frames[1])
    return texts.join(done, on=["source", "text_id"], how="left_anti")


def _job(key: bytes | None, analyzer: Analyzer | None, taxonomy: str, fast: bool, gate: float | None, batch: int):
    """The function ``mapInPandas`` runs on each partition."""

    def run(frames: Iterator) -> Iterator:
        import pandas as pd

        pipeline = analyzer if analyzer is not None else _analyzer(key)
        model = model_name(pipeline, fast, gate)
        for frame in frames:
            todo = [(s, t, x, None if lang is None or pd.isna(lang) else lang)
                    for s, t, x, lang in frame[["source", "text_id", "text", "lang"]].itertuples(index=False)]
            for start in range(0, len(todo), batch):
                rows, mentions = analysis_rows(pipeline, todo[start:start + batch], taxonomy, model)
                by_text: dict[tuple[str, str], list] = {}
                for m in mentions:
                    by_text.setdefault((m[0], m[1]), []).append(list(m[2:7]))
                yield pd.DataFrame(
                    [(r[0], r[1], json.dumps([r[3], r[4], r[5], r[6], r[7], r[8], by_text.get((r[0], r[1]), [])],
                                             ensure_ascii=False)) for r in rows],
                    columns=["source", "text_id", "analysis"])

    return run


def analyze_lake(store, taxonomy: str = "retail", fast: bool = False, batch: int = 256,
                 progress: Callable[[int, int], None] | None = None, analyzer: Analyzer | None = None,
                 gate: float | None = None) -> AnalyzeResult:
    """``analyze_store`` on a Spark store (``centric.engines.spark.SparkStore``) over a local lake."""
    from ..engines.lake import lake_scratch
    from .taxonomy import load_taxonomy, with_store_factors

    reads = [t for t in READS if t != "mentions"]
    with lake_scratch(store.url, tables=reads, append=["mentions"]) as s:
        duck = s.store
        store.refresh()  # under the write lock: Spark sees what the scratch store holds
        done_before = duck.con.execute("SELECT count(*) FROM text_analyses WHERE taxonomy = ?",
                                       [taxonomy]).fetchone()[0]
        if placeholder_updates(duck, taxonomy):  # texts turned into placeholders lose their mentions: read them
            s.append.remove("mentions")
            s.tables.append("mentions")
            s.fetch("mentions")
        reclassified = mark_placeholders(duck, taxonomy)
        key = None
        if analyzer is None:  # the taxonomy with the factors added in the store, as on DuckDB
            key = pickle.dumps((with_store_factors(load_taxonomy(taxonomy), duck), fast, gate))
        todo = pending_frame(store.spark, taxonomy)
        parts = max(1, store.spark.sparkContext.defaultParallelism)
        out = (todo.repartition(parts)
               .mapInPandas(_job(key, analyzer, taxonomy, fast, gate, batch), schema=RESULT_SCHEMA)
               .toPandas())
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows, mentions = [], []
        for source, text_id, analysis in out.itertuples(index=False):
            lang, sentiment, score, emotions, flags, model, found = json.loads(analysis)
            rows.append((source, text_id, taxonomy, lang, sentiment, score, emotions, flags, model, now))
            mentions += [(source, text_id, *m, taxonomy, lang) for m in found]
        if rows:
            with duck.transaction():
                duck.con.executemany("INSERT INTO text_analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                if mentions:
                    duck.con.executemany("INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", mentions)
        if progress:
            progress(len(rows), len(rows))
        apply_store_flags(duck, taxonomy)
        result = AnalyzeResult(len(rows), len(mentions), done_before, placeholder_count(duck, taxonomy), reclassified)
    store.refresh()  # the lake's new files
    return result
