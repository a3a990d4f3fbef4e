"""One round of the web scheduler's case sync, in-process, on a copy of a store with fresh detractors added.

    python benchmarks/sync_round.py [--db centric-demo/centric.duckdb] [--placed 25000] [--fresh 5000]
                                    [--others 4000] [--repeat 3]

What a survey stream leaves for the scheduler (``benchmarks/survey_load.py`` wakes it every ≤ 10 s): answers
to an NPS survey from customers C0000001 … (touchpoint delivery, no comment). First ``--placed`` answers
(detractors and others alike) are added and synced — the signals of the stream so far, already in cases; then
``--fresh`` new detractors (NPS 0–6) and ``--others`` new passives and promoters, and one round of the
scheduler's sync step (``Scheduler.run_once(("sync",))`` through a ``Hub``, as ``centric serve`` runs it) is
timed: wall seconds, CPU seconds of the thread, and the longest stretch another thread waited for the
interpreter — a thread that sleeps 1 ms at a time records how late it woke (the wait of a request that wants
the interpreter while the sync holds it). Then a round with nothing new (the scheduler's rounds between two
bursts). Each figure is over ``--repeat`` fresh copies; the code measured is the one on ``PYTHONPATH``, so
the baseline is the same script run with the earlier code (printed side by side in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "centric-demo" / "centric.duckdb"


class Stalls(threading.Thread):
    """Sleeps 1 ms at a time and records how much later than that it woke up."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.delays: list[float] = []

    def run(self) -> None:
        last = time.perf_counter()
        while not self.stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            self.delays.append(now - last - 0.001)
            last = now

    def summary(self) -> dict:
        d = sorted(self.delays) or [0.0]
        return {"max_ms": d[-1] * 1000, "p99_ms": d[int(0.99 * (len(d) - 1))] * 1000,
                "mean_ms": sum(d) / len(d) * 1000,
                "over_20ms": sum(x > 0.020 for x in d), "over_50ms": sum(x > 0.050 for x in d)}


def add_answers(db: Path, first: int, detractors: int, others: int, seed: int) -> None:
    """``detractors`` NPS 0–6 and ``others`` NPS 7–10 answers, one per customer, just before now, in random
    order (as a stream leaves them)."""
    import numpy as np
    import pandas as pd

    from centric.store import Store

    rng = np.random.default_rng(seed)
    n = detractors + others
    nps = np.concatenate([rng.integers(0, 7, detractors), rng.integers(7, 11, others)])
    rng.shuffle(nps)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ids = np.arange(first, first + n)
    rows = pd.DataFrame({
        "response_id": [f"SVL-{i:07d}" for i in ids], "customer_id": [f"C{i % 20_000 + 1:07d}" for i in ids],
        "survey": "load-test", "responded_at": pd.Timestamp(now) - pd.to_timedelta(n - np.arange(n), unit="ms"),
        "channel": "web", "touchpoint": "delivery", "nps": nps.astype("int32"), "language": "en"})
    with Store.open(db) as store, store.transaction() as con:
        con.register("_bench_rows", rows)
        con.execute("INSERT INTO responses (response_id, customer_id, survey, responded_at, channel, touchpoint, nps, "
                    "language) SELECT response_id, customer_id, survey, responded_at, channel, touchpoint, nps, "
                    "language FROM _bench_rows")
        con.unregister("_bench_rows")


def timed_round(sched) -> dict:
    """The sync step in a thread of its own at the scheduler's priority (nice 10), as ``centric serve`` runs it."""
    from centric.web.scheduler import lower_priority

    stalls = Stalls()
    stalls.start()
    time.sleep(0.01)
    out = {}

    def step():
        lower_priority()
        w0, c0 = time.perf_counter(), time.thread_time()
        out["round"] = sched.run_once(("sync",))
        out["wall"], out["cpu"] = time.perf_counter() - w0, time.thread_time() - c0

    t = threading.Thread(target=step)
    t.start()
    t.join()
    r, wall, cpu = out["round"], out["wall"], out["cpu"]
    stalls.stop.set()
    stalls.join()
    if r.errors:
        sys.exit(f"the sync failed: {r.errors}")
    res = r.results["sync"]
    return {"wall_s": wall, "cpu_s": cpu, "signals": res.signals, "opened": res.opened, **stalls.summary()}


def one(args, work: Path, k: int) -> tuple[dict, dict]:
    from centric.web.hub import Hub
    from centric.web.scheduler import Scheduler

    db = work / f"store{k}.duckdb"
    shutil.copyfile(args.db, db)
    half = args.placed // 2
    add_answers(db, 1, half, args.placed - half, seed=k)
    hub = Hub(str(db))
    try:
        Scheduler(hub).run_once(("sync",))  # the stream so far: placed
    finally:
        hub.close()
    add_answers(db, args.placed + 1, args.fresh, args.others, seed=100 + k)
    hub = Hub(str(db))
    try:
        sched = Scheduler(hub)
        busy = timed_round(sched)
        idle = timed_round(sched)
    finally:
        hub.close()
    return busy, idle


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=str(DEMO), help="the store copied for each run (never written)")
    p.add_argument("--placed", type=int, default=25_000, help="answers added and synced before the timed round")
    p.add_argument("--fresh", type=int, default=5_000, help="new detractors (NPS 0-6) for the timed round")
    p.add_argument("--others", type=int, default=4_000, help="new passives and promoters for the timed round")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--slice", type=int, help="the scheduler's SYNC_SLICE (default: the code's)")
    p.add_argument("--pause", type=float, help="the scheduler's SYNC_PAUSE in seconds (default: the code's)")
    args = p.parse_args()
    import centric
    from centric.web import scheduler

    for name, value in (("SYNC_SLICE", args.slice), ("SYNC_PAUSE", args.pause)):
        if value is not None:
            setattr(scheduler, name, value)
    print(f"slices: {getattr(scheduler, 'SYNC_SLICE', None)} signals, pause {getattr(scheduler, 'SYNC_PAUSE', None)} s")

    print(f"code: {Path(centric.__file__).parent}")
    print(f"store: {args.db}; {args.placed:,} answers placed before, then {args.fresh:,} new detractors and "
          f"{args.others:,} other answers; {args.repeat} runs")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            runs.append(one(args, Path(tmp), k))
    for name, i in (("round with the new answers", 0), ("round with nothing new", 1)):
        rs = [r[i] for r in runs]
        print(f"{name}: signals placed {rs[0]['signals']:,}, cases opened {rs[0]['opened']:,}")
        for key, unit in (("wall_s", "s"), ("cpu_s", "s"), ("max_ms", "ms"), ("p99_ms", "ms"), ("mean_ms", "ms"),
                          ("over_20ms", ""), ("over_50ms", "")):
            vals = [r[key] for r in rs]
            fmt = "{:.3f}" if unit == "s" else ("{:.1f}" if unit else "{:d}")
            print(f"  {key:<10} median {fmt.format(statistics.median(vals))}{unit}   runs "
                  + " ".join(fmt.format(v) for v in vals))


if __name__ == "__main__":
    main()
