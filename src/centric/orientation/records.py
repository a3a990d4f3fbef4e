"""Assessments in and out: one entered in the web app (``record_assessment``), a file of them imported through the
ordinary ingest (``import_assessments``), the teams a manager may assess (``managed_units``, ``team``) and the
erasure of an employee's assessments (``forget_employee``).

A manager (``units.manager``, a web user's agent name) assesses the employees of the units they manage; the web
app checks it on the server (``centric.web.permissions``). Self-assessments come by the employee's own signed link
(``centric.orientation.invitations``), are entered by the manager on the employee's behalf (from a paper or a
conversation) or imported from a file with ``view`` = ``self`` (docs/orientation.md).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import pandas as pd

from .. import faults
from ..errors import CentricError, IngestError
from ..store import Store
from .criteria import CRITERIA, SCALE, VIEWS

__all__ = ["MAX_COMMENT", "TABLE", "RatingError", "check_ratings", "employee_unit", "erase_assessments", "forget_employee",
           "import_assessments", "insert_assessment", "managed_units", "record_assessment", "reject_unknown_employees",
           "team"]

TABLE = "orientation_assessments"
MAX_COMMENT = 2000
CRITERION_IDS = [c.id for c in CRITERIA]


class RatingError(CentricError):
    """An assessment's field at fault: ``field`` (a criterion id, ``comment``, ``ratings`` or the unknown field's
    name) and ``code`` — not_a_rating, out_of_scale, unknown_field, none_rated or too_long."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def employee_unit(store: Store, employee_id: str) -> dict[str, Any] | None:
    """The employee (``employee_id``, ``name``, ``unit``, ``left_at``) with their unit's ``manager`` and ``kind``,
    or None when there is no such employee."""
    row = store.execute(
        "SELECT e.employee_id, e.name, e.unit, e.left_at, u.manager, u.kind FROM employees e "
        "LEFT JOIN units u ON u.unit = e.unit WHERE e.employee_id = ?", [employee_id]).fetchone()
    if row is None:
        return None
    return dict(zip(("employee_id", "name", "unit", "left_at", "manager", "kind"), row, strict=True))


def managed_units(store: Store, agent: str | None) -> list[str]:
    """The units ``agent`` manages (all units with None: an admin)."""
    if agent is None:
        rows = store.execute("SELECT unit FROM units ORDER BY unit").fetchall()
    else:
        rows = store.execute("SELECT unit FROM units WHERE manager = ? ORDER BY unit", [agent]).fetchall()
    return [r[0] for r in rows]


def team(store: Store, units: list[str]) -> pd.DataFrame:
    """The current employees of ``units`` (staff first, then by name) with the date of their last manager's and
    self assessment."""
    if not units:
        return pd.DataFrame(columns=["employee_id", "name", "unit", "role", "last_manager", "last_self"])
    marks = ", ".join("?" * len(units))
    df = frame(
        store, f"""SELECT e.employee_id, e.name, e.unit, e.role,
                   max(CASE WHEN a.view = 'manager' THEN a.assessed_at END) AS last_manager,
                   max(CASE WHEN a.view = 'self' THEN a.assessed_at END) AS last_self
            FROM employees e LEFT JOIN {TABLE} a ON a.employee_id = e.employee_id
            WHERE e.unit IN ({marks}) AND e.left_at IS NULL
            GROUP BY e.employee_id, e.name, e.unit, e.role
            ORDER BY e.unit, CASE WHEN e.role = 'manager' THEN 1 ELSE 0 END, e.name, e.employee_id""",
        list(units))
    return df.astype(object).where(df.notna(), None)


def record_assessment(store: Store, employee_id: str, view: str, ratings: dict[str, Any], assessor: str,
                      comment: str | None = None, assessed_at: dt.datetime | None = None) -> str:
    """Store one assessment; its id. Ratings: criterion id → 1–5 or empty (not observed); at least one. Raises
    CentricError naming the field at fault. Who may assess whom is the caller's check (the web app's)."""
    emp = employee_unit(store, employee_id)
    if emp is None:
        raise CentricError(f"employee: there is no employee {employee_id!r}")
    if emp["left_at"] is not None:
        raise CentricError(f"employee: {employee_id} left on {emp['left_at']}; they are no longer assessed")
    if view not in VIEWS:
        raise CentricError(f"view: {view!r} is not one of {', '.join(VIEWS)}")
    values, comment = check_ratings(ratings, comment)
    with store.transaction():
        return insert_assessment(store, employee_id, emp["unit"], view, values, assessor, comment,
                                 assessed_at or _now())


def check_ratings(ratings: dict[str, Any], comment: str | None = None) -> tuple[dict[str, int | None], str | None]:
    """The ratings as criterion id → 1–5 or None (not observed) and the comment stripped (None when empty); raises
    CentricError naming the field at fault: a rating that is not a whole number 1–5, a field that is not a criterion,
    no criterion rated, a comment longer than ``MAX_COMMENT``.

    >>> check_ratings({"attitude": "4", "clear_speech": ""}, " fine ")[0]["attitude"]
    4
    """
    values: dict[str, int | None] = {}
    for c in CRITERION_IDS:
        v = ratings.get(c)
        if v is None or (isinstance(v, str) and not v.strip()):
            values[c] = None
            continue
        try:
            n = int(str(v).strip())
        except ValueError:
            raise RatingError(c, "not_a_rating", f"{str(v)[:20]!r} is not a rating of 1–5") from None
        if n not in SCALE:
            raise RatingError(c, "out_of_scale", f"{n} is outside the scale 1–5")
        values[c] = n
    unknown = sorted(set(ratings) - set(CRITERION_IDS))
    if unknown:
        raise RatingError(unknown[0][:40], "unknown_field", f"not a criterion; criteria: {', '.join(CRITERION_IDS)}")
    if all(v is None for v in values.values()):
        raise RatingError("ratings", "none_rated", "rate at least one criterion")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise RatingError("comment", "too_long", f"{len(comment):,} characters; at most {MAX_COMMENT:,}")
    return values, comment


def frame(store, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """A query's rows as a frame (``store.execute``: any engine), its columns named as the query names them."""
    cur = store.execute(sql, list(params))
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def insert_assessment(con, employee_id: str, unit: str | None, view: str, values: dict[str, int | None],
                      assessor: str | None, comment: str | None, assessed_at: dt.datetime) -> str:
    """Insert one checked assessment (:func:`check_ratings`) in the transaction under way on ``con`` (a store, or a
    DuckDB connection); its id."""
    aid = "OA-" + secrets.token_hex(6)
    cols = ["assessment_id", "employee_id", "assessed_at", "view", "assessor", "unit", *CRITERION_IDS, "comment"]
    con.execute(f"INSERT INTO {TABLE} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [aid, employee_id, assessed_at, view, assessor, unit, *[values[c] for c in CRITERION_IDS], comment])
    return aid


def import_assessments(store: Store, source: Any, values: dict[str, str] | None = None, name: str | None = None,
                       sheet: str | None = None, replace: bool = False, **options: str | None):
    """Load a file (CSV, Excel, JSON, Parquet) or frame of assessments through the ordinary ingest: columns
    recognised in four languages, every rejected row kept with its file, row, column and reason. A row naming an
    employee who is not in ``employees`` is rejected too (column ``employee_id``), in the ingest's transaction
    (:func:`reject_unknown_employees`): the file is stored with its rows so moved, or not at all. Returns the
    ingest's result, its counts corrected."""
    from ..ingest.load import AfterLoad, ingest_source

    if isinstance(source, (str, Path)) and not Path(source).exists():
        raise IngestError(f"{source}: no such file")
    return ingest_source(store, TABLE, source, values=values, name=name, sheet=sheet, replace=replace, keys=True,
                         after_load=AfterLoad(reject_unknown_employees, reads=("employees",)), **options)


def reject_unknown_employees(store: Store, res) -> None:
    """Move the rows an ingest into ``orientation_assessments`` just stored (run ``res.run_id``) that name an
    employee who is not in ``employees`` to the rejected rows (file, row, the employee column, the value, the
    reason and the row as stored), and correct the run's counts and ``res``'s; in the ingest's transaction (its
    ``AfterLoad``)."""
    if res.run_id is None or not res.keys:
        return
    row_of = {str(key): int(row) for row, key in res.keys}
    found = store.execute(f"SELECT a.assessment_id, a.employee_id FROM {TABLE} a JOIN ingest_rows i ON i.run_id = ? "
                          "AND i.table_name = ? AND i.key = a.assessment_id WHERE a.employee_id NOT IN "
                          "(SELECT employee_id FROM employees)", [res.run_id, TABLE]).fetchall()
    orphans = sorted((row_of[key], key, emp) for key, emp in found if key in row_of)
    if not orphans:
        return
    column = res.columns.get("employee_id", "employee_id")
    rejected = []
    for row, key, emp in orphans:
        record = frame(store, f"SELECT * FROM {TABLE} WHERE assessment_id = ?", [key])
        rejected.append((res.run_id, TABLE, res.source, row, column, str(emp)[:200],
                         f"employee {emp!r} is not in employees (load the HR export first: centric ingest "
                         "employees)", record.to_json(orient="records", date_format="iso", force_ascii=False)[1:-1]))
        store.execute(f"DELETE FROM {TABLE} WHERE assessment_id = ?", [key])
        store.execute("DELETE FROM ingest_rows WHERE run_id = ? AND table_name = ? AND key = ?",
                      [res.run_id, TABLE, key])
        faults.checkpoint("orientation.import_half_way")
    store.insert_frame("rejected_rows", pd.DataFrame(rejected, columns=[
        "run_id", "table_name", "source", "row_number", "column_name", "value", "reason", "record"]))
    n = len(orphans)
    store.execute("UPDATE ingest_runs SET rows_stored = rows_stored - ?, rows_rejected = rows_rejected + ? "
                  "WHERE run_id = ?", [n, n, res.run_id])
    res.rows_stored -= n
    res.rows_rejected += n


def forget_employee(store: Store, employee_id: str) -> int:
    """Erase every assessment of ``employee_id`` (both views, comments included), their self-assessment links and
    the rejected rows of assessment files that name them; the number of assessments erased. One transaction; the employee's row in
    ``employees`` is the caller's (``centric enps forget``, which erases them too)."""
    with store.transaction():
        return erase_assessments(store, employee_id)


def erase_assessments(con, employee_id: str) -> int:
    """:func:`forget_employee`'s work, in the transaction under way on ``con``."""
    n = len(con.execute(f"DELETE FROM {TABLE} WHERE employee_id = ? RETURNING 1", [employee_id]).fetchall())
    con.execute("DELETE FROM orientation_invitations WHERE employee_id = ?", [employee_id])
    rejected = con.execute("SELECT run_id, row_number, value, record FROM rejected_rows WHERE table_name = ?",
                           [TABLE]).fetchall()
    for run_id, row, value, record in rejected:
        try:
            fields = json.loads(record).values() if record else ()
        except (ValueError, AttributeError):
            fields = ()
        if value == employee_id or any(str(v).strip() == employee_id for v in fields):
            con.execute("DELETE FROM rejected_rows WHERE run_id = ? AND row_number = ? AND table_name = ?",
                        [run_id, row, TABLE])
    return n
