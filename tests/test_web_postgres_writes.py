"""The web app's and the command line's writes on a PostgreSQL store (the small demo store copied into a
throwaway server, tests/pg.py): surveys added, listed, paused and closed from the command line and the pages,
invitations issued, and the public survey form — an invited link answered exactly once, even under parallel
submits, the anonymous link with its bot quarantine, the refusals counted — with the same answers as on DuckDB."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from centric.cli import app as cli_app

from .engines import DUCK_PG
from .test_web_postgres import pg_client, pg_web, rows  # noqa: F401  (fixtures)

runner = CliRunner()

TOML = """
slug = "after-install"
name = "After installation"
kind = "ces"
touchpoint = "installation"
anonymous = true

[branding]
company = "Kettle"
logo = "logo.svg"
"""


def run(db, *args):
    return runner.invoke(cli_app, ["--db", str(db), *args], catch_exceptions=False)


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_surveys_from_the_command_line_list_as_on_duckdb(pg_web, web_db, tmp_path):
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (tmp_path / "s.toml").write_text(TOML, encoding="utf-8")
    listed = []
    for db in (web_db, pg_web):
        r = run(db, "surveys", "add", str(tmp_path / "s.toml"))
        assert r.exit_code == 0, r.output
        got = json.loads(run(db, "surveys", "list", "--json").output)
        listed.append(got)
    assert listed[0] == listed[1]


def _links(path):
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.capability("surveys", engines=DUCK_PG)
def test_surveys_status_and_invitations_as_on_duckdb(pg_web, web_db, tmp_path):
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (tmp_path / "s.toml").write_text(TOML, encoding="utf-8")
    answers = []
    for db in (web_db, pg_web):
        got = {}
        r = run(db, "surveys", "add", str(tmp_path / "s.toml"))
        assert r.exit_code == 0, r.output
        sid = r.output.split()[1]
        again = run(db, "surveys", "add", str(tmp_path / "s.toml"))
        assert again.exit_code == 2 and "slug 'after-install' exists already" in again.output
        got["pause"] = run(db, "surveys", "pause", "after-install").output
        got["close"] = run(db, "surveys", "close", sid).output
        got["resume"] = run(db, "surveys", "resume", sid.lower()).output
        assert f"{sid} after-install is active" in got["resume"]
        dry = run(db, "surveys", "invite", "after-install", "--segment", "vip", "--dry-run", "--json")
        assert dry.exit_code == 0, dry.output
        got["dry"] = {k: v for k, v in json.loads(dry.output).items() if k != "survey_id"}
        out = tmp_path / f"links-{len(answers)}.csv"
        r = run(db, "surveys", "invite", "after-install", "--segment", "vip", "--out", str(out))
        assert r.exit_code == 0, r.output
        links = _links(out)
        got["links"] = sorted((x["customer_id"], x["language"]) for x in links)
        got["issued"] = r.output.split("invitations to")[0]
        from centric.engines import open_store

        with open_store(db) as store:
            stored = store.execute("SELECT invitation_id, customer_id FROM survey_invitations WHERE survey_id = ?",
                                   [sid]).fetchall()
            got["audit"] = [a for (a,) in store.execute(
                "SELECT action FROM audit_log WHERE object_id = ? ORDER BY audit_id", [sid]).fetchall()]
        assert sorted((str(i), c) for i, c in stored) == sorted((x["invitation_id"], x["customer_id"]) for x in links)
        got["listed"] = [{k: v for k, v in x.items() if k != "survey_id"}
                         for x in json.loads(run(db, "surveys", "list", "--json").output) if x["survey_id"] == sid]
        answers.append(got)
    duck, pg = answers
    assert duck["dry"]["invite"] == len(duck["links"]) > 0  # invite makes as many links as the dry run said
    assert duck["issued"] == f"issued {len(duck['links']):,} "
    assert duck["audit"] == ["survey.add", "survey.pause", "survey.close", "survey.resume", "survey.invite"]
    assert duck["listed"][0]["invitations"] == len(duck["links"])
    assert pg["dry"] == duck["dry"] and pg["links"] == duck["links"] and pg["audit"] == duck["audit"]
    assert pg["listed"] == duck["listed"]
    assert {k: v.replace(pg_web, "") for k, v in pg.items() if k in ("pause", "close", "resume")} == {
        k: v for k, v in duck.items() if k in ("pause", "close", "resume")}
