"""The dashboards: the report's sections live, filtered by period, brand, segment, channel and touchpoint
(GET parameters of a form that works without JavaScript), and one factor of the action matrix up close.

The figures come from ``centric.report.data.collect`` with ``where`` (the filtering happens in the
queries) and are shown by the report's own section template; a selection's page parts are kept per
(store, language, selection, data version), so a page is computed once until the data changes.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...errors import CentricError
from ...metrics.periods import parse_bound
from .. import deps
from .. import scheduler as background
from ..deps import render, require
from ..permissions import Actor, allowed, case_scope

router = APIRouter()

FILTERS = ("segment", "channel", "touchpoint", "council")
PRESETS = ("30d", "90d", "quarter")
JUMPS = (("headline", "Headline"), ("trends", "Trends"), ("breakdowns", "Breakdowns"), ("complaints", "Complaints"),
         ("journeys", "Journeys"), ("churn", "Churn"), ("customers", "Customers"), ("fix-first", "What to fix first"),
         ("feelings", "Feelings"))
"""The sections the page's jump links may name, in the page's order (labels translated as in the report's)."""
CACHE_SIZE = 32


@dataclass(frozen=True)
class Selection:
    """What the reader asked for: dates (``end`` exclusive), brand and the column filters."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    brand: str = "ours"
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    preset: str = ""

    @property
    def filters(self) -> dict[str, tuple[str, ...]]:
        return dict(self.where)

    def params(self) -> dict[str, str]:
        """The selection as GET parameters (for links that keep it)."""
        p: dict[str, str] = {}
        if self.start:
            p["from"] = f"{self.start:%Y-%m-%d}"
        if self.end:
            p["to"] = f"{self.end - dt.timedelta(days=1):%Y-%m-%d}"
        if self.brand != "ours":
            p["brand"] = self.brand
        for col, values in self.where:
            p[col] = values[0]
        return p

    def query(self) -> str:
        return urlencode(self.params())

    @property
    def period(self) -> str:
        """The headline's period: month for a selection of four months or less, else quarter."""
        if self.start and self.end and (self.end - self.start).days <= 124:
            return "month"
        return "quarter"


def _date(text: str | None, name: str) -> dt.datetime | None:
    try:
        return parse_bound(text) if text else None
    except CentricError as e:
        raise CentricError(f"{name}: {e}") from None


def selection(request: Request, last: dt.datetime | None) -> Selection:
    """The selection from the query string; a preset counts back from ``last`` (the data's latest day)."""
    q = request.query_params
    preset = q.get("preset", "")
    start, end = _date(q.get("from"), "from"), _date(q.get("to"), "to")
    if end is not None:
        end += dt.timedelta(days=1)  # "to" is the last day shown
    if preset in PRESETS and last is not None:
        day = dt.datetime.combine(last.date(), dt.time()) + dt.timedelta(days=1)
        if preset == "quarter":
            start, end = dt.datetime(last.year, 3 * ((last.month - 1) // 3) + 1, 1), day
        else:
            start, end = day - dt.timedelta(days=int(preset[:-1])), day
    elif preset:
        preset = ""
    if start and end and start >= end:
        raise CentricError(f"from ({start:%Y-%m-%d}) must come before to ({end - dt.timedelta(days=1):%Y-%m-%d})")
    where = tuple((col, (q[col],)) for col in FILTERS if q.get(col))
    return Selection(start, end, q.get("brand") or "ours", where, preset)


# -- the page parts, cached per data version ------------------------------------------------------------------
# A selection's parts are kept with the data version they were computed at. When the data has changed
# since, the page shows the parts it has (saying when they were computed) while one background thread
# computes them again: a reader never waits for the figures while feedback keeps arriving.

@dataclass
class _Entry:
    version: tuple
    parts: dict[str, Any]
    refreshing: bool = False


_cache: OrderedDict[tuple, _Entry] = OrderedDict()
_memos: OrderedDict[tuple, dict] = OrderedDict()  # (store, version) → the sections every filter shares
_lock = threading.Lock()
_first: dict[tuple, threading.Lock] = {}
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="centric-dashboards",  # one reader, reused
                             initializer=background.lower_priority)  # the requests come first


def _memo(path: str, version: tuple) -> dict:
    with _lock:
        key = (path, version)
        if key not in _memos:
            _memos[key] = {}
            while len(_memos) > 2:
                _memos.popitem(last=False)
        return _memos[key]


def _compute(hub, key: tuple, sel: Selection, lang: str, version: tuple) -> dict[str, Any]:
    parts = _parts(hub.reader(), sel, lang, _memo(hub.path, version))
    parts["computed_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with _lock:
        _cache[key] = _Entry(version, parts)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return parts


def _refresh(hub, key: tuple, sel: Selection, lang: str, version: tuple) -> None:
    try:
        with hub.busy():  # the hub's close waits for this worker to leave its reads
            _compute(hub, key, sel, lang, version)
    except Exception:  # the stale parts stay; the next request tries again
        with _lock:
            if key in _cache:
                _cache[key].refreshing = False


def page_parts(hub, sel: Selection, lang: str, version: tuple) -> tuple[dict[str, Any], bool]:
    """The parts of ``sel`` and whether they are older than ``version`` (being computed again)."""
    key = (hub.path, lang, sel.start, sel.end, sel.brand, sel.where)
    with _lock:
        entry = _cache.get(key)
        if entry is not None and entry.version == version:
            _cache.move_to_end(key)
            return entry.parts, False
        if entry is not None:
            if not entry.refreshing:
                entry.refreshing = True
                _worker.submit(_refresh, hub, key, sel, lang, version)
            return entry.parts, True
        first = _first.setdefault(key, threading.Lock())
    with first:  # concurrent first requests of a selection wait for one computation
        with _lock:
            entry = _cache.get(key)
        if entry is not None:
            return entry.parts, entry.version != version
        try:
            return _compute(hub, key, sel, lang, version), False
        finally:
            with _lock:
                _first.pop(key, None)


def _parts(store, sel: Selection, lang: str, memo: dict | None = None) -> dict[str, Any]:
    """The sections' HTML and their charts for a selection (no request in here: cacheable)."""
    from ...report import charts_json, render_sections, report_context
    from ...report.data import collect

    d = collect(store, sel.start, sel.end, sel.period, where=sel.filters, brand=sel.brand, memo=memo)
    ctx, specs = report_context(d, lang)
    query = sel.query()
    ctx["live"] = True
    ctx["factor_href"] = lambda factor: f"/dashboards/factor/{_quote(factor)}" + (f"?{query}" if query else "")
    sections = render_sections(ctx, lang)
    # the jump links name only the sections this selection has (ids from our templates, never from data)
    shown = set(re.findall(r'<section id="([\w-]+)"', str(sections)))
    return {"sections": sections, "charts": charts_json(specs), "has_data": ctx["has_data"],
            "jumps": [(id_, label) for id_, label in JUMPS if id_ in shown], "first": d.first, "last": d.last}


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(str(text), safe="")


@router.get("/dashboards", include_in_schema=False)
def dashboards(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...metrics.filters import choices
    from ...report.data import _bounds, data_version

    store = deps.reader(request)
    lang = deps.language(request, actor)
    last = _bounds(store, None, None)[1]
    sel = selection(request, last)
    parts, stale = page_parts(deps.hub(request), sel, lang, data_version(store))
    options = choices(store)
    return render(request, "dashboards.html", {
        "title": "Dashboards", "sel": sel, "options": options, "presets": PRESETS,
        "filters": [c for c in FILTERS if c != "council" or options["council"]],
        "values": {col: (sel.filters.get(col) or ("",))[0] for col in FILTERS},
        "date_from": f"{sel.start:%Y-%m-%d}" if sel.start else "",
        "date_to": f"{sel.end - dt.timedelta(days=1):%Y-%m-%d}" if sel.end else "",
        "filtered": bool(sel.where) or sel.brand != "ours", "stale": stale, **parts})


@router.get("/dashboards/factor/{factor}", include_in_schema=False)
def factor(request: Request, factor: str, actor: Actor = Depends(require("case.read"))) -> Response:
    """A factor's quotes and its open cases in the selection: a fragment with ``?partial=1`` (the
    dashboards load it into the page), a whole page otherwise. Whoever reads cases may open it (the alerts
    link emerging issues here); an agent sees its departments' cases only."""
    from ...drivers.detail import factor_detail
    from ...report.data import _bounds
    from ...text.taxonomy import active_taxonomy

    store = deps.reader(request)
    lang = deps.language(request, actor)
    sel = selection(request, _bounds(store, None, None)[1])
    detail = factor_detail(store, factor, sel.brand, sel.filters, sel.start, sel.end, case_scope(actor))
    try:
        name = active_taxonomy(store).factor(factor).name(lang)
    except CentricError:
        name = factor
    ctx = {"title": name, "name": name, "d": detail, "sel": sel, "back": "/dashboards" + (
        f"?{sel.query()}" if sel.query() else "") + "#fix-first", "may_read_cases": allowed(actor, "case.read")}
    partial = request.query_params.get("partial") == "1"
    return render(request, "dashboard_factor_part.html" if partial else "dashboard_factor.html", ctx)


def warm(hub, languages=("en",)):
    """Compute the unfiltered dashboards in the background (e.g. when the server starts), so that the first
    reader does not wait for them; the future of that work."""
    from ...report.data import data_version

    def run() -> None:
        with hub.busy():
            version = data_version(hub.reader())
        for lang in languages:
            if hub.closed:
                return
            key = (hub.path, lang, None, None, "ours", ())
            with _lock:
                if key in _cache:
                    continue
            _refresh(hub, key, Selection(), lang, version)

    return _worker.submit(run)
