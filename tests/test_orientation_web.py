"""Staff orientation and observation notes in the web app: who may assess whom (checked on the server), the
scores pages in two languages, the observation round trip (entered → stored as feedback → analysed → on the
store's page, masked), and untrusted text shown as text."""

from __future__ import annotations

from tests.conftest import csrf_of

PL_MANAGER, IT_MANAGER = "h.dabrowska", "l.conti"


def _employee(client, manager: str) -> str:
    return client.app.state.hub.reader().execute(
        "SELECT e.employee_id FROM employees e JOIN units u ON u.unit = e.unit WHERE u.manager = ? AND u.kind = "
        "'store' AND e.role = 'staff' AND e.left_at IS NULL ORDER BY e.employee_id LIMIT 1", [manager]).fetchone()[0]


def _count(client, sql: str, *args) -> int:
    return client.app.state.hub.reader().execute(sql, list(args)).fetchone()[0]


def _assess(client, employee_id: str, view: str = "manager", **ratings):
    token = csrf_of(client.get("/me").text)
    data = {"csrf_token": token, "employee_id": employee_id, "view": view, "comment": "", **ratings}
    return client.post("/orientation/assess", data=data, follow_redirects=False)


def test_a_manager_assesses_only_their_own_units(web_client, login):
    login(web_client, role="agent", departments=("stores",), email=f"{PL_MANAGER}@voltaro.example")
    mine, theirs = _employee(web_client, PL_MANAGER), _employee(web_client, IT_MANAGER)
    page = web_client.get("/orientation/assess")
    assert page.status_code == 200 and f"employee={mine}&amp;" in page.text
    assert "Voltaro Milano" not in page.text  # another manager's store is not listed
    assert web_client.get(f"/orientation/assess?employee={theirs}").status_code == 404
    form = web_client.get(f"/orientation/assess?employee={mine}&view=self")
    assert form.status_code == 200 and 'name="conflict_handling"' in form.text
    before = _count(web_client, "SELECT count(*) FROM orientation_assessments")
    r = _assess(web_client, theirs, attitude="5")
    assert r.status_code == 404  # the server refuses another unit's employee, whatever the form said
    assert _count(web_client, "SELECT count(*) FROM orientation_assessments") == before
    r = _assess(web_client, mine, view="self", attitude="5", conflict_handling="2")
    assert r.status_code == 303 and r.headers["location"].startswith("/orientation/assess?done=OA-")
    aid = r.headers["location"].split("done=")[1]
    row = web_client.app.state.hub.reader().execute(
        "SELECT employee_id, view, assessor, attitude, conflict_handling, communication FROM orientation_assessments "
        "WHERE assessment_id = ?", [aid]).fetchone()
    assert row == (mine, "self", PL_MANAGER, 5, 2, None)
    assert _count(web_client, "SELECT count(*) FROM audit_log WHERE action = 'orientation.assess' AND object_id = ?",
                  mine) == 1
    assert _assess(web_client, mine, attitude="9").status_code == 422  # outside the scale: refused, said why


def test_an_analyst_reads_but_assesses_nobody_an_admin_anybody(web_client, login):
    theirs = _employee(web_client, IT_MANAGER)
    login(web_client, role="analyst")
    assert _assess(web_client, theirs, attitude="4").status_code == 404
    page = web_client.get("/orientation?lang=pl")
    assert page.status_code == 200
    assert "Voltaro Milano Città Studi" in page.text and "Voltaro Łódź Manufaktura" in page.text
    assert "Rozwiązywanie konfliktów" in page.text  # the criteria in Polish
    admin = web_client.__class__(web_client.app)
    login(admin, role="admin")
    assert _assess(admin, theirs, attitude="4").status_code == 303


def test_a_manager_sees_only_their_units_scores(web_client, login):
    login(web_client, role="agent", departments=("stores",), email=f"{IT_MANAGER}@voltaro.example")
    page = web_client.get("/orientation")
    assert page.status_code == 200 and "Voltaro Milano Città Studi" in page.text
    assert "Voltaro Gdańsk Oliwa" not in page.text
    other = web_client.__class__(web_client.app)
    login(other, role="agent", departments=("delivery",))  # manages nothing
    page = other.get("/orientation")
    assert page.status_code == 200 and "Voltaro" not in page.text.split("<main")[1]


def test_observation_round_trip(web_client, login):
    from centric.text.batch import analyze_store

    hub = web_client.app.state.hub
    store_name = hub.reader().execute(
        "SELECT unit FROM units WHERE manager = ? AND kind = 'store' ORDER BY unit LIMIT 1", [PL_MANAGER]).fetchone()[0]
    staff = hub.reader().execute("SELECT name FROM employees WHERE unit = ? AND name IS NOT NULL LIMIT 1",
                                     [store_name]).fetchone()[0]
    login(web_client, role="agent", departments=("stores",), email=f"{PL_MANAGER}@voltaro.example")
    assert store_name in web_client.get("/observations/new").text
    token = csrf_of(web_client.get("/observations/new").text)
    text = (f"Długie kolejki do kas, otwarta tylko jedna kasa. {staff} bardzo pomocny. "
            "Klient zostawił e-mail jan.kowalski@example.com")
    r = web_client.post("/observations/new", data={"csrf_token": token, "store": store_name, "text": text},
                        follow_redirects=False)
    assert r.status_code == 303
    fid = r.headers["location"].split("done=")[1]
    row = hub.reader().execute("SELECT source, brand, store, author, customer_id FROM feedback WHERE feedback_id = ?",
                                   [fid]).fetchone()
    assert row == ("observation", "ours", store_name, PL_MANAGER, None)
    assert _count(web_client, "SELECT count(*) FROM audit_log WHERE action = 'observations.write' AND object_id = ?",
                  fid) == 1
    # the scheduler's analysis step (it is woken after an entry; here the app runs without it)
    hub.write(analyze_store, "retail", fast=True)
    assert _count(web_client, "SELECT count(*) FROM mentions WHERE text_id = ? AND factor = 'store'", fid) >= 1
    from urllib.parse import urlencode

    page = web_client.get("/observations?" + urlencode({"store": store_name, "lang": "pl"}))
    assert page.status_code == 200
    assert "Długie kolejki do kas" in page.text and "Sklep" in page.text  # the factor's Polish name
    assert "jan.kowalski@example.com" not in page.text and staff not in page.text  # masked
    assert "[e-mail]" in page.text and "[name]" in page.text
    # another manager's store: not shown, not writable
    it_store = hub.reader().execute("SELECT unit FROM units WHERE manager = ? LIMIT 1", [IT_MANAGER]).fetchone()[0]
    assert web_client.get("/observations?" + urlencode({"store": it_store})).status_code == 404
    r = web_client.post("/observations/new", data={"csrf_token": token, "store": it_store, "text": "x y z"},
                        follow_redirects=False)
    assert r.status_code == 404
    # the customer factor analysis leaves observation notes out
    from centric.drivers.analysis import mentions_frame

    assert "observation" not in set(mentions_frame(hub.reader())["kind"])


def test_untrusted_text_is_shown_as_text(web_client, login):
    from tests.test_web_xss import PAYLOADS, _check

    hub = web_client.app.state.hub
    con = hub.writer
    # a store of its own with an employee named with a payload (the store is shared with other tests)
    import uuid

    store_name, emp = f"Sklep XSS {uuid.uuid4().hex[:8]}", f"EX-{uuid.uuid4().hex[:8]}"
    con.execute("INSERT INTO units (unit, kind, region, country, manager) VALUES (?, 'store', 'PL Centre', 'PL', "
                "NULL)", [store_name])
    con.execute("INSERT INTO employees (employee_id, name, unit, role, language) VALUES (?, ?, ?, 'staff', 'pl')",
                [emp, PAYLOADS[1], store_name])
    from centric.observations import add_note

    for p in PAYLOADS:
        hub.write(add_note, store_name, f"Kolejki do kas {p}", "someone")
    login(web_client, role="admin")
    from urllib.parse import urlencode

    for url in ("/orientation", "/orientation/assess", f"/orientation/assess?employee={emp}", "/observations",
                "/observations?" + urlencode({"store": store_name}), "/observations/new", "/dashboards"):
        r = web_client.get(url)
        assert r.status_code == 200, url
        assert not _check(url, r), _check(url, r)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in web_client.get(
        "/observations?" + urlencode({"store": store_name})).text


def test_forms_need_the_csrf_token(web_client, login):
    login(web_client, role="admin")
    mine = _employee(web_client, PL_MANAGER)
    r = web_client.post("/orientation/assess", data={"employee_id": mine, "view": "manager", "attitude": "3"},
                        follow_redirects=False)
    assert r.status_code == 403
    r = web_client.post("/observations/new", data={"store": "x", "text": "y"}, follow_redirects=False)
    assert r.status_code == 403


def test_an_entered_note_is_analysed_by_the_scheduler_at_once(web_client, login):
    from urllib.parse import urlencode

    from centric.web import scheduler

    hub = web_client.app.state.hub
    s = scheduler.start(hub, interval=3600)  # rounds only at start and when woken
    try:
        assert s.wait_rounds(1, 300)
        login(web_client, role="analyst")
        store_name = hub.reader().execute("SELECT unit FROM units WHERE kind = 'store' ORDER BY unit DESC "
                                              "LIMIT 1").fetchone()[0]
        token = csrf_of(web_client.get("/observations/new").text)
        r = web_client.post("/observations/new", follow_redirects=False, data={
            "csrf_token": token, "store": store_name,
            "text": "Long queues at the tills, only one till open; customers left their baskets."})
        assert r.status_code == 303
        fid = r.headers["location"].split("done=")[1]
        assert s.wait_rounds(2, 300), "the entry did not wake the scheduler"
        assert _count(web_client, "SELECT count(*) FROM text_analyses WHERE text_id = ?", fid) == 1
        page = web_client.get("/observations?" + urlencode({"store": store_name}))
        assert "Long queues at the tills" in page.text
    finally:
        scheduler.stop()
