"""Near-duplicate ideas, proposed for merging: the text engine's near-duplicate measure (``centric.text.neardup``:
Jaccard similarity of the character 5-grams of the normalised texts — it works the same in every language and
script) over each pair of ideas not merged away, and optionally, for the same idea written in other words or
another language, the cosine of multilingual sentence embeddings (``centric.text.embed``).

Taking the ideas by votes (then age), an idea alike to one kept before it is proposed for merging into it.

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

from ..text.neardup import jaccard, minhash, normalize, shingles

THRESHOLD = 0.5  # Jaccard of 5-grams: a reworded sentence keeps about half of them
COSINE = 0.85  # multilingual USE: a paraphrase or a translation of the same idea
MAX_PAIRWISE = 300  # more ideas than this: candidate pairs by MinHash bands (centric.text.neardup) instead of every pair


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


def _candidates(sets: list[np.ndarray], bands: int = 20, rows: int = 3, seed: int = 0) -> set[tuple[int, int]]:
    """Pairs of texts that share a band of their MinHash signatures (``centric.text.neardup``'s hashing): at
    Jaccard 0.5 a pair is a candidate with probability 0.93, at 0.7 with 0.9998."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, bands * rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, bands * rows, dtype=np.uint64) * np.uint64(2)
    sig = np.array([minhash(x, a, b) for x in sets]).reshape(len(sets), bands, rows)
    out: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for i in range(len(sets)):
            buckets.setdefault(sig[i, band].tobytes(), []).append(i)
        for members in buckets.values():
            out.update((members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members)))
    return out


def pairs(df: pd.DataFrame, votes: dict[str, int] | None = None, threshold: float = THRESHOLD,
          embeddings: np.ndarray | None = None, cosine: float = COSINE) -> list[Pair]:
    """The merge proposals among ``df`` (idea_id, title, text in a stable order — older first), most alike
    first: taking the ideas by votes (then age), one alike to an idea already kept (``threshold`` or more) is
    proposed for merging into the most alike of them; one alike to none is kept. ``embeddings``: one unit
    vector per row (e.g. ``USEEmbedder().encode``) to find reworded and translated duplicates too."""
    votes = votes or {}
    ids = list(df["idea_id"])
    sets = [shingles(normalize(t)) for t in _content(df)]
    found: dict[tuple[int, int], tuple[float, str]] = {}
    candidates = ({(i, j) for i in range(len(ids)) for j in range(i + 1, len(ids))} if len(ids) <= MAX_PAIRWISE
                  else _candidates(sets))
    for i, j in candidates:
        s = jaccard(sets[i], sets[j])
        if s >= threshold:
            found[i, j] = (s, "text")
    if embeddings is not None and len(ids) > 1:
        sim = np.asarray(embeddings) @ np.asarray(embeddings).T
        for i, j in zip(*np.nonzero(np.triu(sim, 1) >= cosine), strict=True):
            if (int(i), int(j)) not in found:
                found[int(i), int(j)] = (float(sim[i, j]), "meaning")
    # leaders, most votes (then oldest) first: an idea alike to a leader is proposed for merging into the most
    # alike one; an idea alike to none becomes a leader itself (no chains: each proposal is a direct match)
    near: dict[int, dict[int, tuple[float, str]]] = {}
    for (i, j), v in found.items():
        near.setdefault(i, {})[j] = v
        near.setdefault(j, {})[i] = v
    leaders: set[int] = set()
    out = []
    for i in sorted(near, key=lambda i: (-votes.get(ids[i], 0), i)):
        linked = [(v[0], -k, k, v[1]) for k, v in near[i].items() if k in leaders]
        if not linked:
            leaders.add(i)
            continue
        sim, _, k, how = max(linked)
        out.append(Pair(ids[k], ids[i], float(sim), how))
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
