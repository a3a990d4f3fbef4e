"""The audit log: every action taken in the web app, the API and the user commands. ``detail`` holds ids,
counts and field names only — never customer text."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..store import Store, Tables
from .permissions import Actor


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def write(con, actor: str, role: str | None, action: str, object_type: str | None = None,
          object_id: str | None = None, detail: dict[str, Any] | None = None, ip: str | None = None) -> int:
    """Append one entry inside the caller's transaction; its id. ``con``: the store (any engine: its id is taken
    under the store's write lock) or a DuckDB connection."""
    if isinstance(con, Tables):
        con.lock_writes()
    next_id = con.execute("SELECT coalesce(max(audit_id), 0) + 1 FROM audit_log").fetchone()[0]
    con.execute(
        "INSERT INTO audit_log (audit_id, \"at\", actor, role, action, object_type, object_id, detail, ip) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [next_id, now(), actor, role, action, object_type, object_id,
         json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None, ip])
    return int(next_id)


def record(store: Store, actor: Actor | str, action: str, object_type: str | None = None,
           object_id: str | None = None, detail: dict[str, Any] | None = None, ip: str | None = None) -> int:
    """Append one entry in its own transaction (call it inside ``hub.write``); its id. ``actor`` is an
    Actor, or a name such as ``"system"``."""
    name, role = (actor.name, actor.role) if isinstance(actor, Actor) else (actor, None)
    with store.transaction():
        return write(store, name, role, action, object_type, object_id, detail, ip)
