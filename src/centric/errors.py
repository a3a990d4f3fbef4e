"""centric's exceptions. Every error a user can cause is a ``CentricError`` with a message that a
non-programmer understands; the CLI prints it without a traceback.

    CentricError
    ├── StoreError            the store cannot be opened, or has a newer schema than this centric
    │   └── StoreLockedError  another process holds the store's file (names its PID and command line)
    ├── SettingError          a setting has an invalid value
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
    def __init__(self, path: str, pid: int, command: str | None = None):
        self.path, self.pid, self.command = path, pid, command
        held = f"process {pid}" + (f" ({command})" if command else "")
        super().__init__(
            f"the store {path} is in use by {held}: DuckDB lets one process write to a store or several "
            "read it. Close that program (or its store: store.close()), or open the store read-only "
            "(centric.connect(), Store.open(path, read_only=True))"
        )


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
