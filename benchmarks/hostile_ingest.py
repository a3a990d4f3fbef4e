"""Hostile files through `centric ingest`: a fresh corpus of damaged and awkward files (truncations,
random bytes, giant fields, many columns, deep JSON, wrong encodings, mixed line endings, broken
quotes, title lines, workbooks that lie about their size …), each loaded by the command line in its
own process (one per file) with a time limit and a memory limit. For every file it checks:

- no Python traceback (a bad file ends in a line `error: …` or in rejected rows),
- no hang (the time limit) and no runaway memory (the memory limit, ``resource.setrlimit``),
- nothing lost: read = stored + rejected + duplicate for every file loaded,
- no temporary file left behind.

    python benchmarks/hostile_ingest.py --files 500 --seed 1

prints the totals and every file that broke a rule (exit code 1 when any did). The corpus is made
again from the seed each run, bounded in count and size (``--files``, ``--max-kb``).
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ["order_id", "email", "date", "amount", "category"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1250", "cp1251", "cp1252", "latin-1", "utf-16", "utf-32"]
WORDS = ["lodówka", "доставка", "città", "perché", "zażółć", "быстро", "naïve", "€ 12,50", "ok", "tv, audio",
         'say "hi"', "a;b", "tab\there", "line\nbreak", ""]


# -- the corpus ---------------------------------------------------------------------------------
def _rows(rng: random.Random, n: int) -> list[list[str]]:
    out = []
    for i in range(n):
        amount = rng.choice([f"{rng.randint(1, 9999)}", f"{rng.randint(1, 999)},{rng.randint(0, 99):02d}",
                             f"1 234,5{rng.randint(0, 9)}", "x", ""])
        date = rng.choice(["2025-01-02", "02.01.2025", "13/01/2025", "2025-13-45", "yesterday", ""])
        out.append([f"O{i}", f"c{rng.randint(1, n)}@x.pl", date, amount, rng.choice(WORDS)])
    return out


def _csv_text(rows: list[list[str]], delim: str, newline: str, header: list[str] | None = None) -> str:
    buf = io.StringIO()
    import csv

    w = csv.writer(buf, delimiter=delim, lineterminator=newline)
    w.writerow(header or COLUMNS)
    w.writerows(rows)
    return buf.getvalue()


def _encode(text: str, enc: str) -> bytes:
    return text.encode(enc, errors="replace")


def _mixed_newlines(text: str, rng: random.Random) -> str:
    return re.sub(r"\n", lambda _: rng.choice(["\n", "\r\n", "\r"]), text)


def _workbook(rows: list[list], title: bool = False) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append(["Orders export"])
        ws.append([])
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _edit_sheet(book: bytes, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode("utf-8")).encode("utf-8")
            z.writestr(info, data)
    return out.getvalue()


def _parquet(rows: list[list[str]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tbl = pa.table({c: [r[i] for r in rows] for i, c in enumerate(COLUMNS)})
    buf = io.BytesIO()
    pq.write_table(tbl, buf)
    return buf.getvalue()


def _damage(data: bytes, rng: random.Random) -> bytes:
    """Random bytes overwritten, inserted or deleted: quotes, delimiters, line ends, NUL, high bytes."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        if not b:
            break
        pos = rng.randrange(len(b))
        piece = rng.choice([b'"', b",", b";", b"\n", b"\r", b"\x00", bytes([rng.randint(128, 255)]),
                            bytes([rng.randint(0, 255)]), b"\xef\xbb\xbf", b"{", b"]"])
        op = rng.choice(["set", "insert", "delete"])
        if op == "set":
            b[pos:pos + 1] = piece
        elif op == "insert":
            b[pos:pos] = piece
        else:
            del b[pos:pos + rng.randint(1, 20)]
    return bytes(b)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def make_file(kind: str, rng: random.Random, max_bytes: int) -> tuple[str, bytes]:
    """One hostile file of ``kind``: (suffix, bytes)."""
    n = rng.randint(1, 60)
    rows = _rows(rng, n)
    delim = rng.choice([",", ";", "\t", "|"])
    if kind == "csv":  # well-formed, any encoding, delimiter and line ending
        text = _csv_text(rows, delim, rng.choice(["\n", "\r\n", "\r"]))
        return ".csv", _encode(text, rng.choice(ENCODINGS))
    if kind == "truncated":
        data = _encode(_csv_text(rows, delim, "\n"), rng.choice(ENCODINGS))
        return ".csv", data[: rng.randint(1, max(1, len(data) - 1))]
    if kind == "damaged":
        return ".csv", _damage(_encode(_csv_text(rows, delim, "\n"), rng.choice(ENCODINGS)), rng)
    if kind == "random":
        return rng.choice([".csv", ".json", ".jsonl", ".xlsx", ".parquet", ".txt"]), rng.randbytes(rng.randint(1, 4096))
    if kind == "giant_field":
        size = rng.randint(131_000, max(131_001, min(max_bytes - 1000, 3_000_000)))
        big = "".join(rng.choice("ab ,;\"\n") for _ in range(1000)) * (size // 1000)
        rows[rng.randrange(n)][4] = big
        return ".csv", _csv_text(rows, delim, "\n").encode("utf-8")
    if kind == "many_columns":
        k = rng.choice([900, 1001, 5000, 20000])
        header = COLUMNS + [f"extra{i}" for i in range(k)]
        body = [r + ["v"] * k for r in rows[:3]]
        return ".csv", _csv_text(body, ",", "\n", header).encode("utf-8")
    if kind == "deep_json":
        depth = rng.choice([50, 999, 1000, 5000, 20000])
        recs = [dict(zip(COLUMNS, r, strict=True)) for r in rows[:5]]
        if rng.random() < 0.5:
            return ".json", (_deep(depth) if rng.random() < 0.5 else
                             json.dumps(recs)[:-1] + ', {"order_id": "D", "x": ' + _deep(depth) + "}]").encode()
        lines = [json.dumps(r) for r in recs] + ['{"order_id": "D", "x": ' + _deep(depth) + "}"]
        return ".jsonl", "\n".join(lines).encode()
    if kind == "wrong_encoding":  # UTF-8 with bytes of another code page, maybe after the first megabyte
        text = _csv_text(rows, delim, "\n")
        filler = ("# " + "x" * 78 + "\n") * (rng.choice([0, 14_000]))
        data = _encode(text, "utf-8")
        cut = rng.randrange(len(data))
        stray = rng.choice(["zażółć".encode("cp1250"), "тест".encode("cp1251"), b"\x81\x8d\x8f\x90\x9d", b"\xff\xfe"])
        return ".csv", filler.encode() + data[:cut] + stray + data[cut:]
    if kind == "mixed_newlines":
        return ".csv", _encode(_mixed_newlines(_csv_text(rows, delim, "\n"), rng), rng.choice(ENCODINGS))
    if kind == "broken_quotes":
        text = _csv_text(rows, delim, "\n")
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(text))
            text = text[:pos] + '"' + text[pos:]
        return ".csv", text.encode("utf-8")
    if kind == "header_games":
        lines = _csv_text(rows, delim, "\n").splitlines(keepends=True)
        extra = rng.choice([["Orders export\n", "\n"], [delim.join(["email", "date", "amount", "order_id", "x"]) + "\n"],
                            ["sep=" + delim + "\n"], ["\n"] * rng.randint(1, 40)])
        at = rng.choice([0, 1, min(3, len(lines))])
        return ".csv", "".join(lines[:at] + extra + lines[at:]).encode("utf-8")
    if kind == "xlsx":
        book = _workbook(rows, title=rng.random() < 0.5)
        trick = rng.choice(["plain", "claims", "far_row", "empty_columns", "truncated", "damaged"])
        if trick == "claims":
            book = _edit_sheet(book, lambda x: re.sub(r'<dimension ref="[^"]*" ?/>',
                                                      '<dimension ref="A1:XFD1048576"/>', x).replace(
                "</sheetData>", '<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'))
        elif trick == "far_row":
            book = _edit_sheet(book, lambda x: x.replace(
                "</sheetData>", '<row r="999999999"><c r="A999999999"><v>1</v></c></row></sheetData>'))
        elif trick == "empty_columns":
            from openpyxl.utils import get_column_letter

            cells = "".join(f'<c r="{get_column_letter(c)}1" s="0"/>' for c in range(6, rng.choice([200, 2000, 16000])))
            book = _edit_sheet(book, lambda x: x.replace("</row>", cells + "</row>", 20))
        elif trick == "truncated":
            book = book[: rng.randrange(len(book))]
        elif trick == "damaged":
            book = _damage(book, rng)
        return ".xlsx", book
    if kind == "json":
        recs: list = [dict(zip(COLUMNS, r, strict=True)) for r in rows]
        if rng.random() < 0.3:
            recs.insert(rng.randrange(len(recs) + 1), rng.choice([1, "text", None, [1, 2], {"nested": {"a": [1]}}]))
        doc = rng.choice([recs, {"data": recs}, {"a": recs, "b": recs}, 42])
        data = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode(rng.choice(["utf-8", "utf-16"]))
        return ".json", _damage(data, rng) if rng.random() < 0.3 else data
    if kind == "jsonl":
        lines = [json.dumps(dict(zip(COLUMNS, r, strict=True)), ensure_ascii=False) for r in rows]
        lines += rng.choice([[], ["[1, 2]"], ["not json"], ['{"order_id": "S", "category": "\\ud800"}'], [""]])
        rng.shuffle(lines)
        data = "\n".join(lines).encode("utf-8")
        return ".jsonl", _damage(data, rng) if rng.random() < 0.3 else data
    if kind == "parquet":
        data = _parquet(rows)
        return ".parquet", data if rng.random() < 0.5 else data[: rng.randrange(len(data))]
    if kind == "odd_text":
        return ".csv", rng.choice([codecs.BOM_UTF8, b"\n" * rng.randint(1, 5000), (delim * 50 + "\n").encode() * 20,
                                   codecs.BOM_UTF16_LE + b"\x00", codecs.BOM_UTF32_LE, b'"' * 1001,
                                   ",".join(COLUMNS).encode() + b"\n", ("\r" * 3000).encode()])
    raise ValueError(kind)


KINDS = ["csv", "truncated", "damaged", "random", "giant_field", "many_columns", "deep_json", "wrong_encoding",
         "mixed_newlines", "broken_quotes", "header_games", "xlsx", "json", "jsonl", "parquet", "odd_text"]


def make_corpus(folder: Path, count: int, seed: int = 1, max_kb: int = 4096) -> list[Path]:
    """``count`` hostile files in ``folder``, every kind in turn, none over ``max_kb``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        suffix, data = make_file(kind, rng, max_kb * 1024)
        p = folder / f"{i:05d}_{kind}{suffix}"
        p.write_bytes(data[: max_kb * 1024])
        out.append(p)
    return out


# -- one file through the command line ----------------------------------------------------------
@dataclass
class Outcome:
    files: list[Path]
    seconds: float
    exit_code: int | None  # None: killed at the time limit
    traceback: bool
    errors: list[str]  # the `error: …` lines of files that could not be loaded
    results: list[dict]
    leftovers: list[str]  # temporary files left behind

    @property
    def problems(self) -> list[str]:
        out = []
        if self.exit_code is None:
            out.append("hang (killed at the time limit)")
        if self.traceback:
            out.append("traceback")
        for r in self.results:
            if r["rows_read"] != r["rows_stored"] + r["rows_rejected"] + r["rows_duplicate"]:
                out.append(f"{Path(r['source']).name}: read != stored + rejected + duplicate")
        if self.leftovers:
            out.append(f"temporary files left: {self.leftovers}")
        if self.exit_code is not None and not self.traceback:
            said = {Path(r["source"]).name for r in self.results}
            for f in self.files:
                if f.name not in said and not any(f.name in e for e in self.errors):
                    out.append(f"{f.name}: no result and no error line (exit {self.exit_code})")
        return out


def ingest_files(paths: list[Path], workdir: Path, table: str = "orders", timeout: float = 60,
                 memory_mb: int = 2048) -> Outcome:
    """Load ``paths`` into a fresh store with one `centric ingest TABLE FILE… --json` in a child
    process limited to ``timeout`` seconds and ``memory_mb`` of address space."""
    store = workdir / "store.duckdb"
    scratch = workdir / "tmp"
    for p in (store, Path(str(store) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    # the limit is on address space (RLIMIT_AS): glibc reserves 64 MB of it per thread's malloc arena without
    # using it, so with DuckDB's and the reader's threads a 2 GB limit failed now and then on reservations alone
    env = {**os.environ, "TMPDIR": str(scratch), "MALLOC_ARENA_MAX": "2"}
    cmd = [sys.executable, "-c", "from centric.cli import main; main()", "--db", str(store), "ingest", table,
           *map(str, paths), "--json"]
    start = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout,
                           preexec_fn=limit, env=env)
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out = None, ""
        err = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    seconds = time.perf_counter() - start
    try:
        results = json.loads(out) if out.strip() else []
    except json.JSONDecodeError:
        results = []
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    leftovers = sorted(p.name for p in scratch.iterdir()) if scratch.exists() else []
    return Outcome(list(paths), seconds, code, "Traceback (most recent call last)" in err, errors, results, leftovers)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=320, help="number of files to generate (default 320)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-kb", type=int, default=4096, help="largest file, in KB (default 4096)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per file (default 60)")
    ap.add_argument("--memory-mb", type=int, default=2048, help="address space per process (default 2048)")
    ap.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="centric-hostile-"))
    try:
        corpus = make_corpus(args.keep or work / "files", args.files, args.seed, args.max_kb)
        totals: Counter[str] = Counter()
        bad: list[Outcome] = []
        slowest: list[tuple[float, str]] = []
        for f in corpus:
            o = ingest_files([f], work, timeout=args.timeout, memory_mb=args.memory_mb)
            totals["files"] += 1
            totals["loaded" if o.results else "refused with a message" if o.errors else "other"] += 1
            for r in o.results:
                for k in ("rows_read", "rows_stored", "rows_rejected", "rows_duplicate"):
                    totals[k] += r[k]
            slowest.append((o.seconds, f.name))
            if o.problems:
                bad.append(o)
        print(f"{totals['files']} files (seed {args.seed}, ≤ {args.max_kb} KB, {args.timeout:.0f} s and "
              f"{args.memory_mb} MB each)")
        print(f"  loaded {totals['loaded']}, refused with a message {totals['refused with a message']}, "
              f"other {totals['other']}")
        print(f"  rows read {totals['rows_read']:,} = stored {totals['rows_stored']:,} + rejected "
              f"{totals['rows_rejected']:,} + duplicate {totals['rows_duplicate']:,}")
        print("  slowest: " + ", ".join(f"{n} {s:.1f} s" for s, n in sorted(slowest, reverse=True)[:3]))
        kinds = Counter(p for o in bad for p in o.problems)
        print(f"  files with a problem: {len(bad)} " + (f"({dict(kinds)})" if kinds else ""))
        for o in bad:
            print(f"    {o.files[0].name}: {'; '.join(o.problems)}")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
