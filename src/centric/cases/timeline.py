"""One customer, one timeline: everything centric knows of a customer, newest first.

``timeline(store, who)`` finds the customer by id — also an id merged into another, followed to the
customer it became — or by any identity (e-mail, phone however written, handle with or without @,
loyalty card, the source's crm id), normalised as ingest normalises it. It returns the customer's
profile (name, merged ids, every identity), their latest scores (P(alive) and the one before, CLV,
loyalty phase) and, across all of their identities, their orders, survey answers, feedback texts,
journey events, cases with each case's signals, and every case event, as items newest first.

Rows resolve to the surviving customer when customers merge, so the items are those whose
``customer_id`` is the customer or one of the ids merged into it; a feedback text or a case of no known
customer whose ``author``, read as a handle (without @, lower-cased), is one of the customer's handles
is theirs too (the loop opens cases for unknown authors by their handle).

The timeline is the service team's tool, so it shows the identities in full; it is never logged. An
item's ``summary`` is one short line in which customer text is cut; its ``details`` hold the row.

>>> import centric
>>> from centric.cases.timeline import timeline
>>> with centric.connect(":memory:", read_only=False) as store:
...     timeline(store, "nobody@example.com")
Traceback (most recent call last):
centric.errors.CentricError: no customer is known by 'nobody@example.com' (looked up as customer id or merged id, ...
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import ibis
import pandas as pd

from .. import settings
from ..errors import CentricError
from ..privacy import find_customer, merged_from
from ..store import Store
from .store_io import frame, parse_json, prepared_rows, records

__all__ = ["KINDS", "Item", "Profile", "Timeline", "find_customers", "timeline"]

KINDS = ("order", "response", "feedback", "event", "case", "case_event")
"""The kinds of timeline items."""

SUMMARY_TEXT = 60
"""Customer text in a summary is cut to this many characters."""

# kind → (table, key column, time column)
_PREPARED_IDS = 64
"""Up to this many case ids are bound as parameters of a prepared query; more are compiled as a list."""

_SOURCES = {
    "order": ("orders", "order_id", "ordered_at"),
    "response": ("responses", "response_id", "responded_at"),
    "feedback": ("feedback", "feedback_id", "posted_at"),
    "event": ("events", "event_id", "occurred_at"),
    "case": ("cases", "case_id", "opened_at"),
    "case_event": ("case_events", "case_event_id", "occurred_at"),
}
BRIEF = {
    "order": ("order_id", "customer_id", "ordered_at", "amount", "currency", "channel", "store", "category"),
    "response": ("response_id", "customer_id", "responded_at", "survey", "touchpoint", "nps", "csat", "ces", "comment",
                 "language"),
    "feedback": ("feedback_id", "customer_id", "posted_at", "source", "brand", "rating", "title", "text", "language",
                 "author"),
    "event": ("event_id", "customer_id", "occurred_at", "journey", "stage", "touchpoint", "channel"),
    "case": ("case_id", "customer_id", "author", "opened_at", "department", "owner", "status", "priority", "type",
             "origin", "summary"),
    "case_event": ("case_event_id", "case_id", "occurred_at", "kind", "actor", "department", "target", "level", "clock",
                   "note"),
}
"""The columns a brief timeline reads of each kind: what its summary and a page show. Reading a row by index
costs DuckDB about as much per column as the lookup itself, and a case has some thirty."""

# at one instant, newest first: a case's later events before its earlier ones, and before the case
_TIE = {"case_event": 0, "case": 1, "feedback": 2, "response": 3, "event": 4, "order": 5}


@dataclass(frozen=True)
class Item:
    """One thing that happened: ``at`` (UTC), ``kind`` (one of :data:`KINDS`), ``id`` (the row's key),
    a one-line ``summary`` (customer text cut) and the row itself as ``details``."""

    at: dt.datetime
    kind: str
    id: str
    summary: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"at": _iso(self.at), "kind": self.kind, "id": self.id, "summary": self.summary,
                "details": {k: _plain(v) for k, v in self.details.items()}}


@dataclass(frozen=True)
class Profile:
    """Who the customer is: the customer row, the ids merged into it and every identity
    (kind, value, first seen), and how ``looked_up`` was found."""

    customer_id: str
    looked_up: str
    name: str | None = None
    segment: str | None = None
    country: str | None = None
    language: str | None = None
    city: str | None = None
    first_seen_at: dt.datetime | None = None
    merged_ids: tuple[str, ...] = ()
    identities: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Timeline:
    """A customer's profile, latest scores (None before ``centric customers score``) and items newest
    first; ``total`` counts the items of the kinds asked for before ``limit`` cut them."""

    profile: Profile
    scores: dict | None
    items: tuple[Item, ...]
    total: int
    counts: dict[str, int]

    def to_dict(self) -> dict:
        """Plain JSON types: times as ISO 8601 (UTC, without offset, as stored), missing values as None."""
        return {"customer": self.profile.to_dict(),
                "scores": None if self.scores is None else {k: _plain(v) for k, v in self.scores.items()},
                "items": [i.to_dict() for i in self.items], "total": self.total, "counts": dict(self.counts)}

    def to_frame(self) -> pd.DataFrame:
        """One row per item: at, kind, id, summary, case_id (for cases and case events) and details."""
        return pd.DataFrame(
            {"at": [i.at for i in self.items], "kind": [i.kind for i in self.items], "id": [i.id for i in self.items],
             "summary": [i.summary for i in self.items],
             "case_id": [i.details.get("case_id") if i.kind in ("case", "case_event") else None for i in self.items],
             "details": [i.details for i in self.items]},
            columns=["at", "kind", "id", "summary", "case_id", "details"])

    def _repr_html_(self) -> str:
        from ..metrics.results import html_table

        return html_table(self.to_frame().drop(columns="details"),
                          f"Timeline of {self.profile.customer_id}: {len(self.items):,} of {self.total:,} items")


def timeline(store: Store, who: str, limit: int | None = None, kinds: tuple[str, ...] | list[str] | None = None,
             default_country: str | None = None, count: bool = True, brief: bool = False) -> Timeline:
    """The timeline of the customer named by ``who`` (see the module docstring): the newest ``limit``
    items (all by default) of the ``kinds`` asked for (all by default). ``default_country`` reads a
    phone number written without a prefix (default: the ``default_country`` setting). ``count=False``
    spares the counting queries of a limited timeline (a page that only needs to know whether there is
    more): each kind then counts at most ``limit + 1`` items, so ``total > limit`` still says so.
    ``brief=True`` reads only the columns of :data:`BRIEF` into each item's ``details``, and no case's signals
    (a page's timeline).

    Raises CentricError naming what was looked up when no customer matches, or naming the customers when
    an identity names several."""
    kinds = tuple(kinds) if kinds else KINDS
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise CentricError(f"unknown item kind {', '.join(map(repr, bad))}; use {', '.join(KINDS)}")
    if limit is not None and limit < 1:
        raise CentricError(f"the limit must be at least 1, got {limit}")
    cid = find_customer(store, who, settings.get("default_country", default_country), follow_merges=True)
    profile = _profile(store, cid, who)
    ids = [cid, *profile.merged_ids]
    handles = [i["value"] for i in profile.identities if i["kind"] == "handle"]

    cases = _case_rows(store, ids, handles, brief)
    case_ids = [r["case_id"] for r in cases]
    counts: dict[str, int] = {}
    items: list[Item] = []
    for kind in kinds:
        if kind == "case":
            rows = cases if limit is None else cases[:limit]
            counts[kind] = len(cases)
            signals = {} if brief else _signals(store, [r["case_id"] for r in rows])
            for r in _records(rows):
                if not brief:
                    r["signals"] = signals.get(r["case_id"], [])
                items.append(Item(r["opened_at"], kind, r["case_id"], _summary(kind, r), r))
            continue
        table, key, at = _SOURCES[kind]
        if kind == "case_event" and not case_ids:
            counts[kind] = 0
            continue
        t = store.table(table)
        if limit is not None and count:
            t = t.filter(t.case_id.isin(case_ids) if kind == "case_event" else _mine(t, ids, handles))
            counts[kind] = int(t.count().execute())
        else:
            counts[kind] = 0
        n = None if limit is None else limit + (not count)

        def newest(ids=(), handles=(), case_ids=(), table=table, kind=kind, at=at, key=key):
            t = store.table(table)
            t = t.filter(t.case_id.isin(case_ids) if kind == "case_event" else _mine(t, ids, handles))
            t = t.order_by([ibis.desc(at), ibis.desc(key)])
            return t.select(*[c for c in BRIEF[kind] if c in t.columns]) if brief else t
        if len(case_ids) <= _PREPARED_IDS:  # the newest n taken from the sorted rows: see prepared_rows
            rows = prepared_rows(store, f"timeline_{kind}{'_brief' if brief else ''}", newest, limit=n,
                                 **({"case_ids": case_ids} if kind == "case_event" else
                                    {"ids": ids, "handles": handles if "author" in t.columns else []}))
        else:
            rows = newest(list(ids), list(handles), case_ids)
            rows = frame(store, rows.limit(n) if n is not None else rows)
        if limit is None or not count:
            counts[kind] = len(rows)
        for r in _records(rows):
            if kind == "case_event":
                r["data"] = parse_json(r.get("data"))
            items.append(Item(r[at], kind, str(r[key]), _summary(kind, r), r))
    items.sort(key=lambda i: i.id, reverse=True)  # at one instant: the later-numbered event first
    items.sort(key=lambda i: (-_stamp(i.at), _TIE[i.kind]))
    total = sum(counts.values())
    return Timeline(profile, _scores(store, cid), tuple(items[:limit] if limit is not None else items), total,
                    counts)


def find_customers(store: Store, q: str | None = None, departments: list[str] | tuple[str, ...] | None = None,
                   limit: int = 50, offset: int = 0, default_country: str | None = None) -> tuple[list[dict], int]:
    """Customers for a search box, and how many there are: ``q`` names a customer by any identity (as
    :func:`timeline` finds one: id, merged id, e-mail, phone, handle, card — exactly) or is part of a
    customer id or name (case-insensitive); no ``q``: every customer. ``departments`` keeps the customers
    with at least one case in those departments (a reader who sees only their departments' cases; None:
    all). Rows (customer_id, name, segment, country, city, first_seen_at) by name, then id."""
    c = store.table("customers")
    if departments is not None:
        k = store.table("cases")
        mine = k.filter(k.department.isin(list(departments)) if departments else ibis.literal(False))
        c = c.filter(c.customer_id.isin(mine.customer_id))
    words = (q or "").strip()
    if words:
        hit = c.customer_id.lower().contains(words.lower()) | c.name.lower().contains(words.lower()).fill_null(False)
        try:
            exact = find_customer(store, words, settings.get("default_country", default_country), follow_merges=True)
        except CentricError:
            exact = None
        if exact is not None:
            hit = hit | (c.customer_id == exact)
        c = c.filter(hit)
    total = int(c.count().execute())
    rows = frame(store, c.select("customer_id", "name", "segment", "country", "city", "first_seen_at").order_by(
        [c.name.asc(nulls_first=False), c.customer_id]).limit(int(limit), offset=max(int(offset), 0)))
    return _records(rows), total


# -- reading ---------------------------------------------------------------------------------------
def _profile(store: Store, cid: str, who: str) -> Profile:
    c = store.table("customers")
    row = _records(prepared_rows(store, "customer", lambda cid: c.filter(c.customer_id == cid), cid=cid))
    r = row[0] if row else {}
    idt = store.table("identities")
    merged = merged_from(store, cid)
    idents = prepared_rows(store, "identities", lambda ids: idt.filter(idt.customer_id.isin(ids)).order_by(
        ["first_seen_at", "kind", "value"]), ids=[cid, *merged])
    found = "customer id" if who.strip() == cid else "merged id" if who.strip() in merged else "identity"
    return Profile(cid, f"{who.strip()} ({found})", r.get("name"), r.get("segment"), r.get("country"),
                   r.get("language"), r.get("city"), r.get("first_seen_at"), tuple(merged),
                   tuple({"kind": i["kind"], "value": i["value"], "first_seen_at": i["first_seen_at"]}
                         for i in _records(idents)))


def _case_rows(store: Store, ids: list[str], handles: list[str], brief: bool = False) -> list[dict]:
    """The customer's cases, newest first (``brief``: the columns of :data:`BRIEF`)."""
    t = store.table("cases")

    def query(ids, handles):
        mine = t.filter(_mine(t, ids, handles)).order_by([ibis.desc("opened_at"), ibis.desc("case_id")])
        return mine.select(*BRIEF["case"]) if brief else mine
    return prepared_rows(store, f"timeline_cases{'_brief' if brief else ''}", query, ids=ids, handles=handles)


def _mine(t, ids: list[str], handles: list[str]):
    """Rows of the customer (or of an id merged into them) and, in a table with an ``author``, rows of
    no customer whose author, read as a handle (trimmed, lower-cased, without leading @), is theirs."""
    mine = t.customer_id.isin(ids)
    if handles and "author" in t.columns:
        author = t.author.strip().lower().re_replace("^@+", "")
        mine = mine | (t.customer_id.isnull() & author.isin(handles))
    return mine


def _signals(store: Store, case_ids: list[str]) -> dict[str, list[dict]]:
    """case id → the rows that opened or joined it, in the order they were attached."""
    if not case_ids:
        return {}
    s = store.table("case_signals")

    def query(case_ids):
        return s.filter(s.case_id.isin(case_ids)).order_by(["attached_at", "signal_at", "signal_id"])
    rows = (prepared_rows(store, "timeline_signals", query, case_ids=case_ids) if len(case_ids) <= _PREPARED_IDS
            else frame(store, query(case_ids)))
    out: dict[str, list[dict]] = {}
    for r in _records(rows):
        out.setdefault(r["case_id"], []).append(
            {"table": r["source_table"], "id": r["signal_id"], "kind": r["kind"], "action": r["action"],
             "factor": r["factor"], "signal_at": r["signal_at"]})
    return out


def _scores(store: Store, cid: str) -> dict | None:
    """The latest scoring of the customer, P(alive) of the scoring before it, and the loyalty phase."""
    from ..customers.loyalty import advocates, phases
    from ..customers.scoring import LOST_THRESHOLD

    s = store.table("customer_scores")
    rows = _records(prepared_rows(store, "scores", lambda cid: s.filter(s.customer_id == cid).order_by(
        [ibis.desc("scored_at"), ibis.desc("clv")]).select(
        "scored_at", "as_of", "p_alive", "clv", "currency", "expected_purchases", "frequency", "horizon_days"),
        limit=50, cid=cid))
    if not rows:
        return None
    latest = rows[0]
    before = next((r for r in rows if r["scored_at"] < latest["scored_at"]), None)
    loyal = str(phases([latest["frequency"]], [latest["p_alive"]], [False], LOST_THRESHOLD)[0]) == "loyal"
    # only a loyal customer can be an advocate: the others need not be looked up
    adv = loyal and cid in advocates(store, pd.Timestamp(latest["scored_at"]).normalize() + pd.Timedelta(days=1), [cid])
    phase = str(phases([latest["frequency"]], [latest["p_alive"]], [adv], LOST_THRESHOLD)[0])
    latest["as_of"] = pd.Timestamp(latest["as_of"]).date() if latest["as_of"] is not None else None
    return {**latest, "p_alive_before": None if before is None else before["p_alive"],
            "lost": bool(latest["p_alive"] < LOST_THRESHOLD), "loyalty_phase": phase}


# -- summaries -------------------------------------------------------------------------------------
def _summary(kind: str, r: dict) -> str:
    """One short line; customer text (comments, feedback, notes) cut to :data:`SUMMARY_TEXT` characters."""
    parts: list[str] = []
    if kind == "order":
        parts = [f"{r['amount']:,.2f} {r.get('currency') or ''}".strip(), r.get("channel"), r.get("store"),
                 r.get("category")]
    elif kind == "response":
        scores = ", ".join(f"{k.upper()} {int(r[k])}" for k in ("nps", "csat", "ces") if r.get(k) is not None)
        parts = [scores, r.get("survey"), r.get("touchpoint"), _quote(r.get("comment"))]
    elif kind == "feedback":
        brand = r.get("brand")
        rating = r.get("rating")
        parts = [r.get("source") + (f" about {brand}" if brand and brand != "ours" else ""),
                 None if rating is None else f"rating {rating:g}", _quote(r.get("title") or r.get("text"))]
    elif kind == "event":
        parts = [f"{r.get('journey')}: {r.get('stage')}", r.get("touchpoint"), r.get("channel")]
    elif kind == "case":
        who = " / ".join(str(v) for v in (r.get("department"), r.get("owner")) if v)
        parts = [r.get("status") or "open", r.get("priority"), r.get("type") or "no factor", who,
                 r.get("origin"), _quote(r.get("summary"))]
    elif kind == "case_event":
        what = r["kind"].replace("_", " ")
        if r.get("level") is not None:
            what += f" (level {int(r['level'])})"
        if r.get("target"):
            what += f" → {r['target']}"
        parts = [f"{r['case_id']}: {what}", r.get("department"), r.get("clock"), r.get("actor"), _quote(r.get("note"))]
    return " · ".join(str(p) for p in parts if p not in (None, ""))


def _quote(text) -> str | None:
    if text is None:
        return None
    one = " ".join(str(text).split())
    if not one:
        return None
    return f"“{one if len(one) <= SUMMARY_TEXT else one[:SUMMARY_TEXT - 1].rstrip() + '…'}”"


# -- plain values ----------------------------------------------------------------------------------
def _records(frame: pd.DataFrame | list[dict]) -> list[dict]:
    """Rows as dicts of plain Python values: NaN/NaT/NA → None, timestamps → naive datetimes, JSON
    text → its value."""
    return records(frame, _value)


def _value(v):
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    if isinstance(v, (list, dict)):
        return v
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        v = v.item()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _plain(v):
    if isinstance(v, (dt.datetime, dt.date)):
        return _iso(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _iso(v) -> str | None:
    if v is None:
        return None
    return v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else v.isoformat()


def _stamp(at) -> float:
    return pd.Timestamp(at).timestamp() if at is not None else float("-inf")
