"""What a survey is: the main question (NPS, CSAT or CES), a comment, optional extra questions, texts in
the customer's language and the company's branding. Plain frozen dataclasses; ``definition.py`` builds
them from a TOML file or a dict and checks every field, ``repo.py`` keeps them in the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from ..errors import CentricError
from ..schema import SURVEY_KINDS, SURVEY_STATUSES

KINDS = SURVEY_KINDS
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
LANGUAGES = ("en", "pl", "ru", "it")
STATUSES = SURVEY_STATUSES
QUESTION_TYPES = ("choice", "rating", "text")
AUDIENCES = ("customers", "employees")
PERIODS = ("month", "quarter")  # an employee survey's period: what its answers keep instead of a time


class SurveyError(CentricError):
    """A survey definition, an invitation file or a survey operation that is not valid; the message names
    the file (or argument), the row or key, and what is expected."""


@dataclass(frozen=True)
class SurveyTexts:
    """The texts of a survey in one language (defaults per kind and language fill what is not given)."""

    title: str
    intro: str
    question: str
    low: str  # label of the lowest score
    high: str  # label of the highest score
    comment: str
    submit: str
    thanks: str
    email_subject: str
    email_intro: str
    reminder_subject: str


TEXT_FIELDS = tuple(f.name for f in dataclasses.fields(SurveyTexts))


@dataclass(frozen=True)
class Option:
    id: str
    labels: dict[str, str]

    def label(self, language: str) -> str:
        return self.labels.get(language) or next(iter(self.labels.values()))


@dataclass(frozen=True)
class Question:
    """An extra question: ``choice`` (one of ``options``), ``rating`` (a whole number within ``scale``) or
    ``text``. Its form field is ``q_<id>``."""

    id: str
    type: str
    labels: dict[str, str]
    options: tuple[Option, ...] = ()
    scale: tuple[int, int] | None = None
    required: bool = False

    def label(self, language: str) -> str:
        return self.labels.get(language) or next(iter(self.labels.values()))

    @property
    def field(self) -> str:
        return f"q_{self.id}"


@dataclass(frozen=True)
class Branding:
    company: str = ""
    logo: str | None = None  # a data: URI (PNG, SVG or JPEG)
    primary: str = "#1f5fa8"  # buttons, the chosen score
    background: str = "#ffffff"
    text: str = "#1a1a1a"


@dataclass(frozen=True)
class Survey:
    slug: str
    name: str
    kind: str
    texts: dict[str, SurveyTexts]
    touchpoint: str | None = None
    channel: str | None = None
    questions: tuple[Question, ...] = ()
    branding: Branding = field(default_factory=Branding)
    default_language: str = "en"
    anonymous: bool = False
    audience: str = "customers"  # employees: an eNPS or pulse survey, answered anonymously (centric.enps)
    period: str | None = None  # employee surveys: month or quarter
    status: str = "active"
    survey_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def scale(self) -> tuple[int, int]:
        """The main question's scale: NPS 0–10, CSAT 1–5, CES 1–7."""
        return SCALES[self.kind]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def language_for(self, language: str | None) -> str:
        """``language`` when the survey has texts in it, else the survey's default language."""
        lang = (language or "").strip().lower()[:2]
        return lang if lang in self.texts else self.default_language

    def text(self, language: str | None = None) -> SurveyTexts:
        return self.texts[self.language_for(language)]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_dict(self) -> dict:
        """The definition as a dict (what the store keeps as JSON and ``definition.from_dict`` reads back);
        the status and the store's id and times are columns of their own."""
        d: dict = {"slug": self.slug, "name": self.name, "kind": self.kind}
        if self.touchpoint:
            d["touchpoint"] = self.touchpoint
        if self.channel:
            d["channel"] = self.channel
        d["anonymous"] = self.anonymous
        if self.audience != "customers":
            d["audience"] = self.audience
            d["period"] = self.period
        d["default_language"] = self.default_language
        d["languages"] = list(self.texts)
        d["texts"] = {lang: dataclasses.asdict(t) for lang, t in self.texts.items()}
        d["branding"] = {k: v for k, v in dataclasses.asdict(self.branding).items() if v is not None}
        qs = []
        for q in self.questions:
            qd: dict = {"id": q.id, "type": q.type, "label": dict(q.labels), "required": q.required}
            if q.options:
                qd["options"] = [{"id": o.id, "label": dict(o.labels)} for o in q.options]
            if q.scale:
                qd["scale"] = list(q.scale)
            qs.append(qd)
        d["questions"] = qs
        return d
