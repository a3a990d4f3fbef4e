"""``centric council import FILE``: a roster (CSV in any delimiter and encoding, Excel, JSON, Parquet — the
ingest's readers) added to the council, with the ingest's discipline: every row is checked before any is stored;
a rejected row is kept in ``rejected_rows`` with its file, row, column and reason (``centric rejected``) and the
import recorded in ``ingest_runs`` (table ``council_members``); a customer who is a member already is skipped as a
duplicate, so importing the same file again adds nothing; the good rows are stored together or not at all.

Columns (names in English, Polish, Russian or Italian; case, spaces and dashes ignored):

- ``customer`` — who: a customer id, e-mail, phone, handle, crm id or loyalty card (required);
- ``consent`` — the purposes consented to, comma-separated (``council`` needed; default ``council``);
- ``consent_date`` — when the consent was given (default: the day they join);
- ``joined`` — the day they join (default: today);
- ``role``, ``notes``, ``evidence`` — optional.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import CentricError
from ..ingest.readers import STAGE, Reject, _norm, drop_stage, file_hash, read_source
from ..store import Store
from .roster import COUNCIL, Joining, check_joining, now, store_joining

COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "customer_id", "who", "email", "e-mail", "phone", "klient", "id klienta", "клиент",
                 "cliente", "member"),
    "consent": ("consent", "consents", "zgoda", "zgody", "согласие", "consenso"),
    "consent_date": ("consent_date", "consent date", "consent given", "consent_at", "data zgody",
                     "дата согласия", "data consenso"),
    "joined": ("joined", "joined_on", "joined on", "since", "data dołączenia", "data dolaczenia", "дата вступления",
               "data adesione"),
    "role": ("role", "rola", "роль", "ruolo"),
    "notes": ("notes", "note", "notatki", "uwagi", "заметки", "примечания", "note interne"),
    "evidence": ("evidence", "consent form", "dowód", "dowod", "документ", "modulo"),
}
TABLE = "council_members"


def _key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


@dataclass
class RosterImport:
    """What an import did: members added (their ids), rows skipped (members already), rows rejected."""

    source: str
    rows_read: int
    added: list[str] = field(default_factory=list)
    duplicate: int = 0
    rejected: list[Reject] = field(default_factory=list)
    run_id: int | None = None

    def to_dict(self) -> dict:
        return {"source": self.source, "run": self.run_id, "read": self.rows_read, "added": self.added,
                "duplicate": self.duplicate,
                "rejected": [{"row": r.row, "column": r.column, "value": r.value, "reason": r.reason}
                             for r in self.rejected]}


def import_roster(store: Store, path: str | Path, by: str, default_country: str = "PL",
                  name: str | None = None) -> RosterImport:
    """Add the members listed in the file at ``path`` (see the module docstring)."""
    label = name or str(path)
    aliases = {_key(a): col for col, names in COLUMNS.items() for a in (col, *names)}
    started = now()
    known = {_norm(a) for col, names in COLUMNS.items() for a in (col, *names)}
    con = duckdb.connect()  # the ingest's readers stage the file in DuckDB: an in-memory one, apart from the store
    try:
        staged = read_source(con, str(path), known, name=label)
        try:
            cur = con.execute(f'SELECT * FROM "{STAGE}" ORDER BY "__row"')
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        finally:
            drop_stage(con)
            staged.remove_temp_files()
    finally:
        con.close()
    mapped: dict[str, str] = {}
    for n in names:
        col = aliases.get(_key(n))
        if col and col not in mapped.values():
            mapped[n] = col
    if "customer" not in mapped.values():
        raise CentricError(f"{label}: no column names the customer (expected one of: customer, customer_id, email, "
                           f"phone …); columns: {', '.join(n for n in names if n != '__row')}")
    column_of = {v: k for k, v in mapped.items()}
    result = RosterImport(label, len(rows), rejected=list(staged.rejects))
    good: list[Joining] = []
    seen: set[str] = set()
    for raw in rows:
        rec = dict(zip(names, raw, strict=True))
        row = int(rec.pop("__row"))
        v = {col: rec.get(src) for src, col in mapped.items()}
        record = json.dumps(rec, ensure_ascii=False, default=str)
        try:
            j = check_joining(store, v.get("customer") or "", v.get("consent") or COUNCIL, v.get("consent_date") or
                              v.get("joined"), v.get("joined"), v.get("role"), v.get("notes"), v.get("evidence"),
                              default_country)
        except CentricError as e:
            field_name, _, reason = str(e).partition(": ")
            if "is a member already" in reason:
                result.duplicate += 1
                continue
            col = {"customer": "customer", "consent": "consent", "consent date": "consent_date", "joined": "joined",
                   "role": "role", "notes": "notes", "evidence": "evidence"}.get(field_name)
            src = column_of.get(col) if col else None
            result.rejected.append(Reject(row, reason or str(e), src, None if src is None else _short(rec.get(src)),
                                          record))
            continue
        if j.customer_id in seen:  # listed twice in the file: the first row counts
            result.duplicate += 1
            continue
        seen.add(j.customer_id)
        good.append(j)
    with store.transaction():
        store.lock_writes()  # PostgreSQL: the members' and the run's ids hold until the commit
        for j in good:
            result.added.append(store_joining(store, j, by))
        result.run_id = _record(store, staged, result, started)
    return result


def _short(value) -> str | None:
    return None if value is None else str(value)[:200]


def _record(store: Store, staged, result: RosterImport, started: dt.datetime) -> int:
    """The import's run and its rejected rows (one statement from a frame on DuckDB, one COPY on PostgreSQL)."""
    import pandas as pd

    from .. import schema

    run_id = int(store.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchall()[0][0])
    store.execute("INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  [run_id, TABLE, staged.source, staged.content_hash or file_hash(Path(staged.source)), staged.format,
                   staged.encoding, staged.delimiter, "stored", result.rows_read, len(result.added),
                   len(result.rejected), result.duplicate, started, now()])
    rejected = pd.DataFrame([(run_id, TABLE, staged.source, r.row, r.column, r.value, r.reason, r.record)
                             for r in result.rejected], columns=schema.TABLES["rejected_rows"].column_names)
    store.insert_frame("rejected_rows", rejected)
    return run_id
