"""Sending invitations by e-mail (optional; the links file works with any mailing tool).

Python's own ``smtplib`` and ``email``: one connection for a batch, a multipart message (plain text and HTML)
in the customer's language, whose scores are links that open the form with the score chosen
(``/s/TOKEN?score=N``; opening stores nothing, so a mail scanner following them uses nothing up). The
settings ``smtp_host``, ``smtp_port``, ``smtp_user``, ``smtp_from``, ``smtp_starttls``; the password only from
the environment variable ``CENTRIC_SMTP_PASSWORD``. Port 465 speaks TLS from the start; on other ports
STARTTLS is required unless ``smtp_starttls`` is false.

One reminder: ``due_reminders`` finds the invitations e-mailed at least ``survey_reminder_days`` ago, not
answered, not reminded and not expired; ``send(..., reminder=True)`` records ``reminded_at``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .. import settings
from ..store import Store
from . import tokens
from .invitations import Link
from .model import Survey, SurveyError
from .repo import now as _now

PASSWORD_ENV = "CENTRIC_SMTP_PASSWORD"
TIMEOUT = 30

_WORDS = {
    "en": ("Or open the form:", "This link is yours alone and works until {date}."),
    "pl": ("Możesz też otworzyć formularz:", "Ten link jest tylko dla Ciebie i działa do {date}."),
    "ru": ("Или откройте форму:", "Эта ссылка предназначена только для вас и действует до {date}."),
    "it": ("Oppure apri il modulo:", "Questo link è solo tuo ed è valido fino al {date}."),
}


@dataclass
class Sent:
    sent: list[int] = field(default_factory=list)  # invitation ids
    failed: list[tuple[int, str]] = field(default_factory=list)  # (invitation id, why)


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    user: str
    sender: str
    starttls: bool
    password: str | None


def config() -> Config:
    """The mail settings, checked (SurveyError naming what is missing) before anything is issued or sent."""
    host = settings.get("smtp_host").strip()
    sender = settings.get("smtp_from").strip()
    if not host:
        raise SurveyError("sending needs a mail server: set smtp_host (CENTRIC_SMTP_HOST), or leave out --send and "
                          "send the links file with any mailing tool")
    if "@" not in sender:
        raise SurveyError("sending needs a sender address: set smtp_from (CENTRIC_SMTP_FROM), e.g. "
                          "surveys@example.com")
    user = settings.get("smtp_user").strip()
    password = os.environ.get(PASSWORD_ENV)
    if user and not password:
        raise SurveyError(f"smtp_user is set but the password is not: put it in the environment variable {PASSWORD_ENV}")
    return Config(host, settings.get_int("smtp_port"), user, sender, settings.get("smtp_starttls") == "true", password)


def score_url(url: str, score: int) -> str:
    return f"{url}?score={score}"


def message(survey: Survey, link: Link, sender: str, reminder: bool = False) -> EmailMessage:
    """The e-mail of one invitation (or its reminder) in the invitation's language."""
    lang = survey.language_for(link.language)
    t = survey.text(lang)
    more, personal = _WORDS.get(lang, _WORDS["en"])
    personal = personal.format(date=_date(link.expires_at, lang))
    lo, hi = survey.scale
    msg = EmailMessage()
    msg["Subject"] = t.reminder_subject if reminder else t.email_subject
    msg["From"] = sender
    msg["To"] = link.email
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg["Auto-Submitted"] = "auto-generated"
    scores = "  ".join(f"{n}: {score_url(link.url, n)}" for n in range(lo, hi + 1))
    msg.set_content("\n\n".join([
        t.email_intro, t.question, f"{lo} = {t.low}, {hi} = {t.high}", scores, f"{more} {link.url}", personal,
        survey.branding.company,
    ]) + "\n")
    e = html.escape
    colour = survey.branding.primary
    cells = "".join(
        f'<td style="padding:2px"><a href="{e(score_url(link.url, n))}" style="display:inline-block;min-width:28px;'
        f'padding:8px 4px;text-align:center;border:1px solid {colour};border-radius:4px;color:{colour};'
        f'text-decoration:none;font-weight:bold">{n}</a></td>' for n in range(lo, hi + 1))
    body = (
        f'<!doctype html><html lang="{lang}"><body style="font-family:sans-serif;color:#1a1a1a">'
        f"<p>{e(t.email_intro)}</p><p><strong>{e(t.question)}</strong></p>"
        f'<table role="presentation"><tr>{cells}</tr></table>'
        f'<p style="font-size:90%">{lo} = {e(t.low)}, {hi} = {e(t.high)}</p>'
        f'<p>{e(more)} <a href="{e(link.url)}">{e(link.url)}</a></p>'
        f'<p style="font-size:90%;color:#555">{e(personal)}</p><p>{e(survey.branding.company)}</p></body></html>'
    )
    msg.add_alternative(body, subtype="html")
    msg["Content-Language"] = lang  # after the parts: setting the content drops Content-* headers
    return msg


def _date(d: dt.datetime, lang: str) -> str:
    from babel.dates import format_date

    return format_date(d.date(), format="long", locale=lang)


def send(store: Store, survey: Survey, links: list[Link], reminder: bool = False,
         now: dt.datetime | None = None, cfg: Config | None = None) -> Sent:
    """E-mail each link that has an address over one connection, and record ``sent_at`` (or ``reminded_at``) of
    those the server accepted. A refused recipient is reported and does not stop the others; a server that
    cannot be reached or refuses the sign-in is a SurveyError (nothing recorded)."""
    cfg = cfg or config()
    now = now or _now()
    out = Sent()
    todo = [link for link in links if link.email]
    out.failed += [(link.invitation_id, "no e-mail address") for link in links if not link.email]
    if not todo:
        return out
    where = f"{cfg.host}:{cfg.port}"
    try:
        with connection(cfg) as server:
            for link in todo:
                try:
                    server.send_message(message(survey, link, cfg.sender, reminder))
                    out.sent.append(link.invitation_id)
                except smtplib.SMTPRecipientsRefused as e:
                    why = next(iter(e.recipients.values()), (0, b""))
                    out.failed.append((link.invitation_id, f"refused: {why[0]} {_text(why[1])}".strip()))
                except smtplib.SMTPDataError as e:
                    out.failed.append((link.invitation_id, f"refused: {e.smtp_code} {_text(e.smtp_error)}".strip()))
    except (OSError, smtplib.SMTPException) as e:  # a timeout is an OSError
        if not out.sent:
            raise SurveyError(f"sending through {where} failed: {e}") from e
        out.failed += [(link.invitation_id, f"not sent: {e}") for link in todo
                       if link.invitation_id not in out.sent and
                       all(link.invitation_id != f for f, _ in out.failed)]
    _record(store, out.sent, "reminded_at" if reminder else "sent_at", now)
    return out


@contextlib.contextmanager
def connection(cfg: Config) -> Iterator[smtplib.SMTP]:
    """A connection to the mail server, encrypted (TLS on port 465, STARTTLS elsewhere unless ``smtp_starttls``
    is false) and signed in; :class:`SurveyError` naming the server when it cannot be reached, does not offer
    STARTTLS or refuses the sign-in."""
    where = f"{cfg.host}:{cfg.port}"
    try:
        if cfg.port == 465:
            server: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=TIMEOUT,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(cfg.host, cfg.port, timeout=TIMEOUT)
    except (OSError, smtplib.SMTPException) as e:
        raise SurveyError(f"cannot reach the mail server {where}: {e}") from e
    with server:
        try:
            server.ehlo()
            if cfg.port != 465 and cfg.starttls:
                if not server.has_extn("starttls"):
                    raise SurveyError(f"the mail server {where} does not offer STARTTLS; set smtp_starttls to false "
                                      "only for a server on a trusted network")
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if cfg.user:
                server.login(cfg.user, cfg.password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise SurveyError(f"the mail server {where} refused the sign-in of {cfg.user!r}: {e.smtp_code} "
                              f"{_text(e.smtp_error)}") from e
        yield server


def _text(b: bytes | str) -> str:
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)


def _record(store: Store, ids: list[int], column: str, when: dt.datetime) -> None:
    if not ids:
        return
    with store.transaction():
        for start in range(0, len(ids), 1000):  # parameterised, a thousand ids a statement
            chunk = [int(i) for i in ids[start:start + 1000]]
            store.execute(f"UPDATE survey_invitations SET {column} = ? WHERE invitation_id IN "
                          f"({', '.join('?' * len(chunk))})", [when, *chunk])


def due_reminders(store: Store, survey: Survey, now: dt.datetime | None = None, base_url: str | None = None,
                  reminder_days: int | None = None) -> list[Link]:
    """The invitations of ``survey`` to remind: e-mailed at least ``survey_reminder_days`` ago, with an
    address, not answered, not reminded before, not expired — as links (rebuilt from their ids)."""
    now = now or _now()
    days = settings.get_positive_int("survey_reminder_days", reminder_days)
    base = settings.get("survey_base_url", base_url).strip().rstrip("/")
    inv = store.table("survey_invitations")
    due = inv.filter((inv.survey_id == survey.survey_id) & inv.sent_at.notnull() & inv.reminded_at.isnull()
                     & inv.answered_at.isnull() & inv.email.notnull() & (inv.expires_at > now)
                     & (inv.sent_at <= now - dt.timedelta(days=days)))
    df = due.select("invitation_id", "customer_id", "email", "language", "expires_at").order_by("invitation_id") \
        .execute()
    key = tokens.secret(store)
    return [Link(int(r.invitation_id), r.customer_id, r.email, r.language,
                 f"{base}/s/{tokens.make(key, int(r.invitation_id))}", r.expires_at.to_pydatetime())
            for r in df.itertuples(index=False)]


__all__ = ["Config", "Sent", "config", "due_reminders", "message", "send"]
