"""centric drivers and centric flows --journey on a PostgreSQL store: the small demo store (built by centric's own
ingest) copied with ``centric store copy`` gives the same answers as the DuckDB file it came from.

Counts must be equal; floats equal to 1e-9 relative (the engines may sum doubles in another order; in practice
the outputs are identical)."""

from __future__ import annotations

import datetime as dt

import pytest

from centric.engines.postgres import PgStore
from centric.flows import journey_log, variants
from centric.store import Store

from .engines import DUCK_PG, POSTGRESQL, assert_same, both_json, pair, run


@pytest.fixture
def both(demo_engines, request):
    """(the demo store's DuckDB file, the PostgreSQL database it was copied to with ``centric store copy``)."""
    return pair(demo_engines, request, POSTGRESQL)


@pytest.mark.parametrize("options", [
    ["--reps", "40"],
    ["--reps", "20", "--performance", "gap", "--importance", "lmg", "--period", "quarter"],
    ["--reps", "20", "--outcome", "rating", "--crosshair", "relative"],
    ["--reps", "20", "--brand", "CasaTech"],
])
@pytest.mark.capability("drivers", engines=DUCK_PG)
def test_drivers_are_equal_on_both_engines(both, options):
    a, b = both_json(both, "drivers", "--json", *options)
    assert_same(a, b)
    # a real analysis, not two empty answers: factors with quotes read from the texts, competitors, trends
    assert len(a["factors"]) >= 5 and a["texts"] > 50
    assert any(f["quotes"] for f in a["factors"])
    assert a["trend"] and (a["competitors"] or options[-1] == "CasaTech")
    if "--outcome" not in options and "--brand" not in options:
        assert a["outcome"] == "nps" and a["answers"] >= 30 and 0 < a["r2"] < 1


@pytest.mark.capability("flows", engines=DUCK_PG)
def test_flows_of_a_journey_are_equal_on_both_engines(both):
    duck, _ = both
    with Store.open(duck, read_only=True) as s:
        stages = s.con.execute("SELECT journey, min(stage) FROM events GROUP BY 1 ORDER BY 1").fetchall()
    assert len(stages) >= 2
    for journey, stage in stages:
        a, b = both_json(both, "flows", "--journey", journey, "--json", "--loops", "--sankey-from", stage,
                         "--compare-nps")
        assert_same(a, b)
        assert a["cases"] > 10 and a["edges"] and a["variants"] and "sankey" in a and "comparison" in a
        assert sum(v["cases"] for v in a["variants"]) == a["cases"]
        a, b = both_json(both, "flows", "--journey", journey, "--json", "--gap-days", "2", "--sankey-from", stage,
                         "--backwards", "--compare-reached", stage)
        assert_same(a, b)
        assert a["sankey"]["backwards"] and a["comparison"]["cases_a"] > 0


def test_events_at_the_same_time_keep_the_order_of_their_ids_whatever_the_collation(pg_url, tmp_path):
    """Two events of one customer at the same moment are ordered by their ids as DuckDB orders text (by bytes:
    "E2" before "e1"), even where PostgreSQL's collation would put "e1" first."""
    at = dt.datetime(2025, 3, 1, 10, 0)
    rows = [("E2", "c1", at, "buy", "B"), ("e1", "c1", at, "buy", "A"),
            ("e3", "c1", at + dt.timedelta(hours=1), "buy", "C"),
            ("e4", "c1", at + dt.timedelta(days=30), "buy", "A")]  # past the 14-day gap: a second instance
    cols = ["event_id", "customer_id", "occurred_at", "journey", "stage"]
    with Store.open(tmp_path / "s.duckdb") as duck:
        duck.con.executemany("INSERT INTO events (event_id, customer_id, occurred_at, journey, stage) "
                             "VALUES (?, ?, ?, ?, ?)", rows)
        want = [(v.activities, v.cases) for v in variants(journey_log(duck, "buy").table).variants]
    assert want == [(("A",), 1), (("B", "A", "C"), 1)]
    with PgStore.open(pg_url) as pg:
        with pg.transaction():
            pg.copy_rows("events", cols, rows)
        pg.con.execute('ALTER TABLE events ALTER COLUMN event_id TYPE text COLLATE "en-US-x-icu"')
        # the collation does reorder the ids …
        assert [r[0] for r in pg.con.execute("SELECT event_id FROM events ORDER BY event_id")] == [
            "e1", "E2", "e3", "e4"]
        # … but not the events of a journey
        got = [(v.activities, v.cases) for v in variants(journey_log(pg, "buy").table).variants]
    assert got == want


def test_an_unknown_journey_is_named_on_postgresql(both):
    _, pg = both
    r = run("flows", "--journey", "nope", "--json", db=pg)
    assert r.exit_code == 2 and "no journey 'nope' in events" in r.output


@pytest.mark.parametrize("gap_days", [14.0, 0.5])
def test_journey_instances_in_ibis_match_the_sql_on_both_engines(both, gap_days):
    """The Ibis instances (flows) against the SQL ones (journey statistics), row for row, on either engine."""
    from centric.journeys.instances import instances, instances_sql

    cols = "event_id, customer_id, journey, instance, stage, touchpoint, channel, occurred_at, pos, started_at"
    duck, pg = both

    def rows(found):
        return sorted(tuple(int(v) if k in ("instance", "pos") else v for k, v in zip(cols.split(", "), r, strict=True))
                      for r in found)

    with Store.open(duck, read_only=True) as s:
        sql = rows(s.con.execute(f"SELECT {cols} FROM ({instances_sql(gap_days)})").fetchall())
        ib = rows(s.con.execute(f"SELECT {cols} FROM ({s.ibis.compile(instances(s, gap_days))})").fetchall())
    with PgStore.open(pg, read_only=True) as s:
        pg_sql = rows(s.con.execute(f"SELECT {cols} FROM ({instances_sql(gap_days)}) AS i").fetchall())
        pg_ib = rows(s.con.execute(
            f"SELECT {cols} FROM ({s.ibis.compile(instances(s, gap_days))}) AS i").fetchall())
    assert len(sql) > 1000 and max(r[3] for r in sql) > 1  # customers with several instances
    assert ib == sql
    assert pg_sql == sql and pg_ib == sql


@pytest.mark.capability("customers summary", engines=DUCK_PG)
def test_customer_statistics_are_equal_on_both_engines(both):
    """centric customers summary (the purchase statistics grouped by the engine, and the model fitted to them)."""
    from centric.customers.rfm import rfm_summary, store_summary
    from centric.customers.scoring import orders_frame

    a, b = both_json(both, "customers", "summary", "--json", "--fit", "--unit", "W")
    assert_same(a, b)
    assert a["customers"] == sum(g["customers"] for g in a["groups"]) > 1000 and a["fit"]["params"]
    duck, pg = both
    with Store.open(duck, read_only=True) as s:
        want = rfm_summary(orders_frame(s))
    with PgStore.open(pg, read_only=True) as s:
        got = store_summary(s)
    import pandas as pd

    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
