"""SLA engine speed: `centric sla due` on 1,000,000 clocks, end to end (file in → file out, a fresh process with
its imports), and the vectorised core alone, next to a simple per-line Python implementation timed on a sample
and extrapolated, in the same run.

    python benchmarks/sla.py [--lines 1000000] [--paused 0.2] [--sample 10000]

The clocks (ids are strings): starts spread over 2026 (so across both daylight-saving changes) in three UTC offsets, inside and
outside opening hours and on holidays, 0–3,000 minutes, and a share of them (--paused) with one to three pauses
that may overlap or begin before the start. The calendar: Europe/Warsaw, two intervals a weekday, Saturday
mornings, nine holidays.

The baseline is the way one writes it first: per line, parse with the json module, then walk forward day by
day through the local opening intervals (``datetime.combine`` with zoneinfo), subtracting pauses interval by
interval. Its answers are compared with centric's on the sample (they differ only where its simple
wall-clock-to-UTC conversion misreads a daylight-saving change, which it does not try to handle).

Goal: 1,000,000 lines end to end in under 10 s on 2 cores. Beside the wall-clock seconds the end-to-end row
prints the process's CPU seconds (user + system): on a machine busy with other work they show what the run
itself costs (pyarrow reads with both cores, so on an idle machine the wall time is lower still).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from peak import PEAK  # the end-to-end process's own peak memory (benchmarks/peak.py)

CALENDAR = """timezone = "Europe/Warsaw"
holidays = ["2026-01-01", "2026-01-06", "2026-04-06", "2026-05-01", "2026-05-03", "2026-06-04", "2026-08-15",
            "2026-11-11", "2026-12-24", "2026-12-25"]
[hours]
mon = ["08:00-12:00", "12:30-17:00"]
tue = ["08:00-12:00", "12:30-17:00"]
wed = ["08:00-12:00", "12:30-17:00"]
thu = ["08:00-12:00", "12:30-17:00"]
fri = ["08:00-12:00", "12:30-16:00"]
sat = ["09:00-13:00"]
"""
GOAL = 10.0

RUN = PEAK + """
import json, resource, sys, time
t = time.perf_counter()
from centric.cli import main
sys.argv = ["centric", "sla", "due", "--calendar", sys.argv[1], "--in", sys.argv[2], "--out", sys.argv[3]]
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": r.ru_utime + r.ru_stime,
                  "peak_mb": peak_mb()}))
"""


def generate(path: Path, lines: int, paused: float, seed: int = 5) -> None:
    rng = random.Random(seed)
    zones = [dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=2)), dt.UTC]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(lines):
        start = t0 + dt.timedelta(seconds=rng.randrange(0, 360 * 86400))
        rec = {"id": f"c-{i:07d}", "start": start.astimezone(rng.choice(zones)).isoformat(),
               "minutes": rng.randrange(0, 3001)}
        if rng.random() < paused:
            rec["pauses"] = []
            for _ in range(rng.randint(1, 3)):
                a = start + dt.timedelta(minutes=rng.randrange(-120, 3 * 1440))
                rec["pauses"].append([a.isoformat(), (a + dt.timedelta(minutes=rng.randrange(0, 2 * 1440))).isoformat()])
        out.append(json.dumps(rec))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def baseline(calendar_text: str, lines: list[str]) -> list[str]:
    """Per line: json.loads, then walk forward through local opening intervals day by day."""
    import tomllib

    cal = tomllib.loads(calendar_text)
    tz = ZoneInfo(cal["timezone"])
    holidays = {dt.date.fromisoformat(h) for h in cal["holidays"]}
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    hours = {days.index(d): [tuple(dt.time.fromisoformat(x) for x in s.split("-")) for s in v]
             for d, v in cal["hours"].items()}
    out = []
    for line in lines:
        rec = json.loads(line)
        start = dt.datetime.fromisoformat(rec["start"]).astimezone(dt.UTC)
        left = dt.timedelta(minutes=rec["minutes"])
        pauses = sorted((dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in rec.get("pauses", []))
        cur, day = start, start.astimezone(tz).date()
        while left:
            if day not in holidays:
                for a, b in hours.get(day.weekday(), []):
                    lo = max(dt.datetime.combine(day, a, tz).astimezone(dt.UTC), cur)
                    hi = dt.datetime.combine(day, b, tz).astimezone(dt.UTC)
                    while lo < hi and left:
                        p = next(((pa, pb) for pa, pb in pauses if pb > lo and pa < hi), None)
                        stop = hi if p is None else max(min(p[0], hi), lo)
                        take = min(stop - lo, left)
                        left -= take
                        cur = lo + take
                        lo = stop if p is None or not left else max(p[1], lo)
                    if not left:
                        break
            day += dt.timedelta(days=1)
        out.append(json.dumps({"id": rec["id"], "due": cur.isoformat()}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--paused", type=float, default=0.2, help="Share of clocks with pauses.")
    ap.add_argument("--sample", type=int, default=10_000, help="Lines the per-line baseline runs on.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cal, src, out = Path(d) / "cal.toml", Path(d) / "in.jsonl", Path(d) / "out.jsonl"
        cal.write_text(CALENDAR, encoding="utf-8")
        t = time.perf_counter()
        generate(src, args.lines, args.paused)
        print(f"generated {args.lines:,} clocks ({args.paused:.0%} with pauses) in {time.perf_counter() - t:.1f} s")

        end_to_end = json.loads(subprocess.run([sys.executable, "-c", RUN, str(cal), str(src), str(out)],
                                               capture_output=True, text=True, check=True).stdout.splitlines()[-1])

        from centric.cases.calendar import load_calendar
        from centric.cases.sla import due_many
        from centric.cases.sla_file import _read_fast, read_clocks, write_dues

        calendar = load_calendar(cal)
        t = time.perf_counter()
        read_clocks(src)
        read_lines = time.perf_counter() - t
        t = time.perf_counter()
        clocks = _read_fast(src)
        read = time.perf_counter() - t
        assert clocks is not None, "the vectorised reader did not take the file"
        t = time.perf_counter()
        dues = due_many(calendar, clocks.starts, clocks.minutes, clocks.pauses)
        core = time.perf_counter() - t
        t = time.perf_counter()
        write_dues(Path(d) / "again.jsonl", clocks.ids, dues)
        write = time.perf_counter() - t

        sample = src.read_text(encoding="utf-8").splitlines()[: args.sample]
        t = time.perf_counter()
        ref = baseline(CALENDAR, sample)
        base = (time.perf_counter() - t) * args.lines / len(sample)
        mine = out.read_text(encoding="utf-8").splitlines()[: len(sample)]
        same = sum(json.loads(a) == {"id": json.loads(b)["id"], "due": json.loads(b)["due"]}
                   for a, b in zip(mine, ref, strict=True))

    n = args.lines
    print(f"{'contender':<62} {'seconds':>8} {'lines/s':>11} {'peak MB':>8}  (cpu s)")
    print(f"{'baseline: per-line Python (json + day-by-day walk), extrapolated':<62} {base:>8.2f} {n / base:>11,.0f}")
    print(f"{'centric sla due, end to end (process, imports, read, write)':<62} {end_to_end['seconds']:>8.2f} "
          f"{n / end_to_end['seconds']:>11,.0f} {end_to_end['peak_mb']:>8.0f}  ({end_to_end['cpu_seconds']:.2f})")
    print(f"{'  of which: read and validate the JSON lines (vectorised)':<62} {read:>8.2f}")
    print(f"{'  (the line-by-line reader, used when a file needs it)':<62} {read_lines:>8.2f}")
    print(f"{'  of which: the vectorised core (due_many)':<62} {core:>8.2f} {n / core:>11,.0f}")
    print(f"{'  of which: write the JSON lines':<62} {write:>8.2f}")
    print(f"baseline and centric agree on {same:,} of {len(sample):,} sample lines")
    ok = end_to_end["seconds"] < GOAL
    print(f"end to end: {end_to_end['seconds']:.2f} s for {n:,} lines, {base / end_to_end['seconds']:.0f}x the "
          f"baseline (goal: < {GOAL:.0f} s) -> {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
