"""Erasing an employee on PostgreSQL (``centric employees forget``, ``enps forget``, the /employees pages): the
company of tests/test_employees.py, and the small demo store, erased on DuckDB and on a PostgreSQL copy — every
table the same afterwards (but the erasure's own time and the random tokens that replace their votes)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from centric import schema
from centric.cli import app
from centric.engines.copy import copy_store
from centric.engines.postgres import PgStore
from centric.store import Store

from . import test_web_postgres
from .conftest import csrf_of
from .engines import DUCK_PG, every_table
from .test_employees import EMAIL, NEEDLES, OTHER_EMAIL, build, occurrences
from .test_writes_postgres import _erased_view

pg_web, pg_client = test_web_postgres.pg_web, test_web_postgres.pg_client  # the fixtures

runner = CliRunner()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)


def _same_tables(duck, pg, since, signed_in: bool = False) -> dict[str, list[tuple]]:
    """Every table of both stores the same (``_erased_view``); ``signed_in``: but the sessions and the password
    hashes (salted) of the web app's users."""
    a, b = _erased_view(every_table(duck), since), _erased_view(every_table(pg), since)
    assert sorted(a) == sorted(schema.TABLES)
    if signed_in:
        hashed = schema.TABLES["users"].column_names.index("password_hash")
        for x in (a, b):
            x["users"] = [u[:hashed] + u[hashed + 1:] for u in x["users"]]
            x["web_sessions"] = len(x["web_sessions"])
    for t in a:
        assert a[t] == b[t], t
    return b


def _pg_occurrences(pg, needles) -> dict[str, int]:
    """tests/test_employees.occurrences over PostgreSQL's text columns."""
    found = {}
    for table, column in pg.con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE "
                                        "table_schema = 'public' AND data_type = 'text' ORDER BY 1, 2").fetchall():
        values = [v for (v,) in pg.con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')]
        n = sum(1 for v in values if any(x in " ".join(v.casefold().split()) for x in needles))
        if n:
            found[f"{table}.{column}"] = n
    return found


@pytest.mark.capability("employees forget", engines=DUCK_PG)
def test_employees_forget_erases_the_same_on_both_engines(tmp_path, pg_url):
    duck_db = tmp_path / "c.duckdb"
    with Store.open(duck_db) as store:
        build(store)
        copy_store(store, pg_url)
    with PgStore.open(pg_url, read_only=True) as pg:
        assert _pg_occurrences(pg, NEEDLES)  # the name and e-mail are there to find
    since = _now()
    outs = []
    for db in (str(duck_db), pg_url):
        r = runner.invoke(app, ["--db", db, "employees", "forget", EMAIL, "--json"], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        outs.append(json.loads(r.output))
        # a second time: refused by name, nothing changed
        r = runner.invoke(app, ["--db", db, "employees", "forget", "E1", "--yes"], catch_exceptions=False)
        assert r.exit_code == 2 and "employee E1 was erased already" in r.output
        r = runner.invoke(app, ["--db", db, "employees", "forget", "nobody@firma.example", "--yes"])
        assert r.exit_code == 2 and "no employee with the id or e-mail 'nobody@firma.example'" in r.output
    assert outs[0] == outs[1]
    # hand-counted in tests/test_employees.py (this company's audit log never names them)
    assert outs[1]["counts"] == {"employees": 1, "orientation_assessments": 2, "ideas": 2, "idea_votes": 1,
                                 "idea_comments": 2, "feedback": 4, "mystery_visits": 1, "users": 1,
                                 "rejected_rows": 1}
    # centric enps forget is the same erasure, on the namesake
    for db in (str(duck_db), pg_url):
        r = runner.invoke(app, ["--db", db, "enps", "forget", OTHER_EMAIL], catch_exceptions=False)
        assert r.exit_code == 0 and "employee E2" in r.output and "orientation_assessments: 1" in r.output
    with Store.open(duck_db, read_only=True) as d, PgStore.open(pg_url, read_only=True) as p:
        b = _same_tables(d, p, since)
        assert occurrences(d.con, NEEDLES) == {} and _pg_occurrences(p, NEEDLES) == {}
        assert _pg_occurrences(p, ["anna kowal", OTHER_EMAIL]) == {}
        assert [r[:3] for r in b["employees"]] == [("E1", None, None), ("E2", None, None),
                                                   ("E3", "Piotr Zając", "piotr.zajac@firma.example")]
        logged = p.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = 'employee.forget' "
                           "ORDER BY audit_id").fetchall()
        assert [x[1] for x in logged] == ["E1", "E2"] and json.loads(logged[0][2]) == outs[1]["counts"]
        # S2's notes: Anna Kowal's first name alone names her in her own unit, where nobody else is called Anna
        assert sorted(p.execute("SELECT text FROM feedback WHERE store = 'S2' AND author = 'boss2'").fetchall()) == [
            ("[name] came from S1 to help [name].",), ("[name] helped a customer with a return.",)]


def _confirm_erasure(client, path: str, object_id: str, wrong: str, erased: str):
    """The erasure form at ``path``: shown, refused with a ``wrong`` id (422), done with the right one (``erased``
    on the page); the csrf token and the done response."""
    form = client.get(path)
    assert form.status_code == 200 and f"Type {object_id} to confirm" in form.text
    token = csrf_of(form.text)
    assert client.post(path, data={"csrf_token": token, "confirm": wrong}).status_code == 422
    r = client.post(path, data={"csrf_token": token, "confirm": object_id})
    assert r.status_code == 200 and erased in r.text and "Traceback" not in r.text
    return token, r


@pytest.mark.capability("employees forget", engines=DUCK_PG)
def test_an_admin_erases_an_employee_on_the_page_as_on_duckdb(web_client, pg_client, login):
    since = _now()
    seen = []
    for client in (web_client, pg_client):
        reader = client.app.state.hub.reader()
        employee_id, name, email, unit = reader.execute(
            "SELECT employee_id, name, email, unit FROM employees WHERE name IS NOT NULL ORDER BY employee_id "
            "LIMIT 1").fetchone()
        login(client, role="admin", email="admin.emp@example.com")
        page = client.get("/employees", params={"unit": unit})
        assert page.status_code == 200 and name in page.text and f'href="/employees/{employee_id}/forget"' in page.text
        assert client.get("/employees", params={"unit": "No such unit"}).status_code == 404
        assert client.get("/employees/E0000000/forget").status_code == 404
        token, _ = _confirm_erasure(client, f"/employees/{employee_id}/forget", employee_id, "E0",
                                    f"Employee {employee_id} is erased.")
        r = client.post(f"/employees/{employee_id}/forget", data={"csrf_token": token, "confirm": employee_id})
        assert r.status_code == 409 and "Traceback" not in r.text
        reader = client.app.state.hub.reader()
        detail = reader.execute("SELECT detail FROM audit_log WHERE action = 'employee.forget'").fetchall()
        assert len(detail) == 1 and json.loads(detail[0][0])["employees"] == 1
        seen.append((employee_id, page.text.count('/forget"'), json.loads(detail[0][0])))
    assert seen[0] == seen[1]
    _same_tables(web_client.app.state.hub.reader(), pg_client.app.state.hub.reader(), since, signed_in=True)


@pytest.mark.capability("customers forget", engines=DUCK_PG)
def test_an_admin_erases_a_customer_on_the_page_as_on_duckdb(web_client, pg_client, login):
    """/customers/ID/forget (the customer's erasure from the web) on PostgreSQL: the same page and audit entry as
    on DuckDB, and every table the same afterwards."""
    since = _now()
    seen = []
    for client in (web_client, pg_client):
        reader = client.app.state.hub.reader()
        customer, email = reader.execute("SELECT customer_id, value FROM identities WHERE kind = 'email' "
                                         "ORDER BY customer_id LIMIT 1").fetchone()
        login(client, role="admin", email="admin.cust@example.com")
        assert f'href="/customers/{customer}/forget"' in client.get(f"/customers/{customer}").text
        _confirm_erasure(client, f"/customers/{customer}/forget", customer, "C0000000", f"Customer {customer} is erased.")
        reader = client.app.state.hub.reader()
        assert reader.execute("SELECT count(*) FROM identities WHERE value = ?", [email]).fetchone()[0] == 0
        assert reader.execute("SELECT count(*) FROM customers WHERE customer_id = ?", [customer]).fetchone()[0] == 0
        (detail,) = reader.execute("SELECT detail FROM audit_log WHERE action = 'customer.forget'").fetchone()
        assert email not in detail
        seen.append((customer, json.loads(detail)))
    assert seen[0] == seen[1] and seen[0][1]["identities_removed"] >= 1
    _same_tables(web_client.app.state.hub.reader(), pg_client.app.state.hub.reader(), since, signed_in=True)
