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

    [columns."FFT categorical answer"]   # a column whose values are recoded (see ``recode.py``)
    to = "csat"
    formula = "6 - x"         # 1 = very good … 5 = very poor  ->  5 … 1
    missing = [6, 7]          # no-answer codes: the field is left empty, the row kept
    unknown = "reject"        # or "drop": keep the row, leave an invalid field empty

Every key is checked when the file is read (``Mapping.load``) and against the table (``Mapping.check``);
a message names the file, the key (``columns."FFT categorical answer".formula``) and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import schema, settings
from ..errors import MappingError, MissingColumnError, SettingError
from .readers import _norm
from .recode import UNKNOWN_POLICIES, ColumnRule, FormulaError, formula_sql


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    rules: dict[str, ColumnRule] = field(default_factory=dict)  # source column -> how to recode it
    path: str | None = None  # the mapping file, for messages

    def where(self, *keys: str) -> str:
        """``mapping file m.toml, columns."Status".recode`` — the place a message is about."""
        dotted = ".".join(k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else '"' + k.replace('"', '\\"') + '"'
                          for k in keys)
        return f"mapping file {self.path or '(given in code)'}" + (f", {dotted}" if dotted else "")

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise MappingError(f"mapping file {p}: no such file") from e
        except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
            raise MappingError(f"mapping file {p}: cannot be read ({e})") from e
        except tomllib.TOMLDecodeError as e:
            raise MappingError(f"mapping file {p}: not valid TOML ({e})") from e
        return cls.from_dict(doc, str(p))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], path: str | None = None) -> Mapping:
        """A mapping from the parsed TOML document; every key is checked (see ``docs/ingest.md``)."""
        m = cls(path=path)
        unknown = set(doc) - {"columns", "values", "ignore", "settings"}
        if unknown:
            raise MappingError(f"{m.where()}: unknown key(s) {', '.join(sorted(unknown))}; "
                               "use [columns], [values], [settings] and ignore = [...]")
        for section in ("columns", "values", "settings"):
            if not isinstance(doc.get(section, {}), dict):
                raise MappingError(f"{m.where(section)}: must be a table ([{section}])")
        for src, dst in doc.get("columns", {}).items():
            if isinstance(dst, str):
                m.columns[str(src)] = dst
            elif isinstance(dst, dict):
                rule = _rule(m, str(src), dst)
                m.columns[rule.source] = rule.to
                m.rules[rule.source] = rule
            else:
                raise MappingError(f"{m.where('columns', src)}: must be the name of a centric column "
                                   "(\"crm_id\") or a table with to = \"column\" and recoding")
        for k, v in doc.get("values", {}).items():
            m.values[str(k)] = _scalar(m, v, "values", k)
        ignore = doc.get("ignore", [])
        if not isinstance(ignore, list) or not all(isinstance(x, str) for x in ignore):
            raise MappingError(f"{m.where('ignore')}: must be a list of column names, e.g. ignore = [\"note\"]")
        m.ignore = list(ignore)
        for k, v in doc.get("settings", {}).items():
            m.settings[str(k)] = _scalar(m, v, "settings", k)
            try:
                settings.get(str(k), m.settings[str(k)])  # validates name and value
            except SettingError as e:
                raise MappingError(f"{m.where('settings', k)}: {e}") from e
        return m

    def check(self, table: schema.Table) -> None:
        """What can only be checked knowing the table: the target columns exist, each is fed by one
        source column, and each rule suits its column."""
        tg = targets(table)
        fed: dict[str, str] = {}
        for src, dst in self.columns.items():
            if dst not in tg:
                raise MappingError(f"{self.where('columns', src)}: '{dst}' is not a column of {table.name}; "
                                   f"columns: {', '.join(tg)}")
            if dst in fed:
                raise MappingError(f"{self.where('columns', src)}: '{dst}' is already fed by column "
                                   f"'{fed[dst]}'; a centric column takes one source column")
            fed[dst] = src
        for rule in self.rules.values():
            _check_rule(self, rule, tg[rule.to])


def _scalar(m: Mapping, v: Any, *where: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        return _code(v)
    raise MappingError(f"{m.where(*map(str, where))}: must be a text or a number, got {type(v).__name__}")


def _code(v: int | float | str) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


RULE_KEYS = ("to", "recode", "formula", "missing", "unknown")


def _rule(m: Mapping, src: str, d: dict[str, Any]) -> ColumnRule:
    unknown = set(d) - set(RULE_KEYS)
    if unknown:
        raise MappingError(f"{m.where('columns', src)}: unknown key(s) {', '.join(sorted(unknown))}; "
                           f"use {', '.join(RULE_KEYS)}")
    if not isinstance(d.get("to"), str):
        raise MappingError(f"{m.where('columns', src, 'to')}: missing; name the centric column it feeds, "
                           "e.g. to = \"csat\"")
    rule = ColumnRule(src, d["to"])
    table = d.get("recode", {})
    if not isinstance(table, dict):
        raise MappingError(f"{m.where('columns', src, 'recode')}: must be a table of value = new value, "
                           "e.g. recode = { \"Closed with explanation\" = \"closed\" }")
    for k, v in table.items():
        key = k.strip().lower()
        new = _scalar(m, v, "columns", src, "recode", k)
        if rule.recode.get(key, new) != new:
            raise MappingError(f"{m.where('columns', src, 'recode', k)}: the value is listed twice "
                               f"(ignoring case and spaces) with different results")
        rule.recode[key] = new
        rule.written[key] = str(k)
    if "formula" in d:
        if not isinstance(d["formula"], str):
            raise MappingError(f"{m.where('columns', src, 'formula')}: must be a text such as \"6 - x\"")
        try:
            formula_sql(d["formula"], "x")
        except FormulaError as e:
            raise MappingError(f"{m.where('columns', src, 'formula')}: {d['formula']!r} {e}") from e
        rule.formula = d["formula"]
    missing = d.get("missing", [])
    missing = missing if isinstance(missing, list) else [missing]
    rule.missing = [_scalar(m, v, "columns", src, "missing").strip().lower() for v in missing]
    pol = d.get("unknown", "reject")
    if pol not in UNKNOWN_POLICIES:
        raise MappingError(f"{m.where('columns', src, 'unknown')}: must be \"reject\" (reject the row, the "
                           f"default) or \"drop\" (keep the row, leave the field empty), got {pol!r}")
    rule.unknown = pol
    return rule


def _check_rule(m: Mapping, rule: ColumnRule, col: schema.Column) -> None:
    at = ("columns", rule.source)
    if col.required and rule.missing:
        raise MappingError(f"{m.where(*at, 'missing')}: {col.name} is required, so a row cannot be kept "
                           "without it; map the no-answer codes with recode, or leave them to be rejected")
    if col.required and rule.unknown == "drop":
        raise MappingError(f"{m.where(*at, 'unknown')}: {col.name} is required, so its field cannot be "
                           "dropped; a row with an invalid value is rejected")
    if rule.formula and col.type not in ("integer", "number"):
        raise MappingError(f"{m.where(*at, 'formula')}: {col.name} is not a number column; use recode")
    for k, v in rule.recode.items():
        problem = _invalid_target(col, v)
        if problem:
            raise MappingError(f"{m.where(*at, 'recode', rule.written.get(k, k))}: {problem}")


def _invalid_target(col: schema.Column, v: str) -> str | None:
    from .transform import SYNONYMS

    if col.type == "enum":
        norm = re.sub(r"[\s-]+", "_", v.strip().lower())
        if norm not in (col.allowed or ()) and SYNONYMS.get(col.name, {}).get(norm) not in (col.allowed or ()):
            return f"{v!r} is not a value of {col.name}; allowed: {', '.join(col.allowed or ())}"
    if col.type in ("integer", "number"):
        try:
            x = float(v)
        except ValueError:
            return f"{v!r} is not a number, and {col.name} takes numbers"
        if col.range and not col.range[0] <= x <= col.range[1]:
            return f"{v!r} is outside {col.name}'s range {col.describe_allowed()}"
        if col.type == "integer" and not x.is_integer():
            return f"{v!r} is not a whole number, and {col.name} takes whole numbers"
    return None


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
    for src, dst in mapping.columns.items():  # checked against the table by Mapping.check already
        real = lower_found.get(src.lower())
        if real is None:
            raise MappingError(f"{source}: the mapping names column '{src}', which the file does not have; "
                               f"columns found: {', '.join(found)} ({mapping.where('columns', src)})")
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
