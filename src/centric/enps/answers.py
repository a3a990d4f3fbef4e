"""Storing an employee's answer so that it cannot be joined back to the person.

What an answer keeps: a random id (128 random bits, hex), the survey, the invitation's **period** (2026-Q2,
not a moment), the unit, the score, the comment and the extra questions' ratings (``employee_ratings``,
keyed by the same random id). Never the invitation, the employee, a time, the language or the address.

What the invitation keeps: ``used`` — a boolean, not a time.

Order: a table's rows are read back in the order they were written, so an answer appended as the fifth row
would say "fifth to answer", and the order in which links were used can be watched elsewhere (a mail
server, a web log). So every answer rewrites its survey-period's rows — answers and ratings — sorted by their
random ids, in the transaction that stores it: after each write the stored order of a period's answers is a
random permutation that says nothing about arrival. (Employee surveys are small — hundreds of answers per
period — so the rewrite costs milliseconds.)

What remains is documented in docs/enps.md: an operator who can copy the database between two answers, or
read DuckDB's write-ahead log before the next checkpoint, sees which answer came; a unit with one answer
reveals it to whoever reads the tables directly (the reports hide it below the threshold).

>>> STATUSES
('stored', 'already', 'expired', 'closed', 'paused', 'unknown')
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from ..store import Store
from ..surveys.answers import Answer

STATUSES = ("stored", "already", "expired", "closed", "paused", "unknown")
ANSWER_COLUMNS = ("answer_id", "survey_id", "period", "unit", "score", "comment")
RATING_COLUMNS = ("answer_id", "question_id", "value")


def random_id() -> str:
    """128 random bits as 32 hex digits: no sequence, no time."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Outcome:
    status: str  # one of STATUSES
    survey_id: str | None = None
    language: str | None = None


def invitation(store: Store, invitation_id: int) -> dict | None:
    """The invitation's survey, period, unit, language, last day and whether it was used, or None."""
    row = store.execute("SELECT survey_id, period, unit, language, expires_on, used FROM employee_invitations "
                        "WHERE invitation_id = ?", [int(invitation_id)]).fetchone()
    if row is None:
        return None
    return dict(zip(("survey_id", "period", "unit", "language", "expires_on", "used"), row, strict=True))


def record(store: Store, invitation_id: int, answer: Answer, today: dt.date | None = None,
           new_id: Callable[[], str] = random_id) -> Outcome:
    """Store ``answer`` for the employee link ``invitation_id`` (one transaction): refused when the link is
    unknown, used, past its last day, or its survey closed or paused. ``new_id`` makes the answer's id (tests
    pass a seeded one)."""
    return record_many(store, [(invitation_id, answer)], today, new_id)[0]


def record_many(store: Store, items: Iterable[tuple[int, Answer]], today: dt.date | None = None,
                new_id: Callable[[], str] = random_id) -> list[Outcome]:
    """``record`` for many answers in one transaction (the demo's); each period touched is rewritten once."""
    items = list(items)
    today = today or dt.datetime.now(dt.UTC).date()
    outcomes: list[Outcome] = []
    answers: list[tuple] = []
    ratings: list[tuple] = []
    used: list[int] = []
    with store.transaction() as con:
        ids = sorted({int(i) for i, _ in items})
        invs = {}
        if ids:
            for r in con.execute(
                    "SELECT i.invitation_id, i.survey_id, i.period, i.unit, i.language, i.expires_on, i.used, s.status "
                    "FROM employee_invitations i LEFT JOIN surveys s ON s.survey_id = i.survey_id "
                    f"WHERE i.invitation_id IN ({', '.join(str(i) for i in ids)})").fetchall():
                invs[r[0]] = r
        taken: set[int] = set()
        for invitation_id, answer in items:
            r = invs.get(int(invitation_id))
            if r is None:
                outcomes.append(Outcome("unknown"))
                continue
            _, survey_id, period, unit, language, expires_on, was_used, status = r
            if was_used or int(invitation_id) in taken:
                outcomes.append(Outcome("already", survey_id, language))
            elif status is None or status == "closed":
                outcomes.append(Outcome("closed", survey_id, language))
            elif status == "paused":
                outcomes.append(Outcome("paused", survey_id, language))
            elif expires_on is not None and _date(expires_on) < today:
                outcomes.append(Outcome("expired", survey_id, language))
            else:
                taken.add(int(invitation_id))
                used.append(int(invitation_id))
                aid = new_id()
                answers.append((aid, survey_id, period, unit, answer.score, answer.comment))
                ratings += [(aid, q, v) for q, v in answer.extras.items()]
                outcomes.append(Outcome("stored", survey_id, language))
        if used:
            con.execute("UPDATE employee_invitations SET used = true WHERE invitation_id IN "
                        f"({', '.join(str(i) for i in used)}) AND NOT used")
            if getattr(store, "engine", "duckdb") == "postgresql":
                _rewrite_rows(store, answers, ratings)
            else:
                _rewrite(con, answers, ratings)
    return outcomes


def _date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    return v


def _rewrite(con, answers: list[tuple], ratings: list[tuple]) -> None:
    """Add ``answers`` and ``ratings`` and rewrite the survey-periods they belong to in the order of the
    answers' random ids (see the module's docstring), in SQL: the period's rows are copied aside, deleted and
    written back sorted."""
    parts = sorted({(a[1], a[2]) for a in answers})
    where = " OR ".join("(survey_id = ? AND period = ?)" for _ in parts)
    params = [x for p in parts for x in p]
    cols = ", ".join(ANSWER_COLUMNS)
    new = pd.DataFrame(answers, columns=list(ANSWER_COLUMNS)).astype({"score": "Int64"})
    new_ratings = pd.DataFrame(ratings, columns=list(RATING_COLUMNS), dtype=str)
    con.register("_employee_answers_new", new)
    con.register("_employee_ratings_new", new_ratings)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _employee_answers_part AS SELECT {cols} FROM employee_answers "
                    f"WHERE {where} UNION ALL SELECT {cols} FROM _employee_answers_new", params)
        con.execute("CREATE OR REPLACE TEMP TABLE _employee_ratings_part AS SELECT r.answer_id, r.question_id, r.value "
                    "FROM employee_ratings r SEMI JOIN _employee_answers_part p ON p.answer_id = r.answer_id "
                    "UNION ALL SELECT answer_id, question_id, value FROM _employee_ratings_new")
        con.execute("DELETE FROM employee_ratings r WHERE r.answer_id IN (SELECT answer_id FROM _employee_answers_part)")
        con.execute(f"DELETE FROM employee_answers WHERE {where}", params)
        con.execute(f"INSERT INTO employee_answers ({cols}) SELECT {cols} FROM _employee_answers_part ORDER BY answer_id")
        con.execute("INSERT INTO employee_ratings (answer_id, question_id, value) SELECT answer_id, question_id, value "
                    "FROM _employee_ratings_part ORDER BY answer_id, question_id")
        con.execute("DROP TABLE _employee_answers_part; DROP TABLE _employee_ratings_part")
    finally:
        con.unregister("_employee_answers_new")
        con.unregister("_employee_ratings_new")


def _rewrite_rows(store, answers: list[tuple], ratings: list[tuple]) -> None:
    """:func:`_rewrite` on a PostgreSQL store (which has no frame to select from): the survey-periods' rows are
    read, deleted and loaded again with the new ones, sorted by their random ids, in the caller's transaction."""
    parts = sorted({(a[1], a[2]) for a in answers})
    where = " OR ".join("(survey_id = ? AND period = ?)" for _ in parts)
    params = [x for p in parts for x in p]
    kept = store.execute(f"SELECT {', '.join(ANSWER_COLUMNS)} FROM employee_answers WHERE {where}", params).fetchall()
    ids = [r[0] for r in kept]
    kept_ratings = []
    if ids:
        marks = ", ".join("?" for _ in ids)
        kept_ratings = store.execute(f"SELECT {', '.join(RATING_COLUMNS)} FROM employee_ratings "
                                     f"WHERE answer_id IN ({marks})", ids).fetchall()
        store.execute(f"DELETE FROM employee_ratings WHERE answer_id IN ({marks})", ids)
    store.execute(f"DELETE FROM employee_answers WHERE {where}", params)
    store.copy_rows("employee_answers", ANSWER_COLUMNS, sorted([*kept, *answers], key=lambda r: r[0]))
    store.copy_rows("employee_ratings", RATING_COLUMNS,
                    sorted([*kept_ratings, *((a, q, str(v)) for a, q, v in ratings)], key=lambda r: (r[0], r[1])))


__all__ = ["ANSWER_COLUMNS", "Outcome", "STATUSES", "invitation", "random_id", "record", "record_many"]
