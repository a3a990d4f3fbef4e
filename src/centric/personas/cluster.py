"""Standardised features, the number of personas chosen by stability and silhouette, and the final fit.

Standardising: counts and amounts (orders, revenue, order value, CLV, days between purchases) are taken
as ``log(1 + x)``; revenue and order value are compared only within their currency (z-scores per
currency), CLV within its own; every column becomes a z-score over the customers clustered, and a
missing value (no answer, no text, a single purchase day) becomes the mean (0). Each column is then
weighted by ``1/√(columns in its group)``, so that each group — value, channels, categories, journeys,
scores, pains, gains, emotions — weighs as much as one column would, however many columns it has.

Choosing k (``choose_k``): from a sample of at most ``sample`` customers, ``rounds`` pairs of
subsamples of 80% each are clustered for every k in ``ks`` and compared on the customers they share
(adjusted Rand index, 1 = the same partition); the silhouette is measured on the sample clustered
whole. The rule: among the k whose mean ARI is at least ``min_stability`` (0.75), the one with the
highest silhouette; when none is that stable, the most stable k. Everything draws from one seed, so the
same data and seed give the same k and the same personas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

LOGGED = ("orders", "revenue", "order_value", "clv", "gap_days", "purchase_days")
BY_CURRENCY = {"revenue": "currency", "order_value": "currency", "clv": "clv_currency"}
MIN_STABILITY = 0.75
KS = tuple(range(3, 9))


def standardise(frame: pd.DataFrame, groups: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(weighted matrix for clustering, unweighted z-scores, the columns) — see the module's description.
    Columns that do not vary are left out."""
    cols, zs, weights = [], [], []
    for group in groups.values():
        keep = []
        for c in group:
            x = frame[c].to_numpy(dtype=np.float64, na_value=np.nan).copy()
            if c in LOGGED:
                x = np.log1p(np.maximum(x, 0))
            by = BY_CURRENCY.get(c)
            z = np.full(len(x), np.nan)
            keys = pd.factorize(frame[by])[0] if by in frame.columns else np.zeros(len(x), dtype=np.int64)
            for k in np.unique(keys):
                m = keys == k
                v = x[m]
                ok = ~np.isnan(v)
                if ok.sum() < 2:
                    continue
                sd = v[ok].std()
                z[m] = (v - v[ok].mean()) / sd if sd > 0 else 0.0
            z = np.nan_to_num(z, nan=0.0)
            if np.any(z != 0):
                keep.append((c, z))
        for c, z in keep:
            cols.append(c)
            zs.append(z)
            weights.append(1.0 / np.sqrt(len(keep)))
    if not cols:
        return np.zeros((len(frame), 0)), np.zeros((len(frame), 0)), []
    z = np.column_stack(zs)
    return z * np.asarray(weights), z, cols


def _kmeans(k: int, seed: int, n_init: int = 3) -> KMeans:
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed, algorithm="lloyd", max_iter=100)


@dataclass(frozen=True)
class Selection:
    """How k was chosen: one row per k with its mean ARI (stability) and silhouette; ``k`` the choice."""
    k: int
    table: pd.DataFrame
    rule: str
    sample: int
    rounds: int


def choose_k(x: np.ndarray, ks=KS, seed: int = 0, sample: int = 2000, rounds: int = 3,
             min_stability: float = MIN_STABILITY) -> Selection:
    """The number of clusters by the rule in the module's description."""
    n = len(x)
    ks = [k for k in ks if 2 <= k < n]
    if not ks:
        raise ValueError("too few customers to form personas")
    rng = np.random.default_rng(seed)
    base = np.sort(rng.choice(n, size=min(n, sample), replace=False))
    xs = x[base]
    m = max(int(0.8 * len(xs)), 2)
    pairs = [(np.sort(rng.choice(len(xs), m, replace=False)), np.sort(rng.choice(len(xs), m, replace=False)))
             for _ in range(rounds)]
    rows = []
    with threadpool_limits(1):  # small fits: threads cost more than they give
        for k in ks:
            rows.append(_round(xs, k, pairs, seed))
    table = pd.DataFrame(rows)
    stable = table[table["stability"] >= min_stability]
    if len(stable):
        k = int(stable.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]["k"])
    else:
        k = int(table.sort_values(["stability", "k"], ascending=[False, True]).iloc[0]["k"])
    rule = (f"k in {min(ks)}–{max(ks)}: among the k whose mean adjusted Rand index over {rounds} pairs of 80% "
            f"subsamples of {len(xs)} customers is at least {min_stability}, the one with the highest "
            "silhouette; when none is, the most stable k")
    return Selection(k, table, rule, len(xs), rounds)


def _round(xs: np.ndarray, k: int, pairs, seed: int) -> dict:
    aris = []
    for r, (a, b) in enumerate(pairs):
        both = np.intersect1d(a, b)
        la = _kmeans(k, seed + 2 * r, 2).fit(xs[a]).predict(xs[both])
        lb = _kmeans(k, seed + 2 * r + 1, 2).fit(xs[b]).predict(xs[both])
        aris.append(adjusted_rand_score(la, lb))
    labels = _kmeans(k, seed, 2).fit_predict(xs)
    sil = (float(silhouette_score(xs, labels, sample_size=min(len(xs), 1000), random_state=seed))
           if len(set(labels)) > 1 else float("nan"))
    return {"k": k, "stability": float(np.mean(aris)), "stability_low": float(np.min(aris)), "silhouette": sil}


def fit(x: np.ndarray, k: int, seed: int = 0, sample: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
    """(labels 0 … k−1 numbered by size, largest first; centres in that order): k-means fitted on at
    most ``sample`` customers drawn with ``seed`` (all of them when fewer), every customer then assigned
    to the nearest centre."""
    n = len(x)
    rng = np.random.default_rng(seed + 1)
    idx = np.sort(rng.choice(n, size=sample, replace=False)) if n > sample else np.arange(n)
    with threadpool_limits(1):
        km = _kmeans(k, seed, 4).fit(x[idx])
        labels = km.predict(x) if n > sample else km.labels_
    sizes = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda i: (-sizes[i], tuple(np.round(km.cluster_centers_[i], 9))))
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    return remap[labels], km.cluster_centers_[order]
