"""User flows at scale: directly-follows graph, variants and edge medians on 10,000,000 events, next to
pm4py measured in the same run in its own environment (pm4py is AGPL: an oracle here, never a
dependency of centric).

    python3.11 -m venv /tmp/pm4py-venv && /tmp/pm4py-venv/bin/pip install pm4py==2.7.23.11 pyarrow
    .venv/bin/python benchmarks/flows.py --pm4py-python /tmp/pm4py-venv/bin/python

The log is generated once (deterministic, seed 15) as Parquet under /tmp: 1,000,000 cases of a web
shop (about 10 events each, 14 activities, with self-loops and returns) walked through a fixed Markov
chain, seconds apart by exponential gaps, some events of a case at the same second. Each contender runs
in a fresh process (its peak memory is that process's own resident high-water mark, ``peak.PEAK``; not
``ru_maxrss``, which a child inherits from the process that generated the log). pm4py runs on the whole file when
``--pm4py-cases`` allows, otherwise on a slice of the first cases (said in the output). Then both run on
a slice and their graphs, start/end counts, variants and edge medians are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from peak import PEAK, peak_mb  # each contender's own peak memory (benchmarks/peak.py)

ACTS = ["home", "search", "list", "product", "reviews", "cart", "login", "register", "checkout", "payment",
        "payment failed", "confirmation", "support chat", "exit"]

# from → {to: weight}; "exit" ends the case
CHAIN = {
    "home": {"search": 5, "list": 4, "product": 2, "login": 1, "exit": 0.5},
    "search": {"list": 5, "search": 2, "product": 3, "exit": 1},
    "list": {"product": 7, "list": 2, "search": 2, "exit": 1},
    "product": {"cart": 4, "reviews": 2, "list": 3, "product": 1, "search": 1, "exit": 0.7},
    "reviews": {"product": 4, "cart": 2, "exit": 1},
    "cart": {"checkout": 5, "product": 2, "list": 1, "exit": 1},
    "login": {"checkout": 3, "home": 2, "register": 1},
    "register": {"checkout": 3, "exit": 1},
    "checkout": {"login": 2, "payment": 6, "cart": 1, "exit": 1},
    "payment": {"confirmation": 7, "payment failed": 2},
    "payment failed": {"payment": 5, "support chat": 2, "exit": 2},
    "confirmation": {"exit": 4, "support chat": 1, "home": 2},
    "support chat": {"payment": 2, "exit": 3, "support chat": 1},
}


def generate(path: Path, cases: int, seed: int = 15, max_len: int = 40) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    idx = {a: i for i, a in enumerate(ACTS)}
    exit_ = idx["exit"]
    trans = np.zeros((len(ACTS), len(ACTS)))
    for a, nxt in CHAIN.items():
        for b, w in nxt.items():
            trans[idx[a], idx[b]] = w
    trans[exit_, exit_] = 1
    cum = np.cumsum(trans / trans.sum(axis=1, keepdims=True), axis=1)
    first = np.array([idx["home"]] * 6 + [idx["search"]] * 2 + [idx["product"]] * 2)
    state = first[rng.integers(0, len(first), cases)]
    start = (1_700_000_000 + rng.integers(0, 86_400 * 365, cases)).astype("int64")
    clock = start.copy()
    steps_a, steps_t, steps_c = [], [], []
    alive = np.ones(cases, bool)
    case_ids = np.arange(cases)
    for _ in range(max_len):
        ids = case_ids[alive]
        steps_c.append(ids)
        steps_a.append(state[alive])
        steps_t.append(clock[alive])
        gap = rng.exponential(90.0, cases).astype("int64")  # whole seconds: about one in 90 gaps is 0 (a tie)
        clock = clock + gap
        u = rng.random(cases)
        state = np.minimum((u[:, None] > cum[state]).sum(axis=1), len(ACTS) - 1)
        alive &= state != exit_
        if not alive.any():
            break
    c = np.concatenate(steps_c)
    a = np.concatenate(steps_a)
    t = np.concatenate(steps_t)
    order = np.lexsort((t, c))  # case by case, in time order; ties in generation order (stable)
    c, a, t = c[order], a[order], t[order]
    table = pa.table({
        "case": pa.array(np.char.add("c", c.astype(str))) if cases <= 200_000 else pa.array(c).cast(pa.string()),
        "activity": pa.DictionaryArray.from_arrays(pa.array(a.astype("int32")), pa.array(ACTS)),
        "time": pa.array(t * 1_000_000, pa.timestamp("us")),
    })
    pq.write_table(table, path, row_group_size=1 << 20)
    return len(c)


def run_ours(path: str, threads: int, memory: str, method: str = "separate") -> dict:
    import duckdb
    import ibis

    from centric.flows import from_table, graph, mine, variants

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(f"SET memory_limit = '{memory}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    ib = ibis.duckdb.from_connection(con)
    src = ib.sql(f"SELECT \"case\", activity, time, file_row_number FROM read_parquet('{path}', "
                 "file_row_number = true)")
    log = from_table(src, "case", "activity", "time", order="file_row_number")
    if method == "mine":  # one query, one ordering of the events (what `centric flows` uses)
        g, v = mine(log.table)
    else:  # graph() and variants(), each ordering the events in its query
        g, v = graph(log.table), variants(log.table)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "peak_mb": peak_mb(),
            "cases": g.cases, "events": g.events, "start": g.start, "end": g.end,
            "edges": {f"{e.source}\t{e.target}": [e.count, e.median_seconds] for e in g.edges},
            "variants": {"\t".join(x.activities): x.cases for x in v.variants}}


PM4PY_SCRIPT = PEAK + r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import pm4py
path, limit = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
if ".xes" in path:  # a real log: written as CSV (argv[3]) for centric, times with their offsets
    df = pm4py.read_xes(path)
    df = pd.DataFrame({"case": df["case:concept:name"], "activity": df["concept:name"],
                       "time": df["time:timestamp"]})
    df.assign(time=df["time"].map(lambda t: t.isoformat())).to_csv(sys.argv[3], index=False)
else:
    df = pd.read_parquet(path)
df["activity"] = df["activity"].astype(str)
if limit:
    keep = df["case"].drop_duplicates().iloc[:limit]
    df = df[df["case"].isin(set(keep))]
df = pm4py.format_dataframe(df, case_id="case", activity_key="activity", timestamp_key="time")
t1 = time.perf_counter()
dfg, sa, ea = pm4py.discover_dfg(df)
perf, _, _ = pm4py.discover_performance_dfg(df)
var = pm4py.get_variants(df)
t2 = time.perf_counter()
var = {"\t".join(k): (v if isinstance(v, int) else len(v)) for k, v in var.items()}
print(json.dumps({"seconds": t2 - t0, "read_seconds": t1 - t0, "mine_seconds": t2 - t1,
                  "peak_mb": peak_mb(),
                  "cases": int(df["case:concept:name"].nunique()), "events": len(df),
                  "start": {k: int(v) for k, v in sa.items()}, "end": {k: int(v) for k, v in ea.items()},
                  "edges": {f"{a}\t{b}": [int(n), float(perf[(a, b)]["median"])] for (a, b), n in dfg.items()},
                  "variants": var}))
"""


def real_log(xes: str, pm4py_python: str, timeout: float) -> None:
    """A real XES log: pm4py reads it and writes it as CSV (times with their offsets); ``centric flows``
    reads the CSV; both results are compared."""
    csv_path = Path("/tmp/centric-flows-bench") / (Path(xes).name.split(".")[0] + ".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    ref = contender([pm4py_python, "-c", PM4PY_SCRIPT, xes, "0", str(csv_path)], timeout)
    out = subprocess.run([sys.executable, "-m", "centric.cli", "flows", str(csv_path), "--case", "case",
                          "--activity", "activity", "--time", "time", "--json"], capture_output=True, text=True,
                         timeout=timeout, check=True)
    a = json.loads(out.stdout)
    ours = {**a, "edges": {f"{e['from']}\t{e['to']}": [e["count"], e["median_seconds"]] for e in a["edges"]},
            "variants": {"\t".join(v["activities"]): v["cases"] for v in a["variants"]}}
    diffs = same(ours, ref) if ref else ["pm4py failed"]
    print(f"{xes}: {a['cases']:,} cases, {a['events']:,} events, {len(a['edges'])} edges, {len(a['variants'])} "
          "variants through `centric flows` — " + ("identical to pm4py (graph, start/end, variants, edge medians)"
                                                   if not diffs else "DIFFERENT: " + ", ".join(diffs)))


def contender(cmd: list[str], timeout: float) -> dict | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def slice_file(src: Path, dst: Path, cases: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM read_parquet('{src}') WHERE "case" IN
                    (SELECT DISTINCT "case" FROM read_parquet('{src}') ORDER BY 1 LIMIT {cases}))
                    TO '{dst}' (FORMAT parquet)""")


def same(ours: dict, ref: dict) -> list[str]:
    diffs = []
    for key in ("cases", "events", "start", "end", "variants"):
        if ours[key] != ref[key]:
            diffs.append(key)
    if {k: v[0] for k, v in ours["edges"].items()} != {k: v[0] for k, v in ref["edges"].items()}:
        diffs.append("edge counts")
    off = [k for k, v in ours["edges"].items() if k in ref["edges"] and abs(v[1] - ref["edges"][k][1]) > 1e-6]
    if off:
        diffs.append(f"edge medians ({len(off)})")
    return diffs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000, help="cases in the log (about 10 events each)")
    ap.add_argument("--file", default="/tmp/centric-flows-bench/log.parquet")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", default="1500MB", help="DuckDB's memory_limit for our run")
    ap.add_argument("--pm4py-python", help="python of a venv with pm4py (see the docstring); without it, ours only")
    ap.add_argument("--pm4py-cases", type=int, default=100_000,
                    help="cases pm4py mines in the timed run (0: all of them)")
    ap.add_argument("--check-cases", type=int, default=20_000, help="cases of the slice compared with pm4py")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--method", choices=("separate", "mine"), default="mine",
                    help="mine: both from one ordering in one query (what `centric flows` uses); separate: "
                    "graph() then variants()")
    ap.add_argument("--real-xes", help="also compare `centric flows` with pm4py on this real XES log (needs "
                    "--pm4py-python), e.g. the helpdesk log")
    ap.add_argument("--ours", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ours:
        print(json.dumps(run_ours(args.file, args.threads, args.memory_limit, args.method)))
        return
    if args.real_xes and args.pm4py_python:
        real_log(args.real_xes, args.pm4py_python, args.timeout)
    path = Path(args.file)
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = path.with_suffix(f".{args.cases}.done")
    if not marker.exists():
        t = time.perf_counter()
        n = generate(path, args.cases)
        marker.write_text(str(n))
        print(f"generated {n:,} events of {args.cases:,} cases in {time.perf_counter() - t:.1f} s → {path}")
    n_events = int(marker.read_text())
    def me(file: Path) -> list[str]:
        return [sys.executable, __file__, "--ours", "--file", str(file), "--threads", str(args.threads),
                "--memory-limit", args.memory_limit, "--method", args.method]

    ours = contender(me(path), args.timeout)
    print(f"\n{n_events:,} events, {args.cases:,} cases, {args.threads} DuckDB threads; the machine was "
          f"{'busy' if os.getloadavg()[0] > 1.5 else 'quiet'} (load {os.getloadavg()[0]:.1f})")
    print(f"{'contender':52} {'seconds':>8} {'peak MB':>8}")
    if ours:
        print(f"{'centric.flows (' + args.method + '): graph + medians + variants':52} {ours['seconds']:8.2f} "
              f"{ours['peak_mb']:8.0f}")
        goal = ours["seconds"] < 10 and ours["peak_mb"] < 2048
        print(f"goal < 10 s and < 2 GB: {'met' if goal else 'NOT met'}")
    if not args.pm4py_python:
        return
    ref_file, mine_slice = path, None
    if args.pm4py_cases and args.pm4py_cases < args.cases:
        ref_file = path.with_name(f"slice-{args.pm4py_cases}.parquet")
        if not ref_file.exists():
            slice_file(path, ref_file, args.pm4py_cases)
        mine_slice = contender(me(ref_file), args.timeout)
    ref = contender([args.pm4py_python, "-c", PM4PY_SCRIPT, str(ref_file), "0"], args.timeout)
    label = f"pm4py on {args.pm4py_cases:,} cases" if ref_file != path else "pm4py"
    if ref is None:
        print(f"{label:52} did not finish within {args.timeout:.0f} s (or failed)")
    else:
        print(f"{label:52} {ref['seconds']:8.2f} {ref['peak_mb']:8.0f}   (read+format {ref['read_seconds']:.2f} s, "
              f"mine {ref['mine_seconds']:.2f} s, {ref['events']:,} events)")
        if ref_file != path and mine_slice:
            print(f"{'centric.flows on the same slice':52} {mine_slice['seconds']:8.2f} {mine_slice['peak_mb']:8.0f}")
    check = path.with_name(f"check-{args.check_cases}.parquet")
    if not check.exists():
        slice_file(path, check, args.check_cases)
    a = contender(me(check), args.timeout)
    b = contender([args.pm4py_python, "-c", PM4PY_SCRIPT, str(check), "0"], args.timeout)
    if a and b:
        diffs = same(a, b)
        print(f"\nequality on {args.check_cases:,} cases ({a['events']:,} events, {len(a['edges'])} edges, "
              f"{len(a['variants']):,} variants): " + ("identical graph, start/end, variants and edge medians"
                                                      if not diffs else "DIFFERENT: " + ", ".join(diffs)))


if __name__ == "__main__":
    main()
