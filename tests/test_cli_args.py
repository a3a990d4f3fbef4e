"""Every bad command line ends in `error: …` naming the argument, exit code 2 and no traceback — and
before any work is done."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from centric import Store
from centric.cli import app

# (arguments, what the message must name)
BAD = [
    (["--db", "", "status"], "--db"),
    (["--db", "  ", "runs"], "--db"),
    (["demo", "--customers", "-1"], "--customers"),
    (["demo", "--customers", "9"], "--customers"),
    (["demo", "--lang", "xx"], "--lang"),
    (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--dir", "{tmp}/in.jsonl"], "--dir"),
    (["metrics", "bogus"], "unknown metric 'bogus'"),
    (["metrics", "nps", "--from", "2025-05", "--to", "2025-01"], "--to"),
    (["metrics", "nps", "--from", "2025-02", "--to", "2025-02"], "--to"),
    (["metrics", "csat", "--from", "2025-13"], "--from"),
    (["metrics", "nps", "--to", "yesterday"], "--to"),
    (["metrics", "nps", "--by", "galaxy"], "'galaxy'"),
    (["metrics", "journeys", "--by", "month"], "--by"),
    (["report", "--out", "{tmp}/missing/report.html"], "--out"),
    (["report", "--out", "{tmp}"], "--out"),
    (["report", "--lang", "xx"], "--lang"),
    (["report", "--period", "week"], "--period"),
    (["report", "--from", "2026", "--to", "2025"], "--to"),
    (["rejected", "--limit", "-5"], "--limit"),
    (["rejected", "--limit", "0"], "--limit"),
    (["rejected", "--run", "0"], "--run"),
    (["runs", "--limit", "-5"], "--limit"),
    (["customers", "merges", "--limit", "-5"], "--limit"),
    (["customers", "forget", "nobody@example.com", "--yes"], "'nobody@example.com'"),
    (["customers", "score", "--horizon", "0"], "--horizon"),
    (["customers", "score", "--discount", "-1"], "--discount"),
    (["customers", "score", "--discount", "1.5"], "--discount"),
    (["customers", "score", "--as-of", "2025-13-01"], "--as-of"),
    (["customers", "score", "--model", "pareto"], "--model"),
    (["customers", "alerts", "--threshold", "5"], "--threshold"),
    (["customers", "alerts", "--threshold", "0"], "--threshold"),
    (["customers", "alerts", "--limit", "-5"], "--limit"),
    (["customers", "alerts", "--csv", "{tmp}/missing/alerts.csv"], "--csv"),
    (["customers", "validate", "--calibration-end", "soon"], "--calibration-end"),
    (["customers", "validate", "--calibration-end", "2025-06-01", "--observation-end", "2025-01-01"],
     "--observation-end"),
    (["customers", "validate", "--calibration-end", "2025-06-01", "--unit", "M"], "--unit"),
    (["customers", "reasons", "--threshold", "5"], "--threshold"),
    (["customers", "reasons", "--threshold", "-0.1"], "--threshold"),
    (["customers", "phases", "--period", "week"], "--period"),
    (["drivers", "--reps", "-1"], "--reps"),
    (["drivers", "--period", "week"], "--period"),
    (["drivers", "--performance", "best"], "performance measure 'best'"),
    (["analyze", "--gate", "5"], "--gate"),
    (["analyze", "--gate", "0"], "--gate"),
    (["text", "analyze", "{tmp}/missing.jsonl", "--out", "{tmp}/out.jsonl"], "missing.jsonl"),
    (["text", "analyze", "{tmp}/in.jsonl", "--out", "{tmp}/missing/out.jsonl"], "--out"),
    (["text", "flagged", "--flag", "spam"], "--flag"),
    (["text", "flagged", "--limit", "-5"], "--limit"),
    (["text", "discover", "--clusters", "1"], "--clusters"),
    (["text", "discover", "--seed", "-1"], "--seed"),
    (["text", "discover", "--since", "last week"], "--since"),
    (["text", "discover", "{tmp}/missing.jsonl"], "missing.jsonl"),
    (["text", "discover", "--out", "{tmp}/missing/found.json"], "--out"),
    (["--db", "{tmp}/none.duckdb", "compact"], "no store file"),
]


@pytest.mark.parametrize("args,names", BAD, ids=[" ".join(a) or "empty" for a, _ in BAD])
def test_bad_command_line(tmp_path, args, names):
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": "fine"}\n', encoding="utf-8")
    db = tmp_path / "c.duckdb"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    names = names.replace("{tmp}", str(tmp_path))
    if args[0] != "--db":
        args = ["--db", str(db), *args]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: ") and names in res.output, res.output
    assert "Traceback" not in res.output and (res.exception is None or isinstance(res.exception, SystemExit))
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("var,value", [("CENTRIC_DB", ""), ("CENTRIC_TIMEZONE", "Mars/Phobos"),
                                       ("CENTRIC_SLA_HOURS", "-4"), ("CENTRIC_CURRENCY", "pln"),
                                       ("CENTRIC_DEFAULT_COUNTRY", "UK")])
def test_bad_environment(tmp_path, monkeypatch, var, value):
    """A setting from the environment is checked and named; `centric settings` shows it as invalid."""
    monkeypatch.setenv(var, value)
    res = CliRunner().invoke(app, ["settings"] if var != "CENTRIC_DB" else ["status"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"error: setting {var.removeprefix('CENTRIC_').lower()} (from the environment variable {var})" \
        in res.output, res.output


def test_checks_come_before_the_work(tmp_path):
    """A report to a missing folder fails at once: the store is not even created."""
    db = tmp_path / "c.duckdb"
    res = CliRunner().invoke(app, ["--db", str(db), "report", "--out", str(tmp_path / "no" / "r.html")])
    assert res.exit_code == 2 and not db.exists()


def test_a_small_demo_builds(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--customers", "10", "--dir", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    with Store.open(tmp_path / "d" / "centric.duckdb", read_only=True) as s:
        assert s.count("customers") >= 10 and s.count("orders") > 0 and s.count("responses") > 0
    assert (tmp_path / "d" / "report.html").stat().st_size > 10_000
