"""5-whys trees saved by analysts: the computed tree is the start; an analyst renames and annotates nodes,
marks leaves "root cause" or "expected", removes branches or adds the causes the data does not record, saves
the tree (``whys_trees``) and attaches it to the cases it explains (``whys_links``).

Edits are pure functions on a :class:`~centric.whys.tree.WhysTree` (``edit``); storing goes through the
store's one transaction per change, so the web app runs each through ``Hub.write``.

>>> from centric.whys.tree import Node, WhysTree
>>> t = WhysTree("delivery", Node("0", "problem", "delivery", children=[Node("0.0", "cause", "courier late")]))
>>> t = edit(t, "0.0", "mark", verdict="root cause")
>>> t = edit(t, "0", "add", label="address form pre-fills the invoice address")
>>> [(n.id, n.label, n.verdict) for n in t.nodes()]
[('0', 'delivery', None), ('0.0', 'courier late', 'root cause'), ('0.1', 'address form pre-fills the invoice address', 'expected')]
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field

from ..errors import CentricError
from ..store import Store
from .tree import VERDICTS, Node, WhysTree

OPERATIONS = ("rename", "annotate", "mark", "remove", "add")
MAX_LABEL = 200
MAX_NOTE = 2000
MAX_TITLE = 200


@dataclass(frozen=True)
class SavedTree:
    tree_id: str
    title: str
    factor: str
    period: str | None
    tree: WhysTree
    author: str
    updated_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    cases: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"tree_id": self.tree_id, "title": self.title, "factor": self.factor, "period": self.period,
                "author": self.author, "updated_by": self.updated_by, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(), "cases": list(self.cases), **self.tree.to_dict()}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _text(value: str | None, what: str, limit: int, required: bool = True) -> str:
    v = " ".join(str(value or "").split()) if what != "note" else str(value or "").strip()
    if required and not v:
        raise CentricError(f"{what}: must not be empty")
    if len(v) > limit:
        raise CentricError(f"{what}: at most {limit} characters (got {len(v)})")
    if "\x00" in v:
        raise CentricError(f"{what}: a NUL character is not allowed")
    return v


def edit(tree: WhysTree, node_id: str, op: str, label: str | None = None, note: str | None = None,
         verdict: str | None = None) -> WhysTree:
    """A copy of ``tree`` with one change to node ``node_id``: ``rename`` (``label``), ``annotate``
    (``note``; empty clears it), ``mark`` (``verdict``: root cause, expected, open, or empty to clear), ``remove``
    (the node and its branch; not the problem itself) or ``add`` (a child with ``label`` and ``verdict``,
    "expected" unless given, and ``note``). Raises CentricError naming what is wrong."""
    if op not in OPERATIONS:
        raise CentricError(f"op: {op!r} is not one of {', '.join(OPERATIONS)}")
    out = copy.deepcopy(tree)
    node = out.find(node_id)
    if node is None:
        raise CentricError(f"node: the tree has no node {node_id!r}")
    if verdict is not None and verdict != "" and verdict not in VERDICTS:
        raise CentricError(f"verdict: {verdict!r} is not one of {', '.join(VERDICTS)}")
    if op == "rename":
        node.label = _text(label, "label", MAX_LABEL)
    elif op == "annotate":
        node.note = _text(note, "note", MAX_NOTE, required=False)
    elif op == "mark":
        if node.children and verdict:
            raise CentricError("verdict: only a leaf is marked root cause, expected or open; this node has children")
        node.verdict = verdict or None
    elif op == "remove":
        if node is out.root:
            raise CentricError("node: the problem itself cannot be removed")
        parent = next(n for n in out.nodes() if node in n.children)
        parent.children.remove(node)
        if not parent.children and parent is not out.root:
            parent.verdict = parent.verdict or "open"  # a leaf again: the analyst decides what it is
    else:
        used = [int(c.id.rsplit(".", 1)[1]) for c in node.children if c.id.rsplit(".", 1)[-1].isdigit()]
        child = Node(f"{node.id}.{max(used, default=-1) + 1}", "cause", _text(label, "label", MAX_LABEL),
                     verdict=verdict or "expected", note=_text(note, "note", MAX_NOTE, required=False))
        node.children.append(child)
        node.verdict = None  # no longer a leaf
    return out


def save(store: Store, tree: WhysTree, title: str, author: str, period: str | None = None,
         now: dt.datetime | None = None) -> str:
    """Store a new tree; its id (Y0001 …)."""
    title = _text(title, "title", MAX_TITLE)
    now = now or _now()
    with store.transaction():
        store.lock_writes()  # PostgreSQL: another process's save waits, so the number stays unique
        n = store.execute("SELECT count(*) FROM whys_trees").fetchone()[0]
        tree_id = f"Y{int(n) + 1:04d}"
        while store.execute("SELECT 1 FROM whys_trees WHERE tree_id = ?", [tree_id]).fetchone():
            n += 1
            tree_id = f"Y{int(n) + 1:04d}"
        store.execute("INSERT INTO whys_trees (tree_id, title, factor, period, tree, author, updated_by, created_at, "
                      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [tree_id, title, tree.factor, period, _dump(tree), author, author, now, now])
    return tree_id


def update(store: Store, tree_id: str, tree: WhysTree, by: str, title: str | None = None,
           now: dt.datetime | None = None) -> None:
    """Replace a saved tree's content (and title)."""
    require(store, tree_id)
    with store.transaction():
        store.execute("UPDATE whys_trees SET tree = ?, updated_by = ?, updated_at = ?, title = coalesce(?, title) "
                      "WHERE tree_id = ?", [_dump(tree), by, now or _now(),
                                            _text(title, "title", MAX_TITLE) if title is not None else None, tree_id])


def apply(store: Store, tree_id: str, node_id: str, op: str, by: str, **fields) -> WhysTree:
    """Load a saved tree, make one ``edit`` and store it, as one step (under the web app's one writer no other
    change comes between); the changed tree."""
    changed = edit(require(store, tree_id).tree, node_id, op, **fields)
    update(store, tree_id, changed, by)
    return changed


def attach(store: Store, tree_id: str, case_ids: list[str], by: str, now: dt.datetime | None = None) -> list[str]:
    """Attach the tree to cases (those attached already are left as they are); the ids newly attached.
    Raises CentricError naming a case that does not exist."""
    require(store, tree_id)
    ids = list(dict.fromkeys(c.strip() for c in case_ids if c and c.strip()))
    if not ids:
        raise CentricError("cases: give at least one case id")
    c = store.table("cases")
    known = set(c.filter(c.case_id.isin(ids)).case_id.execute())
    missing = [i for i in ids if i not in known]
    if missing:
        raise CentricError(f"cases: no case {missing[0]!r}")
    have = set(cases_of(store, tree_id))
    new = [i for i in ids if i not in have]
    with store.transaction():
        for i in new:
            store.execute("INSERT INTO whys_links (tree_id, case_id, linked_by, linked_at) VALUES (?, ?, ?, ?)",
                          [tree_id, i, by, now or _now()])
    return new


def detach(store: Store, tree_id: str, case_id: str) -> bool:
    """Remove the link between the tree and the case; whether there was one."""
    with store.transaction():
        found = store.execute("SELECT count(*) FROM whys_links WHERE tree_id = ? AND case_id = ?",
                              [tree_id, case_id]).fetchone()[0]
        store.execute("DELETE FROM whys_links WHERE tree_id = ? AND case_id = ?", [tree_id, case_id])
    return bool(found)


def cases_of(store: Store, tree_id: str) -> list[str]:
    rows = store.execute("SELECT case_id FROM whys_links WHERE tree_id = ? ORDER BY case_id", [tree_id]).fetchall()
    return [r[0] for r in rows]


def trees_of_case(store: Store, case_id: str) -> list[tuple[str, str]]:
    """(tree id, title) of the saved trees attached to ``case_id``."""
    return [(r[0], r[1]) for r in store.execute(
        "SELECT t.tree_id, t.title FROM whys_trees t JOIN whys_links l ON l.tree_id = t.tree_id "
        "WHERE l.case_id = ? ORDER BY t.tree_id", [case_id]).fetchall()]


def explanations(store: Store, case_id: str) -> list[dict]:
    """The saved trees attached to ``case_id`` as the case page shows them: id, title, factor, period and the
    labels of the leaves marked root cause (the tree's answer to "why?")."""
    out = []
    for tree_id, _title in trees_of_case(store, case_id):
        saved = get(store, tree_id)
        if saved is not None:
            out.append({"id": saved.tree_id, "title": saved.title, "factor": saved.factor, "period": saved.period,
                        "causes": [n.label for n in saved.tree.root_causes()]})
    return out


def get(store: Store, tree_id: str) -> SavedTree | None:
    row = store.execute("SELECT tree_id, title, factor, period, tree, author, updated_by, created_at, updated_at "
                            "FROM whys_trees WHERE tree_id = ?", [tree_id]).fetchone()
    if row is None:
        return None
    return SavedTree(row[0], row[1], row[2], row[3], WhysTree.from_dict(json.loads(row[4])), row[5], row[6], row[7],
                     row[8], tuple(cases_of(store, tree_id)))


def require(store: Store, tree_id: str) -> SavedTree:
    got = get(store, tree_id)
    if got is None:
        raise CentricError(f"there is no saved tree {tree_id!r}")
    return got


def list_trees(store: Store) -> list[dict]:
    """Every saved tree, last changed first: id, title, factor, period, author, updated_at, cases."""
    rows = store.execute(
        "SELECT t.tree_id, t.title, t.factor, t.period, t.author, t.updated_at, count(l.case_id) "
        "FROM whys_trees t LEFT JOIN whys_links l ON l.tree_id = t.tree_id "
        "GROUP BY t.tree_id, t.title, t.factor, t.period, t.author, t.updated_at ORDER BY t.updated_at DESC, t.tree_id DESC").fetchall()
    keys = ("tree_id", "title", "factor", "period", "author", "updated_at", "cases")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _dump(tree: WhysTree) -> str:
    return json.dumps(tree.to_dict(), ensure_ascii=False, sort_keys=True)
