"""Emotions by factor and by segment (centric.feelings) on a store built by hand, the shares counted by hand; on
either engine (the suite's PostgreSQL leg runs it there too)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from centric.feelings import EMOTIONS, feelings

from .conftest import db_of

AT = dt.datetime(2026, 3, 1, 12)


def emo(**high) -> str:
    return json.dumps({e: high.get(e, 0.1) for e in EMOTIONS})


def frame(cols, data) -> pd.DataFrame:
    return pd.DataFrame(data, columns=cols)


@pytest.fixture
def texts(store):
    """r1 (vip): anger, sadness — delivery negative, price positive; r2 (b2c): joy, trust — delivery positive, and
    analysed a second time with another taxonomy; r3 (b2c): anger — delivery negative; f1 (a review of ours, no
    customer): joy — staff positive; f2 (a rival's review): anger; n1 (a mystery shopper's note: the company's own
    eyes): anger; r5: a placeholder answer ({}): left out."""
    with store.transaction():
        store.insert_frame("customers", frame(["customer_id", "segment"],
                                              [("c1", "vip"), ("c2", "b2c"), ("c3", "b2c")]))
        store.insert_frame("responses", frame(
            ["response_id", "customer_id", "survey", "responded_at", "nps", "comment"],
            [("r1", "c1", "s", AT, 2, "late and too dear"), ("r2", "c2", "s", AT, 10, "fast"),
             ("r3", "c3", "s", AT, 3, "late"), ("r5", "c3", "s", AT, 8, "-")]))
        store.insert_frame("feedback", frame(
            ["feedback_id", "source", "brand", "posted_at", "text"],
            [("f1", "review", "ours", AT, "kind staff"), ("f2", "review", "Rival", AT, "late"),
             ("n1", "mystery_shopper", "ours", AT, "late")]))
        store.insert_frame("text_analyses", frame(
            ["source", "text_id", "taxonomy", "sentiment", "emotions", "analyzed_at"],
            [("responses", "r1", "retail", "negative", emo(anger=0.9, sadness=0.6), AT),
             ("responses", "r2", "retail", "positive", emo(joy=0.8, trust=0.7), AT),
             ("responses", "r2", "banking", "positive", emo(joy=0.8), AT),
             ("responses", "r3", "retail", "negative", emo(anger=0.7), AT),
             ("responses", "r5", "retail", None, "{}", AT),
             ("feedback", "f1", "retail", "positive", emo(joy=0.9), AT),
             ("feedback", "f2", "retail", "negative", emo(anger=0.9), AT),
             ("feedback", "n1", "retail", "negative", emo(anger=0.9), AT)]))
        store.insert_frame("mentions", frame(
            ["source", "text_id", "sentence", "factor", "sentiment", "taxonomy"],
            [("responses", "r1", 0, "delivery", "negative", "retail"), ("responses", "r1", 0, "price", "positive", "retail"),
             ("responses", "r2", 0, "delivery", "positive", "retail"),
             ("responses", "r3", 0, "delivery", "negative", "retail"), ("responses", "r3", 1, "delivery", "neutral", "retail"),
             ("feedback", "f1", 0, "staff", "positive", "retail"), ("feedback", "f2", 0, "delivery", "negative", "retail"),
             ("feedback", "n1", 0, "delivery", "negative", "retail")]))
    return store


def shares(row, prefix=""):
    return {e: row[prefix + e] for e in EMOTIONS if not pd.isna(row[prefix + e]) and row[prefix + e] > 0}


def test_shares_over_all_texts_by_factor_and_by_segment(texts):
    fe = feelings(texts, min_texts=1)
    # r1, r2, r3, f1: anger in r1 and r3, joy in r2 and f1, sadness in r1, trust in r2 (r2 counted once)
    assert fe.texts == 4
    assert fe.overall == {"anger": 0.5, "anticipation": 0.0, "disgust": 0.0, "fear": 0.0, "joy": 0.5,
                          "sadness": 0.25, "surprise": 0.0, "trust": 0.25}
    f = fe.by_factor.set_index("factor")
    assert list(fe.by_factor["factor"]) == ["delivery", "price", "staff"]  # most texts first, then by name
    d = f.loc["delivery"]
    assert (d["texts"], d["negative_texts"]) == (3, 2)  # r3 counted once despite two mentions
    assert shares(d) == pytest.approx({"anger": 2 / 3, "joy": 1 / 3, "sadness": 1 / 3, "trust": 1 / 3})
    assert shares(d, "negative:") == pytest.approx({"anger": 1.0, "sadness": 0.5})
    assert shares(f.loc["price"]) == {"anger": 1.0, "sadness": 1.0}
    assert f.loc["price", "negative_texts"] == 0 and pd.isna(f.loc["price", "negative:anger"])
    assert shares(f.loc["staff"]) == {"joy": 1.0}
    seg = fe.by_segment
    assert [(s, c) for s, c in zip(seg["segment"], seg["customer"], strict=True)] == [
        ("b2c", True), ("vip", True), (None, False)]  # most texts first; the texts without a customer apart
    assert list(seg["texts"]) == [2, 1, 1]
    assert [shares(r) for _, r in seg.iterrows()] == [{"anger": 0.5, "joy": 0.5, "trust": 0.5},
                                                      {"anger": 1.0, "sadness": 1.0}, {"joy": 1.0}]
    assert fe.lift(f.loc["delivery"])["anger"] == pytest.approx(100 * (2 / 3 - 0.5))


def test_filters_brands_and_small_groups(texts):
    b2c = feelings(texts, where={"segment": ["b2c"]}, min_texts=1)
    assert b2c.texts == 2 and b2c.overall["anger"] == 0.5 and b2c.overall["trust"] == 0.5
    rival = feelings(texts, brand="Rival", min_texts=1)
    assert rival.texts == 1 and rival.overall["anger"] == 1.0
    assert list(rival.by_factor["factor"]) == ["delivery"]
    # under the default of 10 texts a group keeps its count, not its shares
    fe = feelings(texts)
    d = fe.by_factor.set_index("factor").loc["delivery"]
    assert d["texts"] == 3 and all(pd.isna(d[e]) for e in EMOTIONS)
    assert fe.overall["anger"] == 0.5  # the whole selection's shares are always shown
    assert feelings(texts, start=AT + dt.timedelta(days=1)).empty


def test_the_command_prints_the_same_shares(texts):
    from typer.testing import CliRunner

    from centric.cli import app

    db = db_of(texts)
    texts.close()
    r = CliRunner().invoke(app, ["--db", db, "text", "feelings", "--json", "--min-texts", "1"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["texts"] == 4 and got["overall"]["anger"] == 0.5 and got["overall"]["trust"] == 0.25
    delivery = next(x for x in got["by_factor"] if x["factor"] == "delivery")
    assert delivery["negative_texts"] == 2 and delivery["negative:anger"] == 1.0
    assert delivery["anger"] == pytest.approx(2 / 3)
    assert [(x["segment"], x["customer"], x["texts"]) for x in got["by_segment"]] == [
        ("b2c", True, 2), ("vip", True, 1), (None, False, 1)]
    vip = CliRunner().invoke(app, ["--db", db, "text", "feelings", "--json", "--segment", "vip", "--min-texts", "1"],
                             catch_exceptions=False)
    assert json.loads(vip.output)["overall"]["sadness"] == 1.0
    table = CliRunner().invoke(app, ["--db", db, "text", "feelings", "--min-texts", "1"], catch_exceptions=False)
    assert table.exit_code == 0 and "Emotions in 4 texts about ours" in table.output and "delivery" in table.output
    bad = CliRunner().invoke(app, ["--db", db, "text", "feelings", "--since", "March"])
    assert bad.exit_code != 0 and "--since: 'March' is not a date" in bad.output
