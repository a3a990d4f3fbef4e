"""The corpus of bad and awkward files (tests/data/bad, made by tests/data/make_bad_files.py):
each loads with what can be loaded, and says precisely what could not."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from centric import ingest
from centric.errors import IngestError, MissingColumnError, UnreadableSourceError

from .conftest import BAD, rows


def rejected(store, run_id):
    return rows(store, "SELECT row_number, column_name, value, reason FROM rejected_rows WHERE run_id = ? "
                       "ORDER BY row_number, column_name", [run_id])


def test_cp1250_semicolons_decimal_commas_day_first(store):
    r = ingest("orders", BAD / "zamowienia_cp1250.csv", store=store)[0]
    assert (r.encoding, r.delimiter, r.rows_read, r.rows_stored, r.rows_rejected) == ("cp1250", ";", 3, 3, 0)
    got = rows(store, "SELECT order_id, ordered_at, amount, currency, category FROM orders ORDER BY order_id")
    assert got == [
        ("Z1", dt.datetime(2025, 12, 31), 1234.56, "PLN", "lodówki"),
        ("Z2", dt.datetime(2025, 2, 1, 14, 30), 12.5, "PLN", "pralki"),
        ("Z3", dt.datetime(2025, 3, 5), 1234.0, "PLN", "pralki"),
    ]
    assert r.ignored_columns == ["Uwagi"]
    # the Polish text survives byte-exact: load the comment column as a response comment
    r2 = ingest("responses", BAD / "zamowienia_cp1250.csv", store=store,
                values={"survey": "x"}, name="same file as answers")[0]
    assert (r2.rows_stored, r2.rows_rejected) == (1, 2)  # two rows have no comment and no score
    assert rows(store, "SELECT comment FROM responses WHERE comment IS NOT NULL") == [("zażółć gęślą jaźń",)]


def test_loading_twice_adds_nothing(store, tmp_path):
    first = ingest("orders", BAD / "zamowienia_cp1250.csv", store=store)[0]
    before = rows(store, "SELECT count(*) FROM orders")
    again = ingest("orders", BAD / "zamowienia_cp1250.csv", store=store)[0]
    assert again.rows_stored == 0 and again.rows_duplicate == 3 and "already loaded" in again.status
    assert str(first.run_id) in again.status
    # the same rows in a renamed copy with one more row: only the new row is stored
    copy = tmp_path / "copy.csv"
    shutil.copy(BAD / "zamowienia_cp1250.csv", copy)
    with open(copy, "ab") as f:
        f.write("Z4;ewa@example.pl;06.03.2025;5,00;AGD;\n".encode("cp1250"))
    third = ingest("orders", copy, store=store)[0]
    assert (third.rows_stored, third.rows_duplicate) == (1, 3)
    assert rows(store, "SELECT count(*) FROM orders")[0][0] == before[0][0] + 1


def test_cp1251_russian_text_and_latin1_italian(store):
    r = ingest("feedback", BAD / "feedback_cp1251.csv", store=store)[0]
    assert (r.encoding, r.rows_stored) == ("cp1251", 2)
    got = rows(store, "SELECT text, source, rating FROM feedback ORDER BY posted_at")
    assert got == [("доставка опоздала", "review", 2.5),
                   ("Консультант был вежлив, но доставка опоздала на три дня", "complaint", 1.0)]
    r = ingest("orders", BAD / "ordini_latin1.csv", store=store, currency="EUR")[0]
    assert (r.encoding, r.rows_stored) == ("latin-1", 2)
    assert rows(store, "SELECT store, amount, currency, ordered_at FROM orders ORDER BY order_id") == [
        ("Città Studi", 1234.56, "EUR", dt.datetime(2025, 12, 31)),
        ("Perché no", 99.9, "EUR", dt.datetime(2025, 1, 13)),
    ]


def test_binary_file(store):
    with pytest.raises(UnreadableSourceError, match=r"binary.csv: not a text file"):
        ingest("orders", BAD / "binary.csv", store=store)


def test_empty_and_header_only(store):
    with pytest.raises(UnreadableSourceError, match=r"empty.csv: the file is empty"):
        ingest("orders", BAD / "empty.csv", store=store)
    with pytest.raises(IngestError, match=r"header_only.csv: the file has a header but no rows"):
        ingest("orders", BAD / "header_only.csv", store=store)


def test_missing_required_column_names_file_column_and_found(store):
    with pytest.raises(MissingColumnError) as e:
        ingest("orders", BAD / "missing_column.csv", store=store)
    msg = str(e.value)
    assert "missing_column.csv" in msg and "'amount'" in msg
    assert "Columns found: 'order_id', 'email', 'date', 'category'" in msg
    assert rows(store, "SELECT count(*) FROM ingest_runs")[0][0] == 0


def test_out_of_range_scores(store):
    r = ingest("responses", BAD / "out_of_range.csv", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (5, 1, 4)
    assert rejected(store, r.run_id) == [
        (2, "nps", "11", "nps must be a whole number from 0 to 10, got '11'"),
        (3, "csat", "0", "csat must be a whole number from 1 to 5, got '0'"),
        (4, "ces", "8", "ces must be a whole number from 1 to 7, got '8'"),
        (5, "nps", "7.5", "nps must be a whole number from 0 to 10, got '7.5'"),
    ]
    # the rejected row is kept whole
    rec = rows(store, "SELECT record FROM rejected_rows WHERE row_number = 2")[0][0]
    assert '"response_id":"R1"' in rec.replace(" ", "")


def test_broken_quotes_cost_only_their_line(store):
    r = ingest("orders", BAD / "broken_quotes.csv", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (3, 2, 1)
    assert rejected(store, r.run_id) == [(3, "amount", 'A2,b@x.pl,2025-01-02,"20,00',
                                          "a quote opened on this line is never closed")]
    assert rows(store, "SELECT order_id, amount FROM orders ORDER BY 1") == [("A1", 10.5), ("A3", 30.0)]


def test_wrong_number_of_fields(store):
    r = ingest("orders", BAD / "wrong_fields.csv", store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (2, 2)
    reasons = [(row, reason) for row, _, _, reason in rejected(store, r.run_id)]
    assert reasons == [(3, "the line has 5 fields, the header has 4"),
                       (4, "the line has 3 fields, the header has 4")]


def test_mixed_date_formats(store):
    r = ingest("orders", BAD / "mixed_dates.csv", store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (6, 1)
    assert rows(store, "SELECT order_id, ordered_at FROM orders ORDER BY 1") == [
        ("D1", dt.datetime(2025, 12, 31)), ("D2", dt.datetime(2025, 12, 31)),
        ("D3", dt.datetime(2025, 12, 31, 10)), ("D4", dt.datetime(2025, 12, 31, 8)),
        ("D5", dt.datetime(2025, 12, 31, 10)), ("D6", dt.datetime(2025, 12, 31, 23, 59, 59)),
    ]
    (row, col, value, reason), = rejected(store, r.run_id)
    assert (row, col, value) == (8, "date", "yesterday")
    assert reason.startswith("'yesterday' is not a date")


def test_excel_with_title_rows(store):
    r = ingest("responses", BAD / "title_rows.xlsx", store=store)[0]
    assert r.format == "excel" and (r.rows_read, r.rows_stored, r.rows_rejected) == (5, 2, 3)
    assert rows(store, "SELECT response_id, responded_at, nps, comment FROM responses ORDER BY 1") == [
        ("X1", dt.datetime(2025, 1, 10, 10), 10, "Super!"),
        ("X2", dt.datetime(2025, 1, 10), 3, "Długo czekałem"),
    ]
    # sheet row numbers: the header is on row 4, X3 on row 8; the title rows above the header are kept
    assert rejected(store, r.run_id) == [
        (1, None, "Survey export — all answers", "above the header on row 4: not read as data"),
        (2, None, "Generated 2025-02-01", "above the header on row 4: not read as data"),
        (8, "NPS", "12", "nps must be a whole number from 0 to 10, got '12'"),
    ]


def test_jsonl_bad_lines(store):
    r = ingest("feedback", BAD / "bad_lines.jsonl", store=store, values={"source": "social"})[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (4, 2, 2)
    got = [(row, reason.split(" (")[0]) for row, _, _, reason in rejected(store, r.run_id)]
    assert got == [(2, "not valid JSON"), (3, "the line is not a JSON object")]
    # @Ola and ola are one handle: both posts belong to one customer
    assert rows(store, "SELECT count(DISTINCT customer_id) FROM feedback") == [(2,)]
    assert rows(store, "SELECT value FROM identities ORDER BY 1") == [("ala",), ("ola",)]


def test_file_with_rejected_rows_loaded_twice_stores_nothing_new(store):
    first = ingest("responses", BAD / "out_of_range.csv", store=store)[0]
    again = ingest("responses", BAD / "out_of_range.csv", store=store)[0]
    assert (first.rows_stored, again.rows_stored, again.rows_duplicate, again.rows_rejected) == (1, 0, 1, 4)
    assert rows(store, "SELECT count(*) FROM responses") == [(1,)]


def test_csv_title_lines_sep_hint_and_odd_line_breaks(store, write):
    titled = write("titled.csv", "Raport sprzedaży 2025\nWygenerowano 01.02.2025\n\n"
                   "Nr zamówienia;E-mail;Data;Kwota\nZ1;a@x.pl;01.01.2025;12,50\nZ2;b@x.pl;02.01.2025;7\n",
                   encoding="cp1250")
    r = ingest("orders", titled, store=store)[0]
    assert (r.delimiter, r.rows_read, r.rows_stored, r.rows_rejected) == (";", 4, 2, 2)
    hinted = write("hinted.csv", "sep=;\norder_id;email;date;amount\nH1;h@x.pl;2025-01-01;1,5\n")
    assert ingest("orders", hinted, store=store)[0].rows_stored == 1
    odd = write("odd.csv", "order_id,email,date,amount,category\nU1,u@x.pl,2025-01-01,1,a\u2028b\x0bc\n")
    assert ingest("orders", odd, store=store)[0].rows_stored == 1
    assert rows(store, "SELECT category FROM orders WHERE order_id = 'U1'") == [("a\u2028b\x0bc",)]
    # an unquoted decimal comma in a semicolon file does not fool the delimiter sniffer
    semi = write("semi.csv", "order_id;email;date;amount\nS1;s@x.pl;2025-01-01;1,5\nS2;t@x.pl;2025-01-01;2,25\n")
    r = ingest("orders", semi, store=store)[0]
    assert r.delimiter == ";" and rows(store, "SELECT amount FROM orders WHERE order_id = 'S2'") == [(2.25,)]
    # rows are numbered as lines of the file: the title lines count
    bad = write("titled_bad.csv", "Export\n\norder_id,email,date,amount\nB1,b@x.pl,2025-01-01,x\n")
    r = ingest("orders", bad, store=store)[0]
    assert rows(store, "SELECT row_number FROM rejected_rows WHERE run_id = ? ORDER BY 1", [r.run_id]) == [(1,), (4,)]


def test_windows_1252_and_the_right_excel_sheet(store, write, tmp_path):
    import openpyxl

    f = write("it.csv", "Numero ordine;Codice cliente;Data;Importo;Negozio\nW1;K1;01/02/2025;99,90 €;“Città” – centro\n",
              encoding="cp1252")
    r = ingest("orders", f, store=store)[0]
    assert (r.encoding, r.rows_stored) == ("cp1252", 1)
    assert rows(store, "SELECT store, amount FROM orders") == [("“Città” – centro", 99.9)]
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["Read me first"])
    ws = wb.create_sheet("Orders")
    ws.append(["order_id", "email", "date", "amount"])
    ws.append(["X1", "x@x.pl", "2025-01-01", 5])
    wb.save(tmp_path / "two.xlsx")
    assert ingest("orders", tmp_path / "two.xlsx", store=store)[0].rows_stored == 1
