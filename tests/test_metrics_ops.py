"""Complaints, journeys and churn: small hand-worked stores, and a real helpdesk log."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET

import ibis
import pandas as pd
import pytest

from centric import ingest
from centric.metrics import case_durations, churn, complaints, journeys

from .conftest import SHARED


@pytest.fixture
def cases_store(store, write):
    ingest("cases", write("cases.csv", "case_id,opened_at,type,department,due_at\n"
                                       "A,2025-01-01 00:00,delivery,logistics,2025-01-03 00:00\n"
                                       "B,2025-01-01 00:00,returns,complaints,\n"
                                       "C,2025-01-05 00:00,delivery,logistics,\n"), store=store)
    ingest("case_events", write("ev.csv", "case_id,occurred_at,kind\n"
                                          "A,2025-01-01 00:00,opened\nA,2025-01-01 00:01,auto_reply\n"
                                          "A,2025-01-01 10:00,agent_response\nA,2025-01-02 12:00,resolved\n"
                                          "A,2025-01-02 13:00,closed\n"
                                          "B,2025-01-01 00:00,opened\nB,2025-01-01 00:05,auto_reply\n"
                                          "C,2025-01-05 00:00,opened\nC,2025-01-05 20:00,agent_response\n"
                                          "C,2025-01-06 00:00,resolved\nC,2025-01-08 00:00,reopened\n"
                                          "C,2025-01-10 00:00,resolved\n"), store=store)
    return store


def test_complaints_hand_worked(cases_store):
    r = complaints(cases_store, by=("type",), sla_hours=48)
    t = r.total
    assert t.n == 3 and t.open_now == 1  # B was never answered nor resolved
    assert t.first_response_median_h == pytest.approx(15.0)  # A 10 h, C 20 h; B has none
    # A 36 h; C was resolved after 24 h, reopened, and resolved for good after 120 h: the last resolution counts
    assert t.resolution_median_h == pytest.approx(78.0)
    # B: open on Jan 10, due Jan 3; C: resolved for good on Jan 10, due Jan 7 (48 h); A in time
    assert t.past_sla_pct == pytest.approx(200 / 3)
    assert t.reopened_pct == pytest.approx(100 / 3) and t.auto_only_pct == pytest.approx(100 / 3)
    groups = {g.group["type"]: g for g in r.groups}
    assert (groups["delivery"].n, round(groups["delivery"].share, 1)) == (2, 66.7)
    assert groups["returns"].auto_only_pct == 100.0
    assert r.backlog == [("2025-01", 1)]


def test_case_durations(cases_store):
    d = case_durations(cases_store.table("case_events"))
    # A: 37 h, B: 5 min, C: 5 days
    assert d.n == 3
    assert d.mean_days == pytest.approx((37 / 24 + 5 / 1440 + 5) / 3)
    assert d.median_days == pytest.approx(37 / 24)


def test_journeys_hand_worked(store, write):
    ingest("events", write("e.csv", "customer_id,occurred_at,journey,stage\n"
                                    "K1,2025-01-01 10:00,purchase,visit\nK1,2025-01-01 10:10,purchase,cart\n"
                                    "K1,2025-01-01 10:20,purchase,order\nK1,2025-01-03 10:20,purchase,delivery\n"
                                    "K1,2025-03-01 09:00,purchase,visit\n"
                                    "K2,2025-01-05 12:00,purchase,visit\nK2,2025-01-05 12:05,purchase,cart\n"),
           store=store)
    (j,) = journeys(store, final={"purchase": "delivery"})
    assert (j.instances, j.completed, j.final_stage) == (3, 1, "delivery")
    assert j.completion_pct == pytest.approx(100 / 3)
    assert j.median_hours == pytest.approx(48 + 20 / 60)
    stages = {s.stage: s for s in j.stages}
    assert [s.stage for s in j.stages] == ["visit", "cart", "order", "delivery"]
    assert (stages["visit"].reached, stages["cart"].reached, stages["order"].reached) == (3, 2, 1)
    assert stages["visit"].drop_off_pct == pytest.approx(100 / 3)  # K1's second visit went no further
    assert stages["cart"].drop_off_pct == pytest.approx(50.0)
    assert stages["delivery"].drop_off_pct is None
    # without a given final stage: the latest stage reached by at least half of the instances that get
    # beyond the first stage (K1's first and K2's: the first reaches delivery)
    assert journeys(store)[0].final_stage == "delivery"


def test_churn_rule_hand_worked(store, write):
    ingest("orders", write("o.csv", "customer_id,ordered_at,amount\n"
                                    "K1,2025-01-01,1\nK1,2025-01-11,1\nK1,2025-01-21,1\n"
                                    "K2,2025-01-05,1\nK3,2025-03-15,1\n"), store=store)
    points = churn(store, "month", method="rule")
    # Jan: gaps so far 10, 10 (p80 = 10); K1 waits 11 of 30 days, K2 27 > 10 days: 1 of 2
    # Feb: K1 39 > 30, K2 55 > 10: 2 of 2; Mar (measured at the last order, Mar 15): K3 1 day: 2 of 3
    assert [(p.period, p.customers, p.churned) for p in points] == [
        ("2025-01", 2, 1), ("2025-02", 2, 2), ("2025-03", 3, 2)]
    assert points[0].rate == 50.0 and points[0].low < 50 < points[0].high
    # three customers, one repeat buyer: BG/NBD cannot be fitted, so the default falls back to the rule
    assert [(p.customers, p.churned, p.method) for p in churn(store, "month")][-1] == (3, 2, "rule")


def test_metrics_cli_json(cases_store):
    import json

    from typer.testing import CliRunner

    from centric.cli import app

    res = CliRunner().invoke(app, ["--db", cases_store.path, "metrics", "complaints", "--by", "type", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["total"]["n"] == 3 and {g["group"]["type"] for g in out["groups"]} == {"delivery", "returns"}
    res = CliRunner().invoke(app, ["--db", cases_store.path, "metrics", "bogus"])
    assert res.exit_code == 2 and "unknown metric 'bogus'" in res.output


HELPDESK = SHARED / "event_logs_pm4py" / "helpdesk.xes.gz"


@pytest.mark.skipif(not HELPDESK.exists(), reason="../shared/data/event_logs_pm4py is not here")
def test_helpdesk_log_case_durations():
    ns = "{http://www.xes-standard.org/}"
    rows = []
    for _, el in ET.iterparse(gzip.open(HELPDESK)):
        if el.tag == ns + "trace":
            case = next(c.get("value") for c in el if c.get("key") == "concept:name")
            rows += [(case, next(c.get("value") for c in e if c.get("key") == "time:timestamp"))
                     for e in el.findall(ns + "event")]
            el.clear()
    df = pd.DataFrame(rows, columns=["case_id", "occurred_at"])
    df["occurred_at"] = pd.to_datetime(df.occurred_at, utc=True).dt.tz_localize(None)
    d = case_durations(ibis.memtable(df))
    # published for this log: 4,580 cases, mean 40.9 days, median 39.9 days
    assert (d.n, round(d.mean_days, 1), round(d.median_days, 1)) == (4580, 40.9, 39.9)
