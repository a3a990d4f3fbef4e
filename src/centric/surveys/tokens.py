"""Signed single-use links: the token in ``/s/TOKEN`` is the invitation's number in base62 followed by an
HMAC-SHA256 tag of it (120 bits, 20 URL-safe characters), at most 31 characters of ``[A-Za-z0-9_-]``.

The token carries no expiry and no state: whether a link still takes an answer is the invitation row's
business (``expires_at``, ``answered_at``), so a link's life can be ended in the store. A token that is
malformed, truncated, tampered with or signed with another key reads as None; the tag is compared in
constant time.

>>> t = make("key", 42)
>>> read("key", t), read("other key", t), read("key", t[:-1])
(42, None, None)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from .. import settings
from ..store import Store

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TAG_BYTES = 15  # 120 bits
TAG_CHARS = 20  # base64url of 15 bytes, no padding
MAX_ID_CHARS = 11  # 62**11 > 2**63: any bigint invitation id
MAX_CHARS = MAX_ID_CHARS + TAG_CHARS
_SHAPE = re.compile(rf"^[0-9A-Za-z]{{1,{MAX_ID_CHARS}}}[A-Za-z0-9_-]{{{TAG_CHARS}}}$")
_CONTEXT = b"centric survey invitation\x00"
EMPLOYEE = b"centric employee invitation\x00"  # employee links: another key space, never read as a customer's
ORIENTATION = b"centric orientation invitation\x00"  # self-assessment links (centric.orientation): a third one


def _base62(n: int) -> str:
    if n < 0:
        raise ValueError("an invitation id is a whole number, 0 or more")
    out = ""
    while True:
        n, r = divmod(n, 62)
        out = ALPHABET[r] + out
        if n == 0:
            return out


def _tag(secret: str, id_part: str, context: bytes = _CONTEXT) -> str:
    mac = hmac.new(secret.encode("utf-8"), context + id_part.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:TAG_BYTES]).decode("ascii")


def make(secret: str, invitation_id: int, context: bytes = _CONTEXT) -> str:
    """The token of invitation ``invitation_id`` signed with ``secret`` (``context`` EMPLOYEE: an employee
    survey's link, whose tag no customer link shares)."""
    if not secret:
        raise ValueError("an empty key signs nothing")
    id_part = _base62(int(invitation_id))
    if len(id_part) > MAX_ID_CHARS:
        raise ValueError(f"invitation id {invitation_id} is too large for a token")
    return id_part + _tag(secret, id_part, context)


def read(secret: str, token: str, context: bytes = _CONTEXT) -> int | None:
    """The invitation id a genuine token of ``secret`` (and ``context``) names, else None (never raises on bad
    input)."""
    if not secret or not isinstance(token, str) or not _SHAPE.match(token):
        return None
    id_part, tag = token[:-TAG_CHARS], token[-TAG_CHARS:]
    if len(id_part) > 1 and id_part[0] == "0":  # one token per id: no leading zeros
        return None
    expected = _tag(secret, id_part, context)
    if not hmac.compare_digest(expected.encode("ascii"), tag.encode("ascii")):
        return None
    n = 0
    for ch in id_part:
        n = n * 62 + ALPHABET.index(ch)
    return n if n < 2**63 else None


def secret(store: Store) -> str:
    """The key that signs survey links: the setting ``survey_secret``, else one generated once and kept in the
    store (so that links stay valid across restarts)."""
    return settings.get("survey_secret") or store.kept_secret("survey_secret")

__all__ = ["EMPLOYEE", "MAX_CHARS", "ORIENTATION", "make", "read", "secret"]
