"""The Hub: the web app's one writer and its per-thread readers.

DuckDB lets one process hold a store's file; inside it, one connection writes and the readers use cursors
of that connection (each sees the data committed when its query starts). Every write from a page, the API
or the scheduler goes through ``Hub.write``, which runs it under one lock, so writes never interleave and
reads never wait on them longer than a transaction.

On PostgreSQL (``Hub("postgresql://…")``) several processes serve one store: each thread reads through a
connection of its own (a read-only session), and ``Hub.write`` runs in one PostgreSQL transaction that first
takes the advisory write lock (:data:`centric.engines.scratch.WRITE_LOCK`, the lock of every writing command),
so the writes of every process — and of the command line — take turns. :attr:`Hub.generation` then includes a
counter kept in the store (:data:`GENERATION_KEY` of ``centric_meta``), bumped by every write in its
transaction, so that an answer kept by one process is dropped when another process wrote. A connection lost
(the server restarted) fails the request under way; the next one connects again.

>>> hub = Hub(":memory:")
>>> hub.write(lambda store: store.con.execute("SELECT 1").fetchall()[0][0])
1
>>> hub.reader().count("users")
0
>>> hub.close()
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .. import engines, settings
from ..errors import StoreError
from ..store import Store

T = TypeVar("T")

WAL_LIMIT = "1GB"
"""DuckDB's ``checkpoint_threshold`` in ``centric serve`` (DuckDB's default is 16 MB: under 1,000 survey answers a
second a checkpoint then ran inside an answer's commit every few seconds, each holding the answers for up to a
second). A server killed with a long log replays it at its next start (seconds per hundred megabytes)."""


class ReadStore(Store):
    """A store for reading only: a cursor of the writer's connection; ``transaction()`` raises."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        raise StoreError("a web request tried to write through a read store; writes go through Hub.write")
        yield  # pragma: no cover

    def close(self) -> None:  # the cursor lives as long as the hub
        pass


GENERATION_KEY = "web_generation"
"""The key of ``centric_meta`` that counts the web app's writes on PostgreSQL (every process's)."""


def _read_store_class():
    """A PostgreSQL store for reading only: this thread's read-only session; ``transaction()`` raises."""
    from ..engines.postgres import PgStore

    class PgReadStore(PgStore):
        transaction = ReadStore.transaction

        def close(self) -> None:  # the connection lives as long as the hub
            pass

    return PgReadStore


class Hub:
    """Owns the store for the app's lifetime: ``write(fn, …)`` runs ``fn(store, …)`` under the one writer lock;
    ``reader()`` is this thread's read store."""

    def __init__(self, db: str):
        self.postgres = engines.is_postgres(db)
        if self.postgres:
            from ..engines.postgres import PgStore

            self.url = db
            self.writer = PgStore.open(db)
            self._read_store = _read_store_class()
        else:
            self.writer = Store.open(db)
            threads = int(settings.get("serve_db_threads"))
            if threads:  # many people's small queries side by side rather than each over every core
                self.writer.con.execute(f"SET threads = {threads}")
            # a checkpoint runs inside the commit that fills the write-ahead log past this, and holds every other
            # commit (the survey answers') back meanwhile: the scheduler checkpoints when no answers stream in
            # (centric.web.scheduler), so the log reaches this only under a stream that never pauses
            self.writer.con.execute(f"SET checkpoint_threshold = '{WAL_LIMIT}'")
        self.path = self.writer.path
        self._lock = threading.RLock()
        self._cursor_lock = threading.Lock()
        self._local = threading.local()
        self._readers: dict[threading.Thread, Store] = {}  # each thread's read store
        self._closed = False
        self._busy = 0
        self._idle = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int | tuple[int, int]:
        """Counts the writes: an answer read while it is unchanged is still the store's answer. On PostgreSQL
        (this process's writes, every process's writes as the store counts them)."""
        if not self.postgres:
            return self._generation
        from ..engines.postgres import META

        row = self.reader().con.execute(f"SELECT value FROM {META} WHERE key = %s", [GENERATION_KEY]).fetchone()
        return self._generation, int(row[0]) if row else 0

    def reader(self) -> Store:
        """This thread's read store (made once per thread)."""
        r = getattr(self._local, "store", None)
        if r is not None and self.postgres and _lost(r):  # the server restarted, or the session was ended
            with self._cursor_lock:
                self._readers.pop(threading.current_thread(), None)
            with contextlib.suppress(Exception):
                r.con.close()
            r = None
        if r is None:
            if self._closed:
                raise StoreError("the web app's store is closed")
            with self._cursor_lock:
                self._close_ended()
                if self.postgres:
                    r = self._read_store.open(self.url, read_only=True)
                else:
                    cur = self.writer.con.cursor()
                    cur.execute("SET TimeZone = 'UTC'")
                    r = ReadStore(cur, self.path)
                r.read_only = True
                self._readers[threading.current_thread()] = r
            self._local.store = r
        return r

    def _close_ended(self) -> None:
        """Close the read stores of the threads that ended (under ``_cursor_lock``). A server's worker threads come
        and go (anyio ends one idle for 10 seconds, and starts another for the next request): on PostgreSQL each
        kept its connection until the server refused new ones ("too many clients already")."""
        for thread in [t for t in self._readers if not t.is_alive()]:
            with contextlib.suppress(Exception):
                self._readers.pop(thread).con.close()

    def write(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """``fn(writer_store, *args, **kw)`` under the writer lock; its result. ``fn`` opens its own
        ``store.transaction()`` (the core's functions do). On PostgreSQL all of it is one transaction that holds
        the advisory write lock from its start to its commit, and bumps the store's count of writes."""
        with self._lock:
            if self._closed:
                raise StoreError("the web app's store is closed")
            try:
                if not self.postgres:
                    return fn(self.writer, *args, **kw)
                self._reconnect()
                with self.writer.transaction() as con:
                    self.writer.lock_writes()
                    result = fn(self.writer, *args, **kw)
                    _bump(con)
                return result
            finally:
                self._generation += 1

    def note(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """:meth:`write` for bookkeeping no page shows from the store's data (a session's or a token's last use):
        not counted in :attr:`generation`, so the answers kept until the next write stay. On PostgreSQL it does not
        wait for the write lock (an update of one row by its key; the row's own lock suffices)."""
        with self._lock:
            if self._closed:
                raise StoreError("the web app's store is closed")
            self._reconnect()
            return fn(self.writer, *args, **kw)

    def _reconnect(self) -> None:
        """PostgreSQL: a writer whose connection was lost (the write under way then failed) connects again."""
        if self.postgres and _lost(self.writer):
            from ..engines.postgres import PgStore

            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = PgStore.open(self.url)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (background work stops at its next step)."""
        return self._closed

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Background work that reads the store outside a request (start-up warming, the dashboards' worker):
        :meth:`close` waits for it to leave before it closes the connection its cursors belong to — closing
        under a running query crashes the process. Raises :class:`StoreError` once the hub is closing."""
        with self._idle:
            if self._closed:
                raise StoreError("the web app's store is closed")
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def close(self, timeout: float = 60.0) -> None:
        """Stop: refuse new work, interrupt the background reads under way and wait (up to ``timeout``
        seconds) for them to leave, then close the readers and the writer."""
        with self._lock, self._idle:
            if self._closed:
                return
            self._closed = True
            with self._cursor_lock:
                readers = list(self._readers.values())
        deadline = time.monotonic() + timeout
        while True:  # a running query ends with an error at once rather than at its end; again and again, as a
            for r in readers:  # query that starts just after an interrupt is not touched by it
                with contextlib.suppress(Exception):
                    r.con.interrupt()
            with self._idle:
                left = deadline - time.monotonic()
                if self._idle.wait_for(lambda: self._busy == 0, min(0.1, max(left, 0))) or left <= 0:
                    break
        with self._lock:
            for r in readers:
                with contextlib.suppress(Exception):
                    r.con.close()
            self.writer.close()


def _lost(store) -> bool:
    """Whether a PostgreSQL store's connection is gone (closed, or broken by a lost server)."""
    return bool(store.con.closed or store.con.broken)


def _bump(con) -> None:
    """Count one write in the store (PostgreSQL), inside the write's transaction."""
    from ..engines.postgres import META

    con.execute(f"INSERT INTO {META} VALUES (%s, '1') ON CONFLICT (key) DO UPDATE "
                f"SET value = (CAST({META}.value AS BIGINT) + 1)::text", [GENERATION_KEY])
