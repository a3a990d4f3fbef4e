"""The web app's read pages whose analyses run on PostgreSQL — the dashboards and a factor's detail, the user flows,
the alerts, the personas and their empathy maps, the employees' NPS, the mystery shopping scores and calibration —
on a PostgreSQL copy of the small demo store (``centric store copy``, tests/pg.py) show the same figures as on the
DuckDB store they were copied from; the menu links them there."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from centric.web import create_app

from .engines import DUCK_PG
from .test_web_postgres import pg_web  # noqa: F401 — the fixture

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


def main(text: str) -> str:
    """The page's content (without the menu, which shows only what runs, and the session's own form token)."""
    body = re.search(r"<main.*</main>", text, re.S).group(0)
    return re.sub(r'name="csrf_token" value="[^"]+"', "", body)


def numbers(text: str) -> list[str]:
    """Every number the page's content shows, in order (its text, not its markup's attributes)."""
    visible = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", text, flags=re.S)))
    return NUMBER.findall(visible)


def pages(db: str, login, paths) -> dict[str, str]:
    """``paths`` (each a path, or a function of the pages read so far giving a list of paths) read by an
    admin on the store ``db``: the content of each."""
    got: dict[str, str] = {}
    with TestClient(create_app(db, scheduler=False), base_url="http://testserver") as client:
        login(client, "admin")
        for p in paths:
            for path in (p(got) if callable(p) else [p]):
                r = client.get(path)
                assert r.status_code == 200, (db, path, r.status_code, r.text[-500:])
                got[path] = main(r.text)
    return got


def linked(prefix: str, limit: int = 2):
    """The first ``limit`` links under ``prefix`` of the pages read so far (for :func:`pages`)."""
    def paths(got: dict[str, str]) -> list[str]:
        found = []
        for body in got.values():
            for href in re.findall(r'href="(' + re.escape(prefix) + r'[^"#]*)"', body):
                href = html.unescape(href)
                if href not in found:
                    found.append(href)
        return found[:limit]
    return paths


READ_PAGES = ["/dashboards", "/dashboards?preset=90d", "/dashboards?brand=all&channel=email",
              linked("/dashboards/factor/"), "/flows", "/flows?compare=nps", "/flows?compare=reached&direction=backward",
              "/alerts", "/personas", linked("/personas/"), linked("/personas?segment="), "/enps",
              "/enps?themes_by=department", "/mystery", "/mystery/calibration", "/mystery/calibration?window=60"]


@pytest.mark.capability("web reads", engines=DUCK_PG)
def test_the_read_pages_show_the_same_figures_on_postgresql_as_on_duckdb(pg_web, web_db, login):  # noqa: F811
    duck, pg = pages(web_db, login, READ_PAGES), pages(pg_web, login, READ_PAGES)
    assert list(duck) == list(pg)
    assert any(p.startswith("/dashboards/factor/") for p in duck) and any(p.startswith("/personas/") for p in duck)
    for path in duck:
        shown = numbers(duck[path])
        assert numbers(pg[path]) == shown, path
        assert pg[path] == duck[path], path  # the same bytes, not only the same numbers
    # the figures are there to compare: each page shows its analysis, not its "no data" notice
    assert len(numbers(duck["/dashboards"])) > 200 and len(numbers(duck["/flows?compare=nps"])) > 50
    for path in ("/alerts", "/personas", "/enps", "/mystery", "/mystery/calibration"):
        assert len(numbers(duck[path])) > 10, (path, duck[path][:500])


@pytest.mark.capability("web reads", engines=DUCK_PG)
def test_the_menu_links_the_read_pages_on_postgresql(pg_web, login):  # noqa: F811
    with TestClient(create_app(pg_web, scheduler=False), base_url="http://testserver") as client:
        login(client, "admin")
        inbox = client.get("/inbox").text
        for path in ("/dashboards", "/flows", "/alerts", "/personas", "/enps", "/mystery", "/whys"):
            assert f'href="{path}"' in inbox, path
        assert 'action="/alerts/proactive"' in client.get("/alerts").text  # its button opens a case there too


@pytest.mark.capability("web reads", engines=DUCK_PG)
def test_a_read_only_postgresql_session_gives_duckdbs_answers_without_temporary_tables(pg_web, demo_store):  # noqa: F811
    """What the pages' analyses kept in temporary tables (Ibis's in-memory tables, a journey's log, the open cases
    per month, the five whys' texts) is computed on the readers' read-only sessions without them: the same answers
    as the DuckDB store the PostgreSQL one was copied from."""
    from dataclasses import asdict

    from centric.cases.store_io import only
    from centric.engines import temp_tables
    from centric.engines.postgres import PgStore
    from centric.flows import journey_log, mine
    from centric.flows.log import materialized
    from centric.flows.summary import journey_names
    from centric.metrics.complaints import backlog
    from centric.whys.tree import whys

    from .engines import assert_same

    duck = demo_store
    with PgStore.open(pg_web, read_only=True) as pg:
        assert temp_tables(duck.ibis) and not temp_tables(pg.ibis)  # a memtable there would be refused
        ids = [c for (c,) in duck.execute("SELECT DISTINCT customer_id FROM cases WHERE customer_id IS NOT NULL "
                                          "ORDER BY 1 LIMIT 120").fetchall()]
        expected = sorted(c for (c,) in duck.execute("SELECT case_id FROM cases WHERE customer_id IN ({})".format(
            ", ".join("?" * len(ids))), ids).fetchall())
        assert len(ids) == 120 and len(expected) >= 120  # above the 50 values a literal list is used for on DuckDB
        for store in (duck, pg):
            assert sorted(only(store.table("cases"), "customer_id", ids).case_id.execute()) == expected

        months, left_out = backlog(duck)
        assert len(months) > 3 and backlog(pg) == (months, left_out)

        journey = journey_names(duck)[0]
        mined = []
        for store in (duck, pg):
            with materialized(journey_log(store, journey)) as log:
                # computed once into a temporary table on both: on PostgreSQL in a transaction of its own
                name = log.table.get_name().split(".")[-1]
                assert name.startswith("_flows_")
                g, v = mine(log.table)
            mined.append({"graph": asdict(g), "variants": asdict(v)})
        assert mined[0]["graph"]["cases"] > 100
        assert_same(mined[1], mined[0])
        # ... rolled back: no transaction left open, the table gone, the session as read-only as before
        from psycopg.pq import TransactionStatus

        assert pg.con.info.transaction_status == TransactionStatus.IDLE
        assert pg.con.execute("SELECT count(*) FROM pg_class WHERE relname = %s", [name]).fetchone()[0] == 0
        with pytest.raises(Exception, match="read-only transaction"):
            pg.con.execute("CREATE TEMPORARY TABLE _centric_probe (a int)")
        # a failure while the table is being made leaves no transaction open on the reader either
        from centric.engines import kept_read_only

        def fails(*a, **k):
            raise KeyboardInterrupt

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pg.con, "execute", lambda sql, *a, _real=pg.con.execute, **k:
                       fails() if sql.startswith("CREATE TEMPORARY") else _real(sql, *a, **k))
            with pytest.raises(KeyboardInterrupt):
                with kept_read_only(pg.ibis, journey_log(pg, journey).table, "_flows_"):
                    pass
        assert pg.con.info.transaction_status == TransactionStatus.IDLE

        # the case facts, kept the same way for the case metrics' five reports
        from centric.metrics.cases import case_metrics

        figures = [case_metrics(store, ("department",)).to_dict() for store in (duck, pg)]
        assert figures[0]["clocks"] and figures[0]["backlog_now"]
        assert_same(figures[1], figures[0])
        assert pg.con.info.transaction_status == TransactionStatus.IDLE

        factor = duck.execute("SELECT factor FROM mentions WHERE sentiment = 'negative' GROUP BY factor "
                              "ORDER BY count(*) DESC, factor LIMIT 1").fetchall()[0][0]
        import centric.engines as engines

        made = []
        with pytest.MonkeyPatch.context() as mp:  # on PostgreSQL the texts' keys go into temporary tables
            mp.setattr(engines, "values_table", lambda b, f, _real=engines.values_table: made.append(len(f))
                       or _real(b, f))
            trees = [asdict(whys(store, factor).root) for store in (duck, pg)]
        assert trees[0]["n"] > 20 and trees[0]["children"]
        assert_same(trees[1], trees[0])
        assert len(made) >= 3 and max(made) > 50
        assert pg.con.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.capability("web reads", engines=DUCK_PG)
def test_a_reader_without_the_temporary_privilege_computes_the_log_in_each_query(pg_web, pg_server, demo_store):  # noqa: F811
    """A reader's role that may not make temporary tables (REVOKE TEMPORARY): the journey's log and the case facts
    are computed in each query instead — the same answers, and the session left idle and read-only."""
    import uuid

    import psycopg
    from psycopg.pq import TransactionStatus

    from centric.engines.postgres import PgStore
    from centric.flows import journey_log, mine
    from centric.flows.log import materialized
    from centric.flows.summary import journey_names
    from centric.metrics.cases import case_metrics

    from .engines import assert_same

    role, db = f"reader_{uuid.uuid4().hex[:8]}", pg_web.rsplit("/", 1)[1]
    with psycopg.connect(pg_web, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'REVOKE TEMPORARY ON DATABASE "{db}" FROM PUBLIC')
        admin.execute(f'GRANT CONNECT ON DATABASE "{db}" TO "{role}"')
        admin.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    url = pg_web.replace(f"//{pg_server.user}@", f"//{role}@", 1)
    journey = journey_names(demo_store)[0]
    with PgStore.open(url, read_only=True) as pg:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the role really may not
            with pg.con.transaction():
                pg.con.execute("SET TRANSACTION READ WRITE")
                pg.con.execute("CREATE TEMPORARY TABLE _probe (a int)")
        mined = []
        for store in (demo_store, pg):
            with materialized(journey_log(store, journey)) as log:
                g, v = mine(log.table)
            mined.append((g.cases, v.variants[:5]))
        assert mined[0][0] > 100
        assert_same(mined[1], mined[0])
        assert_same(case_metrics(pg, ("department",)).to_dict(), case_metrics(demo_store, ("department",)).to_dict())
        from dataclasses import asdict

        from centric.whys.tree import whys

        factor = demo_store.execute("SELECT factor FROM mentions WHERE sentiment = 'negative' GROUP BY factor "
                                    "ORDER BY count(*) DESC, factor LIMIT 1").fetchall()[0][0]
        assert_same(asdict(whys(pg, factor).root), asdict(whys(demo_store, factor).root))
        assert pg.con.info.transaction_status == TransactionStatus.IDLE
