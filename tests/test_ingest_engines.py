"""centric ingest on PostgreSQL and into a lake (the Spark store's): the same files loaded into a DuckDB store and into
the engine's store give the same rows in every table — stored rows, rejected rows with their reasons, duplicates,
customers resolved across channels and merged, runs, and a file loaded again with ``--replace`` over texts already
analysed. What is particular to each engine (failures half-way, two writers) is tested in
tests/test_ingest_postgres.py and tests/test_ingest_lake.py."""

from __future__ import annotations

import pytest

from centric import schema
from centric.store import Store

from .conftest import BAD
from .engines import NOW, POSTGRESQL, SPARK, all_rows, every_table, fixed_clock  # noqa: F401 (fixed_clock: autouse)
from .engines import ingest_both as both
from .test_ingest_recode import COMPLAINTS, COMPLAINTS_MAPPING, FFT, FFT_MAPPING


def _analysed(store, text_ids: list[str]) -> None:
    """What ``centric analyze`` leaves for those answers (their analyses), written into ``store`` directly."""
    rows = [("responses", i, "healthcare", NOW) for i in text_ids]
    columns = ["source", "text_id", "taxonomy", "analyzed_at"]
    if isinstance(store, Store):
        store.con.executemany("INSERT INTO text_analyses (source, text_id, taxonomy, analyzed_at) VALUES (?, ?, ?, ?)",
                              rows)
    elif getattr(store, "engine", None) == POSTGRESQL:
        with store.transaction():
            store.copy_rows("text_analyses", columns, rows)
    else:
        from centric.engines.lake import lake_scratch

        with lake_scratch(store.url, tables=["text_analyses"]) as s:
            s.store.con.executemany("INSERT INTO text_analyses (source, text_id, taxonomy, analyzed_at) "
                                    "VALUES (?, ?, ?, ?)", rows)


@pytest.mark.capability("ingest", engines=(POSTGRESQL, SPARK))
def test_ingest_gives_the_same_rows_as_on_duckdb(engine, tmp_path, write):
    duck, other = Store.open(tmp_path / "d.duckdb"), engine.new_store()
    lake = getattr(other, "folder", None)  # on Spark: the lake's folder, created by the first ingest
    assert lake is None or not lake.exists()
    # one customer across three channels (shop CRM, call centre in cp1250 with ;, social posts)
    shop = write("shop.csv", "customer_id,name,email\nK1,Anna Nowak, Anna.Nowak@Example.PL \nK2,Jan Kos,jan@x.pl\n")
    cc = write("cc.csv", "Imię i nazwisko;Telefon;E-mail\nAnna Nowak;601 234 567;anna.nowak@example.pl\n",
               encoding="cp1250")
    social = write("social.jsonl",
                   '{"handle": "@AnnaN", "phone": "+48 601-234-567", "text": "x", "date": "2025-01-01"}\n'
                   '{"handle": "stranger", "brand": "CasaTech", "text": "meh", "date": "2025-01-01"}\n')
    both(duck, other, "customers", shop)
    if lake is not None:
        assert all_rows(lake, "centric_meta") == [("schema_version", str(schema.SCHEMA_VERSION))]
    both(duck, other, "customers", cc)
    both(duck, other, "feedback", social, values={"source": "social"})
    # two customers known apart, then linked by an answer: a merge that moves the order of one in a table the
    # answer's ingest did not read (orders)
    both(duck, other, "customers", write("a.csv", "customer_id,email\nK7,k7@x.pl\n"))
    both(duck, other, "customers", write("b.csv", "customer_id,phone\nK8,602000111\n"))
    both(duck, other, "orders", write("o.csv", "customer_id,date,amount\nK8,2025-01-01,10\nK8,2025-01-01,10\n"
                                              "K9,not a date,3\n"))
    order_of_k8 = all_rows(other, "orders")[0][1]
    merged = both(duck, other, "responses", write("r.csv", "email,phone,date,nps\nk7@x.pl,602 000 111,2025-02-01,10\n"))
    assert merged.customers_merged == 1 and all_rows(other, "orders")[0][1] != order_of_k8
    # files with rejected rows (encodings, out-of-range values, broken quotes), loaded twice
    r = both(duck, other, "orders", BAD / "zamowienia_cp1250.csv")
    assert r.rows_stored > 0
    again = both(duck, other, "orders", BAD / "zamowienia_cp1250.csv")  # already loaded: a duplicate_file run
    assert again.rows_stored == 0 and again.rows_duplicate == again.rows_read
    r = both(duck, other, "responses", BAD / "out_of_range.csv")
    assert r.rows_rejected > 0
    both(duck, other, "orders", BAD / "broken_quotes.csv")
    both(duck, other, "feedback", BAD / "feedback_cp1251.csv")
    # a mapping that recodes, then the file loaded again with a better one, replacing what it stored (R1 and R3
    # analysed in between: their analyses go with the rows replaced)
    data = write("fft.csv", FFT)
    naive = write("naive.toml", FFT_MAPPING.replace('formula = "6 - x"', "").replace("missing = [6, 7]", ""))
    both(duck, other, "responses", data, mapping=naive)
    for store in (duck, other):
        _analysed(store, ["R1", "R3"])
    data.write_text(FFT.replace("Good overall", "Good overall and thank you").replace(
        "R10,2025-03-10,1,Excellent,P10\n", ""), encoding="utf-8")
    again = both(duck, other, "responses", data, mapping=write("fft.toml", FFT_MAPPING), replace=True)
    assert again.rows_removed > 0 and again.replaced_runs
    both(duck, other, "cases", write("complaints.csv", COMPLAINTS), mapping=write("c.toml", COMPLAINTS_MAPPING))

    a, b = every_table(duck), every_table(other)
    duck.close()
    assert a == b
    # a store worth comparing: customers merged across channels, rejected rows with reasons, replaced runs
    assert len(a["customers"]) >= 5 and len(a["customer_merges"]) == 1 and len(a["rejected_rows"]) > 3
    assert all(r[6] for r in b["rejected_rows"])  # each rejected row kept with its reason
    assert {r[7] for r in a["ingest_runs"]} == {"stored", "duplicate_file", "replaced"}
    assert a["text_analyses"]
    anna = {r[2] for r in a["identities"] if r[1] in ("K1", "annan", "+48601234567")}
    assert len(anna) == 1  # one customer from three channels
    if lake is not None:  # nothing temporary left, no journal
        from centric.engines.lake import JOURNAL

        assert not list(lake.rglob("*.tmp")) and not (lake / JOURNAL).exists()
