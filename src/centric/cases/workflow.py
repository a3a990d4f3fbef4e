"""What people (and the customer) do to one case: assign, transfer, start, wait, comment, note, resolve,
close, reopen; the customer's messages and answers to "Was it solved?".

Each operation is one transaction that appends the case's events and updates its ``cases`` row (the
projection: status, owner, department, transfers, reopen_count, resolved_at, closed_at, root cause,
updated_at); then the case's clocks are refreshed. A move the workflow does not allow raises
:class:`~centric.errors.CaseError` saying why and what to do instead.

>>> from centric import Store
>>> store = Store.open(":memory:")  # doctest: +SKIP
>>> assign(store, "CX-0000001", "a.nowak", actor="m.lis")  # doctest: +SKIP
Outcome(case_id='CX-0000001', status='assigned', action='assigned', linked_from=None)

Statuses follow :data:`centric.cases.model.TRANSITIONS`. Two periods are settings: ``cases_grace_days``
(within it a customer message, a "no" or a reopen brings a resolved or closed case back; after it a new
case is opened and linked to the old one, so the old case's resolution time stays honest) and
``cases_token_days`` (how long the "Was it solved?" link answers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import customer_keys, settings
from ..errors import CaseError, CentricError
from ..store import Store
from . import store_io, tokens
from .clocks import refresh_clocks
from .model import TRANSITIONS
from .postgres import answer_scope, one_case_scope, portable, transfer_scope
from .signals import CONFIRMATION_SURVEY  # the survey of the answers to "Was it solved?"

__all__ = [
    "CONFIRMATION_SURVEY", "CaseError", "Outcome", "answer", "answer_confirmation", "assign", "close", "comment", "customer_message",
    "note", "reopen", "resolve", "root_causes", "start", "taxonomy", "transfer", "wait",
]

OTHER_CAUSE = "other"


@dataclass(frozen=True)
class Outcome:
    """What an operation did: ``case_id`` is the case acted on — a NEW case, linked to ``linked_from``,
    when a resolved or closed case was past its grace period."""

    case_id: str
    status: str
    action: str  # the event that says what happened: assigned, transferred, started, …, reopened, opened
    linked_from: str | None = None

    @property
    def message(self) -> str:
        if self.linked_from:
            return (f"case {self.linked_from} is past its grace period: new case {self.case_id} opened, "
                    f"linked to it")
        return f"case {self.case_id}: {self.action}, now {self.status}"


# -- the operations -----------------------------------------------------------------------------------------

@portable(one_case_scope)
def assign(store: Store, case_id: str, owner: str, actor: str, now: dt.datetime | None = None) -> Outcome:
    """Give the case to ``owner`` (a new or imported case becomes ``assigned``; a case already being
    worked on keeps its status)."""
    now = _now(now)
    owner = _required(owner, "the owner")
    case = _case(store, case_id)
    _refuse_finished(case, "assigned")
    status = _move(case, "assigned") if case["status"] in ("new", "open") else case["status"]
    _write(store, case, now, [_event(case, now, "assigned", actor, target=owner)],
           {"owner": owner, "status": status})
    return Outcome(case_id, status, "assigned")


@portable(transfer_scope)
def transfer(store: Store, case_id: str, department: str, actor: str, note: str | None = None,
             owner: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """Pass the case to another ``department`` (and ``owner``, else it waits in the department's queue as
    ``new``). Every transfer is counted; more than one flags the case as passed from hand to hand."""
    now = _now(now)
    department = _required(department, "the department")
    case = _case(store, case_id)
    _refuse_finished(case, "transferred")
    if department == case["department"]:
        raise CaseError(f"case {case_id} is already with department {department}; to give it to another person "
                        "there, assign it")
    _check_department(store, department)
    status = "assigned" if owner else "new"
    _write(store, case, now, [_event(case, now, "transferred", actor, department=department, target=owner,
                                     note=note)],
           {"department": department, "owner": owner, "status": status,
            "transfers": int(case["transfers"] or 0) + 1})
    return Outcome(case_id, status, "transferred")


@portable(one_case_scope)
def start(store: Store, case_id: str, actor: str, now: dt.datetime | None = None) -> Outcome:
    """Work on the case begins (``in_progress``); an unowned case is taken by ``actor``. A resolved or closed
    case is refused: it comes back through :func:`reopen`, which counts it."""
    now = _now(now)
    case = _case(store, case_id)
    _refuse_finished(case, "started")
    status = _move(case, "in_progress")
    events = [_event(case, now, "started", actor)]
    changes: dict[str, Any] = {"status": status}
    if not case["owner"]:
        events.insert(0, _event(case, now, "assigned", actor, target=actor))
        changes["owner"] = actor
    _write(store, case, now, events, changes)
    return Outcome(case_id, status, "started")


@portable(one_case_scope)
def wait(store: Store, case_id: str, actor: str, note: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """The case waits for the customer: its clocks pause until the customer writes (or work resumes)."""
    now = _now(now)
    case = _case(store, case_id)
    status = _move(case, "waiting")
    _write(store, case, now, [_event(case, now, "waiting", actor, note=note)], {"status": status})
    return Outcome(case_id, status, "waiting")


@portable(one_case_scope)
def comment(store: Store, case_id: str, text: str, actor: str, now: dt.datetime | None = None) -> Outcome:
    """A person's message to the customer (an ``agent_response``: it stops the first-response and
    next-response clocks). A new or assigned case is then in progress; a waiting case keeps waiting."""
    now = _now(now)
    text = _required(text, "the message")
    case = _case(store, case_id)
    if case["status"] == "closed":
        raise CaseError(f"case {case_id} is closed; reopen it to write to the customer")
    status = "in_progress" if case["status"] in ("new", "open", "assigned") else case["status"]
    _write(store, case, now, [_event(case, now, "agent_response", actor, note=text)], {"status": status})
    return Outcome(case_id, status, "agent_response")


@portable(one_case_scope)
def note(store: Store, case_id: str, text: str, actor: str, now: dt.datetime | None = None) -> Outcome:
    """An internal note (the customer does not see it; it stops no clock)."""
    now = _now(now)
    text = _required(text, "the note")
    case = _case(store, case_id)
    _write(store, case, now, [_event(case, now, "note", actor, note=text)], {})
    return Outcome(case_id, case["status"], "note")


@portable(one_case_scope)
def customer_message(store: Store, case_id: str, text: str, actor: str = "customer",
                     now: dt.datetime | None = None) -> Outcome:
    """The customer wrote about the case (``customer_contact``): a waiting case is worked on again; a
    resolved or closed case is reopened within the grace period, and after it the message opens a new case
    linked to the old one."""
    now = _now(now)
    text = _required(text, "the message")
    case = _case(store, case_id)
    if case["status"] in ("resolved", "closed"):
        return _come_back(store, case, now, actor, "the customer wrote again", first=("customer_contact", text))
    status = "in_progress" if case["status"] == "waiting" else case["status"]
    _write(store, case, now, [_event(case, now, "customer_contact", actor, note=text)], {"status": status})
    return Outcome(case_id, status, "customer_contact")


@portable(one_case_scope)
def resolve(store: Store, case_id: str, actor: str, note: str | None = None,
            now: dt.datetime | None = None) -> str:
    """The case is solved as far as the team can tell (``resolved``). Creates the customer's one-time
    "Was it solved?" token — returned here, the only time it is seen; the store keeps its hash — and
    records ``confirmation_sent``. Earlier unused tokens of the case stop answering."""
    now = _now(now)
    case = _case(store, case_id)
    status = _move(case, "resolved")
    token, digest = tokens.make_token()
    days = settings.get_positive_int("cases_token_days")
    expires = now + dt.timedelta(days=days)
    language = _language(store, case)
    events = [_event(case, now, "resolved", actor, note=note),
              _event(case, now, "confirmation_sent", "system",
                     data={"language": language, "expires_at": _iso(expires)})]

    def tokens_row(con) -> None:
        _expire_tokens(con, case_id, now)
        store_io.insert_rows(con, "case_tokens", pd.DataFrame([{
            "token_hash": digest, "case_id": case_id, "language": language, "created_at": now,
            "expires_at": expires, "used_at": None}]))

    _write(store, case, now, events, {"status": status, "resolved": True, "resolved_at": now, "closed_at": None},
           also=tokens_row)
    return token


@portable(one_case_scope)
def close(store: Store, case_id: str, actor: str, root_cause: str | None, action: str | None,
          sub_cause: str | None = None, note: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """Close a resolved case. Requires the root cause — a factor of the store's taxonomy, or ``other`` —
    and the action taken; ``sub_cause`` and ``note`` say more. Refused, naming what is missing, otherwise."""
    now = _now(now)
    case = _case(store, case_id)
    root_cause, action = (root_cause or "").strip(), (action or "").strip()
    allowed = root_causes(store)
    missing = [what for what, v in (("a root cause", root_cause), ("the action taken", action)) if not v]
    if missing:
        raise CaseError(f"case {case_id} cannot be closed without {' and '.join(missing)}"
                        + (f"; the root cause is one of: {', '.join(allowed)}" if not root_cause else ""))
    if root_cause not in allowed:
        raise CaseError(f"case {case_id}: root cause {root_cause!r} is not a factor of the taxonomy; use one of: "
                        f"{', '.join(allowed)}")
    status = _move(case, "closed")
    sub_cause = (sub_cause or "").strip() or None
    note = (note or "").strip() or None
    _write(store, case, now,
           [_event(case, now, "closed", actor, note=note,
                   data={"root_cause": root_cause, "sub_cause": sub_cause, "note": note, "action": action})],
           {"status": status, "closed_at": now, "resolved": True, "root_cause": root_cause, "root_sub_cause": sub_cause, "root_cause_note": note, "action_taken": action})
    return Outcome(case_id, status, "closed")


@portable(one_case_scope)
def reopen(store: Store, case_id: str, actor: str, reason: str, now: dt.datetime | None = None) -> Outcome:
    """Bring a resolved or closed case back (``in_progress``, reopen_count + 1) within the grace period;
    after it, open a new case linked to the old one (the outcome says so)."""
    now = _now(now)
    reason = _required(reason, "the reason")
    case = _case(store, case_id)
    if case["status"] not in ("resolved", "closed"):
        raise CaseError(f"case {case_id} is {case['status']}; only a resolved or closed case can be reopened")
    return _come_back(store, case, now, actor, reason)


@portable(answer_scope)
def answer(store: Store, token: str, solved: bool, csat: int | None = None, ces: int | None = None,
           comment: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """The customer's answer to "Was it solved?" through their one-time ``token``.

    Stored as a ``responses`` row (survey ``case-confirmation``; ``csat`` 1–5, ``ces`` 1–7, ``comment``, the
    link's language) joined to the case in ``case_signals``, and a ``confirmed`` or ``not_solved`` event.
    "No" reopens the case within the grace period, and after it opens a new case linked to it. A token
    that is unknown, used or expired is refused."""
    now = _now(now)
    _score(csat, "csat", 1, 5)
    _score(ces, "ces", 1, 7)
    row = tokens.check_token(store, token, now)
    case = _case(store, row["case_id"])
    response_id = f"{CONFIRMATION_SURVEY}:{row['token_hash'][:20]}"
    comment = (comment or "").strip() or None
    response = pd.DataFrame([{
        "response_id": response_id, "customer_id": case["customer_id"], "survey": CONFIRMATION_SURVEY,
        "responded_at": now, "channel": case["channel"], "touchpoint": "case", "csat": csat, "ces": ces,
        "comment": comment, "language": row["language"], "customer_key": customer_keys.key_of(case["customer_id"])}]
    ).astype({"csat": "Int64", "ces": "Int64", "customer_key": "Int32"})
    signal = pd.DataFrame([{
        "source_table": "responses", "signal_id": response_id, "case_id": case["case_id"],
        "customer_id": case["customer_id"], "kind": "survey", "factor": case["type"], "signal_at": now,
        "action": "joined", "attached_at": now}])

    def record(con) -> None:
        con.execute("UPDATE case_tokens SET used_at = ? WHERE token_hash = ?", [now, row["token_hash"]])
        store_io.insert_rows(con, "responses", response)
        store_io.insert_rows(con, "case_signals", signal)

    data = {"solved": bool(solved), "csat": csat, "ces": ces, "response_id": response_id}
    if solved:
        _write(store, case, now, [_event(case, now, "confirmed", "customer", data=data)], {}, also=record)
        return Outcome(case["case_id"], case["status"], "confirmed")
    told = _event(case, now, "not_solved", "customer", data=data)
    if case["status"] not in ("resolved", "closed"):  # reopened meanwhile: the answer joins the open case
        _write(store, case, now, [told], {}, also=record)
        return Outcome(case["case_id"], case["status"], "not_solved")
    return _come_back(store, case, now, "customer", "the customer says it is not solved", before=[told],
                      also=record)


answer_confirmation = answer  # the name the package exports


def root_causes(store: Store) -> list[str]:
    """The root causes a case may be closed with: the factor ids of the taxonomy the store's texts were
    analysed with (the latest analysis; ``retail`` when none) and of the factors added in the store, and
    ``other``."""
    return [*taxonomy(store).ids, OTHER_CAUSE]


def taxonomy(store: Store):
    """The taxonomy the store's texts were analysed with (the latest analysis; ``retail`` when none), with the
    factors added in the store: its factors are the root causes, and their names in each language label them."""
    from ..text.taxonomy import load_taxonomy, store_taxonomy_name, with_store_factors

    name = store_taxonomy_name(store)
    try:
        return with_store_factors(load_taxonomy(name), store)
    except CentricError as e:
        raise CaseError(f"the store's texts were analysed with taxonomy {name!r}, which cannot be loaded to "
                        f"check the root cause: {e}") from e


# -- the parts they share -----------------------------------------------------------------------------------

def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return store_io.utcnow()
    if now.tzinfo is not None:
        now = now.astimezone(dt.UTC).replace(tzinfo=None)
    return now


def _required(v: str | None, what: str) -> str:
    v = (v or "").strip()
    if not v:
        raise CaseError(f"{what} is missing")
    return v


def _score(v: int | None, name: str, low: int, high: int) -> None:
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise CaseError(f"{name} must be a whole number from {low} to {high}, got {v!r}")


def _case(store: Store, case_id: str) -> dict[str, Any]:
    cases = store_io.load_cases(store, [case_id])
    if not len(cases):
        raise CaseError(f"there is no case {case_id!r}")
    row = {k: (None if _missing(v) else v) for k, v in cases.iloc[0].to_dict().items()}
    row["status"] = row["status"] or "open"  # an imported case without a status
    for c in ("opened_at", "resolved_at", "closed_at"):
        if row[c] is not None:
            row[c] = pd.Timestamp(row[c]).to_pydatetime()
    return row


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _move(case: dict[str, Any], to: str) -> str:
    """``to`` if the workflow allows the case's status to become it; CaseError otherwise."""
    now = case["status"]
    if to in TRANSITIONS.get(now, ()):
        return to
    if now == to:
        raise CaseError(f"case {case['case_id']} is already {to}")
    allowed = TRANSITIONS.get(now, ())
    hint = {"closed": "; resolve it first", "resolved": ""}.get(to, "")
    if now in ("resolved", "closed") and to != "closed":
        hint = "; reopen it first"
    raise CaseError(f"case {case['case_id']} is {now} and cannot become {to} (from {now}: "
                    f"{', '.join(allowed) or 'nothing'}){hint}")


def _refuse_finished(case: dict[str, Any], what: str) -> None:
    if case["status"] in ("resolved", "closed"):
        raise CaseError(f"case {case['case_id']} is {case['status']} and cannot be {what}; reopen it first")


def _check_department(store: Store, department: str) -> None:
    """A department known to the routing table (or already holding cases); a typo would hide the case."""
    from .config import active

    routing, _ = active(store)
    known = set(routing.departments) | {r.department for r in routing.routes} | {
        routing.default_department, routing.triage_department, routing.proactive_department}
    if department in known:
        return
    t = store.table("cases")
    if int(t.filter(t.department == department).count().execute()):
        return
    raise CaseError(f"there is no department {department!r}; departments: {', '.join(sorted(known))}")


def _language(store: Store, case: dict[str, Any]) -> str:
    lang = case.get("language")
    if not lang and case.get("customer_id"):
        t = store.table("customers")
        got = t.filter(t.customer_id == case["customer_id"]).select("language").limit(1).execute()
        lang = got["language"].iloc[0] if len(got) and not _missing(got["language"].iloc[0]) else None
    lang = str(lang or "en")[:2].lower()
    return lang if lang in tokens.LABELS else "en"


def _event(case: dict[str, Any], now: dt.datetime, kind: str, actor: str, **cols: Any) -> dict[str, Any]:
    ev = {"case_id": case["case_id"], "occurred_at": now, "kind": kind, "actor": actor or "system",
          "department": case["department"]}
    ev.update({k: v for k, v in cols.items() if v is not None})
    return ev


def _write(store: Store, case: dict[str, Any], now: dt.datetime, events: list[dict[str, Any]],
           changes: dict[str, Any], also=None, new_cases: pd.DataFrame | None = None) -> None:
    """One transaction: new cases, the events, the cases row's changes (and ``also(con)``), and the
    clocks of the cases touched."""
    ids = [case["case_id"]]
    with store.transaction() as con:
        if new_cases is not None:
            store_io.insert_rows(con, "cases", new_cases)
            ids += list(new_cases["case_id"])
        store_io.append_events(con, _frame(events))
        store_io.update_cases(con, pd.DataFrame([{"case_id": case["case_id"], **changes, "updated_at": now}]))
        if also is not None:
            also(con)
        refresh_clocks(store, con, ids, now=now)


def _frame(events: list[dict[str, Any]]) -> pd.DataFrame:
    ev = pd.DataFrame(events)
    if "level" in ev.columns:
        ev["level"] = ev["level"].astype("Int64")
    return ev


def _expire_tokens(con, case_id: str, now: dt.datetime) -> None:
    con.execute("UPDATE case_tokens SET expires_at = ? WHERE case_id = ? AND used_at IS NULL AND expires_at > ?",
                [now, case_id, now])


def _grace_over(case: dict[str, Any], now: dt.datetime) -> bool:
    since = case["resolved_at"] or case["closed_at"]  # as sync counts it: from the (last) resolution
    return since is not None and now - since > dt.timedelta(days=settings.get_positive_int("cases_grace_days"))


def _come_back(store: Store, case: dict[str, Any], now: dt.datetime, actor: str, reason: str,
               first: tuple[str, str] | None = None, before: list[dict[str, Any]] | None = None,
               also=None) -> Outcome:
    """A resolved or closed case the customer (or a person) brings back: reopened within the grace period;
    after it a new case, linked to the old one, with the same customer, factor, department and owner.
    ``first``: the customer's message (kind, text) that brought it back; ``before``: events of the old
    case to write first."""
    old_id = case["case_id"]
    events = list(before or [])
    if not _grace_over(case, now):
        status = _move(case, "in_progress")
        if first:
            events.append(_event(case, now, first[0], actor, note=first[1]))
        events.append(_event(case, now, "reopened", actor, data={"reason": reason}))

        def expire(con) -> None:
            _expire_tokens(con, old_id, now)
            if also is not None:
                also(con)

        _write(store, case, now, events,
               {"status": status, "reopen_count": int(case["reopen_count"] or 0) + 1, "resolved": False,
                "closed_at": None}, also=expire)
        return Outcome(old_id, status, "reopened")

    new_id = store_io.new_case_ids(store.con, 1)[0]
    owner = case["owner"]
    status = "assigned" if owner else "new"
    keep = ("customer_id", "type", "channel", "department", "priority", "author", "country", "store", "language")
    new_case = {k: case.get(k) for k in keep}
    new_case.update({"case_id": new_id, "opened_at": now, "owner": owner, "status": status, "origin": "manual",
                     "linked_case_id": old_id, "transfers": 0, "reopen_count": 0, "escalation_level": 0,
                     "resolved": False, "updated_at": now})
    new = {**case, **new_case}
    new_events = [_event(new, now, "opened", actor, note=reason,
                         data={"origin": "manual", "linked_case_id": old_id})]
    if owner:
        new_events.append(_event(new, now, "assigned", "system", target=owner))
    if first:
        new_events.append(_event(new, now, first[0], actor, note=first[1]))
    events.append(_event(case, now, "note", "system", note=f"followed up in case {new_id}: {reason}"))
    _write(store, case, now, events + new_events, {}, also=also, new_cases=pd.DataFrame([new_case]))
    return Outcome(new_id, status, "opened", linked_from=old_id)


def _iso(t: dt.datetime) -> str:
    return t.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
