"""Factors added in the store extend the store's taxonomy: validated by field, kept in the store, used as
root causes and by the pipeline's taxonomy."""

from __future__ import annotations

import pytest

from centric.cases.workflow import root_causes
from centric.errors import CentricError
from centric.text.taxonomy import (
    active_taxonomy,
    add_store_factor,
    load_taxonomy,
    store_factor_rows,
    store_factors,
    with_store_factors,
)


def test_a_factor_added_in_the_store_extends_its_taxonomy(store):
    f = add_store_factor(store, "parking", {"en": "Parking", "it": "Parcheggio", "pl": " "},
                         {"en": ["no parking space", " "]}, by="ann@example.com")
    assert f.names == {"en": "Parking", "it": "Parcheggio"} and f.examples == {"en": ["no parking space"]}
    t = active_taxonomy(store)  # retail: no texts analysed yet
    assert t.ids[-1] == "parking" and t.ids[:-1] == load_taxonomy("retail").ids
    assert t.factor("parking").name("it") == "Parcheggio" and t.factor("parking").name("ru") == "Parking"
    assert "parking" in root_causes(store)
    assert store_factor_rows(store)[0]["added_by"] == "ann@example.com"
    # a taxonomy that has the factor already keeps its own
    mine = with_store_factors(t, store)
    assert mine.ids.count("parking") == 1


@pytest.mark.parametrize("fid, names, examples, message", [
    ("Parking", {"en": "Parking"}, {"en": ["x"]}, "factor id 'Parking': use 2 to 40 lower-case letters"),
    ("delivery", {"en": "Delivery"}, {"en": ["x"]}, "factor id 'delivery': the taxonomy has it already"),
    ("parking", {"pl": "Parking"}, {"en": ["x"]}, "factor 'parking': the English name is needed"),
    ("parking", {"en": "Parking"}, {"en": [" "]}, "factor 'parking': give at least one keyword"),
])
def test_a_wrong_factor_is_refused_by_field(store, fid, names, examples, message):
    with pytest.raises(CentricError, match=message):
        add_store_factor(store, fid, names, examples)
    assert store_factors(store) == []
