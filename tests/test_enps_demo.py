"""The demo company's employee surveys: who was invited, how many answered, the threshold at work, the stores'
eNPS following their customers' NPS, and no answer joinable to a link."""

from __future__ import annotations

from centric.enps import analysis


def test_demo_invites_the_employees_but_not_the_leavers(demo_store):
    store = demo_store  # its execute: the same SQL on either engine
    surveys = dict(store.execute("SELECT slug, definition FROM surveys WHERE slug IN ('enps-quarterly', "
                                 "'pulse-monthly')").fetchall())
    assert set(surveys) == {"enps-quarterly", "pulse-monthly"}
    periods = {r[0] for r in store.execute("SELECT DISTINCT period FROM employee_invitations").fetchall()}
    assert periods == {"2026-Q1", "2026-Q2", "2026-Q3", "2026-08", "2026-09", "2026-10"}
    bad = store.execute(
        "SELECT count(*) FROM employee_invitations i JOIN employees e ON e.employee_id = i.employee_id "
        "WHERE e.left_at IS NOT NULL AND e.left_at <= i.expires_on - INTERVAL '30 days'").fetchone()[0]
    assert bad == 0  # nobody who had left by the invitation's day
    invited, used = store.execute("SELECT count(*), count(*) FILTER (WHERE used) FROM employee_invitations").fetchone()
    answered = store.execute("SELECT count(*) FROM employee_answers").fetchone()[0]
    assert answered == used and 0.62 <= used / invited <= 0.78
    # per unit and period, never more answers than used links — and no answer in responses
    over = store.execute(
        "SELECT count(*) FROM (SELECT survey_id, period, unit, count(*) AS n FROM employee_answers "
        "GROUP BY survey_id, period, unit) a "
        "JOIN (SELECT survey_id, period, unit, count(*) FILTER (WHERE used) AS u FROM employee_invitations "
        "GROUP BY survey_id, period, unit) i USING (survey_id, period, unit) WHERE a.n <> i.u").fetchone()[0]
    assert over == 0
    assert store.execute("SELECT count(*) FROM responses WHERE survey IN ('enps-quarterly', 'pulse-monthly')"
                         ).fetchone()[0] == 0


def test_demo_shows_the_threshold_and_happier_teams_beside_happier_customers(demo_store):
    by_unit = analysis.enps(demo_store, "unit", "enps-quarterly")
    assert any(c.hidden == "below_threshold" for c in by_unit.rows)
    assert any(c.score is not None for c in by_unit.rows)
    c = analysis.compare(demo_store, "enps-quarterly")
    assert c.with_nps.r is not None and 0 < c.with_nps.r < 0.99
    langs = {r[0] for r in demo_store.execute("SELECT comment FROM employee_answers WHERE comment IS NOT NULL"
                                              ).fetchall()}
    assert any("ł" in t or "ę" in t or "ś" in t for t in langs) and any("è" in t or "à" in t for t in langs)
    assert demo_store.execute("SELECT count(*) FROM employee_themes").fetchone()[0] > 0


def test_the_section_speaks_four_languages_and_hides_the_small_departments(demo_store):
    from centric.enps.present import render_section, section
    from centric.report.i18n import Formatter

    o = analysis.overview(demo_store)
    words = {"en": ("Employee NPS", "hidden: fewer than 5 answers"),
             "pl": ("eNPS pracowników", "ukryte: mniej niż 5 odpowiedzi"),
             "ru": ("eNPS сотрудников", "скрыто: меньше 5 ответов"),
             "it": ("eNPS dei dipendenti", "nascosto: meno di 5 risposte")}
    for lang, (title, hidden) in words.items():
        specs: dict = {}
        html = str(render_section(lang, section(o, Formatter(lang), specs)))
        assert title in html and hidden in html, lang
        if lang != "en":
            assert "Stores: employees and their customers" not in html
    assert "chart-enps-units" in specs and specs["chart-enps-units"]["data"][0]["type"] == "scatter"
