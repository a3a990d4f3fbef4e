"""The customer's one-time "Was it solved?" link.

When a case is resolved the customer gets a link ``/solved/<token>``: the token is random
(:func:`secrets.token_urlsafe`), only its SHA-256 is stored (``case_tokens.token_hash``), so a copy of
the store cannot be used to answer for the customer. A token answers once and expires after the
setting ``cases_token_days``.

:data:`LABELS` holds the question and its answers in the customer's language (en, pl, ru, it), for the
page that shows it:

>>> labels("pl")["question"]
'Czy Twoja sprawa została rozwiązana?'
>>> hash_token("abc") == hash_token("abc") != hash_token("abd")
True
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["LABELS", "LINK_PREFIX", "check_token", "hash_token", "labels", "link", "make_token"]

LINK_PREFIX = "/solved/"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "question": "Has your problem been solved?",
        "yes": "Yes, it is solved",
        "no": "No, it is not solved",
        "csat": "How would you rate the way we handled it?",
        "csat_low": "very poor",
        "csat_high": "excellent",
        "ces": "How easy was it to get it solved?",
        "ces_low": "very difficult",
        "ces_high": "very easy",
        "comment": "Is there anything you would like to add?",
        "send": "Send",
        "thanks": "Thank you for your answer.",
        "reopened": "We are sorry. Your case is open again and we are on it.",
        "subject": "Was your problem solved?",
        "intro": "We have dealt with your case {case}. Please tell us whether your problem is solved — one click is enough:",
        "personal": "This link is yours alone and works once, until {date}.",
    },
    "pl": {
        "question": "Czy Twoja sprawa została rozwiązana?",
        "yes": "Tak, sprawa jest rozwiązana",
        "no": "Nie, sprawa nie jest rozwiązana",
        "csat": "Jak oceniasz sposób, w jaki zajęliśmy się Twoją sprawą?",
        "csat_low": "bardzo źle",
        "csat_high": "bardzo dobrze",
        "ces": "Jak łatwo było załatwić Twoją sprawę?",
        "ces_low": "bardzo trudno",
        "ces_high": "bardzo łatwo",
        "comment": "Czy chcesz coś dodać?",
        "send": "Wyślij",
        "thanks": "Dziękujemy za odpowiedź.",
        "reopened": "Przykro nam. Wróciliśmy do Twojej sprawy i zajmujemy się nią.",
        "subject": "Czy Twoja sprawa została rozwiązana?",
        "intro": "Zajęliśmy się Twoją sprawą {case}. Daj nam znać, czy problem został rozwiązany — wystarczy jedno kliknięcie:",
        "personal": "Ten link jest tylko dla Ciebie i działa raz, do {date}.",
    },
    "ru": {
        "question": "Ваш вопрос решён?",
        "yes": "Да, решён",
        "no": "Нет, не решён",
        "csat": "Как вы оцениваете то, как мы занимались вашим вопросом?",
        "csat_low": "очень плохо",
        "csat_high": "отлично",
        "ces": "Насколько легко было решить ваш вопрос?",
        "ces_low": "очень трудно",
        "ces_high": "очень легко",
        "comment": "Хотите что-нибудь добавить?",
        "send": "Отправить",
        "thanks": "Спасибо за ответ!",
        "reopened": "Нам очень жаль. Мы снова занимаемся вашим вопросом.",
        "subject": "Ваш вопрос решён?",
        "intro": "Мы занимались вашим обращением {case}. Сообщите нам, пожалуйста, решён ли ваш вопрос — достаточно одного нажатия:",
        "personal": "Эта ссылка предназначена только для вас и действует один раз, до {date}.",
    },
    "it": {
        "question": "Il suo problema è stato risolto?",
        "yes": "Sì, è stato risolto",
        "no": "No, non è stato risolto",
        "csat": "Come valuta il modo in cui abbiamo gestito la sua richiesta?",
        "csat_low": "pessimo",
        "csat_high": "ottimo",
        "ces": "Quanto è stato facile risolvere il problema?",
        "ces_low": "molto difficile",
        "ces_high": "molto facile",
        "comment": "Vuole aggiungere qualcosa?",
        "send": "Invia",
        "thanks": "Grazie per la sua risposta.",
        "reopened": "Ci dispiace. Abbiamo riaperto la sua pratica e ce ne stiamo occupando.",
        "subject": "Il suo problema è stato risolto?",
        "intro": "Ci siamo occupati della sua pratica {case}. Ci dica se il problema è stato risolto: basta un clic.",
        "personal": "Questo link è solo suo, vale una volta e fino al {date}.",
    },
}


def labels(language: str | None) -> dict[str, str]:
    """The question's texts in ``language`` (its first two letters; English when not one of ours)."""
    return LABELS.get((language or "en")[:2].lower(), LABELS["en"])


def make_token() -> tuple[str, str]:
    """A new token and its hash: the token goes to the customer, the hash into the store."""
    token = secrets.token_urlsafe(24)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The SHA-256 of ``token`` as hex (how the store keeps it)."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def link(token: str) -> str:
    """The path of the customer's answer page."""
    return LINK_PREFIX + token


def check_token(store, token: str, now) -> dict:
    """The ``case_tokens`` row of ``token`` if it may still answer at ``now``; :class:`CaseError` when it
    is unknown, already used or expired."""
    from ..errors import CaseError

    rows = store.con.execute(
        "SELECT token_hash, case_id, language, created_at, expires_at, used_at FROM case_tokens "
        "WHERE token_hash = ?", [hash_token(token or "")]).fetchall()
    if not rows:
        raise CaseError("this link is not known: check that it was copied whole")
    row = dict(zip(("token_hash", "case_id", "language", "created_at", "expires_at", "used_at"), rows[0],
                   strict=True))
    if row["used_at"] is not None:
        raise CaseError(f"this link was already used (on {row['used_at']:%Y-%m-%d %H:%M} UTC); it answers once")
    if row["expires_at"] is not None and now >= row["expires_at"]:
        raise CaseError(f"this link expired on {row['expires_at']:%Y-%m-%d %H:%M} UTC")
    return row
