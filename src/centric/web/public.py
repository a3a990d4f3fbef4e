"""The public survey pages — the only pages without sign-in: the form of an invitation (``/s/TOKEN``), the
anonymous form of a survey (``/s/SLUG``), the comment and "contact me" after a score, and the survey's
stylesheet (its brand colours).

They ask nothing of the sign-in machinery (no session, no CSRF cookie: the token is the secret) and keep
the answer's path short, because it must take a thousand answers a second: ``POST /s/TOKEN`` parses its
form once, checks the token's signature (no store read for a forged one), reads the invitation's survey
from a small cache, validates the answer (``surveys.answers.validate``) and hands it to the intake, which
commits it before the thank-you page is sent.

Anonymous answers carry a signed time stamp ``t`` and a honeypot field ``website``; an answer with the
honeypot filled, without a valid stamp, sooner than ``survey_min_seconds`` after the form was shown, or
beyond ``survey_rate_per_hour`` from one address is quarantined (``survey_flagged``) with its reasons and
gets the same thank-you page: a bot learns nothing, and a person's answer wrongly flagged can be released.

``?embed=1`` renders a form without its header for a shop's own page (an ``<iframe>``); only those
responses may be framed, by the origins of the setting ``survey_embed_origins``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.routing import Route

from .. import settings
from ..errors import CentricError
from . import i18n
from .security import FRAME_HEADER, RateLimiter

router = APIRouter()

SLUG = re.compile(r"[a-z0-9-]{1,40}")
REASONS = ("honeypot", "too_fast", "bad_timestamp", "rate_limited")  # why an anonymous answer is quarantined
SURVEY_TTL = 2.0  # seconds a survey's definition is kept in memory (a pause or close reaches the form by then)
_CSS_HEADERS = {"Cache-Control": "public, max-age=300"}


# -- the per-app state: the secret, caches and the limiters --------------------------------------------------

class PublicState:
    """What the public pages keep between requests of one app: the survey secret, surveys by id and slug for
    ``SURVEY_TTL`` seconds, invitations' fixed fields (survey, language, customer), the per-address limiters."""

    def __init__(self, hub):
        from .. import surveys

        self.hub = hub
        self.secret: str = hub.write(surveys.secret)
        self._key = self.secret.encode()
        self._surveys: dict[str, tuple[float, Any]] = {}
        self._invitations: OrderedDict[int, dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()
        self.pages = RateLimiter(120, 60)  # page views per address per minute (a scanner's 100 fetches pass)
        self.forged = RateLimiter(30, 600)  # forged or unknown links per address per 10 minutes, then 429
        self.anonymous = RateLimiter(settings.get_positive_int("survey_rate_per_hour"), 3600)
        self.min_seconds = settings.get_int("survey_min_seconds")
        self.frame_origins = settings.get("survey_embed_origins").encode("latin-1")
        self.comment_max = settings.get_positive_int("survey_comment_max")
        self.low = {}  # kind → the highest score that opens a case (cases_nps_max …)
        for kind in ("nps", "csat", "ces"):
            try:
                self.low[kind] = float(settings.get(f"cases_{kind}_max"))
            except (CentricError, ValueError):
                self.low[kind] = float("-inf")

    # surveys: cached briefly, so a form does not read the store per answer
    def survey(self, key: str):
        now = time.monotonic()
        hit = self._surveys.get(key)
        if hit is not None and now - hit[0] < SURVEY_TTL:
            return hit[1]
        from ..surveys import repo

        survey = repo.get(self.hub.reader(), key)
        self._surveys[key] = (now, survey)
        return survey

    def forget(self, survey=None) -> None:
        """Drop the cached surveys (after a change in the web app), so the next request reads them again."""
        self._surveys.clear()

    def invitation(self, invitation_id: int) -> dict[str, Any] | None:
        """The invitation's fixed fields (survey_id, customer_id, language), or None when there is none;
        kept for the last 100,000 read (what changes — answered, expired — is checked by the intake)."""
        with self._lock:
            if invitation_id in self._invitations:
                self._invitations.move_to_end(invitation_id)
                return self._invitations[invitation_id]
        from ..surveys import repo

        row = repo.invitation(self.hub.reader(), invitation_id)
        fixed = None if row is None else {k: row.get(k) for k in ("invitation_id", "survey_id", "customer_id",
                                                                  "language")}
        with self._lock:
            self._invitations[invitation_id] = fixed
            while len(self._invitations) > 100_000:
                self._invitations.popitem(last=False)
        return fixed

    # the anonymous form's time stamp: when it was shown, signed for the survey
    def stamp(self, survey_id: str, now: float | None = None) -> str:
        t = str(int((time.time() if now is None else now) * 1000))
        return f"{t}.{self._tag(survey_id, t)}"

    def stamp_age(self, survey_id: str, stamp: str | None, now: float | None = None) -> float | None:
        """Seconds since the stamp's form was shown; None when the stamp is missing or not ours."""
        t, _, tag = (stamp or "").partition(".")
        if not t.isdigit() or len(t) > 15 or not hmac.compare_digest(tag.encode(), self._tag(survey_id, t).encode()):
            return None
        return (time.time() if now is None else now) - int(t) / 1000

    def _tag(self, survey_id: str, t: str) -> str:
        return hmac.new(self._key, f"stamp:{survey_id}:{t}".encode(), hashlib.sha256).hexdigest()[:24]

    def ip_hash(self, ip: str) -> str:
        """The address as stored with a flagged answer: its HMAC-SHA256 with the secret, never the address."""
        return hmac.new(self._key, f"ip:{ip}".encode(), hashlib.sha256).hexdigest()


def state(request: Request) -> PublicState:
    app = request.app
    s = getattr(app.state, "survey_public", None)
    if s is None:
        with _STATE_LOCK:
            s = getattr(app.state, "survey_public", None)
            if s is None:
                s = app.state.survey_public = PublicState(app.state.hub)
    return s


_STATE_LOCK = threading.Lock()


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# -- what a form shows: the survey's texts in one language ------------------------------------------------

def _language(request: Request, preferred: str | None = None, survey=None, fields=None) -> str:
    """The page's language: the form's ``lang`` field > ``?lang=`` > ``preferred`` (the invitation's) > the
    browser's (Accept-Language) > the survey's default language; always one the survey has texts in."""
    chosen = None
    for candidate in (_text_of(fields, "lang") if fields is not None else None, request.query_params.get("lang"),
                      preferred):
        if candidate in i18n.LANGUAGES:
            chosen = candidate
            break
    if chosen is None:
        accepted = request.headers.get("accept-language", "")
        browser = i18n.choose(None, accepted)
        chosen = browser if browser != "en" or "en" in accepted.lower() else None
    if survey is None:
        return chosen or "en"
    return survey.language_for(chosen or survey.default_language)


def form_view(survey, lang: str) -> dict[str, Any]:
    """The survey as its form shows it in ``lang`` (one of the survey's languages): title, question, the
    scale and its ends' labels, the comment's prompt, the extra questions, the brand."""
    texts = survey.text(lang)
    low, high = survey.scale
    questions = []
    for q in survey.questions:
        item = {"id": q.id, "field": q.field, "type": q.type, "label": q.label(lang), "required": q.required,
                "options": [{"value": o.id, "label": o.label(lang)} for o in q.options], "scale": []}
        if q.type == "rating" and q.scale:
            item["scale"] = list(range(q.scale[0], q.scale[1] + 1))
        questions.append(item)
    b = survey.branding
    return {"survey_id": survey.survey_id, "slug": survey.slug, "kind": survey.kind, "title": texts.title,
            "intro": texts.intro, "question": texts.question, "low_label": texts.low, "high_label": texts.high,
            "comment_label": texts.comment, "submit": texts.submit, "thanks": texts.thanks,
            "scale": list(range(low, high + 1)), "questions": questions, "company": b.company or "",
            "logo": b.logo or "", "lang": lang, "languages": [x for x in i18n.LANGUAGES if x in survey.texts]}


def _low(request: Request, survey, score: int | None) -> bool:
    """Is ``score`` low enough that the closed loop opens a case (the cases' thresholds)?"""
    return score is not None and score <= state(request).low[survey.kind]


@functools.cache
def _templates(lang: str):
    """The pages' templates in ``lang``, compiled once and never checked again on disk (the app's own
    environment looks at each file's time on every use, and ``extends`` does it again: a file-system call
    per template and answer that a thousand answers a second cannot afford)."""
    return i18n.templates(lang).overlay(auto_reload=False)


def _page(request: Request, template: str, ctx: dict[str, Any], lang: str, status: int = 200,
          embed: bool = False) -> HTMLResponse:
    env = _templates(lang)
    context = {"lang": lang, "embed": embed, "path": request.url.path, "survey": None, "token": None,
               "status": status, "error": None, "values": {}, "switch": False}
    context.update(ctx)
    headers = {"Cache-Control": "no-store"}
    response = HTMLResponse(env.get_template(template).render(context), status_code=status, headers=headers)
    if embed:
        response.raw_headers.append((FRAME_HEADER, state(request).frame_origins))
    return response


def _notice(request: Request, kind: str, lang: str, status: int, survey=None, embed: bool = False,
            field: str | None = None, message: str | None = None) -> HTMLResponse:
    """A calm page: ``kind`` one of forged, expired, closed, paused, already, busy."""
    view = form_view(survey, lang) if survey is not None else None
    return _page(request, "survey_notice.html", {"kind": kind, "survey": view, "message": message}, lang,
                 status, embed)


def _embedded(request: Request, form=None) -> bool:
    return request.query_params.get("embed") == "1" or (form is not None and _text_of(form, "embed") == "1")


# -- GET /s/{key}: the form --------------------------------------------------------------------------------

@router.get("/s/{key}")
def show(request: Request, key: str) -> Response:
    st = state(request)
    embed = _embedded(request)
    if st.pages.hit(_ip(request)):
        return _notice(request, "busy", _language(request), 429, embed=embed)
    from ..surveys import tokens

    invitation_id = tokens.read(st.secret, key)
    if invitation_id is not None:
        return _show_invited(request, st, int(invitation_id), key, embed)
    employee_link = tokens.read(st.secret, key, tokens.EMPLOYEE)
    if employee_link is not None:  # an employee survey's link: anonymous answers (centric.enps)
        from .pages import enps

        return enps.show_form(request, st, int(employee_link), key, embed)
    survey = st.survey(key) if SLUG.fullmatch(key) else None
    if survey is None or not survey.anonymous:
        return _notice(request, "forged", _language(request), 404, embed=embed)
    lang = _language(request, survey=survey)
    if survey.status != "active":
        return _notice(request, survey.status, lang, 410 if survey.status == "closed" else 503, survey, embed)
    return _form(request, survey, lang, embed, action=f"/s/{survey.slug}", stamp=st.stamp(survey.survey_id))


def _show_invited(request: Request, st: PublicState, invitation_id: int, token: str, embed: bool) -> Response:
    from ..surveys import repo

    row = repo.invitation(st.hub.reader(), invitation_id)  # fresh: answered and expiry are shown as they are
    survey = st.survey(row["survey_id"]) if row else None
    if row is None or survey is None:
        st.forged.hit(_ip(request))
        return _notice(request, "forged", _language(request), 404, embed=embed)
    lang = _language(request, row.get("language"), survey)
    if row.get("answered_at") is not None:
        return _notice(request, "already", lang, 200, survey, embed)
    if survey.status == "closed":
        return _notice(request, "closed", lang, 410, survey, embed)
    expires = row.get("expires_at")
    if expires is not None and _naive(expires) <= _now():
        return _notice(request, "expired", lang, 410, survey, embed)
    if survey.status == "paused":
        return _notice(request, "paused", lang, 503, survey, embed)
    if row.get("opened_at") is None:  # informational; a scanner's fetch uses nothing up
        st.hub.write(_mark_opened, invitation_id)
    return _form(request, survey, lang, embed, action=f"/s/{token}", token=token,
                 score=_preselected(survey, request.query_params.get("score")))


def _mark_opened(store, invitation_id: int) -> None:
    with store.transaction():
        store.execute("UPDATE survey_invitations SET opened_at = ? WHERE invitation_id = ? AND opened_at IS NULL",
                    [_now(), invitation_id])


def _naive(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _preselected(survey, raw: str | None) -> int | None:
    low, high = survey.scale
    return int(raw) if raw and raw.isdigit() and low <= int(raw) <= high else None


def _form(request: Request, survey, lang: str, embed: bool, action: str, token: str | None = None,
          stamp: str | None = None, score: int | None = None, values: dict[str, str] | None = None,
          error: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    values = dict(values or {})
    if score is not None:
        values.setdefault("score", str(score))
    return _page(request, "survey_form.html", {
        "survey": form_view(survey, lang), "action": action + ("?embed=1" if embed else ""), "token": token,
        "stamp": stamp, "values": values, "error": error or {}, "comment_max": state(request).comment_max, "switch": True},
        lang, status, embed)


# -- POST /s/{key}: an answer ------------------------------------------------------------------------------

def _text_of(form, name: str) -> str:
    v = form.get(name)
    return v if isinstance(v, str) else ""


FORM_BYTES = 1024 * 1024
"""The largest url-encoded form parsed by :func:`fields` itself (a larger one goes to Starlette's parser, with
its limits: 1,000 fields of at most 1 MB each)."""


async def fields(request: Request) -> FormData:
    """The posted form's fields. A url-encoded body (what the survey forms send) is split here, as Starlette
    would split it (``&`` between fields, ``+`` and ``%XX`` decoded as UTF-8, empty values kept): its parser,
    python-multipart's, fed byte by byte through callbacks, cost a quarter of an answer's CPU in the event
    loop. Anything else (a multipart body, a large form) is Starlette's."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        body = await request.body()
        if len(body) <= FORM_BYTES and body.count(b"&") < 1000:
            return FormData(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    return await request.form()


async def answer(request: Request) -> Response:
    """POST /s/{key}: an answer. A plain Starlette route, matched before every other (see :data:`ROUTES`):
    FastAPI's machinery around a route (dependencies, exit stacks) took as much CPU as the answer itself, and
    this route has nothing for it to do."""
    key = request.path_params["key"]
    st = state(request)
    form = await fields(request)  # parsed once; the answer's checks read this same form
    embed = _embedded(request, form)
    from ..surveys import tokens

    invitation_id = tokens.read(st.secret, key)
    if invitation_id is not None:
        return await _answer_invited(request, st, int(invitation_id), key, form, embed)
    employee_link = tokens.read(st.secret, key, tokens.EMPLOYEE)
    if employee_link is not None:
        from .pages import enps

        return await run_in_threadpool(enps.take_answer, request, st, int(employee_link), key, form, embed)
    survey = st.survey(key) if SLUG.fullmatch(key) else None
    if survey is None or not survey.anonymous:
        return _forged(request, st, form, embed)
    return await _answer_anonymous(request, st, survey, form, embed)


def _forged(request: Request, st: PublicState, form, embed: bool, count: bool = True) -> Response:
    """A link that is not ours (404), counted; an address sending many is told to wait (429)."""
    wait = st.forged.hit(_ip(request))
    lang = _language(request, fields=form)
    if count:
        _count(st, None, "forged_link")
    if wait:
        return _notice(request, "busy", lang, 429, embed=embed)
    return _notice(request, "forged", lang, 404, embed=embed)


def _count(st: PublicState, survey_id: str | None, reason: str) -> None:
    """Count a refusal (written with the intake's next batch)."""
    from ..surveys import refusals

    refusals.count(st.hub, survey_id, reason)


def _intake(request: Request):
    return request.app.state.intake


async def _answer_invited(request: Request, st: PublicState, invitation_id: int, token: str, form,
                          embed: bool) -> Response:
    """The answer of an invitation: the intake reads the invitation and checks the fields against its survey
    in the batch (this route makes no query); the page follows its outcome."""
    from ..surveys.intake import Submission

    sub = Submission("invited", invitation_id=invitation_id, fields=form)
    outcome = await _intake(request).asubmit(sub)
    survey = st.survey(sub.survey_id) if sub.survey_id else None
    if survey is None:  # a genuine signature but no such invitation (counted by the intake)
        return _forged(request, st, form, embed, count=False)
    if outcome.status == "stored":
        return _thanks(request, survey, sub.answer.language, embed, token=token,
                       ask_comment=not sub.answer.comment_sent, low=_low(request, survey, sub.answer.score))
    inv = await run_in_threadpool(st.invitation, invitation_id)  # not stored: its language (a rare path)
    lang = _language(request, inv.get("language") if inv else None, survey, form)
    if outcome.error is not None:
        return _refused(request, survey, lang, embed, f"/s/{token}", form, outcome.error, token=token)
    return _outcome_page(request, survey, lang, embed, outcome.status)


def _outcome_page(request: Request, survey, lang: str, embed: bool, status: str) -> HTMLResponse:
    """The page of an answer the intake did not store: already answered 409, expired or closed 410, paused
    503, anything else (an unknown invitation) 404."""
    codes = {"already": 409, "expired": 410, "closed": 410, "paused": 503}
    return _notice(request, status if status in codes else "forged", lang, codes.get(status, 404), survey, embed)


def _values(form) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and (k in ("score", "comment") or k.startswith("q_"))}


def _refused(request: Request, survey, lang: str, embed: bool, action: str, form, e,
             token: str | None = None, stamp: str | None = None) -> HTMLResponse:
    """The form again, as sent, with the message beside the field at fault (422); nothing was stored."""
    value = _text_of(form, e.field)
    return _form(request, survey, lang, embed, action, token=token, stamp=stamp, values=_values(form),
                 error={"field": e.field, "code": e.reason, "length": f"{len(value.strip()):,}"}, status=422)


_TOKEN_MARK = "\ue000token\ue000"  # where the link's token goes in a kept page (private-use characters)
_thanks_pages: dict[tuple, str] = {}


def _thanks(request: Request, survey, lang: str, embed: bool, token: str | None = None, ask_comment: bool = False,
            low: bool = False, done: str | None = None, error=None, values=None, status: int = 200) -> HTMLResponse:
    """The thank-you page; after an invited answer it may offer the comment box (a score-only answer) and
    "contact me" (a low score). The plain page of each survey version, language and offer is rendered once
    and kept, the link's token put in on each use: the answers' route renders no template."""
    if done is None and error is None:
        key = (survey.survey_id, survey.updated_at, lang, embed, bool(token and ask_comment), bool(token and low))
        page = _thanks_pages.get(key)
        if page is None:
            page = _render_thanks(request, survey, lang, embed, _TOKEN_MARK if token else None, ask_comment, low,
                                  None, None, None).body.decode()
            if len(_thanks_pages) > 10_000:
                _thanks_pages.clear()
            _thanks_pages[key] = page
        response = HTMLResponse(page.replace(_TOKEN_MARK, token) if token else page, status_code=status,
                                headers={"Cache-Control": "no-store"})
        if embed:
            response.raw_headers.append((FRAME_HEADER, state(request).frame_origins))
        return response
    return _render_thanks(request, survey, lang, embed, token, ask_comment, low, done, error, values, status)


def _render_thanks(request: Request, survey, lang: str, embed: bool, token, ask_comment, low, done, error, values,
                   status: int = 200) -> HTMLResponse:
    return _page(request, "survey_thanks.html", {
        "survey": form_view(survey, lang), "token": token, "ask_comment": bool(token and ask_comment),
        "offer_contact": bool(token and low), "done": done, "comment_max": state(request).comment_max,
        "error": error, "values": values or {}}, lang, status, embed)


async def _answer_anonymous(request: Request, st: PublicState, survey, form, embed: bool) -> Response:
    from ..surveys.intake import Submission

    ip_hash = st.ip_hash(_ip(request))
    sub = Submission("anonymous", survey_id=survey.survey_id, fields=form, ip_hash=ip_hash,
                     flags=bot_reasons(st, survey.survey_id, form, ip_hash))
    outcome = await _intake(request).asubmit(sub)
    if outcome.status in ("stored", "flagged"):  # the same page whether stored or kept aside
        return _thanks(request, survey, sub.answer.language, embed)
    lang = _language(request, survey=survey, fields=form)
    if outcome.error is not None:
        return _refused(request, survey, lang, embed, f"/s/{survey.slug}", form, outcome.error,
                        stamp=_text_of(form, "t") or st.stamp(survey.survey_id))
    return _outcome_page(request, survey, lang, embed, outcome.status)


def bot_reasons(st: PublicState, survey_id: str, fields, ip_hash: str, now: float | None = None) -> list[str]:
    """Why an anonymous answer looks sent by a program (empty: it does not): the honeypot filled, no valid
    stamp, sooner than ``survey_min_seconds`` after the form was shown, more than ``survey_rate_per_hour``
    answers from the address within the hour."""
    reasons = []
    if _text_of(fields, "website").strip():
        reasons.append("honeypot")
    age = st.stamp_age(survey_id, _text_of(fields, "t"), now)
    if age is None:
        reasons.append("bad_timestamp")
    elif age < st.min_seconds:
        reasons.append("too_fast")
    if st.anonymous.hit(ip_hash, now=now):
        reasons.append("rate_limited")
    return reasons


# -- after a score: the comment, and "contact me" -----------------------------------------------------------

async def _follow_up(request: Request, token: str, kind: str) -> Response:
    from ..surveys import tokens
    from ..surveys.answers import AnswerError, validate_comment, validate_contact
    from ..surveys.intake import Submission

    st = state(request)
    form = await fields(request)
    embed = _embedded(request, form)
    invitation_id = tokens.read(st.secret, token)
    inv = st.invitation(int(invitation_id)) if invitation_id is not None else None
    survey = st.survey(inv["survey_id"]) if inv else None
    if survey is None:
        return _forged(request, st, form, embed)
    lang = _language(request, inv.get("language"), survey, form)
    try:
        answer = (validate_comment if kind == "comment" else validate_contact)(form, lang)
    except AnswerError as e:
        _count(st, survey.survey_id, e.reason)
        return _thanks(request, survey, lang, embed, token=token, ask_comment=kind == "comment",
                       low=kind == "contact" or request.query_params.get("low") == "1",
                       error={"field": e.field, "code": e.reason,
                                                     "length": f"{len(_text_of(form, e.field).strip()):,}"},
                       values={k: v for k, v in form.items() if isinstance(v, str)}, status=422)
    outcome = await _intake(request).asubmit(
        Submission(kind, survey_id=survey.survey_id, invitation_id=int(invitation_id), answer=answer))
    if outcome.status == "stored":  # after the comment of a low score, "contact me" is still offered
        return _thanks(request, survey, lang, embed, token=token, done=kind,
                       low=kind == "comment" and request.query_params.get("low") == "1")
    return _outcome_page(request, survey, lang, embed, outcome.status)


@router.post("/s/{token}/comment")
async def comment(request: Request, token: str) -> Response:
    """The comment after a score-only answer: accepted once, added to the same answer."""
    return await _follow_up(request, token, "comment")


@router.post("/s/{token}/contact")
async def contact(request: Request, token: str) -> Response:
    """"Contact me" after a low score: the preferred channel and time, kept with the answer (its case shows
    them)."""
    return await _follow_up(request, token, "contact")


# -- the survey's brand colours ------------------------------------------------------------------------------

def _text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (#rrggbb), by WCAG contrast."""
    def lum(c: str) -> float:
        v = int(c, 16) / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = colour[1:3], colour[3:5], colour[5:7]
    y = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b)
    return "#ffffff" if (1.05 / (y + 0.05)) >= ((y + 0.05) / 0.05) else "#111111"


def stylesheet(survey) -> str:
    """The survey's colours as CSS custom properties (the form's own stylesheet uses them)."""
    b = survey.branding
    lines = []
    for name, colour in (("brand", b.primary), ("brand-bg", b.background), ("brand-ink", b.text)):
        if colour and re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            lines.append(f"--{name}: {colour};")
            if name == "brand":
                lines.append(f"--brand-text: {_text_on(colour)};")
    return ":root { " + " ".join(lines) + " }\n"


@router.get("/s/{slug}/style.css")
async def style(request: Request, slug: str) -> Response:
    st = state(request)
    survey = await run_in_threadpool(st.survey, slug) if SLUG.fullmatch(slug) else None
    if survey is None:
        return Response("/* no such survey */\n", status_code=404, media_type="text/css")
    return Response(stylesheet(survey), media_type="text/css", headers=_CSS_HEADERS)


ROUTES = [Route("/s/{key}", answer, methods=["POST"])]
"""Routes the app puts before all others, as plain Starlette routes (the answers' route takes 1,000 a second)."""
