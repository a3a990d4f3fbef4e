"""What a survey form sends, checked before anything is stored: ``validate(survey, fields, language)`` turns
the form's fields into an :class:`Answer` or raises :class:`AnswerError` naming the field, a reason code (for
the page's message and the refusal count) and a message.

The form's fields: ``score`` (required, a whole number on the survey's scale), ``comment`` (at most
``survey_comment_max`` characters), ``q_<id>`` for the extra questions (a choice among the question's
options, a rating on its scale, or a text as long as a comment), and the form's own ``t``, ``lang``,
``website`` (the honeypot) and ``embed``. Any other field is refused: a form that sends what no survey asks
for is not the survey's form. A field sent twice is refused too.

>>> from centric.surveys import from_dict
>>> s = from_dict({"slug": "after-delivery", "name": "After delivery", "kind": "nps",
...                "branding": {"company": "Shop"}})
>>> validate(s, {"score": "9", "comment": " Fast. "}, "en")
Answer(score=9, comment='Fast.', extras={}, language='en', comment_sent=True)
>>> validate(s, {"score": "11"}, "en")
Traceback (most recent call last):
...
centric.surveys.answers.AnswerError: score: 11 is not on the scale 0–10
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import settings
from ..errors import CentricError
from .model import Survey

FORM_FIELDS = ("score", "comment", "t", "lang", "website", "embed")
COMMENT_FIELDS = ("comment", "lang", "embed")
CONTACT_CHANNELS = ("email", "phone", "chat")
CONTACT_TIMES = ("any", "morning", "afternoon", "evening")
CONTACT_FIELDS = ("channel", "time", "lang", "embed")
_WHOLE = re.compile(r"^[+-]?\d{1,6}$")

# reason codes (the page's message and the refusal count name them)
MISSING = "missing"
NOT_WHOLE = "not_whole"
OUT_OF_RANGE = "out_of_range"
TOO_LONG = "too_long"
NOT_AN_OPTION = "not_an_option"
UNKNOWN_FIELD = "unknown_field"
REPEATED = "repeated"
BAD_CHARACTER = "bad_character"
REASONS = (MISSING, NOT_WHOLE, OUT_OF_RANGE, TOO_LONG, NOT_AN_OPTION, UNKNOWN_FIELD, REPEATED, BAD_CHARACTER)


class AnswerError(CentricError):
    """A field of a survey form that cannot be taken: ``field`` (the form's name of it), ``reason`` (one of
    ``REASONS``) and the message."""

    def __init__(self, field_name: str, reason: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Answer:
    """A checked answer: the main score, the comment (None when empty or not sent), the extra questions'
    answers by question id, the language of the answer, and whether a ``comment`` field was sent at all (a
    score-only answer may get its comment later)."""

    score: int | None
    comment: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    language: str = "en"
    comment_sent: bool = False


def comment_max() -> int:
    return settings.get_positive_int("survey_comment_max")


def _values(fields: Mapping[str, str], name: str) -> list[str]:
    getlist = getattr(fields, "getlist", None)
    if getlist is not None:
        return [v for v in getlist(name) if isinstance(v, str)]
    v = fields.get(name)
    return [v] if isinstance(v, str) else []


def _one(fields: Mapping[str, str], name: str) -> str | None:
    """The field's value (None when absent); a field sent twice is refused."""
    values = _values(fields, name)
    if len(values) > 1:
        raise AnswerError(name, REPEATED, "sent more than once")
    if name in fields and not values:  # a file upload or another non-text part
        raise AnswerError(name, UNKNOWN_FIELD, "expected text")
    return values[0] if values else None


def _whole(name: str, raw: str | None, scale: tuple[int, int], required: bool) -> int | None:
    text = (raw or "").strip()
    if not text:
        if required:
            raise AnswerError(name, MISSING, "choose a score")
        return None
    if not _WHOLE.match(text):
        raise AnswerError(name, NOT_WHOLE, f"{text[:20]!r} is not a whole number")
    value = int(text)
    lo, hi = scale
    if not lo <= value <= hi:
        raise AnswerError(name, OUT_OF_RANGE, f"{value} is not on the scale {lo}–{hi}")
    return value


def _text(name: str, raw: str | None, limit: int) -> str | None:
    if raw is None:
        return None
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        raise AnswerError(name, BAD_CHARACTER, "a NUL character is not allowed")
    if len(text) > limit:
        raise AnswerError(name, TOO_LONG, f"{len(text):,} characters; at most {limit:,}")
    return text or None


def _no_others(fields: Mapping[str, str], allowed: set[str]) -> None:
    for name in fields:
        if name not in allowed:
            raise AnswerError(name[:40], UNKNOWN_FIELD, "this form has no such field")


def validate(survey: Survey, fields: Mapping[str, str], language: str | None = None,
             limit: int | None = None) -> Answer:
    """The answer in ``fields`` (a form's fields) to ``survey``; ``language``: the invitation's (the form's
    ``lang`` field, when the survey has texts in it, wins); ``limit``: the longest text (default: the
    ``survey_comment_max`` setting, read on each call)."""
    extras_by_field = {q.field: q for q in survey.questions}
    _no_others(fields, set(FORM_FIELDS) | set(extras_by_field))
    if limit is None:
        limit = comment_max()
    score = _whole("score", _one(fields, "score"), survey.scale, required=True)
    raw_comment = _one(fields, "comment")
    comment = _text("comment", raw_comment, limit)
    extras: dict[str, str] = {}
    for name, q in extras_by_field.items():
        raw = _one(fields, name)
        if q.type == "choice":
            value = (raw or "").strip()
            if value and value not in {o.id for o in q.options}:
                raise AnswerError(name, NOT_AN_OPTION, f"{value[:40]!r} is not one of the options")
        elif q.type == "rating":
            rating = _whole(name, raw, q.scale or (1, 5), required=False)
            value = "" if rating is None else str(rating)
        else:
            value = _text(name, raw, limit) or ""
        if not value:
            if q.required:
                raise AnswerError(name, MISSING, "this question needs an answer")
            continue
        extras[q.id] = value
    lang = survey.language_for(_one(fields, "lang") or language)
    return Answer(score, comment, extras, lang, raw_comment is not None)


def validate_comment(fields: Mapping[str, str], language: str = "en") -> Answer:
    """A comment sent after a score-only answer (``POST /s/TOKEN/comment``): only ``comment`` (required)."""
    _no_others(fields, set(COMMENT_FIELDS))
    comment = _text("comment", _one(fields, "comment"), comment_max())
    if comment is None:
        raise AnswerError("comment", MISSING, "write a comment")
    return Answer(None, comment, {}, (_one(fields, "lang") or language)[:2], True)


def validate_contact(fields: Mapping[str, str], language: str = "en") -> Answer:
    """The "contact me" wish after a low score (``POST /s/TOKEN/contact``): ``channel`` (email, phone or
    chat; required) and ``time`` (any, morning, afternoon or evening; default any), kept as the answer's
    extra ``contact_me`` = ``channel:time``."""
    _no_others(fields, set(CONTACT_FIELDS))
    channel = (_one(fields, "channel") or "").strip()
    if not channel:
        raise AnswerError("channel", MISSING, "choose how to be contacted")
    if channel not in CONTACT_CHANNELS:
        raise AnswerError("channel", NOT_AN_OPTION, f"{channel[:40]!r} is not one of {', '.join(CONTACT_CHANNELS)}")
    time = (_one(fields, "time") or "any").strip() or "any"
    if time not in CONTACT_TIMES:
        raise AnswerError("time", NOT_AN_OPTION, f"{time[:40]!r} is not one of {', '.join(CONTACT_TIMES)}")
    return Answer(None, None, {"contact_me": f"{channel}:{time}"}, (_one(fields, "lang") or language)[:2])


__all__ = ["Answer", "AnswerError", "REASONS", "validate", "validate_comment", "validate_contact"]
