"""Which source column feeds which centric column.

Names are recognised in English, Polish, Russian and Italian (``schema.Column.aliases``), ignoring
case, spaces, dashes, dots and underscores. Where that is not enough, a mapping file says it:

.. code-block:: toml

    # mapping.toml
    [columns]                 # source column = centric column
    "Nr klienta" = "crm_id"
    "Wartość brutto" = "amount"

    [values]                  # constants for columns the file does not have
    currency = "EUR"
    source = "review"

    ignore = ["internal note"]  # source columns to leave out (top level, before the tables)

    [settings]                # settings for this file only
    day_first = "true"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import schema, settings
from ..errors import MappingError, MissingColumnError
from .readers import _norm


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise MappingError(f"mapping file {p}: no such file") from e
        except tomllib.TOMLDecodeError as e:
            raise MappingError(f"mapping file {p}: not valid TOML ({e})") from e
        unknown = set(doc) - {"columns", "values", "ignore", "settings"}
        if unknown:
            raise MappingError(f"mapping file {p}: unknown sections {sorted(unknown)}; "
                               "use [columns], [values], [settings] and ignore = [...]")
        m = cls(
            columns={str(k): str(v) for k, v in doc.get("columns", {}).items()},
            values={str(k): str(v) for k, v in doc.get("values", {}).items()},
            ignore=[str(x) for x in doc.get("ignore", [])],
            settings={str(k): str(v) for k, v in doc.get("settings", {}).items()},
        )
        for k, v in m.settings.items():
            settings.get(k, v)  # validates name and value
        return m


def targets(table: schema.Table) -> dict[str, schema.Column]:
    """Every column a source file can feed for ``table``: its ingested columns and, when rows refer
    to customers, the identity columns."""
    out = {c.name: c for c in table.columns if c.ingested}
    if table.customer_ref != "none":
        out.update(schema.IDENTITY_INPUTS)
    return out


def known_names(table: schema.Table) -> set[str]:
    names = set()
    for c in targets(table).values():
        names.add(_norm(c.name))
        names.update(_norm(a) for a in c.aliases)
    return names


@dataclass
class ColumnMatch:
    assigned: dict[str, str]  # centric column -> source column
    ignored: list[str]  # source columns not used


def match_columns(table: schema.Table, found: list[str], mapping: Mapping, source: str) -> ColumnMatch:
    tg = targets(table)
    assigned: dict[str, str] = {}
    taken: set[str] = set()
    lower_found = {f.lower(): f for f in found}
    for src, dst in mapping.columns.items():
        if dst not in tg:
            raise MappingError(f"mapping: '{dst}' is not a column of {table.name}; "
                               f"columns: {', '.join(tg)}")
        real = lower_found.get(src.lower())
        if real is None:
            raise MappingError(f"{source}: the mapping names column '{src}', which the file does not have; "
                               f"columns found: {', '.join(found)}")
        assigned[dst] = real
        taken.add(real)
    ignore = {i.lower() for i in mapping.ignore}
    candidates = []
    for f in found:
        if f in taken or f.lower() in ignore:
            continue
        nf = _norm(f)
        for name, col in tg.items():
            if name in assigned:
                continue
            names = [_norm(col.name)] + [_norm(a) for a in col.aliases]
            if nf in names:
                candidates.append((names.index(nf), found.index(f), name, f))
    for _, _, name, f in sorted(candidates):
        if name not in assigned and f not in taken:
            assigned[name] = f
            taken.add(f)
    ignored = [f for f in found if f not in taken]
    return ColumnMatch(assigned, ignored)


def check_required(table: schema.Table, match: ColumnMatch, mapping: Mapping, found: list[str],
                   source: str) -> None:
    present = set(match.assigned) | set(mapping.values)
    for c in table.columns:
        if c.required and c.ingested and c.kind != "key" and c.name not in present:
            raise MissingColumnError(source, table.name, c.name, c.aliases, found)
    if table.customer_ref == "required" and not present & set(schema.IDENTITY_INPUTS):
        raise MissingColumnError(source, table.name, "customer identity (crm_id, email, phone, handle or "
                                 "loyalty_card)", ("customer_id", "email", "phone"), found)
    if table.one_of and not present & set(table.one_of):
        raise MissingColumnError(source, table.name, "one of " + ", ".join(table.one_of), table.one_of, found)
