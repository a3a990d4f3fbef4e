"""The web app under load: `centric serve` (a real uvicorn process) on loopback with the full demo store.

    python benchmarks/web.py [--db STORE] [--customers 20000] [--users 20] [--seconds 30] [--batches 10]

The store: the full demo (20,000 customers) built into a temporary folder, or a copy of --db (the copy is what
the server writes to: the users, tokens and posted rows never reach the original). A login is added for every
agent of the demo's routing table and one admin; `centric serve` is started and the time until /healthz
answers is reported, then the time until it says it is ready (its start-up work done: indexes, warm-up, the
unfiltered dashboards, the first background round). Then, measured with httpx from threads on the same machine:

- inbox and case page, first one person alone (the pages' own cost), then ``--users`` concurrent people
  (agents of several departments and an admin, each signed in through the form) each asking, for ``--seconds``,
  for their inbox and one of their cases in turn, reading each for ``--think`` seconds (on average; 0: no pause,
  a stress test) — p50 and p95 of each page; goal p95 under 150 ms for both;
- dashboards: /dashboards as the admin, the first request and the median of the next five; goal under 1 s;
- the API: ``--batches`` batches of 500 new feedback rows posted to /api/v1/feedback one after the other, rows
  stored per second; goal at least 500.

Each figure is printed beside its goal, with the machine's load average before and after (the figures mean
little on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

PASSWORD = "bench-password-1234"
GOALS = {"inbox_p95_ms": 150.0, "case_p95_ms": 150.0, "dashboards_s": 1.0, "api_rows_per_s": 500.0}
CENTRIC = [sys.executable, "-m", "centric.cli"]


def run(db: Path, *args: str, stdin: str | None = None) -> str:
    r = subprocess.run([*CENTRIC, "--db", str(db), *args], input=stdin, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"centric {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(args, work: Path) -> Path:
    db = work / "centric.duckdb"
    if args.db:
        print(f"copying {args.db} …", flush=True)
        shutil.copyfile(args.db, db)
    else:
        print(f"building the demo store ({args.customers:,} customers) …", flush=True)
        t = time.perf_counter()
        run(db, "demo", "--dir", str(work), "--customers", str(args.customers))
        print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)
    if json.loads(run(db, "users", "list", "--json")) == []:
        run(db, "users", "add-team", "--password-stdin", stdin=PASSWORD)
        run(db, "users", "add", "admin@example.com", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    return db


def start_server(db: Path, port: int, log) -> tuple[subprocess.Popen, float]:
    t = time.perf_counter()
    proc = subprocess.Popen([*CENTRIC, "serve", "--db", str(db), "--port", str(port)], stdout=log, stderr=log)
    while time.perf_counter() - t < 120:
        if proc.poll() is not None:
            raise SystemExit(f"centric serve ended with code {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, time.perf_counter() - t
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.terminate()
    raise SystemExit("the server did not answer within 120 s")


def sign_in(base: str, email: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = c.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/inbox"})
    if r.status_code != 303:
        raise SystemExit(f"signing in as {email} failed: {r.status_code}")
    return c


def people(db: Path, n: int) -> list[dict]:
    """``n`` people: agents spread over as many departments as there are, and one admin."""
    users = json.loads(run(db, "users", "list", "--json"))
    agents = [u for u in users if u["role"] == "agent" and u["departments"]]
    by_dept: dict[str, list[dict]] = {}
    for u in agents:
        by_dept.setdefault(u["departments"][0], []).append(u)
    chosen, queues = [], [list(v) for _, v in sorted(by_dept.items())]
    while len(chosen) < n - 1 and any(queues):
        for q in queues:
            if q and len(chosen) < n - 1:
                chosen.append(q.pop(0))
    return chosen + [u for u in users if u["role"] == "admin"][:1]


def percentile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))] if v else float("nan")


def load(base: str, token: str, users: list[dict], seconds: float, think: float) -> dict[str, list[float]]:
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    clients, cases = [], []
    for u in users:
        clients.append(sign_in(base, u["email"]))
        params = {"limit": 200} | ({"department": u["departments"][0]} if u["role"] == "agent" else {})
        ids = [c["id"] for c in api.get("/api/v1/cases", params=params).json()["cases"]]
        cases.append(ids or [None])
    times: dict[str, list[float]] = {"inbox": [], "case": []}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        c, rng = clients[i], random.Random(i)
        while time.perf_counter() < stop:
            for page in ("inbox", "case"):
                case = rng.choice(cases[i])
                if page == "case" and case is None:
                    continue
                url = "/inbox" if page == "inbox" else f"/cases/{case}"
                t = time.perf_counter()
                r = c.get(url)
                dt_ = time.perf_counter() - t
                with lock:
                    (times[page] if r.status_code == 200 else errors).append(dt_ if r.status_code == 200 else
                                                                             f"{url} {r.status_code}")
                if think:
                    time.sleep(rng.uniform(0.5, 1.5) * think)

    for c in clients:  # one request each first: the first page of a process fills its caches
        c.get("/inbox")
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"  {len(errors)} requests failed, e.g. {errors[:3]}")
    return times


def dashboards(base: str, admin: str) -> tuple[float, float] | None:
    c = sign_in(base, admin)
    c.timeout = httpx.Timeout(600)
    t = time.perf_counter()
    r = c.get("/dashboards")
    if r.status_code == 404:
        return None
    first = time.perf_counter() - t
    rest = []
    for _ in range(5):
        t = time.perf_counter()
        c.get("/dashboards")
        rest.append(time.perf_counter() - t)
    return first, statistics.median(rest)


def post_rows(base: str, token: str, batches: int, size: int = 500) -> tuple[float, int]:
    c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300)
    rng = random.Random(5)
    stamp = int(time.time())
    topics = ["the courier came three days late", "the fridge arrived scratched", "the staff were very helpful",
              "the price was higher than online", "the installer did not come", "the refund took a month"]
    stored, t = 0, time.perf_counter()
    for b in range(batches):
        rows = [{"email": f"bench.{stamp}.{b}.{i}@example.com", "source": rng.choice(["complaint", "review"]),
                 "created_at": f"2026-11-{1 + i % 28:02d}T10:00:00", "channel": "web",
                 "text": f"Order {stamp}-{b}-{i}: {rng.choice(topics)}."} for i in range(size)]
        r = c.post("/api/v1/feedback", json=rows)
        if r.status_code != 201:
            raise SystemExit(f"batch {b}: {r.status_code} {r.text[:300]}")
        stored += sum(not s["duplicate"] for s in r.json()["stored"])
    return time.perf_counter() - t, stored


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="A store to copy (default: build the full demo)")
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--think", type=float, default=1.0, help="Mean seconds a person reads a page (0: none)")
    p.add_argument("--settle", type=float, default=2, help="Seconds to wait after the server says it is ready "
                   "(its start-up work done) before measuring")
    args = p.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="centric-web-bench-") as tmp:
        work = Path(tmp)
        db = prepare(args, work)
        token = run(db, "tokens", "add", "bench", "--role", "admin").strip().splitlines()[-1]
        who = people(db, args.users)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(work / "serve.log", "w") as log:
            proc, started = start_server(db, port, log)
            try:
                print(f"centric serve answered after {started:.2f} s (goal: under 5 s)", flush=True)
                print(f"{len(who)} people: " + ", ".join(f"{u['email'].split('@')[0]} ({', '.join(u['departments']) or u['role']})"
                                                          for u in who), flush=True)
                t = time.perf_counter()
                while time.perf_counter() - t < 600 and not httpx.get(f"{base}/healthz").json().get("ready"):
                    time.sleep(1)  # /healthz takes 120 requests a minute from one address
                print(f"ready (start-up work done) after {started + time.perf_counter() - t:.1f} s", flush=True)
                time.sleep(args.settle)
                alone = load(base, token, who[-1:], min(args.seconds, 10), 0)
                times = load(base, token, who, args.seconds, args.think)
                dash = dashboards(base, who[-1]["email"])
                seconds, rows = post_rows(base, token, args.batches)
            finally:
                proc.terminate()
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    print("the server did not stop within 60 s of SIGTERM: killed")
    load_after = os.getloadavg()
    n_in, n_case = len(times["inbox"]), len(times["case"])
    figures = [
        (f"inbox p95 (ms), {len(who)} users", 1000 * percentile(times["inbox"], 95), GOALS["inbox_p95_ms"], "<"),
        ("case page p95 (ms)", 1000 * percentile(times["case"], 95), GOALS["case_p95_ms"], "<"),
    ]
    print(f"\none person alone: inbox p50 {1000 * percentile(alone['inbox'], 50):.0f} ms, p95 "
          f"{1000 * percentile(alone['inbox'], 95):.0f} ms; case page p50 {1000 * percentile(alone['case'], 50):.0f} "
          f"ms, p95 {1000 * percentile(alone['case'], 95):.0f} ms")
    print(f"{len(who)} people, {args.think:g} s reading time: inbox: {n_in:,} requests, p50 {1000 * percentile(times['inbox'], 50):.0f} ms; case page: {n_case:,} "
          f"requests, p50 {1000 * percentile(times['case'], 50):.0f} ms")
    if dash:
        print(f"dashboards: first {dash[0]:.2f} s, then median {dash[1]:.2f} s")
        figures.append(("dashboards, median after the first (s)", dash[1], GOALS["dashboards_s"], "<"))
    else:
        print("dashboards: no /dashboards page in this build")
    figures.append(("API feedback rows/s (batches of 500)", rows / seconds, GOALS["api_rows_per_s"], ">"))
    print(f"API: {rows:,} rows stored in {seconds:.1f} s")
    print(f"\n{'figure':<44}{'measured':>12}{'goal':>10}  met")
    for name, value, goal, op in figures:
        met = value < goal if op == "<" else value >= goal
        print(f"{name:<44}{value:>12.1f}{op + format(goal, 'g'):>10}  {'yes' if met else 'NO'}")
    print(f"\nload average (1, 5, 15 min) before {tuple(round(x, 2) for x in load_before)}, after "
          f"{tuple(round(x, 2) for x in load_after)}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
