"""The same metrics on every engine: NPS + CSAT + CES by month × segment × channel over the 10,000,000 answers
of ``benchmarks/metrics.py``, computed by centric on DuckDB (the embedded store), on PostgreSQL and on Spark
(local mode over a Parquet lake), in one run, with the results compared group by group.

    python benchmarks/backends.py [--answers 10000000] [--customers 200000] [--spark-scale 10]
                                  [--postgres URL | --no-postgres] [--no-spark]

The answers are generated once into a DuckDB store (the generator of ``metrics.py``), copied into a fresh
PostgreSQL database with ``centric store copy`` (COPY) and into a lake of Parquet files; each engine then runs
``metrics.breakdowns(store, ["nps", "csat", "ces"], ["month", "segment", "channel"])`` — one pass, intervals
and significance tests included — in a process of its own, twice (the first run reads cold, the second is
timed). The peak memory printed is that Python process's own (its resident high-water mark, ``peak.PEAK``;
not ``ru_maxrss``, which a child started with vfork() inherits from this process, the one that generated the
data): PostgreSQL's server and Spark's JVM are processes of their own. Without ``--postgres`` a throwaway
PostgreSQL server is started from Debian's binaries (as ``tests/pg.py`` does for the tests) with its default
memory settings. Spark runs a second time on ``--spark-scale`` times the answers, to show how it scales.

Goals: PostgreSQL within 3× of DuckDB, Spark (local mode, 2 cores) within 10×, the results equal.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from metrics import make_store  # noqa: E402  (the generator of benchmarks/metrics.py)
from peak import PEAK  # noqa: E402  (the children's own peak memory)

RUN = PEAK + """
import json, sys, time
from centric.engines import open_store
from centric.metrics import breakdowns
store = open_store(sys.argv[1], read_only=True)
times = []
for _ in range(2):  # cold, then warm
    t = time.perf_counter()
    result = breakdowns(store, ["nps", "csat", "ces"], ["month", "segment", "channel"])
    times.append(time.perf_counter() - t)
store.close()
rows = {}
for metric, b in result.items():
    for group, s in b.rows:
        key = "|".join(str(group[k]) for k in ("month", "segment", "channel"))
        rows[f"{metric}|{key}"] = [s.n, s.value, s.low, s.high]
print(json.dumps({"seconds": times[1], "cold_seconds": times[0], "rows": rows,
                  "peak_mb": peak_mb()}))
"""


def run(db: str) -> dict:
    p = subprocess.run([sys.executable, "-c", RUN, db], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{db.split('?')[0]}: failed\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def differences(a: dict, b: dict, rel: float = 1e-9) -> list[str]:
    """The groups whose answer count differs or whose score or interval differs beyond rounding."""
    out = [f"only in one: {k}" for k in sorted(set(a) ^ set(b))]
    for k in sorted(set(a) & set(b)):
        for x, y in zip(a[k], b[k], strict=True):
            same = (x is None and y is None) or (
                x is not None and y is not None and math.isclose(x, y, rel_tol=rel, abs_tol=1e-9))
            if not same:
                out.append(f"{k}: {a[k]} vs {b[k]}")
                break
    return out


def postgres_url(given: str | None):
    """A PostgreSQL database for the run: the given URL, or one on a throwaway server (a context)."""
    import contextlib

    @contextlib.contextmanager
    def throwaway():
        from tests.pg import start_server

        gen = start_server()
        server = next(gen)
        try:
            yield server.url(server.create_database())
        finally:
            gen.close()

    if given:
        return contextlib.nullcontext(given)
    return throwaway()


def copy_to_postgres(db: Path, url: str) -> float:
    from centric.engines.copy import copy_store
    from centric.store import Store

    t = time.perf_counter()
    with Store.open(db, read_only=True) as source:
        copy_store(source, url)
    return time.perf_counter() - t


def lake(db: Path, folder: Path) -> str:
    """The DuckDB store copied into a lake of Parquet files; returns the Spark URL."""
    from centric.engines.copy import copy_to_lake

    url = f"spark:local[2]?warehouse={folder}"
    from centric.store import Store

    with Store.open(db, read_only=True) as source:
        copy_to_lake(source, url)
    return url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--postgres", help="a PostgreSQL database URL to use (default: a throwaway server)")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--spark-scale", type=int, default=10, help="Spark also runs on this many times the answers "
                    "(0: not)")
    args = ap.parse_args()
    results: list[tuple[str, dict, str]] = []
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.duckdb"
        t = time.perf_counter()
        make_store(db, args.answers, args.customers)
        print(f"generated {args.answers:,} answers, {args.customers:,} customers in {time.perf_counter() - t:.1f} s")
        duck = run(str(db))
        results.append(("DuckDB (embedded file)", duck, ""))
        if not args.no_postgres:
            with postgres_url(args.postgres) as url:
                took = copy_to_postgres(db, url)
                results.append(("PostgreSQL 15 (local server)", run(url), f"loaded with COPY in {took:.0f} s"))
        if not args.no_spark:
            t = time.perf_counter()
            url = lake(db, Path(d) / "lake")
            took = time.perf_counter() - t
            results.append(("Spark local[2] over Parquet", run(url), f"lake written in {took:.0f} s"))
            if args.spark_scale > 1:
                big = Path(d) / "big.duckdb"
                make_store(big, args.answers * args.spark_scale, args.customers)
                url = lake(big, Path(d) / "lake-big")
                big.unlink()
                r = run(url)
                results.append((f"Spark local[2], {args.spark_scale}x the answers", r, "scaling only"))
    base = duck["seconds"]
    goals = {"PostgreSQL": 3, "Spark local[2] over": 10}
    print(f"{'engine':<38} {'seconds':>8} {'cold':>8} {'× DuckDB':>9} {'peak MB':>8}  note")
    for name, r, note in results:
        print(f"{name:<38} {r['seconds']:>8.2f} {r['cold_seconds']:>8.2f} {r['seconds'] / base:>9.1f} "
              f"{r['peak_mb']:>8.0f}  {note}")
    for name, r, _ in results[1:]:
        if "x the answers" in name:
            continue
        diff = differences(duck["rows"], r["rows"])
        goal = next(v for k, v in goals.items() if name.startswith(k))
        ratio = r["seconds"] / base
        print(f"{name}: {len(r['rows'])} groups, {'equal to DuckDB' if not diff else f'{len(diff)} differ, e.g. {diff[:3]}'}; "
              f"{ratio:.1f}× DuckDB's time (goal ≤ {goal}×) -> {'MET' if ratio <= goal and not diff else 'NOT MET'}")


if __name__ == "__main__":
    main()
