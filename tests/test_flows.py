"""User flows: hand-computed logs, an independent pure-Python implementation on a random log, the
`centric flows` JSON interface and the store's journeys."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import statistics
from collections import Counter, defaultdict

import ibis
import pytest
from typer.testing import CliRunner

from centric.cli import app
from centric.errors import CentricError
from centric.flows import (
    LEFT,
    NOWHERE,
    OTHER,
    batch,
    compare,
    compare_plan,
    graph,
    journey_log,
    loops,
    loops_plan,
    mine,
    read_log,
    sankey,
    sankey_plan,
    variants,
)
from centric.flows.analysis import _variants_by_list
from centric.flows.groups import reached

from .engines import ALL, DUCK_PG

runner = CliRunner()

# Unsorted, with a BOM and semicolons; A's first two events tie at 08:00 UTC (one written with +02:00)
# and keep the file's order; B's payment comes first in the file but happens last; one row has no activity.
HAND = (
    "case;activity;time\n"
    "B;pay;2024-01-01 10:05:00\n"
    "A;view;2024-01-01T10:00:00+02:00\n"
    "A;cart;2024-01-01 08:00:00\n"
    "B;view;2024-01-01 10:00:00\n"
    "A;pay;2024-01-01T09:30:00Z\n"
    "C;view;2024-01-01 11:00:00\n"
    "C;view;2024-01-01 11:10:00\n"
    "C;cart;2024-01-01 11:30:00\n"
    "B;;2024-01-01 12:00\n"
)


@pytest.fixture
def hand(write):
    return write("log.csv", "\ufeff" + HAND)


def test_hand_log_graph_variants(hand):
    log = read_log(hand, "case", "activity", "time")
    g = graph(log.table)
    assert (g.cases, g.events) == (3, 8)
    assert g.start == {"view": 3}  # B starts with view although its pay comes first in the file
    assert g.end == {"pay": 2, "cart": 1}
    # view→cart: A 0 s (tie kept in file order), C 1,200 s → median 600 s; durations in seconds, not counts
    assert [(e.source, e.target, e.count, e.median_seconds) for e in g.edges] == [
        ("view", "cart", 2, 600.0), ("cart", "pay", 1, 5400.0), ("view", "pay", 1, 300.0),
        ("view", "view", 1, 600.0)]
    v = variants(log.table)
    assert [(x.activities, x.cases) for x in v.variants] == [
        (("view", "cart", "pay"), 1), (("view", "pay"), 1), (("view", "view", "cart"), 1)]
    assert v.coverage(0.8) == 3 and v.coverage(0.5) == 2
    assert v.curve() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert log.rejected.count == 1 and log.rejected.first == [(10, "empty 'activity'")]


def test_hand_log_loops_and_sankey(hand):
    t = read_log(hand, "case", "activity", "time").table
    lp = loops(t)
    assert [(x.activity, x.self_loops, x.returns, x.cases) for x in lp.loops] == [("view", 1, 0, 1)]
    s = sankey(t, "view", steps=2, top=1)
    # A: view cart pay; B: view pay LEFT; C: view view cart. Top 1 a step, ties by name: step 1 of
    # cart 1, pay 1, view 1 keeps cart; step 2 of cart 1, pay 1 keeps cart; "left here" always shows
    assert s.cases == 3
    assert {(n.step, n.label, n.cases) for n in s.nodes} == {
        (0, "view", 3), (1, "cart", 1), (1, OTHER, 2), (2, "cart", 1), (2, LEFT, 1), (2, OTHER, 1)}
    assert {(lk.step, lk.source, lk.target, lk.cases) for lk in s.links} == {
        (0, "view", "cart", 1), (0, "view", OTHER, 2), (1, "cart", OTHER, 1), (1, OTHER, LEFT, 1),
        (1, OTHER, "cart", 1)}
    back = sankey(t, "pay", steps=3, top=5, backwards=True)
    assert {(lk.step, lk.source, lk.target, lk.cases) for lk in back.links} == {
        (0, "pay", "cart", 1), (0, "pay", "view", 1), (1, "cart", "view", 1), (1, "view", NOWHERE, 1),
        (2, "view", NOWHERE, 1)}


@pytest.mark.capability("flows file", engines=ALL)
def test_cli_json_interface(hand, store, engine):
    """An event-log file is read in memory: the same answers whichever store ``--db`` names."""
    r = runner.invoke(app, ["--db", engine.db_of(store), "flows", str(hand), "--case", "case", "--activity",
                            "activity", "--time", "time", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"cases", "events", "start", "end", "edges", "variants", "rejected"}
    assert out["cases"] == 3 and out["events"] == 8 and out["rejected"] == 1
    assert out["start"] == {"view": 3} and out["end"] == {"pay": 2, "cart": 1}
    assert out["edges"][0] == {"from": "view", "to": "cart", "count": 2, "median_seconds": 600.0}
    assert out["variants"][2] == {"activities": ["view", "view", "cart"], "cases": 1}
    assert "1 row rejected" in r.stderr and "row 10" in r.stderr


def test_cli_bad_input(write, hand):
    bad = write("bad.csv", "case,activity,time\n1,a,2024-01-01 10:00\n1,b,yesterday\n")
    r = runner.invoke(app, ["flows", str(bad), "--case", "case", "--activity", "activity", "--time", "time"])
    assert r.exit_code == 2
    assert f"error: {bad} row 3 column 'time': 'yesterday' is not a time" in " ".join(r.stderr.split())
    r = runner.invoke(app, ["flows", str(hand), "--case", "case", "--activity", "step", "--time", "time"])
    assert r.exit_code == 2 and "no column 'step'" in r.stderr
    r = runner.invoke(app, ["flows", "--json"])
    assert r.exit_code == 2 and "either an event-log file" in r.stderr


def test_cli_readable_summary_and_options(hand):
    r = runner.invoke(app, ["flows", str(hand), "--case", "case", "--activity", "activity", "--time", "time",
                            "--sankey-from", "view", "--loops", "--compare-reached", "pay"])
    assert r.exit_code == 0, r.output
    assert "3 cases, 8 events" in r.stdout and "view → cart → pay" in r.stdout
    assert "Paths after view" in r.stdout and "reached pay" in r.stdout


def _two_groups():
    # group a: 30 of 40 cases take x→y, 10 take x→z; group b: 20 of 50 take x→y, 30 take x→z
    rows = []
    for i in range(90):
        y = (i < 30) or (40 <= i < 60)
        rows += [(f"c{i}", "x", 0), (f"c{i}", "y" if y else "z", 1)]
    t = ibis.memtable({"case_id": [r[0] for r in rows], "activity": [r[1] for r in rows],
                       "ts": [dt.datetime(2024, 1, 1, 0, 0, r[2]) for r in rows], "seq": list(range(len(rows)))})
    a = ibis.memtable({"case_id": [f"c{i}" for i in range(40)]})
    b = ibis.memtable({"case_id": [f"c{i}" for i in range(40, 90)]})
    return t, a, b


def test_two_group_comparison_hand_computed():
    t, a, b = _two_groups()
    c = compare(t, a, b, "a", "b")
    # pooled p = 50/90, se = √(p(1−p)(1/40 + 1/50)) = 0.105409; z = (0.75 − 0.40)/se = 3.3204
    se = math.sqrt((50 / 90) * (40 / 90) * (1 / 40 + 1 / 50))
    z = 0.35 / se
    p = math.erfc(z / math.sqrt(2))
    assert z == pytest.approx(3.3204, abs=1e-4)
    by_edge = {(e.source, e.target): e for e in c.edges}
    xy, xz = by_edge[("x", "y")], by_edge[("x", "z")]
    assert (xy.cases_a, xy.cases_b, xz.cases_a, xz.cases_b) == (30, 20, 10, 30)
    assert xy.z == pytest.approx(z) and xz.z == pytest.approx(-z)
    assert xy.p_value == pytest.approx(p) and xy.difference == pytest.approx(35.0)
    assert xy.p_adjusted == pytest.approx(2 * p) and xz.p_adjusted == pytest.approx(2 * p)  # Holm, two edges
    assert xy.significant and c.cases_a == 40 and c.cases_b == 50


def test_a_batch_gives_each_plans_answer_from_one_query(monkeypatch):
    t, a, b = _two_groups()
    separate = [sankey(t, "x", steps=2), loops(t), compare(t, a, b, "a", "b")]
    queries = []
    real = ibis.expr.types.Table.to_pyarrow
    monkeypatch.setattr(ibis.expr.types.Table, "to_pyarrow", lambda self, *a, **k: queries.append(1) or real(self, *a, **k))
    s, lp, c = batch(sankey_plan(t, "x", steps=2), loops_plan(t), compare_plan(t, a, b, "a", "b"))
    assert len(queries) == 1 and [s, lp, c] == separate
    # by hand: every case goes x → y (50) or x → z (40), then ends; nothing repeats
    assert {(lk.step, lk.source, lk.target): lk.cases for lk in s.links} == {
        (0, "x", "y"): 50, (0, "x", "z"): 40, (1, "y", LEFT): 50, (1, "z", LEFT): 40}
    assert s.cases == 90 and lp.cases == 90 and lp.loops == []
    assert (c.cases_a, c.cases_b) == (40, 50)
    with pytest.raises(CentricError, match="compare: b has no cases"):
        batch(loops_plan(t), compare_plan(t, a, b.filter(b.case_id == "none"), "a", "b"))


# -- an independent implementation on a random log ---------------------------------------------------------

def _random_csv(seed: int = 7, cases: int = 500) -> tuple[str, list[tuple[str, str, dt.datetime, int]]]:
    rnd = random.Random(seed)
    acts = ["visit", "search", "product", "cart", "pay", "support"]
    events = []
    for c in range(cases):
        t = dt.datetime(2024, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rnd.randrange(10_000))
        for _ in range(rnd.randint(1, 14)):
            t += dt.timedelta(seconds=rnd.choice([0, 0, 1, 61, 3599, rnd.randrange(2, 90_000)]))
            events.append((f"case-{c}", rnd.choice(acts), t))
    rnd.shuffle(events)
    lines, parsed = ["case,activity,time"], []
    for row, (c, a, t) in enumerate(events, start=2):
        if rnd.random() < 0.3:  # some written in another offset, some naive
            text = t.astimezone(dt.timezone(dt.timedelta(hours=rnd.choice([-5, 1, 2])))).isoformat()
        else:
            text = t.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{c},{a},{text}")
        parsed.append((c, a, t, row))
    return "\n".join(lines) + "\n", parsed


def _reference(parsed):
    by_case = defaultdict(list)
    for c, a, t, row in parsed:
        by_case[c].append((t, row, a))
    traces = {c: [a for _, _, a in sorted(evs)] for c, evs in by_case.items()}
    times = {c: [t for t, _, _ in sorted(evs)] for c, evs in by_case.items()}
    secs = defaultdict(list)
    for c, tr in traces.items():
        for i in range(len(tr) - 1):
            secs[(tr[i], tr[i + 1])].append((times[c][i + 1] - times[c][i]).total_seconds())
    edges = {k: (len(v), statistics.median(v)) for k, v in secs.items()}
    start = Counter(tr[0] for tr in traces.values())
    end = Counter(tr[-1] for tr in traces.values())
    var = Counter(tuple(tr) for tr in traces.values())
    return traces, edges, start, end, var


def test_random_log_matches_pure_python(write):
    text, parsed = _random_csv()
    path = write("random.csv", text)
    t = read_log(path, "case", "activity", "time").table
    traces, edges, start, end, var = _reference(parsed)
    assert len(parsed) > 3000
    g = graph(t)
    assert g.cases == len(traces) and g.events == len(parsed)
    assert g.start == dict(start) and g.end == dict(end)
    got = {(e.source, e.target): (e.count, e.median_seconds) for e in g.edges}
    assert got.keys() == edges.keys()
    for k, (n, med) in edges.items():
        assert got[k][0] == n and got[k][1] == pytest.approx(med, abs=1e-6), k
    v = variants(t)
    expected = sorted(var.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(x.activities, x.cases) for x in v.variants] == expected
    assert sorted((x.activities, x.cases) for x in _variants_by_list(t)) == sorted(var.items())
    g2, v2 = mine(t)  # both from one ordering kept in a temporary table
    assert g2 == g and v2 == v
    # loops
    ref_loops: dict[str, list] = defaultdict(lambda: [0, 0, set()])
    for c, tr in traces.items():
        seen: set[str] = set()
        for i, a in enumerate(tr):
            if a in seen:
                ref_loops[a][0 if tr[i - 1] == a else 1] += 1
                ref_loops[a][2].add(c)
            seen.add(a)
    assert {x.activity: (x.self_loops, x.returns, x.cases) for x in loops(t).loops} == {
        a: (s, r, len(cs)) for a, (s, r, cs) in ref_loops.items()}


@pytest.mark.parametrize("backwards", [False, True])
def test_random_log_sankey_matches_pure_python(write, backwards):
    text, parsed = _random_csv(seed=11, cases=300)
    t = read_log(write("random.csv", text), "case", "activity", "time").table
    traces = _reference(parsed)[0]
    steps, top, anchor = 3, 2, "cart"
    paths = []
    for tr in traces.values():
        if anchor not in tr:
            continue
        seq = list(reversed(tr)) if backwards else tr
        p0 = (len(tr) - 1 - tr.index(anchor)) if backwards else tr.index(anchor)
        path = seq[p0:p0 + steps + 1]
        if len(path) < steps + 1:
            path.append(NOWHERE if backwards else LEFT)
        paths.append(path)
    end = NOWHERE if backwards else LEFT
    counts = Counter((i, a) for p in paths for i, a in enumerate(p))
    kept = {(0, anchor)} | {k for k in counts if k[1] == end}
    for i in range(1, steps + 1):
        ranked = sorted((k for k in counts if k[0] == i and k[1] != end), key=lambda k: (-counts[k], k[1]))
        kept |= set(ranked[:top])
    labelled = [[a if (i, a) in kept else OTHER for i, a in enumerate(p)] for p in paths]
    nodes = Counter((i, a) for p in labelled for i, a in enumerate(p))
    links = Counter((i, p[i], p[i + 1]) for p in labelled for i in range(len(p) - 1))
    s = sankey(t, anchor, steps=steps, top=top, backwards=backwards)
    assert {(n.step, n.label): n.cases for n in s.nodes} == dict(nodes)
    assert {(lk.step, lk.source, lk.target): lk.cases for lk in s.links} == dict(links)
    assert s.cases == len(paths)


# -- the store's journeys ------------------------------------------------------------------------------------


@pytest.mark.capability("flows", engines=DUCK_PG)
@pytest.mark.capability("metrics reads", engines=DUCK_PG)
def test_journey_log_on_demo(demo_on):
    from centric.metrics.journeys import journeys

    log = journey_log(demo_on, "purchase")
    g = graph(log.table)
    stats = {j.journey: j for j in journeys(demo_on)}
    assert g.cases == stats["purchase"].instances
    events = demo_on.table("events")
    assert g.events == events.filter((events.journey == "purchase") & events.customer_id.notnull()).count().execute()
    v = variants(log.table)
    assert v.cases == g.cases and sum(x.cases for x in v.variants) == g.cases
    # converted (reached payment) vs not: every converted case takes an edge into payment
    a, b = reached(log.table, "payment")
    c = compare(log.table, a, b, "paid", "did not pay")
    into_pay = [e for e in c.edges if e.target == "payment"]
    assert into_pay and all(e.cases_b == 0 for e in into_pay)
    assert c.cases_a + c.cases_b == g.cases


@pytest.mark.capability("flows", engines=DUCK_PG)  # on Spark: tests/test_spark_analyses.py
def test_cli_journey_json(demo_db):
    r = runner.invoke(app, ["--db", str(demo_db), "flows", "--journey", "purchase", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["cases"] == sum(out["start"].values()) == sum(out["end"].values())
    assert out["events"] == out["cases"] + sum(e["count"] for e in out["edges"])
    assert sum(v["cases"] for v in out["variants"]) == out["cases"]
    r = runner.invoke(app, ["--db", str(demo_db), "flows", "--journey", "nope", "--json"])
    assert r.exit_code == 2 and "no journey 'nope'" in r.stderr


def _long_cases(seed: int = 3) -> tuple[list[dict], Counter]:
    """Cases of 1 to 70 events over 21 activities (5 bits a code, 12 codes a chunk: up to 6 chunks), made
    from a few prefixes so that variants repeat, share prefixes and are prefixes of one another."""
    rnd = random.Random(seed)
    acts = [f"step {i:02d}" for i in range(20)] + ["Ärger"]
    bases = [[rnd.choice(acts) for _ in range(70)] for _ in range(4)]
    rows, traces = [], {}
    for c in range(400):
        trace = bases[rnd.randrange(4)][:rnd.choice([1, 11, 12, 13, 24, 25, 40, 70, rnd.randint(1, 70)])]
        if rnd.random() < 0.3:
            trace = [*trace[:-1], rnd.choice(acts)]
        traces[f"k{c}"] = trace
        t0 = dt.datetime(2024, 5, 1) + dt.timedelta(minutes=c)
        rows += [{"case_id": f"k{c}", "activity": a, "ts": t0 + dt.timedelta(seconds=i // 2), "seq": len(rows) + i}
                 for i, a in enumerate(trace)]  # two events a second: ties broken by seq
    rnd.shuffle(rows)
    return rows, Counter(tuple(tr) for tr in traces.values())


@pytest.mark.parametrize("how", ["numpy sort", "python sort", "signature collision"])
def test_long_cases_variants_match_pure_python(monkeypatch, how):
    import pandas as pd

    from centric.flows import analysis

    rows, var = _long_cases()
    if how == "python sort":
        monkeypatch.setattr(analysis, "DENSE_SORT", 0)
    if how == "signature collision":  # every case of a length in one group: the check sees it, lists are used
        real = analysis._signatures
        monkeypatch.setattr(analysis, "_signatures", lambda ch: (ibis.literal(0, "int64") + ch.k.max() * 0,
                                                                  real(ch)[1]))
    t = ibis.memtable(pd.DataFrame(rows))
    expected = sorted(var.items(), key=lambda kv: (-kv[1], kv[0]))
    assert len(expected) > 20 and max(len(k) for k in var) == 70
    assert (analysis._mined(t, with_graph=False) is None) == (how == "signature collision")
    v = variants(t)
    assert [(x.activities, x.cases) for x in v.variants] == expected
    g, v2 = mine(t)
    assert v2 == v and g == graph(t)
    assert g.events == len(rows) and g.cases == 400
