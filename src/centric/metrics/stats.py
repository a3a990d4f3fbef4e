"""Interval estimates and tests on aggregated counts — pure functions, no data access.

Definitions (../PRODUCT.md): NPS = 100·(p − d) with p, d the shares of promoters (9–10) and
detractors (0–6); Var(p̂ − d̂) = [p + d − (p − d)²]/n; 95% interval = NPS ± 1.96·100·√Var.
For small samples (n < 30), or when that variance is 0 (all promoters), the adjusted-Wald interval
of Sauro & Lewis / Rocks (2016) is used instead: add 3/4 of a promoter and 3/4 of a detractor
(n + 3 answers), then apply the same formula.

>>> s = nps_score(promoters=50, passives=30, detractors=20)
>>> round(s.value, 1), s.n, round(s.low, 1), round(s.high, 1), s.method
(30.0, 100, 14.7, 45.3, 'wald')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from .results import Change, Score

Z95 = 1.959963984540054
SMALL_N = 30
ALPHA = 0.05
CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "none"}


def _normal_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def nps_score(promoters: int, passives: int, detractors: int) -> Score:
    n = promoters + passives + detractors
    counts = {"promoters": promoters, "passives": passives, "detractors": detractors}
    if n == 0:
        return Score("nps", None, 0, None, None, "none", counts)
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    var = (p + d - (p - d) ** 2) / n
    method = "wald"
    centre = value
    if n < SMALL_N or var <= 0:
        method = "adjusted-wald"
        na = n + 3
        pa, da = (promoters + 0.75) / na, (detractors + 0.75) / na
        centre = 100 * (pa - da)
        var = (pa + da - (pa - da) ** 2) / na
    se = 100 * math.sqrt(var)
    low, high = max(-100.0, centre - Z95 * se), min(100.0, centre + Z95 * se)
    return Score("nps", value, n, low, high, method, counts, se=se)


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a proportion, as percentages."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    z2 = Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (100 * max(0.0, centre - half), 100 * min(1.0, centre + half))


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """z and two-sided p of the pooled two-proportion test of k1/n1 against k2/n2 ((0, 1) without data).

    >>> z, p = two_proportions(30, 100, 15, 100)
    >>> round(z, 3), round(p, 4)
    (2.54, 0.0111)
    """
    if not n1 or not n2:
        return 0.0, 1.0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / se
    return z, _normal_p(z)


def share_score(metric: str, k: int, n: int, counts: dict[str, int], mean: float | None = None) -> Score:
    """A top-box share (CSAT 4–5, CES 5–7) in percent with its Wilson interval."""
    if n == 0:
        return Score(metric, None, 0, None, None, "none", counts)
    low, high = wilson(k, n)
    p = k / n
    se = 100 * math.sqrt(max(p * (1 - p), 1e-12) / n)
    return Score(metric, 100 * p, n, low, high, "wilson", counts, se=se, mean=mean)


def t975(ns: Sequence[int]) -> list[float]:
    """The 97.5% quantile of Student's t with n − 1 degrees of freedom for each n (NaN where n < 2), in one
    SciPy call: the same values as one call per n, at a fraction of the cost for hundreds of groups.

    >>> [round(q, 4) for q in t975([1, 2, 11, 10_000])][1:]
    [12.7062, 2.2281, 1.9602]
    """
    import numpy as np
    from scipy import stats

    df = np.array([n - 1 if n >= 2 else 1 for n in ns], dtype=float)
    q = stats.t.ppf(0.975, df) if len(df) else np.array([])
    return [float(v) if n >= 2 else math.nan for v, n in zip(q, ns, strict=True)]


def mean_interval(mean: float, sd: float, n: int, q: float | None = None) -> tuple[float, float]:
    """95% t interval of a mean (``q``: the t quantile for n when already known, see ``t975``)."""
    if n < 2:
        return (math.nan, math.nan)
    if q is None:
        q = t975([n])[0]
    half = q * sd / math.sqrt(n)
    return (mean - half, mean + half)


def change(metric: str, a: Score, b: Score, a_label: str, b_label: str) -> Change | None:
    """The change from period a to period b: difference, z and two-sided p (z-test of independent
    estimates: z = (b − a)/√(SEa² + SEb²))."""
    if a.value is None or b.value is None or a.se is None or b.se is None:
        return None
    se = math.sqrt(a.se ** 2 + b.se ** 2)
    delta = b.value - a.value
    if se == 0:
        return Change(metric, a_label, b_label, delta, math.inf if delta else 0.0, 0.0 if delta else 1.0,
                      bool(delta))
    z = delta / se
    p = _normal_p(z)
    return Change(metric, a_label, b_label, delta, z, p, p < 0.05)


def adjust_p(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """p-values adjusted for testing a family of hypotheses at once, in the order given.

    ``holm`` (Holm 1979) controls the chance of any false "significant" in the family, under any
    dependence between the tests: with the p-values sorted, p₍ᵢ₎ becomes max over j ≤ i of
    min(1, (m − j + 1)·p₍ⱼ₎). ``bh`` (Benjamini & Hochberg 1995) controls the expected share of false
    ones among those called significant: p₍ᵢ₎ becomes min over j ≥ i of min(1, m/j·p₍ⱼ₎).
    ``none`` leaves them as they are. Compare each adjusted p-value with 0.05.

    >>> [round(p, 3) for p in adjust_p([0.01, 0.04, 0.03, 0.005], "holm")]
    [0.03, 0.06, 0.06, 0.02]
    >>> [round(p, 3) for p in adjust_p([0.01, 0.04, 0.03, 0.005], "bh")]
    [0.02, 0.04, 0.04, 0.02]
    """
    if method not in CORRECTIONS:
        from ..errors import CentricError

        raise CentricError(f"unknown correction {method!r}; use one of {', '.join(CORRECTIONS)}")
    p = [float(v) for v in p_values]
    m = len(p)
    if method == "none" or m == 0:
        return p
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    if method == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p[i]))
            out[i] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            running = min(running, min(1.0, m / (rank + 1) * p[i]))
            out[i] = running
    return out


def correct(changes: Sequence[Change], method: str = "holm") -> list[Change]:
    """The same changes, each with its p-value adjusted across all of them (one family: the changes
    shown in one table or chart) and ``significant`` decided on the adjusted value."""
    adjusted = adjust_p([c.p_value for c in changes], method)
    return [replace(c, p_adjusted=q, correction=method, family=len(changes), significant=bool(q < ALPHA))
            for c, q in zip(changes, adjusted, strict=True)]
