"""Telling an idea's author what became of it: each status change's answer is e-mailed when a mail server is set
(the surveys' settings ``smtp_*``, the password from ``CENTRIC_SMTP_PASSWORD``) and the author has an address —
the one given on the public idea page, the customer's newest e-mail in ``identities`` or the employee's sign-in
address; the answer is always on the idea's page. How it went is kept with the change (``notified``: emailed, or
no_mail_server, no_address, mail_failed), the address masked."""

from __future__ import annotations

import datetime as dt
import html
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .. import settings
from ..store import Store

log = logging.getLogger("centric.ideas")


def address_of(store: Store, idea: dict) -> str | None:
    """Where the idea's author is reached: the address given with it, the customer's, or the employee's."""
    if idea.get("author_email"):
        return idea["author_email"]
    if idea.get("customer_id"):
        from ..cases.confirmation import email_of

        got = email_of(store, idea["customer_id"])
        if got:
            return got
    if idea.get("user_id"):
        row = store.execute("SELECT email FROM users WHERE user_id = ?", [idea["user_id"]]).fetchone()
        return row[0] if row else None
    return None


def idea_url(idea_id: str, public: bool) -> str:
    base = settings.get("survey_base_url").rstrip("/")
    return f"{base}/ideas/{idea_id}" if not public else base


def message(idea: dict, status: str, answer: str, sender: str, to: str) -> EmailMessage:
    """The answer's e-mail in the idea's language (plain text and HTML)."""
    from ..report.i18n import translations

    lang = idea.get("language") if idea.get("language") in ("en", "pl", "ru", "it") else "en"
    _ = translations(lang).gettext
    from .labels import status_names

    subject = _("Your idea: %(title)s") % {"title": idea.get("title") or idea["idea_id"]}
    line = _("Its status is now: %(status)s.") % {"status": status_names(lang)[status]}
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = lang
    thanks = _("Thank you for your idea.")
    msg.set_content("\n\n".join([thanks, line, answer]) + "\n")
    e = html.escape
    msg.add_alternative(f'<!doctype html><html lang="{lang}"><body style="font-family:sans-serif;color:#1a1a1a">'
                        f"<p>{e(thanks)}</p><p><strong>{e(line)}</strong></p><p>{e(answer)}</p></body></html>",
                        subtype="html")
    return msg


def notify(store: Store, idea_id: str, changed_at: dt.datetime) -> str:
    """E-mail the answer of the change made at ``changed_at`` when possible; record and return how it went."""
    from ..cases.confirmation import mask
    from ..surveys import mailer
    from ..surveys.model import SurveyError
    from .box import require

    idea = require(store, idea_id)
    change = store.execute("SELECT to_status, answer FROM idea_status_changes WHERE idea_id = ? AND changed_at = ?",
                           [idea_id, changed_at]).fetchone()
    if change is None:
        return "no_change"
    address = address_of(store, idea)
    to = None
    if not settings.get("smtp_host").strip():
        how = "no_mail_server"
    elif not address:
        how = "no_address"
    else:
        try:
            cfg = mailer.config()
            with mailer.connection(cfg) as server:
                server.send_message(message(idea, change[0], change[1], cfg.sender, address))
            how, to = "emailed", mask(address)
        except (SurveyError, OSError, smtplib.SMTPException) as e:
            log.error("idea %s: the answer could not be e-mailed: %s", idea_id, type(e).__name__)
            how = "mail_failed"
    with store.transaction():
        store.execute("UPDATE idea_status_changes SET notified = ?, notified_to = ? WHERE idea_id = ? AND changed_at = ?",
                      [how, to, idea_id, changed_at])
    return how
