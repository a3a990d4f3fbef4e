"""Mystery shopping in the web app.

- ``/mystery``: analysts and admins see the scores by store and region with their trend, ours against the
  competitors by factor, the calibration pairs and the latest visits; store managers (agents) the visits to the
  stores they manage (``units.manager``); shoppers their own visits and the way to enter one.
- ``/mystery/new``: the phone-sized entry form. It works without script (a plain POST with the CSRF token and a
  visit id made by the server); with script (``/static/mystery.js``) a service worker (``/mystery/sw.js``) keeps
  the form and its files for use without a connection, and a visit submitted offline waits in the browser's
  IndexedDB until it can be sent. Every submission carries its visit id, so a visit sent twice is stored once.
- ``/mystery/visits/{visit_id}``: one visit (answers, notes, attachments, its case); its attachments are served
  only to those who may read the visit, as downloads or images with ``nosniff``.
- ``/mystery/calibration``: the pairs of visits to one store by two shoppers.

Authorisation on the server: ``mystery.read`` is checked against each visit (a store manager's store, a shopper's
own visit; 404 otherwise), lists are filtered in the query; every stored visit is audited (ids and counts only).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ...errors import CentricError
from .. import deps
from .. import scheduler as background
from ..deps import render, require
from ..permissions import Actor, allowed

router = APIRouter()
STATIC = Path(__file__).parent.parent / "static"
_lock = threading.Lock()
_cache: dict[tuple, Any] = {}
LIST_LIMIT = 200


def _scope(actor: Actor) -> dict[str, str | None]:
    """The query filter of the visits ``actor`` may read."""
    if actor.role == "agent":
        return {"manager": actor.agent}
    if actor.role == "shopper":
        return {"shopper": actor.agent}
    return {}


def _section(request: Request, lang: str) -> tuple[Any, Any]:
    from ...mystery.section import context, for_report
    from ...report import charts_json
    from ...report.i18n import Formatter

    hub = deps.hub(request)
    key = (hub.path, hub.generation)
    with _lock:
        data = _cache.get(key, False)
    if data is False:
        data = for_report(deps.reader(request))
        with _lock:
            _cache.clear()
            _cache[key] = data
    specs: dict[str, Any] = {}
    ctx = context(data, Formatter(lang), specs, live=True)
    return ctx, charts_json(specs)


@router.get("/mystery", include_in_schema=False)
def mystery_page(request: Request, actor: Actor = Depends(require("mystery.read"))) -> Response:
    from ...mystery.visits import list_visits

    store = deps.reader(request)
    lang = deps.language(request, actor)
    section, charts = (None, None)
    if allowed(actor, "mystery.scores"):
        from ...report import render_sections

        ctx, charts = _section(request, lang)
        if ctx is not None:
            section = render_sections({"mystery": ctx, "lang": lang}, lang, "_section_mystery.html")
    visits = list_visits(store, limit=LIST_LIMIT, **_scope(actor))
    return render(request, "mystery.html", {
        "title": "Mystery shopping", "section": section, "charts": charts, "visits": visits,
        "may_enter": allowed(actor, "mystery.enter"), "may_score": allowed(actor, "mystery.scores"),
        "limit": LIST_LIMIT})


@router.get("/mystery/calibration", include_in_schema=False)
def calibration_page(request: Request, actor: Actor = Depends(require("mystery.scores"))) -> Response:
    from ...mystery.calibration import calibration

    q = request.query_params
    try:
        window = int(q.get("window") or 14)
        if not 0 <= window <= 3650:
            raise ValueError
    except ValueError:
        raise HTTPException(422, "window: a number of days from 0 to 3650") from None
    c = calibration(deps.reader(request), window_days=window)
    return render(request, "mystery_calibration.html", {
        "title": "Calibration", "pairs": c.pairs.to_dict(orient="records"), "window": window,
        "max_diff": c.max_diff, "min_agreement": c.min_agreement})


# -- the entry form ---------------------------------------------------------------------------------------
def _form_context(request: Request, template_id: str | None, values: dict | None = None,
                  error: str | None = None) -> dict[str, Any]:
    from ...mystery.template import get_template, list_templates
    from ...mystery.visits import new_visit_id

    store = deps.reader(request)
    templates = list_templates(store)
    template = None
    if templates:
        tid = template_id if template_id in {t["template_id"] for t in templates} else templates[0]["template_id"]
        template = get_template(store, tid)
    stores = [r[0] for r in store.execute("SELECT unit FROM units WHERE kind = 'store' ORDER BY unit").fetchall()]
    brands = [r[0] for r in store.execute(
        "SELECT DISTINCT brand FROM (SELECT brand FROM feedback UNION ALL SELECT brand FROM mystery_visits) b "
        "WHERE brand IS NOT NULL AND lower(brand) <> 'ours' ORDER BY 1").fetchall()]
    values = values or {}
    return {"title": "New visit", "templates": templates, "template": template, "stores": stores, "brands": brands,
            "values": values, "error": error, "visit_id": values.get("visit_id") or new_visit_id(),
            "now": values.get("visited_at") or dt.datetime.now().strftime("%Y-%m-%dT%H:%M"),
            "max_mb": _max_mb(), "accept": "image/jpeg,image/png,application/pdf"}


def _max_mb() -> int:
    from ...mystery.visits import MAX_ATTACHMENT_BYTES

    return MAX_ATTACHMENT_BYTES // (1024 * 1024)


@router.get("/mystery/new", include_in_schema=False)
def new_visit(request: Request, actor: Actor = Depends(require("mystery.enter"))) -> Response:
    ctx = _form_context(request, request.query_params.get("template"))
    return render(request, "mystery_form.html", ctx)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/mystery/new", include_in_schema=False)
async def post_visit(request: Request, actor: Actor = Depends(require("mystery.enter"))) -> Response:
    from starlette.concurrency import run_in_threadpool

    from ...mystery.visits import (
        MAX_ATTACHMENT_BYTES,
        MAX_ATTACHMENTS,
        VisitError,
        check_attachment,
        record_visit,
    )

    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    files = [v for k, v in form.multi_items() if k == "files" and not isinstance(v, str) and getattr(v, "filename", "")]
    try:
        if len(files) > MAX_ATTACHMENTS:
            raise VisitError(f"attachments: at most {MAX_ATTACHMENTS} files per visit")
        attachments = []
        for k, f in enumerate(files, 1):
            data = await f.read(MAX_ATTACHMENT_BYTES + 1)
            attachments.append(check_attachment(data, f"file {k}"))
        tid = values.get("template_id", "")
        when = _when(values.get("visited_at", ""))
        brand = (values.get("brand") or "ours").strip() or "ours"
        store_name = values.get("store", "") if brand.lower() == "ours" else values.get("competitor_store", "")
        if brand.lower() == "ours" and store_name not in _our_stores(request):
            raise VisitError("store: choose one of our stores")
        answers = {k[2:]: v for k, v in values.items() if k.startswith("a_")}
        version = int(values["template_version"]) if values.get("template_version", "").isdigit() else None
        visit_id, stored = await run_in_threadpool(
            deps.hub(request).write, record_visit, tid, values.get("visit_id", ""), store_name, when, answers,
            shopper=actor.agent, brand=brand, notes=(values.get("notes") or "")[:4000], attachments=attachments,
            entered_by=actor.name, version=version, audit_actor=actor, ip=deps.client_ip(request))
    except (VisitError, CentricError) as e:
        if _wants_json(request):
            return JSONResponse({"detail": str(e)}, status_code=422)
        ctx = await run_in_threadpool(_form_context, request, values.get("template_id"), values, str(e))
        return render(request, "mystery_form.html", ctx, status=422)
    if stored and (values.get("notes") or "").strip():
        background.wake(deps.hub(request))  # the text pipeline analyses the notes in the next round, at once
    url = f"/mystery/visits/{visit_id}"
    if _wants_json(request):
        return JSONResponse({"visit_id": visit_id, "stored": stored, "url": url}, status_code=201 if stored else 200)
    return RedirectResponse(url + ("?saved=1" if stored else "?again=1"), status_code=303)


def _when(value: str) -> dt.datetime:
    from ...mystery.visits import VisitError

    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise VisitError("date: when was the visit? (e.g. 2025-03-31T14:30)") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if when > dt.datetime.now() + dt.timedelta(days=1) or when.year < 2000:
        raise VisitError("date: the visit cannot be in the future")
    return when


def _our_stores(request: Request) -> set[str]:
    return {r[0] for r in deps.reader(request).execute("SELECT unit FROM units WHERE kind = 'store'").fetchall()}


@router.get("/mystery/sw.js", include_in_schema=False)
def service_worker(request: Request, actor: Actor = Depends(require("mystery.enter"))) -> Response:
    """The form's service worker, served under /mystery/ so that its scope covers the form."""
    return Response((STATIC / "mystery-sw.js").read_bytes(), media_type="application/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/mystery/"})


# -- one visit --------------------------------------------------------------------------------------------
def _visit(request: Request, actor: Actor, visit_id: str) -> dict:
    from ...mystery.visits import visit

    v = visit(deps.reader(request), visit_id)
    if v is None or not allowed(actor, "mystery.read", {"manager": v.get("manager"), "shopper": v.get("shopper")}):
        raise HTTPException(404, "there is no such visit")
    return v


@router.get("/mystery/visits/{visit_id}", include_in_schema=False)
def visit_page(request: Request, visit_id: str, actor: Actor = Depends(require("mystery.read"))) -> Response:
    v = _visit(request, actor, visit_id)
    case = None
    if v.get("case_id"):
        row = deps.reader(request).execute("SELECT case_id, status, owner, department FROM cases WHERE case_id = ?",
                                           [v["case_id"]]).fetchone()
        if row:
            case = dict(zip(("case_id", "status", "owner", "department"), row, strict=True))
            case["readable"] = allowed(actor, "case.read", {"department": case["department"]})
    sections = []
    for a in v["answers"]:
        if not sections or sections[-1]["id"] != a["section"]:
            sec = next((s for s in v["template"].sections if s.id == a["section"]), None) if v["template"] else None
            sections.append({"id": a["section"], "section": sec, "answers": []})
        sections[-1]["answers"].append(a)
    try:
        from ...text.taxonomy import active_taxonomy

        lang = deps.language(request, actor)
        names = {f.id: f.name(lang) for f in active_taxonomy(deps.reader(request)).factors}
    except CentricError:
        names = {}
    notes, store_notes = _notes(request, actor, v, names)
    return render(request, "mystery_visit.html", {
        "title": "Visit", "v": v, "sections": sections, "case": case, "factor_names": names,
        "notes_analysis": notes, "store_notes": store_notes,
        "saved": request.query_params.get("saved") == "1", "again": request.query_params.get("again") == "1"})


def _notes(request: Request, actor: Actor, v: dict, names: dict[str, str]) -> tuple[dict | None, dict | None]:
    """What the text pipeline found in this visit's notes, and (for those who see more than their own visits) the
    factors all the shoppers' notes about this store raise, with its latest masked quotes."""
    from ...mystery.notes import summary, visit_factors

    store = deps.reader(request)
    mine = visit_factors(store, v["visit_id"])
    if mine is not None:
        mine["factors"] = [{**m, "name": names.get(m["factor"], m["factor"])} for m in mine["factors"]]
    if actor.role == "shopper":
        return mine, None
    s = summary(store, v["store"], quotes=2)
    if not s.notes:
        return mine, None
    r = s.stores.iloc[0]
    return mine, {"notes": int(r["notes"]), "analysed": int(r["analysed"]),
                  "factors": [{"name": names.get(x.factor, x.factor), "notes": int(x.notes), "net": x.net}
                              for x in s.factors.head(6).itertuples()],
                  "quotes": [{**q, "factors": ", ".join(names.get(f, f) for f in q["factors"])}
                             for q in s.quotes.get(v["store"], [])]}


@router.get("/mystery/visits/{visit_id}/files/{attachment_id}", include_in_schema=False)
def visit_file(request: Request, visit_id: str, attachment_id: str,
               actor: Actor = Depends(require("mystery.read"))) -> Response:
    from ...mystery.visits import attachment

    _visit(request, actor, visit_id)
    got = attachment(deps.reader(request), visit_id, attachment_id)
    if got is None:
        raise HTTPException(404, "there is no such file")
    media, data = got
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[media]
    how = "inline" if media.startswith("image/") else "attachment"
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'{how}; filename="{attachment_id}.{ext}"', "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "same-origin"})
