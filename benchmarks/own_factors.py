"""Your own factors: does a taxonomy a user writes in a few minutes route long, messy texts?

    python benchmarks/own_factors.py [--shared ../shared/data] [--taxonomy benchmarks/data/cfpb_taxonomy.toml]

The CFPB consumer complaint narratives (../shared/data/cfpb_complaints_sample: several paragraphs each,
names, dates and amounts masked as XXXX, XX/XX/XXXX, {$25.00}) against ``benchmarks/data/cfpb_taxonomy.toml``:
one factor per product, three to five short phrases each written from general knowledge of banking,
never from the narratives. The top factor of each complaint (``TextResult.top_factor``) is compared with
its product:

- **routing accuracy**: the share of complaints whose top factor is their product (no factor counts as
  wrong); **macro-F1** over the products; **no factor**: the share of complaints given none;
- beside it, in the same run, a **baseline**: TF-IDF (words and word pairs, English stop words out)
  nearest centroid over the same phrases and factor names, the whole text against each factor's centroid
  (no factor when the text shares no term with any);
- the complaints are split by their id: even ids are the half looked at while improving the routing,
  odd ids the held-out half, reported apart;
- a confusion summary: per product its complaints, recall, the commonest wrong answers.

Factors only (polarity on the fast head), so it runs in a couple of minutes.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NONE = "(none)"
PRODUCTS = {  # the CFPB product (older names included) → the factor of cfpb_taxonomy.toml
    "Credit reporting, credit repair services, or other personal consumer reports": "credit_reporting",
    "Debt collection": "debt_collection",
    "Mortgage": "mortgage",
    "Credit card or prepaid card": "credit_card",
    "Credit card": "credit_card",
    "Checking or savings account": "bank_account",
    "Bank account or service": "bank_account",
    "Student loan": "student_loan",
    "Vehicle loan or lease": "vehicle_loan",
    "Money transfer, virtual currency, or money service": "money_transfer",
    "Payday loan, title loan, or personal loan": "personal_loan",
    "Consumer Loan": "personal_loan",  # its two narratives here are installment loans
}


def load(shared: Path) -> pd.DataFrame:
    cf = pd.read_csv(shared / "cfpb_complaints_sample" / "complaints_sample.csv")
    cf = cf[cf["Consumer complaint narrative"].notna()].reset_index(drop=True)
    unknown = sorted(set(cf["Product"]) - set(PRODUCTS))
    if unknown:
        raise SystemExit(f"complaints_sample.csv: column Product has values with no factor: {unknown}")
    cf["gold"] = cf["Product"].map(PRODUCTS)
    cf["half"] = np.where(cf["Complaint ID"] % 2 == 0, "looked at", "held out")
    return cf


def baseline(taxonomy, texts: list[str]) -> list[str]:
    """TF-IDF nearest centroid over the taxonomy's phrases and names."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [" ".join(f.all_examples()) for f in taxonomy.factors]
    vec = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True).fit(docs)
    C = vec.transform(docs)
    S = (vec.transform(texts) @ C.T).toarray()
    return [taxonomy.ids[int(np.argmax(s))] if s.max() > 0 else NONE for s in S]


def scores(gold: list[str], pred: list[str], labels: list[str]) -> tuple[float, float, float]:
    from sklearn.metrics import f1_score

    acc = 100 * np.mean([g == p for g, p in zip(gold, pred, strict=True)])
    f1 = 100 * f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
    none = 100 * np.mean([p == NONE for p in pred])
    return acc, f1, none


def confusion(gold: list[str], pred: list[str], labels: list[str]) -> None:
    print(f"  {'product':<18} {'n':>4} {'recall':>7}  commonest wrong answers")
    for g in labels:
        got = [p for gg, p in zip(gold, pred, strict=True) if gg == g]
        if not got:
            continue
        wrong = collections.Counter(p for p in got if p != g).most_common(3)
        print(f"  {g:<18} {len(got):>4} {100 * got.count(g) / len(got):6.1f}%  "
              + ", ".join(f"{p} {n}" for p, n in wrong))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--taxonomy", type=Path, default=ROOT / "benchmarks" / "data" / "cfpb_taxonomy.toml")
    args = ap.parse_args()
    from centric.text import Analyzer
    from centric.text.taxonomy import load_taxonomy

    t0 = time.perf_counter()
    cf = load(args.shared)
    taxonomy = load_taxonomy(args.taxonomy)
    labels = taxonomy.ids
    if set(cf["gold"]) - set(labels):
        raise SystemExit(f"{args.taxonomy}: no factor for {sorted(set(cf['gold']) - set(labels))}")
    texts = cf["Consumer complaint narrative"].tolist()
    res = Analyzer(taxonomy, fast=True).analyze([{"id": i, "text": t, "lang": "en"} for i, t in enumerate(texts)])
    ours = [r.top_factor["factor"] if r.top_factor else NONE for r in res]
    base = baseline(taxonomy, texts)
    print(f"CFPB complaint narratives: {len(cf):,} ({(cf['half'] == 'looked at').sum()} looked at, "
          f"{(cf['half'] == 'held out').sum()} held out), {np.mean([len(r.sentences) for r in res]):.1f} "
          f"sentences on average; taxonomy {args.taxonomy.name}: {len(labels)} factors, "
          f"{np.mean([len(f.all_examples()) - len(f.names) for f in taxonomy.factors]):.1f} phrases each")
    print(f"\n{'half':<10} {'method':<26} {'routing acc %':>13} {'macro-F1':>9} {'no factor %':>12}")
    for half in ("held out", "looked at"):
        idx = np.flatnonzero(cf["half"] == half)
        gold = [cf["gold"][i] for i in idx]
        for name, pred in (("ours (top_factor)", ours), ("TF-IDF nearest centroid", base)):
            acc, f1, none = scores(gold, [pred[i] for i in idx], labels)
            print(f"{half:<10} {name:<26} {acc:13.1f} {f1:9.1f} {none:12.1f}")
    gold = cf["gold"].tolist()
    majority = collections.Counter(gold).most_common(1)[0]
    print(f"(always '{majority[0]}': {100 * majority[1] / len(gold):.1f}% accuracy)")
    for name, pred in (("ours", ours), ("baseline", base)):
        print(f"\nconfusion, {name}, both halves:")
        confusion(gold, pred, labels)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
