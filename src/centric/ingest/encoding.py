"""Text-encoding detection for the encodings CX exports really come in: UTF-8 (with or without a
BOM), UTF-16 with a BOM, Windows-1250 (Polish, Czech …), Windows-1251 (Russian, Ukrainian …) and
Latin-1 or its Windows variant, Windows-1252 (Italian, French, Spanish …).

Single-byte encodings decode any byte string, so the choice is a plausibility vote: each candidate
decodes the sample and earns points for letters its languages use and loses points for letters they
don't, and for words that mix Latin and Cyrillic letters (the mark of a wrong guess).

>>> detect_encoding("zażółć gęślą jaźń".encode("cp1250"))
'cp1250'
>>> detect_encoding("доставка опоздала".encode("cp1251"))
'cp1251'
"""

from __future__ import annotations

import codecs
import re

_POLISH = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_CENTRAL = _POLISH | set("áäčďéěíĺľňôŕřšťúůýžÁÄČĎÉĚÍĹĽŇÔŔŘŠŤÚŮÝŽ")
_WESTERN = set("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ«»°ºª€")
_WORD = re.compile(r"\w+")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _score(text: str, encoding: str) -> float:
    score = 0.0
    for word in _WORD.findall(text):
        non_ascii = [ch for ch in word if ord(ch) > 127]
        if not non_ascii:
            continue
        has_latin = any("a" <= ch.lower() <= "z" for ch in word)
        has_cyr = any(_is_cyrillic(ch) for ch in word)
        for ch in non_ascii:
            if encoding == "cp1251":
                good = _is_cyrillic(ch) and not has_latin
            elif encoding == "cp1250":
                good = ch in _POLISH or (ch in _CENTRAL and not has_cyr) * 0.5
            else:
                good = ch in _WESTERN
            score += 1.0 if good is True else (good or -2.0)
    return score


def detect_encoding(data: bytes, complete: bool = True) -> str:
    """Best guess of ``data``'s encoding. ``complete=False`` says ``data`` is only the start of a
    file (a megabyte is enough), so a character cut at its end is not an error."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    scores = {enc: _score(data.decode(enc, errors="replace"), enc) for enc in ("cp1250", "cp1251", "latin-1")}
    best = max(scores, key=lambda enc: scores[enc])
    if best == "latin-1" and any(0x80 <= b <= 0x9F for b in data):
        # bytes that are control characters in Latin-1 but €, „, “, –, … in Windows-1252: the usual
        # "Latin-1" of Windows exports
        return "cp1252"
    return best
