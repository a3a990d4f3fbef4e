"""The admin pages through the app: settings refused with the line and key and nothing saved, or saved and
in use; taxonomy factors added; users and tokens managed through the forms (CSRF); the audit log; erasing a
customer from the UI."""

from __future__ import annotations

import re

from centric.cases import config
from centric.cases.workflow import root_causes
from centric.text.taxonomy import active_taxonomy
from centric.web import auth
from tests.conftest import csrf_of


def saved(hub, name: str) -> int:
    return hub.reader().execute("SELECT count(*) FROM case_config WHERE name = ?", [name]).fetchone()[0]


def test_a_broken_policy_is_shown_with_its_line_and_key_and_nothing_is_saved(web_client, login):
    hub = web_client.app.state.hub
    login(web_client, role="admin")
    page = web_client.get("/settings")
    assert page.status_code == 200 and "[calendars.office]" in page.text
    before, routing_before = saved(hub, "sla"), saved(hub, "routing")
    text, _ = config.active_text(hub.reader(), "sla")
    broken = text.replace('default_calendar = "office"', 'default_calendar = "nights"')
    r = web_client.post("/settings/sla", data={"csrf_token": csrf_of(page.text), "text": broken})
    assert r.status_code == 422
    line = broken.splitlines().index('default_calendar = "nights"') + 1
    assert f"sla line {line}, key &#39;default_calendar&#39;: calendar &#39;nights&#39; is not defined" in r.text
    assert "default_calendar = &#34;nights&#34;" in r.text  # what was typed is kept for correcting
    assert saved(hub, "sla") == before
    bad_toml = web_client.post("/settings/routing", data={"csrf_token": csrf_of(page.text), "text": "[factors\n"})
    assert bad_toml.status_code == 422 and "not valid TOML" in bad_toml.text
    assert saved(hub, "routing") == routing_before


def test_a_valid_routing_table_is_saved_and_used(web_client, login):
    hub = web_client.app.state.hub
    email = login(web_client, role="admin")
    page = web_client.get("/settings")
    text, _ = config.active_text(hub.reader(), "routing")
    changed = re.sub(r'(?m)^delivery = "delivery"$', 'delivery = "logistics"', text)
    assert changed != text
    r = web_client.post("/settings/routing", data={"csrf_token": csrf_of(page.text), "text": changed},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/settings?saved=routing")
    routing, _ = config.active(hub.reader())
    assert any(x.factor == "delivery" and x.department == "logistics" for x in routing.routes)
    shown = web_client.get("/settings").text
    assert f"web: {email}" in shown  # the versions say who saved it
    con = hub.reader()
    assert con.execute("SELECT actor, action, object_id FROM audit_log WHERE action = 'config.save'").fetchall() == [
        (email, "config.save", "routing")]


def test_settings_are_for_admins_only(web_client, login):
    login(web_client, role="analyst")
    assert web_client.get("/settings").status_code == 403
    assert web_client.get("/users").status_code == 403
    assert web_client.get("/audit").status_code == 403


def test_an_added_factor_is_stored_routable_and_a_root_cause(web_client, login):
    hub = web_client.app.state.hub
    login(web_client, role="admin")
    page = web_client.get("/settings")
    form = {"csrf_token": csrf_of(page.text), "id": "parking", "name_en": "Parking", "name_pl": "Parking",
            "name_ru": "Парковка", "name_it": "Parcheggio", "keywords": "no parking space\nparking lot, car park"}
    r = web_client.post("/settings/factors", data=form)
    assert r.status_code == 200 and "Парковка" in r.text
    store = hub.reader()
    f = active_taxonomy(store).factor("parking")
    assert f.names["it"] == "Parcheggio" and f.examples == {"en": ["no parking space", "parking lot", "car park"]}
    assert "parking" in root_causes(store)
    again = web_client.post("/settings/factors", data={**form, "csrf_token": csrf_of(r.text)})
    assert again.status_code == 422 and "factor id &#39;parking&#39;: the taxonomy has it already" in again.text
    # the routing table may send it to a department
    text, _ = config.active_text(store, "routing")
    routed = text.replace("[factors]\n", '[factors]\nparking = "stores"\n')
    ok = web_client.post("/settings/routing", data={"csrf_token": csrf_of(r.text), "text": routed},
                         follow_redirects=False)
    assert ok.status_code == 303
    assert any(x.factor == "parking" and x.department == "stores" for x in config.active(hub.reader())[0].routes)


def test_users_are_added_changed_and_disabled_through_the_page(web_client, login):
    hub = web_client.app.state.hub
    login(web_client, role="admin")
    page = web_client.get("/users")
    form = {"email": "Nina@Example.com", "name": "Nina", "role": "agent", "language": "pl",
            "password": "a long enough password", "departments": ["delivery", "returns"]}
    refused = web_client.post("/users", data=form)  # no CSRF token
    assert refused.status_code == 403 and auth.get_user(hub.reader(), email="nina@example.com") is None
    r = web_client.post("/users", data={**form, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and "nina@example.com" in r.text
    nina = auth.get_user(hub.reader(), email="nina@example.com")
    assert (nina["role"], nina["departments"], nina["language"]) == ("agent", ("delivery", "returns"), "pl")
    wrong = web_client.post("/users", data={**form, "email": "x@example.com", "departments": ["nowhere"],
                                            "csrf_token": csrf_of(r.text)})
    assert wrong.status_code == 422 and "unknown department &#39;nowhere&#39;" in wrong.text
    set_ = web_client.post(f"/users/{nina['user_id']}/set", data={"csrf_token": csrf_of(r.text), "role": "analyst",
                                                                  "language": "it"})
    assert set_.status_code == 200
    nina = auth.get_user(hub.reader(), user_id=nina["user_id"])
    assert (nina["role"], nina["departments"], nina["language"]) == ("analyst", (), "it")
    off = web_client.post(f"/users/{nina['user_id']}/disable", data={"csrf_token": csrf_of(r.text)})
    assert off.status_code == 200 and auth.get_user(hub.reader(), user_id=nina["user_id"])["disabled_at"] is not None
    actions = [a for (a,) in hub.reader().execute(
        "SELECT action FROM audit_log WHERE object_id = ? ORDER BY audit_id", [nina["user_id"]]).fetchall()]
    assert actions == ["user.add", "user.set", "user.disable"]


def test_an_admin_cannot_disable_themselves(web_client, login):
    hub = web_client.app.state.hub
    email = login(web_client, role="admin")
    me = auth.get_user(hub.reader(), email=email)
    page = web_client.get("/users")
    r = web_client.post(f"/users/{me['user_id']}/disable", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 422 and auth.get_user(hub.reader(), email=email)["disabled_at"] is None


def test_a_token_is_shown_once_and_revoked(web_client, login):
    hub = web_client.app.state.hub
    login(web_client, role="admin")
    page = web_client.get("/users")
    r = web_client.post("/users/tokens", data={"csrf_token": csrf_of(page.text), "name": "crm-sync",
                                               "role": "agent", "departments": ["delivery"]})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = re.search(r'<code class="token">(ctk_[^<]+)</code>', r.text).group(1)
    assert auth.lookup_token(hub.reader(), token)["departments"] == ("delivery",)
    assert token not in web_client.get("/users").text  # only once
    tid = auth.list_tokens(hub.reader())[-1]["token_id"]
    web_client.post(f"/users/tokens/{tid}/revoke", data={"csrf_token": csrf_of(page.text)})
    assert auth.lookup_token(hub.reader(), token) is None


def test_the_audit_log_filters_and_pages(web_client, login):
    hub = web_client.app.state.hub
    login(web_client, role="admin")
    from centric.web import audit

    for i in range(60):
        hub.write(audit.record, "robot@example.com", "case.comment", "case", f"K{i:03d}")
    first = web_client.get("/audit?actor=robot&action=case")
    assert first.status_code == 200 and "60 entries" in first.text
    assert first.text.count("<code>case.comment</code>") == 50 and "K059" in first.text and "K009" not in first.text
    second = web_client.get("/audit?actor=robot&action=case&page=2")
    assert second.text.count("<code>case.comment</code>") == 10 and "K000" in second.text
    assert "0 entries" in web_client.get("/audit?action=user.nothing").text


def test_forget_from_the_ui_erases_the_customer(web_client, login):
    hub = web_client.app.state.hub
    con = hub.reader()
    customer, email = con.execute("SELECT customer_id, value FROM identities WHERE kind = 'email' "
                                  "ORDER BY customer_id LIMIT 1").fetchone()
    login(web_client, role="admin")
    profile = web_client.get(f"/customers/{customer}")  # the admin reaches the form from the customer's page
    assert f'href="/customers/{customer}/forget"' in profile.text
    page = web_client.get(f"/customers/{customer}/forget")
    assert page.status_code == 200 and f"Type {customer} to confirm" in page.text
    wrong = web_client.post(f"/customers/{customer}/forget", data={"csrf_token": csrf_of(page.text),
                                                                   "confirm": "C0000000"})
    assert wrong.status_code == 422 and con.execute("SELECT count(*) FROM identities WHERE value = ?",
                                                    [email]).fetchone()[0] == 1
    r = web_client.post(f"/customers/{customer}/forget", data={"csrf_token": csrf_of(page.text), "confirm": customer})
    assert r.status_code == 200 and f"Customer {customer} is erased." in r.text
    con = hub.reader()
    assert con.execute("SELECT count(*) FROM identities WHERE value = ?", [email]).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM customers WHERE customer_id = ?", [customer]).fetchone()[0] == 0
    logged = con.execute("SELECT object_id, detail FROM audit_log WHERE action = 'customer.forget'").fetchall()
    assert len(logged) == 1 and logged[0][0] == customer and email not in logged[0][1]
    assert '"identities_removed"' in logged[0][1]


def test_only_an_admin_sees_the_way_to_erase(web_client, login):
    customer = web_client.app.state.hub.reader().execute(
        "SELECT customer_id FROM identities ORDER BY customer_id LIMIT 1").fetchone()[0]
    login(web_client, role="analyst")
    page = web_client.get(f"/customers/{customer}")
    assert page.status_code == 200 and "/forget" not in page.text
