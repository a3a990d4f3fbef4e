"""Readers: turn a file or a DataFrame into a staging table of text columns in DuckDB.

Every reader produces the same thing (``Staged``): a temporary DuckDB table whose columns are the
source's columns, all VARCHAR, plus ``__row``, the row number a person would look for (the line in a
CSV or JSON-lines file, the row in a spreadsheet, the record's position in a JSON array or a frame).
Rows that cannot even be split into columns (broken quotes, a wrong number of fields, invalid JSON,
bytes that are not text in the file's encoding) and rows above the header are returned as
``rejects`` with their reason; nothing is dropped silently.

Resources are bounded by three settings, checked before the rows are read where the file says
enough: ``max_file_mb`` (for .xlsx, its unpacked size), ``max_columns`` and ``max_rows``.

Parsing values (numbers, dates, identities) happens later, in SQL (see ``transform.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa

from .. import settings
from ..errors import UnreadableSourceError
from .encoding import KEEP_BYTES, detect_file_encoding, is_wide

STAGE = "_centric_stage"  # a table (with __row), or a view adding __row to STAGE_DATA
STAGE_DATA = "_centric_stage_data"
SAMPLE = 1 << 20
DELIMITERS = [",", ";", "\t", "|"]
HEADER_WINDOW = 30  # the header is looked for among the first 30 non-blank rows
_BAD_TEXT = re.compile("[\ud800-\udfff]")  # bytes undecodable in the file's encoding (see KEEP_BYTES)


@dataclass(frozen=True)
class Limits:
    """How much one file may hold; from the settings ``max_file_mb``, ``max_rows`` and ``max_columns``."""

    file_mb: int
    rows: int
    columns: int

    @classmethod
    def from_settings(cls, file_mb: int | None = None, rows: int | None = None,
                      columns: int | None = None) -> Limits:
        return cls(settings.get_positive_int("max_file_mb", file_mb), settings.get_positive_int("max_rows", rows),
                   settings.get_positive_int("max_columns", columns))

    def check_columns(self, source: str, n: int, unnamed_tail: int = 0) -> None:
        if n > self.columns:
            tail = (f" (the last {unnamed_tail:,} have no name: delete them)"
                    if unnamed_tail and n - unnamed_tail <= self.columns else "")
            raise UnreadableSourceError(
                f"{source}: {n:,} columns{tail}, more than the limit of {self.columns:,} (setting max_columns; "
                f"raise it with CENTRIC_MAX_COLUMNS=...); nothing was read")

    def too_many_rows(self, source: str) -> UnreadableSourceError:
        return UnreadableSourceError(
            f"{source}: more than {self.rows:,} rows, the limit (setting max_rows; raise it with "
            "CENTRIC_MAX_ROWS=...); nothing was stored")

    def check_size(self, source: str, n_bytes: int, what: str = "") -> None:
        if n_bytes > self.file_mb * (1 << 20):
            raise UnreadableSourceError(
                f"{source}: {what}{n_bytes / (1 << 20):,.0f} MB, more than the limit of {self.file_mb:,} MB "
                "(setting max_file_mb; raise it with CENTRIC_MAX_FILE_MB=...); nothing was read")


def _clean_text(s: str | None) -> str | None:
    """``s`` with undecodable bytes shown as U+FFFD (what a text editor shows)."""
    return s if s is None or not _BAD_TEXT.search(s) else _BAD_TEXT.sub("\ufffd", s)


@dataclass
class Reject:
    row: int
    reason: str
    column: str | None = None
    value: str | None = None
    record: str | None = None

    def __post_init__(self) -> None:
        self.value, self.record = _clean_text(self.value), _clean_text(self.record)


@dataclass
class Staged:
    source: str
    format: str
    columns: list[str]
    rows_read: int
    content_hash: str
    encoding: str | None = None
    delimiter: str | None = None
    rejects: list[Reject] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)  # the readers now remove their own copies

    def remove_temp_files(self) -> None:
        for f in self.temp_files:
            f.unlink(missing_ok=True)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def format_of(path: Path) -> str:
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    return {
        ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel",
        ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet",
    }.get(suffix, "")


def clean_names(names: list[Any]) -> list[str]:
    """Column names as text: blanks become column_N, repeats get a suffix."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        name = "" if n is None else (_clean_text(str(n)) or "").strip().lstrip("\ufeff")
        if not name:
            name = f"column_{i}"
        if name.lower() in seen:
            seen[name.lower()] += 1
            name = f"{name}_{seen[name.lower()]}"
        else:
            seen[name.lower()] = 1
        out.append(name)
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _as_text(v: Any) -> str | None:
    """A cell value as the text a person would type."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    s = str(v)
    return s if s.strip() else None


class _Rows:
    """Rows gathered for the stage in Arrow batches (a million rows as Python lists would take
    gigabytes). Columns may be added as they are met (JSON records); earlier rows lack them."""

    BATCH = 50_000

    def __init__(self, n_columns: int = 0):
        self.n_columns = n_columns
        self.count = 0
        self._rows: list[list[str | None]] = []
        self._numbers: list[int] = []
        self._tables: list[pa.Table] = []

    def add(self, number: int, values: list[str | None]) -> None:
        self._rows.append(values)
        self._numbers.append(number)
        self.count += 1
        if len(self._rows) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        n = self.n_columns
        arrays = [pa.array(self._numbers, type=pa.int64())]
        arrays += [pa.array([r[i] if i < len(r) else None for r in self._rows], type=pa.string()) for i in range(n)]
        self._tables.append(pa.Table.from_arrays(arrays, names=["__row", *(f"c{i}" for i in range(n))]))
        self._rows, self._numbers = [], []

    def stage(self, con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
        """Create the stage (STAGE) with ``columns`` as names."""
        self._flush()
        names = ["__row", *(f"c{i}" for i in range(len(columns)))]
        parts = []
        for t in self._tables or [pa.table({n: pa.array([], type=pa.int64() if n == "__row" else pa.string())
                                           for n in names})]:
            for i in range(t.num_columns - 1, len(columns)):  # columns met after this batch
                t = t.append_column(f"c{i}", pa.nulls(t.num_rows, type=pa.string()))
            parts.append(t.select(names))
        tbl = pa.concat_tables(parts).rename_columns(["__row", *columns])
        self._tables = []
        con.register("_centric_arrow", tbl)
        try:
            drop_stage(con)
            con.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT * FROM _centric_arrow")
        finally:
            con.unregister("_centric_arrow")


def _record_json(columns: list[str], values: list[Any]) -> str:
    return json.dumps(dict(zip(columns, values, strict=False)), ensure_ascii=False)


def _bad_text_reject(row: int, columns: list[str], values: list[str | None], encoding: str | None,
                     record: bool = True) -> Reject | None:
    """A reject for the first value holding bytes that are not text in ``encoding``, or None."""
    for name, v in zip(columns, values, strict=False):
        if v is not None and _BAD_TEXT.search(v):
            bad = _BAD_TEXT.findall(v)
            if encoding and all("\udc00" <= c <= "\udcff" for c in bad):  # bytes kept by KEEP_BYTES
                shown = " ".join(f"0x{ord(c) - 0xDC00:02X}" for c in bad[:5])
                what = f"bytes that are not {_encoding_name(encoding)} ({shown}); the file mixes encodings"
            else:
                what = "characters that are not valid text (a lone \\uD800-\\uDFFF escape)"
            return Reject(row, f"the value holds {what}", column=name, value=v[:200],
                          record=_record_json(columns, values) if record else None)
    return None


def _encoding_name(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1250": "Windows-1250", "cp1251": "Windows-1251",
            "cp1252": "Windows-1252", "latin-1": "Latin-1"}.get(encoding, encoding.upper())


# -- header ---------------------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s_\-.:/]+")


@functools.lru_cache(maxsize=1 << 16)
def _norm(name: str) -> str:
    """A column name as it is compared: lower case, runs of spaces, _ - . : / as one space. (Cached:
    matching a wide file's columns against every alias calls it hundreds of thousands of times.)"""
    return _SEPARATORS.sub(" ", name.strip().lower()).strip()


_DATA_LIKE = re.compile(
    r"[-+]?[\d\s.,]*\d[\d\s.,]*%?"                        # a number
    r"|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?:[ T].*)?"          # a date, maybe with a time
    r"|[^@\s]+@[^@\s]+\.[^@\s]+"                           # an e-mail address
)


def _extent(row: list[str | None]) -> int:
    """Position of the last non-empty value (so that trailing empty cells don't count)."""
    return next((i + 1 for i in range(len(row) - 1, -1, -1) if row[i] is not None), 0)


def _find_header(rows: list[list[str | None]], known: set[str]) -> int | None:
    """The header row among the first rows (``HEADER_WINDOW``), or None if they are all empty.

    A header is as wide as the table under it (title lines above a table are narrower), holds no
    value that looks like data (a number, a date, an e-mail address), stands above the first row that
    does, and names known columns. Of the rows that qualify, the first one naming at least half as
    many known columns as the best one is taken: a data row that happens to name known columns must
    name more than twice as many as the real header to displace it, and one below a row of data
    cannot (so a header naming none, its columns mapped by a mapping file, is still found)."""
    head = rows[:HEADER_WINDOW]
    ext = [_extent(r) for r in head]
    if not any(ext):
        return None
    # the usual width of the rows below each row (the most common; the wider one on a tie)
    usual = [0] * len(head)
    counts: Counter[int] = Counter()
    for i in range(len(head) - 1, -1, -1):
        usual[i] = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] if counts else 0
        if ext[i]:
            counts[ext[i]] += 1
    wide = [i for i in range(len(head)) if ext[i] and ext[i] >= usual[i]]
    data = {i for i in wide if any(v is not None and _DATA_LIKE.fullmatch(v.strip()) for v in head[i])}
    first_data = min(data, default=len(head))  # a header stands above the data
    pool = ([i for i in wide if i not in data and i < first_data] or [i for i in wide if i not in data]
            or wide)
    score = {i: len({_norm(v) for v in head[i] if v is not None} & known) for i in pool}
    best = max(score.values())
    return next(i for i in pool if 2 * score[i] >= best)


def _above_header(numbered_rows: list[tuple[int, list[str | None]]], header_row: int) -> list[Reject]:
    """Rejects for the non-blank rows above the header: a title line or a stray row, never data
    dropped without a word."""
    return [
        Reject(n, f"above the header on row {header_row}: not read as data",
               value=" | ".join(v for v in values if v is not None)[:200],
               record=json.dumps([v for v in values], ensure_ascii=False))
        for n, values in numbered_rows if any(v is not None for v in values)
    ]


# -- CSV ----------------------------------------------------------------------------------------
_LINE_END = re.compile(r"\r\n|\r|\n")


def _split_lines(text: str) -> tuple[list[str], int]:
    """The complete lines of ``text`` (with their ends) and where the incomplete rest begins."""
    out, start = [], 0
    for m in _LINE_END.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    return out, start


def _lines(text: str) -> list[str]:
    """Lines with their ends. A line ends at a newline, a carriage return and newline, or a lone
    carriage return (old Mac files; editors break lines there too), not at the other characters
    str.splitlines treats as line breaks, which can stand inside a field."""
    out, rest = _split_lines(text)
    return out + [text[rest:]] if rest < len(text) else out


def _iter_lines(f: IO[str], chunk: int = 1 << 20) -> Iterator[str]:
    """``_lines`` of a text stream, read a megabyte at a time."""
    pending: list[str] = []
    while True:
        part = f.read(chunk)
        if not part:
            if pending:
                yield from _lines("".join(pending))
            return
        if "\n" not in part and "\r" not in part:
            pending.append(part)  # a long line: no rescans
            continue
        buf = "".join(pending) + part
        if buf.endswith("\r"):  # may be the first half of "\r\n": keep it for the next part
            buf, held = buf[:-1], "\r"
        else:
            held = ""
        lines, rest = _split_lines(buf)
        yield from lines
        pending = [buf[rest:] + held] if rest < len(buf) or held else []


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits most sample records into the same number (> 1) of fields; first
    the delimiters that split the first line (the header, unless a title stands above it) that way
    too, so that the lines of a long quoted text cannot outvote the records around it."""
    best, best_score = ",", (0, 0, 0)
    for d in DELIMITERS:
        records = [len(r) for r in csv.reader(lines, delimiter=d)]
        width, freq = Counter(records).most_common(1)[0] if records else (0, 0)
        score = (int(records[0] == width), freq, width) if width > 1 else (0, 0, 0)
        if score > best_score:
            best, best_score = d, score
    return best


def _allow_long_fields() -> None:
    """Python's CSV parser refuses fields over 131,072 characters; the file-size limit bounds them."""
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, source: str, digest: str | None,
             known_names: set[str] | None = None, limits: Limits | None = None) -> Staged:
    """Stage a CSV file; ``digest`` is the file's hash, or None to have it computed here."""
    limits = limits or Limits.from_settings()
    _allow_long_fields()
    with open(path, "rb") as f:
        sample = f.read(SAMPLE)
        complete = len(sample) < SAMPLE
    if not sample.strip():
        raise UnreadableSourceError(f"{source}: the file is empty")
    encoding = detect_file_encoding(path, SAMPLE)
    if b"\x00" in sample and not is_wide(encoding):
        raise UnreadableSourceError(f"{source}: not a text file (it holds binary data); "
                                    "save it as CSV, Excel, JSON or Parquet")
    text_sample = sample.decode(encoding, errors=KEEP_BYTES).lstrip("\ufeff")
    all_lines = _lines(text_sample)
    if not complete and len(all_lines) > 1:  # drop a possibly cut last line
        all_lines.pop()
    all_lines = [ln.rstrip("\r\n") for ln in all_lines]
    first = next((i for i, ln in enumerate(all_lines) if ln.strip()), 0)
    hint = re.fullmatch(r"sep=(.)", all_lines[first].strip()) if all_lines else None
    if hint:  # Excel's "sep=;" line
        delimiter, first = hint.group(1), first + 1
    elif path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        delimiter = sniff_delimiter([ln for ln in all_lines[first:first + 50] if ln.strip()])
    candidates = [(i, ln) for i, ln in enumerate(all_lines) if i >= first and ln.strip()][:HEADER_WINDOW]
    parsed = [[v if v.strip() else None for v in next(csv.reader([ln], delimiter=delimiter), [])]
              for _, ln in candidates]
    pick = _find_header(parsed, known_names or set()) or 0
    header_index, header_line = candidates[pick] if candidates else (first, "")
    header = parsed[pick] if parsed else []
    limits.check_columns(source, len(header), len(header) - _extent(header))
    columns = clean_names(header)
    above = _above_header([(i + 1, parsed[k]) for k, (i, _) in enumerate(candidates[:pick])], header_index + 1)

    result = None
    hashed = hashlib.sha256() if digest is None else None
    if header_index == 0:
        result = _read_csv_fast(con, path, encoding, columns, delimiter, header_line, hashed)
    if result is None:
        result = _read_csv_careful(con, path, encoding, columns, delimiter, header_index, source, limits)
    elif hashed is not None and encoding in ("utf-8", "utf-8-sig"):  # the fast reader hashed the file itself
        digest = hashed.hexdigest()
    digest = digest or file_hash(path)
    rows_read, rejects = result
    if rows_read > limits.rows:
        drop_stage(con)
        raise limits.too_many_rows(source)
    return Staged(source, "csv", columns, rows_read + len(above), digest, encoding, delimiter, above + rejects)


def _count_lines(path: Path, hashed: Any = None) -> tuple[int, bool]:
    """Number of lines, and whether the fast reader cannot number rows as lines (a blank line, or a
    lone carriage return ending a line); the file's bytes also go to ``hashed`` (a hashlib object),
    if given, so that the file is read once for both."""
    n, odd, last = 0, False, b"\n"
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            if hashed is not None:
                hashed.update(chunk)
            n += chunk.count(b"\n")
            if b"\n\n" in chunk or b"\n\r\n" in chunk or (last == b"\n" and chunk[:1] in (b"\n", b"\r")):
                odd = True
            crs = chunk.count(b"\r") - chunk.count(b"\r\n") - (chunk.endswith(b"\r"))
            if crs or (last == b"\r" and chunk[:1] != b"\n"):
                odd = True
            last = chunk[-1:]
    if last == b"\r":
        odd = True
    if last != b"\n":
        n += 1
    return n, odd


def _utf8_copy(path: Path, encoding: str) -> Path | None:
    """A UTF-8 copy of a file in another encoding for DuckDB, or None when a byte is not text in that
    encoding (the careful reader then rejects the rows holding such bytes)."""
    fd, name = tempfile.mkstemp(prefix="centric-", suffix=".csv")
    tmp = Path(name)
    try:
        with open(path, encoding=encoding, newline="") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
    except UnicodeError:
        tmp.unlink(missing_ok=True)
        return None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _read_csv_fast(con, path: Path, encoding: str, columns: list[str], delimiter: str, header_line: str,
                   hashed: Any = None):
    """DuckDB's parallel CSV reader, used only when the file is well-formed and one record is one line
    (then record k is line k + 1); None otherwise. (A view streaming over the file would hold less in
    memory, but numbering its rows makes DuckDB parse on one thread: three times slower.) A UTF-8 file
    is hashed into ``hashed`` as it is read."""
    if not header_line or header_line != header_line.lstrip():
        return None
    tmp = None
    if encoding not in ("utf-8", "utf-8-sig"):
        tmp = _utf8_copy(path, encoding)
        if tmp is None:
            return None
    try:
        return _duckdb_csv(con, tmp or path, columns, delimiter, hashed if tmp is None else None)
    finally:
        if tmp is not None:  # the stage is a table: the copy is not needed once it is read
            tmp.unlink(missing_ok=True)


def _duckdb_csv(con, path: Path, columns: list[str], delimiter: str, hashed: Any = None):
    spec = "{" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in columns) + "}"
    delim = delimiter.replace("'", "''")
    src = (f"read_csv('{str(path).replace(chr(39), chr(39) * 2)}', auto_detect=false, header=true, "
           f"delim='{delim}', quote='\"', escape='\"', columns={spec}, strict_mode=true, null_padding=false, "
           f"all_varchar=true)")
    drop_stage(con)
    with ThreadPoolExecutor(max_workers=1) as pool:  # count lines while DuckDB reads
        counting = pool.submit(_count_lines, path, hashed)
        try:
            con.execute(f"CREATE TEMP TABLE {STAGE_DATA} AS SELECT * FROM {src}")
            n = con.execute(f"SELECT count(*) FROM {STAGE_DATA}").fetchall()[0][0]
        except (duckdb.Error, UnicodeDecodeError):  # DuckDB's message may quote a cut character
            n = None
        lines, odd = counting.result()
    if n is None or odd or n != lines - 1:  # broken, or a record spans lines: row numbers would drift
        drop_stage(con)
        return None
    _number_rows(con, 2)
    return n, []


class _LineCursor:
    """Lines of a file with their numbers, where lines read for a record that turned out broken can
    be put back."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._back: deque[str] = deque()
        self.number = 0  # of the last line taken

    def take(self) -> str | None:
        line = self._back.popleft() if self._back else next(self._lines, None)
        if line is not None:
            self.number += 1
        return line

    def put_back(self, lines: list[str]) -> None:
        self._back.extendleft(reversed(lines))
        self.number -= len(lines)


def _shape(value: str) -> str:
    """'A12' -> 'a9', 'ola@x.pl' -> 'a@a.a', '2025-01-02' -> '9-9-9': what values of one column share."""
    return re.sub(r"\d+", "9", re.sub(r"[^\W\d_]+", "a", value.strip()))


def _swallowed(record: list[str], lines: list[str], delimiter: str, ncols: int,
               previous: list[str] | None) -> int | None:
    """For a record read across lines, the index of the field that swallowed a following record: a
    quote left open in it runs over a line that reads as a whole record like the others (as many
    fields, no quote but perhaps the one closing the field at its very end, and values shaped like
    those of the previous record, or of this one: same first value's shape, three in four alike)."""
    at = next((j for j, v in enumerate(record) if "\n" in v or "\r" in v), None)
    if at is None:
        return None
    like = previous or record
    for line in lines[1:]:
        text = line.rstrip("\r\n")
        if '"' in text[:-1] or not text.strip():
            continue  # a quote inside the line: the text of the field goes on (and closes) there
        fields = next(csv.reader([text], delimiter=delimiter), [])
        if len(fields) != ncols:
            continue
        pairs = [(_shape(a), _shape(b)) for j, (a, b) in enumerate(zip(fields, like, strict=False)) if j != at]
        alike = sum(a == b for a, b in pairs)
        if pairs and (at == 0 or pairs[0][0] == pairs[0][1]) and alike >= 0.75 * len(pairs):
            return at
    return None


def _read_csv_careful(con, path: Path, encoding: str, columns: list[str], delimiter: str, header_index: int,
                      source: str, limits: Limits):
    """Python's CSV parser, one record at a time, so that a broken record costs only itself. Reads the
    file in its own encoding; bytes that are not text in it make their row a reject."""
    rows, rejects = _Rows(len(columns)), []
    ncols = len(columns)
    previous: list[str] | None = None
    with open(path, encoding=encoding, errors=KEEP_BYTES, newline="") as f:
        lines = _LineCursor(_iter_lines(f))
        for _ in range(header_index + 1):
            lines.take()
        while (line := lines.take()) is not None:
            if not line.strip():
                continue
            if rows.count + len(rejects) >= limits.rows:
                raise limits.too_many_rows(source)
            start = lines.number
            used = [line]

            def more(used=used):
                yield used[0]
                while (nxt := lines.take()) is not None:
                    used.append(nxt)
                    yield nxt

            try:
                record = next(csv.reader(more(), delimiter=delimiter, strict=True))
                error = None
            except csv.Error as e:
                record, error = [], e
            reject = None
            if error is not None:
                opened = line.count('"') % 2
                reason = ("a quote opened on this line is never closed" if opened
                          else f"the line cannot be read as CSV ({error})")
                reject = Reject(start, reason, column=_open_quote_column(line, delimiter, columns) if opened else None,
                                value=line[:200].rstrip())
            elif len(record) != ncols:
                if len(used) > 1:
                    reject = Reject(start, "a quote opened on this line is never closed",
                                    column=_open_quote_column(line, delimiter, columns), value=line[:200].rstrip())
                else:
                    reject = Reject(start, f"the line has {len(record)} fields, the header has {ncols}",
                                    value=line[:200].rstrip(), record=_record_json(columns, record))
            elif len(used) > 1 and (j := _swallowed(record, used, delimiter, ncols, previous)) is not None:
                reject = Reject(start, f"a quote opened in column '{columns[j]}' is not closed before the next "
                                f"record (line {start + 1})", column=columns[j], value=line[:200].rstrip())
            if reject is not None:
                rejects.append(reject)
                lines.put_back(used[1:])
                continue
            values = [v if v.strip() else None for v in record]
            if any(_BAD_TEXT.search(ln) for ln in used) and (
                    bad := _bad_text_reject(start, columns, values, encoding)) is not None:
                rejects.append(bad)
                continue
            rows.add(start, values)
            previous = record
    rows.stage(con, columns)
    return rows.count + len(rejects), rejects


def _open_quote_column(line: str, delimiter: str, columns: list[str]) -> str | None:
    """The column whose quote is left open on ``line``: its last field, read without strictness."""
    fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    return columns[len(fields) - 1] if 0 < len(fields) <= len(columns) else None


# -- Excel ----------------------------------------------------------------------------------------
def _check_workbook_size(path: Path, source: str, limits: Limits) -> None:
    """A workbook is a zip: its sheets' unpacked size, not the file's, is what reading costs (a few
    kilobytes can unpack to gigabytes)."""
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist() if i.filename.lower().endswith(".xml"))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise UnreadableSourceError(f"{source}: not a readable Excel workbook ({e})") from e
    limits.check_size(source, unpacked, "unpacked, the workbook is ")


_EMPTY_CELL = re.compile(rb"<c [^>/]*(?:/>|></c>)")


class _WithoutEmptyCells(io.RawIOBase):
    """A sheet's XML without its empty cells (``<c r="XFD9" s="1"/>``): a sheet formatted up to
    column XFD holds 16,384 of them per row, and openpyxl parses each one in Python (a minute for a
    few hundred rows). Removing them changes no value."""

    def __init__(self, raw: IO[bytes]):
        self._raw, self._out, self._pending = raw, b"", b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._out:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                self._out, self._pending = self._pending, b""
                if not self._out:
                    return 0
                break
            data = self._pending + chunk
            cut = data.rfind(b">") + 1  # never cut a tag in two
            self._out, self._pending = _EMPTY_CELL.sub(b"", data[:cut]), data[cut:]
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _sheet_rows(ws: Any) -> Iterator[tuple[int, list[str | None]]]:
    """The sheet's non-empty rows as (row number, values up to the last non-empty one), straight from
    its XML. Nothing the sheet says about its size is trusted: it can claim a million rows by 16,384
    columns for a few cells (padding every row to that grew to gigabytes), and a row numbered
    999,999,999 after row 2 is one row, not a billion empty ones (openpyxl's read-only sheet fills
    the gap row by row)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    wb = ws.parent
    with io.BufferedReader(_WithoutEmptyCells(ws._get_source())) as xml:
        parser = WorkSheetParser(xml, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for n, cells in parser.parse():
            texts = {c["column"]: _as_text(c["value"]) for c in cells if c["value"] is not None}
            values = {col: v for col, v in texts.items() if v is not None}
            if values:
                yield n, [values.get(col) for col in range(1, max(values) + 1)]


def read_excel(con, path: Path, source: str, digest: str, known_names: set[str], sheet: str | None = None,
               limits: Limits | None = None) -> Staged:
    import openpyxl

    limits = limits or Limits.from_settings()
    _check_workbook_size(path, source, limits)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise UnreadableSourceError(f"{source}: not a readable Excel workbook ({e})") from e
    try:
        if sheet and sheet not in wb.sheetnames:
            raise UnreadableSourceError(f"{source}: no sheet named {sheet!r}; sheets: {wb.sheetnames}")
        sheets = [wb[sheet]] if sheet else wb.worksheets
        # without --sheet: the sheet whose header names most known columns (the first on a tie)
        best = None
        for k, ws in enumerate(sheets):
            head = _first_rows(ws, source)
            idx = _find_header([v for _, v in head], known_names)
            if idx is None:
                continue
            score = len({_norm(v) for v in head[idx][1] if v is not None} & known_names)
            if best is None or score > best[0]:
                best = (score, k, head, idx)
        if best is None:
            raise UnreadableSourceError(f"{source}: the sheet is empty")
        _, k, head, idx = best
        return _read_sheet(con, sheets[k], head, idx, source, digest, limits)
    except UnreadableSourceError:
        raise
    except Exception as e:  # a damaged sheet shows only when it is read
        raise UnreadableSourceError(f"{source}: not a readable Excel workbook ({type(e).__name__}: {e})") from e
    finally:
        wb.close()


def _first_rows(ws: Any, source: str) -> list[tuple[int, list[str | None]]]:
    head = []
    for n, values in _sheet_rows(ws):
        head.append((n, values))
        if len(head) == HEADER_WINDOW:
            break
    return head


def _read_sheet(con, ws: Any, head: list[tuple[int, list[str | None]]], idx: int, source: str, digest: str,
                limits: Limits) -> Staged:
    header_row, header = head[idx]
    limits.check_columns(source, len(header))
    width = len(header)
    columns = clean_names(header)
    rejects = _above_header(head[:idx], header_row)
    rows = _Rows(width)
    for n, values in _sheet_rows(ws):
        if n <= header_row:
            continue
        if rows.count + len(rejects) >= limits.rows:
            raise limits.too_many_rows(source)
        if len(values) > width:
            extra = [v for v in values[width:] if v is not None]
            rejects.append(Reject(n, f"values right of the last named column: {extra[:3]}",
                                  record=_record_json(columns, values[:width])))
            continue
        rows.add(n, values)
    rows.stage(con, columns)
    return Staged(source, "excel", columns, rows.count + len(rejects), digest, rejects=rejects)


# -- JSON ---------------------------------------------------------------------------------------
class _Records:
    """JSON records as rows: their keys become columns in the order they are met."""

    def __init__(self, source: str, limits: Limits):
        self.source, self.limits = source, limits
        self.keys: dict[str, int] = {}
        self.rows = _Rows()
        self.rejects: list[Reject] = []

    def add(self, n: int, rec: dict, encoding: str) -> None:
        if self.rows.count + len(self.rejects) >= self.limits.rows:
            raise self.limits.too_many_rows(self.source)
        for k in rec:
            if str(k) not in self.keys:
                self.keys[str(k)] = len(self.keys)
                self.limits.check_columns(self.source, len(self.keys))
        self.rows.n_columns = len(self.keys)
        values: list[str | None] = [None] * len(self.keys)
        try:
            for k, v in rec.items():
                values[self.keys[str(k)]] = _as_text(v)
        except RecursionError:
            self.reject(n, "the record is nested too deeply (over ~1,000 levels)")
            return
        bad = _bad_text_reject(n, [str(k) for k in self.keys], values, encoding, record=False)
        if bad is not None:
            self.rejects.append(bad)
            return
        self.rows.add(n, values)

    def reject(self, n: int, reason: str, value: str | None = None) -> None:
        if self.rows.count + len(self.rejects) >= self.limits.rows:
            raise self.limits.too_many_rows(self.source)
        self.rejects.append(Reject(n, reason, value=value))

    def stage(self, con, fmt: str, digest: str, encoding: str) -> Staged:
        columns = clean_names(list(self.keys))
        self.rows.stage(con, columns)
        return Staged(self.source, fmt, columns, self.rows.count + len(self.rejects), digest, encoding,
                      rejects=self.rejects)


def _decode(path: Path, source: str) -> tuple[str, str]:
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableSourceError(f"{source}: the file is empty")
    enc = detect_file_encoding(path, SAMPLE)
    return data.decode(enc, errors=KEEP_BYTES).lstrip("\ufeff"), enc


def read_json(con, path: Path, source: str, digest: str, limits: Limits | None = None) -> Staged:
    limits = limits or Limits.from_settings()
    text, enc = _decode(path, source)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if "\n{" in text.strip():
            del text
            return read_jsonl(con, path, source, digest, limits)
        raise UnreadableSourceError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    except RecursionError as e:
        raise UnreadableSourceError(f"{source}: the JSON is nested too deeply (over ~1,000 levels)") from e
    del text
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise UnreadableSourceError(f"{source}: expected an array of records, or an object holding one")
        doc = lists[0]
    if not isinstance(doc, list):
        raise UnreadableSourceError(f"{source}: expected an array of records")
    records = _Records(source, limits)
    for n, rec in enumerate(doc, start=1):
        if isinstance(rec, dict):
            records.add(n, rec, enc)
        else:
            records.reject(n, "the record is not an object with named fields", _short_json(rec))
    return records.stage(con, "json", digest, enc)


def _short_json(v: Any) -> str:
    try:
        return json.dumps(v, ensure_ascii=False)[:200]
    except RecursionError:
        return "(nested too deeply to show)"


def read_jsonl(con, path: Path, source: str, digest: str, limits: Limits | None = None) -> Staged:
    limits = limits or Limits.from_settings()
    enc = detect_file_encoding(path, SAMPLE)
    records = _Records(source, limits)
    blank = True
    with open(path, encoding=enc, errors=KEEP_BYTES, newline="") as f:
        for n, line in enumerate(_iter_lines(f), start=1):
            if n == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            blank = False
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                records.reject(n, f"not valid JSON ({e.msg} at column {e.colno})", line[:200].rstrip())
                continue
            except RecursionError:
                records.reject(n, "the record is nested too deeply (over ~1,000 levels)", line[:200].rstrip())
                continue
            if not isinstance(rec, dict):
                records.reject(n, "the line is not a JSON object", line[:200].rstrip())
                continue
            records.add(n, rec, enc)
    if blank:
        raise UnreadableSourceError(f"{source}: the file is empty")
    return records.stage(con, "jsonl", digest, enc)


# -- Parquet and frames -----------------------------------------------------------------------------
def _stage_relation(con, relation_sql: str, params: list | None = None) -> list[str]:
    names = [d[0] for d in con.execute(f"SELECT * FROM {relation_sql} LIMIT 0", params or []).description]
    columns = clean_names(names)
    cols = ", ".join(
        f"nullif(trim(CAST({_q(n)} AS VARCHAR)), '') AS {_q(c)}" for n, c in zip(names, columns, strict=True)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGE_DATA} AS SELECT {cols} FROM {relation_sql}", params or []
    )
    return columns


def _number_rows(con, first: int) -> None:
    """STAGE = STAGE_DATA with __row, the row number of its first row being ``first``."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGE} AS SELECT rowid + {first} AS __row, * FROM {STAGE_DATA}")


def drop_stage(con) -> None:
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [STAGE]).fetchall()
    if kind and kind[0][0] == "VIEW":
        con.execute(f"DROP VIEW {STAGE}")
    elif kind:
        con.execute(f"DROP TABLE {STAGE}")
    con.execute(f"DROP TABLE IF EXISTS {STAGE_DATA}")


def read_parquet(con, path: Path, source: str, digest: str, first_row: int = 1,
                 limits: Limits | None = None) -> Staged:
    import pyarrow.parquet as pq

    limits = limits or Limits.from_settings()
    try:
        meta = pq.read_metadata(path)
    except (pa.ArrowException, OSError) as e:
        raise UnreadableSourceError(f"{source}: not a readable Parquet file ({e})") from e
    limits.check_columns(source, meta.num_columns)
    if meta.num_rows > limits.rows:
        raise limits.too_many_rows(source)
    try:
        columns = _stage_relation(con, "read_parquet(?)", [str(path)])
    except duckdb.Error as e:
        raise UnreadableSourceError(f"{source}: not a readable Parquet file ({e})") from e
    _number_rows(con, first_row)
    n = con.execute(f"SELECT count(*) FROM {STAGE_DATA}").fetchall()[0][0]
    return Staged(source, "parquet", columns, n, digest)


def frame_to_arrow(frame: Any) -> pa.Table:
    mod = type(frame).__module__
    if mod.startswith("polars"):
        return frame.to_arrow()
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(frame, pa.Table):
        return frame
    raise UnreadableSourceError(f"cannot read a {type(frame).__name__}; pass a path, a pandas or a polars DataFrame")


def read_frame(con, frame: Any, source: str) -> Staged:
    tbl = frame_to_arrow(frame)
    if tbl.num_columns == 0:
        raise UnreadableSourceError(f"{source}: no columns (an empty frame, or records without any field)")
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, tbl.schema) as w:
        w.write_table(tbl)
    digest = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    con.register("_centric_frame", tbl)
    try:
        columns = _stage_relation(con, "_centric_frame")
    finally:
        con.unregister("_centric_frame")
    _number_rows(con, 1)
    return Staged(source, "frame", columns, tbl.num_rows, digest)


def read_source(con, source: Any, known_names: set[str], name: str | None = None,
                sheet: str | None = None, limits: Limits | None = None) -> Staged:
    """Stage ``source`` (a path or a DataFrame) in DuckDB; see the module docstring. ``limits``
    default to the settings max_file_mb, max_rows and max_columns."""
    if not isinstance(source, str | os.PathLike):
        return read_frame(con, source, name or "DataFrame")
    path = Path(source)
    label = name or str(source)
    if not path.exists():
        raise UnreadableSourceError(f"{label}: no such file")
    if path.is_dir():
        raise UnreadableSourceError(f"{label}: is a folder, not a file")
    fmt = format_of(path)
    if not fmt:
        raise UnreadableSourceError(
            f"{label}: unknown file type {path.suffix!r}; use .csv, .tsv, .txt, .xlsx, .json, .jsonl or .parquet"
        )
    size = path.stat().st_size
    if size == 0:
        raise UnreadableSourceError(f"{label}: the file is empty")
    limits = limits or Limits.from_settings()
    limits.check_size(label, size)
    if fmt == "csv":  # hashed while DuckDB reads it, when it can
        return read_csv(con, path, label, None, known_names, limits)
    digest = file_hash(path)
    if fmt == "excel":
        return read_excel(con, path, label, digest, known_names, sheet, limits)
    if fmt == "json":
        return read_json(con, path, label, digest, limits)
    if fmt == "jsonl":
        return read_jsonl(con, path, label, digest, limits)
    return read_parquet(con, path, label, digest, limits=limits)
