"""NPS, CSAT, CES: hand-worked answers, edge cases, and a real survey file."""

from __future__ import annotations

import csv
import math

import pytest

from centric import ingest
from centric.metrics import ces, csat, nps, stats

from .conftest import SHARED
from .engines import ALL


def test_nps_hand_worked_wald():
    s = stats.nps_score(promoters=50, passives=30, detractors=20)
    # p = .5, d = .2: NPS 30; Var = (.7 - .3²)/100 = .0061; half-width 1.96·100·√.0061 = 15.308
    assert (s.value, s.n, s.method) == (pytest.approx(30.0), 100, "wald")
    assert (s.low, s.high) == (pytest.approx(14.692, abs=1e-3), pytest.approx(45.308, abs=1e-3))
    assert s.counts == {"promoters": 50, "passives": 30, "detractors": 20}


def test_nps_small_sample_uses_adjusted_wald():
    s = stats.nps_score(promoters=3, passives=1, detractors=1)
    # n+3 = 8; p = 3.75/8, d = 1.75/8; centre 25; Var = (.6875 - .25²)/8 = .078125
    assert s.value == pytest.approx(40.0) and s.method == "adjusted-wald"
    half = 1.959964 * 100 * math.sqrt(0.078125)
    assert (s.low, s.high) == (pytest.approx(25 - half, abs=1e-3), pytest.approx(25 + half, abs=1e-3))


def test_nps_all_promoters_and_one_answer():
    s = stats.nps_score(40, 0, 0)
    assert s.value == 100 and s.method == "adjusted-wald" and s.high == 100.0
    assert s.low == pytest.approx(100 * (40.75 - 0.75) / 43 - 1.959964 * 100 * math.sqrt(
        ((40.75 + 0.75) / 43 - (40 / 43) ** 2) / 43), abs=1e-3)
    one = stats.nps_score(1, 0, 0)
    assert (one.value, one.n) == (100, 1)
    assert (one.low, one.high) == (pytest.approx(25 - 73.4986, abs=1e-3), pytest.approx(25 + 73.4986, abs=1e-3))


@pytest.mark.capability("metrics", engines=ALL)
def test_no_data_is_not_nan(store, engine):
    store = engine.store_of(store)
    s = nps(store).rows[0][1]
    assert s.no_data and s.n == 0 and s.to_dict()["value"] is None
    assert stats.nps_score(0, 0, 0).value is None


def test_wilson_known_values():
    # Wilson interval for 8/10 (Newcombe 1998, Table I): 0.4902 to 0.9433
    lo, hi = stats.wilson(8, 10)
    assert (round(lo / 100, 4), round(hi / 100, 4)) == (0.4902, 0.9433)
    lo, hi = stats.wilson(0, 10)  # 0 to 0.2775
    assert (round(lo / 100, 4), round(hi / 100, 4)) == (0.0, 0.2775)


def test_change_z_test():
    a = stats.nps_score(50, 30, 20)  # 30, SE 7.8102
    b = stats.nps_score(30, 30, 40)  # -10, SE = 100·√((.7 - .01)/100) = 8.3066
    c = stats.change("nps", a, b, "2025-01", "2025-02")
    assert c.delta == pytest.approx(-40.0)
    assert c.z == pytest.approx(-40 / math.sqrt(0.0061 * 1e4 + 0.0069 * 1e4), abs=1e-6)
    assert c.significant and c.p_value < 0.001


@pytest.mark.capability("metrics", engines=ALL)
def test_breakdowns_from_the_store(store, write, engine):
    f = write("r.csv", "email,date,nps,csat,ces,channel\n"
              + "".join(f"a{i}@x.pl,2025-01-{i + 1:02d},{v},5,7,web\n" for i, v in enumerate([10, 9, 8, 3]))
              + "".join(f"b{i}@x.pl,2025-02-{i + 1:02d},{v},2,2,store\n" for i, v in enumerate([10, 2, 1, 0, 6])))
    ingest("responses", f, store=store)
    store = engine.store_of(store)
    m = nps(store, by=["month"])
    assert [(g["month"], s.n, round(s.value, 1)) for g, s in m.rows] == [("2025-01", 4, 25.0), ("2025-02", 5, -60.0)]
    assert m.rows[0][1].method == "adjusted-wald"
    (g, c), = m.changes
    assert (c.from_period, c.to_period, round(c.delta, 1)) == ("2025-01", "2025-02", -85.0)
    by_channel = {g["channel"]: s for g, s in csat(store, by=["channel"]).rows}
    assert by_channel["web"].value == 100.0 and by_channel["store"].value == 0.0
    assert by_channel["store"].mean == 2.0
    e = ces(store).rows[0][1]
    assert (e.n, e.value, e.mean) == (9, pytest.approx(400 / 9), pytest.approx((7 * 4 + 2 * 5) / 9))


def test_months_quarters_and_years_at_their_edges(store, write):
    # the last second of a month, quarter and year beside the first of the next
    f = write("r.csv", "email,date,nps\n"
              "a@x.pl,2024-12-31 23:59:59,10\na@x.pl,2025-01-01 00:00:00,0\nb@x.pl,2025-03-31 23:59:59,9\n"
              "b@x.pl,2025-04-01 00:00:00,9\nc@x.pl,2025-09-30 12:00:00,7\nc@x.pl,2025-10-01 00:00:00,0\n")
    ingest("responses", f, store=store)
    got = {period: [(g[period], s.counts["promoters"], s.counts["detractors"]) for g, s in nps(store, by=period).rows]
           for period in ("month", "quarter", "year")}
    assert got["month"] == [("2024-12", 1, 0), ("2025-01", 0, 1), ("2025-03", 1, 0), ("2025-04", 1, 0),
                            ("2025-09", 0, 0), ("2025-10", 0, 1)]
    assert got["quarter"] == [("2024-Q4", 1, 0), ("2025-Q1", 1, 1), ("2025-Q2", 1, 0), ("2025-Q3", 0, 0),
                              ("2025-Q4", 0, 1)]
    assert got["year"] == [("2024", 1, 0), ("2025", 2, 2)]
    # a second period among the groups stays the first instant of its period, as before
    (group, _), *_ = nps(store, by=["quarter", "year"]).rows
    assert group["quarter"] == "2024-Q4" and str(group["year"]) == "2024-01-01 00:00:00"


def test_unknown_breakdown_column(store):
    from centric.errors import CentricError

    with pytest.raises(CentricError, match="cannot break down by 'colour'"):
        nps(store, by=["colour"])


TELECOM = SHARED / "telecom_nps_verbatims_en" / "verbatim.csv"


@pytest.mark.skipif(not TELECOM.exists(), reason="../shared/data/telecom_nps_verbatims_en is not here")
def test_real_survey_file_matches_independent_computation(store):
    r = ingest("responses", TELECOM, store=store, day_first="true")[0]
    assert r.rows_rejected == 0
    s = nps(store).rows[0][1]
    # published for this file: 1,669 scored rows, 512 promoters, 885 detractors, NPS -22.35
    assert (s.n, s.counts["promoters"], s.counts["detractors"]) == (1669, 512, 885)
    assert round(s.value, 2) == -22.35
    # independent computation straight from the file
    scores = [int(row["NPS_SCORE"]) for row in csv.DictReader(open(TELECOM, encoding="utf-8"))
              if row["NPS_SCORE"].strip()]
    n = len(scores)
    p = sum(v >= 9 for v in scores) / n
    d = sum(v <= 6 for v in scores) / n
    half = 1.959964 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    assert (s.low, s.high) == (pytest.approx(100 * (p - d) - half, abs=1e-3),
                               pytest.approx(100 * (p - d) + half, abs=1e-3))
