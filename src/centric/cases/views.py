"""Cases as JSON objects: what ``centric cases list/show --json`` print and the web app's API serves.

Keep these objects stable (docs/cases.md, "Case objects (JSON)"): fields are added, never renamed or
dropped. Times are ISO-8601 UTC strings (``2026-10-31T09:15:00Z``); a missing value is ``null``.

>>> cases = list_cases(store, status="assigned", overdue=True)  # doctest: +SKIP
>>> cases[0]["due"]["first_response"]  # doctest: +SKIP
'2026-10-30T14:00:00Z'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import ibis
import pandas as pd

from ..errors import CaseError
from ..store import Store
from . import store_io
from .model import CASE_CLOCKS, OPEN, PRIORITY_RANK

__all__ = ["CLOCK_SEVERITY", "SORTS", "VIEWS", "case_choices", "case_json", "case_texts", "count_cases", "list_cases", "live_case", "running_clock",
           "show_case", "view_counts", "view_filter", "worst_clock"]

VIEWS = ("mine", "queue", "at_risk", "overdue", "triage", "all")
"""The inbox's views of :func:`list_cases` (see :func:`view_filter`)."""

RUNNING = ("on_track", "at_risk", "breached")
"""States of a clock that runs (not stopped, not paused while the case waits for the customer)."""

SORTS = ("time_left", "priority", "opened")
"""The orders :func:`list_cases` sorts by."""

HAND_TO_HAND = 1
"""A case transferred more times than this is flagged as passed from hand to hand."""

CLOCK_SEVERITY = {"breached": 4, "at_risk": 3, "on_track": 2, "paused": 1, "met": 0}
"""How bad a clock's state is, for showing a case's worst clock."""


def case_json(case: dict[str, Any], clocks: Iterable[dict[str, Any]] = (),
              signals: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """The object of one case from its ``cases`` row, its ``case_clocks`` rows and its ``case_signals``
    rows (the case's own imported feedback_id/response_id are added to the signals)."""
    case = {k: _value(v) for k, v in case.items()}
    by_clock = {c["clock"]: {k: _value(v) for k, v in c.items()} for c in clocks}
    sigs = [{"table": s["source_table"], "id": s["signal_id"], "kind": _value(s.get("kind")),
             "at": _iso(_value(s.get("signal_at")))} for s in signals]
    seen = {(s["table"], s["id"]) for s in sigs}
    for table, col in (("feedback", "feedback_id"), ("responses", "response_id")):
        if case.get(col) is not None and (table, case[col]) not in seen:
            sigs.insert(0, {"table": table, "id": case[col], "kind": None, "at": None})
    transfers = int(case.get("transfers") or 0)
    return {
        "id": case["case_id"],
        "customer_id": case.get("customer_id"),
        "author": case.get("author"),
        "department": case.get("department"),
        "owner": case.get("owner"),
        "status": case.get("status") or "open",
        "priority": case.get("priority"),
        "factor": case.get("type"),
        "origin": case.get("origin") or "import",  # the loop always sets it: a case without one was imported
        "channel": case.get("channel"),
        "country": case.get("country"),
        "store": case.get("store"),
        "language": case.get("language"),
        "opened_at": _iso(case.get("opened_at")),
        "updated_at": _iso(case.get("updated_at")),
        "resolved_at": _iso(case.get("resolved_at")),
        "closed_at": _iso(case.get("closed_at")),
        "due": {c: _iso(by_clock[c]["due_at"]) if c in by_clock else None for c in CASE_CLOCKS},
        "clock_states": {c: by_clock[c]["state"] if c in by_clock else None for c in CASE_CLOCKS},
        "running_clocks": [c for c in CASE_CLOCKS if c in by_clock and by_clock[c].get("stopped_at") is None
                           and by_clock[c]["state"] in RUNNING],
        "escalation_level": int(case.get("escalation_level") or 0),
        "escalated_to": case.get("escalated_to"),
        "transfers": transfers,
        "passed_hand_to_hand": transfers > HAND_TO_HAND,
        "reopen_count": int(case.get("reopen_count") or 0),
        "linked_case_id": case.get("linked_case_id"),
        "signals": sigs,
    }


def list_cases(store: Store, status: str | Iterable[str] | None = None, department: str | None = None,
               owner: str | None = None, overdue: bool = False, limit: int | None = None, *,
               departments: Sequence[str] | None = None, q: str | None = None, sort: str = "priority",
               view: str | None = None, offset: int = 0, priority: str | None = None, factor: str | None = None,
               channel: str | None = None, agent: str | None = None, now: dt.datetime | None = None,
               signals: bool = True, triage: str | None = None, touchpoint: str | None = None) -> list[dict[str, Any]]:
    """Case objects, filtered and sorted in one query.

    Filters: ``status`` (one or several), ``department``, ``owner``, ``priority``, ``factor``, ``channel``,
    ``touchpoint`` (the case was opened from an answer or a text with that touchpoint, or its type names it —
    as the journey map counts a touchpoint's cases), ``overdue`` (a running clock whose stored state is
    breached); ``departments`` limits the cases to those
    departments (the reader's scope: None is all); ``q`` searches the case id, the customer id, the author
    and the summary (case-insensitive); ``view`` is one of :data:`VIEWS` (``mine`` needs ``agent``, the
    owner's name; see :func:`view_filter`). ``sort``: ``priority`` (the most urgent first, then the oldest —
    the default), ``time_left`` (the earliest due time among the case's running clocks first, so overdue
    cases lead; cases without a running clock last) or ``opened`` (the newest first). ``limit`` and
    ``offset`` page through the result; ``now`` (default: the current time) decides what is at risk or
    overdue in the views. ``signals=False`` leaves out the signals each case holds (a list that shows
    none saves the query)."""
    if sort not in SORTS:
        raise CaseError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
    if view is not None and view not in VIEWS:
        raise CaseError(f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
    fixed, values = _request(store, status=status, department=department, owner=owner, overdue=overdue,
                             departments=departments, q=q, view=view, priority=priority, factor=factor,
                             channel=channel, agent=agent, now=now, triage=triage, touchpoint=touchpoint)
    limit = None if limit is None else int(limit)
    offset = max(int(offset or 0), 0)

    def build(**p):
        t = _filtered(store, fixed, p, clocks=sort == "time_left")
        rank = t.priority.cases(*((p, r) for p, r in PRIORITY_RANK.items()), else_=PRIORITY_RANK["normal"])
        t = t.mutate(_rank=rank)
        if sort == "time_left":
            order = [t["_next_due"].asc(nulls_first=False), t["_rank"].desc(), t.opened_at.asc(), t.case_id.asc()]
        elif sort == "opened":
            order = [t.opened_at.desc(), t.case_id.desc()]
        else:
            order = [t["_rank"].desc(), t.opened_at.asc(), t.case_id.asc()]
        t = t.order_by(order)
        if limit is not None or offset:
            t = t.limit(limit, offset=offset)
        return t.drop(*[c for c in ("_rank", "_next_due", "_risk_at") if c in t.columns])

    rows = store_io.prepared_rows(store, repr(("list_cases", fixed, sort, limit, offset)), build, **values)
    # a page is a short list of ids; a long list is read again through the query that chose it
    ids = [r["case_id"] for r in rows] if len(rows) <= 1000 else build(**_params(values)).case_id
    return _objects(store, rows, ids, signals=signals)


def count_cases(store: Store, status: str | Iterable[str] | None = None, department: str | None = None,
                owner: str | None = None, overdue: bool = False, *, departments: Sequence[str] | None = None,
                q: str | None = None, view: str | None = None, priority: str | None = None,
                factor: str | None = None, channel: str | None = None, agent: str | None = None,
                now: dt.datetime | None = None, triage: str | None = None, touchpoint: str | None = None) -> int:
    """How many cases :func:`list_cases` finds with the same filters (for paging)."""
    if view is not None and view not in VIEWS:
        raise CaseError(f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
    fixed, values = _request(store, status=status, department=department, owner=owner, overdue=overdue,
                             departments=departments, q=q, view=view, priority=priority, factor=factor,
                             channel=channel, agent=agent, now=now, triage=triage, touchpoint=touchpoint)
    rows = store_io.prepared_rows(store, repr(("count_cases", fixed)),
                                  lambda **p: _filtered(store, fixed, p, clocks=False).aggregate(n=ibis._.count()),
                                  **values)
    return int(rows[0]["n"] or 0)


def view_counts(store: Store, departments: Sequence[str] | None = None, agent: str | None = None,
                now: dt.datetime | None = None, triage: str | None = None) -> dict[str, int]:
    """The number of cases in each of :data:`VIEWS` within ``departments`` (None: all), in one query.
    ``triage``: the triage department (default: the routing table's)."""
    values = {"agent": agent or "", "now": _now(now).isoformat(sep=" "), "triage": triage or _triage(store)}
    if departments is not None:
        values["departments"] = [str(d) for d in departments]

    def build(agent, now, triage, departments=None):
        t = _with_clocks(store, _scoped(store, departments))
        now = now.cast("timestamp")
        return t.aggregate(**{v: view_filter(t, v, agent=agent, now=now, triage=triage).ifelse(1, 0).sum().name(v)
                              for v in VIEWS})

    row = store_io.prepared_rows(store, "view_counts", build, **values)[0]
    return {v: int(row[v] or 0) for v in VIEWS}


def view_filter(t, view: str, agent: str | None = None, now: dt.datetime | None = None,
                triage: str | None = None):
    """The condition on ``cases`` (joined with its running clocks, see :func:`list_cases`) of a view:

    - ``mine``: open cases owned by ``agent``;
    - ``queue``: new cases nobody owns yet (the department's queue);
    - ``at_risk``: open cases with a running clock past its at-risk moment and not yet due;
    - ``overdue``: open cases with a running clock past its due time;
    - ``triage``: open cases of the triage department (no factor: someone has to read and route them);
    - ``all``: every case.

    Open: new, open, assigned, in progress or waiting (imported cases without a status count as open)."""
    if view not in VIEWS:
        raise CaseError(f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
    now = now if isinstance(now, ibis.Expr) else _now(now)
    is_open = t.status.isin(list(OPEN)) | t.status.isnull()
    if view == "mine":
        return is_open & (t.owner == _or(agent, "")).fill_null(False)
    if view == "queue":
        return (t.status.isin(["new", "open"]) | t.status.isnull()) & t.owner.isnull()
    if view == "overdue":
        return is_open & (t["_next_due"] <= now).fill_null(False)
    if view == "at_risk":
        return is_open & (t["_risk_at"] <= now).fill_null(False) & (t["_next_due"] > now).fill_null(False)
    if view == "triage":
        return is_open & (t.department == _or(triage, "triage")).fill_null(False)
    return t.case_id.notnull()


def _or(value, default):
    """``value or default`` for a value that may be an Ibis placeholder (whose truth is not defined)."""
    return value if isinstance(value, ibis.Expr) else value or default


def case_choices(store: Store, departments: Sequence[str] | None = None) -> dict[str, list[str]]:
    """The departments, factors and channels of the cases within ``departments`` (None: all), sorted — the
    choices of the inbox's filters — in one query."""
    t = _scoped(store, departments)
    rows = store_io.frame(store, t.select("department", "type", "channel").distinct())
    return {key: sorted({str(v) for v in rows[col] if _value(v) is not None})
            for key, col in (("department", "department"), ("factor", "type"), ("channel", "channel"))}


def _request(store: Store, *, status, department, owner, overdue, departments, q, view, priority, factor,
             channel, agent, now, triage, touchpoint=None) -> tuple[tuple, dict[str, Any]]:
    """A request's filters split into what shapes the query (``fixed``: which filters are given, the view)
    and the values bound to it as parameters (texts and lists of texts; ``now`` as ISO text)."""
    wanted = None if status is None else [status] if isinstance(status, str) else [str(s) for s in status]
    words = (q or "").strip().lower() or None
    values: dict[str, Any] = {"status": wanted, "department": department, "owner": owner, "priority": priority,
                              "type": factor, "channel": channel, "touchpoint": touchpoint, "words": words,
                              "departments":
                              None if departments is None else [str(d) for d in departments]}
    if view == "mine":
        values["agent"] = agent or ""
    if view in ("overdue", "at_risk"):
        values["now"] = _now(now).isoformat(sep=" ")
    if view == "triage":
        values["triage"] = triage or _triage(store)
    values = {k: v for k, v in values.items() if v is not None}
    fixed = (tuple(sorted(values)), bool(wanted and "open" in wanted), bool(overdue), view)
    return fixed, values


def _params(values: dict[str, Any]) -> dict[str, Any]:
    """The values of :func:`_request` as literals, for a query compiled with them in place."""
    return {k: [ibis.literal(x) for x in v] if isinstance(v, list) else ibis.literal(v) for k, v in values.items()}


def _filtered(store: Store, fixed: tuple, p: dict[str, Any], clocks: bool):
    """The cases a request's filters keep; ``fixed`` and the placeholders ``p`` as :func:`_request` splits them."""
    _, with_open, overdue, view = fixed
    t = _scoped(store, p.get("departments"))
    if "status" in p:
        cond = t.status.isin(p["status"])
        t = t.filter(cond | t.status.isnull() if with_open else cond)  # imported without a status: open
    for col in ("department", "owner", "priority", "type", "channel"):
        if col in p:
            t = t.filter(t[col] == p[col])
    if "touchpoint" in p:
        r, f = store.table("responses"), store.table("feedback")
        tp = p["touchpoint"]
        t = t.filter(t.response_id.isin(r.filter(r.touchpoint == tp).response_id).fill_null(False)
                     | t.feedback_id.isin(f.filter(f.touchpoint == tp).feedback_id).fill_null(False)
                     | (t.type.lower() == tp).fill_null(False))
    if overdue:
        c = store.table("case_clocks")
        late = c.filter((c.state == "breached") & c.stopped_at.isnull()).select("case_id").distinct()
        t = t.filter(t.case_id.isin(late.case_id))
    if "words" in p:
        hit = ibis.literal(False)
        for col in ("case_id", "customer_id", "author", "summary"):
            hit = hit | t[col].lower().contains(p["words"]).fill_null(False)
        t = t.filter(hit)
    if clocks or view not in (None, "all", "mine", "queue", "triage"):
        t = _with_clocks(store, t)
    if view is not None:
        now = p["now"].cast("timestamp") if "now" in p else None
        t = t.filter(view_filter(t, view, agent=p.get("agent"), now=now, triage=p.get("triage")))
    return t


def _scoped(store: Store, departments: Sequence[str] | None):
    """The cases of ``departments`` (the reader's scope; None: every case). An empty scope reads nothing."""
    t = store.table("cases")
    if departments is not None:
        t = t.filter(t.department.isin(list(departments)) if len(departments) else ibis.literal(False))
    return t


def _with_clocks(store: Store, t):
    """``t`` with ``_next_due`` and ``_risk_at``: the earliest due and at-risk times of the case's running
    clocks (not stopped, not paused while the case waits for the customer); null without one."""
    c = store.table("case_clocks")
    running = c.filter(c.stopped_at.isnull() & c.state.isin(list(RUNNING)))
    nxt = running.group_by(c.case_id.name("_clock_case")).aggregate(
        _next_due=running.due_at.min(), _risk_at=running.at_risk_at.min())
    j = t.left_join(nxt, t.case_id == nxt["_clock_case"])
    return j.drop("_clock_case")


def _triage(store: Store) -> str:
    from .config import active

    return active(store)[0].triage_department


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return store_io.utcnow()
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo is not None else now


def running_clock(obj: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The case object's running clock that falls due first (the one the inbox shows): ``clock``,
    ``state``, ``due`` (ISO) and ``seconds_left`` until it is due (negative: overdue by that much) at
    ``now``; None when no clock runs (the case is waiting for the customer, or finished)."""
    now = _now(now)
    running = [(obj["due"][c], c) for c in obj["running_clocks"] if obj["due"].get(c)]
    if not running:
        return None
    due, clock = min(running)
    left = (dt.datetime.fromisoformat(due.rstrip("Z")) - now).total_seconds()
    return {"clock": clock, "state": obj["clock_states"][clock], "due": due, "seconds_left": left}


def live_state(clock: dict[str, Any], now: dt.datetime | None = None) -> str:
    """A clock's state at ``now`` (``clock`` as in :func:`show_case`'s ``clocks``: ISO ``due_at`` and
    ``at_risk_at``): the stored state is the last tick's, so a running clock whose due time has passed since
    reads ``breached`` here before the next tick records it (and escalates) — the rule of
    :func:`centric.cases.clocks.refresh` (breached once due, at risk once at risk). A paused or stopped clock
    keeps its stored state.

    >>> c = {"state": "on_track", "due_at": "2026-01-02T10:00:00Z", "at_risk_at": "2026-01-02T08:00:00Z"}
    >>> [live_state(c, dt.datetime(2026, 1, 2, h)) for h in (7, 8, 10)]
    ['on_track', 'at_risk', 'breached']
    >>> live_state({**c, "stopped_at": "2026-01-02T09:00:00Z"}, dt.datetime(2026, 1, 3))
    'on_track'
    """
    state = clock.get("state")
    if state not in RUNNING or clock.get("stopped_at") or not clock.get("due_at"):
        return state
    now = _now(now)
    if now >= dt.datetime.fromisoformat(clock["due_at"].rstrip("Z")):
        return "breached"
    risk = clock.get("at_risk_at")
    return "at_risk" if risk and now >= dt.datetime.fromisoformat(risk.rstrip("Z")) else "on_track"


def live_case(obj: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """:func:`show_case`'s object with its clocks' states at ``now`` (:func:`live_state`, as the case page shows
    them) in ``clocks`` and ``clock_states``; a new object, ``obj`` is left as it was.

    >>> c = {"state": "on_track", "due_at": "2026-01-02T10:00:00Z", "at_risk_at": "2026-01-02T08:00:00Z"}
    >>> obj = live_case({"clocks": {"resolution": c}, "clock_states": {"resolution": "on_track",
    ...                  "confirmation": None}}, dt.datetime(2026, 1, 2, 11))
    >>> obj["clock_states"], obj["clocks"]["resolution"]["state"], c["state"]
    ({'resolution': 'breached', 'confirmation': None}, 'breached', 'on_track')
    """
    now = _now(now)
    clocks = {name: {**c, "state": live_state(c, now)} for name, c in obj.get("clocks", {}).items()}
    states = {name: clocks[name]["state"] if name in clocks else state
              for name, state in obj.get("clock_states", {}).items()}
    return {**obj, "clocks": clocks, "clock_states": states}


def show_case(store: Store, case_id: str) -> dict[str, Any]:
    """One case's object with its clocks in full, root cause, action taken, summary and events (oldest
    first). CaseError when there is no such case."""
    cases = store_io.prepared_rows(store, "case", lambda cid: _of(store, "cases", cid), cid=str(case_id))
    if not cases:
        raise CaseError(f"there is no case {case_id!r}")
    clocks = store_io.prepared_rows(store, "case_clocks", lambda cid: _of(store, "case_clocks", cid),
                                    cid=str(case_id))
    obj = _objects(store, cases, [case_id], clocks=clocks)[0]
    row = {k: _value(v) for k, v in cases[0].items()}
    obj["clocks"] = {r["clock"]: {k: (_iso(v) if k.endswith("_at") else v) for k, v in r.items()
                                  if k not in ("case_id", "clock")}
                     for r in _records(clocks)}
    obj["root_cause"] = {"cause": row.get("root_cause"), "sub_cause": row.get("root_sub_cause"),
                         "note": row.get("root_cause_note")}
    obj["action"] = row.get("action_taken")
    obj["summary"] = row.get("summary")
    events = store_io.prepared_rows(store, "case_events", lambda cid: _of(store, "case_events", cid).order_by(
        ["occurred_at", "case_event_id"]), cid=str(case_id))
    obj["events"] = [{"id": e["case_event_id"], "at": _iso(e["occurred_at"]), "kind": e["kind"],
                      "actor": e["actor"], "department": e["department"], "target": e["target"],
                      "note": e["note"], "level": e["level"], "clock": e["clock"], "data": _data(e["data"])}
                     for e in _records(events)]
    return obj


def _of(store: Store, table: str, case_id):
    t = store.table(table)
    return t.filter(t.case_id == case_id)


def case_texts(store: Store, signals: Iterable[dict[str, Any]], limit: int = 50) -> list[dict[str, Any]]:
    """The customer's own words behind a case: the feedback texts and survey comments of its ``signals``
    (the ``signals`` of a case object), newest ``limit``, oldest first. Each is split into the sentences
    ``centric analyze`` judged (:func:`centric.text.sentences.sentences_of`, the indices of ``mentions``),
    each sentence with the factors found in it and their sentiment, so a page can mark the sentences
    about the case's factor. Texts not analysed yet have their sentences without factors.

    Each item: ``table``, ``id``, ``at`` (ISO), ``source`` (feedback source or survey), ``title``,
    ``rating`` / ``scores``, ``language`` (the text's, from the analysis or the row), ``sentiment`` (overall)
    and ``sentences`` — a list of {``text``, ``factors``: [{``factor``, ``sentiment``}]}."""
    from ..text.sentences import sentences_of

    wanted: dict[str, list[str]] = {"feedback": [], "responses": []}
    for s in signals:
        if s.get("table") in wanted and s.get("id") is not None and s["id"] not in wanted[s["table"]]:
            wanted[s["table"]].append(str(s["id"]))
    out: list[dict[str, Any]] = []
    for table, ids in wanted.items():
        ids = ids[-limit:]
        if not ids:
            continue
        rows = store_io.prepared_rows(store, f"texts_{table}", lambda ids, table=table: _texts(store, table, ids), ids=ids)
        found: dict[str, dict[int, dict[str, str]]] = {}
        for r in _records(store_io.prepared_rows(
                store, f"mentions_{table}", lambda ids, table=table: _analysed(store, "mentions", table, ids).select(
                    "text_id", "sentence", "factor", "sentiment"), ids=ids)):
            found.setdefault(r["text_id"], {}).setdefault(int(r["sentence"]), {})[r["factor"]] = r["sentiment"]
        seen: set[str] = set()
        for r in _records(rows):
            if r["id"] in seen:  # analysed under two taxonomies: the text once
                continue
            seen.add(r["id"])
            text = r.get("text") or ""
            marks = found.get(r["id"], {})
            item = {"table": table, "id": r["id"], "at": _iso(r["at"]), "source": r.get("source"),
                    "title": r.get("title"), "language": r.get("analysed_language") or r.get("language"),
                    "sentiment": r.get("sentiment"),
                    "sentences": [{"text": sent, "factors": [{"factor": f, "sentiment": v}
                                                             for f, v in sorted(marks.get(i, {}).items())]}
                                  for i, sent in enumerate(sentences_of(text))]}
            if table == "feedback":
                item["rating"] = r.get("rating")
            else:
                item["scores"] = {k: r[k] for k in ("nps", "csat", "ces") if r.get(k) is not None}
            out.append(item)
    out.sort(key=lambda i: (i["at"] or "", i["id"]))
    return out


def _texts(store: Store, table: str, ids):
    """The texts ``ids`` of ``table`` with their analysis' language and sentiment (null when not analysed)."""
    if table == "feedback":
        t = store.table("feedback")
        t = t.filter(t.feedback_id.isin(ids)).select(
            id=t.feedback_id, at=t.posted_at, source=t.source, title=t.title, text=t.text, language=t.language,
            rating=t.rating)
    else:
        t = store.table("responses")
        t = t.filter(t.response_id.isin(ids)).select(
            id=t.response_id, at=t.responded_at, source=t.survey, text=t.comment, language=t.language,
            nps=t.nps, csat=t.csat, ces=t.ces)
    a = _analysed(store, "text_analyses", table, ids).select(
        "text_id", analysed_language="language", sentiment="sentiment")
    return t.left_join(a, t.id == a.text_id).drop("text_id")


def _analysed(store: Store, name: str, table: str, ids):
    t = store.table(name)
    return t.filter((t.source == table) & t.text_id.isin(ids))


def worst_clock(obj: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(clock, state, due) of a case object's worst clock, for a one-line view; Nones without clocks."""
    states = {c: s for c, s in obj["clock_states"].items() if s is not None}
    if not states:
        return None, None, None
    clock = max(states, key=lambda c: (CLOCK_SEVERITY.get(states[c], 0), -CASE_CLOCKS.index(c)))
    return clock, states[clock], obj["due"][clock]


def _objects(store: Store, cases: pd.DataFrame | list[dict], ids, signals: bool = True,
             clocks: pd.DataFrame | list[dict] | None = None) -> list[dict[str, Any]]:
    """Case objects of the ``cases`` rows; ``ids``: their ids, as a list or as the column of the query that
    chose them (so the clocks and signals are read with one join, not a list of every id). ``clocks``: their
    ``case_clocks`` rows when already read; ``signals=False`` reads no signals."""
    if not len(cases):
        return []
    if clocks is None:
        c = store.table("case_clocks")
        clocks = (store_io.prepared_rows(store, "clocks_of", lambda ids: c.filter(c.case_id.isin(ids)), ids=ids)
                  if _few(ids) else store_io.frame(store, c.filter(c.case_id.isin(ids))))
    clocks_of: dict[str, list] = {}
    for r in _records(clocks):
        clocks_of.setdefault(r["case_id"], []).append(r)
    signals_of: dict[str, list] = {}
    if signals:
        s = store.table("case_signals")

        def query(ids):
            return s.filter(s.case_id.isin(ids)).order_by([s.signal_at, s.source_table, s.signal_id])
        rows = (store_io.prepared_rows(store, "signals_of", query, ids=ids) if _few(ids)
                else store_io.frame(store, query(ids)))
        for r in _records(rows):
            signals_of.setdefault(r["case_id"], []).append(r)
    return [case_json(r, clocks_of.get(r["case_id"], ()), signals_of.get(r["case_id"], ()))
            for r in _records(cases)]


def _few(ids) -> bool:
    """A short list of ids (a page's): read through a prepared query, its ids bound as parameters."""
    return isinstance(ids, list) and len(ids) <= 64


def _records(frame: pd.DataFrame | list[dict]) -> list[dict[str, Any]]:
    return store_io.records(frame, _value)


def _value(v: Any) -> Any:
    """A plain Python value: None for every kind of missing; ints and floats as Python's."""
    if v is None:
        return None
    if isinstance(v, (list, dict, tuple)):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return v
    if hasattr(v, "item") and not isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.item()
    return v


def _iso(v: Any) -> str | None:
    v = _value(v)
    if v is None:
        return None
    t = pd.Timestamp(v)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return t.to_pydatetime().isoformat(timespec="seconds") + "Z"


def _data(v: Any) -> Any:
    return store_io.parse_json(_value(v))
