"""Text-encoding detection for the encodings CX exports really come in: UTF-8 (with or without a
BOM), UTF-16 and UTF-32 (with a BOM, or without one when every other character is ASCII), Windows-1250 (Polish, Czech …), Windows-1251 (Russian, Ukrainian …) and
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
from pathlib import Path

KEEP_BYTES = "centric-keep-bytes"


def _keep_bytes(e: UnicodeError) -> tuple[str, int]:
    """A decoding error handler like "surrogateescape", for any byte (that one gives up on bytes
    below 0x80, as in a UTF-16 file cut in the middle of a character): byte b becomes U+DC00 + b, so
    the reader can tell the row, the column and the bytes that are not text."""
    if not isinstance(e, UnicodeDecodeError):
        raise e
    return "".join(chr(0xDC00 + b) for b in e.object[e.start:e.end]), e.end


codecs.register_error(KEEP_BYTES, _keep_bytes)

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


def _bomless_wide(data: bytes) -> str | None:
    """UTF-16 or UTF-32 without a BOM, told by the zero bytes of ASCII characters (a text file in a
    single-byte encoding or UTF-8 holds no zero bytes)."""
    n = min(len(data), 4096) // 4 * 4
    if n < 8 or b"\x00" not in data[:n]:
        return None
    head = data[:n]
    zeros = [sum(1 for b in head[k::4] if b == 0) / (n // 4) for k in range(4)]
    if zeros[1] > 0.9 and zeros[2] > 0.9 and zeros[3] > 0.9:
        return "utf-32-le"
    if zeros[0] > 0.9 and zeros[1] > 0.9 and zeros[2] > 0.9:
        return "utf-32-be"
    odd, even = (zeros[1] + zeros[3]) / 2, (zeros[0] + zeros[2]) / 2
    if odd > 0.6 and even < 0.1:
        return "utf-16-le"
    if even > 0.6 and odd < 0.1:
        return "utf-16-be"
    return None


def detect_encoding(data: bytes, complete: bool = True) -> str:
    """Best guess of ``data``'s encoding. ``complete=False`` says ``data`` is only the start of a
    file (a megabyte is enough), so a character cut at its end is not an error."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        return "utf-32"  # before UTF-16: the UTF-32 LE mark starts like the UTF-16 LE one
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    wide = _bomless_wide(data)
    if wide:
        return wide
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


def is_wide(encoding: str) -> bool:
    """UTF-16 or UTF-32: zero bytes are part of the text."""
    return encoding.startswith(("utf-16", "utf-32"))


def detect_file_encoding(path: Path, sample: int = 1 << 20) -> str:
    """The encoding of the file at ``path``, judged from its first ``sample`` bytes, and, when those
    are plain ASCII, from the first later stretch that is not UTF-8 (a file whose Polish letters come
    after its first megabyte is still Windows-1250). A file that shows UTF-8 letters before a bad
    byte stays UTF-8: the bad byte is a stray, and the reader rejects its row. So the file is read on
    only while it is plain ASCII: once a UTF-8 letter has shown, nothing later can change the answer."""
    with open(path, "rb") as f:
        head = f.read(sample)
        complete = len(head) < sample
        enc = detect_encoding(head, complete=complete)
        if enc != "utf-8" or complete or not head.isascii():
            return enc
        for chunk in iter(lambda: f.read(sample), b""):
            try:  # all before was ASCII, so a fresh decoder; a character cut at the chunk's end is no error
                codecs.getincrementaldecoder("utf-8")().decode(chunk)
            except UnicodeDecodeError as e:
                return detect_encoding(chunk) if chunk[: e.start].isascii() else "utf-8"
            if not chunk.isascii():
                return "utf-8"
    return "utf-8"
