"""The hub's close while background work still reads: it interrupts the reads, waits for them to leave, and
only then closes the connection (closing under a running DuckDB query crashed the process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from centric.errors import StoreError
from centric.web.hub import Hub


def test_close_waits_for_background_work_and_refuses_new_work(tmp_path):
    hub = Hub(str(tmp_path / "h.duckdb"))
    inside, release, left = threading.Event(), threading.Event(), threading.Event()

    def work():
        with hub.busy():
            r = hub.reader()
            r.con.execute("SELECT 1").fetchall()
            inside.set()
            release.wait(5)
            # (a query now may be interrupted: the hub is closing; the connection itself is not closed yet)
        left.set()

    t = threading.Thread(target=work)
    t.start()
    inside.wait(5)
    closing = threading.Thread(target=hub.close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive() and hub.closed  # waits for the work, refuses new work meanwhile
    with pytest.raises(StoreError):
        with hub.busy():
            pass
    release.set()
    closing.join(5)
    t.join(5)
    assert left.is_set() and not closing.is_alive()


def test_close_interrupts_a_long_background_query(tmp_path):
    hub = Hub(str(tmp_path / "h.duckdb"))
    started, outcome = threading.Event(), []

    def work():
        try:
            with hub.busy():
                r = hub.reader()
                started.set()
                # minutes of work on one thread, bounded (were the interrupt lost, the test still ends)
                r.con.execute("SELECT count(*) FROM range(20000000000) a WHERE a.range % 7 = 3").fetchall()
                outcome.append("finished")
        except Exception as e:  # noqa: BLE001
            outcome.append(type(e).__name__)

    t = threading.Thread(target=work)
    t.start()
    started.wait(5)
    time.sleep(0.5)  # the query is likely under way; were it not yet, close interrupts again until it stops
    hub.close(timeout=60)
    t.join(60)
    assert outcome and outcome[0] != "finished"


def test_an_app_stopped_during_its_start_up_work_stops_cleanly(web_db):
    """Start the app and stop it soon after, many times, at a different moment of its start-up work (indexes,
    warming the case pages): the process ends normally and no start-up step fails on a closed connection (the
    same race crashed the process with a segmentation fault now and then)."""
    script = textwrap.dedent(f"""
        import logging, time
        from fastapi.testclient import TestClient
        from centric.web import create_app
        logging.basicConfig(level=logging.ERROR)
        for i in range(20):
            with TestClient(create_app({web_db!r}, scheduler=False)):
                time.sleep(0.02 * i)
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"
    assert "start-up work failed" not in run.stderr, run.stderr[-2000:]


def test_the_read_stores_of_threads_that_ended_are_closed(web_db):
    """Each thread reads through a read store of its own (on PostgreSQL a connection of its own). A server's worker
    threads end when idle and new ones start: the read stores of the threads that ended are closed when the next is
    made, so that they do not pile up (on PostgreSQL until the server refused any new connection)."""
    hub = Hub(web_db)
    try:
        stores = []

        def read():
            stores.append(hub.reader())
            assert stores[-1].execute("SELECT count(*) FROM users").fetchall() == [(0,)]

        for _ in range(120):  # more than PostgreSQL's 100 connections
            t = threading.Thread(target=read)
            t.start()
            t.join()
        mine = hub.reader()
        assert mine.execute("SELECT 1").fetchall() == [(1,)]
        for ended in stores:  # closed: a query fails
            with pytest.raises(Exception):  # noqa: B017  psycopg's or DuckDB's own error for a closed connection
                ended.execute("SELECT 1").fetchall()
        if hub.postgres:  # the writer's connection and this thread's reader's (clients only: an autovacuum worker
            # may be in the database; and the server ends the backends of closed connections a moment after they
            # close: a busy host may still list one or two of them)
            deadline = time.monotonic() + 15
            while True:
                n = mine.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND backend_type = 'client backend'").fetchall()
                if n == [(2,)] or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert n == [(2,)]
    finally:
        hub.close()


def test_no_route_takes_a_reader_as_a_dependency(web_db):
    """A read store belongs to the thread that asked for it; FastAPI may run a dependency and the route on two
    different threads of its pool, so a reader taken as a dependency would be used on another thread's connection
    (on PostgreSQL, two requests on one session). Routes ask for this thread's reader in their body instead."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from centric.web import create_app, deps

    def calls(dependant):
        for d in dependant.dependencies:
            yield d.call
            yield from calls(d)

    app = create_app(web_db, scheduler=False)
    routes = [r for r in iter_route_contexts(app.routes) if getattr(r, "dependant", None) is not None]
    assert len(routes) > 50 and sum(r.path.startswith("/api/v1/") for r in routes) > 5
    taking = sorted(r.path for r in routes if deps.reader in set(calls(r.dependant)))
    assert taking == []
    # the check finds one: a route that took it
    from fastapi import Depends, FastAPI

    probe = FastAPI()

    @probe.get("/probe")
    def _probe(store=Depends(deps.reader)):
        return {}

    assert any(deps.reader in set(calls(r.dependant)) for r in probe.routes if isinstance(r, APIRoute))
