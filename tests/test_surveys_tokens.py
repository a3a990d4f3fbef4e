"""Signed survey links: short, URL-safe, forged or altered tokens refused."""

from __future__ import annotations

import re

import pytest

from centric.store import Store
from centric.surveys import tokens

KEY = "k" * 40


@pytest.mark.parametrize("invitation_id", [0, 1, 61, 62, 123_456_789, 2**40, 2**63 - 1])
def test_round_trip_short_and_url_safe(invitation_id):
    t = tokens.make(KEY, invitation_id)
    assert len(t) <= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", t)
    assert len(t) >= 21  # 20 characters of tag (120 bits) after the id
    assert tokens.read(KEY, t) == invitation_id


def test_known_id_encoding():
    # 62 in base62 is "10"; the tag follows
    assert tokens.make(KEY, 62).startswith("10") and len(tokens.make(KEY, 62)) == 22


def test_another_secret_refused():
    assert tokens.read("another key", tokens.make(KEY, 7)) is None


def test_truncated_and_extended_refused():
    t = tokens.make(KEY, 1234)
    for bad in (t[:-1], t[1:], t + "A", t[:20], ""):
        assert tokens.read(KEY, bad) is None


def test_every_single_character_change_refused():
    t = tokens.make(KEY, 98765)
    alphabet = tokens.ALPHABET + "-_"
    for i, ch in enumerate(t):
        other = alphabet[(alphabet.index(ch) + 1) % len(alphabet)]
        assert tokens.read(KEY, t[:i] + other + t[i + 1:]) is None, f"change at {i} accepted"


def test_id_swapped_onto_another_tag_refused():
    a, b = tokens.make(KEY, 5), tokens.make(KEY, 6)
    assert tokens.read(KEY, a[:-20] + b[-20:]) is None
    assert tokens.read(KEY, "0" + a) is None  # a leading zero names the same id: refused (one token per id)


@pytest.mark.parametrize("bad", ["after-delivery", "x" * 33, "a.b.c", "<script>", "ÄÖÜ" * 8, None, 12])
def test_malformed_is_none_not_an_error(bad):
    assert tokens.read(KEY, bad) is None


def test_store_secret_generated_once_and_setting_wins(monkeypatch):
    with Store.open(":memory:") as s:
        monkeypatch.delenv("CENTRIC_SURVEY_SECRET", raising=False)
        first = tokens.secret(s)
        assert len(first) >= 40 and tokens.secret(s) == first
        monkeypatch.setenv("CENTRIC_SURVEY_SECRET", "configured key")
        assert tokens.secret(s) == "configured key"
