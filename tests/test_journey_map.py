"""The customer journey map: small hand-worked stores with known answers, and the funnel's monotonicity
on random logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centric import ingest
from centric.errors import CentricError
from centric.journeys import funnel_figure, journey_map, map_figure
from centric.journeys.map import funnel, order_stages

from .engines import DUCK_PG

EVENTS = """customer_id,occurred_at,journey,stage,touchpoint,channel
A,2025-01-10 10:00,purchase,visit,website,web
A,2025-01-10 10:10,purchase,cart,website,web
A,2025-01-10 10:20,purchase,order,checkout,web
A,2025-01-10 10:30,purchase,payment,checkout,web
A,2025-01-12 10:30,purchase,delivery,delivery,courier
B,2025-01-10 10:00,purchase,visit,store,store
B,2025-01-10 11:00,purchase,order,checkout,store
B,2025-01-10 11:30,purchase,payment,checkout,store
B,2025-01-11 11:30,purchase,delivery,delivery,courier
C,2025-01-10 10:00,purchase,visit,website,web
C,2025-01-10 10:30,purchase,cart,website,web
D,2025-01-10 10:00,purchase,visit,store,store
E,2025-01-12 12:00,purchase,delivery,delivery,courier
F,2025-01-10 10:00,purchase,visit,website,web
F,2025-01-10 10:20,purchase,order,checkout,web
F,2025-01-10 10:30,purchase,payment,checkout,web
F,2025-01-10 10:40,purchase,payment,checkout,web
F,2025-01-11 10:40,purchase,delivery,delivery,courier
"""


@pytest.fixture
def journey_duckdb(store, write):
    ingest("events", write("events.csv", EVENTS), store=store)
    return store


@pytest.fixture
def journey_store(journey_duckdb, engine):
    """The hand-worked journey on each engine the test's marker names."""
    return engine.store_of(journey_duckdb)


on_every_engine = pytest.mark.capability("journeys map", engines=DUCK_PG)


@on_every_engine
def test_stages_order_optional_funnel_and_times(journey_store):
    (m,) = journey_map(journey_store, reps=0)
    assert [s.stage for s in m.stages] == ["visit", "cart", "order", "payment", "delivery"]
    # beyond the first stage: A, B, C, E, F; 4 of those 5 reach delivery (≥ half) and nothing comes later
    assert m.final_stage == "delivery"
    s = {x.stage: x for x in m.stages}
    # completed from the start: A, B, F; only A went through the cart
    assert [x.stage for x in m.stages if x.optional] == ["cart"]
    # E starts at delivery: it entered delivery but is not in the funnel, which never grows
    assert s["delivery"].entered == 4
    assert [(x.stage, x.reached) for x in m.funnel()] == [("visit", 5), ("order", 3), ("payment", 3), ("delivery", 3)]
    assert s["visit"].conversion_pct == pytest.approx(60.0) and s["visit"].drop_off_pct == pytest.approx(40.0)
    assert s["payment"].conversion_pct == pytest.approx(100.0) and s["delivery"].conversion_pct is None
    # the cart: A and C of the 5 at the visit
    assert (s["cart"].reached, s["cart"].share_pct) == (2, pytest.approx(40.0))
    # time in the visit: 10, 60, 30 and 20 minutes (D never left it)
    hours = np.array([10, 60, 30, 20]) / 60
    assert s["visit"].in_n == 4
    assert s["visit"].in_median_hours == pytest.approx(np.median(hours))
    assert s["visit"].in_p90_hours == pytest.approx(0.5 + 0.7 * 0.5)  # linear between the 3rd and 4th of 4
    # F paid twice: its time in payment runs from the first attempt to the delivery (24 h 10 min)
    assert s["payment"].in_median_hours == pytest.approx(24 + 10 / 60)
    # between the previous required stage and this one: payment → delivery 48 h, 24 h, 24 h 10 min
    assert s["delivery"].previous == "payment" and s["delivery"].between_n == 3
    assert s["delivery"].between_median_hours == pytest.approx(24 + 10 / 60)
    assert (s["cart"].previous, s["cart"].between_median_hours) == ("visit", pytest.approx(20 / 60))
    assert s["order"].between_median_hours == pytest.approx(20 / 60)
    assert (m.instances, m.customers) == (6, 6)
    # completed: 3 of the 5 in the funnel; from the visit to the delivery 48 h 30 min, 25 h 30 min, 24 h 40 min
    assert m.completion_pct == pytest.approx(60.0)
    assert m.complete_median_hours == pytest.approx(25.5)


@on_every_engine
def test_cells_count_events_instances_and_channels(journey_store):
    (m,) = journey_map(journey_store, reps=0)
    pay = m.cell("payment", "checkout")
    assert (pay.events, pay.instances, pay.customers) == (4, 3, 3)
    assert pay.channels == {"web": 3, "store": 1}
    assert m.cell("visit", "store").instances == 2 and m.cell("visit", "website").instances == 3
    assert m.cell("delivery", "checkout") is None
    frame = m.to_frame()
    assert len(frame) == len(m.cells) and set(frame.touchpoint) == {"website", "store", "checkout", "delivery"}
    d = m.to_dict()
    assert d["cells"][0]["evidence"]["table"] == "events" and d["rules"]["funnel"]
    assert funnel_figure(m).data[0].x == (5, 2, 3, 3, 3)
    heat = map_figure(m, "nps").data[0]
    assert heat.x == ("visit", "cart", "order", "payment", "delivery") and len(heat.y) == 4


@on_every_engine
def test_cli_map(journey_duckdb, engine):
    import json

    from typer.testing import CliRunner

    from centric.cli import app

    db = engine.db_of(journey_duckdb)
    journey_duckdb.close()
    r = CliRunner().invoke(app, ["--db", str(db), "journeys", "map", "--json"])
    assert r.exit_code == 0, r.output
    (m,) = json.loads(r.output)
    assert [s["stage"] for s in m["stages"] if not s["optional"]] == ["visit", "order", "payment", "delivery"]
    r = CliRunner().invoke(app, ["--db", str(db), "journeys", "map"])
    assert r.exit_code == 0 and "Journey “purchase”" in r.output and "optional" in r.output
    r = CliRunner().invoke(app, ["--db", str(db), "journeys", "map", "--journey", "nope"])
    assert r.exit_code == 2 and "error: no journey 'nope'" in r.output
    r = CliRunner().invoke(app, ["--db", str(db), "journeys", "map", "--final", "purchase"])
    assert r.exit_code == 2 and "JOURNEY=STAGE" in r.output


@on_every_engine
def test_given_final_stage_and_unknown_journey(journey_store):
    (m,) = journey_map(journey_store, final={"purchase": "payment"}, reps=0)
    s = {x.stage: x for x in m.stages}
    assert m.final_stage == "payment" and s["delivery"].optional and s["delivery"].after_final
    with pytest.raises(CentricError, match="no journey 'nope'.*purchase"):
        journey_map(journey_store, journey="nope")
    with pytest.raises(CentricError, match="final stage 'x'"):
        journey_map(journey_store, final={"purchase": "x"})


def test_order_by_pairwise_precedence():
    # b usually follows a, c follows both; one instance has them the other way round
    f = pd.DataFrame({"customer_id": ["1", "1", "1", "2", "2", "3", "3"], "instance": 1,
                      "stage": ["a", "b", "c", "a", "b", "b", "a"], "first": [1, 2, 3, 1, 2, 1, 2]})
    assert order_stages(f) == ["a", "b", "c"]


def _log(rng: np.random.Generator, n: int, stages: list[str]) -> pd.DataFrame:
    rows = []
    for i in range(n):
        chosen = [s for s in stages if rng.random() < 0.7]
        if rng.random() < 0.2:
            rng.shuffle(chosen)
        t = 0.0
        for s in chosen:
            t += float(rng.exponential(3600))
            rows.append({"customer_id": str(int(rng.integers(n // 2 + 1))), "instance": i, "stage": s, "first": t})
    f = pd.DataFrame(rows)
    f["next"] = f.groupby(["customer_id", "instance"])["first"].shift(-1)
    return f


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 60), share=st.floats(0.3, 1.0))
def test_funnel_never_grows(seed, n, share):
    f = _log(np.random.default_rng(seed), n, ["v", "w", "x", "y", "z"])
    if f.empty:
        return
    stages, final, _ = funnel(f, required_share=share)
    req = [s for s in stages if not s.optional]
    assert req[0] == stages[0] and any(s.stage == final for s in req)
    for a, b in zip(req, req[1:], strict=False):
        assert b.reached <= a.reached and b.customers <= a.customers
        assert a.conversion_pct == pytest.approx(100.0 * b.reached / a.reached if a.reached else 0.0) \
            or a.reached == 0
    for s in stages:
        assert s.reached <= s.entered
        if s.optional and s.previous is not None:
            prev = next(x for x in stages if x.stage == s.previous)
            assert s.reached <= prev.reached


RESPONSES_HEADER = "response_id,customer_id,responded_at,touchpoint,nps,csat,comment\n"


def _responses(rows: list[tuple]) -> str:
    return RESPONSES_HEADER + "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)


@on_every_engine
def test_touchpoint_scores_pain_points_and_moments_of_truth(store, write, engine):
    """60 customers answer after the delivery and after the installation. Their likelihood to recommend
    follows the delivery (10 after a good one, 2 after a bad one; 8 after every installation), while
    the installation's CSAT is drawn independently of it: the delivery is the moment of truth (all of
    R²), the installation explains nothing."""
    events, rows = [], []
    for i in range(60):
        cid = f"K{i:02d}"
        good_delivery = i % 2 == 0
        good_install = (i // 2) % 2 == 0
        events.append(f"{cid},2025-01-10 10:00,purchase,delivery,delivery,courier")
        events.append(f"{cid},2025-01-11 10:00,purchase,installation,installation,field_service")
        rows.append((f"D{i:02d}", cid, "2025-01-12", "delivery", 10 if good_delivery else 2,
                     5 if good_delivery else 1,
                     None if good_delivery else f"Courier never came so write to me at k{i}@mail.example"))
        rows.append((f"I{i:02d}", cid, "2025-01-13", "installation", 8, 5 if good_install else 1, None))
    ingest("events", write("e.csv", "customer_id,occurred_at,journey,stage,touchpoint,channel\n"
                           + "\n".join(events) + "\n"), store=store)
    ingest("responses", write("r.csv", _responses(rows)), store=store)
    (m,) = journey_map(engine.store_of(store), reps=50)
    d, ins = m.touchpoint("delivery"), m.touchpoint("installation")
    # delivery: 30 promoters (10), 30 detractors (2) → NPS 0; installation: 60 passives → NPS 0 too
    assert (d.nps.value, d.nps.n, ins.nps.value) == (0.0, 60, 0.0)
    # CSAT: half of the deliveries 4–5 → 50 % with the Wilson interval
    assert d.csat.value == pytest.approx(50.0)
    assert (d.csat.low, d.csat.high) == pytest.approx((37.73, 62.27), abs=0.01)
    # the delivery explains all of the likelihood to recommend, the installation nothing
    assert m.r_squared == pytest.approx(1.0)
    assert d.weight == pytest.approx(1.0) and ins.weight == pytest.approx(0.0, abs=1e-9)
    assert m.moments_of_truth == ["delivery"] and d.moment_of_truth and not ins.moment_of_truth
    assert m.kda_customers == 60
    # NPS equal: no pain point by NPS; CSAT 50 % against 50 %: none either
    assert m.pain_points == []
    # quotes: the masked comments of the delivery, traceable to their answers
    assert len(d.quotes) == 3 and all(q.source == "responses" and q.id.startswith("D") for q in d.quotes)
    assert all("[e-mail]" in q.text and "@" not in q.text for q in d.quotes)
    assert ins.quotes == []


@on_every_engine
def test_pain_point_sentiment_and_open_cases(store, write, engine):
    rows = []
    for i in range(40):  # delivery: 10 promoters, 10 passives, 20 detractors → NPS −25
        nps = 10 if i < 10 else 8 if i < 20 else 3
        rows.append((f"D{i:02d}", f"K{i:02d}", "2025-01-12", "delivery", nps, None,
                     "Late again and nobody called" if nps == 3 else "Fine delivery overall and on time"))
    for i in range(40):  # installation: 30 promoters, 10 passives → NPS 75
        rows.append((f"I{i:02d}", f"K{i:02d}", "2025-01-13", "installation", 10 if i < 30 else 8, None, None))
    ingest("events", write("e.csv", "customer_id,occurred_at,journey,stage,touchpoint\n"
                           "K00,2025-01-10 10:00,purchase,delivery,delivery\n"
                           "K00,2025-01-11 10:00,purchase,installation,installation\n"), store=store)
    ingest("responses", write("r.csv", _responses(rows)), store=store)
    ingest("cases", write("c.csv", "case_id,customer_id,opened_at,type,status,response_id\n"
                          "CS1,K20,2025-01-13,,open,D20\n"            # from a delivery answer
                          "CS2,K21,2025-01-13,installation,in_progress,\n"  # its type names a touchpoint
                          "CS3,K22,2025-01-13,delivery,closed,D22\n"),      # closed: not counted
           store=store)
    # what centric analyze would have stored: delivery comments' mentions, 3 positive, 1 neutral, 6 negative
    for k, pol in enumerate(["positive"] * 3 + ["neutral"] + ["negative"] * 6):
        store.con.execute("INSERT INTO text_analyses (source, text_id, taxonomy, sentiment, analyzed_at, flags) "
                          "VALUES ('responses', ?, 'retail', ?, TIMESTAMP '2025-02-01', '[]')", [f"D{k + 10:02d}", pol])
        store.con.execute("INSERT INTO mentions (source, text_id, sentence, factor, sentiment, score, taxonomy) "
                          "VALUES ('responses', ?, 0, 'delivery', ?, 0, 'retail')", [f"D{k + 10:02d}", pol])
    (m,) = journey_map(engine.store_of(store), reps=20)
    d, ins = m.touchpoint("delivery"), m.touchpoint("installation")
    assert (d.nps.value, ins.nps.value) == (-25.0, 75.0)
    # NPS interval by hand: p = .25, d = .5, Var = (.75 − .0625)/40, se = 13.11 points
    assert (d.nps.low, d.nps.high) == pytest.approx((-50.70, 0.70), abs=0.01)
    # net sentiment (3 − 6)/10 = −30, with the NPS interval for small samples
    assert (d.sentiment.value, d.sentiment.n, d.sentiment.method) == (-30.0, 10, "adjusted-wald")
    assert d.factors[0]["factor"] == "delivery" and d.factors[0]["mentions"] == 10
    # delivery's NPS is significantly below the other answers' (75): the only pain point
    assert m.pain_points == ["delivery"] and d.pain and "NPS" in d.pain_reason and not ins.pain
    assert (d.case_ids, ins.case_ids) == (["CS1"], ["CS2"])
    # a weak touchpoint is quoted by its negative comments first
    assert d.quotes and all(q.polarity == "negative" for q in d.quotes)
