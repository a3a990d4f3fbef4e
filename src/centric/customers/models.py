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

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import CentricError

MODEL_VERSION = "1"
MIN_CUSTOMERS = 20  # below these, the estimates are noise: refuse rather than mislead
MIN_REPEAT = 10


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
    nx: np.ndarray  # customers per distinct x
    N: float  # customers


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


def _codes(*columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Hash-based grouping of rows: (row code, the distinct values of each column per code)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        c, u = pd.factorize(col, sort=False)
        key = key * len(u) + c
    codes, _ = pd.factorize(key, sort=False)
    first = np.zeros(codes.max() + 1 if len(codes) else 0, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # the first row of each code
    return codes, [col[first] for col in columns]


def _group(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None) -> _Grouped:
    codes, (gx, gt, gT) = _codes(x, t_x, T)
    n = np.bincount(codes, weights=weights, minlength=len(gx)).astype(np.float64)
    ix, ux = pd.factorize(gx)
    it, ut = pd.factorize(gt)
    iT, uT = pd.factorize(gT)
    return _Grouped(n, gx, gt, gT, np.asarray(ux, dtype=np.float64), ix, np.asarray(ut, dtype=np.float64), it,
                    np.asarray(uT, dtype=np.float64), iT, np.bincount(ix, weights=n), float(n.sum()))


_POOL: ThreadPoolExecutor | None = None
_THREADS = max(1, min(8, os.cpu_count() or 1))
_CHUNK = 100_000  # below this many rows a single thread is faster
_SAMPLE = 50_000  # grouped rows for the first, rough fit of a large summary


def _parallel(fn, n: int) -> np.ndarray:
    """Σ fn(slice) over ``n`` rows, split across the machine's cores when there are many rows."""
    global _POOL
    if n < 2 * _CHUNK or _THREADS == 1:
        return fn(slice(0, n))
    if _POOL is None:
        _POOL = ThreadPoolExecutor(_THREADS, thread_name_prefix="centric-fit")
    k = min(_THREADS, n // _CHUNK)
    bounds = np.linspace(0, n, k + 1).astype(int)
    return sum(_POOL.map(fn, [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]))


def _polish(full, sample, start_at: np.ndarray) -> np.ndarray | None:
    """Large data: maximise the likelihood of a random sample of the customers (cheap), take the
    Hessian there from the analytic gradient, and finish on the full likelihood with BFGS started from
    that curvature — three to five full passes instead of twenty. ``full`` and ``sample`` are mean
    negative log-likelihoods over log-parameters. None when any step is not clean (the caller then
    maximises the full likelihood the ordinary way)."""
    with np.errstate(all="ignore"):
        # BFGS: on four parameters its Python loop costs less than L-BFGS-B's per-call overhead
        rough = optimize.minimize(sample, start_at, jac=True, method="BFGS", options={"gtol": 1e-8})
        if not (rough.success and np.isfinite(rough.fun) and (np.abs(rough.x) < 11.99).all()):
            return None
        h = 1e-5
        H = np.array([(sample(rough.x + h * e)[1] - sample(rough.x - h * e)[1]) / (2 * h)
                      for e in np.eye(len(start_at))])
        H = (H + H.T) / 2
        if not np.isfinite(H).all() or np.linalg.eigvalsh(H).min() <= 0:
            return None
        H_inv = np.linalg.inv(H)
        res = optimize.minimize(full, rough.x, jac=True, method="BFGS",
                                options={"gtol": 1e-7, "hess_inv0": (H_inv + H_inv.T) / 2})
    if not (res.success and np.isfinite(res.fun) and (np.abs(res.x) < 11.99).all()):
        return None
    return np.exp(res.x)


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
    # BG/NBD and MBG/NBD differ only in where a drop-out may happen: after each repeat purchase (the
    # beta terms in b + x, a + b + x; no drop-out without a repeat purchase), or after every purchase
    # including the first (b + x + 1, a + b + x + 1). ``shift`` is that difference.
    shift = 0

    @classmethod
    def _ll_sums(cls, p: np.ndarray, g: _Grouped, grad: bool) -> tuple[float, np.ndarray | None]:
        """The total log-likelihood Σ n·LL and, with ``grad``, its gradient in (r, α, a, b). Terms that
        depend on x alone are computed once per distinct x and weighted by the count of each x."""
        r, alpha, a, b = p
        ux, nx = g.ux, g.nx
        bx = b + ux + cls.shift
        can_drop = (ux > 0) | (cls.shift > 0)
        A12 = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
               + special.gammaln(a + b) + special.gammaln(bx) - special.gammaln(b) - special.gammaln(a + bx))
        bx1 = np.where(can_drop, bx - 1, 1.0)
        c4 = np.where(can_drop, np.log(a) - np.log(bx1), -np.inf)
        c_lT, c_lt = np.log(alpha + g.uT), np.log(alpha + g.ut)
        c_invT, c_invt = 1.0 / (alpha + g.uT), 1.0 / (alpha + g.ut)
        c_invb = np.where(can_drop, 1.0 / bx1, 0.0)

        def rows(sl: slice) -> np.ndarray:
            """Sums over one slice of the grouped rows (slices run in parallel: numpy frees the GIL)."""
            n, ix = g.n[sl], g.ix[sl]
            lT, lt = c_lT[g.iT[sl]], c_lt[g.it[sl]]
            rx = r + g.x[sl]
            # LL = A12 + logaddexp(A3, A4), A3 = −(r+x)·ln(α+T), A4 = c4(x) − (r+x)·ln(α+t_x)
            d = c4[ix] + rx * (lT - lt)  # A4 − A3
            ll = np.dot(n, np.logaddexp(0.0, d) - rx * lT)
            if not grad:
                return np.array([ll])
            nw = n * special.expit(d)  # weight of the "dropped out after the last purchase" term
            n1w = n - nw
            return np.array([ll, np.dot(n1w, lT), np.dot(nw, lt), np.dot(n1w * rx, c_invT[g.iT[sl]]),
                             np.dot(nw * rx, c_invt[g.it[sl]]), nw.sum(), np.dot(nw, c_invb[ix])])

        parts = _parallel(rows, len(g.n))
        total = float(np.dot(nx, A12) + parts[0])
        if not grad:
            return total, None
        _, s_lT, s_lt, s_invT, s_invt, s_nw, s_invb = parts
        d_r = np.dot(nx, special.digamma(r + ux) - special.digamma(r) + np.log(alpha)) - s_lT - s_lt
        d_alpha = r / alpha * g.N - s_invT - s_invt
        psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + bx)
        d_a = np.dot(nx, psi_ab - psi_abx) + s_nw / a
        d_b = np.dot(nx, psi_ab + special.digamma(bx) - special.digamma(b) - psi_abx) - s_invb
        return total, np.array([d_r, d_alpha, d_a, d_b])

    def _objective(self, g: _Grouped, total: float):
        def fun(logp: np.ndarray):
            p = np.exp(logp)
            ll, d = self._ll_sums(p, g, grad=True)
            f = -ll / total + self.penalizer * np.sum(p ** 2)
            gr = -d / total + 2 * self.penalizer * p
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
        n_all = float(w.sum()) if w is not None else len(x)
        n_rep = float(w[x > 0].sum()) if w is not None else int((x > 0).sum())
        if n_all < MIN_CUSTOMERS or n_rep < MIN_REPEAT:
            raise ConvergenceError(f"BG/NBD: {n_all:,.0f} customers of whom {n_rep:,.0f} bought again are too few to "
                                   f"estimate a purchase rhythm (at least {MIN_CUSTOMERS} customers and {MIN_REPEAT} "
                                   "repeat buyers); load more orders or a longer history")
        g = _group(x, t_x, T, w)
        total = float(g.n.sum())
        s = start or {"r": 1.0, "alpha": max(float(np.mean(T)), 1e-3), "a": 1.0, "b": 1.0}
        start_at = np.log([s[k] for k in self.names])
        hint = "too few repeat buyers, or everyone buys at the same rhythm"
        p = self._polish_from_sample(g, start_at) if start is None and len(g.n) > 4 * _SAMPLE else None
        if p is None:
            p = _minimize(self._objective(g, total), start_at, "BG/NBD", self.names, hint)
        self.params_ = dict(zip(self.names, map(float, p), strict=True))
        self.log_likelihood_, _ = self._ll_sums(p, g, grad=False)
        self.n_customers_, self.n_groups_ = int(total), len(g.n)
        return self

    def _polish_from_sample(self, g: _Grouped, start_at: np.ndarray) -> np.ndarray | None:
        keep = np.random.default_rng(0).binomial(g.n.astype(np.int64), min(1.0, _SAMPLE / len(g.n)))
        on = keep > 0
        sub = _group(g.x[on], g.t_x[on], g.T[on], keep[on].astype(np.float64))
        return _polish(self._objective(g, g.N), self._objective(sub, sub.N), start_at)

    # -- predictions --------------------------------------------------------------------------------
    def _p(self):
        if not self.params_:
            raise CentricError("the model is not fitted: call fit(summary) first")
        return (self.params_[k] for k in self.names)

    def _pair_log_odds(self, x, T):
        """The part of the drop-out log-odds that depends on (x, T): ln a − ln(b + x + shift − 1)
        + (r + x)·ln(α + T); −inf where no drop-out is possible (BG/NBD without a repeat purchase)."""
        r, alpha, a, b = self._p()
        can_drop = (x > 0) | (self.shift > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(a) - np.log(np.where(can_drop, b + x + self.shift - 1, 1.0)) + (r + x) * np.log(alpha + T)
        return np.where(can_drop, v, -np.inf)

    def _log_odds_dead(self, x, t_x, T):
        """log of a/(b+x+shift−1)·((α+T)/(α+t_x))^(r+x): the odds of having dropped out after the last
        purchase against still buying."""
        r, alpha, _, _ = self._p()
        with np.errstate(invalid="ignore"):
            return self._pair_log_odds(x, T) - (r + x) * np.log(alpha + t_x)

    def probability_alive(self, summary: pd.DataFrame) -> np.ndarray:
        """P(alive | x, t_x, T), one value per row (1 for customers with no repeat purchase)."""
        x, t_x, T = _columns(summary, ("frequency", "recency", "T"))
        return special.expit(-self._log_odds_dead(x, t_x, T))

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> np.ndarray:
        """Expected purchases in the next ``t`` time units (the summary's unit), per row."""
        x, t_x, T = _columns(summary, ("frequency", "recency", "T"))
        return self._conditional(np.asarray(t, dtype=np.float64), x, t_x, T)

    def _conditional(self, t, x, t_x, T):
        return self._horizons([float(t)], x, t_x, T, [1.0])

    def _horizons(self, ts, x, t_x, T, weights) -> np.ndarray:
        """Σ_k weights[k] · (E[purchases in (T, T+ts[k])] − E[purchases in (T, T+ts[k−1])]) per row, with
        ts[−1] = 0: one expected count for a single horizon, or a discounted sum over months (CLV).
        The hypergeometric part depends on (x, T) only and is computed once per distinct pair; P(alive)
        is computed once per row."""
        r, alpha, a, b = self._p()
        inv, (ux, uT) = _codes(x, T)
        with np.errstate(invalid="ignore"):
            alive = special.expit((r + x) * np.log(alpha + t_x) - self._pair_log_odds(ux, uT)[inv])
        bx = b + ux + self.shift
        acc = np.zeros(len(ux))
        prev = np.zeros(len(ux))
        la = np.log(alpha + uT)
        for t, w in zip(ts, weights, strict=True):
            hyp = special.hyp2f1(r + ux, bx, a + bx - 1, t / (alpha + uT + t))
            part = ((a + bx - 1) / (a - 1)) * (1 - np.exp((r + ux) * (la - np.log(alpha + uT + t))) * hyp)
            acc += w * (part - prev)
            prev = part
        return acc[inv] * alive

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)]: expected purchases by a new customer in a period of length t."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=np.float64)
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - np.exp(r * (np.log(alpha) - np.log(alpha + t))) * hyp)


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but a customer may also drop out right
    after the first purchase, so a one-time buyer who has been silent for long is not certainly alive.
    Same interface and parameters (r, alpha, a, b) as :class:`BetaGeo`; on CDNOW r = 0.525,
    α = 6.183, a = 0.891, b = 1.614 (as lifetimes' ``ModifiedBetaGeoFitter``)."""

    shift = 1

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=np.float64)
        hyp = special.hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - np.exp(r * (np.log(alpha) - np.log(alpha + t))) * hyp)


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
    def _ll_sums(params, g: dict, grad: bool):
        """Σ n·LL and its gradient in (p, q, γ). Per row only ln(γ + x·m̄) and 1/(γ + x·m̄) change with
        the parameters; every term of x alone is computed once per distinct x."""
        p, q, v = params
        ux, nx, N = g["ux"], g["nx"], g["N"]
        pux = p * ux
        lxm = np.log(v + g["xm"])
        s_lxm, s_xlxm = np.dot(g["n"], lxm), np.dot(g["nx_row"], lxm)
        ll = (np.dot(nx, special.gammaln(pux + q) - special.gammaln(pux) + pux * np.log(ux))
              + N * (q * np.log(v) - special.gammaln(q)) + p * g["s_xlm"] - g["s_lm"] - p * s_xlxm - q * s_lxm)
        if not grad:
            return ll, None
        psi = special.digamma(pux + q)
        inv = 1.0 / (v + g["xm"])
        d_p = np.dot(nx * ux, psi - special.digamma(pux) + np.log(ux)) + g["s_xlm"] - s_xlxm
        d_q = np.dot(nx, psi) - N * special.digamma(q) + N * np.log(v) - s_lxm
        d_v = N * q / v - p * np.dot(g["nx_row"], inv) - q * np.dot(g["n"], inv)
        return ll, np.array([d_p, d_q, d_v])

    @staticmethod
    def _prepare(x: np.ndarray, m: np.ndarray) -> dict:
        # mean spends are real numbers and rarely repeat: rows are not collapsed, only terms of x
        gx, gm, n = x, m, np.ones(len(x))
        ix, ux = pd.factorize(gx)
        ux = np.asarray(ux, dtype=np.float64)
        lm = np.log(gm)
        return {"n": n, "ux": ux, "nx": np.bincount(ix, weights=n), "N": float(n.sum()), "xm": gx * gm,
                "nx_row": n * gx, "s_xlm": float(np.dot(n * gx, lm)), "s_lm": float(np.dot(n, lm)), "m": gm}

    def _objective(self, g: dict):
        def fun(logp):
            par = np.exp(logp)
            ll, d = self._ll_sums(par, g, True)
            f = -ll / g["N"] + self.penalizer * np.sum(par ** 2)
            return f, (-d / g["N"] + 2 * self.penalizer * par) * par
        return fun

    def fit(self, summary: pd.DataFrame, start: dict[str, float] | None = None) -> GammaGamma:
        """Fit on the repeat buyers of ``summary`` (rows with frequency > 0 and monetary_value > 0)."""
        x, m = _columns(summary, ("frequency", "monetary_value"))
        keep = (x > 0) & (m > 0)
        if keep.sum() < MIN_REPEAT:
            raise ConvergenceError(f"Gamma-Gamma needs at least {MIN_REPEAT} repeat buyers with a positive spend; "
                                   f"there are {int(keep.sum())}")
        x, m = x[keep], m[keep]
        # γ is a scale parameter: fit on spends divided by their mean, then scale γ back, so that
        # amounts in yen and in euro converge alike
        scale = float(m.mean())
        g = self._prepare(x, m / scale)
        total = g["N"]

        fun = self._objective(g)

        s = dict(start) if start else {"p": 1.0, "q": 1.0, "gamma": 1.0}
        s["gamma"] = s["gamma"] / (scale if start else 1.0)
        start_at = np.log([s[k] for k in self.names])
        par = None
        if start is None and len(x) > 4 * _SAMPLE:
            pick = np.random.default_rng(0).choice(len(x), _SAMPLE, replace=False)
            par = _polish(fun, self._objective(self._prepare(x[pick], m[pick] / scale)), start_at)
        if par is None:
            par = _minimize(fun, start_at, "Gamma-Gamma", self.names,
                            "too few repeat buyers, or their mean spends differ no more than chance")
        par[2] *= scale
        self.params_ = dict(zip(self.names, map(float, par), strict=True))
        # the same likelihood in the original units: every row's term shifts by −ln(scale)
        ll_scaled, _ = self._ll_sums(par * [1.0, 1.0, 1.0 / scale], g, False)
        self.log_likelihood_ = float(ll_scaled - total * np.log(scale))
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
    months = range(1, horizon + 1)
    per_purchase = purchases._horizons([i * factor for i in months], x, t_x, T,
                                       [(1 + discount_rate) ** -i for i in months])
    return per_purchase * spend
