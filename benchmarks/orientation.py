"""What staff orientation and observation notes add to the demo and its report, on a copy of a full demo store:
the demo's step (write and load the assessments and notes), and the two report sections' figures — each next to
the report's whole ``collect`` measured in the same run (the budget: at most about 4 s on the full demo).

    python benchmarks/orientation.py /tmp/demo/centric.duckdb

The store is copied to a temporary folder first (it is never written to); a store built before these tables
existed gets them (``schema.ddl``) and the demo's step; its new notes are analysed (not timed) before the report.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", type=Path)
    args = ap.parse_args()
    from centric import Store, schema
    from centric.demo.orientation import add_orientation
    from centric.report.data import collect
    from centric.text.batch import analyze_store

    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "c.duckdb"
        shutil.copyfile(args.store, db)
        with Store.open(db) as s:
            for stmt in schema.ddl(9):
                s.con.execute(stmt)
            t = time.perf_counter()
            if not s.count("orientation_assessments"):
                add_orientation(s, Path(d) / "files", seed=7)
            demo = time.perf_counter() - t
            analyze_store(s, "retail", fast=True)
            from centric.observations.present import report_data as notes
            from centric.orientation.present import report_data as orientation

            collect(s)  # warm: imports and Ibis' first compilations are the report's, not ours
            t = time.perf_counter()
            collect(s)
            whole = time.perf_counter() - t
            t = time.perf_counter()
            orientation(s)
            notes(s)
            ours = time.perf_counter() - t
    print(f"demo step (assessments and notes written and loaded): {demo:.2f} s")
    print(f"report sections' figures: {ours:.2f} s, within the report's whole collect of {whole:.2f} s "
          f"({100 * ours / whole:.1f}%)")
    print(f"together {demo + ours:.2f} s (budget about 4 s)")


if __name__ == "__main__":
    main()
