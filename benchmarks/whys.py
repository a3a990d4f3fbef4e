"""The 5-whys tree's cost in the report: `centric.whys.whys` for the first "fix" factor on a demo store, next to
the report's factor analysis (`centric.drivers.drivers`, the section it follows) timed in the same run, each
the median of a few runs after a warm-up. Goal: the tree adds at most 2 s to the report on the full demo store.

    python benchmarks/whys.py [--db centric-demo/centric.duckdb] [--repeat 3]

The store is copied to a temporary folder first (DuckDB locks the file it opens). Wall time and the process's
CPU time are printed: on a busy machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up: imports, the store's caches
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="centric-demo/centric.duckdb")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from centric.drivers import drivers
    from centric.store import Store
    from centric.whys import top_fix, whys

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "centric.duckdb"
        shutil.copyfile(args.db, path)
        with Store.open(path) as store:
            d = drivers(store, reps=200)
            factor = top_fix(d)
            if factor is None:
                raise SystemExit("no factor in the fix quadrant")
            base = _timed(lambda: drivers(store, reps=200), args.repeat)
            tree = _timed(lambda: whys(store, factor, names=d.names("en")), args.repeat)
            nodes = len(whys(store, factor).nodes())
    print(f"factor analysis (baseline): {base[0]:.2f} s wall, {base[1]:.2f} s CPU")
    print(f"5-whys tree of {factor!r} ({nodes} nodes): {tree[0]:.2f} s wall, {tree[1]:.2f} s CPU (goal: ≤ 2 s)")


if __name__ == "__main__":
    main()
