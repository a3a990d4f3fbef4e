"""The routing table and the service-level policy files: parsing, errors naming file, line and key,
the bundled defaults, and the active configuration kept in the store."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from centric import Store
from centric.cases import config
from centric.cases.config import CaseConfigError, parse_policy, parse_routing
from centric.cases.model import Department, EscalationLevel, Route, Target
from centric.text.taxonomy import builtin_names, load_taxonomy

ROUTING = """\
default_department = "customer_service"
triage_department = "triage"

[priority]
base = "normal"
public_channels = ["social", "review"]
vip_share = 0.2
urgent_flags = ["extortion", "go_public"]

[factors]
delivery = "delivery"
call_centre = "customer_service"

[[rules]]
factor = "delivery"
country = "IT"
department = "delivery_it"

[[rules]]
store = "Kraków 1"
department = "krakow"

[departments.delivery]
agents = ["a.nowak", "p.mazur"]
lead = "m.lis"
manager = "k.zielinska"
calendar = "office"
"""

SLA = """\
default_calendar = "office"

[calendars.office]
timezone = "Europe/Warsaw"
holidays = ["2026-12-24"]

[calendars.office.hours]
mon = ["08:00-16:00"]
tue = ["08:00-16:00"]

[calendars.always]
timezone = "UTC"
hours = { mon = ["00:00-24:00"], sun = ["00:00-24:00"] }

[[targets]]
channel = "social"
calendar = "always"
first_response = 60
next_response = 120
resolution = 2880
confirmation = 10080

[[targets]]
priority = "urgent"
first_response = 30
resolution = 240

[[targets]]
first_response = 360
next_response = 480
resolution = 2400
confirmation = 4800

[escalation]
any = [{after = 0, to = "lead"}, {after = 480, to = "manager"}]
urgent = [{after = 0, to = "lead"}, {after = 60, to = "manager"}, {after = 240, to = "d.director"}]
"""


def test_routing_file_is_parsed():
    r = parse_routing(ROUTING, "routing.toml")
    # rules come first (earlier wins a tie), then the [factors] table
    assert r.routes == (
        Route("delivery_it", factor="delivery", country="IT"),
        Route("krakow", store="Kraków 1"),
        Route("delivery", factor="delivery"),
        Route("customer_service", factor="call_centre"),
    )
    assert r.departments == {"delivery": Department("delivery", ("a.nowak", "p.mazur"), "m.lis", "k.zielinska",
                                                    "office")}
    assert (r.default_department, r.triage_department, r.base_priority) == ("customer_service", "triage", "normal")
    assert r.vip_share == 0.2 and r.public_channels == ("social", "review")
    assert r.urgent_flags == ("extortion", "go_public") and r.source == "routing.toml"


def test_policy_file_is_parsed_and_targets_inherit_the_fallback():
    p = parse_policy(SLA, "sla.toml")
    assert set(p.calendars) == {"office", "always"} and p.default_calendar == "office"
    office = p.calendars["office"]
    assert office.timezone == "Europe/Warsaw" and office.hours[0] == ((480, 960),) and office.hours[2] == ()
    assert office.holidays == frozenset({dt.date(2026, 12, 24)})
    assert p.calendars["always"].hours[6] == ((0, 1440),)
    assert p.targets == (
        Target(60, 120, 2880, 10080, channel="social", calendar="always"),
        Target(30, 480, 240, 4800, priority="urgent"),  # next_response and confirmation from the fallback
        Target(360, 480, 2400, 4800),
    )
    assert p.escalation == {
        None: (EscalationLevel(0, "lead"), EscalationLevel(480, "manager")),
        "urgent": (EscalationLevel(0, "lead"), EscalationLevel(60, "manager"), EscalationLevel(240, "d.director")),
    }


def _routing_error(text: str) -> str:
    with pytest.raises(CaseConfigError) as e:
        parse_routing(text, "r.toml")
    return str(e.value)


def _policy_error(text: str) -> str:
    with pytest.raises(CaseConfigError) as e:
        parse_policy(text, "s.toml")
    return str(e.value)


@pytest.mark.parametrize("old, new, expected", [
    ('base = "normal"', 'base = "asap"', "r.toml line 5, key 'priority.base': unknown priority 'asap'"),
    ("vip_share = 0.2", "vip_share = 1.0", "r.toml line 7, key 'priority.vip_share': expected a share between 0"),
    ("vip_share = 0.2", "vip_share = 0", "r.toml line 7, key 'priority.vip_share'"),
    ("vip_share = 0.2", 'vip_share = "10%"', "r.toml line 7, key 'priority.vip_share'"),
    ('public_channels = ["social", "review"]', 'public_channels = ["social", "Review"]',
     "r.toml line 6, key 'priority.public_channels': 'Review': channels are lower-case"),
    ('urgent_flags = ["extortion", "go_public"]', 'urgent_flags = "go_public"',
     "r.toml line 8, key 'priority.urgent_flags': expected a list of texts"),
    ('triage_department = "triage"', "triage_department = 7", "r.toml line 2, key 'triage_department': expected"),
    ('triage_department = "triage"', 'triage = "t"', "r.toml line 2, key 'triage': unknown key"),
    ('vip_share = 0.2', 'vip_share = 0.2\nspeed = 2', "r.toml line 8, key 'priority.speed': unknown key"),
    ('call_centre = "customer_service"', "call_centre = 3", "r.toml line 12, key 'factors.call_centre': expected"),
    ('country = "IT"\ndepartment = "delivery_it"', 'country = "IT"',
     "r.toml line 15, key 'rules[1].department': a rule needs a department"),
    ('country = "IT"', 'country = "Italy"', "r.toml line 16, key 'rules[1].country': 'Italy' is not an upper-case"),
    ('store = "Kraków 1"', 'shop = "Kraków 1"', "r.toml line 20, key 'rules[2].shop': unknown key"),
    ('store = "Kraków 1"\n', "", "r.toml line 20, key 'rules[2].department': a rule needs a factor, a country or a"),
    ('store = "Kraków 1"', 'factor = "delivery"\ncountry = "IT"',
     "r.toml line 22, key 'rules[2].department': the rule repeats the scope of rules[1]"),
    ('agents = ["a.nowak", "p.mazur"]', 'agents = "a.nowak"',
     "r.toml line 24, key 'departments.delivery.agents': expected a list of texts"),
    ('agents = ["a.nowak", "p.mazur"]', 'agents = ["a.nowak", "a.nowak"]',
     "r.toml line 24, key 'departments.delivery.agents': 'a.nowak' is listed twice"),
    ('lead = "m.lis"', 'boss = "m.lis"', "r.toml line 25, key 'departments.delivery.boss': unknown key"),
    ('lead = "m.lis"', 'lead = ""', "r.toml line 25, key 'departments.delivery.lead': expected a non-empty text"),
])
def test_a_malformed_routing_table_names_line_and_key(old, new, expected):
    assert old in ROUTING
    assert _routing_error(ROUTING.replace(old, new, 1)).startswith(expected)


def test_a_routing_table_that_is_not_toml():
    assert _routing_error("[factors\n").startswith("r.toml: not valid TOML (")


@pytest.mark.parametrize("old, new, expected", [
    ("first_response = 30", "first_response = -30",
     "s.toml line 25, key 'targets[2].first_response': minutes cannot be negative, got -30"),
    ("resolution = 240", 'resolution = "4h"',
     "s.toml line 26, key 'targets[2].resolution': expected a whole number of minutes"),
    ("resolution = 240", "resolution = 2.5", "s.toml line 26, key 'targets[2].resolution'"),
    ('priority = "urgent"', 'priority = "asap"', "s.toml line 24, key 'targets[2].priority': unknown priority"),
    ('channel = "social"', 'channel = "Social"', "s.toml line 16, key 'targets[1].channel': 'Social': channels"),
    ('calendar = "always"', 'calendar = "night"',
     "s.toml line 17, key 'targets[1].calendar': calendar 'night' is not defined (defined: office, always)"),
    ('priority = "urgent"', 'channel = "social"',
     "s.toml line 24, key 'targets[2].channel': the target repeats the channel and priority of targets[1]"),
    ('[[targets]]\nfirst_response = 360', '[[targets]]\npriority = "low"\nfirst_response = 360',
     "s.toml line 15, key 'targets': no fallback target"),
    ("next_response = 480\n", "", "s.toml line 29, key 'targets[3].next_response': the fallback target needs all"),
    ('default_calendar = "office"', 'default_calendar = "work"',
     "s.toml line 1, key 'default_calendar': calendar 'work' is not defined"),
    ('{after = 480, to = "manager"}', '{after = 0, to = "manager"}',
     "s.toml line 35, key 'escalation.any[2].after': levels must come later and later: 0 is not after 0"),
    ('{after = 60, to = "manager"}', '{after = 60, to = ""}',
     "s.toml line 36, key 'escalation.urgent[2].to': expected \"lead\", \"manager\" or the name of a person"),
    ('{after = 60, to = "manager"}', '{after = 60, to = "manager", by = "mail"}',
     "s.toml line 36, key 'escalation.urgent[2].by': unknown key"),
    ('{after = 60, to = "manager"}', '{to = "manager"}', "s.toml line 36, key 'escalation.urgent[2].after': missing"),
    ("urgent = [", "asap = [", "s.toml line 36, key 'escalation.asap': unknown key (allowed here: any, low"),
    ('timezone = "UTC"', 'timezone = "Mars/Base"', "s.toml line 12, key 'calendars.always.timezone': unknown time"),
    ('tue = ["08:00-16:00"]', 'tue = ["16:00-08:00"]',
     "s.toml line 9, key 'calendars.office.hours.tue': interval '16:00-08:00' ends before it starts"),
    ('holidays = ["2026-12-24"]', 'holidays = ["24.12.2026"]',
     "s.toml line 5, key 'calendars.office.holidays': '24.12.2026' is not a date"),
    ('holidays = ["2026-12-24"]', 'closed = true', "s.toml line 5, key 'calendars.office.closed': unknown key"),
    ('default_calendar = "office"', 'default_calendar = "office"\nescalate = true',
     "s.toml line 2, key 'escalate': unknown key"),
])
def test_a_malformed_policy_names_line_and_key(old, new, expected):
    assert old in SLA
    assert _policy_error(SLA.replace(old, new, 1)).startswith(expected)


def test_a_department_calendar_must_be_in_the_policy():
    routing = parse_routing(ROUTING.replace('calendar = "office"', 'calendar = "night"'), "r.toml")
    with pytest.raises(CaseConfigError, match=r"^r.toml line 27, key 'departments.delivery.calendar': calendar "
                                              r"'night' is not defined in the service-level policy s.toml"):
        config.check(routing, parse_policy(SLA, "s.toml"), ROUTING.replace('"office"', '"night"'))
    config.check(parse_routing(ROUTING, "r.toml"), parse_policy(SLA, "s.toml"))  # office is defined


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CaseConfigError, match="no.toml: no such file"):
        config.load_routing(tmp_path / "no.toml")


# -- the bundled defaults ------------------------------------------------------------------------------


def test_the_defaults_route_every_factor_of_every_shipped_taxonomy():
    routing = config.default_routing()
    by_factor = {r.factor: r.department for r in routing.routes if r.country is None and r.store is None}
    factors = {f for name in builtin_names() for f in load_taxonomy(name).ids}
    assert set(builtin_names()) >= {"retail", "telecom", "banking", "healthcare", "hotels", "restaurants"}
    assert factors - set(by_factor) == set()
    assert {f: by_factor[f] for f in load_taxonomy("retail").ids} == {
        "delivery": "delivery", "installation": "installation", "product_quality": "service", "price": "sales",
        "staff": "stores", "returns": "returns", "website": "e-commerce", "call_centre": "customer_service",
        "availability": "sales", "payment": "finance", "store": "stores"}
    # no invented people: a real store must not get agents it does not have
    assert routing.departments == {}
    assert (routing.default_department, routing.triage_department, routing.proactive_department) == (
        "customer_service", "triage", "customer_service")


def test_the_default_policy_keeps_the_promises_of_the_docs():
    policy = config.default_policy()
    by_scope = {(t.priority, t.channel): t for t in policy.targets}
    social = by_scope[(None, "social")]
    assert social.first_response == 60 and social.calendar == "always"
    assert policy.calendars["always"].weekly_open_minutes == 7 * 1440
    assert by_scope[(None, None)].first_response == 360 and by_scope[(None, None)].calendar is None
    office = policy.calendars[policy.default_calendar]
    assert office.timezone == "Europe/Warsaw" and office.weekly_open_minutes == 5 * 600
    assert [lv.to for lv in policy.escalation[None]] == ["lead", "manager"]
    assert policy.escalation[None][0].after_minutes == 0
    assert len(policy.escalation["urgent"]) > len(policy.escalation[None])
    config.check(config.default_routing(), policy)


def test_the_defaults_are_shipped_as_package_data():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["centric"]
    shipped = {p.relative_to(config.DEFAULTS.parents[1]).as_posix() for p in config.DEFAULTS.glob("*.toml")}
    assert shipped == {"cases/defaults/routing.toml", "cases/defaults/sla.toml"}
    assert "cases/defaults/*.toml" in data


# -- the active configuration ------------------------------------------------------------------------------


def test_active_is_the_default_until_a_file_is_saved_then_the_latest(tmp_path):
    path = tmp_path / "c.duckdb"
    with Store.open(path) as store:
        assert config.active(store) == (config.default_routing(), config.default_policy())
        t0 = dt.datetime(2026, 10, 1, 9)
        with store.transaction() as con:
            config.save(con, "routing", ROUTING, "routing.toml", t0)
        routing, policy = config.active(store)
        assert routing == parse_routing(ROUTING, "routing.toml") and policy == config.default_policy()
        second = ROUTING.replace('base = "normal"', 'base = "high"')
        with store.transaction() as con:
            config.save(con, "routing", second, "routing2.toml", t0 + dt.timedelta(hours=1))
            config.save(con, "sla", SLA, "sla.toml", t0 + dt.timedelta(hours=1))
        assert store.count("case_config") == 3
    with Store.open(path, read_only=True) as store:  # the service team may only read the store
        routing, policy = config.active(store)
        assert routing.base_priority == "high" and routing.source == "routing2.toml"
        assert policy == parse_policy(SLA, "sla.toml")


def test_save_refuses_an_invalid_file_and_keeps_the_active_one(store):
    now = dt.datetime(2026, 10, 1, 9)
    with pytest.raises(CaseConfigError, match=r"^routing.toml line 5, key 'priority.base'"):
        with store.transaction():
            config.save(store, "routing", ROUTING.replace('"normal"', '"asap"'), "routing.toml", now)
    with pytest.raises(CaseConfigError, match="unknown configuration 'calendar'"):
        config.save(store, "calendar", SLA, "x.toml", now)
    assert store.count("case_config") == 0


def test_save_checks_the_pair_unless_told_both_change(store):
    now = dt.datetime(2026, 10, 1, 9)
    night = ROUTING.replace('calendar = "office"', 'calendar = "night"')
    with pytest.raises(CaseConfigError, match=r"^routing.toml line 27, key 'departments.delivery.calendar'"):
        with store.transaction():
            config.save(store, "routing", night, "routing.toml", now)
    assert store.count("case_config") == 0
    sla = SLA + '\n[calendars.night]\ntimezone = "UTC"\nhours = { mon = ["20:00-24:00"] }\n'
    with store.transaction():
        config.save(store, "routing", night, "routing.toml", now, check_pair=False)
        config.save(store, "sla", sla, "sla.toml", now)
    routing, policy = config.active(store)
    assert routing.departments["delivery"].calendar == "night" and "night" in policy.calendars
    with pytest.raises(CaseConfigError, match="calendar 'night' is not defined in the service-level policy"):
        with store.transaction():  # a policy without the calendar the routing table uses
            config.save(store, "sla", SLA, "sla2.toml", now + dt.timedelta(hours=1))


def test_an_unknown_table_a_missing_timezone_and_the_other_kind_of_file_are_named():
    assert _policy_error(SLA + "\n[holidays]\nxmas = 1\n").startswith("s.toml line 38, key 'holidays': unknown key")
    assert _policy_error(SLA.replace('timezone = "UTC"\n', "")) \
        .startswith("s.toml line 11: key 'calendars.always.timezone' is missing")
    assert _routing_error(SLA) == ("r.toml line 1, key 'default_calendar': unknown key: this looks like a "
                                   "service-level policy (load it with --sla)")
    assert _policy_error(ROUTING) == ("s.toml line 1, key 'default_department': unknown key: this looks like a "
                                      "routing table (load it with --routing)")


def test_the_examples_and_errors_in_the_docs_are_true():
    import re

    doc = (Path(__file__).parents[1] / "docs" / "cases.md").read_text(encoding="utf-8")
    routing_doc = doc[doc.index("\n## Routing"):doc.index("\n## Service-level policy")]
    start = doc.index("\n## Service-level policy")
    policy_doc = doc[start:doc.find("\n## ", start + 1) if doc.find("\n## ", start + 1) > 0 else None]
    routing_text = re.search(r"```toml\n(.*?)```", routing_doc, re.S).group(1)
    policy_text = re.search(r"```toml\n(.*?)```", policy_doc, re.S).group(1)
    routing, policy = parse_routing(routing_text, "routing.toml"), parse_policy(policy_text, "sla.toml")
    config.check(routing, policy, routing_text)
    assert routing.departments["delivery"].calendar == "office" and len(policy.escalation["urgent"]) == 3
    shown = re.findall(r"^error: (.*)$", routing_doc + policy_doc, re.M)
    made = []
    for bad, parse in [
        (re.sub(r'\ndepartment = "delivery_it"', "", routing_text), parse_routing),
        (routing_text.replace("vip_share = 0.1 ", "vip_share = 1.5 "), parse_routing),
    ]:
        with pytest.raises(CaseConfigError) as e:
            parse(bad, "routing.toml")
        made.append(str(e.value))
    for bad in [policy_text.replace("first_response = 60\nresolution = 600", "first_response = -30\nresolution = 600"),
                policy_text.replace('tue = ["08:00-18:00"]', 'tue = ["16:00-08:00"]')]:
        with pytest.raises(CaseConfigError) as e:
            parse_policy(bad, "sla.toml")
        made.append(str(e.value))
    assert shown == made
