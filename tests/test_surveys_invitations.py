"""Invitations: who gets a link and who is skipped with the reason, the links file, the minimum interval."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt

import pytest

from centric.ingest import ingest
from centric.privacy import forget
from centric.surveys import SurveyError, from_dict, repo, tokens
from centric.surveys import invitations as inv

from .conftest import rows

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _day(days_ago: int) -> str:
    return (NOW - dt.timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def shop(store, write):
    """Five customers (K1 … K5 in the source system); K2 answered a survey 10 days ago, K3 40 days ago."""
    ingest("customers", write("c.csv", "customer_id,name,email,segment,language\n"
                                       "K1,Anna,anna@x.pl,vip,pl\n"
                                       "K2,Boris,boris@x.ru,b2c,ru\n"
                                       "K3,Carla,carla@x.it,vip,it\n"
                                       "K4,Dan,,b2c,de\n"
                                       "K5,Eve,eve@x.com,b2c,en\n"), store=store)
    ingest("responses", write("r.csv", f"customer_id,date,nps\nK2,{_day(10)},9\nK3,{_day(40)},3\n"), store=store)
    s = from_dict({"slug": "after-delivery", "name": "After delivery", "kind": "nps", "languages": ["en", "pl", "it"],
                   "branding": {"company": "Kettle"}})
    sid = repo.add(store, s)
    return repo.get(store, sid)


def ids(store) -> dict[str, str]:
    """The source system's id (K1 …) -> centric's customer id."""
    return dict(rows(store, "SELECT value, customer_id FROM identities WHERE kind = 'crm_id'"))


def invite_csv(store) -> str:
    c = ids(store)
    return ("Customer_ID;E-mail\n"
            f"{c['K1']};\n"
            ";  CARLA@X.IT \n"
            "K5;\n"
            f"{c['K2']};\n"
            f"{c['K1']};\n"
            "C9999999;\n"
            ";not-an-email\n"
            ";;\n"
            f"{c['K4']};\n")


def test_dry_run_plan_names_every_skip_with_its_reason(store, write, shop):
    c = ids(store)
    p = inv.plan(store, shop, inv.read_customers_csv(write("invite.csv", invite_csv(store))), source="invite.csv", now=NOW)
    assert p.invite.to_dict("records") == [
        {"customer_id": c["K1"], "email": "anna@x.pl", "language": "pl"},
        {"customer_id": c["K3"], "email": "carla@x.it", "language": "it"},  # found by the e-mail, normalised
        {"customer_id": c["K5"], "email": "eve@x.com", "language": "en"},  # found by the source system's id
        {"customer_id": c["K4"], "email": None, "language": "en"},  # German: not a language of the survey
    ]
    skipped = p.skipped[["row", "reason"]].to_records(index=False).tolist()
    assert skipped == [(5, "recently_answered"), (6, "repeated"), (7, "unknown_customer"), (8, "bad_email")]
    details = dict(zip(p.skipped["row"], p.skipped["detail"], strict=True))
    assert details[6] == f"invite.csv row 6: customer {c['K1']} is named in row 2"
    assert details[7] == "invite.csv row 7, column 'Customer_ID': 'C9999999': no such customer"
    assert details[8] == "invite.csv row 8, column 'E-mail': 'not-an-email' is not an e-mail address"
    assert details[5] == "answered a survey within 30 days"
    assert p.reasons() == {"bad_email": 1, "unknown_customer": 1, "repeated": 1, "recently_answered": 1}
    assert rows(store, "SELECT count(*) FROM survey_invitations") == [(0,)]  # a plan writes nothing


def test_sending_needs_an_address(store, write, shop):
    c = ids(store)
    p = inv.plan(store, shop, inv.read_customers_csv(write("invite.csv", invite_csv(store))), now=NOW, send=True)
    assert list(p.invite["customer_id"]) == [c["K1"], c["K3"], c["K5"]]
    assert p.reasons()["no_email"] == 1 and p.skipped.iloc[-1]["customer_id"] == c["K4"]


def test_issue_writes_invitations_and_links_and_the_interval_then_skips_them(store, write, shop, tmp_path):
    c = ids(store)
    p = inv.plan(store, shop, inv.read_customers_csv(write("invite.csv", invite_csv(store))), now=NOW)
    links = inv.issue(store, p, base_url="https://survey.example.com/", link_days=7)
    assert [link.invitation_id for link in links] == [1, 2, 3, 4]
    key = tokens.secret(store)
    for link in links:
        assert link.url.startswith("https://survey.example.com/s/")
        token = link.url.rsplit("/", 1)[1]
        assert len(token) <= 32 and tokens.read(key, token) == link.invitation_id
        assert link.expires_at == NOW + dt.timedelta(days=7)
    got = repo.invitation(store, 2)
    assert (got["survey_id"], got["customer_id"], got["email"], got["language"]) == ("SV001", c["K3"],
                                                                                    "carla@x.it", "it")
    assert got["answered_at"] is None and got["opened_at"] is None and got["expires_at"] == NOW + dt.timedelta(days=7)
    out = tmp_path / "links.csv"
    inv.write_links(out, links)
    with open(out, encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["invitation_id", "customer_id", "email", "language", "link", "expires_at"]
    assert [(r["invitation_id"], r["customer_id"], r["email"], r["language"]) for r in table] == [
        ("1", c["K1"], "anna@x.pl", "pl"), ("2", c["K3"], "carla@x.it", "it"),
        ("3", c["K5"], "eve@x.com", "en"), ("4", c["K4"], "", "en")]
    assert table[0]["link"] == links[0].url and table[0]["expires_at"] == (NOW + dt.timedelta(days=7)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")

    # an invitation to another survey counts for the interval too
    other = repo.get(store, repo.add(store, from_dict({**shop.to_dict(), "slug": "after-support", "kind": "csat"})))
    again = inv.plan(store, other, inv.read_customers_csv(write("invite.csv", invite_csv(store))), now=NOW)
    assert again.invite.empty and again.reasons()["recently_invited"] == 4
    later = inv.plan(store, other, inv.read_customers_csv(write("invite.csv", invite_csv(store))),
                     now=NOW + dt.timedelta(days=31))
    assert list(later.invite["customer_id"]) == [c["K1"], c["K3"], c["K5"], c["K2"], c["K4"]]
    none = inv.plan(store, other, inv.read_customers_csv(write("invite.csv", invite_csv(store))), now=NOW, interval_days=0)
    assert len(none.invite) == 5
    assert inv.issue(store, dataclasses.replace(p, invite=p.invite.iloc[0:0])) == []
    first_new = inv.issue(store, none)[0].invitation_id
    assert first_new == 5  # numbers continue


def test_segment_and_paused_survey(store, shop):
    c = ids(store)
    p = inv.plan(store, shop, segment="vip", now=NOW)
    assert list(p.invite["customer_id"]) == sorted([c["K1"], c["K3"]]) and p.skipped.empty
    with pytest.raises(SurveyError, match=r"--segment: no customer has the segment 'gold'; segments: b2c, vip"):
        inv.plan(store, shop, segment="gold", now=NOW)
    paused = repo.set_status(store, shop.survey_id, "paused")
    p = inv.plan(store, paused, segment="b2c", now=NOW)
    assert p.invite.empty and p.reasons() == {"survey_not_active": 3}
    assert set(p.skipped["detail"]) == {"the survey is paused"}


def test_csv_errors_name_the_file_row_and_column(store, write, shop):
    with pytest.raises(SurveyError, match=r"x.csv: row 1: needs a column 'customer_id' or 'email'; columns found: "
                                          r"'who', 'name'"):
        inv.read_customers_csv(write("x.csv", "who,name\nC0000001,Anna\n"))
    with pytest.raises(SurveyError, match=r"nope.csv: no such file"):
        inv.read_customers_csv(write("x.csv", "x").parent / "nope.csv")
    with pytest.raises(SurveyError, match=r"the file is empty"):
        inv.read_customers_csv(write("e.csv", ""))
    with pytest.raises(SurveyError, match="give the customers"):
        inv.plan(store, shop)


def test_erasure_ends_the_link_and_forgets_the_address(store, write, shop):
    anna = ids(store)["K1"]
    links = inv.issue(store, inv.plan(store, shop, segment="vip", now=NOW))
    links = sorted(links, key=lambda link: link.customer_id != anna)
    forget(store, "anna@x.pl")
    gone = repo.invitation(store, links[0].invitation_id)
    assert gone["customer_id"] is None and gone["email"] is None and gone["expires_at"] <= dt.datetime.now(
        dt.UTC).replace(tzinfo=None)
    assert repo.invitation(store, links[1].invitation_id)["email"] == "carla@x.it"
    p = inv.plan(store, shop, inv.read_customers_csv(write("i.csv", f"customer_id\n{anna}\n")), now=NOW)
    assert p.reasons() == {"erased": 1}
