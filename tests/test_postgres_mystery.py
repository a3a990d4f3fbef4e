"""Mystery shopping's writes on PostgreSQL: a visit recorded (a failed critical item opening its case), an export
imported, ``centric mystery template add|import|cases``, and the pages ``/mystery/new`` and a visit's — with the
answers computed by hand in tests/test_mystery.py on each engine, the same pages as DuckDB's, and a write that fails
half-way leaving the store as it was."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient

from centric.web import create_app
from tests.conftest import csrf_of

from .engines import DUCK_PG, run, sql_rows
from .test_mystery import SMALL, WIDE
from .test_mystery_web import PNG, _form
from .test_web_postgres import pg_web  # noqa: F401 — the fixture
from .test_web_postgres_pages import main

CAP = pytest.mark.capability("mystery writes", engines=DUCK_PG)


def _mini(store) -> None:
    """test_mystery's store: the template ``mini`` and three stores (North 1 and 2 managed by ann, South 1 by bob)."""
    from centric.mystery import add_template

    add_template(store, SMALL, "mini.toml")
    with store.transaction() as con:
        con.execute("INSERT INTO units (unit, kind, region, country, manager) VALUES "
                    "('North 1', 'store', 'North', 'PL', 'ann'), ('North 2', 'store', 'North', 'PL', 'ann'), "
                    "('South 1', 'store', 'South', 'IT', 'bob')")


def _visit(store, vid, where, day, price="yes", brand="ours"):
    from centric.mystery import record_visit

    return record_visit(store, "mini", vid, where, dt.datetime(2026, 3, day, 12),
                        {"greet": "yes", "clean": "yes", "price": price}, shopper="x", brand=brand)


def _count(store, table: str) -> int:
    return sql_rows(store, f"SELECT count(*) FROM {table}")[0][0]


@CAP
def test_a_failed_critical_item_opens_one_case_for_the_manager(engine, store):
    from centric.mystery import open_cases

    _mini(store)
    s = engine.writable_of(store)
    assert _visit(s, "ok", "North 1", 1) == ("ok", True)
    _visit(s, "bad", "South 1", 2, price="no")
    _visit(s, "rival", "Rival 1", 3, price="no", brand="Rival")  # a competitor's failure: no case of ours
    assert _visit(s, "bad", "South 1", 2, price="no") == ("bad", False)  # sent again: stored once
    rows = sql_rows(s, "SELECT case_id, owner, origin, type, store, status, priority FROM cases")
    assert len(rows) == 1 and rows[0][1:] == ("bob", "mystery", "price", "South 1", "assigned", "high")
    case_id = rows[0][0]
    assert sql_rows(s, "SELECT case_id FROM mystery_visits WHERE visit_id = 'bad'") == [(case_id,)]
    assert sql_rows(s, "SELECT source_table, signal_id, kind, action FROM case_signals") == [
        ("mystery_visits", "bad", "mystery", "opened")]
    assert [k for (k,) in sql_rows(s, "SELECT kind FROM case_events WHERE case_id = ? ORDER BY case_event_id",
                                   [case_id])] == ["opened", "assigned"]
    assert sql_rows(s, "SELECT count(*) FROM case_clocks WHERE case_id = ?", [case_id])[0][0] > 0
    assert sql_rows(s, "SELECT visit_id, score, raw_score FROM mystery_visits ORDER BY visit_id") == [
        ("bad", 0.0, pytest.approx(400 / 14)), ("ok", 100.0, 100.0), ("rival", 0.0, pytest.approx(400 / 14))]
    assert _count(s, "mystery_answers") == 9
    assert len(open_cases(s)) == 0 and _count(s, "cases") == 1  # running again opens nothing new


@CAP
def test_a_case_opening_that_fails_half_way_leaves_the_store_as_it_was(engine, store, monkeypatch):
    from centric.cases import clocks
    from centric.mystery import open_cases, record_visit

    _mini(store)
    s = engine.writable_of(store)
    record_visit(s, "mini", "bad", "South 1", dt.datetime(2026, 3, 2, 12), {"greet": "yes", "clean": "yes",
                 "price": "no"}, open_case=False)
    before = {t: _count(s, t) for t in ("cases", "case_events", "case_signals", "case_clocks")}

    def broken(*a, **k):
        raise RuntimeError("the connection broke")

    monkeypatch.setattr(clocks, "refresh_clocks", broken)  # after the case, its events and signal were written
    with pytest.raises(RuntimeError, match="the connection broke"):
        open_cases(s)
    assert {t: _count(s, t) for t in before} == before == {"cases": 0, "case_events": 0, "case_signals": 0,
                                                             "case_clocks": 0}
    assert sql_rows(s, "SELECT case_id FROM mystery_visits") == [(None,)]
    monkeypatch.undo()
    assert open_cases(s)["visit_id"].tolist() == ["bad"] and _count(s, "case_signals") == 1


def _broken_clocks(monkeypatch) -> None:
    """The case opening fails after the case, its events and its signal were written (at the clocks)."""
    from centric.cases import clocks

    def broken(*a, **k):
        raise RuntimeError("the connection broke")

    monkeypatch.setattr(clocks, "refresh_clocks", broken)


def _wide(engine, store, tmp_path):
    """test_mystery's store on the engine, writable, and the wide export of tests/test_mystery.py in a file."""
    _mini(store)
    f = tmp_path / "visits.csv"
    f.write_text(WIDE, encoding="utf-8")
    return engine.writable_of(store), f


def _nothing_imported(s) -> None:
    for table in ("mystery_visits", "mystery_answers", "ingest_runs", "ingest_rows", "rejected_rows", "feedback",
                  "cases", "case_events", "case_signals", "case_clocks"):
        assert _count(s, table) == 0, table


@CAP
def test_a_visit_whose_case_fails_to_open_is_not_stored(engine, store, monkeypatch):
    from centric.mystery import record_visit

    _mini(store)
    s = engine.writable_of(store)
    _broken_clocks(monkeypatch)
    with pytest.raises(RuntimeError, match="the connection broke"):
        record_visit(s, "mini", "bad", "South 1", dt.datetime(2026, 3, 2, 12),
                     {"greet": "yes", "clean": "yes", "price": "no"}, notes="price mismatch", audit_actor="ann")
    for table in ("mystery_visits", "mystery_answers", "feedback", "audit_log", "cases", "case_events",
                  "case_signals", "case_clocks"):
        assert _count(s, table) == 0, table
    monkeypatch.undo()  # sent again: stored, with its case
    assert _visit(s, "bad", "South 1", 2, price="no") == ("bad", True)
    assert sql_rows(s, "SELECT v.visit_id, c.owner FROM mystery_visits v JOIN cases c USING (case_id)") == [
        ("bad", "bob")]


@CAP
def test_an_import_whose_case_fails_to_open_stores_nothing(engine, store, tmp_path, monkeypatch):
    from centric.mystery.importer import import_visits

    s, f = _wide(engine, store, tmp_path)
    _broken_clocks(monkeypatch)
    with pytest.raises(RuntimeError, match="the connection broke"):
        import_visits(s, f, template_id="mini")
    _nothing_imported(s)
    monkeypatch.undo()  # the same file again: imported (not taken for a file seen before), with its case
    r = import_visits(s, f, template_id="mini")
    assert (r.duplicate_file, r.visits_stored, r.cases_opened) == (False, 2, 1)


@CAP
def test_an_export_imported_by_hand(engine, store, tmp_path):
    from centric.mystery.importer import import_visits

    _mini(store)
    s = engine.writable_of(store)
    f = tmp_path / "visits.csv"
    f.write_text(WIDE, encoding="utf-8")
    r = import_visits(s, f, template_id="mini")
    assert (r.shape, r.rows_read, r.visits_stored, r.rows_rejected, r.cases_opened) == ("wide", 5, 2, 3, 1)
    assert [(x["row"], x["column"], x["value"]) for x in r.rejected] == [
        (4, "Sklep", "Nowhere"), (5, "Data", "31.13.2026"), (6, "clean", "maybe")]
    assert sql_rows(s, "SELECT store, shopper, visited_at, score, failed_critical, notes FROM mystery_visits "
                       "ORDER BY visited_at") == [
        ("North 1", "anna", dt.datetime(2026, 3, 31), pytest.approx(1300 / 14), False, "ok"),
        ("North 2", "ben", dt.datetime(2026, 4, 1, 10, 30), 0.0, True, "price mismatch")]
    kept = sql_rows(s, "SELECT row_number, column_name, reason FROM rejected_rows WHERE table_name = "
                       "'mystery_visits' ORDER BY row_number")
    assert [k[:2] for k in kept] == [(4, "Sklep"), (5, "Data"), (6, "clean")] and "not a store of units" in kept[0][2]
    assert sql_rows(s, "SELECT owner, store FROM cases") == [("ann", "North 2")]
    assert sorted(sql_rows(s, "SELECT feedback_id, text FROM feedback")) == sorted(
        (f"mystery:{v}", n) for v, n in sql_rows(s, "SELECT visit_id, notes FROM mystery_visits"))
    again = import_visits(s, f, template_id="mini")
    assert again.duplicate_file and _count(s, "mystery_visits") == 2
    g = tmp_path / "again.csv"  # the same visits in another file: stored once (ids derived from their content)
    g.write_text(WIDE + "\n", encoding="utf-8")
    assert import_visits(s, g, template_id="mini").visits_duplicate == 2
    assert _count(s, "mystery_visits") == 2 and _count(s, "cases") == 1
    assert [x for (x,) in sql_rows(s, "SELECT status FROM ingest_runs WHERE table_name = 'mystery_visits' "
                                      "ORDER BY run_id")] == ["stored", "duplicate_file", "stored"]


@CAP
def test_an_import_that_fails_half_way_leaves_the_store_as_it_was(engine, store, tmp_path, monkeypatch):
    from centric.mystery import importer

    s, f = _wide(engine, store, tmp_path)
    real = importer.write_visits

    def half(con, visits, answers):  # the visits written, then the write fails
        real(con, visits, answers)
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "write_visits", half)
    with pytest.raises(RuntimeError, match="disk full"):
        importer.import_visits(s, f, template_id="mini")
    _nothing_imported(s)


@CAP
def test_the_commands(engine, store, tmp_path):
    _mini(store)
    db = engine.db_of(store)
    newer = tmp_path / "mini.toml"
    newer.write_text(SMALL.replace('text = "Clean?"', 'text = "Clean and tidy?"'), encoding="utf-8")
    r = run("mystery", "template", "add", str(newer), db=db)
    assert r.exit_code == 0 and "template mini (Mini): 3 items, 1 critical — added as version 2" in r.output, r.output
    r = run("mystery", "template", "add", str(newer), db=db)
    assert r.exit_code == 0 and "unchanged (version 2)" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace("weight = 3", "weight = 0"), encoding="utf-8")
    r = run("mystery", "template", "add", str(bad), db=db)
    assert r.exit_code == 2 and "item 'greet': 'weight' must be a number above 0" in r.output
    f = tmp_path / "visits.csv"
    f.write_text(WIDE, encoding="utf-8")
    r = run("mystery", "import", str(f), "--template", "mini", "--json", db=db)
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert (got["visits_stored"], got["rows_rejected"], got["cases_opened"], got["texts_analysed"]) == (2, 3, 1, 2)
    r = run("mystery", "cases", db=db)
    assert r.exit_code == 0 and "0 cases opened" in r.output
    r = run("mystery", "template", "list", "--json", db=db)
    assert [(t["template_id"], t["version"]) for t in json.loads(r.output)] == [("mini", 2)]
    r = run("mystery", "scores", "--by", "store", "--json", db=db)
    assert r.exit_code == 0, r.output
    assert [(g["group"], g["n"], g["failed"]) for g in json.loads(r.output)["groups"]] == [
        ("North 1", 1, 0), ("North 2", 1, 1)]


def _enter(db: str, login) -> dict[str, object]:
    """A shopper enters a visit with a photo and a failed critical item (sent twice), an analyst reads it: the
    content of each page, the file served, and the rows written."""
    got: dict[str, object] = {}
    with TestClient(create_app(db, scheduler=False), base_url="http://testserver") as client:
        login(client, role="shopper", email="shopper.one@example.com")
        page, data = _form(client)
        # the form's new visit id and its default time (the current minute, which may turn between the two runs)
        got["form"] = re.sub(r'name="(visit_id|visited_at)"( required)? value="[^"]+"', "", main(page))
        data.update({"visit_id": "MX-PG-1", "a_price_label": "no", "notes": "The price <b>label</b> was wrong."})
        r = client.post("/mystery/new", data=data, files=[("files", ("p.png", PNG, "image/png"))],
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/mystery/visits/MX-PG-1?saved=1", r.text[-500:]
        again = client.post("/mystery/new", data=data, follow_redirects=False)
        assert again.headers["location"] == "/mystery/visits/MX-PG-1?again=1"
        bad = client.post("/mystery/new", data={**data, "visit_id": "MX-PG-2", "a_greeted": "maybe"})
        assert bad.status_code == 422
        got["refused"] = main(bad.text)
        got["shopper"] = main(client.get("/mystery/visits/MX-PG-1?saved=1").text)
        login(client, role="analyst", departments=())
        got["analyst"] = main(client.get("/mystery/visits/MX-PG-1").text)
        file = client.get("/mystery/visits/MX-PG-1/files/MX-PG-1-1")
        assert file.status_code == 200 and file.content == PNG
        assert client.get("/mystery/visits/NO-SUCH").status_code == 404
        hub = client.app.state.hub
        got["rows"] = hub.reader().execute(
            "SELECT v.score, v.failed_critical, v.case_id, c.owner, c.origin, c.type, c.priority FROM mystery_visits v "
            "JOIN cases c ON c.case_id = v.case_id WHERE v.visit_id = 'MX-PG-1'").fetchall()
        got["audit"] = hub.reader().execute("SELECT audit_id, actor, object_id FROM audit_log WHERE action = "
                                            "'mystery.visit'").fetchall()
        got["counts"] = [hub.reader().execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in ("mystery_visits", "mystery_attachments", "cases", "case_events", "feedback")]
    return got


@CAP
def test_the_entry_form_and_a_visits_page_as_on_duckdb(pg_web, web_db, login):  # noqa: F811
    duck, pg = _enter(web_db, login), _enter(pg_web, login)
    assert list(pg) == list(duck)
    for k in duck:
        assert pg[k] == duck[k], k  # the same pages (bytes) and rows
    (score, failed, case_id, owner, origin, kind, priority), = duck["rows"]
    assert (score, failed, origin, kind, priority) == (0.0, True, "mystery", "price", "high") and case_id and owner
    assert "MX-PG-1" in duck["analyst"] and "The price &lt;b&gt;label&lt;/b&gt; was wrong." in duck["analyst"]
    assert "greeted" in duck["refused"]


# -- the alerts' proactive case ---------------------------------------------------------------------------------
NOW = dt.datetime(2026, 12, 1, 9, 30)


def _proactive(db: str, login, monkeypatch, fail: bool = False) -> dict[str, object]:
    """An agent opens a proactive case from /alerts for the first customer still to contact (with ``fail``, the
    write fails once after the case and its events were written, then the agent tries again)."""
    from centric.cases import store_io
    from centric.cases.proactive import contacts

    monkeypatch.setattr(store_io, "utcnow", lambda: NOW)
    got: dict[str, object] = {}
    with TestClient(create_app(db, scheduler=False), base_url="http://testserver",
                    raise_server_exceptions=False) as client:
        hub = client.app.state.hub
        free = contacts(hub.reader(), now=NOW)
        customer = str(free[free["why"].isna()]["customer_id"].iloc[0])
        login(client, role="agent", departments=("customer_service",))
        page = client.get("/alerts").text
        assert f'name="customer_id" value="{customer}"' in page

        def rows():
            return {t: hub.reader().execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("cases", "case_events", "case_signals", "case_clocks", "audit_log")}

        before = rows()
        if fail:
            real = store_io.insert_rows

            def broken(con, table, frame):
                if table == "case_signals":
                    raise RuntimeError("the connection broke")
                return real(con, table, frame)

            monkeypatch.setattr(store_io, "insert_rows", broken)
            r = client.post("/alerts/proactive", data={"csrf_token": csrf_of(page), "customer_id": customer})
            assert r.status_code == 500
            monkeypatch.setattr(store_io, "insert_rows", real)
            assert rows() == before  # the case and its events were rolled back with the failed signal
        r = client.post("/alerts/proactive", data={"csrf_token": csrf_of(page), "customer_id": customer},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/alerts?opened="), r.text[-300:]
        case_id = r.headers["location"].split("=", 1)[1]
        after = rows()
        assert {t: after[t] - before[t] for t in after} == {"cases": 1, "case_events": 2, "case_signals": 1,
                                                            "case_clocks": after["case_clocks"] - before["case_clocks"],
                                                            "audit_log": 1}
        again = client.post("/alerts/proactive", data={"csrf_token": csrf_of(page), "customer_id": customer})
        assert "has a proactive case from this scoring already" in again.text
        assert rows() == after
        got["customer"] = customer
        got["case"] = hub.reader().execute(
            "SELECT case_id, customer_id, origin, department, owner, status, priority, language, country, summary, "
            "opened_at FROM cases WHERE case_id = ?", [case_id]).fetchall()
        got["events"] = hub.reader().execute(
            "SELECT case_event_id, kind, actor, department, target, occurred_at FROM case_events WHERE case_id = ? "
            "ORDER BY case_event_id", [case_id]).fetchall()
        got["signal"] = hub.reader().execute(
            "SELECT source_table, signal_id, kind, action, signal_at FROM case_signals WHERE case_id = ?",
            [case_id]).fetchall()
        got["clocks"] = hub.reader().execute(
            "SELECT clock, started_at, target_minutes, due_at, state FROM case_clocks WHERE case_id = ? "
            "ORDER BY clock", [case_id]).fetchall()
        got["audit"] = hub.reader().execute("SELECT actor, object_id, detail FROM audit_log WHERE action = "
                                            "'case.proactive'").fetchall()
        got["page"] = main(client.get(f"/alerts?opened={case_id}").text)
    return got


@pytest.mark.capability("proactive case", engines=DUCK_PG)
def test_one_click_opens_one_proactive_case_as_on_duckdb(pg_web, web_db, login, monkeypatch):  # noqa: F811
    duck, pg = _proactive(web_db, login, monkeypatch), _proactive(pg_web, login, monkeypatch, fail=True)
    assert list(pg) == list(duck)
    for k in duck:
        assert pg[k] == duck[k], k
    (case_id, customer, origin, department, owner, status, _, _, _, summary, opened_at), = duck["case"]
    assert (customer, origin, department, status, opened_at) == (duck["customer"], "proactive", "customer_service",
                                                                 "assigned", NOW)
    assert owner and summary.startswith("Proactive contact: ")
    assert [(k, t) for _, k, _, _, t, _ in duck["events"]] == [("opened", None), ("assigned", owner)]
    assert duck["signal"][0][:4] == ("customer_scores", duck["signal"][0][1], "proactive", "opened")
    assert duck["signal"][0][1].startswith(f"{customer}@") and duck["clocks"]
    assert f'href="/cases/{case_id}"' in duck["page"]
