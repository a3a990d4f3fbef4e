"""Mappings that recode (value tables, formulas, no-answer codes, unknown = drop), `--replace`, the
notes that name the setting that would help, and the exit codes of `centric ingest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from centric import ingest, metrics, schema
from centric.cli import app
from centric.errors import MappingError
from centric.faults import InjectedFault
from centric.ingest import Mapping
from centric.ingest.recode import FormulaError, formula_sql

from .conftest import SHARED, rows
from .engines import all_rows

# A patient survey on the NHS scale: 1 = very good … 5 = very poor, 6 = other, 7 = don't know.
FFT = """Comment ID,Date,FFT categorical answer,FFT answer,Respondent ID
R1,2025-03-01,1,Very kind staff,P1
R2,2025-03-02,1,Quick and clean,P2
R3,2025-03-03,2,Good overall,P3
R4,2025-03-04,5,Waited four hours,P4
R5,2025-03-05,3,,P5
R6,2025-03-06,7,Did not know what to say,P6
R7,2025-03-07,6,Other: the parking,P7
R8,2025-03-08,7,,P8
R9,2025-03-09,4,Rude receptionist,P9
R10,2025-03-10,1,Excellent,P10
"""
# after 6 - x the seven scores 1 1 2 5 3 4 1 are 5 5 4 1 3 2 5: four of seven satisfied (4–5)
FFT_MAPPING = """
[columns]
"Comment ID" = "response_id"
"Date" = "responded_at"
"FFT answer" = "comment"
"Respondent ID" = "crm_id"

[columns."FFT categorical answer"]
to = "csat"
formula = "6 - x"     # 1 = very good … 5 = very poor  ->  5 … 1
missing = [6, 7]      # other, don't know
"""

COMPLAINTS = """Complaint ID,Date received,Product,Company response to consumer
3571115,2020/3/18,Credit reporting,Closed with explanation
3384392,2019/10/2,Debt collection,Closed with monetary relief
3417821,2019/11/5,Mortgage,In progress
3433198,2019/11/20,Credit reporting,Untimely response
3146310,2019/2/7,Student loan,closed with EXPLANATION
"""
COMPLAINTS_MAPPING = """
[columns]
"Complaint ID" = "case_id"
"Date received" = "opened_at"
"Product" = "type"

[columns."Company response to consumer"]
to = "status"
recode = { "Closed with explanation" = "closed", "Closed with monetary relief" = "closed", "In progress" = "in_progress" }
unknown = "drop"
"""

runner = CliRunner()


def cli(db, *args):
    return runner.invoke(app, ["--db", str(db), *args], catch_exceptions=False)


# -- recoding ------------------------------------------------------------------------------------
def test_reversed_scale_with_dont_know_codes(store, write):
    data, mapping = write("fft.csv", FFT), write("fft.toml", FFT_MAPPING)
    r = ingest("responses", data, store=store, mapping=mapping)[0]
    assert (r.rows_read, r.rows_stored, r.rows_rejected) == (10, 9, 1)
    assert r.recoding["csat"] == {"recoded": 7, "blanked": 3, "dropped": 0, "dropped_values": []}
    assert any("7 recoded (6 - x); 3 left empty as no answer (6, 7)" in n for n in r.notes)
    got = dict(rows(store, "SELECT response_id, csat FROM responses"))
    assert got == {"R1": 5, "R2": 5, "R3": 4, "R4": 1, "R5": 3, "R6": None, "R7": None, "R9": 2, "R10": 5}
    # the don't-know answers keep their comments
    assert rows(store, "SELECT comment FROM responses WHERE response_id IN ('R6', 'R7') ORDER BY 1") == [
        ("Did not know what to say",), ("Other: the parking",)]
    # R8 had a don't-know code and no comment: nothing to keep, and the reason says why
    assert rows(store, "SELECT row_number, reason FROM rejected_rows") == [
        (9, "the row has none of: csat, comment (csat held a no-answer code or nothing)")]
    s = metrics.score(store, "csat")
    assert s.n == 7 and s.value == pytest.approx(100 * 4 / 7) and s.mean == pytest.approx(25 / 7)


def test_a_value_table_recodes_the_scale_the_same_way(store, write):
    table = FFT_MAPPING.replace('formula = "6 - x"', 'recode = { 1 = 5, 2 = 4, 3 = 3, 4 = 2, 5 = 1 }')
    ingest("responses", write("fft.csv", FFT), store=store, mapping=write("t.toml", table))
    assert metrics.score(store, "csat").value == pytest.approx(100 * 4 / 7)


def test_status_recode_and_unknown_value_dropped(store, write):
    data = write("complaints.csv", COMPLAINTS)
    r = ingest("cases", data, store=store, mapping=write("c.toml", COMPLAINTS_MAPPING))[0]
    assert (r.rows_stored, r.rows_rejected) == (5, 0)
    assert rows(store, "SELECT case_id, status FROM cases ORDER BY 1") == [
        ("3146310", "closed"), ("3384392", "closed"), ("3417821", "in_progress"), ("3433198", None),
        ("3571115", "closed")]
    assert r.recoding["status"]["recoded"] == 4 and r.recoding["status"]["dropped"] == 1
    assert r.recoding["status"]["dropped_values"] == [("Untimely response", 1)]
    assert any("1 not valid, left empty with the row kept: 'Untimely response' ×1" in n for n in r.notes)


def test_unknown_value_rejects_the_row_by_default_with_the_value_as_written(store, write):
    mapping = write("c.toml", COMPLAINTS_MAPPING.replace('unknown = "drop"', ""))
    r = ingest("cases", write("complaints.csv", COMPLAINTS), store=store, mapping=mapping)[0]
    assert (r.rows_stored, r.rows_rejected) == (4, 1)
    assert rows(store, "SELECT row_number, column_name, value, reason FROM rejected_rows") == [
        (5, "Company response to consumer", "Untimely response",
         "'Untimely response' is not one of: new, open, assigned, in_progress, waiting, resolved, closed")]


def test_a_recoded_value_out_of_range_names_the_value_in_the_file(store, write):
    data = write("s.csv", "id,date,score\nA,2025-01-01,2\nB,2025-01-02,9\n")
    mapping = write("m.toml", '[columns]\nid = "response_id"\ndate = "responded_at"\n'
                              '[columns.score]\nto = "csat"\nformula = "x * 2 + 1"\n')
    r = ingest("responses", data, store=store, mapping=mapping)[0]
    assert rows(store, "SELECT response_id, csat FROM responses") == [("A", 5)]
    assert rows(store, "SELECT value, reason FROM rejected_rows") == [
        ("9", "csat must be a whole number from 1 to 5, got '19' (recoded from '9')")]
    assert r.rows_rejected == 1


@pytest.mark.parametrize("text, sql", [
    ("6 - x", "(6.0 - v)"),
    ("-x + 6", "((-v) + 6.0)"),
    ("(x - 1) * 25", "(((v - 1.0)) * 25.0)"),
    ("x / 2", "(v / nullif(2.0, 0))"),
])
def test_formula_grammar(text, sql):
    assert formula_sql(text, "v") == sql


@pytest.mark.parametrize("text, problem", [
    ("6 - y", "unexpected 'y' at position 5"),
    ("6", "does not use x"),
    ("x / 0", "divides by zero"),
    ("(6 - x", "a parenthesis is not closed"),
    ("x -", "ends too early"),
    ("x x", "unexpected 'x' after a complete expression"),
    ("__import__('os')", "unexpected"),
])
def test_formula_errors(text, problem):
    with pytest.raises(FormulaError, match=problem.replace("(", r"\(")):
        formula_sql(text, "v")


@pytest.mark.parametrize("toml, where, problem", [
    ('[columns.score]\nto = "csat"\nformula = "6 - y"\n', 'columns.score.formula', "unexpected 'y'"),
    ('[columns.score]\nformula = "6 - x"\n', "columns.score.to", "missing; name the centric column"),
    ('[columns.score]\nto = "csat"\nmissng = [6]\n', "columns.score", "unknown key(s) missng"),
    ('[columns.score]\nto = "csat"\nrecode = { "good" = 9 }\n', "columns.score.recode.good",
     "'9' is outside csat's range 1–5"),
    ('[columns."Status X"]\nto = "status"\nrecode = { "Done!" = "finished" }\n',
     'columns."Status X".recode."Done!"', "'finished' is not a value of status"),
    ('[columns.when]\nto = "responded_at"\nmissing = ["n/a"]\n', "columns.when.missing",
     "responded_at is required"),
    ('[columns.score]\nto = "csat"\nunknown = "skip"\n', "columns.score.unknown", 'must be "reject"'),
    ('[columns.c]\nto = "comment"\nformula = "x + 1"\n', "columns.c.formula", "not a number column"),
    ('[columns]\na = "csat"\nb = "csat"\n', "columns.b", "'csat' is already fed by column 'a'"),
    ('[columns]\na = "sctas"\n', "columns.a", "'sctas' is not a column of responses"),
    ('[colums]\na = "csat"\n', "mapping file", "unknown key(s) colums"),
    ('[settings]\nday_first = "maybe"\n', "settings.day_first", "must be one of auto, true, false"),
    ('[columns.score]\nto = "csat"\nrecode = { "1" = 5, " 1" = 4 }\n', 'columns.score.recode." 1"',
     "listed twice"),
])
def test_invalid_mapping_files_say_file_key_and_problem(write, toml, where, problem):
    path = write("bad.toml", toml)
    with pytest.raises(MappingError) as e:
        Mapping.load(path).check(schema.TABLES["cases" if "status" in toml else "responses"])
    msg = str(e.value)
    assert f"mapping file {path}" in msg and where in msg and problem in msg, msg


def test_not_toml_names_the_file_and_line(write):
    path = write("bad.toml", '[columns]\n"a" = \n')
    with pytest.raises(MappingError, match=rf"mapping file {path}: not valid TOML \(.*line 2"):
        Mapping.load(path)


# -- --replace -----------------------------------------------------------------------------------
DATA_TABLES = ["customers", "identities", "responses", "ingest_runs", "ingest_rows", "rejected_rows",
               "text_analyses", "mentions"]


def snapshot(store):
    return {t: all_rows(store, t) for t in DATA_TABLES}


def _analysed(store, *ids):
    for i in ids:
        store.execute("INSERT INTO text_analyses (source, text_id, taxonomy, analyzed_at) "
                      "VALUES ('responses', ?, 'healthcare', now())", [i])
        store.execute("INSERT INTO mentions (source, text_id, sentence, factor, sentiment, taxonomy) "
                      "VALUES ('responses', ?, 0, 'staff', 'positive', 'healthcare')", [i])


def test_replace_reloads_a_file_with_a_better_mapping(store, write):
    data = write("fft.csv", FFT)
    naive = write("naive.toml", FFT_MAPPING.replace('formula = "6 - x"', "").replace("missing = [6, 7]", ""))
    first = ingest("responses", data, store=store, mapping=naive)[0]
    assert (first.rows_stored, first.rows_rejected) == (7, 3)  # 6 and 7 out of range: whole rows lost
    assert metrics.score(store, "csat").value == pytest.approx(100 * 2 / 7)  # the scale read backwards
    _analysed(store, "R1", "R3")
    # the file changes too: R3's comment was corrected, R10 (patient P10) withdrawn
    data.write_text(FFT.replace("Good overall", "Good overall and thank you").replace(
        "R10,2025-03-10,1,Excellent,P10\n", ""), encoding="utf-8")
    again = ingest("responses", data, store=store, mapping=write("fft.toml", FFT_MAPPING), replace=True)[0]
    assert again.replaced_runs == [first.run_id] and again.rows_removed == 7
    assert (again.rows_stored, again.rows_rejected, again.rows_duplicate) == (8, 1, 0)
    assert rows(store, "SELECT count(*) FROM responses") == [(8,)]
    assert metrics.score(store, "csat").value == pytest.approx(100 * 3 / 6)
    # the first run's rejected rows went with it; the run is kept, marked replaced
    assert rows(store, "SELECT run_id, count(*) FROM rejected_rows GROUP BY 1") == [(again.run_id, 1)]
    assert rows(store, "SELECT run_id, status FROM ingest_runs ORDER BY 1") == [
        (first.run_id, "replaced"), (again.run_id, "stored")]
    # R1's text did not change: its analysis stays; R3's changed and R10's went: theirs are removed
    assert rows(store, "SELECT text_id FROM text_analyses") == [("R1",)]
    assert rows(store, "SELECT text_id FROM mentions") == [("R1",)]
    # the customer only R10 brought is gone with its identity; the others keep their ids
    assert rows(store, "SELECT count(*) FROM identities WHERE value = 'P10'") == [(0,)]
    assert rows(store, "SELECT count(*) FROM customers") == [(8,)]
    assert any("customers that only the replaced load had brought were removed" in n for n in again.notes)


@pytest.mark.parametrize("point", ["ingest.replace_half_way", "ingest.after_insert", "ingest.before_commit"])
def test_replace_failing_half_way_leaves_the_store_as_it_was(store, write, monkeypatch, point):
    data = write("fft.csv", FFT)
    naive = write("naive.toml", FFT_MAPPING.replace('formula = "6 - x"', "").replace("missing = [6, 7]", ""))
    ingest("responses", data, store=store, mapping=naive)
    _analysed(store, "R1", "R3")
    before = snapshot(store)
    monkeypatch.setenv("CENTRIC_FAULT", f"{point}:raise")
    with pytest.raises(InjectedFault):
        ingest("responses", data, store=store, mapping=write("fft.toml", FFT_MAPPING), replace=True)
    assert snapshot(store) == before
    monkeypatch.delenv("CENTRIC_FAULT")
    r = ingest("responses", data, store=store, mapping=write("fft.toml", FFT_MAPPING), replace=True)[0]
    assert (r.rows_stored, r.rows_removed) == (9, 7)


def test_loading_again_without_replace_says_replace_exists(store, write):
    data = write("complaints.csv", COMPLAINTS)
    mapping = write("c.toml", COMPLAINTS_MAPPING)
    ingest("cases", data, store=store, mapping=mapping)
    r = ingest("cases", data, store=store, mapping=mapping)[0]
    assert r.status == "already loaded in run 1" and r.rows_stored == 0
    assert "add --replace" in r.notes[0]
    r = ingest("cases", data, store=store, mapping=mapping, replace=True)[0]
    assert (r.rows_stored, r.rows_removed, r.replaced_runs) == (5, 5, [1])
    assert rows(store, "SELECT count(*) FROM cases") == [(5,)]


# -- notes that name the setting that would help ----------------------------------------------------
UK = """customer_id,phone,date,amount
K1,07911 123456,2025-01-03,12.50
K2,020 7123 4567,2025-01-04,£ 30.00
K3,+44 7700 900456,2025-01-05,7.99
K4,0161 234 5678,2025-01-06,5
"""


def test_uk_phones_and_amounts_under_polish_defaults(store, write, monkeypatch):
    monkeypatch.delenv("CENTRIC_DEFAULT_COUNTRY", raising=False)
    monkeypatch.delenv("CENTRIC_CURRENCY", raising=False)
    data = write("uk.csv", UK)
    r = ingest("orders", data, store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (1, 3) and r.partial
    assert rows(store, "SELECT reason FROM rejected_rows WHERE row_number = 2") == [
        ("'07911 123456' is not a phone number (without + or 00 it is read as a number of PL: "
         "see --default-country)",)]
    notes = "\n".join(r.notes)
    assert "3 of 3 checked are valid numbers of GB: load again with --default-country GB" in notes
    assert ("currency: 3 amounts without a currency were read as PLN (the default currency; the file has no "
            "currency column); if they are in another currency, load again with --currency GBP --replace") in notes
    assert "taken from the symbol written with the amount (£, €, zł …) for 1 row" in notes
    r = ingest("orders", data, store=store, default_country="GB", currency="GBP", replace=True)[0]
    assert (r.rows_stored, r.rows_rejected) == (4, 0)
    assert rows(store, "SELECT amount, currency FROM orders ORDER BY amount") == [
        (5.0, "GBP"), (7.99, "GBP"), (12.5, "GBP"), (30.0, "GBP")]
    assert rows(store, "SELECT value FROM identities WHERE kind = 'phone' ORDER BY 1") == [
        ("+441612345678",), ("+442071234567",), ("+447700900456",), ("+447911123456",)]
    assert any("read as GBP (as given" in n for n in r.notes)


def test_amount_symbol_gives_the_currency_when_the_file_has_none(store, write):
    ingest("orders", write("o.csv", "customer_id,date,amount\nA,2025-01-01,€ 10\nB,2025-01-02,12 zł\n"),
           store=store, currency="USD")
    assert rows(store, "SELECT amount, currency FROM orders ORDER BY 1") == [(10.0, "EUR"), (12.0, "PLN")]


def test_currency_notes_count_only_the_amounts_whose_currency_cell_is_empty(store, write):
    # row 2 names its currency; rows 3-5 leave it empty (row 5 holds only spaces), row 3 writes € with the
    # amount; row 6 has no amount (rejected, not counted); row 7's symbol is not looked at, its cell says GBP
    data = write("c.csv", "customer_id,date,amount,currency\nA,2025-01-01,10,EUR\nB,2025-01-02,€ 12,\n"
                          "C,2025-01-03,13,\nD,2025-01-04,14,\"  \"\nE,2025-01-05,,\nF,2025-01-06,£ 15,GBP\n")
    r = ingest("orders", data, store=store, currency="PLN")[0]
    assert (r.rows_stored, r.rows_rejected) == (5, 1)
    assert [n for n in r.notes if n.startswith("currency:")] == [
        "currency: taken from the symbol written with the amount (£, €, zł …) for 1 row",
        "currency: 2 amounts without a currency were read as PLN (as given; their currency cell is empty)"]
    assert rows(store, "SELECT customer_id IS NOT NULL, amount, currency FROM orders ORDER BY amount") == [
        (True, 10.0, "EUR"), (True, 12.0, "EUR"), (True, 13.0, "PLN"), (True, 14.0, "PLN"), (True, 15.0, "GBP")]


def test_mixed_dates_name_the_rows_that_look_month_first(store, write):
    data = write("d.csv", "customer_id,date,amount\nA,31/05/2022,1\nB,15/06/2022,2\nC,1/14/2022,3\n"
                          "D,13/07/2022,4\nE,2/20/2022,5\nF,01/02/2022,6\n")
    r = ingest("orders", data, store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (4, 2)
    assert rows(store, "SELECT row_number, reason FROM rejected_rows ORDER BY 1") == [
        (4, "'1/14/2022' looks month-first, but this column is read day-first (see --day-first false)"),
        (6, "'2/20/2022' looks month-first, but this column is read day-first (see --day-first false)")]
    note = next(n for n in r.notes if n.startswith("column 'date'"))
    assert note.startswith("column 'date': 2 dates look month-first (rows 4, 6: '1/14/2022'), but the column "
                           "is read day-first (as 3 of its dates can only be day-first)")
    assert "use --day-first false" in note
    # the ambiguous 01/02/2022 was read day-first
    assert rows(store, "SELECT CAST(ordered_at AS DATE) FROM orders WHERE amount = 6")[0][0].isoformat() == "2022-02-01"


def test_mostly_month_first_dates_are_read_month_first(store, write):
    data = write("d.csv", "customer_id,date,amount\nA,1/14/2022,1\nB,2/20/2022,2\nC,31/05/2022,3\n"
                          "D,3/30/2022,4\n")
    r = ingest("orders", data, store=store)[0]
    assert (r.rows_stored, r.rows_rejected) == (3, 1)
    assert any("1 date look day-first (rows 4: '31/05/2022')" in n or
               "1 dates look day-first (rows 4: '31/05/2022')" in n for n in r.notes), r.notes


# -- the command line: exit codes and messages ------------------------------------------------------
def test_exit_codes(tmp_path, write):
    db = tmp_path / "x.duckdb"
    ok = cli(db, "ingest", "cases", str(write("c.csv", COMPLAINTS)), "--mapping", str(write("c.toml", COMPLAINTS_MAPPING)))
    assert ok.exit_code == 0, ok.output
    assert "column 'Company response to consumer' → status: 4 recoded; 1 not valid" in ok.output
    again = cli(db, "ingest", "cases", str(tmp_path / "c.csv"), "--mapping", str(tmp_path / "c.toml"))
    assert again.exit_code == 0 and "add --replace" in again.output
    # most rows rejected (an unmapped status): 3, and the note points to recoding
    bare = write("bare.toml", '[columns]\n"Complaint ID" = "case_id"\n"Date received" = "opened_at"\n'
                              '"Company response to consumer" = "status"\n')
    part = cli(tmp_path / "y.duckdb", "ingest", "cases", str(tmp_path / "c.csv"), "--mapping", str(bare))
    assert part.exit_code == 3
    assert "only 1 of 5 rows were stored" in part.output and "recode" in part.output
    # nothing stored: 1
    none = cli(tmp_path / "z.duckdb", "ingest", "orders", str(write("n.csv", "customer_id,date,amount\nA,x,1\n")))
    assert none.exit_code == 1 and "nothing could be stored" in none.output
    # an invalid mapping file or setting is a usage error: 2, before anything is read
    bad = cli(db, "ingest", "cases", str(tmp_path / "c.csv"), "--mapping", str(write("b.toml", "[colums]\n")))
    assert bad.exit_code == 2 and "unknown key(s) colums" in bad.output
    assert cli(db, "ingest", "orders", str(tmp_path / "n.csv"), "--timezone", "Mars/Phobos").exit_code == 2
    assert cli(db, "ingest", "orders", str(tmp_path / "n.csv"), "--default-country", "GBR").exit_code == 2
    # --strict: any rejected row gives 3
    strict = cli(tmp_path / "s.duckdb", "ingest", "cases", str(tmp_path / "c.csv"), "--mapping",
                 str(write("r.toml", COMPLAINTS_MAPPING.replace('unknown = "drop"', ""))), "--strict")
    assert strict.exit_code == 3


def test_json_output_carries_recoding_and_notes(tmp_path, write):
    res = cli(tmp_path / "j.duckdb", "ingest", "responses", str(write("fft.csv", FFT)), "--mapping",
              str(write("fft.toml", FFT_MAPPING)), "--json")
    got = json.loads(res.output)[0]
    assert got["recoding"]["csat"]["blanked"] == 3 and got["rows_stored"] == 9
    assert any("6 - x" in n for n in got["notes"])


# -- the example mapping files of docs/, on the real files they were written for ------------------------
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
NHS = SHARED / "nhs_fft_patient_feedback_en" / "v6framework_230831.csv"
CFPB = SHARED / "cfpb_complaints_sample" / "complaints_sample.csv"


@pytest.mark.parametrize("name, table", [("nhs-fft-responses.toml", "responses"),
                                         ("cfpb-complaints-cases.toml", "cases")])
def test_example_mappings_are_valid(name, table):
    Mapping.load(EXAMPLES / name).check(schema.TABLES[table])


@pytest.mark.skipif(not NHS.exists(), reason="the NHS patient feedback file is not in ../shared/data")
def test_nhs_file_loads_the_right_way_round(store):
    r = ingest("responses", NHS, store=store, mapping=EXAMPLES / "nhs-fft-responses.toml")[0]
    # 5,523 comments: 309 answered 6 or 7 (no score, comment kept unless empty); 214 dates can only be
    # month-first in a day-first column and are rejected with that reason
    assert r.recoding["csat"]["blanked"] == 309 and r.recoding["csat"]["recoded"] == 5214
    assert r.rows_rejected == 275 and r.rows_stored == 5248
    assert rows(store, "SELECT count(*) FROM rejected_rows WHERE reason LIKE '%looks month-first%'") == [(214,)]
    # of the 5,003 scored answers stored, 4,263 said very good or good (1 or 2 on the file's scale)
    s = metrics.score(store, "csat")
    assert (s.n, s.counts["satisfied (4-5)"]) == (5003, 4263)
    assert s.value == pytest.approx(85.21, abs=0.01)
    assert rows(store, "SELECT count(*) FROM responses WHERE csat IS NULL AND comment IS NOT NULL") == [(245,)]


@pytest.mark.skipif(not CFPB.exists(), reason="the CFPB complaints sample is not in ../shared/data")
def test_cfpb_complaints_load_with_their_status(store):
    r = ingest("cases", CFPB, store=store, mapping=EXAMPLES / "cfpb-complaints-cases.toml")[0]
    assert (r.rows_stored, r.rows_rejected) == (4588, 0)
    assert rows(store, "SELECT status, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC") == [
        ("closed", 4533), ("in_progress", 28), (None, 27)]
    assert r.recoding["status"]["dropped_values"] == [("Untimely response", 27)]


def test_replace_of_a_customers_file_updates_in_place(store, write):
    data = write("c.csv", "customer_id,email,name\nK1,a@x.pl,Anna\nK2,b@x.pl,Bogdan\n")
    ingest("customers", data, store=store)
    ids = rows(store, "SELECT customer_id FROM customers ORDER BY 1")
    data.write_text("customer_id,email,name\nK1,a@x.pl,Anna Nowak\nK2,b@x.pl,\n", encoding="utf-8")
    r = ingest("customers", data, store=store, replace=True)[0]
    assert r.replaced_runs == [1] and r.rows_removed == 0
    assert rows(store, "SELECT customer_id FROM customers ORDER BY 1") == ids
    assert rows(store, "SELECT name FROM customers ORDER BY 1") == [("Anna Nowak",), ("Bogdan",)]


def test_dropping_an_invalid_identity_keeps_the_row_only_when_another_identity_remains(store, write):
    data = write("o.csv", "email,phone,date,amount\na@x.pl,not a phone,2025-01-01,5\n,nope,2025-01-02,6\n"
                          "b@x.pl,601 234 567,2025-01-03,7\n")
    mapping = write("m.toml", '[columns.phone]\nto = "phone"\nunknown = "drop"\n')
    r = ingest("orders", data, store=store, mapping=mapping)[0]
    assert (r.rows_stored, r.rows_rejected) == (2, 1)
    assert r.recoding["phone"]["dropped"] == 2
    assert rows(store, "SELECT row_number, reason FROM rejected_rows") == [
        (3, "no customer identity (customer id, e-mail, phone, handle or loyalty card)")]
    assert rows(store, "SELECT kind, value FROM identities ORDER BY 1, 2") == [
        ("email", "a@x.pl"), ("email", "b@x.pl"), ("phone", "+48601234567")]
