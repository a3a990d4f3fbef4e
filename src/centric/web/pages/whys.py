"""5 whys: compute a factor's root-cause tree (``centric.whys``), look at each node's evidence, save the tree,
edit it (rename, annotate, mark a leaf, remove or add a node) and attach it to the cases it explains. Reading
needs ``dashboard.read``; saving, editing and attaching ``whys.edit`` (analysts and admins). Every change goes
through the hub's writer and into the audit log (ids and operation names only)."""

from __future__ import annotations

import re
import threading

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from ...whys.drop import METRICS
from ...whys.tree import VERDICTS
from .. import audit, deps
from ..deps import render, require
from ..permissions import Actor, allowed

router = APIRouter()
_computed: dict[tuple, object] = {}  # (store, write generation, factor, period) → tree or error: a save reuses it
_lock = threading.Lock()


def _factors(store, lang: str) -> list[tuple[str, str]]:
    from ...text.taxonomy import active_taxonomy

    try:
        return [(f.id, f.name(lang)) for f in active_taxonomy(store).factors]
    except CentricError:
        return []


def _tree(request: Request, factor: str | None, period: str | None, drop: tuple[str, str, str] | None = None):
    """The computed tree (cached while the store does not change): a factor's, or with ``drop`` = (metric,
    segment, compare) a drop's; CentricError when it cannot be made."""
    from ...whys import whys, whys_drop
    from ...whys.tree import period_bounds

    hub = deps.hub(request)
    key = (hub.path, hub.generation, factor, period or "", drop)
    with _lock:
        got = _computed.get(key)
    if got is None:
        store = deps.reader(request)
        start, end = period_bounds(period)
        names = dict(_factors(store, "en"))
        try:
            if drop is not None:
                metric, segment, compare = drop
                if not period:
                    raise CentricError("a drop needs the period the metric fell in (e.g. 2025-Q3)")
                got = whys_drop(store, metric, period, where={"segment": [segment]} if segment else None,
                                compare=compare or None, names=names)
            else:
                got = whys(store, factor, start, end, names=names)
        except CentricError as e:
            got = e
        with _lock:
            if len(_computed) > 16:
                _computed.clear()
            _computed[key] = got
    if isinstance(got, CentricError):
        raise got
    return got


def _period(value: str | None) -> str | None:
    from ...whys.tree import period_bounds

    value = (value or "").strip() or None
    period_bounds(value)  # checked: a year, a quarter or a month
    return value


@router.get("/whys", include_in_schema=False)
def whys_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...whys import saved

    store = deps.reader(request)
    lang = deps.language(request, actor)
    q = request.query_params
    factor, period, tree, error = q.get("factor") or None, q.get("period") or "", None, None
    drop = _drop(q.get("metric"), q.get("segment"), q.get("compare"))
    if factor or drop:
        try:
            tree = _tree(request, None if drop else factor, _period(period), drop)
        except CentricError as e:
            error = str(e)
    from ...metrics.filters import choices

    return render(request, "whys.html", {
        "title": "5 whys", "factors": _factors(store, lang), "factor": factor, "period": period, "tree": tree,
        "drop": drop, "metrics": METRICS, "segments": choices(store).get("segment", []),
        "error": error, "saved": saved.list_trees(store), "may_edit": allowed(actor, "whys.edit")})


def _drop(metric: str | None, segment: str | None, compare: str | None) -> tuple[str, str, str] | None:
    """(metric, segment, compare) of a drop asked for, or None; a metric not offered is refused (422)."""
    if not metric:
        return None
    if metric not in METRICS:
        raise HTTPException(422, f"metric: one of {', '.join(METRICS)}")
    return metric, (segment or "").strip()[:200], _period(compare) or ""


@router.post("/whys", include_in_schema=False)
def save_tree(request: Request, factor: str = Form(""), period: str = Form(""), title: str = Form(""),
              metric: str = Form(""), segment: str = Form(""), compare: str = Form(""),
              actor: Actor = Depends(require("whys.edit"))) -> Response:
    from ...whys import saved

    try:
        p = _period(period)
        drop = _drop(metric, segment, compare)
        if not drop and not factor:
            raise CentricError("factor: name the factor whose tree to save")
        tree = _tree(request, None if drop else factor, p, drop)
        factor = tree.factor
        title = title.strip() or f"{factor}{' ' + p if p else ''}"
        tree_id = deps.hub(request).write(saved.save, tree, title, actor.name, p)
    except CentricError as e:
        raise HTTPException(422, str(e)) from None
    return _audit(request, actor, "whys.save", tree_id, {"factor": factor, "period": p}, f"/whys/{tree_id}")


def _saved(request: Request, tree_id: str):
    from ...whys import saved

    got = saved.get(deps.reader(request), tree_id)
    if got is None:
        raise HTTPException(404, "there is no such tree")
    return got


@router.get("/whys/{tree_id}", include_in_schema=False)
def tree_page(request: Request, tree_id: str, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    got = _saved(request, tree_id)
    q = request.query_params
    return render(request, "whys_tree.html", {
        "title": got.title, "saved": got, "tree": got.tree, "may_edit": allowed(actor, "whys.edit"),
        "may_read_cases": allowed(actor, "case.read"), "error": q.get("error"), "done": q.get("done"),
        "open_node": q.get("node"), "verdicts": VERDICTS})


def _audit(request: Request, actor: Actor, action: str, tree_id: str, detail: dict, to: str) -> Response:
    """Write the change to the audit log (ids and operation names only) and send the browser to ``to``."""
    deps.hub(request).write(audit.record, actor, action, "whys_tree", tree_id, detail, deps.client_ip(request))
    return RedirectResponse(to, status_code=303)


@router.post("/whys/{tree_id}/edit", include_in_schema=False)
def edit_tree(request: Request, tree_id: str, node: str = Form(...), op: str = Form(...), label: str = Form(""),
              note: str = Form(""), verdict: str = Form(""), actor: Actor = Depends(require("whys.edit"))) -> Response:
    from ...whys import saved

    _saved(request, tree_id)
    try:
        deps.hub(request).write(saved.apply, tree_id, node, op, actor.name, label=label, note=note, verdict=verdict)
    except CentricError as e:
        raise HTTPException(422, str(e)) from None
    return _audit(request, actor, "whys.edit", tree_id, {"node": node, "op": op},
                  f"/whys/{tree_id}?done={op}&node={node}#node-{node}")


@router.post("/whys/{tree_id}/attach", include_in_schema=False)
def attach_cases(request: Request, tree_id: str, cases: str = Form(...),
                 actor: Actor = Depends(require("whys.edit"))) -> Response:
    from ...whys import saved

    _saved(request, tree_id)
    if not allowed(actor, "case.read"):
        raise HTTPException(403, "you may not do this")
    try:
        new = deps.hub(request).write(saved.attach, tree_id, [c for c in re.split(r"[\s,;]+", cases) if c], actor.name)
    except CentricError as e:
        raise HTTPException(422, str(e)) from None
    return _audit(request, actor, "whys.attach", tree_id, {"cases": new}, f"/whys/{tree_id}?done=attach")


@router.post("/whys/{tree_id}/detach", include_in_schema=False)
def detach_case(request: Request, tree_id: str, case_id: str = Form(...),
                actor: Actor = Depends(require("whys.edit"))) -> Response:
    from ...whys import saved

    _saved(request, tree_id)
    if not deps.hub(request).write(saved.detach, tree_id, case_id.strip()):
        return RedirectResponse(f"/whys/{tree_id}", status_code=303)
    return _audit(request, actor, "whys.detach", tree_id, {"case": case_id.strip()}, f"/whys/{tree_id}?done=detach")
