"""Staff customer-orientation: scores and intervals by hand, the self-vs-manager gap, the units next to their
customers' scores, the import's errors, the erasure, and who may assess whom."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from centric import Store
from centric.errors import CentricError
from centric.orientation import (
    correlation,
    forget_employee,
    gap,
    import_assessments,
    record_assessment,
    scores,
    units_vs_customers,
)
from centric.web.permissions import Actor, allowed

T975_2 = 4.302652729911275  # Student t, 0.975 quantile, 2 degrees of freedom
T975_1 = 12.706204736174694


def _store() -> Store:
    s = Store.open(":memory:")
    s.con.execute("INSERT INTO units VALUES ('S1', 'store', 'North', 'PL', 'h.boss'), "
                  "('S2', 'store', 'North', 'PL', 'k.other'), ('D1', 'department', NULL, 'PL', 'h.boss')")
    s.con.execute("INSERT INTO employees (employee_id, name, unit, role) VALUES ('e1', 'Anna Nowak', 'S1', 'staff'), "
                  "('e2', 'Jan Kos', 'S1', 'staff'), ('e3', 'Ewa Lis', 'S1', 'staff'), ('e4', 'Piotr Wróbel', 'S2', 'staff')")
    q1 = dt.datetime(2025, 2, 10)
    rows = [  # id, employee, when, view, attitude, communication
        ("m1", "e1", q1, "manager", 4, 2), ("m2", "e2", q1, "manager", 4, 4), ("m3", "e3", q1, "manager", 5, 5),
        ("m4", "e4", q1, "manager", 3, 3),
        ("s1", "e1", q1, "self", 5, 4), ("s2", "e2", q1, "self", 5, 4),
    ]
    for aid, emp, at, view, a, c in rows:
        s.con.execute("INSERT INTO orientation_assessments (assessment_id, employee_id, assessed_at, view, assessor, "
                      "attitude, communication, comment) VALUES (?, ?, ?, ?, 'h.boss', ?, ?, 'a comment')",
                      [aid, emp, at, view, a, c])
    return s


def test_unit_scores_by_hand():
    with _store() as s:
        t = scores(s, by="unit").table.set_index("unit")
        # S1: employees' means 3, 4, 5 → 4; sd 1; t interval 4 ± t(2)·1/√3
        assert t.loc["S1", "score"] == pytest.approx(4.0)
        assert t.loc["S1", "n"] == 3 and t.loc["S1", "assessments"] == 3
        half = T975_2 / math.sqrt(3)
        assert t.loc["S1", "low"] == pytest.approx(4 - half) and t.loc["S1", "high"] == pytest.approx(4 + half)
        # S2: one employee, no interval
        assert t.loc["S2", "score"] == pytest.approx(3.0) and math.isnan(t.loc["S2", "low"])


def test_criterion_and_period_scores_by_hand():
    with _store() as s:
        t = scores(s, by=("unit", "criterion")).table
        att = t[(t["unit"] == "S1") & (t["criterion"] == "attitude")].iloc[0]
        sd = pd.Series([4, 4, 5]).std()
        assert att["score"] == pytest.approx(13 / 3)
        assert att["high"] - att["score"] == pytest.approx(T975_2 * sd / math.sqrt(3))
        assert list(t[t["unit"] == "S1"]["criterion"]) == ["attitude", "communication"]  # the checklist's order
        p = scores(s, by="period").table
        assert list(p["period"]) == ["2025-Q1"] and p.iloc[0]["n"] == 4  # 3, 4, 5, 3
        assert p.iloc[0]["score"] == pytest.approx(3.75)
        selfv = scores(s, by="unit", view="self").table.set_index("unit")
        assert selfv.loc["S1", "score"] == pytest.approx(4.5) and selfv.loc["S1", "n"] == 2


def test_the_gap_is_paired_by_employee_and_quarter():
    with _store() as s:
        g = gap(s).table.set_index("criterion")
        # all: e1 4.5 − 3 = 1.5, e2 4.5 − 4 = 0.5 → mean 1, sd √0.5, n 2
        assert g.loc["all", "gap"] == pytest.approx(1.0) and g.loc["all", "n"] == 2
        assert g.loc["all", "high"] - 1 == pytest.approx(T975_1 * math.sqrt(0.5) / math.sqrt(2))
        assert g.loc["all", "self"] == pytest.approx(4.5) and g.loc["all", "manager"] == pytest.approx(3.5)
        # attitude: 5 − 4 twice → 1, no spread; communication: 2 and 0 → 1
        assert g.loc["attitude", "gap"] == pytest.approx(1.0) and g.loc["attitude", "low"] == pytest.approx(1.0)
        assert g.loc["communication", "gap"] == pytest.approx(1.0)
        # e3 and e4 have no self-assessment: not in the pairs; a self view in another quarter would not pair either
        s.con.execute("INSERT INTO orientation_assessments (assessment_id, employee_id, assessed_at, view, attitude) "
                      "VALUES ('s3', 'e3', TIMESTAMP '2025-05-01', 'self', 1)")
        assert gap(s).table.set_index("criterion").loc["all", "n"] == 2


def test_correlation_against_numpy_and_fisher():
    x, y = [3.1, 3.5, 3.9, 4.2, 2.8, 3.6], [10, 25, 30, 42, 5, 20]
    c = correlation(x, y)
    import numpy as np

    r = np.corrcoef(x, y)[0, 1]
    assert c.r == pytest.approx(r)
    z, se = math.atanh(r), 1 / math.sqrt(6 - 3)
    assert c.low == pytest.approx(math.tanh(z - 1.959964 * se)) and c.high == pytest.approx(math.tanh(z + 1.959964 * se))
    assert correlation([1, 2, 3], [2, 1, 3]).low is None  # 3 stores: r alone
    assert correlation([1, 2], [2, 1]).r is None


def test_units_next_to_their_customers():
    with _store() as s:
        at = dt.datetime(2025, 2, 1)
        for i, (store, nps) in enumerate([("S1", 10), ("S1", 9), ("S1", 3), ("S2", 6), ("S2", 8)]):
            s.con.execute("INSERT INTO responses (response_id, responded_at, nps, store) VALUES (?, ?, ?, ?)",
                          [f"r{i}", at, nps, store])
        s.con.execute("INSERT INTO feedback (feedback_id, source, brand, posted_at, text, store) VALUES "
                      "('f1', 'review', 'ours', ?, 'nice staff', 'S1'), ('f2', 'observation', 'ours', ?, 'x', 'S1'),"
                      "('f3', 'review', 'ours', ?, 'rude staff', 'S2')", [at, at, at])
        s.con.execute("INSERT INTO mentions (source, text_id, sentence, factor, sentiment, taxonomy) VALUES "
                      "('feedback', 'f1', 0, 'staff', 'positive', 'retail'), "
                      "('feedback', 'f2', 0, 'staff', 'negative', 'retail'), "  # an observation note: left out
                      "('responses', 'r2', 0, 'staff', 'negative', 'retail'), "
                      "('responses', 'r3', 0, 'staff', 'negative', 'retail'), "
                      "('feedback', 'f3', 0, 'price', 'negative', 'retail')")
        t = units_vs_customers(s).table.set_index("unit")
        assert list(t.index) == ["S1", "S2"]  # stores only
        assert t.loc["S1", "nps"] == pytest.approx(100 * (2 - 1) / 3) and t.loc["S1", "nps_n"] == 3
        assert t.loc["S2", "nps"] == pytest.approx(-50.0)
        assert t.loc["S1", "staff_net"] == pytest.approx(0.0) and t.loc["S1", "staff_n"] == 2  # +1 −1
        assert t.loc["S2", "staff_net"] == pytest.approx(-100.0) and t.loc["S2", "staff_n"] == 1
        link = units_vs_customers(s)
        assert link.correlations[0].r is None and "fewer than 3" in link.correlations[0].note


def test_record_checks_each_field():
    with _store() as s:
        aid = record_assessment(s, "e1", "manager", {"attitude": "5", "adapting": 4, "clear_speech": ""}, "h.boss",
                                "kept calm with an angry customer")
        row = s.con.execute("SELECT unit, attitude, adapting, clear_speech, comment FROM orientation_assessments "
                            "WHERE assessment_id = ?", [aid]).fetchone()
        assert row == ("S1", 5, 4, None, "kept calm with an angry customer")
        for ratings, where in (({"attitude": 6}, "attitude: 6 is outside"), ({"attitude": "good"}, "attitude: 'good'"),
                               ({}, "rate at least one"), ({"charm": 3}, "charm: not a criterion")):
            with pytest.raises(CentricError, match=where):
                record_assessment(s, "e1", "manager", ratings, "h.boss")
        with pytest.raises(CentricError, match="no employee 'nobody'"):
            record_assessment(s, "nobody", "manager", {"attitude": 3}, "h.boss")
        with pytest.raises(CentricError, match="view"):
            record_assessment(s, "e1", "peer", {"attitude": 3}, "h.boss")


def test_import_keeps_rejected_rows_with_file_row_and_column(tmp_path):
    f = tmp_path / "oceny.csv"
    f.write_text("Pracownik;Data oceny;Widok;Postawa;Komunikacja;Komentarz\n"
                 "e1;2025-04-02;manager;4;5;ok\n"
                 "e2;2025-04-02;manager;7;3;\n"        # row 3: attitude out of the scale
                 "e9;2025-04-02;manager;3;3;\n"        # row 4: unknown employee
                 "e3;2025-04-02;boss;3;3;\n"           # row 5: unknown view
                 "e1;2025-04-02;self;5;5;rosy\n", encoding="utf-8")
    with _store() as s:
        res = import_assessments(s, f)
        assert (res.rows_stored, res.rows_rejected) == (2, 3)
        rej = s.con.execute("SELECT source, row_number, column_name, reason FROM rejected_rows "
                            "WHERE table_name = 'orientation_assessments' ORDER BY row_number").fetchall()
        assert [(r[1], r[2]) for r in rej] == [(3, "Postawa"), (4, "Pracownik"), (5, "Widok")]
        assert all(r[0].endswith("oceny.csv") for r in rej)
        assert "e9" in rej[1][3] and "not in employees" in rej[1][3]
        run = s.con.execute("SELECT rows_stored, rows_rejected FROM ingest_runs WHERE table_name = "
                            "'orientation_assessments'").fetchone()
        assert run == (2, 3)
        # loading it again stores nothing new
        again = import_assessments(s, f)
        assert again.rows_stored == 0


def test_forget_employee_erases_their_assessments_and_rejected_rows(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("employee_id,assessed_at,view,attitude\ne2,2025-04-02,manager,9\n", encoding="utf-8")
    with _store() as s:
        import_assessments(s, f)
        assert forget_employee(s, "e2") == 2  # m2 and s2
        assert s.con.execute("SELECT count(*) FROM orientation_assessments WHERE employee_id = 'e2'").fetchone()[0] == 0
        assert s.con.execute("SELECT count(*) FROM rejected_rows WHERE table_name = 'orientation_assessments'"
                             ).fetchone()[0] == 0
        assert s.con.execute("SELECT count(*) FROM orientation_assessments").fetchone()[0] == 4  # the others stay


def test_a_manager_assesses_only_the_units_they_manage():
    boss = Actor("user", "U1", "h.boss@example.com", "agent", "h.boss", ("stores",))
    other = Actor("user", "U2", "k.other@example.com", "agent", "k.other", ("stores",))
    analyst = Actor("user", "U3", "an@example.com", "analyst", "an")
    admin = Actor("user", "U4", "ad@example.com", "admin", "ad")
    s1 = {"manager": "h.boss"}
    assert allowed(boss, "orientation.assess", s1) and not allowed(other, "orientation.assess", s1)
    assert not allowed(analyst, "orientation.assess", s1) and allowed(admin, "orientation.assess", s1)
    # observation notes: the manager for their stores, analysts and admins for any
    assert allowed(boss, "observations.write", s1) and not allowed(other, "observations.write", s1)
    assert allowed(analyst, "observations.write", s1) and allowed(admin, "observations.write", s1)
    assert not allowed(None, "orientation.assess", s1)
