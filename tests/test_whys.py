"""5 whys: the tree's levels, shares, baselines and verdicts on a small store built by hand, evidence traced back
to its rows, quotes masked, the saved trees' edits, and the demo's planted delivery problem reaching its root
cause."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from centric.errors import CentricError
from centric.whys import Node, WhysTree, saved, whys
from centric.whys.tree import period_bounds

from .engines import db_of, executemany

T0 = dt.datetime(2025, 3, 1)
A = "The courier left the parcel at the invoice address"
B = "Delivery was a week late"
P = "The price is too high"


def _build(store):
    """12 complaints "A" (delivery, negative), 8 "B" (delivery, negative), 10 negative and 10 positive about
    price, 5 positive about delivery. Where: A1–A2 carry the touchpoint delivery, A3–A11 are placed at delivery
    by their customer's journey event a day before, A12's only event is 40 days before (unknown); B texts carry
    delivery; price texts checkout. Cases: A1–A10 opened one each (A1–A9 delivery, A10 customer_service), closed
    A1–A8 with delivery · invoice address, A10 with call_centre · no call back; B1–B6 delivery, B1–B3 closed
    courier late, B4 invoice address; P1–P5 sales, closed price · promotion not applied."""
    fb, an, me, ev, cu, cs, sg, ce = [], [], [], [], [], [], [], []

    def text(tid, body, factor, sentiment, touchpoint=None, customer=None, day=0):
        at = T0 + dt.timedelta(days=day)
        fb.append((tid, customer, "complaint", "ours", at, body, "en", touchpoint))
        an.append(("feedback", tid, "retail", "en", sentiment, 0.0, "{}", "[]", "hand", T0))
        me.append(("feedback", tid, 0, factor, sentiment, -0.6 if sentiment == "negative" else 0.6, 0.9, "retail", "en"))
        return at

    for i in range(1, 13):
        cust = f"CA{i}"
        cu.append((cust, "Jan Kowalski" if i == 3 else f"Customer {i}"))
        body = A + (", write to jan.kowalski@example.com, Jan Kowalski" if i == 3 else "")
        at = text(f"A{i}", body + ".", "delivery", "negative", "delivery" if i <= 2 else None, cust, day=i)
        if i >= 3:
            back = dt.timedelta(days=40 if i == 12 else 1)
            ev.append((f"E{i}", cust, at - back, "purchase", "delivery", "delivery", "courier"))
    for i in range(1, 9):
        text(f"B{i}", B + ".", "delivery", "negative", "delivery", day=i)
    for i in range(1, 11):
        text(f"P{i}", P + ".", "price", "negative", "checkout", day=i)
        text(f"Q{i}", "Good prices.", "price", "positive", "checkout", day=i)
    for i in range(1, 6):
        text(f"D{i}", "Fast delivery.", "delivery", "positive", "delivery", day=20 + i)

    def case(cid, tid, dept, cause=None, sub=None):
        at = T0 + dt.timedelta(days=20)
        closed = at + dt.timedelta(days=2) if cause else None
        cs.append((cid, at, "delivery", dept, "closed" if cause else "in_progress", closed, cause, sub, "signal"))
        sg.append(("feedback", tid, cid, "complaint", at, "opened", at))
        if cause:
            ce.append((f"{cid}-close", cid, closed, "closed", json.dumps({"root_cause": cause, "sub_cause": sub})))

    for i in range(1, 11):
        dept = "delivery" if i <= 9 else "customer_service"
        cause = ("delivery", "invoice address") if i <= 8 else ("call_centre", "no call back") if i == 10 else (None, None)
        case(f"CA{i}", f"A{i}", dept, *cause)
    for i in range(1, 7):
        cause = ("delivery", "courier late") if i <= 3 else ("delivery", "invoice address") if i == 4 else (None, None)
        case(f"CB{i}", f"B{i}", "delivery", *cause)
    for i in range(1, 6):
        case(f"CP{i}", f"P{i}", "sales", "price", "promotion not applied")
    with store.transaction():
        executemany(store, "INSERT INTO customers (customer_id, name) VALUES (?, ?)", cu)
        executemany(store, "INSERT INTO feedback (feedback_id, customer_id, source, brand, posted_at, text, language, "
                           "touchpoint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", fb)
        executemany(store, "INSERT INTO text_analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", an)
        executemany(store, "INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", me)
        executemany(store, "INSERT INTO events (event_id, customer_id, occurred_at, journey, stage, touchpoint, channel) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", ev)
        executemany(store, "INSERT INTO cases (case_id, opened_at, type, department, status, closed_at, root_cause, "
                           "root_sub_cause, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", cs)
        executemany(store, "INSERT INTO case_signals (source_table, signal_id, case_id, kind, signal_at, action, "
                           "attached_at) VALUES (?, ?, ?, ?, ?, ?, ?)", sg)
        executemany(store, "INSERT INTO case_events (case_event_id, case_id, occurred_at, kind, data) "
                           "VALUES (?, ?, ?, ?, ?)", ce)


@pytest.fixture
def tree(store):
    _build(store)
    return whys(store, "delivery", k=2, min_support=2, min_child_share=0, min_cases=5, min_share=25)


def _by_label(node: Node) -> dict[str, Node]:
    return {c.label: c for c in node.children}


def test_the_tree_levels_shares_and_baselines(tree):
    root = tree.root
    assert (root.level, root.key, root.n) == ("problem", "delivery", 20)
    # 20 of delivery's 25 mentions are negative, against 10 of the other factors' 20
    assert root.share == pytest.approx(80.0) and root.baseline == pytest.approx(50.0)
    says = sorted(root.children, key=lambda n: -n.n)
    assert [n.level for n in says] == ["says", "says"] and [n.n for n in says] == [12, 8]
    a, b = says
    assert "invoice" in a.label and "late" in b.label
    assert a.share == pytest.approx(60.0) and a.baseline == pytest.approx(50.0)
    # P(X ≥ 12) for X ~ Bin(20, ½) = 0.2517: not significant, however corrected
    raw = sum(math.comb(20, j) for j in range(12, 21)) / 2 ** 20
    assert raw == pytest.approx(0.2517, abs=1e-4) and a.p >= raw and not a.significant
    # where: A's 12 texts: 11 at delivery (2 by touchpoint, 9 by the journey event the day before), 1 unknown
    where = _by_label(a)
    assert set(where) == {"delivery"} and a.other == 1  # the unknown one is below min_support
    w = where["delivery"]
    assert (w.n, w.unit) == (11, "texts") and w.share == pytest.approx(100 * 11 / 12)
    # the population: 30 texts with a negative mention, 19 of them at delivery; the rest: 8 of 18
    assert w.baseline == pytest.approx(100 * 8 / 18)
    assert w.evidence["events"] == [f"E{i}" for i in sorted(range(3, 12), key=str)]
    dept = _by_label(w)
    assert set(dept) == {"delivery"} and w.other == 1  # A10's customer_service case is below min_support
    d = dept["delivery"]
    assert (d.n, d.unit) == (9, "cases") and d.share == pytest.approx(90.0)
    assert d.baseline == pytest.approx(100 * 6 / 11)  # 21 linked cases, 15 of delivery: the rest 6 of 11
    # B: every text at delivery, its six cases in delivery
    wb = _by_label(b)["delivery"]
    assert wb.share == pytest.approx(100.0) and wb.baseline == pytest.approx(100 * 11 / 22)
    db = _by_label(wb)["delivery"]
    assert db.n == 6 and db.baseline == pytest.approx(100 * 9 / 15)


def test_leaves_root_cause_or_expected_by_the_rule(tree):
    a = max(tree.root.children, key=lambda n: n.n)
    d = _by_label(_by_label(a)["delivery"])["delivery"]
    (cause,) = d.children
    assert (cause.level, cause.label, cause.n) == ("cause", "delivery · invoice address", 8)
    # 8 of the branch's 8 closed cases; the rest: 1 of the other 10 closed cases with a root cause
    assert cause.share == pytest.approx(100.0) and cause.baseline == pytest.approx(10.0)
    assert cause.significant and cause.verdict == "root cause"
    assert d.other == 0 and d.verdict is None
    # B: courier late is 3 of 4 closed cases — above its baseline, but fewer than min_cases: expected
    b = min(tree.root.children, key=lambda n: n.n)
    db = _by_label(_by_label(b)["delivery"])["delivery"]
    late = _by_label(db)["delivery · courier late"]
    assert late.n == 3 and late.share == pytest.approx(75.0) and late.verdict == "expected"
    assert db.other == 1  # B4's invoice address: a single case
    assert [n.label for n in tree.root_causes()] == ["delivery · invoice address"]
    assert all(n.verdict in ("root cause", "expected", "open") for n in tree.leaves())


def test_evidence_traces_back_to_rows_and_quotes_are_masked(tree, store):
    a = max(tree.root.children, key=lambda n: n.n)
    cause = tree.root_causes()[0]
    assert cause.evidence["cases"] == sorted(f"CA{i}" for i in range(1, 9))
    assert cause.evidence["texts"] == sorted(f"feedback:A{i}" for i in range(1, 9))
    assert cause.evidence["case_events"] == sorted(f"CA{i}-close" for i in range(1, 9))
    marks = ", ".join("?" for _ in cause.evidence["cases"])
    rows = store.execute(f"SELECT root_sub_cause FROM cases WHERE case_id IN ({marks})",
                         cause.evidence["cases"]).fetchall()
    assert {r[0] for r in rows} == {"invoice address"}
    assert set(a.evidence["texts"]) == {f"feedback:A{i}" for i in range(1, 13)}
    quotes = [q for n in tree.nodes() for q in n.quotes]
    assert quotes and not any("jan.kowalski" in q or "Kowalski" in q for q in quotes)
    assert any("[e-mail]" in q and "[name]" in q for q in quotes)


def test_to_frame_to_dict_and_figure(tree):
    df = tree.to_frame()
    assert list(df["id"]) == [n.id for n in tree.nodes()] and df["parent"].isna().sum() == 1
    again = WhysTree.from_dict(json.loads(json.dumps(tree.to_dict())))
    assert again.to_dict() == tree.to_dict()
    fig = tree.figure()
    assert list(fig.data[0].ids) == list(df["id"])


def test_bad_input_is_named(store):
    _build(store)
    with pytest.raises(CentricError, match="--factor 'staff'"):
        whys(store, "staff")
    with pytest.raises(CentricError, match="no negative mention"):
        whys(store, "delivery", dt.datetime(2025, 3, 21), dt.datetime(2025, 3, 27))  # only the positive ones


def test_period_bounds():
    assert period_bounds("2025-Q1") == (dt.datetime(2025, 1, 1), dt.datetime(2025, 4, 1))
    assert period_bounds(None) == (None, None)
    with pytest.raises(CentricError, match="--period '2025-13'"):
        period_bounds("2025-13")


def test_edits_save_and_attach(tree, store):
    t = saved.edit(tree, "0", "add", label="the address form pre-fills the invoice address", verdict="root cause")
    new = t.root.children[-1]
    assert (new.id, new.verdict, new.level) == (f"0.{len(tree.root.children)}", "root cause", "cause")
    t = saved.edit(t, new.id, "annotate", note="seen in the order system")
    t = saved.edit(t, new.id, "rename", label="<b>address form</b>")
    leaf = tree.root_causes()[0]
    t = saved.edit(t, leaf.id, "mark", verdict="expected")
    assert t.find(leaf.id).verdict == "expected" and tree.find(leaf.id).verdict == "root cause"  # a copy
    with pytest.raises(CentricError, match="verdict: 'maybe'"):
        saved.edit(t, leaf.id, "mark", verdict="maybe")
    with pytest.raises(CentricError, match="only a leaf"):
        saved.edit(t, "0", "mark", verdict="expected")
    with pytest.raises(CentricError, match="cannot be removed"):
        saved.edit(t, "0", "remove")
    with pytest.raises(CentricError, match="label: must not be empty"):
        saved.edit(t, "0", "rename", label="  ")
    first = t.root.children[0]
    t2 = saved.edit(t, first.id, "remove")
    assert t2.find(first.id) is None and not any(n.id.startswith(first.id + ".") for n in t2.nodes())
    tree_id = saved.save(store, t2, "Delivery", "ann@example.com", "2025-Q1")
    got = saved.get(store, tree_id)
    assert (got.tree_id, got.title, got.factor, got.period) == ("Y0001", "Delivery", "delivery", "2025-Q1")
    assert got.tree.find(new.id).label == "<b>address form</b>" and got.tree.find(new.id).note == "seen in the order system"
    assert saved.attach(store, tree_id, ["CA1", "CA2", "CA1"], "ann@example.com") == ["CA1", "CA2"]
    assert saved.attach(store, tree_id, ["CA2", "CB1"], "bo@example.com") == ["CB1"]
    with pytest.raises(CentricError, match="no case 'NOPE'"):
        saved.attach(store, tree_id, ["NOPE"], "ann@example.com")
    assert saved.get(store, tree_id).cases == ("CA1", "CA2", "CB1")
    assert saved.trees_of_case(store, "CA2") == [("Y0001", "Delivery")]
    assert saved.detach(store, tree_id, "CA2") and not saved.detach(store, tree_id, "CA2")
    assert saved.list_trees(store)[0]["cases"] == 2


def test_demo_delivery_tree_reaches_the_invoice_address(demo_store):
    t = whys(demo_store, "delivery")
    causes = {n.label for n in t.root_causes()}
    assert "delivery · delivered to the invoice address instead of the delivery address" in causes, causes
    # the branch that reaches it starts with what customers say about the invoice address
    node = next(n for n in t.root_causes() if "invoice address" in n.label)
    path = [x for x in t.nodes() if node.id.startswith(x.id + ".") or x.id == node.id]
    assert [x.level for x in path] == ["problem", "says", "where", "department", "cause"]
    says = path[1]
    assert any(w in q.lower() for q in says.quotes for w in ("invoice", "faktur", "fatturazione", "счёт", "рахун"))
    cases = list(node.evidence["cases"])
    c = demo_store.execute(f"SELECT count(*) FROM cases WHERE case_id IN ({', '.join('?' * len(cases))}) "
                           "AND root_sub_cause = ?",
                           [*cases, "delivered to the invoice address instead of the delivery address"]).fetchone()[0]
    assert c == len(node.evidence["cases"])


def test_the_command(store, tmp_path):
    from typer.testing import CliRunner

    from centric.cli import app

    _build(store)
    db = db_of(store)
    store.close()
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db), "whys", "--factor", "delivery", "--subtopics", "2"],
                      catch_exceptions=False, env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "delivery · invoice address" in r.output and "⟵ root cause" in r.output
    r = runner.invoke(app, ["--db", str(db), "whys", "--factor", "delivery", "--subtopics", "2", "--json"])
    d = json.loads(r.output)
    assert d["factor"] == "delivery" and d["tree"]["n"] == 20 and {c["n"] for c in d["tree"]["children"]} == {12, 8}
    r = runner.invoke(app, ["--db", str(db), "whys", "--factor", "staff"])
    assert r.exit_code == 2 and "error: --factor 'staff'" in r.output


def test_weighted_clusters_equal_clusters_of_the_repeated_sentences():
    import numpy as np

    from centric.text.discovery import clusters
    from centric.whys import subtopics

    emb = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    sents = ["late again", "late once more", "wrong address", "address wrong"]
    weighted = clusters(sents, emb, ["en"] * 4, k=2, weights=np.array([3, 1, 2, 2]))
    repeated = clusters([sents[i] for i in (0, 0, 0, 1, 2, 2, 3, 3)], emb[[0, 0, 0, 1, 2, 2, 3, 3]], ["en"] * 8, k=2)
    assert [c.size for c, _ in weighted] == [c.size for c, _ in repeated] == [4, 4]
    assert [c.languages for c, _ in weighted] == [{"en": 4}, {"en": 4}]
    # subtopics: each sentence once, its members the indices of every copy
    found = subtopics(["Late.", "late.", "Late.", "Wrong address.", "Wrong address."], k=2, min_size=2)
    assert sorted(sorted(idx.tolist()) for _, idx in found) == [[0, 1, 2], [3, 4]]
