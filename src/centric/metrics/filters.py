"""Filters shared by the metrics: ``where`` narrows a metric to some values of some columns, inside the
database (portable Ibis: ``IN`` lists and an ``IN`` subquery on ``customers``).

``where`` maps a column to the values kept, e.g. ``{"channel": ["app", "online"], "segment": ["vip"]}``.
A column of the table itself is compared directly; a customer column (segment, country, city) keeps the
rows whose customer has one of the values. ``"(none)"`` among the values keeps the rows where the column
is empty — the name breakdowns give such a group. A column with no values does not filter.

``council`` is a customer column too, read from the customer council's roster (``centric.council``):
``member`` keeps the rows of customers who are members now, ``former`` those of customers who were and are
not now, ``(none)`` the rest (never a member, or no customer).

>>> normalise({"channel": ["app", ""], "segment": []})
{'channel': ('app',)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import CentricError

CUSTOMER_COLUMNS = ("segment", "country", "city", "council")
NONE = "(none)"
COUNCIL = ("member", "former", NONE)

Where = Mapping[str, Sequence[str]] | None


def normalise(where: Where) -> dict[str, tuple[str, ...]]:
    """The columns that filter, each with its values as text (empty values and columns dropped)."""
    out: dict[str, tuple[str, ...]] = {}
    for col, values in (where or {}).items():
        if isinstance(values, str):
            values = [values]
        vals = tuple(dict.fromkeys(str(v) for v in values if v is not None and str(v) != ""))
        if vals:
            out[str(col)] = vals
    return out


def _keep(col, values: tuple[str, ...]):
    known = [v for v in values if v != NONE]
    cond = col.isin(known) if known else None
    if NONE in values:
        cond = col.isnull() if cond is None else cond | col.isnull()
    return cond


def restrict(store, t, where: Where, local: Sequence[str], what: str, key: str = "customer_id",
             customer_columns: Sequence[str] = CUSTOMER_COLUMNS):
    """``t`` (an Ibis table) with only the rows ``where`` keeps: ``local`` columns are ``t``'s own, the
    ``customer_columns`` are looked up in ``customers`` through ``t[key]``. Any other column is refused
    with a CentricError naming ``what`` is filtered and the columns that can be used."""
    w = normalise(where)
    allowed = [*local, *customer_columns]
    for col in w:
        if col not in allowed:
            raise CentricError(f"cannot filter {what} by {col!r}; use one of: {', '.join(allowed)}")
    for col, values in w.items():
        if col in local:
            t = t.filter(_keep(t[col], values))
    if "council" in w and "council" not in local:
        t = t.filter(council_rows(store, t[key], w["council"]))
    by_customer = {c: v for c, v in w.items() if c not in local and c != "council"}
    if by_customer:
        c = store.table("customers")
        for col, values in by_customer.items():
            c = c.filter(_keep(c[col], values))
        t = t.filter(t[key].isin(c.customer_id))
    return t


def council_rows(store, key, values: tuple[str, ...]):
    """The rows whose customer (``key``) is a council member now, a former member, or neither (``(none)``)."""
    bad = [v for v in values if v not in COUNCIL]
    if bad:
        raise CentricError(f"council: {bad[0]!r} is not one of {', '.join(COUNCIL)}")
    m = store.table("council_members")
    m = m.filter(m.customer_id.notnull())  # erased members: NOT IN over a NULL would keep nothing
    now = m.filter(m.left_on.isnull()).customer_id
    conds = []
    if "member" in values:
        conds.append(key.isin(now))
    if "former" in values:
        conds.append(key.isin(m.customer_id) & ~key.isin(now))
    if NONE in values:
        conds.append(key.isnull() | ~key.isin(m.customer_id))
    cond = conds[0]
    for c in conds[1:]:
        cond = cond | c
    return cond


def describe(where: Where) -> str:
    """The filter as text for messages and titles: ``channel = app, online; segment = vip``."""
    return "; ".join(f"{c} = {', '.join(v)}" for c, v in normalise(where).items())


def choices(store, limit: int = 200) -> dict[str, list[str]]:
    """The values each filter can take in the store (sorted; at most ``limit`` each): ``segment`` of the
    customers, ``channel`` of answers, texts and cases, ``touchpoint`` of answers and texts, ``brand``
    of the feedback texts (``ours`` first), and ``council`` (member, former, (none)) when there is a council."""
    import ibis

    def values(*columns) -> list[str]:
        parts = [store.table(t).select(v=store.table(t)[c].cast("string")) for t, c in columns]
        u = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=True)
        u = u.filter(u.v.notnull() & (u.v != "")).distinct().order_by("v").limit(limit)
        return [str(v) for v in u.execute()["v"]]

    brands = values(("feedback", "brand"))
    return {"segment": values(("customers", "segment")),
            "channel": values(("responses", "channel"), ("feedback", "channel"), ("cases", "channel")),
            "touchpoint": values(("responses", "touchpoint"), ("feedback", "touchpoint")),
            "brand": ["ours", *(b for b in brands if b != "ours")],
            "council": list(COUNCIL) if store.count("council_members") else []}
