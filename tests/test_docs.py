"""Docs that cannot drift: the data model, the commands and the settings are documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from centric import schema, settings
from centric.cli import app
from centric.ingest.columns import targets
from centric.ingest.readers import _norm

ROOT = Path(__file__).resolve().parents[1]


def test_data_model_doc_matches_code():
    doc = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert doc.strip() == schema.markdown().strip(), "run: make docs"


def test_public_names_are_kept():
    assert {"customers", "identities", "orders", "responses", "feedback", "events", "cases", "case_events",
            "ingest_runs", "rejected_rows"} <= set(schema.TABLES)
    assert "amount" in schema.TABLES["orders"].column_names
    assert {"text", "language"} <= set(schema.TABLES["feedback"].column_names)


@pytest.mark.parametrize("table", [t for t in schema.TABLES.values() if t.ingestable], ids=lambda t: t.name)
def test_no_source_name_means_two_columns(table):
    seen: dict[str, str] = {}
    for name, col in targets(table).items():
        for alias in {_norm(col.name), *(_norm(a) for a in col.aliases)}:
            assert seen.setdefault(alias, name) == name, f"{table.name}: {alias!r} names {seen[alias]} and {name}"


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    out = [prefix + (c.name or c.callback.__name__).replace("_", "-") for c in group.registered_commands]
    for sub in group.registered_groups:
        out += _commands(sub.typer_instance, prefix + sub.name + " ")
    return out


def test_every_command_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for cmd in _commands(app):
        assert re.search(rf"`centric {re.escape(cmd)}\b", doc), f"docs/cli.md does not document 'centric {cmd}'"


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for s in settings.SETTINGS.values():
        assert f"`{s.name}`" in doc and s.env in doc, f"setting {s.name} is not in docs/cli.md"


def test_readme_shows_the_two_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen
