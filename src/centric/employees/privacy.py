"""Erasing one employee's personal data everywhere: ``centric employees forget ID|EMAIL`` (also
``centric enps forget`` and the web app's /employees page). One transaction: all of it, or nothing; the same
statements on DuckDB and PostgreSQL.

What goes:

- ``employees``: the name and the e-mail. The row stays, pseudonymous (id, unit, role, language, dates), so that
  eNPS invitations are planned without them (reason *erased*) and a unit's head count does not change.
- ``employee_invitations``: the employee and the e-mail are unlinked; the unit and period stay. Their anonymous
  answers (``employee_answers``) stay untouched: they were never linked to anyone.
- ``orientation_assessments``: every assessment of them, both views, comments included, and the rejected rows
  of assessment files that name them (``centric.orientation.records.erase_assessments``).
- The suggestion box, as for a customer (``centric.ideas.privacy``): the ideas they submitted (by their web
  user, their e-mail, or — for imported ideas of author kind employee — their full name when no other employee
  has it) keep their status, votes and factor, but lose title, text, name, e-mail, user link and address hash;
  the recipient of rewards for them is erased; their votes still count, once, under a random token; their
  comments lose text and author.
- Observation notes (``feedback`` of source ``observation``) they wrote lose the author; the text stays (it is
  about the store).
- Their e-mail anywhere: in every text column of every table, a whole value that is their e-mail (who entered a
  visit, who acted in the audit log, who changed an idea) becomes their account's pseudonymous address
  (``erased-USERID@erased.invalid``, or ``[erased]`` without an account), and inside a longer text ``[e-mail]``.
- Their name in the company's own free texts (``STAFF_TEXTS``: observation notes, mystery-shopping visit notes,
  employees' ideas and comments, answers to ideas): the full name (either word order, any spacing or case) is
  masked as ``[name]`` (``centric.text.masking.mask_person``); in the observation and visit notes (and the visit notes' copy
  as feedback of source ``mystery_shopper``) about their own
  unit, their first name or surname alone too, unless another employee of that unit shares it. Customers' texts
  and records are not searched for the name: a customer of the same name would lose theirs. Anonymous survey
  answers are not touched.
- Their web account (the user whose sign-in e-mail is their work e-mail): the e-mail becomes the pseudonymous
  address, the name is emptied, the password can no longer be used, the account is disabled and its sessions
  end; mystery visits they made as a shopper name ``erased:EMPLOYEE_ID``. Their login handle (``users.agent``)
  stays elsewhere: cases, routing and units name it.
- ``rejected_rows``: every rejected row whose raw values hold their e-mail or full name, and rejected rows of
  employee files that name their id.

Mystery-shopping photos (``mystery_attachments``) are images: they are not searched. As for customers, the freed
bytes stay in the file until it is rewritten (``centric compact``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import schema
from ..errors import CentricError
from ..store import Store
from ..text.masking import mask_person

ERASED = "[erased]"
OBSERVATION = "observation"
# the company's own texts kept as feedback (observation notes; mystery-shopping notes, copied for the text pipeline)
_COMPANY = ", ".join(f"'{s}'" for s in schema.COMPANY_SOURCES)
# columns the generic pass never reads: images, and the employees table (handled first; a namesake stays)
_SKIP = {("mystery_attachments", "content")}
_SKIP_TABLES = {"employees"}


@dataclass(frozen=True)
class EmployeeErasure:
    """What an erasure changed: ``counts`` maps each table to the rows erased, unlinked or masked in it."""

    employee_id: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def invitations(self) -> int:
        return self.counts.get("employee_invitations", 0)

    @property
    def assessments(self) -> int:
        return self.counts.get("orientation_assessments", 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        return {"employee_id": self.employee_id, "counts": dict(self.counts), "total": self.total}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


class _Tally(dict):
    """table → the keys of the rows changed (a row changed by two steps counts once); rows of tables without a
    key are counted one by one."""

    def add(self, table: str, rows: list) -> None:
        got = self.setdefault(table, set())
        for r in rows:
            got.add(r[0] if r and r[0] is not None else ("row", len(got)))

    def counts(self) -> dict[str, int]:
        return {t: len(k) for t, k in self.items() if k}


def forget(store: Store, who: str, on_done: Callable[[object, EmployeeErasure], None] | None = None
           ) -> EmployeeErasure:
    """Erase the personal data of the employee whose id or e-mail is ``who`` (see the module docstring), in one
    transaction. ``on_done(store, erasure)`` runs inside it (the audit entry), so that it too is all or nothing.
    The same statements run on DuckDB and PostgreSQL (through ``store.execute``).
    Raises CentricError, changing nothing, when nobody or several match or the employee was erased already."""
    from . import find_employee

    with store.transaction():
        store.lock_writes()  # PostgreSQL: one writer at a time (the audit entry's id, the rows read then changed)
        con = store  # its ``execute`` takes the ``?`` statements below on every engine
        employee_id, name, email, unit = find_employee(con, who)
        if name is None and email is None:
            raise CentricError(f"employee {employee_id} was erased already: no name or e-mail is kept of them")
        tally = _Tally()
        names = [name] if name and name.strip() else []
        users = con.execute("SELECT user_id, email, agent FROM users WHERE lower(email) = lower(?)",
                            [email]).fetchall() if email else []
        emails = sorted({e.lower() for e in [email, *(u[1] for u in users)] if e})
        user_ids = [u[0] for u in users]
        agents = [u[2] for u in users if u[2]]

        tally.add("employees", con.execute(
            "UPDATE employees SET name = NULL, email = NULL WHERE employee_id = ? RETURNING employee_id",
            [employee_id]).fetchall())
        tally.add("employee_invitations", con.execute(
            "UPDATE employee_invitations SET employee_id = NULL, email = NULL WHERE employee_id = ? "
            "RETURNING invitation_id", [employee_id]).fetchall())
        from ..orientation.records import erase_assessments

        tally.add("orientation_assessments", [(None,)] * erase_assessments(con, employee_id))
        _forget_ideas(con, tally, user_ids, emails, name if _name_unique(con, employee_id, name) else None)
        _forget_authorship(con, tally, agents, emails, names)
        _mask_own_unit(con, tally, unit, employee_id, name, emails)
        _forget_account(con, tally, users)
        _forget_rejected(con, tally, employee_id, emails, names)
        _everywhere(con, tally, employee_id, users, emails, names, agents)
        erasure = EmployeeErasure(employee_id, tally.counts())
        if on_done is not None:
            on_done(con, erasure)
    return erasure


def _name_unique(con, employee_id: str, name: str | None) -> bool:
    if not name:
        return False
    others = con.execute("SELECT name FROM employees WHERE employee_id <> ? AND name IS NOT NULL",
                         [employee_id]).fetchall()
    return _norm(name) not in {_norm(n) for (n,) in others}


def _forget_ideas(con, tally: _Tally, user_ids: list[str], emails: list[str], name: str | None) -> None:
    rows = con.execute("SELECT idea_id, author_kind, user_id, author_email, author_name FROM ideas").fetchall()
    mine = sorted({i for i, kind, uid, mail, author in rows
                   if (uid is not None and uid in user_ids) or (mail and mail.lower() in emails)
                   or (name is not None and kind == "employee" and _norm(author) == _norm(name))})
    for idea_id in mine:
        tally.add("idea_rewards", con.execute(
            "UPDATE idea_rewards SET recipient = ? WHERE idea_id = ? RETURNING reward_id",
            [ERASED, idea_id]).fetchall())
        tally.add("ideas", con.execute(
            "UPDATE ideas SET title = ?, text = ?, author_name = NULL, author_email = NULL, user_id = NULL, "
            "ip_hash = NULL, updated_at = ? WHERE idea_id = ? RETURNING idea_id",
            [ERASED, ERASED, _now(), idea_id]).fetchall())
    for uid in user_ids:
        voted = con.execute("SELECT idea_id FROM idea_votes WHERE voter = ?", [f"user:{uid}"]).fetchall()
        for (idea_id,) in voted:
            con.execute("UPDATE idea_votes SET voter = ? WHERE idea_id = ? AND voter = ?",
                        ["erased:" + secrets.token_hex(8), idea_id, f"user:{uid}"])
        tally.add("idea_votes", [(None,)] * len(voted))
    comments = con.execute("SELECT comment_id, author FROM idea_comments WHERE author_kind = 'employee'").fetchall()
    for comment_id, author in comments:
        if (author or "").lower() in emails or (name is not None and _norm(author) == _norm(name)):
            tally.add("idea_comments", con.execute(
                "UPDATE idea_comments SET text = ?, author = ? WHERE comment_id = ? RETURNING comment_id",
                [ERASED, ERASED, comment_id]).fetchall())


def _forget_authorship(con, tally: _Tally, agents: list[str], emails: list[str], names: list[str]) -> None:
    """Observation notes they wrote lose the author."""
    whos = {_norm(a) for a in [*agents, *emails, *names] if a}
    rows = con.execute("SELECT feedback_id, author FROM feedback WHERE source = ? AND author IS NOT NULL",
                       [OBSERVATION]).fetchall()
    for fid in sorted({fid for fid, author in rows if _norm(author) in whos}):
        tally.add("feedback", con.execute(
            "UPDATE feedback SET author = NULL WHERE feedback_id = ? AND source = ? RETURNING feedback_id",
            [fid, OBSERVATION]).fetchall())


def _unit_words(con, employee_id: str, unit: str, name: str | None) -> list[str]:
    """The words of their name (3 letters or more) that no other named employee of their unit shares."""
    if not name:
        return []
    taken = {w.casefold() for (n,) in con.execute(
        "SELECT name FROM employees WHERE unit = ? AND employee_id <> ? AND name IS NOT NULL",
        [unit, employee_id]).fetchall() for w in re.split(r"[\s,.]+", n)}
    return [w for w in re.split(r"[\s,.]+", name) if len(w) >= 3 and w.casefold() not in taken]


def _mask_own_unit(con, tally: _Tally, unit: str, employee_id: str, name: str | None, emails: list[str]) -> None:
    """Observation and mystery-shopping notes about their unit: a first name or surname alone names them there."""
    words = _unit_words(con, employee_id, unit, name)
    full = [name] if name else []
    for fid, title, text in con.execute(f"SELECT feedback_id, title, text FROM feedback WHERE source IN ({_COMPANY}) "
                                        "AND store = ?", [unit]).fetchall():
        t2 = mask_person(title, full, words, emails) if title else title
        x2 = mask_person(text, full, words, emails)
        if (t2, x2) != (title, text):
            tally.add("feedback", con.execute(
                "UPDATE feedback SET title = ?, text = ? WHERE feedback_id = ? RETURNING feedback_id",
                [t2, x2, fid]).fetchall())
    for vid, notes in con.execute("SELECT visit_id, notes FROM mystery_visits WHERE store = ? AND notes IS NOT NULL",
                                  [unit]).fetchall():
        masked = mask_person(notes, full, words, emails)
        if masked != notes:
            tally.add("mystery_visits", con.execute(
                "UPDATE mystery_visits SET notes = ? WHERE visit_id = ? RETURNING visit_id", [masked, vid]).fetchall())


def _pseudo_email(user_id: str) -> str:
    return f"erased-{user_id.lower()}@erased.invalid"


def _forget_account(con, tally: _Tally, users: list[tuple]) -> None:
    for user_id, _, _ in users:
        tally.add("users", con.execute(
            "UPDATE users SET email = ?, name = NULL, password_hash = '!', disabled_at = coalesce(disabled_at, ?), "
            "updated_at = ? WHERE user_id = ? RETURNING user_id",
            [_pseudo_email(user_id), _now(), _now(), user_id]).fetchall())
        tally.add("web_sessions", con.execute(
            "DELETE FROM web_sessions WHERE user_id = ? RETURNING session_hash", [user_id]).fetchall())


def _forget_rejected(con, tally: _Tally, employee_id: str, emails: list[str], names: list[str]) -> None:
    from ..privacy import _forget_rejected as delete_rejected
    from ..privacy import _Traces

    inside = set(emails)
    for n in names:
        words = _norm(n).split()
        if len(words) >= 2:  # one word alone ("Anna") names too many people
            inside.update({" ".join(words), " ".join(reversed(words))})
    tally.add("rejected_rows", [(None,)] * delete_rejected(con, _Traces(set(), inside, set(), set())))
    tally.add("rejected_rows", [(None,)] * len(con.execute(
        "DELETE FROM rejected_rows WHERE table_name = 'employees' AND (value = ? OR record LIKE ?) RETURNING 1",
        [employee_id, f'%"{employee_id}"%']).fetchall()))


# the company's own texts, where a colleague's full name means the colleague: (table, key, columns, condition)
STAFF_TEXTS = (
    ("feedback", "feedback_id", ("title", "text"), f"source IN ({_COMPANY})"),
    ("mystery_visits", "visit_id", ("notes",), "TRUE"),
    ("ideas", "idea_id", ("title", "text", "answer"), "author_kind = 'employee'"),
    ("idea_comments", "comment_id", ("text",), "author_kind = 'employee'"),
    ("idea_status_changes", None, ("answer",), "TRUE"),
)


def _everywhere(con, tally: _Tally, employee_id: str, users: list[tuple], emails: list[str],
                names: list[str], agents: list[str]) -> None:
    """Their e-mail in every text column of every table (a whole value becomes the pseudonymous address, inside a
    longer text ``[e-mail]``); their full name in the company's own texts (``STAFF_TEXTS``: not in customers' texts
    or records, where a customer of the same name would lose theirs); a mystery shopper's login handle."""
    from ..schema import TABLES

    pseudo = {e: _pseudo_email(users[0][0]) if users else ERASED for e in emails}
    for u in users:
        pseudo[u[1].lower()] = _pseudo_email(u[0])
    for t in TABLES.values() if emails else ():
        if t.name in _SKIP_TABLES:
            continue
        key = f'"{t.key}"' if t.key else "NULL"
        for c in t.columns:
            if c.sql_type != "VARCHAR" or (t.name, c.name) in _SKIP:
                continue
            col = f'"{c.name}"'
            where = " OR ".join(f"lower({col}) LIKE ?" for _ in emails)
            for (old,) in con.execute(f'SELECT DISTINCT {col} FROM "{t.name}" WHERE {where}',
                                      [f"%{e}%" for e in emails]).fetchall():
                new = pseudo.get(old.strip().lower()) or mask_person(old, (), (), emails)
                if new != old:
                    tally.add(t.name, con.execute(f'UPDATE "{t.name}" SET {col} = ? WHERE {col} = ? RETURNING {key}',
                                                  [new, old]).fetchall())
    for table, key, columns, condition in STAFF_TEXTS if names else ():
        k = key or "NULL"
        probe = max(names[0].split(), key=len).lower()
        for column in columns:
            rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE {condition} AND '
                               f'lower("{column}") LIKE ?', [f"%{probe}%"]).fetchall()
            for (old,) in rows:
                new = mask_person(old, names)
                if new != old:
                    tally.add(table, con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE {condition} AND '
                                                 f'"{column}" = ? RETURNING {k}', [new, old]).fetchall())
    for agent in agents:
        tally.add("mystery_visits", con.execute(
            "UPDATE mystery_visits SET shopper = ? WHERE shopper = ? RETURNING visit_id",
            [f"erased:{employee_id}", agent]).fetchall())


__all__ = ["EmployeeErasure", "forget"]
