"""Customer lifetime value at scale: fit BG/NBD and Gamma-Gamma and compute 12-month CLV for every
customer, next to lifetimes 0.11.3 (and pymc-marketing's MAP fit) in the same run.

    python benchmarks/clv.py [--customers 1000000] [--no-reference]

The customers are simulated from known BG/NBD and Gamma-Gamma parameters over two years of daily
purchase dates with staggered first purchases (so frequency, recency and T are whole days, as they
are from real order dates). Every contender runs in its own process on the same Parquet file and
reports its time and its own peak memory (``peak.PEAK``: not ``ru_maxrss``, which a child inherits from
this process, the one that simulated the customers); lifetimes and pymc-marketing are installed into
benchmarks/.ref-venv on first use (where the machine can install them), because they are not
centric's dependencies. Goal: the whole pipeline at least 20× faster than lifetimes, under 1 GB peak,
parameters equal within 1e-3 relative.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import venv
from pathlib import Path

import numpy as np

from peak import PEAK  # each contender's own peak memory (benchmarks/peak.py)

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "benchmarks" / ".ref-venv"
TRUE = {"r": 0.6, "alpha": 60.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 4.0, "gamma": 30.0}


def simulate(n: int, seed: int = 1, days: int = 730):
    """frequency, recency, T (whole days) and monetary_value of n customers."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, days - 30, n)
    T = (days - first).astype(np.float64)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    drop = rng.beta(TRUE["a"], TRUE["b"], n)
    t = np.zeros(n)
    freq = np.zeros(n)
    last = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / np.maximum(lam[idx], 1e-12))
        bought = t[idx] <= T[idx]
        got = idx[bought]
        day = np.floor(t[got])
        new_day = day > last[got]  # purchases on the same day merge
        freq[got[new_day]] += 1
        last[got] = np.maximum(last[got], day)
        alive[idx[~bought]] = False
        alive[got[rng.random(len(got)) < drop[got]]] = False
    nu = rng.gamma(TRUE["q"], 1 / TRUE["gamma"], n)
    spend = np.where(freq > 0, rng.gamma(TRUE["p"] * np.maximum(freq, 1), 1 / (nu * np.maximum(freq, 1))), 0.0)
    return freq, last, T, spend


CENTRIC = PEAK + """
import json, sys, time
import numpy as np, pandas as pd
from centric.customers import BetaGeo, GammaGamma
s = pd.read_parquet(sys.argv[1])
t1 = time.perf_counter()
bg = BetaGeo().fit(s)
t2 = time.perf_counter()
gg = GammaGamma().fit(s)
t3 = time.perf_counter()
clv = gg.clv(s, 12, 0.01, purchases=bg, unit="D")
t4 = time.perf_counter()
np.save(sys.argv[2], clv)
print(json.dumps({"fit_bgnbd": t2 - t1, "fit_gg": t3 - t2, "clv": t4 - t3, "total": t4 - t1,
                  "params": {**bg.params_, **gg.params_},
                  "peak_mb": peak_mb()}))
"""

LIFETIMES = PEAK + """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
s = pd.read_parquet(sys.argv[1])
from lifetimes import BetaGeoFitter, GammaGammaFitter
t1 = time.perf_counter()
bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
t2 = time.perf_counter()
rep = s[s["frequency"] > 0]
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
t3 = time.perf_counter()
clv = gg.customer_lifetime_value(bg, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12,
                                 discount_rate=0.01, freq="D")
t4 = time.perf_counter()
np.save(sys.argv[2], np.asarray(clv, dtype=float))
p = dict(bg.params_); p.update({"p": gg.params_["p"], "q": gg.params_["q"], "gamma": gg.params_["v"]})
print(json.dumps({"fit_bgnbd": t2 - t1, "fit_gg": t3 - t2, "clv": t4 - t3, "total": t4 - t1,
                  "params": {k: float(v) for k, v in p.items()},
                  "peak_mb": peak_mb()}))
"""

PYMC = PEAK + """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
s = pd.read_parquet(sys.argv[1]).reset_index(drop=True)
s["customer_id"] = range(len(s))
from pymc_marketing.clv import BetaGeoModel
t1 = time.perf_counter()
m = BetaGeoModel(data=s[["customer_id", "frequency", "recency", "T"]])
m.fit(method="map")
t2 = time.perf_counter()
post = m.fit_summary()
p = {k: float(post[k]) for k in ("r", "alpha", "a", "b") if k in post}
print(json.dumps({"fit_bgnbd": t2 - t1, "fit_gg": None, "clv": None, "total": None, "params": p,
                  "peak_mb": peak_mb()}))
"""


CDNOW_CENTRIC = """
import json, sys
import pandas as pd
from centric.customers import BetaGeo, GammaGamma, rfm_summary
raw = pd.read_csv(sys.argv[1], sep=r"\\s+", dtype={"date": str})
raw["ordered_at"] = pd.to_datetime(raw["date"], format="%Y%m%d")
s = rfm_summary(raw.rename(columns={"dollar_value": "amount"}), unit="W", calibration_end="1997-09-30",
                observation_end="1998-06-30")
s[["frequency", "recency", "T", "monetary_value"]].to_parquet(sys.argv[2])
bg, gg = BetaGeo().fit(s), GammaGamma().fit(s)
print(json.dumps({"n": len(s), "params": {**bg.params_, **gg.params_}, "ll": bg.log_likelihood_}))
"""

CDNOW_LIFETIMES = """
import json, sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
s = pd.read_parquet(sys.argv[1])
bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]  # as centric: repeat buyers who spent something
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
p = dict(bg.params_); p.update({"p": gg.params_["p"], "q": gg.params_["q"], "gamma": gg.params_["v"]})
print(json.dumps({"params": {k: float(v) for k, v in p.items()}}))
"""


def cdnow_master(py_ref: Path | None, tmp: Path) -> None:
    """The full CDNOW file (23,570 customers), which nothing here was tuned on: our fit next to
    lifetimes' on the same summary."""
    path = ROOT.parent / "shared" / "data" / "cdnow_lifetimes" / "CDNOW_master.txt"
    if not path.exists():
        print("full CDNOW: ../shared/data not found, skipped")
        return
    summary = tmp / "cdnow_master.parquet"
    ours = run_args(sys.executable, CDNOW_CENTRIC, str(path), str(summary))
    ref = run_args(py_ref, CDNOW_LIFETIMES, str(summary)) if py_ref else None
    print(f"full CDNOW ({ours['n']:,} customers, weeks 1–39): BG/NBD log-likelihood {ours['ll']:,.1f}")
    for k, v in ours["params"].items():
        other = ref["params"][k] if ref else float("nan")
        print(f"  {k:<6} centric {v:10.5f}   lifetimes {other:10.5f}   relative difference {abs(v - other) / abs(other):.1e}")


def run_args(python, code: str, *args: str) -> dict | None:
    r = subprocess.run([str(python), "-c", textwrap.dedent(code), *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        print(f"  failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def ref_python(packages: list[str]) -> Path | None:
    """The reference venv's python with ``packages`` installed, or None when they cannot be installed."""
    py = REF / "bin" / "python"
    if not py.exists():
        venv.create(REF, with_pip=True)
    for pkg in packages:
        name = pkg.split("==")[0].replace("-", "_")
        if subprocess.run([py, "-c", f"import {name}"], capture_output=True).returncode == 0:
            continue
        print(f"installing {pkg} into {REF} …", flush=True)
        r = subprocess.run([py, "-m", "pip", "install", "-q", pkg, "pyarrow"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"  could not install {pkg}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else '?'}")
            return None
    return py


def run(python: Path | str, code: str, data: Path, out: Path) -> dict | None:
    r = subprocess.run([str(python), "-c", textwrap.dedent(code), str(data), str(out)], capture_output=True,
                       text=True, cwd=ROOT)
    if r.returncode != 0:
        print(f"  failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--no-reference", action="store_true", help="Only centric (no lifetimes, no pymc-marketing).")
    args = ap.parse_args()
    import pandas as pd

    tmp = Path(tempfile.mkdtemp(prefix="centric-clv-"))
    freq, rec, T, spend = simulate(args.customers)
    data = tmp / "summary.parquet"
    pd.DataFrame({"frequency": freq, "recency": rec, "T": T, "monetary_value": spend}).to_parquet(data)
    distinct = len(np.unique(np.stack([freq, rec, T]), axis=1)[0])
    print(f"{args.customers:,} customers, {int((freq > 0).sum()):,} repeat buyers, {distinct:,} distinct "
          f"(frequency, recency, T); true parameters {TRUE}")
    results = {"centric": run(sys.executable, CENTRIC, data, tmp / "centric.npy")}
    lifetimes_py = None
    if not args.no_reference:
        py = lifetimes_py = ref_python(["lifetimes==0.11.3"])
        results["lifetimes 0.11.3"] = run(py, LIFETIMES, data, tmp / "lifetimes.npy") if py else None
        py = ref_python(["pymc-marketing"])
        results["pymc-marketing (MAP, BG/NBD only)"] = run(py, PYMC, data, tmp / "pymc.npy") if py else None

    def f(v):
        return "—" if v is None else f"{v:8.2f}"

    print(f"{'contender':<36} {'fit BG/NBD':>10} {'fit GG':>8} {'CLV 12m':>8} {'total s':>8} {'peak MB':>8}")
    for name, r in results.items():
        if r is None:
            print(f"{name:<36} {'not available':>10}")
            continue
        print(f"{name:<36} {f(r['fit_bgnbd']):>10} {f(r['fit_gg']):>8} {f(r['clv']):>8} {f(r['total']):>8} "
              f"{r['peak_mb']:>8.0f}")
    c = results["centric"]
    print("centric parameters: " + ", ".join(f"{k}={v:.4f}" for k, v in c["params"].items()))
    lt = results.get("lifetimes 0.11.3")
    if lt:
        rel = {k: abs(c["params"][k] - lt["params"][k]) / abs(lt["params"][k]) for k in lt["params"]}
        worst = max(rel.values())
        a, b = np.load(tmp / "centric.npy"), np.load(tmp / "lifetimes.npy")
        clv_rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-9)))
        speed = lt["total"] / c["total"]
        ok = speed >= 20 and c["peak_mb"] < 1024 and worst < 1e-3
        print(f"against lifetimes: {speed:.1f}x faster, peak {c['peak_mb']:.0f} MB, largest parameter difference "
              f"{worst:.1e} relative, largest CLV difference {clv_rel:.1e} relative "
              f"(goal: >= 20x, < 1024 MB, < 1e-3) -> {'MET' if ok else 'NOT MET'}")
    else:
        print(f"lifetimes not available: centric alone {c['total']:.2f} s, peak {c['peak_mb']:.0f} MB "
              "(the goal needs the comparison)")
    cdnow_master(lifetimes_py, tmp)


if __name__ == "__main__":
    main()
