"""Personas and empathy maps on a constructed store whose answers are known: four groups of customers
that differ in what they do and say must come back as four personas."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from centric.cli import app
from centric.personas import customer_features, empathy_map, personas
from centric.personas.cards import _name
from centric.personas.empathy import THIN_TEXTS
from centric.personas.features import decode_path
from centric.store import Store
from centric.text.emotions import EMOTIONS
from centric.text.masking import mask_personal

N = 25  # customers per group
START = dt.datetime(2025, 1, 1, 10)
# group → (channel, category, orders, amount, nps, text factor and sentiment, emotion, clv, p_alive, stages)
GROUPS = {
    0: ("online", "tv", 4, 200.0, 10, ("delivery", "positive"), "joy", 100.0, 0.9,
        ["visit", "cart", "order", "payment", "delivery"]),
    1: ("store", "fridges", 1, 300.0, 2, ("delivery", "negative"), "anger", 10.0, 0.2, ["visit", "order", "payment"]),
    2: ("call_centre", "phones", 2, 100.0, 7, None, None, 20.0, 0.5, ["order", "payment", "support"]),
    3: ("online", "washing_machines", 2, 500.0, 5, ("installation", "negative"), "sadness", 50.0, 0.6,
        ["visit", "cart", "order", "payment", "delivery", "installation"]),
}
TEXTS = {("delivery", "positive"): "Delivery was fast and friendly, {name} here, call +48 601 234 5{i:02d} or "
                                   "write to jan.kowalski{i}@example.com",
         ("delivery", "negative"): "The courier was late again and nobody called me back.",
         ("installation", "negative"): "The installer left a mess and the washing machine leaks."}
OFFSET = {"visit": -3600, "cart": -1800, "order": 0, "payment": 300, "delivery": 2 * 86400,
          "installation": 4 * 86400, "support": 10 * 86400}


def _build(path) -> Store:
    store = Store.open(path)
    con = store.con
    customers, orders, responses, analyses, mentions, events, scores = [], [], [], [], [], [], []
    truth = {}
    for g, (channel, cat, n_orders, amount, nps, text, emotion, clv, p_alive, stages) in GROUPS.items():
        for i in range(N):
            cid = f"C{g * 1000 + i + 1:07d}"
            truth[cid] = g
            name = "Jan Kowalski" if g == 0 else f"Customer {g}-{i}"
            segment = "vip" if g == 0 and i < 3 else "b2c"
            customers.append((cid, name, segment, "PL", "pl" if i % 3 else "en"))
            for j in range(n_orders):
                at = START + dt.timedelta(days=i + 10 * j, hours=i % 5)
                oid = f"O{g}{i:03d}{j}"
                orders.append((oid, cid, at, amount, "PLN", None if channel == "store" else channel,
                               "Warszawa" if channel == "store" else None, cat))
                for s in stages:
                    if s == "cart" and channel != "online":
                        continue
                    events.append((f"E{oid}{s}", cid, at + dt.timedelta(seconds=OFFSET[s]),
                                   "service" if s == "support" else "purchase", s))
            rid = f"R{g}{i:03d}"
            comment = TEXTS[text].format(name=name, i=i) if text else None
            responses.append((rid, cid, "post-delivery", START + dt.timedelta(days=60 + i), nps, None, None, comment, "en"))
            if text:
                emo = {e: (0.9 if e == emotion else 0.1) for e in EMOTIONS}
                analyses.append(("responses", rid, "retail", "en", text[1], json.dumps(emo), "[]", START))
                mentions.append(("responses", rid, 0, text[0], text[1], "retail", "en"))
            scores.append((cid, START, START.date(), n_orders - 1, 1.0, 1.0, amount, p_alive, 1.0, 1.0, clv, 365,
                           "PLN", "bgnbd", "{}"))
    for i in range(5):  # customers without orders: not enough data
        cid = f"C{9000 + i:07d}"
        customers.append((cid, f"Lurker {i}", "b2c", "PL", "pl"))
        responses.append((f"RL{i}", cid, "post-delivery", START, 9, None, None, None, "pl"))

    def insert(table, cols, rows):
        con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)

    insert("customers", ["customer_id", "name", "segment", "country", "language"], customers)
    insert("orders", ["order_id", "customer_id", "ordered_at", "amount", "currency", "channel", "store", "category"],
           orders)
    insert("responses", ["response_id", "customer_id", "survey", "responded_at", "nps", "csat", "ces", "comment",
                         "language"], responses)
    insert("text_analyses", ["source", "text_id", "taxonomy", "language", "sentiment", "emotions", "flags",
                             "analyzed_at"], analyses)
    insert("mentions", ["source", "text_id", "sentence", "factor", "sentiment", "taxonomy", "language"], mentions)
    insert("events", ["event_id", "customer_id", "occurred_at", "journey", "stage"], events)
    insert("customer_scores", ["customer_id", "scored_at", "as_of", "frequency", "recency_days", "age_days",
                               "monetary_value", "p_alive", "expected_purchases", "expected_spend", "clv",
                               "horizon_days", "currency", "model", "params"], scores)
    store.truth = truth
    return store


@pytest.fixture(scope="module")
def groups_store(tmp_path_factory):
    s = _build(tmp_path_factory.mktemp("personas") / "centric.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="module")
def result(groups_store):
    return personas(groups_store, seed=1)


def _persona_of(result, cids) -> int:
    found = set(result.labels.loc[cids])
    assert len(found) == 1
    return found.pop()


def test_features_from_the_rows(groups_store):
    f = customer_features(groups_store)
    row = f.frame.loc["C0000003"]  # group 0, i = 2: 4 online tv orders of 200, 10 days apart
    assert row["orders"] == 4 and row["revenue"] == 800 and row["order_value"] == 200
    assert row["channel:online"] == 1 and row["category:tv"] == 1 and row["gap_days"] == pytest.approx(10.0)
    assert row["nps"] == 10 and row["promoters"] == 1 and row["texts"] == 1
    assert row["gain:delivery"] == 1 and row["pain:delivery"] == 0 and row["emotion:joy"] == 1
    stages = [s for _, s in decode_path(row["path"], f.stages)]
    assert stages == ["visit", "cart", "order", "payment", "delivery"]
    store_row = f.frame.loc["C0001001"]  # group 1: an order without a channel but with a store
    assert store_row["channel:store"] == 1 and store_row["detractors"] == 1 and store_row["pain:delivery"] == 1
    assert "C0009000" in f.frame.index and f.frame.loc["C0009000", "orders"] == 0


def test_separated_groups_come_back(groups_store, result):
    assert result.k == 4
    truth = pd.Series(groups_store.truth)
    labels = result.labels.loc[truth.index]
    assert adjusted_rand_score(truth.to_numpy(), labels.to_numpy()) == pytest.approx(1.0)
    assert result.not_enough == 5 and result.customers == 4 * N
    assert set(result.labels[result.labels == 0].index) == {f"C{9000 + i:07d}" for i in range(5)}
    four = result.selection.table.set_index("k").loc[4]
    assert four["stability"] == pytest.approx(1.0) and four["silhouette"] > 0.5


def test_shares_nps_and_churn_by_hand(groups_store, result):
    by_group = {g: result.personas[_persona_of(result, [c for c, t in groups_store.truth.items() if t == g]) - 1]
                for g in GROUPS}
    revenue = {g: N * GROUPS[g][2] * GROUPS[g][3] for g in GROUPS}  # 20000, 7500, 5000, 25000
    clv = {g: N * GROUPS[g][7] for g in GROUPS}
    for g, p in by_group.items():
        assert p.customers == N and p.share == pytest.approx(25.0)
        assert p.revenue_share == pytest.approx(100 * revenue[g] / sum(revenue.values()))
        assert p.clv_share == pytest.approx(100 * clv[g] / sum(clv.values()))
        assert p.p_alive == pytest.approx(GROUPS[g][8])
        assert p.likely_lost == pytest.approx(100.0 if GROUPS[g][8] < 0.5 else 0.0)
    assert by_group[0].nps.value == 100 and by_group[1].nps.value == -100 and by_group[2].nps.value == 0
    assert by_group[0].nps.n == N and by_group[0].nps.low < 100  # adjusted-Wald interval below n = 30
    assert by_group[1].channels[0] == ("store", 100.0)
    assert [s for _, s in by_group[3].path] == GROUPS[3][9] and by_group[3].path_share == 100.0
    assert [x["factor"] for x in by_group[3].pains] == ["installation"]
    assert by_group[3].pains[0]["lift"] == pytest.approx(3.0)  # 25 of 25 writers vs 25 of 75
    assert [x["factor"] for x in by_group[0].gains] == ["delivery"]


def test_deterministic(groups_store, result):
    again = personas(groups_store, seed=1)
    assert again.labels.equals(result.labels)
    assert again.to_dict() == result.to_dict()


def test_names_from_distinguishing_features():
    diff = pd.Series({"channel:online": 1.5, "pain:delivery": 1.2, "nps": -0.3, "orders": 0.05})
    parts = _name(diff, set())
    from centric.personas.cards import Persona

    p = Persona(1, parts, [], 1, 1.0, None, None, None, None, None, [], [], [], [], [], None)
    assert p.name() == "Online buyers, delivery critics"
    assert p.name(values={"delivery": "Dostawa"}, gettext=lambda s: {"{x} critics": "krytycy: {x}"}.get(s, s)) \
        == "Online buyers, krytycy: Dostawa"
    # a name already taken gets the next distinguishing feature
    taken = {"|".join(f"{t}={v}" for t, v, _k in parts)}
    assert [t for t, _v, _k in _name(diff, taken)] == ["{x} buyers", "{x} critics", "detractors"]
    # a feature that says nothing when low (few online orders) is skipped
    assert [t for t, _v, _k in _name(pd.Series({"channel:online": -2.0, "orders": 0.8, "clv": -0.5}), set())] \
        == ["frequent buyers", "low expected value"]


def test_persona_names_in_the_constructed_store(groups_store, result):
    name = result.personas[_persona_of(result, ["C0003001"]) - 1].name()
    assert "washing machines" in name or "installation critics" in name or "reach installation" in name
    assert result.personas[_persona_of(result, ["C0002001"]) - 1].name().lower().startswith(("call centre buyers",
                                                                                             "buy phones"))


def test_quotes_are_masked_and_traceable(groups_store, result):
    con = groups_store.con
    seen = 0
    for p in result.personas:
        assert len(p.quotes) <= 3
        for q in p.quotes:
            assert "@" not in q["text"] and "Kowalski" not in q["text"] and "601" not in q["text"]
            text, cid, name = con.execute(
                "SELECT r.comment, r.customer_id, c.name FROM responses r JOIN customers c USING (customer_id) "
                "WHERE r.response_id = ?", [q["text_id"]]).fetchone()
            assert q["source"] == "responses" and cid == q["customer_id"]
            assert q["text"] == mask_personal(text, [name])
            assert result.labels[cid] == p.number
            seen += 1
    promoters = result.personas[_persona_of(result, ["C0000001"]) - 1]
    assert len(promoters.quotes) == 3 and "[e-mail]" in promoters.quotes[0]["text"]
    assert "[name]" in promoters.quotes[0]["text"] and "[phone]" in promoters.quotes[0]["text"]
    # groups 1 and 3 all wrote the same words: one quote each; the call-centre group wrote nothing
    assert seen == 3 + 1 + 1


def test_empathy_map_evidence_and_thin_cells(groups_store, result):
    n = _persona_of(result, ["C0003001"])
    m = empathy_map(groups_store, result, persona=n)
    assert m.customers == N
    pains = m.cells["pains"].items
    assert [x["label"] for x in pains] == ["installation"] and pains[0]["customers"] == N
    ids = {t["text_id"] for t in pains[0]["evidence"]["texts"]}
    assert ids == {f"R3{i:03d}" for i in range(20)}  # the first 20 of 25, in id order
    assert pains[0]["evidence"]["total"] == N
    assert m.cells["feels"].items[0]["label"] == "sadness" and m.cells["feels"].items[0]["value"] == 100.0
    assert not m.cells["thinks"].thin and m.cells["thinks"].texts == N >= THIN_TEXTS
    does = {x.get("kind"): x for x in m.cells["does"].items}
    assert does["orders"]["value"] == 2 and does["gap"]["value"] == 10.0
    assert does["path"]["key"] == GROUPS[3][9]
    # three VIP customers: every text cell is thin, behaviour too (fewer than 5 customers)
    vip = empathy_map(groups_store, result, segment="vip")
    assert vip.customers == 3 and all(c.thin for c in vip.cells.values())
    assert all(it["thin"] for it in vip.cells["thinks"].items)
    # the call-centre persona wrote nothing: its text cells are thin and empty
    quiet = empathy_map(groups_store, result, persona=_persona_of(result, ["C0002001"]))
    assert quiet.cells["says"].thin and quiet.cells["says"].items == [] and not quiet.cells["does"].thin


def test_cli(groups_store, result):
    runner = CliRunner()
    path = groups_store.path
    out = runner.invoke(app, ["--db", path, "personas", "--seed", "1", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["k"] == 4 and data["not_enough_data"] == 5
    assert [p["name"] for p in data["personas"]] == [p.name() for p in result.personas]
    out = runner.invoke(app, ["--db", path, "empathy", "9", "--seed", "1"])
    assert out.exit_code == 2 and "no persona '9'" in out.output
    out = runner.invoke(app, ["--db", path, "empathy", "--segment", "vip", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["cells"]["says"]["thin"] is True
    out = runner.invoke(app, ["--db", path, "personas", "--k", "1"])
    assert out.exit_code == 2


def test_mask_personal():
    assert mask_personal("Mail me: a.b+c@mail.example.co.uk!") == "Mail me: [e-mail]!"
    assert mask_personal("tel. 601-234-567, or (22) 123 45 67") == "tel. [phone], or [phone]"
    assert mask_personal("Card 4111 1111 1111 1111 was charged twice") == "Card [number] was charged twice"
    assert mask_personal("Marta Nowak-Wiśniewska wrote to marta", ["Marta Nowak-Wiśniewska"]) == "[name] wrote to [name]"
    assert mask_personal("The fridge came 3 days late, 2 of 10") == "The fridge came 3 days late, 2 of 10"


def test_too_few_customers(tmp_path):
    from centric.errors import CentricError

    with Store.open(tmp_path / "c.duckdb") as s, pytest.raises(CentricError, match="at least 30 customers"):
        personas(s)


def test_demo_quotes_trace_back(demo_store):
    r = personas(demo_store, seed=0)
    assert 3 <= r.k <= 8 and sum(p.customers for p in r.personas) == r.customers
    assert len({p.name() for p in r.personas}) == r.k
    for p in r.personas:
        for q in p.quotes:
            table, key, col = (("responses", "response_id", "comment") if q["source"] == "responses"
                               else ("feedback", "feedback_id", "text"))
            text, cid = demo_store.execute(f"SELECT {col}, customer_id FROM {table} WHERE {key} = ?",
                                               [q["text_id"]]).fetchone()
            assert cid == q["customer_id"] and r.labels[cid] == p.number
            name = demo_store.execute("SELECT name FROM customers WHERE customer_id = ?", [cid]).fetchone()[0]
            masked = mask_personal(text, [name])
            assert q["text"] == masked or (q["text"].endswith("…") and masked.startswith(q["text"][:-1]))
    assert np.isclose(sum(p.revenue_share for p in r.personas), 100.0)


def test_web_pages_link_items_to_their_evidence(web_client, login):
    import re

    login(web_client, role="analyst")
    page = web_client.get("/personas")
    assert page.status_code == 200 and 'href="/personas/1"' in page.text
    one = web_client.get("/personas/1")
    assert one.status_code == 200
    linked = set(re.findall(r'href="/customers/(C\d+)"', one.text))
    assert linked  # quotes, texts and customers link to the customer pages
    store = web_client.app.state.hub.reader()
    from centric.personas.present import bundle

    b = bundle(store)
    members = set(b.result.labels[b.result.labels == 1].index)
    assert linked <= members
    assert web_client.get("/personas/99").status_code == 404
    seg = web_client.get("/personas", params={"segment": "vip"})
    assert seg.status_code == 200 and "vip" in seg.text
    assert web_client.get("/personas", params={"segment": "nobody"}).status_code == 404
    pl = web_client.get("/personas/1", headers={"Accept-Language": "pl"}, params={"lang": "pl"})
    assert pl.status_code == 200
    login(web_client, role="agent")
    assert web_client.get("/personas").status_code == 403
