"""What protects every response and every form: security headers and the Content-Security-Policy (a pure
ASGI middleware, so errors and static files get them too), the CSRF check, and rate limiters.

>>> limiter = RateLimiter(2, 60)
>>> [limiter.hit("k", now=0.0), limiter.hit("k", now=1.0), limiter.hit("k", now=2.0)]
[0, 0, 58]
"""

from __future__ import annotations

import collections
import hmac
import math
import threading
import time

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
_RAW_HEADERS = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
# A response that may be shown inside other sites' pages (an embedded survey form) says so with this header,
# holding the allowed origins; the middleware removes it and lets only that response be framed by them.
FRAME_HEADER = b"x-centric-frame-ancestors"


def _framed_headers(origins: bytes) -> list[tuple[bytes, bytes]]:
    csp = CSP.replace("frame-ancestors 'none'", "frame-ancestors " + origins.decode("latin-1"))
    return [(k, csp.encode("latin-1") if k == b"content-security-policy" else v) for k, v in _RAW_HEADERS
            if k != b"x-frame-options"]


NUL_MESSAGE = "a NUL character (%00) is not allowed in a request"


def has_nul(scope) -> bool:
    """Does the request's address (path or query string) carry a NUL character? No name, id or filter
    of centric has one, and the database cannot take it inside a query's literal."""
    return "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")


class SecurityHeaders:
    """ASGI middleware: adds ``HEADERS`` to every HTTP response (replacing any the app set), and refuses a
    request whose address carries a NUL character (400) before any route sees it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k for k, _ in _RAW_HEADERS}
                frame = [v for k, v in message.get("headers", []) if k.lower() == FRAME_HEADER]
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in names and k.lower() != FRAME_HEADER]
                message["headers"] = headers + (_framed_headers(frame[0]) if frame else _RAW_HEADERS)
            await send(message)

        if has_nul(scope):
            from starlette.responses import JSONResponse, PlainTextResponse

            api = scope.get("path", "").startswith("/api/")
            response = (JSONResponse({"detail": NUL_MESSAGE}, status_code=400) if api
                        else PlainTextResponse(NUL_MESSAGE, status_code=400))
            return await response(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def same_token(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the expected one (both must be present)."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


class RateLimiter:
    """At most ``rate`` hits per key within ``per_seconds`` (a sliding window, in memory).
    ``hit(key)`` counts a hit and returns 0 when allowed, else the seconds to wait (for Retry-After);
    ``blocked(key)`` tells the wait without counting."""

    def __init__(self, rate: int, per_seconds: float):
        self.rate, self.per = rate, per_seconds
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> collections.deque[float]:
        q = self._hits.setdefault(key, collections.deque())
        while q and q[0] <= now - self.per:
            q.popleft()
        return q

    def blocked(self, key: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._window(key, now)
            return max(1, math.ceil(q[0] + self.per - now)) if len(q) >= self.rate else 0

    def hit(self, key: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._window(key, now)
            if len(q) >= self.rate:
                return max(1, math.ceil(q[0] + self.per - now))
            q.append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without end
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return 0

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class LoginThrottle:
    """Failed sign-ins: after 5 for an e-mail or 20 from an address within 15 minutes, more attempts are
    refused (429) until the oldest failure is 15 minutes old."""

    def __init__(self, per_email: int = 5, per_ip: int = 20, minutes: int = 15):
        self.email = RateLimiter(per_email, minutes * 60)
        self.ip = RateLimiter(per_ip, minutes * 60)

    def wait(self, email: str, ip: str) -> int:
        return max(self.email.blocked(email.strip().lower()), self.ip.blocked(ip))

    def failed(self, email: str, ip: str) -> None:
        self.email.hit(email.strip().lower())
        self.ip.hit(ip)

    def succeeded(self, email: str) -> None:
        self.email.reset(email.strip().lower())


class HeadAsGet:
    """HEAD wherever GET: monitors and link checkers ask with HEAD. The request is answered as a GET whose body is
    not sent (status and headers, ``Content-Length`` included, are the GET's). Pure ASGI, outermost."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        return await self.app(dict(scope, method="GET"), receive, headers_only)
