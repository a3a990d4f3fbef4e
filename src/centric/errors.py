"""centric's exceptions. Every error a user can cause is a ``CentricError`` with a message that a
non-programmer understands; the CLI prints it without a traceback.

    CentricError
    ├── StoreError            the store cannot be opened, or has a newer schema than this centric
    │   └── StoreLockedError  another process holds the store's file (names its PID and command line)
    ├── SettingError          a setting has an invalid value
    ├── CaseError             a case operation that is not allowed (unknown case, a status it cannot
    │                         move to, closing without root cause or action, a used or expired link)
    └── IngestError           a source cannot be loaded at all (nothing of it was stored)
        ├── UnreadableSourceError   missing file, unknown format, empty file, undecodable bytes
        ├── MissingColumnError      a required column is absent (names the file, the column, the columns found)
        └── MappingError            the mapping file is invalid or names unknown columns
"""

from __future__ import annotations


class CentricError(Exception):
    """Base of every error centric raises on purpose."""


class StoreError(CentricError):
    pass


class StoreLockedError(StoreError):
    """Another process has the store open: for writing (nobody else may open it), or read-only (others
    may read it too, nobody may write)."""

    def __init__(self, path: str, pid: int, command: str | None = None, readers: bool = False):
        self.path, self.pid, self.command, self.readers = path, pid, command, readers
        held = f"process {pid}" + (f" ({command})" if command else "")
        if readers:
            advice = ("it is open read-only there, so commands that only read still work; to write, close it "
                      "there first (store.close(), or the end of its with block)")
        else:
            advice = ("it is open for writing there; close it (store.close(), or the end of its with block) — "
                      "a notebook can use centric.connect(), which opens the store read-only")
        super().__init__(f"the store {path} is in use by {held}: {advice}")


class SettingError(CentricError):
    pass


class IngestError(CentricError):
    pass


class UnreadableSourceError(IngestError):
    pass


class MissingColumnError(IngestError):
    def __init__(self, source: str, table: str, column: str, aliases: tuple[str, ...], found: list[str]):
        self.source, self.table, self.column, self.found = source, table, column, found
        examples = ", ".join(repr(a) for a in aliases[:5])
        super().__init__(
            f"{source}: required column '{column}' for table '{table}' is missing. "
            f"Columns found: {', '.join(repr(f) for f in found) or 'none'}. "
            f"Name a column {examples}, or map one in a mapping file (--mapping)."
        )


class MappingError(IngestError):
    pass


class CaseError(CentricError):
    """A case operation refused: the message says why and what is needed."""
