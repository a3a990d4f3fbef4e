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
    return hub.reader().execute(sql, list(params)).fetchall()[0][0]


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
    case = hub.reader().execute("SELECT c.department, c.type FROM case_signals s JOIN cases c USING (case_id) "
                                    "WHERE s.signal_id = ?", [rid]).fetchall()
    assert case == [("delivery", "delivery")]
    assert r.results["tick"].clocks > 0


@pytest.mark.duckdb_only(reason="the sync's slices are DuckDB's; on PostgreSQL it is one transaction, published at "
                                 "its end (centric.web.scheduler._sync)")
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

    def stop_after_the_first_slice():  # called before each slice: the second call comes after the first slice
        calls.append(1)
        if len(calls) == 2:
            s._stop.set()
        between()

    def placed():
        return _count(hub, "SELECT count(*) FROM case_signals WHERE signal_id IN (?, ?, ?)", ids)

    monkeypatch.setattr(s, "_between_slices", stop_after_the_first_slice)
    r = s.run_once(("sync",))
    assert r.errors == {} and "sync" not in r.results and calls == [1, 1]  # stopped, not failed
    assert placed() == 1
    s._stop.clear()
    monkeypatch.setattr(s, "_between_slices", between)
    r = s.run_once(("sync",))
    assert r.errors == {} and placed() == 3
    assert _count(hub, "SELECT count(DISTINCT case_id) FROM case_signals WHERE signal_id IN (?, ?, ?)", ids) == 3
    assert s.run_once(("sync",)).results["sync"].signals == 0 and placed() == 3


class _Streaming:
    """A stand-in for a hub's survey intake: whether answers stream in is what the test says."""

    def __init__(self, streaming: bool):
        self.streaming = streaming


def _as_intake(monkeypatch, hub, streaming: bool) -> _Streaming:
    from centric.surveys import intake

    fake = _Streaming(streaming)
    monkeypatch.setitem(intake._running, id(hub), fake)
    return fake


def test_give_way_pauses_only_while_answers_stream_and_at_most_give_way_max(hub, monkeypatch):
    """Between two pieces of background work: no pause while no answers come; while they stream, a pause of
    GIVE_WAY times the piece's CPU time, never above GIVE_WAY_MAX (so a round's work W takes at most
    (1 + GIVE_WAY) × W more)."""
    slept = []
    monkeypatch.setattr(scheduler, "_sleep", lambda seconds, stop: slept.append(seconds))
    fake = _as_intake(monkeypatch, hub, streaming=False)
    assert scheduler.give_way(hub, 0.1) == 0.0 and slept == []
    fake.streaming = True
    assert scheduler.answers_streaming(hub) and not scheduler.answers_streaming(object())
    assert scheduler.give_way(hub, 0.1) == pytest.approx(0.1 * scheduler.GIVE_WAY)
    assert scheduler.give_way(hub, 5.0) == scheduler.GIVE_WAY_MAX  # a long piece: the pause is bounded
    assert scheduler.give_way(hub, 0.0) == 0.0
    assert slept == [pytest.approx(0.1 * scheduler.GIVE_WAY), scheduler.GIVE_WAY_MAX]


def test_the_pacer_gives_way_after_each_piece_by_its_cpu_time(hub, monkeypatch):
    clock = iter([10.0, 10.04, 10.5, 10.5])  # the thread's CPU seconds at each reading
    slept = []
    monkeypatch.setattr(scheduler, "_sleep", lambda seconds, stop: slept.append(seconds))
    _as_intake(monkeypatch, hub, streaming=True)
    p = scheduler.Pacer(hub, clock=lambda: next(clock))
    p.pace()  # 0.04 s of CPU since it was made
    p.pace()  # 0.46 s: bounded
    p.pace()  # nothing done since
    assert slept == [pytest.approx(0.04 * scheduler.GIVE_WAY), scheduler.GIVE_WAY_MAX]
    assert p.paused == pytest.approx(sum(slept))


def test_a_round_while_answers_stream_gives_way_between_its_pieces_and_still_opens_the_case(hub, monkeypatch):
    """A low score stored while answers stream in: the round gives way after each step and between the
    analysis' batches, and the case is opened in that same round (the bound on how late: the pauses, each at
    most GIVE_WAY times the piece before it)."""
    hub.write(ingest_records, "responses", [
        {"email": f"stream{i}@example.com", "survey": "post-delivery", "touchpoint": "delivery",
         "answered_at": "2026-11-02T08:00:00", "nps": 1, "comment": f"Courier {i} was late"} for i in range(3)],
              "api:t:4")
    slept = []
    monkeypatch.setattr(scheduler, "_sleep", lambda seconds, stop: slept.append(seconds))
    monkeypatch.setattr(scheduler, "ANALYZE_BATCH", 1)  # one text a batch: a pause between two
    _as_intake(monkeypatch, hub, streaming=True)
    s = scheduler.Scheduler(hub, interval=3600)
    pieces = []
    real = scheduler.Pacer.pace
    monkeypatch.setattr(scheduler.Pacer, "pace", lambda self, *a: pieces.append(1) or real(self, *a))
    import time

    cpu = time.thread_time()
    r = s.run_once()
    cpu = time.thread_time() - cpu
    assert r.errors == {} and r.results["analyze"].texts == 3 and r.results["sync"].opened >= 3
    # the models' load, 3 batches, the sync's read (before its one slice), the tick's read and computation, 4 steps;
    # on PostgreSQL the sync and the tick are one transaction each, holding the write lock: no pause inside them
    assert len(pieces) == 1 + 3 + (0 if hub.postgres else 1 + 2) + 4
    assert all(0 < x <= scheduler.GIVE_WAY_MAX for x in slept) and len(slept) >= 1 + 3 + 2
    assert s._pacer.paused == pytest.approx(sum(slept))
    assert sum(slept) <= scheduler.GIVE_WAY * cpu  # the bound: the round's pauses at most GIVE_WAY × its CPU


def test_texts_waiting_at_start_have_their_models_loaded_before_the_first_request(web_db, monkeypatch):
    """``create_app(scheduler=True)``: when texts wait for analysis (a server killed mid-stream), the models are
    loaded in the app's start-up, before the server takes requests and before the first round; with none waiting
    (every demo text analysed) they are not loaded at start."""
    import importlib

    from fastapi.testclient import TestClient

    from centric.web import create_app

    loaded, at_round, frozen = [], [], []
    monkeypatch.setattr(scheduler.Scheduler, "_load_analyzer",
                        lambda self, warm=False: loaded.append(warm) or setattr(self, "analyzer", "models"))
    # the garbage collected and the survivors frozen (kept out of later full collections) before the first
    # request too, after the models: the collection at the end of the start-up work has less to go through
    app_module = importlib.import_module("centric.web.app")
    monkeypatch.setattr(app_module, "_freeze", lambda when: frozen.append((when, len(loaded))))
    real_run = scheduler.Scheduler._run
    monkeypatch.setattr(scheduler.Scheduler, "_run", lambda self: at_round.append(self.analyzer) or real_run(self))
    app = create_app(web_db, scheduler=True)
    with TestClient(app) as client:
        assert frozen[0] == ("start-up, before taking requests", 0)
        # the open invitations read before a request too — on DuckDB; on PostgreSQL, where other processes'
        # intakes answer links as well, each batch reads its own (centric.surveys.intake)
        assert (app.state.intake._invitations is not None) is not app.state.intake.postgres
        assert client.get("/healthz").status_code == 200
        assert loaded == [] and scheduler.running().analyzer is None  # nothing waits
    assert at_round == [None]
    hub = Hub(web_db)
    hub.write(ingest_records, "feedback", [{"email": "w@example.com", "source": "complaint",
                                            "created_at": "2026-11-02T08:00:00", "text": "The parcel never came"}],
              "api:t:5")
    hub.close()
    app = create_app(web_db, scheduler=True)
    frozen.clear()
    with TestClient(app):
        assert loaded == [True]  # before the server took a request (warmed: e5 too), the lifespan's start
        assert frozen[0] == ("start-up, before taking requests", 1)  # after the models
    assert at_round == [None, "models"]  # the first round found the models loaded


def test_with_survey_answers_coming_the_first_round_waits_to_be_woken_or_hold_seconds(hub, monkeypatch):
    """A (re)started server that takes survey answers works through its start's backlog when the intake wakes it
    (a pause in the answers, or its ``hold``), or after ``hold`` seconds at most — not in the first seconds, when
    its clients reconnect; without an intake the first round runs at once (the test above)."""
    import time

    fake = _as_intake(monkeypatch, hub, streaming=True)
    fake.hold = 3600.0
    s = scheduler.start(hub, interval=3600)
    time.sleep(1.0)
    assert s.rounds == 0  # waiting to be woken
    assert scheduler.wake(hub, ("webhooks",)) and s.wait_rounds(1, 120), "a wake did not start the first round"
    assert set(s.last.results) == {"analyze", "sync", "tick", "webhooks"}  # the first round runs every step
    time.sleep(0.5)
    assert s.rounds == 1  # the wake that started it is spent: no second round until the next
    scheduler.stop()
    fake.hold = 0.2
    s = scheduler.start(hub, interval=3600)
    assert s.wait_rounds(1, 120), "no round after hold seconds without a wake"


@pytest.mark.duckdb_only(reason="DuckDB's write-ahead log and its checkpoint; PostgreSQL's server checkpoints itself")
def test_the_log_is_checkpointed_after_a_round_while_no_answers_stream(hub, monkeypatch):
    """The served store lets DuckDB's write-ahead log grow to WAL_LIMIT (a checkpoint inside an answer's commit
    held every answer back) and writes it into the file after a round in which no answers stream in."""
    from pathlib import Path

    from centric.web.hub import WAL_LIMIT

    assert WAL_LIMIT == "1GB"
    limit = hub.writer.con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    assert limit == "953.6 MiB"  # 1 GB as DuckDB prints it
    wal = Path(str(hub.path) + ".wal")
    hub.write(lambda store: store.con.execute("CREATE TABLE scratch_rows AS SELECT range AS i FROM range(200000)"))
    assert wal.exists() and wal.stat().st_size > 0
    fake = _as_intake(monkeypatch, hub, streaming=True)
    s = scheduler.Scheduler(hub, interval=3600)
    s.run_once(("webhooks",))
    assert wal.exists() and wal.stat().st_size > 0  # answers streaming: no checkpoint
    fake.streaming = False
    s.run_once(("webhooks",))
    assert not wal.exists() or wal.stat().st_size == 0


def test_the_web_app_hands_the_interpreter_over_every_millisecond(web_db):
    import sys

    from centric.web import create_app
    from centric.web.app import SWITCH_INTERVAL

    before = sys.getswitchinterval()
    try:
        create_app(web_db)
        assert sys.getswitchinterval() == SWITCH_INTERVAL == 0.001
    finally:
        sys.setswitchinterval(before)
