"""The service team's pages: the inbox (``/inbox``) and one case (``/cases/{id}``) with its actions.

Every list is filtered by the actor's departments in the query (``case_scope``); a case outside them is a
404, the same page as a case that does not exist. Each action is a POST carrying the session's CSRF token
(checked by ``require``); it runs the workflow through the hub's one writer, is recorded in the audit log
and answers with a redirect back to the case (303) and a message saying what was done. A refused move
shows the case page again with the reason (409, or 422 for a missing field, next to that field).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ibis
from babel.dates import format_date, format_time
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...cases import confirmation, views, workflow
from ...cases.config import active
from ...cases.model import OPEN
from ...cases.store_io import frame, utcnow
from ...cases.timeline import timeline
from ...errors import CaseError, CentricError
from ...report.i18n import Formatter, translations
from ...schema import CASE_CLOCKS, CASE_PRIORITIES, CASE_STATUSES
from ...whys import saved as saved_whys
from .. import audit
from ..deps import check_case, client_ip, hub, language, reader, render, require
from ..errors import case_status
from ..i18n import plain, url
from ..permissions import Actor, allowed, case_scope

router = APIRouter()

PAGE_SIZE = 50
TIMELINE_ITEMS = 100
"""Timeline items on a customer's page before "Show all items"."""
CASE_TIMELINE_ITEMS = 25
"""Timeline items beside a case: the customer's latest history; the rest is one click away."""
ACTIONS = ("assign", "transfer", "start", "wait", "comment", "note", "message", "resolve", "close", "reopen")

# labels of stored values (the catalogues translate them; N_ marks them for the translators)
STATUS_LABELS = {"new": "New", "open": "Open", "assigned": "Assigned", "in_progress": "In progress",
                 "waiting": "Waiting for the customer", "resolved": "Resolved", "closed": "Closed"}
PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
CLOCK_LABELS = {"first_response": "First response", "next_response": "Next response", "resolution": "Resolution",
                "confirmation": "Customer's confirmation"}
STATE_LABELS = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached", "paused": "Paused",
                "met": "Met"}
VIEW_LABELS = {"mine": "My cases", "queue": "Queue", "at_risk": "At risk", "overdue": "Overdue",
               "triage": "Triage", "all": "All"}
SORT_LABELS = {"time_left": "Time left", "priority": "Priority", "opened": "Newest"}
EVENT_LABELS = {
    "opened": "Opened", "assigned": "Assigned", "transferred": "Transferred", "customer_contact": "Customer wrote",
    "agent_response": "Reply to the customer", "auto_reply": "Automatic reply", "escalated": "Escalated",
    "resolved": "Resolved", "reopened": "Reopened", "closed": "Closed", "note": "Internal note",
    "signal": "New message from the customer", "started": "Work started", "waiting": "Waiting for the customer",
    "priority": "Priority changed", "confirmation_sent": "Asked “Was it solved?”", "confirmed": "Customer: solved",
    "not_solved": "Customer: not solved", "sla_breached": "Service level breached"}
ORIGIN_LABELS = {"import": "Imported", "signal": "From the customer's message", "proactive": "Proactive",
                 "manual": "Opened by hand"}
IDENTITY_LABELS = {"crm_id": "CRM id", "email": "E-mail address", "phone": "Phone", "handle": "Handle",
                   "loyalty_card": "Loyalty card"}
PHASE_LABELS = {"ordinary": "Ordinary", "loyal": "Loyal", "advocate": "Advocate"}
KIND_LABELS = {"order": "Order", "response": "Survey answer", "feedback": "Feedback", "event": "Journey",
               "case": "Case", "case_event": "Case event"}
DONE = {  # the message after an action (?done=), from the case as it now is
    "assign": "Assigned to %(owner)s", "transfer": "Transferred to %(department)s", "start": "Work started",
    "wait": "Waiting for the customer; the clocks are paused", "comment": "Reply sent to the customer",
    "note": "Note added", "message": "The customer's message is recorded",
    "resolve": "Resolved; the customer is asked “Was it solved?”", "close": "Closed with root cause %(cause)s",
    "reopen": "Reopened", "linked": "The earlier case was past its grace period: this new case follows it"}


NOT_ASKED = {  # why the customer's "Was it solved?" was not e-mailed (confirmation.Asked.why)
    "no_mail_server": "No mail server is set up (smtp_host), so it was not e-mailed.",
    "no_address": "No e-mail address is known for this customer.",
    "mail_failed": "The mail server did not take the message.",
    "no_token": "The link could not be found."}


@dataclasses.dataclass(frozen=True)
class Token:
    """What resolving returns to the page: the customer's one-time token (never stored, shown at most once)."""

    token: str


def duration(seconds: float, gettext) -> str:
    """A time span as an agent reads it at a glance: '3 d', '1 d 3 h', '2 h 10 min', '45 min'."""
    minutes = max(1, int(round(abs(seconds) / 60)))
    d, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if d >= 2:  # hours no longer matter
        return gettext("%(d)s d") % {"d": d}
    if d:
        return gettext("%(d)s d %(h)s h") % {"d": d, "h": h} if h else gettext("%(d)s d") % {"d": d}
    if h:
        return gettext("%(h)s h %(m)s min") % {"h": h, "m": m} if m else gettext("%(h)s h") % {"h": h}
    return gettext("%(m)s min") % {"m": m}


def time_left(clock: dict[str, Any] | None, gettext) -> str:
    """'2 h 10 min left' or 'overdue by 3 h' for a running clock (see views.running_clock); '' without one."""
    if not clock:
        return ""
    span = duration(clock["seconds_left"], gettext)
    if clock["seconds_left"] < 0:
        return gettext("overdue by %(time)s") % {"time": span}
    return gettext("%(time)s left") % {"time": span}


CACHE_SECONDS = 30
"""How long the slowly changing things a page needs (the routing table, the taxonomy, the filters'
choices) are kept before they are read again."""
_cache: dict[tuple, tuple[float, Any]] = {}


def cached(request: Request, key: tuple, read):
    """``read()``, kept for :data:`CACHE_SECONDS` per app and ``key``."""
    full = (id(request.app), *key)
    hit = _cache.get(full)
    now = time.monotonic()
    if hit is None or now - hit[0] > CACHE_SECONDS:
        hit = _cache[full] = (now, read())
    return hit[1]


UNCHANGED_ENTRIES = 1024
"""How many answers :func:`unchanged` keeps (the least recently used go first)."""
_unchanged: OrderedDict = OrderedDict()
_unchanged_lock = threading.Lock()


def unchanged(request: Request, key: tuple, read):
    """``read()``, kept while nothing is written to the store: the answer of a query over the store is the
    same until a write (every write goes through the hub, which counts them). ``key`` names everything the
    answer depends on besides the store (the reader's scope, the filters, the minute of "now")."""
    full = (id(request.app), hub(request).generation, *key)
    with _unchanged_lock:
        hit = _unchanged.get(full, _unchanged)
        if hit is not _unchanged:
            _unchanged.move_to_end(full)
            return hit
    value = read()
    with _unchanged_lock:
        _unchanged[full] = value
        while len(_unchanged) > UNCHANGED_ENTRIES:
            _unchanged.popitem(last=False)
    return value


def routing_of(request: Request):
    return cached(request, ("routing",), lambda: active(reader(request))[0])


def _taxonomy(request: Request):
    def read():
        try:
            return workflow.taxonomy(reader(request))
        except CaseError:
            return None
    return cached(request, ("taxonomy",), read)


def common(request: Request, actor: Actor) -> dict[str, Any]:
    """What the service team's templates share: labels, the time-left writer and factor names."""
    lang = language(request, actor)
    gettext = translations(lang).gettext
    tax = _taxonomy(request)
    factor_names = {f.id: f.name(lang) for f in tax.factors} if tax else {}
    return {"status_labels": STATUS_LABELS, "priority_labels": PRIORITY_LABELS, "clock_labels": CLOCK_LABELS,
            "state_labels": STATE_LABELS, "event_labels": EVENT_LABELS, "origin_labels": ORIGIN_LABELS,
            "identity_labels": IDENTITY_LABELS, "phase_labels": PHASE_LABELS, "kind_labels": KIND_LABELS,
            "factor_names": factor_names, "left": lambda c: time_left(c, gettext),
            "dept": plain, "plain": plain, "tr": gettext, "when": _when(Formatter(lang))}


def _when(fmt: Formatter):
    """ISO text or a datetime → the date and the time to the minute in the reader's language (UTC, as
    stored)."""
    def when(v) -> str:
        if not v:
            return "—"
        t = v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v).rstrip("Z"))
        return f"{format_date(t, 'medium', locale=fmt.locale)}, {format_time(t, 'short', locale=fmt.locale)}"
    return when


def _choice(value: str | None, allowed_values) -> str | None:
    return value if value in allowed_values else None


UNRESOLVED = "unresolved"
"""The inbox's status choice for every case someone still has to act on (:data:`centric.cases.model.OPEN`)."""


# -- the inbox ---------------------------------------------------------------------------------------------

@router.get("/inbox")
def inbox(request: Request, actor: Actor = Depends(require("case.read"))) -> Response:
    p = request.query_params
    store = reader(request)
    scope = case_scope(actor)
    choices = cached(request, ("choices", scope), lambda: views.case_choices(store, scope))
    q = (p.get("q") or "").strip()[:200]
    # a search looks through every case the actor may see (a customer on the phone names any case)
    view = "all" if q else _choice(p.get("view"), views.VIEWS) or ("mine" if actor.role == "agent" else "all")
    sort = _choice(p.get("sort"), views.SORTS) or "time_left"
    status = _choice(p.get("status"), (*CASE_STATUSES, UNRESOLVED))
    filters = {"status": status, "priority": _choice(p.get("priority"), CASE_PRIORITIES),
               "department": _choice(p.get("department"), choices["department"]),
               "factor": _choice(p.get("factor"), choices["factor"]),
               "channel": _choice(p.get("channel"), choices["channel"]),
               # from the journey map: the cases of a touchpoint (any text: it is a bound parameter, shown escaped)
               "touchpoint": (p.get("touchpoint") or "").strip()[:200] or None}
    asked_filters = {**filters, "status": OPEN if status == UNRESOLVED else status}
    now = utcnow()
    # the views' queries ask "at risk or overdue by now" to the minute, so the same query repeats within it
    kw = {"departments": scope, "agent": actor.agent, "now": now.replace(second=0, microsecond=0),
          "triage": routing_of(request).triage_department}
    # the same reader asking again before anything changed (a refresh, back from a case) reads nothing
    same = (tuple(scope) if scope is not None else None, actor.agent, kw["now"], kw["triage"])
    counts = unchanged(request, ("view_counts", *same), lambda: views.view_counts(store, **kw))
    narrowed = q or any(filters.values())
    asked = (q, view, tuple(sorted(asked_filters.items())), *same)
    total = (unchanged(request, ("count_cases", *asked), lambda: views.count_cases(store, q=q, view=view,
                                                                                   **asked_filters, **kw))
             if narrowed else counts[view])
    pages = max(1, math.ceil(total / PAGE_SIZE))
    try:
        page = min(max(int(p.get("page") or 1), 1), pages)
    except ValueError:
        page = 1
    rows = [dict(r) for r in unchanged(request, ("list_cases", sort, page, *asked), lambda: views.list_cases(
        store, q=q, view=view, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, signals=False,
        **asked_filters, **kw))]
    for r in rows:
        r["clock"] = views.running_clock(r, now)
    ctx = common(request, actor)
    gettext = ctx["tr"]
    state = {"view": view, "sort": sort, "q": q or None, **filters}
    return render(request, "inbox.html", {
        **ctx, "title": gettext("Inbox"), "rows": rows, "counts": counts, "views": views.VIEWS,
        "view_labels": VIEW_LABELS, "sort_labels": SORT_LABELS, "sorts": views.SORTS, "state": state,
        "choices": choices, "statuses": CASE_STATUSES, "priorities": CASE_PRIORITIES, "total": total,
        "page": page, "pages": pages, "page_size": PAGE_SIZE,
        "link": lambda **change: url("/inbox", **{**state, "page": None, **change}),
        "flash": _inbox_flash(request, store, gettext)})


def _inbox_flash(request: Request, store, gettext) -> str | None:
    """After a case was transferred out of the actor's departments, the inbox says where it went."""
    p = request.query_params
    if p.get("done") != "transfer":
        return None
    routing = routing_of(request)
    to = p.get("to")
    if to not in _departments(routing):
        return None
    return gettext("Case %(case)s transferred to %(department)s") % {
        "case": p.get("case", "")[:40], "department": plain(to)}


# -- one case ----------------------------------------------------------------------------------------------

def warm(store, n: int = 24, stop: Callable[[], bool] = lambda: False) -> int:
    """Read what the case pages of ``n`` cases read — some at random, some of the customers with the most
    cases — so that the shapes of their prepared queries are compiled before the first person asks (a page
    that compiles one waits tens of milliseconds more). ``stop()`` true ends it early (the server stops).
    The number of cases read."""
    t = store.table("cases")
    known = t.filter(t.customer_id.notnull())
    busiest = known.group_by("customer_id").aggregate(n=known.count()).order_by(
        [ibis.desc("n"), "customer_id"]).limit(max(n // 3, 1))
    ids = list(frame(store, t.filter(t.customer_id.isin(busiest.customer_id)).select("case_id"))["case_id"])
    every = list(frame(store, t.select("case_id").order_by("case_id"))["case_id"])
    ids += every[:: max(len(every) // n, 1)][:n]  # spread over the ids
    done = 0
    for case_id in dict.fromkeys(ids):
        if stop():
            break
        try:
            obj = views.show_case(store, case_id)
            views.case_texts(store, obj["signals"])
            _timeline(store, obj, CASE_TIMELINE_ITEMS)
        except CentricError:
            continue
        done += 1
    return done


def load_case(store, actor: Actor, case_id: str) -> dict[str, Any]:
    """The case object when ``actor`` may read it; 404 otherwise (missing or outside their departments)."""
    try:
        obj = views.show_case(store, case_id)
    except CaseError:
        raise HTTPException(404, "there is no such case") from None
    return check_case(actor, obj)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, actor: Actor = Depends(require("case.read"))) -> Response:
    return _case_page(request, actor, case_id)


def _departments(routing) -> list[str]:
    return sorted(set(routing.departments) | {r.department for r in routing.routes} | {
        routing.default_department, routing.triage_department, routing.proactive_department})


def _case_page(request: Request, actor: Actor, case_id: str, status: int = 200, error: str | None = None,
               errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
               action: str | None = None, asked: confirmation.Asked | None = None) -> Response:
    store = reader(request)
    obj = load_case(store, actor, case_id)
    ctx = common(request, actor)
    gettext = ctx["tr"]
    now = utcnow()
    obj["clock"] = views.running_clock(obj, now)
    clocks = []
    for name in CASE_CLOCKS:
        c = obj["clocks"].get(name)
        if not c:
            continue
        running = c.get("state") in views.RUNNING and not c.get("stopped_at") and c.get("due_at")
        left = views.running_clock({"due": {name: c["due_at"]}, "running_clocks": [name],
                                    "clock_states": {name: c["state"]}}, now) if running else None
        clocks.append({"name": name, **c, "state": views.live_state(c, now), "left": left})
    full = request.query_params.get("timeline") == "all"
    tl, tl_error = _timeline(store, obj, None if full else CASE_TIMELINE_ITEMS)
    items = visible_items(actor, tl, obj["id"]) if tl else []
    routing = routing_of(request)
    dept = routing.departments.get(obj["department"] or "")
    can_act = allowed(actor, "case.act", obj)
    tax = _taxonomy(request)
    causes = ([*tax.ids, workflow.OTHER_CAUSE] if tax else [workflow.OTHER_CAUSE]) if can_act else []
    done = request.query_params.get("done")
    flash = None
    if done in DONE and status == 200:
        flash = gettext(DONE[done]) % {
            "owner": obj["owner"] or "—", "department": ctx["dept"](obj["department"]),
            "cause": ctx["factor_names"].get(obj["root_cause"]["cause"] or "", obj["root_cause"]["cause"] or "—")}
    events = list(reversed(obj["events"]))  # the newest first: what happened last is what the agent needs
    return render(request, "case.html", {
        **ctx, "title": f"{obj['id']} · {gettext('Case')}", "case": obj, "texts": views.case_texts(store, obj["signals"]),
        "clocks": clocks, "events": events, "timeline": tl, "timeline_error": tl_error, "items": items,
        "timeline_full": full, "timeline_limit": CASE_TIMELINE_ITEMS, "can_act": can_act, "causes": causes,
        "agents": list(dept.agents) if dept else [], "departments": [d for d in _departments(routing)
                                                                      if d != obj["department"]],
        "flash": flash, "asked": asked, "not_asked": NOT_ASKED, "error": error, "errors": errors or {}, "form": form or {}, "open_action": action,
        "in_scope": lambda d: allowed(actor, "case.read", {"department": d}),
        "whys": saved_whys.explanations(store, obj["id"]), "whys_link": allowed(actor, "dashboard.read")},
        status=status)


def _timeline(store, obj: dict[str, Any], limit: int | None):
    """The customer's timeline (by customer id, else the author's handle); (None, reason) when unknown."""
    who = obj.get("customer_id") or obj.get("author")
    if not who:
        return None, None
    try:
        return timeline(store, who, limit=limit, count=False, brief=True), None
    except CentricError as e:
        return None, str(e)


def visible_items(actor: Actor, tl, skip_case: str | None = None) -> list[dict[str, Any]]:
    """The timeline's items for ``actor``: another department's case shows as such, without its details,
    and its events (notes are internal) are left out; so are the events of ``skip_case`` (the case on the
    page, whose history is shown beside)."""
    out = []
    for item in tl.items:
        if skip_case and item.kind == "case_event" and item.details.get("case_id") == skip_case:
            continue
        d = item.details
        if item.kind in ("case", "case_event") and not allowed(actor, "case.read", {"department": d.get(
                "department") if item.kind == "case" else _case_department(tl, d.get("case_id"))}):
            if item.kind == "case":
                out.append({"at": item.at, "kind": "case", "id": item.id, "hidden": True})
            continue
        out.append({"at": item.at, "kind": item.kind, "id": item.id, "summary": item.summary, "details": d,
                    "hidden": False})
    return out


def _case_department(tl, case_id: str | None) -> str | None:
    for item in tl.items:
        if item.kind == "case" and item.id == case_id:
            return item.details.get("department")
    return None  # the case is beyond the timeline's limit: shown only to readers of every department


# -- the actions -------------------------------------------------------------------------------------------

def _action_route(name: str):
    async def act(request: Request, case_id: str, actor: Actor = Depends(require("case.act"))) -> Response:
        form = await request.form()
        fields = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        return await run_in_threadpool(_act, request, actor, case_id, name, fields)

    act.__name__ = f"case_{name}"
    return act


for _name in ACTIONS:
    router.add_api_route(f"/cases/{{case_id}}/{_name}", _action_route(_name), methods=["POST"],
                         name=f"case_{_name}")


def _act(request: Request, actor: Actor, case_id: str, name: str, f: dict[str, str]) -> Response:
    store = reader(request)
    obj = load_case(store, actor, case_id)
    check_case(actor, obj, "case.act")
    gettext = translations(language(request, actor)).gettext
    errors = _missing(name, f, store, gettext)
    if errors:
        return _case_page(request, actor, case_id, status=422, errors=errors, form=f, action=name)
    try:
        outcome = hub(request).write(_run, actor, name, case_id, f, obj["status"], client_ip(request))
    except CaseError as e:
        return _case_page(request, actor, case_id, status=case_status(e), error=str(e), form=f, action=name)
    if isinstance(outcome, Token):  # the customer's question: e-mailed, or its link shown now, once
        asked = confirmation.ask(reader(request), case_id, outcome.token)
        if not asked.emailed:
            return _case_page(request, actor, case_id, asked=asked)
    target = outcome.case_id if isinstance(outcome, workflow.Outcome) else case_id
    done = "linked" if isinstance(outcome, workflow.Outcome) and outcome.linked_from else name
    if name == "transfer" and not allowed(actor, "case.read", {"department": f["department"]}):
        return RedirectResponse(url("/inbox", done="transfer", case=case_id, to=f["department"]), status_code=303)
    return RedirectResponse(url(f"/cases/{target}", done=done), status_code=303)


def _missing(name: str, f: dict[str, str], store, gettext) -> dict[str, str]:
    """The fields an action needs that the form left empty (or gave a value not on offer), with a message."""
    need = {"assign": {"owner": "Choose the owner."},
            "transfer": {"department": "Choose the department.", "reason": "Say why it is transferred."},
            "comment": {"text": "Write the message."}, "note": {"text": "Write the note."},
            "message": {"text": "Write what the customer said."},
            "close": {"root_cause": "Choose the root cause.", "action": "Say what was done."},
            "reopen": {"reason": "Say why it is reopened."}}.get(name, {})
    errors = {k: gettext(msg) for k, msg in need.items() if not f.get(k)}
    if name == "close" and f.get("root_cause") and f["root_cause"] not in workflow.root_causes(store):
        errors["root_cause"] = gettext("Choose a root cause from the list.")
    return errors


def _run(store, actor: Actor, name: str, case_id: str, f: dict[str, str], status: str, ip: str):
    """One action on the writer, with its audit entry (ids and field names only: never the text)."""
    who = actor.agent
    detail: dict[str, Any] = {"fields": sorted(k for k, v in f.items() if v)}
    if name == "assign":
        out = workflow.assign(store, case_id, f["owner"], actor=who)
        detail["owner"] = f["owner"]
    elif name == "transfer":
        out = workflow.transfer(store, case_id, f["department"], actor=who, note=f["reason"])
        detail["department"] = f["department"]
    elif name == "start":
        out = workflow.start(store, case_id, actor=who)
    elif name == "wait":
        out = workflow.wait(store, case_id, actor=who, note=f.get("note") or None)
    elif name == "comment":
        out = workflow.comment(store, case_id, f["text"], actor=who)
    elif name == "note":
        out = workflow.note(store, case_id, f["text"], actor=who)
    elif name == "message":
        out = workflow.customer_message(store, case_id, f["text"], actor="customer")
    elif name == "resolve":
        out = Token(workflow.resolve(store, case_id, actor=who, note=f.get("note") or None))
    elif name == "close":
        if status != "resolved":  # "resolve and close": the agent knows it is solved
            workflow.resolve(store, case_id, actor=who)
        out = workflow.close(store, case_id, actor=who, root_cause=f["root_cause"], action=f["action"],
                             sub_cause=f.get("sub_cause") or None, note=f.get("note") or None)
        detail["root_cause"] = f["root_cause"]
    else:
        out = workflow.reopen(store, case_id, actor=who, reason=f["reason"])
    if isinstance(out, workflow.Outcome) and out.linked_from:
        detail["new_case"] = out.case_id
    audit.record(store, actor, f"case.{name}", "case", case_id, detail, ip)
    return out
