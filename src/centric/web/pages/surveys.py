"""Surveys in the web app: the list with response rates, a survey's page (trend with intervals, response rate
per touchpoint, recent comments, its links and the embed snippet), and for admins the survey form (new and
edit, checked by ``surveys.definition.from_dict`` with the error beside its field), pause/close/resume, and
the quarantined anonymous answers (release through the intake, or discard).

Every change goes through the hub (the intake for a release) and is audited; the public pages' cache of the
survey is dropped so the form shows the change at once.
"""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ... import settings
from ...errors import CentricError
from .. import audit, deps
from ..deps import render, require
from ..permissions import Actor

router = APIRouter()

LANGS = ("en", "pl", "ru", "it")
TEXT_FIELDS = ("title", "intro", "question", "low", "high", "comment", "submit", "thanks", "email_subject",
               "email_intro", "reminder_subject")
TEXT_LABELS = {"title": "Title", "intro": "Introduction", "question": "Main question", "low": "Label of the lowest score",
               "high": "Label of the highest score", "comment": "Comment prompt", "submit": "Send button",
               "thanks": "Thank-you message", "email_subject": "E-mail subject", "email_intro": "E-mail text",
               "reminder_subject": "Reminder subject"}
STATUS_ACTIONS = {"pause": "paused", "close": "closed", "resume": "active"}
EXTRA_SLOTS = 2  # empty extra-question slots offered on the form
RECENT = 20  # comments shown on a survey's page
FLAGGED_PAGE = 100


def _forget(request: Request) -> None:
    s = getattr(request.app.state, "survey_public", None)
    if s is not None:
        s.forget()


def _survey_or_404(store, survey_id: str):
    from ...surveys import repo

    survey = repo.get(store, survey_id)
    if survey is None:
        raise HTTPException(404, "there is no such survey")
    return survey


def _num(v) -> float | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _rates(store, by: tuple[str, ...]) -> list[dict[str, Any]]:
    from ...surveys import stats

    frame = stats.response_rates(store, by=by)
    return [{k: (_num(v) if k in ("rate", "low", "high") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


# -- the list ------------------------------------------------------------------------------------------------

@router.get("/surveys", include_in_schema=False)
def survey_list(request: Request, actor: Actor = Depends(require("surveys.view"))) -> Response:
    from ...surveys import repo

    store = deps.reader(request)
    rates = {r["survey_id"]: r for r in _rates(store, ("survey",))}
    rows = [{"survey": s, "rate": rates.get(s.survey_id, {})} for s in repo.list_all(store)]
    flagged = _flagged_count(store)
    return render(request, "surveys.html", {"title": "Surveys", "rows": rows, "flagged": flagged,
                                            "changed": request.query_params.get("changed")})


def _flagged_count(store) -> int:
    t = store.table("survey_flagged")
    return int(t.filter(t.released_at.isnull() & t.released_by.isnull()).count().execute())


# -- a survey --------------------------------------------------------------------------------------------------

def _recent_comments(store, slug: str, kind: str) -> list[dict[str, Any]]:
    t = store.table("responses")
    rows = (t.filter((t.survey == slug) & t.comment.notnull() & (t.comment != ""))
            .order_by(t.responded_at.desc()).limit(RECENT)
            .select("response_id", "responded_at", kind, "comment", "language").execute())
    return [{"id": r.response_id, "at": r.responded_at, "score": _num(getattr(r, kind)), "comment": r.comment,
             "language": r.language if isinstance(r.language, str) else ""} for r in rows.itertuples()]


def trend_svg(points: list[dict[str, Any]], lo: float, hi: float, width: int = 640, height: int = 220) -> dict:
    """A small chart of the trend (no script): each period's value as a dot with its interval as a bar,
    joined by a line; coordinates for the template's inline SVG. ``lo``/``hi``: the metric's axis range."""
    left, right, top, bottom = 44, 12, 12, 28
    n = len(points)
    if not n:
        return {"width": width, "height": height, "dots": [], "line": "", "ticks": []}
    span = hi - lo or 1.0
    step = (width - left - right) / max(n, 1)

    def y(v: float) -> float:
        return round(top + (hi - min(max(v, lo), hi)) / span * (height - top - bottom), 1)

    dots = []
    for i, p in enumerate(points):
        x = round(left + step * (i + 0.5), 1)
        dots.append({"x": x, "y": y(p["value"]), "y_low": y(p["low"] if p["low"] is not None else p["value"]),
                     "y_high": y(p["high"] if p["high"] is not None else p["value"]), "label": p["period"],
                     "show_label": n <= 12 or i % math.ceil(n / 12) == 0})
    ticks = [{"y": y(v), "label": f"{v:g}"} for v in (lo, (lo + hi) / 2, hi)]
    line = " ".join(f"{d['x']},{d['y']}" for d in dots)
    return {"width": width, "height": height, "dots": dots, "line": line, "ticks": ticks, "left": left,
            "bottom": height - bottom}


_AXIS = {"nps": (-100.0, 100.0), "csat": (0.0, 100.0), "ces": (0.0, 100.0)}  # NPS points; top-box shares in %


def _trend(store, survey) -> list[dict[str, Any]]:
    from ...surveys import stats

    frame = stats.trends(store, survey=survey.survey_id)
    out = []
    for r in frame.to_dict("records"):
        value = _num(r.get("value"))
        if value is None:
            continue
        out.append({"period": str(r.get("period")), "value": value, "low": _num(r.get("low")),
                    "high": _num(r.get("high")), "n": int(r.get("n") or 0)})
    return out


def _links(survey) -> dict[str, Any]:
    base = settings.get("survey_base_url").rstrip("/")
    public = f"{base}/s/{survey.slug}"
    snippet = (f'<iframe src="{public}?embed=1" title="{survey.name}" width="100%" height="760" '
               f'style="border:0;max-width:40rem" loading="lazy"></iframe>')
    invite = (f"centric enps invite {survey.slug} --unit UNIT --out links.csv" if survey.audience == "employees"
              else f"centric surveys invite {survey.survey_id} --customers customers.csv --out links.csv")
    return {"public": public, "snippet": snippet, "invite": invite, "style": f"{base}/s/{survey.slug}/style.css"}


@router.get("/surveys/flagged", include_in_schema=False)
def flagged(request: Request, actor: Actor = Depends(require("surveys.view"))) -> Response:
    """Anonymous answers kept aside as likely automated, newest first, with why."""
    from ...surveys import repo

    store = deps.reader(request)
    names = {s.survey_id: s for s in repo.list_all(store)}
    t = store.table("survey_flagged")
    frame = (t.filter(t.released_at.isnull() & t.released_by.isnull()).order_by(t.received_at.desc())
             .limit(FLAGGED_PAGE).execute())
    rows = []
    for r in frame.to_dict("records"):
        fields = _json(r["fields"], {})
        survey = names.get(r["survey_id"])
        rows.append({"id": r["flag_id"], "survey_id": r["survey_id"], "survey": survey.name if survey else "",
                     "at": r["received_at"], "reasons": _json(r["reasons"], []), "score": fields.get("score"),
                     "comment": fields.get("comment") or "", "language": fields.get("language") or "",
                     "extras": {k: v for k, v in (fields.get("extras") or {}).items()}})
    return render(request, "surveys_flagged.html", {"title": "Flagged answers", "rows": rows,
                                                    "done": request.query_params.get("done")})


def _json(value, default):
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value) if value else default
    except (TypeError, ValueError):
        return default


@router.post("/surveys/flagged/{flag_id}/release", include_in_schema=False)
async def release(request: Request, flag_id: str, actor: Actor = Depends(require("surveys.release"))) -> Response:
    """Release a quarantined answer: the intake writes it to ``responses`` (once)."""
    from ...surveys.intake import Submission

    row = await run_in_threadpool(_flag, request, flag_id)
    if not row["pending"]:  # a second click: the list says it was handled already
        return RedirectResponse("/surveys/flagged?done=handled", status_code=303)
    outcome = await request.app.state.intake.asubmit(Submission("release", flag_id=flag_id, released_by=actor.name))
    if outcome.status == "already":
        return RedirectResponse("/surveys/flagged?done=handled", status_code=303)
    if outcome.status != "stored":
        raise HTTPException(409, f"the answer {flag_id} was not released ({outcome.reason or outcome.status})")
    await run_in_threadpool(deps.hub(request).write, audit.record, actor, "survey.release", "survey_flagged",
                            flag_id, {"survey_id": row["survey_id"], "response_id": outcome.response_id},
                            deps.client_ip(request))
    return RedirectResponse("/surveys/flagged?done=released", status_code=303)


def _flag(request: Request, flag_id: str) -> dict[str, Any]:
    """The flagged answer (404 when there is none); ``pending``: not yet released or discarded."""
    t = deps.reader(request).table("survey_flagged")
    frame = t.filter(t.flag_id == flag_id).execute()
    if not len(frame):
        raise HTTPException(404, "there is no such flagged answer")
    row = frame.to_dict("records")[0]
    row["pending"] = pd.isna(row["released_at"]) and not (isinstance(row["released_by"], str) and row["released_by"])
    return row




@router.post("/surveys/flagged/{flag_id}/discard", include_in_schema=False)
def discard(request: Request, flag_id: str, actor: Actor = Depends(require("surveys.release"))) -> Response:
    """Discard a quarantined answer: it stays aside for good (kept, marked as discarded by whom)."""
    row = _flag(request, flag_id)
    if not row["pending"]:
        return RedirectResponse("/surveys/flagged?done=handled", status_code=303)

    def mark(store):
        with store.transaction():
            store.execute("UPDATE survey_flagged SET released_by = ? WHERE flag_id = ? AND released_at IS NULL "
                          "AND released_by IS NULL", [f"discarded: {actor.name}", flag_id])
            audit.write(store, actor.name, actor.role, "survey.discard", "survey_flagged", flag_id,
                        {"survey_id": row["survey_id"]}, deps.client_ip(request))

    deps.hub(request).write(mark)
    return RedirectResponse("/surveys/flagged?done=discarded", status_code=303)


# -- the survey form (admin) ----------------------------------------------------------------------------------

def _form_values(survey=None) -> dict[str, Any]:
    """The form's fields (named by the definition's keys: ``texts.pl.title``, ``questions[1].type`` …) of a
    stored survey, or of a new one."""
    if survey is None:
        return {"kind": "nps", "languages": list(LANGS), "default_language": "en", "branding.primary": "#1f5fa8",
                "branding.background": "#ffffff", "branding.text": "#1a1a1a", "questions": []}
    d = survey.to_dict()
    v: dict[str, Any] = {k: d.get(k) or "" for k in ("slug", "name", "kind", "touchpoint", "channel",
                                                      "default_language")}
    v["anonymous"] = bool(d.get("anonymous"))
    v["languages"] = d.get("languages", list(LANGS))
    for lang, texts in d.get("texts", {}).items():
        for k, text in texts.items():
            v[f"texts.{lang}.{k}"] = text
    for k, value in d.get("branding", {}).items():
        if k != "logo":
            v[f"branding.{k}"] = value
    v["has_logo"] = bool(survey.branding.logo)
    v["questions"] = []
    for i, q in enumerate(d.get("questions", []), start=1):
        v["questions"].append(i)
        v[f"questions[{i}].id"] = q["id"]
        v[f"questions[{i}].type"] = q["type"]
        v[f"questions[{i}].required"] = bool(q.get("required"))
        for lang, label in q.get("label", {}).items():
            v[f"questions[{i}].label.{lang}"] = label
        if q.get("scale"):
            v[f"questions[{i}].scale"] = f"{q['scale'][0]}-{q['scale'][1]}"
        if q.get("options"):
            v[f"questions[{i}].options"] = "\n".join(
                " | ".join([o["id"], *[o["label"].get(lang, "") for lang in d.get("languages", LANGS)]])
                for o in q["options"])
    return v


def definition_of(form: dict[str, Any], old_logo: str | None = None) -> dict[str, Any]:
    """The survey form's fields as the definition's dict (what ``from_dict`` checks). Empty texts are left out
    (the defaults of the kind and language fill them); options are lines ``id | label in each language``."""
    def text(key: str) -> str:
        return str(form.get(key) or "").strip()

    languages = [lang for lang in LANGS if lang in (form.get("languages") or [])]
    d: dict[str, Any] = {"slug": text("slug").lower(), "name": text("name"), "kind": text("kind"),
                         "anonymous": bool(form.get("anonymous")), "languages": languages}
    for key in ("touchpoint", "channel", "default_language"):
        if text(key):
            d[key] = text(key)
    d["texts"] = {lang: {k: text(f"texts.{lang}.{k}") for k in TEXT_FIELDS if text(f"texts.{lang}.{k}")}
                  for lang in languages}
    branding: dict[str, Any] = {k: text(f"branding.{k}") for k in ("company", "primary", "background", "text")
                                if text(f"branding.{k}")}
    logo = form.get("branding.logo")
    if isinstance(logo, (bytes, bytearray)) and logo:
        branding["logo"] = _data_uri(bytes(logo))
    elif old_logo and not form.get("branding.remove_logo"):
        branding["logo"] = old_logo
    d["branding"] = branding
    questions = []
    for i in _slots(form):
        qid, qtype = text(f"questions[{i}].id"), text(f"questions[{i}].type")
        if not qid and not qtype:
            continue
        q: dict[str, Any] = {"id": qid, "type": qtype, "required": bool(form.get(f"questions[{i}].required")),
                             "label": {lang: text(f"questions[{i}].label.{lang}") for lang in languages
                                       if text(f"questions[{i}].label.{lang}")}}
        scale = text(f"questions[{i}].scale")
        if qtype == "rating" and scale:
            m = re.fullmatch(r"\s*(\d+)\s*[-–]\s*(\d+)\s*", scale)
            q["scale"] = [int(m.group(1)), int(m.group(2))] if m else scale
        if qtype == "choice":
            q["options"] = _options(text(f"questions[{i}].options"), languages)
        questions.append(q)
    d["questions"] = questions
    return d


def _slots(form: dict[str, Any]) -> list[int]:
    found = {int(m.group(1)) for k in form for m in [re.match(r"questions\[(\d+)\]\.", k)] if m}
    return sorted(found)


def _options(text: str, languages: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        oid, labels = parts[0], [p for p in parts[1:]]
        if len(labels) == 1:
            labels = labels * len(languages)
        out.append({"id": oid, "label": {lang: label for lang, label in zip(languages, labels, strict=False)
                                         if label}})
    return out


def _data_uri(content: bytes) -> str:
    """An uploaded logo as a data: URI, its type told by its first bytes (the definition checks it)."""
    head = content[:2000].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    mime = ("image/png" if content.startswith(b"\x89PNG") else "image/jpeg" if content.startswith(b"\xff\xd8\xff")
            else "image/svg+xml" if b"<svg" in head else "image/png")
    return f"data:{mime};base64," + base64.b64encode(content).decode("ascii")


def error_field(message: str, anchors: list[str]) -> str | None:
    """The form field a definition error names (``survey form: questions[2].options[1].label.pl: required``
    → ``questions[2].options``): the longest anchor that starts the error's key."""
    _, _, rest = message.partition(": ")
    key = rest.partition(": ")[0].strip()
    best = None
    for a in anchors:
        if (key == a or key.startswith(a + ".") or key.startswith(a + "[")) and (best is None or len(a) > len(best)):
            best = a
    return best


def _anchors(values: dict[str, Any]) -> list[str]:
    names = ["slug", "name", "kind", "touchpoint", "channel", "anonymous", "languages", "default_language",
             "branding.company", "branding.primary", "branding.background", "branding.text", "branding.logo",
             "texts"]
    names += [f"texts.{lang}.{k}" for lang in LANGS for k in TEXT_FIELDS] + [f"texts.{lang}" for lang in LANGS]
    for i in values.get("questions", []):
        names += [f"questions[{i}]", *(f"questions[{i}].{k}" for k in ("id", "type", "label", "options", "scale",
                                                                       "required")),
                  *(f"questions[{i}].label.{lang}" for lang in LANGS)]
    return names + ["questions"]


def _edit_page(request: Request, survey, values: dict[str, Any], error: str | None = None,
               status: int = 200) -> Response:
    from ...surveys.definition import default_texts
    from ...surveys.model import KINDS

    kind = values.get("kind") if values.get("kind") in KINDS else "nps"
    company = values.get("branding.company") or "…"
    placeholders = {lang: default_texts(kind, lang, company) for lang in LANGS}
    n = len(values.get("questions", []))
    values = dict(values)
    values["questions"] = list(values.get("questions", [])) + list(range(n + 1, min(n + EXTRA_SLOTS, 10) + 1))
    field = error_field(error, _anchors(values)) if error else None
    return render(request, "survey_edit.html", {
        "title": "New survey" if survey is None else "Edit survey", "survey": survey, "v": values,
        "error": error, "error_field": field, "kinds": KINDS, "langs": LANGS, "text_fields": TEXT_FIELDS,
        "text_labels": TEXT_LABELS, "placeholders": placeholders}, status=status)


async def _form_dict(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for k, v in form.multi_items():
        if k == "languages":
            out.setdefault("languages", []).append(v)
        elif hasattr(v, "read"):
            content = await v.read()
            if content:
                out[k] = content
        else:
            out[k] = v
    out.setdefault("languages", [])
    out["questions"] = _slots(out)
    return out


@router.get("/surveys/new", include_in_schema=False)
def new_form(request: Request, actor: Actor = Depends(require("surveys.manage"))) -> Response:
    return _edit_page(request, None, _form_values())


@router.post("/surveys/new", include_in_schema=False)
async def create(request: Request, actor: Actor = Depends(require("surveys.manage"))) -> Response:
    form = await _form_dict(request)
    return await run_in_threadpool(_save, request, actor, None, form)


def _save(request: Request, actor: Actor, survey, form: dict[str, Any]) -> Response:
    import dataclasses

    from ...surveys import repo
    from ...surveys.definition import from_dict

    try:
        d = definition_of(form, survey.branding.logo if survey else None)
        if survey is not None and survey.audience != "customers":  # the form does not change who answers
            d.update(audience=survey.audience, period=survey.period)
        new = from_dict(d, where="survey form")
    except CentricError as e:
        form.setdefault("has_logo", bool(survey and survey.branding.logo))
        return _edit_page(request, survey, form, str(e), 422)

    def store_it(store):
        if survey is None:
            survey_id = repo.add(store, new)
        else:
            survey_id = repo.update(store, dataclasses.replace(new, survey_id=survey.survey_id)).survey_id
        audit.record(store, actor, "survey.add" if survey is None else "survey.edit", "survey", survey_id,
                     {"slug": new.slug, "kind": new.kind, "questions": len(new.questions)}, deps.client_ip(request))
        return survey_id

    try:
        survey_id = deps.hub(request).write(store_it)
    except CentricError as e:
        form.setdefault("has_logo", bool(survey and survey.branding.logo))
        return _edit_page(request, survey, form, f"survey form: slug: {e}", 422)
    _forget(request)
    return RedirectResponse(f"/surveys/{survey_id}?changed=saved", status_code=303)


@router.get("/surveys/{survey_id}", include_in_schema=False)
def survey_page(request: Request, survey_id: str, actor: Actor = Depends(require("surveys.view"))) -> Response:
    store = deps.reader(request)
    survey = _survey_or_404(store, survey_id)
    rates = [r for r in _rates(store, ("survey", "touchpoint")) if r.get("survey_id") == survey.survey_id]
    by_language = [r for r in _rates(store, ("survey", "language")) if r.get("survey_id") == survey.survey_id]
    total = next((r for r in _rates(store, ("survey",)) if r.get("survey_id") == survey.survey_id), {})
    trend = _trend(store, survey)
    lo, hi = _AXIS[survey.kind]
    return render(request, "survey.html", {
        "title": survey.name, "survey": survey, "rates": rates, "by_language": by_language, "total": total, "trend": trend,
        "chart": trend_svg(trend, lo, hi), "comments": _recent_comments(store, survey.slug, survey.kind),
        "links": _links(survey), "changed": request.query_params.get("changed"),
        "flagged": _flagged_count(store)})


@router.get("/surveys/{survey_id}/edit", include_in_schema=False)
def edit_form(request: Request, survey_id: str, actor: Actor = Depends(require("surveys.manage"))) -> Response:
    survey = _survey_or_404(deps.reader(request), survey_id)
    return _edit_page(request, survey, _form_values(survey))


@router.post("/surveys/{survey_id}/edit", include_in_schema=False)
async def edit(request: Request, survey_id: str, actor: Actor = Depends(require("surveys.manage"))) -> Response:
    # the reader of the thread that reads with it, not the event loop's
    survey = await run_in_threadpool(lambda: _survey_or_404(deps.reader(request), survey_id))
    form = await _form_dict(request)
    return await run_in_threadpool(_save, request, actor, survey, form)


@router.post("/surveys/{survey_id}/status", include_in_schema=False)
async def change_status(request: Request, survey_id: str,
                        actor: Actor = Depends(require("surveys.manage"))) -> Response:
    """Pause (answers wait; links stay valid), close (links end) or resume a survey."""
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in STATUS_ACTIONS:
        raise HTTPException(422, f"action: {action!r} must be one of {', '.join(STATUS_ACTIONS)}")

    def change(store):
        from ...surveys import repo

        survey = _survey_or_404(store, survey_id)
        repo.set_status(store, survey.survey_id, STATUS_ACTIONS[action])
        audit.record(store, actor, f"survey.{action}", "survey", survey.survey_id,
                     {"from": survey.status, "to": STATUS_ACTIONS[action]}, deps.client_ip(request))
        return survey.survey_id

    sid = await run_in_threadpool(deps.hub(request).write, change)
    _forget(request)
    return RedirectResponse(f"/surveys/{sid}?changed={action}", status_code=303)
