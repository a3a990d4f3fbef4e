"""The store on Spark: centric's tables as Parquet folders in a lake, read by Spark through Ibis's PySpark
backend — for the analyses at scale (see docs/deploy.md).

The ``db`` setting ``spark:MASTER?warehouse=PATH`` names the Spark master (anything ``spark-submit --master``
accepts: ``local[2]``, ``spark://host:7077``, ``yarn``) and the lake: a folder or URI (``/data/lake``,
``file:///data/lake``, ``hdfs://…``, ``s3a://…``) where each table of ``centric.schema`` is a folder of Parquet
files, ``PATH/TABLE/*.parquet`` (``centric store copy --to spark:…`` writes them from a DuckDB store). A table
without a folder is empty, with the schema's columns and types (:data:`SPARK_TYPES`).

The store is read-only: the analyses read it through ``ibis``/``table(name)``; ``transaction()``,
``con`` and every other write refuse with a :class:`~centric.errors.StoreError` naming what to do instead.
Spark's session time zone is UTC (timestamps are UTC without a time zone, as on DuckDB).

>>> parse_url("spark:local[2]?warehouse=/data/lake")
('local[2]', '/data/lake')
>>> parse_url("spark:spark://head:7077?warehouse=s3a://bucket/lake")
('spark://head:7077', 's3a://bucket/lake')
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote

from .. import schema
from ..errors import StoreError
from ..store import Tables
from . import redact

META = "centric_meta"

SPARK_TYPES = {
    "text": "STRING",
    "integer": "INT",
    "bigint": "BIGINT",
    "number": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "enum": "STRING",
    "json": "STRING",
}
"""centric's logical column types (``schema.SQL_TYPES`` gives DuckDB's) as Spark SQL types."""

LOCAL_SHUFFLE_PARTITIONS = 4  # local mode: a few cores, small shuffles (Spark's default of 200 is for clusters)

_PREFIX = re.compile(r"^spark:", re.IGNORECASE)
_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties").as_uri()


def parse_url(url: str) -> tuple[str, str]:
    """(master, warehouse) of ``spark:MASTER?warehouse=PATH``; a StoreError says what is missing."""
    text = str(url).strip()
    if not _PREFIX.match(text):
        raise StoreError(f"{redact(text)} is not a Spark store; give spark:MASTER?warehouse=PATH "
                         "(for example spark:local[2]?warehouse=/data/lake)")
    rest = text[len("spark:"):]
    master, _, query = rest.rpartition("?") if "?" in rest else (rest, "", "")
    fields = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(fields) - {"warehouse"})
    if unknown:
        raise StoreError(f"{redact(text)}: unknown option {unknown[0]!r}; the Spark store takes only "
                         "warehouse=PATH (spark:MASTER?warehouse=PATH)")
    warehouse = unquote(fields.get("warehouse", [""])[-1]).strip()
    if not master.strip():
        raise StoreError(f"{redact(text)} names no Spark master; give one such as local[2] or spark://host:7077 "
                         "(spark:MASTER?warehouse=PATH)")
    if not warehouse:
        raise StoreError(f"{redact(text)} names no lake; add ?warehouse=PATH, the folder or URI of the tables' "
                         "Parquet folders (spark:MASTER?warehouse=PATH)")
    return master.strip(), warehouse


def table_path(warehouse: str, table: str) -> str:
    """Where a table's Parquet files are: ``WAREHOUSE/TABLE``."""
    return f"{warehouse.rstrip('/')}/{table}"


def session(master: str):
    """A Spark session on ``master`` with centric's settings: UTC, quiet logs, small shuffles in local mode.
    Spark keeps one context per process: a second store in the same process shares it (each store has a session
    of its own on that context, so their tables never mix)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise StoreError("the Spark store needs pyspark: pip install 'centric[spark]' (and a Java 17 runtime)") from e
    builder = (SparkSession.builder.master(master).appName("centric")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG_CONFIG}"))
    if master.startswith("local"):
        builder = (builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
                   .config("spark.ui.enabled", "false"))
        # local Python workers (centric analyze's batch job) run this Python, which has centric, unless set
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        base = builder.getOrCreate()
    except Exception as e:  # py4j, a missing java, a master that cannot be reached
        raise StoreError(f"cannot start Spark on {master}: {_first_line(e)} (is a Java 17 runtime installed and "
                         "the master reachable?)") from e
    base.sparkContext.setLogLevel("ERROR")
    spark = base.newSession()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


class SparkStore(Tables):
    """centric's tables in a lake of Parquet folders, read with Spark. Open it with ``SparkStore.open(url)``."""

    engine = "spark"

    def __init__(self, spark, url: str, master: str, warehouse: str):
        self.spark = spark
        self.url = url
        self.master = master
        self.warehouse = warehouse
        self.path = redact(url)
        self.read_only = True
        self._ibis = None
        self._tables: dict = {}

    @classmethod
    def open(cls, url: str, read_only: bool = True) -> SparkStore:
        """Start (or join) Spark on the URL's master and register each table of the lake as a view."""
        master, warehouse = parse_url(url)
        store = cls(session(master), url, master, warehouse)
        try:
            store.refresh()
        except BaseException:
            store.close()
            raise
        return store

    def refresh(self) -> None:
        """(Re)list the lake's files as views; a local lake's commit left unfinished by a crash is finished first,
        and no commit's renames happen meanwhile (``centric.engines.lake``)."""
        from .lake import opened_for_reading

        self._tables.clear()
        with opened_for_reading(self.warehouse):
            self._register()

    def _register(self) -> None:
        """Each table's folder as a view with the schema's columns and types, given rather than inferred (no job
        reads the files' footers); a table without a folder is an empty view. A lake written by another schema
        version is refused (its columns would not be the schema's)."""
        from pyspark.errors import AnalysisException

        meta = schema.Table(META, "centric's settings", (schema.Column("key", "text", ""),
                                                          schema.Column("value", "text", "")))
        for name, table in ((META, meta), *schema.TABLES.items()):
            columns = ", ".join(f"`{c.name}` {SPARK_TYPES[c.type]}" for c in table.columns)
            try:
                frame = self.spark.read.schema(columns).parquet(table_path(self.warehouse, name))
            except AnalysisException as e:
                if "PATH_NOT_FOUND" not in str(e) and "Path does not exist" not in str(e):
                    raise StoreError(f"cannot read table {name} of the lake {redact(self.warehouse)}: "
                                     f"{_first_line(e)}") from e
                frame = self.spark.createDataFrame([], columns)
            frame.createOrReplaceTempView(name)
            if name == META and self.schema_version != schema.SCHEMA_VERSION:
                fix = ("upgrade centric" if self.schema_version > schema.SCHEMA_VERSION else
                       f"migrate it with centric --db '{self.path}' store migrate (no Spark needed), "
                       "or write into it once (centric ingest)")
                raise StoreError(f"the lake {redact(self.warehouse)} has schema version {self.schema_version}, this "
                                 f"centric reads version {schema.SCHEMA_VERSION}; {fix}")

    # -- schema ---------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        """The schema version the lake was written with (``centric_meta``), or this centric's when absent."""
        rows = self.spark.table(META).where("key = 'schema_version'").collect()
        return int(rows[0]["value"]) if rows else schema.SCHEMA_VERSION

    # -- writing: refused -------------------------------------------------------------------------
    def _refuse(self, what: str) -> StoreError:
        return StoreError(f"the Spark store {self.path} is read-only: {what} is not available on Spark (it runs the "
                          "analyses over the lake); load files into the lake with centric ingest, or write with a DuckDB "
                          "store and copy it into the lake with centric store copy --to spark:… (see docs/deploy.md)")

    @property
    def con(self):
        raise self._refuse("writing through the store's connection")

    def transaction(self):
        raise self._refuse("a transaction")

    def migrate(self) -> None:
        raise self._refuse("migrating the tables")

    def kept_secret(self, name: str) -> str:
        raise self._refuse("keeping a secret key")

    def index_lookups(self) -> None:
        raise self._refuse("indexing")

    # -- reading --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Every table's rows in one Spark job (a job per table costs a second each)."""
        union = " UNION ALL ".join(f"SELECT {i} AS i, count(*) AS n FROM `{name}`"
                                   for i, name in enumerate(schema.TABLES))
        found = {int(r["i"]): int(r["n"]) for r in self.spark.sql(union).collect()}
        return {name: found[i] for i, name in enumerate(schema.TABLES)}

    @property
    def ibis(self):
        """Ibis's PySpark backend over this store's session (for portable read queries)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.pyspark.connect(self.spark)
            self._ibis.compiler = _nulls_apart_compiler()
        return self._ibis

    def close(self) -> None:
        """Drop this store's views; Spark itself stays up for the process (starting it takes seconds)."""
        for name in (META, *schema.TABLES):
            self.spark.catalog.dropTempView(name)
        self._tables.clear()


def _nulls_apart_compiler():
    """Ibis's PySpark compiler with ``isnull``/``notnull`` meaning NULL only, as on DuckDB and PostgreSQL (Ibis's
    own counts a float NaN as null on Spark, which would change which rows an analysis keeps), and epoch seconds
    with their fraction, as DuckDB's ``epoch`` and PostgreSQL's ``extract(epoch …)`` give them (Ibis's
    ``unix_timestamp`` drops it, so a case answered in 10 h 23 min 54.7 s would last 10 h 23 min 54 s)."""
    import ibis.expr.datatypes as dt
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    class NullsApart(PySparkCompiler):
        def visit_IsNull(self, op, *, arg):
            return arg.is_(sge.Null())

        def visit_NotNull(self, op, *, arg):
            return sge.not_(arg.is_(sge.Null()))

        def visit_ExtractEpochSeconds(self, op, *, arg):
            return sge.Div(this=self.f.unix_micros(self.cast(arg, dt.timestamp)), expression=sge.convert(1e6))

    return NullsApart()


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
