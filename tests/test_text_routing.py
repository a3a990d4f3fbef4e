"""Routing: the top factor of a text, with a taxonomy a user writes (three factors, three phrases each)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from centric.text import Analyzer
from centric.text.routing import Router, for_matching, route
from centric.text.taxonomy import Factor, Taxonomy

BANK = Taxonomy("my_bank", (
    Factor("mortgage", {"en": "Mortgage"}, {"en": ["my mortgage payment", "the escrow account for my house",
                                                   "foreclosure on my home"]}),
    Factor("credit_card", {"en": "Credit card"}, {"en": ["a charge on my credit card", "the card's interest rate",
                                                         "my credit card was declined"]}),
    Factor("student_loan", {"en": "Student loan"}, {"en": ["my student loan servicer", "repaying my college loans",
                                                           "forgiveness of my student debt"]}),
))

LONG = """I am writing to file a formal complaint against XXXX XXXX. On XX/XX/XXXX I called their office and \
spoke with a representative named XXXX. She told me that someone would call me back within two days. Nobody did.

On XX/XX/XXXX I called again and waited on hold for over an hour. I was transferred three times. The \
escrow account on my home loan was charged twice for the property taxes, {$2400.00}, and my monthly mortgage \
payment went up by {$380.00} because of their mistake. I sent them copies of the tax bills on XX/XX/XXXX.

They still have not fixed it. This has caused me a great deal of stress and my family is worried we will \
fall behind on the house. I want the overcharge refunded and my payment corrected. Thank you."""


@pytest.fixture(scope="module")
def bank():
    return Analyzer(BANK, fast=True)


def test_route_by_hand():
    ids = ["a", "b", "c"]
    probs = np.array([[0.10, 0.20, 0.05],   # names no factor: no vote
                      [0.80, 0.10, 0.10],
                      [0.40, 0.50, 0.10]])
    # votes: a 0.8 + 0.4 = 1.2, b 0.6, c 0.2 → shares 0.6, 0.3, 0.1
    assert route(probs, ids) == {"factor": "a", "confidence": 0.8, "score": 0.6, "sentences": [1]}
    # the words of c's phrases (shares 0, 0.2, 0.8) outweigh: a 0.6, b 0.5, c 0.9 of 2.0
    assert route(probs, ids, words=np.array([0.0, 0.1, 0.4])) == {
        "factor": "c", "confidence": 0.1, "score": 0.45, "sentences": []}
    assert route(probs[:1], ids) is None  # generic sentences only and no word: no factor
    assert route(np.zeros((0, 3)), ids) is None


def test_the_words_of_the_factors_phrases():
    W = Router().fit(BANK).words(["I am writing to complain about this.", "XXXX is my college loan servicer",
                                  "Skarga na bank, to jest do niczego"])
    assert W[0].tolist() == [0, 0, 0] and W[2].tolist() == [0, 0, 0]  # no word of any phrase ("na", "to" too short)
    assert W[1].argmax() == 2 and W[1][0] == 0 and W[1][1] == 0  # "college", "loan", "servicer": student_loan only


def test_masks_are_left_out_for_the_factor_model():
    assert for_matching("On XX/XX/XXXX XXXX told me my {$1,200.00} payment was late.") == \
        "On told me my $1,200.00 payment was late."
    assert for_matching("Great food, XL portions.") == "Great food, XL portions."


def test_a_long_complaint_with_masks_goes_to_its_factor(bank):
    (r,) = bank.analyze([{"id": 1, "text": LONG, "lang": "en"}])
    assert len(r.sentences) >= 10
    assert r.top_factor["factor"] == "mortgage"
    assert r.factor_probs.shape == (len(r.sentences), 3)
    # the sentence on the escrow account votes; the procedure (calls, transfers, "thank you") does not
    escrow = next(i for i, s in enumerate(r.sentences) if "escrow" in s)
    assert escrow in r.top_factor["sentences"]
    procedure = [i for i, s in enumerate(r.sentences) if s.startswith(("I am writing", "On ", "She ", "Nobody", "I was",
                                                                        "They still", "Thank"))]
    assert len(procedure) == 8 and not set(procedure) & set(r.top_factor["sentences"])
    assert [(f["factor"], f["sentence"]) for f in r.factors] == [("mortgage", escrow)]


@pytest.mark.parametrize("text", ["I am writing to complain about this.",
                                  "I called them three times and nobody called me back."])
def test_a_generic_sentence_names_no_factor(bank, text):
    (r,) = bank.analyze([{"id": 1, "text": text, "lang": "en"}])
    assert r.top_factor is None and r.factors == []


def test_routing_is_deterministic(bank):
    items = [{"id": 1, "text": LONG, "lang": "en"},
             {"id": 2, "text": "My credit card was charged twice for one purchase at XXXX.", "lang": "en"}]
    first = [r.to_dict() for r in bank.analyze(items)]
    again = [r.to_dict() for r in Analyzer(BANK, fast=True).analyze(list(reversed(items)))]
    assert first == list(reversed(again))
    assert [d["top_factor"]["factor"] for d in first] == ["mortgage", "credit_card"]


def test_top_factor_in_the_file_interface(tmp_path):
    from typer.testing import CliRunner

    from centric.cli import app

    tax = tmp_path / "my_bank.toml"
    tax.write_text("\n".join(
        f'[[factors]]\nid = "{f.id}"\nnames = {{ en = "{f.name()}" }}\nexamples.en = {json.dumps(f.examples["en"])}\n'
        for f in BANK.factors), encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": LONG}) + "\n"
                   + json.dumps({"id": 2, "text": "I am writing to complain about this."}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["text", "analyze", str(src), "--taxonomy", str(tax), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["top_factor"]["factor"] == "mortgage" and rows[1]["top_factor"] is None
    assert set(rows[0]) >= {"id", "lang", "sentiment", "score", "factors", "emotions", "flags"}
