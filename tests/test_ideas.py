"""The suggestion box's core with known answers: one vote per person, merge arithmetic, near-duplicates on a small
hand-made set (against an independent Jaccard), status moves and the author's e-mail, rewards, the programme's
figures, the import's errors (file, row, column) and the erasure of a customer's ideas."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric.cli import app
from centric.ideas import box, duplicates, programme, views
from centric.ideas.notify import notify

from .engines import db_of
from .test_surveys_mailer import sink  # noqa: F401  (the SMTP sink fixture)

T0 = dt.datetime(2026, 3, 2, 9, 0)


def test_one_vote_per_person_is_enforced_by_the_store(store):
    a = box.submit(store, "A water dispenser by the checkout", "employee", user_id="U0001")
    assert [box.vote(store, a, v) for v in ("user:U0001", "user:U0002", "user:U0001", "customer:C0000001",
                                            "customer:C0000001")] == [True, True, False, True, False]
    assert box.votes_of(store, a) == 3
    assert store.execute("SELECT count(*), count(DISTINCT voter) FROM idea_votes").fetchone() == (3, 3)
    with pytest.raises(box.IdeaError, match="voter"):
        box.vote(store, a, "someone")
    assert box.unvote(store, a, "user:U0002") and not box.unvote(store, a, "user:U0002")
    assert box.votes_of(store, a) == 2


def test_merge_keeps_every_voter_once(store):
    a = box.submit(store, "Open on Sundays", "customer")
    b = box.submit(store, "Sunday opening please", "customer")
    for v in ("user:U1", "user:U2", "user:U3"):
        box.vote(store, a, v)
    for v in ("user:U3", "user:U4"):
        box.vote(store, b, v)
    store.execute("UPDATE ideas SET votes = 10 WHERE idea_id = ?", [a])  # counted by an old suggestion box
    store.execute("UPDATE ideas SET votes = 5 WHERE idea_id = ?", [b])
    box.comment(store, b, "Yes!", "ann@example.com")
    box.comment(store, b, "And holidays", "bo@example.com")
    box.comment(store, a, "Agreed", "cy@example.com")
    m = box.merge(store, b, a, "analyst")
    # voters {U1, U2, U3} ∪ {U3, U4} = 4 people, plus 10 + 5 counted elsewhere
    assert (m.votes_moved, m.votes_shared, m.comments_moved) == (1, 1, 2)
    assert box.votes_of(store, a) == 4 + 15
    assert box.row(store, b)["merged_into"] == a and box.votes_of(store, b) == 0
    assert [c["text"] for c in views.detail(store, a).comments] == ["Yes!", "And holidays", "Agreed"]
    listed = views.frame(store)
    assert list(listed["idea_id"]) == [a] and int(listed["votes"].iloc[0]) == 19
    # a vote for the merged idea counts for the one that stays; the person who voted for both cannot vote again
    assert box.vote(store, b, "user:U5") and not box.vote(store, b, "user:U3")
    assert box.votes_of(store, a) == 20
    with pytest.raises(box.IdeaError, match="merged into"):
        box.merge(store, b, a, "analyst")
    with pytest.raises(box.IdeaError, match="itself"):
        box.merge(store, a, a, "analyst")
    assert store.execute("SELECT merged_id, into_id, votes_moved, comments_moved FROM idea_merges").fetchall() == [
        (b, a, 1, 2)]


def _jaccard(x: str, y: str, k: int = 5) -> float:
    """An independent Jaccard of character 5-gram sets of the texts normalised as the text engine does."""
    import re

    def norm(t):
        return re.sub(r"\s+", " ", re.sub(r"[\W\d_]+", " ", t.lower())).strip()

    def grams(t):
        t = norm(t)
        return {t[i:i + k] for i in range(len(t) - k + 1)} or {t}

    a, b = grams(x), grams(y)
    return len(a & b) / len(a | b)


def test_near_duplicates_on_a_hand_made_set():
    texts = {
        "I1": "Please deliver on Saturdays, I work all week.",
        "I2": "Deliver on Saturdays please, I work all week!",
        "I3": "Dostawy w soboty, pracuję cały tydzień.",
        "I4": "Dostawy w soboty! Pracuję cały tydzień.",
        "I5": "A children's corner in the large stores.",
        "I6": "Доставка по субботам, я работаю всю неделю.",
    }
    df = pd.DataFrame({"idea_id": list(texts), "title": [""] * 6, "text": list(texts.values())})
    found = duplicates.pairs(df, votes={"I2": 3, "I1": 1})
    want = {frozenset(p) for p in [("I1", "I2"), ("I3", "I4")]}
    assert {frozenset((p.keep, p.merge)) for p in found} == want
    for p in found:
        assert p.similarity == pytest.approx(_jaccard(texts[p.keep], texts[p.merge]))
        assert p.similarity >= duplicates.THRESHOLD
    assert next(p for p in found if "I1" in (p.keep, p.merge)).keep == "I2"  # more votes stays
    assert _jaccard(texts["I1"], texts["I5"]) < duplicates.THRESHOLD
    # more ideas than are compared pair by pair: candidates by MinHash bands find the same pairs here
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(duplicates, "MAX_PAIRWISE", 2)
        assert duplicates.pairs(df, votes={"I2": 3, "I1": 1}) == found
    # no chains: C is alike to B, B to A, but C not to A — C is proposed for merging only into a kept B
    chain = pd.DataFrame({"idea_id": ["A", "B", "C"], "title": [""] * 3, "text": [
        "open the shop on sundays", "open the shop on sundays and holidays", "shop on sundays and holidays too"]})
    sims = {(x, y): _jaccard(*chain.set_index("idea_id").loc[[x, y], "text"]) for x, y in (("A", "B"), ("B", "C"),
                                                                                         ("A", "C"))}
    assert sims["A", "B"] >= 0.5 and sims["B", "C"] >= 0.5 and sims["A", "C"] < 0.5
    assert [(p.keep, p.merge) for p in duplicates.pairs(chain, votes={"A": 5})] == [("A", "B")]  # C stays
    assert sorted((p.keep, p.merge) for p in duplicates.pairs(chain, votes={"B": 5})) == [("B", "A"), ("B", "C")]
    # the same idea in another language is found by meaning: unit vectors, cosine 0.9 between I1 and I6
    emb = [[1.0, 0.0]] + [[0.0, 1.0]] * 4 + [[0.9, 0.4358898943540674]]
    meaning = duplicates.pairs(df, embeddings=__import__("numpy").array(emb))
    assert ("I1", "I6", "meaning") in {(p.keep, p.merge, p.how) for p in meaning}


def test_statuses_move_with_answers_and_history(store):
    a = box.submit(store, "Self-service returns kiosk", "customer", at=T0)
    with pytest.raises(box.IdeaError, match="answer"):
        box.change_status(store, a, "under_review", "  ", "analyst")
    with pytest.raises(box.IdeaError, match="can become under_review, planned, declined, not done"):
        box.change_status(store, a, "done", "Done", "analyst")
    box.change_status(store, a, "under_review", "Looking at it.", "analyst", at=T0 + dt.timedelta(days=2))
    box.change_status(store, a, "planned", "Next quarter.", "analyst", at=T0 + dt.timedelta(days=5))
    box.change_status(store, a, "done", "In every store now.", "analyst", at=T0 + dt.timedelta(days=40))
    d = views.detail(store, a)
    assert [(h["from_status"], h["to_status"], h["answer"]) for h in d.history] == [
        ("new", "under_review", "Looking at it."), ("under_review", "planned", "Next quarter."),
        ("planned", "done", "In every store now.")]
    assert d.idea["answer"] == "In every store now." and d.idea["answered_at"] == T0 + dt.timedelta(days=2)


def test_the_author_is_emailed_in_their_language(store, sink, monkeypatch):  # noqa: F811
    from centric.ingest import ingest

    ingest("customers", pd.DataFrame({"crm_id": ["K1"], "email": ["Ewa@Example.com"], "name": ["Ewa Nowak"]}),
           store=store, name="c.csv")
    cid = store.execute("SELECT customer_id FROM identities WHERE kind = 'email'").fetchone()[0]
    a = box.submit(store, "Dostawy w soboty", "customer", customer_id=cid, language="pl")
    b = box.submit(store, "No address here", "customer")
    at = T0
    box.change_status(store, a, "planned", "Wprowadzimy to w maju.", "analyst", at=at)
    assert notify(store, a, at) == "emailed"
    box.change_status(store, b, "declined", "Sorry.", "analyst", at=at)
    assert notify(store, b, at) == "no_address"
    assert len(sink.messages) == 1
    to, raw = sink.messages[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert to == ["ewa@example.com"] and msg["Subject"] == "Twój pomysł: Dostawy w soboty"
    body = msg.get_body(("plain",)).get_content()
    assert "zaplanowany" in body and "Wprowadzimy to w maju." in body
    rows = store.execute("SELECT idea_id, notified, notified_to FROM idea_status_changes ORDER BY idea_id").fetchall()
    assert rows == [(a, "emailed", "e…@example.com"), (b, "no_address", None)]
    monkeypatch.setenv("CENTRIC_SMTP_HOST", "")
    box.change_status(store, b, "under_review", "Looking again.", "analyst", at=at + dt.timedelta(hours=1))
    assert notify(store, b, at + dt.timedelta(hours=1)) == "no_mail_server"


def test_rewards_and_the_programme_figures(store):
    ideas = [box.submit(store, f"Idea number {i} about something else entirely {i * 'x'}", kind, at=T0)
             for i, kind in enumerate(["customer", "customer", "employee", "customer"])]
    box.change_status(store, ideas[0], "under_review", "a", "an", at=T0 + dt.timedelta(days=1))
    box.change_status(store, ideas[1], "declined", "b", "an", at=T0 + dt.timedelta(days=3))
    box.change_status(store, ideas[2], "planned", "c", "an", at=T0 + dt.timedelta(days=10))
    box.vote(store, ideas[3], "user:U1")
    box.vote(store, ideas[3], "user:U2")
    box.vote(store, ideas[2], "user:U1")
    store.execute("UPDATE ideas SET factor = 'delivery' WHERE idea_id IN (?, ?)", [ideas[2], ideas[3]])
    box.reward(store, ideas[2], "Voucher", "Ann", "hr", 200, "PLN")
    box.reward(store, ideas[0], "Points", "Bo", "an", 500, "points")
    with pytest.raises(box.IdeaError, match="amount"):
        box.reward(store, ideas[0], "Points", "Bo", "an", -1, "points")
    p = programme(store)
    assert p.by_status == {"new": 1, "under_review": 1, "planned": 1, "done": 0, "declined": 1}
    assert p.by_kind == {"customer": 3, "employee": 1} and p.votes == 3
    assert p.answered == 3 and p.days_to_answer_median == pytest.approx(3.0)
    assert p.days_to_answer_p90 == pytest.approx(3 + 0.8 * 7)  # numpy's linear quantile of 1, 3, 10
    assert (p.rewards, p.reward_points) == (2, 500.0)
    assert p.per_factor == {"delivery": {"ideas": 2, "customers": 1,
                                         "top": {"idea_id": ideas[3], "title": box.row(store, ideas[3])["title"],
                                                 "votes": 2}}}
    assert list(p.top["idea_id"])[:2] == [ideas[3], ideas[2]]


def test_factor_is_suggested_in_several_languages(store):
    from centric.ideas.suggest import suggest_missing

    a = box.submit(store, "Deliver parcels on Saturdays, the courier always comes when I am at work", "customer")
    b = box.submit(store, "Il corriere dovrebbe consegnare anche il sabato", "customer")
    c = box.submit(store, "Accept payment by card and in instalments online", "customer")
    d = box.submit(store, "Something about the weather", "customer", factor="store", factor_source="set")
    assert suggest_missing(store) == 3
    got = dict(store.execute("SELECT idea_id, factor || '/' || factor_source FROM ideas").fetchall())
    assert got == {a: "delivery/suggested", b: "delivery/suggested", c: "payment/suggested", d: "store/set"}
    box.set_factor(store, a, "store")
    assert box.row(store, a)["factor_source"] == "set"
    with pytest.raises(box.IdeaError, match="not a factor"):
        box.set_factor(store, a, "weather")


def test_import_keeps_rejected_rows_with_file_row_and_column(store, write):
    f = write("ideas.csv", "created_at;title;idea;email;votes;author_kind\n"
                           "01.10.2025;Sunday opening;Please open the shop on Sundays too;anna@example.com;12;customer\n"
                           "02.10.2025;Kurier;Proszę o dostawy w soboty, kurier przyjeżdża, gdy jestem w pracy;bo@example.com;5;\n"
                           "03.10.2025;;;x@example.com;3;customer\n"
                           "04.10.2025;Votes;Add a parking lot;y@example.com;lots;employee\n"
                           "05.10.2025;Kind;More cashiers at rush hour;z@example.com;1;robot\n")
    db = db_of(store)
    store.close()
    r = CliRunner().invoke(app, ["--db", db, "ideas", "import", str(f), "--no-suggest"])
    assert r.exit_code == 0, r.output
    assert "read 5, stored 2, rejected 3" in r.output
    assert "row 4, column 'idea': required value is empty" in r.output
    assert "row 5, column 'votes': 'lots' is not a number" in r.output
    assert "row 6, column 'author_kind': 'robot' is not one of: customer, employee" in r.output
    listed = json.loads(CliRunner().invoke(app, ["--db", db, "ideas", "list", "--json"]).output)
    assert [(i["title"], i["votes"], i["status"], i["author_kind"], i["source"]) for i in listed] == [
        ("Sunday opening", 12, "new", "customer", "import"), ("Kurier", 5, "new", "customer", "import")]
    assert [i["language"] for i in listed] == ["en", "pl"]  # detected
    again = CliRunner().invoke(app, ["--db", db, "ideas", "import", str(f), "--no-suggest"])
    assert "stored 0" in again.output or "duplicate_file" in again.output
    bad = CliRunner().invoke(app, ["--db", db, "ideas", "status", listed[0]["idea_id"], "finished", "--answer", "x"])
    assert bad.exit_code == 2 and "error:" in bad.output
    ok = CliRunner().invoke(app, ["--db", db, "ideas", "status", listed[0]["idea_id"], "planned", "--answer", "Yes"])
    assert ok.exit_code == 0 and "new → planned" in ok.output


def test_forget_erases_a_customers_ideas_and_keeps_the_counts(store):
    from centric.ingest import ingest
    from centric.privacy import forget

    ingest("customers", pd.DataFrame({"crm_id": ["K1", "K2"], "email": ["ewa@example.com", "jan@example.com"],
                                      "name": ["Ewa Nowak", "Jan Lis"]}), store=store, name="c.csv")
    ewa, jan = [r[0] for r in store.execute(
        "SELECT customer_id FROM identities WHERE kind = 'email' ORDER BY value").fetchall()]
    mine = box.submit(store, "Ewa's idea: deliver to my office at Długa 5", "customer", customer_id=ewa,
                      author_name="Ewa Nowak")
    public = box.submit(store, "Left on the public page by Ewa", "customer", author_email="ewa@example.com",
                        author_name="Ewa N.", source="public")
    other = box.submit(store, "Jan's idea", "customer", customer_id=jan, author_name="Jan Lis")
    box.comment(store, other, "Ewa agrees with Jan", "customer:" + ewa, "customer", customer_id=ewa)
    box.vote(store, other, f"customer:{ewa}")
    box.vote(store, other, f"customer:{jan}")
    box.reward(store, mine, "Points", "Ewa Nowak", "analyst", 100, "points")
    forget(store, ewa)
    rows = {r[0]: r[1:] for r in store.execute(
        "SELECT idea_id, title, text, author_name, author_email, customer_id FROM ideas").fetchall()}
    assert rows[mine] == ("[erased]", "[erased]", None, None, None)
    assert rows[public] == ("[erased]", "[erased]", None, None, None)
    assert rows[other] == ("Jan's idea", "Jan's idea", "Jan Lis", None, jan)
    assert store.execute("SELECT text, author, customer_id FROM idea_comments").fetchall() == [
        ("[erased]", "[erased]", None)]
    assert box.votes_of(store, other) == 2  # the vote still counts, once
    voters = sorted(r[0] for r in store.execute("SELECT voter FROM idea_votes").fetchall())
    assert voters[0] == f"customer:{jan}" and voters[1].startswith("erased:") and ewa not in voters[1]
    assert store.execute("SELECT recipient FROM idea_rewards").fetchall() == [("[erased]",)]
    dump = json.dumps(store.execute("SELECT * FROM ideas").fetchall(), default=str)
    assert "Ewa" not in dump and "ewa@example.com" not in dump
