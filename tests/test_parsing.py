"""Known answers for the value parsers (run inside DuckDB, as ingest runs them)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from centric.ingest.encoding import detect_encoding
from centric.ingest.transform import normalize_phone, register_functions, timestamp_sql


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    register_functions(c)
    yield c
    c.close()


@pytest.mark.parametrize("text,comma_dec,expected", [
    ("1 234,56", True, 1234.56),
    ("1.234,56", True, 1234.56),
    ("1,234.56", False, 1234.56),
    ("1\u00a0234,56 zł", True, 1234.56),
    ("€ 12.50", False, 12.5),
    ("12,5", True, 12.5),
    ("1.234", True, 1234.0),  # a column whose decimals are commas: the dot groups thousands
    ("1.234", False, 1.234),
    ("1,234", False, 1234.0),
    ("1,234", True, 1.234),
    ("1.234.567", False, 1234567.0),
    ("-3,75", True, -3.75),
    ("1 234 PLN", True, 1234.0),
    ("$1,234", False, 1234.0),
    ("1e3", False, 1000.0),
    ("12,5O", True, None),
    ("abc", True, None),
    ("1.23.4", False, None),
    ("", True, None),
])
def test_numbers(con, text, comma_dec, expected):
    got = con.execute("SELECT centric_num(?, ?)", [text, comma_dec]).fetchall()[0][0]
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("text,day_first,tz,expected", [
    ("2025-12-31", True, "UTC", dt.datetime(2025, 12, 31)),
    ("31.12.2025", True, "UTC", dt.datetime(2025, 12, 31)),
    ("31/12/2025", True, "UTC", dt.datetime(2025, 12, 31)),
    ("12/31/2025", False, "UTC", dt.datetime(2025, 12, 31)),
    ("03/04/2025", True, "UTC", dt.datetime(2025, 4, 3)),
    ("03/04/2025", False, "UTC", dt.datetime(2025, 3, 4)),
    ("31.12.2025 14:05", True, "UTC", dt.datetime(2025, 12, 31, 14, 5)),
    ("2025-12-31T10:00:00+02:00", True, "UTC", dt.datetime(2025, 12, 31, 8, 0)),
    ("2025-12-31T10:00:00Z", True, "UTC", dt.datetime(2025, 12, 31, 10, 0)),
    ("2025-12-31 10:00:00 +0100", True, "UTC", dt.datetime(2025, 12, 31, 9, 0)),
    ("2025-07-01 10:00", True, "Europe/Warsaw", dt.datetime(2025, 7, 1, 8, 0)),  # CEST = UTC+2
    ("2025-01-15 10:00", True, "Europe/Rome", dt.datetime(2025, 1, 15, 9, 0)),  # CET = UTC+1
    ("2025-12-31T10:00:00+02:00", True, "Europe/Warsaw", dt.datetime(2025, 12, 31, 8, 0)),  # offset wins
    ("1.2.2025", True, "UTC", dt.datetime(2025, 2, 1)),
    ("31.02.2025", True, "UTC", None),
    ("2025-13-01", True, "UTC", None),
    ("yesterday", True, "UTC", None),
])
def test_dates(con, text, day_first, tz, expected):
    got = con.execute(f"SELECT {timestamp_sql('s', day_first, tz)} FROM (SELECT ?::VARCHAR AS s)", [text]).fetchall()[0][0]
    assert got == expected


@pytest.mark.parametrize("raw,country,expected", [
    ("601 234 567", "PL", "+48601234567"),
    ("+48 601-234-567", "IT", "+48601234567"),
    ("0048601234567", "IT", "+48601234567"),
    ("(+48) 601 234 567", "PL", "+48601234567"),
    ("347 123 4567", "IT", "+393471234567"),
    ("12", "PL", None),
    ("not a phone", "PL", None),
])
def test_phones(raw, country, expected):
    assert normalize_phone(raw, country) == expected


@pytest.mark.parametrize("text,encoding", [
    ("zażółć gęślą jaźń", "cp1250"),
    ("Dostawa była szybka, ale montaż się opóźnił", "cp1250"),
    ("доставка опоздала", "cp1251"),
    ("Консультант был вежлив, но доставка опоздала на три дня", "cp1251"),
    ("доставка запізнилася, ціна висока", "cp1251"),
    ("Perché la consegna è arrivata in ritardo? Però il tecnico è stato gentile", "latin-1"),
    ("città", "latin-1"),
])
def test_encoding_detection(text, encoding):
    data = text.encode(encoding)
    assert detect_encoding(data) == encoding
    assert data.decode(detect_encoding(data)) == text


def test_utf8_variants():
    assert detect_encoding("zażółć".encode()) == "utf-8"
    assert detect_encoding("\ufeffzażółć".encode()) == "utf-8-sig"
    assert detect_encoding("zażółć".encode("utf-16")) == "utf-16"
    assert detect_encoding(b"plain ascii") == "utf-8"
