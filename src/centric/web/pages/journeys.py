"""The journey map in the web app: every journey (/journeys), one journey (/journeys/{journey}) whose
cells link to their evidence (/journeys/{journey}/cell?stage=…&touchpoint=…). The maps are computed by
``centric.journeys`` once per store and data version and kept while the data does not change."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from .. import deps
from ..deps import render, require
from ..permissions import Actor, allowed

router = APIRouter()

_lock = threading.Lock()
_cache: OrderedDict[tuple, list] = OrderedDict()
CACHE_SIZE = 4


def _maps(request: Request) -> list:
    from ...journeys.section import for_report
    from ...report.data import data_version

    store = deps.reader(request)
    key = (deps.hub(request).path, data_version(store))
    with _lock:
        if key in _cache:
            return _cache[key]
    maps = for_report(store)
    with _lock:
        _cache[key] = maps
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return maps


def _section(maps: list, lang: str, one: bool) -> dict[str, Any]:
    from ...journeys.section import section_context
    from ...report import charts_json, render_sections
    from ...report.i18n import Formatter

    specs: dict[str, Any] = {}
    ctx = {"journey_maps": section_context(maps, Formatter(lang), specs), "live": True, "jm_one": one, "lang": lang}
    return {"section": render_sections(ctx, lang, "_section_journeys_map.html"), "charts": charts_json(specs)}


@router.get("/journeys", include_in_schema=False)
def journeys_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    lang = deps.language(request, actor)
    return render(request, "journeys.html", {"title": "Journeys", "one": None, **_section(_maps(request), lang, False)})


def _one(request: Request, journey: str):
    m = next((m for m in _maps(request) if m.journey == journey), None)
    if m is None:
        raise HTTPException(404, "there is no such journey")
    return m


@router.get("/journeys/{journey}", include_in_schema=False)
def journey_page(request: Request, journey: str, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    lang = deps.language(request, actor)
    m = _one(request, journey)
    return render(request, "journeys.html", {"title": journey, "one": journey, **_section([m], lang, True)})


@router.get("/journeys/{journey}/cell", include_in_schema=False)
def cell_page(request: Request, journey: str, stage: str = "", touchpoint: str = "",
              actor: Actor = Depends(require("dashboard.read"))) -> Response:
    m = _one(request, journey)
    if not stage and not touchpoint and m.cells:  # no cell named: the journey's first
        stage, touchpoint = m.cells[0].stage, m.cells[0].touchpoint
    c = m.cell(stage, touchpoint)
    if c is None:
        raise HTTPException(404, "there is no such stage at that touchpoint in this journey")
    return render(request, "journeys_cell.html", {
        "title": f"{journey}: {stage} × {touchpoint}", "journey": m, "cell": c, "stage": m.stage(stage),
        "tp": m.touchpoint(touchpoint), "case_links": allowed(actor, "case.read")})
