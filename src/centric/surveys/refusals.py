"""Every refused survey submission is counted: per survey, day (UTC) and reason, in ``survey_refusals``.

The intake counts its own refusals (``already``, ``expired``, ``closed``, ``paused``, ``unknown_invitation``
…) in the transaction of the batch that refused them; the form counts what it refuses before the intake
(a score off the scale, an unknown field, a comment too long, a forged link) with :func:`count`, which goes
with the intake's next batch when one runs for the hub (nothing waits for it), else straight to the store.

>>> from centric.store import Store
>>> with Store.open(":memory:") as store:
...     count(store, "SV001", "out_of_range")
...     count(store, "SV001", "out_of_range", 2)
...     count(store, None, "forged")
...     totals(store)
{'out_of_range': 3, 'forged': 1}
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ..store import Store

FORGED = "forged"  # a token that is malformed or not signed with the store's key (no survey known)


def count(hub_or_store, survey_id: str | None, reason: str, n: int = 1) -> None:
    """Count ``n`` refusals of ``reason`` for ``survey_id`` (None when the link was forged) today."""
    from .intake import _count_refusals, running

    intake = running(hub_or_store)
    if intake is not None:
        intake.count(survey_id, reason, n)
        return
    day = dt.datetime.now(dt.UTC).date()

    def write(store: Store) -> None:
        with store.transaction():
            _count_refusals(store, Counter({(survey_id, day, reason): n}))

    if isinstance(hub_or_store, Store):
        write(hub_or_store)
    else:  # a web app's hub without a running intake
        hub_or_store.write(write)


def totals(store: Store, survey_id: str | None = None, since: dt.date | None = None) -> dict[str, int]:
    """Refusals by reason (of one survey, and from a day on, when given), most frequent first."""
    t = store.table("survey_refusals")
    if survey_id is not None:
        t = t.filter(t.survey_id == survey_id)
    if since is not None:
        t = t.filter(t.day >= since)
    df = t.group_by("reason").aggregate(n=t["count"].sum()).execute()
    pairs = sorted(zip(df["reason"], df["n"], strict=True), key=lambda p: (-int(p[1]), p[0]))
    return {str(r): int(n) for r, n in pairs}


__all__ = ["FORGED", "count", "totals"]
