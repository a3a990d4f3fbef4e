"""The suggestion box in the web app. Every role may read the ideas, submit one, vote (once: the store refuses a
second vote) and comment (``ideas.use``); status changes with an answer, the factor, rewards, merges and releasing a
flagged public idea need ``ideas.manage`` (analysts and admins). The authors' names and addresses are shown to
those only. Customers submit on the public page ``/i/new`` (no sign-in), protected like the anonymous survey
form: a honeypot field, a signed time stamp (too fast: flagged), a rate per address (beyond it: flagged); a
flagged idea is kept aside, not listed or counted, until released. Every change goes through the hub's writer
and into the audit log (ids and operation names only)."""

from __future__ import annotations

import threading
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from ...schema import IDEA_AUTHORS, IDEA_STATUSES
from .. import audit, deps
from ..deps import render, require
from ..permissions import Actor, allowed
from .whys import _factors  # the active taxonomy's factors, named in the page's language

router = APIRouter()
_lock = threading.Lock()
_proposed: dict[tuple, list] = {}  # (store, write generation) → the merge proposals, while the store does not change


def _proposals(request: Request) -> list:
    from ...ideas.duplicates import proposals

    hub = deps.hub(request)
    key = (hub.path, hub.generation)
    with _lock:
        got = _proposed.get(key)
    if got is None:
        got = proposals(deps.reader(request))
        with _lock:
            if len(_proposed) > 8:
                _proposed.clear()
            _proposed[key] = got
    return got


def _names(lang: str) -> dict:
    from ...ideas.labels import kind_names, status_names

    return {"status_names": status_names(lang), "kind_names": kind_names(lang)}


def _voter(actor: Actor) -> str:
    if actor.kind != "user":
        raise HTTPException(403, "only a signed-in person votes")
    return f"user:{actor.id}"


def _back(idea_id: str, done: str | None = None, error: str | None = None) -> RedirectResponse:
    q = f"?done={quote(done)}" if done else f"?error={quote(error)}" if error else ""
    return RedirectResponse(f"/ideas/{quote(idea_id)}{q}", status_code=303)


def _audit(request: Request, actor: Actor, action: str, idea_id: str, detail: dict | None = None) -> None:
    deps.hub(request).write(audit.record, actor, action, "idea", idea_id, detail, deps.client_ip(request))


def _idea(request: Request, idea_id: str) -> dict:
    from ...ideas.box import row

    got = row(deps.reader(request), idea_id)
    if got is None or (got.get("flags") and not allowed(deps.current_actor(request), "ideas.manage")):
        raise HTTPException(404, "there is no such idea")
    return got


@router.get("/ideas", include_in_schema=False)
def ideas_page(request: Request, actor: Actor = Depends(require("ideas.use"))) -> Response:
    from ...ideas.views import frame

    store = deps.reader(request)
    lang = deps.language(request, actor)
    q = request.query_params
    status = q.get("status") if q.get("status") in IDEA_STATUSES else None
    kind = q.get("kind") if q.get("kind") in IDEA_AUTHORS else None
    factors = _factors(store, lang)
    factor = q.get("factor") if q.get("factor") in {f for f, _ in factors} else None
    manage = allowed(actor, "ideas.manage")
    df = frame(store, status, factor, kind, limit=500)
    names = dict(factors)
    rows = [{"id": r.idea_id, "title": r.title, "status": r.status, "factor": names.get(r.factor, r.factor)
             if isinstance(r.factor, str) else None, "kind": r.author_kind, "votes": int(r.votes),
             "comments": int(r.comments), "created_at": r.created_at} for r in df.itertuples()]
    flagged = frame(store, flagged=True) if manage else None
    return render(request, "ideas.html", {
        "title": "Ideas", "rows": rows, **_names(lang), "factors": factors, "status": status, "kind": kind, "factor": factor,
        "statuses": IDEA_STATUSES, "kinds": IDEA_AUTHORS, "may_manage": manage,
        "proposals": _proposals(request)[:20] if manage else [],
        "flagged": [] if flagged is None else [{"id": r.idea_id, "title": r.title} for r in flagged.itertuples()],
        "without_factor": int(store.execute("SELECT count(*) FROM ideas WHERE factor IS NULL AND merged_into IS NULL "
                                            "AND flags IS NULL").fetchone()[0]) if manage else 0,
        "error": q.get("error"), "done": q.get("done")})


@router.post("/ideas", include_in_schema=False)
def submit_idea(request: Request, text: str = Form(""), title: str = Form(""),
                actor: Actor = Depends(require("ideas.use"))) -> Response:
    from ...ideas import box

    try:
        idea_id = deps.hub(request).write(box.submit, text, "employee", title, user_id=actor.id if actor.kind == "user"
                                          else None, author_name=actor.agent or actor.name,
                                          language=deps.language(request, actor), source="web")
    except CentricError as e:
        return RedirectResponse(f"/ideas?error={quote(str(e))}", status_code=303)
    _audit(request, actor, "ideas.submit", idea_id)
    return _back(idea_id, "submitted")


@router.post("/ideas/suggest", include_in_schema=False)
def suggest_factors(request: Request, actor: Actor = Depends(require("ideas.manage"))) -> Response:
    from ...ideas.suggest import suggest_missing

    try:
        n = deps.hub(request).write(suggest_missing)
    except CentricError as e:
        return RedirectResponse(f"/ideas?error={quote(str(e))}", status_code=303)
    deps.hub(request).write(audit.record, actor, "ideas.suggest", "idea", None, {"ideas": n}, deps.client_ip(request))
    return RedirectResponse(f"/ideas?done=suggested&n={n}", status_code=303)


@router.get("/ideas/{idea_id}", include_in_schema=False)
def idea_page(request: Request, idea_id: str, actor: Actor = Depends(require("ideas.use"))) -> Response:
    from ...ideas.box import NEXT, voted
    from ...ideas.views import detail

    store = deps.reader(request)
    idea = _idea(request, idea_id)
    d = detail(store, idea_id)
    lang = deps.language(request, actor)
    factors = _factors(store, lang)
    manage = allowed(actor, "ideas.manage")
    q = request.query_params
    similar = []
    if manage and not idea["merged_into"]:
        for p in (p for p in _proposals(request) if idea_id in (p.keep, p.merge)):
            other = p.merge if p.keep == idea_id else p.keep
            o = _idea(request, other)
            similar.append({"id": other, "title": o["title"], "similarity": p.similarity,
                            "keep_this": p.keep == idea_id})
    return render(request, "idea.html", {
        "title": idea["title"] or idea_id, "idea": idea, **_names(lang), "d": d, "factor_name": dict(factors).get(idea["factor"]),
        "factors": factors, "may_manage": manage, "next": NEXT.get(idea["status"] or "new", ()),
        "voted": actor.kind == "user" and voted(store, idea_id, f"user:{actor.id}"), "similar": similar,
        "error": q.get("error"), "done": q.get("done")})


@router.post("/ideas/{idea_id}/vote", include_in_schema=False)
def vote_idea(request: Request, idea_id: str, actor: Actor = Depends(require("ideas.use"))) -> Response:
    from ...ideas import box

    idea = _idea(request, idea_id)
    voter = _voter(actor)
    if idea["merged_into"]:
        return _back(idea_id, error="this idea was merged into another: vote there")
    hub = deps.hub(request)
    if box.voted(hub.reader(), idea_id, voter):
        hub.write(box.unvote, idea_id, voter)
        _audit(request, actor, "ideas.unvote", idea_id)
        return _back(idea_id, "unvoted")
    hub.write(box.vote, idea_id, voter)
    _audit(request, actor, "ideas.vote", idea_id)
    return _back(idea_id, "voted")


@router.post("/ideas/{idea_id}/comment", include_in_schema=False)
def comment_idea(request: Request, idea_id: str, text: str = Form(""),
                 actor: Actor = Depends(require("ideas.use"))) -> Response:
    from ...ideas import box

    _idea(request, idea_id)
    try:
        deps.hub(request).write(box.comment, idea_id, text, actor.name, "employee")
    except CentricError as e:
        return _back(idea_id, error=str(e))
    _audit(request, actor, "ideas.comment", idea_id)
    return _back(idea_id, "commented")


@router.post("/ideas/{idea_id}/status", include_in_schema=False)
def change_status(request: Request, idea_id: str, status: str = Form(""), answer: str = Form(""),
                  actor: Actor = Depends(require("ideas.manage"))) -> Response:
    from ...ideas import box
    from ...ideas.notify import notify

    _idea(request, idea_id)
    hub = deps.hub(request)
    at = box.now()
    try:
        before = hub.write(box.change_status, idea_id, status, answer, actor.name, at=at)
    except CentricError as e:
        return _back(idea_id, error=str(e))
    how = hub.write(notify, idea_id, at)
    _audit(request, actor, "ideas.status", idea_id, {"from": before, "to": status, "notified": how})
    return _back(idea_id, f"status:{how}")


@router.post("/ideas/{idea_id}/factor", include_in_schema=False)
def set_factor(request: Request, idea_id: str, factor: str = Form(""),
               actor: Actor = Depends(require("ideas.manage"))) -> Response:
    from ...ideas import box

    _idea(request, idea_id)
    try:
        deps.hub(request).write(box.set_factor, idea_id, factor)
    except CentricError as e:
        return _back(idea_id, error=str(e))
    _audit(request, actor, "ideas.factor", idea_id, {"factor": factor or None})
    return _back(idea_id, "factor")


@router.post("/ideas/{idea_id}/reward", include_in_schema=False)
def give_reward(request: Request, idea_id: str, what: str = Form(""), recipient: str = Form(""),
                amount: str = Form(""), unit: str = Form(""), actor: Actor = Depends(require("ideas.manage"))) -> Response:
    from ...ideas import box

    _idea(request, idea_id)
    try:
        value = float(amount.replace(",", ".")) if amount.strip() else None
    except ValueError:
        return _back(idea_id, error=f"amount: {amount[:40]!r} is not a number")
    try:
        reward_id = deps.hub(request).write(box.reward, idea_id, what, recipient, actor.name, value, unit)
    except CentricError as e:
        return _back(idea_id, error=str(e))
    _audit(request, actor, "ideas.reward", idea_id, {"reward": reward_id})
    return _back(idea_id, "rewarded")


@router.post("/ideas/{idea_id}/merge", include_in_schema=False)
def merge_idea(request: Request, idea_id: str, into: str = Form(""),
               actor: Actor = Depends(require("ideas.manage"))) -> Response:
    """Merge this idea into ``into`` (the one that stays)."""
    from ...ideas import box
    from ...ideas.duplicates import pairs
    from ...ideas.views import texts

    _idea(request, idea_id)
    into = into.strip()
    store = deps.reader(request)
    both = texts(store, [idea_id, into])
    found = pairs(both, threshold=0.0) if len(both) == 2 else []
    try:
        m = deps.hub(request).write(box.merge, idea_id, into, actor.name, found[0].similarity if found else None)
    except CentricError as e:
        return _back(idea_id, error=str(e))
    _audit(request, actor, "ideas.merge", idea_id, {"into": into, "votes_moved": m.votes_moved,
                                                    "comments_moved": m.comments_moved})
    return _back(into, "merged")


@router.post("/ideas/{idea_id}/release", include_in_schema=False)
def release_idea(request: Request, idea_id: str, actor: Actor = Depends(require("ideas.manage"))) -> Response:
    from ...ideas import box

    _idea(request, idea_id)
    deps.hub(request).write(box.release, idea_id, actor.name)
    _audit(request, actor, "ideas.release", idea_id)
    return _back(idea_id, "released")


# -- the public page: customers' ideas, without sign-in ------------------------------------------------------

PUBLIC_KEY = "ideas"  # what the form's time stamp is signed for


def _limits(request: Request):
    """Per address: page views per minute (as the survey forms), ideas per hour (``survey_rate_per_hour``)."""
    from ... import settings
    from ..security import RateLimiter

    app = request.app
    got = getattr(app.state, "ideas_public", None)
    if got is None:
        with _lock:
            got = getattr(app.state, "ideas_public", None)
            if got is None:
                got = app.state.ideas_public = (RateLimiter(120, 60),
                                                RateLimiter(settings.get_positive_int("survey_rate_per_hour"), 3600))
    return got


def _public_lang(request: Request, form=None) -> str:
    from .. import i18n

    sent = form.get("lang") if form is not None else None
    if sent in i18n.LANGUAGES:
        return sent
    return deps.language(request)


def _public_page(request: Request, lang: str, ctx: dict, status: int = 200) -> Response:
    from fastapi.responses import HTMLResponse

    from .. import i18n

    context = {"lang": lang, "embed": False, "path": request.url.path, "survey": None, "switch": True,
               "languages": i18n.LANGUAGES, "status": status, "error": None, "values": {}, "busy": False,
               "thanks": False, "stamp": ""}
    context.update(ctx)
    html = i18n.templates(lang).get_template("ideas_public.html").render(context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/i/new", include_in_schema=False)
def public_form(request: Request) -> Response:
    from ..public import state

    pages, _ = _limits(request)
    lang = _public_lang(request)
    if pages.hit(deps.client_ip(request)):
        return _public_page(request, lang, {"busy": True}, 429)
    return _public_page(request, lang, {"stamp": state(request).stamp(PUBLIC_KEY)})


def bot_reasons(request: Request, form, ip_hash: str, now: float | None = None) -> list[str]:
    """Why a public idea looks sent by a program (empty: it does not): the honeypot filled, no valid stamp, sooner
    than ``survey_min_seconds`` after the form was shown, more than ``survey_rate_per_hour`` ideas from the
    address within the hour — as the anonymous survey answers."""
    from ..public import state

    st = state(request)
    reasons = []
    if str(form.get("website") or "").strip():
        reasons.append("honeypot")
    age = st.stamp_age(PUBLIC_KEY, str(form.get("t") or ""), now)
    if age is None:
        reasons.append("bad_timestamp")
    elif age < st.min_seconds:
        reasons.append("too_fast")
    if _limits(request)[1].hit(ip_hash, now=now):
        reasons.append("rate_limited")
    return reasons


@router.post("/i/new", include_in_schema=False)
async def public_submit(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    from ..public import state

    form = await request.form()
    lang = _public_lang(request, form)
    values = {k: str(form.get(k) or "") for k in ("title", "text", "name", "email")}
    st = state(request)
    ip_hash = st.ip_hash(deps.client_ip(request))
    flags = bot_reasons(request, form, ip_hash)
    try:
        await run_in_threadpool(deps.hub(request).write, _public_idea, values, lang, flags, ip_hash)
    except CentricError as e:
        field = str(e).split(":", 1)[0]
        return _public_page(request, lang, {"stamp": str(form.get("t") or "") or st.stamp(PUBLIC_KEY),
                                            "values": values, "error": {"field": field, "message": str(e)}}, 422)
    return _public_page(request, lang, {"thanks": True})  # the same page whether kept or flagged


def _public_idea(store, values: dict[str, str], lang: str, flags: list[str], ip_hash: str) -> str:
    """Store a public idea; the address given links it to a known customer (none is created)."""
    from ...ideas import box
    from ...ingest.transform import identity_lookups

    email = values.get("email", "").strip().lower() or None
    if email is not None and ("@" not in email or len(email) > 254 or " " in email):
        raise box.IdeaError("email: not an e-mail address")
    customer = None
    if email:
        kinds = [v for k, v in identity_lookups(email, "PL") if k == "email"]
        if kinds:
            got = store.execute("SELECT customer_id FROM identities WHERE kind = 'email' AND value = ?",
                                [kinds[0]]).fetchone()
            customer = got[0] if got else None
    name = box.clean(values.get("name"), "name", 200, required=False, one_line=True) or None
    return box.submit(store, values.get("text", ""), "customer", values.get("title"), customer_id=customer,
                      author_name=name, author_email=email, language=lang, source="public", flags=flags or None,
                      ip_hash=ip_hash)
