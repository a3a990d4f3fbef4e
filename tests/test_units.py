"""Units and employees: loaded like any export; an employee's e-mail is data, never a customer identity."""

from __future__ import annotations

from centric import ingest

from .conftest import rows


def test_units_and_employees_load_with_reasons_for_bad_rows(store, tmp_path):
    units = tmp_path / "jednostki.csv"
    units.write_text("Jednostka;Rodzaj;Region;Kraj;Kierownik\n"
                     "Voltaro Warszawa Arkadia;store;PL Centre;pl;h.dabrowska\n"
                     "delivery;department;;PL;m.lis\n"
                     "Voltaro Outlet;shop;;PL;\n", encoding="utf-8")
    res = ingest("units", units, store=store)[0]
    assert (res.rows_stored, res.rows_rejected) == (2, 1)
    assert rows(store, "SELECT unit, kind, region, country, manager FROM units ORDER BY unit") == [
        ("Voltaro Warszawa Arkadia", "store", "PL Centre", "PL", "h.dabrowska"),
        ("delivery", "department", None, "PL", "m.lis")]
    assert rows(store, "SELECT row_number, column_name, value FROM rejected_rows") == [(4, "Rodzaj", "shop")]

    people = tmp_path / "employees.csv"
    people.write_text("Nr ewidencyjny,Imię i nazwisko,E-mail,Jednostka,Stanowisko,Język,Data zatrudnienia\n"
                      "E1,Anna Nowak,Anna.Nowak@Voltaro.example,Voltaro Warszawa Arkadia,staff,pl,2021-03-01\n"
                      "E2,Jan Kos,not-an-email,Voltaro Warszawa Arkadia,boss,pl,2021-03-01\n"
                      "E3,Ewa Lis,,,manager,pl,2020-01-15\n", encoding="utf-8")
    res = ingest("employees", people, store=store)[0]
    assert (res.rows_stored, res.rows_rejected) == (1, 2)
    assert rows(store, "SELECT employee_id, name, email, unit, role, hired_at::VARCHAR FROM employees") == [
        ("E1", "Anna Nowak", "anna.nowak@voltaro.example", "Voltaro Warszawa Arkadia", "staff", "2021-03-01")]
    assert rows(store, "SELECT row_number, column_name FROM rejected_rows WHERE table_name = 'employees' "
                       "ORDER BY 1, 2") == [(3, "E-mail"), (3, "Stanowisko"), (4, "Jednostka")]
    # an employees file has no customers in it: nothing resolved, nothing created
    assert rows(store, "SELECT count(*) FROM customers") == [(0,)]
    assert rows(store, "SELECT count(*) FROM identities") == [(0,)]


def test_answers_and_texts_carry_their_store(store, tmp_path):
    f = tmp_path / "answers.csv"
    f.write_text("email,date,nps,Sklep\na@x.pl,2026-01-02,9,Voltaro Gdańsk Oliwa\nb@x.pl,2026-01-03,3,\n",
                 encoding="utf-8")
    ingest("responses", f, store=store)
    assert rows(store, "SELECT nps, store FROM responses ORDER BY nps") == [(3, None), (9, "Voltaro Gdańsk Oliwa")]
