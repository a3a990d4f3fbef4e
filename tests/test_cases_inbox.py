"""The inbox's queries (centric.cases.views): scope, views, search, sorting by time left and paging on a
small hand-built store whose answers are known."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from centric.cases import store_io, views
from centric.errors import CaseError

NOW = dt.datetime(2026, 10, 20, 12, 0)
H = dt.timedelta(hours=1)

# id, department, owner, status, priority, opened (day of October), customer, summary
CASES = [
    ("CX-1", "delivery", "a.nowak", "assigned", "normal", 1, "C0000001", "Late parcel"),
    ("CX-2", "delivery", None, "new", "high", 2, "C0000002", "Courier was rude"),
    ("CX-3", "service", "b.kowal", "in_progress", "urgent", 3, "C0000003", "Broken door"),
    ("CX-4", "delivery", "a.nowak", "waiting", "normal", 4, "C0000001", "Wrong address"),
    ("CX-5", "triage", None, "new", "normal", 5, "C0000004", "Fridge delivered twice"),
    ("CX-6", "delivery", "a.nowak", "closed", "low", 6, "C0000005", "Missing screws"),
]
# case, clock, due (from NOW), at risk (from NOW), state, stopped
CLOCKS = [
    ("CX-1", "first_response", 2 * H, 1 * H, "on_track", False),
    ("CX-1", "resolution", 48 * H, 30 * H, "on_track", False),
    ("CX-2", "first_response", -3 * H, -4 * H, "breached", False),
    ("CX-3", "first_response", H / 2, -H / 6, "at_risk", False),
    ("CX-4", "resolution", -24 * H, -30 * H, "paused", False),  # waiting for the customer: not overdue
    ("CX-6", "resolution", -48 * H, -50 * H, "met", True),
]


@pytest.fixture
def inbox(store):
    cases = pd.DataFrame([{"case_id": c, "department": d, "owner": o, "status": s, "priority": p,
                           "opened_at": dt.datetime(2026, 10, day, 9), "customer_id": cust, "summary": text,
                           "type": "delivery" if d == "delivery" else None, "channel": "email",
                           "origin": "signal"}
                          for c, d, o, s, p, day, cust, text in CASES])
    clocks = pd.DataFrame([{"case_id": c, "clock": k, "started_at": NOW - 60 * H, "target_minutes": 60,
                            "calendar": "office", "due_at": NOW + due, "at_risk_at": NOW + risk, "state": state,
                            "stopped_at": NOW - H if stopped else None, "computed_at": NOW}
                           for c, k, due, risk, state, stopped in CLOCKS])
    with store.transaction():
        store_io.insert_rows(store, "cases", cases)
        store_io.insert_rows(store, "case_clocks", clocks)
    return store


def ids(objs):
    return [o["id"] for o in objs]


def test_time_left_sort_puts_the_overdue_first_and_cases_without_a_running_clock_last(inbox):
    got = views.list_cases(inbox, departments=["delivery"], sort="time_left", now=NOW)
    assert ids(got) == ["CX-2", "CX-1", "CX-4", "CX-6"]
    first = views.running_clock(got[0], NOW)
    assert first["clock"] == "first_response" and first["seconds_left"] == -3 * 3600
    assert views.running_clock(got[1], NOW)["seconds_left"] == 2 * 3600  # the earlier of its two clocks
    assert views.running_clock(got[2], NOW) is None  # paused while waiting


def test_the_scope_filters_in_the_query_and_an_empty_scope_reads_nothing(inbox):
    assert ids(views.list_cases(inbox, departments=["service"])) == ["CX-3"]
    assert views.list_cases(inbox, departments=[]) == []
    assert views.count_cases(inbox, departments=[]) == 0
    assert views.count_cases(inbox, departments=["delivery", "triage"]) == 5


def test_views_and_their_counts(inbox):
    kw = {"departments": ["delivery"], "agent": "a.nowak", "now": NOW}
    assert views.view_counts(inbox, **kw) == {"mine": 2, "queue": 1, "at_risk": 0, "overdue": 1, "triage": 0,
                                              "all": 4}
    assert ids(views.list_cases(inbox, view="mine", sort="opened", **kw)) == ["CX-4", "CX-1"]
    assert ids(views.list_cases(inbox, view="queue", **kw)) == ["CX-2"]
    assert ids(views.list_cases(inbox, view="overdue", **kw)) == ["CX-2"]
    everyone = views.view_counts(inbox, now=NOW)
    assert everyone == {"mine": 0, "queue": 2, "at_risk": 1, "overdue": 1, "triage": 1, "all": 6}
    assert ids(views.list_cases(inbox, view="at_risk", now=NOW)) == ["CX-3"]
    assert ids(views.list_cases(inbox, view="triage", now=NOW)) == ["CX-5"]
    for view, n in everyone.items():
        assert views.count_cases(inbox, view=view, now=NOW) == n


def test_priority_sort_filters_search_and_paging(inbox):
    assert ids(views.list_cases(inbox)) == ["CX-3", "CX-2", "CX-1", "CX-4", "CX-5", "CX-6"]
    assert ids(views.list_cases(inbox, limit=2, offset=2)) == ["CX-1", "CX-4"]
    assert ids(views.list_cases(inbox, sort="opened", limit=2)) == ["CX-6", "CX-5"]
    assert ids(views.list_cases(inbox, q="FRIDGE")) == ["CX-5"]
    assert ids(views.list_cases(inbox, q="c0000001", sort="opened")) == ["CX-4", "CX-1"]
    assert ids(views.list_cases(inbox, q="cx-2")) == ["CX-2"]
    assert ids(views.list_cases(inbox, priority="normal", factor="delivery")) == ["CX-1", "CX-4"]
    assert ids(views.list_cases(inbox, status=["new"], departments=["delivery"])) == ["CX-2"]
    assert views.count_cases(inbox, q="parcel", departments=["service"]) == 0


def test_unknown_view_or_sort_is_refused(inbox):
    with pytest.raises(CaseError, match="unknown view 'late'"):
        views.list_cases(inbox, view="late")
    with pytest.raises(CaseError, match="unknown sort 'age'"):
        views.list_cases(inbox, sort="age")


def test_a_query_prepared_once_answers_each_request_with_its_own_values(inbox):
    # the same shapes of query asked in turn with other scopes, agents and times: compiled once, bound each time
    assert views.count_cases(inbox, departments=["service"]) == 1
    assert views.count_cases(inbox, departments=["delivery"]) == 4
    assert views.count_cases(inbox, departments=["delivery", "service", "triage"]) == 6  # 3 values in 4 slots
    assert views.view_counts(inbox, departments=["delivery"], agent="nobody", now=NOW)["mine"] == 0
    assert views.view_counts(inbox, departments=["service"], agent="b.kowal", now=NOW)["mine"] == 1
    # four hours earlier CX-2's first response was not due yet
    assert ids(views.list_cases(inbox, view="overdue", departments=["delivery"], now=NOW - 4 * H)) == []
    assert ids(views.list_cases(inbox, view="overdue", departments=["delivery"], now=NOW)) == ["CX-2"]
    assert ids(views.list_cases(inbox, q="DOOR")) == ["CX-3"]
    assert ids(views.list_cases(inbox, q="parcel")) == ["CX-1"]


def test_prepared_binds_texts_and_lists_as_parameters(inbox):
    def build(ids, owner):
        t = inbox.table("cases")
        return t.filter(t.case_id.isin(ids) & (t.owner == owner)).select("case_id").order_by("case_id")

    def got(**values):
        return list(store_io.prepared(inbox, "test_owned", build, **values)["case_id"])

    assert got(ids=["CX-1", "CX-4", "CX-6"], owner="a.nowak") == ["CX-1", "CX-4", "CX-6"]
    assert got(ids=["CX-4", "CX-3", "CX-9"], owner="a.nowak") == ["CX-4"]  # same shape, other values
    assert got(ids=["CX-3"], owner="b.kowal") == ["CX-3"]
    assert got(ids=[], owner="a.nowak") == []
    assert got(ids=["x' OR '1'='1"], owner="a.nowak") == []  # a value is never SQL
