"""Factor taxonomies: which factors customers talk about, with names and example phrases in several
languages. Shipped as TOML files in ``taxonomies/``; a user edits a copy (add, rename, drop factors)
and passes its path — no code.

>>> t = load_taxonomy("restaurants")
>>> [f.id for f in t.factors]
['food', 'drinks', 'service', 'price', 'ambience', 'location']
>>> t.factor("service").name("pl")
'Obsługa'
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CentricError

BUILTIN = Path(__file__).parent / "taxonomies"


@dataclass(frozen=True)
class Factor:
    id: str
    names: dict[str, str]
    examples: dict[str, list[str]] = field(default_factory=dict)

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names.get("en") or self.id

    def all_examples(self) -> list[str]:
        out = [n for n in self.names.values()]
        for texts in self.examples.values():
            out += texts
        return out


@dataclass(frozen=True)
class Taxonomy:
    name: str
    factors: tuple[Factor, ...]
    description: str = ""
    generic: tuple[str, ...] = ()  # sentences typical of these texts that name no factor

    def factor(self, fid: str) -> Factor:
        for f in self.factors:
            if f.id == fid:
                return f
        raise CentricError(f"taxonomy {self.name!r} has no factor {fid!r}; factors: "
                           f"{', '.join(f.id for f in self.factors)}")

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.factors]


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN.glob("*.toml"))


def load_taxonomy(name_or_path: str | Path) -> Taxonomy:
    """A built-in taxonomy by name (``retail``, ``restaurants`` …) or a TOML file."""
    p = Path(name_or_path)
    if not p.suffix:
        p = BUILTIN / f"{name_or_path}.toml"
        if not p.exists():
            raise CentricError(f"no taxonomy named {name_or_path!r}; built in: {', '.join(builtin_names())}, "
                               "or give the path of a .toml file")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise CentricError(f"taxonomy file {p}: no such file") from e
    except tomllib.TOMLDecodeError as e:
        raise CentricError(f"taxonomy file {p}: not valid TOML ({e})") from e
    factors = []
    seen = set()
    for i, f in enumerate(doc.get("factors", []), start=1):
        fid = str(f.get("id", "")).strip()
        if not fid:
            raise CentricError(f"taxonomy file {p}: factor {i} has no id")
        if fid in seen:
            raise CentricError(f"taxonomy file {p}: factor id {fid!r} appears twice")
        seen.add(fid)
        names = {str(k): str(v) for k, v in f.get("names", {}).items()} or {"en": fid}
        examples = {str(k): [str(x) for x in v] for k, v in f.get("examples", {}).items()}
        factors.append(Factor(fid, names, examples))
    if not factors:
        raise CentricError(f"taxonomy file {p}: it names no factors ([[factors]] with id, names, examples)")
    generic = doc.get("generic", [])
    if not isinstance(generic, list) or not all(isinstance(g, str) for g in generic):
        raise CentricError(f"taxonomy file {p}: generic must be a list of sentences that name no factor")
    return Taxonomy(str(doc.get("name", p.stem)), tuple(factors), str(doc.get("description", "")), tuple(generic))


# -- factors added in the store ---------------------------------------------------------------------------
# An admin adds a factor from the web app's settings page; it lives in the store (``centric_meta``, key
# ``taxonomy_factors``: a JSON list of {id, names, examples, added_by, added_at}) and extends whichever
# taxonomy the store's texts are analysed with: ``centric analyze`` matches it in the texts it analyses from
# then on, the routing table may route it, a case may be closed with it as the root cause.

STORE_KEY = "taxonomy_factors"
FACTOR_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def store_factors(store) -> list[Factor]:
    """The factors added in the store, in the order they were added."""
    return [Factor(f["id"], f["names"], f.get("examples", {})) for f in _stored(store)]


def _stored(store) -> list[dict]:
    meta = store.ibis.table("centric_meta")  # through Ibis: the same on either engine
    found = meta.filter(meta.key == STORE_KEY).select("value").execute()["value"].tolist()
    return json.loads(found[0]) if found else []


def store_taxonomy_name(store) -> str:
    """The taxonomy the store's texts were analysed with (the latest analysis), ``retail`` when none."""
    t = store.table("text_analyses")
    latest = t.filter(t.taxonomy.notnull()).order_by(t.analyzed_at.desc()).select("taxonomy").limit(1).execute()
    return str(latest["taxonomy"].iloc[0]) if len(latest) else "retail"


def with_store_factors(taxonomy: Taxonomy, store) -> Taxonomy:
    """``taxonomy`` with the store's own factors after its own (a factor it has already is left as it is)."""
    extra = [f for f in store_factors(store) if f.id not in taxonomy.ids]
    return dataclasses.replace(taxonomy, factors=taxonomy.factors + tuple(extra)) if extra else taxonomy


def active_taxonomy(store) -> Taxonomy:
    """The store's taxonomy (``store_taxonomy_name``) with the factors added in the store."""
    return with_store_factors(load_taxonomy(store_taxonomy_name(store)), store)


def add_store_factor(store, fid: str, names: dict[str, str], examples: dict[str, list[str]],
                     by: str = "system", now=None) -> Factor:
    """Add a factor to the store (in its own transaction): ``fid`` lower-case letters, digits and ``_``
    (2–40, starting with a letter), not a factor of the active taxonomy yet; ``names`` by language with at
    least English; ``examples``: phrases by language that say it (at least one). Raises CentricError
    naming the field that is wrong."""
    import datetime as dt

    fid = (fid or "").strip()
    if not FACTOR_ID.match(fid):
        raise CentricError(f"factor id {fid!r}: use 2 to 40 lower-case letters, digits or _, starting with a "
                           "letter (e.g. parking)")
    taken = load_taxonomy(store_taxonomy_name(store)).ids + [f.id for f in store_factors(store)]
    if fid in taken:
        raise CentricError(f"factor id {fid!r}: the taxonomy has it already")
    names = {k: v.strip() for k, v in names.items() if v and v.strip()}
    if not names.get("en"):
        raise CentricError(f"factor {fid!r}: the English name is needed")
    examples = {k: [x.strip() for x in v if x and x.strip()] for k, v in examples.items()}
    examples = {k: v for k, v in examples.items() if v}
    if not examples:
        raise CentricError(f"factor {fid!r}: give at least one keyword or phrase that says it")
    added = {"id": fid, "names": names, "examples": examples, "added_by": by,
             "added_at": (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).isoformat(timespec="seconds")}
    with store.transaction():  # the list replaced whole (any engine), under the store's write lock
        store.lock_writes()
        rows = _stored(store) + [added]
        store.execute("DELETE FROM centric_meta WHERE key = ?", [STORE_KEY])
        store.execute("INSERT INTO centric_meta VALUES (?, ?)", [STORE_KEY, json.dumps(rows, ensure_ascii=False)])
    return Factor(fid, names, examples)


def store_factor_rows(store) -> list[dict]:
    """The stored factors as saved (with who added them and when)."""
    return _stored(store)
