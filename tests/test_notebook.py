"""Friendly in a notebook: results as DataFrames and escaped HTML tables, ``by`` as a string or a list,
and a read-only store beside the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import centric
from centric import Store
from centric.cli import app
from centric.errors import StoreError, StoreLockedError
from centric.ingest import ingest
from centric.metrics import churn, complaints, journeys, nps

ANSWERS = ("date,touchpoint,nps\n"
           "2025-01-05,shop,10\n2025-01-06,shop,9\n2025-01-07,shop,3\n2025-02-08,shop,8\n"
           "2025-01-09,app,10\n2025-02-10,app,2\n"
           "2025-02-11,<script>alert(1)</script>,9\n")


@pytest.fixture
def answers(store, write):
    ingest("responses", write("r.csv", ANSWERS), store=store)
    return store


def test_by_takes_a_string_or_a_list(answers):
    one, listed, comma = (nps(answers, by="touchpoint"), nps(answers, by=["touchpoint"]),
                          nps(answers, by="touchpoint, month"))
    got = {g["touchpoint"]: (s.value, s.n) for g, s in one.rows}
    # shop: 2 promoters, 1 detractor of 4 → +25; app: 1 and 1 of 2 → 0; the third: 1 promoter of 1 → +100
    assert got == {"shop": (25.0, 4), "app": (0.0, 2), "<script>alert(1)</script>": (100.0, 1)}
    assert one.to_dict() == listed.to_dict()
    assert comma.by == ("touchpoint", "month") and len(comma.rows) == 5
    assert nps(answers, start="2025-02").rows[0][1].n == 3  # dates as text too


def test_breakdown_to_frame_is_tidy(answers):
    df = nps(answers, by="touchpoint").to_frame()
    assert list(df.columns[:7]) == ["touchpoint", "metric", "value", "low", "high", "n", "method"]
    shop = df.set_index("touchpoint").loc["shop"]
    assert (shop.value, shop.n, shop.promoters, shop.detractors) == (25.0, 4, 2, 1)
    assert shop.low < 25 < shop.high
    monthly = nps(answers, by=["touchpoint", "month"]).to_frame()
    # a change is tested from January to February within shop (+33.3 → 0) and app (+100 → −100)
    changes = monthly.dropna(subset=["change"]).set_index("touchpoint")
    assert round(changes.loc["shop", "change"], 1) == -33.3 and changes.loc["app", "change"] == -200.0
    assert nps(answers).rows[0][1].to_frame().n.iloc[0] == 7


def test_html_is_escaped_and_shows_n_and_interval(answers):
    page = nps(answers, by="touchpoint")._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "95% interval" in page and "<th>n</th>" in page and "NPS by touchpoint" in page
    score = nps(answers).rows[0][1]
    html = score._repr_html_()  # 4 promoters, 2 detractors of 7: +28.6
    assert "<td>28.6</td>" in html and f"<td>{score.low:.1f} … {score.high:.1f}</td>" in html


def test_other_results_are_tables(demo_store):
    c = complaints(demo_store, by="type")
    df = c.to_frame()
    assert df.n.sum() == c.total.n and "type" in df.columns and "<table" in c._repr_html_()
    points = churn(demo_store, "quarter", by="segment")
    frame = points.to_frame()
    assert len(frame) == len(points) and {"period", "segment", "rate", "low", "high", "customers"} <= set(frame)
    assert "95% interval" in points._repr_html_()
    js = journeys(demo_store)
    assert list(js.to_frame().journey) == [j.journey for j in js]
    stages = js[0].stages_frame()
    assert list(stages.stage) == [st.stage for st in js[0].stages]
    assert list(stages.reached) == [st.reached for st in js[0].stages] and set(stages.journey) == {js[0].journey}


def test_drivers_and_customers_are_tables(demo_store):
    from centric.customers.overview import overview
    from centric.customers.scoring import score
    from centric.drivers import drivers

    d = drivers(demo_store, reps=20)
    df = d.to_frame()
    assert len(df) == len(d.factors) and set(df.brand) == {"ours"} and "quadrant" in df
    assert f"{d.answers:,} answers" in d._repr_html_()
    s = score(demo_store, write=False)
    assert len(s.to_frame()) == s.customers and "p_alive" in s.to_frame()
    assert "more rows" in s._repr_html_()  # 1,500 customers: the first 50 shown
    o = overview(demo_store)
    assert o.to_frame().customers.iloc[0] == o.customers and "Alerts" in o._repr_html_()


def _hold(path, read_only: bool) -> subprocess.Popen:
    """Another process holding the store open (as a notebook would)."""
    code = (f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}, read_only={read_only}); "
            "print('open', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "open"
    return p


def test_read_only_store(tmp_path, write):
    db = tmp_path / "c.duckdb"
    with pytest.raises(StoreError, match="no store at"):
        Store.open(db, read_only=True)
    with Store.open(db) as s:
        ingest("responses", write("r.csv", ANSWERS), store=s)
    holder = _hold(db, read_only=True)
    try:
        with centric.connect(db) as s:  # readers share the file
            assert s.read_only and nps(s).rows[0][1].n == 7
        res = CliRunner().invoke(app, ["--db", str(db), "status"])
        assert res.exit_code == 0 and "(opened read-only)" in res.output and "responses" in res.output
        res = CliRunner().invoke(app, ["--db", str(db), "metrics", "nps", "--by", "touchpoint"])
        assert res.exit_code == 0 and "shop" in res.output
        with pytest.raises(StoreLockedError, match="open read-only there") as e:  # but nobody may write
            Store.open(db)
        assert e.value.readers and e.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_store_in_use_names_the_process(tmp_path):
    db = tmp_path / "c.duckdb"
    Store.open(db).close()
    holder = _hold(db, read_only=False)
    try:
        with pytest.raises(StoreLockedError) as e:
            Store.open(db)
        assert e.value.pid == holder.pid
        if Path("/proc").is_dir():  # the command line, where the system shows it
            assert "duckdb.connect" in e.value.command
        assert f"in use by process {holder.pid}" in str(e.value) and "open for writing there" in str(e.value)
        assert not e.value.readers
        res = CliRunner().invoke(app, ["--db", str(db), "status"])
        assert res.exit_code == 2 and f"process {holder.pid}" in res.output and "Traceback" not in res.output
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    Store.open(db).close()  # free again


def test_read_only_store_of_another_schema_version(tmp_path):
    db = tmp_path / "c.duckdb"
    for version, says in ((1, "open it once for writing"), (99, "upgrade centric")):
        with Store.open(db) as s:
            s.execute("UPDATE centric_meta SET value = ? WHERE key = 'schema_version'", [str(version)])
        with pytest.raises(StoreError, match=f"schema version {version}, .*; {says}"):
            Store.open(db, read_only=True)
        if version == 1:
            Store.open(db).close()  # opened for writing: migrated again
            Store.open(db, read_only=True).close()
