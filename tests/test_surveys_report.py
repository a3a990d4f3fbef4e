"""The report's "Surveys" section: response rates with intervals and trends, in four languages; empty state."""

from __future__ import annotations

import re

import pytest

from centric.ingest import ingest
from centric.report import build_report
from centric.report.i18n import translations
from centric.surveys import from_dict, repo
from centric.surveys.stats import response_rates

SECTION = re.compile(r'<section id="surveys">(.*?)</section>', re.S)


def _section(html: str) -> str:
    m = SECTION.search(html)
    assert m, "no Surveys section"
    return m.group(1)


@pytest.mark.parametrize("lang", ["en", "pl", "ru", "it"])
def test_demo_surveys_in_four_languages(demo_store, lang):
    html = build_report(demo_store, lang=lang)
    sec = _section(html)
    tr = translations(lang).gettext
    assert f"<h2>{tr('Surveys')}</h2>" in sec and f"<th>{tr('Response rate')}</th>" in sec
    if lang != "en":
        assert tr("Answered") != "Answered" and f"<th>{tr('Answered')}</th>" in sec
    rates = response_rates(demo_store)
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", sec)
    assert [(n, k, t) for n, k, t, _, _ in rows] == [
        ("After delivery", "NPS", "delivery"), ("After installation", "NPS", "installation"),
        ("After support", "CSAT", "support")]
    digits = [(int(re.sub(r"\D", "", i)), int(re.sub(r"\D", "", a))) for _, _, _, i, a in rows]
    assert digits == list(zip(rates["invitations"], rates["answers"], strict=True))
    assert all(0 < a < i for i, a in digits)
    ids = re.findall(r'id="(chart-survey-\d)"', sec)
    assert ids == ["chart-survey-1", "chart-survey-2", "chart-survey-3"]
    assert all(f'"{i}"' in html for i in ids)  # each chart has its figure


def test_empty_state_and_escaped_names(store, write):
    ingest("responses", write("r.csv", "customer_id,date,nps\nK1,2026-01-03,9\nK2,2026-02-03,3\n"), store=store)
    sec = _section(build_report(store, lang="pl"))
    assert "Nie masz jeszcze własnych ankiet" in sec and "<table>" not in sec
    repo.add(store, from_dict({"slug": "x", "name": "<b>Ours</b>", "kind": "nps", "branding": {"company": "K"}}))
    store.con.execute("INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, language, created_at, "
                      "expires_at) VALUES (1, 'SV001', 'C0000001', 'en', '2026-01-02', '2026-02-02')")
    store.con.execute("INSERT INTO responses (response_id, survey, responded_at, nps) VALUES ('SVR-9', 'x', "
                      "'2026-01-05', 10)")
    html = build_report(store, lang="en")
    sec = _section(html)
    assert "<td>&lt;b&gt;Ours&lt;/b&gt;</td>" in sec and "<b>Ours</b>" not in html
    assert "<td>1</td><td>0</td><td>0.0\u00a0%</td>" in sec and 'id="chart-survey-1"' in sec
