"""The intake: every survey answer of the web app is stored here, exactly once, durably, and fast.

One writer thread takes what the routes queued (up to ``max_batch`` submissions; a batch starts at most every
``max_wait`` seconds, so an answer alone goes at once and under load the answers of the last 50 ms go
together), and stores the whole batch in ONE transaction of its own connection to
the store:

1. the batch's invitations come from the intake's memory (the open invitations, read once; a link it does
   not know, one made since, or one answered or expired before is read in the batch — one query for all such),
   and one small query reads the surveys' status — never one query per answer;
2. each submission is decided in order against the store and against the batch itself: a link already
   answered, or answered earlier in the same batch, is ``already``; a closed survey ``closed``, a link past
   its ``expires_at`` ``expired``, a paused survey ``paused``; an unknown invitation ``refused``;
3. the answers go in with one ``INSERT … SELECT`` per table from an Arrow table (``responses``,
   ``survey_answers``, ``survey_flagged``), the invitations get ``answered_at`` and ``response_id`` in one
   ``UPDATE`` (which checks once more that none was answered), and the refusals are counted
   (``survey_refusals``);
4. COMMIT — DuckDB writes its log to disk before COMMIT returns — and only then is each submission's
   outcome handed back. A route sends its thank-you page after that, so an acknowledged answer survives a
   SIGKILL of the server right after the page.

A batch that fails is tried again submission by submission, so one bad submission cannot lose the others'
answers (a write conflict with another writer of the same rows is retried whole first). After a commit that
stored answers, the scheduler's ``analyze`` and ``sync`` steps are woken — at most every ``wake_every``
seconds, and while answers stream in only once they pause for ``quiet`` seconds or ``hold`` seconds after the
first answer not yet woken for, so that the text pipeline's work does not compete with the answers' (an unhappy
answer still becomes a case within seconds) — and the dashboards' figures follow the store's data version.

The intake writes through a connection of its own (a cursor of the hub's writer connection), not under the
hub's lock: a long scheduler step (the text pipeline over a thousand comments) never holds answers back.
DuckDB keeps the two apart (each transaction sees its own snapshot) and refuses a conflicting change of the
same row, which the intake then retries.

On PostgreSQL (several worker processes, each with its intake) the decisions are the same; what differs is the
transaction (:class:`_PgTx`): a connection of the intake's own (opened again when lost), each batch one
transaction that first takes the store's write lock, the batch's invitations read from the store (none kept in
memory: another process may have answered them), parameterised statements, and the answered mark a conditional
``UPDATE … WHERE answered_at IS NULL … RETURNING`` — fewer rows than asked (answered meanwhile) fail the batch,
which is then tried again. Anonymous answers' numbers go on from the store's highest, read under the lock by a
batch that has one to number (once; a batch of invited answers does not read it), and the comments of a batch
are added with one ``UPDATE … FROM (VALUES …)``.

Response ids: ``SVR-<invitation_id>`` for an invited answer, ``SVA-<n>`` for an anonymous one and
``SVA-F<n>`` for a flagged answer released (flag id ``F<n>``).

>>> from centric.web.hub import Hub
>>> hub = Hub(":memory:")
>>> intake = Intake(hub)
>>> intake.submit(Submission("invited", invitation_id=1, answer=Answer(9)))
Outcome(status='refused', response_id=None, reason='unknown_invitation', error=None)
>>> intake.close(); hub.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from .. import customer_keys, settings
from ..errors import StoreError
from .answers import Answer, AnswerError, validate
from .definition import from_dict
from .model import Survey

log = logging.getLogger("centric.surveys.intake")

KINDS = ("invited", "anonymous", "comment", "release", "contact")
STATUSES = ("stored", "already", "expired", "closed", "paused", "flagged", "refused")
CONTACT_QUESTION = "contact_me"
_RESPONSES = pa.schema([("response_id", pa.string()), ("customer_id", pa.string()), ("survey", pa.string()),
                        ("responded_at", pa.timestamp("us")), ("channel", pa.string()), ("touchpoint", pa.string()),
                        ("nps", pa.int32()), ("csat", pa.int32()), ("ces", pa.int32()), ("comment", pa.string()),
                        ("language", pa.string()), ("customer_key", pa.int32())])
_ANSWERS = pa.schema([("response_id", pa.string()), ("survey_id", pa.string()), ("question_id", pa.string()),
                      ("value", pa.string()), ("answered_at", pa.timestamp("us"))])
_FLAGGED = pa.schema([("flag_id", pa.string()), ("survey_id", pa.string()), ("received_at", pa.timestamp("us")),
                      ("fields", pa.string()), ("reasons", pa.string()), ("ip_hash", pa.string())])
_COMMENTS = pa.schema([("response_id", pa.string()), ("comment", pa.string())])
_RELEASE = pa.schema([("flag_id", pa.string()), ("response_id", pa.string()), ("released_by", pa.string()),
                      ("released_at", pa.timestamp("us"))])
_REFUSALS = pa.schema([("survey_id", pa.string()), ("day", pa.date32()), ("reason", pa.string()), ("n", pa.int64())])
_CLOSE = object()
SURVEY_COLUMNS = "survey_id, slug, kind, status, touchpoint, channel, anonymous, updated_at"
INVITATION_COLUMNS = "invitation_id, survey_id, customer_id, language, expires_at, answered_at, response_id"
CACHE_LIMIT = 1_000_000
"""The most open invitations the intake keeps in memory (the newest; about 200 bytes each). A link beyond them
is read from the store in its batch, as is one the intake has not seen yet."""
ANSWERED_GUARD = "centric intake: an invitation of the batch was answered meanwhile"
_running: dict[int, Intake] = {}  # id(hub) → its intake (for refusals.count)


@dataclass
class Submission:
    """What a route hands to the intake. ``kind``: ``invited`` (a link's answer: ``invitation_id`` and
    ``answer``), ``anonymous`` (``survey_id`` and ``answer``; with ``flags`` it is quarantined in
    ``survey_flagged`` instead), ``comment`` (the comment after a score-only answer: ``invitation_id``,
    ``answer.comment``), ``contact`` (the "contact me" wish: ``invitation_id``, ``answer.extras['contact_me']``)
    or ``release`` (a flagged answer into ``responses``: ``flag_id``, ``released_by``).

    ``fields`` instead of ``answer`` (invited and anonymous): the form's fields as sent; the intake checks them
    (:func:`centric.surveys.answers.validate`) against the survey it reads for the batch anyway, so that a
    route needs no query of its own — a field it cannot take gives ``refused`` with the error."""

    kind: str
    survey_id: str | None = None
    invitation_id: int | None = None
    answer: Answer | None = None
    ip_hash: str | None = None
    flags: list[str] = field(default_factory=list)
    flag_id: str | None = None
    released_by: str | None = None
    fields: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a submission: ``status`` (one of ``STATUSES``), the answer's ``response_id`` (stored,
    already; for ``flagged`` the flag id), a ``reason`` code when refused, and for a form's fields that
    could not be taken the :class:`AnswerError` (its field and message, for the page)."""

    status: str
    response_id: str | None = None
    reason: str | None = None
    error: AnswerError | None = None


class _Item:
    __slots__ = ("sub", "fut", "loop")

    def __init__(self, sub: Submission, fut: Any, loop: asyncio.AbstractEventLoop | None):
        self.sub, self.fut, self.loop = sub, fut, loop


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# no value is written into a statement's text: the DuckDB batch's writes go with COMMIT in one call, which takes
# no parameters, so their values come from registered Arrow tables; the queries take parameters
_ANSWERED = pa.schema([("invitation_id", pa.int64()), ("answered_at", pa.timestamp("us"))])


class Intake:
    """The writer thread over ``hub``'s store. ``submit`` (blocking) and ``asubmit`` (for async routes) return
    the :class:`Outcome` once the submission's transaction has committed."""

    def __init__(self, hub, max_batch: int = 1000, max_wait: float = 0.05, wake_every: float = 2.0,
                 quiet: float = 0.5, hold: float = 10.0):
        self.hub = hub
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.wake_every = wake_every
        self.quiet = quiet
        self.hold = hold
        self.batches = 0
        self.stored = 0
        self.cpu = 0.0  # seconds of CPU the writer thread spent on batches
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._refusals: Counter = Counter()  # (survey_id, day, reason) → count, written with the next batch
        self._refusals_lock = threading.Lock()
        self._closed = False
        self._last_wake = 0.0
        self._last_batch = 0.0
        self._wake_due = False
        self._due_since = 0.0  # when the first answer the scheduler has not been woken for was stored
        self._last_stored = float("-inf")
        self.postgres = bool(getattr(hub, "postgres", False))
        if self.postgres:  # a connection of its own (other processes' intakes write to the store too)
            from ..engines.postgres import PgStore

            self._store = PgStore.open(hub.url, migrate=False)
            self._con = self._store.con
        else:
            self._con = hub.writer.con.cursor()
            self._con.execute("SET TimeZone = 'UTC'")
        self._seq = self._last_number()
        self._link_days = settings.get_positive_int("survey_link_days")
        self._comment_max = settings.get_positive_int("survey_comment_max")  # as the web app's forms, read once
        self._definitions: dict[str, tuple[Any, Survey]] = {}  # survey_id → (updated_at, definition)
        # invitation_id → (INVITATION_COLUMNS): the open invitations, loaded by the writer thread before its first
        # batch, extended by the batches that meet a link it does not know, marked answered after each commit
        self._invitations: dict[int, tuple] | None = None
        self._highest = 0  # the highest invitation id the store had when the invitations were read
        self._forgets = 0  # how many times they were to be read again (an erasure in another thread)
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="centric-survey-intake", daemon=True)
        self._thread.start()
        _running[id(hub)] = self

    # -- the routes' side ------------------------------------------------------------------------------------
    def submit(self, item: Submission, timeout: float = 10) -> Outcome:
        """Store ``item``; blocks until committed (or raises ``TimeoutError`` after ``timeout`` seconds — the
        answer may still be stored, but it was not acknowledged)."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._put(_Item(item, fut, None))
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError("the survey intake did not answer in time") from None

    async def asubmit(self, item: Submission) -> Outcome:
        """Store ``item`` from an async route: awaits the commit without holding a thread."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._put(_Item(item, fut, loop))
        return await fut

    def count(self, survey_id: str | None, reason: str, n: int = 1) -> None:
        """Count a refusal (bad input, forged link …); written with the next batch, or within a second."""
        with self._refusals_lock:
            self._refusals[(survey_id, _now().date(), reason)] += n

    def _put(self, item: _Item) -> None:
        if item.sub.kind not in KINDS:
            raise ValueError(f"unknown submission kind {item.sub.kind!r}; one of {', '.join(KINDS)}")
        if self._closed:
            raise StoreError("the survey intake is closed")
        self._queue.put(item)

    def close(self, timeout: float = 30.0) -> None:
        """Store what is queued, then stop the thread and close the connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_CLOSE)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        _running.pop(id(self.hub), None)
        with contextlib.suppress(Exception):
            self._con.close()

    def wait_started(self, timeout: float = 30.0) -> bool:
        """Wait until the writer thread has read the open invitations (the web app does before it takes requests:
        reading them at the first batch would hold that batch and, while the rows become Python objects, every
        thread beside it). False on timeout (they are then read by the first batch)."""
        return self._started.wait(timeout)

    # -- the writer thread -----------------------------------------------------------------------------------
    def _run(self) -> None:
        if not self.postgres:  # the open invitations, before the first answer comes
            try:
                self._load_invitations()
            except Exception as e:  # noqa: BLE001 — read again by the first batch
                log.error("survey intake: the open invitations not read at start: %s", type(e).__name__)
        self._started.set()
        closing = False
        while not closing:
            try:
                first = self._queue.get(timeout=max(0.01, min(1.0, self.quiet)) if self._wake_due else 1.0)
            except queue.Empty:
                self._idle()
                continue
            if first is _CLOSE:
                break
            items = [first]
            # a batch starts at most every max_wait seconds: alone, an answer goes at once; under load the
            # answers of the last max_wait go together (a commit's cost is mostly the same for 1 or 100)
            deadline = self._last_batch + self.max_wait
            self._last_batch = max(time.monotonic(), deadline)
            while len(items) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        nxt = self._queue.get(timeout=left)
                    except queue.Empty:
                        break
                if nxt is _CLOSE:
                    closing = True
                    break
                items.append(nxt)
            self._batch(items)
            self._maybe_wake()
        while True:  # what was queued before close
            try:
                rest = self._queue.get_nowait()
            except queue.Empty:
                break
            if rest is not _CLOSE:
                self._batch([rest])
        self._idle()

    def _idle(self) -> None:
        with self._refusals_lock:
            pending = bool(self._refusals)
        if pending:
            try:
                self._commit([], _now())
            except Exception as e:  # noqa: BLE001 — counted again with the next batch
                log.error("survey intake: refusal counts not written: %s", type(e).__name__)
        self._maybe_wake()

    def _batch(self, items: list[_Item]) -> None:
        cpu = time.thread_time()
        now = _now()
        subs = [i.sub for i in items]
        results: list[Any]
        try:
            results = self._commit_retrying(subs, now)
        except Exception:  # noqa: BLE001 — one by one, so a bad submission loses only its own answer
            results = []
            for sub in subs:
                try:
                    results += self._commit_retrying([sub], now)
                except Exception as e:  # noqa: BLE001
                    log.error("survey intake: a %s submission failed: %s", sub.kind, type(e).__name__)
                    results.append(e)
        self.batches += 1
        self._resolve(items, results)
        self.cpu += time.thread_time() - cpu

    def _commit_retrying(self, subs: list[Submission], now: dt.datetime) -> list[Outcome]:
        for attempt in range(4):
            try:
                return self._commit(subs, now)
            except duckdb.TransactionException:
                if attempt == 3:
                    raise
            except (duckdb.InvalidInputException, AnsweredMeanwhile) as e:  # the store knew of an answer the kept
                if ANSWERED_GUARD not in str(e) or attempt == 3:  # invitations did not
                    raise
                log.warning("survey intake: the kept invitations were behind the store; read again")
                self._invitations = None
                time.sleep(0.005 * (attempt + 1))  # another writer changed one of the rows: try again
        raise AssertionError("unreachable")

    @staticmethod
    def _resolve(items: list[_Item], results: list[Any]) -> None:
        by_loop: dict[Any, list] = {}
        for item, result in zip(items, results, strict=True):
            if item.loop is None:
                if isinstance(result, BaseException):
                    item.fut.set_exception(result)
                else:
                    item.fut.set_result(result)
            else:
                by_loop.setdefault(item.loop, []).append((item.fut, result))
        for loop, pairs in by_loop.items():  # one wake-up of each event loop per batch
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits any more
                loop.call_soon_threadsafe(_settle, pairs)

    def _maybe_wake(self) -> None:
        now = time.monotonic()
        if not self._wake_due or now - self._last_wake < self.wake_every:
            return
        if now - self._last_stored < self.quiet and now - self._due_since < self.hold:
            return  # answers are streaming in: the scheduler's work waits for a pause, or for `hold` seconds
        self._wake_due = False
        self._last_wake = time.monotonic()
        from ..web import scheduler

        scheduler.wake(self.hub, ("analyze", "sync"))

    # -- one transaction -------------------------------------------------------------------------------------
    def _commit(self, subs: list[Submission], now: dt.datetime) -> list[Outcome]:
        with self._refusals_lock:
            queued, self._refusals = self._refusals, Counter()
        seq = self._seq
        if self.postgres and (self._con.closed or self._con.broken):  # the server restarted: connect again
            from ..engines.postgres import PgStore

            with contextlib.suppress(Exception):
                self._con.close()
            self._store = PgStore.open(self.hub.url, migrate=False)
            self._con = self._store.con
        con = self._con
        try:
            tx = _PgTx(self) if self.postgres else _Tx(self)
            try:
                batch = _Batch(self, tx, subs, now)
                outcomes = batch.run()
                counts = Counter(queued)
                for o, sub in zip(outcomes, subs, strict=True):
                    if o.status not in ("stored", "flagged"):
                        counts[(sub.survey_id, now.date(), o.reason or o.status)] += 1
                tx.count_refusals(counts)
                tx.commit()
                self._answered(batch.answered, batch.taken, now)
            except BaseException:
                tx.release_views()
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                raise
        except BaseException:
            self._seq = seq
            with self._refusals_lock:
                self._refusals.update(queued)
            raise
        n = sum(o.status == "stored" for o in outcomes)
        self.stored += sum(o.status == "stored" and s.kind != "comment" and s.kind != "contact"
                           for o, s in zip(outcomes, subs, strict=True))
        if n:
            self._last_stored = time.monotonic()
            if not self._wake_due:
                self._due_since = self._last_stored
            self._wake_due = True
        return outcomes

    @property
    def streaming(self) -> bool:
        """Whether answers come in: some were stored in the last ``quiet`` seconds, or some wait for the writer
        (the first ones after a start, or any while the writer is slow). Background work then gives way to them."""
        return time.monotonic() - self._last_stored < self.quiet or not self._queue.empty()

    # -- the invitations kept in memory ---------------------------------------------------------------------
    def forget_invitations(self) -> None:
        """Read the invitations again before the next batch (their customer or expiry changed: an erasure)."""
        self._forgets += 1
        self._invitations = None

    def _load_invitations(self) -> None:
        """The open invitations (not answered, not expired; the newest :data:`CACHE_LIMIT`) and the highest id,
        in one snapshot."""
        con = self._con
        forgets = self._forgets
        con.execute("BEGIN TRANSACTION")
        try:
            rows = con.execute(
                f"SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE answered_at IS NULL AND "
                f"(expires_at IS NULL OR expires_at > ?) ORDER BY invitation_id DESC LIMIT {CACHE_LIMIT}",
                [_now()]).fetchall()
            highest = con.execute("SELECT max(invitation_id) FROM survey_invitations").fetchone()[0]
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        self._highest = int(highest or 0)
        # an erasure announced while they were read may be missing from them: read again next time
        self._invitations = {r[0]: r for r in rows} if forgets == self._forgets else None

    def invitations(self, tx: _Tx, ids: set[int]) -> dict[int, tuple]:
        """The invitations ``ids`` (those that exist): from memory; the ones it lacks read in the batch's
        transaction, together with any made since the last read (one query; none when memory has them all).
        On PostgreSQL, where other processes' intakes answer links too, always read in the batch (one query)."""
        if self.postgres:
            found = tx.first(f"SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE invitation_id IN "
                             f"({', '.join('?' * len(ids))})", [int(i) for i in sorted(ids)])
            return {r[0]: r for r in found}
        if self._invitations is None:
            self._load_invitations()
        kept = self._invitations if self._invitations is not None else {}  # {}: this batch reads them all
        missing = [i for i in ids if i not in kept]
        if missing:
            highest = self._highest
            for r in tx.first(f"SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE invitation_id IN "
                              f"({', '.join('?' * len(missing))}) OR invitation_id > ?",
                              [*(int(i) for i in missing), int(highest)]):
                kept[r[0]] = r
                highest = max(highest, r[0])
            self._highest = highest
        return {i: kept[i] for i in ids if i in kept}

    def _answered(self, answered: list[int], taken: dict[int, str], now: dt.datetime) -> None:
        """Mark the invitations answered by a committed batch."""
        kept = self._invitations
        if kept is None:
            return
        for i in answered:
            row = kept.get(i)
            if row is not None:
                kept[i] = (*row[:5], now, taken[i])

    def _last_number(self) -> int:
        """The highest number of an anonymous answer or a flagged one so far (their ids go on from it)."""
        if self.postgres:
            return _PgTx.last_number(self._store)
        row = self._con.execute(
            "SELECT max(n) FROM (SELECT TRY_CAST(substr(response_id, 5) AS BIGINT) AS n FROM responses "
            "WHERE response_id LIKE 'SVA-%' UNION ALL SELECT TRY_CAST(substr(flag_id, 2) AS BIGINT) FROM "
            "survey_flagged)").fetchone()
        return int(row[0] or 0)

    def definition(self, tx, survey_id: str, updated_at) -> Survey:
        """The survey's definition (read again only when the survey was changed), in the batch's transaction."""
        known = self._definitions.get(survey_id)
        if known is None or known[0] != updated_at:
            raw, status = tx.first("SELECT definition, status FROM surveys WHERE survey_id = ?", [survey_id])[0]
            survey = dataclasses.replace(from_dict(json.loads(raw), where=f"survey {survey_id}"),
                                         survey_id=survey_id, status=status)
            known = self._definitions[survey_id] = (updated_at, survey)
        return known[1]

    def next_number(self) -> int:
        self._seq += 1
        return self._seq


class _Tx:
    """One transaction in as few calls to the database as can be: ``BEGIN`` goes with the first query, and
    the writes whose result nobody reads go with ``COMMIT`` in one call (each call costs a switch of threads
    and DuckDB's own round trip; a batch makes two)."""

    def __init__(self, intake: Intake):
        self.intake, self.con = intake, intake._con
        self.begun = False
        self.statements: list[str] = []
        self.views: list[str] = []

    def first(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        """A query (placeholders ``?``) that may open the transaction in the same call."""
        if self.begun:
            return self.con.execute(sql, params).fetchall()
        self.begun = True
        return self.con.execute(f"BEGIN TRANSACTION; {sql}", params).fetchall()

    # -- the batch's writes (DuckDB: from Arrow tables, sent with COMMIT in one call) -------------------------
    def insert(self, table: str, schema: pa.Schema, rows: list[tuple]) -> None:
        cols = list(zip(*rows, strict=True))
        data = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(cols, schema, strict=True)],
                                    schema=schema)
        names = ", ".join(schema.names)
        view = f"centric_intake_{table}"
        self.register(view, data)
        self.later(f"INSERT INTO {table} ({names}) SELECT {names} FROM {view}")

    def answer(self, ids: list[int], now: dt.datetime) -> None:
        """Mark invitations answered; the store checks once more: one answered meanwhile fails the batch."""
        view = "centric_intake_answered"
        rows = [{"invitation_id": i, "answered_at": now} for i in dict.fromkeys(map(int, ids))]
        self.register(view, pa.Table.from_pylist(rows, schema=_ANSWERED))
        self.later(f"UPDATE survey_invitations SET answered_at = CASE WHEN survey_invitations.answered_at IS NULL THEN "
                   f"a.answered_at ELSE error('{ANSWERED_GUARD}') END, response_id = 'SVR-' || "
                   f"CAST(survey_invitations.invitation_id AS VARCHAR) FROM {view} a "
                   "WHERE survey_invitations.invitation_id = a.invitation_id")

    def comment(self, pairs: list[tuple[str, str]]) -> set[str]:
        """Set the comments (response id, text) of answers that have none; the response ids that took one."""
        view = "centric_intake_comments"
        self.register(view, pa.Table.from_pylist([{"response_id": rid, "comment": c} for rid, c in pairs],
                                                 schema=_COMMENTS))
        return {r[0] for r in self.first(
            f"UPDATE responses SET comment = c.comment FROM {view} c WHERE responses.response_id = "
            "c.response_id AND (responses.comment IS NULL OR trim(responses.comment) = '') "
            "RETURNING responses.response_id")}

    def number(self) -> int:
        """The next number of an anonymous or flagged answer (this process is the store's one writer)."""
        return self.intake.next_number()

    def release(self, fid: str, rid: str, who: str | None, now: dt.datetime) -> None:
        """Mark a flagged answer released; the values come from an Arrow table (who released it is a person's
        text), never from the statement's text."""
        view = f"centric_intake_release_{len(self.views)}"
        self.register(view, pa.Table.from_pylist(
            [{"flag_id": fid, "response_id": rid, "released_by": who or "", "released_at": now}], schema=_RELEASE))
        self.later(f"UPDATE survey_flagged SET released_at = r.released_at, released_by = r.released_by, "
                   f"response_id = r.response_id FROM {view} r WHERE survey_flagged.flag_id = r.flag_id "
                   "AND survey_flagged.released_at IS NULL")

    def count_refusals(self, counts: Counter) -> None:
        """Add ``counts`` ((survey_id, day, reason) → n) to ``survey_refusals``: one row per key, added to when it
        exists, else made; the keys and counts from an Arrow table."""
        rows = [{"survey_id": sid, "day": day, "reason": reason, "n": int(n)}
                for (sid, day, reason), n in counts.items() if n]
        if not rows:
            return
        view = f"centric_intake_refusals_{len(self.views)}"
        self.register(view, pa.Table.from_pylist(rows, schema=_REFUSALS))
        key = "r.survey_id IS NOT DISTINCT FROM v.survey_id AND r.day = v.day AND r.reason = v.reason"
        self.later(f"UPDATE survey_refusals AS r SET count = r.count + v.n FROM {view} v WHERE {key}",
                   "INSERT INTO survey_refusals (survey_id, day, reason, count) SELECT v.survey_id, v.day, v.reason, "
                   f"v.n FROM {view} v WHERE NOT EXISTS (SELECT 1 FROM survey_refusals r WHERE {key})")

    def register(self, name: str, data: pa.Table) -> None:
        self.con.register(name, data)
        self.views.append(name)

    def later(self, *statements: str) -> None:
        self.statements += statements

    def commit(self) -> None:
        if not self.begun and not self.statements:
            return
        sql = "; ".join(([] if self.begun else ["BEGIN TRANSACTION"]) + self.statements + ["COMMIT"])
        self.begun = True
        self.con.execute(sql)
        self.release_views()

    def release_views(self) -> None:
        for name in self.views:
            with contextlib.suppress(Exception):
                self.con.unregister(name)
        self.views = []


def _settle(pairs: list) -> None:
    for fut, result in pairs:
        if fut.done():  # the route gave up waiting (its request was cancelled)
            continue
        if isinstance(result, BaseException):
            fut.set_exception(result)
        else:
            fut.set_result(result)


class _Batch:
    """The writes of one batch, decided in order, then made table by table."""

    def __init__(self, intake: Intake, tx: _Tx, subs: list[Submission], now: dt.datetime):
        self.intake, self.tx, self.con, self.subs, self.now = intake, tx, tx.con, subs, now
        self.responses: list[tuple] = []
        self.answers: list[tuple] = []
        self.flagged: list[tuple] = []
        self.comments: list[tuple[int, str, str]] = []  # (index, response_id, comment)
        self.answered: list[int] = []  # invitations answered now
        self.released: list[tuple[str, str, str | None]] = []  # (flag_id, response_id, released_by)

    def run(self) -> list[Outcome]:
        tx = self.tx
        linked = {int(s.invitation_id) for s in self.subs if s.invitation_id is not None}
        # the invitations from the intake's memory (read only when it lacks one), the surveys' status from the
        # store: one small query for the whole batch
        self.invitations = self.intake.invitations(tx, linked) if linked else {}
        self.surveys = {}
        if self.invitations or any(s.kind in ("anonymous", "release") for s in self.subs):
            self.surveys = {r[0]: r for r in tx.first(f"SELECT {SURVEY_COLUMNS} FROM surveys")}
        contacted: set[str] = set()
        if any(s.kind == "contact" for s in self.subs):
            rids = {r[6] for r in self.invitations.values() if r[6]}
            if rids:
                contacted = {r[0] for r in tx.first(
                    "SELECT DISTINCT response_id FROM survey_answers WHERE question_id = ? "
                    f"AND response_id IN ({', '.join('?' * len(rids))})", [CONTACT_QUESTION, *sorted(rids)])}
        flags = {}
        wanted = {s.flag_id for s in self.subs if s.kind == "release" and s.flag_id}
        if wanted:
            flags = {r[0]: r for r in tx.first(
                "SELECT flag_id, survey_id, fields, released_at, response_id, received_at FROM survey_flagged "
                f"WHERE flag_id IN ({', '.join('?' * len(wanted))})", sorted(wanted))}
        self.taken: dict[int, str] = {}  # invitation → response id stored in this batch
        self.commented: set[str] = set()
        outcomes = []
        for sub in self.subs:
            if sub.kind == "invited":
                outcomes.append(self._invited(sub))
            elif sub.kind == "anonymous":
                outcomes.append(self._anonymous(sub))
            elif sub.kind == "comment":
                outcomes.append(self._comment(sub, len(outcomes)))
            elif sub.kind == "contact":
                outcomes.append(self._contact(sub, contacted))
            else:
                outcomes.append(self._release(sub, flags))
        self._write(outcomes)
        return outcomes

    # -- decisions ----------------------------------------------------------------------------------------
    def _gate(self, survey, expires_at) -> Outcome | None:
        if survey is None or survey[3] == "closed":
            return Outcome("closed", reason="closed")
        if expires_at is not None and expires_at <= self.now:
            return Outcome("expired", reason="expired")
        if survey[3] == "paused":
            return Outcome("paused", reason="paused")
        return None

    def _response(self, rid: str, customer_id, survey, answer: Answer, language: str | None) -> None:
        kind = survey[2]
        score = answer.score
        self.responses.append((rid, customer_id, survey[1], self.now, survey[5] or "web", survey[4],
                               score if kind == "nps" else None, score if kind == "csat" else None,
                               score if kind == "ces" else None, answer.comment, answer.language or language,
                               customer_keys.key_of(customer_id)))
        self.answers += [(rid, survey[0], q, v, self.now) for q, v in answer.extras.items()]

    def _checked(self, sub: Submission, survey, language: str | None) -> Outcome | None:
        """Check the form's ``fields`` against the survey (when the route sent fields, not an answer)."""
        if sub.answer is not None:
            return None
        if sub.fields is None:
            return Outcome("refused", reason="no_answer")
        try:
            sub.answer = validate(self.intake.definition(self.tx, survey[0], survey[7]), sub.fields, language,
                                  self.intake._comment_max)
        except AnswerError as e:
            return Outcome("refused", reason=e.reason, error=e)
        return None

    def _invited(self, sub: Submission) -> Outcome:
        inv = self.invitations.get(sub.invitation_id)
        if inv is None:
            return Outcome("refused", reason="unknown_invitation")
        sub.survey_id = inv[1]
        taken = self.taken.get(inv[0])
        if inv[5] is not None or taken:
            return Outcome("already", inv[6] or taken, "already")
        refused = self._gate(self.surveys.get(inv[1]), inv[4]) or self._checked(sub, self.surveys[inv[1]], inv[3])
        if refused:
            return refused
        rid = f"SVR-{inv[0]}"
        self._response(rid, inv[2], self.surveys[inv[1]], sub.answer, inv[3])
        self.taken[inv[0]] = rid
        self.answered.append(inv[0])
        return Outcome("stored", rid)

    def _anonymous(self, sub: Submission) -> Outcome:
        survey = self.surveys.get(sub.survey_id)
        if survey is None:
            return Outcome("refused", reason="unknown_survey")
        if not survey[6]:
            return Outcome("refused", reason="not_anonymous")
        refused = self._gate(survey, None) or self._checked(sub, survey, None)
        if refused:
            return refused
        n = self.tx.number()
        if sub.flags:
            fid = f"F{n}"
            a = sub.answer
            fields = {"score": a.score, "comment": a.comment, "extras": a.extras, "language": a.language}
            self.flagged.append((fid, survey[0], self.now, json.dumps(fields, ensure_ascii=False),
                                 json.dumps(list(sub.flags)), sub.ip_hash))
            return Outcome("flagged", fid, ",".join(sub.flags))
        rid = f"SVA-{n}"
        self._response(rid, None, survey, sub.answer, None)
        return Outcome("stored", rid)

    def _after_answer(self, sub: Submission) -> tuple[Any, Outcome | None]:
        """The invitation of a comment or a contact wish, or why it is refused: the link must have been
        answered, within ``survey_link_days``, and the survey not closed."""
        inv = self.invitations.get(sub.invitation_id)
        if inv is None or sub.answer is None:
            return None, Outcome("refused", reason="unknown_invitation")
        sub.survey_id = inv[1]
        if inv[5] is None and inv[0] not in self.taken:
            return None, Outcome("refused", reason="not_answered")
        survey = self.surveys.get(inv[1])
        if survey is None or survey[3] == "closed":
            return None, Outcome("closed", reason="closed")
        answered = inv[5] or self.now
        if self.now > answered + dt.timedelta(days=self.intake._link_days):
            return None, Outcome("expired", reason="expired")
        return inv, None

    def _comment(self, sub: Submission, index: int) -> Outcome:
        inv, refused = self._after_answer(sub)
        if refused:
            return refused
        rid = inv[6] or self.taken[inv[0]]
        if rid in self.commented or not (sub.answer.comment or "").strip():
            return Outcome("already", rid, "already")
        self.commented.add(rid)
        self.comments.append((index, rid, sub.answer.comment))
        return Outcome("stored", rid)

    def _contact(self, sub: Submission, contacted: set[str]) -> Outcome:
        inv, refused = self._after_answer(sub)
        if refused:
            return refused
        rid = inv[6] or self.taken[inv[0]]
        value = sub.answer.extras.get(CONTACT_QUESTION)
        if not value:
            return Outcome("refused", rid, "missing")
        if rid in contacted:
            return Outcome("already", rid, "already")
        contacted.add(rid)
        self.answers.append((rid, inv[1], CONTACT_QUESTION, value, self.now))
        return Outcome("stored", rid)

    def _release(self, sub: Submission, flags: dict) -> Outcome:
        row = flags.get(sub.flag_id)
        if row is None:
            return Outcome("refused", reason="unknown_flag")
        sub.survey_id = row[1]
        if row[3] is not None:
            return Outcome("already", row[4], "already")
        survey = self.surveys.get(row[1])
        if survey is None:
            return Outcome("refused", reason="unknown_survey")
        f = json.loads(row[2])
        answer = Answer(f.get("score"), f.get("comment"), dict(f.get("extras") or {}), f.get("language") or "en")
        rid = f"SVA-{row[0]}"
        self._response(rid, None, survey, answer, None)
        self.released.append((row[0], rid, sub.released_by))
        row_done = (*row[:3], self.now, rid, row[5])
        flags[sub.flag_id] = row_done
        return Outcome("stored", rid)

    # -- writes -------------------------------------------------------------------------------------------
    def _write(self, outcomes: list[Outcome]) -> None:
        tx = self.tx
        if self.answered:
            tx.answer(self.answered, self.now)
        for table, schema, rows in (("responses", _RESPONSES, self.responses),
                                    ("survey_answers", _ANSWERS, self.answers),
                                    ("survey_flagged", _FLAGGED, self.flagged)):
            if rows:
                tx.insert(table, schema, rows)
        if self.comments:
            kept = tx.comment([(rid, c) for _, rid, c in self.comments])
            for index, rid, _ in self.comments:
                if rid not in kept:  # the answer had its comment already
                    outcomes[index] = Outcome("already", rid, "already")
        for fid, rid, who in self.released:
            tx.release(fid, rid, who, self.now)


class AnsweredMeanwhile(StoreError):
    """PostgreSQL: an invitation of the batch was answered by another writer (the batch is tried again)."""


class _PgTx:
    """:class:`_Tx` on PostgreSQL: one transaction of the intake's own connection that first takes the store's
    write lock (as every writer does, in every process), parameterised statements, the rows inserted with one
    ``executemany`` per table; the web app's count of writes is bumped with the commit."""

    def __init__(self, intake: Intake):
        self.intake, self.store, self.con = intake, intake._store, intake._con
        self.begun = False
        self.stored = False
        self.numbered = False

    def _begin(self) -> None:
        if self.begun:
            return
        self.con.execute("BEGIN")
        self.begun = True
        self.store.lock_writes()

    def number(self) -> int:
        """The next number of an anonymous or flagged answer. They go on from the store's highest (other
        processes give them too), read under the write lock once per batch — only by a batch that needs one."""
        if not self.numbered:
            self._begin()
            self.intake._seq = max(self.intake._seq, self.last_number(self.store))
            self.numbered = True
        return self.intake.next_number()

    def first(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        self._begin()
        return self.store.execute(sql, params).fetchall()

    def _run(self, sql: str, params: list | tuple = ()):
        self._begin()
        self.stored = True
        return self.store.execute(sql, params)

    def insert(self, table: str, schema: pa.Schema, rows: list[tuple]) -> None:
        self._begin()
        self.stored = True
        names = ", ".join(schema.names)
        marks = ", ".join(["%s"] * len(schema.names))
        with self.con.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def answer(self, ids: list[int], now: dt.datetime) -> None:
        """Mark invitations answered — only those not answered yet: one answered meanwhile (by another process)
        fails the batch, which is then tried again."""
        done = self._run(f"UPDATE survey_invitations SET answered_at = ?, response_id = 'SVR-' || "
                         f"CAST(invitation_id AS VARCHAR) WHERE answered_at IS NULL AND invitation_id IN "
                         f"({', '.join('?' * len(ids))}) RETURNING invitation_id", [now, *ids]).fetchall()
        if len(done) != len(set(ids)):
            raise AnsweredMeanwhile(ANSWERED_GUARD)

    def comment(self, pairs: list[tuple[str, str]]) -> set[str]:
        """The comments of answers that had none (one statement for the batch); the response ids that took one."""
        values = ", ".join(["(?, ?)"] * len(pairs))
        return {r[0] for r in self._run(
            f"UPDATE responses SET comment = c.comment FROM (VALUES {values}) AS c (response_id, comment) "
            "WHERE responses.response_id = c.response_id AND (responses.comment IS NULL OR "
            "trim(responses.comment) = '') RETURNING responses.response_id",
            [x for pair in pairs for x in pair]).fetchall()}

    def release(self, fid: str, rid: str, who: str | None, now: dt.datetime) -> None:
        self._run("UPDATE survey_flagged SET released_at = ?, released_by = ?, response_id = ? WHERE flag_id = ? "
                  "AND released_at IS NULL", [now, who or "", rid, fid])

    def count_refusals(self, counts: Counter) -> None:
        if any(counts.values()):
            self._begin()
            _count_refusals(self.store, counts)

    def commit(self) -> None:
        if not self.begun:
            return
        if self.stored:
            from ..web.hub import _bump

            _bump(self.con)
        self.con.execute("COMMIT")

    def release_views(self) -> None:
        pass

    @staticmethod
    def last_number(store) -> int:
        """The highest number of an anonymous answer (SVA-n) or a flagged one (Fn) in the store."""
        row = store.execute(
            "SELECT max(n) FROM (SELECT CAST(substr(response_id, 5) AS BIGINT) AS n FROM responses "
            "WHERE response_id ~ '^SVA-[0-9]{1,18}$' UNION ALL SELECT CAST(substr(flag_id, 2) AS BIGINT) "
            "FROM survey_flagged WHERE flag_id ~ '^F[0-9]{1,18}$') AS numbers").fetchone()
        return int(row[0] or 0)


def _count_refusals(store, counts: Counter) -> None:
    """Add ``counts`` to ``survey_refusals`` in the transaction under way on ``store`` (any engine; parameterised
    statements, under the store's write lock)."""
    store.lock_writes()
    for (survey_id, day, reason), n in counts.items():
        if not n:
            continue
        key = "survey_id IS NOT DISTINCT FROM ? AND day = ? AND reason = ?"
        store.execute(f"UPDATE survey_refusals SET count = count + ? WHERE {key}", [int(n), survey_id, day, reason])
        store.execute("INSERT INTO survey_refusals (survey_id, day, reason, count) SELECT ?, ?, ?, ? WHERE NOT EXISTS "
                      f"(SELECT 1 FROM survey_refusals WHERE {key})",
                      [survey_id, day, reason, int(n), survey_id, day, reason])


def invitations_changed() -> None:
    """Tell the running intakes that invitations' customers or expiry changed (an erasure, a merge): each reads its
    invitations again before its next batch."""
    for intake in list(_running.values()):
        intake.forget_invitations()


def running(hub) -> Intake | None:
    """The intake running over ``hub``, if any."""
    return _running.get(id(hub))


__all__ = ["KINDS", "STATUSES", "Intake", "Outcome", "Submission", "invitations_changed", "running"]
