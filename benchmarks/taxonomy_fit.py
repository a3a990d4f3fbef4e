"""Do the shipped taxonomies fit real texts? Factors found per known group of real complaints and
comments in ../shared/data, and the placeholder answers of the NHS comments.

    python benchmarks/taxonomy_fit.py [--shared ../shared/data]

- CFPB consumer complaints (narratives) → ``banking``: share of the narratives of each product group
  (credit reporting, debt collection, the rest) in which each factor is found;
- telecom NPS verbatims → ``telecom``: the same for the comments of the "Order" journey stage, for the
  comments that speak of provisioning (still no service, activation, appointments, waiting for …) and
  for those that speak of TV (TV, channels, box);
- NHS patient comments → ``healthcare``: placeholder answers ("Did not answer", "Nothing.", "N/a" …)
  and mentions per factor with net sentiment.
Factors only (polarity on the fast head), so it runs in a few minutes.
"""

from __future__ import annotations

import argparse
import collections
import csv
import re
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def shares(results, groups: dict[str, list[int]]) -> None:
    for name, idx in groups.items():
        c = collections.Counter(f for i in idx for f in {m["factor"] for m in results[i].factors})
        none = sum(1 for i in idx if not results[i].factors)
        print(f"  {name:<20} n={len(idx):>5}  no factor {100 * none / max(len(idx), 1):5.1f}%  "
              + ", ".join(f"{k} {100 * v / len(idx):.1f}%" for k, v in c.most_common(6)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    from centric.text import Analyzer

    t0 = time.perf_counter()
    cf = pd.read_csv(args.shared / "cfpb_complaints_sample" / "complaints_sample.csv")
    print(f"CFPB complaints: {len(cf):,}; credit reporting or debt collection: "
          f"{100 * cf['Product'].str.match(r'Credit reporting|Debt collection').mean():.1f}%")
    cf = cf[cf["Consumer complaint narrative"].notna()].reset_index(drop=True)
    group = ["credit reporting" if p.startswith("Credit reporting") else "debt collection" if p == "Debt collection"
             else "other products" for p in cf["Product"]]
    res = Analyzer("banking", fast=True).analyze(
        [{"id": i, "text": t, "lang": "en"} for i, t in enumerate(cf["Consumer complaint narrative"])])
    print(f"CFPB narratives → banking: {len(cf):,}")
    shares(res, {g: [i for i, x in enumerate(group) if x == g]
                 for g in ("credit reporting", "debt collection", "other products")})
    # per sentence, against the words that name each new factor's subject (a rough precision and recall)
    for fid, words in (("credit_reports", r"credit (?:report|bureau|score|file|history)|equifax|experian|transunion"),
                       ("debt_collection", r"collector|collection|\bdebt\b")):
        for g in ("credit reporting", "debt collection", "other products"):
            hit = named = both = total = 0
            for i, x in enumerate(group):
                if x != g:
                    continue
                found = {m["sentence"] for m in res[i].factors if m["factor"] == fid}
                for si, sent in enumerate(res[i].sentences):
                    says = bool(re.search(words, sent, re.I))
                    total, hit, named, both = total + 1, hit + (si in found), named + says, both + (says and si in found)
            print(f"  {fid:<16} {g:<17} sentences {total:>6,}: found in {100 * hit / total:5.1f}%, of them naming "
                  f"it {100 * both / max(hit, 1):5.1f}%; of the sentences naming it, found {100 * both / max(named, 1):5.1f}%")

    tv = pd.read_csv(args.shared / "telecom_nps_verbatims_en" / "verbatim.csv")
    tv = tv[tv.text.notna()].reset_index(drop=True)
    res = Analyzer("telecom", fast=True).analyze([{"id": i, "text": x, "lang": "en"} for i, x in enumerate(tv.text)])
    masks = {"stage Order": tv.SURVEY_SUB_TYPE == "Order",
             "provisioning words": tv.text.str.contains(r"still (?:no|not|don'?t have)|activat|appointment|"
                                                        r"no broadband|(?:waiting|waited) (?:for|weeks|over)",
                                                        case=False),
             "TV words": tv.text.str.contains(r"\bTV\b|channel|set.?top|\bbox\b", case=False),
             "all": tv.text.notna()}
    print(f"telecom verbatims → telecom: {len(tv):,}")
    shares(res, {k: [i for i in range(len(tv)) if m[i]] for k, m in masks.items()})

    texts = []
    with open(args.shared / "nhs_fft_patient_feedback_en" / "v6framework_230831.csv", encoding="utf-8",
              errors="replace") as f:
        for r in csv.DictReader(f):
            if (t := (r.get("FFT answer") or "").strip()):
                texts.append({"id": r["Comment ID"], "text": t, "lang": "en"})
    res = Analyzer("healthcare", fast=True).analyze(texts)
    c = collections.Counter((m["factor"], m["sentiment"]) for r in res for m in r.factors)
    print(f"NHS comments → healthcare: {len(texts):,}, placeholder answers {sum(r.sentiment is None for r in res):,}")
    for fac in sorted({k[0] for k in c}):
        pos, neg = c[(fac, "positive")], c[(fac, "negative")]
        n = pos + neg + c[(fac, "neutral")]
        print(f"  {fac:<14} mentions {n:>5}  net sentiment {100 * (pos - neg) / n:+6.1f}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
