"""The Hub: the web app's one writer and its per-thread readers.

DuckDB lets one process hold a store's file; inside it, one connection writes and the readers use cursors
of that connection (each sees the data committed when its query starts). Every write from a page, the API
or the scheduler goes through ``Hub.write``, which runs it under one lock, so writes never interleave and
reads never wait on them longer than a transaction.

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

from .. import settings
from ..errors import StoreError
from ..store import Store

T = TypeVar("T")


class ReadStore(Store):
    """A store for reading only: a cursor of the writer's connection; ``transaction()`` raises."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        raise StoreError("a web request tried to write through a read store; writes go through Hub.write")
        yield  # pragma: no cover

    def close(self) -> None:  # the cursor lives as long as the hub
        pass


class Hub:
    """Owns the store for the app's lifetime: ``write(fn, …)`` runs ``fn(store, …)`` under the one writer lock;
    ``reader()`` is this thread's read store."""

    def __init__(self, db: str):
        self.writer = Store.open(db)
        threads = int(settings.get("serve_db_threads"))
        if threads:  # many people's small queries side by side rather than each over every core
            self.writer.con.execute(f"SET threads = {threads}")
        self.path = self.writer.path
        self._lock = threading.RLock()
        self._cursor_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[ReadStore] = []
        self._closed = False
        self._busy = 0
        self._idle = threading.Condition()
        self.generation = 0
        """Counts the writes: an answer read while it is unchanged is still the store's answer."""

    def reader(self) -> Store:
        """This thread's read store (made once per thread)."""
        r = getattr(self._local, "store", None)
        if r is None:
            if self._closed:
                raise StoreError("the web app's store is closed")
            with self._cursor_lock:
                cur = self.writer.con.cursor()
                cur.execute("SET TimeZone = 'UTC'")
                r = ReadStore(cur, self.path)
                r.read_only = True
                self._readers.append(r)
            self._local.store = r
        return r

    def write(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """``fn(writer_store, *args, **kw)`` under the writer lock; its result. ``fn`` opens its own
        ``store.transaction()`` (the core's functions do)."""
        with self._lock:
            if self._closed:
                raise StoreError("the web app's store is closed")
            try:
                return fn(self.writer, *args, **kw)
            finally:
                self.generation += 1

    def note(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """:meth:`write` for bookkeeping no page shows from the store's data (a session's or a token's last use):
        not counted in :attr:`generation`, so the answers kept until the next write stay."""
        with self._lock:
            if self._closed:
                raise StoreError("the web app's store is closed")
            return fn(self.writer, *args, **kw)

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
            readers = list(self._readers)
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
