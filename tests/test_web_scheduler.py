"""The background scheduler in-process: rounds on start and on wake, every step through the hub, a failing step
logged without customer text and not ending the thread."""

from __future__ import annotations

import logging

import pytest

from centric.ingest.records import ingest_records
from centric.web import scheduler
from centric.web.hub import Hub

SECRET_TEXT = "Mój numer karty to 4111 1111 1111 1111, kurier nie przyjechał"


@pytest.fixture
def hub(web_db):
    h = Hub(web_db)
    yield h
    scheduler.stop()
    h.close()


def _count(hub, sql, params=()):
    return hub.reader().con.execute(sql, list(params)).fetchall()[0][0]


def test_a_round_runs_at_start_and_on_wake_until_stopped(hub):
    s = scheduler.start(hub, interval=3600)
    assert s.wait_rounds(1, 120), "no round at start"
    assert set(s.last.results) == {"analyze", "sync", "tick", "webhooks"} and s.last.errors == {}
    assert s.last.results["analyze"] is None  # the demo's texts are all analysed: the models are not loaded
    assert s.analyzer is None
    assert scheduler.wake(hub) and s.wait_rounds(2, 120), "wake did not start a round"
    assert set(s.last.results) == {"analyze", "sync", "tick", "webhooks"}
    assert scheduler.wake(hub, ("webhooks",)) and s.wait_rounds(3, 120)
    assert set(s.last.results) == {"webhooks"}  # a case action asks for its webhooks alone
    assert scheduler.wake(object()) is False  # another hub's scheduler is not this one
    scheduler.stop()
    assert not s.alive and scheduler.running() is None and scheduler.wake(hub) is False


def test_rounds_nobody_woke_sync_only_every_sync_every_seconds(hub, monkeypatch):
    s = scheduler.Scheduler(hub, interval=0.2)
    monkeypatch.setattr(scheduler, "SYNC_EVERY", 3600.0)
    s.start()
    try:
        assert s.wait_rounds(3, 120), "the periodic rounds did not run"
        assert set(s.last.results) == {"analyze", "tick", "webhooks"}  # the first round synced: not again
        monkeypatch.setattr(scheduler, "SYNC_EVERY", 0.0)
        n = s.rounds
        assert s.wait_rounds(n + 2, 120)
        assert set(s.last.results) == {"analyze", "sync", "tick", "webhooks"}  # due again
    finally:
        s.stop()


def test_a_failing_step_is_logged_without_text_and_the_rest_runs(hub, caplog):
    hub.write(ingest_records, "feedback", [{"email": "z@example.com", "source": "complaint",
                                            "created_at": "2026-11-02T08:00:00", "text": SECRET_TEXT}], "api:t:1")
    s = scheduler.Scheduler(hub, interval=3600, taxonomy="no-such-taxonomy")
    with caplog.at_level(logging.ERROR, logger="centric.web.scheduler"):
        r = s.run_once()
        again = s.run_once()
    assert set(r.errors) == {"analyze"} and set(r.results) == {"sync", "tick", "webhooks"}
    assert r.results["sync"].pending == 1  # the complaint waits for its analysis, not lost
    assert set(again.errors) == {"analyze"} and s.rounds == 2
    logged = "\n".join(m.getMessage() for m in caplog.records)
    assert "background analyze failed" in logged and "no-such-taxonomy" in logged
    assert "kurier" not in logged and "4111" not in logged


def test_the_round_places_new_signals_and_escalates(hub):
    """The loop's steps through the hub: sync places an unhappy survey answer (no text to analyse: its touchpoint
    names the factor) in a case of the delivery department, tick records what fell due."""
    posted = hub.write(ingest_records, "responses", [{"email": "q@example.com", "survey": "post-delivery",
                                                      "touchpoint": "delivery", "answered_at": "2026-11-02T08:00:00",
                                                      "nps": 2}], "api:t:2")
    rid = posted.stored[0]["id"]
    r = scheduler.Scheduler(hub, interval=3600).run_once()
    assert r.errors == {} and r.results["sync"].opened >= 1
    case = hub.reader().con.execute("SELECT c.department, c.type FROM case_signals s JOIN cases c USING (case_id) "
                                    "WHERE s.signal_id = ?", [rid]).fetchall()
    assert case == [("delivery", "delivery")]
    assert r.results["tick"].clocks > 0


def test_the_sync_places_in_slices_and_a_stop_between_two_keeps_the_first(hub, monkeypatch):
    """The scheduler's sync commits slice by slice (here one signal each): stopped after the first, that one is
    placed and the next round places the others, each once."""
    posted = hub.write(ingest_records, "responses", [
        {"email": f"slice{i}@example.com", "survey": "post-delivery", "touchpoint": "delivery",
         "answered_at": f"2026-11-02T08:0{i}:00", "nps": 1} for i in range(3)], "api:t:3")
    ids = [r["id"] for r in posted.stored]
    monkeypatch.setattr(scheduler, "SYNC_SLICE", 1)
    s = scheduler.Scheduler(hub, interval=3600)
    between = s._between_slices
    calls = []

    def stop_after_the_first_slice():
        calls.append(1)
        s._stop.set()
        between()

    def placed():
        return _count(hub, "SELECT count(*) FROM case_signals WHERE signal_id IN (?, ?, ?)", ids)

    monkeypatch.setattr(s, "_between_slices", stop_after_the_first_slice)
    r = s.run_once(("sync",))
    assert r.errors == {} and "sync" not in r.results and calls == [1]  # stopped, not failed
    assert placed() == 1
    s._stop.clear()
    monkeypatch.setattr(s, "_between_slices", between)
    r = s.run_once(("sync",))
    assert r.errors == {} and placed() == 3
    assert _count(hub, "SELECT count(DISTINCT case_id) FROM case_signals WHERE signal_id IN (?, ?, ?)", ids) == 3
    assert s.run_once(("sync",)).results["sync"].signals == 0 and placed() == 3
