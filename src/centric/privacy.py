"""Personal data is deletable: ``forget`` erases one customer.

What goes: the customer's row, every identity (e-mail, phone, handle, crm id, card), the merges that
name them, the free text they wrote or that was written about them (survey comments, feedback texts,
titles, authors and links, case summaries and case notes), and rejected rows holding one of their
identities, and their purchase-rhythm scores (``customer_scores``). What stays, unlinked
(``customer_id`` set to NULL): orders, survey answers, events and cases, so that totals and trends do
not change. The erasure is recorded in ``erasures`` without personal data.
Everything happens in one transaction.

The source systems must erase the person too: loading a new export that names them creates a new
customer.
"""

from __future__ import annotations

import datetime as dt
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
        removed = 0
        for pattern in _patterns(ids):
            removed += len(con.execute(
                "DELETE FROM rejected_rows WHERE contains(lower(coalesce(record, '')), ?) "
                "OR contains(lower('\"' || coalesce(value, '') || '\"'), ?) RETURNING 1",
                [pattern, pattern]).fetchall())
        con.execute("DELETE FROM customer_merges WHERE merged_customer_id = ? OR into_customer_id = ?", [cid, cid])
        con.execute("DELETE FROM customer_scores WHERE customer_id = ?", [cid])
        con.execute("DELETE FROM identities WHERE customer_id = ?", [cid])
        con.execute("DELETE FROM customers WHERE customer_id = ?", [cid])
        result = Erasure(cid, len(values), touched, removed)
        con.execute("INSERT INTO erasures VALUES (?, ?, ?, ?, ?)",
                    [cid, dt.datetime.now(dt.UTC).replace(tzinfo=None), len(values), touched, removed])
    return result


def _patterns(ids: list[tuple[str, str]]) -> list[str]:
    """What a rejected row holding one of these identities contains (lower-case): the value as a whole
    JSON string, an e-mail or an @handle anywhere, a phone's last nine digits anywhere."""
    out = []
    for kind, value in ids:
        v = value.lower()
        out.append(f'"{v}"')
        if kind == "email":
            out.append(v)
        if kind == "handle":
            out.append("@" + v)
        if kind == "phone":
            out.append(re.sub(r"\D", "", v)[-9:])
    return out


def _update(con, sql: str, cid: str) -> int:
    return len(con.execute(sql + " RETURNING 1", [cid]).fetchall())
