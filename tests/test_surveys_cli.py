"""centric surveys through the CLI runner: add, list, status, invite (dry run, links, errors), remind, flagged."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from centric import Store
from centric.cli import app
from centric.surveys import tokens

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
    return runner.invoke(app, ["--db", str(db), *args], catch_exceptions=False)


def _setup(tmp_path):
    db = tmp_path / "s.duckdb"
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (tmp_path / "s.toml").write_text(TOML, encoding="utf-8")
    (tmp_path / "c.csv").write_text("customer_id,name,email,segment,language\nK1,Anna,anna@x.pl,vip,pl\n"
                                    "K2,Ugo,ugo@x.it,vip,it\nK3,Zoe,,b2c,en\n", encoding="utf-8")
    assert run(db, "ingest", "customers", str(tmp_path / "c.csv")).exit_code == 0
    return db


@pytest.mark.capability("other commands", engines=("duckdb",))
def test_add_list_and_status(tmp_path):
    db = _setup(tmp_path)
    r = run(db, "surveys", "add", str(tmp_path / "s.toml"))
    assert r.exit_code == 0, r.output
    assert "added SV001 after-install: After installation (CES, installation; en, pl, ru, it; active)" in r.output
    assert "anonymous link: http://127.0.0.1:8000/s/after-install" in r.output
    again = run(db, "surveys", "add", str(tmp_path / "s.toml"))
    assert again.exit_code == 2 and "slug 'after-install' exists already" in again.output
    (tmp_path / "s.toml").write_text(TOML.replace("After installation", "Installed"), encoding="utf-8")
    assert "updated SV001" in run(db, "surveys", "add", str(tmp_path / "s.toml"), "--update").output
    listed = json.loads(run(db, "surveys", "list", "--json").output)
    assert [(x["survey_id"], x["slug"], x["name"], x["kind"], x["status"], x["invitations"]) for x in listed] == [
        ("SV001", "after-install", "Installed", "ces", "active", 0)]
    assert listed[0]["response_rate"] is None
    assert "SV001 after-install is paused" in run(db, "surveys", "pause", "after-install").output
    assert "is closed" in run(db, "surveys", "close", "SV001").output
    assert "is active" in run(db, "surveys", "resume", "sv001").output
    bad = run(db, "surveys", "pause", "nothing")
    assert bad.exit_code == 2 and "error: no survey 'nothing'; surveys: SV001 (after-install)" in bad.output
    (tmp_path / "bad.toml").write_text('slug = "x"\nname = "X"\nkind = "nps"\n[branding]\ncompany = "K"\n'
                                       'primary = "red"\n', encoding="utf-8")
    bad = run(db, "surveys", "add", str(tmp_path / "bad.toml"))
    assert bad.exit_code == 2 and "error: bad.toml: branding.primary: 'red' is not a colour" in bad.output
    with Store.open(db) as s:
        assert s.con.execute("SELECT action FROM audit_log ORDER BY audit_id").fetchall() == [
            ("survey.add",), ("survey.update",), ("survey.pause",), ("survey.close",), ("survey.resume",)]


def test_invite_dry_run_then_links_then_interval(tmp_path):
    db = _setup(tmp_path)
    run(db, "surveys", "add", str(tmp_path / "s.toml"))
    (tmp_path / "who.csv").write_text("email\nANNA@x.pl\nnobody@x.pl\nugo@x.it\nanna@x.pl\n", encoding="utf-8")
    dry = run(db, "surveys", "invite", "after-install", "--customers", str(tmp_path / "who.csv"), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would invite 2 customers to SV001 after-install (1 pl, 1 it); nothing was stored" in dry.output
    assert "skipped 2: 1 no such customer in the store; 1 named earlier in the file" in dry.output
    assert "row 3, column 'email': 'nobody@x.pl': no such customer" in dry.output
    out = tmp_path / "links.csv"
    r = run(db, "surveys", "invite", "after-install", "--customers", str(tmp_path / "who.csv"), "--out", str(out),
            "--base-url", "https://cx.example.com")
    assert r.exit_code == 0 and "issued 2 invitations" in r.output and "skipped 2" in r.output
    with open(out, encoding="utf-8", newline="") as f:
        links = list(csv.DictReader(f))
    assert [(x["email"], x["language"]) for x in links] == [("anna@x.pl", "pl"), ("ugo@x.it", "it")]
    with Store.open(db) as s:
        key = tokens.secret(s)
    for x in links:
        assert x["link"].startswith("https://cx.example.com/s/")
        assert tokens.read(key, x["link"].rsplit("/", 1)[1]) == int(x["invitation_id"])
    seg = run(db, "surveys", "invite", "after-install", "--segment", "vip", "--dry-run", "--json")
    plan = json.loads(seg.output)
    assert plan["invite"] == 0 and plan["skipped"] == {"recently_invited": 2}
    listed = json.loads(run(db, "surveys", "list", "--json").output)[0]
    assert (listed["invitations"], listed["answered"], listed["response_rate"]) == (2, 0, 0.0)


def test_invite_errors(tmp_path):
    db = _setup(tmp_path)
    run(db, "surveys", "add", str(tmp_path / "s.toml"))
    (tmp_path / "x.csv").write_text("who\nK1\n", encoding="utf-8")
    cases = [
        (["--customers", str(tmp_path / "x.csv"), "--out", "l.csv"],
         "x.csv: row 1: needs a column 'customer_id' or 'email'; columns found: 'who'"),
        (["--segment", "gold", "--out", "l.csv"], "--segment: no customer has the segment 'gold'; segments: b2c, vip"),
        (["--segment", "vip"], "give --out links.csv"),
        (["--out", "l.csv"], "give --customers FILE.csv or --segment SEGMENT"),
        (["--segment", "vip", "--out", str(tmp_path / "no" / "l.csv")], "--out: folder"),
        (["--segment", "vip", "--send"], "sending needs a mail server: set smtp_host"),
    ]
    for args, message in cases:
        r = run(db, "surveys", "invite", "after-install", *args)
        assert r.exit_code == 2 and "error: " in r.output and message in r.output, (args, r.output)
    with Store.open(db) as s:
        assert s.count("survey_invitations") == 0


def test_remind_and_flagged(tmp_path):
    db = _setup(tmp_path)
    run(db, "surveys", "add", str(tmp_path / "s.toml"))
    r = run(db, "surveys", "remind", "after-install", "--dry-run")
    assert r.exit_code == 0 and "0 invitations to SV001 after-install are due a reminder" in r.output
    assert "no flagged answers" in run(db, "surveys", "flagged").output
    with Store.open(db) as s:
        s.con.execute("INSERT INTO survey_flagged (flag_id, survey_id, received_at, fields, reasons) VALUES "
                      "('F1', 'SV001', '2026-03-01 10:00', ?, '[\"honeypot\", \"too_fast\"]')",
                      [json.dumps({"score": 2, "comment": "[red]x[/red] <b>", "language": "en"})])
    flagged = json.loads(run(db, "surveys", "flagged", "--json").output)
    assert flagged[0]["flag_id"] == "F1" and flagged[0]["reasons"] == ["honeypot", "too_fast"]
    assert flagged[0]["score"] == 2 and flagged[0]["survey"] == "after-install"
    shown = runner.invoke(app, ["--db", str(db), "surveys", "flagged"], env={"COLUMNS": "200"}).output
    assert "[red]x[/red] <b>" in shown and "1 flagged answers" in shown  # markup shown as text, not applied


def test_invite_send_and_remind_through_a_mail_server(tmp_path, monkeypatch):

    from .test_surveys_mailer import Sink

    db = _setup(tmp_path)
    run(db, "surveys", "add", str(tmp_path / "s.toml"))
    sink = Sink(refuse=["ugo@x.it"])
    try:
        for k, v in {"HOST": "127.0.0.1", "PORT": str(sink.port), "FROM": "cx@kettle.example",
                     "STARTTLS": "false"}.items():
            monkeypatch.setenv(f"CENTRIC_SMTP_{k}", v)
        monkeypatch.delenv("CENTRIC_SMTP_USER", raising=False)
        r = run(db, "surveys", "invite", "after-install", "--segment", "(none)", "--send")
        assert "no customer has the segment '(none)'" in r.output  # everybody has a segment
        r = run(db, "surveys", "invite", "after-install", "--customers", str(tmp_path / "c.csv"), "--send")
        assert r.exit_code == 0, r.output
        assert "issued 2 invitations" in r.output and "1 no e-mail address known (needed to send)" in r.output
        assert "e-mailed 1; 1 not sent:" in r.output and "550" in r.output
        assert [to for to, _ in sink.messages] == [["anna@x.pl"]]
        r = run(db, "surveys", "remind", "after-install")
        assert "0 invitations to SV001 after-install are due a reminder" in r.output
        with Store.open(db) as s:  # as if e-mailed six days ago
            s.con.execute("UPDATE survey_invitations SET sent_at = sent_at - INTERVAL 6 DAY, "
                          "created_at = created_at - INTERVAL 6 DAY")
            assert s.con.execute("SELECT count(*) FROM survey_invitations WHERE sent_at IS NOT NULL").fetchone() == (1,)
        assert "1 invitations to SV001 after-install are due" in run(db, "surveys", "remind", "after-install",
                                                                     "--dry-run").output
        r = run(db, "surveys", "remind", "after-install")
        assert r.exit_code == 0 and "e-mailed 1" in r.output and len(sink.messages) == 2
        assert "due a reminder" in run(db, "surveys", "remind", "after-install").output  # the one reminder only
        assert len(sink.messages) == 2
        with Store.open(db) as s:
            reminded = s.con.execute("SELECT reminded_at FROM survey_invitations WHERE reminded_at IS NOT NULL")
            assert len(reminded.fetchall()) == 1
    finally:
        sink.close()
