"""Customer models against published answers (CDNOW, Fader, Hardie & Lee 2005) and hand computations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from centric.customers import BetaGeo, ConvergenceError, GammaGamma, calibration_table, rfm_summary
from centric.customers.models import _group
from centric.errors import CentricError

from .engines import ALL

CDNOW = Path(__file__).parent / "data" / "cdnow"


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype={"date": str},
                      names=["original_id", "customer_id", "date", "cds", "amount"])
    raw["ordered_at"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


@pytest.fixture(scope="module")
def cdnow(cdnow_orders) -> pd.DataFrame:
    return rfm_summary(cdnow_orders, unit="W", calibration_end="1997-09-30", observation_end="1998-06-30")


@pytest.fixture(scope="module")
def bg(cdnow) -> BetaGeo:
    return BetaGeo().fit(cdnow)


def test_rfm_summary_reproduces_the_published_calibration_summary(cdnow):
    ref = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").set_index("ID")
    s = cdnow.reindex(ref.index)
    assert len(cdnow) == 2357
    assert (s["frequency"] == ref["x"]).all()
    assert np.allclose(s["recency"].round(2), ref["t_x"]) and np.allclose(s["T"].round(2), ref["T"])
    assert np.allclose(s["monetary_value"], ref["zbar"], atol=0.006)  # published to the cent
    assert cdnow.attrs["unit"] == "W"


def test_holdout_total_is_the_published_1882(cdnow):
    assert int(cdnow["frequency_holdout"].sum()) == 1882
    assert np.allclose(cdnow["duration_holdout"], 39.0)


@pytest.mark.capability("customers summary", engines=ALL)
def test_rfm_summary_by_hand(store, engine):
    orders = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b", "c"],
                           "ordered_at": ["2025-01-01 09:00", "2025-01-01 18:00", "2025-01-08", "2025-01-15",
                                          "2025-01-10", "2025-02-01"],
                           "amount": [10, 20, 40, 60, 5, 7]})
    s = rfm_summary(orders, observation_end="2025-01-29", calibration_end="2025-01-12")
    # a: days 1, 8 in calibration (1 Jan twice merged) → frequency 1, recency 7, T 11, repeat mean 40
    assert s.loc["a"].tolist()[:4] == [1, 7.0, 11.0, 40.0]
    assert s.loc["a", "frequency_holdout"] == 1 and s.loc["a", "monetary_value_holdout"] == 60
    assert s.loc["b"].tolist()[:4] == [0, 0.0, 2.0, 0.0]
    assert "c" not in s.index  # first bought after the observation ends
    w = rfm_summary(orders, unit="W", observation_end="2025-01-29")
    assert w.loc["a", "recency"] == pytest.approx(14 / 7) and w.loc["a", "T"] == pytest.approx(28 / 7)
    # the same orders in the store, summarised by the engine (centric customers summary)
    from centric.customers.rfm import store_summary

    store.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at, amount, currency) "
                          "VALUES (?, ?, ?, ?, 'EUR')",
                          [(f"o{i}", c, pd.Timestamp(t).to_pydatetime(), float(a)) for i, (c, t, a) in
                           enumerate(zip(orders.customer_id, orders.ordered_at, orders.amount, strict=True))])
    got = store_summary(engine.store_of(store), observation_end="2025-01-29", unit="W")
    # a: days 1, 8, 15 → two repeat days, 14 days from the first to the last, 28 to the end, repeats 40 and 60
    assert got.loc["a"].tolist() == [2, pytest.approx(2.0), pytest.approx(4.0), pytest.approx(50.0)]
    assert got.loc["b"].tolist() == [0, 0.0, pytest.approx(19 / 7), 0.0] and "c" not in got.index
    pd.testing.assert_frame_equal(got, w, check_exact=False, rtol=1e-9)


def test_rfm_summary_errors_name_the_problem():
    bad = pd.DataFrame({"customer_id": ["a"], "ordered_at": ["yesterday"], "amount": [1.0]})
    with pytest.raises(CentricError, match="row 1"):
        rfm_summary(bad)
    with pytest.raises(CentricError, match="no column 'amount'"):
        rfm_summary(bad.drop(columns="amount"))
    ok = pd.DataFrame({"customer_id": ["a"], "ordered_at": ["2025-01-01"], "amount": [1.0]})
    with pytest.raises(CentricError, match="before observation_end"):
        rfm_summary(ok, calibration_end="2025-02-01", observation_end="2025-01-15")


def test_bgnbd_recovers_the_published_cdnow_parameters(bg):
    p = bg.params_
    assert p["r"] == pytest.approx(0.243, abs=5e-4)
    assert p["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert p["a"] == pytest.approx(0.793, abs=5e-4)
    assert p["b"] == pytest.approx(2.426, abs=5e-4)
    assert bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bg.n_customers_ == 2357 and bg.n_groups_ < 2357  # identical rows collapsed


def test_bgnbd_published_conditional_expectation():
    m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert m.expected_purchases(39, one)[0] == pytest.approx(1.226, abs=5e-4)


def test_probability_alive_by_hand():
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    m = BetaGeo.from_params(r, alpha, a, b)
    s = pd.DataFrame({"frequency": [0, 2, 2], "recency": [0.0, 30.43, 5.0], "T": [38.86, 38.86, 38.86]})
    hand = [1.0] + [1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + t)) ** (r + 2)) for t in (30.43, 5.0)]
    assert np.allclose(m.probability_alive(s), hand)


def test_holdout_predictions_by_frequency_group(bg, cdnow):
    table = calibration_table(bg, cdnow)
    assert table["customers"].sum() == 2357 and table["actual_total"].sum() == 1882
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # the model's known fit on CDNOW: within 15% in total, rising with frequency
    assert 0.85 < table["predicted_total"].sum() / 1882 < 1.0
    assert table["predicted"].is_monotonic_increasing


def test_gamma_gamma_recovers_the_published_parameters(cdnow):
    gg = GammaGamma().fit(cdnow)
    assert gg.params_["p"] == pytest.approx(6.25, abs=5e-3)
    assert gg.params_["q"] == pytest.approx(3.74, abs=5e-3)
    assert gg.params_["gamma"] == pytest.approx(15.44, abs=5e-3)
    assert gg.n_customers_ == 946  # repeat buyers only
    # expected spend is a weighted mean of the population mean and the customer's own mean
    p, q, v = (gg.params_[k] for k in ("p", "q", "gamma"))
    one = pd.DataFrame({"frequency": [2, 0], "monetary_value": [22.35, 0.0]})
    pop = v * p / (q - 1)
    w = (q - 1) / (p * 2 + q - 1)
    assert gg.expected_spend(one) == pytest.approx([w * pop + (1 - w) * 22.35, pop])


def test_gamma_gamma_is_scale_invariant(cdnow):
    a = GammaGamma().fit(cdnow)
    b = GammaGamma().fit(cdnow.assign(monetary_value=cdnow["monetary_value"] * 1000))
    assert b.params_["p"] == pytest.approx(a.params_["p"], rel=1e-4)
    assert b.params_["gamma"] == pytest.approx(a.params_["gamma"] * 1000, rel=1e-4)


def test_clv_equals_a_direct_sum(bg, cdnow):
    gg = GammaGamma().fit(cdnow)
    rows = cdnow.iloc[:5]
    clv = gg.clv(rows, horizon=3, discount_rate=0.01, purchases=bg)
    spend = gg.expected_spend(rows)
    cum = [bg.expected_purchases(4.345 * i, rows) for i in range(4)]
    direct = sum((cum[i] - cum[i - 1]) * spend / 1.01 ** i for i in range(1, 4))
    assert np.allclose(clv, direct) and (clv > 0).all()


def test_gradients_are_analytic_and_right(cdnow):
    x, t, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    g = _group(x, t, T)
    fun = BetaGeo()._objective(g, float(g.n.sum()))
    for point in (np.log([0.243, 4.414, 0.793, 2.426]), np.log([1.0, 10.0, 2.0, 5.0])):
        err = optimize.check_grad(lambda p: fun(p)[0], lambda p: fun(p)[1], point)
        assert err < 1e-5


def test_grouped_and_weighted_fits_agree(cdnow):
    counts = cdnow.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    a = BetaGeo().fit(cdnow)
    b = BetaGeo().fit(counts, weights="n")
    for k in a.params_:
        assert b.params_[k] == pytest.approx(a.params_[k], rel=1e-5)


def test_no_overflow_with_huge_frequencies_and_long_histories(cdnow):
    s = pd.DataFrame({"frequency": [0, 3, 5000, 20000], "recency": [0.0, 100.0, 9995.0, 36000.0],
                      "T": [50.0, 300.0, 10000.0, 36500.0]})
    m = BetaGeo.from_params(r=0.5, alpha=20.0, a=0.8, b=2.5)
    p = m.probability_alive(s)
    e = m.expected_purchases(365, s)
    assert np.isfinite(p).all() and np.isfinite(e).all() and ((p >= 0) & (p <= 1)).all()
    # a buyer every two days who bought five days ago: about 365 / 2 purchases next year
    assert p[2] > 0.99 and 170 < e[2] < 185
    # two extreme customers among ordinary ones: the fit stays finite
    fitted = BetaGeo().fit(pd.concat([cdnow[["frequency", "recency", "T"]], s.iloc[2:] / [1, 7, 7]],
                                     ignore_index=True))
    assert np.isfinite(fitted.log_likelihood_)
    assert all(np.isfinite(v) and v > 0 for v in fitted.params_.values())


def test_simulated_customers_give_back_their_parameters():
    rng = np.random.default_rng(11)
    r, alpha, a, b, n, T = 0.8, 40.0, 0.9, 3.0, 20_000, 365.0
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    freq, rec = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            freq[i] += 1
            rec[i] = t
            if rng.random() < p[i]:
                break
    m = BetaGeo().fit(pd.DataFrame({"frequency": freq, "recency": rec, "T": T}))
    got = m.params_
    assert got["r"] == pytest.approx(r, rel=0.1) and got["alpha"] == pytest.approx(alpha, rel=0.15)
    assert got["a"] == pytest.approx(a, rel=0.25) and got["b"] == pytest.approx(b, rel=0.3)


def test_convergence_error_instead_of_warnings():
    nobody_returns = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [10.0, 20.0, 30.0]})
    with pytest.raises(ConvergenceError, match="no customer bought twice"):
        BetaGeo().fit(nobody_returns)
    with pytest.raises(ConvergenceError, match="repeat buyers"):
        GammaGamma().fit(pd.DataFrame({"frequency": [0, 1], "monetary_value": [0.0, 5.0]}))
    with pytest.raises(CentricError, match="recency must be"):
        BetaGeo().fit(pd.DataFrame({"frequency": [1], "recency": [40.0], "T": [30.0]}))
    few = pd.DataFrame({"frequency": [0, 1, 3], "recency": [0.0, 10.0, 30.0], "T": [40.0, 40.0, 40.0]})
    with pytest.raises(ConvergenceError, match="too few to estimate a purchase rhythm"):
        BetaGeo().fit(few)
    with pytest.raises(CentricError, match="not fitted"):
        BetaGeo().probability_alive(nobody_returns)


def test_expected_purchases_of_a_new_customer_matches_numeric_integration():
    m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    # E[X(t)] by simulation of the model's own definition (large sample, fixed seed)
    rng = np.random.default_rng(3)
    n, t_end = 400_000, 39.0
    lam = rng.gamma(0.243, 1 / 4.414, n)
    p = rng.beta(0.793, 2.426, n)
    count = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    t = np.zeros(n)
    for _ in range(60):
        t = t + rng.exponential(1 / np.maximum(lam, 1e-12))
        buy = alive & (t <= t_end)
        count += buy
        alive &= buy & (rng.random(n) >= p)
    assert m.expected_purchases_new(39.0) == pytest.approx(count.mean(), rel=0.02)
    assert math.isclose(float(m.expected_purchases_new(0.0)), 0.0, abs_tol=1e-12)


def _direct_bgnbd_ll(params, x, t_x, T):
    """The BG/NBD log-likelihood written out per customer, straight from Fader, Hardie & Lee (2005)."""
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
          - (r + x) * np.log(alpha + T))
    extra = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return float(np.sum(ll + np.log1p(extra)))


def test_full_cdnow_agrees_with_an_independent_fit():
    """The full CDNOW file (23,570 customers, not used anywhere else here), fitted by centric and by a
    plain Nelder-Mead on the textbook likelihood."""
    from .conftest import SHARED

    path = SHARED / "cdnow_lifetimes" / "CDNOW_master.txt"
    if not path.exists():
        pytest.skip("../shared/data is not beside the project")
    raw = pd.read_csv(path, sep=r"\s+", dtype={"date": str})  # header: customer_id date number_of_cds …
    raw["ordered_at"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    s = rfm_summary(raw.rename(columns={"dollar_value": "amount"}), unit="W", calibration_end="1997-09-30",
                    observation_end="1998-06-30")
    assert len(s) == 23570
    m = BetaGeo().fit(s)
    x, t, T = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    res = optimize.minimize(lambda lp: -_direct_bgnbd_ll(np.exp(lp), x, t, T), np.log([0.5, 5.0, 0.5, 2.0]),
                            method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 5000})
    ref = dict(zip(("r", "alpha", "a", "b"), np.exp(res.x), strict=True))
    for k, v in ref.items():
        assert m.params_[k] == pytest.approx(v, rel=1e-3)
    assert m.log_likelihood_ == pytest.approx(-res.fun, abs=1e-3)
    table = calibration_table(m, s)
    assert 0.85 < table["predicted_total"].sum() / table["actual_total"].sum() < 1.15


def test_modified_bgnbd_matches_lifetimes_on_cdnow(cdnow):
    """MBG/NBD on the CDNOW calibration summary; the reference values are lifetimes 0.11.3's
    ModifiedBetaGeoFitter on the same summary (r 0.5248, α 6.1830, a 0.8914, b 1.6140)."""
    from centric.customers import ModifiedBetaGeo

    m = ModifiedBetaGeo().fit(cdnow)
    for k, v in {"r": 0.5248377, "alpha": 6.1829885, "a": 0.8913563, "b": 1.6140000}.items():
        assert m.params_[k] == pytest.approx(v, rel=1e-4)
    one = pd.DataFrame({"frequency": [2, 0], "recency": [30.43, 0.0], "T": [38.86, 38.86]})
    assert m.expected_purchases(39, one)[0] == pytest.approx(1.26267, abs=1e-4)
    # unlike BG/NBD, a one-time buyer silent for 39 weeks may be gone
    assert m.probability_alive(one) == pytest.approx([0.706126, 0.389716], abs=1e-5)
    x, t, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    g = _group(x, t, T)
    fun = m._objective(g, g.N)
    assert optimize.check_grad(lambda p: fun(p)[0], lambda p: fun(p)[1], np.log([0.5, 6.0, 0.9, 1.6])) < 1e-5


def test_automatic_model_choice_on_cdnow(cdnow):
    """Both models have four parameters, so the higher log-likelihood is also the lower BIC. On CDNOW
    BG/NBD reaches the published −9,582.4 and MBG/NBD −9,582.1: the modified model is kept."""
    from centric.customers.scoring import fit_purchases

    name, model, lls = fit_purchases(cdnow)
    assert lls["bgnbd"] == pytest.approx(-9582.4, abs=0.05) and lls["mbgnbd"] == pytest.approx(-9582.14, abs=0.01)
    assert name == "mbgnbd" and model.log_likelihood_ == lls["mbgnbd"]
    assert fit_purchases(cdnow, "bgnbd")[0] == "bgnbd" and fit_purchases(cdnow, "bgnbd")[2] is None
