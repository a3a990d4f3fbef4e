"""Survey answers under load: the web app as a real uvicorn process on loopback, one answer per invitation link,
submitted at a fixed rate for a while; then the same with a SIGKILL of the server half-way and a restart.

    python benchmarks/survey_load.py [--rate 1000] [--seconds 60] [--connections 512] [--comments 0.1]
                                     [--route public|intake] [--no-scheduler] [--no-kill]

The store: a new one with one NPS survey and enough invitations (customers C0000001 …), or a copy of --db
(the copy is what the server writes to). Routes:

- ``public``: the product's form, ``POST /s/TOKEN`` (``centric serve``);
- ``intake``: a minimal route added by this script to the same app (token read, the form's fields handed
  to the intake, which checks them in its batch) — the floor of what a route costs.

The load generator runs in this process: asyncio with raw HTTP/1.1 keep-alive connections (a cheap client,
so that it does not eat the server's CPU; its own CPU time is printed). It is open-loop: request k of a
connection is due at a fixed time, and its latency counts from then, so a slow server is not hidden by a
generator that waits for it. Every request answers a new link, so every 200 must be a stored answer.

Printed beside each goal: answers per second acknowledged (200), p50/p99 latency, errors, CPU seconds of
the server and of the generator, and the rows in ``responses`` against the 200s; in the SIGKILL run, the
acknowledged answers missing from the store (goal 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GOALS = {"answers_per_s": 1000.0, "p99_ms": 200.0}
CENTRIC = [sys.executable, "-m", "centric.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the server ---------------------------------------------------------------------------------------------
def serve(db: str, port: int, scheduler: bool) -> None:
    """``--serve``: the web app with the minimal answer route, as ``centric serve`` runs it."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from centric.surveys import refusals, tokens
    from centric.surveys.intake import Submission
    from centric.web import create_app

    app = create_app(db, scheduler=scheduler)
    hub, intake = app.state.hub, app.state.intake
    key = hub.write(tokens.secret)
    thanks = b"<!doctype html><html lang=en><meta charset=utf-8><title>Thank you</title><p>Thank you!</p></html>"
    codes = {"stored": 200, "already": 409, "expired": 410, "closed": 410, "paused": 503}

    async def answer(request: Request):
        invitation = tokens.read(key, request.path_params["token"])
        if invitation is None:
            refusals.count(hub, None, refusals.FORGED)
            return HTMLResponse(b"not found", 404)
        form = await request.form()
        out = await intake.asubmit(Submission("invited", invitation_id=invitation, fields=form))
        return HTMLResponse(thanks, codes.get(out.status, 422 if out.error else 404))

    app.router.add_route("/load/s/{token}", answer, methods=["POST"])
    def stats() -> None:  # the server's own figures, every second, for the log (uvicorn ends by its signal)
        while True:
            time.sleep(1.0)
            print(f"intake: {intake.batches:,} batches, {intake.stored:,} answers, writer CPU {intake.cpu:.1f} s; "
                  f"process CPU {time.process_time():.1f} s", flush=True)


    threading.Thread(target=stats, daemon=True).start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False, server_header=False)


def prepare(args, work: Path) -> tuple[Path, list[tuple[int, str]]]:
    """The store with the survey and the invitations; [(invitation_id, token)]."""
    import datetime as dt

    from centric.store import Store
    from centric.surveys import from_dict, repo, tokens

    db = work / "centric.duckdb"
    if args.db:
        shutil.copyfile(args.db, db)
    need = int(args.rate * args.seconds * (2.2 if not args.no_kill else 1.1)) + 1000
    with Store.open(db) as store:
        survey = repo.get(store, "load-test")
        if survey is None:
            sid = repo.add(store, from_dict({"slug": "load-test", "name": "Load test", "kind": "nps",
                                             "touchpoint": "delivery", "branding": {"company": "Load"}}))
        else:
            sid = survey.survey_id
        first = store.con.execute("SELECT coalesce(max(invitation_id), 0) + 1 FROM survey_invitations").fetchone()[0]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with store.transaction() as con:
            con.execute(
                "INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, email, language, created_at, "
                "expires_at) SELECT i, ?, 'C' || lpad(CAST(i AS VARCHAR), 7, '0'), NULL, 'en', ?, ? "
                "FROM range(?, ?) t(i)", [sid, now, now + dt.timedelta(days=30), first, first + need])
        store.con.execute("CHECKPOINT")
        key = tokens.secret(store)
    ids = list(range(first, first + need))
    random.Random(1).shuffle(ids)  # answers come back in no particular order
    return db, [(i, tokens.make(key, i)) for i in ids]


def start(args, db: Path, port: int, log) -> subprocess.Popen:
    if args.route == "intake":
        cmd = [sys.executable, *os.environ.get("CENTRIC_LOAD_SERVER", __file__).split(), "--serve", str(db),
               "--port", str(port)]
        if args.no_scheduler:
            cmd.append("--no-scheduler")
    else:
        cmd = [*CENTRIC, "-v", "serve", "--db", str(db), "--port", str(port)] + (["--no-scheduler"] if args.no_scheduler
                                                                          else [])
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    t = time.perf_counter()
    while time.perf_counter() - t < 120:
        if proc.poll() is not None:
            raise SystemExit(f"the server ended with code {proc.returncode}; see {log.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start in 120 s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the load generator -------------------------------------------------------------------------------------
class Load:
    def __init__(self, port: int, path: str, links: list[tuple[int, str]], comments: float):
        self.port, self.path, self.comments = port, path, comments
        self.links = iter(links)
        self.latencies: list[float] = []
        self.dues: list[float] = []  # when each measured request was due (perf_counter), for the timeline
        self.acked: list[int] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.elapsed = 0.0
        self.rng = random.Random(2)

    def request(self) -> tuple[int, bytes] | None:
        nxt = next(self.links, None)
        if nxt is None:
            return None
        inv, token = nxt
        body = f"score={self.rng.randint(0, 10)}"
        if self.rng.random() < self.comments:
            body += "&comment=" + self.rng.choice(["Fast+delivery%2C+thank+you", "The+courier+was+late+and+rude",
                                                   "Package+damaged", "Great+service"])
        body_b = body.encode()
        return inv, (f"POST {self.path}{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body_b)}\r\n\r\n"
                     ).encode() + body_b

    async def connection(self, start: float, end: float, interval: float, offset: float) -> None:
        k = 0
        reader = writer = None
        while True:
            due = start + offset + k * interval
            if due >= end:
                break
            k += 1
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            req = self.request()
            if req is None:
                break
            inv, raw = req
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(raw)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                status = int(status_line.split()[1])
            except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
                self.errors += 1
                writer = None
                await asyncio.sleep(0.05)
                continue
            self.latencies.append(time.perf_counter() - due)
            self.dues.append(due)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.acked.append(inv)

    def run(self, rate: float, seconds: float, connections: int, at: float | None = None) -> None:
        interval = connections / rate

        async def main():
            start = time.perf_counter() + 0.1 if at is None else at
            await asyncio.gather(*(self.connection(start, start + seconds, interval, i * interval / connections)
                                   for i in range(connections)))
            self.elapsed = time.perf_counter() - start  # until the last answer: longer when the server lags

        asyncio.run(main())


def timeline(load: Load, start: float, notes: list[tuple[float, str]], goal_ms: float) -> None:
    """The seconds whose slowest answer missed the p99 goal (by when the answers were due), with what the
    server logged in them (``notes``: (time, line) from its log, read as it was written)."""
    worst: dict[int, list[float]] = {}
    for due, lat in zip(load.dues, load.latencies, strict=True):
        worst.setdefault(int(due - start), []).append(lat)
    slow = [(sec, v) for sec, v in sorted(worst.items()) if max(v) * 1000 > goal_ms]
    print(f"  seconds over {goal_ms:.0f} ms: {len(slow)} of {len(worst)}")
    for sec, v in slow:
        over = sum(x * 1000 > goal_ms for x in v)
        print(f"    {sec:3d} s: {over:,} of {len(v):,} answers over, slowest {max(v) * 1000:,.0f} ms")
    for t, line in notes:
        print(f"    server at {t - start:6.2f} s: {line}")


class LogTail(threading.Thread):
    """The server's log lines as they are written, each with the time it was seen."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path, self.lines, self.stop = path, [], threading.Event()
        self.offset = path.stat().st_size if path.exists() else 0

    def run(self) -> None:
        while not self.stop.wait(0.02):
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
            cut = data.rfind(b"\n") + 1
            self.offset += cut
            now = time.perf_counter()
            self.lines += [(now, x) for x in data[:cut].decode("utf-8", "replace").splitlines() if x.strip()]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def stored(db: Path, acked: list[int]) -> tuple[int, int]:
    """(rows of the load-test survey in responses, acknowledged answers among them)."""
    import pyarrow as pa

    from centric.store import Store

    with Store.open(db) as store:
        total = store.con.execute("SELECT count(*) FROM responses WHERE survey = 'load-test'").fetchone()[0]
        store.con.register("acked", pa.table({"rid": [f"SVR-{i}" for i in acked]}))
        found = store.con.execute("SELECT count(*) FROM responses r JOIN acked a ON r.response_id = a.rid"
                                  ).fetchone()[0]
    return int(total), int(found)


def report(name: str, load: Load, server_cpu: float, gen_cpu: float) -> None:
    ok, seconds = len(load.acked), load.elapsed
    print(f"\n{name} ({seconds:.0f} s until the last answer)")
    print(f"  answers acknowledged (200)   {ok:>9,}  {ok / seconds:>8,.0f}/s   goal ≥ {GOALS['answers_per_s']:,.0f}/s")
    print(f"  latency p50 / p99 / max      {pct(load.latencies, .5):>7.1f} / {pct(load.latencies, .99):.1f} / "
          f"{pct(load.latencies, 1):.0f} ms   goal p99 < {GOALS['p99_ms']:.0f} ms")
    print(f"  statuses {dict(sorted(load.statuses.items()))}, connection errors {load.errors}")
    print(f"  CPU: server {server_cpu:.1f} s ({server_cpu / seconds:.2f} cores), generator {gen_cpu:.1f} s "
          f"({gen_cpu / seconds:.2f} cores)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=1000.0, help="answers per second offered")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--connections", type=int, default=512, help="connections, each with one request at a time: "
                    "enough for the rate at the latency goal (1,000/s × 0.2 s = 200 in flight)")
    ap.add_argument("--comments", type=float, default=0.1, help="share of answers with a comment")
    ap.add_argument("--route", choices=("public", "intake"), default="public")
    ap.add_argument("--db", help="a store to copy (default: a new one)")
    ap.add_argument("--no-scheduler", action="store_true", help="serve without the background scheduler")
    ap.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve, args.port, not args.no_scheduler)
    path = "/s/" if args.route == "public" else "/load/s/"
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="centric-survey-load-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        db, links = prepare(args, work)
        print(f"store with {len(links):,} invitations ready in {time.perf_counter() - t:.0f} s; route {path}TOKEN, "
              f"{args.rate:,.0f}/s offered for {args.seconds:.0f} s over {args.connections} connections, "
              f"scheduler {'off' if args.no_scheduler else 'on'}", flush=True)
        half = len(links) // 2 if not args.no_kill else len(links)
        with open(work / "server.log", "w") as log:
            port = free_port()
            proc = start(args, db, port, log)
            time.sleep(1.0)
            Load(port, path, links[half - 500:half], 0.5).run(200, 2.5, 8)  # warm up (not measured)
            load = Load(port, path, links[:half - 500], args.comments)
            c0, g0 = cpu_seconds(proc.pid), resource.getrusage(resource.RUSAGE_SELF)
            load.run(args.rate, args.seconds, args.connections)
            g1 = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = cpu_seconds(proc.pid) - c0
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            report("steady run", load, server_cpu,
                   (g1.ru_utime + g1.ru_stime) - (g0.ru_utime + g0.ru_stime))
            own = [line for line in (work / "server.log").read_text().splitlines() if line.startswith("intake:")]
            if own:  # the minimal route's server reports its intake
                print("  server: " + own[-1])
            total, found = stored(db, load.acked)
            ours = total - 500  # less the warm-up's
            print(f"  rows stored {ours:,} = 200s {len(load.acked):,}: {'yes' if ours == len(load.acked) else 'NO'}")
            if args.no_kill:
                return
            port = free_port()
            proc = start(args, db, port, log)
            time.sleep(1.0)
            before = total
            kill = Load(port, path, links[half:], args.comments)
            kill_at = time.perf_counter() + 0.1 + args.seconds / 2

            def killer():
                time.sleep(max(0.0, kill_at - time.perf_counter()))
                os.kill(proc.pid, signal.SIGKILL)

            threading.Thread(target=killer, daemon=True).start()
            kill.run(args.rate, args.seconds / 2, args.connections)
            proc.wait(10)
            print(f"\nSIGKILL after {args.seconds / 2:.0f} s: {len(kill.acked):,} answers acknowledged, "
                  f"{kill.errors:,} requests cut off or refused while the server was down")
            tail = LogTail(work / "server.log")  # from before the start: the models' loading is logged then
            tail.start()
            t = time.perf_counter()
            proc = start(args, db, port, log)
            print(f"restarted: the server took requests after {time.perf_counter() - t:.1f} s")
            time.sleep(1.0)
            rest = Load(port, path, [], args.comments)
            rest.links = kill.links  # the links not used yet
            rest_start = time.perf_counter() + 0.1
            rest.run(args.rate, args.seconds / 2, args.connections, at=rest_start)
            tail.stop.set()
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            acked = kill.acked + rest.acked
            total, found = stored(db, acked)
            print(f"after the restart, {args.seconds / 2:.0f} s more: {len(rest.acked):,} acknowledged in "
                  f"{rest.elapsed:.0f} s (p99 {pct(rest.latencies, .99):.0f} ms)")
            timeline(rest, rest_start, [(t, x) for t, x in tail.lines
                                        if "background" in x or "start-up" in x or "rror" in x],
                     GOALS["p99_ms"])
            print(f"  acknowledged {len(acked):,}, of them stored {found:,}, missing {len(acked) - found:,} "
                  f"(goal 0); rows added {total - before:,} (stored but not acknowledged: the requests cut off "
                  f"by the kill, {total - before - found:,})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
