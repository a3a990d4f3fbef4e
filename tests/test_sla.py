"""The SLA engine: calendars, due times in business time, and `centric sla due`.

The engine is checked against a brute-force reference written here independently: walk UTC minute by minute,
convert each minute to local wall-clock time with zoneinfo, and count it when it is open, not a holiday and not
paused."""

from __future__ import annotations

import datetime as dt
import json
import random
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from centric.cases.calendar import DAYS, Calendar, CalendarError, load_calendar, parse_calendar
from centric.cases.sla import SlaError, due, due_many
from centric.cli import app
from centric.errors import CentricError

from .engines import DUCK_PG

UTC = dt.UTC
T = dt.datetime.fromisoformat


def cal(tz: str, holidays=(), **days) -> Calendar:
    hours = "\n".join(f"{d} = {json.dumps(v)}" for d, v in days.items())
    return parse_calendar(f'timezone = "{tz}"\nholidays = {json.dumps(list(holidays))}\n[hours]\n{hours}\n')


def iso(d: dt.datetime) -> str:
    return d.astimezone(UTC).isoformat()


# --- hand-computed answers -----------------------------------------------------------------------------------

WEEKDAYS = cal("Europe/Warsaw", holidays=["2026-12-24"], mon=["09:00-17:00"], tue=["09:00-17:00"],
               wed=["09:00-12:00", "13:00-17:00"], thu=["09:00-17:00"], fri=["09:00-17:00"])


@pytest.mark.parametrize(("start", "minutes", "expected"), [
    ("2026-03-02T10:00:00+01:00", 30, "2026-03-02T09:30:00+00:00"),  # inside hours, same day
    ("2026-03-02T16:30:00+01:00", 60, "2026-03-03T08:30:00+00:00"),  # overnight: 30 min Mon + 30 min Tue
    ("2026-03-02T07:00:00+01:00", 15, "2026-03-02T08:15:00+00:00"),  # before opening counts from 09:00
    ("2026-03-04T11:30:00+01:00", 60, "2026-03-04T12:30:00+00:00"),  # lunch break on Wednesday
    ("2026-03-06T16:00:00+01:00", 120, "2026-03-09T09:00:00+00:00"),  # over the weekend
    ("2026-03-07T12:00:00+01:00", 10, "2026-03-09T08:10:00+00:00"),  # start on a Saturday
    ("2026-03-02T16:00:00+01:00", 60, "2026-03-02T16:00:00+00:00"),  # ends exactly at closing: closing time
    ("2026-03-02T20:00:00+01:00", 0, "2026-03-02T19:00:00+00:00"),  # 0 minutes: the start itself
    ("2026-12-23T16:00:00+01:00", 120, "2026-12-25T09:00:00+00:00"),  # Thu 24 Dec is a holiday
    ("2026-12-24T10:00:00+01:00", 5, "2026-12-25T08:05:00+00:00"),  # start on the holiday
    ("2026-03-06T16:59:30.250+01:00", 1, "2026-03-09T08:00:30.250000+00:00"),  # 29.75 s Fri + 30.25 s Mon
    ("2026-03-02T09:00:00-05:00", 60, "2026-03-02T15:00:00+00:00"),  # start given in another offset (15:00 CET)
])
def test_known_answers(start, minutes, expected):
    assert iso(due(WEEKDAYS, T(start), minutes)) == expected


def test_pauses_known_answers():
    start = T("2026-03-02T09:00:00+01:00")  # Monday
    # pauses overlap each other, one starts before the start, given out of order: paused 08:00–10:30 and 11:00–11:15
    pauses = [(T("2026-03-02T11:00:00+01:00"), T("2026-03-02T11:15:00+01:00")),
              (T("2026-03-02T08:00:00+01:00"), T("2026-03-02T10:00:00+01:00")),
              (T("2026-03-02T09:30:00+01:00"), T("2026-03-02T10:30:00+01:00"))]
    assert iso(due(WEEKDAYS, start, 60, pauses)) == "2026-03-02T10:45:00+00:00"  # 10:30–11:00, 11:15–11:45
    # a pause in closed time changes nothing; one that covers the rest of the day moves it to Tuesday
    assert iso(due(WEEKDAYS, start, 60, [(T("2026-03-02T18:00:00+01:00"), T("2026-03-02T20:00:00+01:00"))])) \
        == "2026-03-02T09:00:00+00:00"
    assert iso(due(WEEKDAYS, start, 60, [(T("2026-03-02T09:20:00+01:00"), T("2026-03-03T09:10:00+01:00"))])) \
        == "2026-03-03T08:50:00+00:00"  # 20 min Monday, then 40 min from 09:10 Tuesday
    # the time runs out exactly where a pause begins: due then, not after the pause
    assert iso(due(WEEKDAYS, start, 30, [(T("2026-03-02T09:30:00+01:00"), T("2026-03-02T12:00:00+01:00"))])) \
        == "2026-03-02T08:30:00+00:00"
    # 0 minutes inside a pause is still the start
    assert iso(due(WEEKDAYS, start, 0, [(T("2026-03-02T08:00:00+01:00"), T("2026-03-02T12:00:00+01:00"))])) \
        == "2026-03-02T08:00:00+00:00"


def test_daylight_saving_in_warsaw():
    # Sunday 01:00–04:00 local. On 29 March 2026 02:00 CET jumps to 03:00 CEST: the open time is two hours,
    # 00:00–01:00 and 01:00–02:00 UTC. On 25 October 03:00 CEST falls back to 02:00 CET: 02:00–03:00 happens twice
    # and the open time is four hours, 23:00 (24 Oct) – 03:00 UTC.
    c = cal("Europe/Warsaw", sun=["01:00-04:00"])
    spring = T("2026-03-29T00:00:00+00:00")
    assert iso(due(c, spring, 90)) == "2026-03-29T01:30:00+00:00"  # 03:30 CEST
    assert iso(due(c, spring, 120)) == "2026-03-29T02:00:00+00:00"
    assert iso(due(c, spring, 121)) == "2026-04-04T23:01:00+00:00"  # next Sunday 01:01 CEST
    autumn = T("2026-10-25T01:00:00+02:00")
    assert iso(due(c, autumn, 90)) == "2026-10-25T00:30:00+00:00"  # 02:30 CEST, the first 02:30
    assert iso(due(c, autumn, 150)) == "2026-10-25T01:30:00+00:00"  # 02:30 CET, the second 02:30
    assert iso(due(c, autumn, 240)) == "2026-10-25T03:00:00+00:00"
    assert iso(due(c, autumn, 241)) == "2026-11-01T00:01:00+00:00"


def test_daylight_saving_in_new_york():
    # Sunday 01:30–02:30 local. 8 March 2026: 02:00 EST jumps to 03:00 EDT, so only 01:30–02:00 EST is open.
    # 1 November: 02:00 EDT falls back to 01:00 EST; 01:30–02:00 happens twice, then 02:00–02:30 EST: 90 minutes.
    c = cal("America/New_York", sun=["01:30-02:30"])
    assert iso(due(c, T("2026-03-08T06:00:00+00:00"), 30)) == "2026-03-08T07:00:00+00:00"
    assert iso(due(c, T("2026-03-08T06:00:00+00:00"), 31)) == "2026-03-15T05:31:00+00:00"
    assert iso(due(c, T("2026-11-01T05:00:00+00:00"), 31)) == "2026-11-01T06:31:00+00:00"
    assert iso(due(c, T("2026-11-01T05:00:00+00:00"), 60)) == "2026-11-01T07:00:00+00:00"
    assert iso(due(c, T("2026-11-01T05:00:00+00:00"), 90)) == "2026-11-01T07:30:00+00:00"
    # an interval wholly inside the skipped hour never opens that day
    skipped = cal("America/New_York", sun=["02:10-02:50"])
    assert iso(due(skipped, T("2026-03-08T00:00:00-05:00"), 1)) == "2026-03-15T06:11:00+00:00"


def test_whole_days_and_midnight():
    c = cal("Asia/Kolkata", sat=["00:00-24:00"], sun=["00:00-24:00"])  # +05:30, no daylight saving
    assert iso(due(c, T("2026-03-06T12:00:00+05:30"), 48 * 60)) == "2026-03-08T18:30:00+00:00"
    assert iso(due(c, T("2026-03-06T12:00:00+05:30"), 48 * 60 + 1)) == "2026-03-13T18:31:00+00:00"


def test_calendar_without_enough_open_time_is_an_error():
    c = cal("UTC", holidays=[], mon=["09:00-09:01"])
    with pytest.raises(SlaError, match="within 10 years"):
        due(c, T("2026-03-02T00:00:00+00:00"), 10_000)
    assert iso(due(c, T("2026-03-02T00:00:00+00:00"), 52)) == "2027-02-22T09:01:00+00:00"


def test_due_many_matches_due_and_keeps_order():
    rng = random.Random(3)
    starts = [dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=rng.randrange(500_000)) for _ in range(300)]
    minutes = [rng.randrange(0, 3000) for _ in starts]
    got = due_many(WEEKDAYS, np.array([int(s.timestamp()) * 10**6 for s in starts]), np.array(minutes))
    assert [int(g) for g in got] == [int(due(WEEKDAYS, s, m).timestamp()) * 10**6 for s, m in zip(starts, minutes, strict=True)]


def test_bad_clocks_are_refused():
    with pytest.raises(SlaError, match="minutes: must be a whole number"):
        due(WEEKDAYS, T("2026-03-02T09:00:00+01:00"), -5)
    with pytest.raises(SlaError, match="no UTC offset"):
        due(WEEKDAYS, dt.datetime(2026, 3, 2, 9), 5)
    with pytest.raises(SlaError, match="ends before it begins"):
        due(WEEKDAYS, T("2026-03-02T09:00:00+01:00"), 5, [(T("2026-03-02T10:00:00+01:00"),
                                                            T("2026-03-02T09:00:00+01:00"))])


# --- the calendar file ---------------------------------------------------------------------------------------

def test_calendar_file(tmp_path):
    p = tmp_path / "cal.toml"
    p.write_text('timezone = "Europe/Warsaw"\nholidays = ["2026-12-24", 2026-12-25]\n[hours]\n'
                 'mon = ["08:00-12:00", "13:00 - 17:00", "11:00-12:30"]\nsat = []\nsun = ["22:00-24:00"]\n')
    c = load_calendar(p)
    assert c.timezone == "Europe/Warsaw"
    assert c.hours[0] == ((480, 750), (780, 1020))  # overlapping intervals joined
    assert c.hours[1] == () and c.hours[5] == () and c.hours[6] == ((1320, 1440),)
    assert c.holidays == {dt.date(2026, 12, 24), dt.date(2026, 12, 25)}
    assert c.weekly_open_minutes == 270 + 240 + 120


@pytest.mark.parametrize(("text", "message"), [
    ('timezone = "Europe/Warsaw"\n[hours]\nmon = ["09:00-08:00"]\n',
     "cal.toml line 3, key 'hours.mon': interval '09:00-08:00' ends before it starts"),
    ('timezone = "Europe/Warsaw"\n[hours]\nmon = ["09:00-24:30"]\n', "line 3, key 'hours.mon': .*outside 00:00–24:00"),
    ('timezone = "Europe/Warsaw"\n[hours]\nmon = ["24:00-24:00"]\n', "line 3, key 'hours.mon': .*outside"),
    ('timezone = "Europe/Warsaw"\n[hours]\ntue = ["09:00-09:00"]\n', "line 3, key 'hours.tue': .*empty"),
    ('timezone = "UTC"\n[hours]\nmon = ["7-9"]\ntue = [\n  "08:00-12:00",\n  "7-9",\n]\n', "line 3, key 'hours.mon'"),
    ('timezone = "UTC"\n[hours]\nmon = ["08:00-12:00"]\ntue = [\n  "08:00-12:00",\n  "13:00-12:00",\n]\n',
     "line 6, key 'hours.tue': interval '13:00-12:00'"),
    ('timezone = "Europe/Warsaw"\n[hours]\nmon = ["9-17"]\n', "line 3, key 'hours.mon': '9-17' is not an interval"),
    ('timezone = "Europe/Warsaw"\n[hours]\nmon = "09:00-17:00"\n', "line 3, key 'hours.mon': expected a list"),
    ('timezone = "Europe/Warsaw"\n[hours]\nmonday = ["09:00-17:00"]\n', "line 3, key 'hours.monday': unknown day"),
    ('timezone = "Europe/Warsaw"\nopen = 1\n[hours]\nmon = ["09:00-17:00"]\n', "line 2, key 'open': unknown key"),
    ('timezone = "Mars/Olympus"\n[hours]\nmon = ["09:00-17:00"]\n', "line 1, key 'timezone': unknown time zone"),
    ('[hours]\nmon = ["09:00-17:00"]\n', "key 'timezone' is missing"),
    ('timezone = "UTC"\nholidays = ["2026-02-30"]\n[hours]\nmon = ["09:00-17:00"]\n',
     "line 2, key 'holidays': '2026-02-30' is not a date"),
    ('timezone = "UTC"\n[hours]\nsat = []\n', "line 2, key 'hours': the calendar is never open"),
    ('timezone = "UTC"\n[hours\nmon = 1\n', r"cal.toml: not valid TOML \(.*line 2"),
])
def test_malformed_calendar_names_file_line_and_key(text, message):
    with pytest.raises(CalendarError, match=message):
        parse_calendar(text, "cal.toml")


def test_calendar_built_in_code_is_checked_too():
    with pytest.raises(CalendarError, match="never open"):
        Calendar("UTC", ((),) * 7)
    with pytest.raises(CalendarError, match="unknown time zone"):
        Calendar("Nowhere/Town", (((0, 60),),) * 7)


# --- against the brute-force reference -----------------------------------------------------------------------

# Windows of UTC minutes around daylight-saving changes (and in zones without them).
WINDOWS = [("Europe/Warsaw", "2026-03-20"), ("Europe/Warsaw", "2026-10-16"),
           ("America/New_York", "2026-02-27"), ("America/New_York", "2026-10-23"),
           ("Asia/Tokyo", "2026-06-10"), ("Asia/Kolkata", "2026-12-18"),
           ("Australia/Lord_Howe", "2026-03-27"),  # half-hour daylight saving, southern hemisphere
           ("America/Sao_Paulo", "2018-10-26"),  # the clocks went forward at midnight: 00:00–01:00 never was
           ("Pacific/Apia", "2011-12-21"),  # 30 December 2011 was skipped altogether
           ("Europe/Warsaw", "1915-07-25")]  # before 1970, from Warsaw mean time (+01:24) to CET
WINDOW_DAYS = 18


def _wall_minutes(tz: str, first: str) -> tuple[dt.datetime, list[tuple[dt.date, int]]]:
    """For every UTC minute of the window: its local date and minute of the local day (zoneinfo)."""
    zone = ZoneInfo(tz)
    t0 = dt.datetime.fromisoformat(first).replace(tzinfo=UTC)
    out = []
    for i in range(WINDOW_DAYS * 1440):
        local = (t0 + dt.timedelta(minutes=i)).astimezone(zone)
        out.append((local.date(), local.hour * 60 + local.minute))
    return t0, out


def _random_calendar(rng: random.Random, tz: str, dates: list[dt.date]) -> tuple[dict, Calendar]:
    hours = {}
    for day in DAYS:
        if rng.random() < 0.25:
            continue
        spans = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            a = rng.randrange(0, 24 * 60, rng.choice([1, 15, 30, 60]))
            b = rng.choice([a + rng.randrange(1, 10 * 60), 24 * 60])
            b = min(b, 24 * 60)
            spans.append(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}")
        hours[day] = spans
    if not any(hours.values()):
        hours["mon"] = ["00:00-24:00"]
    holidays = sorted({rng.choice(dates).isoformat() for _ in range(rng.randrange(0, 4))})
    text = f'timezone = "{tz}"\nholidays = {json.dumps(holidays)}\n[hours]\n' + "".join(
        f"{d} = {json.dumps(v)}\n" for d, v in hours.items())
    return {"hours": hours, "holidays": holidays}, parse_calendar(text)


def _reference_open(spec: dict, wall: list[tuple[dt.date, int]]) -> list[bool]:
    spans = {DAYS.index(d): [(int(s[:2]) * 60 + int(s[3:5]), int(s[6:8]) * 60 + int(s[9:11])) for s in v]
             for d, v in spec["hours"].items()}
    holidays = {dt.date.fromisoformat(h) for h in spec["holidays"]}
    day_open = {}  # local date → open flag of each minute of that local day
    for day in {d for d, _ in wall}:
        flags = [False] * 1440
        if day not in holidays:
            for a, b in spans.get(day.weekday(), ()):
                flags[a:b] = [True] * (b - a)
        day_open[day] = flags
    return [day_open[day][minute] for day, minute in wall]


def _reference_due(is_open: list[bool], start: int, minutes: int, pauses: list[tuple[int, int]]) -> int | None:
    """Minute index at which `minutes` open, unpaused minutes have passed after minute `start` (walked)."""
    if minutes == 0:
        return start
    paused = bytearray(len(is_open))
    for a, b in pauses:
        paused[max(a, 0):max(b, 0)] = b"\1" * (max(b, 0) - max(a, 0))
    left = minutes
    for i in range(start, len(is_open)):
        if is_open[i] and not paused[i]:
            left -= 1
            if left == 0:
                return i + 1
    return None


def test_against_brute_force_reference():
    rng = random.Random(20261201)
    cases = mismatches = 0
    for tz, first in WINDOWS:
        t0, wall = _wall_minutes(tz, first)
        dates = sorted({d for d, _ in wall})
        for _ in range(30):
            spec, calendar = _random_calendar(rng, tz, dates)
            is_open = _reference_open(spec, wall)
            clocks = []
            for _ in range(24):
                start = rng.randrange(0, 12 * 1440)
                if rng.random() < 0.3:  # start on a holiday or around a clock change, where it is hardest
                    start = rng.randrange(6 * 1440, 10 * 1440)
                minutes = rng.choice([0, 1, rng.randrange(1, 120), rng.randrange(1, 3000)])
                pauses = []
                for _ in range(rng.choice([0, 0, 1, 2, 4])):
                    a = start + rng.randrange(-600, 3 * 1440)
                    pauses.append((a, a + rng.randrange(0, 2 * 1440)))
                want = _reference_due(is_open, start, minutes, pauses)
                if want is not None:
                    clocks.append((start, minutes, pauses, want))
            us = 60 * 10**6
            base = int(t0.timestamp()) * 10**6
            pl = [k for k, c in enumerate(clocks) for _ in c[2]]
            ps = [base + a * us for c in clocks for a, _ in c[2]]
            pe = [base + b * us for c in clocks for _, b in c[2]]
            got = due_many(calendar, np.array([base + c[0] * us for c in clocks]), np.array([c[1] for c in clocks]),
                           (np.array(pl, dtype=np.int64), np.array(ps, dtype=np.int64), np.array(pe, dtype=np.int64)))
            for (start, minutes, pauses, want), g in zip(clocks, got, strict=True):
                cases += 1
                if int(g) != base + want * us:
                    mismatches += 1
                    print("mismatch", tz, spec, start, minutes, pauses, want, (int(g) - base) / us)
    assert cases > 3000
    assert mismatches == 0


# --- the command line ----------------------------------------------------------------------------------------

CAL = 'timezone = "Europe/Warsaw"\nholidays = ["2026-12-24"]\n[hours]\nmon = ["09:00-17:00"]\nfri = ["09:00-17:00"]\n'


def _run(tmp_path, lines: list[str], calendar: str = CAL, db: str | None = None):
    (tmp_path / "cal.toml").write_text(calendar, encoding="utf-8")
    (tmp_path / "in.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return CliRunner().invoke(app, [*(["--db", db] if db else []), "sla", "due", "--calendar", str(tmp_path / "cal.toml"), "--in",
                                    str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.jsonl")])


@pytest.mark.capability("sla", engines=DUCK_PG)
def test_cli_writes_due_times_in_input_order(tmp_path, engine):
    r = _run(tmp_path, db=engine.empty_db(), lines=[
        '{"id": "c-1", "start": "2026-03-06T16:00:00+01:00", "minutes": 120}',
        '',
        '{"id": 7, "start": "2026-03-09T08:00:00Z", "minutes": 30, "pauses": [["2026-03-09T09:00:00+01:00", '
        '"2026-03-09T10:00:00+01:00"]], "note": "ignored"}',
        '{"id": "zażółć \\"x\\"", "start": "2026-12-23T12:00:00-05:00", "minutes": 0, "pauses": []}',
        '{"id": 1.5, "start": "2026-12-21T16:59:59.5+01:00", "minutes": 1}',
    ])
    assert r.exit_code == 0, r.output
    assert "4 due times" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.toml", "in.jsonl", "out.jsonl"]  # no temporary file
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out == [
        {"id": "c-1", "due": "2026-03-09T09:00:00+00:00"},
        {"id": 7, "due": "2026-03-09T09:30:00+00:00"},
        {"id": 'zażółć "x"', "due": "2026-12-23T17:00:00+00:00"},
        {"id": 1.5, "due": "2026-12-25T08:00:59.500000+00:00"},
    ]


def test_cli_refuses_bad_lines_and_lists_them(tmp_path):
    (tmp_path / "out.jsonl").write_text("previous\n", encoding="utf-8")
    r = _run(tmp_path, [
        '{"id": 1, "start": "2026-03-06T16:00:00+01:00", "minutes": 120}',
        '{"id": 2, "start": "2026-03-06T16:00:00", "minutes": 1}',
        '{"id": 3, "start": "yesterday", "minutes": 1}',
        '{"id": 4, "start": "2026-03-06T16:00:00Z", "minutes": 1.5}',
        '{"id": 5, "start": "2026-03-06T16:00:00Z", "minutes": 1, "pauses": [["2026-03-06T17:00:00Z", '
        '"2026-03-06T16:00:00Z"]]}',
        '{"id": 6, "start": "2026-03-06T16:00:00Z"',
        '{"id": [6], "start": "2026-03-06T16:00:00Z", "minutes": 1}',
        '{"start": "2026-03-06T16:00:00Z", "minutes": 1}',
        '[1, 2]',
        '{"id": 10, "start": "2026-03-06T16:00:00Z", "minutes": true}',
    ])
    assert r.exit_code == 2
    text = r.output.replace("\n", " ")
    for n, field in [(2, "field 'start': '2026-03-06T16:00:00' has no UTC offset"),
                     (3, "field 'start': 'yesterday' is not an ISO-8601"),
                     (4, "field 'minutes': 1.5 is not a whole number"),
                     (5, "field 'pauses[0]': the pause ends before it begins"),
                     (6, "not valid JSON"), (7, "field 'id': must be a string or a number"),
                     (8, "field 'id' is missing"), (9, "expected an object"),
                     (10, "field 'minutes': True is not a whole number")]:
        assert f"in.jsonl line {n}: {field}" in text
    assert "line 1:" not in text and "Traceback" not in text
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == "previous\n"  # untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_cli_reports_clocks_that_never_fall_due(tmp_path):
    lines = ['{"id": 1, "start": "2026-03-06T16:00:00Z", "minutes": 5}',
             '{"id": 2, "start": "2026-03-06T16:00:00Z", "minutes": 1000000}',  # the calendar: 16 h a week
             '{"id": 3, "start": "2026-03-06T16:00:00Z", "minutes": 100000000000000000000000}',
             '{"id": 4, "start": "1066-10-14T09:00:00Z", "minutes": 5}']
    r = _run(tmp_path, lines)
    assert r.exit_code == 2
    text = r.output.replace("\n", " ")
    assert "in.jsonl line 3: field 'minutes': would not fall due within 10 years" in text
    assert "in.jsonl line 4: field 'start': must lie in the years 1900–2200" in text
    r = _run(tmp_path, lines[:2])  # found once the clocks are computed
    assert r.exit_code == 2
    assert "in.jsonl line 2: field 'minutes': would not fall due within 10 years" in r.output.replace("\n", " ")
    assert not (tmp_path / "out.jsonl").exists()


def test_cli_bad_calendar_and_missing_files(tmp_path):
    r = _run(tmp_path, ['{"id": 1, "start": "2026-03-06T16:00:00Z", "minutes": 5}'],
             calendar='timezone = "Europe/Warsaw"\n[hours]\nmon = ["17:00-09:00"]\n')
    assert r.exit_code == 2 and "cal.toml line 3, key 'hours.mon'" in r.output.replace("\n", " ")
    r = CliRunner().invoke(app, ["sla", "due", "--calendar", str(tmp_path / "nope.toml"), "--in", "x", "--out", "y"])
    assert r.exit_code == 2 and "nope.toml: no such file" in r.output.replace("\n", " ")
    (tmp_path / "cal.toml").write_text(CAL, encoding="utf-8")
    r = CliRunner().invoke(app, ["sla", "due", "--calendar", str(tmp_path / "cal.toml"), "--in",
                                 str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2 and "missing.jsonl: no such file" in r.output.replace("\n", " ")
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"id": 1, "start": "2026-03-06T16:00:00Z", "minutes": 5}\n')
    r = CliRunner().invoke(app, ["sla", "due", "--calendar", str(tmp_path / "cal.toml"), "--in",
                                 str(tmp_path / "bom.jsonl"), "--out", str(tmp_path / "no" / "such" / "o.jsonl")])
    assert r.exit_code == 2 and "No such file or directory" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["sla", "due", "--calendar", str(tmp_path / "cal.toml"), "--in",
                                 str(tmp_path / "bom.jsonl"), "--out", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 0 and (tmp_path / "o.jsonl").read_text() == '{"id": 1, "due": "2026-03-09T08:05:00+00:00"}\n'


def _clock_lines(ids) -> list[str]:
    rng = random.Random(11)
    out = []
    for ident in ids:
        t = dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=rng.randrange(360 * 86400),
                                                               microseconds=rng.choice([0, 0, 250_000]))
        local = t.astimezone(dt.timezone(dt.timedelta(minutes=rng.choice([60, 120, 0, -300, 330]))))
        rec = {"id": ident, "start": local.isoformat().replace("+00:00", "Z"), "minutes": rng.randrange(0, 2000)}
        if rng.random() < 0.4:
            rec["pauses"] = [[(t + dt.timedelta(minutes=m)).isoformat(), (t + dt.timedelta(minutes=m + d)).isoformat()]
                             for m, d in ((rng.randrange(-60, 2000), rng.randrange(0, 900)) for _ in range(2))]
        out.append(json.dumps(rec, ensure_ascii=False))
    return out


@pytest.mark.parametrize("ids", [[f"c-{i}" for i in range(400)], list(range(400))], ids=["strings", "numbers"])
def test_vectorised_reader_equals_line_reader(tmp_path, ids):
    from centric.cases.sla_file import _read_fast, read_clocks, run, write_dues

    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_clock_lines(ids)) + "\n", encoding="utf-8")
    fast, slow = _read_fast(src), read_clocks(src)
    assert fast is not None  # a well-formed file takes the vectorised path
    assert fast.starts.tolist() == slow.starts.tolist() and fast.minutes.tolist() == slow.minutes.tolist()
    assert [a.tolist() for a in fast.pauses] == [a.tolist() for a in slow.pauses]
    assert run(WEEKDAYS, src, tmp_path / "fast.jsonl") == 400
    write_dues(tmp_path / "slow.jsonl", slow.ids, due_many(WEEKDAYS, slow.starts, slow.minutes, slow.pauses))
    assert (tmp_path / "fast.jsonl").read_bytes() == (tmp_path / "slow.jsonl").read_bytes()
    out = [json.loads(line) for line in (tmp_path / "fast.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ids


def test_fast_iso_forms_read_as_fromisoformat_reads_them():
    import itertools
    import re

    import pyarrow as pa
    import pyarrow.compute as pc

    from centric.cases.sla_file import ISO_FAST

    forms = ["".join(p) for p in itertools.product(
        ["2026-03-06", "2024-02-29", "1900-01-01", "2199-12-31"], ["T", " "],
        ["16:07", "16:07:59", "00:00:00", "23:59:59.5", "12:00:00.123456", "08:30:00.000"],
        ["Z", "+01:00", "+0100", "-05:30", "-0530", "+14:00", "-12:00", "+00:00", "+23:59"])]
    assert all(re.match(ISO_FAST, f) for f in forms)
    arrow = pc.cast(pc.cast(pa.array(forms), pa.timestamp("us", tz="UTC")), pa.int64()).to_pylist()
    assert arrow == [(T(f) - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1) for f in forms]
    for other in ["2026-03-06T16:07:00", "2026-03-06T16+01:00", "2026-03-06T16:07:00+24:00", "20260306T160700Z",
                  "2026-03-06T16:07:00.1234567Z", "2026-03-06t16:07:00Z"]:
        assert not re.match(ISO_FAST, other)


def test_unusual_files_take_the_line_reader_with_the_same_answers(tmp_path):
    from centric.cases.sla_file import _columns, _read_fast, run

    ids = ["a", 1, "b", 2.5, "c", 3] * 5  # mixed id types
    lines = _clock_lines(ids)
    records = [json.loads(line) for line in lines]
    assert _columns(records[:3]) is not None and _columns(records) is None  # a float id: record by record
    assert _columns([*records[:3], {**records[0], "minutes": True}]) is None
    spaced = [line.replace("T", " ", 1) if i % 3 else line for i, line in enumerate(lines)]  # "2026-… 16:…"
    for name, text in [("mixed", "\n".join(lines)), ("blank", "\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:])),
                       ("crlf", "\r\n".join(lines) + "\r\n"), ("ints and strings", "\n".join(lines[:3])),
                       ("spaced", "\n".join(spaced))]:
        src = tmp_path / f"{name}.jsonl"
        src.write_text(text, encoding="utf-8", newline="")
        if name != "crlf":
            assert _read_fast(src) is None
        n = run(WEEKDAYS, src, tmp_path / f"{name}.out")
        got = [json.loads(line) for line in (tmp_path / f"{name}.out").read_text(encoding="utf-8").splitlines()]
        assert [g["id"] for g in got] == ids[:n] and n in (3, 30)
        for g, line in zip(got, spaced if name == "spaced" else lines, strict=False):
            rec = json.loads(line)
            want = due(WEEKDAYS, T(rec["start"]), rec["minutes"], [(T(a), T(b)) for a, b in rec.get("pauses", [])])
            assert g["due"] == iso(want)
    src = tmp_path / "two.jsonl"
    src.write_text(lines[0] + " " + lines[1] + "\n", encoding="utf-8")
    with pytest.raises(CentricError, match="two.jsonl line 1: not valid JSON"):
        run(WEEKDAYS, src, tmp_path / "two.out")


def test_cli_against_brute_force_reference(tmp_path):
    """The same reference through `centric sla due`: files in, files out, times written with offsets."""
    rng = random.Random(7)
    zones = [dt.timezone(dt.timedelta(minutes=m)) for m in (0, 60, 120, -300, 330)]
    for tz, first in [("Europe/Warsaw", "2026-10-16"), ("America/New_York", "2026-02-27")]:
        t0, wall = _wall_minutes(tz, first)
        dates = sorted({d for d, _ in wall})
        for c in range(3):
            spec, _ = _random_calendar(rng, tz, dates)
            is_open = _reference_open(spec, wall)
            lines, want = [], []
            for k in range(60):
                start = rng.randrange(6 * 1440, 10 * 1440)
                minutes = rng.randrange(0, 1500)
                pauses = [(a, a + rng.randrange(0, 600)) for a in (start + rng.randrange(-60, 1440) for _ in range(2))]
                end = _reference_due(is_open, start, minutes, pauses)
                if end is None:
                    continue
                def at(m: int, t0=t0) -> str:
                    return (t0 + dt.timedelta(minutes=m)).astimezone(rng.choice(zones)).isoformat()

                lines.append(json.dumps({"id": f"{c}-{k}", "start": at(start), "minutes": minutes,
                                         "pauses": [[at(a), at(b)] for a, b in pauses]}))
                want.append({"id": f"{c}-{k}", "due": iso(t0 + dt.timedelta(minutes=end))})
            calendar = f'timezone = "{tz}"\nholidays = {json.dumps(spec["holidays"])}\n[hours]\n' + "".join(
                f"{d} = {json.dumps(v)}\n" for d, v in spec["hours"].items())
            r = _run(tmp_path, lines, calendar)
            assert r.exit_code == 0, r.output
            got = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
            assert got == want
