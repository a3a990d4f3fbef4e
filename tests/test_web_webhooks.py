"""Outgoing webhooks against a real HTTP receiver on loopback: signature, retries with backoff, giving up."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from centric.cases import workflow
from centric.cli import app as cli_app
from centric.web import webhooks
from centric.web.hub import Hub


class Receiver:
    """An HTTP server in a thread that records each POST and answers the next status of ``statuses`` (the
    last one repeats)."""

    def __init__(self, statuses=(200,)):
        self.statuses, self.got = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), body))
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(web_db):
    h = Hub(web_db)
    yield h
    h.close()


@pytest.fixture
def receiver():
    made = []

    def _make(*statuses):
        r = Receiver(statuses or (200,))
        made.append(r)
        return r

    yield _make
    for r in made:
        r.close()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _close_a_case(hub) -> str:
    case_id = hub.reader().execute("SELECT case_id FROM cases WHERE status = 'assigned' ORDER BY case_id "
                                       "LIMIT 1").fetchall()[0][0]
    hub.write(workflow.resolve, case_id, actor="a.nowak")
    hub.write(workflow.close, case_id, actor="a.nowak", root_cause="delivery", action="courier changed")
    return case_id


def _delivery(hub, webhook_id: str):
    return hub.reader().execute(
        "SELECT attempts, next_attempt_at, delivered_at, last_status, last_error FROM webhook_deliveries "
        "WHERE webhook_id = ? AND NOT (attempts = 0 AND next_attempt_at IS NULL) ORDER BY delivery_id",
        [webhook_id]).fetchall()


def test_the_signature_is_the_hmac_of_the_body():
    body = b'{"event": "case.created", "event_id": "CX-0000001:00001"}'
    assert webhooks.sign("0123456789abcdef", body) == (
        "sha256=" + hmac.new(b"0123456789abcdef", body, hashlib.sha256).hexdigest())
    assert webhooks.sign("0123456789abcdef", body) != webhooks.sign("0123456789abcdeg", body)


def test_backoff_doubles_from_one_minute():
    assert [webhooks.backoff(n).total_seconds() / 60 for n in range(1, 8)] == [1, 2, 4, 8, 16, 32, 64]


@pytest.mark.parametrize("url, events, why", [
    ("ftp://example.com/x", ["case.created"], "http:// or https://"),
    ("https://", ["case.created"], "http:// or https://"),
    ("https://example.com/x", [], "at least one event"),
    ("https://example.com/x", ["case.updated"], "unknown webhook event 'case.updated'"),
])
def test_a_bad_webhook_is_refused(hub, url, events, why):
    with pytest.raises(webhooks.WebhookError, match=why):
        hub.write(webhooks.add, url, events)


def test_only_events_after_the_webhook_are_sent_signed(hub, receiver):
    rx = receiver(200)
    events_before = hub.reader().execute("SELECT count(*) FROM case_events WHERE kind IN ('opened', 'closed')"
                                             ).fetchall()[0][0]
    wid, secret = hub.write(webhooks.add, rx.url, ["case.created", "case.closed"])
    assert wid == "W001" and secret.startswith("whsec_") and len(secret) > 40
    assert hub.reader().execute("SELECT count(*) FROM webhook_deliveries").fetchall()[0][0] == events_before
    assert webhooks.deliver(hub) == webhooks.DeliveryResult()  # the history is not sent
    assert rx.got == []

    case_id = _close_a_case(hub)
    r = webhooks.deliver(hub)
    assert (r.enqueued, r.attempted, r.delivered) == (1, 1, 1)
    (headers, body), = rx.got
    assert headers["X-Centric-Signature"] == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Centric-Event"] == "case.closed" and headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    event_id = hub.reader().execute("SELECT case_event_id FROM case_events WHERE case_id = ? AND kind = 'closed'",
                                        [case_id]).fetchall()[0][0]
    assert headers["X-Centric-Delivery"] == f"W001:{event_id}"
    assert payload["event"] == "case.closed" and payload["event_id"] == event_id
    assert payload["case"]["id"] == case_id and payload["case"]["status"] == "closed"
    assert payload["at"].endswith("Z")
    assert _delivery(hub, "W001")[0][0] == 1 and _delivery(hub, "W001")[0][2] is not None
    assert webhooks.deliver(hub).attempted == 0  # delivered once
    assert webhooks.list_webhooks(hub.reader())[0] == {
        "id": "W001", "url": rx.url, "events": ["case.created", "case.closed"],
        "created_at": webhooks.list_webhooks(hub.reader())[0]["created_at"], "delivered": 1, "waiting": 0,
        "given_up": 0, "last_status": None, "last_error": None}


def test_a_failed_delivery_is_retried_after_the_backoff_with_the_same_body(hub, receiver):
    rx = receiver(500, 200)
    hub.write(webhooks.add, rx.url, ["case.closed"])
    _close_a_case(hub)
    t0 = _now()
    r = webhooks.deliver(hub, now=t0)
    assert (r.attempted, r.failed, r.delivered) == (1, 1, 0)
    (attempts, next_at, delivered, status, error), = _delivery(hub, "W001")
    assert (attempts, next_at, delivered, status, error) == (1, t0 + dt.timedelta(minutes=1), None, 500, "HTTP 500")
    assert webhooks.deliver(hub, now=t0 + dt.timedelta(seconds=59)).attempted == 0  # not yet
    r = webhooks.deliver(hub, now=t0 + dt.timedelta(seconds=60))
    assert (r.attempted, r.delivered) == (1, 1)
    assert [h["X-Centric-Delivery"] for h, _ in rx.got] == [rx.got[0][0]["X-Centric-Delivery"]] * 2
    assert rx.got[0][1] == rx.got[1][1]
    assert _delivery(hub, "W001")[0][:3] == (2, None, t0 + dt.timedelta(seconds=60))


def test_after_eight_failed_attempts_a_delivery_is_given_up(hub, receiver):
    rx = receiver(503)
    hub.write(webhooks.add, rx.url, ["case.closed"])
    _close_a_case(hub)
    t, waits = _now(), []
    for n in range(1, 9):
        r = webhooks.deliver(hub, now=t)
        assert r.attempted == 1, n
        attempts, next_at, *_ = _delivery(hub, "W001")[0]
        assert attempts == n
        if n < 8:
            waits.append((next_at - t).total_seconds() / 60)
            t = next_at
    assert waits == [1, 2, 4, 8, 16, 32, 64]
    assert r.given_up == 1 and _delivery(hub, "W001")[0][1:] == (None, None, 503, "HTTP 503")
    assert webhooks.deliver(hub, now=t + dt.timedelta(days=30)).attempted == 0
    listed = webhooks.list_webhooks(hub.reader())[0]
    assert (listed["delivered"], listed["waiting"], listed["given_up"], listed["last_status"],
            listed["last_error"]) == (0, 0, 1, 503, "HTTP 503")
    assert len(rx.got) == 8


def test_an_unreachable_receiver_and_a_removed_webhook(hub, receiver):
    rx = receiver(200)
    rx.close()  # nobody listens there any more
    hub.write(webhooks.add, rx.url, ["case.closed"])
    _close_a_case(hub)
    r = webhooks.deliver(hub)
    assert r.failed == 1
    assert _delivery(hub, "W001")[0][3] is None and _delivery(hub, "W001")[0][4].startswith("ConnectError")
    assert hub.write(webhooks.remove, rx.url) == "W001"
    assert webhooks.deliver(hub, now=_now() + dt.timedelta(hours=1)).attempted == 0
    assert webhooks.list_webhooks(hub.reader()) == []
    with pytest.raises(webhooks.WebhookError, match="no active webhook"):
        hub.write(webhooks.remove, "W001")


def test_the_webhooks_commands(tmp_path):
    db = str(tmp_path / "w.duckdb")
    run = CliRunner().invoke
    r = run(cli_app, ["--db", db, "webhooks", "add", "https://example.com/centric", "--event", "case.created",
                      "--event", "case.breached"])
    assert r.exit_code == 0, r.output
    assert "webhook W001 added" in r.output and r.stdout.strip().splitlines()[-1].startswith("whsec_")
    r = run(cli_app, ["--db", db, "webhooks", "add", "https://example.com/b", "--event", "case.closed",
                      "--secret-stdin"], input="a-secret-of-my-own-choice\n")
    assert r.exit_code == 0 and "a-secret-of-my-own-choice" not in r.output
    r = run(cli_app, ["--db", db, "webhooks", "list", "--json"])
    hooks = json.loads(r.stdout)
    assert [(h["id"], h["url"], h["events"]) for h in hooks] == [
        ("W001", "https://example.com/centric", ["case.created", "case.breached"]),
        ("W002", "https://example.com/b", ["case.closed"])]
    assert "secret" not in json.dumps(hooks)
    r = run(cli_app, ["--db", db, "webhooks", "add", "https://example.com/c", "--event", "case.reopened"])
    assert r.exit_code == 2 and "unknown webhook event 'case.reopened'" in r.output
    r = run(cli_app, ["--db", db, "webhooks", "remove", "W001"])
    assert r.exit_code == 0 and "webhook W001 removed" in r.output
    assert "example.com/centric" not in run(cli_app, ["--db", db, "webhooks", "list"]).output
