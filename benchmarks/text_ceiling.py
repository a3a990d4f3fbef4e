"""How far can polarity go over the shipped sentence encoders? A diagnostic, never a shipped model.

    python benchmarks/text_ceiling.py [--shared ../shared/data]

For each SemEval-2016 restaurant set (EN, RU) this trains a classifier on the evaluation set itself —
which the product never does — and reports its 5-fold cross-validated accuracy of polarity given the
gold factor (folds split by sentence, so a sentence never sits on both sides). Whatever a head trained
on permitted data reaches, it cannot be expected to beat a head trained in-domain on the same
embedding: this bounds what the multilingual-e5-small and USE sentence embeddings allow, and it is
printed beside our shipped figure and the goal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier

    from centric.text.embed import E5Embedder, USEEmbedder
    from text_quality import GOALS, semeval

    embedders = {"e5-small": E5Embedder(), "USE v3": USEEmbedder()}
    heads = {"logistic": lambda: LogisticRegression(C=2.0, max_iter=3000),
             "MLP 64": lambda: MLPClassifier((64,), alpha=1e-3, max_iter=300, early_stopping=True, random_state=0)}
    print(f"{'set':<12} {'embedding':<16} {'head':<9} {'in-domain CV %':>14}   goal")
    for lang, file in (("en", "restaurants_train_english.xml"), ("ru", "restaurants_train_russian.xml")):
        rows = semeval(args.shared / "semeval2016_task5_absa" / file)
        texts, labels, groups = [], [], []
        for r in rows:
            for pol in r["gold"].values():
                if pol in ("positive", "negative", "neutral"):
                    texts.append(r["text"])
                    labels.append(pol)
                    groups.append(r["id"])
        distinct = list(dict.fromkeys(texts))
        where = {t: i for i, t in enumerate(distinct)}
        for ename, emb in embedders.items():
            E = emb.encode(distinct)[[where[t] for t in texts]]
            views = {ename: E}
            if ename == "USE v3":
                views["e5 + USE"] = np.hstack([embedders["e5-small"].encode(distinct)[[where[t] for t in texts]], E])
            for vname, X in views.items():
                for hname, make in heads.items():
                    acc = cross_val_score(make(), X, labels, groups=groups, cv=GroupKFold(5)).mean()
                    print(f"{lang.upper():<12} {vname:<16} {hname:<9} {100 * acc:>14.1f}   {GOALS[lang][1]}", flush=True)


if __name__ == "__main__":
    main()
