"""Languages of the report and the web app: gettext catalogues (``locale/LANG/LC_MESSAGES/centric.po``,
English is the source language) and locale-aware numbers and dates (Babel)."""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import math
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from ..errors import CentricError

LANGUAGES = ("en", "pl", "ru", "it")
LOCALE_DIR = Path(__file__).parent / "locale"


@functools.lru_cache(maxsize=8)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang``, compiled from its .po file in memory."""
    if lang not in LANGUAGES:
        raise CentricError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    if lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "centric.po", encoding="utf-8") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Formatter:
    """Numbers, percentages and dates written the way readers of ``lang`` expect."""

    def __init__(self, lang: str):
        self.lang = lang
        self.locale = Locale.parse(lang)
        self.gettext = translations(lang).gettext

    def num(self, v: float | int | None, digits: int = 0, sign: bool = False) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "—"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        s = format_decimal(v, format=fmt, locale=self.locale)
        if sign and v > 0:
            s = "+" + s
        return s.replace("-", "−")

    def pct(self, v: float | None, digits: int = 1) -> str:
        return "—" if v is None else self.num(v, digits) + "\u00a0%"

    def date(self, d: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
        if fmt == "medium" and self.lang == "ru":  # CLDR's "31 окт. 2026 г." ends in a full stop, and a sentence
            fmt = "d MMM y"                        # ending with a date then ended in two ("… 2026 г..")
        return "—" if d is None else format_date(d, format=fmt, locale=self.locale)

    def datetime(self, d: dt.datetime | None) -> str:
        return "—" if d is None else format_datetime(d, format="medium", locale=self.locale)

    def period(self, label: str) -> str:
        """2025-03 → 'Mar 25' (in the language), 2025-Q1 stays, 2025-W09 stays."""
        if len(label) == 7 and label[4] == "-" and label[5:].isdigit():
            return format_date(dt.date(int(label[:4]), int(label[5:]), 1), format="LLL yy", locale=self.locale)
        return label
