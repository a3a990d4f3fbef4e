"""The 5-whys tree of a drop: a metric that fell for a segment, on a small store built by hand — the drop, the
factors' shares then and now, their Holm-corrected tests and impacts computed by hand, the segment filter, the
factor's own branch underneath, and the command."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from centric.errors import CentricError
from centric.metrics import stats
from centric.whys import previous_period, whys_drop

from .engines import db_of, executemany

Q1, Q2 = dt.datetime(2025, 2, 1), dt.datetime(2025, 5, 1)  # 2025-Q1 and 2025-Q2
LATE, WRONG, PRICE, FINE = ("The courier was late again.", "The parcel went to the wrong address.",
                            "The price is too high.", "All good.")


def _build(store):
    """Segment b2c. 2025-Q1: 10 promoters (9), 6 passives (8), 4 detractors (3) → NPS +30; two detractors blame
    delivery, two price. 2025-Q2: 6 promoters, 4 passives, 10 detractors → NPS −20; eight detractors blame
    delivery (five "late", three "wrong address"), two price. Every answer has an analysed comment. Segment vip,
    2025-Q2: 10 promoters blaming delivery — outside the segment, they must change nothing."""
    rows, an, me, cu = [], [], [], []

    def answer(rid, seg, at, nps, factor=None, body=FINE):
        cid = f"C-{rid}"
        cu.append((cid, seg))
        rows.append((rid, cid, "post-delivery", at, nps, body, "en"))
        an.append(("responses", rid, "retail", "en", "negative" if factor else "positive", 0.0, "{}", "[]", "hand", at))
        if factor:
            me.append(("responses", rid, 0, factor, "negative", -0.7, 0.9, "retail", "en"))

    plan = {Q1: [9] * 10 + [8] * 6 + [3] * 4, Q2: [9] * 6 + [8] * 4 + [3] * 10}
    for at, scores in plan.items():
        det = 0
        for i, s in enumerate(scores):
            factor, body = None, FINE
            if s == 3:
                det += 1
                blamed_delivery = det <= (2 if at == Q1 else 8)
                factor = "delivery" if blamed_delivery else "price"
                body = (LATE if det <= 5 else WRONG) if blamed_delivery else PRICE
            answer(f"R{at.month}-{i}", "b2c", at + dt.timedelta(days=i), s, factor, body)
    for i in range(10):
        answer(f"V{i}", "vip", Q2 + dt.timedelta(days=i), 10, "delivery", LATE)
    with store.transaction():
        executemany(store, "INSERT INTO customers (customer_id, segment) VALUES (?, ?)", cu)
        executemany(store, "INSERT INTO responses (response_id, customer_id, survey, responded_at, nps, comment, language) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        executemany(store, "INSERT INTO text_analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", an)
        executemany(store, "INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", me)


@pytest.fixture
def tree(store):
    _build(store)
    return whys_drop(store, "nps", "2025-Q2", where={"segment": ["b2c"]}, k=2, min_support=2, min_child_share=0)


def test_the_drop_and_the_factors_by_hand(tree):
    assert tree.settings["before"]["value"] == pytest.approx(30.0) and tree.settings["after"]["value"] == pytest.approx(-20.0)
    assert tree.settings["compare"] == "2025-Q1" and tree.settings["change"]["delta"] == pytest.approx(-50.0)
    a, b = stats.nps_score(10, 6, 4), stats.nps_score(6, 4, 10)
    se = math.sqrt(a.se ** 2 + b.se ** 2)
    assert tree.settings["change"]["low"] == pytest.approx(-50 - stats.Z95 * se)
    assert tree.root.level == "drop" and tree.root.n == 20 and tree.root.significant
    delivery, price = tree.root.children
    assert (delivery.key, price.key) == ("delivery", "price")  # the larger cost first
    assert (delivery.n, delivery.share, delivery.baseline) == (8, pytest.approx(40.0), pytest.approx(10.0))
    assert (price.n, price.share, price.baseline) == (2, pytest.approx(10.0), pytest.approx(10.0))
    # one-sided two-proportion tests, Holm-corrected together
    z, p2 = stats.two_proportions(8, 20, 2, 20)
    assert z > 0
    assert delivery.p == pytest.approx(min(1.0, 2 * (p2 / 2)))  # the smaller of two p-values, times two
    assert price.p == pytest.approx(0.5)  # 2/20 against 2/20: z = 0, one-sided p 0.5 (Holm: max with the first)
    assert delivery.significant and not price.significant
    # impact: growth of the share × (blamers' mean points − the others'), in 2025-Q2
    others = (6 * 100 + 4 * 0 + 2 * -100) / 12
    assert delivery.impact == pytest.approx(0.30 * (-100 - others))  # −40 points
    assert price.impact == pytest.approx(0.0)
    assert price.verdict == "expected" and not price.children


def test_the_factor_branch_is_its_own_tree_over_the_segment(tree):
    delivery = tree.root.children[0]
    assert delivery.children and {c.level for c in delivery.children} == {"says"}
    assert all(n.id.startswith("0.0.") for n, _, _ in delivery.walk() if n is not delivery)
    assert sum(c.n for c in delivery.children) + delivery.other == 8  # the segment's 8 sentences, not the vip's 10
    ids = [n.id for n in tree.nodes()]
    assert len(ids) == len(set(ids))


def test_without_a_segment_everyone_counts_and_bad_input_is_named(store):
    _build(store)
    t = whys_drop(store, "nps", "2025-Q2", k=2, min_support=2, min_child_share=0)
    assert t.settings["after"]["value"] == pytest.approx(100 * (16 - 10) / 30)  # the vip promoters count
    assert t.root.children[0].n == 18 and t.root.children[0].share == pytest.approx(60.0)
    with pytest.raises(CentricError, match="no NPS answer in 2024-Q4"):
        whys_drop(store, "nps", "2025-Q1")
    with pytest.raises(CentricError, match="must come before"):
        whys_drop(store, "nps", "2025-Q1", compare="2025-Q2")
    with pytest.raises(CentricError, match="--metric 'rating'"):
        whys_drop(store, "rating", "2025-Q2")


def test_previous_period():
    assert [previous_period(p) for p in ("2025-Q1", "2025-Q3", "2025-01", "2025-11", "2025")] == [
        "2024-Q4", "2025-Q2", "2024-12", "2025-10", "2024"]
    with pytest.raises(CentricError):
        previous_period("Q3-2025")


def test_the_command(store):
    from typer.testing import CliRunner

    from centric.cli import app

    _build(store)
    db = db_of(store)
    store.close()
    runner = CliRunner()
    args = ["--db", str(db), "whys", "--metric", "nps", "--segment", "b2c", "--period", "2025-Q2", "--subtopics", "2"]
    r = runner.invoke(app, args, catch_exceptions=False, env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "NPS +30.0 → -20.0 (2025-Q1 → 2025-Q2; segment = b2c)" in r.output and "impact -40.0 pts" in r.output
    assert "change -50.0" in r.output
    d = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert d["factor"] == "nps" and d["tree"]["children"][0]["key"] == "delivery"
    r = runner.invoke(app, ["--db", str(db), "whys", "--metric", "nps", "--segment", "b2c"])
    assert r.exit_code == 2 and "--metric needs --period" in r.output
    r = runner.invoke(app, ["--db", str(db), "whys", "--segment", "b2c", "--factor", "delivery"])
    assert r.exit_code == 2 and "go with --metric" in r.output
