"""How many real texts the near-duplicate flag marks, with the rule of ``centric analyze`` and with the
earlier rule (any text of 40 characters or more repeated by two authors, whatever its length in words
or its dates), on public data in ../shared/data. Real customers' texts are not a campaign, so the share
flagged should be small; each row of a file counts as its own author.

    python benchmarks/text_flags.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from centric.text.suspicious import near_duplicates  # noqa: E402


def _semeval(path: Path) -> pd.DataFrame:
    """Whole reviews (their sentences joined), one author each, undated."""
    reviews: dict[str, list[str]] = defaultdict(list)
    for s in ET.parse(path).getroot().iter("sentence"):
        reviews[s.get("id", "").split(":")[0]].append(s.findtext("text") or "")
    return pd.DataFrame({"author": list(reviews), "at": pd.NaT, "text": [" ".join(v) for v in reviews.values()]})


def datasets(shared: Path) -> dict[str, pd.DataFrame]:
    out = {}
    t = pd.read_csv(shared / "telecom_nps_verbatims_en/verbatim.csv")
    out["telecom NPS comments (EN)"] = pd.DataFrame({"author": range(len(t)), "at": pd.to_datetime(
        t.CUSTOMER_RESPONSE_DATE, format="%d/%m/%Y %H:%M", errors="coerce"), "text": t.text})
    n = pd.read_csv(shared / "nhs_fft_patient_feedback_en/v6framework_230831.csv")
    out["NHS patient comments (EN)"] = pd.DataFrame({"author": n["Respondent ID"], "at": pd.to_datetime(
        n.Date, dayfirst=True, errors="coerce"), "text": n["FFT answer"]})
    c = pd.read_csv(shared / "cfpb_complaints_sample/complaints_sample.csv")
    out["CFPB complaints (EN)"] = pd.DataFrame({"author": c["Complaint ID"], "at": pd.to_datetime(
        c["Date received"], format="%Y/%m/%d", errors="coerce"), "text": c["Consumer complaint narrative"]})
    for lang in ("english", "russian"):
        out[f"SemEval-2016 restaurant reviews ({lang[:2].upper()}, undated)"] = _semeval(
            shared / f"semeval2016_task5_absa/restaurants_train_{lang}.xml")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    if not args.shared.exists():
        sys.exit(f"no data at {args.shared}")
    print(f"{'data':<48} {'texts':>6} {'earlier rule':>14} {'now':>12}  seconds")
    for name, df in datasets(args.shared).items():
        df = df[df.text.notna() & (df.text.astype(str).str.strip() != "")]
        texts = [(i, a, None if pd.isna(at) else at.to_pydatetime(), str(x))
                 for i, (a, at, x) in enumerate(zip(df.author, df["at"], df.text, strict=True))]
        before = near_duplicates(texts, min_words=1, long_words=1)
        t0 = time.perf_counter()
        now = near_duplicates(texts)
        took = time.perf_counter() - t0
        n = len(texts)
        print(f"{name:<48} {n:>6} {len(before):>5} ({100 * len(before) / n:4.1f}%) {len(now):>4} ({100 * len(now) / n:4.1f}%)"
              f"  {took:.1f}")


if __name__ == "__main__":
    main()
