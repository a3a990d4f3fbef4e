"""Store observation notes in the web app: the stores with the factors their notes raise, one store's page (its
factors with their sentiment, the notes over time, masked quotes) and the entry form.

Who sees what: analysts and admins (``dashboard.read``) every store; a store's manager (``units.manager``) the stores
they manage (another store is a 404). Writing (``observations.write``): a manager for their stores, analysts and
admins for any. A note is stored through the ingest as ``feedback`` of source ``observation`` (brand ours, the
store set), audited (ids only), and the scheduler is woken so that the text pipeline analyses it at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ...errors import CentricError
from .. import audit, deps
from .. import scheduler as background
from ..deps import SIGNED_IN, render, require
from ..permissions import Actor, allowed

router = APIRouter()


def _read_scope(actor: Actor, store) -> list[str]:
    """The stores ``actor`` may read about: all for dashboard readers, else those they manage."""
    from ...observations import stores
    from .orientation import read_scope

    scope = read_scope(actor, "observations.write", lambda agent: stores(store, agent))
    return stores(store) if scope is None else scope


def _write_scope(actor: Actor, store) -> list[str]:
    from ...observations import stores

    return stores(store, actor.agent if actor.role == "agent" else None)


@router.get("/observations", include_in_schema=False)
def observations_page(request: Request, actor: Actor = Depends(require(SIGNED_IN))) -> Response:
    from ...observations import summary
    from ...observations.present import factor_names, store_rows
    from ...report import charts_json
    from ...report.i18n import Formatter

    store = deps.reader(request)
    scope = _read_scope(actor, store)
    lang = deps.language(request, actor)
    f = Formatter(lang)
    chosen = request.query_params.get("store") or None
    if chosen is not None and chosen not in scope:
        raise HTTPException(404, "there is no such store among those you may see")
    s = summary(store, chosen, quotes=20 if chosen else 2)
    names = factor_names(store)
    rows = [r for r in store_rows(s, names, f, top=8 if chosen else 4) if r["store"] in scope]
    ctx: dict[str, Any] = {"title": f.gettext("Store observation notes"), "stores": rows, "chosen": chosen,
                           "scope": scope, "may_write": bool(_write_scope(actor, store)) and allowed(
                               actor, "observations.write"), "done": request.query_params.get("done"),
                           "charts": "{}", "periods": []}
    if chosen:
        from ...observations.charts import factors_spec

        flat = {k: v.get(lang) or v.get("en") or k for k, v in names.items()}
        specs = {"chart-observations-store": factors_spec(
            s, chosen, f.gettext("Factors the notes raise"), flat,
            (f.gettext("positive"), f.gettext("neutral"), f.gettext("negative")))}
        ctx["charts"] = charts_json(specs)
        ctx["periods"] = [{"period": p.period, "notes": f.num(p.notes), "net": f.num(p.net, 0, sign=True)}
                          for p in s.periods.itertuples()]
    return render(request, "observations.html", ctx)


@router.get("/observations/new", include_in_schema=False)
def new_page(request: Request, actor: Actor = Depends(require("observations.write"))) -> Response:
    store = deps.reader(request)
    return render(request, "observations_new.html", {
        "title": "New observation note", "stores": _write_scope(actor, store),
        "chosen": request.query_params.get("store") or ""})


@router.post("/observations/new", include_in_schema=False)
def new_note(request: Request, store_name: str = Form(..., alias="store"), text: str = Form(...),
             actor: Actor = Depends(require("observations.write"))) -> Response:
    from ...observations import MAX_TEXT, add_note, store_manager

    manager = store_manager(deps.reader(request), store_name)
    if manager is False or not allowed(actor, "observations.write", {"manager": manager}):
        raise HTTPException(404, "there is no such store among those you may write about")
    if len(text) > MAX_TEXT:
        raise HTTPException(422, f"text: at most {MAX_TEXT:,} characters")
    hub = deps.hub(request)
    try:
        fid = hub.write(add_note, store_name, text, actor.agent)
    except CentricError as e:
        raise HTTPException(422, str(e)) from None
    hub.write(audit.record, actor, "observations.write", "feedback", fid, {"store": store_name},
              deps.client_ip(request))
    background.wake(hub)  # the text pipeline analyses it in the next round, at once
    from urllib.parse import urlencode

    to = "/observations?" + urlencode({"store": store_name, "done": fid})
    return RedirectResponse(to if store_name in _read_scope(actor, deps.reader(request)) else "/observations",
                            status_code=303)
