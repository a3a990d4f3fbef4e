"""Routing: which department and which person handle a case, and how urgent it is.

Pure functions over frames (:func:`route`), plus the two reads routing needs from the store (:func:`agent_load`,
:func:`vip_customers`) and the detector of a threat to go public (:func:`go_public`). The rules (docs/cases.md,
"Routing"):

- **Department**: the most specific rule of the routing table that matches the case's factor, country and store
  (a rule's factor counts 4, its store 2, its country 1; equal ones: the earlier rule), else
  ``default_department``; a case without a factor goes to ``triage_department``.
- **Owner**: the least-loaded agent of the department — load = open cases, growing as the batch assigns — ties
  broken round-robin: the agent assigned longest ago (never assigned: first), then by name. A department
  without agents leaves the case unassigned in its queue (owner ``None``).
- **Priority**: the base priority; at least ``high`` from a public channel; one step up for a VIP (the top
  ``vip_share`` of customers by CLV); ``urgent`` when the text carries one of ``urgent_flags``.

>>> import pandas as pd
>>> from centric.cases.model import Department, Route, Routing
>>> table = Routing((Route("delivery_it", factor="delivery", country="IT"), Route("delivery", factor="delivery")),
...                 {"delivery": Department("delivery", ("ann", "bob"))})
>>> cases = pd.DataFrame({"factor": ["delivery", "delivery", "delivery", None], "country": ["PL", "PL", "IT", "PL"],
...                       "channel": ["email", "social", "email", "email"]})
>>> route(cases, table, load={"ann": 1}, last_assigned={})
    department owner priority
0     delivery   bob   normal
1     delivery   ann     high
2  delivery_it  None   normal
3       triage  None   normal
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .model import OPEN, PRIORITY_RANK, Routing

__all__ = ["agent_load", "assign_owners", "go_public", "go_public_many", "route", "vip_customers"]

_PRIORITIES = np.array(list(PRIORITY_RANK), dtype=object)


def route(cases: pd.DataFrame, routing: Routing, load: Mapping[str, int] | None = None,
          last_assigned: Mapping[str, dt.datetime | None] | None = None) -> pd.DataFrame:
    """Department, owner and priority of each case (rows of ``cases``, in the order they are assigned).

    ``cases`` has the columns ``factor`` (None: triage), ``country``, ``store``, ``channel``, ``flags`` (a list of
    text flags per case) and ``vip`` (bool); any of them may be missing (none set). ``load`` is each agent's
    open cases and ``last_assigned`` when each was last given one (:func:`agent_load`); neither is changed."""
    n = len(cases)
    index = cases.index
    department = _departments(cases, routing, n)
    owner = assign_owners(department, routing, load or {}, last_assigned or {})
    priority = _priorities(cases, routing, n)
    return pd.DataFrame({"department": department, "owner": pd.Series(owner, index=index, dtype=object),
                         "priority": priority}, index=index)


def _codes(cases: pd.DataFrame, name: str, n: int) -> tuple[np.ndarray, dict]:
    """A text column factorised: codes (-1 for a missing or empty value) and value → code."""
    if name not in cases.columns:
        return np.full(n, -1, dtype=np.int64), {}
    codes, uniques = pd.factorize(cases[name], use_na_sentinel=True)
    lookup = {v: i for i, v in enumerate(uniques)}
    if "" in lookup:
        codes = np.where(codes == lookup.pop(""), -1, codes)
    return codes, lookup


def _departments(cases: pd.DataFrame, routing: Routing, n: int) -> np.ndarray:
    """The most specific matching rule's department per case (vectorised over factorised columns)."""
    cols = {name: _codes(cases, name, n) for name in ("factor", "country", "store")}
    names = [routing.default_department, routing.triage_department] + [r.department for r in routing.routes]
    out = np.zeros(n, dtype=np.int64)  # names[0]: the default department
    todo = cols["factor"][0] >= 0
    out[~todo] = 1  # a case without a factor goes to triage
    order = sorted(range(len(routing.routes)), key=lambda i: (-routing.routes[i].specificity, i))
    for i in order:
        rule = routing.routes[i]
        mask = todo.copy()
        for name, (codes, lookup) in cols.items():
            value = getattr(rule, name)
            if value is None:
                continue
            if value not in lookup:  # no case in the batch has this value
                mask[:] = False
                break
            mask &= codes == lookup[value]
        if mask.any():
            out[mask] = i + 2
            todo &= ~mask
    return np.array(names, dtype=object)[out]


def _priorities(cases: pd.DataFrame, routing: Routing, n: int) -> np.ndarray:
    rank = np.full(n, PRIORITY_RANK[routing.base_priority], dtype=np.int8)
    top = len(PRIORITY_RANK) - 1
    if "channel" in cases.columns and routing.public_channels:
        public = cases["channel"].isin(routing.public_channels).to_numpy()
        rank[public] = np.maximum(rank[public], PRIORITY_RANK["high"])
    if "vip" in cases.columns:
        vip = cases["vip"].fillna(False).astype(bool).to_numpy()
        rank[vip] = np.minimum(rank[vip] + 1, top)
    if "flags" in cases.columns and routing.urgent_flags:
        each = pd.Series(cases["flags"].to_numpy(dtype=object)).explode()  # one row per flag, by position
        flagged = each.isin(routing.urgent_flags).groupby(level=0).any().to_numpy()
        rank[flagged] = top
    return _PRIORITIES[rank]


# -- owners ------------------------------------------------------------------------------------------


def assign_owners(department: np.ndarray, routing: Routing, load: Mapping[str, int],
                  last_assigned: Mapping[str, dt.datetime | None]) -> np.ndarray:
    """The owner of each case of ``department`` (in order): exactly what assigning them one by one to the
    least-loaded agent would give (ties: assigned longest ago, never first, then by name), the load growing
    and the chosen agent becoming the last assigned with each case — computed per department with NumPy."""
    n = len(department)
    owner = np.full(n, None, dtype=object)
    if not n:
        return owner
    codes, names = pd.factorize(department)
    staffed = {i: routing.departments[d].agents for i, d in enumerate(names)
               if d in routing.departments and routing.departments[d].agents}
    if not staffed:
        return owner
    # round-robin order of the agents' last assignments: never (-1), then dense rank of the time
    stamps = sorted({t for a, t in last_assigned.items() if t is not None and not pd.isna(t)})
    when = {t: i for i, t in enumerate(stamps)}
    last = {a: when[t] if t is not None and not pd.isna(t) else -1 for a, t in last_assigned.items()}
    cur_load = {a: int(v) for a, v in load.items()}
    # an agent in two departments: their assignments interleave, so those departments go one case at a time
    shared = {a for a in {x for agents in staffed.values() for x in agents}
              if sum(a in agents for agents in staffed.values()) > 1}
    slow = [i for i, agents in staffed.items() if shared & set(agents)]
    step = len(stamps)
    for i, agents in staffed.items():
        if i in slow:
            continue
        rows = np.flatnonzero(codes == i)
        seq = _least_loaded(np.array([cur_load.get(a, 0) for a in agents], dtype=np.int64),
                            np.array([last.get(a, -1) for a in agents], dtype=np.int64),
                            np.array(agents, dtype=object), len(rows))
        owner[rows] = np.asarray(agents, dtype=object)[seq]
    if slow:
        rows = np.flatnonzero(np.isin(codes, slow))
        for r in rows:
            agents = staffed[codes[r]]
            a = min(agents, key=lambda x: (cur_load.get(x, 0), last.get(x, -1), x))
            owner[r] = a
            cur_load[a] = cur_load.get(a, 0) + 1
            step += 1
            last[a] = step
    return owner


def _least_loaded(load: np.ndarray, last: np.ndarray, names: np.ndarray, n: int) -> np.ndarray:
    """The agents (indices) given ``n`` cases one by one, each to the least-loaded, ties to the one assigned
    longest ago (``last``: smaller is longer ago), then by name.

    One by one, the loads rise level by level: every agent at load ℓ gets a case before any agent at ℓ + 1.
    At a level, the agents that start there come first (their last assignment predates the batch), in
    (last, name) order, then those that reached it in the batch, in the order they reached it — which is, by
    induction, the agents of higher starting load first. So the k-th case of agent a sits at level
    ``load[a] + k`` at position ``rank[a]`` by (−load, last, name), and the first ``n`` such slots in
    (level, rank) order are the assignment."""
    rank = np.empty(len(load), dtype=np.int64)
    rank[np.lexsort((names.astype(str), last, -load))] = np.arange(len(load))
    lo, hi = int(load.min()), int(load.min()) + n + 1  # slots below level lo: 0 ≤ n < slots below hi

    def below(level: int) -> int:
        return int(np.maximum(level - load, 0).sum())

    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if below(mid) <= n else (lo, mid)
    full = np.maximum(lo - load, 0)  # every slot below level lo is taken
    agent = np.repeat(np.arange(len(load)), full)
    starts = np.repeat(np.cumsum(full) - full, full)
    level = load[agent] + np.arange(len(agent)) - starts
    rest = n - len(agent)  # taken at level lo by the first agents there in rank order
    at_lo = np.flatnonzero(load <= lo)
    extra = at_lo[np.argsort(rank[at_lo], kind="stable")][:rest]
    agent = np.concatenate([agent, extra])
    level = np.concatenate([level, np.full(len(extra), lo, dtype=np.int64)])
    return agent[np.lexsort((rank[agent], level))]


# -- what routing reads from the store -------------------------------------------------------------------


def agent_load(store_or_con) -> tuple[dict[str, int], dict[str, dt.datetime]]:
    """Each owner's open cases and when each person was last given a case (``assigned`` events, and
    ``transferred`` events naming a new owner). Takes a store or the connection of a transaction."""
    con = getattr(store_or_con, "con", store_or_con)
    statuses = ", ".join(f"'{s}'" for s in OPEN)
    load = dict(con.execute(
        f"SELECT owner, count(*) FROM cases WHERE owner IS NOT NULL AND (status IN ({statuses}) OR status IS NULL) "
        "GROUP BY owner").fetchall())
    last = dict(con.execute(
        "SELECT target, max(occurred_at) FROM case_events WHERE kind IN ('assigned', 'transferred') "
        "AND target IS NOT NULL GROUP BY target").fetchall())
    return {str(k): int(v) for k, v in load.items()}, {str(k): v for k, v in last.items()}


def vip_customers(store, share: float) -> set[str]:
    """Customers in the top ``share`` by CLV of the latest scoring (``centric customers score``), ranked
    within each currency: at most ⌊share × n⌋ of a currency's n customers (more only when tied at the border),
    and only a positive CLV. Empty when the customers were never scored."""
    t = store.table("customer_scores")
    latest = t.filter(t.scored_at == t.scored_at.max()).select("customer_id", "clv", "currency").execute()
    if not len(latest):
        return set()
    latest["currency"] = latest["currency"].fillna("")
    group = latest.groupby("currency")["clv"]
    rank = group.rank(method="min", ascending=False)
    keep = (rank <= np.floor(share * group.transform("size") + 1e-9)) & (latest["clv"] > 0)  # 0.29 × 100 = 29
    return set(latest.loc[keep, "customer_id"].astype(str))


# -- a threat to go public ----------------------------------------------------------------------------------

_GO_PUBLIC = re.compile("|".join([
    # English: the press, social media, reviews everywhere; court and lawyers; consumer bodies
    r"\bgo(?:ing)? public\b",
    r"\b(?:will|'ll|going to|gonna|shall)\s+(?:\w+\s+){0,3}?(?:post|share|publish|write|tell|spread|expose|put|"
    r"contact|go|report|take)\b.{0,60}?\b(?:facebook|twitter|instagram|tiktok|youtube|reddit|trustpilot|"
    r"social media|online|internet|everywhere|everyone|every ?body|the press|press|newspapers?|media|"
    r"journalists?|news|tv|court|lawyers?|solicitors?|attorneys?|ombudsman|trading standards|"
    r"consumer (?:protection|rights))\b",
    r"\b(?:go|going|went|take (?:this|it)|taking (?:this|it))\s+to (?:the )?(?:press|media|newspapers|papers|tv|court)\b",
    r"\b(?:sue|suing)\s+(?:you|them|your|the company)\b", r"\bsee you in court\b",
    r"(?<!threatening )(?<!threatened )(?<!threaten )(?<!threatens )\blegal action\b",  # not the company's threat
    r"\bsmall claims\b", r"\bmy (?:lawyer|solicitor|attorney)s?\b(?!\s+friend)", r"\btrading standards\b",
    r"\bombudsman\b", r"\bbetter business bureau\b",
    # Polish
    r"\bpozw(?:ę|e|iemy)\b", r"\bpozew\b", r"\bdo sądu\b", r"\bna drogę sądową\b", r"\bsądow(?:nie|ej|ą)\b",
    r"\bUOKiK\w*", r"\brzecznik\w*\s+(?:praw\s+)?konsument\w*", r"\bnagłośni(?:ę|my|ć|ł\w*)(?!\w)", r"\bmój prawnik\b",
    r"\b(?:do|z)\s+(?:mediów|prasy|telewizji|dziennikarzami|dziennikarzy)\b",
    r"\b(?:opiszę|opisze|napiszę|wrzucę|umieszczę|opublikuję|nagram|zgłoszę|pójdę|poinformuję|dam znać)\b.{0,60}?"
    r"(?:facebook|fb\b|instagram|tiktok|internec|internet|sieci|forum|wszędzie|wszystkim|media|prasy|"
    r"telewizj|opini|youtub|social|prawnik|adwokat|sąd)",
    # Russian
    r"\bв суд\b", r"\bсудебн\w*", r"\bроспотребнадзор\w*", r"\bпрокуратур\w*", r"\bзащиты прав потребителей\b",
    r"\bв сми\b", r"\bжурналист\w*", r"\bмой (?:юрист|адвокат)\b",
    r"\b(?:напишу|выложу|опубликую|расскажу|пожалуюсь|обращусь|пойду|сниму|подам)\b.{0,60}?"
    r"(?:соцсет|сети|интернет|везде|всем|инстаграм|ютуб|youtube|вконтакте|вк\b|отзыв|телевидени|юрист|адвокат)",
    # Italian
    r"\b(?:farò|faccio|faremo|vi faccio)\s+causa\b", r"\bvi denunc\w*", r"\bdenuncerò\b", r"\bsporgerò denuncia\b",
    r"\bil mio avvocato\b", r"\bvie legali\b", r"\btribunale\b", r"\bcodacons\b", r"\baltroconsumo\b",
    r"\bassociazion[ei] (?:dei |di |per i )?consumatori\b", r"\bstriscia la notizia\b", r"\ble iene\b",
    r"\b(?:scriverò|pubblicherò|posterò|racconterò|segnalerò|andrò|mi rivolgerò|contatterò|farò sapere)\b.{0,60}?"
    r"(?:social|facebook|instagram|tiktok|internet|ovunque|a tutti|recension|giornal|televisione|\btv\b|"
    r"avvocat|tribunale|consumatori)",
]), re.I | re.S)


# Every match of _GO_PUBLIC contains one of these (lower-cased) pieces: a cheap first pass that pyarrow runs
# over a whole column in C++ (RE2), so the full expression only reads the texts that may match.
_GO_PUBLIC_PIECES = (
    "public", "court", "lawyer", "solicitor", "attorney", "ombudsman", "legal action", "small claims",
    "trading standards", "better business", "consumer", "facebook", "twitter", "instagram", "tiktok", "youtub",
    "reddit", "trustpilot", "social", "online", "interne", "everywhere", "everyone", "every body", "everybody",
    "press", "papers", "media", "journalist", "news", "tv", "sue", "suing", "pozw", "pozew", "sąd", "uokik",
    "rzecznik", "nagłośn", "prawnik", "mediów", "prasy", "telewizj", "dziennikar", "fb", "sieci", "forum",
    "wszędzie", "wszystkim", "opini", "adwokat", "суд", "роспотребнадзор", "прокуратур", "потребител", "сми",
    "журналист", "юрист", "адвокат", "соцсет", "сети", "интернет", "везде", "всем", "инстаграм", "ютуб",
    "youtube", "вконтакте", "вк", "отзыв", "телевидени", "causa", "denunc", "avvocat", "legali", "tribunale",
    "codacons", "altroconsumo", "consumatori", "striscia", "iene", "ovunque", "a tutti", "recension", "giornal",
    "televisione",
)
_PIECES = "(?i)(?:" + "|".join(re.escape(p) for p in _GO_PUBLIC_PIECES) + ")"


def go_public_many(texts) -> np.ndarray:
    """:func:`go_public` of each text of a sequence (None for a missing text is False), fast for a million:
    a first pass over the whole column in pyarrow keeps the texts that contain a piece every threat has."""
    s = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
    out = np.zeros(len(s), dtype=bool)
    if not len(s):
        return out
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.where(s.map(lambda v: isinstance(v, str)), None).tolist(), type=pa.large_string())
    maybe = pc.fill_null(pc.match_substring_regex(arr, _PIECES), False).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(maybe):
        out[i] = go_public(s.iat[i])
    return out


def go_public(text: str | None) -> bool:
    """Does the text threaten to go public — to social media or reviews everywhere, to the press, to court or a
    lawyer, to a consumer authority (UOKiK, Роспотребнадзор, Codacons …)? English, Polish, Russian, Italian.

    >>> go_public("If this is not fixed by Friday I will post it on Facebook and Google reviews.")
    True
    >>> go_public("Sprawę zgłoszę do UOKiK.")
    True
    >>> go_public("I saw your ad on Facebook and ordered a fridge.")
    False
    """
    return bool(text) and _GO_PUBLIC.search(text) is not None
