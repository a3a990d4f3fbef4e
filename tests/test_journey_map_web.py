"""The journey map in the report and the web app, on the small demo store."""

from __future__ import annotations

import html
import re

from centric.journeys import journey_map
from centric.report import build_report


def _text(s: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", s)))


def test_demo_journeys_are_believable(demo_store):
    maps = {m.journey: m for m in journey_map(demo_store, reps=20)}
    purchase, service = maps["purchase"], maps["service"]
    assert [s.stage for s in purchase.stages] == ["visit", "cart", "order", "payment", "delivery", "installation"]
    assert purchase.final_stage == "delivery"
    assert {s.stage for s in purchase.stages if s.optional} == {"cart", "installation"}
    visit, pay = purchase.stage("visit"), purchase.stage("payment")
    assert 50 < visit.conversion_pct < 90  # browsing sessions that stop at the visit or the cart
    assert pay.drop_off_pct > 0  # checkouts given up after a declined card
    counts = [s.reached for s in purchase.funnel()]
    assert counts == sorted(counts, reverse=True)
    # a declined card paid on the next try: two payment events in one instance
    assert purchase.cell("payment", "checkout").events > purchase.cell("payment", "checkout").instances
    assert [s.stage for s in service.stages] == ["support", "callback", "resolution"]
    assert service.stage("callback").optional and service.final_stage == "resolution"
    # the touchpoints of the events are those of the answers: delivery, installation, support
    assert {"delivery", "installation"} <= {t.touchpoint for t in purchase.touchpoints if t.nps.n}
    assert service.touchpoints[0].touchpoint == "support" and service.touchpoints[0].nps.n > 0
    # the planted delivery problem makes delivery the purchase journey's pain point
    assert "delivery" in purchase.pain_points
    d = purchase.touchpoint("delivery")
    assert all(q.polarity == "negative" for q in d.quotes) and len(d.quotes) == 3
    texts = demo_store.execute(
        "SELECT response_id, comment FROM responses WHERE response_id IN (?, ?, ?)", [q.id for q in d.quotes]).fetchall()
    assert len(texts) == 3  # every quote is a real answer's comment
    for q in d.quotes:
        assert "@" not in q.text


def test_report_section_has_one_funnel_and_quotes(demo_store):
    page = build_report(demo_store, lang="pl")
    section = page.split('<section id="journeys">')[1].split("</section>")[0]
    assert section.count('class="chart"') == 2  # purchase and service, the map's funnels only
    assert "<details" in section
    assert "punkt bólu" in _text(section).lower() or "pain point" not in _text(section)
    assert page.count('id="journeys"') == 1


def test_web_pages(web_client, login):
    login(web_client, role="analyst")
    r = web_client.get("/journeys")
    assert r.status_code == 200 and 'href="/journeys/purchase"' in r.text
    r = web_client.get("/journeys/purchase")
    assert r.status_code == 200
    link = re.search(r'href="(/journeys/purchase/cell\?stage=delivery&amp;touchpoint=delivery)"', r.text)
    assert link
    cell = web_client.get(html.unescape(link.group(1)))
    assert cell.status_code == 200 and "blockquote" in cell.text
    assert web_client.get("/journeys/nope").status_code == 404
    assert web_client.get("/journeys/purchase/cell?stage=visit&touchpoint=nowhere").status_code == 404


def test_a_touchpoints_open_cases_link_to_the_inbox_with_those_cases(web_client, login):
    """The journey map's "n open cases" opens the inbox with exactly those n cases (a page that runs on every
    engine, never a page that does not exist): not yet resolved, opened from an answer or a text at the touchpoint
    or of its type — counted here in SQL apart from both."""
    login(web_client, role="admin")
    page = web_client.get("/journeys/purchase").text
    links = re.findall(r'href="(/inbox\?[^"]*touchpoint=[^"]+)">([\d\s,. ]+) open cases</a>', page)
    assert links and "/cases?" not in page
    store = web_client.app.state.hub.reader()
    for link, shown in set(links):
        url = html.unescape(link)
        touchpoint = url.rsplit("touchpoint=", 1)[1]
        want, = store.execute("""
            SELECT count(*) FROM cases c
            WHERE (c.status IS NULL OR c.status IN ('new', 'open', 'assigned', 'in_progress', 'waiting'))
              AND (c.response_id IN (SELECT response_id FROM responses WHERE touchpoint = ?)
                   OR c.feedback_id IN (SELECT feedback_id FROM feedback WHERE touchpoint = ?)
                   OR lower(c.type) = ?)""", [touchpoint, touchpoint, touchpoint]).fetchone()
        r = web_client.get(url)
        assert r.status_code == 200, url
        listed = re.search(r'<p class="muted">([\d\s,. ]+) cases</p>', r.text).group(1)
        assert int(re.sub(r"\D", "", shown)) == int(re.sub(r"\D", "", listed)) == want > 0, url
        assert f'value="{touchpoint}"' in r.text  # the touchpoint stays through the inbox's own filters
    # an unknown touchpoint lists no case, and its text is shown escaped
    r = web_client.get("/inbox?view=all&touchpoint=%3Cb%3Enowhere")
    assert r.status_code == 200 and "<b>nowhere" not in r.text and "&lt;b&gt;nowhere" in r.text
    assert re.search(r'<p class="muted">0 cases</p>', r.text)
