"""Writes the corpus of bad and awkward files in tests/data/bad (run once; the files are committed).

python tests/data/make_bad_files.py
"""

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


if __name__ == "__main__":
    main()
