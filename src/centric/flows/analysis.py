"""User flows over an event log, computed in the database: the directly-follows graph (edge counts,
median seconds per edge, start and end activities), variants and their coverage curve, Sankey paths
from any step forwards or backwards, loops, and the comparison of two groups of cases edge by edge.

Every function takes an Ibis table with the columns of :mod:`centric.flows.log` (``case_id``,
``activity``, ``ts``, ``seq``) — the ``table`` of an :class:`~centric.flows.log.EventLog`, possibly
filtered to some cases — and orders the events of a case by ``ts`` then ``seq`` with window functions
(``row_number``/``lead`` over the case). Only aggregated rows (one per edge, variant or node) reach Python.

Several analyses of one log can run in one query (:func:`batch` of their plans, :class:`Plan`, which
``sankey_plan``, ``loops_plan`` and ``compare_plan`` make; ``mine`` does it for the graph and the variants):
their aggregated tables are unioned, so that the log and its ordering, used by each, are one relation in a
``WITH`` that PostgreSQL computes once — where the log is a view (a journey's instances in a read-only
session, which can make no temporary table), each query would otherwise compute it again.

The median time of an edge is the interpolated median (``quantile_cont(0.5)``, numpy's ``median``) of
the seconds between the two events, what pm4py's performance DFG reports.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import CentricError
from ..metrics.results import Tabular
from ..metrics.stats import ALPHA, adjust_p, two_proportions
from .log import ACTIVITY, CASE, SEQ, TIME

LEFT = "left here"
NOWHERE = "came from nowhere"
OTHER = "other"


def _case_window():
    return ibis.window(group_by=CASE, order_by=[TIME, SEQ])


def ordered(events: Any) -> Any:
    """The events with ``pos`` (1, 2, … within the case), ``nxt`` (the next activity, null at the end)
    and ``secs`` (seconds to the next event)."""
    w = _case_window()
    return events.mutate(
        pos=ibis.row_number().over(w) + 1,
        nxt=events[ACTIVITY].lead().over(w),
        secs=events[TIME].lead().over(w).epoch_seconds().cast("float64")
        - events[TIME].epoch_seconds().cast("float64"),
    )


@dataclass(frozen=True)
class Plan:
    """An analysis not yet run: the aggregated tables it reads (Ibis expressions) and what makes its result
    of their rows (``finish``, called with one Arrow table per query, in order)."""

    queries: tuple[Any, ...]
    finish: Callable[..., Any]


def batch(*plans: Plan) -> list[Any]:
    """The results of ``plans``, in order, from ONE query (see the module's doc)."""
    tables = [q for p in plans for q in p.queries]
    rows = _together(tables)
    out, i = [], 0
    for p in plans:
        out.append(p.finish(*rows[i:i + len(p.queries)]))
        i += len(p.queries)
    return out


def _together(tables: list[Any]) -> list[pa.Table]:
    """The rows of each of ``tables`` from one query: their union, each table's columns beside null ones of the
    others (all of them nullable, as a union needs), told apart by a column ``_part``."""
    if len(tables) == 1:
        return [tables[0].to_pyarrow()]
    cols = [(i, c, t[c].type().copy(nullable=True)) for i, t in enumerate(tables) for c in t.columns]
    parts = [t.select(_part=ibis.literal(i, "int64"),
                      **{f"_{j}_{c}": t[c].cast(ty) if j == i else ibis.null().cast(ty) for j, c, ty in cols})
             for i, t in enumerate(tables)]
    rows = ibis.union(*parts, distinct=False).to_pyarrow()
    out = []
    for i, t in enumerate(tables):
        mine = rows.filter(pc.equal(rows["_part"], i))
        out.append(mine.select([f"_{i}_{c}" for c in t.columns]).rename_columns(list(t.columns)))
    return out


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    count: int
    median_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "count": self.count,
                "median_seconds": self.median_seconds}


@dataclass(frozen=True)
class Graph(Tabular):
    """The directly-follows graph: edges sorted by count (descending), then source and target."""

    cases: int
    events: int
    start: dict[str, int]
    end: dict[str, int]
    edges: list[Edge] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([e.to_dict() for e in self.edges], columns=["from", "to", "count", "median_seconds"])

    def _title(self) -> str:
        return f"Directly-follows graph: {self.cases:,} cases, {self.events:,} events"


def _sorted_counts(d: dict[str, int]) -> dict[str, int]:
    return dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))


def graph(events: Any) -> Graph:
    """Directly-follows graph in one pass: grouped by (activity, next activity), the null next activity
    giving the end counts, the first positions the start counts.

    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"case_id": ["a", "a", "b"], "activity": ["x", "y", "x"],
    ...     "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01", "2024-01-01 09:00"]), "seq": [1, 2, 3]}))
    >>> g = graph(t)
    >>> g.cases, g.start, g.end, [(e.source, e.target, e.count, e.median_seconds) for e in g.edges]
    (2, {'x': 2}, {'x': 1, 'y': 1}, [('x', 'y', 1, 60.0)])
    """
    return batch(_graph_plan(ordered(events)))[0]


def _graph_plan(o: Any) -> Plan:
    """``graph`` of an ``ordered`` table."""
    agg = o.group_by([ACTIVITY, "nxt"]).aggregate(
        n=o.count(), starts=(o.pos == 1).sum(), med=o.secs.quantile(0.5))
    return Plan((agg,), lambda rows: _graph_rows(zip(*(rows[c].to_pylist()
                                                       for c in (ACTIVITY, "nxt", "n", "starts", "med")), strict=True)))


def _graph_rows(rows: Iterable[tuple[str, str | None, int, int, float | None]]) -> Graph:
    """The graph from its aggregated rows (activity, next activity or None, events, cases starting with the
    activity, median seconds to the next one)."""
    start: dict[str, int] = {}
    end: dict[str, int] = {}
    edges = []
    events = 0
    for a, b, n, s, med in rows:
        n, s = int(n), int(s or 0)
        events += n
        if s:
            start[a] = start.get(a, 0) + s
        if b is None:
            end[a] = n
        else:
            edges.append(Edge(a, b, n, float(med)))
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    return Graph(sum(start.values()), events, _sorted_counts(start), _sorted_counts(end), edges)


@dataclass(frozen=True)
class Variant:
    activities: tuple[str, ...]
    cases: int

    def to_dict(self) -> dict[str, Any]:
        return {"activities": list(self.activities), "cases": self.cases}


@dataclass(frozen=True)
class Variants(Tabular):
    """Distinct activity sequences with their numbers of cases, most frequent first (ties: by sequence)."""

    cases: int
    variants: list[Variant] = field(default_factory=list)

    def coverage(self, share: float = 0.8) -> int:
        """How many of the most frequent variants it takes to cover ``share`` of the cases."""
        need = share * self.cases
        total = 0
        for i, v in enumerate(self.variants, 1):
            total += v.cases
            if total >= need - 1e-9:
                return i
        return len(self.variants)

    def curve(self) -> list[float]:
        """Cumulative share of cases (0–1) covered by the first 1, 2, … variants."""
        out, total = [], 0
        for v in self.variants:
            total += v.cases
            out.append(total / self.cases if self.cases else 0.0)
        return out

    def to_frame(self) -> pd.DataFrame:
        curve = self.curve()
        return pd.DataFrame([{"variant": i + 1, "activities": " → ".join(v.activities), "steps": len(v.activities),
                              "cases": v.cases, "cumulative_share": c}
                             for i, (v, c) in enumerate(zip(self.variants, curve, strict=True))],
                            columns=["variant", "activities", "steps", "cases", "cumulative_share"])

    def _title(self) -> str:
        return f"Variants: {len(self.variants):,} for {self.cases:,} cases; {self.coverage():,} cover 80%"


_CODES = 1 << 20  # activities a log may have on the engines that group whole sequences (a trace packs pos and code)


def _traces(o: Any) -> Any:
    """Per case of an ``ordered`` table its activities in order, as a list of small integer codes (grouping
    lists of integers is much cheaper than lists of texts); returns (table of case_id, trace; table of
    activity, code).

    The order comes from the case's window (``ordered``'s ``pos``), never from an ordered ``collect`` (Spark
    cannot order an aggregation): each event is the integer ``pos * 2**20 + code``, collected in any order and
    sorted, which sorts by position; ``_decode``'s codes are the values modulo 2**20."""
    names = o.select(ACTIVITY).distinct()
    names = names.mutate(code=ibis.row_number().over(order_by=names[ACTIVITY]).cast("int64"))
    coded = o.join(names, ACTIVITY)
    packed = coded.pos.cast("int64") * _CODES + coded.code
    return coded.group_by(CASE).aggregate(trace=packed.collect().sort()), names


def _decode(dictionary: pa.Table) -> dict[int, str]:
    if len(dictionary) >= _CODES:
        raise CentricError(f"the log has {len(dictionary):,} distinct activities; at most {_CODES - 1:,} can be "
                           "grouped into variants")
    return dict(zip(dictionary["code"].to_pylist(), dictionary[ACTIVITY].to_pylist(), strict=True))


def _variants_plan(o: Any) -> Plan:
    """The variants of an ``ordered`` table by their lists of activities (unsorted)."""
    per_case, names = _traces(o)

    def finish(rows: pa.Table, dictionary: pa.Table) -> list[Variant]:
        name_of = _decode(dictionary)
        return [Variant(tuple(name_of[int(c) % _CODES] for c in t), int(n))
                for t, n in zip(rows["trace"].to_pylist(), rows["n"].to_pylist(), strict=True)]

    return Plan((per_case.group_by("trace").aggregate(n=per_case.count()), names), finish)


def _variants_by_list(events: Any) -> list[Variant]:
    return batch(_variants_plan(ordered(events)))[0]


def _is_duckdb(events: Any, default: bool) -> bool:
    try:
        return events._find_backend(use_default=default).name == "duckdb"
    except Exception:  # noqa: BLE001 — an unbound expression: the default backend (DuckDB) when allowed
        return default


def _mined(events: Any, with_graph: bool) -> tuple[Graph | None, list[Variant]] | None:
    """The variants (and, with ``with_graph``, the directly-follows graph) from ONE ordering of the events
    in one query.

    Each activity gets a small integer code (1, 2, … in the order of the names); each case's sequence of
    codes is packed into 64-bit integers, ``per`` codes of ``bits`` bits each, the first event of a chunk
    in its highest bits (so that chunks compare as the sequences do). Cases are grouped by a signature —
    the XOR over its chunks of a hash of (chunk number, packed codes) — and their number of events; a
    second, independent signature checks every group: if two cases in one group differ in it (a hash
    collision), None, and the caller groups whole lists instead. Only the packed chunks of one case a
    variant come back (hundreds of thousands of integers for millions of events), decoded in numpy.
    None too when an event has no activity (the lists' way says what to do with it)."""
    names = sorted(events.select(ACTIVITY).distinct().to_pyarrow()[ACTIVITY].to_pylist(),
                   key=lambda x: (x is None, x))
    if None in names:
        return None
    if not names:
        return (Graph(0, 0, {}, {}, []) if with_graph else None), []
    bits = len(names).bit_length()
    if bits > 62:
        return None
    per = 62 // bits  # codes a chunk: the sum of a chunk's shifted codes stays below 2**62
    from ..engines import temp_tables

    if temp_tables(events):
        codes = ibis.memtable(pd.DataFrame({"_name": pd.Series(names, dtype=object),
                                            "_code": np.arange(1, len(names) + 1, dtype="int64")}))
        coded = events.join(codes, events[ACTIVITY] == codes["_name"])
    else:  # a read-only PostgreSQL session makes no in-memory table: the few codes inline
        code = events[ACTIVITY].cases(*((n, i) for i, n in enumerate(names, 1))).cast("int64")
        coded = events.mutate(_code=code)
    w = ibis.window(group_by=CASE, order_by=[coded[TIME], coded[SEQ]])
    o = coded.select(CASE, code=coded["_code"], p=ibis.row_number().over(w), nxt=coded["_code"].lead().over(w),
                     secs=coded[TIME].lead().over(w).epoch_seconds().cast("float64")
                     - coded[TIME].epoch_seconds().cast("float64"))
    shift = (ibis.literal(per - 1, "int64") - o.p % per) * bits
    chunks = o.group_by([CASE, (o.p // per).cast("int64").name("j")]).aggregate(
        packed=(o.code << shift).sum(), k=o.count())
    sig, sig2 = _signatures(chunks)
    per_case = chunks.group_by(CASE).aggregate(sig=sig, sig2=sig2, n=chunks.k.sum())
    groups = per_case.group_by(["sig", "n"]).aggregate(cases=per_case.count(), checks=per_case.sig2.nunique(),
                                                       rep=per_case[CASE].min())
    reps = groups.join(chunks, groups.rep == chunks[CASE])
    null_i, null_f, null_s = ibis.null("int64"), ibis.null("float64"), ibis.null("string")
    result = reps.select(kind=ibis.literal(1, "int64"), a=reps.j, b=null_i, n=reps.cases.cast("int64"),
                         s=reps.checks.cast("int64"), med=null_f, packed=reps.packed.cast("int64"),
                         rep=reps.rep)
    if with_graph:
        agg = o.group_by(["code", "nxt"]).aggregate(n=o.count(), s=(o.p == 0).sum(), med=o.secs.quantile(0.5))
        result = agg.select(kind=ibis.literal(0, "int64"), a=agg.code.cast("int64"), b=agg.nxt.cast("int64"),
                            n=agg.n.cast("int64"), s=agg.s.cast("int64"), med=agg.med.cast("float64"),
                            packed=null_i, rep=null_s).union(result)
    rows = result.to_pyarrow()
    g = None
    if with_graph:
        g = _graph_of(rows.filter(pc.equal(rows["kind"], 0)), names)
    v = rows.filter(pc.equal(rows["kind"], 1)) if with_graph else rows
    if len(v) and pc.max(v["s"]).as_py() > 1:
        return None
    return g, _decode_chunks(v, names, bits, per)


def _signatures(chunks: Any) -> tuple[Any, Any]:
    """A case's two independent signatures: XORs over its chunks of hashes of (chunk number, packed codes)."""
    text, part = chunks.packed.cast("string"), chunks.j.cast("string")
    return (text + ":" + part).hash().bit_xor(), (part + "/" + text).hash().bit_xor()


def _graph_of(rows: Any, names: list[str]) -> Graph:
    """The graph from its aggregated rows (a: activity code, b: next activity code or null, n: events,
    s: cases starting with the activity, med: median seconds to the next one)."""
    return _graph_rows((names[a - 1], None if b is None else names[b - 1], n, s, med)
                       for a, b, n, s, med in zip(*(rows[c].to_pylist() for c in ("a", "b", "n", "s", "med")),
                                                  strict=True))


DENSE_SORT = 20_000_000  # variants × chunks up to which the variants are sorted in numpy (8 bytes each)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while millions of acyclic tuples are made (it would scan them
    again and again for cycles they cannot have)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _decode_chunks(rows: Any, names: list[str], bits: int, per: int) -> list[Variant]:
    """The variants from their representatives' packed chunks (rep, a: chunk number, packed, n: cases),
    most frequent first, then by sequence (a variant's chunks compare as its sequence of names does:
    codes follow the names' order, the first event of a chunk is in its highest bits, 0 past the end)."""
    if not len(rows):
        return []
    rep = pc.dictionary_encode(rows["rep"].combine_chunks()).indices.to_numpy()
    j = rows["a"].to_numpy()
    order = np.lexsort((j, rep))
    rep, j = rep[order], j[order]
    packed, cases = rows["packed"].to_numpy()[order], rows["n"].to_numpy()[order]
    starts = np.r_[True, rep[1:] != rep[:-1]]
    first = np.flatnonzero(starts)  # each variant's first chunk
    n_var, width = len(first), int(j.max()) + 1
    counts = cases[first]
    if n_var * width <= DENSE_SORT:
        table = np.zeros((n_var, width), dtype=np.int64)  # a variant's chunks, zeros past its last
        table[np.cumsum(starts) - 1, j] = packed
        rank = np.lexsort([table[:, c] for c in range(width - 1, -1, -1)] + [-counts])
    else:  # long sequences: their lists of chunks compared in Python
        chunk_list, cut, n = packed.tolist(), [*first.tolist(), len(rep)], counts.tolist()
        rank = np.array(sorted(range(n_var), key=lambda i: (-n[i], chunk_list[cut[i]:cut[i + 1]])), dtype=np.int64)
    shifts = (bits * np.arange(per - 1, -1, -1)).astype(np.int64)
    fields = (packed[:, None] >> shifts) & ((1 << bits) - 1)  # chunk × position
    flat = fields[fields != 0]  # codes start at 1: zeros only past a sequence's end, in its last chunk
    code_cut = np.r_[0, np.cumsum(np.count_nonzero(fields, axis=1))][np.r_[first, len(rep)]]
    lo, hi, n = code_cut[:-1][rank].tolist(), code_cut[1:][rank].tolist(), counts[rank].tolist()
    with _no_gc():
        labels = tuple(np.array([None, *names], dtype=object)[flat].tolist())
        return [Variant(labels[a:b], c) for a, b, c in zip(lo, hi, n, strict=True)]


def variants(events: Any, limit: int | None = None) -> Variants:
    """The variants of the cases in ``events`` (any filtered log: a segment, a persona's customers):
    each case's activities in order, grouped. On DuckDB cases are grouped by a checked signature of
    their sequence (see ``_mined``), elsewhere by their ordered lists of activities.
    ``limit`` keeps only the most frequent ones (``cases`` still counts every case).

    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"case_id": ["a", "a", "b", "b", "c"], "activity": ["x", "y", "y", "x", "x"],
    ...     "ts": pd.to_datetime(["2024-01-01"] * 5), "seq": [1, 2, 3, 4, 5]}))
    >>> [(v.activities, v.cases) for v in variants(t).variants]
    [(('x',), 1), (('x', 'y'), 1), (('y', 'x'), 1)]
    """
    mined = _mined(events, with_graph=False) if _is_duckdb(events, default=True) else None
    if mined is None:
        vs = _variants_by_list(events)
        vs.sort(key=lambda v: (-v.cases, v.activities))
    else:
        vs = mined[1]  # sorted already
    total = sum(v.cases for v in vs)
    return Variants(total, vs[:limit] if limit is not None else vs)


def mine(events: Any) -> tuple[Graph, Variants]:
    """``graph(events)`` and ``variants(events)`` from one ordering of the events in one query: on DuckDB
    both the graph and the checked signatures of the variants are aggregated from that ordering (see
    ``_mined``), elsewhere the graph and the lists of activities (see :func:`batch`), instead of ordering
    the cases twice or more."""
    mined = _mined(events, with_graph=True) if _is_duckdb(events, default=True) else None
    if mined is None:  # the graph and the lists of activities in one query, from one ordering
        o = ordered(events)
        g, listed = batch(_graph_plan(o), _variants_plan(o))
        return g, Variants(sum(v.cases for v in listed), sorted(listed, key=lambda v: (-v.cases, v.activities)))
    g, vs = mined
    assert g is not None
    return g, Variants(sum(v.cases for v in vs), vs)


@dataclass(frozen=True)
class SankeyNode:
    step: int  # 0: the chosen step; 1, 2, … after it (forwards) or before it (backwards)
    label: str
    cases: int


@dataclass(frozen=True)
class SankeyLink:
    step: int  # from step ``step`` to ``step + 1``
    source: str
    target: str
    cases: int


@dataclass(frozen=True)
class Sankey(Tabular):
    """Paths from the first occurrence of ``anchor`` in each case, ``steps`` steps forwards (or
    backwards), ``top`` activities a step and the rest as ``other``; a case that ends goes to "left here"
    (backwards: that starts, comes "from nowhere") and stops there."""

    anchor: str
    backwards: bool
    steps: int
    top: int
    cases: int
    nodes: list[SankeyNode] = field(default_factory=list)
    links: list[SankeyLink] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([lk.__dict__ for lk in self.links], columns=["step", "source", "target", "cases"])

    def nodes_frame(self) -> pd.DataFrame:
        return pd.DataFrame([n.__dict__ for n in self.nodes], columns=["step", "label", "cases"])

    def _title(self) -> str:
        way = "before" if self.backwards else "after"
        return f"Paths {way} {self.anchor!r}: {self.cases:,} cases"


def sankey(events: Any, anchor: str, steps: int = 4, top: int = 5, backwards: bool = False) -> Sankey:
    """Sankey paths around the first ``anchor`` of each case that has one (all in the database)."""
    return batch(sankey_plan(events, anchor, steps, top, backwards))[0]


def sankey_plan(events: Any, anchor: str, steps: int = 4, top: int = 5, backwards: bool = False) -> Plan:
    """``sankey`` not yet run (see :func:`batch`)."""
    if steps < 1 or top < 1:
        raise CentricError("sankey: steps and top must be at least 1")
    o = events.mutate(pos=ibis.row_number().over(_case_window()) + 1)
    whole = ibis.window(group_by=CASE)
    o = o.mutate(p0=ibis.ifelse(o[ACTIVITY] == anchor, o.pos, ibis.null("int64")).min().over(whole),
                 plast=o.pos.max().over(whole))
    o = o.filter(o.p0.notnull())
    step = (o.p0 - o.pos) if backwards else (o.pos - o.p0)
    rel = o.select(CASE, ACTIVITY, step=step.cast("int64"))
    rel = rel.filter((rel.step >= 0) & (rel.step <= steps))
    # the explicit end: one step past the case's last (or before its first) event, if within reach
    end_step = o.p0 if backwards else (o.plast - o.p0 + 1)
    ends = o.filter(o.pos == o.p0).select(CASE, **{ACTIVITY: ibis.literal(NOWHERE if backwards else LEFT)},
                                          step=end_step.cast("int64"))
    allrows = rel.union(ends.filter(ends.step <= steps))
    counts = allrows.group_by(["step", ACTIVITY]).aggregate(n=allrows.count())
    is_end = counts[ACTIVITY].isin([LEFT, NOWHERE])
    ranked = counts.mutate(is_end=is_end, rk=ibis.row_number().over(
        group_by="step", order_by=[is_end, ibis.desc("n"), ACTIVITY]))
    keep = ranked.filter((ranked.rk < top) | ranked.is_end | (ranked.step == 0))
    keep = keep.select("step", kept=keep[ACTIVITY])
    lab = allrows.left_join(keep, [allrows.step == keep.step, allrows[ACTIVITY] == keep.kept])
    lab = lab.select(CASE, "step", label=ibis.coalesce(lab.kept, ibis.literal(OTHER)))
    nxt = lab.mutate(to=lab.label.lead().over(group_by=CASE, order_by="step"))
    # every case moves on from step 0 (at worst to the end), so the links give the nodes too
    moves = nxt.filter(nxt.to.notnull())
    return Plan((moves.group_by(["step", "label", "to"]).aggregate(n=moves.count()),),
                lambda rows: _sankey_of(rows, anchor, steps, top, backwards))


def _sankey_of(rows: pa.Table, anchor: str, steps: int, top: int, backwards: bool) -> Sankey:
    links_df = rows.to_pandas()
    node_n: dict[tuple[int, str], int] = {}
    for st, a, b, n in links_df.itertuples(index=False):
        if st == 0:
            node_n[(0, a)] = node_n.get((0, a), 0) + int(n)
        node_n[(int(st) + 1, b)] = node_n.get((int(st) + 1, b), 0) + int(n)
    nodes = sorted((SankeyNode(st, str(lb), n) for (st, lb), n in node_n.items()),
                   key=lambda x: (x.step, x.label in (OTHER, LEFT, NOWHERE), -x.cases, x.label))
    links = sorted((SankeyLink(int(s), str(a), str(b), int(n)) for s, a, b, n in links_df.itertuples(index=False)),
                   key=lambda x: (x.step, -x.cases, x.source, x.target))
    n0 = sum(n.cases for n in nodes if n.step == 0)
    return Sankey(anchor, backwards, steps, top, n0, nodes, links)


@dataclass(frozen=True)
class Loop:
    activity: str
    self_loops: int  # the activity directly repeated (a → a)
    returns: int  # the activity coming back after other activities (a → … → a)
    cases: int  # cases with at least one repetition of the activity

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Loops(Tabular):
    """Activities repeated within a case, most cases first."""

    cases: int
    loops: list[Loop] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame([lp.to_dict() for lp in self.loops], columns=["activity", "self_loops", "returns", "cases"])
        df["share_of_cases"] = df["cases"] / self.cases if self.cases else 0.0
        return df


def loops(events: Any) -> Loops:
    """Repetitions: an event whose activity already occurred earlier in its case is a self-loop when
    the event just before it has the same activity, a return otherwise."""
    return batch(loops_plan(events))[0]


def loops_plan(events: Any) -> Plan:
    """``loops`` not yet run (see :func:`batch`)."""
    o = ordered(events)
    w = ibis.window(group_by=CASE, order_by=[TIME, SEQ])
    occ = ibis.window(group_by=[CASE, ACTIVITY], order_by=[TIME, SEQ])
    o = o.mutate(prev=o[ACTIVITY].lag().over(w), k=ibis.row_number().over(occ))
    rep = o.filter(o.k >= 1)
    agg = rep.group_by(ACTIVITY).aggregate(
        self_loops=(rep.prev == rep[ACTIVITY]).sum(),
        returns=(rep.prev != rep[ACTIVITY]).sum(),
        cases=rep[CASE].nunique())
    return Plan((agg, events.aggregate(total=events[CASE].nunique())), _loops_of)


def _loops_of(rows: pa.Table, total: pa.Table) -> Loops:
    out = [Loop(a, int(s), int(r), int(c)) for a, s, r, c in zip(
        *(rows[k].to_pylist() for k in (ACTIVITY, "self_loops", "returns", "cases")), strict=True)]
    out.sort(key=lambda x: (-x.cases, -(x.self_loops + x.returns), x.activity))
    return Loops(int(total["total"][0].as_py()), out)


@dataclass(frozen=True)
class EdgeDifference:
    source: str
    target: str
    cases_a: int
    share_a: float  # share of group a's cases that take the edge at least once
    cases_b: int
    share_b: float
    difference: float  # share_a − share_b, in percentage points
    z: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class Comparison(Tabular):
    """Edge by edge: the share of each group's cases that take the edge, the pooled two-proportion
    z-test and its p-value adjusted over all edges compared (``correction``)."""

    label_a: str
    label_b: str
    cases_a: int
    cases_b: int
    correction: str
    edges: list[EdgeDifference] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([e.__dict__ for e in self.edges],
                            columns=list(EdgeDifference.__dataclass_fields__))

    def _title(self) -> str:
        return (f"{self.label_a} ({self.cases_a:,} cases) vs {self.label_b} ({self.cases_b:,} cases), "
                f"{self.correction} correction")


def compare(events: Any, group_a: Any, group_b: Any, label_a: str = "a", label_b: str = "b",
            correction: str = "holm") -> Comparison:
    """Compare two sets of cases (Ibis tables with a ``case_id`` column) edge by edge.

    For each edge taken by either group: k of n cases of each group take it at least once; z and p of
    the pooled two-proportion test (``metrics.stats.two_proportions``), adjusted over the edges
    (``metrics.stats.adjust_p``: Holm by default). Edges sorted by adjusted p, then by |difference|.
    """
    return batch(compare_plan(events, group_a, group_b, label_a, label_b, correction))[0]


def compare_plan(events: Any, group_a: Any, group_b: Any, label_a: str = "a", label_b: str = "b",
                 correction: str = "holm") -> Plan:
    """``compare`` not yet run (see :func:`batch`); a group without cases stops ``batch``."""
    ga = group_a.select(CASE).distinct().mutate(grp=ibis.literal("a"))
    gb = group_b.select(CASE).distinct().mutate(grp=ibis.literal("b"))
    groups = ga.union(gb)
    sizes = groups.group_by("grp").aggregate(n=groups.count())
    o = ordered(events)
    pairs = o.filter(o.nxt.notnull()).select(CASE, ACTIVITY, "nxt").distinct()
    pairs = pairs.join(groups, CASE)
    agg = pairs.group_by([ACTIVITY, "nxt", "grp"]).aggregate(k=pairs.count())
    return Plan((sizes, agg), lambda s, a: _comparison_of(s, a, label_a, label_b, correction))


def _comparison_of(sizes: pa.Table, agg: pa.Table, label_a: str, label_b: str, correction: str) -> Comparison:
    n = dict(zip(sizes["grp"].to_pylist(), (int(x) for x in sizes["n"].to_pylist()), strict=True))
    na, nb = n.get("a", 0), n.get("b", 0)
    if not na or not nb:
        raise CentricError(f"compare: {label_a if not na else label_b} has no cases")
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for a, b, g, k in zip(*(agg[c].to_pylist() for c in (ACTIVITY, "nxt", "grp", "k")), strict=True):
        counts.setdefault((a, b), {})[g] = int(k)
    keys = sorted(counts)
    tests = [two_proportions(counts[e].get("a", 0), na, counts[e].get("b", 0), nb) for e in keys]
    adjusted = adjust_p([p for _, p in tests], correction)
    out = []
    for e, (z, p), q in zip(keys, tests, adjusted, strict=True):
        ka, kb = counts[e].get("a", 0), counts[e].get("b", 0)
        sa, sb = ka / na, kb / nb
        out.append(EdgeDifference(e[0], e[1], ka, sa, kb, sb, 100 * (sa - sb), z, p, q, bool(q < ALPHA)))
    out.sort(key=lambda d: (d.p_adjusted, -abs(d.difference), d.source, d.target))
    return Comparison(label_a, label_b, na, nb, correction, out)
