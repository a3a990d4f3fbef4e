"""Readers: turn a file or a DataFrame into a staging table of text columns in DuckDB.

Every reader produces the same thing (``Staged``): a temporary DuckDB table whose columns are the
source's columns, all VARCHAR, plus ``__row``, the row number a person would look for (the line in a
CSV or JSON-lines file, the row in a spreadsheet, the record's position in a JSON array or a frame).
Rows that cannot even be split into columns (broken quotes, a wrong number of fields, invalid JSON)
are returned as ``rejects`` with their reason; nothing is dropped silently.

Parsing values (numbers, dates, identities) happens later, in SQL (see ``transform.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..errors import UnreadableSourceError
from .encoding import detect_encoding

STAGE = "_centric_stage"  # a table (with __row), or a view adding __row to STAGE_DATA
STAGE_DATA = "_centric_stage_data"
SAMPLE = 1 << 20
DELIMITERS = [",", ";", "\t", "|"]


@dataclass
class Reject:
    row: int
    reason: str
    column: str | None = None
    value: str | None = None
    record: str | None = None


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
    temp_files: list[Path] = field(default_factory=list)

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
        name = "" if n is None else str(n).strip().lstrip("\ufeff")
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


def _stage_rows(con: duckdb.DuckDBPyConnection, columns: list[str], rows: list[list[str | None]],
                row_numbers: list[int]) -> None:
    arrays = [pa.array(row_numbers, type=pa.int64())]
    arrays += [pa.array([r[i] for r in rows], type=pa.string()) for i in range(len(columns))]
    tbl = pa.Table.from_arrays(arrays, names=["__row", *columns])
    con.register("_centric_arrow", tbl)
    try:
        drop_stage(con)
        con.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT * FROM _centric_arrow")
    finally:
        con.unregister("_centric_arrow")


def _record_json(columns: list[str], values: list[Any]) -> str:
    return json.dumps(dict(zip(columns, values, strict=False)), ensure_ascii=False)


# -- CSV ----------------------------------------------------------------------------------------
def _lines(text: str) -> list[str]:
    """Lines with their ends, split at newlines only (not at the other characters str.splitlines
    treats as line breaks, which can stand inside a field)."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits most sample lines into the same number (> 1) of fields."""
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        counts = Counter(len(r) for r in csv.reader(lines, delimiter=d))
        width, freq = counts.most_common(1)[0] if counts else (0, 0)
        score = (freq, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = d, score
    return best


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, source: str, digest: str,
             known_names: set[str] | None = None) -> Staged:
    with open(path, "rb") as f:
        sample = f.read(SAMPLE)
        complete = len(sample) < SAMPLE
    if not sample.strip():
        raise UnreadableSourceError(f"{source}: the file is empty")
    encoding = detect_encoding(sample, complete=complete)
    if b"\x00" in sample and encoding != "utf-16":
        raise UnreadableSourceError(f"{source}: not a text file (it holds binary data); "
                                    "save it as CSV, Excel, JSON or Parquet")
    text_sample = sample.decode(encoding, errors="replace").lstrip("\ufeff")
    if not complete:  # drop a possibly cut last line
        text_sample = text_sample[: text_sample.rfind("\n") + 1] or text_sample
    all_lines = [ln.rstrip("\r\n") for ln in _lines(text_sample)]
    first = next((i for i, ln in enumerate(all_lines) if ln.strip()), 0)
    hint = re.fullmatch(r"sep=(.)", all_lines[first].strip()) if all_lines else None
    if hint:  # Excel's "sep=;" line
        delimiter, first = hint.group(1), first + 1
    elif path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        delimiter = sniff_delimiter([ln for ln in all_lines[first:first + 50] if ln.strip()])
    # the header: the line among the first 30 that names most known columns (title lines above it
    # are skipped), or the first line
    candidates = [(i, ln) for i, ln in enumerate(all_lines) if i >= first and ln.strip()][:30]
    parsed = [next(csv.reader([ln], delimiter=delimiter), []) for _, ln in candidates]
    pick = _find_header([[v if v.strip() else None for v in r] for r in parsed], known_names or set()) or 0
    header_index, header_line = candidates[pick] if candidates else (first, "")
    columns = clean_names(parsed[pick] if parsed else [])

    utf8_path, tmp = path, None
    if encoding not in ("utf-8", "utf-8-sig"):
        fd, tmpname = tempfile.mkstemp(suffix=".csv")
        tmp = Path(tmpname)
        with open(path, encoding=encoding, newline="") as src, os.fdopen(fd, "w", encoding="utf-8",
                                                                             newline="") as dst:
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
        utf8_path = tmp
    staged = None
    try:
        if header_index == 0:
            staged = _read_csv_fast(con, utf8_path, columns, delimiter, header_line)
        if staged is None:
            staged = _read_csv_careful(con, utf8_path, columns, delimiter, header_index)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    rows_read, rejects = staged
    # the stage may read the transcoded copy lazily: it lives until the load ends
    return Staged(source, "csv", columns, rows_read, digest, encoding, delimiter, rejects,
                  temp_files=[tmp] if tmp is not None else [])


def _count_lines(path: Path) -> tuple[int, bool]:
    """Number of lines, and whether any line is blank (then row numbers need the careful reader)."""
    n, blank, last = 0, False, b"\n"
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            n += chunk.count(b"\n")
            if b"\n\n" in chunk or b"\n\r\n" in chunk or (last == b"\n" and chunk[:1] in (b"\n", b"\r")):
                blank = True
            last = chunk[-1:]
    if last != b"\n":
        n += 1
    return n, blank


def _read_csv_fast(con, path: Path, columns: list[str], delimiter: str, header_line: str):
    """DuckDB's parallel CSV reader, used only when the file is well-formed and one record is one line
    (then record k is line k + 1). (A view streaming over the file would hold less in memory, but
    numbering its rows makes DuckDB parse on one thread: three times slower.)"""
    if not header_line or header_line != header_line.lstrip():
        return None
    spec = "{" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in columns) + "}"
    delim = delimiter.replace("'", "''")
    src = (f"read_csv('{str(path).replace(chr(39), chr(39) * 2)}', auto_detect=false, header=true, "
           f"delim='{delim}', quote='\"', escape='\"', columns={spec}, strict_mode=true, null_padding=false, "
           f"all_varchar=true)")
    drop_stage(con)
    with ThreadPoolExecutor(max_workers=1) as pool:  # count lines while DuckDB reads
        counting = pool.submit(_count_lines, path)
        try:
            con.execute(f"CREATE TEMP TABLE {STAGE_DATA} AS SELECT * FROM {src}")
            n = con.execute(f"SELECT count(*) FROM {STAGE_DATA}").fetchall()[0][0]
        except (duckdb.Error, UnicodeDecodeError):  # DuckDB's message may quote a cut character
            n = None
        lines, blank = counting.result()
    if n is None or blank or n != lines - 1:  # broken, or a record spans lines: row numbers would drift
        return None
    _number_rows(con, 2)
    return n, []


def _read_csv_careful(con, path: Path, columns: list[str], delimiter: str, header_index: int):
    """Python's CSV parser, one record at a time, so that a broken record costs only itself."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = _lines(f.read())
    start = header_index + 1
    rows, numbers, rejects = [], [], []
    ncols = len(columns)
    i = start
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        reader = csv.reader(iter(lines[i:]), delimiter=delimiter, strict=True)
        try:
            record = next(reader)
            consumed = reader.line_num
        except csv.Error as e:
            reason = ("a quote opened on this line is never closed" if lines[i].count('"') % 2
                      else f"the line cannot be read as CSV ({e})")
            rejects.append(Reject(i + 1, reason, value=lines[i][:200].rstrip()))
            i += 1
            continue
        if len(record) != ncols:
            if consumed > 1:
                reason = "a quote opened on this line is never closed"
            else:
                reason = f"the line has {len(record)} fields, the header has {ncols}"
            rejects.append(Reject(i + 1, reason, value=lines[i][:200].rstrip(),
                                  record=_record_json(columns, record) if consumed == 1 else None))
            i += 1
            continue
        rows.append([v if v.strip() else None for v in record])
        numbers.append(i + 1)
        i += consumed
    _stage_rows(con, columns, rows, numbers)
    return len(rows) + len(rejects), rejects


# -- Excel ----------------------------------------------------------------------------------------
def read_excel(con, path: Path, source: str, digest: str, known_names: set[str], sheet: str | None = None):
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise UnreadableSourceError(f"{source}: not a readable Excel workbook ({e})") from e
    try:
        if sheet:
            sheets = [wb[sheet]]
        else:
            sheets = wb.worksheets
        candidates = []
        for ws in sheets:
            texts = [[_as_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
            idx = _find_header(texts, known_names)
            score = 0 if idx is None else sum(1 for v in texts[idx] if v is not None and _norm(v) in known_names)
            candidates.append((score, -len(candidates), texts, idx))
    except KeyError as e:
        raise UnreadableSourceError(f"{source}: no sheet named {sheet!r}; sheets: {wb.sheetnames}") from e
    finally:
        wb.close()
    # without --sheet: the sheet whose header names most known columns (the first on a tie)
    _, _, texts, header_idx = max(candidates, key=lambda c: (c[0], c[1]))
    if header_idx is None:
        raise UnreadableSourceError(f"{source}: the sheet is empty")
    header = texts[header_idx]
    width = max((i + 1 for i, v in enumerate(header) if v is not None), default=0)
    columns = clean_names(header[:width])
    rows, numbers, rejects = [], [], []
    for idx in range(header_idx + 1, len(texts)):
        r = texts[idx]
        if all(v is None for v in r):
            continue
        values = (r + [None] * width)[:width]
        extra = [v for v in r[width:] if v is not None]
        if extra:
            rejects.append(Reject(idx + 1, f"values right of the last named column: {extra[:3]}",
                                  record=_record_json(columns, values)))
            continue
        rows.append(values)
        numbers.append(idx + 1)
    _stage_rows(con, columns, rows, numbers)
    return Staged(source, "excel", columns, len(rows) + len(rejects), digest, rejects=rejects)


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.:/]+", " ", name.strip().lower()).strip()


def _find_header(rows: list[list[str | None]], known: set[str]) -> int | None:
    """The header row: among the first 30 rows, the one naming most known columns; failing that, the
    first row as wide as the widest (title rows above a table are narrower)."""
    head = rows[:30]
    if not any(any(v is not None for v in r) for r in head):
        return None
    scores = [sum(1 for v in r if v is not None and _norm(v) in known) for r in head]
    if max(scores) > 0:
        return scores.index(max(scores))
    widths = [sum(1 for v in r if v is not None) for r in head]
    return widths.index(max(widths))


# -- JSON ---------------------------------------------------------------------------------------
def _records_to_stage(con, items: list[tuple[int, dict]], rejects: list[Reject], source: str, fmt: str,
                      digest: str, encoding: str) -> Staged:
    names: dict[str, None] = {}
    for _, rec in items:
        for k in rec:
            names.setdefault(str(k), None)
    columns = clean_names(list(names))
    keys = list(names)
    rows = [[_as_text(rec.get(k)) for k in keys] for _, rec in items]
    _stage_rows(con, columns, rows, [n for n, _ in items])
    return Staged(source, fmt, columns, len(items) + len(rejects), digest, encoding, rejects=rejects)


def _decode(path: Path, source: str) -> tuple[str, str]:
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableSourceError(f"{source}: the file is empty")
    enc = detect_encoding(data[:SAMPLE], complete=len(data) <= SAMPLE)
    return data.decode(enc, errors="replace"), enc


def read_json(con, path: Path, source: str, digest: str) -> Staged:
    text, enc = _decode(path, source)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if "\n{" in text.strip():
            return read_jsonl(con, path, source, digest)
        raise UnreadableSourceError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise UnreadableSourceError(f"{source}: expected an array of records, or an object holding one")
        doc = lists[0]
    if not isinstance(doc, list):
        raise UnreadableSourceError(f"{source}: expected an array of records")
    items, rejects = [], []
    for n, rec in enumerate(doc, start=1):
        if isinstance(rec, dict):
            items.append((n, rec))
        else:
            rejects.append(Reject(n, "the record is not an object with named fields", value=str(rec)[:200]))
    return _records_to_stage(con, items, rejects, source, "json", digest, enc)


def read_jsonl(con, path: Path, source: str, digest: str) -> Staged:
    text, enc = _decode(path, source)
    items, rejects = [], []
    for n, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            rejects.append(Reject(n, f"not valid JSON ({e.msg} at column {e.colno})", value=line[:200].rstrip()))
            continue
        if not isinstance(rec, dict):
            rejects.append(Reject(n, "the line is not a JSON object", value=line[:200].rstrip()))
            continue
        items.append((n, rec))
    return _records_to_stage(con, items, rejects, source, "jsonl", digest, enc)


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


def read_parquet(con, path: Path, source: str, digest: str, first_row: int = 1) -> Staged:
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
                sheet: str | None = None) -> Staged:
    """Stage ``source`` (a path or a DataFrame) in DuckDB; see the module docstring."""
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
    if path.stat().st_size == 0:
        raise UnreadableSourceError(f"{label}: the file is empty")
    digest = file_hash(path)
    if fmt == "csv":
        return read_csv(con, path, label, digest, known_names)
    if fmt == "excel":
        return read_excel(con, path, label, digest, known_names, sheet)
    if fmt == "json":
        return read_json(con, path, label, digest)
    if fmt == "jsonl":
        return read_jsonl(con, path, label, digest)
    return read_parquet(con, path, label, digest)
