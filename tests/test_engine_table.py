"""docs/deploy.md's table of what runs on each engine is the one the tests' capability markers give
(scripts/engine_table.py), so that it cannot drift from them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .engines import ALL, CAPABILITIES, table

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("engine_table", ROOT / "scripts" / "engine_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_cell_is_yes_only_where_a_test_ran_and_none_failed():
    rows = table({"metrics": {"duckdb": "passed", "postgresql": "failed", "spark": "skipped"},
                  "drivers": {"duckdb": "collected", "spark": "passed"}}).splitlines()
    assert rows[0] == "| | DuckDB | PostgreSQL | Spark | notes |" and len(rows) == 2 + len(CAPABILITIES)
    cells = {r.split(" | ")[0][2:]: r.split(" | ")[1:4] for r in rows[2:]}
    assert cells[CAPABILITIES["metrics"][0]] == ["yes", "no", "no"]
    assert cells[CAPABILITIES["drivers"][0]] == ["yes", "no", "yes"]
    assert cells[CAPABILITIES["compact"][0]] == ["no", "no", "no"]


@pytest.mark.slow
def test_the_table_in_docs_deploy_is_what_the_tests_declare():
    script = _script()
    found = script.collect()
    # every capability is shown by some test, and every engine-parametrised known answer is collected per engine
    assert set(found) == set(CAPABILITIES), set(CAPABILITIES) ^ set(found)
    assert all(found[name].get("duckdb") for name in CAPABILITIES)
    assert {e for cells in found.values() for e in cells} == set(ALL)
    have = script.current((ROOT / "docs" / "deploy.md").read_text(encoding="utf-8"))
    assert have == script.render(found), "docs/deploy.md's engine table is stale: run python scripts/engine_table.py"
