"""Mystery-shopping checklist templates: sections of items, each with a weight, whether it is critical (a
knock-out item: answered "no", the visit fails), whether "not applicable" is allowed, and the factor of the
taxonomy it measures (staff, store, availability, price, payment …) so that results compare by factor.

A template is a TOML file::

    id = "store-visit"
    name = "Store visit"
    names = { pl = "Wizyta w sklepie" }          # optional, per language

    [[sections]]
    id = "welcome"
    title = "Welcome"
    titles = { pl = "Powitanie" }

    [[sections.items]]
    id = "greeted"
    text = "Greeted within two minutes?"
    texts = { pl = "Powitanie w ciągu dwóch minut?" }
    weight = 3          # points (a cosmetic item 1, a critical one 10 …)
    factor = "staff"
    critical = false    # default false
    na = true           # "not applicable" allowed; default true (false for a critical item)

Each change is stored as a new version (:func:`add_template`); the same file again adds nothing. A visit keeps
the version it was scored on.

>>> t = parse_template('id = "t"\\nname = "T"\\n[[sections]]\\nid = "s"\\ntitle = "S"\\n'
...                    '[[sections.items]]\\nid = "a"\\ntext = "A?"\\nweight = 10\\nfactor = "staff"\\ncritical = true\\n',
...                    "t.toml", factors={"staff"})
>>> [(i.id, i.weight, i.critical, i.na) for i in t.items]
[('a', 10.0, True, False)]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from ..errors import CentricError
from ..store import Store

__all__ = ["Item", "Section", "Template", "TemplateError", "add_template", "get_template", "list_templates",
           "parse_template"]

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_WEIGHT = 100.0


class TemplateError(CentricError):
    """A template file that cannot be used (names the file and the section or item at fault)."""


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    text: str
    weight: float
    factor: str
    critical: bool = False
    na: bool = True
    texts: dict[str, str] = field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        return self.texts.get(lang) or self.text


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[Item, ...]
    titles: dict[str, str] = field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        return self.titles.get(lang) or self.title


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    sections: tuple[Section, ...]
    version: int = 0  # 0 until stored
    names: dict[str, str] = field(default_factory=dict)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for i in s.items)

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def label(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.name

    def definition(self) -> dict:
        """The template as plain data (what ``mystery_templates.definition`` keeps)."""
        return {"id": self.id, "name": self.name, "names": self.names, "sections": [
            {"id": s.id, "title": s.title, "titles": s.titles,
             "items": [{k: v for k, v in asdict(i).items() if k != "section"} for i in s.items]}
            for s in self.sections]}

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _texts(v, where: str) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise TemplateError(f"{where}: must be a table of texts by language, e.g. {{ pl = \"…\" }}")
    return {k: x.strip() for k, x in v.items() if x.strip()}


def _text(d: dict, key: str, where: str) -> str:
    v = d.get(key)
    if not isinstance(v, str) or not v.strip():
        raise TemplateError(f"{where}: '{key}' is missing or empty")
    return v.strip()


def from_data(data: dict, label: str, factors: Iterable[str] | None = None) -> Template:
    """A template from parsed TOML (or a stored definition); :class:`TemplateError` naming ``label`` and the
    section or item when something is wrong. ``factors``: the factor ids allowed (None: any)."""
    allowed = set(factors) if factors is not None else None
    tid = data.get("id")
    if not isinstance(tid, str) or not ID.match(tid):
        raise TemplateError(f"{label}: 'id' must be 1 to 40 lower-case letters, digits, '-' or '_' (got {tid!r})")
    name = _text(data, "name", label)
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise TemplateError(f"{label}: the template has no [[sections]]")
    seen: set[str] = set()
    sections = []
    for si, s in enumerate(raw_sections, 1):
        where = f"{label}, section {si}"
        if not isinstance(s, dict):
            raise TemplateError(f"{where}: must be a table")
        sid = s.get("id")
        if not isinstance(sid, str) or not ID.match(sid):
            raise TemplateError(f"{where}: 'id' must be lower-case letters, digits, '-' or '_' (got {sid!r})")
        where = f"{label}, section {sid!r}"
        title = _text(s, "title", where)
        raw_items = s.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise TemplateError(f"{where}: the section has no [[sections.items]]")
        items = []
        for ii, it in enumerate(raw_items, 1):
            iw = f"{where}, item {ii}"
            if not isinstance(it, dict):
                raise TemplateError(f"{iw}: must be a table")
            iid = it.get("id")
            if not isinstance(iid, str) or not ID.match(iid):
                raise TemplateError(f"{iw}: 'id' must be lower-case letters, digits, '-' or '_' (got {iid!r})")
            iw = f"{where}, item {iid!r}"
            if iid in seen:
                raise TemplateError(f"{iw}: the id is used twice (item ids are unique in a template)")
            seen.add(iid)
            weight = it.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= MAX_WEIGHT:
                raise TemplateError(f"{iw}: 'weight' must be a number above 0 and at most {MAX_WEIGHT:g} "
                                    f"(got {weight!r})")
            factor = it.get("factor")
            if not isinstance(factor, str) or not factor.strip():
                raise TemplateError(f"{iw}: 'factor' is missing (the factor of the taxonomy the item measures)")
            if allowed is not None and factor not in allowed:
                raise TemplateError(f"{iw}: factor {factor!r} is not a factor of the taxonomy; factors: "
                                    f"{', '.join(sorted(allowed))}")
            critical = it.get("critical", False)
            if not isinstance(critical, bool):
                raise TemplateError(f"{iw}: 'critical' must be true or false")
            na = it.get("na", not critical)
            if not isinstance(na, bool):
                raise TemplateError(f"{iw}: 'na' must be true or false")
            unknown = set(it) - {"id", "text", "texts", "weight", "factor", "critical", "na"}
            if unknown:
                raise TemplateError(f"{iw}: unknown key {', '.join(sorted(unknown))}")
            items.append(Item(iid, sid, _text(it, "text", iw), float(weight), factor, critical, na,
                              _texts(it.get("texts"), f"{iw}, 'texts'")))
        sections.append(Section(sid, title, tuple(items), _texts(s.get("titles"), f"{where}, 'titles'")))
    if len({s.id for s in sections}) != len(sections):
        raise TemplateError(f"{label}: two sections have the same id")
    return Template(tid, name, tuple(sections), int(data.get("version") or 0), _texts(data.get("names"), label))


def parse_template(text: str, label: str = "template", factors: Iterable[str] | None = None) -> Template:
    """Parse and check a template's TOML text (see the module docstring)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TemplateError(f"{label}: not valid TOML: {e}") from None
    return from_data(data, label, factors)


def taxonomy_factors(store: Store) -> set[str]:
    """The factor ids of the store's active taxonomy."""
    from ..text.taxonomy import active_taxonomy

    return set(active_taxonomy(store).ids)


def add_template(store: Store, text: str, source: str = "template", now: dt.datetime | None = None) -> tuple[Template, bool]:
    """Store the template in ``text`` as a new version of its id (checked against the store's taxonomy);
    returns it with its version and whether it was added (False: the latest version is the same)."""
    t = parse_template(text, source, taxonomy_factors(store))
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction():
        store.lock_writes()  # PostgreSQL: another process's new version waits, so the versions stay unique
        latest = get_template(store, t.id, missing_ok=True)
        if latest is not None and latest.content_hash == t.content_hash:
            return latest, False
        version = (latest.version if latest else 0) + 1
        store.execute("INSERT INTO mystery_templates VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [t.id, version, t.name, json.dumps(t.definition(), ensure_ascii=False), t.content_hash,
                       source, now])
    return Template(t.id, t.name, t.sections, version, t.names), True


def get_template(store: Store, template_id: str, version: int | None = None, missing_ok: bool = False) -> Template | None:
    """A stored template (its latest version unless ``version``); TemplateError when there is none."""
    sql = "SELECT definition, version FROM mystery_templates WHERE template_id = ?"
    params: list = [template_id]
    if version is not None:
        sql += " AND version = ?"
        params.append(int(version))
    row = store.execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
    if row is None:
        if missing_ok:
            return None
        known = [r[0] for r in store.execute("SELECT DISTINCT template_id FROM mystery_templates ORDER BY 1").fetchall()]
        what = f"template {template_id!r}" + (f" version {version}" if version is not None else "")
        raise TemplateError(f"no {what}; templates: {', '.join(known) or 'none (centric mystery template add FILE.toml)'}")
    t = from_data(json.loads(row[0]), f"template {template_id!r}")
    return Template(t.id, t.name, t.sections, int(row[1]), t.names)


def list_templates(store: Store) -> list[dict]:
    """Every template's latest version: id, name, version, items, created_at."""
    t = store.table("mystery_templates")
    latest = t.group_by("template_id").aggregate(latest=t.version.max())
    t = t.join(latest, (t.template_id == latest.template_id) & (t.version == latest.latest))
    rows = sorted(store.rows(t.select("template_id", "name", "version", definition=t.definition.cast("string"),
                                      created_at=t.created_at)))  # by template_id (one row each)
    out = []
    for tid, name, version, definition, created in rows:
        d = json.loads(definition)
        items = [i for s in d["sections"] for i in s["items"]]
        out.append({"template_id": tid, "name": name, "version": int(version), "items": len(items),
                    "critical": sum(bool(i.get("critical")) for i in items), "created_at": created})
    return out
