"""The file interface of the SLA engine: ``centric sla due --calendar CAL.toml --in IN.jsonl --out OUT.jsonl``.

Each input line is ``{"id": …, "start": "<ISO-8601 with offset>", "minutes": <int>, "pauses": [[from, to], …]}``
(``pauses`` optional, other fields ignored); each output line is ``{"id": …, "due": "<ISO-8601 in UTC>"}``, in
input order, with ``id`` passed through as given (a string or a number). Blank lines are skipped.

Bad input loses nothing: the whole run is refused (``SlaFileError``, exit code 2 in the CLI), the output file
is not written (an existing one is left as it was), and the message names the input file, the line number and
the field of every bad line (the first 20, with the count of the rest) — so one run lists all there is to fix.
The output is written to a temporary file beside it and renamed into place only when complete.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path

import numpy as np

from ..errors import CentricError
from .calendar import Calendar
from .sla import EPOCH, HORIZON_YEARS, MAX_MINUTES, MAX_YEAR, MIN_YEAR, SlaError, due_many

__all__ = ["SlaFileError", "Clocks", "read_clocks", "run", "write_dues"]

SHOWN = 20
CHUNK = 100_000
_ONE_US = dt.timedelta(microseconds=1)


class SlaFileError(CentricError):
    """The input file has bad lines (all are listed, with file, line and field)."""


@dataclass
class Clocks:
    """Clocks read from a JSON-lines file: ids, starts and minutes per clock, pauses flattened."""

    ids: list  # or a pyarrow array of strings or integers
    lines: np.ndarray  # 1-based line number of each clock
    starts: np.ndarray  # µs since 1970-01-01 UTC
    minutes: np.ndarray
    pauses: tuple[np.ndarray, np.ndarray, np.ndarray]  # clock index, from, to (µs)


def run(calendar: Calendar, source: str | Path, out: str | Path) -> int:
    """Compute every clock of ``source`` and write the due times to ``out`` atomically; returns the count.

    A well-formed file is read in one vectorised pass (pyarrow); anything unusual in it — and any error — is
    handled by the line-by-line reader, which accepts the same input and names every bad line."""
    clocks = _read_fast(source)
    if clocks is not None:
        try:
            dues = due_many(calendar, clocks.starts, clocks.minutes, clocks.pauses)
        except SlaError:
            clocks = None  # read again line by line, for messages that name the lines
    if clocks is None:
        clocks = read_clocks(source)
        dues = _due_or_listing(calendar, clocks, source)
    write_dues(out, clocks.ids, dues)
    return len(clocks.ids)


def _due_or_listing(calendar: Calendar, clocks: Clocks, source) -> np.ndarray:
    try:
        return due_many(calendar, clocks.starts, clocks.minutes, clocks.pauses)
    except SlaError as e:
        bad = [(int(clocks.lines[i]), f"field '{e.field}': {e.reason}") for i in e.lines]
        raise SlaFileError(_listing(source, bad)) from e


# The ISO-8601 forms on which pyarrow's parser and datetime.fromisoformat agree exactly (tests/test_sla.py
# checks them); any other spelling goes to the line reader.
ISO_FAST = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$"


_BLANK = re.compile(rb"\n[ \t\r]*\n")
_LEADING_BLANK = re.compile(rb"[ \t\r]*\n")


def _read_fast(source: str | Path) -> Clocks | None:
    """Clocks from a well-formed file in one vectorised pass, or None when anything needs a closer look."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    try:
        with open(source, "rb") as f:
            data = f.read()
    except OSError:
        return None
    end = len(data)
    while end and data[end - 1] in b" \t\r\n":
        end -= 1
    if not end or _BLANK.search(data, 0, end) or _LEADING_BLANK.match(data, 0, end):
        return None  # empty, or blank lines: line numbers would need counting
    try:  # the ids' type, from the first line: an explicit schema reads twice as fast as inference
        nl = data.find(b"\n", 0, end)
        first = json.loads(data[: nl if nl >= 0 else end])
        kind = {str: pa.string(), int: pa.int64()}[type(first["id"])]
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    schema = pa.schema([("id", kind), ("start", pa.string()), ("minutes", pa.int64()),
                        ("pauses", pa.list_(pa.list_(pa.string())))])
    try:
        table = pj.read_json(pa.py_buffer(data), parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"))
        if table.num_rows != data.count(b"\n", 0, end) + 1:
            return None  # e.g. two objects on one line
        ident, start, minutes, pauses = (table[c] for c in ("id", "start", "minutes", "pauses"))
        if ident.null_count or start.null_count or minutes.null_count or pc.min(minutes).as_py() < 0:
            return None
        if not pc.all(pc.match_substring_regex(start, ISO_FAST)).as_py():
            return None
        starts = pc.cast(pc.cast(start, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy()
        pl, ps, pe = _fast_pauses(pauses)
    except (pa.ArrowException, ValueError, TypeError):
        return None
    if pl is None:
        return None
    n = table.num_rows
    return Clocks(ident, np.arange(1, n + 1), starts, pc.cast(minutes, pa.int64()).to_numpy(), (pl, ps, pe))


def _fast_pauses(pauses):
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = (np.empty(0, np.int64),) * 3
    pauses = pauses.combine_chunks()
    if pauses.null_count == len(pauses):
        return empty
    pairs = pauses.flatten()  # list of [from, to] per pause
    if not len(pairs):
        return empty
    if pairs.null_count or pc.any(pc.not_equal(pc.list_value_length(pairs), 2)).as_py():
        return None, None, None
    ends = pairs.flatten()
    if ends.null_count or not pc.all(pc.match_substring_regex(ends, ISO_FAST)).as_py():
        return None, None, None
    us = pc.cast(pc.cast(ends, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy()
    owner = pc.list_parent_indices(pauses).to_numpy().astype(np.int64)
    ps, pe = us[0::2], us[1::2]
    if (pe < ps).any():
        return None, None, None
    return owner, ps, pe


def read_clocks(source: str | Path) -> Clocks:
    """Parse and validate a JSON-lines file of clocks; raises :class:`SlaFileError` listing every bad line."""
    try:
        with open(source, encoding="utf-8-sig") as f:  # a byte-order mark, as some editors write, is skipped
            text = f.read()
    except FileNotFoundError as e:
        raise SlaFileError(f"{source}: no such file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise SlaFileError(f"{source}: cannot be read as UTF-8 text ({e})") from e
    raw = text.split("\n")
    numbers = [n for n, line in enumerate(raw, start=1) if line.strip()]
    records = None
    if len(numbers) == len(raw) or len(numbers) == len(raw) - 1 and not raw[-1].strip():
        try:  # one parse of the whole file as a JSON array is much faster than one per line
            records = json.loads("[" + ",".join(raw[: len(numbers)]) + "]")
            if len(records) != len(numbers):
                records = None
        except (json.JSONDecodeError, RecursionError):
            records = None
    errors: list[tuple[int, str]] = []
    if records is None:
        records = []
        for n in numbers:
            try:
                records.append(json.loads(raw[n - 1]))
            except (json.JSONDecodeError, RecursionError) as e:
                errors.append((n, f"not valid JSON ({getattr(e, 'msg', e)})"))
                records.append(None)
    return _clocks(source, records, numbers, errors)


def _clocks(source, records, numbers, errors) -> Clocks:
    n = len(records)
    columns = None if errors else _columns(records)
    if columns is None:  # record by record, collecting every error
        ids, starts, minutes = [None] * n, np.zeros(n, np.int64), np.zeros(n, np.int64)
        todo = range(n)
    else:
        ids, starts, minutes = columns
        todo = [i for i, r in enumerate(records) if r.get("pauses") is not None]
    pl, ps, pe = [], [], []
    for i in todo:
        r, field = records[i], "pauses"
        if r is None:
            continue  # not valid JSON, already reported
        try:
            if type(r) is not dict:
                raise _NotObject
            if columns is None:
                field = "id"
                ids[i] = _ident(r["id"])
                field = "start"
                starts[i] = _micros(_when(r["start"]))
                field = "minutes"
                minutes[i] = _minutes(r["minutes"])
                field = "pauses"
            for k, (a, b) in enumerate(_pauses(r.get("pauses"))):
                field = f"pauses[{k}]"
                pl.append(i)
                ps.append(_micros(a))
                pe.append(_micros(b))
        except _NotObject:
            errors.append((numbers[i], 'expected an object {"id": …, "start": …, "minutes": …}'))
        except KeyError as e:
            errors.append((numbers[i], f"field '{e.args[0]}' is missing"))
        except _Bad as e:
            errors.append((numbers[i], f"field '{e.field or field}': {e}"))
    if errors:
        errors.sort()
        raise SlaFileError(_listing(source, errors))
    return Clocks(ids, np.array(numbers, dtype=np.int64), starts, minutes,
                  (np.array(pl, dtype=np.int64), np.array(ps, dtype=np.int64), np.array(pe, dtype=np.int64)))


def _columns(records: list) -> tuple[list, np.ndarray, np.ndarray] | None:
    """ids, starts and minutes of well-formed records, column by column; None if any needs a closer look."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if set(map(type, records)) != {dict}:
        return None
    try:
        ids = [r["id"] for r in records]
        starts = pa.array([r["start"] for r in records])
        minutes = [r["minutes"] for r in records]
    except (KeyError, pa.ArrowException):
        return None
    if not set(map(type, ids)) <= {str, int} or starts.type != pa.string() or set(map(type, minutes)) != {int}:
        return None
    try:
        minutes = np.array(minutes, dtype=np.int64)
    except OverflowError:
        return None
    if minutes.min() < 0 or minutes.max() > MAX_MINUTES or starts.null_count:
        return None
    if not pc.all(pc.match_substring_regex(starts, ISO_FAST)).as_py():
        return None
    return ids, pc.cast(pc.cast(starts, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy(), minutes


class _NotObject(Exception):
    pass


class _Bad(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def _ident(v):
    if type(v) not in (str, int, float) or type(v) is float and not math.isfinite(v):
        raise _Bad("must be a string or a number")
    return v


def _minutes(m) -> int:
    if type(m) is not int or m < 0:
        raise _Bad(f"{_short(m)} is not a whole number ≥ 0")
    if m > MAX_MINUTES:
        raise _Bad(f"would not fall due within {HORIZON_YEARS} years of the start: more minutes than "
                   f"{HORIZON_YEARS} years have")
    return m


def _pauses(p) -> list[tuple[dt.datetime, dt.datetime]]:
    if p is None:
        return []
    if type(p) is not list:
        raise _Bad('expected a list of ["<from ISO>", "<to ISO>"] pairs')
    out = []
    for k, pair in enumerate(p):
        if type(pair) is not list or len(pair) != 2:
            raise _Bad('expected a pair ["<from ISO>", "<to ISO>"]', f"pauses[{k}]")
        try:
            a, b = _when(pair[0]), _when(pair[1])
        except _Bad as e:
            raise _Bad(str(e), f"pauses[{k}]") from None
        if b < a:
            raise _Bad("the pause ends before it begins", f"pauses[{k}]")
        out.append((a, b))
    return out


def write_dues(out: str | Path, ids, dues: np.ndarray) -> None:
    """Write ``{"id": …, "due": …}`` lines atomically (temporary file, then rename); ``ids`` is a list or a
    pyarrow array, in the order of ``dues``."""
    out = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent if str(out.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for i in range(0, len(dues), CHUNK):
                part = ids[i:i + CHUNK]
                f.write(_lines(part if isinstance(part, list) else part.to_pylist(), dues[i:i + CHUNK]))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as an ordinary new file (mkstemp makes it private)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lines(ids: list, dues: np.ndarray) -> str:
    text = np.datetime_as_string(dues.astype("datetime64[us]"), unit="s")
    whole = dues % 1_000_000 == 0
    if not whole.all():  # isoformat()'s way: microseconds only when there are some
        text = text.astype(object)
        text[~whole] = np.datetime_as_string(dues[~whole].astype("datetime64[us]"), unit="us")
    kinds = set(map(type, ids))
    encoded = map(encode_basestring, ids) if kinds == {str} else map(str, ids) if kinds == {int} else map(_json_id, ids)
    return "".join([f'{{"id": {i}, "due": "{d}+00:00"}}\n' for i, d in zip(encoded, text.tolist(), strict=True)])


def _json_id(v) -> str:
    if type(v) is str:
        return encode_basestring(v)
    return str(v) if type(v) is int else json.dumps(v)


def _when(value) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Bad(f"{_short(value)} is not an ISO-8601 date-time (e.g. 2026-03-02T09:30:00+01:00)") from None
    if t.tzinfo is None:
        raise _Bad(f"{_short(value)} has no UTC offset (add one, e.g. +01:00 or Z)")
    if not MIN_YEAR <= t.year <= MAX_YEAR:
        raise _Bad(f"must lie in the years {MIN_YEAR}–{MAX_YEAR}")
    return t


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _micros(t: dt.datetime) -> int:
    return (t - EPOCH) // _ONE_US


def _listing(source, errors: list[tuple[int, str]]) -> str:
    shown = [f"{source} line {n}: {msg}" for n, msg in errors[:SHOWN]]
    more = len(errors) - SHOWN
    if more > 0:
        shown.append(f"… and {more:,} more bad line(s)")
    return "\n".join([f"{len(errors):,} bad line(s) in {source}; nothing was written", *shown])
