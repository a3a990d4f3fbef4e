"""The background work of ``centric serve``: one thread that keeps the loop turning.

Every ``serve_tick_seconds`` (60) seconds, and at once when :func:`wake` is called (the API does after
storing posted rows; after a case action it asks for the webhooks step alone), it runs, in order (step 2 in
a round nobody woke only every :data:`SYNC_EVERY` seconds):

1. the text pipeline over the new texts only (:func:`centric.text.batch.analyze_store`, :data:`ANALYZE_BATCH`
   texts per transaction; the analyzer is loaded the first time there is something to analyse and then kept —
   by ``create_app`` before the server takes requests when texts are waiting at start, :meth:`Scheduler.prepare`);
2. :func:`centric.cases.sync` — only the new signals (read with an anti-join against ``case_signals``) into
   cases, routed by the routing table; a large backlog in slices of :data:`SYNC_SLICE` signals, each its own
   transaction, with the interpreter given back for :data:`SYNC_PAUSE` seconds between two; the writer's lock
   stays with the sync until its end;
3. :func:`centric.cases.tick` — clocks, breaches, escalations (one transaction);
4. webhooks (:func:`centric.web.webhooks.deliver`) — new case events into the outbox, due deliveries sent.

While survey answers stream in (:func:`answers_streaming`), the work gives way to them after each piece — a
batch of texts, the sync's read and each of its slices, the tick's read and its computation, a step: it
sleeps :data:`GIVE_WAY` times the piece's CPU time (at most :data:`GIVE_WAY_MAX`), so that it holds the
interpreter at most about half the time (:class:`Pacer`; the start-up work of ``create_app`` does the same).
A pause inside the tick's transaction holds no answer back: the intake stores them through its own connection.

Each step writes through ``hub.write`` (the one writer). On PostgreSQL, where several processes serve one store,
every process starts the thread but only one at a time runs the rounds: the one holding the session-level
advisory lock :data:`SCHEDULER_LOCK` (tried before each round, so another process takes over when the elected
one stops); :func:`wake` in another process reaches it as a notification (:func:`notify`); the webhooks step is
left out there (not on PostgreSQL yet). A step that fails is logged (its error, never a customer's text) and the next step and the next round run all the same: the thread does not die.

``create_app(..., scheduler=True)`` starts and stops it:

>>> start(hub)  # doctest: +SKIP
>>> wake(hub)  # doctest: +SKIP
>>> stop()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .. import settings
from ..errors import StoreError

__all__ = ["Pacer", "Scheduler", "answers_streaming", "give_way", "lower_priority", "running", "start", "stop", "wake"]

log = logging.getLogger("centric.web.scheduler")

DEMO_GATE = 0.8  # the cascade gate the demo is analysed with (centric analyze --gate 0.8)
STEPS = ("analyze", "sync", "tick", "webhooks")
PG_STEPS = STEPS
"""The steps on PostgreSQL (all of them)."""
WAKE_CHANNEL = "centric_wake"
"""The channel (LISTEN/NOTIFY) on which other processes wake the elected scheduler, on PostgreSQL."""
SCHEDULER_LOCK = 0x63656E73
"""The advisory lock held (for its session's life) by the one process whose scheduler runs, on PostgreSQL."""
SYNC_EVERY = 600.0
"""Seconds between two syncs of rounds nobody woke. New rows reach the store only through the app, which wakes
the sync itself; what time alone changes (the day's proactive calls) needs no sync every minute — and a sync
of the full demo with nothing new costs about 0.2 s of CPU (a second before it read only the new signals) that the
pages would share the interpreter with."""


SYNC_SLICE = 20_000
"""Signals the scheduler's case sync places per transaction (the command line places all of a run in one). Only a
large backlog is split: each slice costs about 80 ms of fixed statements, and after a restart with 15,000–30,000
answers waiting, slices of 500 made the survey form's p99 2–4 s (one slice: 0.57 s; benchmarks/README.md)."""
SYNC_PAUSE = 0.01
"""Seconds the scheduler's case sync waits between two slices without the interpreter: the requests waiting
for it run then (the writer's lock stays taken: the slices decide on what the ones before them placed)."""


ANALYZE_BATCH = 64
"""Texts the scheduler's analysis takes per transaction (the command line takes 256): a backlog (after a restart,
say) goes in pieces short enough to give the interpreter back between two while answers stream in."""
GIVE_WAY = 1.0
"""While survey answers stream in, background work sleeps this many times the CPU time of each piece it did
(a batch of texts, a slice of the sync, a step, a piece of the start-up work) before the next: it then holds
the interpreter at most about half the time, and the requests' threads have it alone in between. A round's work
of W CPU seconds so takes at most about (1 + GIVE_WAY) × W seconds more (when a core is free): cases still open
within seconds of the answers (the intake wakes the round at a pause in the answers, or at the latest its
``hold`` seconds after the first answer not yet woken for)."""
GIVE_WAY_MAX = 0.25
"""The longest single pause of :func:`give_way`, in seconds (a piece that ran long does not stop the work for
long)."""


BACKGROUND_NICE = 10
"""The nice value of the app's background threads (this scheduler, the dashboards' worker, the start-up work):
under load the requests come first. The Linux scheduler gives a thread at nice 10 about a tenth of a core that
a thread at 0 also wants, and all of an idle one, so nothing waits longer when the server is quiet."""


def answers_streaming(hub) -> bool:
    """Whether survey answers are streaming into ``hub``'s intake (stored in the last half second)."""
    from ..surveys import intake

    running = intake.running(hub)
    return running is not None and running.streaming


def give_way(hub, spent: float, stop: threading.Event | None = None) -> float:
    """Between two pieces of background work: while answers stream in, sleep ``GIVE_WAY`` × ``spent`` (the
    CPU seconds of the piece just done; at most :data:`GIVE_WAY_MAX`), so that the requests have the interpreter
    alone meanwhile. The seconds slept (0 when nothing streams in)."""
    if spent <= 0 or not answers_streaming(hub):
        return 0.0
    pause = min(GIVE_WAY_MAX, GIVE_WAY * spent)
    _sleep(pause, stop)
    return pause


def _sleep(seconds: float, stop: threading.Event | None) -> None:
    """Sleep (without the interpreter's lock); a stop ends it early."""
    if stop is not None:
        stop.wait(seconds)
    else:
        time.sleep(seconds)


class Pacer:
    """:func:`give_way` for a sequence of pieces done by one thread: ``pace()`` between two measures the
    thread's CPU time since the last call. ``paused``: the seconds given way in all."""

    def __init__(self, hub, stop: threading.Event | None = None, clock=time.thread_time):
        self.hub, self.stop, self.clock = hub, stop, clock
        self.paused = 0.0
        self._cpu = clock()

    def pace(self, *_args) -> None:
        now = self.clock()
        self.paused += give_way(self.hub, now - self._cpu, self.stop)
        self._cpu = now  # a pause costs no CPU


def lower_priority(nice: int = BACKGROUND_NICE) -> None:
    """Lower the CPU priority of the calling thread (Linux keeps one per thread, and the threads it starts —
    the ONNX runtime's, say — inherit it). Elsewhere, where the call would lower the whole process, nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:  # not allowed here: the thread keeps its priority
        pass


@dataclass
class Round:
    """What one round did, step by step (the steps' results, or the error's type for a step that failed)."""

    started: float
    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Stopped(Exception):
    """The scheduler was stopped in the middle of a step."""


class Scheduler:
    """The thread. ``interval``: seconds between rounds (default: the ``serve_tick_seconds`` setting)."""

    def __init__(self, hub, interval: float | None = None, taxonomy: str | None = None):
        self.hub = hub
        self.interval = float(interval if interval is not None else settings.get("serve_tick_seconds"))
        self.taxonomy = taxonomy
        self.analyzer = None
        self.rounds = 0
        self.last: Round | None = None
        self._wake = threading.Event()
        self._asked: set[str] = set()  # the steps wake() asked for since the last round
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._last_sync = float("-inf")
        self._election = None  # PostgreSQL: the session holding SCHEDULER_LOCK once elected
        self.elected = not getattr(hub, "postgres", False)
        """Whether this process runs the rounds (always on DuckDB; on PostgreSQL once it holds the lock)."""
        self._thread = threading.Thread(target=self._run, name="centric-scheduler", daemon=True)
        self._pacer: Pacer | None = None

    # -- control ----------------------------------------------------------------------------------------
    def start(self) -> Scheduler:
        # the steps' modules are imported here, in the starting thread: two threads importing the same
        # package for the first time at once can see it half made
        import centric.cases.escalation
        import centric.cases.sync
        import centric.text.batch
        import centric.web.webhooks  # noqa: F401

        self._thread.start()
        return self

    def prepare(self) -> bool:
        """Load the text models now when texts are waiting for them (the answers a stopped or killed server left
        unanalysed), in the calling thread — ``create_app`` calls it before the server takes requests, so that
        the first round does not load them (seconds of CPU, most of it holding the interpreter) beside the
        requests. With nothing waiting they are loaded when the first text comes, as before (a server's start
        stays short). Whether they were loaded; a failure is logged (the first round tries again)."""
        if getattr(self.hub, "postgres", False) and not self.elect():
            return False
        try:
            from ..text.batch import pending

            if self.analyzer is not None or not pending(self.hub.reader(), self._taxonomy()):
                return False
            t0, c0 = time.perf_counter(), time.thread_time()
            self._load_analyzer(warm=True)
        except Exception as e:  # noqa: BLE001 — the server starts all the same; the round tries again
            log.error("background: the text models could not be loaded at start: %s", type(e).__name__)
            return False
        log.info("background: text models loaded before taking requests: %.2f s (CPU %.2f s)",
                 time.perf_counter() - t0, time.thread_time() - c0)
        return True

    def _load_analyzer(self, warm: bool = False) -> None:
        """The analyzer; ``warm``: also what the first texts would load lazily (the language identifier, the
        heads, e5 — which the cascade may never need), as before the server takes requests."""
        from ..text.pipeline import Analyzer

        analyzer = Analyzer(self._taxonomy(), gate=DEMO_GATE)
        if warm:
            analyzer.analyze([{"text": "The delivery was late.", "lang": None}])
            if analyzer.polarity_embedder is not None:
                analyzer.polarity_embedder.encode(["The delivery was late."])
        self.analyzer = analyzer

    def wake(self, steps: tuple[str, ...] = STEPS) -> None:
        """Run ``steps`` (default: all four) now, or as soon as the round under way ends."""
        with self._done:
            self._asked.update(steps)
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        if self._election is not None and not self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._election.close()  # the lock goes with the session: another process takes over
            self._election = None

    def elect(self) -> bool:
        """On PostgreSQL: whether this process holds (or now takes) the scheduler's lock. Never waits."""
        if not getattr(self.hub, "postgres", False):
            return True
        import psycopg

        if self.elected and self._election is not None:  # still holding it? (a lost session lost the lock too)
            try:
                self._election.execute("SELECT 1")
            except psycopg.Error:
                self.elected = False
                with contextlib.suppress(Exception):
                    self._election.close()
                self._election = None
        if self.elected:
            return True
        try:
            if self._election is None:
                self._election = psycopg.connect(self.hub.url, autocommit=True)
            self.elected = bool(self._election.execute("SELECT pg_try_advisory_lock(%s)",
                                                       [SCHEDULER_LOCK]).fetchone()[0])
        except psycopg.Error as e:
            log.error("background: cannot reach the store to take the scheduler's turn: %s", type(e).__name__)
            with contextlib.suppress(Exception):
                if self._election is not None:
                    self._election.close()
            self._election = None
            self.elected = False
        if self.elected:
            self._election.execute(f"LISTEN {WAKE_CHANNEL}")  # the other processes' wake-ups (notify)
            log.info("background: this process runs the background work")
        return self.elected

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def wait_rounds(self, n: int, timeout: float) -> bool:
        """Wait until ``n`` rounds in all have run (for tests and the benchmark); False on timeout."""
        with self._done:
            return self._done.wait_for(lambda: self.rounds >= n, timeout)

    # -- the loop ---------------------------------------------------------------------------------------
    def _run(self) -> None:
        lower_priority()
        self._settle()
        steps = STEPS
        while not self._stop.is_set():
            try:
                with self.hub.busy():  # the hub's close waits for the round's reads
                    self.run_once(steps)
            except StoreError:  # the hub closed: the app is stopping
                return
            woken = self._wait()
            self._wake.clear()
            with self._done:
                steps = tuple(s for s in STEPS if s in self._asked) if woken else self._periodic()
                self._asked.clear()

    def _settle(self) -> None:
        """Before the first round, when the app takes survey answers: wait to be woken — by the intake at a pause
        in the answers or its ``hold`` seconds after the first one (the rule of every later round woken by
        answers), or by anyone — or ``hold`` seconds at most. A restarted server's clients reconnect and their
        answers queue in its first seconds; the start's backlog (the texts and signals its last run left) is
        worked through after them, not in the same seconds."""
        from ..surveys import intake

        running = intake.running(self.hub)
        if running is None:
            return
        self._wake.wait(running.hold)
        self._wake.clear()
        with self._done:
            self._asked.clear()  # the first round runs every step

    def _wait(self) -> bool:
        """Wait up to the interval for a wake-up: this process's :meth:`wake`, or on PostgreSQL, for the elected
        scheduler, a notification from another process (:func:`notify`). Whether woken."""
        if self._election is None or not self.elected:
            return self._wake.wait(self.interval)
        import psycopg

        deadline = time.monotonic() + self.interval
        while (left := deadline - time.monotonic()) > 0:
            if self._wake.wait(0):
                return True
            try:
                for n in self._election.notifies(timeout=min(left, 0.5), stop_after=1):
                    with self._done:
                        self._asked.update(x for x in n.payload.split(",") if x in STEPS)
                    return True
            except psycopg.Error:  # the session is lost: the next round's election finds out
                return self._wake.wait(max(deadline - time.monotonic(), 0))
        return False

    def _periodic(self) -> tuple[str, ...]:
        """The steps of a round nobody woke: all but the sync, which runs every :data:`SYNC_EVERY` seconds."""
        due = time.monotonic() - self._last_sync >= SYNC_EVERY
        return STEPS if due else tuple(s for s in STEPS if s != "sync")

    def run_once(self, steps: tuple[str, ...] = STEPS) -> Round:
        """One round of ``steps`` (default: the four, in order; also callable directly)."""
        r = Round(time.monotonic())
        self._pacer = Pacer(self.hub, self._stop)  # in the round's thread: its CPU time is this thread's
        if not self.elect():  # another process runs the rounds (PostgreSQL)
            r.results["elected"] = False
            steps = ()
        elif getattr(self.hub, "postgres", False):
            steps = tuple(s for s in steps if s in PG_STEPS)
        for name in (s for s in STEPS if s in steps):
            step = getattr(self, f"_{name}")
            if self._stop.is_set():
                break
            t0, c0, p0 = time.perf_counter(), time.thread_time(), self._pacer.paused
            try:
                r.results[name] = step()
                log.info("background %s: %.2f s (CPU %.2f s, gave way %.2f s)", name, time.perf_counter() - t0,
                         time.thread_time() - c0, self._pacer.paused - p0)
            except Stopped as e:
                log.info("background %s: %s", name, e)
                break
            except Exception as e:  # noqa: BLE001 — a failed step must not end the thread
                r.errors[name] = type(e).__name__
                # the message of a CentricError names files and columns, never customer text; others may
                # carry anything, so only their type is logged
                from ..errors import CentricError

                why = str(e)[:300] if isinstance(e, CentricError) else type(e).__name__
                log.error("background %s failed: %s", name, why)
            self._pace()  # answers streaming in: the next step waits (as long as this one worked)
        if steps and not getattr(self.hub, "postgres", False) and not answers_streaming(self.hub):
            self._checkpoint()
        with self._done:
            self.last = r
            self.rounds += 1
            self._done.notify_all()
        return r

    def _checkpoint(self) -> None:
        """Write DuckDB's log into the store's file now, while no survey answers stream in (the hub lets the log
        grow to ``WAL_LIMIT`` so that this does not happen inside an answer's commit); a checkpoint that cannot
        run now (another transaction open) waits for the next round."""
        t0 = time.perf_counter()
        try:
            self.hub.note(lambda store: store.con.execute("CHECKPOINT"))  # no data a page shows changes
        except Exception as e:  # noqa: BLE001 — the next round tries again; DuckDB checkpoints at the limit anyway
            log.debug("background checkpoint skipped: %s", type(e).__name__)
            return
        log.info("background checkpoint: %.2f s", time.perf_counter() - t0)

    def _pace(self) -> None:
        if self._pacer is not None:
            self._pacer.pace()

    def _taxonomy(self) -> str:
        if self.taxonomy is None:
            rows = self.hub.reader().execute(
                "SELECT taxonomy, count(*) FROM text_analyses GROUP BY taxonomy ORDER BY 2 DESC, 1 LIMIT 1").fetchall()
            self.taxonomy = rows[0][0] if rows else "retail"
        return self.taxonomy

    def _analyze(self):
        from ..text.batch import analyze_store, pending

        taxonomy = self._taxonomy()
        if not pending(self.hub.reader(), taxonomy):
            return None
        if self.analyzer is None:
            self._load_analyzer()
            self._pace()
        return self.hub.write(analyze_store, taxonomy, gate=DEMO_GATE, analyzer=self.analyzer,
                              batch=ANALYZE_BATCH, progress=self._stop_between_batches)

    def _stop_between_batches(self, done: int, total: int) -> None:
        """Each batch of texts is committed on its own: stopping after one loses nothing; while answers stream
        in, the next batch waits (:func:`give_way`)."""
        if self._stop.is_set():
            raise Stopped(f"stopped after {done:,} of {total:,} texts; the rest wait for the next start")
        self._pace()

    def _sync(self):
        from ..cases.sync import sync

        self._last_sync = time.monotonic()
        if getattr(self.hub, "postgres", False):  # one transaction there (the sync runs in a scratch store and is
            return self.hub.write(sync)            # published at its end): slices would only hold the lock longer
        return self.hub.write(sync, slice_size=SYNC_SLICE, between=self._between_slices)

    def _between_slices(self) -> None:
        """Each slice of the sync is committed on its own: stopping after one loses nothing."""
        if self._stop.is_set() or self.hub.closed:
            raise Stopped("stopped between two slices of the case sync; the rest wait for the next round")
        time.sleep(SYNC_PAUSE)
        self._pace()

    def _tick(self):
        """One transaction; on DuckDB, while answers stream in, it gives way between its steps (its read, its
        computation, its writes) as the analysis does between batches — the answers are stored by the intake's
        own connection, which the open transaction does not hold back, and a pause inside it only lets their
        threads have the interpreter. On PostgreSQL it holds the store's write lock: no pauses there."""
        from ..cases.escalation import tick

        if getattr(self.hub, "postgres", False):
            return self.hub.write(tick)
        return self.hub.write(tick, between=self._pace)

    def _webhooks(self):
        from .webhooks import deliver

        return deliver(self.hub)


_current: Scheduler | None = None
_lock = threading.Lock()


def start(hub, interval: float | None = None, prepare: bool = False) -> Scheduler:
    """Start the background thread for ``hub`` (one per process; a second start replaces the first).
    ``prepare``: first load the text models when texts wait for them (:meth:`Scheduler.prepare`)."""
    global _current
    with _lock:
        if _current is not None:
            _current.stop()
        s = Scheduler(hub, interval)
        if prepare:
            s.prepare()
        _current = s.start()
        return _current


def stop() -> None:
    """Stop the background thread (waits for the round under way)."""
    global _current
    with _lock:
        if _current is not None:
            _current.stop()
            _current = None


def wake(hub=None, steps: tuple[str, ...] = STEPS) -> bool:
    """Run ``steps`` now (when the thread runs for ``hub``, or any hub when None); False when none runs. Posted
    rows want the whole round; a case action only the webhooks (its event goes out at once). On PostgreSQL,
    where this process's scheduler may not be the elected one, the elected one is told (:func:`notify`)."""
    s = _current
    if s is None or (hub is not None and s.hub is not hub) or not s.alive:
        return False
    if getattr(s.hub, "postgres", False) and not s.elected:
        told = notify(s.hub, steps)
        if s.rounds == 0:  # before its first round this thread has not sought the election yet: nobody may listen
            s.wake(steps)  # (one server, restarted, waiting to be woken), so it is woken itself and then seeks it
            return True
        return told
    s.wake(steps)
    return True


def notify(hub, steps: tuple[str, ...] = STEPS) -> bool:
    """PostgreSQL: ask the elected scheduler, in whichever process it runs, for ``steps`` now (a notification on
    :data:`WAKE_CHANNEL`, which it listens to). False when the store could not be reached."""
    try:
        hub.note(lambda store: store.con.execute("SELECT pg_notify(%s, %s)", [WAKE_CHANNEL, ",".join(steps)]))
    except Exception as e:  # noqa: BLE001 — a wake-up is a hint: the periodic round comes anyway
        log.error("background: cannot wake the scheduler of another process: %s", type(e).__name__)
        return False
    return True


def running() -> Scheduler | None:
    """The running scheduler, if any."""
    return _current
