"""Rows given as records (what the web API posts) go through ingest's validation and come back with their keys."""

from __future__ import annotations

import pytest

from centric.errors import IngestError
from centric.ingest.records import ingest_records, records_frame
from tests.conftest import rows


def test_records_become_text_columns_in_first_seen_order():
    f = records_frame([{"email": "a@x.pl", "nps": 9}, {"nps": 7.5, "ok": True, "email": None, "extra": {"a": 1}}])
    assert list(f.columns) == ["email", "nps", "ok", "extra"]
    assert f.to_dict("records") == [
        {"email": "a@x.pl", "nps": "9", "ok": None, "extra": None},
        {"email": None, "nps": "7.5", "ok": "true", "extra": '{"a": 1}'},
    ]


def test_stored_rows_get_their_keys_and_customers(store):
    recs = [{"email": "a@x.pl", "text": "The courier was late", "source": "complaint", "created_at": "2026-11-02"},
            {"email": "b@x.pl", "text": "Great shop", "source": "review", "created_at": "02.11.2026",
             "feedback_id": "F-1"},
            {"email": "a@x.pl", "text": "The courier was late", "source": "complaint", "created_at": "2026-11-02"}]
    r = ingest_records(store, "feedback", recs, source="api:feedback:shop:1")
    ids = {row[0]: row[1] for row in rows(store, "SELECT feedback_id, customer_id FROM feedback")}
    assert len(ids) == 2 and ids["F-1"] is not None
    derived = next(k for k in ids if k != "F-1")
    assert derived.startswith("h") and len(derived) == 17  # derived from the row's content, as for a file
    assert r.stored == [
        {"index": 0, "id": derived, "customer_id": ids[derived], "duplicate": False},
        {"index": 1, "id": "F-1", "customer_id": ids["F-1"], "duplicate": False},
        {"index": 2, "id": derived, "customer_id": ids[derived], "duplicate": True},  # the same row again
    ]
    assert r.rejected == [] and r.rows_new == 2
    again = ingest_records(store, "feedback", recs[:2], source="api:feedback:shop:2")
    assert [(s["id"], s["duplicate"]) for s in again.stored] == [(derived, True), ("F-1", True)]
    assert rows(store, "SELECT count(*) FROM feedback") == [(2,)]


def test_rejected_rows_are_kept_with_row_and_column(store):
    recs = [{"email": "a@x.pl", "nps": 11, "answered_at": "2026-11-02"},
            {"email": "b@x.pl", "nps": 7, "answered_at": "2026-11-02"},
            {"email": "c@x.pl", "nps": "x", "answered_at": "31.13.2026"}]
    r = ingest_records(store, "responses", recs, source="api:responses:shop:1")
    assert [s["index"] for s in r.stored] == [1]
    assert [(x["index"], x["column"]) for x in r.rejected] == [(0, "nps"), (2, "answered_at"), (2, "nps")]
    assert "0 to 10" in r.rejected[0]["reason"] and r.rows_rejected == 2
    kept = rows(store, "SELECT source, row_number, column_name, value FROM rejected_rows ORDER BY row_number, "
                       "column_name")
    assert kept == [("api:responses:shop:1", 1, "nps", "11"), ("api:responses:shop:1", 3, "answered_at", "31.13.2026"),
                    ("api:responses:shop:1", 3, "nps", "x")]


def test_nothing_to_load_is_an_error(store):
    with pytest.raises(IngestError, match="no rows"):
        ingest_records(store, "feedback", [], source="api:feedback:shop:1")
    with pytest.raises(IngestError, match="required column"):
        ingest_records(store, "responses", [{"colour": "red"}], source="api:responses:shop:1")


def test_records_of_a_table_without_customers(store):
    """Employees (no customer column): stored with their key and no customer, a bad row kept with its reason."""
    r = ingest_records(store, "employees", [{"employee_id": "E1", "name": "Ala Kot", "unit": "S1"},
                                            {"employee_id": "E2", "name": "Ola Lis", "unit": "S1", "role": "boss"}],
                       "hr")
    assert r.stored == [{"index": 0, "id": "E1", "customer_id": None, "duplicate": False}]
    assert [(x["index"], x["column"]) for x in r.rejected] == [(1, "role")]
    assert store.execute("SELECT employee_id, name FROM employees").fetchall() == [("E1", "Ala Kot")]
