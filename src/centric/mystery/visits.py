"""Visits: a store scored on a template version, one answer per item (yes, no or n.a.), notes, photos or a
receipt.

**The score** of a visit is ``passed weight / applicable weight × 100``, where the applicable weight is the sum
of the weights of the items answered yes or no (n.a. items count for nothing). A **critical** item answered no
fails the visit: its ``score`` is then 0 — a knock-out, as in Xenia's "fail the whole inspection" —, and
``raw_score`` keeps the weighted share so that one can still see how the rest went. A visit where nothing
applied has no score.

>>> from centric.mystery.template import Item, Section, Template
>>> t = Template("t", "T", (Section("s", "S", (Item("a", "s", "A", 10, "staff", critical=True, na=False),
...                                             Item("b", "s", "B", 3, "store"), Item("c", "s", "C", 1, "store"))),))
>>> score_visit(t, {"a": "yes", "b": "no", "c": "na"})
VisitScore(passed=10.0, applicable=13.0, raw_score=76.92307692307692, score=76.92307692307692, failed_critical=False, failed_items=('b',))
>>> score_visit(t, {"a": "no", "b": "yes", "c": "yes"}).score
0.0

Every visit carries an id made by the form that entered it (or the imported file's): :func:`record_visit`
stores a visit once — the same id again returns the stored visit and changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..engines.scratch import portable
from ..errors import CentricError
from ..store import Store
from .template import Template, get_template

__all__ = ["ANSWER_WORDS", "Attachment", "VisitScore", "check_attachment", "list_visits", "normalise_answer", "record_visit",
           "score_visit", "visit", "visits_frame"]

OURS = "ours"
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 5
VISIT_ID_CHARS = 64
ANSWER_WORDS = {
    "yes": ("yes", "y", "1", "true", "pass", "passed", "tak", "t", "да", "д", "sì", "si", "ok"),
    "no": ("no", "n", "0", "false", "fail", "failed", "nie", "нет", "н"),
    "na": ("na", "n/a", "n.a.", "n.a", "-", "nd", "n.d.", "nie dotyczy", "nd.", "н/п", "неприменимо",
           "non applicabile", "not applicable"),
}
_WORD = {w: k for k, ws in ANSWER_WORDS.items() for w in ws}


class VisitError(CentricError):
    """A visit that cannot be stored (names the field at fault)."""


@dataclass(frozen=True)
class VisitScore:
    passed: float
    applicable: float
    raw_score: float | None
    score: float | None
    failed_critical: bool
    failed_items: tuple[str, ...]


def normalise_answer(value) -> str | None:
    """yes / no / na from the words people write (English, Polish, Russian, Italian); None when unknown.
    An empty value is None too (no answer)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return _WORD.get(str(value).strip().lower())


def score_visit(template: Template, answers: Mapping[str, str]) -> VisitScore:
    """Score ``answers`` (item id → yes/no/na) on ``template``; VisitError naming the item when an answer is
    missing, unknown, n.a. where the item does not allow it, or for an item the template does not have."""
    unknown = sorted(set(answers) - {i.id for i in template.items})
    if unknown:
        raise VisitError(f"template {template.id!r} has no item {', '.join(map(repr, unknown))}")
    passed = applicable = 0.0
    failed, failed_critical = [], False
    for item in template.items:
        a = answers.get(item.id)
        if a not in ("yes", "no", "na"):
            raise VisitError(f"item {item.id!r}: " + ("no answer" if a is None else f"{a!r} is not yes, no or n.a."))
        if a == "na":
            if not item.na:
                raise VisitError(f"item {item.id!r}: \"not applicable\" is not allowed for this item")
            continue
        applicable += item.weight
        if a == "yes":
            passed += item.weight
        else:
            failed.append(item.id)
            failed_critical = failed_critical or item.critical
    raw = 100.0 * passed / applicable if applicable > 0 else None
    score = 0.0 if failed_critical else raw
    return VisitScore(passed, applicable, raw, score, failed_critical, tuple(failed))


# -- attachments -------------------------------------------------------------------------------------------
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))


@dataclass(frozen=True)
class Attachment:
    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_attachment(data: bytes, name: str = "the file") -> Attachment:
    """The attachment when ``data`` is a JPEG, PNG or PDF (by its first bytes, whatever its name says) of at most
    :data:`MAX_ATTACHMENT_BYTES`; VisitError otherwise."""
    if not data:
        raise VisitError(f"{name}: the file is empty")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise VisitError(f"{name}: {len(data) / 1048576:.1f} MB is more than the {MAX_ATTACHMENT_BYTES // 1048576} MB "
                         "allowed")
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return Attachment(media, data)
    raise VisitError(f"{name}: not a JPEG, PNG or PDF file (its content says otherwise)")


# -- storing -----------------------------------------------------------------------------------------------
def new_visit_id() -> str:
    return uuid.uuid4().hex


def check_visit_id(visit_id: str) -> str:
    v = (visit_id or "").strip()
    if not v or len(v) > VISIT_ID_CHARS or not all(c.isalnum() or c in "-_.:" for c in v):
        raise VisitError(f"visit id {visit_id!r}: use 1 to {VISIT_ID_CHARS} letters, digits, '-', '_', '.' or ':'")
    return v


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def visit_rows(template: Template, visit_id: str, store_name: str, visited_at: dt.datetime,
               answers: Mapping[str, str], shopper: str | None = None, brand: str = OURS, notes: str | None = None,
               entered_by: str | None = None, now: dt.datetime | None = None) -> tuple[dict, pd.DataFrame]:
    """The ``mystery_visits`` row and the ``mystery_answers`` rows of one visit (scored; checked)."""
    s = score_visit(template, answers)
    store_name = (store_name or "").strip()
    if not store_name:
        raise VisitError("store: which store was visited?")
    row = {"visit_id": check_visit_id(visit_id), "template_id": template.id, "template_version": template.version,
           "store": store_name, "brand": (brand or OURS).strip() or OURS, "shopper": (shopper or "").strip() or None,
           "visited_at": visited_at, "passed_weight": s.passed, "applicable_weight": s.applicable,
           "raw_score": s.raw_score, "score": s.score, "failed_critical": s.failed_critical,
           "notes": (notes or "").strip() or None, "case_id": None, "entered_by": entered_by,
           "created_at": now or _now()}
    ans = pd.DataFrame([{"visit_id": row["visit_id"], "item_id": i.id, "section_id": i.section,
                         "answer": answers[i.id], "weight": i.weight, "critical": i.critical, "factor": i.factor}
                        for i in template.items])
    return row, ans


def write_visits(con, visits: pd.DataFrame, answers: pd.DataFrame) -> None:
    """Insert the visits and their answers (inside the caller's transaction); the visits' notes go in as
    ``feedback`` of source ``mystery_shopper`` too, for the text pipeline (:mod:`centric.mystery.notes`)."""
    from ..cases import store_io
    from .notes import write_notes

    store_io.insert_rows(con, "mystery_visits", visits)
    store_io.insert_rows(con, "mystery_answers", answers)
    write_notes(con, visits)


def record_scope(pg, template_id: str, visit_id: str, *args, **kwargs):
    """What :func:`record_visit` reads on PostgreSQL (it runs in a scratch store there, all in one transaction): the
    visit's id among the visits, its notes' feedback id, the audit log's latest entry (the next one's id), and what
    :func:`centric.mystery.cases.open_cases` reads."""
    from ..cases.postgres import _literal
    from .cases import cases_scope
    from .notes import feedback_id

    vid = (visit_id or "").strip()
    tables, append, filters = cases_scope(pg, visits=f"visit_id = {_literal(pg, vid)}")
    return ([*tables, "feedback", "audit_log"], [*append, "mystery_attachments"],
            {**filters, "feedback": f"feedback_id = {_literal(pg, feedback_id(vid))}",
             "audit_log": "audit_id = (SELECT max(audit_id) FROM audit_log)"})


@portable(record_scope)
def record_visit(store: Store, template_id: str, visit_id: str, store_name: str, visited_at: dt.datetime,
                 answers: Mapping[str, str], shopper: str | None = None, brand: str = OURS,
                 notes: str | None = None, attachments: Sequence[Attachment] = (), entered_by: str | None = None,
                 version: int | None = None, now: dt.datetime | None = None, open_case: bool = True,
                 audit_actor=None, ip: str | None = None) -> tuple[str, bool]:
    """Store one visit (scored on the template's latest version, or ``version``) with its answers and
    attachments, in one transaction; returns (visit_id, stored) — ``stored`` False when a visit with this id
    exists already (nothing changes: a resent visit is stored once). A failed critical item of our store opens
    its case (:func:`centric.mystery.cases.open_cases`) in the same transaction. ``audit_actor``: an Actor or a
    name to audit as."""
    visit_id = check_visit_id(visit_id)
    if store.execute("SELECT 1 FROM mystery_visits WHERE visit_id = ?", [visit_id]).fetchone():
        return visit_id, False
    if len(attachments) > MAX_ATTACHMENTS:
        raise VisitError(f"attachments: at most {MAX_ATTACHMENTS} files per visit")
    template = get_template(store, template_id, version)
    now = now or _now()
    row, ans = visit_rows(template, visit_id, store_name, visited_at, answers, shopper, brand, notes, entered_by, now)
    with store.transaction() as con:
        write_visits(con, pd.DataFrame([row]), ans)
        for k, a in enumerate(attachments, 1):
            con.execute("INSERT INTO mystery_attachments VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [f"{visit_id}-{k}", visit_id, a.media_type, len(a.data), a.sha256,
                         base64.b64encode(a.data).decode(), now])
        if audit_actor is not None:
            from ..web import audit

            name, role = (audit_actor.name, audit_actor.role) if hasattr(audit_actor, "role") else (audit_actor, None)
            audit.write(con, name, role, "mystery.visit", "mystery_visit", visit_id,
                        {"store_known": True, "items": len(ans), "attachments": len(attachments),
                         "failed_critical": bool(row["failed_critical"])}, ip)
        if open_case and row["failed_critical"] and row["brand"].lower() == OURS:
            from .cases import open_cases_in

            open_cases_in(store, con, now=now)  # in the visit's transaction: no visit without its case
    return visit_id, True


# -- reading -----------------------------------------------------------------------------------------------
def visits_frame(store: Store) -> pd.DataFrame:
    """Every visit with its store's region and manager (``units``): one row per visit, oldest first."""
    v = store.table("mystery_visits")
    u = store.table("units")
    u = u.select(u_unit=u.unit, region=u.region, manager=u.manager)
    j = v.left_join(u, v.store == u.u_unit)
    df = j.select(v.visit_id, v.template_id, v.template_version, v.store, v.brand, v.shopper, v.visited_at,
                  v.passed_weight, v.applicable_weight, v.raw_score, v.score, v.failed_critical, v.case_id,
                  j.region, j.manager).order_by(["visited_at", "visit_id"]).execute()
    df["brand"] = df["brand"].fillna(OURS)
    return df


def visit(store: Store, visit_id: str) -> dict | None:
    """One visit with its answers (in the template's order, with the items' texts), attachments (without their
    bytes), the store's region and manager, and the template; None when there is no such visit."""
    cur = store.execute(
        "SELECT v.*, u.region, u.manager FROM mystery_visits v LEFT JOIN units u ON u.unit = v.store "
        "WHERE v.visit_id = ?", [visit_id])
    row = cur.fetchone()
    if row is None:
        return None
    out = dict(zip([d[0] for d in cur.description], row, strict=True))
    template = get_template(store, out["template_id"], int(out["template_version"]), missing_ok=True)
    by_id = {r[0]: r for r in store.execute("SELECT item_id, section_id, answer, weight, critical, factor "
                                            "FROM mystery_answers WHERE visit_id = ?", [visit_id]).fetchall()}
    out["template"] = template
    out["answers"] = [{"item": template.item(i.id) if template else None, "item_id": i.id, "section": i.section,
                       "answer": by_id[i.id][2], "weight": float(by_id[i.id][3]), "critical": bool(by_id[i.id][4]),
                       "factor": by_id[i.id][5]}
                      for i in (template.items if template else ()) if i.id in by_id]
    out["attachments"] = [{"attachment_id": a, "media_type": m, "size": n} for a, m, n in store.execute(
        "SELECT attachment_id, media_type, size FROM mystery_attachments WHERE visit_id = ? ORDER BY attachment_id",
        [visit_id]).fetchall()]
    return out


def attachment(store: Store, visit_id: str, attachment_id: str) -> tuple[str, bytes] | None:
    """(media type, bytes) of a visit's attachment; None when the visit has no such attachment."""
    row = store.execute("SELECT media_type, content FROM mystery_attachments WHERE visit_id = ? AND "
                        "attachment_id = ?", [visit_id, attachment_id]).fetchone()
    return None if row is None else (row[0], base64.b64decode(row[1]))


def list_visits(store: Store, shopper: str | None = None, manager: str | None = None, limit: int = 200) -> list[dict]:
    """The latest visits (at most ``limit``), only those of ``shopper`` or of the stores ``manager`` manages when
    given (the filter is in the query): visit_id, store, brand, shopper, visited_at, score, failed_critical,
    case_id."""
    sql = ("SELECT v.visit_id, v.store, v.brand, v.shopper, v.visited_at, v.score, v.raw_score, v.failed_critical, "
           "v.case_id FROM mystery_visits v LEFT JOIN units u ON u.unit = v.store WHERE 1 = 1")
    params: list = []
    if shopper is not None:
        sql += " AND v.shopper = ?"
        params.append(shopper)
    if manager is not None:
        sql += " AND u.manager = ?"
        params.append(manager)
    sql += " ORDER BY v.visited_at DESC, v.visit_id LIMIT ?"
    params.append(int(limit))
    cols = ["visit_id", "store", "brand", "shopper", "visited_at", "score", "raw_score", "failed_critical", "case_id"]
    return [dict(zip(cols, r, strict=True)) for r in store.execute(sql, params).fetchall()]
