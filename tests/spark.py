"""Spark for the tests: one local[2] session for the whole test session (starting a JVM takes seconds), shared by
every Spark store the tests open (each store has a session of its own on that context).

Needs pyspark (the ``spark`` extra) and a Java runtime (``java``). Without them the Spark tests are skipped with
the reason — unless ``CENTRIC_REQUIRE_SPARK=1`` (set by ``.ci/run``), which makes their absence a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

REQUIRE = "CENTRIC_REQUIRE_SPARK"
MASTER = "local[2]"


def unavailable(reason: str):
    """Skip (or, when Spark is required, fail) with ``reason``."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason} ({REQUIRE}=1: the Spark tests must run)", pytrace=False)
    pytest.skip(reason)


def start_session():
    """Start the session; yields it and stops it afterwards (a generator for a fixture)."""
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed: pip install -e '.[spark]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java runtime (java) for Spark: install Debian's openjdk-17-jre-headless")
    from centric.engines.spark import session

    spark = session(MASTER)
    try:
        yield spark
    finally:
        spark.sparkContext.stop()


def url(lake) -> str:
    return f"spark:{MASTER}?warehouse={lake}"
