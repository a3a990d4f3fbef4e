"""``centric ideas import``, ``council import`` and ``orientation import`` on each engine (DuckDB and PostgreSQL):
the known answers of tests/test_ideas.py, tests/test_council.py and tests/test_orientation.py — what is stored,
every rejected row with its file, row, column and reason, nothing twice — and a bad file that stores nothing but
its rejected rows, and an import failing half-way that leaves the store as it was."""

from __future__ import annotations

import json

import pytest

from centric.engines import open_store

from .engines import DUCK_PG, every_table, run, sql_rows

IDEAS = ("created_at;title;idea;email;votes;author_kind\n"
         "01.10.2025;Sunday opening;Please open the shop on Sundays too;anna@example.com;12;customer\n"
         "02.10.2025;Kurier;Proszę o dostawy w soboty, kurier przyjeżdża, gdy jestem w pracy;bo@example.com;5;\n"
         "03.10.2025;;;x@example.com;3;customer\n"
         "04.10.2025;Votes;Add a parking lot;y@example.com;lots;employee\n"
         "05.10.2025;Kind;More cashiers at rush hour;z@example.com;1;robot\n")
BAD_IDEAS = ("created_at;title;idea;votes\n"
             "01.10.2025;A;;1\n"
             "someday;B;Open earlier;2\n")


def _rejected(db, table: str) -> list[tuple]:
    with open_store(db, read_only=True) as store:
        return sorted(sql_rows(store, "SELECT source, row_number, column_name, value, reason FROM rejected_rows "
                                      "WHERE table_name = ?", [table]))


@pytest.mark.capability("imports", engines=DUCK_PG)
def test_ideas_import_on_each_engine(engine, write):
    db = engine.empty_db()
    f = write("ideas.csv", IDEAS)
    r = run("ideas", "import", str(f), "--no-suggest", db=db)
    assert r.exit_code == 0, r.output
    assert "read 5, stored 2, rejected 3" in r.output
    assert "row 4, column 'idea': required value is empty" in r.output
    assert "row 5, column 'votes': 'lots' is not a number" in r.output
    assert "row 6, column 'author_kind': 'robot' is not one of: customer, employee" in r.output
    listed = json.loads(run("ideas", "list", "--json", db=db).output)
    assert [(i["title"], i["votes"], i["status"], i["author_kind"], i["source"], i["language"]) for i in listed] == [
        ("Sunday opening", 12, "new", "customer", "import", "en"), ("Kurier", 5, "new", "customer", "import", "pl")]
    assert [x[1:3] for x in _rejected(db, "ideas")] == [(4, "idea"), (5, "votes"), (6, "author_kind")]
    again = run("ideas", "import", str(f), "--no-suggest", db=db)
    assert again.exit_code == 0 and "stored 0" in again.output, again.output
    assert len(json.loads(run("ideas", "list", "--json", db=db).output)) == 2
    # a file whose every row is bad stores nothing but its rejected rows
    bad = write("bad.csv", BAD_IDEAS)
    r = run("ideas", "import", str(bad), "--no-suggest", db=db)
    assert r.exit_code == 1 and "read 2, stored 0, rejected 2" in r.output, r.output
    assert "row 2, column 'idea': required value is empty" in r.output
    assert "row 3, column 'created_at': 'someday' is not a date" in r.output
    assert [x[1:3] for x in _rejected(db, "ideas") if x[0].endswith("bad.csv")] == [(2, "idea"), (3, "created_at")]
    assert len(json.loads(run("ideas", "list", "--json", db=db).output)) == 2


def _customers_and_a_member(db, write) -> None:
    r = run("ingest", "customers", str(write("c.csv", "name,email,segment\nAnna Lis,anna@x.pl,vip\n"
                                                      "Bruno Neri,bruno@x.it,b2c\nCarla Rossi,carla@x.it,b2c\n")),
            db=db)
    assert r.exit_code == 0, r.output
    r = run("council", "add", "anna@x.pl", "--consent", "council,contact", "--joined", "2026-01-10", db=db)
    assert r.exit_code == 0 and "added CM0001" in r.output


ROSTER = ("klient;zgoda;data dołączenia;rola\n"
          "bruno@x.it;council;2026-02-01;member\n"
          "nobody@x.pl;council;2026-02-01;\n"
          "carla@x.it;council;2026-02-31;\n"
          "carla@x.it;contact;2026-02-01;\n"
          "anna@x.pl;council;2026-02-01;\n"
          "BRUNO@x.it;council;2026-02-02;\n")


@pytest.mark.capability("imports", engines=DUCK_PG)
def test_council_import_on_each_engine(engine, write):
    db = engine.empty_db()
    _customers_and_a_member(db, write)
    r = run("council", "import", str(write("rada.csv", ROSTER)), "--json", db=db)
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    # Bruno added; nobody unknown; Carla's date impossible, then without the council consent; Anna a member; Bruno
    # listed twice
    assert (got["read"], got["added"], got["duplicate"]) == (6, ["CM0002"], 2)
    assert [(x["row"], x["column"], x["value"]) for x in got["rejected"]] == [
        (3, "klient", "nobody@x.pl"), (4, "data dołączenia", "2026-02-31"), (5, "zgoda", "contact")]
    stored = _rejected(db, "council_members")
    assert all(x[0].endswith("rada.csv") for x in stored)
    assert [(x[1], x[2], x[3], x[4].split(" (")[0]) for x in stored] == [
        (3, "klient", "nobody@x.pl", "no customer is known by 'nobody@x.pl'"),
        (4, "data dołączenia", "2026-02-31", "'2026-02-31' is not a date"),
        (5, "zgoda", "contact", "a member needs the consent to take part in the council")]
    with open_store(db, read_only=True) as store:
        assert sql_rows(store, "SELECT rows_read, rows_stored, rows_rejected, rows_duplicate FROM ingest_runs WHERE "
                               "table_name = 'council_members'") == [(6, 1, 3, 2)]
        assert sql_rows(store, "SELECT action, object_id FROM audit_log WHERE action = 'council.import'") == [
            ("council.import", str(got["run"]))]
    # the same file again adds nothing; a file without a customer column is refused by name, storing nothing
    again = json.loads(run("council", "import", str(write("rada.csv", ROSTER)), "--json", db=db).output)
    assert again["added"] == [] and again["duplicate"] == 3
    r = run("council", "import", str(write("r.csv", "name,role\nAnna,chair\n")), db=db)
    assert r.exit_code == 2 and "no column names the customer" in r.output
    # a file whose every row is bad adds nobody but keeps its rejected rows
    bad = json.loads(run("council", "import", str(write("bad.csv", "customer;joined\nnobody@x.pl;2026-01-01\n"
                                                                  "carla@x.it;2026-13-01\n")), "--json", db=db).output)
    assert bad["added"] == [] and [(x["row"], x["column"]) for x in bad["rejected"]] == [(2, "customer"),
                                                                                          (3, "joined")]
    assert [x[1:3] for x in _rejected(db, "council_members") if x[0].endswith("bad.csv")] == [(2, "customer"),
                                                                                              (3, "joined")]
    members = json.loads(run("council", "members", "--json", db=db).output)
    assert [m["member_id"] for m in members] == ["CM0001", "CM0002"]


@pytest.mark.capability("imports", engines=DUCK_PG)
def test_a_council_import_failing_half_way_leaves_the_store_as_it_was(engine, write, monkeypatch):
    from centric.council import importer

    db = engine.empty_db()
    _customers_and_a_member(db, write)
    with open_store(db, read_only=True) as store:
        before = every_table(store)
    calls = []

    def failing(store, j, by):
        calls.append(j.customer_id)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return real(store, j, by)

    real = importer.store_joining
    monkeypatch.setattr(importer, "store_joining", failing)
    roster = write("r.csv", "customer\nbruno@x.it\ncarla@x.it\nnobody@x.pl\n")
    with pytest.raises(RuntimeError, match="the disk is full"):
        run("council", "import", str(roster), db=db)
    assert len(calls) == 2  # Bruno was stored, and taken back with the rest
    with open_store(db, read_only=True) as store:
        assert every_table(store) == before


def _staff(store) -> None:
    with store.transaction():
        store.execute("INSERT INTO units VALUES ('S1', 'store', 'North', 'PL', 'h.boss'), "
                      "('S2', 'store', 'North', 'PL', 'k.other')")
        store.execute("INSERT INTO employees (employee_id, name, unit, role) VALUES ('e1', 'Anna Nowak', 'S1', "
                      "'staff'), ('e2', 'Jan Kos', 'S1', 'staff'), ('e3', 'Ewa Lis', 'S1', 'staff')")


ASSESSMENTS = ("Pracownik;Data oceny;Widok;Postawa;Komunikacja;Komentarz\n"
               "e1;2025-04-02;manager;4;5;ok\n"
               "e2;2025-04-02;manager;7;3;\n"        # row 3: attitude out of the scale
               "e9;2025-04-02;manager;3;3;\n"        # row 4: unknown employee
               "e3;2025-04-02;boss;3;3;\n"           # row 5: unknown view
               "e1;2025-04-02;self;5;5;rosy\n")


@pytest.mark.capability("imports", engines=DUCK_PG)
def test_orientation_import_on_each_engine(engine, write):
    db = engine.empty_db()
    assert run("status", db=db).exit_code == 0  # creates the store
    with open_store(db) as store:
        _staff(store)
    f = write("oceny.csv", ASSESSMENTS)
    r = run("orientation", "import", str(f), "--json", db=db)
    assert r.exit_code == 3, r.output  # more rows rejected than stored
    got = json.loads(r.output)[0]
    assert (got["rows_read"], got["rows_stored"], got["rows_rejected"]) == (5, 2, 3)
    rejected = _rejected(db, "orientation_assessments")
    assert [(x[1], x[2]) for x in rejected] == [(3, "Postawa"), (4, "Pracownik"), (5, "Widok")]
    assert all(x[0].endswith("oceny.csv") for x in rejected)
    assert rejected[1][3:] == ("e9", "employee 'e9' is not in employees (load the HR export first: centric ingest "
                                     "employees)")
    with open_store(db, read_only=True) as store:
        assert sql_rows(store, "SELECT rows_stored, rows_rejected FROM ingest_runs WHERE table_name = "
                               "'orientation_assessments'") == [(2, 3)]
        assert sorted(sql_rows(store, "SELECT employee_id, view, attitude, communication, comment FROM "
                                      "orientation_assessments")) == [("e1", "manager", 4, 5, "ok"),
                                                                      ("e1", "self", 5, 5, "rosy")]
        record = json.loads(sql_rows(store, "SELECT record FROM rejected_rows WHERE row_number = 4")[0][0])
        assert (record["employee_id"], record["view"], record["attitude"], record["assessed_at"]) == (
            "e9", "manager", 3, "2025-04-02T00:00:00.000")
    again = json.loads(run("orientation", "import", str(f), "--json", db=db).output)[0]
    assert again["rows_stored"] == 0
    # a file naming only strangers stores nothing but its rejected rows
    r = run("orientation", "import", str(write("obcy.csv", "employee_id,assessed_at,view,attitude\n"
                                                           "x1,2025-05-02,manager,4\nx2,2025-05-02,self,3\n")),
            "--json", db=db)
    got = json.loads(r.output)[0]
    assert r.exit_code == 1 and (got["rows_stored"], got["rows_rejected"]) == (0, 2), r.output
    assert [(x[1], x[3]) for x in _rejected(db, "orientation_assessments") if x[0].endswith("obcy.csv")] == [
        (2, "x1"), (3, "x2")]
    with open_store(db, read_only=True) as store:
        assert sql_rows(store, "SELECT count(*) FROM orientation_assessments") == [(2,)]
    # erasing an employee's assessments takes the rejected rows naming them too
    from centric.orientation import forget_employee

    with open_store(db) as store:
        assert forget_employee(store, "e1") == 2 and forget_employee(store, "x1") == 0
        assert sql_rows(store, "SELECT count(*) FROM orientation_assessments") == [(0,)]
    assert [(x[1], x[3]) for x in _rejected(db, "orientation_assessments") if x[0].endswith("obcy.csv")] == [
        (3, "x2")]


@pytest.mark.capability("imports", engines=DUCK_PG)
def test_the_imported_ideas_languages_and_factors_on_each_engine(engine, write, monkeypatch):
    from centric.ideas import suggest

    monkeypatch.setattr(suggest, "_BATCH", 1)  # one statement per idea: the batches join up
    db = engine.empty_db()
    r = run("ideas", "import", str(write("ideas.csv", IDEAS)), "--no-suggest", db=db)
    assert r.exit_code == 0, r.output
    # a stand-in for the factor matcher: "Kurier" names delivery, nothing else names a factor
    monkeypatch.setattr(suggest, "suggest", lambda texts, taxonomy, embedder=None: [
        "delivery" if "Kurier" in t else None for t in texts])
    with open_store(db) as store:
        assert suggest.suggest_missing(store) == 1
        assert sorted(sql_rows(store, "SELECT title, language, factor, factor_source FROM ideas")) == [
            ("Kurier", "pl", "delivery", "suggested"), ("Sunday opening", "en", None, None)]
        assert suggest.suggest_missing(store) == 0


# -- what follows a file's load is part of its transaction ----------------------------------------------------------
MORE_IDEAS = ("created_at;title;idea;email\n"
              "06.10.2025;Kurier w sobotę;Kurier mógłby przyjeżdżać także w soboty;ewa@example.com\n"
              "07.10.2025;Card;Please accept payment by card at the market stall;jan@example.com\n")


def _stand_in_matcher(monkeypatch) -> None:
    """The factor matcher replaced: a text naming a courier (Kurier) is about delivery, one naming a card about
    payment, none other about a factor."""
    from centric.ideas import suggest

    monkeypatch.setattr(suggest, "suggest", lambda texts, taxonomy, embedder=None: [
        "delivery" if "Kurier" in t else "payment" if "card" in t else None for t in texts])


def _fail_after_the_factors(monkeypatch) -> None:
    """The ideas' last step fails once its work is done: the suggested factors written."""
    from centric.ideas import suggest

    real = suggest.store_factors

    def failing(store, found):
        real(store, found)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(suggest, "store_factors", failing)


def _fail_detecting_languages(monkeypatch) -> None:
    """The language of the second idea cannot be detected (the defaults of the file's ideas are set by then)."""
    from centric.text.language import LanguageDetector

    real, seen = LanguageDetector.detect, []

    def failing(self, text):
        seen.append(text)
        if len(seen) == 2:
            raise RuntimeError("the disk is full")
        return real(self, text)

    monkeypatch.setattr(LanguageDetector, "detect", failing)


@pytest.mark.capability("imports", engines=DUCK_PG)
@pytest.mark.parametrize("failure", ["ideas.import_half_way", "languages", "factors", "ingest.before_commit"])
def test_an_ideas_import_failing_after_its_load_leaves_the_store_as_it_was(engine, write, monkeypatch, failure):
    from centric.faults import InjectedFault

    db = engine.empty_db()
    assert run("ideas", "import", str(write("ideas.csv", IDEAS)), "--no-suggest", db=db).exit_code == 0
    with open_store(db, read_only=True) as store:
        before = every_table(store)
    _stand_in_matcher(monkeypatch)
    more = write("more.csv", MORE_IDEAS)
    with pytest.MonkeyPatch.context() as mp:
        if failure == "factors":
            _fail_after_the_factors(mp)
        elif failure == "languages":
            _fail_detecting_languages(mp)
        else:
            mp.setenv("CENTRIC_FAULT", f"{failure}:raise")
        with pytest.raises(RuntimeError if failure in ("factors", "languages") else InjectedFault):
            run("ideas", "import", str(more), db=db)
    with open_store(db, read_only=True) as store:  # no idea, run, rejected row, default, language or factor of it
        assert every_table(store) == before
    r = run("ideas", "import", str(more), db=db)
    assert r.exit_code == 0 and "read 2, stored 2, rejected 0" in r.output, r.output
    assert "factor suggested for 3 ideas" in r.output
    listed = json.loads(run("ideas", "list", "--json", db=db).output)
    assert sorted((i["title"], i["status"], i["author_kind"], i["source"], i["language"], i["factor"])
                  for i in listed) == [
        ("Card", "new", "customer", "import", "en", "payment"),
        ("Kurier", "new", "customer", "import", "pl", "delivery"),  # the first file's, suggested now
        ("Kurier w sobotę", "new", "customer", "import", "pl", "delivery"),
        ("Sunday opening", "new", "customer", "import", "en", None)]
    with open_store(db, read_only=True) as store:
        assert sorted(sql_rows(store, "SELECT factor_source FROM ideas WHERE factor IS NOT NULL")) == [
            ("suggested",)] * 3


def _fail_at_the_second_stranger(monkeypatch) -> None:
    """Reading the second row that names no employee fails (the first is moved to the rejected rows by then)."""
    from centric.orientation import records

    real, seen = records.frame, []

    def failing(store, sql, params=()):
        seen.append(params)
        if len(seen) == 2:
            raise RuntimeError("the disk is full")
        return real(store, sql, params)

    monkeypatch.setattr(records, "frame", failing)


STRANGERS = ("employee_id,assessed_at,view,attitude\n"
             "e2,2025-05-02,manager,4\n"
             "x1,2025-05-02,manager,4\n"
             "x2,2025-05-02,self,3\n")


@pytest.mark.capability("imports", engines=DUCK_PG)
@pytest.mark.parametrize("failure", ["second stranger", "orientation.import_half_way", "ingest.before_commit"])
def test_an_orientation_import_failing_after_its_load_leaves_the_store_as_it_was(engine, write, monkeypatch,
                                                                                 failure):
    from centric.faults import InjectedFault

    db = engine.empty_db()
    assert run("status", db=db).exit_code == 0  # creates the store
    with open_store(db) as store:
        _staff(store)
    assert run("orientation", "import", str(write("oceny.csv", ASSESSMENTS)), db=db).exit_code == 3
    with open_store(db, read_only=True) as store:
        before = every_table(store)
    f = write("obcy.csv", STRANGERS)
    with pytest.MonkeyPatch.context() as mp:
        if failure == "second stranger":
            _fail_at_the_second_stranger(mp)
        else:
            mp.setenv("CENTRIC_FAULT", f"{failure}:raise")
        with pytest.raises(RuntimeError if failure == "second stranger" else InjectedFault):
            run("orientation", "import", str(f), "--json", db=db)
    with open_store(db, read_only=True) as store:  # no assessment, run or rejected row of the file, no count changed
        assert every_table(store) == before
    r = run("orientation", "import", str(f), "--json", db=db)
    got = json.loads(r.output)[0]
    assert r.exit_code == 3 and (got["rows_read"], got["rows_stored"], got["rows_rejected"]) == (3, 1, 2), r.output
    assert [(x[1], x[2], x[3]) for x in _rejected(db, "orientation_assessments") if x[0].endswith("obcy.csv")] == [
        (3, "employee_id", "x1"), (4, "employee_id", "x2")]
    with open_store(db, read_only=True) as store:
        assert sql_rows(store, "SELECT rows_stored, rows_rejected FROM ingest_runs WHERE table_name = "
                               "'orientation_assessments' ORDER BY run_id") == [(2, 3), (1, 2)]
        assert sorted(sql_rows(store, "SELECT employee_id, view FROM orientation_assessments")) == [
            ("e1", "manager"), ("e1", "self"), ("e2", "manager")]
