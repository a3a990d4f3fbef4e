from __future__ import annotations

from pathlib import Path

import pytest

from centric import Store

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture
def write(tmp_path):
    """write(name, text_or_bytes, encoding='utf-8') -> path"""

    def _write(name: str, content, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return p

    return _write


def rows(store: Store, sql: str, params=None):
    return store.con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """A small demo company, built once through the public path."""
    from rich.console import Console

    from centric.demo import build_demo

    folder = tmp_path_factory.mktemp("demo")
    build_demo(folder, seed=3, n_customers=1500, console=Console(quiet=True))
    s = Store.open(folder / "centric.duckdb")
    yield s
    s.close()
