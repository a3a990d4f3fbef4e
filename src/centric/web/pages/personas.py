"""The persona pages: ``/personas`` (the persona cards; ``?segment=S`` the empathy map of a customer
segment) and ``/personas/{number}`` (a persona's card and empathy map, every item linking to the customers
and texts behind it). Read-only analysis: whoever may read the dashboards."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from ...errors import CentricError
from ...personas.empathy import empathy_map
from ...personas.present import bundle, empathy_context, factor_names, section
from ...personas.present import render as render_part
from ...report.i18n import Formatter
from .. import deps
from ..deps import render, require
from ..permissions import Actor

router = APIRouter()


def _context(request: Request, actor: Actor):
    store = deps.reader(request)
    lang = deps.language(request, actor)
    with deps.hub(request).busy():
        b = bundle(store)
    names = factor_names(store, lang)
    return store, lang, b, names


@router.get("/personas", include_in_schema=False)
def personas_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    store, lang, b, names = _context(request, actor)
    f = Formatter(lang)
    segment = (request.query_params.get("segment") or "").strip()[:100]
    ctx = section(b, f, {}, names)
    html = render_part("_section_personas.html", lang, personas=ctx, live=True) if ctx else None
    seg_map = None
    if segment and b is not None:
        try:
            seg_map = empathy_context(empathy_map(store, b.result, segment=segment), f, names)
        except CentricError:
            raise HTTPException(404, "there is no such segment") from None
    segments = sorted(str(s) for s in b.result.features.frame["segment"].dropna().unique()) if b else []
    part = render_part("_personas_empathy.html", lang, m=seg_map, live=True) if seg_map else None
    return render(request, "personas.html", {"title": "Personas", "section": html, "segments": segments,
                                             "segment": segment, "segment_map": part})


@router.get("/personas/{number}", include_in_schema=False)
def persona_page(request: Request, number: int, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    store, lang, b, names = _context(request, actor)
    f = Formatter(lang)
    ctx = section(b, f, {}, names)
    card = next((c for c in (ctx or {}).get("cards", []) if c["number"] == number), None)
    if card is None:
        raise HTTPException(404, "there is no such persona")
    part = render_part("_personas_empathy.html", lang, m=card["empathy"], live=True)
    return render(request, "persona.html", {"title": card["name"], "card": card, "empathy": part,
                                            "currency": ctx["currency"]})
