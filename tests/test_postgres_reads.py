"""The remaining read commands on a PostgreSQL store: the small demo store (built by centric's own ingest) copied
with ``centric store copy`` gives the same answers as the DuckDB file it came from.

Counts and texts must be equal; floats equal to 1e-9 relative (the engines interpolate quantiles with other
roundings in the last bits)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from centric.engines.postgres import PgStore
from centric.store import Store

from .engines import DUCK_PG, POSTGRESQL, assert_same, both_json, pair, run


@pytest.fixture
def both(demo_engines, request):
    """(the demo store's DuckDB file, the PostgreSQL database it was copied to with ``centric store copy``)."""
    return pair(demo_engines, request, POSTGRESQL)


@pytest.mark.capability("metrics reads", engines=DUCK_PG)
@pytest.mark.parametrize("options", [
    [],
    ["--by", "month,channel"],
    ["--by", "department", "--from", "2026-01", "--to", "2026-07"],
])
def test_complaints_are_equal_on_both_engines(both, options):
    a, b = both_json(both, "metrics", "complaints", "--json", *options)
    assert_same(a, b)
    # a real answer: cases, groups, a backlog, clocks and root causes
    assert a["total"]["n"] > 50 and len(a["groups"]) >= 2 and a["backlog"]
    assert a["root_causes"]["causes"] and a["repeat"]["customers"] > 0
    assert sum(g["n"] for g in a["groups"]) == a["total"]["n"]


@pytest.mark.capability("metrics reads", engines=DUCK_PG)
@pytest.mark.parametrize("options", [[], ["--from", "2026-01", "--to", "2026-07"]])
def test_journeys_are_equal_on_both_engines(both, options):
    a, b = both_json(both, "metrics", "journeys", "--json", *options)
    assert a == b  # every figure identical (the instances are cut by the same Ibis query on both engines)
    assert len(a) >= 2 and all(j["instances"] > 10 and j["stages"] for j in a)


@pytest.mark.capability("metrics reads", engines=DUCK_PG)
@pytest.mark.parametrize("options", [[], ["--by", "quarter,segment"], ["--by", "week", "--from", "2026-06"]])
def test_churn_is_equal_on_both_engines(both, options):
    a, b = both_json(both, "metrics", "churn", "--json", *options)
    assert a == b
    assert len(a) >= 3 and all(p["method"] == "p_alive" for p in a) and any(p["churned"] for p in a)


@pytest.mark.capability("metrics reads", engines=DUCK_PG)
@pytest.mark.parametrize(("period", "by"), [("month", ()), ("week", ()), ("quarter", ("segment",)),
                                            ("year", ("country", "segment"))])
def test_churn_by_the_rule_is_equal_on_both_engines(both, period, by):
    from centric.metrics.churn import churn

    duck, pg = both
    with Store.open(duck, read_only=True) as s:
        a = [p.to_dict() for p in churn(s, period, by, method="rule")]
    with PgStore.open(pg, read_only=True) as s:
        b = [p.to_dict() for p in churn(s, period, by, method="rule")]
    assert a == b
    assert len(a) >= 3 and any(p["churned"] for p in a) and all(p["method"] == "rule" for p in a)


def test_churn_falls_back_to_the_rule_on_postgresql(pg_url):
    """One repeat buyer among three customers: the purchase model cannot be fitted, the rule answers."""
    rows = [("o1", "a", dt.datetime(2025, 2, 9, 12), 10.0), ("o2", "b", dt.datetime(2025, 3, 1, 12), 10.0),
            ("o3", "b", dt.datetime(2025, 3, 11, 12), 10.0), ("o4", "c", dt.datetime(2025, 3, 26, 12), 10.0)]
    with PgStore.open(pg_url) as pg:
        with pg.transaction():
            pg.copy_rows("orders", ["order_id", "customer_id", "ordered_at", "amount"], rows)
    r = run("metrics", "churn", "--json", db=pg_url)
    assert r.exit_code == 0, r.output
    last = json.loads(r.output)[-1]
    # March is measured up to the day after the last order, 2025-03-27. The one gap is b's, 10 days, so the
    # 80th percentile of the gaps is 10: a (one day, 46 days before) churned; c (one day, 1 day before) not;
    # b (16 days since, not more than 3 × its median gap of 10) not
    assert (last["period"], last["customers"], last["churned"], last["method"]) == ("2025-03", 3, 1, "rule")


def test_every_metric_is_ported():
    from centric.engines import PORTED
    from centric.metrics.named import NAMES

    assert all(f"metrics {m}" in PORTED for m in NAMES)


def both_output(both, *args):
    duck, pg = both
    ra, rb = run(*args, db=duck), run(*args, db=pg)
    assert ra.exit_code == 0, ra.output
    assert rb.exit_code == 0, rb.output
    return ra.output, rb.output


@pytest.mark.capability("customers reads", engines=DUCK_PG)
@pytest.mark.parametrize("command", [
    ["customers", "merges", "--limit", "7"],
    ["customers", "alerts"],
    ["customers", "alerts", "--convert-to", "PLN", "--rate", "EUR=4.3", "--limit", "5"],
    ["customers", "reasons"],
    ["customers", "phases", "--period", "month"],
])
def test_customer_commands_print_the_same_on_both_engines(both, command):
    a, b = both_output(both, *command)
    assert a == b
    assert len(a.splitlines()) > 8  # a table with rows, not an empty answer


@pytest.mark.capability("customers reads", engines=DUCK_PG)
def test_customer_functions_are_equal_on_both_engines(both):
    from centric.customers import scoring
    from centric.customers.loyalty import advocates, churn_reasons, loyalty_phases

    def rows(df):
        return json.loads(df.to_json(orient="records", date_format="iso"))  # NaN as null

    def answers(s):
        alerts = scoring.alerts(s)
        counts, flows = loyalty_phases(s, period="quarter")
        ends = list(counts["period_end"])
        return json.loads(json.dumps([rows(alerts), alerts.attrs, rows(churn_reasons(s)), rows(counts), rows(flows),
                                      [sorted(advocates(s, pd.Timestamp(e))) for e in ends], rows(scoring.latest(s))],
                                     default=str))

    duck, pg = both
    with Store.open(duck, read_only=True) as s:
        a = answers(s)
    with PgStore.open(pg, read_only=True) as s:
        b = answers(s)
    assert_same(a, b)
    alerts, _, reasons, counts, flows, adv, latest = a
    assert len(alerts) > 20 and reasons and len(flows) > 3 and any(adv) and len(latest) > 1000
    assert sum(counts[-1][p] for p in ("ordinary", "loyal", "advocate")) == len(latest)


@pytest.mark.capability("customers reads", engines=DUCK_PG)
def test_validate_is_equal_on_both_engines(both):
    a, b = both_json(both, "customers", "validate", "--calibration-end", "2026-03-31", "--json")
    assert a == b and a["rows"] and a["log_likelihood"] < 0


@pytest.mark.capability("journeys map", engines=DUCK_PG)
@pytest.mark.parametrize("options", [[], ["--journey", "service", "--from", "2026-01", "--to", "2026-09", "--gap-days", "3"]])
def test_the_journey_map_is_equal_on_both_engines(both, options):
    a, b = both_json(both, "journeys", "map", "--json", *options)
    assert a == b  # identical: instances, runs, funnel, touchpoints, moments of truth and quotes
    assert a and all(m["stages"] and m["touchpoints"] and m["instances"] > 10 for m in a)
    assert any(t["quotes"] for m in a for t in m["touchpoints"])
    text_a, text_b = both_output(both, "journeys", "map", *options)
    assert text_a == text_b


def test_an_unknown_journey_of_the_map_is_named_on_postgresql(both):
    _, pg = both
    r = run("journeys", "map", "--journey", "nope", db=pg)
    assert r.exit_code == 2 and "no journey 'nope' in the events; the journeys are: purchase, service" in r.output


def report_parts(path):
    """(sections by id, chart specifications by element id) of a written report."""
    import re

    html = path.read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', html, re.S))
    specs = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S).group(1)
    return sections, json.loads(specs)


@pytest.mark.capability("report", engines=DUCK_PG)
def test_the_report_shows_the_same_figures_on_both_engines(both, tmp_path):
    """Every section and chart of the report written from PostgreSQL is the DuckDB report's, character for
    character: personas, mystery shopping and eNPS included."""
    duck, pg = both
    for db, name in ((duck, "duck.html"), (pg, "pg.html")):
        r = run("report", "--out", str(tmp_path / name), db=db)
        assert r.exit_code == 0, r.output
    a, specs_a = report_parts(tmp_path / "duck.html")
    b, specs_b = report_parts(tmp_path / "pg.html")
    assert list(a) == list(b)  # the same sections in the same order
    assert {"headline", "trends", "complaints", "journeys", "churn", "customers", "fix-first", "whys", "flows",
            "ideas", "council", "quality", "personas", "mystery", "enps"} <= set(a)
    for s in a:
        assert b[s] == a[s], s
    for s in ("personas", "mystery", "enps"):  # real sections, with their charts
        assert len(a[s]) > 1000 and "not available" not in b[s]
    assert specs_a == specs_b
    assert len(specs_b) > 20
    assert {k for k in specs_b if k.startswith(("chart-personas", "chart-mystery", "chart-enps"))}


@pytest.mark.capability("enps", engines=DUCK_PG)
@pytest.mark.capability("mystery", engines=DUCK_PG)
@pytest.mark.capability("personas", engines=DUCK_PG)
@pytest.mark.parametrize("command", [
    ["personas", "--json"],
    ["personas", "--k", "3", "--seed", "2", "--json"],
    ["empathy", "1", "--json"],
    ["empathy", "--segment", "vip", "--k", "3", "--json"],
    ["mystery", "scores", "--json"],
    ["mystery", "scores", "--by", "region", "--json"],
    ["mystery", "scores", "--by", "brand", "--json"],
    ["mystery", "calibration", "--json"],
    ["mystery", "calibration", "--window", "30", "--max-diff", "5", "--json"],
    ["mystery", "template", "list", "--json"],
    ["enps", "--json"],
    ["enps", "--by", "store", "--json"],
    ["enps", "--by", "region", "--by", "period", "--json"],
    ["enps", "pulse", "--json"],
    ["enps", "pulse", "--by", "store", "--json"],
    ["enps", "compare", "--json"],
    ["enps", "compare", "--kind", "department", "--json"],
    ["enps", "themes", "--json"],
    ["enps", "themes", "--by", "department", "--lang", "pl", "--json"],
])
def test_personas_mystery_and_enps_commands_are_equal_on_both_engines(both, command):
    a, b = both_json(both, *command)
    # identical but the departments' case medians (enps compare --kind department), which come from the
    # complaints' medians: equal to 1e-9, the engines interpolate with other roundings in the last bits
    assert_same(a, b)
    assert a and json.dumps(a).count(":") > 5  # a real answer, not an empty one


@pytest.mark.capability("enps", engines=DUCK_PG)
@pytest.mark.capability("mystery", engines=DUCK_PG)
@pytest.mark.capability("personas", engines=DUCK_PG)
@pytest.mark.parametrize("command", [["personas"], ["mystery", "scores", "--by", "region"], ["enps", "--by", "store"],
                                     ["enps", "compare"]])
def test_personas_mystery_and_enps_commands_print_the_same_on_both_engines(both, command):
    a, b = both_output(both, *command)
    assert a == b and len(a.splitlines()) > 5


@pytest.mark.capability("customers timeline", engines=DUCK_PG)
def test_a_customers_timeline_is_equal_on_both_engines(both):
    """The history of customers with much in it, found by id, by an id merged into them, by e-mail and by a phone
    written otherwise: the same profile, scores and items, in the same order, on both engines."""
    import duckdb

    duck, _ = both
    with duckdb.connect(duck, read_only=True) as con:
        merged, into = con.execute("SELECT merged_customer_id, into_customer_id FROM customer_merges ORDER BY 1 "
                                   "LIMIT 1").fetchone()
        busy = con.execute("SELECT customer_id FROM cases WHERE customer_id IS NOT NULL GROUP BY 1 "
                           "ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
        email = con.execute("SELECT value FROM identities WHERE customer_id = ? AND kind = 'email'",
                            [busy]).fetchone()[0]
        phone = con.execute("SELECT value FROM identities WHERE kind = 'phone' ORDER BY 1 LIMIT 1").fetchone()[0]
    spaced = " ".join([phone[:3], phone[3:6], phone[6:]])
    for command in (["customers", "timeline", busy, "--json"], ["customers", "timeline", merged, "--json"],
                    ["customers", "timeline", email.upper(), "--json", "--limit", "3"],
                    ["customers", "timeline", spaced, "--json", "--kind", "order,case_event"]):
        a, b = both_json(both, *command)
        assert a == b, command
        assert a["items"] and a["customer"]["customer_id"] in (busy, into) or command[2] == spaced
    a, b = both_json(both, "customers", "timeline", merged, "--json")
    assert a["customer"]["customer_id"] == into and merged in a["customer"]["merged_ids"]
    text_a, text_b = both_output(both, "customers", "timeline", busy)
    assert text_a == text_b and len(text_a.splitlines()) > 10


def test_a_ported_sub_command_after_its_groups_options_runs(both):
    _, pg = both
    r = run("enps", "--survey", "x", "invite", "x", "--dry-run", db=pg)  # the group's options before the sub-command
    assert r.exit_code == 2 and "not available" not in r.output and "'x'" in r.output, r.output


@pytest.mark.parametrize(("command", "name"), [
    (["demo"], "demo"),
    (["compact"], "compact"),
])
def test_the_writing_commands_of_ported_groups_are_refused_by_name(both, command, name):
    _, pg = both
    r = run(*command, db=pg)
    assert r.exit_code == 2 and f"centric {name} is not available on PostgreSQL yet" in r.output
