"""The words of the ideas' statuses and authors in the page's language (the report's catalogues)."""

from __future__ import annotations

from collections.abc import Callable


def status_label(status: str, _: Callable[[str], str]) -> str:
    return {"new": _("new"), "under_review": _("under review"), "planned": _("planned"), "done": _("done"),
            "declined": _("declined")}.get(status, status)


def kind_label(kind: str, _: Callable[[str], str]) -> str:
    return {"customer": _("customer"), "employee": _("employee")}.get(kind, kind)
