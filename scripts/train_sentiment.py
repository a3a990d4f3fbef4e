"""Rebuild the shipped sentiment models (src/centric/text/models/sentiment_EMBEDDER.npz).

    python scripts/train_sentiment.py [--shared ../shared/data] [--embedder use|e5] [--xed LANGS]
    python scripts/train_sentiment.py --factor [--shared ../shared/data]

The second builds the factor polarity head (src/centric/text/models/factor_polarity_e5-small.npz): a
logistic regression over e5 with the factor named in its input (``sentiment.factor_prompt``), trained
on Polish-ASTE's aspect-level relations with the aspect term named (C = 8, the best of 0.25–8 by
5-fold cross-validation on those relations, grouped by sentence) and on the hand-written sentences
once each, named by the factor that USE matches best among the built-in taxonomies' factors (without
them the head read short clear praise such as "Obsługa była bardzo miła." as negative).

Trained only on data whose licence allows shipping the result:
- Polish-ASTE sentence labels (CC BY 4.0): __label__z_plus_m positive, z_minus_m negative, z_zero neutral;
- NHS patient comments (MIT repository): labeller's sentiment 1–2 positive, 3 neutral, 4–5 negative;
- the sentences written for centric in src/centric/text/data/sentiment_seed.tsv;
- with ``--xed en,pl,...`` (off by default), XED's movie-subtitle lines (CC BY 4.0) outside its
  held-out fifth, labelled by the valence of their emotions (``centric.text.emotions.xed_valence``); the
  shipped heads do not use them (benchmarks/README.md, "XED's valence as training data").
SemEval, SentiRuEval and ABSITA are never used: they are research-only and serve evaluation.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from train_emotions import embed  # noqa: E402  (embeddings kept between runs, by text)


def polish_aste(shared: Path, part: str = "train") -> list[tuple[str, str, str]]:
    """(id, label, text) of Polish-ASTE's labelled sentences: every fifth is held out for
    benchmarks/text_quality.py (``part="heldout"``), the rest trains (``part="train"``)."""
    out = []
    for sub in ("hotels_dataset", "products_dataset"):
        for i, line in enumerate(open(shared / "polish_aste_pl" / sub / "main_all.jsonl", encoding="utf-8")):
            if (i % 5 == 0) != (part == "heldout"):
                continue
            text = json.loads(line)["text"]
            if "__label__" not in text:
                continue
            body, label = text.rsplit("__label__", 1)
            lab = {"z_plus_m": "positive", "z_minus_m": "negative", "z_zero": "neutral"}.get(label.strip())
            if lab:
                out.append((f"{sub}:{i}", lab, body.strip()))
    return out


def polish_aste_aspects(shared: Path) -> list[tuple[str, str, str, str]]:
    """(sentence id, sentence, aspect term, polarity) of Polish-ASTE's aspect-level relations (an
    ASPEKT span and the polarity of the opinion on it; the first relation of a term counts), in the
    four fifths that ``polish_aste`` trains on: the held-out fifth stays out."""
    out = []
    pols = {"POSITIVE": "positive", "NEGATIVE": "negative", "NEUTRAL": "neutral"}
    for sub in ("hotels_dataset", "products_dataset"):
        for i, line in enumerate(open(shared / "polish_aste_pl" / sub / "main_all.jsonl", encoding="utf-8")):
            if i % 5 == 0:
                continue
            d = json.loads(line)
            text = d["text"]
            body = text.rsplit("__label__", 1)[0].strip()
            spans = {e["id"]: e for e in d["entities"]}
            terms: dict[str, str] = {}
            for r in d["relations"]:
                ends = [spans.get(r["from_id"]), spans.get(r["to_id"])]
                aspect = next((e for e in ends if e and e["label"] == "ASPEKT"), None)
                if aspect is not None and r["type"] in pols:
                    terms.setdefault(text[aspect["start_offset"]:aspect["end_offset"]].strip(), pols[r["type"]])
            out += [(f"{sub}:{i}", body, term, pol) for term, pol in terms.items()]
    return out


def nhs(shared: Path) -> list[tuple[str, str]]:
    out = []
    with open(shared / "nhs_fft_patient_feedback_en" / "v6framework_230831.csv", encoding="utf-8",
              errors="replace") as f:
        for row in csv.DictReader(f):
            s, text = row.get("Comment sentiment", "").strip(), row.get("FFT answer", "").strip()
            if not text or s not in {"1", "2", "3", "4", "5"}:
                continue
            out.append(({"1": "positive", "2": "positive", "3": "neutral", "4": "negative", "5": "negative"}[s], text))
    return out


def xed_valence_lines(xed: Path, langs: list[str], per_class: int, rng: random.Random) -> list[tuple[str, str]]:
    """(label, text) of XED's training lines (never its held-out fifth, ``xed_heldout``, which
    benchmarks/text_quality.py measures emotions and valence on) in ``langs`` whose emotions have one
    valence (``xed_valence``), at most ``per_class`` per class and language (0: all), drawn at random."""
    from centric.text.emotions import read_xed, xed_heldout, xed_valence

    out = []
    for lang in langs:
        rows, _ = read_xed(xed / f"{lang}.tsv")
        by: dict[str, list[str]] = {}
        for text, emotions in rows:
            if not xed_heldout(text) and (side := xed_valence(emotions)):
                by.setdefault(side, []).append(text)
        for lab, texts in sorted(by.items()):
            texts = list(dict.fromkeys(texts))
            rng.shuffle(texts)
            texts = texts[: per_class or None]
            out += [(lab, t) for t in texts]
            print(f"xed {lang}: {lab} {len(texts)}")
    return out


def seed() -> list[tuple[str, str]]:
    with open(ROOT / "src/centric/text/data/sentiment_seed.tsv", encoding="utf-8") as f:
        return [(r["label"], r["text"]) for r in csv.DictReader(f, delimiter="\t")]


def named_seed(rows: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(text, factor name, label) of the hand-written sentences (distinct), each named by the factor
    that USE matches best among the built-in taxonomies' factors."""
    from centric.text.embed import USEEmbedder
    from centric.text.factors import FactorMatcher
    from centric.text.taxonomy import builtin_names, load_taxonomy

    rows = list(dict.fromkeys(rows))
    use = USEEmbedder()
    E = use.encode([t for _, t in rows])
    best = np.full(len(rows), -1.0)
    names = [""] * len(rows)
    for tn in builtin_names():
        tax = load_taxonomy(tn)
        P = FactorMatcher().fit(tax, use).predict_proba(E)
        for i, j in enumerate(P.argmax(axis=1)):
            if P[i, j] > best[i]:
                best[i], names[i] = P[i, j], tax.factors[j].name("en").lower()
    return [(t, n, lab) for (lab, t), n in zip(rows, names, strict=True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--per-class", type=int, default=0, help="cap per class and source (0: no cap)")
    ap.add_argument("--embedder", choices=("use", "e5"), default="use")
    ap.add_argument("--seed-weight", type=int, default=5, help="how many times the hand-written sentences count")
    ap.add_argument("--head", choices=("linear", "mlp"), default="mlp",
                    help="classifier over the embeddings (one hidden layer, or a logistic regression)")
    ap.add_argument("--ensemble", type=int, default=5,
                    help="how many one-hidden-layer classifiers (different initial weights) to average")
    ap.add_argument("--xed", default="", metavar="LANGS",
                    help="also train on XED's movie-subtitle lines in these languages (comma-separated, e.g. "
                         "en,pl,ru,it,de,fr,es), labelled by the valence of their emotions; off by default")
    ap.add_argument("--xed-per-class", type=int, default=0, help="cap per class and language of XED lines (0: none)")
    ap.add_argument("--xed-weight", type=float, default=1.0, help="how much one XED line counts (a sample weight)")
    ap.add_argument("--cache", type=Path, default=Path(""),
                    help="where embeddings are kept between runs (a path; default: none)")
    ap.add_argument("--factor", action="store_true",
                    help="build the factor polarity head (e5 with the factor named) instead")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from centric.text.embed import E5Embedder, USEEmbedder

    if args.factor:
        from centric.text.sentiment import FACTOR_MODEL, factor_prompt

        rows = [(text, term, pol) for _, text, term, pol in polish_aste_aspects(args.shared)]
        rows += named_seed(seed())
        X = E5Embedder().encode([factor_prompt(term, text) for text, term, _ in rows])
        m = LogisticRegression(C=8.0, max_iter=3000).fit(X, [pol for *_, pol in rows])
        np.savez(FACTOR_MODEL, coef=m.coef_.astype(np.float32), intercept=m.intercept_.astype(np.float32),
                 classes=np.array(m.classes_))
        print(f"wrote {FACTOR_MODEL} ({FACTOR_MODEL.stat().st_size} bytes) from {len(rows)} named sentences")
        return

    rng = random.Random(0)
    data = []
    aste = [(lab, text) for _, lab, text in polish_aste(args.shared, "train")]
    for name, rows in (("polish_aste", aste), ("nhs", nhs(args.shared))):
        by = {}
        for lab, text in rows:
            by.setdefault(lab, []).append(text)
        for lab, texts in by.items():
            rng.shuffle(texts)
            texts = texts[: args.per_class or None]
            data += [(lab, t) for t in texts]
            print(f"{name}: {lab} {len(texts)}")
    s = seed()
    data += s * args.seed_weight  # the hand-written sentences weigh more: they cover Russian and Italian
    print(f"seed: {len(s)} sentences (x{args.seed_weight})")
    weight = [1.0] * len(data)
    if args.xed:
        xed = xed_valence_lines(args.shared / "xed_emotions", args.xed.split(","), args.xed_per_class, rng)
        data += xed
        weight += [args.xed_weight] * len(xed)
    labels = [lab for lab, _ in data]
    embedder = USEEmbedder() if args.embedder == "use" else E5Embedder()
    X = embed(embedder, [t for _, t in data], args.cache if str(args.cache) else None)
    out = ROOT / f"src/centric/text/models/sentiment_{embedder.name}.npz"
    if args.head == "mlp":
        # one hidden layer of 64 ReLU units: measured on the development samples, over e5 +1.5 (EN),
        # +3.7 (RU), +1.9 (PL) points of polarity over the linear head, IT unchanged; over USE +1 to +3.3.
        # One such network moves by up to ±1.5 points (RU) with its initial weights; the mean of five
        # is steadier and, on average, better (benchmarks/README.md)
        ms = [MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=300, early_stopping=True,
                            random_state=k).fit(X, labels, sample_weight=weight) for k in range(args.ensemble)]
        np.savez(out, w1=np.stack([m.coefs_[0] for m in ms]).astype(np.float32),
                 b1=np.stack([m.intercepts_[0] for m in ms]).astype(np.float32),
                 w2=np.stack([m.coefs_[1] for m in ms]).astype(np.float32),
                 b2=np.stack([m.intercepts_[1] for m in ms]).astype(np.float32),
                 classes=np.array(ms[0].classes_))
    else:
        m = LogisticRegression(C=2.0, max_iter=3000, class_weight="balanced").fit(X, labels, sample_weight=weight)
        np.savez(out, coef=m.coef_.astype(np.float32), intercept=m.intercept_.astype(np.float32),
                 classes=np.array(m.classes_))
    print(f"wrote {out} ({out.stat().st_size} bytes) from {len(data)} sentences")


if __name__ == "__main__":
    main()
