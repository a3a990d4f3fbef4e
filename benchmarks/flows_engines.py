"""User flows of a journey on DuckDB and on PostgreSQL, side by side in one run: what the web app's ``/flows``
page computes on its first request (default choices: the graph and the variants, the Sankey from the most
common first step, the loops) and what ``centric flows --journey J --json`` computes (the graph and the
variants), on a store and its copy in PostgreSQL, with the answers compared.

    python benchmarks/flows_engines.py [--db centric-demo/centric.duckdb] [--journey purchase] [--runs 5]
                                       [--postgres URL]

The store is copied to a temporary file (never written to), then into a new PostgreSQL database with
``centric store copy``; without ``--postgres`` a throwaway server is started from Debian's binaries (as
``tests/pg.py`` does for the tests) with its default memory settings. Both stores are opened read-only, as
the web app's readers are (on PostgreSQL a read-only session, which can make no temporary table). The runs
alternate between the engines; the load average is printed at each, as the host may be shared. The page's
figure is ``centric.web.pages.flows._compute`` (what the page caches), without the HTTP and the template.

Goal: PostgreSQL within 3× of DuckDB, the answers equal (counts exactly, median seconds to 1e-9).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def same(a, b, path: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ (floats to 1e-9 relative), as paths."""
    if is_dataclass(a) and is_dataclass(b):
        return same(asdict(a), asdict(b), path)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=str(ROOT / "centric-demo" / "centric.duckdb"))
    ap.add_argument("--journey", default=None, help="default: the journey with the most events")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--postgres", default=None, help="a server's database URL to copy into (default: a throwaway "
                                                      "server)")
    args = ap.parse_args()

    from centric.engines.copy import copy_store
    from centric.engines.postgres import PgStore
    from centric.flows import journey_log, mine
    from centric.flows.summary import journey_names
    from centric.store import Store
    from centric.web.pages.flows import _compute

    folder = Path(tempfile.mkdtemp(prefix="flows-engines-"))
    db = folder / "store.duckdb"
    shutil.copyfile(args.db, db)
    server = None
    url = args.postgres
    if url is None:
        from tests.pg import start_server

        server = start_server()
        pg_server = next(server)
        url = pg_server.url(pg_server.create_database())
    try:
        t = time.perf_counter()
        with Store.open(db) as source:
            copy_store(source, url)
        print(f"copied {args.db} into PostgreSQL in {time.perf_counter() - t:.1f} s")
        duck = Store.open(db, read_only=True)
        pg = PgStore.open(url, read_only=True)
        journey = args.journey or journey_names(duck)[0]
        events = duck.execute("SELECT count(*) FROM events WHERE journey = ? AND customer_id IS NOT NULL",
                              [journey]).fetchone()[0]
        print(f"journey {journey!r}: {events:,} events; PostgreSQL {pg.con.info.server_version // 10000}; "
              f"load average at start {os.getloadavg()[0]:.1f}")

        def page(store):
            return _compute(store, journey, None, False, 4, 5, "", None)

        def cli(store):
            return mine(journey_log(store, journey).table)

        times: dict[tuple[str, str], list[float]] = {}
        answers: dict[tuple[str, str], object] = {}
        print(f"{'run':>3}  {'load':>5}  {'page DuckDB':>11}  {'page PG':>8}  {'cli DuckDB':>10}  {'cli PG':>7}")
        for run in range(args.runs):
            row = []
            for what, fn in (("page", page), ("cli", cli)):
                order = (("duckdb", duck), ("postgresql", pg))
                for engine, store in (order if run % 2 == 0 else order[::-1]):  # alternate who goes first
                    t = time.perf_counter()
                    answers[(what, engine)] = fn(store)
                    times.setdefault((what, engine), []).append(time.perf_counter() - t)
                row += [times[(what, "duckdb")][-1], times[(what, "postgresql")][-1]]
            print(f"{run + 1:>3}  {os.getloadavg()[0]:>5.1f}  {row[0]:>11.2f}  {row[1]:>8.2f}  {row[2]:>10.2f}  "
                  f"{row[3]:>7.2f}")
        for what, label in (("page", "/flows page (first request)"), ("cli", "centric flows --journey --json")):
            d, p = (statistics.median(times[(what, e)]) for e in ("duckdb", "postgresql"))
            diff = same(answers[(what, "duckdb")], answers[(what, "postgresql")])
            verdict = "equal" if not diff else f"DIFFERENT: {'; '.join(diff[:3])}"
            print(f"{label}: median DuckDB {d:.2f} s, PostgreSQL {p:.2f} s: {p / d:.1f}× DuckDB's time "
                  f"(goal ≤ 3×) -> {'MET' if p <= 3 * d else 'NOT MET'}; answers {verdict}")
        pg.close()
        duck.close()
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
