"""The loop's two configuration files: the routing table and the service-level policy.

Both are TOML, documented in docs/cases.md ("Routing", "Service-level policy"); the bundled defaults are
``cases/defaults/routing.toml`` and ``sla.toml``. ``centric cases config`` stores a file's text in
``case_config`` (:func:`save`, which validates first); :func:`active` parses the latest saved file of each
kind, else the bundled default.

A malformed file raises :class:`CaseConfigError` naming the file, the line and the key:

>>> parse_routing('[priority]\\nbase = "asap"\\n', "routing.toml")
Traceback (most recent call last):
...
centric.cases.config.CaseConfigError: routing.toml line 2, key 'priority.base': unknown priority 'asap' (use low, normal, high, urgent)
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from pathlib import Path

from ..errors import CentricError
from ..schema import CASE_PRIORITIES
from . import calendar as _calendar
from .model import Department, EscalationLevel, Policy, Route, Routing, Target

__all__ = [
    "CONFIG_NAMES", "DEFAULTS", "CaseConfigError", "active", "active_text", "check", "default_policy",
    "default_routing", "history",
    "load_policy", "load_routing", "parse_policy", "parse_routing", "save",
]

DEFAULTS = Path(__file__).parent / "defaults"
CONFIG_NAMES = ("routing", "sla")
_CLOCKS = ("first_response", "next_response", "resolution", "confirmation")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class CaseConfigError(CentricError):
    """A routing table or service-level policy is invalid (a ``CentricError``: the CLI prints it without a
    traceback)."""


# -- locating a key in the text ------------------------------------------------------------------


class _Doc:
    """The parsed TOML with its text, so that an error can name the line of the key it is about."""

    def __init__(self, text: str, source: str):
        self.text, self.source = text, source
        self.lines = text.splitlines()
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise CaseConfigError(f"{source}: not valid TOML ({e})") from e

    def _section(self, header: tuple[str, ...] | None, index: int | None) -> tuple[int, int] | None:
        """The lines [start, end) of table ``header`` (the ``index``-th when it is an array of tables);
        ``None`` header: the top-level keys before the first table."""
        heads = [i for i, line in enumerate(self.lines) if line.lstrip().startswith("[")]
        if header is None:
            return 0, heads[0] if heads else len(self.lines)
        part = r"\s*\.\s*".join(rf"[\"']?{re.escape(h)}[\"']?" for h in header)
        pattern = re.compile(rf"^\s*\[\[\s*{part}\s*\]\]" if index is not None else rf"^\s*\[\s*{part}\s*\]")
        found = [i for i in heads if pattern.match(self.lines[i])]
        if not found or (index is not None and index >= len(found)):
            return None
        start = found[index or 0]
        end = next((i for i in heads if i > start), len(self.lines))
        return start, end

    def line(self, key: str, header: tuple[str, ...] | None = None, index: int | None = None,
             value: object = None) -> int | None:
        """The 1-based line of ``key`` in table ``header`` (or of a string ``value`` at or after it)."""
        span = self._section(header, index)
        if span is None:  # written inline (priority = {…}) or as a dotted key: look anywhere
            return _calendar._line_of(self.text, key, value)
        start, end = span
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        at = next((i for i in range(start, end) if pattern.match(self.lines[i])), None)
        if at is not None and isinstance(value, str):
            for i in range(at, end):
                if f'"{value}"' in self.lines[i] or f"'{value}'" in self.lines[i]:
                    return i + 1
        if at is None and header is None:  # a top-level table: its header
            table = re.compile(rf"^\s*\[\[?\s*[\"']?{re.escape(key)}[\"']?\s*[.\]]")
            at = next((i for i, line in enumerate(self.lines) if table.match(line)), None)
            return None if at is None else at + 1
        return start + 1 if at is None else at + 1

    def error(self, name: str, message: str, key: str | None = None, header: tuple[str, ...] | None = None,
              index: int | None = None, value: object = None) -> CaseConfigError:
        """An error about key ``name`` (as the user reads it, e.g. ``rules[2].department``); ``key`` is its
        last part, looked up in table ``header``."""
        line = self.line(key if key is not None else name.rsplit(".", 1)[-1], header, index, value)
        where = f"{self.source} line {line}" if line else self.source
        return CaseConfigError(f"{where}, key '{name}': {message}")


def _table(doc: _Doc, value: object, name: str, allowed: tuple[str, ...], header: tuple[str, ...] | None,
           index: int | None = None) -> dict:
    if not isinstance(value, dict):
        raise doc.error(name, "expected a table", header=None if header is None else header[:-1])
    unknown = [k for k in value if k not in allowed]
    if unknown:
        full = f"{name}.{unknown[0]}" if name else unknown[0]
        raise doc.error(full, f"unknown key (allowed here: {', '.join(allowed)})", key=unknown[0],
                        header=header, index=index)
    return value


def _text(doc: _Doc, value: object, name: str, header=None, index=None, lower: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise doc.error(name, f"expected a non-empty text, got {value!r}", header=header, index=index)
    if lower and value != value.lower():
        raise doc.error(name, f"{value!r}: channels are lower-case in the store; write {value.lower()!r}",
                        header=header, index=index, value=value)
    return value.strip()


def _texts(doc: _Doc, value: object, name: str, header=None, lower: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise doc.error(name, f"expected a list of texts, got {value!r}", header=header)
    out = tuple(_text(doc, v, name, header, lower=lower) for v in value)
    dup = next((v for i, v in enumerate(out) if v in out[:i]), None)
    if dup is not None:
        raise doc.error(name, f"{dup!r} is listed twice", header=header, value=dup)
    return out


def _priority(doc: _Doc, value: object, name: str, header=None, index=None) -> str:
    if value not in CASE_PRIORITIES:
        raise doc.error(name, f"unknown priority {value!r} (use {', '.join(CASE_PRIORITIES)})", header=header,
                        index=index, value=value)
    return str(value)


def _minutes(doc: _Doc, value: object, name: str, header=None, index=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(name, f"expected a whole number of minutes, got {value!r}", header=header, index=index)
    if value < 0:
        raise doc.error(name, f"minutes cannot be negative, got {value}", header=header, index=index)
    return value


def _not_the_other(doc: _Doc, other: tuple[str, ...], mine: tuple[str, ...], what: str) -> None:
    """The other kind of file given by mistake: say so rather than list the keys it may not have."""
    theirs = [k for k in doc.data if k in other and k not in mine]
    if theirs and not any(k in mine for k in doc.data):
        raise doc.error(theirs[0], f"unknown key: this looks like {what}")


# -- the routing table -----------------------------------------------------------------------------

_ROUTING_KEYS = ("default_department", "triage_department", "proactive_department", "priority", "factors",
                 "rules", "departments")


def parse_routing(text: str, source: str = "routing") -> Routing:
    """Parse a routing table from TOML text; ``source`` names it in error messages."""
    doc = _Doc(text, source)
    _not_the_other(doc, _POLICY_KEYS, _ROUTING_KEYS, "a service-level policy (load it with --sla)")
    data = _table(doc, doc.data, "", _ROUTING_KEYS, None)
    top = {k: _text(doc, data[k], k) for k in ("default_department", "triage_department", "proactive_department")
           if k in data}

    prio = _table(doc, data.get("priority", {}), "priority",
                  ("base", "public_channels", "vip_share", "urgent_flags"), ("priority",))
    h = ("priority",)
    if "base" in prio:
        top["base_priority"] = _priority(doc, prio["base"], "priority.base", h)
    if "public_channels" in prio:
        top["public_channels"] = _texts(doc, prio["public_channels"], "priority.public_channels", h, lower=True)
    if "urgent_flags" in prio:
        top["urgent_flags"] = _texts(doc, prio["urgent_flags"], "priority.urgent_flags", h)
    if "vip_share" in prio:
        share = prio["vip_share"]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
            raise doc.error("priority.vip_share", f"expected a share between 0 and 1 (exclusive), e.g. 0.1; "
                            f"got {share!r}", header=h)
        top["vip_share"] = float(share)

    routes: list[Route] = []
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise doc.error("rules", "expected [[rules]] tables (factor, country, store, department)")
    seen: dict[tuple, int] = {}
    for i, rule in enumerate(rules):
        name, h = f"rules[{i + 1}]", ("rules",)
        rule = _table(doc, rule, name, ("factor", "country", "store", "department"), h, i)
        if "department" not in rule:
            raise doc.error(f"{name}.department", "a rule needs a department", key="factor", header=h, index=i)
        scope = {k: _text(doc, rule[k], f"{name}.{k}", h, i) for k in ("factor", "country", "store") if k in rule}
        if not scope:
            raise doc.error(f"{name}.department", "a rule needs a factor, a country or a store (the department of "
                            "everything else is default_department)", header=h, index=i)
        if "country" in scope and not _COUNTRY.match(scope["country"]):
            raise doc.error(f"{name}.country", f"{scope['country']!r} is not an upper-case ISO 3166 alpha-2 code "
                            "such as \"IT\"", header=h, index=i)
        key = tuple(scope.get(k) for k in ("factor", "country", "store"))
        if key in seen:
            raise doc.error(f"{name}.department", f"the rule repeats the scope of rules[{seen[key]}]", header=h,
                            index=i)
        seen[key] = i + 1
        routes.append(Route(_text(doc, rule["department"], f"{name}.department", h, i), **scope))

    factors = data.get("factors", {})
    if not isinstance(factors, dict):
        raise doc.error("factors", "expected a table [factors] of factor = \"department\"")
    for factor, dept in factors.items():
        routes.append(Route(_text(doc, dept, f"factors.{factor}", ("factors",)), factor=factor))

    departments = {}
    depts = data.get("departments", {})
    if not isinstance(depts, dict):
        raise doc.error("departments", "expected [departments.NAME] tables (agents, lead, manager, calendar)")
    for dname, d in depts.items():
        name, h = f"departments.{dname}", ("departments", dname)
        d = _table(doc, d, name, ("agents", "lead", "manager", "calendar"), h)
        people = {k: _text(doc, d[k], f"{name}.{k}", h) for k in ("lead", "manager", "calendar") if k in d}
        agents = _texts(doc, d.get("agents", []), f"{name}.agents", h)
        departments[dname] = Department(dname, agents, **people)
    return Routing(tuple(routes), departments, source=source, **top)


# -- the service-level policy ----------------------------------------------------------------------

_POLICY_KEYS = ("default_calendar", "calendars", "targets", "escalation")


def parse_policy(text: str, source: str = "sla") -> Policy:
    """Parse a service-level policy from TOML text; ``source`` names it in error messages."""
    doc = _Doc(text, source)
    _not_the_other(doc, _ROUTING_KEYS, _POLICY_KEYS, "a routing table (load it with --routing)")
    data = _table(doc, doc.data, "", _POLICY_KEYS, None)
    default_calendar = _text(doc, data.get("default_calendar", "office"), "default_calendar")

    cals = data.get("calendars", {})
    if not isinstance(cals, dict):
        raise doc.error("calendars", "expected [calendars.NAME] tables (timezone, hours, holidays)")
    calendars = {name: _policy_calendar(doc, name, c) for name, c in cals.items()}
    if default_calendar not in calendars:
        raise doc.error("default_calendar", f"calendar {default_calendar!r} is not defined (defined: "
                        f"{', '.join(calendars) or 'none'}; add a [calendars.{default_calendar}] table)")

    raw = data.get("targets", [])
    if not isinstance(raw, list) or not raw:
        raise doc.error("targets", "expected [[targets]] tables, one of them without channel and priority "
                        "(the fallback)")
    rows: list[tuple[int, dict]] = []
    seen: dict[tuple, int] = {}
    for i, t in enumerate(raw):
        name, h = f"targets[{i + 1}]", ("targets",)
        t = _table(doc, t, name, ("priority", "channel", "calendar") + _CLOCKS, h, i)
        row: dict = {c: _minutes(doc, t[c], f"{name}.{c}", h, i) for c in _CLOCKS if c in t}
        if "priority" in t:
            row["priority"] = _priority(doc, t["priority"], f"{name}.priority", h, i)
        if "channel" in t:
            row["channel"] = _text(doc, t["channel"], f"{name}.channel", h, i, lower=True)
        if "calendar" in t:
            row["calendar"] = _text(doc, t["calendar"], f"{name}.calendar", h, i)
            if row["calendar"] not in calendars:
                raise doc.error(f"{name}.calendar", f"calendar {row['calendar']!r} is not defined (defined: "
                                f"{', '.join(calendars)})", header=h, index=i, value=row["calendar"])
        scope = (row.get("priority"), row.get("channel"))
        if scope in seen:
            k = "channel" if scope[1] else "priority" if scope[0] else "first_response"
            raise doc.error(f"{name}.{k}", f"the target repeats the channel and priority of targets[{seen[scope]}]",
                            header=h, index=i)
        seen[scope] = i + 1
        rows.append((i, row))
    fallback = next((row for _, row in rows if "priority" not in row and "channel" not in row), None)
    if fallback is None:
        raise doc.error("targets", "no fallback target: add a [[targets]] table without channel and priority")
    missing = [c for c in _CLOCKS if c not in fallback]
    if missing:
        i = next(i for i, row in rows if row is fallback)
        raise doc.error(f"targets[{i + 1}].{missing[0]}", "the fallback target needs all four clocks ("
                        f"{', '.join(_CLOCKS)})", key="first_response", header=("targets",), index=i)
    targets = tuple(Target(**{**{c: fallback[c] for c in _CLOCKS}, **row}) for _, row in rows)

    esc = data.get("escalation", {})
    allowed = ("any",) + CASE_PRIORITIES
    esc = _table(doc, esc, "escalation", allowed, ("escalation",))
    escalation: dict[str | None, tuple[EscalationLevel, ...]] = {}
    for prio, levels in esc.items():
        name, h = f"escalation.{prio}", ("escalation",)
        if not isinstance(levels, list):
            raise doc.error(name, "expected a list of levels, e.g. [{after = 0, to = \"lead\"}]", header=h)
        out: list[EscalationLevel] = []
        for j, level in enumerate(levels):
            lname = f"{name}[{j + 1}]"
            if not isinstance(level, dict):
                raise doc.error(lname, f"expected a table {{after = MINUTES, to = \"lead\"}}, got {level!r}",
                                key=prio, header=h)
            bad = [k for k in level if k not in ("after", "to")]
            if bad:
                raise doc.error(f"{lname}.{bad[0]}", "unknown key (allowed here: after, to)", key=prio, header=h)
            for k in ("after", "to"):
                if k not in level:
                    raise doc.error(f"{lname}.{k}", "missing (a level is {after = MINUTES, to = \"lead\"})",
                                    key=prio, header=h)
            after = _minutes(doc, level["after"], f"{lname}.after", h)
            to = level["to"]
            if not isinstance(to, str) or not to.strip():
                raise doc.error(f"{lname}.to", "expected \"lead\", \"manager\" or the name of a person",
                                key=prio, header=h)
            if out and after <= out[-1].after_minutes:
                raise doc.error(f"{lname}.after", f"levels must come later and later: {after} is not after "
                                f"{out[-1].after_minutes}", key=prio, header=h)
            out.append(EscalationLevel(after, to.strip()))
        escalation[None if prio == "any" else prio] = tuple(out)
    return Policy(calendars, targets, escalation, default_calendar, source)


def _policy_calendar(doc: _Doc, name: str, value: object) -> _calendar.Calendar:
    """A calendar of the policy, by :func:`calendar.from_dict`, its messages naming the key in the policy."""
    if not isinstance(value, dict):
        raise doc.error(f"calendars.{name}", "expected a table (timezone, hours, holidays)", key=name)
    # blank the lines before the calendar's table, so that the calendar's lines are found, not another's
    span = doc._section(("calendars", name), None)
    text = "\n" * span[0] + "\n".join(doc.lines[span[0]:]) if span else ""
    try:
        return _calendar.from_dict(value, doc.source, text)
    except _calendar.CalendarError as e:
        message = re.sub(r"key '", f"key 'calendars.{name}.", str(e), count=1)
        if span and not message.startswith(f"{doc.source} line "):  # a key that is missing: the table's line
            message = f"{doc.source} line {span[0] + 1}{message[len(doc.source):]}"
        raise CaseConfigError(message) from None


# -- both together ---------------------------------------------------------------------------------


def check(routing: Routing, policy: Policy, routing_text: str = "") -> None:
    """Check what needs both files: every department's calendar is one the policy defines (``routing_text``,
    when given, lets the message name the line)."""
    for d in routing.departments.values():
        if d.calendar is not None and d.calendar not in policy.calendars:
            line = _Doc(routing_text, routing.source).line("calendar", ("departments", d.name)) \
                if routing_text else None
            where = f"{routing.source} line {line}" if line else routing.source
            raise CaseConfigError(
                f"{where}, key 'departments.{d.name}.calendar': calendar {d.calendar!r} is not defined in the "
                f"service-level policy {policy.source} (defined: {', '.join(policy.calendars)})")


def _read(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise CaseConfigError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise CaseConfigError(f"{path}: cannot be read as UTF-8 text ({e})") from e


def load_routing(path: str | Path) -> Routing:
    """Read a routing table file."""
    return parse_routing(_read(path), str(path))


def load_policy(path: str | Path) -> Policy:
    """Read a service-level policy file."""
    return parse_policy(_read(path), str(path))


def default_routing() -> Routing:
    """The bundled routing table (every factor of every shipped taxonomy; no agents)."""
    return load_routing(DEFAULTS / "routing.toml")


def default_policy() -> Policy:
    """The bundled service-level policy."""
    return load_policy(DEFAULTS / "sla.toml")


def _parse(name: str, text: str, source: str) -> Routing | Policy:
    if name not in CONFIG_NAMES:
        raise CaseConfigError(f"unknown configuration {name!r} (use {' or '.join(CONFIG_NAMES)})")
    return parse_routing(text, source) if name == "routing" else parse_policy(text, source)


def _latest(con, name: str) -> tuple[str, str] | None:
    rows = con.execute("SELECT text, source FROM case_config WHERE name = ? ORDER BY loaded_at DESC LIMIT 1",
                       [name]).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def save(con, name: str, text: str, source: str, now: dt.datetime, check_pair: bool = True) -> Routing | Policy:
    """Validate ``text`` (``name``: "routing" or "sla") and store it as the active file, inside the caller's
    transaction (``con``). With ``check_pair`` the pair it makes with the active file of the other kind is
    checked too (a department's calendar must be in the policy); when both files change, save the first
    with ``check_pair=False`` and the second with the default, in one transaction."""
    parsed = _parse(name, text, source)
    if check_pair:
        other = "sla" if name == "routing" else "routing"
        row = _latest(con, other)
        pair = _parse(other, *row) if row else (default_policy() if other == "sla" else default_routing())
        if name == "routing":
            check(parsed, pair, text)
        else:
            check(pair, parsed, row[0] if row else "")
    con.execute("INSERT INTO case_config (name, text, source, loaded_at) VALUES (?, ?, ?, ?)",
                [name, text, source, now])
    return parsed


def active(store) -> tuple[Routing, Policy]:
    """The routing table and policy in use: the latest saved of each (``centric cases config``), else the
    bundled defaults. Only reads, so a read-only store will do."""
    rows = store.table("case_config").execute()
    found: dict[str, tuple[str, str]] = {}
    if len(rows):
        latest = rows.sort_values("loaded_at", kind="stable").groupby("name").tail(1)
        found = {r.name: (r.text, r.source) for r in latest.itertuples(index=False)}
    return _active_pair(found.get("routing"), found.get("sla"))


@functools.lru_cache(maxsize=8)
def _active_pair(routing_file: tuple[str, str] | None, sla_file: tuple[str, str] | None) -> tuple[Routing, Policy]:
    """The parsed and checked pair of files (text, source); parsed once per process (every operation of the
    workflow asks for it, and the files rarely change)."""
    routing = parse_routing(*routing_file) if routing_file else default_routing()
    policy = parse_policy(*sla_file) if sla_file else default_policy()
    check(routing, policy, routing_file[0] if routing_file else "")
    return routing, policy



def active_text(store, name: str) -> tuple[str, str]:
    """The text and source of the active file of kind ``name`` ("routing" or "sla"): the latest saved, else
    the bundled default's."""
    if name not in CONFIG_NAMES:
        raise CaseConfigError(f"unknown configuration {name!r} (use {' or '.join(CONFIG_NAMES)})")
    t = store.table("case_config")
    rows = t.filter(t.name == name).order_by(t.loaded_at.desc()).limit(1).select("text", "source").execute()
    if len(rows):
        return str(rows["text"].iloc[0]), str(rows["source"].iloc[0])
    path = DEFAULTS / f"{name}.toml"
    return path.read_text(encoding="utf-8"), str(path.name)


def history(store, limit: int = 50) -> list[dict]:
    """The saved versions of both files, the latest first: name, source (who or which file) and when."""
    t = store.table("case_config")
    rows = t.order_by(t.loaded_at.desc()).limit(limit).select("name", "source", "loaded_at").execute()
    return rows.to_dict(orient="records")
