"""Ingest speed and memory: centric against pandas read_csv + DuckDB insert, in the same run.

    python benchmarks/ingest.py [--rows 1000000] [--customers 200000]

Writes a synthetic orders CSV (order id, customer id, ISO time, amount, currency, channel, store,
category), then loads it in a fresh subprocess per contender, so that each one's peak memory
(``peak.PEAK``: the kernel's high-water mark of the process's resident memory, not ``ru_maxrss``, which a
child inherits from this process, the one that wrote the file) is its own:

- centric: ``centric.ingest("orders", path)`` into a new store — sniffing, parsing and validating
  every value, keeping rejected rows, de-duplicating, resolving customers, in one transaction;
- baseline: ``pandas.read_csv(path, parse_dates=["ordered_at"])`` then ``CREATE TABLE … AS SELECT *
  FROM df`` in DuckDB — no validation, no identities.

Prints per contender the wall seconds, rows/s, CPU seconds (user + system of the timed part: steadier than
wall time when other work shares the cores) and peak memory. Goal: at least as fast as the baseline, with
less memory. Neither contender's timed part includes loading modules: the baseline imports pandas before
its clock starts, and so does centric's (DuckDB's Python client imports pandas at the first query with
parameters, which would otherwise put 0.2–0.3 CPU seconds of module loading into centric's time alone).

``--stages`` also loads the file once more with centric in a fresh process and prints where its CPU time
goes, query by query, grouped into stages (read, decide, parse and validate, keys, identities, insert, rejected
rows, commit; Python between the queries as "other").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from peak import PEAK  # each contender's own peak memory (benchmarks/peak.py)

CENTRIC = PEAK + """
import json, resource, sys, time
import pandas  # loaded before the clock, as the baseline loads it (DuckDB's client imports it at its first parameter)
from centric import Store, ingest
u0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = u0.ru_utime + u0.ru_stime
t = time.perf_counter()
with Store.open(sys.argv[2]) as s:
    r = ingest("orders", sys.argv[1], store=s)[0]
    n = s.count("orders")
dt = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "cpu": u.ru_utime + u.ru_stime - cpu0, "rows": n, "rejected": r.rows_rejected,
                  "peak_mb": peak_mb()}))
"""
BASELINE = PEAK + """
import json, resource, sys, time
import duckdb, pandas as pd
u0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = u0.ru_utime + u0.ru_stime
t = time.perf_counter()
df = pd.read_csv(sys.argv[1], parse_dates=["ordered_at"])
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE orders AS SELECT * FROM df")
n = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
con.close()
dt = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "cpu": u.ru_utime + u.ru_stime - cpu0, "rows": n, "rejected": 0,
                  "peak_mb": peak_mb()}))
"""

STAGES = r"""
import json, re, resource, sys, time
import pandas
import duckdb
from centric import Store, ingest

STAGES = [  # (stage, pattern of the SQL), first match wins
    ("insert", r"^INSERT INTO (?!ingest_rows|ingest_runs|rejected_rows|identities|customers |customer_merges)"),
    ("read", r"read_csv|_centric_stage_data|information_schema.tables WHERE table_name"),
    ("parse and validate", r"_centric_typed AS|_centric_bad|_centric_errors|centric_num|centric_ts_norm|CREATE OR REPLACE TEMP MACRO"),
    ("decide", r"FROM _centric_stage"),
    ("identities", r"_centric_ids|_centric_identmap|_centric_remap|_centric_multi|INTO identities|INTO customers|customer_merges"),
    ("keys", r"ingest_rows|_centric_ranked|count\(DISTINCT|_centric_valid$|FROM _centric_valid\b"),
    ("rejected rows", r"rejected_rows"),
    ("commit", r"^COMMIT"),
]


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


spent = {}


class Timed:
    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args, **kwargs):
        c = cpu()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            text = " ".join(str(sql).split())
            stage = next((n for n, p in STAGES if re.search(p, text)), "other queries")
            spent[stage] = spent.get(stage, 0.0) + cpu() - c

    def __getattr__(self, name):
        return getattr(self._con, name)


c0 = cpu()
with Store.open(sys.argv[2]) as s:
    spent["open (migrations)"] = cpu() - c0
    s.con = Timed(s.con)
    ingest("orders", sys.argv[1], store=s)
    s.con = s.con._con
total = cpu() - c0
spent["other (Python)"] = total - sum(spent.values())
print(json.dumps({"total": total, "stages": spent}))
"""


def write_orders(path: Path, rows: int, customers: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2024-01-01T00:00:00")
    secs = rng.integers(0, 2 * 365 * 86400, rows)
    times = (t0 + secs.astype("timedelta64[s]")).astype(str)
    cust = rng.integers(1, customers + 1, rows)
    amount = np.round(rng.lognormal(6.5, 0.9, rows), 2)
    channels = np.array(["online", "store", "call_centre"])[rng.integers(0, 3, rows)]
    stores = np.array(["Warszawa", "Kraków", "Milano", "Roma", ""])[rng.integers(0, 5, rows)]
    cats = np.array(["fridges", "tv", "phones", "small_appliances", "accessories"])[rng.integers(0, 5, rows)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("order_id,customer_id,ordered_at,amount,currency,channel,store,category\n")
        chunk = 200_000
        for s in range(0, rows, chunk):
            e = min(rows, s + chunk)
            f.writelines(
                f"O{i},K{c},{t},{a:.2f},PLN,{ch},{st},{ca}\n"
                for i, c, t, a, ch, st, ca in zip(range(s, e), cust[s:e], times[s:e], amount[s:e],
                                                   channels[s:e], stores[s:e], cats[s:e], strict=True)
            )


def run(code: str, csv: Path, db: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(csv), str(db)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--stages", action="store_true", help="also print centric's CPU time by stage")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "orders.csv"
        t = time.perf_counter()
        write_orders(csv, args.rows, args.customers)
        print(f"wrote {args.rows:,} orders ({csv.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s")
        base = run(BASELINE, csv, Path(d) / "base.duckdb")
        mine = run(CENTRIC, csv, Path(d) / "centric.duckdb")
        stages = run(STAGES, csv, Path(d) / "stages.duckdb") if args.stages else None
    print(f"{'contender':<44} {'seconds':>8} {'rows/s':>10} {'CPU s':>6} {'peak MB':>8}")
    for name, r in (("baseline: pandas read_csv + DuckDB insert", base), ("centric ingest", mine)):
        print(f"{name:<44} {r['seconds']:>8.2f} {r['rows'] / r['seconds']:>10,.0f} {r['cpu']:>6.2f} "
              f"{r['peak_mb']:>8.0f}")
    speed = base["seconds"] / mine["seconds"]
    memory = mine["peak_mb"] / base["peak_mb"]
    print(f"centric is {speed:.2f}x the baseline's speed and uses {memory:.2f}x its peak memory "
          f"(goal: speed >= 1.00x, memory < 1.00x) -> {'MET' if speed >= 1 and memory < 1 else 'NOT MET'}")
    if stages:
        print(f"centric's CPU seconds by stage (one more load, {stages['total']:.2f} s in all):")
        for name, sec in sorted(stages["stages"].items(), key=lambda kv: -kv[1]):
            print(f"  {name:<20} {sec:6.2f}")
    assert mine["rows"] == base["rows"] == args.rows, "both must store every row"


if __name__ == "__main__":
    main()
