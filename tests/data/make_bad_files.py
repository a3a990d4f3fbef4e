"""Writes the corpus of bad and awkward files in tests/data/bad (run once; the files are committed).

python tests/data/make_bad_files.py
"""

import re
import zipfile
from pathlib import Path

import openpyxl

BAD = Path(__file__).parent / "bad"


def main() -> None:
    BAD.mkdir(exist_ok=True)
    # Russian text in Windows-1251, semicolons, decimal commas
    (BAD / "feedback_cp1251.csv").write_bytes(
        "дата;текст;источник;оценка\n"
        "01.03.2025;доставка опоздала;отзыв;2,5\n"
        "02.03.2025;Консультант был вежлив, но доставка опоздала на три дня;жалоба;1\n".encode("cp1251"))
    # Polish orders in Windows-1250: semicolons, decimal commas, thousands spaces, day-first dates
    (BAD / "zamowienia_cp1250.csv").write_bytes(
        "Nr zamówienia;E-mail;Data;Kwota;Kategoria;Uwagi\n"
        "Z1;anna@example.pl;31.12.2025;1 234,56 zł;lodówki;zażółć gęślą jaźń\n"
        "Z2;jan@example.pl;01.02.2025 14:30;12,50;pralki;\n"
        "Z3;ola@example.pl;05.03.2025;1.234,00;pralki;\n".encode("cp1250"))
    # Italian in Latin-1
    (BAD / "ordini_latin1.csv").write_bytes(
        "Numero ordine;Codice cliente;Data;Importo;Negozio\n"
        "I1;K1;31/12/2025;1.234,56;Città Studi\n"
        "I2;K2;13/01/2025;99,90;Perché no\n".encode("latin-1"))
    (BAD / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (BAD / "empty.csv").write_bytes(b"")
    (BAD / "header_only.csv").write_text("order_id,email,date,amount\n", encoding="utf-8")
    (BAD / "missing_column.csv").write_text(
        "order_id,email,date,category\nA1,a@x.pl,2025-01-01,tv\n", encoding="utf-8")
    (BAD / "out_of_range.csv").write_text(
        "response_id,email,date,nps,csat,ces\n"
        "R1,a@x.pl,2025-01-01,11,4,5\n"
        "R2,b@x.pl,2025-01-02,9,0,5\n"
        "R3,c@x.pl,2025-01-03,9,4,8\n"
        "R4,d@x.pl,2025-01-04,7.5,4,5\n"
        "R5,e@x.pl,2025-01-05,10,5,7\n", encoding="utf-8")
    (BAD / "broken_quotes.csv").write_text(
        'order_id,email,date,amount\n'
        'A1,a@x.pl,2025-01-01,"10,50"\n'
        'A2,b@x.pl,2025-01-02,"20,00\n'
        'A3,c@x.pl,2025-01-03,30\n', encoding="utf-8")
    (BAD / "wrong_fields.csv").write_text(
        "order_id,email,date,amount\n"
        "A1,a@x.pl,2025-01-01,10\n"
        "A2,b@x.pl,2025-01-02,20,extra\n"
        "A3,c@x.pl,2025-01-03\n"
        "A4,d@x.pl,2025-01-04,40\n", encoding="utf-8")
    (BAD / "mixed_dates.csv").write_text(
        "order_id,email,date,amount\n"
        "D1,a@x.pl,2025-12-31,1\n"
        "D2,a@x.pl,31.12.2025,1\n"
        "D3,a@x.pl,31/12/2025 10:00,1\n"
        "D4,a@x.pl,2025-12-31T10:00:00+02:00,1\n"
        "D5,a@x.pl,2025-12-31 10:00:00Z,1\n"
        "D6,a@x.pl,31.12.2025 23:59:59,1\n"
        "D7,a@x.pl,yesterday,1\n", encoding="utf-8")
    (BAD / "bad_lines.jsonl").write_text(
        '{"post_id": "P1", "handle": "@Ala", "text": "Super!", "created_at": "2025-01-01"}\n'
        '{"post_id": "P2", "handle": "@Ola", "text": "broken\n'
        '[1, 2]\n'
        '{"post_id": "P3", "handle": "ola", "text": "Długo czekałem", "created_at": "2025-01-02"}\n',
        encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(["Survey export — all answers"])
    ws.append(["Generated 2025-02-01"])
    ws.append([])
    ws.append(["Response ID", "Submitted at", "Email", "NPS", "Comment"])
    ws.append(["X1", "2025-01-10 10:00", "a@x.pl", 10, "Super!"])
    ws.append(["X2", "10.01.2025", "b@x.pl", 3, "Długo czekałem"])
    ws.append([None, None, None, None, None])
    ws.append(["X3", "2025-01-11", "c@x.pl", 12, "out of range"])
    wb.save(BAD / "title_rows.xlsx")
    hostile()


def _rewrite_sheet(path: Path, edit) -> None:
    """Rewrite the first sheet's XML of the workbook at ``path`` with ``edit(xml) -> xml``."""
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode("utf-8")).encode("utf-8")
            z.writestr(info, data)


def hostile() -> None:
    """Files that ended in tracebacks, hangs or silent losses before the readers were hardened."""
    # a 5 KB workbook whose sheet claims to reach cell XFD1048576, with a formatted empty cell there:
    # padding every row to the claimed size grew to gigabytes
    wb = openpyxl.Workbook()
    wb.active.append(["order_id", "email", "date", "amount"])
    wb.active.append(["X1", "x@x.pl", "2025-01-01", 5])
    wb.save(BAD / "claims_xfd1048576.xlsx")
    _rewrite_sheet(BAD / "claims_xfd1048576.xlsx", lambda xml: re.sub(
        r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>', xml).replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'))
    # a row numbered 999,999,999 after row 2: one row, not a billion empty ones in between
    wb.save(BAD / "row_999999999.xlsx")
    _rewrite_sheet(BAD / "row_999999999.xlsx", lambda xml: xml.replace(
        "</sheetData>", '<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>X9</t></is></c>'
        '<c r="D999999999"><v>9</v></c></row></sheetData>'))
    # old Mac line ends (a lone carriage return), a bad date on line 3
    (BAD / "cr_only.csv").write_bytes(b"order_id,email,date,amount\rC1,a@x.pl,2025-01-01,1\r"
                                      b"C2,b@x.pl,someday,2\rC3,c@x.pl,2025-01-03,3\r")
    # Windows-1252 with 0x81, a byte that is no character in it, on line 2
    (BAD / "cp1252_undefined_byte.csv").write_bytes(
        b"order_id;email;date;amount;store\nU1;u@x.pl;2025-01-01;1;Citt\xe0\x81\n"
        + "U2;v@x.pl;2025-01-02;2;Perché – centro\n".encode("cp1252"))
    (BAD / "utf32_bom.csv").write_bytes("order_id,email,date,amount,store\nW1,w@x.pl,2025-01-01,1,Łódź\n"
                                        .encode("utf-32"))
    # the quote opened on line 2 closes on line 3, and the five fields happen to match: line 3 would be
    # swallowed into line 2's category
    (BAD / "swallowed_record.csv").write_text(
        'order_id,email,date,amount,category\n'
        'A1,a@x.pl,2025-01-01,1,"fridges\n'
        'A2,b@x.pl,2025-01-02,2,washers"\n'
        'A3,c@x.pl,2025-01-03,3,"tv, audio"\n', encoding="utf-8")
    # a data row whose values are known column names, more of them than the real header names; and a
    # title line above the header
    (BAD / "header_vote.csv").write_text(
        "Orders export\n"
        "Ref,Mail,Date,Total\n"
        "R1,r@x.pl,2025-01-01,1\n"
        "email,date,amount,order_id\n"
        "R3,s@x.pl,2025-01-03,3\n", encoding="utf-8")
    (BAD / "nested_1000.json").write_text("[" * 1000 + "]" * 1000, encoding="utf-8")
    (BAD / "nested_line.jsonl").write_text(
        '{"order_id": "J1", "email": "j@x.pl", "date": "2025-01-01", "amount": 1}\n'
        '{"order_id": "J2", "note": ' + "[" * 1000 + "]" * 1000 + '}\n'
        '{"order_id": "J3", "email": "k@x.pl", "date": "2025-01-02", "amount": 2, "category": "\\ud800"}\n',
        encoding="utf-8")


if __name__ == "__main__":
    main()
