"""Text pipeline speed: texts per second for the whole pipeline and per stage, and peak memory, on
mixed-language reviews (the demo company's comments and reviews in Polish, Italian, Russian, English
and Ukrainian): USE on one thread, e5 on the machine's cores (at most 4).

    python benchmarks/text_speed.py [--texts 10000]

Prints the default pipeline (factors over USE, polarity over multilingual-e5), the same with each
factor's polarity also read by e5 with the factor named in its input (``factor_polarity=True``: one
more e5 pass per factor and piece; ``text_quality.py --factor-prompt``), the cascade (the USE
head decides where it is at least 80% sure, e5 the rest) and the fast one (polarity over USE only),
so the speed/quality trade-off is visible next to benchmarks/text_quality.py (``--gate G``,
``--fast``).
Goal: at least 200 texts/s for the whole pipeline with the quality goals met.
"""

from __future__ import annotations

import argparse
import resource
import time


def texts(n: int, seed: int = 5) -> list[dict]:
    from centric.demo.generator import generate

    co = generate(seed=seed, n_customers=max(2000, n // 2))
    pool = list(co.responses.comment.dropna()) + list(co.feedback.text)
    return [{"id": i, "text": pool[i % len(pool)]} for i in range(n)]


def _timed(obj, label: str, stage: dict[str, float]) -> None:
    """Wrap obj.encode so that its time adds up in stage[label]."""
    if obj is None:
        return
    orig = obj.encode

    def enc(x):
        t0 = time.perf_counter()
        r = orig(x)
        stage[label] = stage.get(label, 0.0) + time.perf_counter() - t0
        return r

    obj.encode = enc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=10_000)
    ap.add_argument("--gate", type=float, nargs="+", default=[0.8, 0.85, 0.9],
                    help="cascade gates to time (the USE head decides where it is at least this sure)")
    args = ap.parse_args()
    from centric.text import Analyzer
    from centric.text.language import LanguageDetector
    from centric.text.sentences import split_sentences

    items = texts(args.texts)
    n = len(items)
    print(f"{n:,} texts, {sum(len(split_sentences(i['text'])) for i in items):,} sentences")
    t = time.perf_counter()
    det = LanguageDetector()
    for i in items:
        det.detect(i["text"])
    lang_s = time.perf_counter() - t
    rows = []
    options = (("default (polarity over e5)", {}),
               ("default + factor named", {"factor_polarity": True}),
               *((f"cascade (gate {g})", {"gate": g}) for g in args.gate),
               ("fast (polarity over USE)", {"fast": True}))
    for name, opts in options:
        a = Analyzer("retail", **opts)
        stage = {}
        emb, pol = a.embedder, a.polarity_embedder

        _timed(emb, "USE embeddings", stage)
        _timed(pol, "e5 embeddings", stage)
        t = time.perf_counter()
        for k in range(0, n, 512):
            a.analyze(items[k:k + 512])
        total = time.perf_counter() - t
        rows.append((name, total, stage))
    print(f"{'stage':<40} {'seconds':>8} {'texts/s':>9}")
    print(f"{'language detection':<40} {lang_s:>8.2f} {n / lang_s:>9,.0f}")
    for name, total, stage in rows:
        print(f"{'whole pipeline, ' + name:<40} {total:>8.2f} {n / total:>9,.0f}")
        for label, secs in stage.items():
            print(f"{'  of which ' + label:<40} {secs:>8.2f} {n / secs:>9,.0f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB")
    for (name, total, stage) in rows:
        speed = n / total
        bound = max(stage, key=stage.get) if stage else "-"
        print(f"{name}: {speed:,.0f} texts/s (goal >= 200): {'MET' if speed >= 200 else 'NOT MET'}; "
              f"bounded by {bound} ({100 * stage.get(bound, 0) / total:.0f}% of the time)")
    print("quality of each option: benchmarks/text_quality.py [--gate G | --fast]")


if __name__ == "__main__":
    main()
