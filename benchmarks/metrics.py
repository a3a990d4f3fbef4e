"""Metric speed and memory: NPS + CSAT + CES by month × segment × channel over 10,000,000 answers,
computed by centric inside DuckDB (through Ibis), next to a pandas groupby baseline in the same run.

    python benchmarks/metrics.py [--answers 10000000] [--customers 200000]

The answers are generated inside DuckDB into a fresh store. Each contender runs in its own process
so that its peak memory is its own (``peak.PEAK``: the kernel's high-water mark of the process's resident memory,
not ``ru_maxrss``, which a child inherits from the process that generated the data):

- centric: ``metrics.breakdowns(store, ["nps", "csat", "ces"], ["month", "segment", "channel"])``, one
  pass over the answers, intervals and significance tests included;
- baseline: a pandas user's way: the answers and customers read from Parquet exports and merged,
  then one ``groupby`` per metric computing the same counts and means (no intervals). The read, the
  merge and the groupby are timed apart; the goal compares the groupby alone (the merge done, untimed)
  and the read + merge + groupby. The results of both contenders are compared group by group (counts
  exactly, means to 1e-12).

Prints wall seconds and CPU seconds (user + system of the timed part, all threads: steadier than wall time
when other work shares the cores). Goal: at least 5× faster than pandas, under 2 GB peak.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak import PEAK  # the children's own peak memory (benchmarks/peak.py)

CENTRIC = PEAK + """
import json, sys, time
from centric import Store
from centric.metrics import breakdowns
with Store.open(sys.argv[1]) as s:
    times, cpus = [], []
    for _ in range(2):  # cold (the file read from disk), then warm (in DuckDB's buffers, as pandas' data is)
        t, c = time.perf_counter(), time.process_time()
        out = breakdowns(s, ["nps", "csat", "ces"], ["month", "segment", "channel"])
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
values = {m: {"|".join((g["month"], g["segment"], g["channel"])): [*sc.counts.values(), *([sc.mean] if sc.mean is not None else [])]
              for g, sc in b.rows}
          for m, b in out.items()}
print(json.dumps({"seconds": times[1], "cold_seconds": times[0], "cpu": cpus[1], "cold_cpu": cpus[0],
                  "groups": {m: len(b.rows) for m, b in out.items()}, "values": values,
                  "peak_mb": peak_mb()}))
"""
BASELINE = PEAK + """
import json, sys, time
import pandas as pd
folder = sys.argv[1]
t0 = time.perf_counter()
r = pd.read_parquet(folder + "/responses.parquet")
c = pd.read_parquet(folder + "/customers.parquet")
read = time.perf_counter() - t0
t1, c1 = time.perf_counter(), time.process_time()
df = r.merge(c, on="customer_id", how="left")
merge, merge_cpu = time.perf_counter() - t1, time.process_time() - c1
t, c = time.perf_counter(), time.process_time()
df["month"] = df.responded_at.dt.to_period("M")
keys = ["month", "segment", "channel"]
out = {}
n = df.dropna(subset=["nps"])
g = n.assign(p=n.nps >= 9, d=n.nps <= 6, pa=(n.nps >= 7) & (n.nps <= 8)).groupby(keys)[["p", "pa", "d"]].sum()
out["nps"] = g
for m, top in (("csat", 4), ("ces", 5)):
    x = df.dropna(subset=[m])
    g = x.assign(top=x[m] >= top).groupby(keys).agg(n=(m, "size"), top=("top", "sum"), mean=(m, "mean"), sd=(m, "std"))
    out[m] = g
dt, cpu = time.perf_counter() - t, time.process_time() - c
# outside the timing: the results in the form the centric contender prints them, to be compared
values = {m: {"|".join((str(k[0]), k[1], k[2])): ([int(v) for v in row[:3]] if m == "nps" else
                                                  [int(row["top"]), int(row["n"] - row["top"]), float(row["mean"])])
              for k, row in g.iterrows()} for m, g in out.items()}
print(json.dumps({"seconds": dt, "cpu": cpu, "read_seconds": read, "merge_seconds": merge, "merge_cpu": merge_cpu,
                  "groups": {m: len(g) for m, g in out.items()}, "values": values,
                  "peak_mb": peak_mb()}))
"""


def make_store(path: Path, answers: int, customers: int) -> None:
    from centric import Store, customer_keys

    with Store.open(path) as s:
        s.con.execute(f"""
            INSERT INTO customers (customer_id, segment)
            SELECT printf('C%07d', i), (['b2c', 'b2c', 'b2c', 'b2b', 'vip'])[1 + (hash(i) % 5)::INT]
            FROM range(1, {customers} + 1) t(i)""")
        s.con.execute(f"""
            INSERT INTO responses (response_id, customer_id, survey, responded_at, channel, touchpoint, nps, csat, ces)
            SELECT 'R' || i, printf('C%07d', 1 + (hash(i * 7) % {customers})::INT), 'post-delivery',
                   TIMESTAMP '2024-01-01' + to_seconds((hash(i * 3) % (730 * 86400))::BIGINT),
                   (['email', 'sms', 'web', 'app'])[1 + (hash(i * 5) % 4)::INT], 'delivery',
                   (hash(i * 11) % 11)::INT,
                   CASE WHEN hash(i * 13) % 3 = 0 THEN NULL ELSE 1 + (hash(i * 17) % 5)::INT END,
                   CASE WHEN hash(i * 19) % 4 = 0 THEN 1 + (hash(i * 23) % 7)::INT END
            FROM range({answers}) t(i)""")
        customer_keys.fill(s.con)  # the integer customer keys, as ingest writes them (centric.customer_keys)


def export(db: Path, folder: Path) -> None:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"COPY (SELECT customer_id, responded_at, channel, nps, csat, ces FROM responses) "
                f"TO '{folder / 'responses.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT customer_id, segment FROM customers) TO '{folder / 'customers.parquet'}' "
                "(FORMAT parquet)")
    con.close()


def run(code: str, arg: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(arg)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.duckdb"
        t = time.perf_counter()
        make_store(db, args.answers, args.customers)
        export(db, Path(d))
        print(f"generated {args.answers:,} answers in {time.perf_counter() - t:.1f} s")
        base = run(BASELINE, Path(d))
        mine = run(CENTRIC, db)
    total = base["read_seconds"] + base["merge_seconds"] + base["seconds"]
    print(f"{'contender':<60} {'seconds':>8} {'CPU s':>6} {'peak MB':>8}")
    print(f"{'pandas: read Parquet':<60} {base['read_seconds']:>8.2f}")
    print(f"{'pandas: merge customers (both tables in memory)':<60} {base['merge_seconds']:>8.2f} {base['merge_cpu']:>6.2f}")
    print(f"{'pandas: groupby (data already in memory)':<60} {base['seconds']:>8.2f} {base['cpu']:>6.2f} "
          f"{base['peak_mb']:>8.0f}")
    print(f"{'centric: one pass in DuckDB via Ibis, first run (cold)':<60} {mine['cold_seconds']:>8.2f} "
          f"{mine['cold_cpu']:>6.2f}")
    print(f"{'centric: one pass in DuckDB via Ibis, warm, with intervals':<60} {mine['seconds']:>8.2f} "
          f"{mine['cpu']:>6.2f} {mine['peak_mb']:>8.0f}")
    assert base["groups"] == mine["groups"], (base["groups"], mine["groups"])
    print(f"same result: {same(base['values'], mine['values'])} groups with equal counts and means")
    for name, ref in (("read + merge + groupby", total), ("groupby alone", base["seconds"])):
        speed = ref / mine["seconds"]
        ok = speed >= 5 and mine["peak_mb"] < 2048
        print(f"against pandas {name}: {speed:.1f}x faster, peak {mine['peak_mb']:.0f} MB vs {base['peak_mb']:.0f} MB "
              f"(goal: >= 5x, < 2048 MB) -> {'MET' if ok else 'NOT MET'}")
    cpu = base["cpu"] / mine["cpu"]
    both = (base["merge_cpu"] + base["cpu"]) / mine["cpu"]
    print(f"by CPU seconds: {cpu:.1f}x pandas' groupby alone, {both:.1f}x its merge + groupby "
          f"(centric's time includes its join to the customers)")


def same(base: dict, mine: dict) -> int:
    """How many groups pandas and centric give equal counts and means (to 1e-12) for; fails on any difference."""
    import math

    assert base.keys() == mine.keys()
    n = 0
    for m in base:
        assert base[m].keys() == mine[m].keys(), m
        for k, a in base[m].items():
            b = mine[m][k]
            assert len(a) == len(b) and all(x == y if isinstance(x, int) else math.isclose(x, y, rel_tol=1e-12)
                                            for x, y in zip(a, b, strict=True)), (m, k, a, b)
            n += 1
    return n


if __name__ == "__main__":
    main()
