"""The four-level factor analysis at scale: key drivers with bootstrap intervals, perception and its
trend, competitors and the action matrix, over 1,000,000 mentions in a DuckDB store.

    python benchmarks/drivers.py [--mentions 1000000] [--reps 200]

Synthetic answers and reviews with known drivers are written straight into a fresh store (survey
answers with NPS, reviews of our brand and two competitors with stars, their text analyses and
mentions), then ``centric.drivers.drivers`` runs in a separate process so that its time and peak
memory are its own (``peak.PEAK``: not ``ru_maxrss``, which a child inherits from this process, the one that
built the store); the baseline too. Baseline: a plain pandas computation of the same key-driver bootstrap (pivot to
per-answer features, ``DataFrame.corr`` per replicate, relative weights), named in the output.
Goal: under 30 s and under 2 GB on 2 cores for the whole analysis.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from peak import PEAK  # each contender's own peak memory (benchmarks/peak.py)

FACTORS = ["delivery", "installation", "product_quality", "price", "staff", "returns", "website",
           "call_centre", "availability", "payment", "store"]
MENTION_P = np.array([0.35, 0.12, 0.25, 0.08, 0.05, 0.06, 0.05, 0.09, 0.04, 0.04, 0.04])
P_NEG = np.array([0.35, 0.06, 0.15, 0.25, 0.10, 0.50, 0.15, 0.45, 0.20, 0.08, 0.12])
EFFECT_NEG = np.array([-3.4, -2.0, -3.0, -0.9, -1.4, -4.0, -0.7, -2.8, -1.0, -1.0, -0.8])
EFFECT_POS = np.array([0.5, 2.2, 0.7, 0.4, 0.6, 0.8, 0.2, 0.5, 0.2, 0.1, 0.3])


def build(path: Path, n_mentions: int, seed: int = 3) -> dict:
    from centric import Store

    rng = np.random.default_rng(seed)
    per_text = MENTION_P.sum()
    n_texts = int(n_mentions / per_text)
    n_resp = int(n_texts * 0.8)
    brands = np.array(["ours"] * (n_texts - n_resp))
    brands[: len(brands) // 2] = np.where(rng.random(len(brands) // 2) < 0.5, "ElektroMax", "CasaTech")
    has = rng.random((n_texts, len(FACTORS))) < MENTION_P
    neg = rng.random((n_texts, len(FACTORS))) < P_NEG
    latent = 8.3 + (has * np.where(neg, EFFECT_NEG, EFFECT_POS)).sum(axis=1) + rng.normal(0, 1.2, n_texts)
    latent = np.clip(latent, 0, 10)
    start = np.datetime64("2024-11-01")
    at = start + rng.integers(0, 730 * 24, n_texts).astype("timedelta64[h]")
    ids = np.array([f"T{i}" for i in range(n_texts)])
    resp = pd.DataFrame({"response_id": ids[:n_resp], "responded_at": at[:n_resp],
                         "nps": np.clip(np.round(latent[:n_resp] + rng.normal(0, 0.5, n_resp)), 0, 10).astype(int),
                         "comment": "x"})
    fb = pd.DataFrame({"feedback_id": ids[n_resp:], "posted_at": at[n_resp:], "source": "review",
                       "brand": brands, "text": "x",
                       "rating": np.clip(np.round(1 + 4 * latent[n_resp:] / 10), 1, 5)})
    ti, fi = np.nonzero(has)
    sentiment = np.where(neg[ti, fi], "negative", "positive")
    flip = rng.random(len(ti)) < 0.12  # the text model's mistakes
    sentiment = np.where(flip, np.where(rng.random(len(ti)) < 0.5, "neutral",
                                        np.where(sentiment == "negative", "positive", "negative")), sentiment)
    mentions = pd.DataFrame({"source": np.where(ti < n_resp, "responses", "feedback"), "text_id": ids[ti],
                             "sentence": 0, "factor": np.array(FACTORS)[fi], "sentiment": sentiment,
                             "score": np.where(sentiment == "positive", 0.6, np.where(sentiment == "negative", -0.6, 0.0)),
                             "confidence": rng.uniform(0.35, 1, len(ti)), "taxonomy": "retail", "language": "en"})
    analyses = pd.DataFrame({"source": np.where(np.arange(n_texts) < n_resp, "responses", "feedback"),
                             "text_id": ids, "taxonomy": "retail", "analyzed_at": pd.Timestamp("2026-11-01")})
    with Store.open(path) as store:
        con = store.con
        for name, frame, cols in (
                ("responses", resp, "response_id, responded_at, nps, comment"),
                ("feedback", fb, "feedback_id, posted_at, source, brand, text, rating"),
                ("mentions", mentions, "source, text_id, sentence, factor, sentiment, score, confidence, taxonomy, language"),
                ("text_analyses", analyses, "source, text_id, taxonomy, analyzed_at")):
            con.register("_f", frame)
            con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _f")
            con.unregister("_f")
    return {"texts": n_texts, "answers": n_resp, "mentions": len(mentions)}


CENTRIC = PEAK + """
import json, sys, time
from centric import Store
from centric.drivers import drivers
t = time.perf_counter()
with Store.open(sys.argv[1]) as s:
    d = drivers(s, reps=int(sys.argv[2]))
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "peak_mb": peak_mb(),
                  "r2": d.r2, "fix": [r.factor for r in d.factors.itertuples() if r.quadrant == "fix"],
                  "promote": [r.factor for r in d.factors.itertuples() if r.quadrant == "promote"],
                  "top": list(d.factors["factor"][:3])}))
"""

PANDAS = PEAK + """
import json, sys, time
import numpy as np, pandas as pd, duckdb
t = time.perf_counter()
con = duckdb.connect(sys.argv[1], read_only=True)
m = con.execute("SELECT m.text_id, m.factor, m.sentiment, r.nps FROM mentions m JOIN responses r "
                "ON m.source = 'responses' AND m.text_id = r.response_id").df()
ans = con.execute("SELECT response_id AS text_id, nps FROM responses").df()
m = m[m.sentiment != "neutral"]
m["col"] = m.factor + ":" + m.sentiment
X = pd.crosstab(m.text_id, m.col).clip(upper=1).reindex(ans.text_id, fill_value=0)
data = pd.concat([ans.set_index("text_id")["nps"], X], axis=1).astype(float)
rng = np.random.default_rng(0)
for _ in range(int(sys.argv[2])):
    sample = data.sample(len(data), replace=True, random_state=rng.integers(1 << 31))
    R = sample.corr().fillna(0).to_numpy().copy()
    np.fill_diagonal(R, 1)
    vals, vecs = np.linalg.eigh(R[1:, 1:])
    root = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    beta = np.linalg.lstsq(root, R[0, 1:], rcond=None)[0]
    weights = (root ** 2) @ (beta ** 2)
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "peak_mb": peak_mb()}))
"""


def run(code: str, *args: str) -> dict:
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mentions", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--baseline-reps", type=int, default=20,
                    help="bootstrap replicates for the pandas baseline (its time is scaled to --reps)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="centric-drivers-"))
    db = tmp / "drivers.duckdb"
    info = build(db, args.mentions)
    print(f"{info['mentions']:,} mentions in {info['texts']:,} texts ({info['answers']:,} survey answers with NPS, "
          f"the rest reviews of three brands)")
    c = run(CENTRIC, str(db), str(args.reps))
    b = run(PANDAS, str(db), str(args.baseline_reps))
    scaled = b["seconds"] * args.reps / args.baseline_reps
    print(f"{'contender':<62} {'seconds':>8} {'peak MB':>8}")
    print(f"{'centric: four levels + matrix, ' + str(args.reps) + ' bootstrap replicates':<62} "
          f"{c['seconds']:>8.2f} {c['peak_mb']:>8.0f}")
    print(f"{'pandas: key drivers only, ' + str(args.baseline_reps) + ' replicates (x' + str(args.reps // args.baseline_reps) + ' = ' + format(scaled, '.0f') + ' s)':<62} "
          f"{b['seconds']:>8.2f} {b['peak_mb']:>8.0f}")
    print(f"R² {c['r2']:.3f}; top drivers {', '.join(c['top'])}; fix: {', '.join(c['fix'])}; "
          f"promote: {', '.join(c['promote'])}")
    ok = c["seconds"] < 30 and c["peak_mb"] < 2048
    print(f"goal: < 30 s and < 2048 MB -> {'MET' if ok else 'NOT MET'} ({c['seconds']:.1f} s, {c['peak_mb']:.0f} MB; "
          f"{scaled / c['seconds']:.0f}x faster than the pandas key-driver bootstrap alone)")


if __name__ == "__main__":
    main()
