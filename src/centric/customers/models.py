"""Purchase-rhythm models for non-contractual customers: BG/NBD (Fader, Hardie & Lee 2005,
"Counting your customers the easy way") and Gamma-Gamma spend (Fader, Hardie & Lee 2005, "RFM and
CLV"), fitted by maximum likelihood.

Both follow the estimator contract of lifetimes (same column names, same parameter names), with three
differences that matter at scale:

- the likelihood is summed over *grouped* sufficient statistics — identical (x, t_x, T) rows are
  collapsed with a count, and every term that depends on x alone (the log-gamma and digamma terms)
  is computed once per distinct x;
- gradients are analytic, so L-BFGS needs a few dozen evaluations;
- every quantity is computed in log space (``logaddexp``, log-gamma), so large frequencies and long
  histories cannot overflow.

A fit that does not converge raises :class:`ConvergenceError` with advice, never a warning.

>>> import pandas as pd
>>> s = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
>>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> round(float(m.expected_purchases(39, s)[0]), 3)
1.226
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import CentricError

MODEL_VERSION = "1"


class ConvergenceError(CentricError):
    """The likelihood could not be maximised; the message says what to try."""


@dataclass
class _Grouped:
    """Distinct (x, t_x, T) rows with their counts, and the distinct x, t_x and T values."""

    n: np.ndarray  # count of each distinct row
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    ux: np.ndarray  # distinct x and the index of each row's x
    ix: np.ndarray
    ut: np.ndarray  # distinct t_x
    it: np.ndarray
    uT: np.ndarray  # distinct T
    iT: np.ndarray


def _columns(summary: pd.DataFrame, names: tuple[str, ...]) -> list[np.ndarray]:
    missing = [c for c in names if c not in summary.columns]
    if missing:
        raise CentricError(f"the summary has no column {', '.join(missing)}; it needs {', '.join(names)} "
                           "(see centric.customers.rfm_summary)")
    cols = [summary[c].to_numpy(dtype=np.float64) for c in names]
    for c, v in zip(names, cols, strict=True):
        if not np.isfinite(v).all():
            raise CentricError(f"column {c} has missing or infinite values")
        if (v < 0).any():
            raise CentricError(f"column {c} has negative values")
    return cols


def _group(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None) -> _Grouped:
    # one int64 key per row would be faster but T and t_x are real numbers; np.unique on a record
    # view of the three columns collapses identical rows
    rows = np.empty(len(x), dtype=[("x", "f8"), ("t", "f8"), ("T", "f8")])
    rows["x"], rows["t"], rows["T"] = x, t_x, T
    uniq, inverse = np.unique(rows, return_inverse=True)
    n = np.bincount(inverse, weights=weights, minlength=len(uniq)).astype(np.float64)
    gx, gt, gT = uniq["x"].copy(), uniq["t"].copy(), uniq["T"].copy()
    ux, ix = np.unique(gx, return_inverse=True)
    ut, it = np.unique(gt, return_inverse=True)
    uT, iT = np.unique(gT, return_inverse=True)
    return _Grouped(n, gx, gt, gT, ux, ix, ut, it, uT, iT)


def _minimize(fun, start: np.ndarray, what: str, names: tuple[str, ...], hint: str = "") -> np.ndarray:
    """Minimise over log-parameters with L-BFGS-B and analytic gradients."""
    with np.errstate(all="ignore"):
        res = optimize.minimize(fun, start, jac=True, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * len(start),
                                options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-13})
    params = np.exp(res.x)
    at_bound = np.abs(res.x) >= 11.99
    if not np.isfinite(res.fun) or not np.isfinite(params).all():
        raise ConvergenceError(f"{what}: the likelihood is not finite at the start values; check the summary "
                               "(frequency ≤ T, recency ≤ T) or pass other start values")
    if at_bound.any():
        bad = ", ".join(n for n, b in zip(names, at_bound, strict=True) if b)
        raise ConvergenceError(f"{what}: parameter {bad} ran to the edge of its range — the data do not "
                               f"identify the model ({hint or 'too few repeat buyers'}). Use more customers or a "
                               "longer history, or add a penalizer.")
    if not res.success and np.max(np.abs(res.jac)) > 1e-3:
        raise ConvergenceError(f"{what}: the optimiser stopped without converging ({res.message}); try other "
                               "start values, a penalizer, or a summary in weeks instead of days")
    return params


class BetaGeo:
    """BG/NBD: purchases follow a Poisson process with gamma(r, α) heterogeneity in the rate; after
    each purchase a customer drops out with probability p ~ beta(a, b).

    ``fit(summary)`` reads ``frequency`` (x), ``recency`` (t_x) and ``T``; ``params_`` has r, alpha, a,
    b; ``log_likelihood_`` is the total log-likelihood (the published CDNOW value is −9582.4).
    ``penalizer`` adds penalizer·Σθ² to the negative mean log-likelihood, as in lifetimes.
    """

    names = ("r", "alpha", "a", "b")

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer
        self.params_: dict[str, float] = {}
        self.log_likelihood_: float = float("nan")
        self.n_customers_: int = 0
        self.n_groups_: int = 0

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> BetaGeo:
        m = cls()
        m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
        return m

    # -- likelihood -------------------------------------------------------------------------------
    @staticmethod
    def _ll_terms(p: np.ndarray, g: _Grouped, grad: bool):
        r, alpha, a, b = p
        ux = g.ux
        # terms of x alone, once per distinct x
        A12 = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
               + special.gammaln(a + b) + special.gammaln(b + ux) - special.gammaln(b) - special.gammaln(a + b + ux))
        pos = ux > 0
        c4 = np.where(pos, np.log(a) - np.log(np.where(pos, b + ux - 1, 1.0)), -np.inf)
        lT = np.log(alpha + g.uT)[g.iT]
        lt = np.log(alpha + g.ut)[g.it]
        rx = r + g.x
        A3 = -rx * lT
        A4 = c4[g.ix] - rx * lt
        ll = A12[g.ix] + np.logaddexp(A3, A4)
        if not grad:
            return ll, None
        w = np.exp(A4 - np.logaddexp(A3, A4))  # weight of the "still alive after the last purchase" term
        dr_x = special.digamma(r + ux) - special.digamma(r) + np.log(alpha)
        da_x = special.digamma(a + b) - special.digamma(a + b + ux)
        db_x = special.digamma(a + b) + special.digamma(b + ux) - special.digamma(b) - special.digamma(a + b + ux)
        inv_a = 1.0 / a
        inv_b = np.where(pos, 1.0 / np.where(pos, b + ux - 1, 1.0), 0.0)
        d_r = dr_x[g.ix] - (1 - w) * lT - w * lt
        d_alpha = r / alpha - (1 - w) * rx / (alpha + g.T) - w * rx / (alpha + g.t_x)
        d_a = da_x[g.ix] + w * inv_a
        d_b = db_x[g.ix] - w * inv_b[g.ix]
        return ll, (d_r, d_alpha, d_a, d_b)

    def _objective(self, g: _Grouped, total: float):
        def fun(logp: np.ndarray):
            p = np.exp(logp)
            ll, d = self._ll_terms(p, g, grad=True)
            f = -np.dot(g.n, ll) / total + self.penalizer * np.sum(p ** 2)
            gr = np.array([-np.dot(g.n, di) / total for di in d]) + 2 * self.penalizer * p
            return f, gr * p  # chain rule for the log-parameters
        return fun

    def fit(self, summary: pd.DataFrame, weights: str | None = None, start: dict[str, float] | None = None) -> BetaGeo:
        """Fit to a summary (``rfm_summary``); ``weights`` names a column of counts when the summary is
        already grouped (like lifetimes' ``weights``)."""
        x, t_x, T = _columns(summary, ("frequency", "recency", "T"))
        if len(x) == 0:
            raise CentricError("cannot fit BG/NBD to an empty summary")
        if (t_x > T + 1e-9).any() or ((x > 0) & (t_x <= 0)).any():
            raise CentricError("recency must be ≤ T, and positive for customers with repeat purchases")
        if (x % 1 != 0).any():
            raise CentricError("frequency must be a whole number of repeat purchases")
        if not (x > 0).any():
            raise ConvergenceError("BG/NBD: no customer bought twice, so the purchase rhythm cannot be estimated; "
                                   "wait for repeat purchases or lengthen the history")
        w = summary[weights].to_numpy(dtype=np.float64) if weights else None
        g = _group(x, t_x, T, w)
        total = float(g.n.sum())
        s = start or {"r": 1.0, "alpha": max(float(np.mean(T)), 1e-3), "a": 1.0, "b": 1.0}
        p = _minimize(self._objective(g, total), np.log([s[k] for k in self.names]), "BG/NBD", self.names,
                      "too few repeat buyers, or everyone buys at the same rhythm")
        self.params_ = dict(zip(self.names, map(float, p), strict=True))
        ll, _ = self._ll_terms(p, g, grad=False)
        self.log_likelihood_ = float(np.dot(g.n, ll))
        self.n_customers_, self.n_groups_ = int(total), len(g.n)
        return self

    # -- predictions --------------------------------------------------------------------------------
    def _p(self):
        if not self.params_:
            raise CentricError("the model is not fitted: call fit(summary) first")
        return (self.params_[k] for k in self.names)

    def _log_odds_dead(self, x, t_x, T):
        """log of a/(b+x−1)·((α+T)/(α+t_x))^(r+x) for x > 0, −inf for x = 0."""
        r, alpha, a, b = self._p()
        pos = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(pos, v, -np.inf)

    def probability_alive(self, summary: pd.DataFrame) -> np.ndarray:
        """P(alive | x, t_x, T), one value per row (1 for customers with no repeat purchase)."""
        x, t_x, T = _columns(summary, ("frequency", "recency", "T"))
        return special.expit(-self._log_odds_dead(x, t_x, T))

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> np.ndarray:
        """Expected purchases in the next ``t`` time units (the summary's unit), per row."""
        x, t_x, T = _columns(summary, ("frequency", "recency", "T"))
        return self._conditional(np.asarray(t, dtype=np.float64), x, t_x, T)

    def _conditional(self, t, x, t_x, T):
        r, alpha, a, b = self._p()
        # the hypergeometric term depends on (x, T) only: compute it once per distinct pair
        pairs = np.empty(len(x), dtype=[("x", "f8"), ("T", "f8")])
        pairs["x"], pairs["T"] = x, T
        up, inv = np.unique(pairs, return_inverse=True)
        ux, uT = up["x"], up["T"]
        z = t / (alpha + uT + t)
        log_ratio = (r + ux) * (np.log(alpha + uT) - np.log(alpha + uT + t))
        hyp = special.hyp2f1(r + ux, b + ux, a + b + ux - 1, z)
        part = ((a + b + ux - 1) / (a - 1)) * (1 - np.exp(log_ratio) * hyp)
        return part[inv] * special.expit(-self._log_odds_dead(x, t_x, T))

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)]: expected purchases by a new customer in a period of length t."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=np.float64)
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - np.exp(r * (np.log(alpha) - np.log(alpha + t))) * hyp)


class GammaGamma:
    """Gamma-Gamma spend model: a customer's mean spend per purchase varies around their own mean ν,
    ν ~ gamma(q, γ), spend | ν ~ gamma(p, ν). Fitted on repeat buyers (frequency > 0) from
    ``frequency`` and ``monetary_value``; ``params_`` has p, q, gamma."""

    names = ("p", "q", "gamma")

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer
        self.params_: dict[str, float] = {}
        self.log_likelihood_: float = float("nan")
        self.n_customers_: int = 0

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> GammaGamma:
        m = cls()
        m.params_ = {"p": p, "q": q, "gamma": gamma}
        return m

    @staticmethod
    def _ll(params, n, x, m, lx, lm, grad):
        p, q, v = params
        px = p * x
        lxm = np.log(v + x * m)
        ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
              + (px - 1) * lm + px * lx - (px + q) * lxm)
        if not grad:
            return ll, None
        psi_pq = special.digamma(px + q)
        d_p = x * (psi_pq - special.digamma(px) + lm + lx - lxm)
        d_q = psi_pq - special.digamma(q) + np.log(v) - lxm
        d_v = q / v - (px + q) / (v + x * m)
        return ll, (d_p, d_q, d_v)

    def fit(self, summary: pd.DataFrame, start: dict[str, float] | None = None) -> GammaGamma:
        """Fit on the repeat buyers of ``summary`` (rows with frequency > 0 and monetary_value > 0)."""
        x, m = _columns(summary, ("frequency", "monetary_value"))
        keep = (x > 0) & (m > 0)
        if keep.sum() < 3:
            raise ConvergenceError("Gamma-Gamma needs repeat buyers with a positive spend; there are "
                                   f"{int(keep.sum())}")
        rows = np.empty(int(keep.sum()), dtype=[("x", "f8"), ("m", "f8")])
        rows["x"], rows["m"] = x[keep], m[keep]
        uniq, inv = np.unique(rows, return_inverse=True)
        n = np.bincount(inv).astype(np.float64)
        # γ is a scale parameter: fit on spends divided by their mean, then scale γ back, so that
        # amounts in yen and in euro converge alike
        scale = float(np.average(uniq["m"], weights=n))
        gx, gm = uniq["x"], uniq["m"] / scale
        lx, lm = np.log(gx), np.log(gm)
        total = n.sum()

        def fun(logp):
            par = np.exp(logp)
            ll, d = self._ll(par, n, gx, gm, lx, lm, True)
            f = -np.dot(n, ll) / total + self.penalizer * np.sum(par ** 2)
            g = np.array([-np.dot(n, di) / total for di in d]) + 2 * self.penalizer * par
            return f, g * par

        s = dict(start) if start else {"p": 1.0, "q": 1.0, "gamma": 1.0}
        s["gamma"] = s["gamma"] / (scale if start else 1.0)
        par = _minimize(fun, np.log([s[k] for k in self.names]), "Gamma-Gamma", self.names,
                        "too few repeat buyers, or their mean spends differ no more than chance")
        par[2] *= scale
        self.params_ = dict(zip(self.names, map(float, par), strict=True))
        gm = uniq["m"]
        ll, _ = self._ll(par, n, gx, gm, lx, np.log(gm), False)
        self.log_likelihood_ = float(np.dot(n, ll))
        self.n_customers_ = int(total)
        return self

    def expected_spend(self, summary: pd.DataFrame) -> np.ndarray:
        """E[spend per purchase | x, mean spend]; the population mean γp/(q−1) for x = 0."""
        if not self.params_:
            raise CentricError("the model is not fitted: call fit(summary) first")
        p, q, v = (self.params_[k] for k in self.names)
        x, m = _columns(summary, ("frequency", "monetary_value"))
        m = np.where(x > 0, m, 0.0)
        return (v + x * m) * p / (p * x + q - 1)

    def clv(self, summary: pd.DataFrame, horizon: int = 12, discount_rate: float = 0.01, *,
            purchases: BetaGeo, unit: str | None = None) -> np.ndarray:
        """Discounted value of the next ``horizon`` months per row: for each month i, the expected
        purchases in that month (BG/NBD) × the expected spend, divided by (1 + discount_rate)^i. The
        month is 30 days (4.345 weeks), as in lifetimes; ``unit`` is the summary's time unit
        (``"D"`` or ``"W"``; default: ``summary.attrs["unit"]``, else days)."""
        return discounted_value(purchases, summary, self.expected_spend(summary), horizon, discount_rate, unit)


def discounted_value(purchases: BetaGeo, summary: pd.DataFrame, spend: np.ndarray, horizon: int = 12,
                     discount_rate: float = 0.01, unit: str | None = None) -> np.ndarray:
    """CLV from a BG/NBD model and a spend per purchase per row: Σ over months i = 1 … horizon of the
    expected purchases in month i × spend / (1 + discount_rate)^i (months of 30 days, as in lifetimes)."""
    unit = unit or summary.attrs.get("unit", "D")
    factor = {"D": 30.0, "W": 4.345}.get(unit)
    if factor is None:
        raise CentricError(f"unknown time unit {unit!r}; use 'D' or 'W'")
    x, t_x, T = _columns(summary, ("frequency", "recency", "T"))
    value = np.zeros(len(x))
    prev = np.zeros(len(x))
    for i in range(1, horizon + 1):
        cur = purchases._conditional(np.float64(i * factor), x, t_x, T)
        value += (cur - prev) * spend / (1 + discount_rate) ** i
        prev = cur
    return value
