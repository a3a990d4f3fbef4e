"""The admins' employees page: the list, erasing one employee (typed id, CSRF token, audit entry in the same
transaction); everybody else is refused."""

from __future__ import annotations

import json

from tests.conftest import csrf_of


def _employee(con, unit_rank: int = 0) -> tuple[str, str, str, str]:
    return con.execute("SELECT employee_id, name, email, unit FROM employees WHERE name IS NOT NULL "
                       "ORDER BY employee_id LIMIT 1 OFFSET ?", [unit_rank]).fetchone()


def test_an_admin_lists_and_erases_an_employee(web_client, login):
    hub = web_client.app.state.hub
    con = hub.reader()
    employee_id, name, email, unit = _employee(con)
    named = con.execute("SELECT count(*) FROM employees WHERE name IS NOT NULL").fetchone()[0]
    login(web_client, role="admin")
    page = web_client.get("/employees")
    assert page.status_code == 200 and name in page.text
    assert f'href="/employees/{employee_id}/forget"' in page.text and 'href="/employees"' in page.text  # in the menu
    in_unit = web_client.get("/employees", params={"unit": unit})
    assert in_unit.status_code == 200 and in_unit.text.count("/forget\"") == con.execute(
        "SELECT count(*) FROM employees WHERE unit = ? AND name IS NOT NULL", [unit]).fetchone()[0]
    assert web_client.get("/employees", params={"unit": "No such unit"}).status_code == 404
    assert web_client.get("/employees/E0000000/forget").status_code == 404
    form = web_client.get(f"/employees/{employee_id}/forget")
    assert form.status_code == 200 and f"Type {employee_id} to confirm" in form.text
    token = csrf_of(form.text)
    # no CSRF token: refused, nothing erased
    r = web_client.post(f"/employees/{employee_id}/forget", data={"confirm": employee_id})
    assert r.status_code == 403
    # the wrong id typed: nothing erased
    r = web_client.post(f"/employees/{employee_id}/forget", data={"csrf_token": token, "confirm": "E0"})
    assert r.status_code == 422 and "id exactly to confirm." in r.text
    con = hub.reader()
    assert con.execute("SELECT name FROM employees WHERE employee_id = ?", [employee_id]).fetchone() == (name,)
    r = web_client.post(f"/employees/{employee_id}/forget", data={"csrf_token": token, "confirm": employee_id})
    assert r.status_code == 200 and f"Employee {employee_id} is erased." in r.text
    con = hub.reader()
    assert con.execute("SELECT name, email FROM employees WHERE employee_id = ?", [employee_id]).fetchone() == (
        None, None)
    assert con.execute("SELECT count(*) FROM employees WHERE name IS NOT NULL").fetchone()[0] == named - 1
    logged = con.execute("SELECT actor, role, object_id, detail FROM audit_log WHERE action = 'employee.forget'"
                         ).fetchall()
    assert len(logged) == 1 and logged[0][1:3] == ("admin", employee_id)
    detail = json.loads(logged[0][3])
    assert detail["employees"] == 1 and name not in logged[0][3] and email not in logged[0][3]
    # a second time: said so, nothing to do
    again = web_client.get(f"/employees/{employee_id}/forget")
    assert again.status_code == 200 and "was erased already" in again.text and 'name="confirm"' not in again.text
    r = web_client.post(f"/employees/{employee_id}/forget", data={"csrf_token": token, "confirm": employee_id})
    assert r.status_code == 409
    # the list in Polish
    pl = web_client.get("/employees", params={"lang": "pl"})
    assert pl.status_code == 200 and "Wszystkie jednostki" in pl.text


def test_only_admins_see_or_use_the_employees_page(web_client, login):
    con = web_client.app.state.hub.reader()
    employee_id, name, _, _ = _employee(con)
    for role in ("agent", "analyst"):
        login(web_client, role=role, departments=("delivery",) if role == "agent" else (),
              email=f"{role}.emp@example.com")
        assert web_client.get("/employees").status_code == 403
        form = web_client.get(f"/employees/{employee_id}/forget")
        assert form.status_code == 403
        me = web_client.get("/me")
        assert 'href="/employees"' not in me.text
        r = web_client.post(f"/employees/{employee_id}/forget", data={"csrf_token": csrf_of(me.text),
                                                                      "confirm": employee_id})
        assert r.status_code == 403
    assert con.execute("SELECT name FROM employees WHERE employee_id = ?", [employee_id]).fetchone() == (name,)
