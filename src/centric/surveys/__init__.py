"""Surveys centric collects itself: definitions (NPS, CSAT or CES, a comment, extra questions, texts in four
languages, branding), signed single-use invitation links, e-mail, and response rates and trends.

The answers go to the ``responses`` table like imported ones (``survey`` = the survey's slug), so every
metric, the text pipeline and the closed loop see them. See docs/surveys.md.
"""

from __future__ import annotations

from . import definition, repo, tokens
from .definition import from_dict, load_toml
from .model import (
    KINDS,
    LANGUAGES,
    SCALES,
    STATUSES,
    Branding,
    Option,
    Question,
    Survey,
    SurveyError,
    SurveyTexts,
)
from .tokens import secret

__all__ = [
    "KINDS", "LANGUAGES", "SCALES", "STATUSES", "Branding", "Option", "Question", "Survey", "SurveyError",
    "SurveyTexts", "definition", "from_dict", "load_toml", "repo", "secret", "tokens",
]
