"""Response rates (Wilson intervals) and trends of the surveys, with hand-computed values."""

from __future__ import annotations

import datetime as dt

import pytest

from centric.surveys import SurveyError, from_dict, repo
from centric.surveys.stats import response_rates, trends


def _survey(store, slug, kind, touchpoint):
    return repo.add(store, from_dict({"slug": slug, "name": slug.title(), "kind": kind, "touchpoint": touchpoint,
                                      "branding": {"company": "K"}}))


def _invite(store, first, survey_id, n, answered, language="en"):
    t = dt.datetime(2026, 1, 5)
    for i in range(first, first + n):
        store.execute("INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, language, created_at, "
                      "expires_at, answered_at, response_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      [i, survey_id, f"C{i:07d}", language, t, t + dt.timedelta(days=30),
                           t if i < first + answered else None, f"SVR-{i}" if i < first + answered else None])


def _answer(store, rid, slug, day, **score):
    (col, v), = score.items()
    store.execute(f"INSERT INTO responses (response_id, survey, responded_at, {col}) VALUES (?, ?, ?, ?)",
                  [rid, slug, day, v])


@pytest.fixture
def surveyed(store):
    a = _survey(store, "after-delivery", "nps", "delivery")
    b = _survey(store, "after-support", "csat", "support")
    _invite(store, 1, a, 10, 4)                 # 4 of 10
    _invite(store, 11, a, 5, 5, language="pl")  # 5 of 5
    _invite(store, 16, b, 20, 0)                # none of 20
    for i, (day, v) in enumerate([("2026-01-03", 10), ("2026-01-09", 9), ("2026-01-20", 3), ("2026-02-02", 10),
                                  ("2026-02-12", 10)]):
        _answer(store, f"a{i}", "after-delivery", day, nps=v)
    for i, v in enumerate([5, 4, 2, 1]):
        _answer(store, f"b{i}", "after-support", "2026-01-15", csat=v)
    _answer(store, "x", "imported-survey", "2026-01-15", nps=0)  # another survey's answer counts for none
    return a, b


def test_response_rates_with_wilson_intervals(store, surveyed):
    df = response_rates(store)
    assert list(df["survey"]) == ["after-delivery", "after-support"]
    assert list(df["touchpoint"]) == ["delivery", "support"]
    assert list(df["invitations"]) == [15, 20] and list(df["answers"]) == [9, 0]
    assert df["rate"].tolist() == pytest.approx([60.0, 0.0])
    # Wilson 95% of 9/15: 35.75–80.18 %; of 0/20: 0–16.11 %
    assert (df["low"][0], df["high"][0]) == (pytest.approx(35.75, abs=0.01), pytest.approx(80.18, abs=0.01))
    assert (df["low"][1], df["high"][1]) == (pytest.approx(0.0), pytest.approx(16.11, abs=0.01))

    by_lang = response_rates(store, by=("survey", "language"))
    first = by_lang[(by_lang["survey"] == "after-delivery") & (by_lang["language"] == "en")].iloc[0]
    # 4 of 10: the textbook Wilson interval 16.82–68.73 %
    assert (first["answers"], first["invitations"], first["rate"]) == (4, 10, 40.0)
    assert first["low"] == pytest.approx(16.82, abs=0.01) and first["high"] == pytest.approx(68.73, abs=0.01)
    overall = response_rates(store, by=())
    assert (int(overall["invitations"][0]), int(overall["answers"][0])) == (35, 9)
    with pytest.raises(SurveyError, match="cannot group response rates by 'channel'"):
        response_rates(store, by=("channel",))


def test_no_invitations_no_rows(store):
    assert response_rates(store).empty and response_rates(store, by=()).empty


def test_trends_per_month_through_the_metrics(store, surveyed):
    df = trends(store)
    nps = df[df["survey"] == "after-delivery"]
    assert list(nps["period"]) == ["2026-01", "2026-02"]
    # January: 10, 9, 3 -> 2 promoters, 1 detractor of 3 = 33.3; February: two 10s = 100
    assert nps["value"].tolist() == pytest.approx([100 / 3, 100.0]) and list(nps["n"]) == [3, 2]
    assert all(nps["low"] < nps["value"]) and list(nps["method"]) == ["adjusted-wald", "adjusted-wald"]
    csat = trends(store, survey="after-support")
    # 5, 4, 2, 1: two of four satisfied (4-5) = 50 %, Wilson 15.00–85.00 %
    assert csat[["period", "value", "n"]].values.tolist() == [["2026-01", 50.0, 4]]
    assert csat["low"][0] == pytest.approx(15.00, abs=0.01) and csat["high"][0] == pytest.approx(85.00, abs=0.01)
    assert list(trends(store, period="year")["period"]) == ["2026", "2026"]
    with pytest.raises(SurveyError, match="period 'fortnight' must be one of"):
        trends(store, period="fortnight")
