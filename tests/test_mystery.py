"""Mystery shopping: templates, scores, intervals, calibration, cases and import, against known answers (hand
computations, SciPy's Welch test, scikit-learn's kappa), and the demo's visits. A failed critical item's case, a
wide export's import and an import failing half-way are tested on DuckDB and PostgreSQL in
tests/test_postgres_mystery.py."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from centric.mystery import (
    add_template,
    agreement,
    calibration,
    factor_scores,
    get_template,
    kappa,
    mean_interval,
    open_cases,
    parse_template,
    record_visit,
    score_visit,
    scores,
    summarise,
    welch,
)
from centric.mystery.importer import import_visits
from centric.mystery.template import TemplateError
from centric.mystery.visits import VisitError, check_attachment

from .conftest import db_of

SMALL = """
id = "mini"
name = "Mini"
[[sections]]
id = "s1"
title = "One"
[[sections.items]]
id = "greet"
text = "Greeted?"
weight = 3
factor = "staff"
[[sections.items]]
id = "clean"
text = "Clean?"
weight = 1
factor = "store"
[[sections]]
id = "s2"
title = "Two"
[[sections.items]]
id = "price"
text = "Price right?"
weight = 10
factor = "price"
critical = true
"""


@pytest.fixture
def store(store):
    """conftest's store (DuckDB, or PostgreSQL in the suite's PostgreSQL leg) with the small template and units."""
    add_template(store, SMALL, "mini.toml")
    with store.transaction() as con:
        con.execute("INSERT INTO units (unit, kind, region, country, manager) VALUES "
                    "('North 1', 'store', 'North', 'PL', 'ann'), ('North 2', 'store', 'North', 'PL', 'ann'), "
                    "('South 1', 'store', 'South', 'IT', 'bob')")
    return store


def visit(store, vid, where, day, greet="yes", clean="yes", price="yes", shopper="x", brand="ours"):
    return record_visit(store, "mini", vid, where, dt.datetime(2026, 3, day, 12), {"greet": greet, "clean": clean,
                        "price": price}, shopper=shopper, brand=brand)


# -- templates ---------------------------------------------------------------------------------------------
def test_template_errors_name_the_file_section_and_item():
    cases = [
        (SMALL.replace("weight = 3", "weight = -1"), "mini.toml, section 's1', item 'greet': 'weight' must be a number above 0"),
        (SMALL.replace('factor = "store"', 'factor = "weather"'), "item 'clean': factor 'weather' is not a factor"),
        (SMALL.replace('id = "clean"', 'id = "greet"'), "item 'greet': the id is used twice"),
        (SMALL.replace("critical = true", "critical = 1"), "item 'price': 'critical' must be true or false"),
        (SMALL.replace('text = "Clean?"', ""), "item 'clean': 'text' is missing"),
        ('id = "x"\nname = "X"\n', "mini.toml: the template has no [[sections]]"),
        ("id = [", "mini.toml: not valid TOML"),
    ]
    for text, message in cases:
        with pytest.raises(TemplateError) as e:
            parse_template(text, "mini.toml", factors={"staff", "store", "price"})
        assert message in str(e.value), (message, str(e.value))
    t = parse_template(SMALL, "mini.toml", factors={"staff", "store", "price"})
    assert [(i.id, i.weight, i.critical, i.na) for i in t.items] == [
        ("greet", 3.0, False, True), ("clean", 1.0, False, True), ("price", 10.0, True, False)]


def test_templates_are_versioned_and_a_visit_keeps_its_version(store):
    t, added = add_template(store, SMALL, "mini.toml")
    assert (t.version, added) == (1, False)  # the same file again: unchanged
    visit(store, "v1", "North 1", 1, clean="no")
    t2, added = add_template(store, SMALL.replace("weight = 1\n", "weight = 2\n"), "mini.toml")
    assert (t2.version, added) == (2, True)
    visit(store, "v2", "North 1", 2, clean="no")
    rows = store.execute("SELECT visit_id, template_version, score FROM mystery_visits ORDER BY 1").fetchall()
    assert rows == [("v1", 1, pytest.approx(1300 / 14)), ("v2", 2, pytest.approx(1300 / 15))]
    assert get_template(store, "mini", 1).item("clean").weight == 1.0


# -- scores ------------------------------------------------------------------------------------------------
def test_a_visits_score_by_hand(store):
    t = get_template(store, "mini")
    s = score_visit(t, {"greet": "no", "clean": "na", "price": "yes"})
    assert (s.passed, s.applicable, s.score, s.failed_critical) == (10.0, 13.0, pytest.approx(100 * 10 / 13), False)
    s = score_visit(t, {"greet": "yes", "clean": "yes", "price": "no"})  # knock-out
    assert (s.raw_score, s.score, s.failed_critical, s.failed_items) == (pytest.approx(100 * 4 / 14), 0.0, True,
                                                                        ("price",))
    s = score_visit(t, {"greet": "na", "clean": "na", "price": "yes"})
    assert s.score == 100.0
    for answers, message in (({"greet": "yes", "clean": "yes"}, "item 'price': no answer"),
                             ({"greet": "yes", "clean": "yes", "price": "na"}, "item 'price': \"not applicable\""),
                             ({"greet": "maybe", "clean": "yes", "price": "yes"}, "'maybe' is not yes, no or n.a."),
                             ({"greet": "yes", "clean": "yes", "price": "yes", "x": "yes"}, "has no item 'x'")):
        with pytest.raises(VisitError, match=message.replace("(", r"\(").replace(")", r"\)")):
            score_visit(t, answers)


def test_the_t_interval_by_hand():
    m, lo, hi = mean_interval([80.0, 90.0, 100.0])
    half = 4.302652729911275 * 10 / math.sqrt(3)  # t(0.975, 2) · s / √n, s = 10
    assert (m, lo, hi) == (90.0, pytest.approx(90 - half), 100.0)  # clipped at 100
    m, lo, hi = mean_interval([40.0, 60.0])
    assert (m, lo, hi) == (50.0, 0.0, 100.0)  # 50 ± 12.706 · 14.14 / √2 = 50 ± 127: clipped at both ends
    assert mean_interval([70.0]) == (70.0, None, None)
    assert mean_interval([]) == (None, None, None)


def test_welch_against_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(80, 8, 12), rng.normal(72, 15, 7)
    d, lo, hi, p = welch(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert d == pytest.approx(a.mean() - b.mean())
    assert (lo, hi, p) == (pytest.approx(ci.low), pytest.approx(ci.high), pytest.approx(ref.pvalue))


def test_scores_by_store_and_region(store):
    visit(store, "a", "North 1", 1)  # 100
    visit(store, "b", "North 1", 2, greet="no")  # 11/14
    visit(store, "c", "North 2", 3, price="no")  # knock-out: 0
    visit(store, "d", "South 1", 4, clean="na")  # 100
    visit(store, "e", "Rival 1", 5, brand="Rival")
    by_store = scores(store, "store").frame.set_index("store")
    assert list(by_store.index) == ["North 1", "North 2", "South 1"]  # the rival's visit is not ours
    assert by_store.loc["North 1", "mean"] == pytest.approx((100 + 1100 / 14) / 2)
    assert by_store.loc["North 2", ["n", "mean", "failed"]].tolist() == [1, 0.0, 1]
    region = scores(store, "region").frame.set_index("region")
    north = [100, 1100 / 14, 0]
    m, lo, hi = mean_interval(north)
    assert region.loc["North", ["n", "mean", "low", "high"]].tolist() == [3, pytest.approx(np.mean(north)),
                                                                          pytest.approx(lo), pytest.approx(hi)]
    assert lo == pytest.approx(max(0, np.mean(north) - stats.t.ppf(0.975, 2) * np.std(north, ddof=1) / math.sqrt(3)))
    assert json.loads(json.dumps(scores(store, "region").to_dict()))["groups"][0]["group"] == "North"
    assert scores(store, "store", brand="Rival").frame["store"].tolist() == ["Rival 1"]
    trend = scores(store, "store").trend
    assert set(trend["period"]) == {"2026-03"}
    frame = pd.DataFrame({"store": ["A", "A", "B"], "score": [50.0, 70.0, 10.0], "failed_critical": [False, True, False]})
    assert summarise(frame, "store")[["store", "n", "mean", "failed"]].values.tolist() == [["A", 2, 60.0, 1],
                                                                                          ["B", 1, 10.0, 0]]


def test_factor_scores_ours_against_a_competitor(store):
    visit(store, "a", "North 1", 1, greet="no")  # staff 0, store 100, price 100
    visit(store, "b", "North 1", 2)  # staff 100
    visit(store, "c", "Rival 1", 3, greet="no", shopper="y", brand="Rival")  # staff 0
    visit(store, "d", "Rival 1", 4, greet="no", clean="no", shopper="y", brand="Rival")  # staff 0, store 0
    f = factor_scores(store).set_index(["brand", "factor"])
    assert f.loc[("ours", "staff"), "mean"] == 50.0 and f.loc[("Rival", "staff"), "mean"] == 0.0
    assert f.loc[("Rival", "store"), "mean"] == 50.0
    d, lo, hi, p = welch([0.0, 100.0], [0.0, 0.0])
    assert f.loc[("Rival", "staff"), "diff"] == 50.0
    assert f.loc[("Rival", "staff"), "diff_low"] == pytest.approx(lo)
    assert pd.isna(f.loc[("ours", "staff"), "diff"])


# -- calibration -------------------------------------------------------------------------------------------
def test_kappa_by_hand_and_against_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    a, b = ["yes", "yes", "no", "no"], ["yes", "no", "no", "no"]
    # p_o = 3/4; p_e = (2·1 + 2·3)/16 = 1/2; κ = (3/4 − 1/2) / (1 − 1/2) = 1/2
    assert (agreement(a, b), kappa(a, b)) == (0.75, 0.5)
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = list(rng.choice(["yes", "no", "na"], 15, p=[0.6, 0.3, 0.1]))
        y = [v if rng.random() < 0.7 else str(rng.choice(["yes", "no", "na"])) for v in x]
        assert kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))
    assert kappa(["yes"] * 3, ["yes"] * 3) is None  # undefined: one answer throughout


def test_calibration_pairs(store):
    visit(store, "a", "North 1", 1, shopper="kasia")
    visit(store, "b", "North 1", 5, greet="no", clean="no", shopper="tomek")  # 4 days later: a pair
    visit(store, "c", "North 1", 25, shopper="kasia")  # 20 days after b: none
    visit(store, "d", "North 2", 1, shopper="kasia")
    visit(store, "e", "North 2", 2, shopper="kasia")  # the same shopper: none
    c = calibration(store, window_days=14)
    assert len(c.pairs) == 1
    p = c.pairs.iloc[0]
    assert (p.visit_a, p.visit_b, p["items"], p.agreement) == ("a", "b", 3, pytest.approx(1 / 3))
    assert p.kappa == pytest.approx(0.0)  # a: yes ×3; b: no, no, yes → p_o = 1/3 = p_e
    assert p["diff"] == pytest.approx(1000 / 14 - 100) and bool(p.flagged)
    assert len(calibration(store, window_days=30).pairs) == 2


# -- cases ---------------------------------------------------------------------------------------------------
# -- attachments ---------------------------------------------------------------------------------------------
def test_attachments_are_checked_by_their_bytes():
    assert check_attachment(b"\xff\xd8\xff\xe0" + bytes(10)).media_type == "image/jpeg"
    assert check_attachment(b"\x89PNG\r\n\x1a\n" + bytes(10)).media_type == "image/png"
    assert check_attachment(b"%PDF-1.7\n").media_type == "application/pdf"
    for data, message in ((b"GIF89a", "not a JPEG, PNG or PDF"), (b"<svg onload=alert(1)>", "not a JPEG, PNG or PDF"),
                          (b"", "empty"), (b"%PDF-" + bytes(5 * 1024 * 1024), "more than the 5 MB")):
        with pytest.raises(VisitError, match=message):
            check_attachment(data, "photo.jpg")


# -- import --------------------------------------------------------------------------------------------------
WIDE = """Sklep;Data;Kontroler;Greeted?;clean;price;Uwagi
North 1;31.03.2026;anna;tak;nie;tak;ok
North 2;01.04.2026 10:30;ben;yes;n/a;no;price mismatch
Nowhere;01.04.2026;ben;tak;tak;tak;
North 1;31.13.2026;ben;tak;tak;tak;
South 1;02.04.2026;ben;tak;maybe;tak;
"""


def test_import_a_long_export_from_excel(store, tmp_path):
    rows = [("V1", "South 1", "2026-03-10", "kasia", item, ans) for item, ans in
            (("greet", "sì"), ("clean", "no"), ("price", "sì"))]
    rows += [("V2", "South 1", "2026-03-12", "tomek", item, "yes") for item in ("greet", "clean", "price")]
    f = tmp_path / "long.xlsx"
    pd.DataFrame(rows, columns=["visit", "negozio", "data", "valutatore", "domanda", "risposta"]).to_excel(f, index=False)
    r = import_visits(store, f, template_id="mini")
    assert (r.shape, r.visits_stored, r.rows_rejected) == ("long", 2, 0)
    assert store.execute("SELECT visit_id, score FROM mystery_visits ORDER BY 1").fetchall() == [
        ("V1", pytest.approx(1300 / 14)), ("V2", 100.0)]
    assert len(calibration(store).pairs) == 1


def test_an_import_without_the_needed_columns_says_so(store, tmp_path):
    from centric.errors import IngestError

    f = tmp_path / "x.csv"
    f.write_text("Sklep;greet\nNorth 1;tak\n", encoding="utf-8")
    with pytest.raises(IngestError, match="x.csv: no date column"):
        import_visits(store, f, template_id="mini")
    with pytest.raises(TemplateError, match="no template 'nope'"):
        import_visits(store, f, template_id="nope")


# -- the command line ------------------------------------------------------------------------------------------
def test_the_cli(store, tmp_path):
    from typer.testing import CliRunner

    from centric.cli import app

    visit(store, "a", "North 1", 1)
    visit(store, "b", "North 2", 2, greet="no")
    db = db_of(store)
    store.close()
    run = CliRunner()
    r = run.invoke(app, ["--db", db, "mystery", "scores", "--by", "region", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["groups"] == [{"group": "North", "n": 2, "mean": pytest.approx((100 + 1100 / 14) / 2),
                              "low": pytest.approx(mean_interval([100, 1100 / 14])[1]), "high": 100.0, "failed": 0}]
    r = run.invoke(app, ["--db", db, "mystery", "scores"])
    assert r.exit_code == 0 and "North 2" in r.output and "78.6" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace("weight = 3", "weight = 0"), encoding="utf-8")
    r = run.invoke(app, ["--db", db, "mystery", "template", "add", str(bad)])
    assert r.exit_code == 2 and "item 'greet': 'weight' must be a number above 0" in r.output
    r = run.invoke(app, ["--db", db, "mystery", "template", "list", "--json"])
    assert json.loads(r.output)[0]["template_id"] == "mini"
    r = run.invoke(app, ["--db", db, "mystery", "calibration", "--json"])
    assert r.exit_code == 0 and json.loads(r.output) == []


# -- the demo ----------------------------------------------------------------------------------------------------
def test_the_demo_has_visits_one_failed_critical_item_and_its_case(demo_store):
    s = demo_store
    ours = s.execute("SELECT count(*), count(DISTINCT store) FROM mystery_visits WHERE brand = 'ours'").fetchone()
    assert ours[0] >= 40 and ours[1] == 8
    assert s.execute("SELECT count(DISTINCT brand) FROM mystery_visits WHERE brand <> 'ours'").fetchone()[0] == 2
    failed = s.execute("SELECT v.visit_id, v.case_id, u.manager, c.owner, c.origin FROM mystery_visits v "
                           "JOIN units u ON u.unit = v.store LEFT JOIN cases c ON c.case_id = v.case_id "
                           "WHERE v.failed_critical").fetchall()
    assert len(failed) == 1
    _, case_id, manager, owner, origin = failed[0]
    assert case_id and owner == manager and origin == "mystery"
    pairs = calibration(s).pairs
    assert len(pairs) == 2 and pairs["flagged"].tolist().count(True) >= 1  # the strict shopper's pair
    assert len(open_cases(s)) == 0
