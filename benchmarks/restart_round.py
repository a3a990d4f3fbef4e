"""The first seconds of a restarted ``centric serve`` under a stream of survey answers, in-process (no HTTP).

    python benchmarks/restart_round.py [--placed 15000] [--backlog 10000] [--comments 0.1] [--rate 1000]
                                       [--seconds 15] [--burn-ms 0.2]

What ``benchmarks/survey_load.py`` meets after its SIGKILL: a store whose last ``--backlog`` answers (10% with
a comment) were stored by the intake but neither analysed nor placed in cases (the process died before its
scheduler got to them), ``--placed`` answers before them that were. The app is then started again as
``centric serve`` starts it (``create_app(db, scheduler=True)`` and its lifespan, so the scheduler's first round
and the start-up work run as they do there), and from the moment it would accept requests an event loop in this
process submits ``--rate`` answers a second to its intake for ``--seconds`` s (each request also burns
``--burn-ms`` of the loop's CPU: what the HTTP side and the route cost the served process per answer).

Printed: the seconds until the app would accept requests; each background step the scheduler logged (wall and
CPU seconds of its thread); the answers' latency from when each was due (p50 / p99 / max) over the whole run and
while the first round ran; and the waits of a thread beside them that sleeps 1 ms at a time (how late it woke:
the interpreter's lock held by someone else, or no core free). The CPU seconds are what a busy host changes least;
the latencies and stalls move with the host's load (printed before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sync_round import Stalls  # noqa: E402

COMMENTS = ["Fast delivery, thank you", "The courier was late and rude", "Package damaged", "Great service"]


def prepare(db: Path, n: int) -> tuple[str, list[int]]:
    """A new store with the load test's NPS survey and ``n`` open invitations; (survey id, invitation ids)."""
    from centric.store import Store
    from centric.surveys import from_dict, repo

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with Store.open(db) as store:
        sid = repo.add(store, from_dict({"slug": "load-test", "name": "Load test", "kind": "nps",
                                         "touchpoint": "delivery", "branding": {"company": "Load"}}))
        with store.transaction() as con:
            con.execute(
                "INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, email, language, created_at, "
                "expires_at) SELECT i, ?, 'C' || lpad(CAST(i AS VARCHAR), 7, '0'), NULL, 'en', ?, ? "
                "FROM range(1, ?) t(i)", [sid, now, now + dt.timedelta(days=30), n + 1])
        store.con.execute("CHECKPOINT")
    ids = list(range(1, n + 1))
    random.Random(1).shuffle(ids)
    return sid, ids


def fields(rng: random.Random, comments: float) -> dict[str, str]:
    f = {"score": str(rng.randint(0, 10))}
    if rng.random() < comments:
        f["comment"] = rng.choice(COMMENTS)
    return f


def store_answers(db: Path, ids: list[int], comments: float, rng: random.Random) -> None:
    """The answers of ``ids`` through a served app's intake (no scheduler), as fast as it takes them."""
    from centric.surveys.intake import Submission
    from centric.web import create_app

    app = create_app(str(db), scheduler=False)

    async def run():
        async with app.router.lifespan_context(app):
            intake = app.state.intake
            for k in range(0, len(ids), 2000):
                outs = await asyncio.gather(*(intake.asubmit(Submission("invited", invitation_id=i,
                                                                        fields=fields(rng, comments)))
                                              for i in ids[k:k + 2000]))
                bad = [o for o in outs if o.status != "stored"]
                if bad:
                    sys.exit(f"not stored: {bad[:3]}")

    asyncio.run(run())


class Steps(logging.Handler):
    """The scheduler's and the start-up's log lines, with when they were written."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((time.perf_counter(), record.getMessage()))


class Dumping(Stalls):
    """The waits, and each time one passes ``limit`` seconds, every thread's stack written to ``path`` by
    faulthandler's watchdog (a thread of its own that needs no interpreter lock): what held it."""

    def __init__(self, limit: float, path: Path):
        super().__init__()
        self.limit, self.path = limit, path

    def run(self) -> None:
        import faulthandler

        with open(self.path, "w") as f:
            last = time.perf_counter()
            while not self.stop.is_set():
                faulthandler.dump_traceback_later(self.limit, file=f)
                time.sleep(0.001)
                faulthandler.cancel_dump_traceback_later()
                now = time.perf_counter()
                self.delays.append(now - last - 0.001)
                if now - last > self.limit:
                    f.write(f"--- the wait above: {(now - last) * 1000:.0f} ms\n")
                    f.flush()
                last = now


def burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def restart(db: Path, ids: list[int], args, rng: random.Random) -> dict:
    from centric.surveys.intake import Submission
    from centric.web import create_app
    from centric.web import scheduler as background

    steps = Steps()
    lg = logging.getLogger("centric.web")
    lg.addHandler(steps)
    lg.setLevel(logging.INFO)
    lat: list[tuple[float, float]] = []  # (due, latency)
    out: dict = {}

    async def run():
        t0 = time.perf_counter()
        app = create_app(str(db), scheduler=True)
        async with app.router.lifespan_context(app):
            out["accept_s"] = time.perf_counter() - t0
            intake = app.state.intake
            stalls = Stalls() if not args.dump_ms else Dumping(args.dump_ms / 1000, Path(args.dump_to))
            stalls.start()
            start = time.perf_counter() + 0.05
            out["start"] = start
            interval = 1.0 / args.rate
            tasks = []

            async def one(inv: int, due: float):
                burn(args.burn_ms / 1000)
                o = await intake.asubmit(Submission("invited", invitation_id=inv, fields=fields(rng, args.comments)))
                if o.status != "stored":
                    raise SystemExit(f"not stored: {o}")
                lat.append((due, time.perf_counter() - due))

            for k, inv in enumerate(ids[:int(args.rate * args.seconds)]):
                due = start + k * interval
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(asyncio.ensure_future(one(inv, due)))
            await asyncio.gather(*tasks)
            stalls.stop.set()
            stalls.join()
            out["stalls"] = stalls
            sched = background.running()
            out["rounds"] = sched.rounds if sched else 0
            while not app.state.ready.is_set():  # the start-up work's end, before the lifespan closes
                await asyncio.sleep(0.1)
            out["ready_s"] = time.perf_counter() - t0

    asyncio.run(run())
    out["lat"] = lat
    out["steps"] = steps.lines
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--placed", type=int, default=15_000, help="answers stored and processed before the restart")
    ap.add_argument("--backlog", type=int, default=10_000, help="answers stored but not processed before it")
    ap.add_argument("--comments", type=float, default=0.1)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--burn-ms", type=float, default=0.2, help="the loop's CPU per answer besides the intake")
    ap.add_argument("--dump-ms", type=float, help="write every thread's stack when a wait passes this many ms")
    ap.add_argument("--dump-to", default="stalls.txt", help="where (with --dump-ms)")
    ap.add_argument("--restart", nargs=2, help=argparse.SUPPRESS)  # DB and the file of the ids left: the restart
    args = ap.parse_args()
    if args.restart:  # in a process of its own, as after a SIGKILL: nothing loaded yet
        ids = [int(x) for x in Path(args.restart[1]).read_text().split()]
        return report(restart(Path(args.restart[0]), ids, args, random.Random(4)))
    import centric
    from centric.web.hub import Hub
    from centric.web.scheduler import Scheduler

    print(f"code: {Path(centric.__file__).parent}")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    rng = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="centric-restart-") as tmp:
        db = Path(tmp) / "centric.duckdb"
        n = args.placed + args.backlog + int(args.rate * args.seconds)
        _, ids = prepare(db, n)
        t = time.perf_counter()
        store_answers(db, ids[:args.placed], args.comments, rng)
        hub = Hub(str(db))
        try:
            Scheduler(hub).run_once()  # the stream so far: analysed, placed, ticked
        finally:
            hub.close()
        store_answers(db, ids[args.placed:args.placed + args.backlog], args.comments, rng)
        print(f"store: {args.placed:,} answers processed, {args.backlog:,} waiting ({time.perf_counter() - t:.0f} s "
              f"to make); then {args.rate:,.0f}/s for {args.seconds:.0f} s, {args.burn_ms} ms of the loop's CPU each")
        left = Path(tmp) / "left.txt"
        left.write_text(" ".join(map(str, ids[args.placed + args.backlog:])))
        subprocess.run([sys.executable, __file__, "--restart", str(db), str(left), "--rate", str(args.rate),
                        "--seconds", str(args.seconds), "--burn-ms", str(args.burn_ms), "--comments",
                        str(args.comments)] + (["--dump-ms", str(args.dump_ms), "--dump-to", str(Path(args.dump_to).resolve())]
                                               if args.dump_ms else []), check=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def report(r: dict) -> None:
    start = r["start"]
    print(f"would accept requests after {r['accept_s']:.2f} s; ready after {r['ready_s']:.1f} s; "
          f"scheduler rounds {r['rounds']}")
    first_end = None
    for t, line in r["steps"]:
        if "background" in line or "start-up" in line:
            print(f"  at {t - start:6.2f} s: {line}")
            if first_end is None and "background webhooks" in line:
                first_end = t
    lat = r["lat"]
    every = [x for _, x in lat]
    print(f"answers: {len(every):,}; latency p50 / p99 / max {pct(every, .5):.1f} / {pct(every, .99):.1f} / "
          f"{pct(every, 1):.0f} ms")
    if first_end is not None:
        during = [x for d, x in lat if d <= first_end]
        after = [x for d, x in lat if d > first_end]
        print(f"  due before the first round ended ({first_end - start:.1f} s): {len(during):,}, p99 "
              f"{pct(during, .99):.1f} ms, max {pct(during, 1):.0f} ms; after it: {len(after):,}, p99 "
              f"{pct(after, .99):.1f} ms")
    s = r["stalls"].summary()
    print(f"thread beside it, waits: max {s['max_ms']:.0f} / p99 {s['p99_ms']:.1f} / mean {s['mean_ms']:.2f} ms, "
          f"over 20 ms {s['over_20ms']}, over 50 ms {s['over_50ms']}")


if __name__ == "__main__":
    main()
