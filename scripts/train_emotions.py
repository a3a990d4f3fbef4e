"""Rebuild the shipped emotion models (src/centric/text/models/emotions_EMBEDDER.npz): the head over USE
(every mode), and those over e5 and over [USE; e5] that the default mode averages with it (``--embedder all``
trains the three).

    python scripts/train_emotions.py [--xed ../shared/data/xed_emotions] [--embedder use|e5|both|concat|all]

Trained on
- XED (Öhman, Pàmies, Kajava and Tiedemann, COLING 2020; CC BY 4.0): EN annotated by people, PL, RU,
  IT, DE, FR, ES projected — only the lines that ``centric.text.emotions.xed_heldout`` does not hold
  out (the held-out fifth is for benchmarks/text_quality.py and is never read here);
- the review sentences written for centric in src/centric/text/data/emotions_seed.tsv (EN/PL/RU/IT,
  some with no emotion at all, which XED lacks; and short survey answers in all eight languages);
- real review sentences with no opinion as "no emotion" lines (all eight labels 0): Polish-ASTE's
  ``z_zero`` hotel sentences (CC BY 4.0), outside the fifth that scripts/emotion_reviews.py holds out
  for benchmarks/text_quality.py. The SemEval and ABSITA sets are only measured on: their licences
  do not let them feed a shipped model.
A tenth of the training lines (again by hash) is kept aside to set each emotion's output offset so
that p ≥ 0.5 is the F1-best cut; the networks never see it. Everything is seeded: the same data gives
the same file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

sys.path.insert(0, str(ROOT / "scripts"))

from emotion_reviews import neutral_training  # noqa: E402

from centric.text.emotions import EMOTIONS, read_xed, xed_heldout  # noqa: E402

LANGS = ("en", "pl", "ru", "it", "de", "fr", "es")


def seed_rows() -> list[tuple[str, str, tuple[str, ...]]]:
    """(lang, text, emotions) of the hand-written review sentences; an empty ``emotions`` cell is a
    sentence with no emotion."""
    path = ROOT / "src/centric/text/data/emotions_seed.tsv"
    out = []
    with open(path, encoding="utf-8") as f:
        for n, r in enumerate(csv.DictReader(f, delimiter="\t"), start=2):
            labels = tuple(x.strip() for x in (r["emotions"] or "").split(",") if x.strip())
            bad = [x for x in labels if x not in EMOTIONS]
            if bad or not (r["text"] or "").strip():
                raise SystemExit(f"{path} row {n}, column 'emotions': {bad or 'empty text'} — expected "
                                 f"names from {', '.join(EMOTIONS)}")
            out.append((r["lang"], r["text"].strip(), labels))
    return out


def xed_train(xed: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    out = []
    for lang in LANGS:
        rows, skipped = read_xed(xed / f"{lang}.tsv")
        kept = [(lang, t, labs) for t, labs in rows if not xed_heldout(t)]
        print(f"xed {lang}: {len(kept)} training lines of {len(rows)} ({skipped} unlabelled lines skipped)")
        out += kept
    return out


def embed(embedder, texts: list[str], cache: Path | None) -> np.ndarray:
    """Embeddings of ``texts``; with ``cache``, those already computed are read from it and only the
    new ones are encoded."""
    f = cache / f"emotions_{embedder.name}.npz" if cache else None
    known: dict[str, np.ndarray] = {}
    if f and f.exists():
        d = np.load(f, allow_pickle=False)
        known = dict(zip((str(t) for t in d["texts"]), d["X"], strict=True))
    new = [t for t in texts if t not in known]
    if new:
        known.update(zip(new, embedder.encode(new), strict=True))
        if f:
            cache.mkdir(parents=True, exist_ok=True)
            np.savez(f, texts=np.array(list(known)), X=np.stack(list(known.values())))
    return np.stack([known[t] for t in texts])


def _aside(text: str) -> bool:
    return int(hashlib.sha256(("aside:" + text).encode()).hexdigest()[:8], 16) % 10 == 0


def best_offsets(logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per emotion, the shift of the output score that makes p ≥ 0.5 the F1-best cut."""
    out = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        best = (-1.0, 0.0)
        for t in np.quantile(logits[:, j], np.linspace(0.3, 0.99, 140)):
            pred = logits[:, j] >= t
            tp = float((pred & (Y[:, j] == 1)).sum())
            f1 = 2 * tp / (pred.sum() + Y[:, j].sum()) if tp else 0.0
            if f1 > best[0]:
                best = (f1, -float(t))
        out[j] = best[1]
    return out


def macro_f1(P: np.ndarray, Y: np.ndarray) -> float:
    pred = P >= 0.5
    f = []
    for j in range(Y.shape[1]):
        tp = float((pred[:, j] & (Y[:, j] == 1)).sum())
        f.append(2 * tp / (pred[:, j].sum() + Y[:, j].sum()) if tp else 0.0)
    return float(np.mean(f))


def train(X: np.ndarray, Y: np.ndarray, args) -> list:
    from sklearn.neural_network import MLPClassifier

    return [MLPClassifier(hidden_layer_sizes=(args.hidden,), alpha=args.alpha, max_iter=args.epochs,
                          early_stopping=True, random_state=k).fit(X, Y) for k in range(args.ensemble)]


def mean_logits(ms: list, X: np.ndarray) -> np.ndarray:
    return np.mean([np.maximum(X @ m.coefs_[0] + m.intercepts_[0], 0) @ m.coefs_[1] + m.intercepts_[1]
                    for m in ms], axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xed", type=Path, default=ROOT.parent / "shared" / "data" / "xed_emotions")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data",
                    help="the public data sets (for Polish-ASTE's no-opinion sentences)")
    ap.add_argument("--neutral-weight", type=int, default=1,
                    help="how many times a real no-opinion review sentence counts")
    ap.add_argument("--embedder", choices=("use", "e5", "both", "concat", "all"), default="use",
                    help="the features: USE, e5, each of the two (both), [USE; e5] side by side (concat), "
                         "or all three")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/centric-emotions-cache"),
                    help="where embeddings are kept between runs (a path; '' for none)")
    ap.add_argument("--seed-weight", type=int, default=5, help="how many times a hand-written sentence counts")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--alpha", type=float, default=1e-3)
    ap.add_argument("--ensemble", type=int, default=3, help="networks averaged (each with its own seed)")
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    from centric.text.embed import E5Embedder, USEEmbedder

    rows = xed_train(args.xed)
    seed = seed_rows()
    print(f"seed: {len(seed)} sentences (x{args.seed_weight})")
    rows += seed * args.seed_weight
    neutral = [(lang, t, ()) for lang, t in neutral_training(args.shared)]
    print(f"no-opinion review sentences: {len(neutral)} (x{args.neutral_weight})")
    rows += neutral * args.neutral_weight
    texts = [t for _, t, _ in rows]
    Y = np.array([[e in labs for e in EMOTIONS] for _, _, labs in rows], dtype=int)
    aside = np.array([_aside(t) for t in texts])
    uniq = sorted(set(texts))
    where = [{t: i for i, t in enumerate(uniq)}[t] for t in texts]
    cache = args.cache if str(args.cache) else None
    features = {"use": (USEEmbedder(),), "e5": (E5Embedder(),), "concat": (USEEmbedder(), E5Embedder())}
    runs = {"both": ("use", "e5"), "all": ("use", "e5", "concat")}.get(args.embedder, (args.embedder,))
    aside_probs = {}
    for run in runs:
        embedders = features[run]
        # [USE; e5] side by side for "concat" (the pipeline's default mode has both)
        X = np.hstack([embed(e, uniq, cache) for e in embedders])[where]
        name = "+".join(e.name for e in embedders)
        ms = train(X[~aside], Y[~aside], args)
        off = best_offsets(mean_logits(ms, X[aside]), Y[aside])
        P = 1 / (1 + np.exp(-(mean_logits(ms, X[aside]) + off)))
        aside_probs[run] = P
        print(f"{name}: macro-F1 on the lines set aside from training {macro_f1(P, Y[aside]):.3f}")
        out = ROOT / f"src/centric/text/models/emotions_{name}.npz"
        np.savez(out, w1=np.stack([m.coefs_[0] for m in ms]).astype(np.float32),
                 b1=np.stack([m.intercepts_[0] for m in ms]).astype(np.float32),
                 w2=np.stack([m.coefs_[1] for m in ms]).astype(np.float32),
                 b2=np.stack([m.intercepts_[1] for m in ms]).astype(np.float32),
                 offset=off.astype(np.float32), classes=np.array(EMOTIONS))
        print(f"wrote {out} ({out.stat().st_size} bytes) from {len(rows)} sentences")
    if len(aside_probs) == 3:  # what the default pipeline reads: the mean of the three heads
        P = sum(aside_probs.values()) / 3
        print(f"mean of the three heads: macro-F1 on the lines set aside {macro_f1(P, Y[aside]):.3f}")

if __name__ == "__main__":
    main()
