"""Invitations: who gets a signed single-use link to a survey, who is skipped and why.

``plan`` decides without writing anything (``centric surveys invite --dry-run`` prints it); ``issue`` writes
the ``survey_invitations`` rows in one transaction and returns the links. Candidates come from a CSV file
with a column ``customer_id`` (centric's id, or the customer's id in the source system) or ``email`` (looked
up in ``identities`` after normalising it as ingest does), or from a customer segment.

A candidate is skipped, with the reason kept, when: the row names no customer or an unknown one, the
customer was erased, the file names them again, the survey is not active, they were invited to any survey or
answered any survey within ``survey_min_interval_days``, or (when sending) no e-mail address is known.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import settings
from ..cases.store_io import only
from ..errors import CentricError
from ..ingest.readers import _decode, _lines, _norm, sniff_delimiter
from ..ingest.transform import identity_lookups
from ..schema import IDENTITY_INPUTS
from ..store import Store
from . import tokens
from .model import Survey, SurveyError
from .repo import now as _now

REASONS = {
    "empty": "the row names no customer",
    "bad_email": "not an e-mail address",
    "unknown_customer": "no such customer in the store",
    "erased": "the customer was erased",
    "repeated": "named earlier in the file",
    "survey_not_active": "the survey is not active",
    "recently_answered": "answered a survey within the minimum interval",
    "recently_invited": "invited to a survey within the minimum interval",
    "no_email": "no e-mail address known (needed to send)",
}
ID_NAMES = {_norm(a) for a in ("customer_id", *IDENTITY_INPUTS["crm_id"].aliases)}
EMAIL_NAMES = {_norm(a) for a in IDENTITY_INPUTS["email"].aliases}
SKIP_COLUMNS = ["row", "customer_id", "email", "reason", "detail"]
LINK_COLUMNS = ["invitation_id", "customer_id", "email", "language", "link", "expires_at"]


@dataclass
class Plan:
    """Who would get a link (``invite``: customer_id, email, language) and who is skipped (``skipped``: row of
    the file or None, customer_id, email, reason code, detail)."""

    survey: Survey
    now: dt.datetime
    source: str
    invite: pd.DataFrame
    skipped: pd.DataFrame
    interval_days: int = 0
    send: bool = False

    def reasons(self) -> dict[str, int]:
        """Skipped candidates per reason code, in the order of ``REASONS``."""
        counts = self.skipped["reason"].value_counts()
        return {r: int(counts[r]) for r in REASONS if r in counts.index}


@dataclass(frozen=True)
class Link:
    invitation_id: int
    customer_id: str
    email: str | None
    language: str
    url: str
    expires_at: dt.datetime


@dataclass
class _Candidates:
    frame: pd.DataFrame  # row, customer_id, email (given), raw
    skipped: list[dict] = field(default_factory=list)


def read_customers_csv(path: str | Path) -> pd.DataFrame:
    """The candidates of a CSV file: ``row`` (as a spreadsheet counts it, the header is row 1), ``key`` (the
    customer id as written, or None), ``email`` (as written, or None). The file needs a column ``customer_id``
    or ``email`` (the names ingest recognises for them work too)."""
    return read_people_csv(path, ID_NAMES, EMAIL_NAMES, "customer_id")


def read_people_csv(path: str | Path, id_names: set[str], email_names: set[str], id_label: str) -> pd.DataFrame:
    """``row``, ``key`` and ``email`` of each row of a CSV file with a column named one of ``id_names`` (shown
    as ``id_label`` in errors) or ``email_names`` (normalised names); for customers and employees alike."""
    p = Path(path)
    source = str(path)
    if not p.is_file():
        raise SurveyError(f"{source}: no such file")
    try:
        text, _ = _decode(p, source)
    except (OSError, CentricError) as e:
        raise SurveyError(str(e) if isinstance(e, CentricError) else f"{source}: cannot read ({e})") from e
    lines = _lines(text)
    reader = csv.reader(lines, delimiter=sniff_delimiter(lines[:50]))
    try:
        header = next(reader)
    except StopIteration:
        raise SurveyError(f"{source}: the file is empty") from None
    names = [_norm(h) for h in header]
    id_col = next((i for i, n in enumerate(names) if n in id_names), None)
    email_col = next((i for i, n in enumerate(names) if n in email_names), None)
    if id_col is None and email_col is None:
        found = ", ".join(repr(h) for h in header) or "none"
        raise SurveyError(f"{source}: row 1: needs a column '{id_label}' or 'email'; columns found: {found}")
    rows, keys, emails = [], [], []
    for n, rec in enumerate(reader, start=2):
        if not any(v.strip() for v in rec):
            continue
        rows.append(n)
        keys.append(_cell(rec, id_col))
        emails.append(_cell(rec, email_col))
    frame = pd.DataFrame({"row": rows, "key": keys, "email": emails}, dtype=object)
    frame.attrs["columns"] = (header[id_col] if id_col is not None else None,
                              header[email_col] if email_col is not None else None)
    return frame


def _clean(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return str(v).strip() or None


def _cell(rec: list[str], i: int | None) -> str | None:
    if i is None or i >= len(rec):
        return None
    v = rec[i].strip()
    return v or None


def plan(store: Store, survey: Survey, customers: pd.DataFrame | None = None, segment: str | None = None,
         now: dt.datetime | None = None, send: bool = False, source: str = "customers",
         interval_days: int | None = None) -> Plan:
    """Who gets a link to ``survey``: the customers of ``customers`` (``read_customers_csv``'s frame, or any
    frame with ``customer_id`` and/or ``email`` columns) or of the ``segment`` (as the metrics' filters read
    it; ``(none)``: customers without one). Writes nothing."""
    if (customers is None) == (segment is None):
        raise SurveyError("give the customers (a CSV file) or a segment, one of the two")
    if survey.audience == "employees":
        raise SurveyError(f"survey {survey.slug!r} is an employee survey: invite employees with centric enps invite")
    now = now or _now()
    interval = settings.get_int("survey_min_interval_days", interval_days)
    cand = _from_frame(store, customers, source) if customers is not None else _from_segment(store, segment)
    frame, skipped = cand.frame, cand.skipped

    if survey.status != "active":
        for r in frame.itertuples(index=False):
            skipped.append(_skip(r.row, r.customer_id, r.email, "survey_not_active", f"the survey is {survey.status}"))
        frame = frame.iloc[0:0]

    if interval > 0 and len(frame):
        since = now - dt.timedelta(days=interval)
        answered = _recent(store, "responses", "responded_at", since, frame["customer_id"])
        invited = _recent(store, "survey_invitations", "created_at", since, frame["customer_id"])
        for code, ids, what in (("recently_answered", answered, "answered a survey"),
                                ("recently_invited", invited, "invited to a survey")):
            hit = frame["customer_id"].isin(ids)
            for r in frame[hit].itertuples(index=False):
                skipped.append(_skip(r.row, r.customer_id, r.email, code, f"{what} within {interval} days"))
            frame = frame[~hit]

    frame = frame.assign(email=customer_emails(store, frame),
                         language=customer_languages(store, survey, frame["customer_id"]))
    if send:
        none = frame["email"].isna()
        for r in frame[none].itertuples(index=False):
            skipped.append(_skip(r.row, r.customer_id, None, "no_email", REASONS["no_email"]))
        frame = frame[~none]
    skipped_frame = pd.DataFrame(skipped, columns=SKIP_COLUMNS)
    if len(skipped_frame):
        skipped_frame = skipped_frame.sort_values("row", kind="stable", na_position="last").reset_index(drop=True)
    return Plan(survey=survey, now=now, source=source, invite=frame[["customer_id", "email", "language"]]
                .reset_index(drop=True), skipped=skipped_frame, interval_days=interval, send=send)


def _skip(row, customer_id, email, reason: str, detail: str) -> dict:
    return {"row": None if row is None or pd.isna(row) else int(row), "customer_id": customer_id,
            "email": email, "reason": reason, "detail": detail}


def _from_frame(store: Store, customers: pd.DataFrame, source: str) -> _Candidates:
    df = customers.copy()
    if "row" not in df:
        df["row"] = range(2, len(df) + 2)
    if "key" not in df:
        df["key"] = df["customer_id"] if "customer_id" in df else None
    if "email" not in df:
        df["email"] = None
    id_name, email_name = df.attrs.get("columns", ("customer_id", "email"))
    skipped: list[dict] = []
    keys = [_clean(v) for v in df["key"]]
    given = [_clean(v) for v in df["email"]]
    normal = [dict(identity_lookups(v)).get("email") if v else None for v in given]

    known_keys = sorted({k for k in keys if k is not None})
    by_id = _resolve_ids(store, known_keys)
    by_email = _resolve_emails(store, sorted({e for e in normal if e is not None}))
    erased = _erased(store, known_keys)
    out_rows, out_ids, out_emails = [], [], []
    seen: dict[str, int] = {}
    for row, key, raw_email, email in zip(df["row"], keys, given, normal, strict=True):
        where = f"{source} row {row}"
        if key is None and raw_email is None:
            skipped.append(_skip(row, None, None, "empty", f"{where}: no {id_name or 'customer_id'} "
                                 f"or {email_name or 'email'}"))
            continue
        if raw_email is not None and email is None:
            skipped.append(_skip(row, key, None, "bad_email",
                                 f"{where}, column {email_name!r}: {raw_email[:80]!r} is not an e-mail address"))
            continue
        cid = by_id.get(key) if key is not None else by_email.get(email)
        if cid is None:
            if key is not None and key in erased:
                skipped.append(_skip(row, key, email, "erased", f"{where}: customer {key} was erased"))
            else:
                what = (f"column {id_name!r}: {key[:80]!r}" if key is not None
                        else f"column {email_name!r}: {email[:80]!r}")
                skipped.append(_skip(row, key, email, "unknown_customer", f"{where}, {what}: no such customer"))
            continue
        if cid in seen:
            skipped.append(_skip(row, cid, email, "repeated", f"{where}: customer {cid} is named in row {seen[cid]}"))
            continue
        seen[cid] = row
        out_rows.append(row)
        out_ids.append(cid)
        out_emails.append(email)
    frame = pd.DataFrame({"row": out_rows, "customer_id": out_ids, "email": out_emails}, dtype=object)
    return _Candidates(frame, skipped)


def _from_segment(store: Store, segment: str) -> _Candidates:
    from ..metrics.filters import NONE, restrict

    c = store.table("customers")
    picked = restrict(store, c, {"segment": [segment]}, local=["segment"], what="customers", customer_columns=())
    ids = picked.select("customer_id").order_by("customer_id").execute()["customer_id"]
    if not len(ids):
        known = sorted(str(v) for v in c.select("segment").distinct().execute()["segment"] if v is not None)
        raise SurveyError(f"--segment: no customer has the segment {segment!r}; segments: "
                          f"{', '.join(known + [NONE]) if known else 'none (every customer: ' + NONE + ')'}")
    frame = pd.DataFrame({"row": [None] * len(ids), "customer_id": ids.astype(object).values,
                          "email": [None] * len(ids)}, dtype=object)
    return _Candidates(frame)


def _resolve_ids(store: Store, keys: list[str]) -> dict[str, str]:
    """customer id as written -> centric's id: a customer id, an id merged into another (its heir), or a
    crm id of ``identities``."""
    if not keys:
        return {}
    from ..privacy import merged_into

    c = store.table("customers")
    known = set(only(c, "customer_id", keys).select("customer_id").execute()["customer_id"])
    out = {k: k for k in keys if k in known}
    idt = store.table("identities")
    rest = [k for k in keys if k not in out]
    if rest:
        crm = only(idt.filter(idt.kind == "crm_id"), "value", rest).select("value", "customer_id")
        out.update(dict(crm.execute().itertuples(index=False, name=None)))
    for k in keys:
        if k not in out and k.startswith("C"):
            heir = merged_into(store, k)
            if heir is not None:
                out[k] = heir
    return out


def _resolve_emails(store: Store, emails: list[str]) -> dict[str, str]:
    if not emails:
        return {}
    idt = store.table("identities")
    found = only(idt.filter(idt.kind == "email"), "value", emails).select("value", "customer_id")
    return dict(found.execute().itertuples(index=False, name=None))


def _erased(store: Store, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    e = store.table("erasures")
    return set(only(e, "customer_id", keys).select("customer_id").execute()["customer_id"])


def _recent(store: Store, table: str, column: str, since: dt.datetime, ids: pd.Series) -> set[str]:
    t = store.table(table)
    hit = t.filter((t[column] >= since) & t.customer_id.notnull()).select("customer_id").distinct()
    return set(hit.execute()["customer_id"]) & set(ids)


def customer_emails(store: Store, frame: pd.DataFrame) -> pd.Series:
    """For each row of ``frame`` (customer_id, email): the address given in the file, else the customer's e-mail identity seen last (None when none)."""
    if not len(frame):
        return pd.Series([], dtype=object)
    idt = store.table("identities")
    found = only(idt.filter(idt.kind == "email"), "customer_id", frame["customer_id"]) \
        .select("customer_id", "value", "first_seen_at").execute()
    latest = (found.sort_values(["customer_id", "first_seen_at", "value"]).drop_duplicates("customer_id", keep="last")
              .set_index("customer_id")["value"])
    known = frame["customer_id"].map(latest)
    given = frame["email"]
    return given.where(given.notna(), known).astype(object).where(lambda s: s.notna(), None)


def customer_languages(store: Store, survey: Survey, ids: pd.Series) -> pd.Series:
    """The customer's language when the survey has texts in it, else the survey's default language."""
    if not len(ids):
        return pd.Series([], dtype=object)
    c = store.table("customers")
    langs = only(c, "customer_id", ids).select("customer_id", "language").execute()
    by_id = langs.set_index("customer_id")["language"]
    return ids.map(by_id).map(lambda v: survey.language_for(v if isinstance(v, str) else None)).astype(object)


def link_settings(survey: Survey, base_url: str | None, link_days: int | None) -> tuple[str, int]:
    """The links' base address and life in days (``survey_base_url``, ``survey_link_days``, or the values
    given), after checking that ``survey`` is stored."""
    base = settings.get("survey_base_url", base_url).strip().rstrip("/")
    days = settings.get_positive_int("survey_link_days", link_days)
    if survey.survey_id is None:
        raise SurveyError("the survey must be stored before inviting (centric surveys add)")
    return base, days


def issue(store: Store, plan: Plan, base_url: str | None = None, link_days: int | None = None) -> list[Link]:
    """Write one invitation per planned customer (one transaction) and return their links
    ``BASE_URL/s/TOKEN``; they expire after ``survey_link_days``."""
    survey = plan.survey
    base, days = link_settings(survey, base_url, link_days)
    if not len(plan.invite):
        return []
    key = tokens.secret(store)
    expires = plan.now + dt.timedelta(days=days)
    n = len(plan.invite)
    with store.transaction():
        store.lock_writes()  # PostgreSQL: the ids (the highest plus one) stay unique until the commit
        first = store.execute("SELECT coalesce(max(invitation_id), 0) + 1 FROM survey_invitations").fetchone()[0]
        rows = pd.DataFrame({
            "invitation_id": pd.Series(range(first, first + n), dtype="int64"),
            "survey_id": survey.survey_id,
            "customer_id": plan.invite["customer_id"].values,
            "email": plan.invite["email"].values,
            "language": plan.invite["language"].values,
            "created_at": plan.now,
            "expires_at": expires,
        })
        store.insert_frame("survey_invitations", rows)
    return [Link(int(i), c, e if isinstance(e, str) else None, lang, f"{base}/s/{tokens.make(key, int(i))}", expires)
            for i, c, e, lang in zip(rows["invitation_id"], rows["customer_id"], rows["email"], rows["language"],
                                     strict=True)]


def write_links(path: str | Path, links: list[Link]) -> None:
    """links.csv: one row per invitation (invitation_id, customer_id, email, language, link, expires_at)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(LINK_COLUMNS)
        for link in links:
            w.writerow([link.invitation_id, link.customer_id, link.email or "", link.language, link.url,
                        link.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")])


__all__ = ["REASONS", "Link", "Plan", "issue", "plan", "read_customers_csv", "read_people_csv", "write_links"]
