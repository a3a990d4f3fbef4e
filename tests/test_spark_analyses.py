"""The analyses on Spark: the small demo store (built by centric's own ingest) copied into a lake with
``centric store copy --to spark:…`` gives the same answers on Spark (local[2], through Ibis's PySpark backend) as
on the DuckDB file it came from — the metrics, the drivers, the journeys' flows and the customers' purchase
statistics — and what Spark cannot do is refused with a message.

Counts must be equal; floats equal to 1e-9 relative (the engines may sum doubles in another order). One Spark
session serves every test (``spark_session``); the lake is written once for the module."""

from __future__ import annotations

import datetime as dt
import math
import os

import duckdb
import numpy as np
import pandas as pd
import pytest

from centric import schema
from centric.customers.rfm import grouped_summary, rfm_summary, store_summary
from centric.customers.scoring import fit_purchases, orders_frame
from centric.engines import engine_name, is_spark, open_store, redact
from centric.engines.copy import copy_to_lake
from centric.engines.lake import migrate_lake
from centric.engines.spark import SPARK_TYPES, SparkStore, parse_url
from centric.errors import StoreError
from centric.store import Store

from .engines import DUCKDB, SPARK, assert_same, both_json, pair, run
from .spark import url


@pytest.fixture
def both(demo_engines, request):
    """(the demo store's DuckDB file, the Spark URL of a lake it was copied to with ``centric store copy``)."""
    return pair(demo_engines, request, SPARK)


# -- the analyses ------------------------------------------------------------------------------------------------
@pytest.mark.capability("store copy", engines=(DUCKDB, SPARK))
def test_the_lake_holds_every_table_with_the_schemas_types(both, demo_engines):
    duck, spark = both
    with Store.open(duck, read_only=True) as d, open_store(spark) as s:
        assert demo_engines.copied[SPARK] == d.counts()  # what the command reported it copied
        assert isinstance(s, SparkStore) and s.schema_version == schema.SCHEMA_VERSION
        read = ("responses", "feedback", "events", "orders", "mentions", "text_analyses", "customers", "cases")
        assert {t: s.count(t) for t in read} == {t: d.count(t) for t in read}
        assert d.count("responses") > 1000 and d.count("events") > 10_000
        events = s.table("events").schema()
        assert str(events["occurred_at"]).startswith("timestamp") and events["event_id"].is_string()
        # the same instants: Spark's session is in UTC, as the store's timestamps are
        first = d.table("events").order_by("event_id").limit(5).execute()
        again = s.table("events").order_by("event_id").limit(5).execute()
        assert first["occurred_at"].tolist() == again["occurred_at"].tolist()


@pytest.mark.capability("metrics", engines=(DUCKDB, SPARK))
@pytest.mark.parametrize("args", [["nps", "--by", "quarter"], ["csat", "--by", "channel"], ["ces"]])
def test_metrics_are_equal_on_both_engines(both, args):
    a, b = both_json(both, "metrics", *args, "--json")
    assert_same(a, b)
    assert len(a["groups"]) >= (2 if "--by" in args else 1) and sum(g["n"] for g in a["groups"]) > 100
    assert all(g["value"] is not None for g in a["groups"] if g["n"] >= 30)


@pytest.mark.capability("metrics", engines=(DUCKDB, SPARK))
def test_breakdowns_bring_only_the_groups_back_from_spark(both, monkeypatch):
    """Spark aggregates and the driver's Python receives the groups, never the answers: no DataFrame collected
    during ``breakdowns`` has more rows than the breakdown has groups (counted by DuckDB), and the groups' scores
    are DuckDB's."""
    from centric.metrics import breakdowns
    from centric.metrics.survey import aggregate_query

    def rows(out) -> int:  # a pandas or Arrow table, a list of Rows or of Arrow record batches
        if hasattr(out, "num_rows"):
            return out.num_rows
        batches = isinstance(out, list) and out and hasattr(out[0], "num_rows")
        return sum(b.num_rows for b in out) if batches else len(out)

    metrics, by = ["nps", "csat", "ces"], ["month", "segment", "channel"]
    duck, spark = both
    with Store.open(duck, read_only=True) as d:
        groups = aggregate_query(d, metrics, by).count().execute()
        answers = d.count("responses")
        expected = breakdowns(d, metrics, by)
    collected: list[int] = []
    with open_store(spark) as s:
        frames = type(s.spark.range(1))  # the session's DataFrame class (pyspark's classic one, locally)
        for name in ("collect", "toPandas", "toArrow", "_collect_as_arrow"):
            def counting(self, *args, _original=getattr(frames, name), **kwargs):
                out = _original(self, *args, **kwargs)
                collected.append(rows(out))
                return out

            monkeypatch.setattr(frames, name, counting)
        got = breakdowns(s, metrics, by)
    assert collected and max(collected) <= groups < answers
    assert {m: [g for g, _ in b.rows] for m, b in got.items()} == {m: [g for g, _ in b.rows]
                                                                   for m, b in expected.items()}
    for m in metrics:
        for (_, x), (_, y) in zip(got[m].rows, expected[m].rows, strict=True):
            assert x.n == y.n and (x.value == y.value or math.isclose(x.value, y.value, rel_tol=1e-9))


@pytest.mark.capability("drivers", engines=(DUCKDB, SPARK))
def test_drivers_are_equal_on_both_engines(both):
    a, b = both_json(both, "drivers", "--json", "--reps", "20")
    assert_same(a, b)
    assert len(a["factors"]) >= 5 and a["texts"] > 50 and any(f["quotes"] for f in a["factors"])
    assert a["outcome"] == "nps" and a["answers"] >= 30 and 0 < a["r2"] < 1


@pytest.mark.capability("flows", engines=(DUCKDB, SPARK))
def test_flows_of_a_journey_are_equal_on_both_engines(both):
    a, b = both_json(both, "flows", "--journey", "service", "--json", "--loops", "--sankey-from", "callback",
                     "--compare-nps")
    assert_same(a, b)
    assert a["cases"] > 10 and a["edges"] and a["variants"] and "sankey" in a and "comparison" in a
    assert sum(v["cases"] for v in a["variants"]) == a["cases"]
    a, b = both_json(both, "flows", "--journey", "service", "--json", "--gap-days", "2", "--sankey-from", "callback",
                     "--backwards", "--compare-reached", "callback")
    assert_same(a, b)
    assert a["sankey"]["backwards"] and a["comparison"]["cases_a"] > 0


@pytest.mark.capability("customers summary", engines=(DUCKDB, SPARK))
def test_customer_statistics_are_those_of_the_pandas_summary_on_both_engines(both):
    """The per-customer RFM computed by each engine equals ``rfm_summary`` (pandas, an independent implementation)
    of the same orders; the grouped statistics hold every customer once."""
    duck, spark = both
    with Store.open(duck, read_only=True) as d:
        want = rfm_summary(orders_frame(d))
        mid = rfm_summary(orders_frame(d), observation_end="2026-06-30", unit="W")
        duck_summary, duck_groups = store_summary(d), grouped_summary(d)
    with open_store(spark) as s:
        spark_summary, spark_groups = store_summary(s), grouped_summary(s)
        spark_mid = store_summary(s, observation_end="2026-06-30", unit="W")
    assert len(want) > 1000 and (want["frequency"] > 0).sum() > 100
    for got in (duck_summary, spark_summary):
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
        assert got.attrs["observation_end"] == want.attrs["observation_end"]
    pd.testing.assert_frame_equal(spark_mid, mid, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(spark_groups, duck_groups, check_exact=False, rtol=1e-9)
    assert duck_groups["n"].sum() == len(want) and len(duck_groups) < len(want)
    # a group is the customers with that (frequency, recency, T)
    counted = want.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    assert counted["n"].tolist() == duck_groups["n"].tolist()


@pytest.mark.capability("customers summary", engines=(DUCKDB, SPARK))
def test_purchase_model_fitted_to_the_lakes_groups(both):
    """``customers summary --fit`` gives the same JSON on both engines, and its fit to the grouped statistics is
    the fit to the per-customer summary (the likelihood is the same sum, grouped)."""
    duck, _ = both
    a, b = both_json(both, "customers", "summary", "--json", "--fit")
    assert_same(a, b)
    with Store.open(duck, read_only=True) as d:
        name, model, _ = fit_purchases(rfm_summary(orders_frame(d)))
    assert a["fit"]["model"] == name
    assert math.isclose(a["fit"]["log_likelihood"], model.log_likelihood_, rel_tol=1e-7)
    for k, v in model.params_.items():
        assert math.isclose(a["fit"]["params"][k], v, rel_tol=1e-3), k
    assert a["customers"] == sum(g["customers"] for g in a["groups"]) > 1000


@pytest.mark.capability("metrics reads", engines=(DUCKDB, SPARK))
@pytest.mark.parametrize("args", [["complaints"], ["complaints", "--by", "channel"], ["journeys"], ["churn"]])
def test_case_journey_and_churn_metrics_are_equal_on_both_engines(both, args):
    """The case metrics (response and resolution times from epoch seconds with their fraction, past-SLA shares,
    the backlog, root causes), the journeys' conversion and churn: the same answers over the lake's tables."""
    a, b = both_json(both, "metrics", *args, "--json")
    assert_same(a, b)
    if args[0] == "complaints":
        assert a["total"]["n"] > 100 and a["total"]["first_response_median_h"] > 0


@pytest.mark.capability("journeys map", engines=(DUCKDB, SPARK))
def test_a_customers_journey_map_is_equal_on_both_engines(both):
    a, b = both_json(both, "journeys", "map", "--json")
    assert_same(a, b)


@pytest.mark.capability("customers reads", engines=(DUCKDB, SPARK))
@pytest.mark.parametrize("args", [["merges"], ["alerts"], ["reasons"], ["phases"],
                                  ["validate", "--calibration-end", "2026-03-31", "--json"]])
def test_customers_reads_are_the_same_on_both_engines(both, args):
    duck, spark = both
    ra, rb = run("customers", *args, db=duck), run("customers", *args, db=spark)
    assert ra.exit_code == 0 and rb.exit_code == 0, (ra.output, rb.output)
    assert ra.output == rb.output and len(ra.output) > 200


# -- what Spark refuses ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["cases", "list"], ["customers", "score"], ["customers", "forget", "x"],
                                     ["report"], ["serve"]])
def test_what_does_not_run_on_spark_is_refused_by_name(command, tmp_path):
    r = run(*command, db=url(tmp_path / "lake"))
    assert r.exit_code == 2
    name = " ".join(command[:2]) if command[0] in ("cases", "metrics", "customers") else command[0]
    assert f"centric {name} is not available on Spark" in r.output and "customers summary" in r.output


def test_a_spark_store_refuses_writes(both):
    _, spark = both
    with open_store(spark) as s:
        for write in (s.transaction, s.migrate, lambda: s.con, lambda: s.kept_secret("web_secret")):
            with pytest.raises(StoreError, match="read-only: .* not available on Spark"):
                write()


def test_the_url_names_master_and_lake_and_hides_a_password():
    assert parse_url("spark:local[2]?warehouse=/data/lake") == ("local[2]", "/data/lake")
    assert parse_url("spark:spark://head:7077?warehouse=file:///data/lake") == ("spark://head:7077", "file:///data/lake")
    assert is_spark("SPARK:local[*]?warehouse=/l") and not is_spark("centric.duckdb") and engine_name("spark:x") == "Spark"
    assert redact("spark:yarn?warehouse=s3a://key:secret@bucket/lake") == "spark:yarn?warehouse=s3a://key:***@bucket/lake"
    for bad, why in [("spark:?warehouse=/l", "names no Spark master"), ("spark:local[2]", "names no lake"),
                     ("spark:local[2]?warehouse=/l&x=1", "unknown option 'x'")]:
        with pytest.raises(StoreError, match=why):
            parse_url(bad)


# -- the lake's copy ----------------------------------------------------------------------------------------------
def _small_store(path):
    """Orders at times near midnight (a time-zone shift would move their day), and feedback whose ratings hold a
    NaN and a NULL."""
    store = Store.open(path)
    store.con.executemany(
        "INSERT INTO orders (order_id, customer_id, ordered_at, amount, currency) VALUES (?, ?, ?, ?, ?)",
        [("o1", "c1", dt.datetime(2025, 3, 30, 0, 30), 10.0, "EUR"),
         ("o2", "c1", dt.datetime(2025, 3, 30, 23, 30), 2.25, "EUR"),
         ("o3", "c2", dt.datetime(2025, 10, 26, 1, 30), 7.0, "EUR"),
         ("o4", "c1", dt.datetime(2025, 4, 2, 23, 59, 59), 5.5, "EUR")])
    store.con.executemany(
        "INSERT INTO feedback (feedback_id, source, posted_at, text, rating) VALUES (?, 'review', ?, 'ok', ?)",
        [("f1", dt.datetime(2025, 1, 1), 4.0), ("f2", dt.datetime(2025, 1, 2), float("nan")),
         ("f3", dt.datetime(2025, 1, 3), None)])
    return store


def test_copy_keeps_nan_apart_from_null_and_times_in_utc(spark_session, tmp_path):
    with _small_store(tmp_path / "s.duckdb") as store:
        result = copy_to_lake(store, url(tmp_path / "lake"))
    assert result.rows["orders"] == 4 and result.rows["feedback"] == 3 and result.rows["events"] == 0
    with open_store(url(tmp_path / "lake")) as s:
        o = s.table("orders")
        got = o.order_by("order_id").execute()
        assert got["ordered_at"].tolist() == [pd.Timestamp("2025-03-30 00:30"), pd.Timestamp("2025-03-30 23:30"),
                                              pd.Timestamp("2025-10-26 01:30"), pd.Timestamp("2025-04-02 23:59:59")]
        days = (o.ordered_at.epoch_seconds().cast("int64") // 86400).execute().tolist()
        assert sorted(days) == [20177, 20177, 20180, 20387]
        f = s.table("feedback")
        assert f.rating.isnull().sum().execute() == 1 and f.rating.isnan().sum().execute() == 1
        assert s.count("events") == 0  # an empty table: a view with the schema's columns
        # the summary of two purchase days of c1 (30 March twice, 2 April) and one of c2
        summary = store_summary(s)
    assert summary.to_dict("index") == {"c1": {"frequency": 1, "recency": 3.0, "T": 210.0, "monetary_value": 5.5},
                                        "c2": {"frequency": 0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0}}


def test_a_table_without_a_folder_is_empty_with_the_schemas_types(spark_session, tmp_path):
    with _small_store(tmp_path / "s.duckdb") as store:
        copy_to_lake(store, url(tmp_path / "lake"))
    import shutil

    shutil.rmtree(tmp_path / "lake" / "cases")
    with open_store(url(tmp_path / "lake")) as s:
        assert s.count("cases") == 0 and s.count("orders") == 4
        types = dict(s.spark.table("cases").dtypes)
        for c in schema.TABLES["cases"].columns:
            want = {"STRING": "string", "INT": "int", "BIGINT": "bigint", "DOUBLE": "double",
                    "TIMESTAMP": "timestamp", "DATE": "date", "BOOLEAN": "boolean"}[SPARK_TYPES[c.type]]
            assert types[c.name] == want, c.name


@pytest.mark.capability("tables", engines=(SPARK,))
def test_a_lake_of_another_schema_version_is_refused_until_migrated(spark_session, tmp_path):
    with _small_store(tmp_path / "s.duckdb") as store:
        copy_to_lake(store, url(tmp_path / "lake"))
    meta = tmp_path / "lake" / "centric_meta" / "data.parquet"
    duckdb.execute(f"COPY (SELECT 'schema_version' AS key, '1' AS value) TO '{meta}' (FORMAT parquet)")
    with pytest.raises(StoreError, match="has schema version 1, this centric reads version .*store migrate"):
        open_store(url(tmp_path / "lake"))
    assert migrate_lake(url(tmp_path / "lake")) == (1, schema.SCHEMA_VERSION)  # what the message proposes
    with open_store(url(tmp_path / "lake")) as s:
        assert s.count("orders") == 4 and s.schema_version == schema.SCHEMA_VERSION


def test_a_failed_copy_leaves_the_lake_as_it_was(tmp_path):
    """A table the source lacks fails the copy midway: nothing is left in the lake, not even a hidden folder."""
    store = _small_store(tmp_path / "s.duckdb")
    store.con.execute("DROP TABLE ideas")  # a table of the schema the source lacks
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "notes.txt").write_text("kept")
    with pytest.raises(StoreError, match="cannot copy table ideas into the lake .*nothing was copied"):
        copy_to_lake(store, url(lake))
    store.close()
    assert sorted(os.listdir(lake)) == ["notes.txt"]


def test_a_lake_that_holds_centric_data_is_not_written_again(tmp_path):
    with _small_store(tmp_path / "s.duckdb") as store:
        copy_to_lake(store, url(tmp_path / "lake"))
        before = sorted(os.listdir(tmp_path / "lake"))
        with pytest.raises(StoreError, match="already holds centric data"):
            copy_to_lake(store, url(tmp_path / "lake"))
    assert sorted(os.listdir(tmp_path / "lake")) == before
    assert len(before) == len(schema.TABLES) + 1
    n = duckdb.execute(f"SELECT count(*) FROM read_parquet('{tmp_path / 'lake' / 'orders'}/*.parquet')").fetchone()[0]
    assert n == 4 and np.isnan(duckdb.execute(
        f"SELECT rating FROM read_parquet('{tmp_path / 'lake' / 'feedback'}/*.parquet') WHERE feedback_id = 'f2'"
    ).fetchone()[0])


@pytest.mark.capability("metrics", engines=(DUCKDB, SPARK))
def test_the_keyed_metrics_on_spark_equal_the_text_join_whatever_the_state_of_the_keys(spark_session, tmp_path,
                                                                                        write):
    """Spark joins keyed answers to their customers by a left join on the key (no count of all the answers):
    answers left without a key and a keyed answer whose customer is gone count as the text join counts them."""
    from centric import ingest
    from centric.metrics import breakdowns
    from centric.metrics.survey import aggregate_query

    lines = ["id,email,segment"] + [f"K{i},c{i}@x.pl,{['vip', 'b2c', ''][i % 3]}" for i in range(12)]
    answers = ["id,email,date,nps,channel"] + [
        f"R{i},{'' if i % 7 == 0 else f'c{i % 12}@x.pl'},2025-0{1 + i // 5 % 3}-1{i % 9},{i % 11},"
        f"{['web', 'app'][i // 7 % 2]}" for i in range(90)]
    by = ["month", "segment", "channel"]
    with Store.open(tmp_path / "s.duckdb") as d:
        ingest("customers", write("c.csv", "\n".join(lines) + "\n"), store=d)
        ingest("responses", write("r.csv", "\n".join(answers) + "\n"), store=d)
        d.execute("UPDATE responses SET customer_key = NULL WHERE response_id IN ('R1', 'R2', 'R40')")
        d.execute("DELETE FROM customers WHERE customer_id = 'C0000004'")  # its answers keep their key
        text = aggregate_query(d, ["nps"], by, keys=False).to_pyarrow().to_pylist()
        want = {g["segment"]: 0 for g in text}
        copy_to_lake(d, url(tmp_path / "lake"))
        expected = [(g, s.n, s.value, s.low, s.high) for g, s in breakdowns(d, "nps", by)["nps"].rows]
    with open_store(url(tmp_path / "lake")) as s:
        got = aggregate_query(s, ["nps"], by).to_pyarrow().to_pylist()
        order = sorted(text[0])
        assert sorted(tuple(r[k] for k in order) for r in got) == sorted(tuple(r[k] for k in order) for r in text)
        assert [(g, b.n, b.value, b.low, b.high) for g, b in breakdowns(s, "nps", by)["nps"].rows] == expected
    assert len(text) > 12 and "(none)" in want  # the gone customer's answers and the anonymous ones: no segment
