"""Near-duplicate ideas, proposed for merging: the text engine's near-duplicate measure (``centric.text.neardup``:
Jaccard similarity of the character 5-grams of the normalised texts — it works the same in every language and
script) over each pair of ideas not merged away, and optionally, for the same idea written in other words or
another language, the cosine of multilingual sentence embeddings (``centric.text.embed``).

Each pair is proposed once, the idea with more votes (then the older one) as the one that stays.

>>> import pandas as pd
>>> df = pd.DataFrame({"idea_id": ["I1", "I2", "I3"], "title": ["", "", ""], "text": [
...     "Please open the shop on Sundays too", "Please open the shop on Sundays, too!", "Add a parking lot"]})
>>> [(p.keep, p.merge, round(p.similarity, 2)) for p in pairs(df, votes={"I1": 1, "I2": 4})]
[('I2', 'I1', 1.0)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..text.neardup import jaccard, normalize, shingles

THRESHOLD = 0.5  # Jaccard of 5-grams: a reworded sentence keeps about half of them
COSINE = 0.85  # multilingual USE: a paraphrase or a translation of the same idea
MAX_PAIRWISE = 5000  # more ideas than this: the LSH grouping of centric.text.neardup instead of every pair


@dataclass(frozen=True)
class Pair:
    keep: str
    merge: str
    similarity: float
    how: str  # "text" (5-gram Jaccard) or "meaning" (embeddings)

    def to_dict(self) -> dict:
        return {"keep": self.keep, "merge": self.merge, "similarity": round(self.similarity, 3), "how": self.how}


def _content(df: pd.DataFrame) -> list[str]:
    return [f"{t or ''} {x or ''}".strip() for t, x in zip(df["title"], df["text"], strict=True)]


def pairs(df: pd.DataFrame, votes: dict[str, int] | None = None, threshold: float = THRESHOLD,
          embeddings: np.ndarray | None = None, cosine: float = COSINE) -> list[Pair]:
    """The near-duplicate pairs among ``df`` (idea_id, title, text in a stable order — older first), most alike
    first. ``embeddings``: one unit vector per row (e.g. ``USEEmbedder().encode``) to find reworded and translated
    duplicates too."""
    votes = votes or {}
    ids = list(df["idea_id"])
    content = _content(df)
    found: dict[tuple[int, int], tuple[float, str]] = {}
    if len(ids) <= MAX_PAIRWISE:
        sets = [shingles(normalize(t)) for t in content]
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                s = jaccard(sets[i], sets[j])
                if s >= threshold:
                    found[i, j] = (s, "text")
    else:
        from ..text.neardup import groups

        for g in groups(content, threshold=threshold):
            for j in g[1:]:
                found[g[0], j] = (threshold, "text")
    if embeddings is not None and len(ids) > 1:
        sim = np.asarray(embeddings) @ np.asarray(embeddings).T
        for i, j in zip(*np.nonzero(np.triu(sim, 1) >= cosine), strict=True):
            if (int(i), int(j)) not in found:
                found[int(i), int(j)] = (float(sim[i, j]), "meaning")
    out = []
    for (i, j), (s, how) in found.items():
        a, b = ids[i], ids[j]
        keep, gone = (b, a) if votes.get(b, 0) > votes.get(a, 0) else (a, b)
        out.append(Pair(keep, gone, float(s), how))
    return sorted(out, key=lambda p: (-p.similarity, p.keep, p.merge))


def proposals(store, embedder=None, threshold: float = THRESHOLD) -> list[Pair]:
    """The merge proposals among the store's ideas (merged and flagged ones left out)."""
    from .views import frame, texts

    df = texts(store)
    if len(df) < 2:
        return []
    votes = dict(zip(*(frame(store)[c] for c in ("idea_id", "votes")), strict=True))
    emb = embedder.encode(_content(df)) if embedder is not None else None
    return pairs(df, votes, threshold, emb)


def similar_to(store, idea_id: str, threshold: float = THRESHOLD) -> list[Pair]:
    """The proposals that involve one idea."""
    return [p for p in proposals(store, threshold=threshold) if idea_id in (p.keep, p.merge)]
