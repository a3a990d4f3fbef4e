"""E-mailing invitations and the one reminder, against a small SMTP sink run by the test."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading

import pytest

from centric.ingest import ingest
from centric.surveys import SurveyError, from_dict, mailer, repo
from centric.surveys import invitations as inv

from .conftest import rows

NOW = dt.datetime(2026, 3, 2, 9, 0)


class Sink:
    """Speaks enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to receive messages; refuses the
    recipients in ``refuse`` with 550 and keeps every message's bytes in ``messages``."""

    def __init__(self, refuse=()):
        self.refuse = {r.lower() for r in refuse}
        self.messages: list[tuple[list[str], bytes]] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self._session(conn.makefile("rb"), conn)

    def _session(self, f, conn):
        def say(line):
            conn.sendall(line.encode() + b"\r\n")

        say("220 sink ESMTP")
        rcpts: list[str] = []
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-sink")
                say("250 8BITMIME")
            elif verb == "HELO" or verb in ("NOOP", "RSET"):
                rcpts = [] if verb == "RSET" else rcpts
                say("250 ok")
            elif verb == "MAIL":
                rcpts = []
                say("250 ok")
            elif verb == "RCPT":
                addr = cmd.split(":", 1)[1].strip().strip("<>").lower()
                if addr in self.refuse:
                    say("550 no such mailbox")
                else:
                    rcpts.append(addr)
                    say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                data = b""
                while True:
                    chunk = f.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.messages.append((rcpts, data))
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not here")

    def close(self):
        self.sock.close()


@pytest.fixture
def sink(monkeypatch):
    s = Sink(refuse=["bad@refused.example"])
    monkeypatch.setenv("CENTRIC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CENTRIC_SMTP_PORT", str(s.port))
    monkeypatch.setenv("CENTRIC_SMTP_FROM", "surveys@kettle.example")
    monkeypatch.setenv("CENTRIC_SMTP_STARTTLS", "false")
    monkeypatch.delenv("CENTRIC_SMTP_USER", raising=False)
    yield s
    s.close()


@pytest.fixture
def invited(store, write):
    ingest("customers", write("c.csv", "customer_id,name,email,language\n"
                                       "K1,Anna,anna@x.pl,pl\nK2,Carla,carla@x.it,it\nK3,Bob,bad@refused.example,en\n"),
           store=store)
    s = repo.get(store, repo.add(store, from_dict({"slug": "after-support", "name": "After support", "kind": "csat",
                                                   "branding": {"company": "Kettle"}})))
    p = inv.plan(store, s, inv.read_customers_csv(write("i.csv", "customer_id\nK1\nK2\nK3\n")), now=NOW, send=True)
    return s, inv.issue(store, p, base_url="https://survey.example.com")


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_invitations_in_the_customers_language_with_score_links(store, sink, invited):
    survey, links = invited
    result = mailer.send(store, survey, links, now=NOW)
    assert result.sent == [1, 2]
    assert len(result.failed) == 1 and result.failed[0][0] == 3 and "550" in result.failed[0][1]
    assert [r for r, _ in sink.messages] == [["anna@x.pl"], ["carla@x.it"]]
    pl, it = (_parse(m) for _, m in sink.messages)
    assert pl["Subject"] == "Kettle prosi o Twoją opinię" and pl["Content-Language"] == "pl"
    assert it["Subject"] == "Kettle vorrebbe la tua opinione" and it["To"] == "carla@x.it"
    assert pl["From"] == "surveys@kettle.example"
    text = pl.get_body(("plain",)).get_content()
    page = pl.get_body(("html",)).get_content()
    assert "Jak oceniasz swoje zadowolenie z naszej obsługi?" in text and "1 = Bardzo źle, 5 = Bardzo dobrze" in text
    url = links[0].url
    assert [f'href="{url}?score={n}"' in page for n in range(0, 7)] == [False, True, True, True, True, True, False]
    assert f"5: {url}?score=5" in text and "Ten link jest tylko dla Ciebie i działa do 1 kwietnia 2026" in text
    assert rows(store, "SELECT invitation_id, sent_at FROM survey_invitations ORDER BY 1") == [
        (1, NOW), (2, NOW), (3, None)]


def test_one_reminder_to_those_who_did_not_answer(store, sink, invited):
    survey, links = invited
    mailer.send(store, survey, links, now=NOW)
    assert mailer.due_reminders(store, survey, now=NOW + dt.timedelta(days=4, hours=23)) == []
    store.execute("UPDATE survey_invitations SET answered_at = ? WHERE invitation_id = 2", [NOW])
    due = mailer.due_reminders(store, survey, now=NOW + dt.timedelta(days=5), base_url="https://survey.example.com")
    assert [link.invitation_id for link in due] == [1] and due[0].url == links[0].url  # 3 was never sent
    sink.messages.clear()
    assert mailer.send(store, survey, due, reminder=True, now=NOW + dt.timedelta(days=5)).sent == [1]
    assert len(sink.messages) == 1 and _parse(sink.messages[0][1])["Subject"] == "Przypomnienie: Kettle prosi o Twoją opinię"
    assert rows(store, "SELECT reminded_at FROM survey_invitations WHERE invitation_id = 1") == [
        (NOW + dt.timedelta(days=5),)]
    assert mailer.due_reminders(store, survey, now=NOW + dt.timedelta(days=20)) == []  # only one
    assert mailer.due_reminders(store, survey, now=NOW + dt.timedelta(days=40)) == []


def test_mail_settings_and_server_problems_are_named(store, sink, invited, monkeypatch):
    survey, links = invited
    monkeypatch.setenv("CENTRIC_SMTP_STARTTLS", "true")
    with pytest.raises(SurveyError, match="does not offer STARTTLS"):
        mailer.send(store, survey, links, now=NOW)
    monkeypatch.setenv("CENTRIC_SMTP_USER", "me")
    monkeypatch.delenv("CENTRIC_SMTP_PASSWORD", raising=False)
    with pytest.raises(SurveyError, match="CENTRIC_SMTP_PASSWORD"):
        mailer.config()
    monkeypatch.delenv("CENTRIC_SMTP_USER")
    monkeypatch.setenv("CENTRIC_SMTP_HOST", "")
    with pytest.raises(SurveyError, match="set smtp_host"):
        mailer.config()
    monkeypatch.setenv("CENTRIC_SMTP_HOST", "127.0.0.1")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("CENTRIC_SMTP_PORT", str(port))
    monkeypatch.setenv("CENTRIC_SMTP_STARTTLS", "false")
    with pytest.raises(SurveyError, match=f"cannot reach the mail server 127.0.0.1:{port}"):
        mailer.send(store, survey, links, now=NOW)
    assert rows(store, "SELECT count(sent_at) FROM survey_invitations") == [(0,)]
