"""``where`` filters of the metrics, on a small store built by hand, against answers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from centric.cases.store_io import insert_rows
from centric.drivers.analysis import mentions_frame
from centric.errors import CentricError
from centric.metrics import complaints, nps
from centric.metrics.cases import case_metrics
from centric.metrics.filters import describe, normalise

from .engines import ALL, DUCK_PG

T = dt.datetime(2026, 3, 1)

# customer, segment
CUSTOMERS = [("C0000001", "vip"), ("C0000002", "b2c"), ("C0000003", None)]
# response, customer, channel, nps
ANSWERS = [("R1", "C0000001", "app", 10), ("R2", "C0000001", "app", 9), ("R3", "C0000001", "app", 3),
           ("R4", "C0000002", "app", 8), ("R5", "C0000002", "app", 2), ("R6", "C0000002", "online", 10),
           ("R7", "C0000003", "online", 0)]
# case, customer, channel, status
CASES = [("K1", "C0000001", "email", "new"), ("K2", "C0000002", "phone", "closed"),
         ("K3", "C0000003", "email", "new"), ("K4", "C0000002", "email", "new")]


@pytest.fixture
def small(store, engine):
    """The hand-built store on each engine the test's marker names."""
    return engine.store_of(_small(store))


@pytest.fixture
def small_rw(store, engine):
    """The same, opened for writing: the case metrics materialise a temporary table, which a read-only
    PostgreSQL session refuses (as ``centric metrics complaints`` does, open it writable where the role may)."""
    return engine.writable_of(_small(store))


def _small(store):
    with store.transaction() as con:
        insert_rows(con, "customers", pd.DataFrame(
            {"customer_id": [c for c, _ in CUSTOMERS], "segment": [s for _, s in CUSTOMERS], "first_seen_at": T,
             "updated_at": T}))
        insert_rows(con, "responses", pd.DataFrame(
            {"response_id": [a[0] for a in ANSWERS], "customer_id": [a[1] for a in ANSWERS],
             "channel": [a[2] for a in ANSWERS], "nps": [a[3] for a in ANSWERS],
             "responded_at": [T + dt.timedelta(days=i) for i in range(len(ANSWERS))]}))
        insert_rows(con, "cases", pd.DataFrame(
            {"case_id": [c[0] for c in CASES], "customer_id": [c[1] for c in CASES],
             "channel": [c[2] for c in CASES], "status": [c[3] for c in CASES], "type": "delivery",
             "opened_at": T, "origin": "signal"}))
    return store


def value(store, **where):
    s = nps(store, where=where).rows[0][1]
    return s.value, s.n


@pytest.mark.capability("metrics", engines=ALL)
def test_nps_filtered_by_response_and_customer_columns(small):
    assert value(small) == (pytest.approx(0.0), 7)  # promoters 10, 9, 10; detractors 3, 2, 0; 8 passive
    assert value(small, channel=["app"]) == (pytest.approx(0.0), 5)  # 10, 9 vs 3, 2 (8 is passive)
    assert value(small, segment=["vip"]) == (pytest.approx(100 / 3), 3)  # 10, 9 vs 3
    assert value(small, segment=["vip"], channel=["app"]) == (pytest.approx(100 / 3), 3)
    assert value(small, segment=["b2c"], channel=["app", "online"]) == (pytest.approx(0.0), 3)  # 8, 2, 10
    assert value(small, segment=["(none)"]) == (pytest.approx(-100.0), 1)  # the customer without a segment: 0
    assert value(small, segment=["vip", "(none)"], channel=["online"]) == (pytest.approx(-100.0), 1)
    assert value(small, channel=[]) == value(small)  # a column without values does not filter


@pytest.mark.capability("metrics", engines=ALL)
def test_breakdown_by_a_column_with_a_filter(small):
    b = nps(small, by="channel", where={"segment": ["b2c"]})
    got = {g["channel"]: (s.value, s.n) for g, s in b.rows}
    assert got == {"app": (pytest.approx(-50.0), 2), "online": (pytest.approx(100.0), 1)}


@pytest.mark.capability("metrics", engines=DUCK_PG)
def test_unknown_filter_column_is_refused_by_name(small):
    with pytest.raises(CentricError, match=r"cannot filter survey answers by 'brand'; use one of: survey, "
                                           r"channel, touchpoint, language, segment, country, city"):
        nps(small, where={"brand": ["ours"]})
    with pytest.raises(CentricError, match=r"cannot filter cases by 'touchpoint'"):
        complaints(small, (), where={"touchpoint": ["x"]})


@pytest.mark.capability("metrics reads", engines=DUCK_PG)
def test_complaints_and_case_metrics_filtered(small_rw):
    small = small_rw
    assert complaints(small, (), with_backlog=False).total.n == 4
    assert complaints(small, (), where={"channel": ["email"]}, with_backlog=False).total.n == 3
    assert complaints(small, (), where={"segment": ["b2c"]}, with_backlog=False).total.n == 2
    r = complaints(small, ("channel",), where={"segment": ["b2c"], "channel": ["email"]}, with_backlog=False)
    assert r.total.n == 1 and [(g.group, g.n, g.open_now) for g in r.groups] == [({"channel": "email"}, 1, 1)]
    m = case_metrics(small, ("department",), where={"segment": ["vip", "b2c"]}, with_backlog=False)
    assert m.complaints.total.n == 3 and m.backlog.open == 2  # K1, K4 open; K2 closed


def test_normalise_and_describe():
    assert normalise({"segment": "vip", "channel": ["app", "app", ""], "city": None or []}) == {
        "segment": ("vip",), "channel": ("app",)}
    assert describe({"segment": ["vip"], "channel": ["app", "online"]}) == "segment = vip; channel = app, online"


def test_driver_mentions_filtered_by_segment_and_channel(demo_store):
    """The mentions of the texts whose customer is in one segment: exactly those a query joining the
    tables by hand finds."""
    con = demo_store
    segment = con.execute("SELECT segment FROM customers WHERE segment IS NOT NULL GROUP BY 1 ORDER BY count(*) "
                          "LIMIT 1").fetchone()[0]
    want = con.execute("""
        SELECT count(*) FROM mentions m JOIN feedback f ON m.source = 'feedback' AND m.text_id = f.feedback_id
        JOIN customers c ON c.customer_id = f.customer_id WHERE c.segment = ?""", [segment]).fetchone()[0]
    want += con.execute("""
        SELECT count(*) FROM mentions m JOIN responses r ON m.source = 'responses' AND m.text_id = r.response_id
        JOIN customers c ON c.customer_id = r.customer_id WHERE c.segment = ?""", [segment]).fetchone()[0]
    got = mentions_frame(demo_store, where={"segment": [segment]})
    assert 0 < len(got) == want < len(mentions_frame(demo_store))
    start = dt.datetime(2025, 7, 1)
    dated = mentions_frame(demo_store, start=start)
    assert len(dated) and (pd.to_datetime(dated["at"]) >= start).all()
