"""``centric text flagged``, ``text topics``, ``text discover`` and ``text analyze`` on PostgreSQL: on a store built by hand the texts
flagged and the sentences no factor matched are those worked out by hand on each engine; on a PostgreSQL copy of the
small demo store (``centric store copy``, tests/pg.py) every output is that of the DuckDB store it was copied from."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from .engines import DUCK_PG, POSTGRESQL, pair, run

CAP = pytest.mark.capability("text reads", engines=DUCK_PG)
NEAR = '[{"flag": "near_duplicate", "reason": "nearly the same as F2"}]'
BURST = '[{"flag": "burst", "reason": "12 texts in an hour"}]'


def _build(store) -> None:
    """Three texts: F1 (ours, 1 February, flagged near-duplicate), F2 (a rival's, 1 March, no flag), R1 (a survey
    comment, 1 April, flagged burst, analysed with two taxonomies); R1's second sentence is about delivery."""
    at = {"F1": dt.datetime(2026, 2, 1, 10), "F2": dt.datetime(2026, 3, 1, 10), "R1": dt.datetime(2026, 4, 1, 10)}
    with store.transaction() as con:
        con.executemany("INSERT INTO feedback (feedback_id, source, brand, posted_at, text, author) "
                        "VALUES (?, 'review', ?, ?, ?, ?)",
                        [("F1", "ours", at["F1"], "Great shop. The parking lot was full all day long.", "Ann K."),
                         ("F2", "Rival", at["F2"], "Their parking lot is too small for vans.", None)])
        con.execute("INSERT INTO responses (response_id, customer_id, survey, responded_at, nps, comment, language) "
                    "VALUES ('R1', 'C1', 'post-delivery', ?, 3, 'The sofa was lovely and soft. Delivery was late "
                    "again today.', 'en')", [at["R1"]])
        con.executemany("INSERT INTO text_analyses VALUES (?, ?, ?, 'en', 'negative', -0.5, '{}', ?, 'hand', ?)",
                        [("feedback", "F1", "retail", NEAR, at["F1"]), ("feedback", "F2", "retail", "[]", at["F2"]),
                         ("responses", "R1", "retail", BURST, at["R1"]), ("responses", "R1", "other", BURST, at["R1"])])
        con.execute("INSERT INTO mentions VALUES ('responses', 'R1', 1, 'delivery', 'negative', -0.7, 0.9, 'retail', "
                    "'en')")


@CAP
def test_flagged_texts_and_unmatched_sentences_by_hand(engine, store):
    from centric.text.discovery import store_sentences
    from centric.text.suspicious import flagged

    _build(store)
    s = engine.store_of(store)
    got = flagged(s)
    assert [(x["id"], x["at"], x["flag"], x["author"]) for x in got] == [  # newest first, R1 once
        ("R1", "2026-04-01 10:00:00", "burst", "C1"), ("F1", "2026-02-01 10:00:00", "near_duplicate", "Ann K.")]
    assert got[1]["excerpt"] == "Great shop. The parking lot was full all day long." and got == flagged(store)
    assert [x["id"] for x in flagged(s, flag="burst")] == ["R1"] and flagged(s, limit=1) == got[:1]
    # sentences of three words or more that no factor matched: F1's second, F2's, R1's first (not its second)
    assert store_sentences(s, "retail") == (["The parking lot was full all day long.",
                                             "Their parking lot is too small for vans.",
                                             "The sofa was lovely and soft."], ["en", "en", "en"])
    assert store_sentences(s, "retail", brand="Rival") == (["Their parking lot is too small for vans."], ["en"])
    assert store_sentences(s, "retail", since="2026-02-15") == (["Their parking lot is too small for vans.",
                                                                 "The sofa was lovely and soft."], ["en", "en"])
    assert store_sentences(s, "retail", since="2026-02-15", brand="ours") == ([], [])
    assert store_sentences(s, "nosuch") == ([], [])


def _out(db, *args) -> str:
    r = run(*args, db=db)
    assert r.exit_code == 0, r.output
    return r.output


@CAP
def test_the_commands_give_duckdbs_answers(demo_engines, request, tmp_path):
    duck, pg = pair(demo_engines, request, POSTGRESQL)
    for args in (("text", "flagged", "--json"), ("text", "flagged"), ("text", "flagged", "--flag", "burst"),
                 ("text", "topics", "--json"), ("text", "topics", "--brand", "all", "--period", "quarter", "--json"),
                 ("text", "topics", "--source", "survey", "--since", "2026-01-01", "--json"), ("text", "topics")):
        assert _out(pg, *args) == _out(duck, *args), args
    flagged = json.loads(_out(duck, "text", "flagged", "--json", "--limit", "1000"))
    assert len({x["flag"] for x in flagged}) >= 2 and [x["at"] for x in flagged] == sorted(
        (x["at"] for x in flagged), reverse=True)
    assert len(json.loads(_out(duck, "text", "topics", "--json"))["topics"]) > 5
    for args in (("--seed", "1"), ("--since", "2026-01-01", "--brand", "ours")):
        found = []
        for name, db in (("duck", duck), ("pg", pg)):
            out = tmp_path / f"{name}.json"
            found.append((_out(db, "text", "discover", *args, "--out", str(out)), json.loads(out.read_text())))
        assert found[1] == found[0], args  # the same candidates, sizes, terms and quotes
        assert len(found[0][1]) >= 2


@CAP
def test_text_analyze_reads_and_writes_files_on_any_store(demo_engines, request, tmp_path):
    duck, pg = pair(demo_engines, request, POSTGRESQL)
    texts = tmp_path / "in.jsonl"
    texts.write_text("\n".join(json.dumps(x) for x in (
        {"id": "a", "text": "The courier was two days late with my parcel."},
        {"id": "b", "text": "Kurier spóźnił się dwa dni z moją paczką."})) + "\n", encoding="utf-8")
    got = []
    for name, db in (("duck", duck), ("pg", pg)):
        out = tmp_path / f"{name}.jsonl"
        assert "2 texts analysed" in _out(db, "text", "analyze", str(texts), "--out", str(out))
        got.append(out.read_text(encoding="utf-8"))
    assert got[1] == got[0]
    rows = [json.loads(line) for line in got[0].splitlines()]
    assert [(r["id"], r["lang"], r["top_factor"]["factor"]) for r in rows] == [("a", "en", "delivery"),
                                                                        ("b", "pl", "delivery")]
