"""The five whys on PostgreSQL: ``centric whys`` (a factor's tree, the default factor, a metric's drop) and the pages
``/whys…`` — a tree computed on the web app's read-only sessions, saved, edited, attached to a case and detached —
give on a PostgreSQL copy of the small demo store (``centric store copy``, tests/pg.py) the same JSON and the same
pages as on the DuckDB store it was copied from; a save that fails half-way leaves the store as it was."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from centric.web import create_app
from tests.conftest import csrf_of

from .engines import DUCK_PG, DUCKDB, POSTGRESQL, pair, run
from .test_web_postgres import pg_web  # noqa: F401 — the fixture
from .test_web_postgres_pages import main

NOW = dt.datetime(2026, 9, 30, 8, 15, 0)


def _json(db, *args) -> dict:
    r = run("whys", *args, "--json", db=db)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _levels(node: dict, depth: int = 0, found=None) -> set[tuple[int, str]]:
    found = set() if found is None else found
    found.add((depth, node["level"]))
    for c in node["children"]:
        _levels(c, depth + 1, found)
    return found


@pytest.mark.capability("whys", engines=DUCK_PG)
def test_the_whys_trees_are_those_of_duckdb(demo_engines, request):
    duck, pg = pair(demo_engines, request, POSTGRESQL)
    for args in ((), ("--factor", "delivery"), ("--factor", "delivery", "--period", "2026"),
                 ("--metric", "nps", "--segment", "b2c", "--period", "2026-Q3")):
        a, b = _json(duck, *args), _json(pg, *args)
        assert b == a, args  # the same tree: counts, shares, p-values, evidence ids and quotes, to the last digit
    # the trees compared reach every level: sub-topics, journey points, departments, recorded root causes
    tree = _json(duck, "--factor", "delivery")["tree"]
    assert {level for _, level in _levels(tree)} == {"problem", "says", "where", "department", "cause"}
    assert tree["n"] == sum(c["n"] for c in tree["children"]) + tree["other"]  # the sub-topics split the sentences
    r = run("whys", "--factor", "nosuch", db=pg)
    assert r.exit_code == 2 and "--factor 'nosuch': no text about our brand mentions it" in r.output


@pytest.mark.capability("whys", engines=DUCK_PG)
def test_a_drops_tree_by_hand_on_each_engine(engine, store):
    """test_whys_drop's store built by hand, on the engine (read-only on PostgreSQL: no temporary table there):
    NPS +30 → −20 for b2c, delivery blamed by 2 of 20 answers then 8 of 20, its impact −40 points, its own tree
    underneath over the segment's 8 sentences."""
    from centric.whys import whys_drop

    from .test_whys_drop import _build

    _build(store)
    on = engine.store_of(store)
    t = whys_drop(on, "nps", "2025-Q2", where={"segment": ["b2c"]}, k=2, min_support=2, min_child_share=0)
    assert t.settings["before"]["value"] == pytest.approx(30.0) and t.settings["after"]["value"] == pytest.approx(-20.0)
    delivery, price = t.root.children
    assert (delivery.key, delivery.n, delivery.share, delivery.baseline) == ("delivery", 8, 40.0, 10.0)
    others = (6 * 100 + 4 * 0 + 2 * -100) / 12
    assert delivery.impact == pytest.approx(0.30 * (-100 - others)) and price.impact == pytest.approx(0.0)
    assert delivery.children and sum(c.n for c in delivery.children) + delivery.other == 8
    assert t.to_dict() == whys_drop(store, "nps", "2025-Q2", where={"segment": ["b2c"]}, k=2, min_support=2,
                                    min_child_share=0).to_dict()  # every node as on DuckDB
    r = run("whys", "--metric", "nps", "--segment", "b2c", "--period", "2025-Q2", "--subtopics", "2",
            db=engine.db_of(store))
    assert r.exit_code == 0, r.output
    assert "NPS +30.0 → -20.0 (2025-Q1 → 2025-Q2; segment = b2c)" in r.output and "impact -40.0 pts" in r.output


def _post(client, url: str, page: str, **data):
    r = client.post(url, data={**data, "csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303, (url, r.status_code, r.text[-500:])
    return r.headers["location"]


def _flow(db: str, login) -> dict[str, str]:
    """An analyst's work on the pages of store ``db``: each page's content, the audit log's entries."""
    got: dict[str, str] = {}
    with TestClient(create_app(db, scheduler=False), base_url="http://testserver") as client:
        login(client, "analyst", departments=())
        hub = client.app.state.hub
        for path in ("/whys", "/whys?factor=delivery", "/whys?factor=delivery&period=2026",
                     "/whys?metric=nps&segment=b2c&period=2026-Q3", "/whys?factor=delivery&period=2025-13"):
            r = client.get(path)
            assert r.status_code == 200, (db, path, r.text[-500:])
            got[path] = main(r.text)
        page = client.get("/whys?factor=delivery").text
        tree = _post(client, "/whys", page, factor="delivery", period="", title="Delivery <why>")
        drop = _post(client, "/whys", page, metric="nps", segment="b2c", period="2026-Q3", compare="",
                     title="b2c drop")
        assert (tree, drop) == ("/whys/Y0001", "/whys/Y0002")
        view = client.get(tree).text
        _post(client, f"{tree}/edit", view, node="0", op="add", verdict="root cause", label="address form <b>")
        _post(client, f"{tree}/edit", view, node="0.0", op="annotate", note="seen in the shop's logs")
        case = hub.reader().execute("SELECT min(case_id) FROM cases WHERE department = 'delivery'").fetchone()[0]
        other = hub.reader().execute("SELECT max(case_id) FROM cases").fetchone()[0]
        _post(client, f"{tree}/attach", view, cases=f"{case}, {other}, {case}")
        _post(client, f"{tree}/detach", view, case_id=other)
        r = client.post(f"{tree}/attach", data={"cases": "NO-SUCH-CASE", "csrf_token": csrf_of(view)})
        assert r.status_code == 422 and "no case &#39;NO-SUCH-CASE&#39;" in r.text
        for path in ("/whys", tree, drop, f"{tree}?done=attach"):
            got[path] = main(client.get(path).text)
        case_page = client.get(f"/cases/{case}").text
        assert '<a href="/whys/Y0001">Delivery &lt;why&gt;</a>' in case_page
        assert "<strong>address form &lt;b&gt;</strong>" in case_page
        got["audit"] = repr(hub.reader().execute(
            "SELECT action, object_id, detail FROM audit_log WHERE action LIKE 'whys.%' ORDER BY audit_id").fetchall())
        got["links"] = repr(hub.reader().execute("SELECT tree_id, case_id, linked_by, linked_at FROM whys_links"
                                                 ).fetchall())
    return got


@pytest.mark.capability("whys", engines=DUCK_PG)
def test_the_whys_pages_compute_save_edit_and_attach_as_on_duckdb(pg_web, web_db, login, monkeypatch):  # noqa: F811
    from centric.whys import saved

    monkeypatch.setattr(saved, "_now", lambda: NOW)
    duck, pg = _flow(web_db, login), _flow(pg_web, login)
    assert list(pg) == list(duck)
    for path in duck:
        assert pg[path] == duck[path], path  # the same bytes
    assert 'class="whys-tree"' in duck["/whys?factor=delivery"] and "--period" in duck[
        "/whys?factor=delivery&period=2025-13"]
    assert "address form &lt;b&gt;" in duck["/whys/Y0001"] and "seen in the shop&#39;s logs" in duck["/whys/Y0001"]
    assert duck["audit"].count("whys.save") == 2 and duck["audit"].count("whys.attach") == 1
    assert "whys.detach" in duck["audit"] and duck["links"].count("Y0001") == 1  # one case left attached


@pytest.mark.capability("whys", engines=DUCK_PG)
@pytest.mark.parametrize("engine_name", [DUCKDB, POSTGRESQL])
def test_an_attach_that_fails_half_way_leaves_the_store_as_it_was(engine_name, request, login, monkeypatch):
    from centric.store import Tables
    from centric.whys import saved

    db = request.getfixturevalue("web_db" if engine_name == DUCKDB else "pg_web")
    with TestClient(create_app(db, scheduler=False), base_url="http://testserver",
                    raise_server_exceptions=False) as client:
        login(client, "analyst", departments=())
        page = client.get("/whys?factor=delivery").text
        tree = _post(client, "/whys", page, factor="delivery", title="Delivery")
        hub = client.app.state.hub
        cases = [c for (c,) in hub.reader().execute("SELECT case_id FROM cases ORDER BY case_id LIMIT 3").fetchall()]
        inserts = []
        execute = type(hub.writer).execute

        def failing(store, sql, params=()):
            if sql.startswith("INSERT INTO whys_links"):
                inserts.append(params)
                if len(inserts) == 2:
                    raise RuntimeError("the connection broke")
            return execute(store, sql, params)

        monkeypatch.setattr(type(hub.writer), "execute", failing)
        assert issubclass(type(hub.writer), Tables)
        r = client.post(f"{tree}/attach", data={"cases": " ".join(cases), "csrf_token": csrf_of(page)})
        assert r.status_code == 500 and len(inserts) == 2  # the first link was written, then the write failed
        monkeypatch.undo()
        assert saved.cases_of(hub.reader(), "Y0001") == []  # rolled back: no link at all
        assert [a for (a,) in hub.reader().execute("SELECT action FROM audit_log WHERE action LIKE 'whys.%'"
                                                   ).fetchall()] == ["whys.save"]
        r = client.post(f"{tree}/attach", data={"cases": " ".join(cases), "csrf_token": csrf_of(page)},
                        follow_redirects=False)
        assert r.status_code == 303 and saved.cases_of(hub.reader(), "Y0001") == sorted(cases)
