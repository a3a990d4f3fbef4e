"""Topic discovery against BERTopic, on real sentences that match no factor.

    python benchmarks/discovery.py [--shared ../shared/data] [--work /tmp/discovery-bench]
                                   [--bertopic-python /tmp/bt-venv/bin/python] [--limit 1500]

For each data set (first ``--limit`` texts of: telecom NPS comments EN → ``telecom``, NHS patient comments
EN → ``healthcare``, SemEval-2016 restaurant reviews EN and RU → ``restaurants``, ABSITA 2018 hotel
sentences IT → ``hotels``, Polish-ASTE hotel sentences PL → ``hotels``) the texts go through
``centric.text.Analyzer(taxonomy, fast=True)``; the sentences that match no factor
(``centric.text.pipeline.unmatched``) are embedded ONCE with centric's own encoder (``USEEmbedder``,
multilingual USE v3) and cached in ``--work``. Both contenders cluster the same sentences with the same
embeddings, with seeds 0–4:

- centric: ``centric.text.discovery.clusters(..., generic=True)`` — k-means, generic praise and blame set
  apart (counted in their own column, not as topics, not as outliers);
- BERTopic (UMAP + HDBSCAN, BERTopic's defaults: 15 neighbours, 5 components, min_dist 0, cosine;
  min_cluster_size 10) given the precomputed embeddings. It runs in its own virtual environment
  (``--bertopic-python``; it is no dependency of centric), in a subprocess: this file with ``--worker DIR``
  reads ``sentences.json`` and ``embeddings.npy`` and writes ``bertopic.json`` (the labels per seed).

Measures:
- **NPMI** (topic coherence, higher is better, −1…1): each topic's top 10 words are chosen by the same
  rule for both contenders (class-based TF-IDF, as BERTopic does it: the word's count in the topic ×
  log(1 + average words per topic / the word's count over all topics)); words are the lower-cased tokens
  of three letters or more, less discovery's and ``centric.text.generic``'s function words. For each pair
  of top words, NPMI = log(P(a,b) / (P(a)·P(b))) / −log P(a,b), the probabilities being the shares of the
  data set's unmatched sentences that contain the words (−1 when they never co-occur); a topic's
  coherence is the mean over its pairs, the figure the mean over topics, then over seeds.
- **outliers**: the share of sentences put in no topic (BERTopic's topic −1; centric's clusters smaller
  than ``min_size``); generic praise/blame is shown apart.
- **ARI**: adjusted Rand index (``sklearn.metrics.adjusted_rand_score``) between the labels of every
  pair of the five seeds (10 pairs), mean — stability; 1 means the same partition whatever the seed.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2, 3, 4)


# -- BERTopic, in its own environment -----------------------------------------------------------------


def worker(folder: Path) -> None:
    """Run BERTopic on the folder's sentences and embeddings for every seed (imports nothing of centric)."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    docs = json.loads((folder / "sentences.json").read_text(encoding="utf-8"))
    emb = np.load(folder / "embeddings.npy")
    out = {}
    for seed in SEEDS:
        t = time.perf_counter()
        model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                         random_state=seed),
                         hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean",
                                               cluster_selection_method="eom", prediction_data=True))
        labels, _ = model.fit_transform(docs, emb)
        out[str(seed)] = {"labels": [int(x) for x in labels], "seconds": time.perf_counter() - t}
    (folder / "bertopic.json").write_text(json.dumps(out), encoding="utf-8")


# -- data ---------------------------------------------------------------------------------------------


def _csv(path: Path, column: str, **kw) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return [r[column].strip() for r in csv.DictReader(f, **kw) if (r.get(column) or "").strip()]


def _semeval(path: Path) -> list[str]:
    return [s.findtext("text") or "" for s in ET.parse(path).getroot().iter("sentence")]


def _polish(path: Path) -> list[str]:
    out = []
    for line in open(path, encoding="utf-8"):
        text = json.loads(line)["text"]
        out.append(text.rsplit("__label__", 1)[0].strip())
    return out


def datasets(shared: Path) -> list[tuple[str, str, str, callable]]:
    """(name, language, taxonomy, loader of the texts)."""
    return [
        ("telecom NPS EN", "en", "telecom", lambda: _csv(shared / "telecom_nps_verbatims_en" / "verbatim.csv", "text")),
        ("NHS patients EN", "en", "healthcare", lambda: _csv(
            shared / "nhs_fft_patient_feedback_en" / "v6framework_230831.csv", "FFT answer")),
        ("SemEval-16 rest. EN", "en", "restaurants", lambda: _semeval(
            shared / "semeval2016_task5_absa" / "restaurants_train_english.xml")),
        ("SemEval-16 rest. RU", "ru", "restaurants", lambda: _semeval(
            shared / "semeval2016_task5_absa" / "restaurants_train_russian.xml")),
        ("ABSITA hotels IT", "it", "hotels", lambda: _csv(
            shared / "absita2018_it" / "absita_2018_training.csv", "sentence", delimiter=";")),
        ("Polish-ASTE hotels PL", "pl", "hotels", lambda: _polish(
            shared / "polish_aste_pl" / "hotels_dataset" / "main_all.jsonl")),
    ]


def unmatched_sentences(name: str, lang: str, taxonomy: str, load, folder: Path, limit: int):
    """The data set's unmatched sentences and their embeddings, computed once and cached in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "embeddings.npy").exists():
        return json.loads((folder / "sentences.json").read_text(encoding="utf-8")), np.load(folder / "embeddings.npy")
    from centric.text import Analyzer
    from centric.text.pipeline import unmatched

    texts = load()[:limit]
    analyzer = Analyzer(taxonomy, fast=True)
    sentences, _ = unmatched(analyzer, analyzer.analyze([{"id": i, "text": t, "lang": lang}
                                                          for i, t in enumerate(texts)]))
    emb = analyzer.embedder.encode(sentences)  # centric's own encoder, once
    (folder / "sentences.json").write_text(json.dumps(sentences, ensure_ascii=False), encoding="utf-8")
    np.save(folder / "embeddings.npy", emb)
    print(f"  {name}: {len(texts):,} texts → {len(sentences):,} unmatched sentences", file=sys.stderr)
    return sentences, emb


# -- measures -----------------------------------------------------------------------------------------


def _stop() -> set[str]:
    from centric.text.discovery import STOPWORDS
    from centric.text.generic import _FUNCTION

    return STOPWORDS | _FUNCTION


_TOKEN = re.compile(r"[^\W\d_]{3,}", re.U)


def doc_tokens(sentences: list[str]) -> list[set[str]]:
    stop = _stop()
    return [{t.lower() for t in _TOKEN.findall(s)} - stop for s in sentences]


def top_words(docs: list[set[str]], labels: np.ndarray, n: int = 10) -> dict[int, list[str]]:
    """Top ``n`` words per topic (label ≥ 0) by class-based TF-IDF: count in the topic × log(1 + A / f),
    A the average number of words per topic, f the word's count over all topics."""
    counts = {c: Counter() for c in sorted(set(labels.tolist())) if c >= 0}
    for d, c in zip(docs, labels, strict=True):
        if c >= 0:
            counts[c].update(d)
    if not counts:
        return {}
    total = Counter()
    for cnt in counts.values():
        total.update(cnt)
    avg = sum(total.values()) / len(counts)
    out = {}
    for c, cnt in counts.items():
        score = {w: k * math.log(1 + avg / total[w]) for w, k in cnt.items()}
        out[c] = [w for w, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
    return out


def npmi(docs: list[set[str]], topics: dict[int, list[str]]) -> float:
    """Mean over topics of the mean NPMI over pairs of the topic's words, sentences as documents."""
    n = len(docs)
    df: Counter = Counter()
    for d in docs:
        df.update(d)
    index: dict[str, set[int]] = {}
    for i, d in enumerate(docs):
        for w in d:
            index.setdefault(w, set()).add(i)
    per_topic = []
    for words in topics.values():
        vals = []
        for a, b in itertools.combinations(words, 2):
            joint = len(index[a] & index[b]) / n
            if joint == 0:
                vals.append(-1.0)
            elif joint == 1:
                vals.append(1.0)
            else:
                vals.append(math.log(joint / (df[a] / n * df[b] / n)) / -math.log(joint))
        if vals:
            per_topic.append(sum(vals) / len(vals))
    return float(np.mean(per_topic)) if per_topic else float("nan")


def mean_ari(runs: list[np.ndarray]) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(runs, 2)]))


def centric_labels(sentences: list[str], emb: np.ndarray, seed: int, **kw) -> np.ndarray:
    """−1: no topic; −2: generic praise/blame; else the candidate's rank."""
    from centric.text.discovery import clusters

    labels = np.full(len(sentences), -1)
    kw = {"generic": True, "init": "ward", "merge": 0.75, **kw}  # as discover() does
    for c, (cand, idx) in enumerate(clusters(sentences, emb, seed=seed, **kw)):
        labels[idx] = -2 if cand.generic else c
    return labels


def summary(docs, runs: list[np.ndarray]) -> dict:
    return {"topics": float(np.mean([len({x for x in r.tolist() if x >= 0}) for r in runs])),
            "npmi": float(np.mean([npmi(docs, top_words(docs, r)) for r in runs])),
            "outliers": float(np.mean([np.mean(r == -1) for r in runs])) * 100,
            "generic": float(np.mean([np.mean(r == -2) for r in runs])) * 100,
            "ari": mean_ari(runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/discovery-bench"))
    ap.add_argument("--bertopic-python", default="/tmp/bt-venv/bin/python")
    ap.add_argument("--limit", type=int, default=1500, help="at most this many texts per data set")
    ap.add_argument("--only", default="", help="run the data sets whose name contains this")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)
    if not args.shared.exists():
        sys.exit(f"{args.shared}: no data (pass --shared)")
    rows = []
    for name, lang, taxonomy, load in datasets(args.shared):
        if args.only.lower() not in name.lower():
            continue
        folder = args.work / re.sub(r"\W+", "_", name.lower()).strip("_")
        sentences, emb = unmatched_sentences(name, lang, taxonomy, load, folder, args.limit)
        docs = doc_tokens(sentences)
        t = time.perf_counter()
        ours = [centric_labels(sentences, emb, s) for s in SEEDS]
        ours_s = (time.perf_counter() - t) / len(SEEDS)
        if not (folder / "bertopic.json").exists():
            subprocess.run([args.bertopic_python, __file__, "--worker", str(folder)], check=True)
        bt = json.loads((folder / "bertopic.json").read_text(encoding="utf-8"))
        theirs = [np.array(bt[str(s)]["labels"]) for s in SEEDS]
        bt_s = float(np.mean([bt[str(s)]["seconds"] for s in SEEDS]))
        rows.append((name, len(sentences), "centric", summary(docs, ours), ours_s))
        rows.append((name, len(sentences), "BERTopic", summary(docs, theirs), bt_s))
        print(f"  {name} done", file=sys.stderr)
    print("| data set | sentences | contender | topics | NPMI | outliers % | generic % | ARI (5 seeds) | s/run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, n, who, m, sec in rows:
        print(f"| {name} | {n:,} | {who} | {m['topics']:.1f} | {m['npmi']:.3f} | {m['outliers']:.1f} | "
              f"{m['generic']:.1f} | {m['ari']:.3f} | {sec:.1f} |")
    wins = {}
    for i in range(0, len(rows), 2):
        a, b = rows[i][3], rows[i + 1][3]
        wins[rows[i][0]] = (a["npmi"] >= b["npmi"], a["outliers"] <= b["outliers"], a["ari"] >= b["ari"])
    print("\ncentric at least as coherent / fewer outliers / more stable than BERTopic:")
    for name, (c, o, s) in wins.items():
        print(f"  {name}: {'yes' if c else 'no'} / {'yes' if o else 'no'} / {'yes' if s else 'no'}")


if __name__ == "__main__":
    main()
