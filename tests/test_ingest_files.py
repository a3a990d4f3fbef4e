"""The corpus of bad and awkward files (tests/data/bad, made by tests/data/make_bad_files.py):
each loads with what can be loaded, and says precisely what could not."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys

import pytest

from centric import ingest
from centric.errors import CentricError, IngestError, MissingColumnError, UnreadableSourceError

from .conftest import BAD
from .engines import ALL
from .engines import sql_rows as rows


def rejected(store, run_id):
    return rows(store, "SELECT row_number, column_name, value, reason FROM rejected_rows WHERE run_id = ? "
                       "ORDER BY row_number, column_name", [run_id])


@pytest.mark.capability("ingest", engines=ALL)
def test_cp1250_semicolons_decimal_commas_day_first(engine_store):
    r = ingest("orders", BAD / "zamowienia_cp1250.csv", store=engine_store)[0]
    assert (r.encoding, r.delimiter, r.rows_read, r.rows_stored, r.rows_rejected) == ("cp1250", ";", 3, 3, 0)
    got = rows(engine_store, "SELECT order_id, ordered_at, amount, currency, category FROM orders ORDER BY order_id")
    assert got == [
        ("Z1", dt.datetime(2025, 12, 31), 1234.56, "PLN", "lodówki"),
        ("Z2", dt.datetime(2025, 2, 1, 14, 30), 12.5, "PLN", "pralki"),
        ("Z3", dt.datetime(2025, 3, 5), 1234.0, "PLN", "pralki"),
    ]
    assert r.ignored_columns == ["Uwagi"]
    # the Polish text survives byte-exact: load the comment column as a response comment
    r2 = ingest("responses", BAD / "zamowienia_cp1250.csv", store=engine_store,
                values={"survey": "x"}, name="same file as answers")[0]
    assert (r2.rows_stored, r2.rows_rejected) == (1, 2)  # two rows have no comment and no score
    assert rows(engine_store, "SELECT comment FROM responses WHERE comment IS NOT NULL") == [("zażółć gęślą jaźń",)]


@pytest.mark.capability("ingest", engines=ALL)
def test_loading_twice_adds_nothing(engine_store, tmp_path):
    first = ingest("orders", BAD / "zamowienia_cp1250.csv", store=engine_store)[0]
    before = rows(engine_store, "SELECT count(*) FROM orders")
    again = ingest("orders", BAD / "zamowienia_cp1250.csv", store=engine_store)[0]
    assert again.rows_stored == 0 and again.rows_duplicate == 3 and "already loaded" in again.status
    assert str(first.run_id) in again.status
    # the same rows in a renamed copy with one more row: only the new row is stored
    copy = tmp_path / "copy.csv"
    shutil.copy(BAD / "zamowienia_cp1250.csv", copy)
    with open(copy, "ab") as f:
        f.write("Z4;ewa@example.pl;06.03.2025;5,00;AGD;\n".encode("cp1250"))
    third = ingest("orders", copy, store=engine_store)[0]
    assert (third.rows_stored, third.rows_duplicate) == (1, 3)
    assert rows(engine_store, "SELECT count(*) FROM orders")[0][0] == before[0][0] + 1


@pytest.mark.capability("ingest", engines=ALL)
def test_cp1251_russian_text_and_latin1_italian(engine_store):
    r = ingest("feedback", BAD / "feedback_cp1251.csv", store=engine_store)[0]
    assert (r.encoding, r.rows_stored) == ("cp1251", 2)
    got = rows(engine_store, "SELECT text, source, rating FROM feedback ORDER BY posted_at")
    assert got == [("доставка опоздала", "review", 2.5),
                   ("Консультант был вежлив, но доставка опоздала на три дня", "complaint", 1.0)]
    r = ingest("orders", BAD / "ordini_latin1.csv", store=engine_store, currency="EUR")[0]
    assert (r.encoding, r.rows_stored) == ("latin-1", 2)
    assert rows(engine_store, "SELECT store, amount, currency, ordered_at FROM orders ORDER BY order_id") == [
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


@pytest.mark.capability("ingest", engines=ALL)
def test_missing_required_column_names_file_column_and_found(engine_store):
    with pytest.raises(MissingColumnError) as e:
        ingest("orders", BAD / "missing_column.csv", store=engine_store)
    msg = str(e.value)
    assert "missing_column.csv" in msg and "'amount'" in msg
    assert "Columns found: 'order_id', 'email', 'date', 'category'" in msg
    assert rows(engine_store, "SELECT count(*) FROM ingest_runs")[0][0] == 0


@pytest.mark.capability("ingest", engines=ALL)
def test_out_of_range_scores(engine_store):
    r = ingest("responses", BAD / "out_of_range.csv", store=engine_store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (5, 1, 4)
    assert rejected(engine_store, r.run_id) == [
        (2, "nps", "11", "nps must be a whole number from 0 to 10, got '11'"),
        (3, "csat", "0", "csat must be a whole number from 1 to 5, got '0'"),
        (4, "ces", "8", "ces must be a whole number from 1 to 7, got '8'"),
        (5, "nps", "7.5", "nps must be a whole number from 0 to 10, got '7.5'"),
    ]
    # the rejected row is kept whole
    rec = rows(engine_store, "SELECT record FROM rejected_rows WHERE row_number = 2")[0][0]
    assert '"response_id":"R1"' in rec.replace(" ", "")


@pytest.mark.capability("ingest", engines=ALL)
def test_broken_quotes_cost_only_their_line(engine_store):
    r = ingest("orders", BAD / "broken_quotes.csv", store=engine_store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (3, 2, 1)
    assert rejected(engine_store, r.run_id) == [(3, "amount", 'A2,b@x.pl,2025-01-02,"20,00',
                                          "a quote opened on this line is never closed")]
    assert rows(engine_store, "SELECT order_id, amount FROM orders ORDER BY 1") == [("A1", 10.5), ("A3", 30.0)]


@pytest.mark.capability("ingest", engines=ALL)
def test_wrong_number_of_fields(engine_store):
    r = ingest("orders", BAD / "wrong_fields.csv", store=engine_store)[0]
    assert (r.rows_stored, r.rows_rejected) == (2, 2)
    reasons = [(row, reason) for row, _, _, reason in rejected(engine_store, r.run_id)]
    assert reasons == [(3, "the line has 5 fields, the header has 4"),
                       (4, "the line has 3 fields, the header has 4")]


@pytest.mark.capability("ingest", engines=ALL)
def test_mixed_date_formats(engine_store):
    r = ingest("orders", BAD / "mixed_dates.csv", store=engine_store)[0]
    assert (r.rows_stored, r.rows_rejected) == (6, 1)
    assert rows(engine_store, "SELECT order_id, ordered_at FROM orders ORDER BY 1") == [
        ("D1", dt.datetime(2025, 12, 31)), ("D2", dt.datetime(2025, 12, 31)),
        ("D3", dt.datetime(2025, 12, 31, 10)), ("D4", dt.datetime(2025, 12, 31, 8)),
        ("D5", dt.datetime(2025, 12, 31, 10)), ("D6", dt.datetime(2025, 12, 31, 23, 59, 59)),
    ]
    (row, col, value, reason), = rejected(engine_store, r.run_id)
    assert (row, col, value) == (8, "date", "yesterday")
    assert reason.startswith("'yesterday' is not a date")


@pytest.mark.capability("ingest", engines=ALL)
def test_excel_with_title_rows(engine_store):
    r = ingest("responses", BAD / "title_rows.xlsx", store=engine_store)[0]
    assert r.format == "excel" and (r.rows_read, r.rows_stored, r.rows_rejected) == (5, 2, 3)
    assert rows(engine_store, "SELECT response_id, responded_at, nps, comment FROM responses ORDER BY 1") == [
        ("X1", dt.datetime(2025, 1, 10, 10), 10, "Super!"),
        ("X2", dt.datetime(2025, 1, 10), 3, "Długo czekałem"),
    ]
    # sheet row numbers: the header is on row 4, X3 on row 8; the title rows above the header are kept
    assert rejected(engine_store, r.run_id) == [
        (1, None, "Survey export — all answers", "above the header on row 4: not read as data"),
        (2, None, "Generated 2025-02-01", "above the header on row 4: not read as data"),
        (8, "NPS", "12", "nps must be a whole number from 0 to 10, got '12'"),
    ]


@pytest.mark.capability("ingest", engines=ALL)
def test_jsonl_bad_lines(engine_store):
    r = ingest("feedback", BAD / "bad_lines.jsonl", store=engine_store, values={"source": "social"})[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (4, 2, 2)
    got = [(row, reason.split(" (")[0]) for row, _, _, reason in rejected(engine_store, r.run_id)]
    assert got == [(2, "not valid JSON"), (3, "the line is not a JSON object")]
    # @Ola and ola are one handle: both posts belong to one customer
    assert rows(engine_store, "SELECT count(DISTINCT customer_id) FROM feedback") == [(2,)]
    assert rows(engine_store, "SELECT value FROM identities ORDER BY 1") == [("ala",), ("ola",)]


@pytest.mark.capability("ingest", engines=ALL)
def test_file_with_rejected_rows_loaded_twice_stores_nothing_new(engine_store):
    first = ingest("responses", BAD / "out_of_range.csv", store=engine_store)[0]
    again = ingest("responses", BAD / "out_of_range.csv", store=engine_store)[0]
    assert (first.rows_stored, again.rows_stored, again.rows_duplicate, again.rows_rejected) == (1, 0, 1, 4)
    assert rows(engine_store, "SELECT count(*) FROM responses") == [(1,)]


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


# -- hostile files: bounded resources, nothing lost, no tracebacks ---------------------------------
def _workbook(path, rows, edit=None):
    """An .xlsx of ``rows``; ``edit(xml) -> xml`` rewrites its sheet's XML."""
    import openpyxl

    from .data.make_bad_files import _rewrite_sheet

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    if edit:
        _rewrite_sheet(path, edit)
    return path


def test_sheet_claiming_xfd1048576_reads_only_its_cells(store):
    from centric.ingest.readers import _sheet_rows

    r = ingest("orders", BAD / "claims_xfd1048576.xlsx", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (1, 1, 0)
    assert rows(store, "SELECT order_id, amount FROM orders") == [("X1", 5.0)]
    # the claimed size is not padded out: the two non-empty rows, as wide as their values
    import openpyxl

    wb = openpyxl.load_workbook(BAD / "claims_xfd1048576.xlsx", read_only=True)
    assert wb.active.max_column == 16384 and wb.active.max_row == 1048576
    assert list(_sheet_rows(wb.active)) == [(1, ["order_id", "email", "date", "amount"]),
                                            (2, ["X1", "x@x.pl", "2025-01-01", "5"])]
    wb.close()


def test_sheet_row_numbered_999999999(store):
    r = ingest("orders", BAD / "row_999999999.xlsx", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (2, 1, 1)
    assert {(row, col) for row, col, _, _ in rejected(store, r.run_id)} >= {(999_999_999, "date")}


def test_sheet_of_16000_formatted_empty_columns(store, tmp_path):
    empties = "".join(f'<c r="{c}{{r}}" s="0"/>' for c in _letters(5, 16005))
    def edit(xml):  # 16,000 formatted empty cells right of every row
        return re.sub(r'<row r="(\d+)"([^>]*)>(.*?)</row>',
                      lambda m: f'<row r="{m[1]}"{m[2]}>{m[3]}{empties.replace("{r}", m[1])}</row>', xml)
    book = _workbook(tmp_path / "wide.xlsx", [["order_id", "email", "date", "amount"],
                                              ["E1", "e@x.pl", "2025-01-01", 1], ["E2", "f@x.pl", "2025-01-02", 2]],
                     edit)
    r = ingest("orders", book, store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (2, 2, 0)
    assert r.ignored_columns == []  # the empty columns are not columns


def _letters(first, last):
    from openpyxl.utils import get_column_letter

    return [get_column_letter(c) for c in range(first, last)]


def test_limits_are_settings_checked_before_reading(store, tmp_path, monkeypatch, write):
    # an .xlsx is judged by its unpacked size: 200 rows of 600 formatted empty cells are ~3 MB of XML
    empties = "".join(f'<c r="{c}1" s="0"/>' for c in _letters(5, 605))
    book = _workbook(tmp_path / "packed.xlsx", [["order_id", "email", "date", "amount"]] +
                     [[f"P{i}", f"p{i}@x.pl", "2025-01-01", i] for i in range(200)],
                     lambda xml: xml.replace("</row>", empties + "</row>"))
    assert book.stat().st_size < 1 << 20
    monkeypatch.setenv("CENTRIC_MAX_FILE_MB", "1")
    with pytest.raises(UnreadableSourceError, match=r"packed.xlsx: unpacked, the workbook is \d MB, more than "
                                                     r"the limit of 1 MB \(setting max_file_mb"):
        ingest("orders", book, store=store)
    big = write("big.csv", "order_id,email,date,amount\n" + "B1,b@x.pl,2025-01-01,1\n" * 60_000)
    with pytest.raises(UnreadableSourceError, match=r"big.csv: 1 MB, more than the limit of 1 MB"):
        ingest("orders", big, store=store)
    monkeypatch.delenv("CENTRIC_MAX_FILE_MB")
    # rows: a sheet, a CSV (fast and careful readers) and JSON lines stop past max_rows; nothing stored
    monkeypatch.setenv("CENTRIC_MAX_ROWS", "3")
    lines = "order_id,email,date,amount\n" + "".join(f"R{i},r{i}@x.pl,2025-01-01,{i}\n" for i in range(4))
    files = [_workbook(tmp_path / "rows.xlsx", [r.split(",") for r in lines.splitlines()]),
             write("rows.csv", lines), write("rows_blank.csv", lines.replace("\nR2", "\n\nR2")),
             write("rows.jsonl", "".join(f'{{"order_id": "J{i}", "email": "j@x.pl", "date": "2025-01-01", '
                                         f'"amount": {i}}}\n' for i in range(4)))]
    for f in files:
        with pytest.raises(UnreadableSourceError, match=rf"{f.name}: more than 3 rows, the limit \(setting max_rows"):
            ingest("orders", f, store=store)
    assert ingest("orders", write("three.csv", lines.rsplit("R3", 1)[0]), store=store)[0].rows_stored == 3
    monkeypatch.setenv("CENTRIC_MAX_ROWS", "many")
    with pytest.raises(CentricError, match="setting max_rows .from the environment variable CENTRIC_MAX_ROWS.: 'many' is not valid; expected a whole number above 0"):
        ingest("orders", big, store=store)
    monkeypatch.delenv("CENTRIC_MAX_ROWS")
    assert rows(store, "SELECT count(*) FROM orders") == [(3,)]


def test_column_limit(store, write, tmp_path, monkeypatch):
    names = ["order_id", "email", "date", "amount"]
    wide = write("wide.csv", ",".join(names + [f"c{i}" for i in range(20_000)]) + "\n"
                 + ",".join(["W1", "w@x.pl", "2025-01-01", "1"] + ["v"] * 20_000) + "\n")
    with pytest.raises(UnreadableSourceError, match=r"wide.csv: 20,004 columns, more than the limit of 1,000 "
                                                    r"\(setting max_columns"):
        ingest("orders", wide, store=store)
    # trailing columns without a name are pointed out
    commas = write("commas.csv", "order_id,email,date,amount" + "," * 1500 + "\nW1,w@x.pl,2025-01-01,1" + "," * 1500 + "\n")
    with pytest.raises(UnreadableSourceError, match=r"1,504 columns \(the last 1,500 have no name: delete them\)"):
        ingest("orders", commas, store=store)
    monkeypatch.setenv("CENTRIC_MAX_COLUMNS", "4")
    keys = write("keys.json", '[{"order_id": "K1", "email": "k@x.pl", "date": "2025-01-01", "amount": 1}, '
                 '{"order_id": "K2", "note": "a fifth key"}]')
    with pytest.raises(UnreadableSourceError, match=r"keys.json: 5 columns, more than the limit of 4"):
        ingest("orders", keys, store=store)
    sheet = _workbook(tmp_path / "five.xlsx", [names + ["category"], ["F1", "f@x.pl", "2025-01-01", 1, "tv"]])
    with pytest.raises(UnreadableSourceError, match=r"five.xlsx: 5 columns"):
        ingest("orders", sheet, store=store)
    assert ingest("orders", write("four.csv", ",".join(names) + "\nF1,f@x.pl,2025-01-01,1\n"),
                  store=store)[0].rows_stored == 1


def test_cr_only_line_ends(store):
    r = ingest("orders", BAD / "cr_only.csv", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (3, 2, 1)
    assert rows(store, "SELECT order_id, amount FROM orders ORDER BY 1") == [("C1", 1.0), ("C3", 3.0)]
    assert [(row, col, value) for row, col, value, _ in rejected(store, r.run_id)] == [(3, "date", "someday")]


def test_bytes_that_are_not_text_reject_their_row(store, write):
    r = ingest("orders", BAD / "cp1252_undefined_byte.csv", store=store)[0]
    assert (r.encoding, r.rows_read, r.rows_stored, r.rows_rejected) == ("cp1252", 2, 1, 1)
    assert rejected(store, r.run_id) == [
        (2, "store", "Città\ufffd", "the value holds bytes that are not Windows-1252 (0x81); the file mixes encodings")]
    assert rows(store, "SELECT store FROM orders") == [("Perché – centro",)]
    # a UTF-8 file (its first megabyte shows UTF-8 letters) with a Latin-1 byte after the first megabyte
    body = "".join(f"B{i},b{i}@x.pl,2025-01-01,{i},łódź\n" for i in range(40_000))
    late = write("late.csv", ("order_id,email,date,amount,category\n" + body).encode("utf-8")
                 + b"Z1,z@x.pl,2025-01-01,1,caf\xe9\nZ2,y@x.pl,2025-01-02,2,ok\n")
    assert late.stat().st_size > 1 << 20
    r = ingest("orders", late, store=store)[0]
    assert (r.encoding, r.rows_read, r.rows_stored, r.rows_rejected) == ("utf-8", 40_002, 40_001, 1)
    assert [(row, col, value) for row, col, value, _ in rejected(store, r.run_id)] == [(40_002, "category", "caf\ufffd")]
    # plain ASCII for a megabyte, then Polish letters in Windows-1250: the file is Windows-1250
    ascii_first = write("ascii_first.csv", ("order_id,email,date,amount,category\n"
                                            + "".join(f"A{i},a{i}@x.pl,2025-01-01,{i},tv\n" for i in range(40_000))
                                            + "Z9,z9@x.pl,2025-01-01,1,zażółć\n").encode("cp1250"))
    r = ingest("orders", ascii_first, store=store)[0]
    assert (r.encoding, r.rows_stored, r.rows_rejected) == ("cp1250", 40_001, 0)
    assert rows(store, "SELECT category FROM orders WHERE order_id = 'Z9'") == [("zażółć",)]


@pytest.mark.parametrize("body, expected", [
    ("łódź".encode() + b",caf\xe9\n", "utf-8"),  # UTF-8 letters, then a stray Latin-1 byte: UTF-8
    ("zażółć\n".encode("cp1250"), "cp1250"),  # ASCII, then Polish letters in Windows-1250
    (b"\xc5", "utf-8"),  # a two-byte UTF-8 letter cut by the chunk's end (its second byte starts the next)
    (b"\n" * 20, "utf-8"),  # ASCII to the end
])
def test_the_encoding_past_an_ascii_start(tmp_path, body, expected):
    from centric.ingest.encoding import detect_file_encoding

    data = b"id,city\nA1,ok\n" + b"x" * 2 + body  # the first 16 bytes (the sample here) are ASCII
    if body == b"\xc5":
        data = data[:16] + b"x" * 15 + b"\xc5" + b"\x82" + b"\n"  # \xc5 ends the second 16-byte chunk
    (tmp_path / "f.csv").write_bytes(data)
    assert detect_file_encoding(tmp_path / "f.csv", sample=16) == expected


def test_the_encoding_is_judged_without_reading_on_past_utf8_letters(tmp_path, monkeypatch):
    from centric.ingest import encoding

    (tmp_path / "f.csv").write_bytes("id,city\nA1,Kraków\n".encode() + b"A2,x\n" * 1000)
    read = []

    class Counted:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def read(self, n):
            data = self.f.read(n)
            read.append(len(data))
            return data

    monkeypatch.setattr(encoding, "open", lambda path, mode: Counted(open(path, mode)), raising=False)
    assert encoding.detect_file_encoding(tmp_path / "f.csv", sample=64) == "utf-8"
    assert read == [64]  # the first 64 bytes show "ó": the other 5,000 are not read


def test_utf32_and_bomless_utf16(store, write):
    r = ingest("orders", BAD / "utf32_bom.csv", store=store)[0]
    assert (r.encoding, r.rows_stored) == ("utf-32", 1)
    assert rows(store, "SELECT store FROM orders") == [("Łódź",)]
    r = ingest("orders", write("u16.csv", "order_id,email,date,amount,store\nV1,v@x.pl,2025-01-01,2,Città\n",
                               encoding="utf-16-le"), store=store)[0]
    assert (r.encoding, r.rows_stored) == ("utf-16-le", 1)
    assert rows(store, "SELECT store FROM orders WHERE order_id = 'V1'") == [("Città",)]


def test_field_over_131072_characters(store, write):
    long = "x" * 200_000
    f = write("long.csv", f"order_id,email,date,amount,category\nL1,l@x.pl,2025-01-01,1,{long}\n"
                          f'L2,m@x.pl,2025-01-02,2,"{long}\nsecond line"\n')
    r = ingest("orders", f, store=store)[0]
    assert (r.rows_read, r.rows_stored) == (2, 2)
    assert rows(store, "SELECT order_id, length(category) FROM orders ORDER BY 1") == [("L1", 200_000),
                                                                                       ("L2", 200_012)]


def test_json_nested_1000_deep(store):
    with pytest.raises(UnreadableSourceError, match=r"nested_1000.json: the JSON is nested too deeply"):
        ingest("orders", BAD / "nested_1000.json", store=store)
    r = ingest("orders", BAD / "nested_line.jsonl", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (3, 1, 2)
    assert [(row, col, reason.split(" (")[0]) for row, col, _, reason in rejected(store, r.run_id)] == [
        (2, None, "the record is nested too deeply"),
        (3, "category", "the value holds characters that are not valid text"),
    ]


def test_header_vote_and_rows_above_the_header(store):
    r = ingest("orders", BAD / "header_vote.csv", store=store)[0]
    # the real header (line 2) names 2 known columns, the data row on line 4 names 4: the header wins,
    # the title line is kept as a rejected row, the odd data row is rejected for its values
    assert r.columns == {"email": "Mail", "ordered_at": "Date", "amount": "Total"}
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (4, 2, 2)
    got = rejected(store, r.run_id)
    assert got[0] == (1, None, "Orders export", "above the header on row 2: not read as data")
    assert {row for row, *_ in got} == {1, 4}
    assert rows(store, "SELECT amount FROM orders ORDER BY 1") == [(1.0,), (3.0,)]


@pytest.mark.parametrize("table, header", [
    # title lines are narrower than the table
    ([["Report"], ["Generated", "2025-01-01"], ["id", "email", "date", "amount"], ["A1", "a@x.pl", "2025-01-01", "1"]], 2),
    # a header naming no known column (mapped by a mapping file) above data naming some
    ([["Kod", "Poczta", "Kiedy"], ["A1", "a@x.pl", "2025-01-01"], ["B2", "email", "date"]], 0),
    # a group row above the real header: the header names many more known columns
    ([["Customer", "", "Order", ""], ["email", "phone", "order id", "amount"], ["a@x.pl", "1", "A1", "2"]], 1),
])
def test_find_header(table, header):
    from centric.ingest.columns import known_names
    from centric.ingest.readers import _find_header
    from centric.schema import TABLES

    rows_ = [[v or None for v in r] for r in table]
    assert _find_header(rows_, known_names(TABLES["orders"])) == header


def test_broken_quote_swallowing_the_next_record(store):
    r = ingest("orders", BAD / "swallowed_record.csv", store=store)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (3, 2, 1)
    assert rejected(store, r.run_id) == [
        (2, "category", 'A1,a@x.pl,2025-01-01,1,"fridges',
         "a quote opened in column 'category' is not closed before the next record (line 3)")]
    assert rows(store, "SELECT order_id, category FROM orders ORDER BY 1") == [
        ("A2", 'washers"'), ("A3", "tv, audio")]


def test_a_quoted_line_break_is_not_a_swallowed_record(store, write):
    f = write("multiline.csv", 'order_id,email,date,amount,category\n'
                               'M1,a@x.pl,2025-01-01,1,"fridges,\nwashers, dryers, irons"\n'
                               'M2,b@x.pl,2025-01-02,2,tv\n')
    r = ingest("orders", f, store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (2, 0)
    # a patient comment over three lines whose last line, read alone, has the file's eight fields
    import duckdb

    from centric.ingest.readers import read_source

    nhs = write("nhs.csv", 'code,label,subcategory,feedback,criticality,organization,question,row_index\n'
                           'ml,Communication,Listening,"People listen. ",3,Trust A,Trust A - Q2,1137\n'
                           'ca,Care received,Activities,"Using the gym with staff & peers. \n'
                           'Talking to staff about interests.\n'
                           'Reading, singing, watching tv, praying. ",3,Trust A,Trust A - Q2,1138\n'
                           'ef,Environment/ facilities,Food,The food. ,3,Trust A,Trust A - Q2,1142\n')
    con = duckdb.connect()  # the readers stage a file in DuckDB on every engine
    staged = read_source(con, nhs, set())
    assert (staged.rows_read, staged.rejects) == (3, [])
    assert con.execute("SELECT __row, feedback FROM _centric_stage ORDER BY 1").fetchall()[1] == (
        3, "Using the gym with staff & peers. \nTalking to staff about interests.\nReading, singing, watching tv, "
           "praying. ")


def test_no_temporary_file_is_left_behind(store, tmp_path, monkeypatch, write):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ok = write("ok.csv", "order_id;email;date;amount\nT1;t@x.pl;2025-01-01;1,5\n", encoding="cp1250")
    ingest("orders", ok, store=store)
    ingest("orders", BAD / "cp1252_undefined_byte.csv", store=store)  # the copy fails half-way
    monkeypatch.setenv("CENTRIC_MAX_ROWS", "1")
    two = write("two.csv", "order_id;email;date;amount\nT2;t@x.pl;2025-01-01;1\nT3;t@x.pl;2025-01-01;1\n",
                encoding="cp1250")
    with pytest.raises(UnreadableSourceError):
        ingest("orders", two, store=store)
    assert list(scratch.iterdir()) == []


def test_hostile_corpus_through_the_command_line(tmp_path):
    """A fresh generated corpus (one file of each kind) through `centric ingest` in a child process
    with a time and a memory limit: no traceback, no hang, no temporary file left, every file loaded
    or refused with a message, and read = stored + rejected + duplicate. The larger run, one process
    per file: benchmarks/hostile_ingest.py."""
    import importlib.util

    from .conftest import DATA

    path = DATA.parents[1] / "benchmarks" / "hostile_ingest.py"
    spec = importlib.util.spec_from_file_location("hostile_ingest", path)
    hostile = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = hostile  # its dataclasses look their module up
    spec.loader.exec_module(hostile)
    files = hostile.make_corpus(tmp_path / "files", len(hostile.KINDS), seed=5, max_kb=256)
    outcome = hostile.ingest_files(files, tmp_path, timeout=300, memory_mb=2048)
    assert outcome.problems == []
    assert outcome.exit_code in (0, 1) and not outcome.traceback
    assert len(outcome.results) >= len(files) // 2 and sum(r["rows_rejected"] for r in outcome.results) > 0
    assert len(outcome.results) + len(outcome.errors) == len(files)
