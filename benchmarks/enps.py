"""Employee surveys: what they add to the demo and the report, and what anonymous storage costs.

On a copy of a full demo store (``centric demo``), in one process:

  1. the demo's step (``centric.demo.enps.add_employee_surveys``: two surveys, ~570 invitations, ~400 answers,
     the comments' themes), after the text models are loaded as the demo's text analysis loads them;
  2. the report's step (``centric.enps.overview`` and the section's context);
  3. 1,000 answers stored one at a time as the web form stores them (``answers.record``: the link marked
     used, the answer added and its survey-period's rows rewritten in the order of their random ids), against
     the baseline measured in the same run: the same 1,000 rows appended one at a time with a plain INSERT
     (what storing them in arrival order would cost).

    python benchmarks/enps.py /tmp/demo/centric.duckdb [--work /tmp/enps-bench]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

from centric import schema
from centric.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", type=Path, help="a full demo store (it is copied, not changed)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/enps-bench"))
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    db = a.work / "bench.duckdb"
    shutil.copyfile(a.store, db)
    st = Store.open(db)
    for s in schema.ddl(9):  # a store built before the employee tables
        st.con.execute(s)
    if st.con.execute("SELECT count(*) FROM employee_answers").fetchone()[0]:
        st.con.execute("DELETE FROM employee_answers; DELETE FROM employee_ratings; DELETE FROM employee_themes; "
                       "DELETE FROM employee_invitations; DELETE FROM surveys WHERE slug IN ('enps-quarterly', "
                       "'pulse-monthly')")

    from centric.text.pipeline import Analyzer

    Analyzer("retail", fast=True).analyze([{"id": 1, "text": "Dostawa była szybka"}])  # as the demo's text step

    from centric.demo.enps import add_employee_surveys
    from centric.enps import analysis, answers, invitations
    from centric.enps.present import section
    from centric.report.i18n import Formatter
    from centric.surveys.answers import Answer

    t = time.perf_counter()
    demo = add_employee_surveys(st, 7)
    t_demo = time.perf_counter() - t
    t = time.perf_counter()
    o = analysis.overview(st)
    section(o, Formatter("pl"), {})
    t_report = time.perf_counter() - t
    print(f"demo step: {t_demo:.2f} s ({demo.invitations} invitations, {demo.answers} answers, {demo.comments} "
          f"comments); report step: {t_report:.2f} s")

    # 1,000 answers one by one: a survey-period of its own with 1,000 links in 10 units
    s = analysis.survey_of(st, "enps-quarterly")
    st.con.execute("INSERT INTO employees (employee_id, name, email, unit, role, language) SELECT 'B' || i, 'x', "
                   "'b' || i || '@x.example', 'bench unit ' || (i % 10), 'staff', 'pl' FROM range(1000) r(i)")
    day = dt.date(2027, 2, 1)
    plan = invitations.plan(st, s, units=[f"bench unit {i}" for i in range(10)], day=day, period="2027-Q1")
    invitations.issue(st, plan, base_url="https://bench.example", link_days=30)
    ids = [r[0] for r in st.con.execute("SELECT invitation_id FROM employee_invitations WHERE period = '2027-Q1'"
                                        ).fetchall()]
    t = time.perf_counter()
    for k, i in enumerate(ids):
        answers.record(st, i, Answer(k % 11, None, {}, "pl"), today=day)
    t_ours = time.perf_counter() - t
    st.con.execute("CREATE TABLE bench_plain AS SELECT * FROM employee_answers WHERE false")
    t = time.perf_counter()
    for k, _ in enumerate(ids):
        with st.transaction() as con:
            con.execute("INSERT INTO bench_plain VALUES (?, ?, '2027-Q1', 'bench unit 0', ?, NULL)",
                        [f"{k:032x}", s.survey_id, k % 11])
    t_plain = time.perf_counter() - t
    print(f"1,000 answers one at a time: {1000 * t_ours / len(ids):.1f} ms an answer (rewritten in random order) "
          f"against {1000 * t_plain / len(ids):.1f} ms (baseline: appended in arrival order)")
    st.close()


if __name__ == "__main__":
    main()
