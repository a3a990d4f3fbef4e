"""Key-driver analysis on correlation matrices: Johnson's relative weights and Shapley (LMG)
decomposition of R², both over *groups* of predictor columns (a factor is two columns: mentioned
positively, mentioned negatively), with a fast bootstrap on compressed data.

Pure functions; numpy only.

Hand-checkable case: two uncorrelated predictors with correlations 0.6 and 0.3 with y give R² = 0.45
and both methods split it 0.36 / 0.09.

>>> import numpy as np
>>> R = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.0], [0.3, 0.0, 1.0]])
>>> [round(float(v), 4) for v in relative_weights(R)]
[0.36, 0.09]
>>> [round(float(v), 4) for v in lmg(R)]
[0.36, 0.09]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import combinations
from math import factorial

import numpy as np

MAX_LMG_GROUPS = 15


def _groups(k: int, groups: list[list[int]] | None) -> list[list[int]]:
    return groups if groups is not None else [[j] for j in range(k)]


def r_squared(R: np.ndarray, cols: list[int] | np.ndarray | None = None) -> float:
    """R² of y (row/column 0 of ``R``) on the predictors ``cols`` (1-based columns of ``R``; all by
    default), from the correlation matrix: r' R⁻¹ r."""
    cols = np.arange(1, len(R)) if cols is None else np.asarray(cols)
    if len(cols) == 0:
        return 0.0
    Rxx, r = R[np.ix_(cols, cols)], R[0, cols]
    return float(r @ np.linalg.lstsq(Rxx, r, rcond=1e-10)[0])


def relative_weights(R: np.ndarray, groups: list[list[int]] | None = None) -> np.ndarray:
    """Johnson's (2000) relative weights: each predictor's share of R², summed per group. ``R`` is the
    correlation matrix of [y, x1 … xk]; ``groups`` lists the predictor indices (0-based, into x) of
    each group. The weights add up to R²."""
    Rxx, r = R[1:, 1:], R[0, 1:]
    vals, vecs = np.linalg.eigh(Rxx)
    vals = np.clip(vals, 0, None)
    root = (vecs * np.sqrt(vals)) @ vecs.T  # R^(1/2)
    beta = np.linalg.lstsq(root, r, rcond=1e-10)[0]
    raw = (root ** 2) @ (beta ** 2)
    return np.array([raw[g].sum() for g in _groups(len(r), groups)])


@functools.lru_cache(maxsize=32)
def _subsets(groups: tuple[tuple[int, ...], ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For every number of columns: the bit masks of the subsets of groups with that many columns and
    their column indices into the correlation matrix (computed once per set of groups, reused by
    every bootstrap replicate)."""
    G = len(groups)
    masks = np.arange(1, 1 << G)
    cols_of = [np.concatenate([np.asarray(groups[g], dtype=int) + 1 for g in range(G) if m >> g & 1])
               for m in masks]
    sizes = np.array([len(c) for c in cols_of])
    return [(masks[sizes == size], np.stack([cols_of[i] for i in np.flatnonzero(sizes == size)]))
            for size in np.unique(sizes)]


@functools.lru_cache(maxsize=32)
def _shapley_weights(G: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per bit mask, the Shapley weight of a coalition of its size; per group, the masks without it."""
    masks = np.arange(1 << G)
    size = np.array([bin(m).count("1") for m in masks])
    weight = np.array([factorial(s) * factorial(G - s - 1) / factorial(G) if s < G else 0.0 for s in range(G + 1)])
    return weight[size], [masks[(masks >> g & 1) == 0] for g in range(G)]


def all_subset_r2(R: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """R² for every subset of groups, indexed by bit mask (bit g set: group g in the model). Subsets
    with the same number of columns are solved together in one batched call."""
    out = np.zeros(1 << len(groups))
    for masks, idx in _subsets(tuple(tuple(g) for g in groups)):
        size = idx.shape[1]
        A = R[idx[:, :, None], idx[:, None, :]]
        b = R[0, idx]
        try:
            sol = np.linalg.solve(A + 1e-12 * np.eye(size), b[..., None])[..., 0]
        except np.linalg.LinAlgError:
            sol = np.stack([np.linalg.lstsq(a, bb, rcond=1e-10)[0] for a, bb in zip(A, b, strict=True)])
        out[masks] = np.einsum("ij,ij->i", b, sol)
    return out


def lmg(R: np.ndarray, groups: list[list[int]] | None = None) -> np.ndarray:
    """Shapley (LMG) decomposition of R² over groups: each group's marginal contribution averaged over
    all orders of entry. Exact over all 2^G subsets; G ≤ 15."""
    groups = _groups(len(R) - 1, groups)
    G = len(groups)
    if G > MAX_LMG_GROUPS:
        raise ValueError(f"LMG over {G} groups would fit 2^{G} models; it is offered up to {MAX_LMG_GROUPS}")
    r2 = all_subset_r2(R, groups)
    weight, without = _shapley_weights(G)
    return np.array([np.sum(weight[w] * (r2[w | (1 << g)] - r2[w])) for g, w in enumerate(without)])


def corr_weighted(Z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted correlation matrix of the columns of Z (zero-variance columns get zero correlations
    and a unit diagonal)."""
    n = w.sum()
    mu = (w @ Z) / n
    C = (Z * w[:, None]).T @ Z / n - np.outer(mu, mu)
    sd = np.sqrt(np.clip(np.diag(C), 0, None))
    ok = sd > 1e-12
    R = np.zeros_like(C)
    R[np.ix_(ok, ok)] = C[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
    np.fill_diagonal(R, 1.0)
    return R


@dataclass
class Compressed:
    """Distinct rows of [y, x…] with their counts: bootstrap replicates are multinomial draws of counts."""

    Z: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, X: np.ndarray) -> Compressed:
        Z = np.column_stack([y, X]).astype(np.float64)
        uniq, inv = np.unique(Z, axis=0, return_inverse=True)
        return cls(uniq, np.bincount(inv.ravel(), minlength=len(uniq)).astype(np.float64))

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def replicates(self, reps: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        p = self.counts / self.counts.sum()
        for _ in range(reps):
            yield rng.multinomial(self.n, p).astype(np.float64)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    a = (1 - level) / 2 * 100
    return np.nanpercentile(samples, a, axis=0), np.nanpercentile(samples, 100 - a, axis=0)


def brute_force_lmg(y: np.ndarray, X: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """LMG by fitting every subset with least squares on the raw data (for tests: slow, independent)."""
    G = len(groups)

    def r2(gs) -> float:
        if not gs:
            return 0.0
        cols = [c for g in gs for c in groups[g]]
        A = np.column_stack([np.ones(len(y)), X[:, cols]])
        res = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
        return 1 - res @ res / ((y - y.mean()) @ (y - y.mean()))

    out = np.zeros(G)
    for g in range(G):
        others = [h for h in range(G) if h != g]
        for k in range(G):
            w = factorial(k) * factorial(G - k - 1) / factorial(G)
            for S in combinations(others, k):
                out[g] += w * (r2(list(S) + [g]) - r2(list(S)))
    return out
