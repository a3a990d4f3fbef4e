"""Employee NPS and pulse surveys: known answers (eNPS, the threshold and complementary hiding, the pulse's
means, the units beside their customers and the correlation's Fisher-z interval), invitations (leavers never,
the employee's language), the proof of anonymity (no answer can be joined back to its invitation), comments
and themes below the threshold, erasing an employee, and the command line."""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric import Store, settings
from centric.cases.store_io import insert_rows
from centric.enps import analysis, answers, invitations
from centric.enps.privacy import forget_employee
from centric.errors import CentricError, SettingError
from centric.surveys import from_dict, repo, tokens
from centric.surveys.answers import Answer
from centric.surveys.model import SurveyError

DAY = dt.date(2026, 5, 12)
ENPS = {"slug": "enps", "name": "eNPS", "kind": "nps", "audience": "employees", "period": "quarter",
        "branding": {"company": "Domix"}}
PULSE = {"slug": "pulse", "name": "Pulse", "kind": "csat", "audience": "employees", "period": "month",
         "branding": {"company": "Domix"},
         "questions": [{"id": "workload", "type": "rating", "scale": [1, 5],
                        "label": {"en": "Workload", "pl": "Obciążenie", "ru": "Нагрузка", "it": "Carico"}}]}


def seeded_ids(seed: int = 1):
    rnd = random.Random(seed)
    return lambda: f"{rnd.getrandbits(128):032x}"


def company(store: Store, staff: dict[str, int], extra: list[dict] | None = None) -> None:
    """Units and employees: ``staff`` unit → headcount (stores S*, departments D*)."""
    units = pd.DataFrame([{"unit": u, "kind": "store" if u.startswith("S") else "department",
                           "region": "North" if u in ("S1", "S2") else "South", "country": "PL", "manager": None}
                          for u in staff])
    people = [{"employee_id": f"{u}-{i}", "name": f"Person {u} {i}", "email": f"{u.lower()}.{i}@domix.example",
               "unit": u, "role": "staff", "language": "pl" if i % 2 else "it", "hired_at": dt.date(2020, 1, 1),
               "left_at": None} for u, n in staff.items() for i in range(n)]
    people += extra or []
    with store.transaction():
        insert_rows(store, "units", units)
        insert_rows(store, "employees", pd.DataFrame(people))


def survey(store: Store, definition=ENPS):
    return repo.get(store, repo.add(store, from_dict(definition)))


def invite(store: Store, s, period: str | None = None, **kw):
    plan = invitations.plan(store, s, day=DAY, period=period, **kw)
    return plan, invitations.issue(store, plan, base_url="http://testserver")


def invitation_ids(store: Store, s) -> dict[str, int]:
    return dict(store.execute("SELECT employee_id, invitation_id FROM employee_invitations WHERE survey_id = ?",
                              [s.survey_id]).fetchall())


def answer_all(store: Store, s, scores: dict[str, int], comments: dict[str, str] | None = None,
               extras: dict[str, dict] | None = None, seed: int = 1):
    ids = invitation_ids(store, s)
    items = [(ids[e], Answer(v, (comments or {}).get(e), (extras or {}).get(e, {}), "pl")) for e, v in scores.items()]
    return answers.record_many(store, items, today=DAY, new_id=seeded_ids(seed))


# -- known answers ---------------------------------------------------------------------------------------------

def test_enps_is_customer_nps_of_the_employees_scores_with_its_interval(store):
    # 10 answers: 4 promoters (9, 10, 9, 10), 3 passives (7, 8, 8), 3 detractors (0, 6, 5)
    # eNPS = 100·(0.4 − 0.3) = 10; n < 30: adjusted Wald, n + 3 = 13, p = 4.75/13, d = 3.75/13
    # var = (p + d − (p − d)²)/13 = (0.65385 − 0.005917)/13 = 0.049841; se = 22.325; centre = 7.692
    company(store, {"S1": 10})
    s = survey(store)
    invite(store, s)
    answer_all(store, s, dict(zip([f"S1-{i}" for i in range(10)], [9, 10, 9, 10, 7, 8, 8, 0, 6, 5], strict=True)))
    b = analysis.enps(store, survey="enps")
    (cut,) = b.rows
    assert cut.hidden is None and b.period == "2026-Q2"
    sc = cut.score
    assert sc.value == pytest.approx(10.0) and sc.n == 10 and sc.method == "adjusted-wald"
    assert sc.counts == {"promoters": 4, "passives": 3, "detractors": 3}
    assert sc.low == pytest.approx(7.692 - 1.95996 * 22.325, abs=0.01)
    assert sc.high == pytest.approx(7.692 + 1.95996 * 22.325, abs=0.01)


def test_a_unit_below_the_threshold_shows_nothing_and_its_complement_is_hidden_too(store):
    company(store, {"S1": 9, "S2": 7, "S3": 2})
    s = survey(store)
    invite(store, s)
    scores = {f"S1-{i}": 9 for i in range(9)} | {f"S2-{i}": 3 for i in range(7)} | {"S3-0": 10, "S3-1": 10}
    answer_all(store, s, scores)
    rows = {c.group["store"]: c for c in analysis.enps(store, "store", "enps").rows}
    assert rows["S3"].hidden == "below_threshold" and rows["S3"].score is None
    # the company (18 answers) minus S1 and S2 would give S3's two answers: the smallest visible store goes too
    assert rows["S2"].hidden == "complementary" and rows["S2"].score is None
    assert rows["S1"].hidden is None and rows["S1"].score.value == pytest.approx(100.0)
    d = analysis.enps(store, "store", "enps").to_dict()
    hidden = [g for g in d["groups"] if g["store"] == "S3"][0]
    assert hidden["value"] is None and hidden["n"] is None and "threshold" in hidden["why"]
    # with a threshold of 3, S3's two answers are still below it, and S2 (7) is hidden again as its complement
    rows3 = {c.group["store"]: c for c in analysis.enps(store, "store", "enps", threshold_value=3).rows}
    assert rows3["S3"].hidden == "below_threshold" and rows3["S2"].hidden == "complementary"


def test_a_region_holding_a_hidden_store_is_hidden_too(store):
    """Across cuts: North = S1 (9) + S2 (2), South = S3 (9) + S4 (8). By store, S2 is below the threshold and S4
    its complement. By region both regions have enough answers, but North minus S1 would give S2's two answers
    (and, with the promoters and detractors, their eNPS): a region holding a hidden store is hidden."""
    company(store, {"S1": 9, "S2": 2, "S3": 9, "S4": 8})
    s = survey(store)
    invite(store, s)
    scores = ({f"S1-{i}": 9 for i in range(9)} | {"S2-0": 0, "S2-1": 1} | {f"S3-{i}": 10 for i in range(9)}
              | {f"S4-{i}": 7 for i in range(8)})
    answer_all(store, s, scores)
    stores = {c.group["store"]: c.hidden for c in analysis.enps(store, "store", "enps").rows}
    assert stores == {"S1": None, "S2": "below_threshold", "S3": None, "S4": "complementary"}
    regions = {c.group["region"]: c for c in analysis.enps(store, "region", "enps").rows}
    assert {r: c.hidden for r, c in regions.items()} == {"North": "complementary", "South": "complementary"}
    assert all(c.score is None for c in regions.values())
    # the attack, made: every region still shown holds only stores that are shown
    shown = {r for r, c in regions.items() if c.hidden is None}
    assert not any(stores[u] for u, r in {"S1": "North", "S2": "North", "S3": "South", "S4": "South"}.items()
                   if r in shown)
    # the same by region and period
    both = {(c.group["region"], c.group["period"]): c.hidden for c in analysis.enps(store, ["region", "period"],
                                                                                      "enps").rows}
    assert set(both.values()) == {"complementary"}


def test_regions_whose_stores_are_all_shown_stay_shown(store):
    company(store, {"S1": 9, "S2": 6, "S3": 9, "S4": 8})
    s = survey(store)
    invite(store, s)
    answer_all(store, s, {f"{u}-{i}": 8 for u, n in {"S1": 9, "S2": 6, "S3": 9, "S4": 8}.items() for i in range(n)})
    regions = {c.group["region"]: c for c in analysis.enps(store, "region", "enps").rows}
    assert {r: (c.hidden, c.score.n) for r, c in regions.items()} == {"North": (None, 15), "South": (None, 17)}


def test_hiding_within_each_slice_of_two_columns():
    counts = {("A", "Q1"): 6, ("B", "Q1"): 2, ("C", "Q1"): 8, ("A", "Q2"): 6, ("B", "Q2"): 6, ("C", "Q2"): 6}
    hidden = analysis.hide(counts, ["unit", "period"], 5)
    # Q1: B below (2) → A (6, the smallest visible) complementary; then unit A's periods: A-Q1 hidden alone
    # (6 < 5? no: 6 ≥ 5) — hidden sum 6 ≥ 5, nothing more; unit B: B-Q1 hidden (2) → B-Q2 complementary
    assert hidden[("B", "Q1")] == "below_threshold"
    assert hidden[("A", "Q1")] == "complementary"
    assert hidden[("B", "Q2")] == "complementary"
    # period Q2 now has B hidden alone (6 ≥ 5): nothing more to hide there
    assert ("A", "Q2") not in hidden and ("C", "Q2") not in hidden and ("C", "Q1") not in hidden


def test_the_threshold_setting_takes_3_to_10_only(monkeypatch):
    assert analysis.threshold() == 5
    monkeypatch.setenv("CENTRIC_ENPS_THRESHOLD", "3")
    assert analysis.threshold() == 3
    for bad in ("2", "11", "five"):
        monkeypatch.setenv("CENTRIC_ENPS_THRESHOLD", bad)
        with pytest.raises(SettingError, match="enps_threshold.*from 3 to 10"):
            analysis.threshold()
    with pytest.raises(SettingError, match="from 3 to 10"):
        settings.get("enps_threshold", "1")


def test_pulse_means_intervals_and_top_box(store):
    company(store, {"S1": 6})
    p = survey(store, PULSE)
    invite(store, p)
    main = [5, 4, 4, 3, 2, 5]  # mean 23/6 = 3.8333; 4–5: 4 of 6
    work = [1, 2, 3, 4, 5, 5]  # mean 20/6 = 3.3333; sd = 1.6330; t(0.975, 5) = 2.5706 → ± 1.7137
    answer_all(store, p, {f"S1-{i}": v for i, v in enumerate(main)},
               extras={f"S1-{i}": {"workload": str(v)} for i, v in enumerate(work)})
    rows = {r.question: r for r in analysis.pulse(store, survey="pulse").rows}
    assert rows["score"].mean == pytest.approx(23 / 6) and rows["score"].top_box == pytest.approx(400 / 6)
    w = rows["workload"]
    assert w.mean == pytest.approx(20 / 6) and w.n == 6 and w.top_box == pytest.approx(50.0)
    assert w.low == pytest.approx(20 / 6 - 1.7137, abs=1e-3)
    assert w.high == 5  # 3.3333 + 1.7137 = 5.047, beyond the scale: the interval stops at its end
    assert w.label == "Workload"
    # four answers to the workload question only: below the threshold, that question is hidden
    store.execute("DELETE FROM employee_ratings WHERE value IN ('1', '2')")
    rows = {r.question: r for r in analysis.pulse(store, survey="pulse").rows}
    assert rows["workload"].hidden == "below_threshold" and rows["workload"].mean is None
    assert rows["score"].hidden is None


def test_correlation_and_its_fisher_interval_by_hand():
    # x = 1..6, y = 2, 1, 4, 3, 6, 5: Sxy = 14.5, Sxx = Syy = 17.5 → r = 0.828571
    c = analysis.correlation([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    assert c.r == pytest.approx(14.5 / 17.5)
    z, half = math.atanh(14.5 / 17.5), 1.959964 / math.sqrt(3)
    assert c.low == pytest.approx(math.tanh(z - half), abs=1e-6)
    assert c.high == pytest.approx(math.tanh(z + half), abs=1e-6)
    assert c.spearman == pytest.approx(1 - 6 * 6 / (6 * 35))  # Σd² = 6 → ρ = 1 − 36/210
    few = analysis.correlation([1, 2, 3], [1, 3, 2])
    assert few.r == pytest.approx(0.5) and few.low is None and few.high is None
    assert analysis.correlation([1, 2], [2, 1]).r is None


def test_stores_beside_their_customers_nps_and_complaint_rate(store):
    company(store, {"S1": 5, "S2": 5, "S3": 5, "S4": 5})
    s = survey(store)
    invite(store, s)
    e_scores = {"S1": [10] * 5, "S2": [9, 9, 7, 7, 2], "S3": [7, 7, 7, 3, 3], "S4": [0] * 5}
    answer_all(store, s, {f"{u}-{i}": v for u, vs in e_scores.items() for i, v in enumerate(vs)})
    # customers in Q2 2026 (and one answer outside it, which must not count)
    resp, orders, complaints = [], [], []
    cust = {"S1": [10, 10, 9, 7], "S2": [10, 8, 6, 9], "S3": [6, 8, 9, 3], "S4": [0, 6, 9, 2]}
    for u, vs in cust.items():
        for i, v in enumerate(vs):
            resp.append((f"R{u}{i}", u, v, dt.datetime(2026, 5, 3)))
        for i in range(10 if u != "S4" else 5):
            orders.append((f"O{u}{i}", u, dt.datetime(2026, 4, 9)))
    resp.append(("Rold", "S4", 10, dt.datetime(2026, 3, 31)))
    complaints += [("F1", "S1", dt.datetime(2026, 6, 1)), ("F2", "S4", dt.datetime(2026, 6, 1)),
                   ("F3", "S4", dt.datetime(2026, 6, 2)), ("F4", "S4", dt.datetime(2026, 7, 2))]
    with store.transaction():
        for rid, u, v, t in resp:
            store.execute("INSERT INTO responses (response_id, responded_at, nps, store) VALUES (?, ?, ?, ?)",
                          [rid, t, v, u])
        for oid, u, t in orders:
            store.execute("INSERT INTO orders (order_id, customer_id, ordered_at, amount, store) "
                          "VALUES (?, 'C1', ?, 10, ?)", [oid, t, u])
        for fid, u, t in complaints:
            store.execute("INSERT INTO feedback (feedback_id, source, posted_at, text, store) VALUES "
                          "(?, 'complaint', ?, 'x', ?)", [fid, t, u])
    c = analysis.compare(store, "enps")
    by = {r.unit: r for r in c.rows}
    assert c.period == "2026-Q2"
    # eNPS: S1 100, S2 (2 − 1)/5 = 20, S3 (0 − 2)/5 = −40, S4 −100
    assert [by[u].enps.value for u in ("S1", "S2", "S3", "S4")] == pytest.approx([100, 20, -40, -100])
    # customers: S1 (3 − 0)/4 = 75, S2 (2 − 1)/4 = 25, S3 (1 − 2)/4 = −25, S4 (1 − 3)/4 = −50 (the March answer
    # is outside the quarter)
    assert [by[u].nps.value for u in ("S1", "S2", "S3", "S4")] == pytest.approx([75, 25, -25, -50])
    assert by["S1"].complaint_rate == pytest.approx(10.0) and by["S4"].complaint_rate == pytest.approx(40.0)
    assert by["S2"].complaint_rate == 0.0  # the July complaint is outside the quarter
    x, y = [100, 20, -40, -100], [75, 25, -25, -50]
    expected = analysis.correlation(x, y)
    mx, my = sum(x) / 4, sum(y) / 4
    r = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / math.sqrt(
        sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))
    assert c.with_nps.r == pytest.approx(r) and c.with_nps.n == 4
    assert c.with_nps.low == pytest.approx(expected.low) and c.with_nps.low < r < c.with_nps.high
    assert c.with_complaints.r < 0  # happier teams, fewer complaints here


# -- invitations -------------------------------------------------------------------------------------------------

def test_invitations_skip_leavers_and_newcomers_and_speak_the_employees_language(store):
    leaver = {"employee_id": "L1", "name": "Gone", "email": "gone@domix.example", "unit": "S1", "role": "staff",
              "language": "pl", "hired_at": dt.date(2020, 1, 1), "left_at": dt.date(2026, 4, 30)}
    later = {**leaver, "employee_id": "N1", "email": "new@domix.example", "left_at": None,
             "hired_at": dt.date(2026, 6, 1)}
    ru = {**leaver, "employee_id": "R1", "email": "ru@domix.example", "left_at": None, "language": "ru"}
    company(store, {"S1": 3, "D1": 2}, [leaver, later, ru])
    s = survey(store, {**ENPS, "languages": ["pl", "it", "en"]})
    plan, links = invite(store, s, units=["S1"])
    assert sorted(plan.invite["employee_id"]) == ["R1", "S1-0", "S1-1", "S1-2"]
    assert plan.reasons() == {"left": 1, "not_started": 1}
    lang = dict(zip(plan.invite["employee_id"], plan.invite["language"], strict=True))
    assert lang == {"S1-0": "it", "S1-1": "pl", "S1-2": "it", "R1": "pl"}  # ru: not a language of the survey
    assert all(link.period == "2026-Q2" for link in links)
    # the same period again: nobody twice
    again, _ = invite(store, s, units=["S1"])
    assert len(again.invite) == 0 and again.reasons()["already_invited"] == 4
    # a link is an employee link: a customer token of the same number does not read as one, and vice versa
    secret = tokens.secret(store)
    token = links[0].url.rsplit("/", 1)[1]
    number = tokens.read(secret, token, tokens.EMPLOYEE)
    assert number is not None and tokens.read(secret, token) is None
    assert tokens.read(secret, tokens.make(secret, number), tokens.EMPLOYEE) is None
    with pytest.raises(SurveyError, match="--unit 'S9'"):
        invitations.plan(store, s, units=["S9"], day=DAY)


def test_invitations_from_a_csv_name_their_rows(store, write):
    company(store, {"S1": 2})
    s = survey(store)
    path = write("staff.csv", "E-mail;Note\ns1.0@domix.example;x\nnobody@domix.example;y\nS1.0@DOMIX.example;z\n")
    plan = invitations.plan(store, s, employees=invitations.read_employees_csv(path), day=DAY)
    assert list(plan.invite["employee_id"]) == ["S1-0"]
    assert plan.skipped[["row", "reason"]].values.tolist() == [[3, "unknown_employee"], [4, "repeated"]]
    with pytest.raises(SurveyError, match="needs a column 'employee_id' or 'email'"):
        invitations.read_employees_csv(write("bad.csv", "who\nx\n"))


def test_employee_and_customer_surveys_do_not_mix(store):
    from centric.surveys import invitations as customer_invitations

    with pytest.raises(SurveyError, match="employee survey is nps .* or csat"):
        from_dict({**ENPS, "kind": "ces"})
    with pytest.raises(SurveyError, match="anonymous"):
        from_dict({**ENPS, "anonymous": True})
    with pytest.raises(SurveyError, match="period: 'week'"):
        from_dict({**ENPS, "period": "week"})
    with pytest.raises(SurveyError, match="only an employee survey"):
        from_dict({"slug": "x", "name": "x", "kind": "nps", "period": "month", "branding": {"company": "D"}})
    s = survey(store)
    assert s.audience == "employees" and s.period == "quarter"
    assert "place to work" in s.text("en").question and "miejsce pracy" in s.text("pl").question
    assert from_dict(s.to_dict()) == from_dict(s.to_dict())  # round trip
    with pytest.raises(SurveyError, match="centric enps invite"):
        customer_invitations.plan(store, s, segment="x")
    customer = repo.get(store, repo.add(store, from_dict({"slug": "c", "name": "c", "kind": "nps",
                                                          "branding": {"company": "D"}})))
    with pytest.raises(SurveyError, match="customer survey"):
        invitations.plan(store, customer, day=DAY)


# -- anonymity ----------------------------------------------------------------------------------------------------

def test_no_answer_can_be_joined_back_to_its_invitation(store):
    """The attack: take every column the answers share with the invitations (by name or by meaning — a time, an
    order, a number) and try to narrow an answer down to one invitation. It must never get below the cut."""
    company(store, {"S1": 12, "S2": 12})
    s = survey(store)
    invite(store, s)
    ids = invitation_ids(store, s)
    before = store.execute("SELECT count(*) FROM responses").fetchone()[0]
    # 20 employees answer one by one, in a known order (as the web form stores them)
    order = [f"S{1 + i % 2}-{i // 2}" for i in range(20)]
    rnd = seeded_ids(7)
    for k, e in enumerate(order):
        out = answers.record(store, ids[e], Answer(k % 11, f"comment {k}", {}, "pl"), today=DAY, new_id=rnd)
        assert out.status == "stored"
    # 1. nothing went to the customers' tables
    assert store.execute("SELECT count(*) FROM responses").fetchone()[0] == before
    assert store.execute("SELECT count(*) FROM survey_answers").fetchone()[0] == 0
    # 2. the columns: shared ones are the cut only; no time at all; no person
    cols = {t: {r[0]: r[1].upper() for r in store.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [t]).fetchall()}
        for t in ("employee_answers", "employee_ratings", "employee_themes", "employee_invitations")}
    answer_side = set(cols["employee_answers"]) | set(cols["employee_ratings"]) | set(cols["employee_themes"])
    assert answer_side & set(cols["employee_invitations"]) == {"survey_id", "period", "unit"}
    for t in ("employee_answers", "employee_ratings", "employee_themes"):
        assert not [c for c, ty in cols[t].items() if "TIME" in ty or "DATE" in ty], t
    assert not {"employee_id", "email", "customer_id", "invitation_id", "language"} & answer_side
    inv_times = [c for c, ty in cols["employee_invitations"].items() if "TIME" in ty or "DATE" in ty]
    assert inv_times == ["expires_on"]  # a day, the same for everyone invited together; nothing is "when used"
    assert store.execute("SELECT count(DISTINCT expires_on) FROM employee_invitations").fetchone()[0] == 1
    # 3. the join on every shared column: each answer matches every used invitation of its unit, never one
    joined = store.execute(
        "SELECT a.answer_id, count(i.invitation_id) FROM employee_answers a JOIN employee_invitations i "
        "ON i.survey_id = a.survey_id AND i.period = a.period AND i.unit = a.unit AND i.used GROUP BY 1").fetchall()
    assert len(joined) == 20 and {n for _, n in joined} == {10}
    # 4. the ids: random, not the invitation's number, its token or a sequence
    stored = [r[0] for r in store.execute("SELECT answer_id FROM employee_answers").fetchall()]
    numbers = {str(i) for i in ids.values()}
    assert not numbers & set(stored) and all(len(a) == 32 for a in stored)
    assert not any(str(i) in a or f"{i:x}" in a for i in ids.values() for a in stored)
    # 5. the order: rows are kept in the order of their random ids, not in the order they came
    assert stored == sorted(stored)
    physical = "ctid" if store.engine == "postgresql" else "rowid"  # each engine's order of the stored rows
    rowid_order = [r[0] for r in store.execute(f"SELECT comment FROM employee_answers ORDER BY {physical}").fetchall()]
    arrival = [int(c.split()[1]) for c in rowid_order]
    assert arrival != sorted(arrival)
    from scipy.stats import spearmanr

    assert abs(spearmanr(arrival, range(20))[0]) < 0.5  # the stored order says nothing of the arrival order
    # 6. the invitation is marked used, and nothing else about it changed
    used = store.execute("SELECT employee_id, used FROM employee_invitations").fetchall()
    assert {e for e, u in used if u} == set(order)


def test_a_link_takes_one_answer_and_not_after_its_last_day(store):
    company(store, {"S1": 2})
    s = survey(store)
    invite(store, s)
    ids = invitation_ids(store, s)
    assert answers.record(store, ids["S1-0"], Answer(9, None, {}, "pl"), today=DAY).status == "stored"
    assert answers.record(store, ids["S1-0"], Answer(1, None, {}, "pl"), today=DAY).status == "already"
    assert answers.record(store, 12345, Answer(1, None, {}, "pl"), today=DAY).status == "unknown"
    late = DAY + dt.timedelta(days=31)
    assert answers.record(store, ids["S1-1"], Answer(1, None, {}, "pl"), today=late).status == "expired"
    repo.set_status(store, s.survey_id, "closed")
    assert answers.record(store, ids["S1-1"], Answer(1, None, {}, "pl"), today=DAY).status == "closed"
    assert store.execute("SELECT score FROM employee_answers").fetchall() == [(9,)]


# -- comments and themes --------------------------------------------------------------------------------------------

class FixedThemes:
    """A stand-in for the text pipeline's factor stage (an object with ``analyze``): the theme is the comment's
    first word — so the threshold logic is tested on known themes."""

    def analyze(self, items):
        from centric.text.pipeline import TextResult

        return [TextResult(d["id"], "en", [d["text"]], [{"factor": d["text"].split()[0], "sentiment": "negative"}],
                           "negative", -0.5) for d in items]


def test_comments_and_themes_stay_hidden_below_the_threshold(store):
    company(store, {"S1": 6, "S2": 6, "S3": 3})
    s = survey(store)
    invite(store, s)
    comments = {f"S1-{i}": f"schedule late {i}" for i in range(6)}
    comments |= {f"S2-{i}": ("pay low" if i < 4 else f"tools slow {i}") for i in range(6)}
    comments["S2-5"] = "tools slow, ask Person S1 3"  # a colleague named: masked
    comments |= {f"S3-{i}": f"management mail me at boss{i}@domix.example" for i in range(3)}
    answer_all(store, s, {e: 5 for e in comments}, comments)
    assert analysis.analyze(store, FixedThemes()) == 15
    assert analysis.analyze(store, FixedThemes()) == 0  # nothing left to analyse
    th = analysis.themes(store, "enps")
    # schedule: 6 comments (shown); pay 4, tools 2, management 3: each below 5 → withheld
    assert [(t.factor, t.comments, t.net) for t in th.themes] == [("schedule", 6, -100.0)]
    assert th.withheld == 3 and th.waiting == 0
    c = analysis.comments(store, "enps")
    # S3 (3 answers) is hidden, and with it the smallest visible unit (S1 and S2 have 6 each: the first by name):
    # only S2's comments are shown, sorted (their order says nothing of who came first)
    assert set(c.by_unit) == {"S2"} and c.withheld_units == 2
    assert c.by_unit["S2"] == ["pay low"] * 4 + ["tools slow 4", "tools slow, ask [name]"]
    # with a threshold of 3, every unit shows; the e-mail addresses in S3's comments are masked
    c3 = analysis.comments(store, "enps", threshold_value=3)
    assert set(c3.by_unit) == {"S1", "S2", "S3"}
    assert all("@" not in t and "[e-mail]" in t for t in c3.by_unit["S3"])
    th3 = analysis.themes(store, "enps", threshold_value=3)
    assert [t.factor for t in th3.themes] == ["schedule", "pay", "management"]
    # the employees' comments never reach the customers' text tables
    assert store.execute("SELECT count(*) FROM text_analyses").fetchone()[0] == 0
    assert store.execute("SELECT count(*) FROM mentions").fetchone()[0] == 0


def test_a_period_below_the_threshold_shows_no_theme_at_all(store):
    company(store, {"S1": 4})
    s = survey(store)
    invite(store, s)
    answer_all(store, s, {f"S1-{i}": 5 for i in range(4)}, {f"S1-{i}": "pay low" for i in range(4)})
    analysis.analyze(store, FixedThemes())
    th = analysis.themes(store, "enps", threshold_value=3)
    assert [t.factor for t in th.themes] == ["pay"]
    assert analysis.themes(store, "enps").themes == []
    assert analysis.enps(store, survey="enps").rows[0].hidden == "below_threshold"


# -- erasing an employee --------------------------------------------------------------------------------------------

def test_forgetting_an_employee_erases_them_and_unlinks_their_invitations(store):
    company(store, {"S1": 5})
    s = survey(store)
    invite(store, s)
    answer_all(store, s, {f"S1-{i}": 8 for i in range(5)})
    from centric.orientation.records import record_assessment

    for who, view in (("S1-2", "manager"), ("S1-2", "self"), ("S1-3", "manager")):
        record_assessment(store, who, view, {"attitude": 4, "clear_speech": 3}, "boss", comment="calm with customers")
    e = forget_employee(store, "S1.2@domix.example")
    assert e.employee_id == "S1-2" and e.invitations == 1 and e.assessments == 2
    assert store.execute("SELECT employee_id FROM orientation_assessments").fetchall() == [("S1-3",)]
    assert store.execute("SELECT name, email FROM employees WHERE employee_id = 'S1-2'").fetchone() == (None, None)
    assert store.execute("SELECT count(*) FROM employee_invitations WHERE employee_id = 'S1-2' OR email LIKE "
                         "'%s1.2%'").fetchone()[0] == 0
    assert store.execute("SELECT count(*) FROM employee_answers").fetchone()[0] == 5  # never linked: they stay
    plan = invitations.plan(store, s, day=DAY, period="2026-Q3")
    assert "S1-2" not in set(plan.invite["employee_id"]) and plan.reasons()["erased"] == 1
    with pytest.raises(CentricError, match="no employee"):
        forget_employee(store, "nobody@domix.example")


# -- the command line ---------------------------------------------------------------------------------------------

def test_cli_prints_enps_like_metrics_nps_and_says_why_a_group_is_hidden(tmp_path):
    from centric.cli import app

    db = tmp_path / "c.duckdb"
    s0 = Store.open(db)
    company(s0, {"S1": 7, "S2": 6, "S3": 2})
    s = survey(s0)
    invite(s0, s)
    answer_all(s0, s, {f"S1-{i}": 10 for i in range(7)} | {f"S2-{i}": 0 for i in range(6)} | {"S3-0": 9, "S3-1": 9})
    s0.close()
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db), "enps", "--by", "store", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    groups = {g["store"]: g for g in d["groups"]}
    assert groups["S1"]["value"] == 100.0 and groups["S1"]["n"] == 7 and len(groups["S1"]["interval"]) == 2
    assert groups["S3"]["value"] is None and groups["S3"]["hidden"] == "below_threshold"
    assert groups["S2"]["hidden"] == "complementary" and d["threshold"] == 5
    r = runner.invoke(app, ["--db", str(db), "enps", "--by", "store"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "hidden: fewer than 5 answers" in r.output and "100.0 pts" in r.output
    r = runner.invoke(app, ["--db", str(db), "enps", "--by", "shelf"])
    assert r.exit_code == 2 and "--by 'shelf'" in r.output
    r = runner.invoke(app, ["--db", str(db), "enps", "--threshold", "2"])
    assert r.exit_code == 2 and "from 3 to 10" in r.output
    r = runner.invoke(app, ["--db", str(db), "enps", "forget", "S1-0"])
    assert r.exit_code == 0 and "1 invitations unlinked" in r.output
    r = runner.invoke(app, ["--db", str(db), "enps", "invite", "enps", "--unit", "S1", "--period", "2026-Q3",
                            "--out", str(tmp_path / "links.csv")])
    assert r.exit_code == 0 and "invited 6 employees" in r.output, r.output
    links = pd.read_csv(tmp_path / "links.csv")
    assert list(links.columns) == invitations.LINK_COLUMNS and len(links) == 6
