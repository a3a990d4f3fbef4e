"""Near-duplicate texts: MinHash over character 5-grams with banded locality-sensitive hashing, every
candidate pair checked by its exact Jaccard similarity. Pure functions; deterministic (no Python
``hash``), so the same texts give the same groups on every run and machine.

>>> round(jaccard(shingles(normalize("Great shop, Anna helped!")), shingles(normalize("Great shop, Ania helped!"))), 2)
0.57
"""

from __future__ import annotations

import re

import numpy as np

K = 5  # characters per shingle
_MASK32 = np.uint64(0xFFFFFFFF)


def normalize(text: str) -> str:
    """Lower case, punctuation and digits removed, spacing collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"[\W\d_]+", " ", text.lower())).strip()


def shingles(norm: str, k: int = K) -> np.ndarray:
    """The distinct k-character shingles of a normalized text as 64-bit integers (a polynomial hash of
    the code points; texts shorter than k give one shingle)."""
    cp = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(cp) < k:
        cp = np.concatenate([cp, np.zeros(k - len(cp), dtype=np.uint64)])
    h = np.zeros(len(cp) - k + 1, dtype=np.uint64)
    for j in range(k):  # wraps modulo 2^64: a fixed, deterministic hash
        h = h * np.uint64(1_000_003) + cp[j:len(cp) - k + 1 + j]
    return np.unique(h)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter) if len(a) + len(b) else 1.0


def minhash(sh: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One signature: for each (a, b) — a odd — the minimum over the shingles x (folded to 32 bits)
    of the multiply-shift hash ((a·x + b) mod 2^64) >> 32."""
    x = (sh ^ (sh >> np.uint64(32))) & _MASK32
    with np.errstate(over="ignore"):
        return ((np.outer(x, a) + b) >> np.uint64(32)).min(axis=0)


def groups(texts: list[str], threshold: float = 0.7, bands: int = 20, rows: int = 3,
           seed: int = 0, star_above: int = 50) -> list[list[int]]:
    """Indices of texts that are near-duplicates of one another (exact Jaccard of their 5-gram sets ≥
    ``threshold``, joined transitively), each group in ascending order; singletons are left out.

    Equal normalized texts are joined first; the distinct ones are hashed. With 20 bands of 3 rows a
    pair at Jaccard 0.7 becomes a candidate with probability 0.9998 (at 0.5: 0.93, then rejected by the
    exact check). A bucket with more than ``star_above`` texts is checked against its first text only,
    so thousands of alike texts cost linear, not quadratic, time."""
    norms = [normalize(t) for t in texts]
    first: dict[str, int] = {}
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, t in enumerate(norms):  # equal after normalizing: one group without hashing
        if t in first:
            parent[i] = first[t]
        else:
            first[t] = i
    distinct = list(first.values())
    if len(distinct) > 1:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, 1 << 63, bands * rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        b = rng.integers(0, 1 << 63, bands * rows, dtype=np.uint64) * np.uint64(2)
        sets = {i: shingles(norms[i]) for i in distinct}
        sig = np.array([minhash(sets[i], a, b) for i in distinct]).reshape(len(distinct), bands, rows)
        checked: set[tuple[int, int]] = set()
        for band in range(bands):
            buckets: dict[bytes, list[int]] = {}
            for k, i in enumerate(distinct):
                buckets.setdefault(sig[k, band].tobytes(), []).append(i)
            for members in buckets.values():
                pairs = ((members[0], j) for j in members[1:]) if len(members) > star_above else \
                    ((members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members)))
                for i, j in pairs:
                    if (i, j) in checked or find(i) == find(j):
                        continue
                    checked.add((i, j))
                    if jaccard(sets[i], sets[j]) >= threshold:
                        parent[find(j)] = find(i)
    out: dict[int, list[int]] = {}
    for i in range(len(texts)):
        out.setdefault(find(i), []).append(i)
    return sorted((g for g in out.values() if len(g) > 1), key=lambda g: g[0])
