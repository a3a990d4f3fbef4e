"""Outgoing webhooks: an outbox of case events, delivered signed and retried with backoff.

A webhook (``webhooks`` table; ``centric webhooks add URL --event …``) asks for some of three events:

=================  ==============================  ===========================================
event              case event (``case_events``)    when
=================  ==============================  ===========================================
``case.created``   ``opened``                      a case is opened (by the loop, proactively, by hand)
``case.breached``  ``sla_breached``                a clock of the case fell due (dated then)
``case.closed``    ``closed``                      the case is closed with its root cause
=================  ==============================  ===========================================

:func:`enqueue` finds the events a webhook has not had yet — an anti-join of ``case_events`` against
``webhook_deliveries`` in the query — and writes one delivery per webhook × event with its payload::

    {"event": "case.created", "event_id": "CX-0000042:00001", "at": "2026-11-02T10:15:00Z",
     "case": {…the case object of centric.cases.views.case_json…}}

:func:`deliver` POSTs due deliveries (``httpx``, 5 s timeout, redirects not followed) with the headers
``X-Centric-Event``, ``X-Centric-Delivery`` (the delivery's id: receivers use it to ignore a repeat) and
``X-Centric-Signature: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>``. A 2xx answer
delivers it; anything else is tried again after 1, 2, 4, … minutes; after :data:`MAX_ATTEMPTS` attempts the
delivery is given up (``centric webhooks list`` shows it). Every state is in ``webhook_deliveries``; the
network is never called while the store's writer is held.

Only events recorded after the webhook was added are sent: :func:`add` marks the events already in the
store as history (a delivery row with an empty payload, no attempt and no next attempt: never sent) in the
same transaction — one ``INSERT … SELECT``. Event times cannot say it: a case opened now from a complaint written last week is
dated last week, a breach is dated when its clock fell due.

>>> import hashlib, hmac
>>> sign("s3cret", b'{"event": "case.created"}') == "sha256=" + hmac.new(b"s3cret", b'{"event": "case.created"}',
...                                                                       hashlib.sha256).hexdigest()
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import pandas as pd

from ..errors import CentricError
from ..store import Store

__all__ = [
    "EVENTS", "MAX_ATTEMPTS", "Delivery", "DeliveryResult", "add", "backoff", "deliver", "due", "enqueue",
    "list_webhooks", "record", "remove", "send", "sign",
]

log = logging.getLogger("centric.web.webhooks")

EVENTS = {"case.created": "opened", "case.breached": "sla_breached", "case.closed": "closed"}
"""Webhook event → the case event that raises it."""
KIND_EVENT = {v: k for k, v in EVENTS.items()}

MAX_ATTEMPTS = 8
"""Attempts before a delivery is given up."""
FIRST_RETRY = dt.timedelta(minutes=1)
"""Wait after the first failed attempt; it doubles after each further one."""
TIMEOUT = 5.0
"""Seconds one attempt may take."""
BATCH = 1000
"""Most events one :func:`enqueue` turns into deliveries (the rest the next time)."""


class WebhookError(CentricError):
    """A webhook cannot be added or removed as asked."""


class Hub(Protocol):  # what deliver needs of centric.web.hub.Hub
    def write(self, fn, *args, **kwargs): ...
    def reader(self) -> Store: ...


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    payload: str
    attempts: int


@dataclass(frozen=True)
class DeliveryResult:
    """What one :func:`deliver` did: deliveries created, attempted, delivered, failed (to be retried) and
    given up."""

    enqueued: int = 0
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    given_up: int = 0


def _now(now: dt.datetime | None = None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def _iso(t: Any) -> str | None:
    if t is None or pd.isna(t):
        return None
    return pd.Timestamp(t).to_pydatetime().isoformat(timespec="seconds") + "Z"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Centric-Signature`` header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> dt.timedelta:
    """The wait after ``attempts`` failed attempts: 1 minute after the first, then doubling."""
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


# -- the webhooks --------------------------------------------------------------------------------------------

def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"webhook URL {url!r}: expected an http:// or https:// address such as "
                           "https://example.com/centric")
    return url


def _check_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(e.strip() for e in events if e and e.strip()))
    if not chosen:
        raise WebhookError(f"a webhook needs at least one event: {', '.join(EVENTS)}")
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise WebhookError(f"unknown webhook event {unknown[0]!r}; use {', '.join(EVENTS)}")
    return chosen


def add(store: Store, url: str, events: Iterable[str], secret: str | None = None,
        now: dt.datetime | None = None) -> tuple[str, str]:
    """Add a webhook; returns its id (``W001`` …) and its signing secret (made here unless given)."""
    url, chosen = _check_url(url), _check_events(events)
    if secret is not None and len(secret.strip()) < 16:
        raise WebhookError("a webhook secret must have at least 16 characters")
    secret = secret.strip() if secret else "whsec_" + secrets.token_urlsafe(32)
    now = _now(now)
    kinds = [EVENTS[e] for e in chosen]
    marks = ", ".join("?" * len(kinds))
    event_of = " ".join(f"WHEN '{k}' THEN '{e}'" for e, k in EVENTS.items())
    with store.transaction():
        store.lock_writes()  # PostgreSQL: the id (the count plus one) holds until the commit
        n = store.execute("SELECT count(*) FROM webhooks").fetchall()[0][0]
        webhook_id = f"W{n + 1:03d}"
        store.execute("INSERT INTO webhooks (webhook_id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?)",
                      [webhook_id, url, secret, json.dumps(chosen), now])
        # the history: events already there are never sent to this webhook
        store.execute(f"""INSERT INTO webhook_deliveries (delivery_id, webhook_id, event, case_id, case_event_id,
                                payload, attempts, created_at)
                          SELECT CAST(? AS VARCHAR) || ':' || case_event_id, CAST(? AS VARCHAR), CASE kind {event_of}
                                 END, case_id, case_event_id, '{{}}', 0, CAST(? AS TIMESTAMP) FROM case_events
                          WHERE kind IN ({marks})""", [webhook_id, webhook_id, now, *kinds])
    return webhook_id, secret


def remove(store: Store, which: str, now: dt.datetime | None = None) -> str:
    """Stop a webhook (by id or URL): nothing more is sent to it; its deliveries stay as the record.
    Returns its id."""
    t = store.table("webhooks")
    found = t.filter(((t.webhook_id == which) | (t.url == which)) & t.disabled_at.isnull()).webhook_id.execute()
    if not len(found):
        raise WebhookError(f"there is no active webhook {which!r} (see centric webhooks list)")
    if len(found) > 1:
        raise WebhookError(f"{len(found)} webhooks send to {which}; remove them by id ({', '.join(found)})")
    with store.transaction():
        store.execute("UPDATE webhooks SET disabled_at = ? WHERE webhook_id = ?", [_now(now), str(found.iloc[0])])
    return str(found.iloc[0])


def list_webhooks(store: Store) -> list[dict[str, Any]]:
    """The active webhooks with their deliveries: delivered, waiting (to be tried or retried), given up,
    and the last failure's status and error. The secret is never shown."""
    import ibis

    w = store.table("webhooks")
    w = w.filter(w.disabled_at.isnull())
    d = store.table("webhook_deliveries")
    d = d.filter(~_history(d))
    done = d.delivered_at.notnull()
    gave_up = d.delivered_at.isnull() & (d.attempts >= MAX_ATTEMPTS)
    stats = d.group_by("webhook_id").aggregate(
        delivered=done.sum(), given_up=gave_up.sum(), waiting=(~done & ~gave_up).sum())
    failed = d.filter(d.last_error.notnull() & d.delivered_at.isnull())
    last = failed.mutate(_n=ibis.row_number().over(group_by=failed.webhook_id,
                                                   order_by=[failed.next_attempt_at.desc(), failed.delivery_id.desc()]))
    last = last.filter(last._n == 0).select("webhook_id", "last_status", "last_error")
    rows = (w.left_join(stats, w.webhook_id == stats.webhook_id).select(w, stats.delivered, stats.given_up,
                                                                          stats.waiting)
            .order_by("webhook_id"))
    rows = rows.left_join(last, rows.webhook_id == last.webhook_id).select(rows, last.last_status, last.last_error)
    out = []
    for r in rows.order_by("webhook_id").execute().to_dict("records"):
        out.append({"id": r["webhook_id"], "url": r["url"], "events": json.loads(r["events"] or "[]"),
                    "created_at": _iso(r["created_at"]),
                    "delivered": int(r["delivered"] or 0) if pd.notna(r["delivered"]) else 0,
                    "waiting": int(r["waiting"]) if pd.notna(r["waiting"]) else 0,
                    "given_up": int(r["given_up"]) if pd.notna(r["given_up"]) else 0,
                    "last_status": int(r["last_status"]) if pd.notna(r["last_status"]) else None,
                    "last_error": r["last_error"] if pd.notna(r["last_error"]) else None})
    return out


# -- the outbox ---------------------------------------------------------------------------------------------

def _history(d):
    """The marks of the events that were there when the webhook was added: never tried, nothing to try."""
    return (d.attempts == 0) & d.next_attempt_at.isnull() & d.delivered_at.isnull()


def _active(store: Store) -> list[dict[str, Any]]:
    w = store.table("webhooks")
    return w.filter(w.disabled_at.isnull()).order_by("webhook_id").execute().to_dict("records")


def _new_events(store: Store, hook: dict[str, Any], limit: int):
    """The case events ``hook`` asked for without a delivery (or a history mark) for it yet."""
    e = store.table("case_events")
    kinds = [EVENTS[x] for x in json.loads(hook["events"] or "[]") if x in EVENTS]
    d = store.table("webhook_deliveries")
    d = d.filter(d.webhook_id == hook["webhook_id"])
    new = e.filter(e.kind.isin(kinds))
    new = new.anti_join(d, new.case_event_id == d.case_event_id)
    return (new.select("case_event_id", "case_id", "kind", "occurred_at")
            .order_by(["occurred_at", "case_event_id"]).limit(limit).execute())


def enqueue(store: Store, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Write a delivery for each event a webhook asked for and has not had; returns how many."""
    from ..cases import store_io
    from ..cases.views import _objects

    now = _now(now)
    frames = []
    for hook in _active(store):
        new = _new_events(store, hook, limit)
        if len(new):
            frames.append(new.assign(webhook_id=hook["webhook_id"]))
    if not frames:
        return 0
    todo = pd.concat(frames, ignore_index=True)
    ids = sorted(set(todo["case_id"]))
    cases = {c["id"]: c for c in _objects(store, store_io.load_cases(store, ids), ids)}
    payloads = [json.dumps({"event": KIND_EVENT[k], "event_id": eid, "at": _iso(at), "case": cases.get(cid)},
                           ensure_ascii=False, default=str)
                for eid, cid, k, at in todo[["case_event_id", "case_id", "kind", "occurred_at"]].itertuples(index=False)]
    rows = pd.DataFrame({
        "delivery_id": todo["webhook_id"] + ":" + todo["case_event_id"].astype(str),
        "webhook_id": todo["webhook_id"], "event": todo["kind"].map(KIND_EVENT), "case_id": todo["case_id"],
        "case_event_id": todo["case_event_id"], "payload": payloads, "attempts": 0, "next_attempt_at": now,
        "created_at": now,
    })
    with store.transaction():
        store.insert_frame("webhook_deliveries", rows)
    return len(rows)


def due(store: Store, now: dt.datetime | None = None, limit: int = 100) -> list[Delivery]:
    """Deliveries to try now: not delivered, not given up, their time come, their webhook active."""
    d, w = store.table("webhook_deliveries"), store.table("webhooks")
    q = d.filter(d.delivered_at.isnull() & (d.attempts < MAX_ATTEMPTS) & d.next_attempt_at.notnull()
                 & (d.next_attempt_at <= _now(now)))
    q = q.join(w.filter(w.disabled_at.isnull()), "webhook_id")
    q = q.order_by(["next_attempt_at", "delivery_id"]).limit(limit)
    rows = q.select("delivery_id", "webhook_id", "url", "secret", "event", "payload", "attempts").execute()
    return [Delivery(r.delivery_id, r.webhook_id, r.url, r.secret, r.event, r.payload, int(r.attempts))
            for r in rows.itertuples(index=False)]


def send(delivery: Delivery, client) -> tuple[int | None, str | None]:
    """POST one delivery; returns (HTTP status or None, error or None — None when delivered)."""
    import httpx

    body = delivery.payload.encode()
    headers = {"Content-Type": "application/json", "User-Agent": "centric-webhooks",
               "X-Centric-Event": delivery.event, "X-Centric-Delivery": delivery.delivery_id,
               "X-Centric-Signature": sign(delivery.secret, body)}
    try:
        r = client.post(delivery.url, content=body, headers=headers)
    except httpx.HTTPError as e:
        return None, f"{type(e).__name__}: {str(e)[:200]}"
    if 200 <= r.status_code < 300:
        return r.status_code, None
    return r.status_code, f"HTTP {r.status_code}"


def record(store: Store, outcomes: Sequence[tuple[Delivery, int | None, str | None]],
           now: dt.datetime | None = None) -> DeliveryResult:
    """Write the attempts' outcomes: delivered, or the next attempt's time by :func:`backoff`, or given up."""
    now = _now(now)
    rows, delivered, failed, given_up = [], 0, 0, 0
    for d, status, error in outcomes:
        n = d.attempts + 1
        if error is None:
            rows.append((n, None, now, status, None, d.delivery_id))
            delivered += 1
        elif n >= MAX_ATTEMPTS:
            rows.append((n, None, None, status, error, d.delivery_id))
            given_up += 1
            log.warning("webhook %s: delivery %s given up after %d attempts (%s)", d.webhook_id, d.delivery_id, n,
                        error)
        else:
            rows.append((n, now + backoff(n), None, status, error, d.delivery_id))
            failed += 1
    if rows:
        with store.transaction():
            for row in rows:  # at most a round's deliveries (100)
                store.execute("UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, delivered_at = ?, "
                              "last_status = ?, last_error = ? WHERE delivery_id = ?", list(row))
    return DeliveryResult(0, len(rows), delivered, failed, given_up)


def deliver(hub: Hub, now: dt.datetime | None = None, client=None) -> DeliveryResult:
    """Enqueue new events and send what is due: the writes through ``hub.write``, the network outside it."""
    import httpx

    enqueued = hub.write(enqueue, now)
    pending = due(hub.reader(), now)
    if not pending:
        return DeliveryResult(enqueued=enqueued)
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        outcomes = [(d, *send(d, client)) for d in pending]
    finally:
        if own:
            client.close()
    r = hub.write(record, outcomes, None if now is None else now)
    return DeliveryResult(enqueued, r.attempted, r.delivered, r.failed, r.given_up)
