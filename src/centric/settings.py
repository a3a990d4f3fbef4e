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
                "How to read dates like 03/04/2025: 'auto' decides per column (day first unless more of its "
                "values can only be month first, such as 12/31/2025), 'true' or 'false'.",
                choices=("auto", "true", "false")),
        Setting("timezone", "UTC",
                "Time zone of times written without an offset; every time is stored in UTC."),
        Setting("currency", "PLN", "Currency (ISO 4217) assumed for amounts without one."),
        Setting("sla_hours", "48", "Service-level target for resolving a case, in hours, where a case has no due time."),
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
