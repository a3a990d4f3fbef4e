"""Surveys and invitations in the store: add, read, list, change status, update.

A survey's row keeps its definition as JSON (``Survey.to_dict()``) beside the columns the app filters on
(slug, kind, touchpoint, status …). ``SV001`` … are the ids; the slug is unique.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from ..store import Store
from .definition import from_dict
from .model import STATUSES, Survey, SurveyError

COLUMNS = ("survey_id", "slug", "name", "kind", "touchpoint", "channel", "status", "definition", "anonymous",
           "created_at", "updated_at")
INVITATION_COLUMNS = ("invitation_id", "survey_id", "customer_id", "email", "language", "created_at", "expires_at",
                      "sent_at", "reminded_at", "answered_at", "response_id", "opened_at")


def now() -> dt.datetime:
    """The current time in UTC, without a zone (as the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _row(survey: Survey) -> list:
    return [survey.survey_id, survey.slug, survey.name, survey.kind, survey.touchpoint, survey.channel,
            survey.status, json.dumps(survey.to_dict(), ensure_ascii=False), survey.anonymous,
            survey.created_at, survey.updated_at]


def _survey(row: tuple) -> Survey:
    r = dict(zip(COLUMNS, row, strict=True))
    s = from_dict(json.loads(r["definition"]), where=f"survey {r['survey_id']}")
    return dataclasses.replace(s, survey_id=r["survey_id"], status=r["status"], created_at=r["created_at"],
                               updated_at=r["updated_at"])


def add(store: Store, survey: Survey) -> str:
    """Store a new survey (active); returns its id. A slug already used is refused."""
    cols = ", ".join(COLUMNS)
    with store.transaction():
        store.lock_writes()  # PostgreSQL: the id (the highest plus one) and the slug's check hold until the commit
        if store.execute("SELECT 1 FROM surveys WHERE slug = ?", [survey.slug]).fetchone():
            raise SurveyError(f"a survey with the slug {survey.slug!r} exists already (centric surveys add --update "
                              "changes it)")
        n = store.execute("SELECT coalesce(max(CAST(substr(survey_id, 3) AS INTEGER)), 0) FROM surveys").fetchone()[0]
        survey_id = f"SV{n + 1:03d}"
        t = now()
        s = dataclasses.replace(survey, survey_id=survey_id, status="active", created_at=t, updated_at=t)
        store.execute(f"INSERT INTO surveys ({cols}) VALUES ({', '.join('?' * len(COLUMNS))})", _row(s))
    return survey_id


def get(store: Store, id_or_slug: str) -> Survey | None:
    """The survey with this id (SV001) or slug, or None."""
    from ..cases.store_io import prepared_rows

    key = (id_or_slug or "").strip()
    t = store.table("surveys")
    rows = sorted(_tuples(prepared_rows(store, "survey_get", lambda sid, slug: _columns(
        t.filter((t.survey_id == sid) | (t.slug == slug))), sid=key.upper(), slug=key.lower())))
    return _survey(rows[0]) if rows else None


def _columns(t):
    """``COLUMNS`` of the surveys table ``t``, the definition as its JSON text (read through Ibis, on every engine)."""
    return t.select(*(t[c].cast("string").name(c) if c == "definition" else t[c] for c in COLUMNS))


def _tuples(rows: list[dict]) -> list[tuple]:
    return [tuple(r[c] for c in COLUMNS) for r in rows]


def require(store: Store, id_or_slug: str) -> Survey:
    """``get``, or a SurveyError naming the known surveys."""
    s = get(store, id_or_slug)
    if s is None:
        known = [f"{x.survey_id} ({x.slug})" for x in list_all(store)]
        raise SurveyError(f"no survey {id_or_slug!r}; surveys: {', '.join(known) or 'none yet (centric surveys add)'}")
    return s


def list_all(store: Store) -> list[Survey]:
    from ..cases.store_io import prepared_rows

    t = store.table("surveys")
    rows = prepared_rows(store, "survey_list", lambda: _columns(t))
    return [_survey(r) for r in sorted(_tuples(rows))]  # by survey_id (unique)


def set_status(store: Store, survey_id: str, status: str) -> Survey:
    """Pause (no answers taken, links stay valid), close (links end) or resume (active) a survey."""
    if status not in STATUSES:
        raise SurveyError(f"status {status!r} must be one of {', '.join(STATUSES)}")
    with store.transaction():
        n = store.execute("UPDATE surveys SET status = ?, updated_at = ? WHERE survey_id = ? RETURNING 1",
                        [status, now(), survey_id]).fetchall()
    if not n:
        raise SurveyError(f"no survey {survey_id!r}")
    return require(store, survey_id)


def update(store: Store, survey: Survey) -> Survey:
    """Replace the definition of the stored survey ``survey.survey_id`` (its status and creation time stay)."""
    if not survey.survey_id:
        raise SurveyError("a survey to update needs its id")
    with store.transaction():
        store.lock_writes()
        other = store.execute("SELECT survey_id FROM surveys WHERE slug = ? AND survey_id <> ?",
                            [survey.slug, survey.survey_id]).fetchone()
        if other:
            raise SurveyError(f"the slug {survey.slug!r} belongs to survey {other[0]}")
        n = store.execute(
            "UPDATE surveys SET slug = ?, name = ?, kind = ?, touchpoint = ?, channel = ?, definition = ?, "
            "anonymous = ?, updated_at = ? WHERE survey_id = ? RETURNING 1",
            [survey.slug, survey.name, survey.kind, survey.touchpoint, survey.channel,
             json.dumps(survey.to_dict(), ensure_ascii=False), survey.anonymous, now(), survey.survey_id],
        ).fetchall()
    if not n:
        raise SurveyError(f"no survey {survey.survey_id!r}")
    return require(store, survey.survey_id)


def invitation(store: Store, invitation_id: int) -> dict | None:
    """The invitation row as a dict (columns of ``survey_invitations``), or None."""
    row = store.execute(f"SELECT {', '.join(INVITATION_COLUMNS)} FROM survey_invitations WHERE invitation_id = ?",
                            [int(invitation_id)]).fetchone()
    return dict(zip(INVITATION_COLUMNS, row, strict=True)) if row else None


__all__ = ["add", "get", "invitation", "list_all", "now", "require", "set_status", "update"]
