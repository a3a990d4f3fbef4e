"""eNPS by unit in more detail: departments beside the cases they own (a table computed by hand, the correlation
and when there are too few departments for its interval), comment themes by store with every cell below the
threshold hidden, and the differencing attack on them (the company's count minus the shown units' never gives
a hidden unit's), and the command line's JSON."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from typer.testing import CliRunner

from centric import Store
from centric.enps import analysis, units

from .test_enps import FixedThemes, answer_all, company, invite, survey

H = dt.timedelta(hours=1)


def pearson(x, y) -> float:
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    return sxy / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))


def add_case(store, case_id: str, dep: str, opened: dt.datetime, due: dt.datetime, steps: list[tuple[str, dt.datetime]],
             answer: tuple[str, int, int] | None = None) -> None:
    """A closed case with its events: ``steps`` (kind, time) after ``opened``; ``answer``: the customer's
    "Was it solved?" (confirmed / not_solved, csat, ces)."""
    closed = max(t for _, t in steps)
    store.execute("INSERT INTO cases (case_id, opened_at, department, status, due_at, closed_at, origin) VALUES "
                  "(?, ?, ?, 'closed', ?, ?, 'signal')", [case_id, opened, dep, due, closed])
    events = [("opened", opened, None), *[(k, t, None) for k, t in steps]]
    if answer is not None:
        events.append((answer[0], closed + H, json.dumps({"solved": answer[0] == "confirmed", "csat": answer[1],
                                                          "ces": answer[2]})))
    for i, (kind, t, data) in enumerate(events):
        store.execute("INSERT INTO case_events (case_event_id, case_id, occurred_at, kind, department, data) VALUES "
                      "(?, ?, ?, ?, ?, ?)", [f"{case_id}-{i}", case_id, t, kind, dep, data])


def departments_store(store: Store, d4_answers: int = 0) -> None:
    """Three departments that answered (D1: 5, D2: 6, D3: 7 answers), D4 (with ``d4_answers``), and their cases
    of 2026-Q2 (one of March, outside it)."""
    company(store, {"D1": 5, "D2": 6, "D3": 7, "D4": 3})
    s = survey(store)
    invite(store, s)
    scores = {"D1": [10, 10, 10, 9, 0], "D2": [9, 8, 7, 6, 5, 0], "D3": [10, 9, 9, 8, 8, 7, 0],
              "D4": [10, 0, 0][:d4_answers]}
    answer_all(store, s, {f"{u}-{i}": v for u, vs in scores.items() for i, v in enumerate(vs)})
    t0 = dt.datetime(2026, 4, 1)
    with store.transaction():
        # D1: 10 h (met), 48 h (past its 24 h), reopened and resolved again after 48 h (met: due in 72 h)
        add_case(store, "A1", "D1", t0, t0 + 24 * H, [("resolved", t0 + 10 * H)], ("confirmed", 5, 6))
        add_case(store, "A2", "D1", t0 + 24 * H, t0 + 48 * H, [("resolved", t0 + 72 * H)], ("not_solved", 2, 3))
        add_case(store, "A3", "D1", t0 + 96 * H, t0 + 168 * H, [("resolved", t0 + 116 * H), ("reopened", t0 + 120 * H),
                                                              ("resolved", t0 + 144 * H)])
        # D2: 5, 8 and 12 hours, all within 24 h; three customers say solved
        for i, (h, csat, ces) in enumerate([(5, 4, 7), (8, 5, 7), (12, 5, 6)]):
            at = t0 + (200 + 24 * i) * H
            add_case(store, f"B{i}", "D2", at, at + 24 * H, [("resolved", at + h * H)], ("confirmed", csat, ces))
        # D2's case of March is outside the quarter
        add_case(store, "B9", "D2", dt.datetime(2026, 3, 20), dt.datetime(2026, 3, 25),
                 [("resolved", dt.datetime(2026, 4, 2))], ("not_solved", 1, 1))
        # D3: one case, 30 hours against 24: past; nobody answered
        add_case(store, "C1", "D3", t0 + 300 * H, t0 + 324 * H, [("resolved", t0 + 330 * H)])


def test_departments_beside_the_cases_they_own_by_hand(store):
    departments_store(store)
    c = units.compare_departments(store, "enps")
    assert c.period == "2026-Q2"
    by = {r.unit: r for r in c.rows}
    assert list(by) == ["D1", "D2", "D3", "D4"]
    # eNPS: D1 (4 − 1)/5 = 60, D2 (1 − 3)/6 = −33.3, D3 (3 − 1)/7 = 28.6; D4 no answers
    assert by["D1"].enps.value == pytest.approx(60.0) and by["D1"].enps.n == 5
    assert by["D2"].enps.value == pytest.approx(-200 / 6) and by["D3"].enps.value == pytest.approx(200 / 7)
    assert by["D4"].enps is None and by["D4"].hidden == "no_answers"
    # D1: 3 cases; within SLA 2 of 3; resolution 10, 48, 48 h → median 48; reopened 1 of 3
    d1 = by["D1"]
    assert d1.cases == 3 and d1.within_sla_pct == pytest.approx(200 / 3) and d1.sla_n == 3
    assert d1.resolution_median_h == pytest.approx(48.0) and d1.reopened_pct == pytest.approx(100 / 3)
    # its customers: one solved (CSAT 5, CES 6), one not (CSAT 2, CES 3)
    assert d1.asked == 2 and d1.solved_pct == pytest.approx(50.0) and d1.csat_pct == pytest.approx(50.0)
    assert d1.ces_mean == pytest.approx(4.5) and d1.csat_n == 2
    lo, hi = d1.csat_interval  # Wilson, 1 of 2: 9.45 … 90.55
    assert lo == pytest.approx(9.453, abs=0.01) and hi == pytest.approx(90.547, abs=0.01)
    # D2: the March case does not count; 3 cases within 24 h, median 8 h; CSAT 4, 5, 5 → 100 %, CES 20/3
    d2 = by["D2"]
    assert d2.cases == 3 and d2.within_sla_pct == pytest.approx(100.0) and d2.resolution_median_h == pytest.approx(8)
    assert d2.reopened_pct == 0.0 and d2.solved_pct == 100.0 and d2.csat_pct == 100.0
    assert d2.ces_mean == pytest.approx(20 / 3)
    # D3: one case past its SLA after 30 h; no customer answered
    d3 = by["D3"]
    assert d3.cases == 1 and d3.within_sla_pct == 0.0 and d3.resolution_median_h == pytest.approx(30.0)
    assert d3.asked == 0 and d3.solved_pct is None and d3.csat_pct is None and "csat_pct" in d3.unknown
    assert by["D4"].cases == 0 and by["D4"].within_sla_pct is None and by["D4"].unknown["within_sla_pct"] == "no cases"
    # across the three departments with a visible eNPS: r by hand, and no interval with three
    x = [60.0, -200 / 6, 200 / 7]
    k = c.correlations["within_sla_pct"]
    assert k.n == 3 and k.r == pytest.approx(pearson(x, [200 / 3, 100.0, 0.0]))
    assert k.low is None and k.high is None and k.note == "too_few_for_interval"
    assert c.correlations["resolution_median_h"].r == pytest.approx(pearson(x, [48.0, 8.0, 30.0]))
    # solved and CSAT: D3 has no answers, so only two departments pair up: no r at all
    assert c.correlations["csat_pct"].n == 2 and c.correlations["csat_pct"].r is None
    assert c.correlations["csat_pct"].note == "too_few_units"
    d = c.to_dict()
    assert d["customer_nps"] is None and d["correlations"]["within_sla_pct"]["note"] == "too_few_for_interval"


def test_four_departments_give_the_fisher_interval_and_a_hidden_one_is_left_out(store):
    departments_store(store, d4_answers=3)
    # threshold 3: D4's three answers (10, 0, 0 → −33.3) show, so four departments pair with their cases
    c = units.compare_departments(store, "enps", threshold_value=3)
    assert c.shown == 4
    k = c.correlations["within_sla_pct"]
    assert k.n == 3  # D4 has no cases: no within-SLA share, left out of that pair
    c5 = units.compare_departments(store, "enps")  # threshold 5: D4 hidden; 3 + complementary? 3 < 5 → D1 (5) too
    by = {r.unit: r for r in c5.rows}
    assert by["D4"].hidden == "below_threshold" and by["D1"].hidden == "complementary" and by["D1"].enps is None
    assert c5.shown == 2 and c5.correlations["within_sla_pct"].note == "too_few_units"
    # give D4 a case: four departments, the interval by Fisher's z
    with store.transaction():
        t = dt.datetime(2026, 5, 1)
        add_case(store, "E1", "D4", t, t + 24 * H, [("resolved", t + 2 * H)])
    c = units.compare_departments(store, "enps", threshold_value=3)
    k = c.correlations["within_sla_pct"]
    x, y = [60.0, -200 / 6, 200 / 7, -100 / 3], [200 / 3, 100.0, 0.0, 100.0]
    r = pearson(x, y)
    z, half = math.atanh(r), 1.959964 / math.sqrt(4 - 3)
    assert k.n == 4 and k.r == pytest.approx(r)
    assert k.low == pytest.approx(math.tanh(z - half), abs=1e-6) and k.high == pytest.approx(math.tanh(z + half),
                                                                                            abs=1e-6)
    assert k.note is None


def themes_store(store: Store) -> None:
    """Five stores: S1 7, S2 6, S3 8, S4 6 and S5 2 answers. Themes (the comment's first word): pay raised by
    S1 6, S3 5, S4 5; tools by S1 5 and S5 2; team by S3 3."""
    company(store, {"S1": 7, "S2": 6, "S3": 8, "S4": 6, "S5": 2})
    s = survey(store)
    invite(store, s)
    words = {"S1": ["pay"] * 6 + ["tools"], "S2": ["calm"] * 6, "S3": ["pay"] * 5 + ["team"] * 3,
             "S4": ["pay"] * 5 + ["calm"], "S5": ["tools", "tools"]}
    comments = {f"{u}-{i}": f"{w} {u}{i}" for u, ws in words.items() for i, w in enumerate(ws)}
    for i in range(4):  # four more of S1's comments raise tools as well: S1's tools count is 5
        comments[f"S1-{i}"] = f"pay tools {i}"
    answer_all(store, s, {e: 7 for e in comments}, comments)


class TwoThemes(FixedThemes):
    """The themes are the comment's first words that name one (pay, tools, team)."""

    def analyze(self, items):
        from centric.text.pipeline import TextResult

        out = []
        for d in items:
            found = [w for w in d["text"].split()[:2] if w in ("pay", "tools", "team")]
            out.append(TextResult(d["id"], "en", [d["text"]], [{"factor": f, "sentiment": "negative"} for f in found],
                                  "negative", -0.5))
        return out


def test_themes_by_store_are_hidden_below_the_threshold_and_cannot_be_differenced(store):
    themes_store(store)
    analysis.analyze(store, TwoThemes())
    company = analysis.themes(store, "enps")
    # pay 6 + 5 + 5 = 16 (S1-0..3 say "pay tools"), tools 4 + 1 + 2 = 7, team 3 (withheld)
    assert {t.factor: t.comments for t in company.themes} == {"pay": 16, "tools": 7}
    u = units.themes_by(store, "store", "enps")
    # S5 (2 answers) is hidden, and S2 (6, the smallest by name among equals) with it: as eNPS by store
    groups = dict(u.groups)
    assert groups == {"S1": None, "S2": "complementary", "S3": None, "S4": None, "S5": "below_threshold"}
    eh = {c.group["store"]: c.hidden for c in analysis.enps(store, "store", "enps").rows}
    assert eh == groups
    cell = {(c.group, c.factor): c for c in u.cells}
    # pay: the hidden stores S2 and S5 raised it 0 times; showing S1, S3 and S4 would say so (16 − 16 = 0): the
    # smallest shown cell (S3 and S4 have 5: S3 by name) is hidden too
    assert cell[("S1", "pay")].comments == 6 and cell[("S4", "pay")].comments == 5
    assert cell[("S3", "pay")].hidden == "complementary" and cell[("S3", "pay")].comments is None
    # tools: S1 5, S3 and S4 none (below the threshold), S5's 2 hidden with S5: 7 − 5 = 2 would be S5's — S1 goes
    assert cell[("S3", "tools")].hidden == "few_comments" and cell[("S1", "tools")].hidden == "complementary"
    assert all(cell[(g, f)].comments is None for g in ("S2", "S5") for f in ("pay", "tools"))
    # the attack on every theme: company minus the shown cells is never a small (or empty) sum of hidden ones
    for th in company.themes:
        cells = [c for c in u.cells if c.factor == th.factor]
        shown = sum(c.comments for c in cells if c.hidden is None)
        hidden = [c for c in cells if c.hidden]
        assert not hidden or th.comments - shown >= u.threshold, th.factor
    # nothing of a hidden unit in the JSON
    d = u.to_dict()
    s5 = next(g for g in d["groups"] if g["store"] == "S5")
    assert s5["hidden"] == "below_threshold" and all(t["comments"] is None for t in s5["themes"])
    # with a threshold of 3, S5 is still hidden (2); the team theme (3, all S3's) shows for the company, so S3's
    # cell would say the hidden stores raised it none: it is hidden too
    u3 = units.themes_by(store, "store", "enps", threshold_value=3)
    assert dict(u3.groups)["S5"] == "below_threshold"
    assert u3.cell("S3", "team").hidden == "complementary" and u3.cell("S4", "pay").comments == 5
    # by region (North: S1, S2; South: S3, S4, S5): each holds a hidden store, so each is hidden with its themes,
    # as its eNPS is — North minus S1 would be S2, South minus S3 and S4 would be S5
    r = units.themes_by(store, "region", "enps")
    assert dict(r.groups) == {"North": "complementary", "South": "complementary"}
    assert all(c.comments is None for c in r.cells)
    assert {c.group["region"]: c.hidden for c in analysis.enps(store, "region", "enps").rows} == dict(r.groups)
    with pytest.raises(Exception, match="--by 'shelf'"):
        units.themes_by(store, "shelf", "enps")


def test_hide_protects_an_empty_hidden_sum_only_when_asked():
    counts = {("A",): 6, ("B",): 5, ("C",): 0}
    assert analysis.hide(counts, ["unit"], 5) == {("C",): "below_threshold"}
    assert analysis.hide(counts, ["unit"], 5, empty_too=True) == {("C",): "below_threshold", ("B",): "complementary"}
    # a group hidden for a reason of its own keeps it, and counts as hidden
    got = analysis.hide({("A",): 9, ("B",): 7, ("C",): 8}, ["unit"], 5, hidden={("C",): "outside"})
    assert got == {("C",): "outside"}


def test_cli_compare_departments_and_themes_by_store_as_json(tmp_path):
    from centric.cli import app

    db = tmp_path / "c.duckdb"
    s0 = Store.open(db)
    departments_store(s0)
    s0.close()
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db), "enps", "compare", "--kind", "department", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    rows = {x["unit"]: x for x in d["units"]}
    assert d["kind"] == "department" and rows["D1"]["cases"] == 3 and rows["D1"]["resolution_median_h"] == 48.0
    assert rows["D2"]["csat_pct"] == 100.0 and rows["D4"]["enps"] is None and rows["D4"]["hidden"] == "no_answers"
    assert d["correlations"]["within_sla_pct"]["note"] == "too_few_for_interval"
    r = runner.invoke(app, ["--db", str(db), "enps", "compare", "--kind", "department"], env={"COLUMNS": "220"})
    assert r.exit_code == 0 and "too few departments for an interval" in r.output, r.output
    r = runner.invoke(app, ["--db", str(db), "enps", "compare", "--kind", "shelf"])
    assert r.exit_code == 2 and "--kind 'shelf'" in r.output

    db2 = tmp_path / "t.duckdb"
    s1 = Store.open(db2)
    themes_store(s1)
    analysis.analyze(s1, TwoThemes())
    s1.close()
    r = runner.invoke(app, ["--db", str(db2), "enps", "themes", "--by", "store", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    got = {g["store"]: {t["factor"]: t["comments"] for t in g["themes"]} for g in d["groups"]}
    assert got["S1"] == {"pay": 6, "tools": None} and got["S4"] == {"pay": 5, "tools": None}
    assert got["S5"] == {"pay": None, "tools": None} and d["company"]["themes"][0]["comments"] == 16
    r = runner.invoke(app, ["--db", str(db2), "enps", "themes", "--by", "store"], env={"COLUMNS": "220"})
    assert r.exit_code == 0 and "hidden: fewer than 5 answers" in r.output and "6 (-100)" in r.output, r.output
