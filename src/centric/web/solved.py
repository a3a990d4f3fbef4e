"""The customer's "Was it solved?" page (``/solved/TOKEN``), public like the survey forms: the one-time token
is the secret (no session, no CSRF cookie).

``GET`` shows the question in the language the case's customer speaks (``?solved=yes|no``, from the e-mail's
buttons, chooses the answer; opening stores nothing and uses nothing up, so a mail scanner following the
links leaves them valid). ``POST`` records the answer once (:func:`centric.cases.workflow.answer`): "yes"
confirms the case, "no" reopens it (or opens a new case linked to it after the grace period). A used link says
so calmly and stores nothing; an expired one is 410, an unknown one 404; bad fields are 4xx with the field
named and nothing stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ..cases import tokens
from ..errors import CaseError
from .public import _ip, _notice, _now, _page, state

router = APIRouter()

FIELDS = {"solved", "csat", "ces", "comment", "lang"}
SCALES = {"csat": 5, "ces": 7}


def _token_row(request: Request, token: str) -> tuple[str, dict[str, Any] | None]:
    """``("ok", row)``, or the notice to show: ``forged`` (unknown), ``already`` (used), ``expired``."""
    rows = state(request).hub.reader().execute(
        "SELECT case_id, language, expires_at, used_at FROM case_tokens WHERE token_hash = ?",
        [tokens.hash_token(token)]).fetchall()
    if not rows:
        return "forged", None
    row = dict(zip(("case_id", "language", "expires_at", "used_at"), rows[0], strict=True))
    if row["used_at"] is not None:
        return "already", row
    if row["expires_at"] is not None and _now() >= row["expires_at"]:
        return "expired", row
    return "ok", row


def _lang(request: Request, row: dict[str, Any] | None, fields=None) -> str:
    chosen = (fields or {}).get("lang") or request.query_params.get("lang")
    if chosen in tokens.LABELS:
        return chosen
    return (row or {}).get("language") if (row or {}).get("language") in tokens.LABELS else "en"


def _blocked(request: Request, kind: str, lang: str) -> Response:
    if kind == "forged":
        state(request).forged.hit(_ip(request))
    status = {"forged": 404, "expired": 410, "already": 200, "busy": 429}[kind]
    return _notice(request, kind, lang, status)


def _form(request: Request, token: str, lang: str, values: dict[str, str], error: dict | None = None,
          status: int = 200) -> HTMLResponse:
    return _page(request, "solved.html", {
        "words": tokens.labels(lang), "action": f"/solved/{token}", "values": values, "error": error,
        "comment_max": state(request).comment_max, "done": False, "solved": None}, lang, status)


@router.get("/solved/{token}")
def show(request: Request, token: str) -> Response:
    st = state(request)
    if st.pages.hit(_ip(request)) or st.forged.blocked(_ip(request)):
        return _blocked(request, "busy", _lang(request, None))
    kind, row = _token_row(request, token)
    lang = _lang(request, row)
    if kind != "ok":
        return _blocked(request, kind, lang)
    chosen = request.query_params.get("solved")
    return _form(request, token, lang, {"solved": chosen} if chosen in ("yes", "no") else {})


def _checked(fields: dict[str, str], words: dict[str, str], comment_max: int) -> tuple[dict | None, dict[str, Any]]:
    """(the error — field and message — or None, the answer's values)."""
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        return {"field": unknown[0], "message": f"unknown field {unknown[0]!r}", "status": 400}, {}
    if fields.get("solved") not in ("yes", "no"):
        return {"field": "solved", "message": f"{words['question']} — {words['yes']} / {words['no']}",
                "status": 422}, {}
    out: dict[str, Any] = {"solved": fields["solved"] == "yes", "csat": None, "ces": None}
    for name, top in SCALES.items():
        raw = fields.get(name, "").strip()
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= top:
                return {"field": name, "message": f"{words[name]} 1–{top}", "status": 422}, {}
            out[name] = int(raw)
    comment = fields.get("comment", "").strip()
    if len(comment) > comment_max:
        return {"field": "comment", "message": f"{words['comment']} (≤ {comment_max:,})", "status": 422}, {}
    out["comment"] = comment or None
    return None, out


@router.post("/solved/{token}")
async def answer(request: Request, token: str) -> Response:
    st = state(request)
    if st.pages.hit(_ip(request)) or st.forged.blocked(_ip(request)):
        return _blocked(request, "busy", _lang(request, None))
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_answer, request, token, fields)


def _answer(request: Request, token: str, fields: dict[str, str]) -> Response:
    st = state(request)
    kind, row = _token_row(request, token)
    lang = _lang(request, row, fields)
    if kind != "ok":
        return _blocked(request, kind, lang)
    error, values = _checked(fields, tokens.labels(lang), st.comment_max)
    if error is not None:
        return _form(request, token, lang, {k: fields.get(k, "") for k in FIELDS}, error, error["status"])
    from ..cases import workflow

    try:
        st.hub.write(workflow.answer, token, values["solved"], csat=values["csat"], ces=values["ces"],
                     comment=values["comment"], now=_now())
    except CaseError:  # answered (or expired) between the check and the write
        kind, row = _token_row(request, token)
        return _blocked(request, kind if kind != "ok" else "already", lang)
    return _page(request, "solved.html", {"words": tokens.labels(lang), "done": True, "solved": values["solved"],
                                          "action": "", "comment_max": st.comment_max}, lang)


