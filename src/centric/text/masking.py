"""Personal data masked in a customer's words before they are quoted: e-mail addresses, phone numbers,
web addresses, long digit runs (card, account and order numbers) and the names the store knows for the
customer are replaced by a neutral mark, so that a quote shown in a report or a page does not say who
wrote it or how to reach them.

>>> mask_personal("Call me on +48 601 234 567 or write to jan.kowalski@example.com, Jan Kowalski",
...               names=["Jan Kowalski"])
'Call me on [phone] or write to [e-mail], [name]'
>>> mask_personal("Order 118877 came late; card 4111 1111 1111 1111, see www.example.com/x")
'Order 118877 came late; card [number], see [link]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# a card or account number: 13 or more digits, maybe in groups
_NUMBER = re.compile(r"(?<!\w)\d(?:[ -]?\d){12,}(?!\w)")
# a phone number: 9 to 12 digits, maybe after + or (, with the usual separators between them
_PHONE = re.compile(r"(?<![\w+(])[+(]?\d(?:[\s.()/-]{0,2}\d){8,11}(?!\w)")


def mask_personal(text: str, names: Iterable[str | None] = ()) -> str:
    """``text`` with e-mails, web addresses, card/account numbers, phone numbers and ``names`` (each
    whole name and each of its words of 3 letters or more, case-insensitively) replaced by
    ``[e-mail]``, ``[link]``, ``[number]``, ``[phone]`` and ``[name]``."""
    out = _EMAIL.sub("[e-mail]", text or "")
    out = _URL.sub("[link]", out)
    out = _NUMBER.sub("[number]", out)
    out = _PHONE.sub("[phone]", out)
    words: set[str] = set()
    for n in names:
        if not n or not isinstance(n, str):
            continue
        words.add(n.strip())
        words.update(w for w in re.split(r"[\s,.]+", n) if len(w) >= 3)
    for w in sorted(words, key=len, reverse=True):
        out = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", "[name]", out, flags=re.IGNORECASE)
    out = re.sub(r"\[name\](?:\s+\[name\])+", "[name]", out)
    return out


def _phrase(words: list[str]) -> str:
    return r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"


def mask_person(text: str, full_names: Iterable[str] = (), words: Iterable[str] = (),
                emails: Iterable[str] = ()) -> str:
    """``text`` with one person masked: each of ``full_names`` in either word order (any spacing, any case)
    and each of ``words`` alone by ``[name]``, each of ``emails`` by ``[e-mail]``. Unlike
    :func:`mask_personal`, a single word of a name is masked only when given in ``words``, so that a colleague
    who shares a first name keeps it.

    >>> mask_person("Anna  nowak served me; NOWAK Anna again; Anna Kowal too", ["Anna Nowak"])
    '[name] served me; [name] again; Anna Kowal too'
    >>> mask_person("ask Anna (anna.n@example.com)", words=["Anna"], emails=["Anna.N@example.com"])
    'ask [name] ([e-mail])'
    """
    out = text or ""
    for e in emails:
        if e:
            out = re.sub(rf"(?<![\w.+-]){re.escape(e.strip())}(?![\w-])", "[e-mail]", out, flags=re.IGNORECASE)
    patterns: list[str] = []
    for n in full_names:
        parts = (n or "").split()
        if parts:
            patterns += [_phrase(parts), _phrase(parts[::-1])]
    patterns += [_phrase([w]) for w in words if w and w.strip()]
    for p in sorted(set(patterns), key=len, reverse=True):
        out = re.sub(p, "[name]", out, flags=re.IGNORECASE)
    return out


def text_names(store, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """(source, text_id) → the names to mask in a quote of that text (``responses`` or ``feedback``): its
    customer's name and, for feedback, its author; three small reads by id, portable to every engine."""
    keys = list(dict.fromkeys(keys))
    out: dict[tuple[str, str], list[str]] = {k: [] for k in keys}
    customer_of: dict[tuple[str, str], str] = {}
    for source, key, extra in (("responses", "response_id", ()), ("feedback", "feedback_id", ("author",))):
        ids = [tid for src, tid in keys if src == source]
        if not ids:
            continue
        t = store.table(source)
        for r in t.filter(t[key].isin(ids)).select(key, "customer_id", *extra).execute().itertuples(index=False):
            k = (source, r[0])
            if isinstance(r[1], str):
                customer_of[k] = r[1]
            if extra and isinstance(r[2], str):
                out[k].append(r[2])
    if customer_of:
        c = store.table("customers")
        cids = sorted(set(customer_of.values()))
        names = {r[0]: r[1] for r in c.filter(c.customer_id.isin(cids)).select("customer_id", "name").execute()
                 .itertuples(index=False) if isinstance(r[1], str)}
        for k, cid in customer_of.items():
            if cid in names:
                out[k].insert(0, names[cid])
    return out
