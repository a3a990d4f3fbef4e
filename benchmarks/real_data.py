"""The three real stores of the trial, rebuilt as a new user would — files, mapping files, the public
commands — and what they show: the telecom action matrix, drivers by CSAT on the NHS patient
comments, and the complaint topics of the CFPB complaints.

    python benchmarks/real_data.py [--shared ../shared/data] [--rows 3000 | --all] [--fast] [--keep DIR]

- Telecom NPS verbatims (telecom_nps_verbatims_en/verbatim.csv): NPS 0–10 with a comment and the
  journey stage; loaded with a mapping file; taxonomy ``telecom``; ``centric drivers`` (the matrix).
- NHS Friends-and-Family feedback (nhs_fft_patient_feedback_en/v6framework_230831.csv): one comment
  per row with the patient's answer on 1 = very good … 5 = very poor, 6–7 = other / don't know;
  loaded as CSAT (6 − answer, "don't know" left empty) with a mapping file; taxonomy
  ``healthcare``; ``centric drivers --outcome csat``.
- CFPB consumer complaints (cfpb_complaints_sample/complaints_sample.csv): complaints with their
  narrative, loaded as feedback of source "complaint" with a mapping file; taxonomy ``banking``; the
  complaint topics.

The text analysis of real data takes minutes, so each file is cut to a random sample of ``--rows``
rows (3,000 by default; seed 0) unless ``--all``. Everything runs in a temporary folder (kept with
``--keep``), through ``python -m centric.cli`` of this checkout; the files under ../shared/data are
only read. At the end, a summary: the outcome each analysis used and, per factor, its importance, net
sentiment and quadrant.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

TELECOM_MAPPING = """\
# telecom NPS verbatims: one survey answer per row
ignore = ["NPS_RATING", "Qtr"]

[columns]
CUSTOMER_RESPONSE_DATE = "responded_at"
NPS_SCORE = "nps"
text = "comment"
SURVEY_SUB_TYPE = "touchpoint"

[settings]
day_first = "true"
"""

NHS_MAPPING = """\
# NHS Friends-and-Family feedback: one comment per row, with the patient's rating
ignore = ["Respondent ID", "Trust", "Service type 2", "Person identifiable info?", "Comment sentiment"]

[columns]
"Comment ID" = "response_id"
Date = "responded_at"
"FFT answer" = "comment"
"FFT question" = "survey"
"Service type 1" = "touchpoint"

[columns."FFT categorical answer"]
to = "csat"
formula = "6 - x"      # 1 = very good … 5 = very poor  ->  5 … 1
missing = [6, 7]       # other, don't know: no score; the row and its comment are kept

[settings]
day_first = "true"
"""

CFPB_MAPPING = """\
# CFPB consumer complaints: the narrative is the text
ignore = ["Company", "State", "ZIP code", "Tags", "Consumer consent provided?", "Company public response",
          "Company response to consumer", "Timely response?", "Consumer disputed?", "Date sent to company",
          "Product", "Sub-product", "Sub-issue"]

[columns]
"Complaint ID" = "feedback_id"
"Date received" = "posted_at"
"Consumer complaint narrative" = "text"
Issue = "title"
"Submitted via" = "channel"

[values]
source = "complaint"
"""


def cli(db: Path, *args: str, quiet: bool = False) -> str:
    """Run ``centric --db DB ARGS`` of this checkout, print its output, and return it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "150"}
    cmd = [sys.executable, "-m", "centric.cli", "--db", str(db), *args]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if not quiet:
        print(f"\n$ centric {' '.join(args)}")
        print(res.stdout.rstrip())
    if res.stderr.strip() and not quiet:
        print(res.stderr.rstrip()[-2000:])
    if res.returncode not in (0, 1):
        print(f"(exit code {res.returncode})")
    return res.stdout


def _json(out: str) -> dict:
    return json.loads(out) if out.strip().startswith("{") else {}


def sample(df: pd.DataFrame, rows: int | None) -> pd.DataFrame:
    return df if rows is None or len(df) <= rows else df.sample(rows, random_state=0).sort_index()


def load_file(shared: Path, work: Path, rows: int | None, name: str, csv: str, table: str, mapping: str,
              title: str) -> Path:
    """Write a sample of ``csv`` and its mapping file into ``work`` and load them with ``centric ingest``."""
    db, src = work / f"{name}.duckdb", pd.read_csv(shared / csv, encoding_errors="replace")
    path, part = work / Path(csv).name, sample(src, rows)
    part.to_csv(path, index=False)
    (work / f"{name}.toml").write_text(mapping, encoding="utf-8")
    print(f"\n=== {title}: {len(part):,} of {len(src):,} rows")
    cli(db, "ingest", table, str(path), "--mapping", str(work / f"{name}.toml"))
    return db


def telecom(shared: Path, work: Path, rows: int | None, analyze: list[str]) -> dict:
    db = load_file(shared, work, rows, "telecom", "telecom_nps_verbatims_en/verbatim.csv", "responses",
                   TELECOM_MAPPING, "Telecom NPS verbatims")
    cli(db, "analyze", "--taxonomy", "telecom", *analyze)
    cli(db, "drivers")
    return _json(cli(db, "drivers", "--json", quiet=True))


def nhs(shared: Path, work: Path, rows: int | None, analyze: list[str]) -> dict:
    # The file's scale runs 1 = very good … 5 = very poor, and 6–7 mean other / don't know: the mapping
    # file recodes it (CSAT = 6 − answer) and leaves "don't know" empty, keeping the comment.
    db = load_file(shared, work, rows, "nhs", "nhs_fft_patient_feedback_en/v6framework_230831.csv", "responses",
                   NHS_MAPPING, "NHS patient feedback (CSAT = 6 − answer; 6–7 left empty)")
    cli(db, "metrics", "csat")
    cli(db, "analyze", "--taxonomy", "healthcare", *analyze)
    cli(db, "drivers", "--outcome", "csat")
    return _json(cli(db, "drivers", "--outcome", "csat", "--json", quiet=True))


def cfpb(shared: Path, work: Path, rows: int | None, analyze: list[str]) -> dict:
    db = load_file(shared, work, rows, "cfpb", "cfpb_complaints_sample/complaints_sample.csv", "feedback",
                   CFPB_MAPPING, "CFPB complaints (only those with a narrative have a text to store)")
    cli(db, "analyze", "--taxonomy", "banking", *analyze)
    cli(db, "text", "topics", "--source", "complaint")
    cli(db, "drivers")
    return _json(cli(db, "drivers", "--json", quiet=True))


def summary(name: str, d: dict) -> None:
    if not d:
        print(f"\n{name}: no analysis (see the message above)")
        return
    what = f"drivers of {d['outcome'].upper() if d['outcome'] != 'rating' else 'rating'} over {d['answers']:,} answers" \
        if d["outcome"] else f"ranked by volume over {d['texts']:,} texts"
    print(f"\n{name}: {what}; {d['crosshair_note']}")
    for f in d["factors"]:
        imp = "—" if f["importance"] is None else f"{f['importance']:.1f}"
        net = "—" if f["net"] is None else f"{f['net']:+.1f}"
        print(f"  {f['factor']:<16} importance {imp:>6}  net {net:>6}  n {f['n'] or 0:>5}  "
              f"{f['quadrant'] + ('?' if f['uncertain'] else '') if f['quadrant'] else '— (too few mentions)'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--rows", type=int, default=3000, help="rows sampled from each file (default 3000)")
    ap.add_argument("--all", action="store_true", help="every row of every file (the text analysis takes longer)")
    ap.add_argument("--fast", action="store_true", help="centric analyze --fast (faster, less accurate polarity)")
    ap.add_argument("--keep", type=Path, help="build the stores in this folder and keep them")
    args = ap.parse_args()
    if not args.shared.exists():
        sys.exit(f"{args.shared} not found: pass --shared with the folder of the real data sets")
    rows = None if args.all else args.rows
    analyze = ["--fast"] if args.fast else []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(ROOT / "src"))
        results = {}
        for name, build in (("Telecom NPS", telecom), ("NHS patient feedback", nhs), ("CFPB complaints", cfpb)):
            t0 = time.perf_counter()
            results[name] = build(args.shared, work, rows, analyze)
            print(f"({name}: {time.perf_counter() - t0:.0f} s)")
        print("\n=== Summary")
        for name, d in results.items():
            summary(name, d)


if __name__ == "__main__":
    main()
