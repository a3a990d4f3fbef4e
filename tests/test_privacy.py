"""Erasure leaves nothing of the person behind: not in rejected rows, not in the file's free blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from centric import Store
from centric.ingest import ingest
from centric.privacy import forget
from centric.store import compact

from .conftest import rows

COMMENT = "The courier left the parcel at my neighbour's again - third time this month"


def _load(store, write):
    ingest("customers", write("c.csv", "customer_id,name,email,phone\n"
                                       "K1,Marta Wiśniewska,marta@x.pl,+48 640 771 815\n"
                                       "K2,Jan Kos,jan@x.pl,601 234 567\n"), store=store)
    ingest("responses", write("r.csv", "email,date,nps,comment\n"
                                       f"marta@x.pl,2025-01-03,2,{COMMENT}\n"
                                       "jan@x.pl,2025-01-03,9,fine\n"), store=store)
    # rejected rows that name Marta only by a phone written differently, by her name, or by her words
    ingest("responses", write("r2.csv", "phone,date,nps,comment\n"
                                        "640 771 815,2025-02-01,12,no\n"
                                        "0048-640-771-815,2025-02-02,,\n"
                                        "601 234 567,2025-02-03,13,Jan's row stays\n"), store=store)
    ingest("feedback", write("f.csv", "author,date,text\n"
                                      "wiśniewska marta,2025-02-30,hello\n"
                                      f"anonymous,2025-02-31,\"{COMMENT.upper()}\"\n"
                                      "Anna,2025-02-32,Marta was helpful (a staff member)\n"), store=store,
           values={"source": "review"})


def rejected(store) -> list[tuple[str, int]]:
    """The rejected rows: (the file's name, the row's number), sorted."""
    return sorted((Path(source).name, n) for source, n in rows(store, "SELECT source, row_number FROM rejected_rows"))


def test_forget_erases_rejected_rows_by_phone_name_and_text(store, write):
    _load(store, write)
    before = rejected(store)
    assert before == [("f.csv", 2), ("f.csv", 3), ("f.csv", 4), ("r2.csv", 2), ("r2.csv", 3), ("r2.csv", 4)]
    e = forget(store, "marta@x.pl")
    assert e.customer_id == "C0000001"
    # r2.csv rows 2-3 (her phone spaced and with 0048), f.csv rows 2 (her name reversed) and 3 (her comment)
    assert e.rejected_rows_removed == 4
    assert rejected(store) == [
        ("f.csv", 4), ("r2.csv", 4)]  # Jan's row, and a first name alone does not identify her


@pytest.mark.capability("compact", engines=("duckdb",))
def test_compact_removes_erased_bytes_from_the_file(tmp_path, write):
    db = tmp_path / "c.duckdb"
    with Store.open(db) as store:
        _load(store, write)
        store.con.execute("CHECKPOINT")
    assert b"640 771 815" in db.read_bytes()
    with Store.open(db) as store:
        forget(store, "C0000001")
        store.con.execute("CHECKPOINT")
        left = rows(store, "SELECT count(*) FROM rejected_rows")
    assert b"640 771 815" in db.read_bytes()  # erased from the tables, not yet from the file's free blocks
    size, new_size = compact(db)
    data = db.read_bytes()
    assert b"640 771 815" not in data and b"marta@x.pl" not in data and b"neighbour" not in data
    assert new_size == len(data)
    with Store.open(db, read_only=True) as store:  # the same contents, the same schema
        assert rows(store, "SELECT count(*) FROM rejected_rows") == left
        assert rows(store, "SELECT name FROM customers") == [("Jan Kos",)]
        assert store.counts()["responses"] == 2


def test_forget_compact_on_the_command_line(tmp_path, write):
    from typer.testing import CliRunner

    from centric.cli import app

    db = tmp_path / "c.duckdb"
    with Store.open(db) as store:
        _load(store, write)
    res = CliRunner().invoke(app, ["--db", str(db), "customers", "forget", "640771815", "--yes", "--compact"])
    assert res.exit_code == 0, res.output
    assert "customer C0000001 erased: 3 identities removed" in res.output and "4 rejected rows removed" in res.output
    assert "store rewritten" in res.output and b"640 771 815" not in db.read_bytes()
    res = CliRunner().invoke(app, ["--db", str(db), "customers", "forget", "jan@x.pl", "--yes"])
    assert "run centric compact" in res.output  # the erased bytes are still in the file: said so
    res = CliRunner().invoke(app, ["--db", str(db), "compact"])
    assert res.exit_code == 0 and b"jan@x.pl" not in db.read_bytes()
