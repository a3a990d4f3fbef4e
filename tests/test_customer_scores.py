"""Scores in the store, alerts, churn reasons, loyalty phases and the customers commands."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from centric.customers import loyalty, scoring
from centric.customers.rfm import rfm_summary
from centric.engines import open_store
from centric.privacy import forget

from .conftest import DATA
from .engines import DUCK_PG, execute
from .test_cli import run


@pytest.fixture
def demo_copy(web_db):
    """A private copy of the demo store (the session's demo stays untouched), on the tests' engine."""
    with open_store(web_db) as s:
        yield s


def test_score_writes_one_row_per_customer_with_its_currency(demo_copy):
    res = scoring.score(demo_copy, horizon_days=365)
    n_buyers = demo_copy.execute(
        "SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id IS NOT NULL").fetchall()[0][0]
    rows = scoring.latest(demo_copy)
    assert len(rows) == n_buyers == res.customers and (rows["scored_at"] == res.scored_at).all()
    assert rows["p_alive"].between(0, 1).all() and (rows["clv"] >= 0).all()
    # the demo's Polish customers pay in PLN, the Italian ones in EUR: never mixed
    cur = demo_copy.execute("""SELECT s.currency, c.country, count(*) FROM customer_scores s
                               JOIN customers c USING (customer_id) WHERE s.scored_at = ?
                               GROUP BY s.currency, c.country""", [res.scored_at]).fetchall()
    assert {(c, k) for c, k, _ in cur} == {("PLN", "PL"), ("EUR", "IT")}
    params = json.loads(rows["params"].iloc[0])
    assert set(params["gammagamma"]) == {"EUR", "PLN"} and params["horizon_days"] == 365
    # both purchase models were fitted; the stored one has the higher likelihood. The demo's customers
    # may drop out after any purchase, the first included (the modified model's assumption), so MBG/NBD wins
    lls = params["model_selection"]
    assert set(lls) == {"bgnbd", "mbgnbd"} and lls["mbgnbd"] > lls["bgnbd"] and res.model == "mbgnbd"
    assert rows["model"].iloc[0] == "mbgnbd+gammagamma/1" and params["mbgnbd_log_likelihood"] == lls["mbgnbd"]
    # so a one-time buyer silent for a year is no longer certainly alive, and silence lowers it
    one = rows[(rows["frequency"] == 0)]
    silent_year = one[one["age_days"] >= 365]
    assert len(silent_year) and (silent_year["p_alive"] < 1).all()
    assert one.sort_values("age_days")["p_alive"].is_monotonic_decreasing and one["age_days"].min() < 365
    assert silent_year["p_alive"].max() < one["p_alive"].max()
    # forcing BG/NBD gives its property back: a customer with no repeat purchase is certainly alive
    bg = scoring.score(demo_copy, model="bgnbd", write=False).scores
    assert (bg.loc[bg["frequency"] == 0, "p_alive"] == 1).all()


def test_alerts_compare_with_the_previous_scoring(demo_copy):
    last = demo_copy.execute("SELECT max(CAST(ordered_at AS DATE)) FROM orders").fetchall()[0][0]
    demo_copy.execute("DELETE FROM customer_scores")  # the demo scored itself; start afresh
    scoring.score(demo_copy, as_of=last - dt.timedelta(days=120))
    scoring.score(demo_copy)
    a = scoring.alerts(demo_copy, threshold=0.5)
    fell = a[a["reason"].str.contains("p_alive_fell")]
    assert len(fell) and (fell["p_alive"] < 0.5).all() and (fell["p_alive_before"] >= 0.5).all()
    # ranked within each currency, never across them
    for _, g in a.groupby("currency"):
        assert g["value_at_risk"].is_monotonic_decreasing and list(g["rank"]) == list(range(1, len(g) + 1))
    quiet = a[a["reason"].str.contains("went_quiet")]
    assert (quiet["days_silent"] > 2 * quiet["usual_gap_days"]).all()
    # the alert is independent evidence: check one customer from the stored rows
    one = fell.iloc[0]
    before, now = demo_copy.execute(
        "SELECT p_alive FROM customer_scores WHERE customer_id = ? ORDER BY scored_at", [one.customer_id]).fetchall()
    assert before[0] >= 0.5 > now[0]


def test_scoring_twice_on_unchanged_data_gives_the_same_alerts(demo_copy):
    """The second scoring of the same orders is not a baseline: the call list stays as it was."""
    demo_copy.execute("DELETE FROM customer_scores")
    scoring.score(demo_copy)
    first = scoring.alerts(demo_copy)
    scoring.score(demo_copy)
    second = scoring.alerts(demo_copy)
    assert len(first) > 0 and first.attrs["baseline"] is None and second.attrs["baseline"] is None
    pd.testing.assert_frame_equal(first, second)
    # new orders on the same day are other data: that scoring is compared with the first
    cid, cur = demo_copy.execute("SELECT customer_id, currency FROM orders WHERE customer_id IS NOT NULL "
                                 "ORDER BY ordered_at DESC LIMIT 1").fetchall()[0]
    last = demo_copy.execute("SELECT max(ordered_at) FROM orders").fetchall()[0][0]
    demo_copy.execute("INSERT INTO orders (order_id, customer_id, ordered_at, amount, currency) "
                      "VALUES ('EXTRA-1', ?, ?, 10, ?)", [cid, last - dt.timedelta(minutes=1), cur])
    scoring.score(demo_copy)
    times = [r[0] for r in demo_copy.execute(
        "SELECT DISTINCT scored_at FROM customer_scores ORDER BY scored_at").fetchall()]
    assert scoring.baseline(demo_copy) == (times[2], times[1])


def test_alerts_rank_within_a_currency_or_convert_at_stated_rates():
    """Hand-made scores in PLN and EUR: value at risk = (1 − P(alive)) × spend × (x + 1) / T × horizon."""
    from centric.errors import CentricError

    cur = pd.DataFrame({
        "customer_id": ["p1", "p2", "p3", "e1", "e2"], "currency": ["PLN", "PLN", "PLN", "EUR", "EUR"],
        "p_alive": [0.2, 0.4, 0.1, 0.2, 0.3], "expected_spend": [100.0, 400.0, 50.0, 100.0, 60.0],
        "frequency": [3, 3, 3, 3, 3], "age_days": [400.0] * 5, "recency_days": [100.0] * 5,
        "monetary_value": [1.0] * 5, "horizon_days": [100] * 5, "clv": [0.0] * 5, "as_of": [dt.date(2025, 1, 1)] * 5})
    a = scoring.alerts_from(cur, None, quiet_multiple=100.0)
    risk = {r.customer_id: r.value_at_risk for r in a.itertuples()}
    assert risk["p2"] == pytest.approx(0.6 * 400 * 4 / 400 * 100)  # 240 PLN
    assert risk["e1"] == pytest.approx(0.8 * 100 * 4 / 400 * 100)  # 80 EUR
    # PLN has more alerts, so it comes first; ranks restart in EUR; amounts are never compared across them
    assert list(zip(a["customer_id"], a["currency"], a["rank"], strict=True)) == [
        ("p2", "PLN", 1), ("p1", "PLN", 2), ("p3", "PLN", 3), ("e1", "EUR", 1), ("e2", "EUR", 2)]
    assert list(scoring.top_per_currency(a, 1)["customer_id"]) == ["p2", "e1"]
    # at a stated rate of 4.3 PLN per EUR: e1 80 EUR = 344 PLN, p2 240 PLN, e2 42 EUR = 180.6 PLN, p1 80 PLN
    c = scoring.alerts_from(cur, None, quiet_multiple=100.0, convert_to="pln", rates={"EUR": 4.3})
    assert list(c["customer_id"]) == ["e1", "p2", "e2", "p1", "p3"] and list(c["rank"][:3]) == [1, 2, 3]
    assert c.loc[0, "converted_value_at_risk"] == pytest.approx(344.0) and c.loc[0, "rate"] == pytest.approx(4.3)
    assert set(c["converted_currency"]) == {"PLN"} and c.loc[0, "value_at_risk"] == pytest.approx(80.0)
    with pytest.raises(CentricError, match="no exchange rate to PLN for EUR"):
        scoring.alerts_from(cur, None, convert_to="PLN", rates={})
    # "valuable" is the top spenders of their own currency: silent for 300 days against a usual gap of
    # 100/3 days, the biggest spender of each currency went quiet (p2 spent 1,200 PLN, e1 only 30 EUR)
    spend = cur.assign(monetary_value=[100.0, 400.0, 50.0, 10.0, 5.0], p_alive=0.9)
    quiet = scoring.alerts_from(spend, None, valuable_share=0.34)
    assert set(quiet["customer_id"]) == {"p2", "e1"} and set(quiet["reason"]) == {"went_quiet"}


def test_alerts_carry_name_and_contact(demo_copy):
    scoring.score(demo_copy)
    a = scoring.alerts(demo_copy)
    assert list(a.columns[:6]) == ["rank", "customer_id", "name", "email", "phone", "reason"]
    assert a["name"].notna().all() and a["email"].notna().mean() > 0.9
    for r in a.head(20).itertuples():
        ids = demo_copy.execute("SELECT kind, value FROM identities WHERE customer_id = ? ORDER BY first_seen_at, "
                                    "value", [r.customer_id]).fetchall()
        assert r.email == "; ".join(v for k, v in ids if k == "email")
        phones = [v for k, v in ids if k == "phone"]
        assert (r.phone if isinstance(r.phone, str) else None) == ("; ".join(phones) or None)
        name = demo_copy.execute("SELECT name FROM customers WHERE customer_id = ?", [r.customer_id]).fetchall()
        assert r.name == name[0][0]


def test_one_lost_count_in_every_section(demo_copy):
    """Scores, RFM segments, the churn metric, the churn reasons and the report's Customers section all
    count the same lost customers: P(alive) below 0.5 in the latest scoring."""
    from centric.customers.overview import overview
    from centric.metrics import churn
    from centric.report import _customers
    from centric.report.i18n import Formatter

    res = scoring.score(demo_copy)
    lost = res.summary()["likely_lost"]
    assert lost == int((scoring.latest(demo_copy)["p_alive"] < 0.5).sum()) > 0
    o = overview(demo_copy)
    assert o.likely_lost == lost and o.segments["lost"] == lost
    c = churn(demo_copy, "month")
    assert c[-1].lost == lost
    assert sum(p.lost for p in churn(demo_copy, "quarter", ("segment",)) if p.period == churn(
        demo_copy, "quarter")[-1].period) == lost
    assert loyalty.churn_reasons(demo_copy).attrs["lost"] == lost
    section = _customers(o, Formatter("en"), {})
    assert section["likely_lost"] == f"{lost:,}"
    assert {s["name"]: s["n"] for s in section["segments"]}["lost"] == f"{lost:,}"
    # and the report's currency-aware call list names every amount's currency
    assert all(a["risk"].endswith((" PLN", " EUR")) for a in section["alerts"])
    assert "PLN" in section["clv_total"] and "EUR" in section["clv_total"]


def test_alerts_without_scores_say_what_to_do(store):
    from centric.errors import CentricError

    with pytest.raises(CentricError, match="centric customers score"):
        scoring.alerts(store)


def test_forget_removes_the_customers_scores(demo_copy):
    scoring.score(demo_copy)
    cid = demo_copy.execute("SELECT customer_id FROM customer_scores LIMIT 1").fetchall()[0][0]
    forget(demo_copy, cid)
    assert demo_copy.execute("SELECT count(*) FROM customer_scores WHERE customer_id = ?",
                             [cid]).fetchall()[0][0] == 0


def test_loyalty_phases_add_up_and_flows_connect(demo_copy):
    counts, flows = loyalty.loyalty_phases(demo_copy, period="quarter")
    buyers = demo_copy.execute("SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id IS NOT NULL"
                               ).fetchall()[0][0]
    assert counts[["ordinary", "loyal", "advocate"]].iloc[-1].sum() == buyers
    # flows from one period end to the next explain the change in each phase
    ends = list(counts["period_end"])
    for prev, cur in zip(ends, ends[1:], strict=False):
        f = flows[flows["period_end"] == cur]
        for phase in ("loyal", "advocate"):
            change = int(counts.loc[counts.period_end == cur, phase].iloc[0]
                         - counts.loc[counts.period_end == prev, phase].iloc[0])
            assert change == f.loc[f["to"] == phase, "customers"].sum() - f.loc[f["from"] == phase, "customers"].sum()


@pytest.mark.capability("customers reads", engines=DUCK_PG)
def test_churn_reasons_lift_by_hand(store, engine):
    """Four lost and four active repeat buyers (and a one-time buyer, left out under BG/NBD, which
    cannot call them lost); two lost and one active complained about delivery."""
    con = store.con
    now = dt.datetime(2025, 6, 1)
    for i in range(8):
        cid = f"C{i:07d}"
        con.execute("INSERT INTO customer_scores (customer_id, scored_at, as_of, frequency, recency_days, age_days, "
                    "monetary_value, p_alive, expected_purchases, expected_spend, clv, horizon_days, model, params) "
                    "VALUES (?, ?, ?, 1, 1, 1, 1, ?, 0, 0, 0, 365, 'bgnbd+gammagamma/1', '{}')",
                    [cid, now, now.date(), 0.1 if i < 4 else 0.9])
        con.execute("INSERT INTO responses (response_id, customer_id, responded_at, comment) VALUES (?, ?, ?, 'x')",
                    [f"R{i}", cid, now])
    con.execute("INSERT INTO customer_scores (customer_id, scored_at, as_of, frequency, recency_days, age_days, "
                "monetary_value, p_alive, expected_purchases, expected_spend, clv, horizon_days, model, params) "
                "VALUES ('C9', ?, ?, 0, 0, 1, 0, 1.0, 0, 0, 0, 365, 'bgnbd+gammagamma/1', '{}')", [now, now.date()])
    for i in (0, 1, 4):
        con.execute("INSERT INTO mentions (source, text_id, sentence, factor, sentiment, taxonomy) "
                    "VALUES ('responses', ?, 0, 'delivery', 'negative', 'retail')", [f"R{i}"])
    store = engine.writable_of(store)
    r = loyalty.churn_reasons(store).set_index("factor")
    assert r.loc["delivery", "lost_share"] == pytest.approx(0.5)
    assert r.loc["delivery", "active_share"] == pytest.approx(0.25)
    assert r.loc["delivery", "lift"] == pytest.approx(2.0)
    pooled = 3 / 8
    z = (0.5 - 0.25) / np.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 4))
    assert r.loc["delivery", "z"] == pytest.approx(z)
    assert not r.loc["delivery", "significant"]  # n = 8 is far too small
    # under the modified model a one-time buyer can be lost, so they count (here on the active side)
    execute(store, "UPDATE customer_scores SET model = 'mbgnbd+gammagamma/1'")
    r = loyalty.churn_reasons(store)
    assert (r.attrs["lost"], r.attrs["active"]) == (4, 5)
    assert r.set_index("factor").loc["delivery", "active_share"] == pytest.approx(0.2)


def test_rfm_segments_have_plain_names():
    s = pd.DataFrame({"frequency": [10, 0, 8, 0], "recency": [300.0, 0.0, 50.0, 0.0], "T": [305.0, 5.0, 400.0, 400.0],
                      "monetary_value": [50.0, 0.0, 60.0, 0.0]}, index=list("abcd"))
    seg = loyalty.rfm_segments(s)["segment"].to_dict()
    # RFM alone cannot tell who is lost: the longest silent are hibernating
    assert seg["a"] == "champions" and seg["b"] == "new" and seg["d"] == "hibernating"
    assert seg["c"] in ("cannot lose them", "at risk")
    # with P(alive), "lost" is P(alive) below 0.5, whatever the R and F scores
    seg = loyalty.rfm_segments(s, p_alive=[0.9, 0.95, 0.3, 0.6])["segment"].to_dict()
    assert seg == {"a": "champions", "b": "new", "c": "lost", "d": "hibernating"}


def test_churn_metric_uses_p_alive(demo_copy):
    from centric.metrics import churn

    c = churn(demo_copy, "quarter")
    assert all(p.method == "p_alive" and p.churned <= p.customers for p in c)
    assert [p.bought for p in c] == sorted(p.bought for p in c)
    scored = scoring.score(demo_copy, write=False).scores
    assert c[-1].lost == int((scored["p_alive"] < 0.5).sum()) and c[-1].bought == len(scored)
    # the rate is the expected share of the customers active at the start who dropped out
    assert all(p.rate == pytest.approx(100 * p.churned / p.customers, abs=100 / p.customers) for p in c)
    by = churn(demo_copy, "quarter", ("segment",))
    last = [p for p in by if p.period == c[-1].period]
    assert sum(p.lost for p in last) == c[-1].lost
    assert abs(sum(p.churned for p in last) - c[-1].churned) <= len(last)  # each is rounded


def _constant_hazard_orders(n: int = 2000, months: int = 48, hazard: float = 0.04, seed: int = 2) -> pd.DataFrame:
    """Customers acquired evenly over ``months``; each leaves after an exponential lifetime (the same
    ``hazard`` a month for everyone, whatever they buy) and buys at their own Poisson rate until then."""
    rng = np.random.default_rng(seed)
    start, month = pd.Timestamp("2021-01-01"), 30.4375
    acquired = rng.uniform(0, months * month, n)
    leaves = np.minimum(acquired + rng.exponential(month / hazard, n), months * month)
    rate = rng.gamma(2.0, 0.5, n) / month  # purchases a day while active: one a month on average
    rows = []
    for i in range(n):
        t = acquired[i]
        while t < leaves[i]:
            rows.append((f"O{len(rows)}", f"C{i:05d}", start + pd.Timedelta(days=float(t)), 10.0, "EUR"))
            t += rng.exponential(1 / rate[i])
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount", "currency"])


@pytest.mark.capability("metrics reads", engines=DUCK_PG)
def test_churn_rate_is_flat_on_a_base_with_a_constant_hazard(store, engine):
    """4% of the active customers leave every month: the churn rate must not climb with the age of the
    history (the share of all buyers who are lost does, from 0 to about half)."""
    from centric.metrics import churn

    orders = _constant_hazard_orders()
    store.con.register("_o", orders)
    store.execute("INSERT INTO orders (order_id, customer_id, ordered_at, amount, currency) SELECT * FROM _o")
    store.con.unregister("_o")
    points = churn(engine.store_of(store), "month")
    assert len(points) == 47 and all(p.method == "p_alive" for p in points)
    rates = np.array([p.rate for p in points])
    pooled = 100 * sum(p.churned for p in points) / sum(p.customers for p in points)
    # near the true 4% (the model's drop-out is tied to purchases, so it reads a little low) …
    assert 3.0 < pooled < 5.0
    # … flat: the pooled rate lies within nearly every month's interval, and year 1 ≈ year 4
    inside = np.mean([p.low <= pooled <= p.high for p in points])
    assert inside >= 0.9
    assert abs(rates[:12].mean() - rates[-12:].mean()) < 1.0
    # the stock of lost customers does climb: that is a level, not a rate
    share = [p.lost / p.bought for p in points]
    assert share[0] < 0.05 and share[-1] > 0.4


def test_cli_validate_on_cdnow_prints_the_published_holdout_total(tmp_path):
    raw = pd.read_csv(DATA / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype={"date": str},
                      names=["original_id", "customer", "date", "cds", "amount"])
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    # every purchase keeps its own order number, so same-day purchases are not taken for duplicates
    raw["order_id"] = [f"O{i}" for i in range(len(raw))]
    raw[["order_id", "customer", "date", "amount"]].to_csv(tmp_path / "cdnow.csv", index=False)
    db = tmp_path / "cd.duckdb"
    assert run("ingest", "orders", str(tmp_path / "cdnow.csv"), "--set", "currency=USD", db=db).exit_code == 0
    res = run("customers", "validate", "--calibration-end", "1997-09-30", "--observation-end", "1998-06-30",
              "--json", db=db)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert sum(r["actual_total"] for r in out["rows"]) == 1882
    assert out["params"]["r"] == pytest.approx(0.243, abs=5e-4)
    res = run("customers", "score", "--json", db=db)
    assert res.exit_code == 0 and json.loads(res.output)["customers"] == 2357
    csv = tmp_path / "alerts.csv"
    res = run("customers", "alerts", "--csv", str(csv), db=db)
    assert res.exit_code == 0 and len(pd.read_csv(csv)) > 0
    table = pd.read_csv(csv)
    assert {"name", "email", "phone", "reason", "currency", "value_at_risk"} <= set(table.columns)
    assert set(table["currency"]) == {"USD"} and list(table["rank"]) == list(range(1, len(table) + 1))
    res = run("customers", "alerts", "--convert-to", "EUR", db=db)
    assert res.exit_code == 2 and "no exchange rate to EUR for USD" in res.output
    res = run("customers", "alerts", "--convert-to", "EUR", "--rate", "USD=0.9", "--limit", "3", db=db)
    assert res.exit_code == 0 and "1 USD = 0.9 EUR" in res.output, res.output
    assert run("customers", "alerts", "--rate", "USD:0.9", db=db).exit_code == 2
    assert run("customers", "validate", "--calibration-end", "1997-13-01", db=db).exit_code == 2


def test_rfm_summary_from_the_store_matches_the_stored_scores(demo_copy):
    scoring.score(demo_copy)
    orders = scoring.orders_frame(demo_copy)
    s = rfm_summary(orders)
    stored = scoring.latest(demo_copy).set_index("customer_id").reindex(s.index)
    assert (stored["frequency"] == s["frequency"]).all()
    assert np.allclose(stored["recency_days"], s["recency"]) and np.allclose(stored["age_days"], s["T"])


def test_score_with_a_chosen_model(demo_copy):
    res = scoring.score(demo_copy, model="mbgnbd")
    rows = scoring.latest(demo_copy)
    assert rows["model"].iloc[0] == "mbgnbd+gammagamma/1" and "mbgnbd" in json.loads(rows["params"].iloc[0])
    # one-time buyers are no longer certainly alive
    assert (rows.loc[rows["frequency"] == 0, "p_alive"] < 1).any()
    assert res.customers == len(rows)
    from centric.errors import CentricError

    with pytest.raises(CentricError, match="unknown purchase model"):
        scoring.score(demo_copy, model="pareto")
