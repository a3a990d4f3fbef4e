"""The words of the ideas' statuses and authors in a language (the report's catalogues, with the contexts
``idea status`` and ``idea author``: "new" of an idea is not the "new" of customers)."""

from __future__ import annotations

from ..schema import IDEA_AUTHORS, IDEA_STATUSES

STATUS_WORDS = {"new": "new", "under_review": "under review", "planned": "planned", "done": "done",
                "declined": "declined"}


def status_names(lang: str) -> dict[str, str]:
    """status → its name in ``lang``."""
    from ..report.i18n import translations

    t = translations(lang)
    return {s: t.pgettext("idea status", STATUS_WORDS[s]) for s in IDEA_STATUSES}


def kind_names(lang: str) -> dict[str, str]:
    """author kind (customer, employee) → its name in ``lang``."""
    from ..report.i18n import translations

    t = translations(lang)
    return {k: t.pgettext("idea author", k) for k in IDEA_AUTHORS}
