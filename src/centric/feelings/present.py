"""The "How customers feel" section's context (the report's ``_section_feelings.html``, also shown live on the
web app's dashboards): the shares written in the reader's language, the emotions named in it, and the cells that
stand out marked."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .analysis import EMOTIONS, MIN_TEXTS, Feelings

STANDS_OUT = 10.0
"""A share at least this many percentage points above its share over all texts is marked."""
ROWS = 12
"""Factors and segments shown (the most texts first)."""


def _names(_) -> dict[str, str]:
    return {"anger": _("anger"), "anticipation": _("anticipation"), "disgust": _("disgust"), "fear": _("fear"),
            "joy": _("joy"), "sadness": _("sadness"), "surprise": _("surprise"), "trust": _("trust")}


def _row(fe: Feelings, r: pd.Series, name: str, count: str, f, prefix: str = "") -> dict[str, Any]:
    lift = fe.lift(r, prefix)
    cells = []
    for e in EMOTIONS:
        v = r[prefix + e]
        cells.append({"share": "—" if pd.isna(v) else f.pct(100 * float(v)),
                      "lift": None if lift[e] is None else f.num(lift[e], 0, sign=True),
                      "high": lift[e] is not None and lift[e] >= STANDS_OUT})
    return {"name": name, "texts": f.num(int(r[count])), "cells": cells}


def _segment(r: pd.Series, _) -> str:
    """A segment's name as shown: the texts without a known customer and the customers without a segment said so."""
    if not r["customer"]:
        return _("no known customer")
    return _("no segment") if r["segment"] is None or pd.isna(r["segment"]) else str(r["segment"])


def section(fe: Feelings | None, f, names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The template's context, or None when no text of the selection carries emotions."""
    if fe is None or fe.empty:
        return None
    _ = f.gettext
    names = names or {}
    emo = _names(_)
    factors = fe.by_factor.head(ROWS)
    negative = fe.by_factor[fe.by_factor["negative_texts"] >= MIN_TEXTS].sort_values(
        ["negative_texts", "factor"], ascending=[False, True]).head(ROWS)
    return {
        "emotions": [emo[e] for e in EMOTIONS],
        "texts": f.num(fe.texts),
        "overall": [f.pct(100 * fe.overall[e]) for e in EMOTIONS],
        "factors": [_row(fe, r, names.get(r["factor"], r["factor"]), "texts", f) for _i, r in factors.iterrows()],
        "negative": [_row(fe, r, names.get(r["factor"], r["factor"]), "negative_texts", f, "negative:")
                     for _i, r in negative.iterrows()],
        "segments": [_row(fe, r, _segment(r, _), "texts", f)
                     for _i, r in fe.by_segment.head(ROWS).iterrows()],
        "min_texts": MIN_TEXTS, "stands_out": f.num(STANDS_OUT, 0),
    }
