"""The closed loop at scale: 1,000,000 signals turned into cases, every clock computed, escalation applied and
the case metrics computed — in one fresh process, its wall time and peak memory next to the goal — and
`centric sla due` on 1,000,000 lines (benchmarks/sla.py, run beside it).

    python benchmarks/cases.py [--signals 1000000] [--customers 400000] [--skip-sla]

The store (built first, not timed, in SQL straight into a DuckDB file): customers; complaints (30%), negative
reviews and social posts about our brand (20%) and detractor survey answers (50%) over two years, each text
with what `centric analyze` would have stored (an analysis and one mention of one of the retail factors), so
the run needs no text models; a routing table with ten departments of twenty agents and the bundled service-
level policy.

Timed, in a fresh process: `centric.cases.sync` (find the signals, one case per customer × factor × window,
route, write cases, events, signals and every clock in one transaction) and the case metrics over the case
events (`centric.metrics.case_metrics`: complaint figures, clock shares, backlog age, repeat complaints, root
causes) — the goal (issue): under 60 s and under 2 GB on 2 cores. Then, in another process,
`centric.cases.escalation.tick` on the same store, where every case is open and late (nobody has worked any):
every clock again, a breach per late clock and every escalation level — the worst case a scheduler can meet,
reported beside the goal. And `centric sla due` on 1,000,000 lines: goal under 10 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak import PEAK  # the timed processes' own peak memory (benchmarks/peak.py)

GOAL_SECONDS, GOAL_MB = 60.0, 2048.0
FACTORS = ["delivery", "installation", "product_quality", "price", "staff", "returns", "website", "call_centre",
           "availability", "payment", "store"]
NOW = "2026-10-31 23:00:00"


def routing_toml() -> str:
    depts = ["delivery", "installation", "service", "sales", "stores", "returns", "e-commerce", "customer_service",
             "finance", "triage"]
    lines = ['default_department = "customer_service"', 'triage_department = "triage"']
    for d in depts:
        agents = ", ".join(f'"{d[:3]}.{i:02d}"' for i in range(20))
        lines += [f'[departments."{d}"]', f"agents = [{agents}]", f'lead = "{d[:3]}.lead"', 'manager = "manager"']
    return "\n".join(lines) + "\n"


def build(path: Path, n: int, customers: int) -> None:
    import duckdb

    from centric.store import Store

    Store.open(path).close()  # the schema
    con = duckdb.connect(str(path))
    n_c, n_s, n_r = int(n * 0.3), int(n * 0.2), n - int(n * 0.3) - int(n * 0.2)
    f_list = "[" + ", ".join(f"'{f}'" for f in FACTORS) + "]"
    con.execute(f"""INSERT INTO customers (customer_id, name, country, language, first_seen_at)
        SELECT printf('C%07d', i), 'Customer ' || i, 'PL', 'pl', TIMESTAMP '2024-01-01'
        FROM range(1, {customers} + 1) t(i)""")
    con.execute(f"""INSERT INTO feedback (feedback_id, customer_id, source, brand, posted_at, text, language, channel,
                                           author)
        SELECT printf('F%08d', i), CASE WHEN i % 10 = 0 THEN NULL ELSE printf('C%07d', 1 + hash(i) % {customers}) END,
               CASE WHEN i < {n_c} THEN 'complaint' WHEN i % 2 = 0 THEN 'social' ELSE 'review' END, 'ours',
               TIMESTAMP '2024-11-01' + to_seconds(CAST(hash(i * 7) % (730 * 86400) AS BIGINT)),
               'The parcel came late and nobody called back ' || i, 'pl',
               CASE WHEN i < {n_c} THEN 'email' ELSE 'social' END, 'author' || (hash(i * 3) % 100000)
        FROM range(0, {n_c + n_s}) t(i)""")
    con.execute(f"""INSERT INTO responses (response_id, customer_id, survey, responded_at, channel, touchpoint, nps,
                                            comment, language)
        SELECT printf('R%08d', i), printf('C%07d', 1 + hash(i * 11) % {customers}), 'post-delivery',
               TIMESTAMP '2024-11-01' + to_seconds(CAST(hash(i * 13) % (730 * 86400) AS BIGINT)), 'email',
               'delivery', CAST(hash(i) % 7 AS INTEGER),
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'Delivery was late ' || i END, 'pl'
        FROM range(0, {n_r}) t(i)""")
    for table, key, text in (("feedback", "feedback_id", "text"), ("responses", "response_id", "comment")):
        con.execute(f"""INSERT INTO text_analyses (source, text_id, taxonomy, language, sentiment, score, flags,
                                                    analyzed_at)
            SELECT '{table}', {key}, 'retail', 'pl', 'negative', -0.7, '[]', TIMESTAMP '{NOW}'
            FROM {table} WHERE {text} IS NOT NULL""")
        con.execute(f"""INSERT INTO mentions (source, text_id, sentence, factor, sentiment, score, confidence,
                                               taxonomy, language)
            SELECT '{table}', {key}, 0, list_extract({f_list}, 1 + CAST(hash({key}) % {len(FACTORS)} AS INTEGER)),
                   'negative', -0.7, 0.9, 'retail', 'pl'
            FROM {table} WHERE {text} IS NOT NULL AND hash({key}) % 10 <> 0""")  # a tenth with no factor: triage
    con.close()
    with Store.open(path) as store, store.transaction() as c:
        from centric.cases import config

        config.save(c, "routing", routing_toml(), "benchmark routing", now=_now())
        con = store.con
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("customers", "feedback", "responses", "text_analyses", "mentions")}
    print("store:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def _now():
    import datetime as dt

    return dt.datetime.fromisoformat(NOW)


RUN = PEAK + """
import json, sys, time, datetime as dt
t0, c0 = time.perf_counter(), time.process_time()
from centric.store import Store
from centric import metrics
now = dt.datetime.fromisoformat(sys.argv[2])
out = {}
def timed(name, f):
    t, c = time.perf_counter(), time.process_time()
    r = f()
    out[name], out[name + "_cpu"] = time.perf_counter() - t, time.process_time() - c
    return r
with Store.open(sys.argv[1]) as store:
    if sys.argv[3] == "loop":
        from centric.cases.sync import sync
        r = timed("sync", lambda: sync(store, now=now, proactive=False))
        out["signals"], out["opened"], out["joined"] = r.signals, r.opened, r.joined
        timed("metrics", lambda: metrics.case_metrics(store, ("department",), as_of=now))
        out["cases"] = store.count("cases"); out["clocks"] = store.count("case_clocks")
        out["events"] = store.count("case_events")
    else:
        from centric.cases.escalation import tick
        k = timed("tick", lambda: tick(store, now=now))
        out["breaches"], out["escalations"] = k.breaches, k.escalated
out["total"], out["total_cpu"] = time.perf_counter() - t0, time.process_time() - c0
out["peak_mb"] = peak_mb()
print(json.dumps(out))
"""


def _run(db: Path, step: str) -> dict:
    res = subprocess.run([sys.executable, "-c", RUN, str(db), NOW, step], capture_output=True, text=True)
    if res.returncode:
        sys.exit(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=400_000)
    ap.add_argument("--skip-sla", action="store_true", help="Do not run benchmarks/sla.py beside it.")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cases.duckdb"
        t = time.perf_counter()
        build(db, a.signals, a.customers)
        print(f"built in {time.perf_counter() - t:.1f} s (not timed below)")
        r = _run(db, "loop")
        k = _run(db, "tick")
    print(f"\n{r['signals']:,} signals → {r['opened']:,} cases ({r['joined']:,} signals joined an open one); "
          f"{r['events']:,} case events, {r['clocks']:,} clocks")
    print(f"{'step':<62}{'seconds':>9}{'cpu s':>9}")
    for k_, label in (("sync", "cases sync (signals → cases, routing, events, every clock)"),
                      ("metrics", "case metrics by department (clocks, backlog, repeats, causes)")):
        print(f"{label:<62}{r[k_]:>9.1f}{r[k_ + '_cpu']:>9.1f}")
    ok = r["total"] < GOAL_SECONDS and r["peak_mb"] < GOAL_MB
    print(f"{'the loop, one process (imports included)':<62}{r['total']:>9.1f}{r['total_cpu']:>9.1f}"
          f"   peak {r['peak_mb']:,.0f} MB")
    print(f"{'goal':<62}{GOAL_SECONDS:>9.1f}{'':>9}   peak {GOAL_MB:,.0f} MB   → {'met' if ok else 'NOT met'}")
    print(f"\nthen cases tick in its own process (every case is open and late: {k['breaches']:,} breaches and "
          f"{k['escalations']:,} escalations recorded)")
    print(f"{'cases tick, one process (imports included)':<62}{k['total']:>9.1f}{k['total_cpu']:>9.1f}"
          f"   peak {k['peak_mb']:,.0f} MB")
    if not a.skip_sla:
        print("\ncentric sla due on 1,000,000 lines (benchmarks/sla.py):", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("sla.py")), "--sample", "2000"], check=True)


if __name__ == "__main__":
    main()
