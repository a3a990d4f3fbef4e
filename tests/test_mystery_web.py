"""Mystery shopping in the web app: the entry form (plain POST with CSRF; a visit sent twice is stored once), the
attachments' type check and safe serving, who sees which visit (analysts all, store managers their stores',
shoppers their own; the shopper role nothing else), escaping, the audit log."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from centric.web import auth
from centric.web.deps import SIGNED_IN
from tests.conftest import csrf_of

TEMPLATE = Path(__file__).parent.parent / "src" / "centric" / "mystery" / "templates" / "store-visit.toml"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def add_visit(hub, manager: str, store_name: str = "Matrix Store", shopper: str = "someone", visit_id: str = "MX-0001",
              notes: str | None = None) -> str:
    """A visit (with one PNG attachment) to ``store_name``, a store managed by ``manager``; its id."""
    from centric.mystery.template import add_template
    from centric.mystery.visits import check_attachment, record_visit

    def go(store):
        add_template(store, TEMPLATE.read_text(encoding="utf-8"), "store-visit.toml")
        if not store.execute("SELECT 1 FROM units WHERE unit = ?", [store_name]).fetchone():
            with store.transaction():
                store.execute("INSERT INTO units (unit, kind, region, country, manager) VALUES (?, 'store', 'R', 'PL', ?)",
                              [store_name, manager])
        from centric.mystery.template import get_template

        t = get_template(store, "store-visit")
        return record_visit(store, "store-visit", visit_id, store_name, dt.datetime(2026, 10, 1, 12),
                            {i.id: "yes" for i in t.items}, shopper=shopper, notes=notes,
                            attachments=[check_attachment(PNG)])[0]

    return hub.write(go)


def _form(client) -> tuple[str, dict]:
    page = client.get("/mystery/new")
    assert page.status_code == 200, page.text[:300]
    items = re.findall(r'name="a_([a-z_]+)" value="yes"', page.text)
    assert len(items) == 12
    data = {"csrf_token": csrf_of(page.text), "visit_id": re.search(r'name="visit_id" value="([^"]+)"', page.text)[1],
            "template_id": "store-visit", "template_version": "1", "brand": "ours",
            "store": re.search(r'<select name="store"><option value="([^"]+)"', page.text)[1],
            "visited_at": "2026-10-20T12:00", "notes": "fine"}
    data.update({f"a_{i}": "yes" for i in items})
    return page.text, data


@pytest.fixture
def shopper(web_client, login):
    login(web_client, role="shopper", email="shopper.one@example.com")
    return web_client


def _count(hub, visit_id: str) -> int:
    return hub.reader().execute("SELECT count(*) FROM mystery_visits WHERE visit_id = ?", [visit_id]).fetchone()[0]


def test_a_visit_sent_twice_is_stored_once(shopper):
    hub = shopper.app.state.hub
    _, data = _form(shopper)
    first = shopper.post("/mystery/new", data=data, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].endswith("?saved=1")
    again = shopper.post("/mystery/new", data=data, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith("?again=1")
    assert _count(hub, data["visit_id"]) == 1
    # the script's way (JSON): the same id again answers 200 with stored false
    token = data["csrf_token"]
    r = shopper.post("/mystery/new", data=data, headers={"Accept": "application/json", "X-CSRF-Token": token})
    assert r.status_code == 200 and r.json() == {"visit_id": data["visit_id"], "stored": False,
                                                "url": f"/mystery/visits/{data['visit_id']}"}
    row = hub.reader().execute("SELECT shopper, score, failed_critical FROM mystery_visits WHERE visit_id = ?",
                                   [data["visit_id"]]).fetchone()
    assert row == ("shopper.one", 100.0, False)
    audit = hub.reader().execute("SELECT actor, object_id FROM audit_log WHERE action = 'mystery.visit'").fetchall()
    assert audit == [("shopper.one@example.com", data["visit_id"])]


def test_the_form_needs_the_csrf_token(shopper):
    _, data = _form(shopper)
    data.pop("csrf_token")
    r = shopper.post("/mystery/new", data=data, follow_redirects=False)
    assert r.status_code == 403
    assert _count(shopper.app.state.hub, data["visit_id"]) == 0


def test_a_failed_critical_item_opens_one_case_for_the_manager(shopper):
    hub = shopper.app.state.hub
    _, data = _form(shopper)
    data["a_price_label"] = "no"
    manager = hub.reader().execute("SELECT manager FROM units WHERE unit = ?", [data["store"]]).fetchone()[0]
    r = shopper.post("/mystery/new", data=data, follow_redirects=False)
    assert r.status_code == 303
    case_id, score = hub.reader().execute("SELECT case_id, score FROM mystery_visits WHERE visit_id = ?",
                                              [data["visit_id"]]).fetchone()
    assert score == 0.0 and case_id
    case = hub.reader().execute("SELECT owner, origin, type, store, priority FROM cases WHERE case_id = ?",
                                    [case_id]).fetchone()
    assert case == (manager, "mystery", "price", data["store"], "high")
    shopper.post("/mystery/new", data=data, follow_redirects=False)
    from centric.mystery.cases import open_cases

    assert len(hub.write(open_cases)) == 0
    assert hub.reader().execute("SELECT count(*) FROM case_signals WHERE signal_id = ?",
                                    [data["visit_id"]]).fetchone()[0] == 1


def test_bad_answers_and_files_are_refused_with_the_field_named(shopper):
    hub = shopper.app.state.hub
    _, data = _form(shopper)
    r = shopper.post("/mystery/new", data=data, files=[("files", ("photo.png", b"GIF89a" + bytes(30), "image/png"))])
    assert r.status_code == 422 and "file 1: not a JPEG, PNG or PDF file" in r.text
    big = b"\xff\xd8\xff" + bytes(5 * 1024 * 1024)
    r = shopper.post("/mystery/new", data=data, files=[("files", ("big.jpg", big, "image/jpeg"))])
    assert r.status_code == 422 and "more than the 5 MB allowed" in r.text
    bad = dict(data)
    bad["a_price_label"] = "na"  # a critical item: "not applicable" is not allowed
    r = shopper.post("/mystery/new", data=bad)
    assert r.status_code == 422 and "price_label" in r.text and "not applicable" in r.text
    bad = dict(data)
    bad.pop("a_greeted")
    r = shopper.post("/mystery/new", data=bad, headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "item 'greeted': no answer"
    bad = dict(data, store="Nowhere")
    assert shopper.post("/mystery/new", data=bad).status_code == 422
    assert _count(hub, data["visit_id"]) == 0
    # a PDF receipt is taken, and served as a download to its shopper
    r = shopper.post("/mystery/new", data=data, files=[("files", ("receipt.pdf", PDF, "application/pdf"))],
                     follow_redirects=False)
    assert r.status_code == 303
    f = shopper.get(f"/mystery/visits/{data['visit_id']}/files/{data['visit_id']}-1")
    assert f.status_code == 200 and f.content == PDF
    assert f.headers["content-type"] == "application/pdf"
    assert f.headers["content-disposition"].startswith("attachment;")
    assert f.headers["x-content-type-options"] == "nosniff" and "no-store" in f.headers["cache-control"]


def test_who_sees_which_visit(web_client, login):
    app, hub = web_client.app, web_client.app.state.hub
    mine = add_visit(hub, manager="boss.a", store_name="Store A", shopper="shopper.one", visit_id="MX-A")
    other = add_visit(hub, manager="boss.b", store_name="Store B", shopper="shopper.two", visit_id="MX-B")
    clients = {}
    for name, role, fields in (("shopper.one", "shopper", {}), ("boss.a", "agent", {"agent": "boss.a"}),
                               ("analyst", "analyst", {})):
        c = TestClient(app)
        login(c, role=role, email=f"{name}@example.com", departments=("stores",) if role == "agent" else (), **fields)
        clients[name] = c
    for who, sees, hidden in (("shopper.one", mine, other), ("boss.a", mine, other)):
        c = clients[who]
        assert c.get(f"/mystery/visits/{sees}").status_code == 200
        assert c.get(f"/mystery/visits/{sees}/files/{sees}-1").content == PNG
        assert c.get(f"/mystery/visits/{hidden}").status_code == 404
        assert c.get(f"/mystery/visits/{hidden}/files/{hidden}-1").status_code == 404
        page = c.get("/mystery").text
        assert sees in page and hidden not in page
        assert c.get("/mystery/calibration").status_code == 403
    assert clients["boss.a"].get("/mystery/new").status_code == 403  # a manager does not enter visits
    page = clients["analyst"].get("/mystery").text
    assert mine in page and other in page and "Calibration between shoppers" in page
    assert clients["analyst"].get("/mystery/new").status_code == 403


def test_the_shopper_role_sees_nothing_else(web_client, login):
    """Every route of the app for a shopper: the mystery routes their role grants, 403 elsewhere."""
    from centric.web.deps import routes
    from centric.web.permissions import GRANTS
    from tests.test_web_authz import EXPECT, PUBLIC, _fill

    add_visit(web_client.app.state.hub, manager="x", shopper="shopper.one", visit_id="MX-S")
    login(web_client, role="shopper", email="shopper.one@example.com")
    token, _ = web_client.app.state.hub.write(auth.add_token, "shopper-token", "shopper", [])
    api = TestClient(web_client.app, headers={"Authorization": f"Bearer {token}"})
    sample = {"visit_id": "MX-S", "case_id": "CX-0000001", "customer_id": "C0000001", "user_id": "U0001",
              "token_id": "T0001", "survey_id": "SV001", "flag_id": "F1", "tree_id": "Y0001", "member_id": "CM0001",
              "meeting_id": "CMT0001", "action_id": "CA0001", "idea_id": "I0001"}
    wrong = []
    for method, path, _ in routes(web_client.app):
        if path.startswith(PUBLIC) or (method, path) == ("POST", "/logout"):
            continue
        action = EXPECT[f"{method} {path}"]
        client = api if path.startswith("/api/") else web_client
        kwargs = {}
        if method != "GET" and client is web_client:
            kwargs["data"] = {"csrf_token": csrf_of(web_client.get("/me").text)}
        r = client.request(method, _fill(path, sample), follow_redirects=False, **kwargs)
        # pages open to anyone with one of several actions (the matrix says SIGNED_IN: every other role has one)
        any_of = {"/alerts": ("alert.act", "dashboard.read"), "/orientation": ("dashboard.read", "orientation.assess"),
                  "/observations": ("dashboard.read", "observations.write")}.get(path)
        may = any(a in GRANTS["shopper"] for a in any_of) if any_of else (
            action == SIGNED_IN or action in GRANTS["shopper"])
        if may and r.status_code in (401, 403):
            wrong.append(f"{method} {path}: {r.status_code}, expected to be allowed")
        if not may and r.status_code != 403:
            wrong.append(f"{method} {path}: {r.status_code}, expected 403")
    assert not wrong, "\n".join(wrong)
    assert web_client.get("/", follow_redirects=False).headers["location"] == "/mystery/new"


def test_customer_text_is_escaped(web_client, login):
    hub = web_client.app.state.hub
    vid = add_visit(hub, manager="boss", store_name="Store " + XSS, shopper="shopper." + XSS, visit_id="MX-X",
                    notes=XSS)
    login(web_client, role="analyst")
    for url in (f"/mystery/visits/{vid}", "/mystery", "/mystery/calibration"):
        page = web_client.get(url)
        assert page.status_code == 200
        assert XSS not in page.text and "<script>alert" not in page.text, url
    assert "&lt;script&gt;alert" in web_client.get(f"/mystery/visits/{vid}").text


def test_the_pages_in_four_languages(web_client, login):
    login(web_client, role="admin")
    for lang, word in (("en", "Mystery shopping"), ("pl", "Tajemniczy klient"), ("ru", "Тайный покупатель"),
                       ("it", "Cliente misterioso")):
        for url in ("/mystery", "/mystery/new", "/mystery/calibration", "/mystery/visits/MS-0001"):
            r = web_client.get(url, params={"lang": lang})
            assert r.status_code == 200, (url, lang)
        assert word in web_client.get("/mystery", params={"lang": lang}).text, lang
        assert "Price and checkout" in web_client.get("/mystery/new", params={"lang": "en"}).text


def test_a_visits_notes_show_the_factors_they_raise(web_client, login):
    from centric.text.batch import analyze_store

    hub = web_client.app.state.hub
    vid = add_visit(hub, manager="boss.n", store_name="Notes Store", shopper="shopper.one", visit_id="MX-N",
                    notes="The delivery was late and the staff were rude.")
    page = TestClient(web_client.app)
    login(page, role="shopper", email="shopper.one@example.com")
    assert "analysed in a moment" in page.get(f"/mystery/visits/{vid}").text
    hub.write(analyze_store, "retail", fast=True)
    own = page.get(f"/mystery/visits/{vid}").text
    assert "Delivery · negative" in own and "Staff · negative" in own
    assert "about this store" not in own  # a shopper sees their own visit, not the store's other notes
    login(web_client, role="analyst")
    text = web_client.get(f"/mystery/visits/{vid}", params={"lang": "pl"}).text
    assert "Notatki tajemniczych klientów o tym sklepie" in text and "Dostawa" in text
    assert "notes raise" in web_client.get("/mystery").text
