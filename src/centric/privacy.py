"""Personal data is deletable: ``forget`` erases one customer.

What goes: the customer's row, every identity (e-mail, phone, handle, crm id, card), the merges that
name them, the free text they wrote or that was written about them (survey comments, feedback texts,
titles, authors and links, case summaries and case notes, their ideas and comments in the suggestion box), their purchase-rhythm scores
(``customer_scores``), their answers to surveys' extra questions (``survey_answers``), and every
rejected row whose raw values name them: an e-mail, handle, id or card; a phone however written (its
last nine digits among a field's digits); their full name in either order; or one of their own texts
(20 characters or more). What stays, unlinked (``customer_id`` set to
NULL): orders, survey answers, events and cases, so that totals and trends do not change. The erasure
is recorded in ``erasures`` without personal data. Their survey invitations lose the customer and the
e-mail address and their links end. A customer council member's membership, consents and attendance stay,
unlinked, without their notes and consent evidence, their name and e-mail replaced in the council's minutes
(``centric.council.erase``). Everything happens in one transaction.

DuckDB reuses the blocks it frees but does not wipe them: the erased bytes stay in the file until it
is rewritten by ``centric.store.compact`` (``centric compact``, ``customers forget --compact``). On PostgreSQL
the erasure runs in a scratch store holding the customer's rows (:func:`forget_scope`) and is written back in
one transaction; the old row versions stay in PostgreSQL's files until ``VACUUM FULL`` rewrites the tables.

The source systems must erase the person too: loading a new export that names them creates a new
customer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from .council.erase import erase as council_erase
from .engines.scratch import portable
from .errors import CentricError
from .ingest.transform import identity_lookups
from .store import Store

ERASED = "[erased]"


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    identities_removed: int
    rows_anonymised: int
    rejected_rows_removed: int


_KIND_WORDS = {"crm_id": "crm id", "email": "e-mail", "phone": "phone", "handle": "handle",
               "loyalty_card": "card"}


def find_customer(store: Store, who: str, default_country: str = "PL", follow_merges: bool = False) -> str:
    """The customer id named by ``who``: a customer id (C0000042), an e-mail, a phone number however
    written, a handle (with or without @), a crm id or a loyalty card, each normalised as ingest
    normalises it. With ``follow_merges``, an id merged into another (``customer_merges``, transitively)
    names the customer it became. Raises CentricError naming what was looked up when nobody matches,
    and listing the customers when several do."""
    who = who.strip()
    cust = store.table("customers")
    if re.fullmatch(r"C\d{7,}", who):
        from .cases.store_io import prepared_rows

        if prepared_rows(store, "customer_exists", lambda cid: cust.filter(cust.customer_id == cid).select("customer_id"),
                         limit=1, cid=who):
            return who
        if follow_merges:
            into = merged_into(store, who)
            if into is not None:
                return into
        gone = store.table("erasures")
        when = gone.filter(gone.customer_id == who).erased_at.execute()
        if len(when):
            raise CentricError(f"customer {who} was erased on {str(when.iloc[0])[:10]} (centric customers forget); "
                               "nothing personal is kept of them")
    lookups = identity_lookups(who, default_country)
    idt = store.table("identities")
    match = None
    for kind, value in lookups:
        m = (idt.kind == kind) & (idt.value == value)
        match = m if match is None else match | m
    found = sorted(set(idt.filter(match).customer_id.execute())) if match is not None else []
    if not found:
        ids = "customer id or merged id" if follow_merges else "customer id"
        tried = ", ".join([ids, *(f"{_KIND_WORDS[k]} {v!r}" for k, v in lookups)])
        raise CentricError(f"no customer is known by {who!r} (looked up as {tried})")
    if len(found) > 1:
        raise CentricError(f"{who!r} names {len(found)} customers ({', '.join(found)}); give a customer id")
    return found[0]


def merged_into(store: Store, customer_id: str) -> str | None:
    """The customer that ``customer_id`` was merged into, following later merges of that one too
    (None when it was never merged)."""
    merges = store.table("customer_merges")
    seen = [customer_id]
    while True:
        nxt = merges.filter(merges.merged_customer_id == seen[-1]).into_customer_id.execute()
        if not len(nxt) or nxt.iloc[0] in seen:
            return seen[-1] if len(seen) > 1 else None
        seen.append(str(nxt.iloc[0]))


def merged_from(store: Store, customer_id: str) -> list[str]:
    """Every id merged into ``customer_id``, directly or through ids merged into those (sorted)."""
    merges = store.table("customer_merges")
    found: set[str] = set()
    frontier = [customer_id]
    from .cases.store_io import prepared_rows

    while frontier:
        ids = {r["merged_customer_id"] for r in prepared_rows(
            store, "merged_from", lambda into: merges.filter(merges.into_customer_id.isin(into)).select(
                "merged_customer_id"), into=frontier)}
        frontier = sorted(ids - found - {customer_id})
        found |= ids
    return sorted(found - {customer_id})


COUNCIL_TEXTS = ("council_meetings", "council_agenda", "council_decisions", "council_actions")


def forget_scope(pg, who: str, default_country: str = "PL"):
    """What :func:`forget` reads on a PostgreSQL store (``centric.cases.postgres.portable``): the customer's rows
    of every table that links to them (their texts, answers, cases and case events, ideas, council membership …),
    the rejected rows and the council's texts whole (a rejected row or the minutes may name them anywhere); the
    erasure's record is only appended."""
    from .cases.postgres import _literal

    found = find_customer(pg, who, default_country)
    cid = _literal(pg, found)
    mine = f"customer_id = {cid}"
    emails = f"SELECT value FROM identities WHERE {mine} AND kind = 'email'"
    ideas = f"{mine} OR author_email IN ({emails})"
    members = f"SELECT member_id FROM council_members WHERE {mine}"
    filters = {
        **{t: mine for t in ("customers", "identities", "customer_scores", "responses", "survey_invitations",
                             "feedback", "cases", "orders", "events", "idea_comments", "council_members",
                             "council_consents")},
        "customer_merges": f"merged_customer_id = {cid} OR into_customer_id = {cid}",
        "survey_answers": f"response_id IN (SELECT response_id FROM responses WHERE {mine})",
        "case_events": f"case_id IN (SELECT case_id FROM cases WHERE {mine})",
        "ideas": ideas,
        "idea_rewards": f"idea_id IN (SELECT idea_id FROM ideas WHERE {ideas})",
        "idea_votes": "voter = " + _literal(pg, "customer:" + found),
        "council_attendance": f"member_id IN ({members})",
    }
    return [*filters, "rejected_rows", *COUNCIL_TEXTS], ["erasures"], filters


@portable(forget_scope)
def forget(store: Store, who: str, default_country: str = "PL") -> Erasure:
    """Erase one customer's personal data (see the module docstring). On PostgreSQL it runs in a scratch store
    holding what it reads (:func:`forget_scope`), and what it changed is written back in one transaction."""
    cid = find_customer(store, who, default_country)
    con = store.con
    ids = con.execute("SELECT kind, value FROM identities WHERE customer_id = ?", [cid]).fetchall()
    values = [v for _, v in ids]
    traces = _traces(store, cid, ids)
    with store.transaction():
        touched = 0
        con.execute("DELETE FROM survey_answers WHERE response_id IN "
                    "(SELECT response_id FROM responses WHERE customer_id = ?)", [cid])
        con.execute("UPDATE survey_invitations SET customer_id = NULL, email = NULL, "
                    "expires_at = least(expires_at, ?) WHERE customer_id = ?",
                    [dt.datetime.now(dt.UTC).replace(tzinfo=None), cid])
        touched += _update(con, "UPDATE responses SET comment = NULL, customer_id = NULL, customer_key = NULL "
                                "WHERE customer_id = ?", cid)
        touched += _update(con, f"UPDATE feedback SET text = '{ERASED}', title = NULL, author = NULL, url = NULL, "
                                "customer_id = NULL WHERE customer_id = ?", cid)
        con.execute("UPDATE case_events SET note = NULL WHERE case_id IN "
                    "(SELECT case_id FROM cases WHERE customer_id = ?)", [cid])
        touched += _update(con, "UPDATE cases SET summary = NULL, customer_id = NULL WHERE customer_id = ?", cid)
        from .ideas.privacy import forget as forget_ideas

        touched += forget_ideas(con, cid, [v for k, v in ids if k == "email"])
        touched += _update(con, "UPDATE orders SET customer_id = NULL WHERE customer_id = ?", cid)
        touched += _update(con, "UPDATE events SET customer_id = NULL WHERE customer_id = ?", cid)
        removed = _forget_rejected(con, traces)
        touched += council_erase(con, cid, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        con.execute("DELETE FROM customer_merges WHERE merged_customer_id = ? OR into_customer_id = ?", [cid, cid])
        con.execute("DELETE FROM customer_scores WHERE customer_id = ?", [cid])
        con.execute("DELETE FROM identities WHERE customer_id = ?", [cid])
        con.execute("DELETE FROM customers WHERE customer_id = ?", [cid])
        result = Erasure(cid, len(values), touched, removed)
        con.execute("INSERT INTO erasures VALUES (?, ?, ?, ?, ?)",
                    [cid, dt.datetime.now(dt.UTC).replace(tzinfo=None), len(values), touched, removed])
    from .surveys.intake import invitations_changed

    invitations_changed()  # a running web app's intake keeps the open invitations' customers in memory
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
    from .ideas.privacy import texts_of

    for text in [r[0] for r in texts] + texts_of(con, cid):
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
