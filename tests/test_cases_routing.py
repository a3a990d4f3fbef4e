"""Routing: the most specific rule, triage, least-loaded owners with round-robin ties (against a one-by-one
reference), priority rules, what routing reads from the store, and the threat-to-go-public detector."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from centric.cases import config
from centric.cases.model import Department, Route, Routing
from centric.cases.routing import agent_load, assign_owners, go_public, route, vip_customers
from centric.cases.store_io import insert_rows

TABLE = Routing(
    routes=(
        Route("delivery_it", factor="delivery", country="IT"),
        Route("krakow", store="Kraków 1"),
        Route("italy", country="IT"),
        Route("krakow_delivery", factor="delivery", store="Kraków 1"),
        Route("delivery", factor="delivery"),
        Route("installation", factor="installation"),
        Route("installation_again", factor="installation"),  # a tie with the rule above: the earlier wins
    ),
    departments={},
)


def _cases(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_the_most_specific_rule_wins():
    cases = _cases(
        factor=["delivery", "delivery", "delivery", "delivery", "price", "price", "installation", "price", None,
                ""],
        country=["PL", "IT", "IT", None, "IT", "PL", "IT", None, "IT", "PL"],
        store=["Gdańsk", "Roma 2", "Kraków 1", "Kraków 1", "Kraków 1", "Gdańsk", None, None, "Kraków 1", None],
    )
    assert route(cases, TABLE)["department"].tolist() == [
        "delivery",          # the factor alone
        "delivery_it",       # factor + country beats factor
        "krakow_delivery",   # factor + store (4 + 2) beats factor + country (4 + 1)
        "krakow_delivery",
        "krakow",            # store (2) beats country (1)
        "customer_service",  # nothing matches: the default department
        "installation",      # factor (4) beats country (1); equal rules: the earlier
        "customer_service",
        "triage",            # no factor: triage, whatever the scope
        "triage",            # an empty factor is no factor
    ]


def test_missing_columns_mean_no_scope_and_no_flags():
    out = route(_cases(factor=["delivery", None]), TABLE)
    assert out["department"].tolist() == ["delivery", "triage"]
    assert out["owner"].tolist() == [None, None] and out["priority"].tolist() == ["normal", "normal"]


def test_routes_keep_the_index_of_the_cases():
    out = route(pd.DataFrame({"factor": ["delivery"]}, index=[41]), TABLE)
    assert out.index.tolist() == [41]


def test_priority_from_channel_vip_and_flags():
    cases = _cases(
        channel=["email", "social", "email", "social", "review", "email", "email", "phone"],
        vip=[False, False, True, True, False, False, True, None],
        flags=[[], [], [], [], ["near_duplicate"], ["extortion"], None, ["near_duplicate", "go_public"]],
        factor=["delivery"] * 8,
    )
    assert route(cases, TABLE)["priority"].tolist() == [
        "normal",  # the base
        "high",    # a public post
        "high",    # a VIP: one step up
        "urgent",  # a VIP's public post: high, one step up
        "high",    # a flag that is not urgent changes nothing
        "urgent",  # extortion
        "high",
        "urgent",  # a threat to go public
    ]
    low = replace(TABLE, base_priority="low", public_channels=("social",), urgent_flags=())
    assert route(cases, low)["priority"].tolist() == [
        "low", "high", "normal", "urgent", "low", "low", "normal", "low"]


# -- owners ---------------------------------------------------------------------------------------------


def _one_by_one(department, routing, load, last_assigned):
    """The definition: each case in turn to the agent with the fewest open cases, then the one assigned longest
    ago (never: first), then by name; the load and the last assignment move with each case."""
    load = dict(load)
    clock = {a: (0, t) for a, t in last_assigned.items() if t is not None}  # (batch?, when)
    out = []
    for n, d in enumerate(department):
        agents = routing.departments[d].agents if d in routing.departments else ()
        if not agents:
            out.append(None)
            continue
        never = (-1, dt.datetime.min)
        a = min(agents, key=lambda x: (load.get(x, 0), clock.get(x, never), x))
        out.append(a)
        load[a] = load.get(a, 0) + 1
        clock[a] = (1, n)
    return out


def test_least_loaded_with_round_robin_ties_by_hand():
    routing = replace(TABLE, departments={"delivery": Department("delivery", ("ann", "bob", "cid", "dan"))})
    t = dt.datetime(2026, 10, 1, 9)
    load = {"ann": 2, "bob": 0, "cid": 0, "dan": 1}
    last = {"bob": t, "cid": t - dt.timedelta(days=1), "dan": None}
    owners = assign_owners(np.array(["delivery"] * 9, dtype=object), routing, load, last)
    # cid (0, assigned longer ago than bob), bob (0); then at 1: dan (started there) before cid, bob (reached it
    # in this batch, in that order); at 2: ann (started there), then dan, cid, bob
    assert owners.tolist() == ["cid", "bob", "dan", "cid", "bob", "ann", "dan", "cid", "bob"]
    assert owners.tolist() == _one_by_one(["delivery"] * 9, routing, load, last)
    assert load == {"ann": 2, "bob": 0, "cid": 0, "dan": 1}  # the caller's counts are not changed


@pytest.mark.parametrize("seed", range(40))
def test_least_loaded_matches_the_one_by_one_reference(seed):
    rng = np.random.default_rng(seed)
    names = [f"agent{i:02d}" for i in range(12)]
    departments = {}
    pool = list(names)
    for d in ("delivery", "returns", "sales"):
        k = int(rng.integers(1, 5))
        picked = [pool.pop(int(rng.integers(0, len(pool)))) for _ in range(k)]
        departments[d] = Department(d, tuple(picked))
    if seed % 3 == 0:  # a person working for two departments: their cases interleave
        departments["sales"] = Department("sales", departments["sales"].agents + (departments["delivery"].agents[0],))
    routing = replace(TABLE, departments=departments)
    day = dt.datetime(2026, 10, 1)
    load = {a: int(rng.integers(0, 4)) for a in names if rng.random() < 0.8}
    last = {a: (day + dt.timedelta(hours=int(rng.integers(0, 3))) if rng.random() < 0.7 else None)
            for a in names if rng.random() < 0.8}  # equal times happen: then the name decides
    dept = rng.choice(["delivery", "returns", "sales", "nobody"], int(rng.integers(0, 60)))
    got = assign_owners(np.asarray(dept, dtype=object), routing, load, last)
    assert got.tolist() == _one_by_one(dept, routing, load, last)


def test_a_department_without_agents_leaves_the_case_in_its_queue():
    routing = replace(TABLE, departments={"delivery": Department("delivery", lead="m.lis")})
    out = route(_cases(factor=["delivery", "installation"]), routing, {"x": 1}, {})
    assert out["owner"].tolist() == [None, None]
    assert out["department"].tolist() == ["delivery", "installation"]


def test_route_assigns_within_each_department_across_a_batch():
    routing = replace(TABLE, departments={"delivery": Department("delivery", ("ann", "bob")),
                                          "triage": Department("triage", ("tia",))})
    cases = _cases(factor=["delivery", None, "delivery", "delivery", None, "price"])
    out = route(cases, routing, {"bob": 1}, {})
    # ann (0), then ann and bob at 1: bob, never assigned, before ann, just assigned
    assert out["owner"].tolist() == ["ann", "tia", "bob", "ann", "tia", None]


# -- what routing reads from the store ------------------------------------------------------------------------


def test_agent_load_counts_open_cases_and_the_last_assignment(store):
    t = dt.datetime(2026, 10, 1, 9)
    cases = pd.DataFrame({
        "case_id": [f"C{i}" for i in range(6)], "customer_id": ["K1"] * 6, "opened_at": [t] * 6,
        "owner": ["ann", "ann", "ann", "bob", None, "bob"],
        "status": ["assigned", "in_progress", "closed", "waiting", "new", None],  # no status: imported, open
    })
    events = pd.DataFrame({
        "case_event_id": ["C0:1", "C1:1", "C3:1", "C3:2", "C4:1"], "case_id": ["C0", "C1", "C3", "C3", "C4"],
        "occurred_at": [t, t + dt.timedelta(hours=2), t + dt.timedelta(hours=1), t + dt.timedelta(hours=3), t],
        "kind": ["assigned", "assigned", "assigned", "transferred", "note"],
        "target": ["ann", "ann", "bob", "cid", "dan"],
    })
    with store.transaction() as con:
        insert_rows(store, "cases", cases)
        insert_rows(store, "case_events", events)
        inside = agent_load(con)  # the connection of a transaction will do
    load, last = agent_load(store)
    assert inside == (load, last)
    assert load == {"ann": 2, "bob": 2}
    assert last == {"ann": t + dt.timedelta(hours=2), "bob": t + dt.timedelta(hours=1),
                    "cid": t + dt.timedelta(hours=3)}


def _scores(store, rows, scored_at):
    frame = pd.DataFrame(rows, columns=["customer_id", "clv", "currency"])
    n = len(frame)
    frame = frame.assign(scored_at=scored_at, as_of=scored_at.date(), frequency=1, recency_days=1.0, age_days=2.0,
                         monetary_value=1.0, p_alive=0.5, expected_purchases=1.0, expected_spend=1.0,
                         horizon_days=365, model="bgnbd+gammagamma/1", params=["{}"] * n)
    with store.transaction():
        insert_rows(store, "customer_scores", frame)


def test_vips_are_the_top_share_by_clv_of_the_latest_scoring_within_each_currency(store):
    assert vip_customers(store, 0.1) == set()  # never scored
    old = dt.datetime(2026, 9, 1)
    _scores(store, [(f"P{i}", 10_000.0, "PLN") for i in range(5)], old)  # an earlier scoring: ignored
    pln = [(f"P{i}", float(100 * i), "PLN") for i in range(20)]  # P19 1900, P18 1800 …, P0 0
    eur = [(f"E{i}", float(i), "EUR") for i in range(10)] + [("E10", 9.0, "EUR")]  # a tie at the top
    _scores(store, pln + eur + [("X1", 50.0, None), ("X2", 0.0, None)], dt.datetime(2026, 10, 1))
    # PLN: ⌊0.1 × 20⌋ = 2; EUR: ⌊0.1 × 11⌋ = 1, but E9 and E10 tie; no currency: ⌊0.2⌋ = 0
    assert vip_customers(store, 0.1) == {"P19", "P18", "E9", "E10"}
    # no currency: ⌊0.5 × 2⌋ = 1 and only a positive CLV counts; PLN: P10 … P19; EUR: E6 … E10 (rank ≤ 5)
    assert vip_customers(store, 0.5) == {f"P{i}" for i in range(10, 20)} | {f"E{i}" for i in range(6, 11)} | {"X1"}


def test_the_share_of_vips_is_not_lost_to_rounding(store):
    _scores(store, [(f"U{i}", float(i + 1), "USD") for i in range(100)], dt.datetime(2026, 10, 1))
    assert len(vip_customers(store, 0.29)) == 29  # 0.29 × 100 is 28.999999999999996 in floating point


# -- the defaults, end to end -----------------------------------------------------------------------------------


def test_the_default_table_routes_the_fridge_to_delivery_and_an_unknown_matter_to_triage():
    out = route(_cases(factor=["delivery", "call_centre", "debt_collection", None, "no_such_factor"],
                       channel=["email", "social", "email", "review", "email"]), config.default_routing())
    assert out["department"].tolist() == ["delivery", "customer_service", "collections", "triage",
                                          "customer_service"]
    assert out["priority"].tolist() == ["normal", "high", "normal", "high", "normal"]
    assert out["owner"].isna().all()


# -- a threat to go public --------------------------------------------------------------------------------------

THREATS = [
    # English
    "If the fridge is not delivered by Friday I will post the whole story on Facebook and Twitter.",
    "Third time you cancelled the installation. I'm going to tell everyone on Google reviews what you are like.",
    "I have kept every e-mail and I am prepared to take legal action.",
    "Sort this out or I'll be contacting my solicitor.",
    "Next step is trading standards.",
    "If I don't get my money back I'm going to the press with this.",
    "I will be reporting the issue to the ombudsman.",
    # Polish
    "Jeśli do piątku nie oddacie pieniędzy, opiszę całą sprawę na Facebooku.",
    "Sprawę zgłaszam do UOKiK i do Rzecznika Praw Konsumentów.",
    "Czwarta dostawa pod zły adres. Nagłośnię to w mediach.",
    "Skieruję sprawę do sądu, mam wszystkie dowody.",
    "Pozwę was, jeśli nie dostanę zwrotu.",
    # Russian
    "Если до пятницы не вернёте деньги, подам в суд.",
    "Напишу об этом во всех соцсетях, пусть люди знают.",
    "Буду жаловаться в Роспотребнадзор.",
    "Мой юрист уже готовит претензию.",
    "Расскажу журналистам, как вы обращаетесь с клиентами.",
    # Italian
    "Se non mi rimborsate entro venerdì vi faccio causa.",
    "Scriverò su tutti i social quello che mi avete fatto.",
    "Mi sono già rivolto al Codacons.",
    "Il mio avvocato vi contatterà a breve.",
    "Mandrò tutto a Striscia la notizia!",
]

NOT_THREATS = [
    # English: the same words, no threat
    "I saw your advert on Facebook and ordered a fridge.",
    "The courier was friendly and the delivery was on time.",
    "My lawyer friend recommended your shop.",
    "The debt collector kept threatening legal action against me.",
    "Great press coverage of your new store!",
    "The food court was crowded.",
    # Polish
    "Obraz na plus, dźwięk nie wiem bo używam zewnętrznego nagłośnienia.",
    "Znalazłem was przez Facebooka, obsługa bardzo miła.",
    "Kurier przyjechał na czas, polecam.",
    # Russian
    "Курьер приехал вовремя, всё отлично.",
    "Увидел рекламу в соцсетях и заказал холодильник.",
    # Italian
    "Il tecnico è stato gentilissimo, consiglio a tutti.",
    "Ho trovato il negozio su Instagram, ottimi prezzi.",
    "",
    None,
]


@pytest.mark.parametrize("text", THREATS)
def test_a_threat_to_go_public_is_flagged(text):
    assert go_public(text)


@pytest.mark.parametrize("text", NOT_THREATS)
def test_no_threat_no_flag(text):
    assert not go_public(text)


def test_threats_found_in_bulk_as_one_by_one():
    """The fast first pass over a column never drops a threat the full expression finds."""
    from centric.cases.routing import go_public_many

    texts = [*THREATS, *NOT_THREATS, None, "", "x" * 500]
    assert go_public_many(texts).tolist() == [bool(t) and go_public(t) for t in texts]
    assert go_public_many(texts)[: len(THREATS)].all()
