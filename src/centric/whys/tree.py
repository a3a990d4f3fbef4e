"""The 5-whys tree of a problem, computed by drilling down from a factor customers complain about to the
root causes recorded when the cases it caused were closed.

The problem is a factor (typically one in the action matrix's "fix" quadrant): the negative mentions of it
in the texts about our brand (survey comments and feedback) in [start, end). Each level asks "why?" once
more and splits its parent's evidence:

1. **what customers say** — the factor's negative sentences clustered into sub-topics
   (``centric.text.discovery.clusters``; by default over TF-IDF vectors of character n-grams, which is
   quick and repeatable; any embedder, such as the multilingual sentence encoder, may be passed);
2. **where in the journey** — the touchpoint of each text of the sub-topic (the survey's or the feedback's),
   or else the touchpoint of the customer's last journey event in the 30 days before the text;
3. **which department** — the cases those texts opened or joined (``case_signals``), by department;
4. **root cause** — the root cause and sub-cause recorded when those cases were closed.

Every node has its count ``n`` (sentences at level 1, texts at level 2, cases below), its ``share`` of its
parent (with the Wilson 95% interval), a ``baseline`` and its significance: the sub-topics against an even
split (1/k of the sentences each, exact binomial test), the other levels against the same value's share
among the rest of the population (every text with a negative mention of any factor, the cases those texts
opened, the closed ones with a root cause): a pooled two-proportion z-test, one-sided (above the baseline),
the p-values of the whole tree corrected together by Holm's method. Its evidence is the ids of the rows it
counts (up to ``evidence`` of each kind) and up to three quotes with personal data masked.

Leaves are marked: **root cause** — a recorded root cause (or sub-cause) with at least ``min_cases`` cases,
at least ``min_share`` % of its parent's cases and significantly above its baseline; **expected** — a branch
that is normal background (not significantly above its baseline, or a recorded cause below those bars);
**open** — above its baseline yet with no recorded root cause behind it: the analyst decides (the web app
lets them mark it).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..cases.store_io import only
from ..errors import CentricError
from ..metrics import stats
from ..store import Store

LEVELS = ("drop", "problem", "factor", "says", "where", "department", "cause")
VERDICTS = ("root cause", "expected", "open")
UNITS = {"drop": "answers", "problem": "sentences", "factor": "answers", "says": "sentences", "where": "texts", "department": "cases", "cause": "cases"}
UNKNOWN = "(unknown)"
WINDOW_DAYS = 30  # a journey event this long before a text places it in the journey


@dataclass
class Node:
    """One node of the tree. ``share``/``baseline``/``low``/``high`` in percent; ``p`` Holm-corrected."""

    id: str
    level: str
    label: str
    key: str | None = None
    n: int = 0
    share: float | None = None
    low: float | None = None
    high: float | None = None
    baseline: float | None = None
    p: float | None = None
    significant: bool = False
    verdict: str | None = None  # leaves only: "root cause", "expected" or "open"
    note: str = ""  # the analyst's annotation (saved trees)
    other: int = 0  # rows of the parent's evidence in children too small to show
    impact: float | None = None  # a drop tree's factor: points of the metric its growing blame cost
    evidence: dict[str, list[str]] = field(default_factory=dict)  # "texts", "events", "cases", "case_events"
    quotes: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return UNITS.get(self.level, "")

    def walk(self, depth: int = 0, parent: str | None = None):
        """(node, depth, parent id) of this node and every node below it, depth first."""
        yield self, depth, parent
        for c in self.children:
            yield from c.walk(depth + 1, self.id)

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"id": self.id, "level": self.level, "label": self.label, "key": self.key, "n": self.n,
                "unit": self.unit, "share": clean(self.share), "low": clean(self.low), "high": clean(self.high),
                "baseline": clean(self.baseline), "p": clean(self.p), "significant": self.significant,
                "verdict": self.verdict, "note": self.note, "other": self.other, "impact": clean(self.impact),
                "evidence": {k: list(v) for k, v in self.evidence.items()}, "quotes": list(self.quotes),
                "children": [c.to_dict() for c in self.children]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Node:
        return cls(id=str(d["id"]), level=str(d.get("level") or "cause"), label=str(d.get("label") or ""),
                   key=d.get("key"), n=int(d.get("n") or 0), share=d.get("share"), low=d.get("low"),
                   high=d.get("high"), baseline=d.get("baseline"), p=d.get("p"),
                   significant=bool(d.get("significant")), verdict=d.get("verdict"), note=str(d.get("note") or ""),
                   other=int(d.get("other") or 0), impact=d.get("impact"),
                   evidence={str(k): [str(x) for x in v] for k, v in (d.get("evidence") or {}).items()},
                   quotes=[str(q) for q in d.get("quotes") or []],
                   children=[cls.from_dict(c) for c in d.get("children") or []])


@dataclass
class WhysTree:
    """A 5-whys tree: the problem (``factor``), the period and the settings it was computed with."""

    factor: str
    root: Node
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def nodes(self) -> list[Node]:
        return [n for n, _, _ in self.root.walk()]

    def find(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes() if n.id == node_id), None)

    def leaves(self) -> list[Node]:
        return [n for n in self.nodes() if not n.children]

    def root_causes(self) -> list[Node]:
        return [n for n in self.leaves() if n.verdict == "root cause"]

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None, "settings": self.settings, "notes": self.notes,
                "tree": self.root.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WhysTree:
        def when(v):
            return dt.datetime.fromisoformat(v) if v else None

        return cls(str(d["factor"]), Node.from_dict(d["tree"]), when(d.get("start")), when(d.get("end")),
                   dict(d.get("settings") or {}), [str(x) for x in d.get("notes") or []])

    def to_frame(self) -> pd.DataFrame:
        """One row per node, depth first: id, parent, depth, level, label, n, unit, share, interval, baseline,
        p, significant, verdict, evidence counts."""
        rows = []
        for n, depth, parent in self.root.walk():
            rows.append({"id": n.id, "parent": parent, "depth": depth, "level": n.level, "label": n.label, "key": n.key,
                         "n": n.n, "unit": n.unit, "share": n.share, "low": n.low, "high": n.high,
                         "baseline": n.baseline, "p": n.p, "significant": n.significant, "verdict": n.verdict,
                         "impact": n.impact,
                         "texts": len(n.evidence.get("texts", [])), "cases": len(n.evidence.get("cases", []))})
        return pd.DataFrame(rows)

    def figure(self):
        """The tree as a Plotly icicle: each node's area its count, its colour its verdict."""
        import plotly.graph_objects as go

        df = self.to_frame()
        colours = {"root cause": "#c0392b", "open": "#e67e22", "expected": "#95a5a6"}
        return go.Figure(go.Icicle(
            ids=df["id"], parents=df["parent"].fillna(""), labels=df["label"], values=df["n"],
            branchvalues="remainder", marker={"colors": [colours.get(v, "#3d6fb6") for v in df["verdict"]]},
            hovertemplate="%{label}<br>n = %{value}<extra></extra>"))


# -- data -----------------------------------------------------------------------------------------------


def _mentions(store: Store, taxonomy: str | None, start, end, where=None) -> pd.DataFrame:
    from ..drivers.analysis import OURS, mentions_frame

    m = mentions_frame(store, taxonomy, where=where, start=start, end=end)
    m = m[m["brand"] == OURS]
    # in a fixed order (the engine returns rows in any): the sentences are clustered in this order
    keys = [c for c in ("source", "text_id", "sentence", "factor", "sentiment") if c in m.columns]
    return m.sort_values(keys, kind="stable").reset_index(drop=True)


def _among(t, keys: pd.DataFrame) -> Any:
    """The rows of Ibis table ``t`` whose (source, text_id) is one of ``keys``' rows: a join with the distinct keys
    as an in-memory table; where no temporary table may be made (the web app's readers on PostgreSQL), a filter
    with each source's ids inline (the same rows)."""
    from ..engines import in_scratch, temp_tables, values_table

    k = keys[["source", "text_id"]].astype(str).drop_duplicates()
    if temp_tables(t):
        return t.join(ibis.memtable(k), ["source", "text_id"])
    if in_scratch(t):  # a read-only PostgreSQL session inside whys()'s own transaction: a table of the keys
        return t.join(values_table(t._find_backend(), k), ["source", "text_id"])
    among = ibis.literal(False)
    for source, ids in k.groupby("source")["text_id"]:
        among |= (t.source == source) & t.text_id.isin(ids.tolist())
    return t.filter(among)


def _texts(store: Store, keys: pd.DataFrame, with_text: bool) -> pd.DataFrame:
    """source, text_id, customer_id, at, touchpoint (and text, author) of the texts in ``keys``."""
    r, f = store.table("responses"), store.table("feedback")
    cols = {"source": "string", "text_id": "string", "customer_id": "string", "at": "timestamp",
            "touchpoint": "string", "text": "string", "author": "string"}
    rt = r.select(source=ibis.literal("responses"), text_id=r.response_id, customer_id=r.customer_id,
                  at=r.responded_at, touchpoint=r.touchpoint, text=r.comment if with_text else ibis.null(),
                  author=ibis.null())
    ft = f.select(source=ibis.literal("feedback"), text_id=f.feedback_id, customer_id=f.customer_id, at=f.posted_at,
                  touchpoint=f.touchpoint, text=f.text if with_text else ibis.null(),
                  author=f.author if with_text else ibis.null())
    common = ibis.schema(cols)
    t = rt.cast(common).union(ft.cast(common))
    # in a fixed order (the engine returns rows in any): the sub-topics depend on the order of the sentences
    return _among(t, keys).execute().sort_values(["source", "text_id"], kind="stable").reset_index(
        drop=True)


def _journey_points(store: Store, texts: pd.DataFrame) -> pd.DataFrame:
    """source, text_id, where, event_id: the text's touchpoint, else that of the customer's last journey
    event in the ``WINDOW_DAYS`` before it (that event's id), else ``UNKNOWN``."""
    from ..engines import temp_tables

    out = texts[["source", "text_id"]].copy()
    out["where"], out["event_id"] = texts["touchpoint"].where(texts["touchpoint"].notna(), None), None
    todo = texts[texts["touchpoint"].isna() & texts["customer_id"].notna()]
    if len(todo) and not temp_tables(store.ibis):  # a read-only PostgreSQL session: joined here
        last = _last_events(store, todo)
    elif len(todo):
        e = store.table("events")
        t = ibis.memtable(todo[["source", "text_id", "customer_id", "at"]].astype({"at": "datetime64[us]"}))
        j = t.join(e, [t.customer_id == e.customer_id, e.occurred_at <= t.at,
                       e.occurred_at >= t.at - ibis.interval(days=WINDOW_DAYS)])
        rank = ibis.row_number().over(group_by=[j.source, j.text_id],
                                      order_by=[ibis.desc(j.occurred_at), ibis.desc(j.event_id)])
        last = (j.mutate(rank=rank).filter(lambda x: x["rank"] == 0)
                .select("source", "text_id", "event_id", where=j.touchpoint.fill_null(j.stage)).execute())
    if len(todo):
        found = last.set_index(["source", "text_id"])
        idx = pd.MultiIndex.from_frame(out[["source", "text_id"]])
        hit = idx.isin(found.index) & out["where"].isna().to_numpy()
        sub = found.reindex(idx[hit])
        out.loc[hit, "where"] = sub["where"].to_numpy()
        out.loc[hit, "event_id"] = sub["event_id"].to_numpy()
    out["where"] = out["where"].fillna(UNKNOWN).astype(str)
    return out


def _last_events(store: Store, todo: pd.DataFrame) -> pd.DataFrame:
    """:func:`_journey_points`' join of the texts ``todo`` with their customers' last journey events, in pandas (for a
    session that makes no in-memory table): source, text_id, event_id, where."""
    e = store.table("events")
    ev = only(e, "customer_id", todo["customer_id"].astype(str)).select(
        "customer_id", "occurred_at", "event_id", where=e.touchpoint.fill_null(e.stage)).execute()
    j = todo[["source", "text_id", "customer_id", "at"]].astype({"at": "datetime64[us]"}).merge(ev, on="customer_id")
    at, occurred = j["at"], pd.to_datetime(j["occurred_at"])
    j = j[(occurred <= at) & (occurred >= at - pd.Timedelta(days=WINDOW_DAYS))]
    j = j.sort_values(["occurred_at", "event_id"], ascending=False, kind="stable")
    return j.drop_duplicates(["source", "text_id"])[["source", "text_id", "event_id", "where"]]


def _cases(store: Store, keys: pd.DataFrame) -> pd.DataFrame:
    """source, text_id, case_id, department, root_cause, root_sub_cause, closed, closing_event of the cases the
    texts in ``keys`` opened or joined."""
    s, c, ev = store.table("case_signals"), store.table("cases"), store.table("case_events")
    linked = _among(s.select(source=s.source_table, text_id=s.signal_id, case_id=s.case_id), keys)
    j = linked.join(c, "case_id").select(
        "source", "text_id", "case_id", department=c.department.fill_null(UNKNOWN), root_cause=c.root_cause,
        root_sub_cause=c.root_sub_cause, closed=c.closed_at.notnull())
    closing = ev.filter(ev.kind == "closed")
    rank = ibis.row_number().over(group_by=closing.case_id, order_by=[ibis.desc(closing.occurred_at),
                                                                       ibis.desc(closing.case_event_id)])
    closing = closing.mutate(rank=rank).filter(lambda x: x["rank"] == 0).select(
        "case_id", closing_event="case_event_id")
    return j.left_join(closing, "case_id").select(
        "source", "text_id", "case_id", "department", "root_cause", "root_sub_cause", "closed",
        "closing_event").execute().sort_values(["source", "text_id", "case_id"], kind="stable").reset_index(drop=True)


def _masked_quotes(sentences: list[tuple[str, str | None, str | None]], k: int = 3, width: int = 160) -> list[str]:
    """Up to ``k`` distinct sentences, personal data masked (``sentences``: (sentence, customer name, author))."""
    from ..text.masking import mask_personal

    out: list[str] = []
    seen: set[str] = set()
    for s, name, author in sentences:
        s = mask_personal(" ".join(str(s).split()), names=[name, author])
        key = s.casefold().strip(" .!?")
        if not s or key in seen:
            continue
        seen.add(key)
        out.append(s if len(s) <= width else s[: width - 1].rsplit(" ", 1)[0] + "…")
        if len(out) == k:
            break
    return out


# -- sub-topics -----------------------------------------------------------------------------------------


def tfidf_vectors(sentences: list[str], dims: int = 32, features: int = 2000, seed: int = 0) -> np.ndarray:
    """Unit vectors of ``sentences`` from TF-IDF of their character 3–5-grams (the ``features`` most frequent),
    reduced to ``dims`` dimensions (truncated SVD): a quick stand-in for sentence embeddings, good at telling
    one wording from another, blind to a wording's translation."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                        max_features=features).fit_transform(sentences)
    d = min(dims, x.shape[1] - 1, x.shape[0] - 1)
    v = TruncatedSVD(n_components=d, n_iter=2, random_state=seed).fit_transform(x) if d >= 2 else x.toarray()
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def subtopics(sentences: list[str], languages: list[str] | None = None, k: int | None = None, seed: int = 0,
              embedder=None, min_size: int = 3) -> list[tuple[Any, np.ndarray]]:
    """The sentences clustered into sub-topics (``centric.text.discovery.clusters``): (candidate, indices),
    largest first. ``k``: how many (default: √(n/2), between 2 and 12); ``embedder``: an object with
    ``encode(list[str])`` (default: ``tfidf_vectors``)."""
    from ..text.discovery import clusters

    if len(sentences) < max(2, min_size):
        return []
    langs = languages or [""] * len(sentences)
    # each distinct (sentence, language) once, weighted by how often it occurs
    pairs = pd.DataFrame({"s": [" ".join(x.casefold().split()) for x in sentences], "l": langs})
    codes, uniques = pd.factorize(pairs["s"] + "\x00" + pairs["l"])
    first = pd.Series(range(len(pairs))).groupby(codes).first().to_numpy()
    counts = np.bincount(codes)
    distinct = [sentences[i] for i in first]
    emb = embedder.encode(distinct) if embedder is not None else tfidf_vectors(distinct)
    k = k or max(2, min(12, round(math.sqrt(len(sentences) / 2))))
    found = clusters(distinct, np.asarray(emb), [langs[i] for i in first], k=min(k, len(distinct)), seed=seed,
                     min_size=min_size, n_init=3, weights=counts)
    members = pd.Series(range(len(codes))).groupby(codes).apply(list)
    return [(c, np.sort(np.concatenate([members[j] for j in idx]))) for c, idx in found]


# -- the tree -------------------------------------------------------------------------------------------


def _key(df: pd.DataFrame) -> pd.Series:
    return df["source"].astype(str) + ":" + df["text_id"].astype(str)


@dataclass
class _Build:
    """What every level of one tree needs: the factor's sentences, the population's journey points and
    cases, the tests made so far and the settings."""

    sent: pd.DataFrame  # key, sentence, name, author: the factor's negative sentences
    where: pd.DataFrame  # key, where, event_id: every text with a negative mention
    cases: pd.DataFrame  # key, case_id, department, cause, closed, closing_event
    min_support: int
    min_child_share: float
    max_children: int
    evidence: int
    tests: list = field(default_factory=list)

    def quotes(self, keys, pool: pd.DataFrame | None = None) -> list[str]:
        """Quotes of the texts ``keys`` from the sentences of ``pool`` (a sub-topic's; default: all the factor's)."""
        pool = self.sent if pool is None else pool
        sel = pool[pool["key"].isin(set(keys))]
        return _masked_quotes(list(sel[["sentence", "name", "author"]].itertuples(index=False, name=None)))

    def ids(self, values) -> list[str]:
        return sorted({str(v) for v in values if v is not None and v == v})[: self.evidence]

    def evidence_of(self, keys, cases: pd.DataFrame | None = None, events=()) -> dict[str, list[str]]:
        ev = {"texts": self.ids(keys)}
        if len(events):
            ev["events"] = self.ids(events)
        if cases is not None and len(cases):
            ev["cases"] = self.ids(cases["case_id"])
            closing = self.ids(cases["closing_event"])
            if closing:
                ev["case_events"] = closing
        return ev

    def shown(self, counts: pd.Series, n: int, least: int | None = None) -> list[tuple[str, int]]:
        """The values to show as children: at least ``least`` (default ``min_support``) rows and
        ``min_child_share`` % of the parent's, the ``max_children`` largest."""
        least = self.min_support if least is None else least
        big = [(str(v), int(c)) for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
               if c >= least and 100.0 * c / max(n, 1) >= self.min_child_share]
        return big[: self.max_children]


def whys(store: Store, factor: str, start: dt.datetime | None = None, end: dt.datetime | None = None,
         taxonomy: str | None = None, k: int | None = None, embedder=None, min_support: int = 5,
         min_child_share: float = 5.0, min_cases: int = 5, min_share: float = 25.0, max_children: int = 4,
         alpha: float = 0.05, evidence: int = 50, seed: int = 0, names: dict[str, str] | None = None,
         where=None) -> WhysTree:
    """The 5-whys tree of the negative mentions of ``factor`` in the texts about our brand in [start, end)
    (with ``where``, of the texts it keeps: a segment's, a channel's … as in ``centric.metrics.filters``).

    Children with fewer than ``min_support`` rows or less than ``min_child_share`` % of their parent's (or
    beyond the ``max_children`` largest) are counted in their parent's ``other``. ``names``: labels for
    factor ids. Raises CentricError when the factor has no negative mention in the selection."""
    from ..engines import read_write_scratch, temp_tables

    args = (store, factor, start, end, taxonomy, k, embedder, min_support, min_child_share, min_cases, min_share,
            max_children, alpha, evidence, seed, names, where)
    if temp_tables(store.ibis):
        return _whys(*args)
    # a read-only PostgreSQL session: the texts' keys go into temporary tables inside a transaction of its own,
    # rolled back at the end (without one, they are written into the queries)
    with read_write_scratch(store.ibis):
        return _whys(*args)


def _whys(store, factor, start, end, taxonomy, k, embedder, min_support, min_child_share, min_cases, min_share,
          max_children, alpha, evidence, seed, names, where) -> WhysTree:
    m = _mentions(store, taxonomy, start, end, where)
    if not len(m):
        raise CentricError("no analysed text in the selection: run centric analyze first")
    if factor not in set(m["factor"]):
        known = ", ".join(sorted(set(m["factor"])))
        raise CentricError(f"--factor {factor!r}: no text about our brand mentions it in the selection; "
                           f"factors mentioned: {known}")
    neg = m[m["sentiment"] == "negative"]
    mine = neg[neg["factor"] == factor].drop_duplicates(["source", "text_id", "sentence"])
    if not len(mine):
        raise CentricError(f"--factor {factor!r}: no negative mention of it in the selection")
    names = names or {}
    settings = {"taxonomy": taxonomy, "k": k, "embedder": getattr(embedder, "name", "tfidf"),
                "min_support": min_support, "min_child_share": min_child_share, "min_cases": min_cases,
                "min_share": min_share, "max_children": max_children, "alpha": alpha, "seed": seed,
                "window_days": WINDOW_DAYS}

    # the texts: every text with a negative mention (the population), and the factor's sentences
    pop = neg[["source", "text_id"]].drop_duplicates()
    texts = _texts(store, mine[["source", "text_id"]], with_text=True)
    where = _plain(_journey_points(store, _texts(store, pop, with_text=False)))
    where["key"] = _key(where)
    cases = _plain(_cases(store, pop))
    cases["key"] = _key(cases)
    cases["cause"] = _cause(cases)
    who = _customer_names(store, texts["customer_id"].dropna().unique().tolist())
    from ..text.sentences import sentences_of

    text_of = {(r.source, r.text_id): r for r in texts.itertuples(index=False)}
    split: dict[tuple[str, str], list[str]] = {}
    rows = []
    for r in mine.itertuples(index=False):
        t = text_of.get((r.source, r.text_id))
        if t is None:
            continue
        sents = split.setdefault((r.source, r.text_id), sentences_of(t.text or ""))
        s = sents[r.sentence] if 0 <= r.sentence < len(sents) else (t.text or "")
        rows.append((f"{r.source}:{r.text_id}", " ".join(s.split()), who.get(t.customer_id), t.author))
    sent = _plain(pd.DataFrame(rows, columns=["key", "sentence", "name", "author"]))
    b = _Build(sent, where, cases, min_support, min_child_share, max_children, evidence)

    # the problem: the factor's share of negative mentions against the other factors'
    is_f = m["factor"] == factor
    root = Node("0", "problem", names.get(factor, factor), factor, len(sent),
                evidence=b.evidence_of(sent["key"]), quotes=b.quotes(sent["key"]))
    _score(root, int((m["sentiment"][is_f] == "negative").sum()), int(is_f.sum()),
           int((m["sentiment"][~is_f] == "negative").sum()), int((~is_f).sum()), b.tests)

    # 1. what customers say: the sub-topics of the negative sentences
    found = subtopics(sent["sentence"].tolist(), _languages(store, sent), k=k, seed=seed, embedder=embedder,
                      min_size=max(2, min(min_support, 3)))
    sizes = pd.Series({i: len(idx) for i, (_, idx) in enumerate(found)}, dtype="int64")
    keep = [int(i) for i, _ in b.shown(sizes, len(sent))]
    root.other = len(sent) - int(sizes[keep].sum()) if keep else len(sent)
    for j, i in enumerate(keep):
        cand, idx = found[i]
        rows_ = sent.iloc[idx]
        central = rows_["sentence"].isin(cand.quotes)  # the sentences nearest the sub-topic's centre first
        ordered = pd.concat([rows_[central], rows_[~central]])
        label = " · ".join(cand.terms[:4]) or f"#{j + 1}"
        node = Node(f"0.{j}", "says", label, label, len(idx), evidence=b.evidence_of(rows_["key"]),
                    quotes=_masked_quotes(list(ordered[["sentence", "name", "author"]].itertuples(index=False,
                                                                                                  name=None))))
        _binomial(node, len(idx), len(sent), 1 / len(found), b.tests)
        root.children.append(node)
        _journey(node, set(rows_["key"]), b, rows_)

    adjusted = stats.adjust_p([p for _, p in b.tests], "holm")
    for (node, _), q in zip(b.tests, adjusted, strict=True):
        node.p = q
        node.significant = bool(q < alpha and (node.share or 0) > (node.baseline or 0))
    for node, _, _ in root.walk():
        if not node.children and node is not root:
            node.verdict = _verdict(node, min_cases, min_share)
    notes = []
    if not len(cases):
        notes.append("no case was opened from these texts: the tree stops at where in the journey")
    return WhysTree(factor, root, start, end, settings, notes)


def _journey(parent: Node, keys: set[str], b: _Build, pool: pd.DataFrame) -> None:
    """2. where in the journey: the parent's texts by journey point, each against the point's share among
    every other text with a negative mention."""
    rows = b.where[b.where["key"].isin(keys)]
    n, total = len(rows), b.where["where"].value_counts()
    for j, (value, c) in enumerate(b.shown(rows["where"].value_counts(), n)):
        sub = rows[rows["where"] == value]
        node = Node(f"{parent.id}.{j}", "where", value, value, c,
                    evidence=b.evidence_of(sub["key"], events=sub["event_id"].dropna()),
                    quotes=b.quotes(sub["key"], pool))
        _score(node, c, n, int(total.get(value, 0)) - c, len(b.where) - n, b.tests)
        parent.children.append(node)
        _departments(node, set(sub["key"]), b, pool)
    parent.other = n - sum(c.n for c in parent.children)


def _departments(parent: Node, keys: set[str], b: _Build, pool: pd.DataFrame) -> None:
    """3. which department's cases carry it (the cases the parent's texts opened or joined), and 4. the root
    causes recorded when they were closed (shown from two cases up: whether one is a root cause is the
    verdict's rule)."""
    everyone = b.cases.drop_duplicates("case_id")
    mine = b.cases[b.cases["key"].isin(keys)].drop_duplicates("case_id")
    n, total = len(mine), everyone["department"].value_counts()
    caused_all = everyone[everyone["closed"] & everyone["root_cause"].notna()]
    ctotal = caused_all["cause"].value_counts()
    for j, (dept, c) in enumerate(b.shown(mine["department"].value_counts(), n)):
        sub = mine[mine["department"] == dept]
        node = Node(f"{parent.id}.{j}", "department", dept, dept, c, evidence=b.evidence_of(sub["key"], sub),
                    quotes=b.quotes(sub["key"], pool))
        _score(node, c, n, int(total.get(dept, 0)) - c, len(everyone) - n, b.tests)
        parent.children.append(node)
        caused = sub[sub["closed"] & sub["root_cause"].notna()]
        m = len(caused)
        for i, (cause, x) in enumerate(b.shown(caused["cause"].value_counts(), m, least=min(2, b.min_support))):
            csub = caused[caused["cause"] == cause]
            leaf = Node(f"{node.id}.{i}", "cause", cause, cause, x, evidence=b.evidence_of(csub["key"], csub),
                        quotes=b.quotes(csub["key"], pool))
            _score(leaf, x, m, int(ctotal.get(cause, 0)) - x, len(caused_all) - m, b.tests)
            node.children.append(leaf)
        node.other = m - sum(x.n for x in node.children)
    parent.other = n - sum(x.n for x in parent.children)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its text columns as Python objects (filtering Arrow-backed strings row by row is slow)."""
    return df.astype({c: object for c in df.columns if pd.api.types.is_string_dtype(df[c])})


def _languages(store: Store, sent: pd.DataFrame) -> list[str]:
    a = store.table("text_analyses")
    a = a.select(key=a.source.concat(":", a.text_id), language=a.language)
    got = only(a, "key", sent["key"]).execute().drop_duplicates("key").set_index("key")["language"].to_dict()
    return [str(got.get(x) or "") for x in sent["key"]]


def _customer_names(store: Store, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    c = store.table("customers")
    df = only(c, "customer_id", [str(i) for i in ids]).select("customer_id", "name").execute()
    return {r.customer_id: r.name for r in df.itertuples() if isinstance(r.name, str)}


def _score(node: Node, k: int, n: int, k_rest: int, n_rest: int, tests: list) -> None:
    """The node's share k/n against the rest's k_rest/n_rest (one-sided two-proportion test)."""
    node.share = 100.0 * k / n if n else None
    node.low, node.high = stats.wilson(k, n) if n else (None, None)
    node.baseline = 100.0 * k_rest / n_rest if n_rest else None
    if n and n_rest:
        z, p2 = stats.two_proportions(k, n, k_rest, n_rest)
        tests.append((node, p2 / 2 if z > 0 else 1 - p2 / 2))


def _binomial(node: Node, k: int, n: int, p0: float, tests: list) -> None:
    """The node's share k/n against an even split ``p0`` (exact one-sided binomial test)."""
    from scipy.stats import binomtest

    node.share = 100.0 * k / n if n else None
    node.low, node.high = stats.wilson(k, n) if n else (None, None)
    node.baseline = 100.0 * p0
    if n:
        tests.append((node, float(binomtest(k, n, p0, alternative="greater").pvalue)))


def _cause(df: pd.DataFrame) -> pd.Series:
    """"root cause · sub-cause" (the root cause alone without a sub-cause)."""
    sub = df["root_sub_cause"].where(df["root_sub_cause"].notna(), None)
    return pd.Series([None if not isinstance(c, str) else f"{c} · {s}" if isinstance(s, str) and s.strip() else c
                      for c, s in zip(df["root_cause"], sub, strict=True)], index=df.index, dtype=object)


def _verdict(node: Node, min_cases: int, min_share: float) -> str:
    if node.level == "cause":
        if node.n >= min_cases and (node.share or 0) >= min_share and node.significant:
            return "root cause"
        return "expected"
    return "open" if node.significant else "expected"


def top_fix(drivers) -> str | None:
    """The first factor of the drivers' "fix" quadrant (most important first), or None."""
    if drivers is None or not len(getattr(drivers, "factors", [])):
        return None
    f = drivers.factors
    fix = f[f["quadrant"] == "fix"]
    if not len(fix):
        return None
    order = fix.sort_values("rank") if "rank" in fix else fix
    return str(order["factor"].iloc[0])


def period_bounds(period: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) of a period label: 2025 (a year), 2025-Q3 (a quarter), 2025-07 (a month); None: all the data.

    >>> period_bounds("2025-Q3")
    (datetime.datetime(2025, 7, 1, 0, 0), datetime.datetime(2025, 10, 1, 0, 0))
    >>> period_bounds("2025-12")[1], period_bounds("2024")[0]
    (datetime.datetime(2026, 1, 1, 0, 0), datetime.datetime(2024, 1, 1, 0, 0))
    """
    import re

    if not period:
        return None, None
    p = period.strip()
    m = re.fullmatch(r"(\d{4})(?:-(?:Q([1-4])|(\d{2})))?", p, re.IGNORECASE)
    if not m or (m.group(3) and not 1 <= int(m.group(3)) <= 12):
        raise CentricError(f"--period {period!r}: use a year (2025), a quarter (2025-Q3) or a month (2025-07)")
    year = int(m.group(1))
    if m.group(2):
        first, months = 3 * (int(m.group(2)) - 1) + 1, 3
    elif m.group(3):
        first, months = int(m.group(3)), 1
    else:
        first, months = 1, 12
    start = dt.datetime(year, first, 1)
    k = first - 1 + months
    return start, dt.datetime(year + k // 12, k % 12 + 1, 1)
