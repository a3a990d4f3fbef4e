"""Integer customer keys (``centric.customer_keys``): the number in the id, filled by ingest, cleared with an id that
moves, and the survey metrics joined on them equal to the metrics joined on the text id, whatever the keys' state."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from centric import customer_keys, ingest, schema
from centric.cli import app
from centric.metrics import breakdowns
from centric.metrics.survey import ROWS, aggregate_query
from centric.privacy import forget

from .conftest import rows

# an id as identity resolution writes it (printf('C%07d', n)) and its key; any other text has none
IDS = [("C0000000", 0), ("C0000001", 1), ("C0000042", 42), ("C9999999", 9999999), ("C10000000", 10000000),
       ("C123456789", 123456789), ("C00000001", None), ("C01234567", None), ("C1234567890", None), ("C-000001", None),
       ("C000000a", None), ("C 000001", None), ("c0000001", None), ("X0000001", None), ("C", None), ("", None),
       ("C٠٠٠٠٠٠١", None)]  # (Arabic-Indic digits)


def test_the_key_is_the_number_of_an_id_written_as_identity_resolution_writes_it(store):
    values = ", ".join(f"('{i}')" for i, _ in IDS)
    got = rows(store, f"SELECT x, {schema.customer_key_sql('x')} FROM (VALUES {values}) AS t(x)")
    assert dict(got) == dict(IDS)
    # no two ids share a key
    keys = [k for _, k in IDS if k is not None]
    assert len(keys) == len(set(keys))
    # the writers of single rows compute the same key in Python
    assert [customer_keys.key_of(i) for i, _ in IDS] == [k for _, k in IDS]
    assert customer_keys.key_of(None) is None


def test_the_demo_store_has_every_key_and_none_that_disagrees(demo_store):
    """The demo is built by ingest, the survey answers the demo adds, merges and cases: every answer and customer
    with an id as identity resolution writes it has its key, and no key disagrees with its id."""
    con = demo_store.con
    assert customer_keys.stale(con) == {"customers": 0, "responses": 0}
    for t in customer_keys.TABLES:
        (unfilled,), = rows(demo_store, f"SELECT count(*) FROM {t} WHERE customer_key IS NULL AND "
                                        f"{schema.customer_key_sql()} IS NOT NULL")
        (keyed,), = rows(demo_store, f"SELECT count(*) FROM {t} WHERE customer_key IS NOT NULL")
        assert unfilled == 0 and keyed > 100, t
    (survey_answers,), = rows(demo_store, "SELECT count(*) FROM responses WHERE response_id LIKE 'SVR-%' "
                                          "AND customer_key IS NOT NULL")
    assert survey_answers > 0


def _keys(store):
    return (rows(store, "SELECT customer_id, customer_key FROM customers ORDER BY customer_id"),
            rows(store, "SELECT response_id, customer_id, customer_key FROM responses ORDER BY response_id"))


def test_ingest_fills_the_keys_and_a_merge_or_an_erasure_never_leaves_one_that_disagrees(store, write):
    ingest("customers", write("a.csv", "customer_id,email,segment\nK1,a@x.pl,vip\n"), store=store)
    ingest("customers", write("b.csv", "customer_id,phone,segment\nK2,601234567,b2c\n"), store=store)
    ingest("responses", write("r1.csv", "id,phone,date,nps\nR1,601234567,2025-01-05,3\nR0,,2025-01-06,9\n"),
           store=store)
    customers, answers = _keys(store)
    assert customers == [("C0000001", 1), ("C0000002", 2)]
    assert answers == [("R0", None, None), ("R1", "C0000002", 2)]
    # one record links the two customers: C0000002 is merged into C0000001, and R1 moves with its key
    r = ingest("responses", write("r2.csv", "id,email,phone,date,nps\nR2,a@x.pl,+48 601 234 567,2025-02-01,10\n"),
               store=store)[0]
    assert r.customers_merged == 1
    customers, answers = _keys(store)
    assert customers == [("C0000001", 1)]
    assert answers == [("R0", None, None), ("R1", "C0000001", 1), ("R2", "C0000001", 1)]
    assert customer_keys.stale(store.con) == {"customers": 0, "responses": 0}
    seg = {g["segment"]: s.n for g, s in breakdowns(store, ["nps"], ["segment"])["nps"].rows}
    assert seg == {"vip": 2, "(none)": 1}
    forget(store, "C0000001")
    assert _keys(store) == ([], [("R0", None, None), ("R1", None, None), ("R2", None, None)])


def _merge_by_orders(store, write):
    """Two customers with answers, then an order (another table: the answers are not what the ingest reads on
    PostgreSQL or a lake) that links them."""
    ingest("customers", write("a.csv", "customer_id,email\nK1,a@x.pl\n"), store=store)
    ingest("customers", write("b.csv", "customer_id,phone\nK2,601234567\n"), store=store)
    ingest("responses", write("r.csv", "id,email,phone,date,nps\nR1,,601234567,2025-01-05,3\n"
                                       "R2,a@x.pl,,2025-01-06,9\nR3,,,2025-01-07,7\n"), store=store)
    r = ingest("orders", write("o.csv", "id,email,phone,date,amount\nO1,a@x.pl,601234567,2025-02-01,10\n"),
               store=store)[0]
    assert r.customers_merged == 1


MOVED = [("R1", "C0000001", 1), ("R2", "C0000001", 1), ("R3", None, None)]


def test_a_merge_through_another_table_moves_the_answers_keys_with_their_ids(store, write):
    _merge_by_orders(store, write)
    assert _keys(store) == ([("C0000001", 1)], MOVED)
    assert customer_keys.stale(store.con) == {"customers": 0, "responses": 0}


def test_a_merge_through_another_table_moves_the_keys_in_a_lake(tmp_path, write):
    from centric.engines.lake import Lake

    from .engines import lake_rows
    from .spark import url

    lake = Lake(url(tmp_path / "lake"))
    _merge_by_orders(lake, write)
    got = [(r[0], r[1], r[-1]) for r in lake_rows(lake.folder, "responses")]
    assert schema.TABLES["responses"].column_names[-1] == "customer_key" and sorted(got, key=str) == MOVED


@pytest.mark.duckdb_only(reason="the keyed join is DuckDB's (customer_keys.keyed); PostgreSQL keeps the text join")
def test_the_keyed_metrics_equal_the_text_join_whatever_the_state_of_the_keys(store, write, caplog):
    lines = ["id,email,segment,country"] + [f"K{i},c{i}@x.pl,{['vip', 'b2c', ''][i % 3]},{['PL', 'IT'][i % 2]}"
                                            for i in range(12)]
    ingest("customers", write("c.csv", "\n".join(lines) + "\n"), store=store)
    answers = ["id,email,date,nps,csat,channel"] + [
        f"R{i},{'' if i % 7 == 0 else f'c{i % 12}@x.pl'},2025-0{1 + i // 5 % 3}-1{i % 9},{i % 11},{1 + i % 5},"
        f"{['web', 'app', 'sms'][i // 7 % 3]}" for i in range(90)]
    ingest("responses", write("r.csv", "\n".join(answers) + "\n"), store=store)
    by = ["month", "segment", "country", "channel"]

    def both():
        keyed = aggregate_query(store, ["nps", "csat"], by).to_pyarrow().to_pylist()
        text = aggregate_query(store, ["nps", "csat"], by, keys=False).to_pyarrow().to_pylist()
        return keyed, text

    def same(keyed, text):
        assert all(row.pop(ROWS) >= 1 for row in keyed)
        order = sorted(text[0])
        return sorted(tuple(r[k] for k in order) for r in keyed) == sorted(tuple(r[k] for k in order) for r in text)

    assert rows(store, "SELECT count(*) FROM responses WHERE customer_key IS NULL") == [(13,)]  # the anonymous
    keyed, text = both()
    assert len(text) > 30 and same(keyed, text)
    # answers whose keys another writer left NULL are joined on their text id
    store.execute("UPDATE responses SET customer_key = NULL WHERE response_id IN ('R1', 'R2', 'R5', 'R40')")
    assert same(*both())
    # a keyed answer whose customer is gone (no store centric writes has one): the inner join would miss it; the
    # count tells, and the metrics are counted again on the text id
    store.execute("DELETE FROM customers WHERE customer_id = 'C0000004'")
    keyed, text = both()
    assert not same(keyed, text)
    with caplog.at_level(logging.WARNING, logger="centric.metrics.survey"):
        got = breakdowns(store, ["nps", "csat"], by)
    assert "met their customer by customer_key" in caplog.text
    store.execute("UPDATE responses SET customer_key = NULL WHERE customer_id = 'C0000004'")
    assert same(*both())
    assert {m: [(g, s.n, s.value) for g, s in b.rows] for m, b in got.items()} == \
        {m: [(g, s.n, s.value) for g, s in b.rows] for m, b in breakdowns(store, ["nps", "csat"], by).items()}


@pytest.mark.duckdb_only(reason="a DuckDB store of schema version 10 built by hand")
def test_a_store_of_version_10_gets_its_keys(tmp_path, write):
    from centric import Store

    db = tmp_path / "old.duckdb"
    with Store.open(db) as s:
        ingest("responses", write("r.csv", "id,email,date,nps\nR1,a@x.pl,2025-01-05,3\nR2,,2025-01-06,9\n"), store=s)
        for t in customer_keys.TABLES:
            s.execute(f"ALTER TABLE {t} DROP COLUMN customer_key")
        s.execute("UPDATE centric_meta SET value = '10' WHERE key = 'schema_version'")
    r = CliRunner().invoke(app, ["--db", str(db), "store", "migrate", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert (json.loads(r.output)["schema_version_before"], json.loads(r.output)["schema_version"]) == (10, 11)
    with Store.open(db) as s:
        assert s.schema_version == schema.SCHEMA_VERSION
        assert _keys(s) == ([("C0000001", 1)], [("R1", "C0000001", 1), ("R2", None, None)])
