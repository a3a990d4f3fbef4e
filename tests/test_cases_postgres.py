"""centric cases on a PostgreSQL store: the same sequence of commands on a DuckDB store and on a PostgreSQL
store gives the same cases, events, clocks, signals and tokens (order-independent, with fixed clocks) and
the same ``--json`` outputs; a failure half-way leaves PostgreSQL as it was."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from centric import schema
from centric.cases import store_io, tokens
from centric.cli import app
from centric.engines.postgres import PgStore
from centric.faults import InjectedFault
from centric.ingest import load
from centric.store import Store

from .engines import DUCK_PG, all_rows
from .test_writes_postgres import FEEDBACK, RESPONSES

runner = CliRunner()
NOW = dt.datetime(2025, 1, 6, 9, 30, 0, 250000)  # when ingests and automatic syncs run
TOKENS = [0]  # the links made so far: each engine makes the same ones in turn
LOOP = ("cases", "case_events", "case_clocks", "case_signals", "case_tokens", "case_config", "responses")

ROUTING = """default_department = "customer_service"
triage_department = "triage"
proactive_department = "customer_service"

[priority]
base = "normal"
public_channels = ["social", "review"]
vip_share = 0.1
urgent_flags = ["extortion", "go_public"]

[factors]
delivery = "delivery"
staff = "stores"
returns = "returns"

[departments.delivery]
agents = ["a.nowak", "p.mazur"]
lead = "m.lis"
manager = "k.zielinska"

[departments.customer_service]
agents = ["j.kos"]
lead = "e.wrona"
"""

MORE = """email,date,nps,comment
a@x.pl,2025-01-05,1,Still no parcel. The courier lost it again.
f@x.pl,2025-01-05,0,The shop assistant shouted at me.
"""


@pytest.fixture(autouse=True)
def fixed_clocks(monkeypatch):
    """Every time both engines write without being told one (ingest runs, automatic syncs, the links'
    tokens) is the same on both."""
    monkeypatch.setattr(load, "_now", lambda: NOW)
    monkeypatch.setattr(store_io, "utcnow", lambda: NOW)
    TOKENS[0] = 0

    def token():
        TOKENS[0] += 1
        t = f"token-{TOKENS[0]}"
        return t, tokens.hash_token(t)

    monkeypatch.setattr(tokens, "make_token", token)


def loop_tables(store) -> dict[str, list[tuple]]:
    """The loop's tables (config without its load time, which is the wall clock's), order-independent."""
    out = {t: all_rows(store, t) for t in LOOP}
    i = schema.TABLES["case_config"].column_names.index("loaded_at")
    out["case_config"] = sorted((r[:i] + r[i + 1:] for r in out["case_config"]), key=repr)
    return out


def cli(db: str, *args: str) -> str:
    r = runner.invoke(app, ["--db", db, *args], catch_exceptions=False)
    assert r.exit_code == 0, (db, args, r.output)
    return r.output


def both(duck: str, pg: str, *args: str, as_json: bool = False):
    """Run a command on both stores; their outputs (parsed when JSON) must be equal."""
    made = TOKENS[0]
    a = cli(duck, *args)
    TOKENS[0] = made
    b = cli(pg, *args)
    if as_json:
        a, b = json.loads(a), json.loads(b)
    assert a == b, args
    return b


@pytest.mark.capability("cases", engines=DUCK_PG)
def test_the_loop_gives_the_same_cases_on_both_engines(tmp_path, pg_url, write):
    duck = str(tmp_path / "d.duckdb")
    routing = write("routing.toml", ROUTING)
    for db in (duck, pg_url):
        cli(db, "cases", "config", "--routing", str(routing))
        cli(db, "ingest", "responses", str(write("r.csv", RESPONSES)))
        cli(db, "ingest", "feedback", str(write("f.jsonl", FEEDBACK)), "--set", "source=review")
    # analyze, then the automatic sync (it printed "cases: not synced" on PostgreSQL before)
    out = both(duck, pg_url, "analyze", "--fast")
    assert "cases: " in out and "opened" in out and "not synced" not in out
    first = both(duck, pg_url, "cases", "sync", "--now", "2025-01-06T10:00", "--json", as_json=True)
    assert first["signals"] == 0  # all placed by the automatic sync
    # new answers: one joins the open delivery case of its customer, one opens a case; placed by the ingest
    out = both(duck, pg_url, "ingest", "responses", str(write("m.csv", MORE)))
    assert "cases: " in out and "wait for centric analyze" in out
    out = both(duck, pg_url, "analyze", "--fast")
    listed = both(duck, pg_url, "cases", "list", "--json", as_json=True)
    assert len(listed) >= 3 and {c["department"] for c in listed} >= {"delivery", "stores"}
    delivery = next(c["id"] for c in listed if c["department"] == "delivery")
    other = next(c["id"] for c in listed if c["id"] != delivery)
    # the clock runs: breaches and escalations to the lead, then the manager
    tick = both(duck, pg_url, "cases", "tick", "--now", "2025-01-09T16:00", "--json", as_json=True)
    assert tick["breaches"] > 0 and tick["escalations"]
    both(duck, pg_url, "cases", "tick", "--now", "2025-01-09T16:00", "--json", as_json=True)  # nothing new
    # the workflow of one case, then of another
    steps = [
        ("assign", delivery, "p.mazur", "--actor", "m.lis", "--now", "2025-01-09T16:05"),
        ("start", delivery, "--actor", "p.mazur", "--now", "2025-01-09T16:10"),
        ("note", delivery, "Courier says the parcel is in the depot.", "--actor", "p.mazur", "--now",
         "2025-01-09T16:20"),
        ("comment", delivery, "We found it, it leaves today.", "--actor", "p.mazur", "--now", "2025-01-09T16:30"),
        ("wait", delivery, "--note", "address check", "--actor", "p.mazur", "--now", "2025-01-09T16:40"),
        ("message", delivery, "The address is right.", "--now", "2025-01-10T08:00"),
        ("resolve", delivery, "--note", "delivered", "--actor", "p.mazur", "--now", "2025-01-10T12:00"),
        ("answer", "token-1", "--not-solved", "--csat", "2", "--comment", "Broken inside.", "--now",
         "2025-01-11T09:00"),
        ("resolve", delivery, "--actor", "p.mazur", "--now", "2025-01-12T12:00"),
        ("answer", "token-2", "--solved", "--csat", "4", "--ces", "6", "--now", "2025-01-12T18:00"),
        ("close", delivery, "--root-cause", "delivery", "--action", "courier replaced", "--sub-cause", "lost parcel",
         "--actor", "p.mazur", "--now", "2025-01-13T09:00"),
        ("reopen", delivery, "--reason", "parcel damaged after all", "--actor", "m.lis", "--now", "2025-01-14T09:00"),
        ("transfer", other, "delivery", "--owner", "a.nowak", "--note", "a delivery matter", "--actor", "j.kos",
         "--now", "2025-01-09T17:00"),
        ("resolve", other, "--actor", "a.nowak", "--now", "2025-01-09T18:00"),
        ("close", other, "--root-cause", "other", "--action", "apologised", "--actor", "a.nowak", "--now",
         "2025-01-09T18:30"),
        # past the grace period: a new case, linked to the closed one
        ("message", other, "It happened again.", "--now", "2025-02-20T10:00"),
    ]
    for step in steps:
        out = both(duck, pg_url, "cases", *step)
    assert "new case" in out and "linked to it" in out
    both(duck, pg_url, "cases", "tick", "--now", "2025-02-21T10:00", "--json", as_json=True)
    shown = both(duck, pg_url, "cases", "show", delivery, "--json", as_json=True)
    assert [e["kind"] for e in shown["events"]].count("reopened") == 2 and shown["status"] == "in_progress"
    for args in (("list", "--json"), ("list", "--status", "closed", "--json"), ("list", "--overdue", "--json"),
                 ("show", other, "--json")):
        both(duck, pg_url, "cases", *args, as_json=True)
    both(duck, pg_url, "cases", "config", "--show")
    both(duck, pg_url, "cases", "list")  # the table, as printed

    with Store.open(duck, read_only=True) as d, PgStore.open(pg_url, read_only=True) as p:
        a, b = loop_tables(d), loop_tables(p)
    assert a == b
    assert len(a["cases"]) == len(listed) + 1 and len(a["case_events"]) > 30 and len(a["case_tokens"]) == 3
    assert {r[3] for r in a["case_events"]} >= {"sla_breached", "escalated", "transferred", "confirmed",
                                                "not_solved", "closed", "reopened"}


@pytest.mark.parametrize("fault", ["scratch.publish_half_way", "scratch.before_commit"])
def test_a_failure_half_way_leaves_postgresql_as_it_was(pg_url, write, monkeypatch, fault):
    cli(pg_url, "ingest", "responses", str(write("r.csv", RESPONSES)), "--no-cases")
    cli(pg_url, "cases", "sync", "--unanalysed", "--now", "2025-01-06T10:00")
    with PgStore.open(pg_url, read_only=True) as pg:
        before = loop_tables(pg)
    assert before["cases"]
    case = before["cases"][0][0]
    monkeypatch.setenv("CENTRIC_FAULT", f"{fault}:raise")
    for args in (("tick", "--now", "2025-01-20T10:00"), ("note", case, "checked", "--now", "2025-01-07T09:00"),
                 ("assign", case, "someone", "--now", "2025-01-07T10:00")):
        with pytest.raises(InjectedFault):
            runner.invoke(app, ["--db", pg_url, "cases", *args], catch_exceptions=False)
        with PgStore.open(pg_url, read_only=True) as pg:
            assert loop_tables(pg) == before, args
    monkeypatch.delenv("CENTRIC_FAULT")
    cli(pg_url, "cases", "assign", case, "someone", "--now", "2025-01-07T10:00")
    with PgStore.open(pg_url, read_only=True) as pg:
        assert pg.con.execute("SELECT owner FROM cases WHERE case_id = %s", [case]).fetchone() == ("someone",)


def test_an_operation_on_one_case_reads_only_that_case(pg_url, write, monkeypatch):
    from centric.engines import scratch as scratch_module

    cli(pg_url, "ingest", "responses", str(write("r.csv", RESPONSES)), "--no-cases")
    cli(pg_url, "cases", "sync", "--unanalysed", "--now", "2025-01-06T10:00")
    with PgStore.open(pg_url, read_only=True) as pg:
        ids = [r[0] for r in pg.con.execute("SELECT case_id FROM cases ORDER BY case_id").fetchall()]
        events = pg.count("case_events")
    assert len(ids) >= 2
    fetched: dict[str, int] = {}
    real = scratch_module.Scratch.fetch

    def counting(self, table):
        fetched[table] = real(self, table)
        return fetched[table]

    monkeypatch.setattr(scratch_module.Scratch, "fetch", counting)
    cli(pg_url, "cases", "note", ids[0], "checked", "--now", "2025-01-07T10:00")
    # the case and the one with the highest id (a new linked case takes the next one)
    assert fetched["cases"] == 2 and "responses" not in fetched and "case_signals" not in fetched
    with PgStore.open(pg_url, read_only=True) as pg:
        mine = pg.con.execute("SELECT count(*) FROM case_events WHERE case_id = %s", [ids[0]]).fetchone()[0]
        assert pg.count("case_events") == events + 1
    assert fetched["case_events"] == mine - 1 < events


@pytest.mark.capability("cases", engines=DUCK_PG)
def test_sync_and_tick_on_the_demo_store_give_the_same_cases(web_db, pg_url):
    """The small demo company (its cases, scores and texts) copied to PostgreSQL: a later sync (with its
    proactive contacts of valuable customers gone quiet) and tick change both stores alike."""
    cli(web_db, "store", "copy", "--to", pg_url)
    with PgStore.open(pg_url, read_only=True) as pg:
        assert pg.count("cases") > 50 and pg.count("customer_scores") > 0
    out = both(web_db, pg_url, "cases", "sync", "--unanalysed", "--now", "2026-12-01T09:00", "--json", as_json=True)
    assert out["proactive"] is not None
    both(web_db, pg_url, "cases", "tick", "--now", "2026-12-02T09:00", "--json", as_json=True)
    with Store.open(web_db, read_only=True) as d, PgStore.open(pg_url, read_only=True) as p:
        a, b = loop_tables(d), loop_tables(p)
    assert a == b
    # the proactive contacts ran on the latest scoring, and each case they opened is in both stores
    p = out["proactive"]
    assert p["opened"] + p["deferred"] + sum(p["skipped"].values()) > 0
    assert {c["case_id"] for c in p["cases"]} <= {r[0] for r in a["cases"]}


@pytest.mark.capability("cases", engines=DUCK_PG)
def test_the_inbox_reads_give_the_same_answers_on_both_engines(tmp_path, pg_url, write):
    """What the web app's inbox asks of cases.views (search, views, sorts, pages, counts, the customer's own
    words) answers alike on both engines: the SQL Ibis compiles for PostgreSQL, with the request's values
    bound as psycopg parameters (a literal % in it doubled)."""
    from centric.cases import views

    duck = str(tmp_path / "d.duckdb")
    for db in (duck, pg_url):
        cli(db, "cases", "config", "--routing", str(write("routing.toml", ROUTING)))
        cli(db, "ingest", "responses", str(write("r.csv", RESPONSES)), "--no-cases")
        cli(db, "ingest", "feedback", str(write("f.jsonl", FEEDBACK)), "--set", "source=review", "--no-cases")
        cli(db, "analyze", "--fast")
        cli(db, "ingest", "responses", str(write("m.csv", MORE)), "--no-cases")
        cli(db, "cases", "sync", "--unanalysed", "--now", "2025-01-06T10:00")
        cli(db, "cases", "tick", "--now", "2025-01-07T12:00")
    at = dt.datetime(2025, 1, 7, 12, 0)
    asks = [{}, {"q": "cx-000000"}, {"q": "c0000001", "sort": "time_left"}, {"q": "100%"},
            {"sort": "opened", "limit": 2, "offset": 1}, {"view": "overdue"}, {"view": "triage"},
            {"view": "mine", "agent": "a.nowak"}, {"view": "at_risk"}, {"departments": ["delivery", "stores"]},
            {"status": ["new", "assigned"], "priority": "high"}]
    with Store.open(duck, read_only=True) as d, PgStore.open(pg_url, read_only=True) as p:
        for ask in asks:
            a, b = views.list_cases(d, now=at, **ask), views.list_cases(p, now=at, **ask)
            assert a == b, ask
            counted = {k: v for k, v in ask.items() if k not in ("sort", "limit", "offset")}
            n = len(views.list_cases(d, now=at, **counted))
            assert views.count_cases(d, now=at, **counted) == views.count_cases(p, now=at, **counted) == n, ask
        assert views.view_counts(d, now=at) == views.view_counts(p, now=at)
        everything = views.list_cases(p, now=at)
        assert len(everything) >= 4 and views.list_cases(p, q="100%") == []
        for case in everything:
            assert views.case_texts(d, case["signals"]) == views.case_texts(p, case["signals"])
        assert any(views.case_texts(p, c["signals"]) for c in everything)


def test_two_notes_on_one_case_at_once_both_land(pg_url, write, monkeypatch):
    """Two writers (each its own connection, as two worker processes) on the same case take turns under the
    write lock: the second reads the case as the first left it, so their events get different ids."""
    import threading
    import time

    from centric.cases import workflow
    from centric.engines import scratch as scratch_module

    cli(pg_url, "ingest", "responses", str(write("r.csv", RESPONSES)), "--no-cases")
    cli(pg_url, "cases", "sync", "--unanalysed", "--now", "2025-01-06T10:00")
    with PgStore.open(pg_url, read_only=True) as pg:
        case = pg.con.execute("SELECT min(case_id) FROM cases").fetchone()[0]
        before = pg.con.execute("SELECT count(*) FROM case_events WHERE case_id = %s", [case]).fetchone()[0]
    real = scratch_module.Scratch.publish

    def slow_publish(self):  # widen the window between reading and writing
        time.sleep(0.5)
        return real(self)

    monkeypatch.setattr(scratch_module.Scratch, "publish", slow_publish)
    errors = []

    def one(text):
        try:
            with PgStore.open(pg_url) as pg:
                workflow.note(pg, case, text, "someone", now=dt.datetime(2025, 1, 7, 10, 0))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PgStore.open(pg_url, read_only=True) as pg:
        notes = pg.con.execute("SELECT case_event_id, note FROM case_events WHERE case_id = %s AND kind = 'note' "
                               "ORDER BY case_event_id", [case]).fetchall()
    assert sorted(n for _, n in notes) == ["first", "second"]
    assert [i for i, _ in notes] == [f"{case}:{before + 1:05d}", f"{case}:{before + 2:05d}"]
