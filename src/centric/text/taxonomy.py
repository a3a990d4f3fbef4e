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
