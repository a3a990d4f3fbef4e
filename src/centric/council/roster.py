"""The council's roster: who is a member, since when, with what consent.

A membership (``council_members``) ties a customer to the council from ``joined_on`` until ``left_on``; a customer
who leaves and comes back has two. Joining needs the customer's consent to take part (purpose ``council``); other
purposes (``contact``, ``recording`` …) are recorded beside it (``council_consents``). Withdrawing the consent to take
part ends the membership that day and removes the member's personal notes and attendance notes. Segment, value
(revenue from ``orders``, predicted lifetime value from the latest ``customer_scores``) and tenure (days since the
first order) are read from the customer's rows, never copied.

Every write is one transaction (the web app runs each through ``Hub.write``).

>>> from centric import Store
>>> import pandas as pd
>>> s = Store.open(":memory:")
>>> from centric import ingest
>>> _ = ingest("customers", pd.DataFrame({"email": ["ann@example.com"], "segment": ["vip"]}), store=s)
>>> add_member(s, "ann@example.com", "lead@example.com", joined_on=dt.date(2026, 1, 5))
'CM0001'
>>> roster(s, as_of=dt.date(2026, 2, 1)).to_frame()[["member_id", "segment", "status", "consents"]]
  member_id segment  status consents
0    CM0001     vip  member  council
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..errors import CentricError
from ..store import Store, next_free_id

COUNCIL = "council"  # the consent to take part
MAX_TEXT = 2000
MAX_SHORT = 200


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    return now().date()


def clean(value: object, what: str, limit: int = MAX_SHORT, required: bool = False, lines: bool = False) -> str | None:
    """``value`` as stored text (spaces collapsed unless ``lines``), or None when empty; CentricError naming
    ``what`` when it is required, too long or holds a NUL."""
    text = str(value if value is not None else "")
    text = text.strip() if lines else " ".join(text.split())
    if "\x00" in text:
        raise CentricError(f"{what}: a NUL character is not allowed")
    if not text:
        if required:
            raise CentricError(f"{what}: must not be empty")
        return None
    if len(text) > limit:
        raise CentricError(f"{what}: at most {limit} characters (got {len(text)})")
    return text


def as_date(value: object, what: str) -> dt.date | None:
    """A date from a date, a datetime or text (2026-03-01, 01.03.2026, 01/03/2026); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CentricError(f"{what}: {text[:40]!r} is not a date (use 2026-03-01 or 01.03.2026)")


def purposes_of(value: str | Iterable[str] | None) -> list[str]:
    """Consent purposes from ``council,contact`` or a list (lower-cased, each once, in order)."""
    items = re.split(r"[,;\s]+", value) if isinstance(value, str) else list(value or ())
    out: list[str] = []
    for p in items:
        p = " ".join(str(p).split()).lower()
        if not p:
            continue
        if len(p) > 40 or not re.fullmatch(r"[\w][\w .-]*", p):
            raise CentricError(f"consent: {p[:40]!r} is not a purpose (a word such as council, contact, recording)")
        if p not in out:
            out.append(p)
    return out


def next_id(store, table: str, column: str, prefix: str) -> str:
    """The next id of a council table (``CM0001``, ``MT0042``: ``prefix`` and four digits), inside the caller's
    transaction: :func:`centric.store.next_free_id` (the council's rows are never deleted, so it is the highest
    plus one)."""
    return next_free_id(store, table, column, prefix, 4)


@dataclass(frozen=True)
class Roster:
    """The roster as of a day: one row per membership (current and former) with the customer's segment,
    country, value, tenure and current consents. ``to_frame()`` is the table."""

    members: pd.DataFrame
    as_of: dt.date

    def to_frame(self) -> pd.DataFrame:
        return self.members.copy()

    @property
    def current(self) -> pd.DataFrame:
        return self.members[self.members["status"] == "member"]

    @property
    def former(self) -> pd.DataFrame:
        return self.members[self.members["status"] == "former"]

    def __len__(self) -> int:
        return len(self.members)


ROSTER_COLUMNS = ("member_id", "customer_id", "name", "segment", "country", "role", "joined_on", "left_on",
                  "left_reason", "status", "consents", "consent_given_at", "withdrawn", "revenue", "currency",
                  "clv", "first_order", "tenure_days", "notes")


def roster(store: Store, as_of: dt.date | None = None, status: str | None = None) -> Roster:
    """Every membership with its customer's segment, country, name, revenue (sum of their orders), predicted
    lifetime value (the latest scoring's ``clv``), first order and tenure in days as of ``as_of`` (today), and
    the purposes consented to and not withdrawn. ``status``: ``member`` or ``former`` keeps those only."""
    if status not in (None, "member", "former"):
        raise CentricError(f"status: {status!r} is not one of member, former")
    as_of = as_of or today()
    m = store.table("council_members").execute()
    if m.empty:
        return Roster(pd.DataFrame(columns=list(ROSTER_COLUMNS)), as_of)
    ids = [c for c in m["customer_id"].dropna().unique().tolist()]
    cust = store.table("customers")
    people = cust.filter(cust.customer_id.isin(ids)).select("customer_id", "name", "segment", "country").execute()
    o = store.table("orders")
    o = o.filter(o.customer_id.isin(ids))
    orders = o.group_by("customer_id").aggregate(revenue=o.amount.sum(), currency=o.currency.max(),
                                                 first_order=o.ordered_at.min()).execute()
    s = store.table("customer_scores")
    latest = s.filter(s.scored_at == s.scored_at.max())
    scores = latest.filter(latest.customer_id.isin(ids)).select("customer_id", "clv").execute()
    cons = store.table("council_consents").execute()
    out = m.merge(people, on="customer_id", how="left").merge(orders, on="customer_id", how="left") \
        .merge(scores, on="customer_id", how="left")
    out["status"] = ["member" if pd.isna(v) or pd.Timestamp(v).date() > as_of else "former" for v in out["left_on"]]
    given, since, withdrawn = [], [], []
    for mid in out["member_id"]:
        mine = cons[cons["member_id"] == mid].sort_values("given_at")
        live = mine[mine["withdrawn_at"].isna()]
        given.append(", ".join(dict.fromkeys(live["purpose"])))
        since.append(mine["given_at"].min() if len(mine) else None)
        withdrawn.append(", ".join(dict.fromkeys(mine[mine["withdrawn_at"].notna()]["purpose"])))
    out["consents"], out["consent_given_at"], out["withdrawn"] = given, since, withdrawn
    first = pd.to_datetime(out["first_order"])
    out["tenure_days"] = [None if pd.isna(f) else (as_of - f.date()).days for f in first]
    out["first_order"] = [None if pd.isna(f) else f.date() for f in first]
    for col in ("joined_on", "left_on"):
        out[col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in out[col]]
    out = out.sort_values(["status", "joined_on", "member_id"], ascending=[False, True, True])
    if status:
        out = out[out["status"] == status]
    return Roster(out[list(ROSTER_COLUMNS)].reset_index(drop=True), as_of)


def current_member(store: Store, customer_id: str) -> str | None:
    """The customer's current membership id, or None."""
    rows = store.execute("SELECT member_id FROM council_members WHERE customer_id = ? AND left_on IS NULL "
                         "ORDER BY member_id", [customer_id]).fetchall()
    return rows[0][0] if rows else None


def get_member(store: Store, member_id: str) -> dict | None:
    row = store.execute("SELECT member_id, customer_id, role, notes, joined_on, left_on, left_reason "
                        "FROM council_members WHERE member_id = ?", [member_id]).fetchone()
    if row is None:
        return None
    return dict(zip(("member_id", "customer_id", "role", "notes", "joined_on", "left_on", "left_reason"), row,
                    strict=True))


def _member(store: Store, member_id: str) -> dict:
    got = get_member(store, str(member_id).strip())
    if got is None:
        raise CentricError(f"member: there is no council membership {member_id!r}")
    return got


@dataclass(frozen=True)
class Joining:
    """What ``add_member`` is given, checked (for the import, which checks every row before it stores any)."""

    customer_id: str
    purposes: list[str]
    consent_at: dt.datetime
    joined_on: dt.date
    role: str | None = None
    notes: str | None = None
    evidence: str | None = None
    warnings: list[str] = field(default_factory=list)


def check_joining(store: Store, who: str, consent: str | Iterable[str] = COUNCIL,
                  consent_at: dt.datetime | dt.date | str | None = None, joined_on: dt.date | str | None = None,
                  role: str | None = None, notes: str | None = None, evidence: str | None = None,
                  default_country: str = "PL") -> Joining:
    """Check a new membership without storing it; CentricError naming the field at fault."""
    from ..privacy import find_customer

    who = clean(who, "customer", required=True) or ""
    try:
        cid = find_customer(store, who, default_country, follow_merges=True)
    except CentricError as e:
        raise CentricError(f"customer: {e}") from None
    purposes = purposes_of(consent)
    if COUNCIL not in purposes:
        raise CentricError("consent: a member needs the consent to take part in the council (purpose council)")
    joined = as_date(joined_on, "joined") or today()
    if isinstance(consent_at, dt.datetime):
        given = consent_at
    else:
        day = as_date(consent_at, "consent date")
        if day is None:  # not given: on the day they join (now when that is today or ahead)
            day = joined if joined < today() else None
        given = dt.datetime.combine(day, dt.time()) if day else now()
    if given.date() > joined:
        raise CentricError(f"consent date: {given.date()} is after the day they join ({joined}); consent comes first")
    if joined > today() + dt.timedelta(days=366):
        raise CentricError(f"joined: {joined} is more than a year ahead")
    existing = current_member(store, cid)
    if existing:
        raise CentricError(f"customer: {cid} is a member already ({existing})")
    return Joining(cid, purposes, given, joined, clean(role, "role"), clean(notes, "notes", MAX_TEXT, lines=True),
                   clean(evidence, "evidence"))


def store_joining(store, j: Joining, by: str) -> str:
    """Insert a checked membership and its consents through ``store`` (inside the caller's transaction; a store
    or a DuckDB connection)."""
    mid = next_id(store, "council_members", "member_id", "CM")
    t = now()
    store.execute("INSERT INTO council_members (member_id, customer_id, role, notes, joined_on, added_by, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", [mid, j.customer_id, j.role, j.notes, j.joined_on, by, t])
    for p in j.purposes:
        cid = next_id(store, "council_consents", "consent_id", "CC")
        store.execute("INSERT INTO council_consents (consent_id, member_id, customer_id, purpose, given_at, evidence, "
                      "recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)", [cid, mid, j.customer_id, p, j.consent_at,
                                                                  j.evidence, by])
    return mid


def add_member(store: Store, who: str, by: str, consent: str | Iterable[str] = COUNCIL,
               consent_at: dt.datetime | dt.date | str | None = None, joined_on: dt.date | str | None = None,
               role: str | None = None, notes: str | None = None, evidence: str | None = None,
               default_country: str = "PL") -> str:
    """Add the customer named by ``who`` (an id, e-mail, phone, handle, crm id or card, as ``centric customers``
    finds them) to the council with the consents ``consent`` (must include ``council``) given at ``consent_at``
    (default now); the new membership's id."""
    j = check_joining(store, who, consent, consent_at, joined_on, role, notes, evidence, default_country)
    with store.transaction():
        return store_joining(store, j, clean(by, "by", required=True) or "")


def update_member(store: Store, member_id: str, by: str, role: str | None = None, notes: str | None = None) -> None:
    """Change a member's role and notes (empty clears them)."""
    got = _member(store, member_id)
    if got["customer_id"] is None:
        raise CentricError(f"member: {member_id}'s data was erased; nothing personal can be added")
    with store.transaction():
        store.execute("UPDATE council_members SET role = ?, notes = ?, updated_at = ? WHERE member_id = ?",
                      [clean(role, "role"), clean(notes, "notes", MAX_TEXT, lines=True), now(), got["member_id"]])
    del by  # who changed it goes to the audit log


def leave(store: Store, member_id: str, by: str, on: dt.date | str | None = None, reason: str = "left") -> None:
    """End a membership on ``on`` (today). ``reason`` ``consent_withdrawn`` also withdraws every consent and
    removes the member's notes and attendance notes (as ``withdraw_consent`` of ``council`` does)."""
    if reason not in ("left", "consent_withdrawn"):
        raise CentricError(f"reason: {reason!r} is not one of left, consent_withdrawn")
    got = _member(store, member_id)
    if got["left_on"] is not None:
        raise CentricError(f"member: {got['member_id']} left on {got['left_on']}")
    day = as_date(on, "left") or today()
    if day > today():
        raise CentricError(f"left: {day} is in the future; record it on the day")
    if day < got["joined_on"]:
        raise CentricError(f"left: {day} is before they joined ({got['joined_on']})")
    with store.transaction():
        _end(store, got["member_id"], day, reason, by)


def _end(store, member_id: str, day: dt.date, reason: str, by: str) -> None:
    store.execute("UPDATE council_members SET left_on = coalesce(left_on, ?), left_reason = coalesce(left_reason, ?), "
                  "updated_at = ? WHERE member_id = ?", [day, reason, now(), member_id])
    if reason == "consent_withdrawn":
        at = dt.datetime.combine(day, dt.time()) if day < today() else now()
        store.execute("UPDATE council_consents SET withdrawn_at = ? WHERE member_id = ? AND withdrawn_at IS NULL",
                      [at, member_id])
        store.execute("UPDATE council_members SET notes = NULL WHERE member_id = ?", [member_id])
        store.execute("UPDATE council_attendance SET note = NULL WHERE member_id = ?", [member_id])
    del by


def withdraw_consent(store: Store, member_id: str, purpose: str, by: str, at: dt.datetime | None = None) -> bool:
    """Record that the member withdrew the consent ``purpose`` (at ``at``, default now); withdrawing ``council``
    ends the membership (see ``leave``). False when no such consent was in force."""
    got = _member(store, member_id)
    (p,) = purposes_of(purpose) or [""]
    at = at or now()
    with store.transaction():
        n = len(store.execute("UPDATE council_consents SET withdrawn_at = ? WHERE member_id = ? AND purpose = ? "
                              "AND withdrawn_at IS NULL RETURNING 1", [at, got["member_id"], p]).fetchall())
        if p == COUNCIL and got["left_on"] is None:
            _end(store, got["member_id"], at.date(), "consent_withdrawn", by)
    return bool(n)


def give_consent(store: Store, member_id: str, purpose: str, by: str, at: dt.datetime | None = None,
                 evidence: str | None = None) -> str | None:
    """Record a further consent of a current member; its id (None when it is in force already)."""
    got = _member(store, member_id)
    if got["left_on"] is not None or got["customer_id"] is None:
        raise CentricError(f"member: {got['member_id']} is not a member now")
    (p,) = purposes_of(purpose) or [None]
    if p is None:
        raise CentricError("consent: give a purpose (e.g. contact, recording)")
    with store.transaction():
        if store.execute("SELECT 1 FROM council_consents WHERE member_id = ? AND purpose = ? AND withdrawn_at IS NULL",
                         [got["member_id"], p]).fetchone():
            return None
        cid = next_id(store, "council_consents", "consent_id", "CC")
        store.execute("INSERT INTO council_consents (consent_id, member_id, customer_id, purpose, given_at, evidence, "
                      "recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [cid, got["member_id"], got["customer_id"], p, at or now(), clean(evidence, "evidence"), by])
    return cid


def member_ids(store: Store, status: str) -> Sequence[str]:
    """Customer ids of the current (``member``) or former members (never a member now)."""
    m = store.table("council_members")
    m = m.filter(m.customer_id.notnull())
    now_ = m.filter(m.left_on.isnull()).customer_id
    if status == "member":
        return sorted(set(now_.execute()))
    return sorted(set(m.customer_id.execute()) - set(now_.execute()))
