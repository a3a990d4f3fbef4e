"""Ingest behaviour: all-or-nothing loads, frames, mappings, conflicts."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pandas as pd
import pytest

from centric import Store, ingest
from centric.errors import IngestError, MappingError
from centric.faults import InjectedFault

from .conftest import BAD, rows
from .engines import all_rows

DATA_TABLES = ["customers", "identities", "orders", "responses", "feedback", "ingest_runs", "rejected_rows"]


def snapshot(store):
    return {t: all_rows(store, t) for t in DATA_TABLES}


@pytest.mark.parametrize("point", ["ingest.after_insert", "ingest.before_commit"])
def test_failure_half_way_stores_nothing(store, monkeypatch, point):
    ingest("orders", BAD / "mixed_dates.csv", store=store)
    before = snapshot(store)
    monkeypatch.setenv("CENTRIC_FAULT", f"{point}:raise")
    with pytest.raises(InjectedFault):
        ingest("orders", BAD / "zamowienia_cp1250.csv", store=store)
    assert snapshot(store) == before
    monkeypatch.delenv("CENTRIC_FAULT")
    # and the store still works: the same file loads afterwards
    assert ingest("orders", BAD / "zamowienia_cp1250.csv", store=store)[0].rows_stored == 3


def test_kill_half_way_stores_nothing(tmp_path):
    db = tmp_path / "k.duckdb"
    with Store.open(db) as s:
        ingest("orders", BAD / "mixed_dates.csv", store=s)
        before = snapshot(s)
    code = ("import sys; from centric import ingest; "
            f"ingest('orders', {str(BAD / 'zamowienia_cp1250.csv')!r}, db={str(db)!r})")
    env = {**os.environ, "CENTRIC_FAULT": "ingest.after_insert:exit"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 137
    with Store.open(db) as s:
        assert snapshot(s) == before


def test_pandas_and_polars_frames(store):
    pl = pytest.importorskip("polars")
    df = pd.DataFrame({"email": ["A@x.pl", "b@x.pl"], "data": ["31.12.2025", "2025-01-02"],
                       "kwota": ["1 234,56", "10,00"], "waluta": ["PLN", "EUR"]})
    r = ingest("orders", df, store=store, name="frame")[0]
    assert (r.format, r.rows_stored) == ("frame", 2)
    pf = pl.DataFrame({"customer_id": ["K1"], "ordered_at": [dt.datetime(2025, 5, 1, 12)], "amount": [99.5]})
    r = ingest("orders", pf, store=store)[0]
    assert (r.rows_stored, r.source) == (1, "DataFrame")
    assert rows(store, "SELECT amount, currency, ordered_at FROM orders ORDER BY amount") == [
        (10.0, "EUR", dt.datetime(2025, 1, 2)), (99.5, "PLN", dt.datetime(2025, 5, 1, 12)),
        (1234.56, "PLN", dt.datetime(2025, 12, 31))]
    # the same frame again adds nothing
    assert ingest("orders", df, store=store)[0].rows_stored == 0


def test_typed_parquet_json_array(store, tmp_path):
    p = tmp_path / "o.parquet"
    pd.DataFrame({"order_id": ["P1"], "email": ["p@x.pl"], "ordered_at": [pd.Timestamp("2025-03-01 10:00", tz="UTC")],
                  "amount": [12.25]}).to_parquet(p)
    assert ingest("orders", p, store=store)[0].rows_stored == 1
    assert rows(store, "SELECT ordered_at, amount FROM orders") == [(dt.datetime(2025, 3, 1, 10), 12.25)]
    j = tmp_path / "r.json"
    j.write_text('{"data": [{"id": 1, "email": "p@x.pl", "date": "2025-03-02", "nps": 9}, 5]}', encoding="utf-8")
    r = ingest("responses", j, store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (1, 1)
    assert rows(store, "SELECT reason FROM rejected_rows") == [("the record is not an object with named fields",)]


def test_mapping_file(store, write):
    data = write("x.csv", "Klient;Kiedy;Ile;Notatka\nK7;2025-01-01;5;x\n")
    mapping = write("m.toml", 'ignore = ["Notatka"]\n[columns]\nKlient = "crm_id"\nKiedy = "ordered_at"\n'
                    'Ile = "amount"\n[values]\ncurrency = "EUR"\nchannel = "store"\n[settings]\nday_first = "true"\n')
    r = ingest("orders", data, store=store, mapping=mapping)[0]
    assert r.rows_stored == 1 and r.ignored_columns == ["Notatka"]
    assert rows(store, "SELECT amount, currency, channel FROM orders") == [(5.0, "EUR", "store")]
    bad = write("bad.toml", '[columns]\nKlient = "nonsense"\n')
    with pytest.raises(MappingError, match="'nonsense' is not a column of orders"):
        ingest("orders", data, store=store, mapping=bad)
    bad2 = write("bad2.toml", '[columns]\nNope = "crm_id"\n')
    with pytest.raises(MappingError, match="the mapping names column 'Nope', which the file does not have"):
        ingest("orders", data, store=store, mapping=bad2)


def test_column_names_in_four_languages(store, write):
    ru = write("ru.csv", "номер заказа,электронная почта,дата,сумма,валюта\nR1,ivan@x.ru,01.02.2025,\"1 000,50\",RUB\n")
    it = write("it.csv", "numero ordine;indirizzo email;data;importo\nI1;gio@x.it;01/02/2025;\"1.000,50\"\n")
    en = write("en.csv", "Order Number,E-mail Address,Order Date,Total\nE1,joe@x.com,2025-02-01,\"1,000.50\"\n")
    for f in (ru, it, en):
        assert ingest("orders", f, store=store)[0].rows_stored == 1
    assert rows(store, "SELECT order_id, amount FROM orders ORDER BY 1") == [
        ("E1", 1000.5), ("I1", 1000.5), ("R1", 1000.5)]


def test_same_key_different_values_is_rejected(store, write):
    f = write("dup.csv", "order_id,email,date,amount\nA,a@x.pl,2025-01-01,1\nA,a@x.pl,2025-01-01,1\n"
              "A,a@x.pl,2025-01-01,2\n")
    r = ingest("orders", f, store=store)[0]
    assert (r.rows_stored, r.rows_duplicate, r.rows_rejected) == (1, 1, 1)
    assert rows(store, "SELECT row_number, reason FROM rejected_rows") == [
        (4, "the order_id A is used again (first on row 2) with different values")]


def test_rows_without_id_are_deduplicated_by_content(store, write):
    f = write("noid.csv", "email,date,nps\na@x.pl,2025-01-01,9\nb@x.pl,2025-01-01,9\n")
    assert ingest("responses", f, store=store)[0].rows_stored == 2
    g = write("noid2.csv", "email;date;nps;comment\na@x.pl;01.01.2025;9;\nc@x.pl;01.01.2025;3;bad\n")
    r = ingest("responses", g, store=store)[0]
    assert (r.rows_stored, r.rows_duplicate) == (1, 1)


def test_unknown_table_and_unknown_values(store, write):
    f = write("a.csv", "email,date,amount\na@x.pl,2025-01-01,1\n")
    with pytest.raises(IngestError, match="cannot load into 'identities'"):
        ingest("identities", f, store=store)
    with pytest.raises(IngestError, match="unknown columns of orders: colour"):
        ingest("orders", f, store=store, values={"colour": "red"})


def test_store_refuses_newer_schema(tmp_path):
    from centric.errors import StoreError

    db = tmp_path / "n.duckdb"
    with Store.open(db) as s:
        s.execute("UPDATE centric_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 999, newer than this centric"):
        Store.open(db)


def test_a_frame_without_columns_is_refused_with_a_message(store):
    with pytest.raises(IngestError, match="orders-frame: no columns"):
        ingest("orders", pd.DataFrame(), store=store, name="orders-frame")
    assert store.count("ingest_runs") == 0
