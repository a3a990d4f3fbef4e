"""The 5-whys pages: compute, look at a node's evidence, save, edit, attach — CSRF, authorisation, escaping and
the audit log."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import csrf_of


def _save(client) -> str:
    page = client.get("/whys", params={"factor": "delivery"})
    assert page.status_code == 200
    r = client.post("/whys", data={"factor": "delivery", "period": "", "title": "Delivery <why>",
                                   "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def test_an_analyst_computes_saves_edits_and_attaches(web_client, login):
    login(web_client, role="analyst", departments=())
    page = web_client.get("/whys", params={"factor": "delivery"})
    assert page.status_code == 200 and 'class="whys-tree"' in page.text
    assert "delivered to the invoice address instead of the delivery address" in page.text
    assert "<details" in page.text and "/cases/" in page.text  # a node's evidence links its cases
    tree_id = _save(web_client)
    view = web_client.get(f"/whys/{tree_id}")
    assert view.status_code == 200 and "Delivery &lt;why&gt;" in view.text
    token = csrf_of(view.text)
    r = web_client.post(f"/whys/{tree_id}/edit", data={"node": "0", "op": "add", "verdict": "root cause",
                                                        "label": "<script>alert(1)</script> address form",
                                                        "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    view = web_client.get(f"/whys/{tree_id}")
    assert "<script>alert(1)</script>" not in view.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; address form" in view.text
    hub = web_client.app.state.hub
    case_id = hub.reader().execute("SELECT min(case_id) FROM cases").fetchone()[0]
    r = web_client.post(f"/whys/{tree_id}/attach", data={"cases": f"{case_id}, {case_id}", "csrf_token": token},
                        follow_redirects=False)
    assert r.status_code == 303
    assert f'href="/cases/{case_id}"' in web_client.get(f"/whys/{tree_id}").text
    # the case page names the tree that explains it and the root cause the analyst marked, escaped
    case_page = web_client.get(f"/cases/{case_id}").text
    assert "Why it happened" in case_page and f'<a href="/whys/{tree_id}">Delivery &lt;why&gt;</a>' in case_page
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt; address form</strong>" in case_page
    assert "<script>alert(1)</script>" not in case_page
    r = web_client.post(f"/whys/{tree_id}/attach", data={"cases": "NO-SUCH-CASE", "csrf_token": token})
    assert r.status_code == 422 and "NO-SUCH-CASE" in r.text
    from centric.whys import saved

    got = saved.get(hub.reader(), tree_id)
    assert got.cases == (case_id,) and got.tree.root.children[-1].verdict == "root cause"
    log = hub.reader().execute("SELECT action, object_id, detail FROM audit_log WHERE action LIKE 'whys.%' "
                                   "ORDER BY audit_id").fetchall()
    assert [a for a, _, _ in log] == ["whys.save", "whys.edit", "whys.attach"]
    assert all(o == tree_id for _, o, _ in log) and "script" not in str(log)  # ids and operations only


def test_without_the_csrf_token_nothing_is_saved(web_client, login):
    login(web_client, role="analyst", departments=())
    r = web_client.post("/whys", data={"factor": "delivery"})
    assert r.status_code == 403
    assert web_client.app.state.hub.reader().count("whys_trees") == 0


def test_agents_cannot_see_or_edit_trees(web_client, login):
    analyst = TestClient(web_client.app)
    login(analyst, role="analyst", departments=())
    tree_id = _save(analyst)
    login(web_client, role="agent", departments=("delivery",))
    assert web_client.get("/whys").status_code == 403
    assert web_client.get(f"/whys/{tree_id}").status_code == 403
    token = csrf_of(web_client.get("/me").text)
    r = web_client.post(f"/whys/{tree_id}/edit", data={"node": "0", "op": "rename", "label": "x", "csrf_token": token})
    assert r.status_code == 403
    assert "5 whys" not in re.sub(r"\s+", " ", web_client.get("/me").text)  # not in the agent's menu
    assert analyst.get("/whys/Y9999").status_code == 404


def test_bad_edits_are_refused_with_the_field_named(web_client, login):
    login(web_client, role="admin", departments=())
    tree_id = _save(web_client)
    token = csrf_of(web_client.get(f"/whys/{tree_id}").text)
    r = web_client.post(f"/whys/{tree_id}/edit", data={"node": "0", "op": "mark", "verdict": "maybe",
                                                        "csrf_token": token})
    assert r.status_code == 422 and "verdict" in r.text
    r = web_client.post(f"/whys/{tree_id}/edit", data={"node": "9.9", "op": "rename", "label": "x",
                                                        "csrf_token": token})
    assert r.status_code == 422 and "9.9" in r.text
    r = web_client.get("/whys", params={"factor": "delivery", "period": "2025-13"})
    assert r.status_code == 200 and "--period" in r.text


def test_a_drop_of_a_metric_for_a_segment(web_client, login):
    login(web_client, role="analyst", departments=())
    page = web_client.get("/whys", params={"metric": "nps", "segment": "b2c", "period": "2026-Q3"})
    assert page.status_code == 200, page.text
    assert "NPS " in page.text and "2026-Q2 → 2026-Q3; segment = b2c" in page.text and "95% interval" in page.text
    assert 'class="whys-level">Factor<' in page.text and "impact" in page.text
    r = web_client.post("/whys", data={"metric": "nps", "segment": "b2c", "period": "2026-Q3", "compare": "",
                                       "title": "b2c drop", "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    from centric.whys import saved

    got = saved.get(web_client.app.state.hub.reader(), r.headers["location"].rsplit("/", 1)[1])
    assert got.factor == "nps" and got.tree.root.level == "drop" and got.period == "2026-Q3"
    assert web_client.get("/whys", params={"metric": "rating", "period": "2026-Q3"}).status_code == 422
    bad = web_client.get("/whys", params={"metric": "nps", "segment": "b2c", "period": "2026-Q3",
                                          "compare": "2027-Q1"})
    assert bad.status_code == 200 and "must come before" in bad.text
