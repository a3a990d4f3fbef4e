"""The user-flows page through the app, on a copy of the small demo store."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from centric.engines import open_store
from centric.flows import graph, journey_log, sankey


def _specs(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_flows_page_shows_the_journeys_paths(web_client, login, web_db):
    login(web_client, role="analyst")
    store = web_client.app.state.hub.reader()
    g = graph(journey_log(store, "purchase").table)
    r = web_client.get("/flows?journey=purchase")
    assert r.status_code == 200
    assert 'href="/flows"' in r.text  # in the menu
    assert f"{g.cases:,} journeys" in r.text
    e = g.edges[0]
    assert re.search(rf"<td class=\"text\">{e.source}</td><td class=\"text\">{e.target}</td><td>{e.count:,}</td>",
                     r.text)
    specs = _specs(r.text)
    s = sankey(journey_log(store, "purchase").table, next(iter(g.start)))
    assert sum(specs["chart-flows-sankey"]["data"][0]["link"]["value"]) == sum(lk.cases for lk in s.links)


def test_flows_page_backwards_and_comparison(web_client, login):
    login(web_client, role="analyst")
    r = web_client.get("/flows?journey=purchase&step=payment&direction=backward&compare=reached&target=delivery")
    assert r.status_code == 200
    assert "Paths to “payment”" in r.text
    assert "Reached “delivery” vs did not" in r.text
    assert "significant" in r.text
    r = web_client.get("/flows?journey=purchase&compare=nps&lang=pl")
    assert r.status_code == 200


def test_flows_page_bad_choices_and_permission(web_client, login):
    login(web_client, role="analyst")
    r = web_client.get("/flows?journey=nope")
    assert r.status_code == 400 and "is not a journey of the events" in r.text
    r = web_client.get("/flows?journey=purchase&steps=99")
    assert r.status_code == 400 and "steps: 99 is not between 1 and 10" in r.text
    other = TestClient(web_client.app, base_url="http://testserver")
    login(other, role="agent")
    assert other.get("/flows").status_code == 403


def test_flows_page_escapes_stage_names(web_db, login):
    from centric.web import create_app

    with open_store(web_db) as s:
        s.execute("""INSERT INTO events (event_id, customer_id, occurred_at, journey, stage)
                         SELECT 'x' || event_id, customer_id, occurred_at + INTERVAL '1 minutes', journey,
                                '<img src=x onerror=alert(1)>'
                         FROM events WHERE journey = 'service' LIMIT 50""")
    with TestClient(create_app(web_db, scheduler=False), base_url="http://testserver") as client:
        login(client, role="analyst")
        r = client.get("/flows?journey=service")
        assert r.status_code == 200
        assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
