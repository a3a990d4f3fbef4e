"""The answers' form fields are split as Starlette's own parser splits them (the oracle), and a form the fast
path does not take (multipart, too many fields) still goes to Starlette."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from centric.web.public import fields

BODIES = [b"score=7&comment=Fast+delivery%2C+thank+you", b"a=1&&b=2", b"a", b"a=&b", b"&", b"", b"=v&k=",
          b"x=%zz&y=%E2%82%AC&z=\xe2\x82\xac", b"a=1;b=2", b"q_speed=5&score=10&score=3", b"c=%00&d=a+b%2Bc",
          b"%41%3D=1", b"&".join(b"f%d=1" % i for i in range(1001))]


def _request(body: bytes, content_type: str) -> Request:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/", "query_string": b"",
                    "headers": [(b"content-type", content_type.encode())]}, receive)


async def _both(body: bytes, content_type: str):
    async def starlette():
        try:
            return list((await _request(body, content_type).form()).multi_items())
        except Exception as e:  # noqa: BLE001 — the same refusal is expected of both
            return type(e).__name__

    async def ours():
        try:
            return list((await fields(_request(body, content_type))).multi_items())
        except Exception as e:  # noqa: BLE001
            return type(e).__name__

    return await ours(), await starlette()


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "Application/X-WWW-Form-Urlencoded; charset=utf-8"])
@pytest.mark.parametrize("body", BODIES)
def test_urlencoded_fields_as_starlette_splits_them(body, content_type):
    ours, theirs = asyncio.run(_both(body, content_type))
    assert ours == theirs


def test_a_multipart_form_goes_to_starlette():
    body = (b'--XX\r\nContent-Disposition: form-data; name="score"\r\n\r\n9\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="comment"\r\n\r\nok\r\n--XX--\r\n')
    ours, theirs = asyncio.run(_both(body, "multipart/form-data; boundary=XX"))
    assert ours == theirs == [("score", "9"), ("comment", "ok")]
