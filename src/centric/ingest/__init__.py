"""Listen: data in. ``ingest(table, *sources)`` loads files or DataFrames into the store.

>>> from centric import Store, ingest
>>> import pandas as pd
>>> with Store.open(":memory:") as store:
...     r = ingest("orders", pd.DataFrame({"email": ["a@x.pl"], "data": ["31.12.2025"], "kwota": ["1 234,56"]}),
...                store=store)
...     r[0].rows_stored, store.con.execute("SELECT amount FROM orders").fetchall()[0][0]
(1, 1234.56)
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from ..store import Store
from .columns import Mapping
from .load import IngestResult, ingest_source

__all__ = ["ingest", "IngestResult", "Mapping"]


def ingest(table: str, *sources: Any, store: Store | None = None, db: str | None = None,
           mapping: str | Path | Mapping | None = None, values: dict[str, str] | None = None,
           name: str | None = None, sheet: str | None = None, day_first: str | None = None,
           timezone: str | None = None, default_country: str | None = None,
           currency: str | None = None, replace: bool = False) -> list[IngestResult]:
    """Load each source (a path, or a pandas or polars DataFrame) into ``table``.

    Each source is loaded in its own transaction: it is stored whole (less its rejected rows, which
    go to ``rejected_rows``) or not at all. ``values`` gives constants for columns the source lacks
    (e.g. ``{"source": "review", "brand": "CasaTech"}``). Raises ``IngestError`` when a source cannot
    be loaded at all. ``replace=True`` loads a file loaded before again, replacing what it stored
    then (its rows, its rejected rows, what was derived from them) in the same transaction.
    """
    m = mapping if isinstance(mapping, Mapping) else (Mapping.load(mapping) if mapping else None)
    own = store is None
    if store is None:
        from ..engines import open_store

        st = open_store(db)  # a DuckDB file, or a postgresql:// URL
    else:
        st = store
    try:
        return [
            ingest_source(st, table, src, mapping=m, values=values, name=name, sheet=sheet, day_first=day_first,
                          timezone=timezone, default_country=default_country, currency=currency, replace=replace)
            for src in sources
        ]
    finally:
        if own:
            st.close()


class _CallableModule(types.ModuleType):
    """``centric.ingest`` is both this package (``centric.ingest.readers`` …) and the function
    ``centric.ingest(table, *sources)``."""

    def __call__(self, table: str, *sources: Any, **kwargs: Any) -> list[IngestResult]:
        return ingest(table, *sources, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
