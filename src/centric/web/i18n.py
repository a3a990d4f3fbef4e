"""Languages of the pages: the user's choice, else the browser's, else English; one Jinja environment per
language with the report's catalogues and formatters."""

from __future__ import annotations

import functools
from urllib.parse import quote

import jinja2

LANGUAGES = ("en", "pl", "ru", "it")  # as the report's (centric.report.i18n.LANGUAGES)
LANGUAGE_NAMES = {"en": "English", "pl": "Polski", "ru": "Русский", "it": "Italiano"}


def choose(preferred: str | None, accept_language: str | None) -> str:
    """The page language: ``preferred`` (the user's setting or ``?lang=``) when known, else the first of
    en/pl/ru/it in the Accept-Language header (by its q-values), else en.

    >>> choose(None, "de-DE,de;q=0.9,pl;q=0.8,en;q=0.5")
    'pl'
    >>> choose("it", "pl"), choose(None, None)
    ('it', 'en')
    """
    if preferred in LANGUAGES:
        return preferred
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()[:2]))
    for _, _, tag in sorted(ranked):
        if tag in LANGUAGES:
            return tag
    return "en"


def url(path: str, **params) -> str:
    """A local URL with its query parameters quoted (those that are None are left out)."""
    query = "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in params.items() if v is not None)
    return path + ("?" + query if query else "")


@functools.cache
def templates(lang: str) -> jinja2.Environment:
    """The page templates' environment in ``lang``: autoescaped, strict about undefined names,
    ``_``/``gettext``/``ngettext`` from the report's catalogues, globals ``fmt``, ``url`` and ``allowed`` (the one permission check, to show only what the reader may do)."""
    from ..report.i18n import Formatter, translations  # imported on first use: the server starts sooner
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("centric.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    from .permissions import allowed

    env.globals.update(fmt=Formatter(lang), url=url, lang=lang, language_names=LANGUAGE_NAMES,
                       languages=LANGUAGES, allowed=allowed)
    env.filters["plain"] = plain
    return env


def plain(value: str | None) -> str:
    """A stored id as a person reads it: ``call_centre`` → ``Call centre`` (a department, a channel, a
    touchpoint); ``—`` for none."""
    text = (value or "").replace("_", " ")
    return text[:1].upper() + text[1:] if text else "—"
