"""centric: make a company customer-centric in practice.

Public API::

    from centric import Store, ingest, schema
"""

from . import (
    ingest,  # a callable module: centric.ingest(table, *sources)
    schema,
)
from .errors import CentricError
from .ingest import IngestResult
from .store import Store

__version__ = "0.1.0"
__all__ = ["Store", "ingest", "IngestResult", "schema", "CentricError", "__version__"]
