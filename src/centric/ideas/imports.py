"""Ideas gathered elsewhere (a suggestion-box export, a spreadsheet from the stores) loaded through the ordinary
ingest: :func:`import_ideas`, what ``centric ideas import`` runs for each file.

What completes a file's load runs inside the ingest's transaction (``centric.ingest.load.AfterLoad``), so the
file is stored with all of it or not at all, on every engine: the imported ideas' defaults (source ``import``,
status ``new``, author kind ``customer``, a factor given by the file marked ``import``), the language of the ideas
without one (detected) and, with ``suggest``, the factor suggested for the ideas without one (the text pipeline's
factor matcher). The suggestion is the one step that may be missing: when the matcher cannot run (an optional
dependency not installed) the file is stored without it and :attr:`IdeasImport.not_suggested` says why.

>>> import pandas as pd
>>> from centric.store import Store
>>> s = Store.open(":memory:")
>>> got = import_ideas(s, pd.DataFrame({"created_at": ["2025-10-01"], "idea": ["Please open on Sundays too"]}),
...                    suggest=False)
>>> got.result.rows_stored, s.execute("SELECT status, source, author_kind, language FROM ideas").fetchall()
(1, [('new', 'import', 'customer', 'en')])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import faults
from ..errors import CentricError
from ..ingest.columns import Mapping
from ..ingest.load import AfterLoad, IngestResult, ingest_source
from ..store import Store
from .box import now

__all__ = ["IdeasImport", "import_ideas"]


@dataclass
class IdeasImport:
    """What :func:`import_ideas` did with one file."""

    result: IngestResult
    languages: int = 0  # ideas whose language was detected
    suggested: int = 0  # ideas that got a suggested factor
    not_suggested: str | None = None  # why no factor could be suggested (None: suggested, or not asked)


def import_ideas(store: Store, source: Any, mapping: Mapping | None = None, values: dict[str, str] | None = None,
                 name: str | None = None, sheet: str | None = None, suggest: bool = True,
                 embedder=None) -> IdeasImport:
    """Load one file (or frame) of ideas, with what completes its load in the same transaction (see the module's
    docstring). ``suggest``: also suggest the factor of the ideas without one (the matcher is run only when the
    file stored ideas). Raises the ingest's errors (``IngestError``) when the file cannot be loaded at all."""
    done: dict[str, Any] = {}

    def complete(st: Store, res: IngestResult) -> None:
        from .suggest import missing_factors, set_languages, store_factors

        st.execute("UPDATE ideas SET source = coalesce(source, 'import'), status = coalesce(status, 'new'), "
                   "author_kind = coalesce(author_kind, 'customer'), "
                   "factor_source = CASE WHEN factor IS NOT NULL THEN coalesce(factor_source, 'import') END, "
                   "updated_at = coalesce(updated_at, ?) WHERE idea_id IN "
                   "(SELECT key FROM ingest_rows WHERE run_id = ? AND table_name = 'ideas')", [now(), res.run_id])
        faults.checkpoint("ideas.import_half_way")
        done["languages"] = set_languages(st)
        if suggest and res.rows_stored:
            try:
                found = missing_factors(st, embedder)
            except CentricError as e:  # the matcher cannot run here: the ideas are stored without it
                done["not_suggested"] = str(e)
            else:
                store_factors(st, found)
                done["suggested"] = len(found)

    res = ingest_source(store, "ideas", source, mapping=mapping, values=values, name=name, sheet=sheet,
                        after_load=AfterLoad(complete))
    return IdeasImport(res, **done)
