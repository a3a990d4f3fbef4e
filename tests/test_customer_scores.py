"""Scores in the store, alerts, churn reasons, loyalty phases and the customers commands."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from centric import Store
from centric.customers import loyalty, scoring
from centric.customers.rfm import rfm_summary
from centric.privacy import forget

from .conftest import DATA
from .test_cli import run


@pytest.fixture
def demo_copy(demo_store, tmp_path):
    """A private copy of the demo store (the session's demo stays untouched)."""
    demo_store.con.execute("CHECKPOINT")
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store.path, path)
    s = Store.open(path)
    yield s
    s.close()


def test_score_writes_one_row_per_customer_with_its_currency(demo_copy):
    res = scoring.score(demo_copy, horizon_days=365)
    n_buyers = demo_copy.con.execute(
        "SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id IS NOT NULL").fetchall()[0][0]
    rows = scoring.latest(demo_copy)
    assert len(rows) == n_buyers == res.customers and (rows["scored_at"] == res.scored_at).all()
    assert rows["p_alive"].between(0, 1).all() and (rows["clv"] >= 0).all()
    # the demo's Polish customers pay in PLN, the Italian ones in EUR: never mixed
    cur = demo_copy.con.execute("""SELECT s.currency, c.country, count(*) FROM customer_scores s
                                   JOIN customers c USING (customer_id) WHERE s.scored_at = ? GROUP BY ALL""",
                                [res.scored_at]).fetchall()
    assert {(c, k) for c, k, _ in cur} == {("PLN", "PL"), ("EUR", "IT")}
    params = json.loads(rows["params"].iloc[0])
    assert set(params["gammagamma"]) == {"EUR", "PLN"} and params["horizon_days"] == 365
    assert rows["model"].iloc[0] == "bgnbd+gammagamma/1"
    # a customer with no repeat purchase is certainly alive under BG/NBD
    assert (rows.loc[rows["frequency"] == 0, "p_alive"] == 1).all()


def test_alerts_compare_with_the_previous_scoring(demo_copy):
    last = demo_copy.con.execute("SELECT max(CAST(ordered_at AS DATE)) FROM orders").fetchall()[0][0]
    demo_copy.con.execute("DELETE FROM customer_scores")  # the demo scored itself; start afresh
    scoring.score(demo_copy, as_of=last - dt.timedelta(days=120))
    scoring.score(demo_copy)
    a = scoring.alerts(demo_copy, threshold=0.5)
    fell = a[a["reason"].str.contains("p_alive_fell")]
    assert len(fell) and (fell["p_alive"] < 0.5).all() and (fell["p_alive_before"] >= 0.5).all()
    assert a["value_at_risk"].is_monotonic_decreasing
    quiet = a[a["reason"].str.contains("went_quiet")]
    assert (quiet["days_silent"] > 2 * quiet["usual_gap_days"]).all()
    # the alert is independent evidence: check one customer from the stored rows
    one = fell.iloc[0]
    before, now = demo_copy.con.execute(
        "SELECT p_alive FROM customer_scores WHERE customer_id = ? ORDER BY scored_at", [one.customer_id]).fetchall()
    assert before[0] >= 0.5 > now[0]


def test_alerts_without_scores_say_what_to_do(store):
    from centric.errors import CentricError

    with pytest.raises(CentricError, match="centric customers score"):
        scoring.alerts(store)


def test_forget_removes_the_customers_scores(demo_copy):
    scoring.score(demo_copy)
    cid = demo_copy.con.execute("SELECT customer_id FROM customer_scores LIMIT 1").fetchall()[0][0]
    forget(demo_copy, cid)
    assert demo_copy.con.execute("SELECT count(*) FROM customer_scores WHERE customer_id = ?",
                                 [cid]).fetchall()[0][0] == 0


def test_loyalty_phases_add_up_and_flows_connect(demo_copy):
    counts, flows = loyalty.loyalty_phases(demo_copy, period="quarter")
    buyers = demo_copy.con.execute("SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id IS NOT NULL"
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


def test_churn_reasons_lift_by_hand(store):
    """Four lost and four active repeat buyers (and a one-time buyer, left out); two lost and one active
    complained about delivery."""
    con = store.con
    now = dt.datetime(2025, 6, 1)
    for i in range(8):
        cid = f"C{i:07d}"
        con.execute("INSERT INTO customer_scores (customer_id, scored_at, as_of, frequency, recency_days, age_days, "
                    "monetary_value, p_alive, expected_purchases, expected_spend, clv, horizon_days, model, params) "
                    "VALUES (?, ?, ?, 1, 1, 1, 1, ?, 0, 0, 0, 365, 'm', '{}')",
                    [cid, now, now.date(), 0.1 if i < 4 else 0.9])
        con.execute("INSERT INTO responses (response_id, customer_id, responded_at, comment) VALUES (?, ?, ?, 'x')",
                    [f"R{i}", cid, now])
    con.execute("INSERT INTO customer_scores (customer_id, scored_at, as_of, frequency, recency_days, age_days, "
                "monetary_value, p_alive, expected_purchases, expected_spend, clv, horizon_days, model, params) "
                "VALUES ('C9', ?, ?, 0, 0, 1, 0, 1.0, 0, 0, 0, 365, 'm', '{}')", [now, now.date()])
    for i in (0, 1, 4):
        con.execute("INSERT INTO mentions (source, text_id, sentence, factor, sentiment, taxonomy) "
                    "VALUES ('responses', ?, 0, 'delivery', 'negative', 'retail')", [f"R{i}"])
    r = loyalty.churn_reasons(store).set_index("factor")
    assert r.loc["delivery", "lost_share"] == pytest.approx(0.5)
    assert r.loc["delivery", "active_share"] == pytest.approx(0.25)
    assert r.loc["delivery", "lift"] == pytest.approx(2.0)
    pooled = 3 / 8
    z = (0.5 - 0.25) / np.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 4))
    assert r.loc["delivery", "z"] == pytest.approx(z)
    assert not r.loc["delivery", "significant"]  # n = 8 is far too small


def test_rfm_segments_have_plain_names():
    s = pd.DataFrame({"frequency": [10, 0, 8, 0], "recency": [300.0, 0.0, 50.0, 0.0], "T": [305.0, 5.0, 400.0, 400.0],
                      "monetary_value": [50.0, 0.0, 60.0, 0.0]}, index=list("abcd"))
    seg = loyalty.rfm_segments(s)["segment"].to_dict()
    assert seg["a"] == "champions" and seg["b"] == "new" and seg["d"] == "lost"
    assert seg["c"] in ("cannot lose them", "at risk")


def test_churn_metric_uses_p_alive(demo_copy):
    from centric.metrics import churn

    c = churn(demo_copy, "quarter")
    assert all(p.method == "p_alive" and p.churned <= p.customers for p in c)
    assert [p.customers for p in c] == sorted(p.customers for p in c)
    scored = scoring.score(demo_copy, write=False).scores
    assert c[-1].churned == int((scored["p_alive"] < 0.5).sum()) and c[-1].customers == len(scored)
    by = churn(demo_copy, "quarter", ("segment",))
    last = [p for p in by if p.period == c[-1].period]
    assert sum(p.churned for p in last) == c[-1].churned


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
    assert run("customers", "validate", "--calibration-end", "1997-13-01", db=db).exit_code == 2


def test_rfm_summary_from_the_store_matches_the_stored_scores(demo_copy):
    scoring.score(demo_copy)
    orders = scoring.orders_frame(demo_copy)
    s = rfm_summary(orders)
    stored = scoring.latest(demo_copy).set_index("customer_id").reindex(s.index)
    assert (stored["frequency"] == s["frequency"]).all()
    assert np.allclose(stored["recency_days"], s["recency"]) and np.allclose(stored["age_days"], s["T"])


def test_score_with_the_modified_model(demo_copy):
    res = scoring.score(demo_copy, model="mbgnbd")
    rows = scoring.latest(demo_copy)
    assert rows["model"].iloc[0] == "mbgnbd+gammagamma/1" and "mbgnbd" in json.loads(rows["params"].iloc[0])
    # one-time buyers are no longer certainly alive
    assert (rows.loc[rows["frequency"] == 0, "p_alive"] < 1).any()
    assert res.customers == len(rows)
    from centric.errors import CentricError

    with pytest.raises(CentricError, match="unknown purchase model"):
        scoring.score(demo_copy, model="pareto")
