"""Self-assessment by signed link: one single-use link per employee and period, by which the employee fills in their
own view of their customer orientation at ``/o/TOKEN`` — no sign-in, no script.

The links are the employee surveys' (``centric.enps.invitations``): a random 62-bit invitation number signed with
the survey key (``centric.surveys.tokens``) in a key space of their own (``tokens.ORIENTATION``), at most 31
characters, valid ``survey_link_days`` days, at ``survey_base_url``. Unlike an employee survey's answer the self
view is not anonymous — it is compared with the manager's view of the same employee (the gap) — so the invitation
keeps the employee and, once used, the assessment it stored.

``plan`` decides who gets a link without writing anything: the current employees of the chosen units (all without
units), except leavers, those who start later, those erased, those with a link for the period already and those
with a self view in the period already. ``issue`` writes the links. ``record`` stores the employee's answer: one
transaction that checks the link (unknown, used, expired, the employee gone), checks the ratings
(``check_ratings``: the field at fault named) and stores one self view, marking the link used — a link submitted
twice, even at the same moment, stores one.

The self view is dated when it is sent, inside the link's period: a link of 2026-Q2 answered on 3 July is dated
the period's last second, so that it pairs with the manager's view of the same quarter.

>>> REASONS["already_invited"]
'has a self-assessment link for this period already'
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import settings
from ..enps.invitations import Link, period_bounds, period_of, write_links
from ..errors import CentricError
from ..store import Store
from ..surveys import tokens
from .criteria import LANGUAGES
from .records import check_ratings, frame, insert_assessment

__all__ = ["REASONS", "STATUSES", "Link", "Outcome", "Plan", "invitation", "issue", "plan", "record", "token_of",
           "write_links"]

TABLE = "orientation_invitations"
REASONS = {
    "left": "the employee has left",
    "not_started": "the employee starts later",
    "erased": "the employee's name and e-mail were erased",
    "already_invited": "has a self-assessment link for this period already",
    "already_assessed": "has a self view in this period already",
}
STATUSES = ("stored", "already", "expired", "left", "unknown")


@dataclass
class Plan:
    """Who gets a link (``invite``: employee_id, email, unit, language) and who is skipped (``skipped``:
    employee_id, unit, reason, detail) for ``period``, on ``day``."""

    period: str
    day: dt.date
    invite: pd.DataFrame
    skipped: pd.DataFrame

    def reasons(self) -> dict[str, int]:
        counts = self.skipped["reason"].value_counts() if len(self.skipped) else pd.Series(dtype=int)
        return {r: int(counts[r]) for r in REASONS if r in counts.index}


@dataclass(frozen=True)
class Outcome:
    """What became of an answer: ``status`` one of :data:`STATUSES`; the assessment stored, the link's language."""

    status: str
    assessment_id: str | None = None
    language: str | None = None


def _language(value: Any) -> str:
    """The employee's language when the form has it (en, pl, ru, it), else English."""
    v = value.strip().lower()[:2] if isinstance(value, str) else ""
    return v if v in LANGUAGES else "en"


def plan(store: Store, period: str | None = None, units: list[str] | None = None, day: dt.date | None = None) -> Plan:
    """Who of the ``units``' employees (all units with None) gets a self-assessment link for ``period`` (default:
    the quarter ``day`` falls in). Writes nothing."""
    day = day or dt.datetime.now(dt.UTC).date()
    period = (period or period_of(day, "quarter")).strip().upper()
    start, end = period_bounds(period)
    staff = frame(store, "SELECT employee_id, name, email, unit, language, hired_at, left_at FROM employees "
                         "ORDER BY unit, employee_id")
    if units:
        known = {u for (u,) in store.execute("SELECT unit FROM units").fetchall()} | set(staff["unit"].dropna())
        unknown = [u for u in units if u not in known]
        if unknown:
            raise CentricError(f"--unit {unknown[0]!r}: no such store or department; units: "
                               f"{', '.join(sorted(known)) or 'none (centric ingest units FILE)'}")
        staff = staff[staff["unit"].isin(units)]
    invited = {e for (e,) in store.execute(f"SELECT employee_id FROM {TABLE} WHERE period = ?", [period]).fetchall()}
    assessed = {e for (e,) in store.execute(
        "SELECT employee_id FROM orientation_assessments WHERE view = 'self' AND assessed_at >= ? AND assessed_at < ?",
        [dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time())]).fetchall()}
    when = pd.Timestamp(day)
    erased = staff["name"].isna() & staff["email"].isna()
    left = staff["left_at"].notna() & (pd.to_datetime(staff["left_at"]) <= when) & ~erased
    later = staff["hired_at"].notna() & (pd.to_datetime(staff["hired_at"]) > when) & ~left & ~erased
    rest = ~(erased | left | later)
    done = staff["employee_id"].isin(invited) & rest
    self_done = staff["employee_id"].isin(assessed) & rest & ~done
    skipped = []
    for mask, code in ((erased, "erased"), (left, "left"), (later, "not_started"), (done, "already_invited"),
                       (self_done, "already_assessed")):
        for r in staff[mask].itertuples(index=False):
            skipped.append({"employee_id": r.employee_id, "unit": r.unit, "reason": code, "detail": REASONS[code]})
    chosen = staff[rest & ~done & ~self_done]
    invite = pd.DataFrame({"employee_id": chosen["employee_id"].astype(str).values, "email": chosen["email"].values,
                           "unit": chosen["unit"].values, "language": [_language(x) for x in chosen["language"]]})
    return Plan(period, day, invite.reset_index(drop=True),
                pd.DataFrame(skipped, columns=["employee_id", "unit", "reason", "detail"]))


def token_of(store: Store, invitation_id: int) -> str:
    """The token of the self-assessment link ``invitation_id`` (signed with the survey key)."""
    return tokens.make(tokens.secret(store), int(invitation_id), tokens.ORIENTATION)


def issue(store: Store, plan: Plan, base_url: str | None = None, link_days: int | None = None) -> list[Link]:
    """Write one link per planned employee (one transaction) and return them, ``BASE_URL/o/TOKEN``, valid
    ``survey_link_days`` days from the plan's day."""
    base = settings.get("survey_base_url", base_url).strip().rstrip("/")
    days = settings.get_positive_int("survey_link_days", link_days)
    if not len(plan.invite):
        return []
    key = tokens.secret(store)
    expires = plan.day + dt.timedelta(days=days)
    ids: set[int] = set()
    while len(ids) < len(plan.invite):
        ids.add(secrets.randbits(62))
    order = list(ids)
    secrets.SystemRandom().shuffle(order)
    rows = plan.invite.assign(invitation_id=pd.Series(order, dtype="int64").values, period=plan.period,
                              expires_on=expires, used=False)
    with store.transaction():
        taken = store.execute(f"SELECT count(*) FROM {TABLE} WHERE invitation_id IN "
                              f"({', '.join(str(int(i)) for i in ids)})").fetchone()[0]
        if taken:  # 1 in 2**40 for a million links: refuse rather than share a token
            raise CentricError("an invitation number was drawn twice; run the command again")
        store.insert_frame(TABLE, rows[["invitation_id", "period", "employee_id", "unit", "language", "expires_on",
                                        "used"]])
    return [Link(str(r.employee_id), r.email if isinstance(r.email, str) else None, r.language, r.unit, plan.period,
                 f"{base}/o/{tokens.make(key, int(r.invitation_id), tokens.ORIENTATION)}", expires)
            for r in rows.itertuples(index=False)]


def invitation(store: Store, invitation_id: int) -> dict[str, Any] | None:
    """The link's employee, period, unit, language, last day, whether it was used and whether the employee has
    left (``left``), or None when there is no such link."""
    row = store.execute(
        f"SELECT i.employee_id, i.period, i.unit, i.language, i.expires_on, i.used, e.left_at "
        f"FROM {TABLE} i LEFT JOIN employees e ON e.employee_id = i.employee_id WHERE i.invitation_id = ?",
        [int(invitation_id)]).fetchone()
    if row is None:
        return None
    out = dict(zip(("employee_id", "period", "unit", "language", "expires_on", "used", "left_at"), row, strict=True))
    out["gone"] = row[6] is not None or out["employee_id"] is None
    return out


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    return v


def state(row: dict[str, Any] | None, today: dt.date) -> str | None:
    """Why a link takes no answer (``unknown``, ``already``, ``left``, ``expired``), or None when it takes one."""
    if row is None:
        return "unknown"
    if row["used"]:
        return "already"
    if row["gone"]:
        return "left"
    if row["expires_on"] is not None and _date(row["expires_on"]) < today:
        return "expired"
    return None


def dated(period: str, now: dt.datetime) -> dt.datetime:
    """The time a self view sent at ``now`` is stored with: ``now``, kept inside ``period``.

    >>> dated("2026-Q2", dt.datetime(2026, 7, 3, 9)), dated("2026-Q2", dt.datetime(2026, 5, 1, 9))
    (datetime.datetime(2026, 6, 30, 23, 59, 59), datetime.datetime(2026, 5, 1, 9, 0))
    """
    start, end = period_bounds(period)
    first, after = dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time())
    return min(max(now, first), after - dt.timedelta(seconds=1))


def record(store: Store, invitation_id: int, ratings: dict[str, Any], comment: str | None = None,
           now: dt.datetime | None = None) -> Outcome:
    """Store the employee's self view sent by the link ``invitation_id`` (one transaction): refused (nothing
    stored) when the link is unknown, used, past its last day or the employee has left; raises ``RatingError``
    naming the field when a rating is not 1–5, a field is not a criterion or nothing is rated."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction():
        row = invitation(store, invitation_id)
        why = state(row, now.date())
        if why is not None:
            return Outcome(why, None, row["language"] if row else None)
        values, comment = check_ratings(ratings, comment)
        aid = insert_assessment(store, row["employee_id"], row["unit"], "self", values, row["employee_id"], comment,
                                dated(row["period"], now))
        marked = store.execute(f"UPDATE {TABLE} SET used = true, assessment_id = ? WHERE invitation_id = ? AND NOT "
                               "used RETURNING 1", [aid, int(invitation_id)]).fetchall()
        if not marked:  # taken meanwhile by another writer: undo ours
            store.execute("DELETE FROM orientation_assessments WHERE assessment_id = ?", [aid])
            return Outcome("already", None, row["language"])
    return Outcome("stored", aid, row["language"])
