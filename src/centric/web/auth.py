"""Passwords, users, sessions and API tokens.

Passwords are hashed with argon2 (argon2-cffi); session ids and API tokens are random and only their
SHA-256 is stored, so a copy of the store lets nobody sign in. Functions that write take the writer store
(call them inside ``hub.write``) and do their own transaction; lookups take any store. Each statement is a
small parameterised one through ``store.execute``, so that they run on DuckDB and on PostgreSQL alike; the
writes that take a new id take the store's write lock first (``store.lock_writes()``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .. import settings
from ..errors import CentricError
from ..store import Store, next_free_id
from . import audit
from .permissions import ROLES, Actor

LANGUAGES = ("en", "pl", "ru", "it")
MIN_PASSWORD = 10
TOKEN_PREFIX = "ctk_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()

USER_COLUMNS = ("user_id", "email", "name", "role", "agent", "departments", "language", "password_hash",
                "created_at", "updated_at", "disabled_at")
TOKEN_COLUMNS = ("token_id", "name", "role", "departments", "token_hash", "created_at", "last_used_at",
                 "revoked_at")


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the e-mail is unknown, so that it takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AuthError(CentricError):
    """A user or token operation refused (bad e-mail, unknown role, weak password, duplicate …)."""


now = audit.now


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- validation ---------------------------------------------------------------------------------------------
def check_email(email: str) -> str:
    e = (email or "").strip().lower()
    if not _EMAIL.match(e):
        raise AuthError(f"{email!r} is not an e-mail address (expected name@example.com)")
    return e


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"the password is too weak: it needs at least {MIN_PASSWORD} characters")
    return password


def check_language(language: str | None) -> str | None:
    if language in (None, ""):
        return None
    if language not in LANGUAGES:
        raise AuthError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    return language


def known_departments(store: Store) -> tuple[str, ...]:
    """The departments of the routing table in use."""
    from ..cases.config import active

    r = active(store)[0]
    names = [*r.departments, *(route.department for route in r.routes), r.default_department,
             r.triage_department, r.proactive_department]
    return tuple(sorted(dict.fromkeys(names)))


def check_departments(store: Store, departments: Iterable[str]) -> tuple[str, ...]:
    deps = tuple(dict.fromkeys(d.strip() for d in departments if d and d.strip()))
    known = known_departments(store)
    for d in deps:
        if d not in known:
            raise AuthError(f"unknown department {d!r}; the routing table has {', '.join(known)}")
    return deps


# -- users --------------------------------------------------------------------------------------------------
def _row(columns: Sequence[str], row: Sequence[Any] | None) -> dict[str, Any] | None:
    """A users or api_tokens row as a dict, its JSON list of departments as a tuple."""
    if row is None:
        return None
    d = dict(zip(columns, row, strict=True))
    d["departments"] = tuple(json.loads(d["departments"] or "[]"))
    return d


def _user(row: Sequence[Any] | None) -> dict[str, Any] | None:
    return _row(USER_COLUMNS, row)


def get_user(store: Store, email: str | None = None, user_id: str | None = None) -> dict[str, Any] | None:
    """The user with this e-mail (any case) or id, as a dict (``departments`` a tuple); None if none."""
    cols = ", ".join(USER_COLUMNS)
    if user_id is not None:
        row = store.execute(f"SELECT {cols} FROM users WHERE user_id = ?", [user_id]).fetchone()
    else:
        row = store.execute(f"SELECT {cols} FROM users WHERE email = ?",
                                [(email or "").strip().lower()]).fetchone()
    return _user(row)


def list_users(store: Store) -> list[dict[str, Any]]:
    cols = ", ".join(USER_COLUMNS)
    return [_user(r) for r in store.execute(f"SELECT {cols} FROM users ORDER BY user_id").fetchall()]


def count_users(store: Store) -> int:
    return int(store.execute("SELECT count(*) FROM users WHERE disabled_at IS NULL").fetchone()[0])


def add_user(store: Store, email: str, role: str, password: str, departments: Iterable[str] = (),
             agent: str | None = None, name: str | None = None, language: str | None = None,
             by: Actor | str = "system", ip: str | None = None) -> dict[str, Any]:
    """Add a user (validated: e-mail, role, departments of the routing table, password length, language);
    the new user. Audited as ``user.add``."""
    email = check_email(email)
    check_role(role)
    check_password(password)
    language = check_language(language)
    deps = check_departments(store, departments)
    if get_user(store, email=email):
        raise AuthError(f"a user with the e-mail {email} exists already")
    pw_hash = _hasher.hash(password)
    t = now()
    with store.transaction():
        store.lock_writes()
        uid = next_free_id(store, "users", "user_id", "U", 4)
        store.execute(f"INSERT INTO users ({', '.join(USER_COLUMNS)}) VALUES ({', '.join('?' * len(USER_COLUMNS))})",
                    [uid, email, name or None, role, (agent or email.split("@")[0]).strip(), json.dumps(list(deps)),
                     language, pw_hash, t, t, None])
        audit.write(store, *_who(by), "user.add", "user", uid, {"role": role, "departments": list(deps)}, ip)
    return get_user(store, user_id=uid)


def _who(by: Actor | str) -> tuple[str, str | None]:
    return (by.name, by.role) if isinstance(by, Actor) else (by, None)


def set_user(store: Store, email: str, role: str | None = None, departments: Iterable[str] | None = None,
             agent: str | None = None, name: str | None = None, language: str | None = None,
             password: str | None = None, enabled: bool | None = None, by: Actor | str = "system",
             ip: str | None = None) -> dict[str, Any]:
    """Change a user's fields (those given); disabling (``enabled=False``) ends their sessions at once.
    Audited as ``user.set`` / ``user.disable`` with the names of the fields changed."""
    user = get_user(store, email=email)
    if user is None:
        raise AuthError(f"no user with the e-mail {email.strip().lower()}")
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = check_role(role)
    if departments is not None:
        changes["departments"] = json.dumps(list(check_departments(store, departments)))
    if agent is not None:
        changes["agent"] = agent.strip()
    if name is not None:
        changes["name"] = name
    if language is not None:
        changes["language"] = check_language(language)
    if password is not None:
        changes["password_hash"] = _hasher.hash(check_password(password))
    if enabled is not None:
        changes["disabled_at"] = None if enabled else now()
    if not changes:
        raise AuthError("nothing to change: give at least one of the fields")
    changes["updated_at"] = now()
    with store.transaction():
        store.lock_writes()
        sets = ", ".join(f"{k} = ?" for k in changes)
        store.execute(f"UPDATE users SET {sets} WHERE user_id = ?", [*changes.values(), user["user_id"]])
        if enabled is False or "password_hash" in changes or "role" in changes or "departments" in changes:
            store.execute("DELETE FROM web_sessions WHERE user_id = ?", [user["user_id"]])
        action = "user.disable" if enabled is False else "user.set"
        audit.write(store, *_who(by), action, "user", user["user_id"],
                    {"fields": sorted(k for k in changes if k != "updated_at")}, ip)
    return get_user(store, user_id=user["user_id"])


def authenticate(store: Store, email: str, password: str) -> dict[str, Any] | None:
    """The user whose e-mail and password these are, and who is not disabled; None otherwise (the same
    time is spent for an unknown e-mail, so it cannot be told from a wrong password)."""
    user = get_user(store, email=email) if email else None
    try:
        ok = _hasher.verify(user["password_hash"] if user else _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or user["disabled_at"] is not None:
        return None
    return user


def user_actor(user: dict[str, Any]) -> Actor:
    return Actor("user", user["user_id"], user["email"], user["role"], user["agent"],
                 tuple(user["departments"]), user["language"])


# -- sessions -----------------------------------------------------------------------------------------------
def session_hours() -> int:
    return settings.get_positive_int("web_session_hours")


def create_session(store: Store, user_id: str, ip: str | None = None,
                   user_agent: str | None = None) -> tuple[str, str]:
    """A new session for ``user_id``: (session id, CSRF token). The id is new and random; only its hash is
    stored."""
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    t = now()
    with store.transaction():
        store.execute("DELETE FROM web_sessions WHERE expires_at < ?", [t])
        store.execute("INSERT INTO web_sessions (session_hash, user_id, csrf_token, created_at, last_seen_at, "
                    "expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [sha256(sid), user_id, csrf, t, t, t + dt.timedelta(hours=session_hours()), ip,
                     (user_agent or "")[:300] or None])
    return sid, csrf


def lookup_session(store: Store, session_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(user, session) of a live session — not expired (absolute lifetime), not idle longer than
    ``web_session_hours``, its user not disabled; None otherwise."""
    row = store.execute(
        "SELECT session_hash, user_id, csrf_token, created_at, last_seen_at, expires_at FROM web_sessions "
        "WHERE session_hash = ?", [sha256(session_id)]).fetchone()
    if row is None:
        return None
    session = dict(zip(("session_hash", "user_id", "csrf_token", "created_at", "last_seen_at", "expires_at"),
                       row, strict=True))
    t = now()
    if session["expires_at"] <= t or session["last_seen_at"] + dt.timedelta(hours=session_hours()) <= t:
        return None
    user = get_user(store, user_id=session["user_id"])
    if user is None or user["disabled_at"] is not None:
        return None
    return user, session


def touch_session(store: Store, session_hash: str) -> None:
    with store.transaction():
        store.execute("UPDATE web_sessions SET last_seen_at = ? WHERE session_hash = ?", [now(), session_hash])


def delete_session(store: Store, session_id: str) -> None:
    with store.transaction():
        store.execute("DELETE FROM web_sessions WHERE session_hash = ?", [sha256(session_id)])


# -- API tokens ---------------------------------------------------------------------------------------------
def _token(row: Sequence[Any] | None) -> dict[str, Any] | None:
    return _row(TOKEN_COLUMNS, row)


def add_token(store: Store, name: str, role: str, departments: Iterable[str] = (),
              by: Actor | str = "system") -> tuple[str, dict[str, Any]]:
    """A new API token: (the token — shown once, only its hash is kept — and its row)."""
    name = (name or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise AuthError(f"{name!r} is not a token name (letters, digits, '.', '_' and '-', up to 64)")
    check_role(role)
    deps = check_departments(store, departments)
    if store.execute("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]).fetchone():
        raise AuthError(f"a token named {name} exists already (revoke it first: centric tokens revoke {name})")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.transaction():
        store.lock_writes()
        tid = next_free_id(store, "api_tokens", "token_id", "T", 4)
        store.execute(f"INSERT INTO api_tokens ({', '.join(TOKEN_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(TOKEN_COLUMNS))})",
                    [tid, name, role, json.dumps(list(deps)), sha256(token), now(), None, None])
        audit.write(store, *_who(by), "token.add", "token", tid, {"role": role, "departments": list(deps)})
    return token, list_tokens(store, tid)[0]


def list_tokens(store: Store, token_id: str | None = None) -> list[dict[str, Any]]:
    cols = ", ".join(TOKEN_COLUMNS)
    where, params = ("WHERE token_id = ?", [token_id]) if token_id else ("", [])
    return [_token(r) for r in store.execute(f"SELECT {cols} FROM api_tokens {where} ORDER BY token_id",
                                                  params).fetchall()]


def lookup_token(store: Store, token: str) -> dict[str, Any] | None:
    """The live (not revoked) token row of this bearer token; None otherwise."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    cols = ", ".join(TOKEN_COLUMNS)
    row = store.execute(f"SELECT {cols} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                            [sha256(token)]).fetchone()
    return _token(row)


def revoke_token(store: Store, name: str, by: Actor | str = "system") -> dict[str, Any]:
    row = store.execute("SELECT token_id FROM api_tokens WHERE name = ? AND revoked_at IS NULL",
                            [name]).fetchone()
    if row is None:
        raise AuthError(f"no live token named {name!r} (centric tokens list)")
    with store.transaction():
        store.lock_writes()
        store.execute("UPDATE api_tokens SET revoked_at = ? WHERE token_id = ?", [now(), row[0]])
        audit.write(store, *_who(by), "token.revoke", "token", row[0])
    return list_tokens(store, row[0])[0]


def token_actor(token: dict[str, Any]) -> Actor:
    name = f"token:{token['name']}"
    return Actor("token", token["token_id"], name, token["role"], name, tuple(token["departments"]))


# -- the signing secret -------------------------------------------------------------------------------------
def web_secret(store: Store) -> str:
    """The key that signs cookies: setting ``web_secret``, else one generated once and kept in the store."""
    return settings.get("web_secret") or store.kept_secret("web_secret")


def touch_token(store: Store, token_id: str) -> None:
    with store.transaction():
        store.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?", [now(), token_id])
