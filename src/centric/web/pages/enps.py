"""Employee surveys in the web app.

- The employee's form: an employee link ``/s/TOKEN`` (signed in another key space than customers' links)
  shows the survey's public form in the invitation's language; the answer is stored by
  ``centric.enps.answers.record`` through the hub's writer — never in ``responses``, never with the
  invitation, the person or a time — and the thank-you page offers no follow-up (a comment after the score
  or "contact me" would need the link again).
- ``/enps``: eNPS and pulse by unit and period with intervals, each store beside its customers' NPS and
  complaint rate, each department beside the cases it owns, the correlations, the themes (by store,
  department or region: ``?themes_by=``) and the comments of visible units — every cut below the
  reporting threshold hidden. Read-only analysis: whoever may read the dashboards (analysts, admins).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from ...errors import CentricError
from .. import deps
from ..deps import render, require
from ..permissions import Actor

router = APIRouter()


# -- the employee's form (called by the public survey routes) --------------------------------------------------

def show_form(request: Request, st, invitation_id: int, token: str, embed: bool) -> Response:
    from ...enps.answers import invitation
    from .. import public

    row = invitation(st.hub.reader(), invitation_id)
    survey = st.survey(row["survey_id"]) if row else None
    if row is None or survey is None:
        st.forged.hit(public._ip(request))
        return public._notice(request, "forged", public._language(request), 404, embed=embed)
    lang = public._language(request, row.get("language"), survey)
    if row["used"]:
        return public._notice(request, "already", lang, 200, survey, embed)
    if survey.status == "closed":
        return public._notice(request, "closed", lang, 410, survey, embed)
    if row["expires_on"] is not None and row["expires_on"] < dt.datetime.now(dt.UTC).date():
        return public._notice(request, "expired", lang, 410, survey, embed)
    if survey.status == "paused":
        return public._notice(request, "paused", lang, 503, survey, embed)
    return public._form(request, survey, lang, embed, action=f"/s/{token}", token=token)


def take_answer(request: Request, st, invitation_id: int, token: str, form, embed: bool) -> Response:
    from ...enps.answers import invitation, record
    from ...surveys.answers import AnswerError, validate
    from .. import public

    row = invitation(st.hub.reader(), invitation_id)
    survey = st.survey(row["survey_id"]) if row else None
    if row is None or survey is None:
        return public._forged(request, st, form, embed)
    lang = public._language(request, row.get("language"), survey, form)
    try:
        answer = validate(survey, form, row.get("language"))
    except AnswerError as e:
        return public._refused(request, survey, lang, embed, f"/s/{token}", form, e, token=token)
    outcome = st.hub.write(record, invitation_id, answer)
    if outcome.status == "stored":
        return public._thanks(request, survey, answer.language, embed)
    return public._outcome_page(request, survey, lang, embed, outcome.status)


# -- /enps: the analysts' page ----------------------------------------------------------------------------------

@router.get("/enps", include_in_schema=False)
def enps_page(request: Request, actor: Actor = Depends(require("dashboard.read"))) -> Response:
    from ...enps.analysis import employee_surveys, overview
    from ...enps.present import render_section, section
    from ...enps.units import THEME_BY
    from ...report.i18n import Formatter

    store = deps.reader(request)
    lang = deps.language(request, actor)
    q = request.query_params
    survey = (q.get("survey") or "").strip()[:60] or None
    period = (q.get("period") or "").strip()[:10] or None
    themes_by = q.get("themes_by") if q.get("themes_by") in THEME_BY else "store"
    with deps.hub(request).busy():
        try:
            o = overview(store, survey, period, lang=lang, themes_by=themes_by)
        except CentricError:
            raise HTTPException(404, "there is no such employee survey or period") from None
    surveys = [(s.slug, s.name) for s in employee_surveys(store, "nps")]
    ctx = section(o, Formatter(lang), {}) if o else None
    html = render_section(lang, ctx, live=True) if ctx else None
    return render(request, "enps.html", {"title": "Employee NPS", "section": html, "surveys": surveys,
                                         "survey": o.survey.slug if o else survey,
                                         "periods": ctx["periods"] if ctx else [], "period": o.period if o else None,
                                         "themes_by": themes_by})
