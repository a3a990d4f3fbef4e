"""Asking the customer "Was it solved?" by e-mail when a case is resolved.

The one-time link (:mod:`centric.cases.tokens`) goes to the customer's e-mail address — the newest one
``identities`` knows for them — in their language, with the two answers as links that open the answer page
with the answer chosen (opening stores nothing, so a mail scanner that follows them uses nothing up; the
customer sends it with one click). The mail server is the one the surveys use (settings ``smtp_*``, the
password from ``CENTRIC_SMTP_PASSWORD``); the link starts with ``survey_base_url``, where customers reach
``centric serve``.

Without a mail server, or without an address, nothing is sent and the caller shows the link to the person
who resolved the case, once, to give to the customer another way.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .. import settings
from ..store import Store
from . import tokens

log = logging.getLogger("centric.cases")


@dataclass(frozen=True)
class Asked:
    """How the question reached the customer: ``emailed`` to ``address`` (masked), or not, with ``url`` to
    give them and ``why`` it was not e-mailed."""

    url: str
    emailed: bool
    address: str | None = None
    why: str | None = None


def url(token: str) -> str:
    """The customer's answer page: ``survey_base_url`` + ``/solved/TOKEN``."""
    return settings.get("survey_base_url").rstrip("/") + tokens.link(token)


def email_of(store: Store, customer_id: str | None) -> str | None:
    """The customer's newest e-mail address in ``identities`` (None when none is known)."""
    if not customer_id:
        return None
    t = store.table("identities")
    got = (t.filter((t.customer_id == customer_id) & (t.kind == "email"))
           .order_by([t.first_seen_at.desc(), t.value]).select("value").limit(1).execute())
    return str(got["value"].iloc[0]) if len(got) else None


def mask(address: str) -> str:
    """``anna.kowalska@example.com`` → ``a…@example.com`` (what a page may show of it)."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def message(case_id: str, link: str, language: str, expires_at: dt.datetime, sender: str, to: str) -> EmailMessage:
    """The question's e-mail in ``language`` (plain text and HTML; customer-facing words from
    :data:`centric.cases.tokens.LABELS`)."""
    from babel.dates import format_date

    words = tokens.labels(language)
    lang = language if language in tokens.LABELS else "en"
    personal = words["personal"].format(date=format_date(expires_at.date(), format="long", locale=lang))
    intro = words["intro"].format(case=case_id)
    yes, no = f"{link}?solved=yes", f"{link}?solved=no"
    msg = EmailMessage()
    msg["Subject"] = words["subject"]
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n\n".join([intro, f"{words['yes']}: {yes}", f"{words['no']}: {no}", personal]) + "\n")
    e = html.escape
    button = ('<a href="{href}" style="display:inline-block;margin:4px 8px 4px 0;padding:10px 14px;border:1px solid '
              '#1f4e79;border-radius:4px;color:#1f4e79;text-decoration:none;font-weight:bold">{label}</a>')
    msg.add_alternative(
        f'<!doctype html><html lang="{lang}"><body style="font-family:sans-serif;color:#1a1a1a">'
        f"<p>{e(intro)}</p><p>{button.format(href=e(yes), label=e(words['yes']))}"
        f"{button.format(href=e(no), label=e(words['no']))}</p>"
        f'<p style="font-size:90%;color:#555">{e(personal)}</p></body></html>', subtype="html")
    msg["Content-Language"] = lang
    return msg


def ask(store: Store, case_id: str, token: str) -> Asked:
    """E-mail the question of ``token`` (just made by :func:`centric.cases.workflow.resolve`) to the case's
    customer when a mail server is set and an address is known; otherwise say why not. A failing server is
    said (its error's kind only), never raised: the case stays resolved and the link can still be given."""
    from ..surveys import mailer
    from ..surveys.model import SurveyError

    link = url(token)
    row = store.execute(
        "SELECT c.customer_id, t.language, t.expires_at FROM cases c JOIN case_tokens t ON t.case_id = c.case_id "
        "WHERE c.case_id = ? AND t.token_hash = ?", [case_id, tokens.hash_token(token)]).fetchone()
    if row is None:
        return Asked(link, False, why="no_token")
    customer_id, language, expires_at = row
    if not settings.get("smtp_host").strip():
        return Asked(link, False, why="no_mail_server")
    address = email_of(store, customer_id)
    if address is None:
        return Asked(link, False, why="no_address")
    try:
        cfg = mailer.config()
        with mailer.connection(cfg) as server:
            server.send_message(message(case_id, link, language or "en", expires_at, cfg.sender, address))
    except (SurveyError, OSError, smtplib.SMTPException) as e:
        log.error("case %s: the question could not be e-mailed: %s", case_id, type(e).__name__)
        return Asked(link, False, why="mail_failed")
    return Asked(link, True, address=mask(address))
