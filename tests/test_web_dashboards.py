"""The dashboards and alerts pages through the app, on a copy of the small demo store: filters change the
figures to the ones counted by hand, a factor opens its quotes (escaped) and the open cases the reader may
see, one click makes one proactive case."""

from __future__ import annotations

import re

import pytest

from centric.cases.proactive import contacts
from tests.conftest import csrf_of


def kpi(html: str, name: str) -> str:
    """The value shown on a headline card."""
    m = re.search(rf'id="kpi-{name}">.*?<div class="value[^"]*">([^<]+)</div>', html, re.S)
    assert m, f"no {name} card on the page"
    return m.group(1).strip()


def nps_by_hand(con, start: str, end: str, **where) -> tuple[int, int, int]:
    """(promoters, detractors, answers) with an NPS in [start, end), counted in SQL apart from the metrics."""
    cond, params = "", []
    if "channel" in where:
        cond += " AND r.channel = ?"
        params.append(where["channel"])
    if "segment" in where:
        cond += " AND c.segment = ?"
        params.append(where["segment"])
    return con.execute(f"""
        SELECT sum(CASE WHEN r.nps >= 9 THEN 1 ELSE 0 END), sum(CASE WHEN r.nps <= 6 THEN 1 ELSE 0 END), count(*)
        FROM responses r LEFT JOIN customers c ON c.customer_id = r.customer_id
        WHERE r.nps IS NOT NULL AND r.responded_at >= ? AND r.responded_at < ?{cond}""",
                       [start, end, *params]).fetchone()


def shown(p: int, d: int, n: int) -> str:
    v = 100 * (p - d) / n
    return ("+" if v > 0 else "") + f"{v:.1f}".replace("-", "−")


def test_filters_change_the_headline_to_the_numbers_counted_by_hand(web_client, login):
    login(web_client, role="analyst")
    con = web_client.app.state.hub.reader()
    segment, channel = con.execute("""
        SELECT c.segment, r.channel FROM responses r JOIN customers c USING (customer_id)
        WHERE r.nps IS NOT NULL AND r.responded_at >= '2026-06-01' AND r.responded_at < '2026-07-01'
          AND c.segment IS NOT NULL AND r.channel IS NOT NULL
        GROUP BY 1, 2 HAVING count(*) >= 5 ORDER BY count(*) DESC LIMIT 1""").fetchone()
    # April to June: a selection of three months, so the headline is its last month, June
    base = "/dashboards?from=2026-04-01&to=2026-06-30"
    everyone = web_client.get(base)
    assert everyone.status_code == 200
    assert kpi(everyone.text, "nps") == shown(*nps_by_hand(con, "2026-06-01", "2026-07-01"))
    narrowed = web_client.get(f"{base}&segment={segment}&channel={channel}")
    want = shown(*nps_by_hand(con, "2026-06-01", "2026-07-01", segment=segment, channel=channel))
    assert kpi(narrowed.text, "nps") == want != kpi(everyone.text, "nps")
    # the form keeps the selection, and the factor links carry it
    assert f'<option value="{segment}" selected>' in narrowed.text
    assert f"segment={segment}" in re.search(r'href="(/dashboards/factor/[^"]+)"', narrowed.text).group(1)


def test_a_bad_date_is_a_clear_400(web_client, login):
    login(web_client, role="analyst")
    r = web_client.get("/dashboards?from=31-13-2026")
    assert r.status_code == 400 and "from: &#39;31-13-2026&#39; is not a date" in r.text


def test_presets_pick_the_last_days_of_the_data(web_client, login):
    login(web_client, role="admin")
    last = web_client.app.state.hub.reader().execute(
        "SELECT max(t) FROM (SELECT responded_at t FROM responses UNION ALL SELECT ordered_at FROM orders "
        "UNION ALL SELECT opened_at FROM cases) AS times").fetchone()[0]
    r = web_client.get("/dashboards?preset=30d")
    assert r.status_code == 200 and 'value="30d" aria-pressed="true"' in r.text
    assert f'name="to" value="{last:%Y-%m-%d}"' in r.text


def _plant_quote(hub) -> tuple[str, str]:
    """A negative review about delivery whose text is a script, with its mention, and a customer."""
    con = hub.reader()
    customer = con.execute("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1").fetchone()[0]
    text = "<script>alert('x')</script> The courier never came"

    def write(store):
        with store.transaction():
            store.execute("INSERT INTO feedback (feedback_id, customer_id, source, brand, posted_at, text, language) "
                          "VALUES ('FXSS', ?, 'review', 'ours', TIMESTAMP '2026-06-15 10:00:00', ?, 'en')",
                          [customer, text])
            store.execute("INSERT INTO mentions VALUES ('feedback', 'FXSS', 0, 'delivery', 'negative', -1.0, 1.0, "
                          "'retail', 'en')")
    hub.write(write)
    return customer, text


def test_factor_drill_down_escapes_quotes_and_shows_only_the_readers_cases(web_client, login):
    hub = web_client.app.state.hub
    _plant_quote(hub)
    con = hub.reader()
    # an open delivery case moved to another department: not the delivery agent's to see
    other = con.execute("SELECT case_id FROM cases WHERE type = 'delivery' AND status IN ('new', 'assigned', "
                        "'in_progress', 'waiting', 'open') ORDER BY case_id LIMIT 1").fetchone()[0]
    hub.write(lambda s: s.execute("UPDATE cases SET department = 'finance', priority = 'urgent' WHERE case_id = ?",
                                      [other]))
    mine = con.execute("SELECT case_id FROM cases WHERE type = 'delivery' AND department = 'delivery' AND status IN "
                       "('new', 'assigned', 'in_progress', 'waiting', 'open') ORDER BY priority DESC").fetchall()
    assert mine
    login(web_client, role="agent", departments=("delivery",))
    r = web_client.get("/dashboards/factor/delivery?partial=1")
    assert r.status_code == 200 and "<html" not in r.text  # a fragment for the page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; The courier never came" in r.text
    assert "<script>alert" not in r.text
    assert f'/cases/{other}"' not in r.text
    assert any(f'/cases/{c}"' in r.text for (c,) in mine)
    cases_shown = re.findall(r'href="/cases/([^"]+)"', r.text)
    depts = dict(con.execute("SELECT case_id, department FROM cases").fetchall())
    assert cases_shown and {depts[c] for c in cases_shown} == {"delivery"}

    admin = web_client.__class__(web_client.app)
    login(admin, role="admin")
    page = admin.get("/dashboards/factor/delivery")
    assert page.status_code == 200 and "<html" in page.text and f'/cases/{other}"' in page.text


def test_an_analyst_may_not_open_a_proactive_case(web_client, login):
    login(web_client, role="analyst")
    page = web_client.get("/alerts")
    assert page.status_code == 200 and "Customers going quiet" in page.text
    assert 'action="/alerts/proactive"' not in page.text
    r = web_client.post("/alerts/proactive", data={"csrf_token": csrf_of(page.text), "customer_id": "C0000001"})
    assert r.status_code == 403


def test_one_click_makes_one_proactive_case(web_client, login):
    hub = web_client.app.state.hub
    free = contacts(hub.reader())
    free = free[free["why"].isna()]
    if not len(free):
        pytest.skip("every customer of the demo's alerts has been contacted already")
    customer = str(free["customer_id"].iloc[0])
    login(web_client, role="agent", departments=("customer_service",))
    page = web_client.get("/alerts")
    assert f'name="customer_id" value="{customer}"' in page.text
    before = hub.reader().execute("SELECT count(*) FROM cases WHERE customer_id = ? AND origin = 'proactive'",
                                      [customer]).fetchone()[0]
    r = web_client.post("/alerts/proactive", data={"csrf_token": csrf_of(page.text), "customer_id": customer})
    assert r.status_code == 200 and "Proactive case opened" in r.text
    case_id = re.search(r'Proactive case opened: <a href="/cases/([^"]+)"', r.text).group(1)
    con = hub.reader()
    assert con.execute("SELECT customer_id, origin FROM cases WHERE case_id = ?", [case_id]).fetchone() == (
        customer, "proactive")
    again = web_client.post("/alerts/proactive", data={"csrf_token": csrf_of(r.text), "customer_id": customer})
    assert "has a proactive case from this scoring already" in again.text
    after = con.execute("SELECT count(*) FROM cases WHERE customer_id = ? AND origin = 'proactive'",
                        [customer]).fetchone()[0]
    assert after == before + 1
    logged = con.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = 'case.proactive'").fetchall()
    assert [(row[1]) for row in logged] == [case_id]
    # the customer has no button any more
    assert f'name="customer_id" value="{customer}"' not in web_client.get("/alerts").text


def test_a_customer_not_among_the_alerts_is_refused_by_name(web_client, login):
    login(web_client, role="admin")
    page = web_client.get("/alerts")
    r = web_client.post("/alerts/proactive", data={"csrf_token": csrf_of(page.text), "customer_id": "C9999999"})
    assert r.status_code == 400 and "C9999999: not among the customers to contact" in r.text


def test_the_jump_links_name_the_sections_the_page_has(web_client, login):
    def jumps_and_sections(html: str) -> tuple[list[str], list[str]]:
        nav = re.search(r'<nav class="dash-jump"[^>]*>(.*?)</nav>', html, re.S).group(1)
        return re.findall(r'href="#([\w-]+)"', nav), re.findall(r'<section id="([\w-]+)"', html)

    login(web_client, role="analyst")
    jumps, sections = jumps_and_sections(web_client.get("/dashboards").text)
    assert "feelings" in jumps and "feelings" in sections
    assert jumps == [s for s in sections if s in jumps] and set(jumps) <= set(sections)
    # without emotions in the texts the section is not there, and neither is its link
    web_client.app.state.hub.write(lambda store: store.execute("UPDATE text_analyses SET emotions = NULL"))
    jumps, sections = jumps_and_sections(web_client.get("/dashboards?from=2026-01-01").text)
    assert "feelings" not in sections and "feelings" not in jumps
    assert "headline" in jumps and set(jumps) <= set(sections)
