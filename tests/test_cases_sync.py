"""Signals become cases: one per customer × factor × open window, triage, imported cases, idempotence."""

from __future__ import annotations

import datetime as dt
import functools
import json

import pandas as pd
import pytest

from centric.cases import config, signals
from centric.cases.sync import sync
from centric.ingest import ingest
from centric.store import Store

from .engines import DUCK_PG, execute
from .engines import sql_rows as rows

T0 = dt.datetime(2026, 3, 2, 9, 0)  # a Monday

ROUTING = """
default_department = "customer_service"
triage_department = "triage"
[factors]
delivery = "delivery"
call_centre = "customer_service"
[departments.delivery]
agents = ["ann", "bob"]
lead = "lea"
[departments.customer_service]
agents = ["cat"]
[departments.triage]
agents = ["tom"]
"""


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def _analysed(store: Store, source: str, text_id: str, sentiment: str, mentions: list[tuple[str, str, float]]):
    """What centric analyze would have stored for one text (the text models are not needed here)."""
    execute(store, "INSERT INTO text_analyses (source, text_id, taxonomy, sentiment, analyzed_at, flags) "
            "VALUES (?, ?, 'retail', ?, ?, '[]')", [source, text_id, sentiment, T0])
    for i, (factor, pol, score) in enumerate(mentions):
        execute(store, "INSERT INTO mentions (source, text_id, sentence, factor, sentiment, score, taxonomy) "
                          "VALUES (?, ?, ?, ?, ?, ?, 'retail')", [source, text_id, i, factor, pol, score])


@pytest.fixture
def loop_store(tmp_path):
    s = _loop(tmp_path / "loop.duckdb")
    yield s
    s.close()


def _loop(path) -> Store:
    """The store of :func:`loop_store`."""
    s = Store.open(path)
    with s.transaction() as con:
        config.save(con, "routing", ROUTING, "test routing", now=T0)
    fb = pd.DataFrame([
        # id, email, source, brand, posted_at, text, author
        ("F1", "a@x.pl", "complaint", "ours", day(0), "The courier left my parcel at the wrong address.", None),
        ("F2", "a@x.pl", "review", "ours", day(20), "Delivery late again, terrible.", "Ala A."),
        ("F3", "b@x.pl", "complaint", "ours", day(1), "I want to talk to someone.", None),
        ("F4", None, "social", "ours", day(2), "Nobody answers the hotline!", "@jan_k"),
        ("F5", None, "social", "ours", day(4), "Still nobody answers the hotline", "@Jan_K"),
        ("F6", "c@x.pl", "review", "ours", day(3), "Great service, thank you", "Cel C."),
        ("F7", "c@x.pl", "complaint", "ElektroMax", day(3), "Their delivery is bad", None),
        ("F8", "d@x.pl", "complaint", "ours", day(5), "Not analysed yet", None),
        ("F9", "e@x.pl", "complaint", "ours", day(6), "From the old helpdesk", None),
    ], columns=["feedback_id", "email", "source", "brand", "posted_at", "text", "author"])
    ingest("feedback", fb, store=s, name="feedback")
    rs = pd.DataFrame([
        ("R1", "a@x.pl", day(5), 3, None, None, "The delivery was a disaster", "delivery"),
        ("R2", "c@x.pl", day(5), 8, 4, None, None, "delivery"),
        ("R3", "f@x.pl", day(6), None, None, 3, None, "delivery"),  # CES 3, no comment: its touchpoint
        ("R4", "g@x.pl", day(6), None, 2, None, None, "checkout"),  # CSAT 2, no comment, no factor: triage
    ], columns=["response_id", "email", "responded_at", "nps", "csat", "ces", "comment", "touchpoint"])
    ingest("responses", rs, store=s, name="responses")
    ingest("cases", pd.DataFrame([{"case_id": "HD-1", "email": "e@x.pl", "opened_at": day(6), "type": "delivery",
                                   "status": "open"}]), store=s, name="helpdesk")
    s.con.execute("UPDATE cases SET feedback_id = 'F9' WHERE case_id = 'HD-1'")
    _analysed(s, "feedback", "F1", "negative", [("delivery", "negative", -0.9)])
    _analysed(s, "feedback", "F2", "negative", [("delivery", "negative", -0.8)])
    _analysed(s, "feedback", "F3", "neutral", [])
    _analysed(s, "feedback", "F4", "negative", [("call_centre", "negative", -0.7)])
    _analysed(s, "feedback", "F5", "negative", [("call_centre", "negative", -0.6)])
    _analysed(s, "feedback", "F6", "positive", [("staff", "positive", 0.9)])
    _analysed(s, "feedback", "F7", "negative", [("delivery", "negative", -0.9)])
    _analysed(s, "feedback", "F9", "negative", [("delivery", "negative", -0.9)])
    # R1's comment: praise for the price, the delivery the most negative → delivery
    _analysed(s, "responses", "R1", "negative", [("price", "positive", 0.4), ("delivery", "negative", -0.95)])
    return s


@pytest.fixture
def loop_on(loop_store, engine):
    """The hand-built loop's store on each engine the test's marker names (a copy PostgreSQL writes into)."""
    return engine.writable_of(loop_store)


on_every_engine = pytest.mark.capability("cases", engines=DUCK_PG)


def _case_of(store, table, signal_id):
    found = rows(store, "SELECT case_id, action FROM case_signals WHERE source_table = ? AND signal_id = ?",
                 [table, signal_id])
    assert len(found) <= 1
    return found[0] if found else None


def test_signals_found_and_their_factors(loop_store):
    found = signals.find(loop_store, touchpoint_factors=frozenset({"delivery", "call_centre"}))
    by = found.set_index("signal_id")
    # F6 is praise, F7 is about a competitor, R2 is a promoter
    assert set(by.index) == {"F1", "F2", "F3", "F4", "F5", "F8", "F9", "R1", "R3", "R4"}
    assert by.loc["R1", "factor"] == "delivery"  # the most negative mention, not the first
    assert by.loc["R3", "factor"] == "delivery"  # no comment: its touchpoint
    assert pd.isna(by.loc["R4", "factor"]) and pd.isna(by.loc["F3", "factor"])
    assert not by.loc["F8", "analysed"] and by.loc["F9", "imported_case_id"] == "HD-1"


@on_every_engine
def test_one_case_per_customer_factor_and_window(loop_on):
    r = sync(loop_on, now=day(30), proactive=False)
    assert (r.pending, r.imported) == (1, 1)  # F8 waits for centric analyze; F9 is the helpdesk's case
    x, action = _case_of(loop_on, "feedback", "F1")
    assert action == "opened"
    assert _case_of(loop_on, "responses", "R1") == (x, "joined")  # same customer, delivery, within 14 days
    y, action = _case_of(loop_on, "feedback", "F2")  # 20 days later: a new case, linked to the first
    assert action == "opened" and y != x
    assert rows(loop_on, "SELECT linked_case_id FROM cases WHERE case_id = ?", [y]) == [(x,)]
    # the unknown author's two posts: one case (the handle's case is ignored)
    s4, _ = _case_of(loop_on, "feedback", "F4")
    assert _case_of(loop_on, "feedback", "F5") == (s4, "joined")
    assert rows(loop_on, "SELECT customer_id, author, channel, priority FROM cases WHERE case_id = ?", [s4]) \
        == [(None, "@jan_k", "social", "high")]
    assert _case_of(loop_on, "feedback", "F9") == ("HD-1", "imported")
    assert _case_of(loop_on, "feedback", "F6") is None and _case_of(loop_on, "feedback", "F7") is None
    assert _case_of(loop_on, "responses", "R2") is None
    # each signal in exactly one case; cases opened: F1, F2, F3 (triage), F4, R3, R4 (triage)
    assert r.opened == 6 and r.joined == 2 and r.triage == 2
    assert rows(loop_on, "SELECT count(*), count(DISTINCT source_table || signal_id) FROM case_signals") == [(9, 9)]


@on_every_engine
def test_routing_owner_and_triage(loop_on):
    sync(loop_on, now=day(30), proactive=False)
    got = dict((sid, (d, o, st)) for sid, d, o, st in rows(
        loop_on, "SELECT s.signal_id, c.department, c.owner, c.status FROM case_signals s JOIN cases c "
                    "USING (case_id) WHERE s.action = 'opened'"))
    assert got["F3"] == ("triage", "tom", "assigned") and got["R4"][0] == "triage"
    assert got["F4"] == ("customer_service", "cat", "assigned")
    # three delivery cases (F1, F2, R3) shared by ann and bob: the least loaded takes each
    # (in time order: F1 → ann, R3 → bob, F2 → ann: equal loads go round the team)
    assert [got[k][1] for k in ("F1", "R3", "F2")] == ["ann", "bob", "ann"]
    events = rows(loop_on, "SELECT e.kind, e.target FROM case_events e JOIN case_signals s USING (case_id) "
                              "WHERE s.signal_id = 'F1' AND s.action = 'opened' ORDER BY case_event_id")
    assert [k for k, _ in events][:2] == ["opened", "assigned"]


@on_every_engine
def test_sync_twice_creates_nothing(loop_on):
    first = sync(loop_on, now=day(30), proactive=False)
    before = [rows(loop_on, f"SELECT count(*) FROM {t}")[0][0] for t in ("cases", "case_events", "case_signals")]
    again = sync(loop_on, now=day(30), proactive=False)
    after = [rows(loop_on, f"SELECT count(*) FROM {t}")[0][0] for t in ("cases", "case_events", "case_signals")]
    assert first.opened > 0 and (again.signals, again.opened) == (0, 0) and before == after
    # the text analysed later joins the loop on the next run
    _analysed(loop_on, "feedback", "F8", "negative", [("delivery", "negative", -0.5)])
    third = sync(loop_on, now=day(30), proactive=False)
    assert (third.signals, third.opened, third.pending) == (1, 1, 0)


@on_every_engine
def test_unanalysed_texts_go_to_triage_when_asked(loop_on):
    r = sync(loop_on, now=day(30), proactive=False, unanalysed=True)
    assert r.pending == 0
    case, action = _case_of(loop_on, "feedback", "F8")
    assert action == "opened"
    assert rows(loop_on, "SELECT type, department FROM cases WHERE case_id = ?", [case]) == [(None, "triage")]


@on_every_engine
def test_reopen_within_grace_and_new_linked_case_after(loop_on):
    sync(loop_on, now=day(30), proactive=False)
    x, _ = _case_of(loop_on, "responses", "R3")  # f@x.pl, delivery, opened on day 6
    s4, _ = _case_of(loop_on, "feedback", "F4")
    resolved = {x: day(10), s4: day(10)}
    for case, at in resolved.items():
        execute(loop_on, "UPDATE cases SET status = 'resolved', resolved_at = ? WHERE case_id = ?", [at, case])
    more = pd.DataFrame([
        ("F10", "f@x.pl", "complaint", "ours", day(13), "Still no parcel", None),  # 3 days after: reopens
        ("F11", None, "social", "ours", day(25), "Hotline silent again", "@jan_k"),  # 15 days after: a new case
    ], columns=["feedback_id", "email", "source", "brand", "posted_at", "text", "author"])
    ingest("feedback", more, store=loop_on, name="more")
    _analysed(loop_on, "feedback", "F10", "negative", [("delivery", "negative", -0.9)])
    _analysed(loop_on, "feedback", "F11", "negative", [("call_centre", "negative", -0.9)])
    r = sync(loop_on, now=day(30), proactive=False)
    assert (r.reopened, r.opened) == (1, 1)
    assert _case_of(loop_on, "feedback", "F10") == (x, "reopened")
    assert rows(loop_on, "SELECT status, reopen_count FROM cases WHERE case_id = ?", [x]) == [("in_progress", 1)]
    assert rows(loop_on, "SELECT count(*) FROM case_events WHERE case_id = ? AND kind = 'reopened'", [x]) == [(1,)]
    new, action = _case_of(loop_on, "feedback", "F11")
    assert action == "opened" and new != s4
    assert rows(loop_on, "SELECT linked_case_id FROM cases WHERE case_id = ?", [new]) == [(s4,)]


@on_every_engine
def test_signals_after_now_wait(loop_on):
    r = sync(loop_on, now=day(3), proactive=False)  # F1, F3, F4 only (F5 onwards is later)
    assert r.opened == 3 and _case_of(loop_on, "feedback", "F5") is None


@on_every_engine
def test_a_threat_to_go_public_makes_the_case_urgent(loop_on):
    more = pd.DataFrame([
        ("F20", "h@x.pl", "complaint", "ours", day(7), "Jeśli nie oddacie pieniędzy, sprawę zgłoszę do UOKiK.", None),
        ("F21", "i@x.pl", "complaint", "ours", day(7), "I saw your ad on Facebook and the parcel is late.", None),
    ], columns=["feedback_id", "email", "source", "brand", "posted_at", "text", "author"])
    ingest("feedback", more, store=loop_on, name="threats")
    for fid in ("F20", "F21"):
        _analysed(loop_on, "feedback", fid, "negative", [("delivery", "negative", -0.9)])
    sync(loop_on, now=day(30), proactive=False)
    got = dict(rows(loop_on, "SELECT s.signal_id, c.priority FROM case_signals s JOIN cases c USING (case_id) "
                                "WHERE s.signal_id IN ('F20', 'F21')"))
    assert got == {"F20": "urgent", "F21": "normal"}  # the second names Facebook but threatens nothing


def test_new_cases_clocks_in_chunks_equal_a_refresh_from_the_store(loop_store, monkeypatch):
    """sync computes the new cases' clocks from memory, a few cases at a time; reading every case back from
    the store and refreshing gives the same rows."""
    import importlib

    from centric.cases.clocks import refresh_clocks

    monkeypatch.setattr(importlib.import_module("centric.cases.sync"), "_CLOCK_CHUNK", 2)
    r = sync(loop_store, now=day(30), proactive=False)
    assert r.opened > 4 and r.joined > 0  # several chunks, and signals that joined a case
    query = "SELECT case_id, clock, started_at, target_minutes, calendar, due_at, at_risk_at, stopped_at, state " \
            "FROM case_clocks ORDER BY case_id, clock"
    by_sync = rows(loop_store, query)
    assert len(by_sync) >= 2 * r.opened  # first response and resolution of every case at least
    with loop_store.transaction() as con:
        refresh_clocks(loop_store, con, [c for (c,) in rows(loop_store, "SELECT case_id FROM cases WHERE origin = 'signal'")],
                       now=day(30))
    assert rows(loop_store, query) == by_sync


def test_event_ids_continue_each_cases_count_and_is_in_on_texts(tmp_path):
    """The store's helpers the loop leans on at scale: event ids numbered per case after those stored, in
    the order given; membership of ids (missing values and numbers among them) without pandas' isin."""
    from centric.cases import store_io

    with Store.open(tmp_path / "ids.duckdb") as store, store.transaction() as con:
        store_io.append_events(con, pd.DataFrame({"case_id": ["A", "A", "B"], "occurred_at": [T0] * 3,
                                                  "kind": ["opened", "note", "opened"]}))
        assert store_io.event_ids(con, pd.Series(["A", "C", "A", "B", "C"], index=[5, 6, 7, 8, 9])) == [
            "A:00003", "C:00001", "A:00004", "B:00002", "C:00002"]
        assert store_io.event_ids(con, []) == []
    got = store_io.is_in(pd.Series(["a", None, "b", "c"]), {"c", "a"})
    assert got.tolist() == [True, False, False, True]
    assert store_io.is_in(pd.Series([7, None], dtype=object), ["7"]).tolist() == [True, False]
    assert store_io.is_in([], ["x"]).tolist() == []


def test_the_loop_runs_after_each_ingest_of_the_command_line(tmp_path):
    """centric ingest places the new signals in cases (detractor answers need no text analysis when they have
    no comment); --no-cases leaves them for the next sync."""
    from typer.testing import CliRunner

    from centric.cli import app

    db = str(tmp_path / "c.duckdb")
    answers = tmp_path / "answers.csv"
    answers.write_text("response_id,email,responded_at,nps,touchpoint\n"
                       "A1,a@x.pl,2026-03-02 09:00,2,delivery\nA2,b@x.pl,2026-03-02 10:00,9,delivery\n",
                       encoding="utf-8")
    more = tmp_path / "more.csv"
    more.write_text("response_id,email,responded_at,nps,touchpoint\nA3,c@x.pl,2026-03-03 09:00,1,checkout\n",
                    encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["--db", db, "ingest", "responses", str(answers)])
    assert res.exit_code == 0, res.output
    assert "cases: 1 opened" in res.output
    res = runner.invoke(app, ["--db", db, "ingest", "responses", str(more), "--no-cases"])
    assert res.exit_code == 0 and "cases:" not in res.output
    with Store.open(db) as s:
        assert rows(s, "SELECT signal_id, action FROM case_signals") == [("A1", "opened")]
    res = runner.invoke(app, ["--db", db, "cases", "sync", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["opened"] == 1  # A3, into triage (checkout is no factor)


# -- only the new signals, and placed in slices ------------------------------------------------------------------

def _more_answers(store: Store) -> None:
    """Detractors without a comment (about their touchpoint) that meet the fixture's cases: a@x.pl again after
    F2 (joins it), g@x.pl about delivery (R4 was checkout: a case of its own), h@x.pl twice at one instant (one
    case), i@x.pl at that instant too (the agents' load and turn decide between h's and i's owner)."""
    rs = pd.DataFrame([
        ("R10", "a@x.pl", day(21), 2, "delivery"), ("R11", "a@x.pl", day(29), 0, "delivery"),
        ("R12", "g@x.pl", day(7), 5, "delivery"), ("R13", "h@x.pl", day(8), 1, "delivery"),
        ("R14", "h@x.pl", day(8), 3, "delivery"), ("R15", "i@x.pl", day(8), 4, "delivery"),
        ("R16", "j@x.pl", day(9), 9, "delivery"),  # a promoter: no signal
    ], columns=["response_id", "email", "responded_at", "nps", "touchpoint"])
    ingest("responses", rs, store=store, name="more responses")


_LOOP_TABLES = {  # every column the loop writes, in a fixed order
    "cases": "SELECT * FROM cases ORDER BY case_id",
    "case_events": "SELECT * FROM case_events ORDER BY case_event_id",
    "case_signals": "SELECT * FROM case_signals ORDER BY source_table, signal_id",
    "case_clocks": "SELECT * FROM case_clocks ORDER BY case_id, clock",
}


def _loop_tables(store: Store) -> dict[str, list]:
    return {t: rows(store, q) for t, q in _LOOP_TABLES.items()}


def test_a_second_sync_reads_nothing_and_signals_added_between_are_placed_once(loop_store, tmp_path):
    _more_answers(loop_store)
    factors = frozenset({"delivery", "call_centre"})
    one = sync(loop_store, now=day(30), proactive=False)
    all_signals = signals.find(loop_store, touchpoint_factors=factors)
    assert len(all_signals) == 16 and one.signals == 15  # F8 waits for its analysis; R16 is no signal
    assert signals.find(loop_store, touchpoint_factors=factors, new_only=True)["signal_id"].tolist() == ["F8"]
    before = _loop_tables(loop_store)
    again = sync(loop_store, now=day(30), proactive=False)
    assert (again.signals, again.opened, again.pending) == (0, 0, 1) and _loop_tables(loop_store) == before

    # the same signals in two syncs: those up to day 3 first, the rest added after it (among them @Jan_K's
    # second post: it joins @jan_k's case as in one sync)
    two = _loop(tmp_path / "two.duckdb")
    later = {"responses": "responded_at", "feedback": "posted_at"}
    _more_answers(two)
    for table, at in later.items():
        two.con.execute(f"CREATE TABLE held_{table} AS SELECT * FROM {table} WHERE {at} > ?", [day(3)])
        two.con.execute(f"DELETE FROM {table} WHERE {at} > ?", [day(3)])
    first = sync(two, now=day(30), proactive=False)
    assert first.signals == 3 and signals.find(two, touchpoint_factors=factors, new_only=True).empty
    for table in later:
        two.con.execute(f"INSERT INTO {table} SELECT * FROM held_{table}")
    new = signals.find(two, touchpoint_factors=factors, new_only=True)  # placed ones are not read again
    assert sorted(new["signal_id"]) == ["F2", "F5", "F8", "F9", "R1", "R10", "R11", "R12", "R13", "R14", "R15",
                                        "R3", "R4"]
    assert new.set_index("signal_id").loc["F9", "imported_case_id"] == "HD-1"
    second = sync(two, now=day(30), proactive=False)
    assert first.signals + second.signals == one.signals and first.opened + second.opened == one.opened
    assert _loop_tables(two) == before
    two.close()


def test_placing_in_slices_gives_the_cases_of_one_transaction(loop_store, tmp_path):
    _more_answers(loop_store)
    whole = sync(loop_store, now=day(30), proactive=False)
    expected = _loop_tables(loop_store)
    for size in (1, 2, 5):
        s = _loop(tmp_path / f"slices{size}.duckdb")
        _more_answers(s)
        calls = []
        got = sync(s, now=day(30), proactive=False, slice_size=size, between=functools.partial(calls.append, 1))
        assert got == whole
        assert len(calls) == -(-14 // size)  # 14 signals to place (and F9 imported): a call before each slice
        assert _loop_tables(s) == expected, size
        s.close()


def test_a_sync_stopped_between_two_slices_keeps_the_slices_before_and_places_the_rest_once(loop_store, tmp_path):
    _more_answers(loop_store)
    sync(loop_store, now=day(30), proactive=False)
    expected = _loop_tables(loop_store)
    s = _loop(tmp_path / "stopped.duckdb")
    _more_answers(s)

    calls = []

    def stop():  # the call after the read passes; the one between the first two slices stops the sync
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        sync(s, now=day(30), proactive=False, slice_size=4, between=stop)
    assert rows(s, "SELECT count(*) FROM case_signals")[0][0] == 5  # the first slice: 4 signals and F9 imported
    rest = sync(s, now=day(30), proactive=False, slice_size=4)
    assert rest.signals == 10
    assert _loop_tables(s) == expected
    s.close()
