"""What mystery shopping adds to the demo and the report, on a copy of a demo store: the demo's visits and their
case (``centric.demo.mystery.add_mystery``) and the report section (``for_report`` + ``context``), next to the
journey map's section of the same report measured in the same run as the baseline. Goal: at most ~4 s on the
full demo store (20,000 customers) on 2 cores.

    python benchmarks/mystery.py STORE.duckdb      # the store is copied first; the original is not touched
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path


def main(path: str) -> None:
    from centric.demo.mystery import add_mystery
    from centric.journeys.section import for_report as journey_maps
    from centric.mystery.section import context, for_report
    from centric.report.i18n import Formatter
    from centric.schema import ddl
    from centric.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.duckdb"
        shutil.copyfile(path, copy)
        with Store.open(copy) as store:
            for stmt in ddl(9):  # a store at version 9 from before mystery shopping gets its tables
                store.con.execute(stmt)
            for t in ("mystery_answers", "mystery_attachments", "mystery_visits", "mystery_templates"):
                store.con.execute(f"DELETE FROM {t}")
            store.con.execute("DELETE FROM case_signals WHERE source_table = 'mystery_visits'")
            store.con.execute("DELETE FROM cases WHERE origin = 'mystery'")
            store.count("customers")  # Ibis loaded: its import is shared by every section
            t0 = time.perf_counter()
            add_mystery(store, seed=7)
            demo = time.perf_counter() - t0
            t0 = time.perf_counter()
            context(for_report(store), Formatter("en"), {})
            section = time.perf_counter() - t0
            t0 = time.perf_counter()
            journey_maps(store)
            baseline = time.perf_counter() - t0
    print(f"demo visits and case: {demo:.2f} s; report section: {section:.2f} s; total {demo + section:.2f} s "
          f"(goal ≤ 4 s) — baseline, the journey map's section: {baseline:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/demo17/centric.duckdb")
