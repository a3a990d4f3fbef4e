"""Which factor an idea addresses, suggested by the text pipeline's factor matcher (``centric.text.factors``:
a classifier over multilingual sentence embeddings, trained on the taxonomy's example phrases in every language
it has), so that "a second courier on Saturdays" lands on *delivery* in any of the four languages. The suggestion
is stored with ``factor_source = suggested``; a person may change it (``set``)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from ..store import Store
from ..text.taxonomy import Taxonomy

_fitted: dict[tuple, tuple] = {}
_lock = threading.Lock()
THRESHOLD = 0.45  # the factor matcher's own threshold


def _matcher(taxonomy: Taxonomy, embedder):
    """The factor matcher fitted on ``taxonomy`` (kept per taxonomy and embedder for the process)."""
    from ..text.factors import FactorMatcher

    key = (taxonomy.name, tuple(taxonomy.ids), getattr(embedder, "name", type(embedder).__name__))
    with _lock:
        got = _fitted.get(key)
    if got is None:
        got = (FactorMatcher().fit(taxonomy, embedder), embedder)
        with _lock:
            _fitted[key] = got
    return got


def suggest(texts: list[str], taxonomy: Taxonomy, embedder=None, threshold: float = THRESHOLD) -> list[str | None]:
    """For each text, the factor with the highest probability when it reaches ``threshold`` (else None)."""
    if not texts:
        return []
    if embedder is None:
        from ..text.embed import USEEmbedder

        key = (taxonomy.name, tuple(taxonomy.ids), "use-v3")
        with _lock:
            hit = _fitted.get(key)
        embedder = hit[1] if hit else USEEmbedder()
    matcher, embedder = _matcher(taxonomy, embedder)
    P = matcher.predict_proba(embedder.encode(texts))
    best = P.argmax(axis=1)
    ids = taxonomy.ids
    return [ids[int(b)] if P[i, b] >= threshold else None for i, b in enumerate(np.asarray(best))]


def suggest_missing(store: Store, embedder=None) -> int:
    """Suggest a factor for every idea without one (merged ideas left out), in one transaction; how many got one."""
    found = missing_factors(store, embedder)
    if len(found):
        with store.transaction():
            store_factors(store, found)
    return len(found)


def missing_factors(store: Store, embedder=None) -> pd.DataFrame:
    """The factor suggested for each idea without one (merged ideas left out) that reaches the threshold:
    ``idea_id``, ``factor``. Only reads the store."""
    from ..text.taxonomy import active_taxonomy

    rows = store.execute("SELECT idea_id, coalesce(title, '') || '. ' || text FROM ideas "
                         "WHERE factor IS NULL AND merged_into IS NULL ORDER BY idea_id").fetchall()
    found = suggest([r[1] for r in rows], active_taxonomy(store), embedder) if rows else []
    return pd.DataFrame({"idea_id": [r[0] for r, f in zip(rows, found, strict=True) if f],
                         "factor": [f for f in found if f]})


def store_factors(store: Store, found: pd.DataFrame) -> None:
    """Store :func:`missing_factors`' suggestions (``factor_source = suggested``, ideas still without a factor
    only) in the transaction under way on ``store``."""
    _update(store, found, "factor = v.factor, factor_source = 'suggested'", "ideas.factor IS NULL")


_BATCH = 1000  # ideas per statement (PostgreSQL takes at most 65,535 parameters in one)


def _update(store: Store, values: pd.DataFrame, assignments: str, condition: str = "true") -> None:
    """UPDATE ideas from a frame of (idea_id, value columns), in the transaction under way on ``store``: one
    parameterised statement per thousand ideas, joining a ``VALUES`` list named ``v`` (``v.idea_id`` and the
    frame's other columns, all text); ``assignments`` and ``condition`` read ``v.COLUMN`` and ``ideas.COLUMN``
    (any engine)."""
    if not len(values):
        return
    cols = [c for c in values.columns if c != "idea_id"]
    rows = list(values[["idea_id", *cols]].itertuples(index=False, name=None))
    marks = "(" + ", ".join("?" * (len(cols) + 1)) + ")"
    for start in range(0, len(rows), _BATCH):
        part = rows[start:start + _BATCH]
        store.execute(f"UPDATE ideas SET {assignments} FROM (VALUES {', '.join([marks] * len(part))}) "
                      f"AS v(idea_id, {', '.join(cols)}) WHERE ideas.idea_id = v.idea_id AND {condition}",
                      [x for row in part for x in row])


def detect_languages(store: Store) -> int:
    """Detect the language of the ideas that have none (imported without it), in one transaction; how many got
    one."""
    with store.transaction():
        return set_languages(store)


def set_languages(store: Store) -> int:
    """:func:`detect_languages`' work, in the transaction under way on ``store``."""
    from ..text.language import LanguageDetector

    rows = store.execute("SELECT idea_id, coalesce(title, '') || '. ' || text FROM ideas WHERE language IS NULL "
                         "ORDER BY idea_id").fetchall()
    if not rows:
        return 0
    detector = LanguageDetector()
    _update(store, pd.DataFrame({"idea_id": [r[0] for r in rows], "language": [detector.detect(r[1]) for r in rows]}),
            "language = v.language")
    return len(rows)
