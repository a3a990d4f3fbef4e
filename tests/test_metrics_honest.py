"""Honest numbers: figures the data cannot support are unknown with a reason, the backlog agrees with
"open now", changes tested together are corrected for their number, and the report's headline uses one
complete period."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric import ingest
from centric.cli import app
from centric.metrics import complaints, csat, stats
from centric.report import build_report
from centric.report.data import collect, headline_periods

from .conftest import SHARED

# -- multiplicity corrections, against hand-computed adjustments

# the p-values out of order, to check that each adjusted value stays in its place
P = [0.042, 0.001, 0.205, 0.039, 0.008, 0.074, 0.041, 0.060]
# sorted: .001 .008 .039 .041 .042 .060 .074 .205 (m = 8)
# Holm: 8·.001 = .008; 7·.008 = .056; 6·.039 = .234, and every later one is at most .234, so .234
HOLM = {0.001: 0.008, 0.008: 0.056, 0.039: 0.234, 0.041: 0.234, 0.042: 0.234, 0.060: 0.234, 0.074: 0.234,
        0.205: 0.234}
# BH from the largest: .205; .074·8/7 = .084571; .060·8/6 = .08; .042·8/5 = .0672; .041·8/4 = .082 → .0672;
# .039·8/3 = .104 → .0672; .008·8/2 = .032; .001·8 = .008
BH = {0.001: 0.008, 0.008: 0.032, 0.039: 0.0672, 0.041: 0.0672, 0.042: 0.0672, 0.060: 0.08, 0.074: 0.0845714,
      0.205: 0.205}


def test_holm_and_bh_known_adjustments():
    assert stats.adjust_p(P, "holm") == pytest.approx([HOLM[p] for p in P], abs=1e-6)
    assert stats.adjust_p(P, "bh") == pytest.approx([BH[p] for p in P], abs=1e-6)
    assert stats.adjust_p(P, "none") == P
    # Holm keeps one change, BH two, uncorrected five
    assert [sum(q < 0.05 for q in stats.adjust_p(P, m)) for m in ("holm", "bh", "none")] == [1, 2, 5]
    assert stats.adjust_p([], "holm") == [] and stats.adjust_p([0.3], "bh") == [0.3]
    assert stats.adjust_p([0.5, 0.6], "holm") == [1.0, 1.0]  # capped at 1
    with pytest.raises(Exception, match="unknown correction 'bonferoni'"):
        stats.adjust_p(P, "bonferoni")


def test_bh_matches_scipy():
    from scipy.stats import false_discovery_control

    assert stats.adjust_p(P, "bh") == pytest.approx(list(false_discovery_control(P, method="bh")), abs=1e-12)


def test_holm_and_bh_match_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest", reason="statsmodels is not installed")
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        assert stats.adjust_p(P, ours) == pytest.approx(list(multitest.multipletests(P, method=theirs)[1]))


@pytest.fixture
def csat_store(store, write):
    """CSAT by touchpoint over three months. Shop: 50 → 80 → 80 of 100 satisfied; web: 50 → 64 → 64."""
    lines = ["email,date,csat,touchpoint"]
    plan = {"shop": (50, 80, 80), "web": (50, 64, 64)}
    for tp, tops in plan.items():
        for month, top in zip((1, 2, 3), tops, strict=True):
            for i in range(100):
                lines.append(f"{tp}{month}-{i}@x.pl,2025-0{month}-{1 + i % 28:02d},{5 if i < top else 2},{tp}")
    ingest("responses", write("csat.csv", "\n".join(lines) + "\n"), store=store)
    return store


def _two_shares_p(k1, k2, n=100):
    p1, p2 = k1 / n, k2 / n
    z = (p2 - p1) / math.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)
    return math.erfc(abs(z) / math.sqrt(2))


def test_month_by_month_changes_are_holm_corrected(csat_store):
    raw = {("shop", "2025-02"): _two_shares_p(50, 80), ("shop", "2025-03"): 1.0,
           ("web", "2025-02"): _two_shares_p(50, 64), ("web", "2025-03"): 1.0}
    assert raw[("web", "2025-02")] == pytest.approx(0.0434, abs=1e-4)  # significant alone, not among four
    b = csat(csat_store, by=["month", "touchpoint"])
    got = {(g["touchpoint"], c.to_period): c for g, c in b.changes}
    assert set(got) == set(raw) and b.correction == "holm"
    holm = dict(zip(raw, stats.adjust_p(list(raw.values()), "holm"), strict=True))
    for key, c in got.items():
        assert c.p_value == pytest.approx(raw[key], rel=1e-6)
        assert c.p_adjusted == pytest.approx(holm[key], rel=1e-6) and (c.correction, c.family) == ("holm", 4)
    # web's Feb rise: p = .0434 alone, 3 × .0434 = .130 after Holm: no longer flagged
    assert holm[("web", "2025-02")] == pytest.approx(3 * raw[("web", "2025-02")])
    assert [k for k, c in got.items() if c.significant] == [("shop", "2025-02")]
    plain = csat(csat_store, by=["month", "touchpoint"])  # the default is Holm
    assert [c.significant for _, c in plain.changes] == [c.significant for _, c in b.changes]
    from centric.metrics import breakdown

    uncorrected = breakdown(csat_store, "csat", ["month", "touchpoint"], correction="none")
    assert sorted(g["touchpoint"] for g, c in uncorrected.changes if c.significant) == ["shop", "web"]
    bh = breakdown(csat_store, "csat", ["month", "touchpoint"], correction="bh")
    assert {c.to_period: c.correction for _, c in bh.changes} == {"2025-02": "bh", "2025-03": "bh"}


def test_cli_names_the_correction(csat_store):
    args = ["--db", csat_store.path, "metrics", "csat", "--by", "month,touchpoint"]
    res = CliRunner().invoke(app, [*args], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "after Holm's correction across the 4 changes in this table" in res.output
    assert _arrows(res.output) == 1 and "adjusted 0.130" in res.output
    res = CliRunner().invoke(app, [*args, "--correction", "none"], env={"COLUMNS": "200"})
    assert _arrows(res.output) == 2 and "tested alone (no correction)" in res.output
    out = json.loads(CliRunner().invoke(app, [*args, "--correction", "bh", "--json"]).output)
    assert out["significance"] == {"alpha": 0.05, "correction": "bh", "tests": 4}
    assert {round(c["p_adjusted"], 4) for c in out["changes"]} == {round(2 * _two_shares_p(50, 80), 4),
                                                                   round(2 * _two_shares_p(50, 64), 4), 1.0}
    res = CliRunner().invoke(app, [*args, "--correction", "bonferroni"])
    assert res.exit_code == 2 and "--correction: 'bonferroni' is not one of holm, bh, none" in res.output


def _arrows(output: str) -> int:
    """Arrows in the table, not in its legend."""
    table = output.split("\n▲▼:")[0]
    return table.count("▲") + table.count("▼")


# -- complaints without close times, the way a regulator's export comes

CFPB_SHAPED = ("Complaint ID,Date received,Product,Submitted via,status\n"
               "3571115,2025-01-05,Debt collection,Web,closed\n"
               "3384392,2025-01-20,Credit reporting,Web,closed\n"
               "3417821,2025-02-03,Mortgage,Phone,in_progress\n"
               "3402310,2025-02-14,Debt collection,Referral,closed\n"
               "3590011,2025-03-10,Credit reporting,Web,in_progress\n")


@pytest.fixture
def no_close_times(store, write):
    mapping = write("complaints.toml", '[columns]\n"Complaint ID" = "case_id"\n"Date received" = "opened_at"\n'
                                       '"Product" = "type"\n"Submitted via" = "channel"\n')
    ingest("cases", write("complaints.csv", CFPB_SHAPED), store=store, mapping=mapping)
    return store


def test_complaints_without_close_times_are_unknown_not_zero(no_close_times):
    r = complaints(no_close_times, by=("type",), sla_hours=48)
    t = r.total
    assert (t.n, t.open_now, t.closed_no_time) == (5, 2, 3)
    assert t.past_sla_pct is None and t.unknown["past_sla_pct"].code == "no_close_times"
    assert t.unknown["past_sla_pct"].text == "no close times in the data"
    assert t.reopened_pct is None and t.unknown["reopened_pct"].text == "no case events in the data"
    assert t.auto_only_pct is None and t.unknown["auto_only_pct"].code == "no_events"
    assert t.resolution_median_h is None and t.unknown["resolution_median_h"].code == "no_close_times"
    assert t.first_response_median_h is None and t.unknown["first_response_median_h"].code == "no_events"
    # the mortgage case is open and past its due time (Feb 3 + 48 h, now is Mar 10): that much is known
    mortgage = next(g for g in r.groups if g.group["type"] == "Mortgage")
    assert (mortgage.past_sla_pct, mortgage.past_sla_n) == (100.0, 1) and "past_sla_pct" not in mortgage.unknown
    # the backlog leaves out the three closed cases (when they closed is unknown) and ends with "open now"
    assert r.backlog == [("2025-01", 0), ("2025-02", 1), ("2025-03", 2)]
    assert r.backlog[-1][1] == t.open_now and r.backlog_left_out == 3
    assert r.as_of == pd.Timestamp("2025-03-10").to_pydatetime()
    d = r.to_dict()
    assert d["total"]["past_sla_pct"] is None
    assert d["total"]["unknown"]["past_sla_pct"] == {"code": "no_close_times", "reason": "no close times in the data"}
    assert d["backlog_left_out"] == 3 and d["as_of"] == "2025-03-10T00:00:00"


def test_complaints_cli_and_json_say_why(no_close_times):
    res = CliRunner().invoke(app, ["--db", no_close_times.path, "metrics", "complaints"], env={"COLUMNS": "220"})
    assert res.exit_code == 0, res.output
    total = next(line for line in res.output.splitlines() if line.startswith("│ all"))
    assert "%" in total.split("│")[3] and "0.0 %" not in total.split("│", 4)[4] and "100.0 %" not in total.split("│", 4)[4]
    assert "— resolution, past SLA: unknown, no close times in the data" in res.output
    assert "— 1st response, reopened, auto reply only, FCR, transfers: unknown, no case events in the data" \
        in res.output
    out = json.loads(CliRunner().invoke(app, ["--db", no_close_times.path, "metrics", "complaints", "--json"]).output)
    assert out["total"]["reopened_pct"] is None
    assert out["total"]["unknown"]["reopened_pct"]["reason"] == "no case events in the data"


def test_the_report_shows_unknown_with_its_reason(no_close_times):
    # by month, the headline is February: one case open past its due time, one closed at an unknown time
    html = build_report(no_close_times, lang="en", period="month")
    section = _visible(html.split('id="complaints"')[1].split('id="journeys"')[0])
    total = re.search(r"All cases(.*?)</tr>", section, re.S).group(1)
    assert "%" not in total.replace("100.0\u00a0%", "")  # the share column only: no 0 % and no 100 %
    assert "— Resolution, median (h), Past SLA: unknown, no close times in the data" in _text(section)
    assert "3 closed cases have no close time: when they stopped being open is unknown" in _text(section)
    assert 'title="no close times in the data"' in html
    headline = _text(_visible(html.split('id="headline"')[1].split('id="trends"')[0]))
    assert "resolution time, past SLA unknown: no close times in the data" in headline
    assert "answered only automatically unknown: no case events in the data" in headline
    specs = _specs(html)
    assert specs["chart-backlog"]["data"][0]["y"][-1] == 2  # the same as "Open now"
    pl = _text(_visible(build_report(no_close_times, lang="pl", period="month")))
    assert "nieznane, brak czasów zamknięcia w danych" in pl


def test_partly_known_shares_use_the_cases_that_can_be_judged(store, write):
    ingest("cases", write("cases.csv", "case_id,opened_at,closed_at,status\n"
                                       "A,2025-01-01 00:00,2025-01-02 00:00,closed\n"  # 24 h: met
                                       "B,2025-01-01 00:00,2025-01-04 00:00,closed\n"  # 72 h: past
                                       "C,2025-01-01 00:00,,closed\n"  # closed, no time: cannot be judged
                                       "D,2025-01-01 00:00,,open\n"  # open on Jan 10: past
                                       "E,2025-01-10 00:00,,open\n"), store=store)  # not due yet: pending
    t = complaints(store, by=(), sla_hours=48).total
    assert (t.past_sla_pct, t.past_sla_n) == (pytest.approx(200 / 3), 3)
    assert t.resolution_median_h == pytest.approx(48.0) and t.open_now == 2
    assert t.unknown["reopened_pct"].code == "no_events"
    # events for two cases of five: too few to speak for the rest
    ingest("case_events", write("ev.csv", "case_id,occurred_at,kind\n"
                                          "A,2025-01-01 01:00,agent_response\nB,2025-01-01 00:01,auto_reply\n"),
           store=store)
    t = complaints(store, by=(), sla_hours=48).total
    assert t.reopened_pct is None and t.unknown["reopened_pct"].text == "only 2 of 5 cases have case events"
    assert t.auto_only_pct is None and t.unknown["auto_only_pct"].code == "events_missing"
    # a third case with events, and a reopening: now both shares are over the three cases with events
    ingest("case_events", write("ev2.csv", "case_id,occurred_at,kind\nD,2025-01-05 00:00,reopened\n"), store=store)
    t = complaints(store, by=(), sla_hours=48).total
    assert (t.reopened_pct, t.auto_only_pct, t.events_n) == (pytest.approx(100 / 3), pytest.approx(100 / 3), 3)
    assert t.first_response_median_h == pytest.approx(1.0)
    # no transfer was ever recorded: transfers, and first-contact resolution that needs them, stay unknown
    assert {k: u.text for k, u in t.unknown.items()} == dict.fromkeys(
        ("transfers_per_case", "hand_to_hand_pct", "fcr_pct"), "no transfer events recorded")


def test_a_group_says_why_when_its_reason_differs(store, write):
    ingest("cases", write("c.csv", "case_id,opened_at,closed_at,type\n"
                                   "A,2025-01-01,2025-01-02,delivery\nB,2025-01-01,2025-01-02,delivery\n"
                                   "C,2025-01-01,2025-01-02,returns\nD,2025-01-01,2025-01-02,returns\n"), store=store)
    ingest("case_events", write("e.csv", "case_id,occurred_at,kind\nA,2025-01-01 02:00,agent_response\n"
                                         "B,2025-01-01 04:00,reopened\n"), store=store)
    from centric.metrics.complaints import unknown_figures
    from centric.render_text import complaint_notes

    r = complaints(store, by=("type",))
    groups = {g.group["type"]: g for g in r.groups}
    assert groups["delivery"].reopened_pct == 50.0 and groups["delivery"].auto_only_pct == 0.0
    assert r.total.unknown["reopened_pct"].text == "only 2 of 4 cases have case events"
    assert groups["returns"].unknown["reopened_pct"].text == "only 0 of 2 cases have case events"
    notes = unknown_figures(r, ["first_response_median_h", "reopened_pct", "auto_only_pct"])
    assert [(g, u.text, f) for g, u, f in notes] == [
        ({}, "only 2 of 4 cases have case events", ["first_response_median_h", "reopened_pct", "auto_only_pct"]),
        ({"type": "returns"}, "only 0 of 2 cases have case events",
         ["first_response_median_h", "reopened_pct", "auto_only_pct"])]
    said = complaint_notes(r)  # the total first; the two groups (two cases each) by name
    assert [g.group["type"] for g in r.groups] == ["delivery", "returns"]
    assert said[0] == ("— 1st response, reopened, auto reply only, FCR, transfers: unknown, only 2 of 4 cases have "
                       "case events")
    assert said[1] == "— delivery: FCR, transfers: unknown, no transfer events recorded"
    assert said[2] == ("— returns: 1st response, reopened, auto reply only, FCR, transfers: unknown, only 0 of 2 cases "
                       "have case events")


def test_no_reopen_or_response_events_recorded(store, write):
    ingest("cases", write("c.csv", "case_id,opened_at,closed_at\nA,2025-01-01,2025-01-02\nB,2025-01-01,2025-01-05\n"),
           store=store)
    ingest("case_events", write("e.csv", "case_id,occurred_at,kind\nA,2025-01-01 00:01,auto_reply\n"
                                         "B,2025-01-01 00:01,auto_reply\n"), store=store)
    t = complaints(store, by=(), sla_hours=48).total
    assert t.past_sla_pct == 50.0 and t.open_now == 0  # close times are there (and close the cases)
    assert t.unknown["reopened_pct"].text == "no reopen events recorded"
    # every case got an automatic reply, but no answer by a person was ever recorded: not "100 % auto only"
    assert t.auto_only_pct is None and t.unknown["auto_only_pct"].text == "no agent responses recorded"


def test_backlog_counts_a_case_open_until_it_closed(store, write):
    ingest("cases", write("c.csv", "case_id,opened_at,closed_at,status\n"
                                   "A,2025-01-10,2025-03-05,closed\n"  # open at the end of Jan and Feb
                                   "B,2025-01-20,,closed\n"  # closed by status only, on its last event
                                   "C,2025-02-01,,open\n"), store=store)
    ingest("case_events", write("e.csv", "case_id,occurred_at,kind\nB,2025-02-10,closed\n"
                                         "C,2025-02-02,agent_response\nC,2025-04-01,note\n"), store=store)
    r = complaints(store, by=())
    assert r.backlog == [("2025-01", 2), ("2025-02", 2), ("2025-03", 1), ("2025-04", 1)]
    assert r.backlog[-1][1] == r.total.open_now == 1 and r.backlog_left_out == 0


CFPB = SHARED / "cfpb_complaints_sample" / "complaints_sample.csv"


@pytest.mark.skipif(not CFPB.exists(), reason="../shared/data/cfpb_complaints_sample is not here")
def test_real_complaints_without_close_times(store):
    d = pd.read_csv(CFPB)
    frame = pd.DataFrame({"case_id": d["Complaint ID"].astype(str),
                          "opened_at": pd.to_datetime(d["Date received"], format="%Y/%m/%d"),
                          "type": d["Product"], "channel": d["Submitted via"],
                          "status": ["in_progress" if s == "In progress" else "closed"
                                     for s in d["Company response to consumer"]]})
    ingest("cases", frame, store=store, name="cfpb")
    r = complaints(store, by=("channel",))
    t = r.total
    # before: 99.1 % past SLA, 0.0 % reopened, 0.0 % automatic, and a backlog climbing to 4,588
    assert (t.n, t.open_now, t.closed_no_time) == (4588, 28, 4560)
    assert (t.past_sla_pct, t.reopened_pct, t.auto_only_pct) == (None, None, None)
    assert {k: u.code for k, u in t.unknown.items()} == {
        "past_sla_pct": "no_close_times", "resolution_median_h": "no_close_times",
        "resolution_p90_h": "no_close_times", "reopened_pct": "no_events", "auto_only_pct": "no_events",
        "first_response_median_h": "no_events", "first_response_p90_h": "no_events", "fcr_pct": "no_events",
        "transfers_per_case": "no_events", "hand_to_hand_pct": "no_events"}
    assert r.backlog[-1] == ("2020-03", 28) and r.backlog_left_out == 4560
    assert max(n for _, n in r.backlog) == 28


# -- the report's headline: one complete period for every figure


def test_headline_uses_one_complete_period(demo_store):
    from centric.metrics import churn, journeys
    from centric.metrics.periods import label
    from centric.report.i18n import Formatter

    d = collect(demo_store)
    (c0, c1), (p0, p1) = headline_periods(d.last, d.period)
    assert c1 <= d.last + pd.Timedelta(days=1)  # complete
    assert d.current == label("quarter", c0) and d.compared
    last_month = label("month", c1 - pd.Timedelta(days=1))
    assert d.headline["churn"]["current"].period == last_month
    assert d.headline["churn"]["current"] == next(p for p in churn(demo_store, "month") if p.period == last_month)
    main = next(j for j in journeys(demo_store, start=c0, end=c1) if len(j.stages) > 1)
    assert d.headline["journey"] == main
    assert d.headline["complaints"]["current"].n == complaints(demo_store, (), c0, c1, with_backlog=False).total.n
    # the three changes are one family, Holm-corrected
    changes = [d.headline[m]["change"] for m in ("nps", "csat", "ces")]
    assert {(c.correction, c.family) for c in changes} == {("holm", 3)}
    assert [c.p_adjusted for c in changes] == pytest.approx(stats.adjust_p([c.p_value for c in changes], "holm"))
    html = build_report(demo_store, lang="en")
    headline = _text(_visible(html.split('id="headline"')[1].split('id="trends"')[0]))
    assert f"Every figure here is for {d.current}, the last complete period in the data." in headline
    assert "Holm's correction for the 3 comparisons shown" in headline
    assert f"at the end of {d.current}" in headline and f"journeys in {d.current}" in headline
    # no month of the running period is named in the headline (it used to show the churn of "Oct 26")
    running = Formatter("en").period(label("month", d.last))
    assert c1 <= d.last and running not in headline


def test_partial_previous_period_is_not_compared(store, write):
    # answers from 15 May: Q2 is only partly in the data, Q3 is complete, October is running
    lines = ["email,date,nps"]
    day = pd.Timestamp("2025-05-15")
    i = 0
    while day < pd.Timestamp("2025-10-20"):
        lines.append(f"k{i}@x.pl,{day:%Y-%m-%d},{10 if day.month in (7, 8, 9) else 3}")
        day += pd.Timedelta(days=1)
        i += 1
    ingest("responses", write("r.csv", "\n".join(lines) + "\n"), store=store)
    d = collect(store)
    assert (d.current, d.previous, d.compared) == ("2025-Q3", "2025-Q2", False)
    assert d.headline["nps"]["change"] is None and d.headline["nps"]["current"].n == 92
    headline = _text(_visible(build_report(store, lang="en").split('id="headline"')[1].split('id="trends"')[0]))
    assert "2025-Q2 is only partly in the data, so nothing is compared with it." in headline
    assert "▲" not in headline and "▼" not in headline
    # --from inside the current quarter: the headline says from when
    from centric.report import build_report as br

    cut = _text(_visible(br(store, lang="en", start=pd.Timestamp("2025-08-01").to_pydatetime())))
    assert "Every figure here is for 2025-Q3 from Aug 1, 2025" in cut


def _visible(html: str) -> str:
    return re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)


def _text(html: str) -> str:
    import html as h

    return re.sub(r"\s+", " ", h.unescape(re.sub(r"<[^>]+>", " ", html)))


def _specs(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S)
                      .group(1))
