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
    store.execute("INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, language, created_at, "
                      "expires_at) VALUES (1, 'SV001', 'C0000001', 'en', '2026-01-02', '2026-02-02')")
    store.execute("INSERT INTO responses (response_id, survey, responded_at, nps) VALUES ('SVR-9', 'x', "
                      "'2026-01-05', 10)")
    html = build_report(store, lang="en")
    sec = _section(html)
    assert "<td>&lt;b&gt;Ours&lt;/b&gt;</td>" in sec and "<b>Ours</b>" not in html
    assert "<td>1</td><td>0</td><td>0.0\u00a0%</td>" in sec and 'id="chart-survey-1"' in sec


@pytest.mark.duckdb_only(reason="runs the demo's survey builder again, which writes DuckDB only (centric demo is "
                                 "refused on PostgreSQL); the shape of the copied surveys is checked on both below")
def test_demo_surveys_are_reproducible(demo_store, web_db):
    from centric.demo.surveys import add_surveys
    from centric.engines import open_store

    q_inv = "SELECT * FROM survey_invitations ORDER BY invitation_id"
    q_resp = "SELECT * FROM responses WHERE response_id LIKE 'SVR-%' ORDER BY response_id"
    built_inv, built_resp = demo_store.execute(q_inv).fetchall(), demo_store.execute(q_resp).fetchall()
    with open_store(web_db) as s:  # a private copy of the demo store, on the tests' engine
        for sql in ("DELETE FROM responses WHERE response_id LIKE 'SVR-%'", "DELETE FROM survey_invitations",
                    "DELETE FROM survey_answers", "DELETE FROM survey_flagged", "DELETE FROM surveys"):
            s.execute(sql)
        add_surveys(s, seed=3)  # the seed the fixture's demo was built with
        assert s.execute(q_inv).fetchall() == built_inv and s.execute(q_resp).fetchall() == built_resp


def test_demo_surveys_are_shaped_like_the_intakes(demo_store):
    built_resp = demo_store.execute("SELECT * FROM responses WHERE response_id LIKE 'SVR-%'").fetchall()
    # every answered invitation has its answer, keyed SVR-<invitation>, with the survey's slug and touchpoint
    bad = demo_store.execute(
        "SELECT count(*) FROM survey_invitations i JOIN surveys s USING (survey_id) LEFT JOIN responses r "
        "ON r.response_id = i.response_id WHERE i.answered_at IS NOT NULL AND (r.response_id IS NULL OR "
        "r.response_id <> 'SVR-' || i.invitation_id OR r.survey <> s.slug OR r.touchpoint <> s.touchpoint OR "
        "r.customer_id <> i.customer_id OR r.responded_at <> i.answered_at)").fetchone()
    assert bad == (0,) and len(built_resp) > 50
    assert demo_store.execute("SELECT count(*) FROM responses WHERE response_id LIKE 'SVR-%' AND "
                              "response_id NOT IN (SELECT response_id FROM survey_invitations WHERE "
                              "response_id IS NOT NULL)").fetchone() == (0,)
