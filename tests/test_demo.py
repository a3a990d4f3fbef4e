"""The demo company, built through the public ingest path."""

from __future__ import annotations

from rich.console import Console

from centric.demo import generate

from .conftest import rows


def test_demo_store_has_every_channel(demo_store):
    counts = demo_store.counts()
    for t in ("customers", "identities", "orders", "responses", "feedback", "events", "cases", "case_events"):
        assert counts[t] > 0, t
    # one customer seen in several channels: crm id, e-mail, phone and handle on one profile
    assert rows(demo_store, "SELECT max(k) FROM (SELECT count(DISTINCT kind) k FROM identities "
                            "GROUP BY customer_id) AS per_customer") == [(4,)]
    # people registered twice in the shop were merged through the call-centre list
    assert counts["customer_merges"] > 0
    # the messy file's bad rows were kept with their reasons, and so were the survey export's two
    # title rows above its header
    reasons = [r for (r,) in rows(demo_store, "SELECT reason FROM rejected_rows")]
    assert len(reasons) == 7
    assert reasons.count("above the header on row 4: not read as data") == 2
    assert any("never closed" in r for r in reasons) and any("from 0 to 10" in r for r in reasons)


def test_demo_comments_in_four_languages_and_both_stories(demo_store):
    langs = dict(rows(demo_store, "SELECT language, count(*) FROM responses WHERE comment IS NOT NULL GROUP BY 1"))
    assert {"pl", "it", "ru", "en"} <= set(langs)
    assert rows(demo_store, "SELECT count(*) FROM feedback WHERE text LIKE '%CZTERY razy pod adres z faktury%'") == [(1,)]
    # the fridge complaint: one case, passed on three times without an answer, now with delivery, escalated
    (fridge,), = rows(demo_store, "SELECT case_id FROM case_signals WHERE signal_id = 'F-FRIDGE-1'")
    assert rows(demo_store, "SELECT count(*) FILTER (WHERE kind = 'transferred'), count(*) FILTER (WHERE kind = "
                            "'agent_response'), count(*) FILTER (WHERE kind = 'escalated') FROM case_events "
                            "WHERE case_id = ?", [fridge])[0][:2] == (3, 0)
    assert rows(demo_store, "SELECT department, transfers, escalation_level > 0 FROM cases WHERE case_id = ?",
                [fridge]) == [("delivery", 3, True)]
    # the public post nobody answered: its first response is breached and it was escalated
    (social,), = rows(demo_store, "SELECT case_id FROM case_signals WHERE signal_id = 'F-SOCIAL-1'")
    assert rows(demo_store, "SELECT state FROM case_clocks WHERE case_id = ? AND clock = 'first_response'",
                [social]) == [("breached",)]
    assert rows(demo_store, "SELECT count(*) FROM case_events WHERE case_id = ? AND kind = 'agent_response'",
                [social]) == [(0,)]
    assert rows(demo_store, "SELECT count(*) > 0 FROM case_events WHERE case_id = ? AND kind = 'escalated'",
                [social]) == [(True,)]
    brands = {b for (b,) in rows(demo_store, "SELECT DISTINCT brand FROM feedback")}
    assert brands == {"ours", "ElektroMax", "CasaTech"}


def test_demo_every_signal_has_exactly_one_case(demo_store):
    """Every complaint, detractor answer and negative public post about our brand has exactly one case."""
    from centric.cases import signals

    found = signals.find(demo_store, touchpoint_factors=frozenset({"delivery", "installation"}))
    placed = rows(demo_store, "SELECT source_table, signal_id, count(*) FROM case_signals GROUP BY source_table, signal_id")
    assert all(n == 1 for _, _, n in placed)
    placed = {(t, s) for t, s, _ in placed}
    assert len(found) > 100 and set(zip(found["source_table"], found["signal_id"], strict=True)) <= placed
    complaints = rows(demo_store, "SELECT feedback_id FROM feedback WHERE source = 'complaint' AND brand = 'ours'")
    assert {("feedback", f) for (f,) in complaints} <= placed
    detractors = rows(demo_store, "SELECT response_id FROM responses WHERE nps <= 6 OR csat <= 2 OR ces <= 3")
    assert {("responses", r) for (r,) in detractors} <= placed
    # and each case it names exists
    assert rows(demo_store, "SELECT count(*) FROM case_signals s LEFT JOIN cases c USING (case_id) "
                            "WHERE c.case_id IS NULL") == [(0,)]


def test_demo_planted_problems_show_in_the_scores(demo_store):
    # answers whose comment names a wrong-address delivery are far below the average NPS
    (avg_all, avg_wrong), = rows(demo_store, """
        SELECT avg(nps), avg(nps) FILTER (WHERE comment ILIKE '%adres z faktury%' OR comment ILIKE '%invoice address%'
                                          OR comment ILIKE '%indirizzo di fatturazione%')
        FROM responses WHERE nps IS NOT NULL""")
    assert avg_wrong < avg_all - 2


def test_demo_flags_mark_the_planted_texts(demo_store):
    from centric.text.suspicious import flagged

    rows = flagged(demo_store, limit=100_000)
    got = {(r["flag"], r["id"]) for r in rows}
    assert {("near_duplicate", f"F-FAKE-{i}") for i in range(1, 8)} <= got  # one template, seven "authors"
    assert {("burst", f"F-BURST-{i}") for i in range(1, 13)} <= got  # twelve reviews in two hours
    assert ("extortion", "F-EXTORT-1") in got
    fake = next(r for r in rows if r["id"] == "F-FAKE-1")
    assert fake["reason"].startswith("nearly the same long text (at least 70% alike, 30 distinct words or more) "
                                     "was posted by 7 different authors")
    # the honest texts are worded varied enough: a coincidence now and then (2 of some 1,100 texts of this
    # demo, 7 of 14,800 in the full one), never the thousands the phrase bank once produced
    honest = {r["id"] for r in rows if not r["id"].startswith(("F-FAKE-", "F-BURST-", "F-EXTORT-"))}
    analysed = demo_store.execute("SELECT count(DISTINCT source || text_id) FROM text_analyses").fetchall()[0][0]
    assert len(honest) <= 0.01 * analysed


def test_generation_is_deterministic():
    a = generate(seed=11, n_customers=300)
    b = generate(seed=11, n_customers=300)
    assert a.orders.equals(b.orders) and a.responses.equals(b.responses) and a.feedback.equals(b.feedback)
    c = generate(seed=12, n_customers=300)
    assert not a.orders.equals(c.orders)


def test_demo_command(tmp_path):
    from typer.testing import CliRunner

    from centric.cli import app

    res = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--customers", "400", "--seed", "5"])
    assert res.exit_code == 0, res.output
    assert "NPS, last full quarter" in res.output and (tmp_path / "d" / "centric.duckdb").exists()
    assert res.output.strip().splitlines()[-1].startswith("Report written:")
    assert (tmp_path / "d" / "report.html").stat().st_size > 1_000_000
    # 15 customer-side exports; units, employees; managers' assessments and observation notes
    assert len(list((tmp_path / "d" / "files").iterdir())) == 19
    _ = Console  # the demo prints through rich


def test_the_summary_names_a_text_without_a_language_unknown(demo_store):
    """The demo's closing table counts the feedback texts by language; the shoppers' notes have none, and are
    counted as "unknown" (pandas reads the missing language as NaN, which printed "nan")."""
    from rich.console import Console

    from centric.demo import summarize

    fb = demo_store.table("feedback")
    missing = int(fb.filter(fb.language.isnull()).count().execute())
    assert missing > 0  # the small demo has shoppers' notes too
    console = Console(width=200, record=True)
    console.print(summarize(demo_store))
    text = console.export_text()
    assert f"unknown {missing:,}" in text and "nan" not in text
