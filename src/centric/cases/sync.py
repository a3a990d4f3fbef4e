"""``centric cases sync``: every signal (see :mod:`centric.cases.signals`) belongs to exactly one case.

One case per customer (or author, when the customer is unknown) × factor × open window: a signal opens a
case unless the same customer already has one about the same factor that is still open and was opened
(or reopened) within the last ``cases_window_days`` (14) days — then it joins that case. A signal about a
case resolved or closed less than ``cases_grace_days`` (7) days before reopens it; later, it opens a new
case linked to the old one, so that resolution times stay honest. A signal with no factor opens a case in
the triage queue (the routing table's triage department). A row that a case imported from a helpdesk
export already covers (its ``feedback_id`` or ``response_id``) is recorded as imported and opens nothing.

Each placed signal gets a row in ``case_signals``, keyed by its table and id, so running the loop again
creates nothing new; a run reads only the signals that have no such row yet (an anti-join in the query).
By default (``centric cases sync``, the sync after ``ingest`` and ``analyze``) all of one run is one
transaction: cases, their events (opened, assigned, signal, reopened), the signals and the clocks. With
``slice_size`` (the web app's scheduler), the new signals are placed in slices of that many, in time order,
each slice one transaction of its own, and ``between()`` is called between two slices (the scheduler gives the
interpreter to the requests there). The run reads the new signals and the open cases of their customers once;
each slice decides on them as the slices before it left them, so the cases, their signals and events are those
of one transaction; the owners are chosen per slice from the agents' load as the store holds it then. The
caller keeps other writers out between the slices (the scheduler holds the writer's lock for the whole run).
A run stopped between two slices leaves the signals of the slices after it for the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .. import settings
from ..store import Store
from . import signals as sig
from . import store_io
from .model import OPEN, Policy, Routing
from .postgres import portable, sync_scope

__all__ = ["SyncResult", "sync"]


@dataclass(frozen=True)
class SyncResult:
    signals: int  # new signals placed by this run
    opened: int  # cases opened
    joined: int  # signals that joined an open case
    reopened: int  # signals that reopened a case within the grace period
    imported: int  # signals already covered by an imported case
    triage: int  # cases opened in the triage queue (no factor)
    pending: int  # signals whose text waits for centric analyze
    proactive: object | None = None  # ProactiveResult of the proactive contacts, when run

    def to_dict(self) -> dict:
        d = asdict(self)
        d["proactive"] = self.proactive.to_dict() if hasattr(self.proactive, "to_dict") else None
        return d


@portable(sync_scope)
def sync(store: Store, now: dt.datetime | None = None, routing: Routing | None = None,
         policy: Policy | None = None, since: dt.datetime | None = None, window_days: int | None = None,
         grace_days: int | None = None, unanalysed: bool = False, proactive: bool = True,
         slice_size: int | None = None, between: Callable[[], None] | None = None) -> SyncResult:
    """Place every new signal in its case (see the module's docstring); ``unanalysed=True`` takes texts
    that ``centric analyze`` has not seen yet as they are (without a factor: triage) instead of leaving them
    pending. ``now`` is when the loop runs (default: now, UTC). ``slice_size``: signals placed per transaction
    (default: all in one); ``between``: called before each slice (after the read of the signals, and between two)."""
    from .config import active

    now = _naive(now) or store_io.utcnow()
    if routing is None or policy is None:
        r0, p0 = active(store)
        routing, policy = routing or r0, policy or p0
    window = dt.timedelta(days=int(settings.get("cases_window_days", _s(window_days))))
    grace = dt.timedelta(days=int(settings.get("cases_grace_days", _s(grace_days))))
    if since is None and settings.get("cases_since"):
        since = dt.datetime.fromisoformat(settings.get("cases_since"))
    factors = frozenset(r.factor for r in routing.routes if r.factor)
    found = sig.find(store, since=_naive(since), touchpoint_factors=factors, new_only=True)
    big = len(found) >= _FREE_ROWS
    due = (found["signal_at"] <= pd.Timestamp(now)).to_numpy()
    analysed = found["analysed"].astype(bool).to_numpy()
    waiting = int((due & ~analysed).sum()) if not unanalysed else 0
    take = due & (analysed | unanalysed)
    covered = found["imported_case_id"].notna().to_numpy()
    imported = found[take & covered]
    fresh = found if (take & ~covered).all() else found[take & ~covered]  # each filter copies every column
    del found
    _free(big)
    run = _Run(now, window, grace, routing, policy, big)
    if len(fresh):
        from .routing import vip_customers

        fresh = _in_time_order(fresh)
        run.existing, run.vip = _existing(store, fresh), vip_customers(store, routing.vip_share)
    size = max(int(slice_size), 1) if slice_size else max(len(fresh), len(imported), 1)
    n = max(-(-len(fresh) // size), -(-len(imported) // size))
    totals = dict.fromkeys(("signals", "opened", "joined", "reopened", "imported", "triage"), 0)
    rows = [fresh, imported]  # held here until the last slice, which takes them over (see _place_slice)
    del fresh, imported
    for k in range(n):
        if between is not None:  # also before the first: after the read of the new signals
            between()
        run.carry = k + 1 < n
        part = rows if n == 1 else [r.iloc[k * size:(k + 1) * size] for r in rows]
        if not run.carry:
            rows = None  # the last slice's frames are the only reference left: freed as it places them
        part = _place_slice(store, run, part)
        totals = {key: totals[key] + part[key] for key in totals}
    del rows, run
    _free(big)  # before what follows (proactive, the caller's next step): the run's frames and Arrow's pool
    result = SyncResult(**totals, pending=waiting)
    if proactive and store.count("customer_scores"):
        from .proactive import proactive as run_proactive

        result = SyncResult(**{**asdict(result), "proactive": run_proactive(store, now=now, routing=routing)})
    return result


@dataclass
class _Run:
    """What the slices of one run share: its settings, and the latest loop-made case of each customer × factor
    among the run's signals (:func:`_existing`), which each slice updates with what it decided."""

    now: dt.datetime
    window: dt.timedelta
    grace: dt.timedelta
    routing: Routing
    policy: Policy
    big: bool
    existing: dict = field(default_factory=dict)
    vip: set = field(default_factory=set)
    carry: bool = False  # a slice follows the one being placed


def _place_slice(store: Store, run: _Run, frames: list[pd.DataFrame]) -> dict[str, int]:
    """One transaction: ``frames`` = [fresh, imported]; ``fresh`` (in time order) placed in cases, ``imported``
    recorded; the counts. The list is emptied: when the caller holds no other reference, ``fresh`` is freed once
    placed, before the new cases are routed and written (a million signals: several hundred MB)."""
    now, routing, policy, big = run.now, run.routing, run.policy, run.big
    fresh, imported = frames
    frames.clear()
    with store.transaction() as con:
        n_fresh = len(fresh)
        new_cases, events, links = _place(store, con, fresh, run)
        del fresh
        _free(big)
        opened, triage = len(new_cases), int(new_cases["type"].isna().sum()) if len(new_cases) else 0
        first = None
        if opened:
            new_cases, first = _route_and_write(con, new_cases, routing, now, run.vip)
            _free(big)
        if len(imported):
            links = pd.concat([links, pd.DataFrame({
                "source_table": imported["source_table"], "signal_id": imported["signal_id"],
                "case_id": imported["imported_case_id"], "customer_id": imported["customer_id"],
                "kind": imported["kind"], "factor": imported["factor"], "signal_at": imported["signal_at"],
                "action": "imported"})], ignore_index=True)
        events = store_io.append_events(con, events)
        actions = links["action"].value_counts() if len(links) else pd.Series(dtype="int64")
        if len(links):
            store_io.insert_rows(con, "case_signals", links.assign(attached_at=now))
        del links
        _free(big)
        _clocks(store, con, new_cases, first, events, now, routing, policy)
    return {"signals": int(n_fresh + len(imported)), "opened": int(opened), "joined": int(actions.get("joined", 0)),
            "reopened": int(actions.get("reopened", 0)), "imported": int(len(imported)), "triage": triage}


_FREE_ROWS = 100_000
"""From this many signals in a run, the memory of each step is given back before the next (:func:`_free`): a
full collection of the interpreter's objects holds the interpreter for tens of milliseconds, which a run of a few
thousand signals (the web app's scheduler) need not spend."""


def _free(big: bool = True) -> None:
    """Give back what the frames of the last step held: pandas and Ibis leave reference cycles that keep a
    million rows alive until the collector runs, and Arrow's allocator keeps freed memory for reuse. Nothing
    when not ``big`` (see :data:`_FREE_ROWS`)."""
    if not big:
        return
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    _trim()


def _trim() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``: pandas' and NumPy's small blocks
    freed by the step before stay mapped otherwise); nothing where there is no glibc."""
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass


_CLOCK_CHUNK = 200_000
"""New cases whose clocks are computed at a time: the clocks' working arrays stay small."""


def _clocks(store: Store, con, new_cases, first, events, now, routing, policy) -> None:
    """The clocks of every case this run opened or touched: the new ones from what is in memory (their rows
    and events were all written by this run, and they have no clocks yet), the others from the store.
    ``first``: the new cases' first events and, for each, the position of its case in ``new_cases``."""
    from .clocks import compute_clocks, refresh_clocks

    touched = events is not None and len(events) > 0
    is_new = store_io.is_in(events["case_id"], new_cases["case_id"]) if touched and len(new_cases) else None
    cols = ["case_id", "occurred_at", "kind"]  # what the clocks of new cases read
    if len(new_cases):
        first_events, first_pos = first
        mine = events.loc[is_new, cols] if is_new is not None and is_new.any() else events.iloc[:0][cols]
        mine_pos = pd.Index(new_cases["case_id"]).get_indexer(mine["case_id"]) if len(mine) else np.zeros(0, int)
        for lo in range(0, len(new_cases), _CLOCK_CHUNK):
            hi = min(lo + _CLOCK_CHUNK, len(new_cases))
            a, b = np.searchsorted(first_pos, [lo, hi])
            # each case's events in the order they were written (their ids'); compute_clocks orders them by
            # time, keeping that order at the same instant. Only each case's latest cycle: what case_clocks keeps.
            ev = pd.concat([first_events.iloc[a:b], mine[(mine_pos >= lo) & (mine_pos < hi)]], ignore_index=True)
            store_io.insert_rows(con, "case_clocks", compute_clocks(new_cases.iloc[lo:hi], ev, policy, routing, now))
    older = pd.unique((events["case_id"] if is_new is None else events["case_id"][~is_new]).astype(object)) \
        if touched else []
    if len(older):
        refresh_clocks(store, con, sorted(older), now=now, routing=routing, policy=policy)


def _place(store: Store, con, fresh: pd.DataFrame, run: _Run):
    """Decide, signal by signal in time order within each customer × factor (``fresh`` is in time order), whether
    it opens, joins or reopens a case; updates the cases that signals joined or reopened, and (when a slice
    follows: ``run.carry``) ``run.existing`` with the latest case of each customer × factor. Returns the new cases (not routed yet), the events of the cases that exist
    and the case_signals rows."""
    now, window, grace, existing = run.now, run.window, run.grace, run.existing
    empty_links = pd.DataFrame(columns=["source_table", "signal_id", "case_id", "customer_id", "kind", "factor",
                                        "signal_at", "action"])
    if not len(fresh):
        return pd.DataFrame(columns=["case_id", "type"]), pd.DataFrame(columns=["case_id"]), empty_links
    author = fresh["author"].fillna("").str.strip().str.lower()
    who = ("a:" + author).where(author != "", "s:" + fresh["source_table"] + ":" + fresh["signal_id"].astype(str))
    who = ("c:" + fresh["customer_id"]).where(fresh["customer_id"].notna(), who)

    n = len(fresh)
    at = fresh["signal_at"].to_numpy()
    codes, uniq = pd.factorize(who + "\0" + fresh["factor"].fillna(""))
    del who, author
    sizes = np.bincount(codes)
    known = store_io.is_in(pd.Series(uniq), list(existing)) if existing else np.zeros(len(uniq), dtype=bool)
    simple = (sizes[codes] == 1) & ~known[codes]  # a customer's only signal about a factor, no case yet: opens
    action = np.full(n, "opened", dtype=object)
    new_idx = np.full(n, -1, dtype=np.int64)  # the new case a row opens or joins (-1: an existing case)
    case_ref = np.full(n, None, dtype=object)  # the existing case it joins or reopens
    link_case = {}  # new case index → the earlier case (an id, or a new index) of the same customer × factor
    new_idx[simple] = np.arange(int(simple.sum()))
    new_k = int(simple.sum())
    win, gr = np.timedelta64(window), np.timedelta64(grace)
    state: dict[int, list] = {}
    rest = np.flatnonzero(~simple)
    for i in rest[np.argsort(codes[rest], kind="stable")]:  # the rest, in time order within each customer × factor
        k = codes[i]
        cur = state.get(k)
        if cur is None and known[k]:
            e = existing[uniq[k]]
            cur = state[k] = [e["case_id"], e["anchor"], e["open"], e["ended"], -1]
        t = at[i]
        if cur is not None:
            case, anchor, is_open, ended, idx = cur
            joins = (is_open and t - anchor <= win) or (not is_open and (ended is None or t <= ended))
            reopens = not joins and not is_open and t - ended <= gr
            if joins or reopens:
                action[i] = "joined" if joins else "reopened"
                new_idx[i], case_ref[i] = idx, case if idx < 0 else None
                if reopens:
                    cur[1], cur[2] = t, True
                continue
        new_idx[i] = new_k
        if cur is not None:
            link_case[new_k] = cur[0] if cur[4] < 0 else cur[4]
        state[k] = [None, t, True, None, new_k]
        new_k += 1

    opening_mask = action == "opened"
    opening = fresh[opening_mask]  # in time order: so are the case ids
    ids = np.array(store_io.new_case_ids(con, len(opening)), dtype=object)
    id_of = np.empty(max(new_k, 1), dtype=object)  # (one slot when nothing opens: every row joins)
    opened_k = new_idx[opening_mask]
    id_of[opened_k] = ids
    case_id = np.where(new_idx >= 0, id_of[np.maximum(new_idx, 0)], case_ref)
    if run.carry:  # what the next slice decides on
        for k, (case, anchor, is_open, ended, idx) in state.items():
            existing[uniq[k]] = {"case_id": case if idx < 0 else id_of[idx], "anchor": anchor, "open": is_open,
                                 "ended": ended}
        for i in np.flatnonzero(simple):
            existing[uniq[codes[i]]] = {"case_id": id_of[new_idx[i]], "anchor": at[i], "open": True, "ended": None}
    linked = np.full(len(opening), None, dtype=object)
    if link_case:
        position = np.empty(new_k, dtype=np.int64)
        position[opened_k] = np.arange(len(opening))
        for k, v in link_case.items():
            linked[position[k]] = v if isinstance(v, str) else id_of[v]
    from .routing import go_public_many

    threat = np.zeros(len(opening), dtype=bool)
    maybe = opening["maybe_public"].to_numpy(dtype=bool)
    if maybe.any():
        threat[maybe] = go_public_many(sig.fetch_texts(store, opening[maybe]))
    flags = opening["flags"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(threat):
        flags[i] = [*flags[i], "go_public"]
    o = opening.reset_index(drop=True)  # columns stay Arrow-backed (no million Python strings each)
    new_cases = pd.DataFrame({
        "case_id": ids, "customer_id": o["customer_id"], "author": o["author"].where(o["customer_id"].isna()),
        "opened_at": o["signal_at"], "type": o["factor"], "channel": _case_channel(o), "country": o["country"],
        "language": o["language"], "summary": o["summary"].where(o["summary"].fillna("").str.strip() != "", None),
        "feedback_id": o["signal_id"].where(o["source_table"] == "feedback"),
        "response_id": o["signal_id"].where(o["source_table"] == "responses"),
        "linked_case_id": linked,
        "flags": flags,
    })
    del o, opening
    later = fresh[~opening_mask].assign(case_id=case_id[~opening_mask], action=action[~opening_mask])
    ev = [pd.DataFrame({"case_id": later["case_id"], "occurred_at": later["signal_at"],
                        "kind": "reopened", "actor": "customer", "note": "the customer wrote again",
                        "data": [{"reason": "signal", "table": t, "id": s}
                                 for t, s in zip(later["source_table"], later["signal_id"], strict=True)]}
                       )[(later["action"] == "reopened").to_numpy()],
          pd.DataFrame({"case_id": later["case_id"], "occurred_at": later["signal_at"], "kind": "signal",
                        "actor": "customer",
                        "data": [{"table": t, "id": s, "kind": k} for t, s, k in
                                 zip(later["source_table"], later["signal_id"], later["kind"], strict=True)]})]
    events = pd.concat(ev, ignore_index=True).sort_values(["case_id", "occurred_at"], kind="stable")
    reopened = later[later["action"] == "reopened"].groupby("case_id").size()
    if len(later):
        store_io.update_cases(con, pd.DataFrame({"case_id": sorted(set(later["case_id"])), "updated_at": now}))
    for case, times in reopened.items():  # a handful: one statement each
        con.execute("UPDATE cases SET status = 'in_progress', closed_at = NULL, "
                    "reopen_count = coalesce(reopen_count, 0) + ? WHERE case_id = ?", [int(times), case])
    links = fresh[["source_table", "signal_id"]].assign(case_id=case_id).join(
        fresh[["customer_id", "kind", "factor", "signal_at"]]).assign(action=action)
    return new_cases, events, links


def _in_time_order(fresh: pd.DataFrame) -> pd.DataFrame:
    """The signals ordered by time, then table and id (as :func:`signals.find` returns them: then nothing is
    sorted) — the order in which they are placed, and sliced."""
    at = fresh["signal_at"].to_numpy()
    step = np.diff(at)
    if len(at) < 2 or not (step < np.timedelta64(0)).any():
        tie = np.flatnonzero(step == np.timedelta64(0))  # a few rows at the same instant: checked one by one
        t, i = fresh["source_table"].to_numpy(), fresh["signal_id"].astype(str).to_numpy()
        if all((t[j], i[j]) <= (t[j + 1], i[j + 1]) for j in tie):
            return fresh
    return fresh.sort_values(["signal_at", "source_table", "signal_id"], kind="stable")


def _existing(store: Store, fresh: pd.DataFrame) -> dict[str, dict]:
    """The latest loop-made case of each customer/author × factor among the signals' customers."""
    c = store.table("cases")
    c = c.filter(c.origin.isin(["signal", "manual"]))
    cols = c.select("case_id", "customer_id", "author", "type", "status", "opened_at", "resolved_at", "closed_at")
    ids = fresh["customer_id"].dropna().unique().tolist()
    # an author is the same person whatever the case of the letters (as :func:`_place` keys them)
    authors = fresh.loc[fresh["customer_id"].isna(), "author"].dropna().str.strip().str.lower().unique().tolist()
    if not ids and not authors:
        return {}
    by_author = cols.filter(cols.customer_id.isnull()).mutate(_who=cols.author.strip().lower())
    df = pd.concat([store_io.only(cols, "customer_id", ids).execute(),
                    store_io.only(by_author, "_who", authors).drop("_who").execute()],
                   ignore_index=True)
    if not len(df):
        return {}
    ev = store.table("case_events")
    last_reopen = store_io.only(ev.filter(ev.kind == "reopened"), "case_id", df["case_id"]) \
        .group_by("case_id").aggregate(reopened_at=ev.occurred_at.max()).execute()
    df = df.merge(last_reopen, on="case_id", how="left")
    df["who"] = np.where(df["customer_id"].notna(), "c:" + df["customer_id"].fillna(""),
                         "a:" + df["author"].fillna("").str.strip().str.lower())
    df["fkey"] = df["type"].fillna("")
    df = df.sort_values("opened_at").drop_duplicates(["who", "fkey"], keep="last")
    out = {}
    for r in df.itertuples(index=False):
        anchor = max(x for x in (r.opened_at, r.reopened_at) if not pd.isna(x))
        ended = r.resolved_at if not pd.isna(r.resolved_at) else (None if pd.isna(r.closed_at) else r.closed_at)
        out[f"{r.who}\0{r.fkey}"] = {"case_id": r.case_id, "anchor": np.datetime64(anchor), "open": r.status in OPEN,
                                "ended": None if ended is None else np.datetime64(ended)}
    return out


def _route_and_write(con, new_cases: pd.DataFrame, routing: Routing, now: dt.datetime, vip: set[str]):
    """Route the new cases (``vip``: the customers whose cases are VIP) and write them with their first events
    (opened, assigned). Returns what their clocks read: the cases, and their events with the position of each
    one's case."""
    from .routing import agent_load, route

    load, last = agent_load(con)
    frame = new_cases.rename(columns={"type": "factor"}).assign(store=None)
    frame["vip"] = store_io.is_in(frame["customer_id"], vip)
    routed = route(frame, routing, load, last)
    del frame
    cases = new_cases.drop(columns=["flags"]).assign(
        department=routed["department"].to_numpy(), owner=routed["owner"].to_numpy(),
        priority=routed["priority"].to_numpy(), origin="signal", escalation_level=0, reopen_count=0, transfers=0,
        updated_at=now)
    del routed
    cases["status"] = np.where(cases["owner"].notna(), "assigned", "new")
    store_io.insert_rows(con, "cases", cases)
    has_owner = cases["owner"].notna().to_numpy()
    pos = np.concatenate([np.arange(len(cases)), np.flatnonzero(has_owner)])  # the case ids ascend with position
    pos = pos[np.argsort(pos, kind="stable")]  # each case's opened, assigned
    first = []
    for lo in range(0, len(cases), _CLOCK_CHUNK):  # in parts: a million cases' events are ~0.5 GB in pandas
        events = _first_events(cases.iloc[lo:lo + _CLOCK_CHUNK], has_owner[lo:lo + _CLOCK_CHUNK])
        store_io.append_events(con, events)
        first.append(events[["case_id", "occurred_at", "kind"]])
        del events
    clock_columns = ["case_id", "opened_at", "status", "priority", "channel", "department"]
    return cases[clock_columns], (pd.concat(first, ignore_index=True), pos)


def _first_events(cases: pd.DataFrame, has_owner: np.ndarray) -> pd.DataFrame:
    """The first events of new ``cases`` (routed; ``has_owner``: which have an owner): each case's opened, then
    assigned when it has an owner, the cases in their order."""
    opened = pd.DataFrame({
        "case_id": cases["case_id"], "occurred_at": cases["opened_at"], "kind": "opened", "actor": "system",
        "department": cases["department"], "data": '{"origin": "signal"}'})  # the signal: in case_signals
    assigned = pd.DataFrame({
        "case_id": cases["case_id"], "occurred_at": cases["opened_at"], "kind": "assigned", "actor": "system",
        "department": cases["department"], "target": cases["owner"]})[has_owner]
    opened["case_event_id"] = cases["case_id"] + ":00001"  # the cases are new: their events count from 1
    assigned["case_event_id"] = cases["case_id"][has_owner] + ":00002"
    events = pd.concat([opened, assigned], ignore_index=True)
    del opened, assigned
    order = np.argsort(np.concatenate([np.arange(len(cases)), np.flatnonzero(has_owner)]), kind="stable")
    return events.take(order).reset_index(drop=True)


def _case_channel(rows: pd.DataFrame) -> pd.Series:
    """Public posts keep their kind as the channel (social, review); other signals their own channel."""
    public = rows["kind"].isin(["social", "review"])
    return rows["kind"].where(public, rows["channel"].where(rows["channel"].notna(), rows["kind"]))


def _naive(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def _s(v) -> str | None:
    return None if v is None else str(v)
