"""centric: make a company customer-centric in practice.

Public API::

    from centric import Store, connect, ingest, schema

In a notebook, ``centric.connect()`` opens the store read-only (the CLI keeps working beside it), and
every result has ``to_frame()`` and shows itself as a table::

    from centric.metrics import nps
    with centric.connect("centric.duckdb") as store:
        nps(store, by="touchpoint").to_frame()
"""

from . import (
    ingest,  # a callable module: centric.ingest(table, *sources)
    schema,
)
from .errors import CentricError
from .ingest import IngestResult
from .store import Store, compact, connect

__version__ = "0.1.0"
__all__ = ["Store", "connect", "compact", "ingest", "IngestResult", "schema", "CentricError", "__version__"]
