"""Personal data is deletable: ``forget`` erases one customer.

What goes: the customer's row, every identity (e-mail, phone, handle, crm id, card), the merges that
name them, the free text they wrote or that was written about them (survey comments, feedback texts,
titles, authors and links, case summaries and case notes), their purchase-rhythm scores
(``customer_scores``), and every rejected row whose raw values name them: an e-mail, handle, id or
card; a phone however written (its last nine digits among a field's digits); their full name in either
order; or one of their own texts (20 characters or more). What stays, unlinked (``customer_id`` set to
NULL): orders, survey answers, events and cases, so that totals and trends do not change. The erasure
is recorded in ``erasures`` without personal data. Everything happens in one transaction.

DuckDB reuses the blocks it frees but does not wipe them: the erased bytes stay in the file until it
is rewritten by ``centric.store.compact`` (``centric compact``, ``customers forget --compact``).

The source systems must erase the person too: loading a new export that names them creates a new
customer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from .errors import CentricError
from .ingest.transform import normalize_phone
from .store import Store

ERASED = "[erased]"


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    identities_removed: int
    rows_anonymised: int
    rejected_rows_removed: int


def find_customer(store: Store, who: str, default_country: str = "PL") -> str:
    """The customer id named by ``who``: a customer id (C0000042), an e-mail, a phone number, a handle,
    a crm id or a loyalty card."""
    who = who.strip()
    if re.fullmatch(r"C\d{7,}", who) and store.con.execute(
            "SELECT count(*) FROM customers WHERE customer_id = ?", [who]).fetchall()[0][0]:
        return who
    candidates = {who, who.lower(), who.lower().lstrip("@"), re.sub(r"[\s-]+", "", who).upper()}
    phone = normalize_phone(who, default_country)
    if phone:
        candidates.add(phone)
    found = store.con.execute(
        f"SELECT DISTINCT customer_id FROM identities WHERE value IN ({', '.join('?' * len(candidates))})",
        sorted(candidates)).fetchall()
    if not found:
        raise CentricError(f"no customer is known by {who!r}")
    if len(found) > 1:
        raise CentricError(f"{who!r} names {len(found)} customers ({', '.join(r[0] for r in found)}); "
                           "give a customer id")
    return found[0][0]


def forget(store: Store, who: str, default_country: str = "PL") -> Erasure:
    """Erase one customer's personal data (see the module docstring)."""
    cid = find_customer(store, who, default_country)
    con = store.con
    ids = con.execute("SELECT kind, value FROM identities WHERE customer_id = ?", [cid]).fetchall()
    values = [v for _, v in ids]
    traces = _traces(store, cid, ids)
    with store.transaction():
        touched = 0
        touched += _update(con, "UPDATE responses SET comment = NULL, customer_id = NULL WHERE customer_id = ?", cid)
        touched += _update(con, f"UPDATE feedback SET text = '{ERASED}', title = NULL, author = NULL, url = NULL, "
                                "customer_id = NULL WHERE customer_id = ?", cid)
        con.execute("UPDATE case_events SET note = NULL WHERE case_id IN "
                    "(SELECT case_id FROM cases WHERE customer_id = ?)", [cid])
        touched += _update(con, "UPDATE cases SET summary = NULL, customer_id = NULL WHERE customer_id = ?", cid)
        touched += _update(con, "UPDATE orders SET customer_id = NULL WHERE customer_id = ?", cid)
        touched += _update(con, "UPDATE events SET customer_id = NULL WHERE customer_id = ?", cid)
        removed = _forget_rejected(con, traces)
        con.execute("DELETE FROM customer_merges WHERE merged_customer_id = ? OR into_customer_id = ?", [cid, cid])
        con.execute("DELETE FROM customer_scores WHERE customer_id = ?", [cid])
        con.execute("DELETE FROM identities WHERE customer_id = ?", [cid])
        con.execute("DELETE FROM customers WHERE customer_id = ?", [cid])
        result = Erasure(cid, len(values), touched, removed)
        con.execute("INSERT INTO erasures VALUES (?, ?, ?, ?, ?)",
                    [cid, dt.datetime.now(dt.UTC).replace(tzinfo=None), len(values), touched, removed])
    return result


MIN_TEXT = 20  # a free text shorter than this ("ok", "thanks") does not identify anyone


@dataclass
class _Traces:
    """What identifies the customer in a rejected row's raw values, normalised (``_norm``)."""

    whole: set[str]  # a field equal to one: e-mails, handles, ids, cards
    inside: set[str]  # a field containing one: e-mails, @handles, full names, their texts
    phones: set[str]  # a field whose digits contain one: the last nine digits of each phone
    texts: set[str]  # a long field contained in one of their texts (a comment cut short)

    def match(self, value: object) -> bool:
        if value is None or isinstance(value, bool):
            return False
        raw = str(value)
        v = _norm(raw)
        if not v:
            return False
        if v in self.whole or any(t in v for t in self.inside):
            return True
        digits = re.sub(r"\D", "", raw)
        if len(digits) >= 6 and any(p in digits for p in self.phones):
            return True
        return len(v) >= MIN_TEXT and any(v in t for t in self.texts)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _traces(store: Store, cid: str, ids: list[tuple[str, str]]) -> _Traces:
    con = store.con
    t = _Traces(set(), set(), set(), set())
    for kind, value in ids:
        v = _norm(value)
        t.whole.add(v)
        if kind == "email":
            t.inside.add(v)
        elif kind == "handle":
            t.whole.add("@" + v)
            t.inside.add("@" + v)
        elif kind == "phone":
            digits = re.sub(r"\D", "", value)
            t.phones.add(digits[-9:] if len(digits) >= 9 else digits)
    for (name,) in con.execute("SELECT name FROM customers WHERE customer_id = ? AND name IS NOT NULL", [cid]).fetchall():
        words = _norm(name).split()
        if len(words) >= 2:  # a full name, in either order; one word alone ("Anna") names too many people
            t.inside.update({" ".join(words), " ".join(reversed(words))})
    texts = con.execute("""
        SELECT comment FROM responses WHERE customer_id = ?
        UNION ALL SELECT text FROM feedback WHERE customer_id = ?
        UNION ALL SELECT title FROM feedback WHERE customer_id = ?
        UNION ALL SELECT summary FROM cases WHERE customer_id = ?
        UNION ALL SELECT e.note FROM case_events e JOIN cases c ON e.case_id = c.case_id WHERE c.customer_id = ?
        """, [cid] * 5).fetchall()
    for (text,) in texts:
        n = _norm(text or "")
        if len(n) >= MIN_TEXT:
            t.inside.add(n)
            t.texts.add(n)
    return t


def _fields(record: object):
    """Every scalar in a JSON record."""
    if isinstance(record, dict):
        for v in record.values():
            yield from _fields(v)
    elif isinstance(record, list):
        for v in record:
            yield from _fields(v)
    else:
        yield record


def _forget_rejected(con, traces: _Traces) -> int:
    """Delete every rejected row (all its problems) whose raw values name the customer; the number of
    rejected-row entries deleted."""
    found: set[tuple[int, int]] = set()
    cur = con.execute("SELECT run_id, row_number, value, record FROM rejected_rows")
    while batch := cur.fetchmany(10_000):
        for run_id, row, value, record in batch:
            if (run_id, row) in found:
                continue
            try:
                parsed = json.loads(record) if record else None
            except ValueError:
                parsed = record
            if traces.match(value) or any(traces.match(v) for v in _fields(parsed)):
                found.add((run_id, row))
    removed = 0
    for run_id, row in sorted(found):
        removed += len(con.execute("DELETE FROM rejected_rows WHERE run_id = ? AND row_number = ? RETURNING 1",
                                   [run_id, row]).fetchall())
    return removed


def _update(con, sql: str, cid: str) -> int:
    return len(con.execute(sql + " RETURNING 1", [cid]).fetchall())
