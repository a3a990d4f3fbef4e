"""Key drivers on real survey comments from ../shared/data, printed with bootstrap intervals and their
stability, and checked against an independent least-squares computation.

    python benchmarks/drivers_real.py [--shared ../shared/data] [--reps 500] [--fast]

- Telecom NPS comments (telecom_nps_verbatims_en): outcome NPS 0–10, taxonomy ``telecom``;
- NHS Friends-and-Family comments (nhs_fft_patient_feedback_en, "FFT Why?" answers): outcome the
  1–5 rating turned so that higher is better (6 − answer), taxonomy ``healthcare``.

For each: the factors found by the text pipeline, the key-driver table (importance = % of R² by
relative weights, LMG, impact, share of voice, each with a 95% bootstrap interval), R², the share of
replicates in which each factor stays in the top three, the rank agreement of two independent
bootstrap halves, and the largest difference between our LMG and LMG by least squares on every subset
of the raw data.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def load(shared: Path) -> list[tuple[str, str, str, pd.DataFrame]]:
    tel = pd.read_csv(shared / "telecom_nps_verbatims_en" / "verbatim.csv").dropna(subset=["text", "NPS_SCORE"])
    tel = pd.DataFrame({"text": tel["text"].astype(str), "y": tel["NPS_SCORE"].astype(float)})
    nhs = pd.read_csv(shared / "nhs_fft_patient_feedback_en" / "v6framework_230831.csv", encoding_errors="replace")
    nhs = nhs[(nhs["FFT question"] == "FFT Why?") & nhs["FFT categorical answer"].isin([1, 2, 3, 4, 5])]
    nhs = nhs.dropna(subset=["FFT answer"])
    nhs = pd.DataFrame({"text": nhs["FFT answer"].astype(str), "y": 6.0 - nhs["FFT categorical answer"].astype(float)})
    return [("Telecom NPS comments", "telecom", "nps", tel), ("NHS FFT 'why?' comments", "healthcare", "rating", nhs)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--fast", action="store_true", help="polarity over USE (faster, less accurate)")
    args = ap.parse_args()
    from centric.drivers import analysis as A
    from centric.drivers import kda
    from centric.text import Analyzer

    for name, taxonomy, outcome, df in load(args.shared):
        t0 = time.perf_counter()
        res = Analyzer(taxonomy, fast=args.fast).analyze(
            [{"id": i, "text": t, "lang": "en"} for i, t in enumerate(df["text"])])
        ment = pd.DataFrame([{"source": "s", "text_id": r.id, "factor": f["factor"], "sentiment": f["sentiment"]}
                             for r in res for f in r.factors])
        factors = sorted(set(ment["factor"]))
        answers = pd.DataFrame({"source": "s", "text_id": range(len(df))})
        X = A.features(answers, ment, factors)
        y = df["y"].to_numpy(float)
        imp, fit = A.importance(y, X, factors, outcome, reps=args.reps)
        imp = imp.sort_values("importance", ascending=False)
        print(f"\n{name}: {len(df):,} comments, {len(ment):,} mentions of {len(factors)} factors; "
              f"R² {fit['r2']:.3f} ({fit['r2_low']:.3f} … {fit['r2_high']:.3f}); "
              f"text analysis {time.perf_counter() - t0:.0f} s")
        print(f"{'factor':<28} {'importance % (95%)':>22} {'LMG ×100 (95%)':>20} {'impact (95%)':>20} "
              f"{'voice %':>8} {'top-3 %':>8}")
        for r in imp.itertuples():
            print(f"{r.factor:<28} {r.importance:>8.1f} ({r.importance_low:>5.1f} … {r.importance_high:>5.1f}) "
                  f"{r.lmg:>6.2f} ({r.lmg_low:>4.2f} … {r.lmg_high:>4.2f}) "
                  f"{r.impact:>+6.2f} ({r.impact_low:>+5.2f} … {r.impact_high:>+5.2f}) "
                  f"{r.share_of_voice:>8.1f} {r.top3_share:>8.0f}")
        # stability: the importance ranking of two independent bootstrap runs agree?
        a, _ = A.importance(y, X, factors, outcome, reps=0, seed=1)
        halves = []
        for seed in (11, 12):
            rng = np.random.default_rng(seed)
            pick = rng.integers(0, len(y), len(y))
            h, _ = A.importance(y[pick], X[pick], factors, outcome, reps=0)
            halves.append(h.set_index("factor")["importance"].rank(ascending=False))
        agree = halves[0].corr(halves[1], method="spearman")
        groups = [[2 * i, 2 * i + 1] for i in range(len(factors))]
        diff = float("nan")
        if len(factors) <= 10:
            ref = kda.brute_force_lmg(y, X, groups)
            diff = float(np.max(np.abs(a.set_index("factor").loc[factors, "lmg"].to_numpy() / 100 - ref)))
        print(f"rank agreement of two bootstrap resamples (Spearman): {agree:.2f}; "
              f"largest |LMG − least squares over all subsets|: {diff:.1e}")


if __name__ == "__main__":
    main()
