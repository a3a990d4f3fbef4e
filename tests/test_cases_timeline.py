"""One customer, one timeline (across merged identities) and proactive contact with its limits."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric import ingest
from centric.cases.store_io import append_events, insert_rows
from centric.cases.timeline import timeline
from centric.cli import app
from centric.errors import CentricError

from .conftest import rows
from .engines import db_of

LONG = ("The fridge came to my invoice address again, the fourth time now, and nobody at the call centre "
        "knows anything about it")


@pytest.fixture
def anna(store, write):
    """Anna is first known twice — by crm id and e-mail in the shop, by phone in a store — and becomes one
    customer when a survey answer carries her e-mail and phone together."""
    ingest("orders", write("orders.csv",
                           "customer_id,email,phone,date,amount,currency,channel\n"
                           "K1,Anna@Example.PL,,2026-01-05 10:00,120.50,PLN,online\n"
                           ",,601 234 567,2026-02-10 12:00,80,PLN,store\n"
                           "K2,jan@example.pl,,2026-01-07 09:00,30,PLN,online\n"), store=store)
    shop, store_buyer = (rows(store, "SELECT customer_id FROM identities WHERE value = ?", [v])[0][0]
                         for v in ("anna@example.pl", "+48601234567"))
    assert shop != store_buyer  # two customers so far
    r = ingest("responses", write("answers.csv",
                                  "email,phone,date,nps,comment\n"
                                  f"anna@example.pl,+48 601-234-567,2026-03-01 08:00,3,\"{LONG}\"\n"), store=store)[0]
    assert r.customers_merged == 1
    ingest("feedback", write("posts.jsonl",
                             '{"handle": "@AnnaN", "phone": "0048601234567", "text": "Still no fridge. [bold]Why?[/bold]", '
                             '"date": "2026-03-04 18:30", "rating": 1}\n'), store=store, values={"source": "social"})
    ingest("events", write("events.csv", "email,date,journey,stage,channel\n"
                                         "anna@example.pl,2026-02-20 11:00,purchase,delivery,courier\n"),
           store=store)
    # a public post signed only "@AnnaN" (no identity column), and a case from the helpdesk by her e-mail
    ingest("feedback", write("reviews.csv", "author,date,rating,text\n@AnnaN,2026-03-05 06:50,1,Fourth time!\n"),
           store=store, values={"source": "review"})
    ingest("cases", write("cases.csv", "case_id,email,date,type,department,owner,status,summary\n"
                                       "HD-1,ANNA@example.pl,2026-03-02 09:00,delivery,delivery,a.nowak,open,"
                                       "Fridge delivered to the wrong address\n"), store=store)
    ingest("case_events", write("case_events.csv", "case_event_id,case_id,date,kind,actor,department,note\n"
                                                   "E1,HD-1,2026-03-02 09:00,opened,system,delivery,\n"
                                                   "E2,HD-1,2026-03-02 09:00,assigned,system,delivery,\n"
                                                   "E3,HD-1,2026-03-03 10:15,transferred,a.nowak,logistics,"
                                                   "wrong warehouse\n"), store=store)
    # the loop's case for the anonymous review, kept under its author as the loop keeps it
    review = rows(store, "SELECT feedback_id FROM feedback WHERE source = 'review'")[0][0]
    at = dt.datetime(2026, 3, 5, 7, 0)
    with store.transaction():
        insert_rows(store, "cases", pd.DataFrame([{"case_id": "CX-0000001", "author": "@AnnaN", "opened_at": at,
                                                 "origin": "signal", "type": "delivery", "department": "social",
                                                 "status": "new", "priority": "high", "channel": "review"}]))
        append_events(store, pd.DataFrame([{"case_id": "CX-0000001", "occurred_at": at, "kind": "opened",
                                          "actor": "system", "department": "social",
                                          "data": {"origin": "signal", "signal": {"table": "feedback", "id": review}}}]))
        insert_rows(store, "case_signals", pd.DataFrame([{
            "source_table": "feedback", "signal_id": review, "case_id": "CX-0000001", "kind": "review",
            "factor": "delivery", "signal_at": dt.datetime(2026, 3, 5, 6, 50), "action": "opened",
            "attached_at": at}]))
    return shop, store_buyer


NEWEST_FIRST = [
    ("case_event", "CX-0000001:00001"),
    ("case", "CX-0000001"),
    ("feedback", None),  # the review by @AnnaN
    ("feedback", None),  # her social post
    ("case_event", "E3"),
    ("case_event", "E2"),  # same instant as E1 and the case: the later event first, the case last
    ("case_event", "E1"),
    ("case", "HD-1"),
    ("response", None),
    ("event", None),
    ("order", None),
    ("order", None),
]


def test_timeline_is_the_same_by_either_old_id_the_email_and_the_phone(store, anna):
    shop, store_buyer = anna
    survivor = min(shop, store_buyer)
    assert rows(store, "SELECT merged_customer_id, into_customer_id FROM customer_merges") == [
        (max(shop, store_buyer), survivor)]
    views = [timeline(store, w) for w in (shop, store_buyer, "Anna@Example.pl", "601 234 567", "+48 601 234 567",
                                          "@AnnaN", "annan", "K1")]
    first = views[0].to_dict()
    for v in views:
        d = v.to_dict()
        assert d["items"] == first["items"] and d["customer"]["customer_id"] == survivor
    t = views[0]
    assert [(i.kind, i.id if i.kind in ("case", "case_event") else None) for i in t.items] == NEWEST_FIRST
    assert [i.at for i in t.items] == sorted((i.at for i in t.items), reverse=True)
    assert t.items[-1].at == dt.datetime(2026, 1, 5, 10, 0) and t.items[-1].details["amount"] == 120.5
    assert t.counts == {"order": 2, "response": 1, "feedback": 2, "event": 1, "case": 2, "case_event": 4}
    assert t.total == 12
    assert "K2" not in json.dumps(first) and "jan@" not in json.dumps(first)  # nobody else's rows
    p = t.profile
    assert p.merged_ids == (max(shop, store_buyer),)
    assert {(i["kind"], i["value"]) for i in p.identities} == {
        ("crm_id", "K1"), ("email", "anna@example.pl"), ("phone", "+48601234567"), ("handle", "annan")}
    assert views[1].profile.looked_up == f"{store_buyer} (merged id)"
    # the summary cuts her text, the details keep it
    resp = next(i for i in t.items if i.kind == "response")
    assert resp.summary.startswith("NPS 3 · “The fridge came") and resp.summary.endswith("…”")
    assert len(resp.summary) < 80 and resp.details["comment"] == LONG
    e3 = next(i for i in t.items if i.id == "E3")
    assert e3.summary == "HD-1: transferred · logistics · a.nowak · “wrong warehouse”"
    cx = next(i for i in t.items if i.id == "CX-0000001")
    assert cx.details["signals"] == [{"table": "feedback", "id": t.items[2].id, "kind": "review", "action": "opened",
                                      "factor": "delivery", "signal_at": dt.datetime(2026, 3, 5, 6, 50)}]
    assert cx.summary == "new · high · delivery · social · signal"
    assert t.items[0].details["data"]["signal"] == {"table": "feedback", "id": t.items[2].id}
    assert t.scores is None


def test_timeline_limit_kinds_scores_and_frame(store, anna):
    shop, store_buyer = anna
    survivor = min(shop, store_buyer)
    t = timeline(store, "anna@example.pl", limit=3)
    assert [i.kind for i in t.items] == ["case_event", "case", "feedback"] and t.total == 12
    t = timeline(store, survivor, kinds=["case", "case_event"], limit=2)
    assert [i.id for i in t.items] == ["CX-0000001:00001", "CX-0000001"] and t.total == 6
    assert t.counts == {"case": 2, "case_event": 4}
    # without the counting queries: the same items, each kind counted up to limit + 1 (enough to say "more")
    quick = timeline(store, survivor, kinds=["case", "case_event"], limit=2, count=False)
    assert [i.id for i in quick.items] == ["CX-0000001:00001", "CX-0000001"]
    assert quick.counts == {"case": 2, "case_event": 3} and quick.total == 5 > 2
    # two scorings: the latest P(alive) 0.8 with the one before, loyal (a repeat buyer; her NPS 3 is no promoter)
    for at, p in ((dt.datetime(2026, 3, 1), 0.9), (dt.datetime(2026, 4, 1), 0.8)):
        _score(store, survivor, at, p_alive=p, clv=250.0, frequency=1)
    s = timeline(store, store_buyer).scores
    assert (s["p_alive"], s["p_alive_before"], s["clv"], s["loyalty_phase"]) == (0.8, 0.9, 250.0, "loyal")
    assert s["as_of"] == dt.date(2026, 4, 1)
    f = timeline(store, survivor).to_frame()
    assert list(f.columns) == ["at", "kind", "id", "summary", "case_id", "details"]
    assert list(f.loc[f["kind"] == "case_event", "case_id"]) == ["CX-0000001"] + ["HD-1"] * 3


def test_unknown_customer_names_what_was_looked_up(store, anna):
    with pytest.raises(CentricError, match=r"no customer is known by '\+48 700 000 000' \(looked up as customer "
                                           r"id or merged id, crm id '\+48 700 000 000', phone '\+48700000000'"):
        timeline(store, "+48 700 000 000")
    with pytest.raises(CentricError, match="unknown item kind 'orders'"):
        timeline(store, "K1", kinds=["orders"])
    from centric.privacy import forget

    forget(store, "K1")
    with pytest.raises(CentricError, match=r"customer C0000001 was erased on \d{4}-\d\d-\d\d"):
        timeline(store, "C0000001")


def test_cli_timeline(store, anna, monkeypatch):
    from centric.cli._common import console

    monkeypatch.setattr(console, "_width", 200)  # one line per item
    path = db_of(store)
    store.close()
    run = CliRunner().invoke
    r = run(app, ["--db", path, "customers", "timeline", "601234567", "--json", "--kind", "case,case_event"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [i["id"] for i in d["items"]] == ["CX-0000001:00001", "CX-0000001", "E3", "E2", "E1", "HD-1"]
    assert d["items"][-1]["at"] == "2026-03-02T09:00:00" and d["customer"]["name"] is None
    r = run(app, ["--db", path, "customers", "timeline", "K1", "--limit", "4"])
    assert r.exit_code == 0 and "the newest 4 shown" in r.stdout
    assert "“Still no fridge. [bold]Why?[/bold]”" in r.stdout  # customer text is shown, never read as markup
    r = run(app, ["--db", path, "customers", "timeline", "nobody@example.pl"])
    assert r.exit_code == 2 and "no customer is known by 'nobody@example.pl'" in r.stderr
    assert "e-mail 'nobody@example.pl'" in r.stderr


def _score(store, cid, at, p_alive, clv, frequency, spend=100.0):
    row = pd.DataFrame([{"customer_id": cid, "scored_at": at, "as_of": at.date(), "frequency": frequency,
                         "recency_days": 60.0, "age_days": 100.0, "monetary_value": spend, "p_alive": p_alive,
                         "expected_purchases": 1.0, "expected_spend": spend, "clv": clv, "horizon_days": 365,
                         "currency": "PLN", "model": "bgnbd+gammagamma/1", "params": "{}"}])
    with store.transaction():
        insert_rows(store, "customer_scores", row)


# -- proactive contact -------------------------------------------------------------------------------

NOW = dt.datetime(2026, 10, 31, 12, 0)


def _routing(agents=("ann", "bob")):
    from centric.cases.model import Department, Routing

    deps = {"customer_service": Department("customer_service", tuple(agents))} if agents else {}
    return Routing((), deps, proactive_department="customer_service")


@pytest.fixture
def quiet(store):
    """Twelve customers whose P(alive) fell from 0.8 to 0.3 between two scorings; C0000012 has the most
    value at risk, C0000001 the least (value at risk = 0.7 × spend × 3/100 × 365). C0000011 has an open
    case, C0000010 was called 10 days ago, C0000009 40 days ago; bob was given a proactive case today."""
    people = [f"C{i:07d}" for i in range(1, 13)] + ["C0000099"]
    with store.transaction():
        insert_rows(store, "customers", pd.DataFrame({"customer_id": people, "language": "pl", "country": "PL"}))
    for at, p in ((dt.datetime(2026, 9, 30), 0.8), (dt.datetime(2026, 10, 30), 0.3)):
        for i, cid in enumerate(people[:12], start=1):
            _score(store, cid, at, p_alive=p, clv=10.0 * i, frequency=2, spend=100.0 * i)
    cases = pd.DataFrame([
        {"case_id": "HD-1", "customer_id": "C0000011", "opened_at": NOW - dt.timedelta(days=3), "status": "open"},
        {"case_id": "P-10", "customer_id": "C0000010", "opened_at": NOW - dt.timedelta(days=10), "status": "closed",
         "origin": "proactive"},
        {"case_id": "P-40", "customer_id": "C0000009", "opened_at": NOW - dt.timedelta(days=40), "status": "closed",
         "origin": "proactive"},
        {"case_id": "P-99", "customer_id": "C0000099", "opened_at": NOW - dt.timedelta(hours=1), "status": "assigned",
         "origin": "proactive", "owner": "bob", "department": "customer_service"}])
    with store.transaction():
        insert_rows(store, "cases", cases)
        append_events(store, pd.DataFrame([{"case_id": "P-99", "occurred_at": NOW - dt.timedelta(hours=1),
                                          "kind": "assigned", "target": "bob"}]))
    return store


def _opened(res):
    return [(r.customer_id, r.owner, r.priority) for r in res.opened.itertuples()]


def test_proactive_min_days_daily_cap_deferred_and_idempotent(quiet):
    from centric.cases.proactive import proactive

    store = quiet
    res = proactive(store, now=NOW, routing=_routing(), daily_cap=3)
    # ann may take 3 today, bob 2 (one given already); by least load, ties to the one assigned longest ago
    assert _opened(res) == [("C0000012", "ann", "high"), ("C0000009", "bob", "normal"), ("C0000008", "ann", "normal"),
                            ("C0000007", "bob", "normal"), ("C0000006", "ann", "normal")]
    assert list(res.opened["case_id"]) == [f"CX-{i:07d}" for i in range(1, 6)]
    assert list(res.deferred["customer_id"]) == ["C0000005", "C0000004", "C0000003", "C0000002", "C0000001"]
    assert res.summary()["skipped"] == {"already": 0, "open_case": 1, "contacted_recently": 1}
    assert dict(zip(res.skipped["customer_id"], res.skipped["why"], strict=True)) == {"C0000011": "open_case",
                                                                        "C0000010": "contacted_recently"}
    json.dumps(res.to_dict())
    case = rows(store, "SELECT customer_id, origin, type, status, priority, department, owner, opened_at, language "
                       "FROM cases WHERE case_id = 'CX-0000001'")
    assert case == [("C0000012", "proactive", None, "assigned", "high", "customer_service", "ann", NOW, "pl")]
    signal_id = "C0000012@2026-10-30T00:00:00"
    events = rows(store, "SELECT case_event_id, kind, target, data FROM case_events WHERE case_id = 'CX-0000001' "
                         "ORDER BY 1")
    assert [(e, k, t, (json.loads(d) if d else {}).get("signal", {}).get("id")) for e, k, t, d in events] == [
        ("CX-0000001:00001", "opened", None, signal_id), ("CX-0000001:00002", "assigned", "ann", None)]
    assert rows(store, "SELECT source_table, signal_id, kind, action, signal_at FROM case_signals "
                       "WHERE case_id = 'CX-0000001'") == [
        ("customer_scores", signal_id, "proactive", "opened", dt.datetime(2026, 10, 30))]
    # the same day again: nothing new — opened ones are done, the caps are reached
    again = proactive(store, now=NOW + dt.timedelta(hours=5), routing=_routing(), daily_cap=3)
    assert len(again.opened) == 0 and len(again.deferred) == 5
    assert again.summary()["skipped"] == {"already": 5, "open_case": 1, "contacted_recently": 1}
    assert rows(store, "SELECT count(*) FROM cases WHERE origin = 'proactive'") == [(8,)]
    # the next day the deferred come back (the loads are 3 and 3, the last assignments tie: by name)
    nxt = proactive(store, now=NOW + dt.timedelta(days=1), routing=_routing(), daily_cap=3)
    assert _opened(nxt) == [("C0000005", "ann", "normal"), ("C0000004", "bob", "normal"),
                            ("C0000003", "ann", "normal"), ("C0000002", "bob", "normal"), ("C0000001", "ann", "normal")]
    assert len(nxt.deferred) == 0
    # with 5 days between contacts, the customer called 10 days ago may be called again
    five = proactive(store, now=NOW + dt.timedelta(days=1), routing=_routing(), min_days=5, daily_cap=10)
    assert _opened(five) == [("C0000010", "bob", "normal")]


def test_proactive_without_agents_caps_the_queue(quiet):
    from centric.cases.proactive import proactive
    from centric.errors import SettingError

    # the department's queue takes 3 a day; one proactive case went into it an hour ago
    res = proactive(quiet, now=NOW, routing=_routing(agents=()), daily_cap=3)
    assert _opened(res) == [("C0000012", None, "high"), ("C0000009", None, "normal")]
    assert len(res.deferred) == 8
    assert rows(quiet, "SELECT DISTINCT status FROM cases WHERE case_id LIKE 'CX-%'") == [("new",)]
    assert rows(quiet, "SELECT count(*) FROM case_events WHERE kind = 'assigned' AND case_id LIKE 'CX-%'") == [(0,)]
    with pytest.raises(SettingError, match="proactive_daily_cap"):
        proactive(quiet, now=NOW, routing=_routing(), daily_cap=0)
