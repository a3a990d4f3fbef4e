"""The intake: exactly once under a race, the refusals and their counts, batch isolation, durability across a
SIGKILL, and the live loop (scheduler analyses the comment, a low score opens a case, the dashboards see it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from centric.store import Store
from centric.surveys import from_dict, refusals, repo
from centric.surveys.answers import Answer
from centric.surveys.intake import Intake, Outcome, Submission
from centric.web.hub import Hub

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
LATER = NOW + dt.timedelta(days=30)


def _survey(slug="after-delivery", kind="nps", anonymous=False, **extra):
    d = {"slug": slug, "name": slug.replace("-", " ").title(), "kind": kind, "touchpoint": "delivery",
         "anonymous": anonymous, "branding": {"company": "Shop"}, **extra}
    return from_dict(d)


def _invite(store: Store, survey_id: str, invitations: list[tuple[int, str, dt.datetime]]) -> None:
    with store.transaction():
        for inv, customer, expires in invitations:
            store.execute("INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, language, created_at, "
                          "expires_at) VALUES (?, ?, ?, 'pl', ?, ?)", [inv, survey_id, customer, NOW, expires])


@pytest.fixture
def hub(tmp_path):
    h = Hub(str(tmp_path / "centric.duckdb"))
    sid = repo.add(h.writer, _survey(questions=[
        {"id": "speed", "type": "rating", "scale": [1, 5],
         "label": {"en": "Speed", "pl": "Szybkość", "ru": "Скорость", "it": "Velocità"}}]))
    _invite(h.writer, sid, [(1, "C1", LATER), (2, "C2", LATER), (3, "C3", NOW - dt.timedelta(minutes=1)),
                            (4, "C4", LATER), (5, "C5", LATER)])
    h.survey_id = sid
    yield h
    h.close()


@pytest.fixture
def intake(hub):
    i = Intake(hub)
    yield i
    i.close()


def in_threads(fn, n: int) -> None:
    """``fn(0)`` … ``fn(n - 1)``, each in its own thread, all at once; returns when all are done."""
    threads = [threading.Thread(target=fn, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def rows(hub, sql, params=None):
    return hub.reader().execute(sql, params or []).fetchall()


def test_an_invited_answer_lands_in_responses_with_the_invitations_customer(hub, intake):
    out = intake.submit(Submission("invited", invitation_id=1, answer=Answer(3, "Late and rude", {"speed": "2"}, "pl",
                                                                                  True)))
    assert out == Outcome("stored", "SVR-1")
    assert rows(hub, "SELECT response_id, customer_id, survey, touchpoint, channel, nps, csat, ces, comment, language "
                     "FROM responses") == [("SVR-1", "C1", "after-delivery", "delivery", "web", 3, None, None,
                                            "Late and rude", "pl")]
    assert rows(hub, "SELECT response_id, survey_id, question_id, value FROM survey_answers") == [
        ("SVR-1", hub.survey_id, "speed", "2")]
    inv = repo.invitation(hub.reader(), 1)
    assert inv["response_id"] == "SVR-1" and inv["answered_at"] is not None


def test_one_link_submitted_1000_times_in_parallel_is_stored_once(hub, intake):
    barrier = threading.Barrier(50)
    results: list[Outcome] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        barrier.wait()
        got = [intake.submit(Submission("invited", invitation_id=2, answer=Answer(k % 11))) for _ in range(20)]
        with lock:
            results.extend(got)

    in_threads(worker, 50)
    assert len(results) == 1000
    assert sum(o.status == "stored" for o in results) == 1
    assert sum(o.status == "already" for o in results) == 999
    assert {o.response_id for o in results} == {"SVR-2"}
    assert rows(hub, "SELECT count(*) FROM responses WHERE response_id = 'SVR-2'") == [(1,)]
    assert intake.batches < 1000  # they were grouped
    intake.close()  # the counts are written before the intake stops
    assert refusals.totals(hub.reader(), hub.survey_id) == {"already": 999}


def test_async_submits_of_one_link_race_too(hub, intake):
    async def many():
        return await asyncio.gather(*(intake.asubmit(Submission("invited", invitation_id=4, answer=Answer(9)))
                                      for _ in range(300)))

    outs = asyncio.run(many())
    assert [o.status for o in outs].count("stored") == 1
    assert [o.status for o in outs].count("already") == 299
    assert rows(hub, "SELECT count(*) FROM responses") == [(1,)]


def test_expired_closed_paused_and_unknown_links_store_nothing_and_are_counted(hub, intake):
    assert intake.submit(Submission("invited", invitation_id=3, answer=Answer(9))).status == "expired"
    assert intake.submit(Submission("invited", invitation_id=99, answer=Answer(9))) == Outcome(
        "refused", reason="unknown_invitation")
    repo.set_status(hub.writer, hub.survey_id, "paused")
    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(9))).status == "paused"
    repo.set_status(hub.writer, hub.survey_id, "closed")
    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(9))).status == "closed"
    repo.set_status(hub.writer, hub.survey_id, "active")
    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(9))).status == "stored"
    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(0))) == Outcome("already", "SVR-1",
                                                                                                "already")
    assert rows(hub, "SELECT response_id, nps FROM responses") == [("SVR-1", 9)]
    intake.close()
    assert refusals.totals(hub.reader(), hub.survey_id) == {"already": 1, "closed": 1, "expired": 1, "paused": 1}
    assert refusals.totals(hub.reader()) == {"already": 1, "closed": 1, "expired": 1, "paused": 1,
                                             "unknown_invitation": 1}


def test_raw_fields_are_checked_against_the_survey_in_the_batch(hub, intake):
    bad = intake.submit(Submission("invited", invitation_id=1, fields={"score": "11", "comment": "x"}))
    assert (bad.status, bad.reason, bad.error.field) == ("refused", "out_of_range", "score")
    unknown = intake.submit(Submission("invited", invitation_id=1, fields={"score": "5", "admin": "1"}))
    assert (unknown.reason, unknown.error.field) == ("unknown_field", "admin")
    ok = intake.submit(Submission("invited", invitation_id=1, fields={"score": "10", "q_speed": "5", "lang": "it"}))
    assert ok == Outcome("stored", "SVR-1")
    assert rows(hub, "SELECT nps, comment, language FROM responses") == [(10, None, "it")]
    assert rows(hub, "SELECT question_id, value FROM survey_answers") == [("speed", "5")]
    refusals.count(hub, hub.survey_id, "too_long")  # a refusal of the form, before the intake
    refusals.count(hub, None, refusals.FORGED, 2)
    intake.close()
    assert refusals.totals(hub.reader()) == {"forged": 2, "out_of_range": 1, "too_long": 1, "unknown_field": 1}


def test_a_failing_submission_does_not_lose_the_others_of_its_batch(hub):
    intake = Intake(hub, max_wait=0.5)
    intake._last_batch = time.monotonic()  # the next batch waits 0.5 s: the three share it
    broken = Submission("invited", invitation_id=2, answer=Answer(7, extras={"speed": object()}))
    subs = [Submission("invited", invitation_id=1, answer=Answer(9)), broken,
            Submission("invited", invitation_id=4, answer=Answer(6, "ok"))]
    results: list = [None] * 3

    def run(i):
        try:
            results[i] = intake.submit(subs[i])
        except Exception as e:  # noqa: BLE001
            results[i] = e

    in_threads(run, 3)
    intake.close()
    assert results[0] == Outcome("stored", "SVR-1") and results[2] == Outcome("stored", "SVR-4")
    assert isinstance(results[1], Exception)
    assert intake.batches == 1
    assert rows(hub, "SELECT response_id FROM responses ORDER BY 1") == [("SVR-1",), ("SVR-4",)]
    assert rows(hub, "SELECT invitation_id FROM survey_invitations WHERE answered_at IS NOT NULL ORDER BY 1") == [
        (1,), (4,)]


def test_comment_after_a_score_only_answer_once_and_contact_once(hub, intake):
    assert intake.submit(Submission("comment", invitation_id=1, answer=Answer(None, "early"))).reason == "not_answered"
    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(2))).status == "stored"
    assert intake.submit(Submission("comment", invitation_id=1, answer=Answer(None, "It came broken"))) == Outcome(
        "stored", "SVR-1")
    assert intake.submit(Submission("comment", invitation_id=1, answer=Answer(None, "again"))).status == "already"
    assert rows(hub, "SELECT nps, comment FROM responses") == [(2, "It came broken")]
    wish = Answer(None, extras={"contact_me": "phone:evening"})
    assert intake.submit(Submission("contact", invitation_id=1, answer=wish)).status == "stored"
    assert intake.submit(Submission("contact", invitation_id=1, answer=wish)).status == "already"
    assert rows(hub, "SELECT question_id, value FROM survey_answers") == [("contact_me", "phone:evening")]


def test_the_open_invitations_are_read_when_the_intake_starts_before_any_answer(hub, intake):
    """The web app waits for this before it takes requests: the first batch does not read them."""
    assert intake.wait_started(60)
    assert sorted(intake._invitations) == [1, 2, 4, 5]  # 3 has expired
    assert intake.batches == 0


def test_answers_waiting_for_the_writer_count_as_streaming_before_any_is_stored(hub, monkeypatch):
    """Background work gives way while answers stream in: also when none is stored yet, as long as some wait."""
    import concurrent.futures

    from centric.surveys import intake as intake_module

    entered, release = threading.Event(), threading.Event()
    real = Intake._batch

    def slow_batch(self, items):
        entered.set()
        release.wait(60)
        real(self, items)

    monkeypatch.setattr(Intake, "_batch", slow_batch)
    i = Intake(hub)
    try:
        assert not i.streaming  # nothing stored, nothing waiting
        done = []
        t = threading.Thread(target=lambda: done.append(i.submit(Submission("invited", invitation_id=1,
                                                                             answer=Answer(9)))))
        t.start()
        assert entered.wait(60)  # the writer holds the first answer
        i._put(intake_module._Item(Submission("invited", invitation_id=2, answer=Answer(8)),
                                   concurrent.futures.Future(), None))
        assert i.streaming and i.stored == 0  # one waits: streaming, though none is stored yet
        release.set()
        t.join(60)
        assert done and done[0].status == "stored"
    finally:
        release.set()
        i.close()


def test_the_kept_invitations_follow_the_store(hub, intake):
    """The intake keeps the open invitations in memory: a link made after it read them is found, an erasure's
    change is read again when announced, and an answer marked in the store behind its back is not stored twice."""
    from centric.surveys.intake import invitations_changed

    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(9))).status == "stored"
    _invite(hub.writer, hub.survey_id, [(10, "C10", LATER)])  # after the intake read its invitations
    assert intake.submit(Submission("invited", invitation_id=10, answer=Answer(8))) == Outcome("stored", "SVR-10")
    hub.writer.execute("UPDATE survey_invitations SET customer_id = NULL, expires_at = ? WHERE invitation_id = 4",
                           [NOW - dt.timedelta(seconds=1)])  # as an erasure does
    invitations_changed()
    assert intake.submit(Submission("invited", invitation_id=4, answer=Answer(3))).status == "expired"
    hub.writer.execute("UPDATE survey_invitations SET customer_id = NULL WHERE invitation_id = 5")
    invitations_changed()
    assert intake.submit(Submission("invited", invitation_id=5, answer=Answer(3))) == Outcome("stored", "SVR-5")
    hub.writer.execute("UPDATE survey_invitations SET answered_at = ?, response_id = 'SVR-2' "
                           "WHERE invitation_id = 2", [NOW])  # not through the intake: its memory is behind
    assert intake.submit(Submission("invited", invitation_id=2, answer=Answer(1))) == Outcome("already", "SVR-2",
                                                                                              "already")
    assert rows(hub, "SELECT response_id, customer_id, nps FROM responses ORDER BY 1") == [
        ("SVR-1", "C1", 9), ("SVR-10", "C10", 8), ("SVR-5", None, 3)]


def test_a_merge_is_followed_by_the_kept_invitations(hub, intake, tmp_path):
    """An ingest that merges two customers moves their invitations in the store; the intake reads them again, so
    an answer to the merged customer's link is stored with the customer merged into, and that customer's key."""
    from centric import ingest
    from centric.surveys.intake import invitations_changed

    files = {"a.csv": "customer_id,email\nK1,a@x.pl\n", "b.csv": "customer_id,phone\nK2,601234567\n",
             "o.csv": "id,email,phone,date,amount\nO1,a@x.pl,601234567,2025-02-01,10\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest("customers", tmp_path / "a.csv", store=hub.writer)
    ingest("customers", tmp_path / "b.csv", store=hub.writer)
    _invite(hub.writer, hub.survey_id, [(20, "C0000002", LATER)])
    invitations_changed()
    assert intake.submit(Submission("invited", invitation_id=1, answer=Answer(9))).status == "stored"  # read them
    assert ingest("orders", tmp_path / "o.csv", store=hub.writer)[0].customers_merged == 1
    assert intake.submit(Submission("invited", invitation_id=20, answer=Answer(6))) == Outcome("stored", "SVR-20")
    assert rows(hub, "SELECT customer_id, customer_key FROM responses WHERE response_id = 'SVR-20'") == [
        ("C0000001", 1)]


def test_the_scheduler_is_woken_when_answers_pause_or_after_hold_seconds(hub, monkeypatch):
    from centric.web import scheduler

    woken: list[int] = []  # how many answers had been sent at each wake
    sent = [0]
    monkeypatch.setattr(scheduler, "wake", lambda hub, steps: woken.append(sent[0]))
    _invite(hub.writer, hub.survey_id, [(i, f"C{i}", LATER) for i in range(100, 140)])

    def stream(intake, ids):
        for i in ids:
            assert intake.submit(Submission("invited", invitation_id=i, answer=Answer(5))).status == "stored"
            sent[0] += 1
            time.sleep(0.1)

    intake = Intake(hub, wake_every=0.0, quiet=3.0, hold=3600)
    stream(intake, range(100, 110))  # never 3 s without an answer: no wake meanwhile
    assert woken == []
    deadline = time.monotonic() + 30
    while not woken and time.monotonic() < deadline:
        time.sleep(0.05)
    assert woken == [10]  # after the pause
    intake.close()
    woken.clear()
    intake = Intake(hub, wake_every=0.0, quiet=3600, hold=0.5)
    stream(intake, range(110, 140))  # no pause at all: woken all the same, every half second or so
    intake.close()
    assert woken and woken[0] < 30


def test_anonymous_answers_flagged_ones_quarantined_then_released(hub, intake):
    sid = repo.add(hub.writer, _survey("in-store", kind="csat", anonymous=True))
    assert intake.submit(Submission("anonymous", survey_id=hub.survey_id, answer=Answer(9))).reason == "not_anonymous"
    ok = intake.submit(Submission("anonymous", survey_id=sid, fields={"score": "4", "website": ""}, ip_hash="h1"))
    flagged = intake.submit(Submission("anonymous", survey_id=sid, answer=Answer(1, "buy pills"), ip_hash="h2",
                                       flags=["honeypot", "too_fast"]))
    assert ok == Outcome("stored", "SVA-1")
    assert flagged == Outcome("flagged", "F2", "honeypot,too_fast")
    assert rows(hub, "SELECT response_id, customer_id, csat FROM responses") == [("SVA-1", None, 4)]
    assert rows(hub, "SELECT flag_id, reasons, ip_hash, released_at FROM survey_flagged") == [
        ("F2", '["honeypot", "too_fast"]', "h2", None)]
    who = "O'Brien \\'); DROP TABLE responses; --"  # a person's text: stored as it is
    assert intake.submit(Submission("release", flag_id="F2", released_by=who)) == Outcome("stored", "SVA-F2")
    assert intake.submit(Submission("release", flag_id="F2", released_by="admin@example.com")).status == "already"
    assert rows(hub, "SELECT response_id, csat, comment FROM responses ORDER BY 1") == [
        ("SVA-1", 4, None), ("SVA-F2", 1, "buy pills")]
    assert rows(hub, "SELECT released_by, response_id FROM survey_flagged") == [(who, "SVA-F2")]
    intake.close()
    again = Intake(hub)  # the numbers go on after a restart
    assert again.submit(Submission("anonymous", survey_id=sid, answer=Answer(5))) == Outcome("stored", "SVA-3")
    again.close()


KILLED = textwrap.dedent("""
    import sys, threading
    from centric.surveys.answers import Answer
    from centric.surveys.intake import Intake, Submission
    from centric.web.hub import Hub

    hub = Hub(sys.argv[1])
    intake = Intake(hub)
    lock = threading.Lock()

    def one(i):
        out = intake.submit(Submission("invited", invitation_id=i, answer=Answer(i % 11)))
        with lock:  # acknowledged: told to the parent only after the commit
            print(out.status, out.response_id, flush=True)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(1, 401)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done", flush=True)
    threading.Event().wait()  # stays up until killed
""")


def test_every_acknowledged_answer_survives_sigkill(tmp_path):
    db = tmp_path / "centric.duckdb"
    with Store.open(db) as store:
        sid = repo.add(store, _survey())
        _invite(store, sid, [(i, f"C{i}", LATER) for i in range(1, 401)])
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True, env=env)
    acked = []
    for line in proc.stdout:
        if line.startswith("stored"):
            acked.append(line.split()[1])
        if len(acked) >= 200 or line.startswith("done"):
            break
    os.kill(proc.pid, signal.SIGKILL)  # no close, no checkpoint: only what COMMIT wrote
    proc.wait()
    assert len(acked) >= 200
    with Store.open(db) as store:
        stored = {r[0] for r in store.execute("SELECT response_id FROM responses").fetchall()}
        answered = store.execute("SELECT count(*) FROM survey_invitations WHERE answered_at IS NOT NULL"
                                     ).fetchall()[0][0]
    assert set(acked) <= stored
    assert answered == len(stored)  # nothing half-stored: each answer with its invitation marked


@pytest.mark.slow
def test_live_an_answer_is_analysed_opens_a_case_and_changes_the_dashboards_data(web_db):
    """Through the running loop: the intake wakes the scheduler, which analyses the comment and opens a case for
    the detractor through the closed loop; the dashboards' data version moves, so their figures are recomputed."""
    from centric.report.data import data_version
    from centric.web import scheduler

    hub = Hub(web_db)
    try:
        customer = rows(hub, "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1")[0][0]
        sid = repo.add(hub.writer, _survey("after-delivery-live"))
        _invite(hub.writer, sid, [(7001, customer, LATER)])
        s = scheduler.start(hub, interval=3600)
        assert s.wait_rounds(1, 120)
        before = data_version(hub.reader())
        intake = Intake(hub, wake_every=0.0)
        out = intake.submit(Submission("invited", invitation_id=7001, fields={
            "score": "1", "comment": "The courier was two days late and the parcel was damaged."}))
        assert out == Outcome("stored", "SVR-7001")
        assert s.wait_rounds(2, 300), "the intake did not wake the scheduler"
        intake.close()
        analysed = rows(hub, "SELECT sentiment FROM text_analyses WHERE source = 'responses' AND text_id = 'SVR-7001'")
        assert analysed and analysed[0][0] == "negative"
        case = rows(hub, "SELECT c.customer_id, c.department FROM case_signals g JOIN cases c USING (case_id) "
                         "WHERE g.signal_id = 'SVR-7001'")
        assert case == [(customer, "delivery")]
        assert data_version(hub.reader()) != before
    finally:
        scheduler.stop()
        hub.close()
