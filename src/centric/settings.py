"""One registry of settings. Each has a name, a default, help text and an environment variable;
the CLI flags, ``centric settings`` and the docs are built from it.

Resolution order: explicit value (CLI flag or function argument) > environment variable > default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import SettingError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    choices: tuple[str, ...] | None = None

    @property
    def env(self) -> str:
        return "CENTRIC_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("db", "centric.duckdb", "Path of the store (a DuckDB file); created when missing."),
        Setting("default_country", "PL",
                "Country (ISO alpha-2) assumed for phone numbers written without an international prefix."),
        Setting("day_first", "auto",
                "How to read dates like 03/04/2025: 'auto' decides per column (a value over 12 in the "
                "first place means day first; European day-first when undecided), 'true' or 'false'.",
                choices=("auto", "true", "false")),
        Setting("timezone", "UTC",
                "Time zone of times written without an offset; every time is stored in UTC."),
        Setting("currency", "PLN", "Currency (ISO 4217) assumed for amounts without one."),
        Setting("sla_hours", "48", "Service-level target for resolving a case, in hours, where a case has no due time."),
        Setting("max_file_mb", "1024",
                "Largest file ingest reads, in MB (for an .xlsx workbook: its unpacked sheets and texts); "
                "a larger file is refused before it is read."),
        Setting("max_rows", "10000000",
                "Most rows one file may hold (lines of a CSV, rows of a sheet, records of JSON, blank ones "
                "not counted); reading stops with an error past it and nothing of the file is stored."),
        Setting("max_columns", "1000",
                "Most columns one file may have (empty columns right of a sheet's table not counted); a "
                "wider file is refused once its header is read, before its rows."),
    )
}


def get(name: str, value: str | None = None) -> str:
    """The effective value of setting ``name``: ``value`` if given, else its environment variable,
    else its default. Raises SettingError for an unknown name or a value outside its choices."""
    if name not in SETTINGS:
        raise SettingError(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}")
    s = SETTINGS[name]
    v = value if value is not None else os.environ.get(s.env, s.default)
    if s.choices and v not in s.choices:
        raise SettingError(f"setting {name} must be one of {', '.join(s.choices)}, got {v!r}")
    return v


def get_positive_int(name: str, value: str | int | None = None) -> int:
    """``get(name, value)`` as a whole number above zero; SettingError otherwise."""
    raw = get(name, None if value is None else str(value))
    try:
        n = int(str(raw).replace("_", "").strip())
    except ValueError:
        n = 0
    if n < 1:
        raise SettingError(f"setting {name} ({SETTINGS[name].env}) must be a whole number above 0, got {raw!r}")
    return n
