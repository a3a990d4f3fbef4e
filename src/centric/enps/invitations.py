"""Employee invitations: one signed single-use link per employee, survey and period.

``plan`` decides who is invited without writing anything: the employees of the chosen units (``employees``
table) or of a CSV file (a column ``employee_id`` or ``email`` naming employees of that table). Leavers
(``left_at`` on or before the day) are never invited; an employee invited to the survey for the same period
already is skipped. ``issue`` writes the ``employee_invitations`` rows and returns the links, each in the
employee's language (the survey's default when it has no texts in it).

An invitation's id is a random 62-bit number, not a sequence, and it keeps no time but the last day the link
works: nothing on it orders the employees by when they were invited or answered.
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import CentricError
from ..ingest.readers import _norm
from ..schema import TABLES
from ..store import Store
from ..surveys import tokens
from ..surveys.invitations import link_settings, read_people_csv
from ..surveys.model import Survey, SurveyError

REASONS = {
    "unknown_employee": "no such employee in the employees table",
    "left": "the employee has left",
    "not_started": "the employee starts later",
    "repeated": "named earlier in the file",
    "already_invited": "invited to this survey for this period already",
    "survey_not_active": "the survey is not active",
    "erased": "the employee's name and e-mail were erased",
}
ID_NAMES = {_norm(a) for a in TABLES["employees"].column("employee_id").aliases}
EMAIL_NAMES = {_norm(a) for a in TABLES["employees"].column("email").aliases}
LINK_COLUMNS = ["employee_id", "email", "language", "unit", "period", "link", "expires_on"]


def period_of(day: dt.date, kind: str) -> str:
    """The period a day falls in: ``2026-Q2`` (quarter) or ``2026-05`` (month).

    >>> period_of(dt.date(2026, 5, 17), "quarter"), period_of(dt.date(2026, 5, 17), "month")
    ('2026-Q2', '2026-05')
    """
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first day of ``period`` and the first day after it.

    >>> period_bounds("2026-Q4"), period_bounds("2026-02")
    ((datetime.date(2026, 10, 1), datetime.date(2027, 1, 1)), (datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)))
    """
    try:
        year, rest = period.split("-")
        y = int(year)
        if rest.upper().startswith("Q"):
            q = int(rest[1:])
            if not 1 <= q <= 4:
                raise ValueError
            start = dt.date(y, 3 * q - 2, 1)
            months = 3
        else:
            m = int(rest)
            if not 1 <= m <= 12:
                raise ValueError
            start = dt.date(y, m, 1)
            months = 1
    except (ValueError, AttributeError):
        raise CentricError(f"period {period!r}: expected a quarter like 2026-Q2 or a month like 2026-05") from None
    m2 = start.month - 1 + months
    return start, dt.date(start.year + m2 // 12, m2 % 12 + 1, 1)


@dataclass
class Plan:
    """Who gets a link (``invite``: employee_id, email, unit, language) and who is skipped (``skipped``:
    row of the file or None, employee_id, reason, detail), for ``survey`` and ``period``."""

    survey: Survey
    period: str
    day: dt.date
    invite: pd.DataFrame
    skipped: pd.DataFrame

    def reasons(self) -> dict[str, int]:
        counts = self.skipped["reason"].value_counts() if len(self.skipped) else pd.Series(dtype=int)
        return {r: int(counts[r]) for r in REASONS if r in counts.index}


@dataclass(frozen=True)
class Link:
    employee_id: str
    email: str | None
    language: str
    unit: str
    period: str
    url: str
    expires_on: dt.date


def read_employees_csv(path: str | Path) -> pd.DataFrame:
    """The employees named in a CSV file: ``row`` (the header is row 1), ``key`` (employee id) and ``email``.
    The file needs a column ``employee_id`` or ``email`` (the names ingest recognises for them work too)."""
    return read_people_csv(path, ID_NAMES, EMAIL_NAMES, "employee_id")


def _employees(store: Store) -> pd.DataFrame:
    from ..orientation.records import frame

    return frame(store, "SELECT employee_id, name, email, unit, language, hired_at, left_at FROM employees "
                        "ORDER BY employee_id")


def plan(store: Store, survey: Survey, units: list[str] | None = None, employees: pd.DataFrame | None = None,
         day: dt.date | None = None, period: str | None = None) -> Plan:
    """Who of the ``units``' employees (None with no file: all units) or of the file's ``employees``
    (``read_employees_csv``) gets a link to the employee ``survey`` for ``period`` (default: the period
    ``day`` falls in). Writes nothing."""
    if survey.audience != "employees":
        raise SurveyError(f"survey {survey.slug!r} is a customer survey: invite customers with centric surveys invite")
    day = day or dt.datetime.now(dt.UTC).date()
    period = period or period_of(day, survey.period or "quarter")
    period_bounds(period)  # checks its shape
    staff = _employees(store)
    skipped: list[dict] = []
    if employees is not None:
        chosen, skipped = _from_file(staff, employees)
    else:
        chosen = staff
        if units:
            known = {u for (u,) in store.execute("SELECT unit FROM units").fetchall()} | set(staff["unit"])
            unknown = [u for u in units if u not in known]
            if unknown:
                raise SurveyError(f"--unit {unknown[0]!r}: no such store or department; units: "
                                  f"{', '.join(sorted(known)) or 'none (centric ingest units FILE)'}")
            chosen = staff[staff["unit"].isin(units)]
        chosen = chosen.assign(row=None)
    erased = chosen["name"].isna() & chosen["email"].isna()  # centric enps forget leaves neither
    when = pd.Timestamp(day)
    left = chosen["left_at"].notna() & (pd.to_datetime(chosen["left_at"]) <= when)
    later = chosen["hired_at"].notna() & (pd.to_datetime(chosen["hired_at"]) > when) & ~left
    invited = {e for (e,) in store.execute("SELECT employee_id FROM employee_invitations WHERE survey_id = ? AND "
                                           "period = ? AND employee_id IS NOT NULL", [survey.survey_id, period])
               .fetchall()}
    done = chosen["employee_id"].isin(invited)
    for mask, code in ((erased, "erased"), (left & ~erased, "left"), (later & ~erased, "not_started"),
                       (done & ~left & ~later & ~erased, "already_invited")):
        for r in chosen[mask].itertuples(index=False):
            skipped.append(_skip(r.row, r.employee_id, code))
    chosen = chosen[~(erased | left | later | done)]
    if survey.status != "active":
        for r in chosen.itertuples(index=False):
            skipped.append(_skip(r.row, r.employee_id, "survey_not_active"))
        chosen = chosen.iloc[0:0]
    languages = chosen["language"].map(lambda x: survey.language_for(x if isinstance(x, str) else None))
    invite = pd.DataFrame({"employee_id": chosen["employee_id"].values, "email": chosen["email"].values,
                           "unit": chosen["unit"].values, "language": languages.values})
    return Plan(survey, period, day, invite.reset_index(drop=True),
                pd.DataFrame(skipped, columns=["row", "employee_id", "reason", "detail"]))


def _skip(row, employee_id, code: str) -> dict:
    return {"row": None if row is None or pd.isna(row) else int(row), "employee_id": employee_id, "reason": code,
            "detail": REASONS[code]}


def _from_file(staff: pd.DataFrame, given: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    by_id = {str(k): i for i, k in enumerate(staff["employee_id"])}
    by_email = {str(e).strip().lower(): i for i, e in enumerate(staff["email"]) if isinstance(e, str)}
    picked: list[int] = []
    rows: list[int] = []
    skipped: list[dict] = []
    seen: set[int] = set()
    for r in given.itertuples(index=False):
        i = by_id.get(str(r.key)) if r.key else None
        if i is None and r.email:
            i = by_email.get(str(r.email).strip().lower())
        if i is None:
            skipped.append(_skip(r.row, r.key or r.email, "unknown_employee"))
        elif i in seen:
            skipped.append(_skip(r.row, staff["employee_id"].iloc[i], "repeated"))
        else:
            seen.add(i)
            picked.append(i)
            rows.append(r.row)
    chosen = staff.iloc[picked].assign(row=rows)
    return chosen, skipped


def issue(store: Store, plan: Plan, base_url: str | None = None, link_days: int | None = None) -> list[Link]:
    """Write one invitation per planned employee (one transaction) and return the links
    ``BASE_URL/s/TOKEN`` (valid ``survey_link_days`` days)."""
    survey = plan.survey
    base, days = link_settings(survey, base_url, link_days)
    if not len(plan.invite):
        return []
    key = tokens.secret(store)
    expires = plan.day + dt.timedelta(days=days)
    ids: set[int] = set()
    while len(ids) < len(plan.invite):
        ids.add(secrets.randbits(62))
    rows = plan.invite.assign(invitation_id=pd.Series(sorted(ids), dtype="int64").sample(frac=1).values,
                              survey_id=survey.survey_id, period=plan.period, expires_on=expires, used=False)
    with store.transaction():
        store.lock_writes()  # PostgreSQL: two runs for one period do not both invite
        taken = store.execute("SELECT count(*) FROM employee_invitations WHERE invitation_id IN "
                              f"({', '.join(str(int(i)) for i in ids)})").fetchone()[0]
        if taken:  # 1 in 2**40 for a million links: refuse rather than share a token
            raise SurveyError("an invitation number was drawn twice; run the command again")
        store.insert_frame("employee_invitations", rows[["invitation_id", "survey_id", "period", "employee_id", "email",
                                                         "unit", "language", "expires_on", "used"]])
    return [Link(str(r.employee_id), r.email if isinstance(r.email, str) else None, r.language, r.unit, plan.period,
                 f"{base}/s/{tokens.make(key, int(r.invitation_id), tokens.EMPLOYEE)}", expires)
            for r in rows.itertuples(index=False)]


def write_links(path: str | Path, links: list[Link]) -> None:
    """links.csv for a mail merge: employee_id, email, language, unit, period, link, expires_on."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(LINK_COLUMNS)
        for link in links:
            w.writerow([link.employee_id, link.email or "", link.language, link.unit, link.period, link.url,
                        link.expires_on.isoformat()])


__all__ = ["LINK_COLUMNS", "REASONS", "Link", "Plan", "issue", "period_bounds", "period_of", "plan",
           "read_employees_csv", "write_links"]
