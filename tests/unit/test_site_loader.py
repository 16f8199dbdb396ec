"""The site loader: the default site loads; each kind of mistake is named with its key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hal.points import DataType, Quantity, Table, WordOrder
from necstgen_desk.main import main
from necstgen_desk.site import (
    DEFAULT_SITE_PATH,
    AlarmPolicy,
    AlarmSettings,
    Grade,
    HistorianPolicy,
    InterlockKind,
    Priority,
    SiteError,
    load_site,
    parse_site,
)

GOOD = """
[site]
name = "Mini"
ambient = "AMBIENT"

[[plc]]
id = "P1"
host = "127.0.0.1"
port = 5020

[[space]]
id = "R1"
name = "Room one"
grade = "B"
setpoint_pa = 45
polygon = [[0, 0], [10, 0], [10, 10], [0, 10]]

[[space]]
id = "L1"
name = "Airlock one"
grade = "B"
setpoint_pa = 30
polygon = [[10, 0], [14, 0], [14, 4], [10, 4]]

[[door]]
id = "L1-OUT"
between = ["AMBIENT", "L1"]
at = [14, 2]

[[door]]
id = "L1-IN"
between = ["L1", "R1"]
at = [10, 2]

[[airlock]]
id = "L1"
outer_door = "L1-OUT"
inner_door = "L1-IN"
interlock = "interlocked"

[[point]]
id = "R1.dp"
plc = "P1"
target = "R1"
quantity = "dp"
reference = "L1"
table = "input"
address = 0
type = "float32"
limits = { action_low = 10, alert_low = 12, alert_high = 25, action_high = 30 }

[[point]]
id = "R1.t"
plc = "P1"
target = "R1"
quantity = "temperature"
table = "input"
address = 2
type = "float32"

[[point]]
id = "L1-IN.closed"
plc = "P1"
target = "L1-IN"
quantity = "door_closed"
table = "discrete_input"
address = 0
type = "bool"
"""


def mutate(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def problems_of(text: str) -> list[str]:
    with pytest.raises(SiteError) as info:
        parse_site(text)
    return [str(p) for p in info.value.problems]


def test_default_site_is_the_design_site() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    assert len(site.spaces) == 21
    assert len(site.plcs) == 4
    grades = {s.id: s.grade for s in site.spaces}
    assert grades["B-01"] is Grade.B and grades["C-COR"] is Grade.C
    assert grades["GOWN-C"] is Grade.D and grades["QC-LAB"] is Grade.CNC
    assert site.space_by_id["B-07"].setpoint_pa == 30
    assert site.space_by_id["PAL-07"].setpoint_pa == 5
    assert len(site.airlocks) == 9
    assert site.airlock_by_id["GOWN-C"].interlock is InterlockKind.WARNING
    assert site.airlock_by_id["PAL-03"].interlock is InterlockKind.INTERLOCKED
    assert site.door_by_id["PAL-03-IN"].airlock == "PAL-03"
    assert site.plc_by_id["ENV-2"].word_order is WordOrder.LITTLE
    # every PLC has a heartbeat; particle points got their grade limits
    for plc in site.plcs:
        assert sum(p.quantity is Quantity.HEARTBEAT for p in plc.points) == 1
    p05 = site.point_by_id["B-01.p05"]
    assert p05.limits.action_high == 352_000
    assert p05.limits_at_rest is not None
    assert p05.limits_at_rest.action_high == 3_520
    sink = site.point_by_id["PAL-07.dp"]
    assert sink.limits.action_high is not None
    assert sink.limits.action_high < 0


def test_good_mini_site() -> None:
    site = parse_site(GOOD)
    assert [s.id for s in site.spaces] == ["R1", "L1"]
    point = site.point_by_id["L1-IN.closed"].hal
    assert point.table is Table.DISCRETE_INPUT
    assert point.data_type is DataType.BOOL
    assert site.plcs[0].points[0].id == "R1.dp"


BROKEN = [
    pytest.param(
        mutate('grade = "B"', 'grade = "E"'),
        "space[R1].grade: 'E' is not one of",
        id="unknown-grade",
    ),
    pytest.param(
        mutate("polygon = [[0, 0], [10, 0], [10, 10], [0, 10]]", "polygon = [[0, 0], [1, 1]]"),
        "space[R1].polygon: has 2 point(s); a polygon needs at least 3",
        id="polygon-too-short",
    ),
    pytest.param(
        mutate('between = ["L1", "R1"]', 'between = ["L1", "R9"]'),
        "door[L1-IN].between[1]: unknown space 'R9'",
        id="door-to-unknown-room",
    ),
    pytest.param(
        mutate('id = "L1"\nname', 'id = "R1"\nname'),
        "space[R1].id: duplicate id 'R1'",
        id="duplicate-space",
    ),
    pytest.param(
        mutate(
            'quantity = "temperature"\ntable = "input"\naddress = 2',
            'quantity = "temperature"\ntable = "input"\naddress = 1',
        ),
        "point[R1.t].address: overlaps point 'R1.dp' on PLC P1",
        id="overlapping-registers",
    ),
    pytest.param(
        mutate("alert_high = 25", "alert_high = 35"),
        "point[R1.dp].limits.alert_high: alert outside action",
        id="alert-outside-action",
    ),
    pytest.param(
        mutate(
            'plc = "P1"\ntarget = "R1"\nquantity = "dp"',
            'plc = "P9"\ntarget = "R1"\nquantity = "dp"',
        ),
        "point[R1.dp].plc: unknown PLC 'P9'",
        id="unknown-plc",
    ),
    pytest.param(
        mutate("port = 5020", "port = 70000"),
        "plc[P1].port: is 70000; it must be between 1 and 65535",
        id="port-out-of-range",
    ),
    pytest.param(
        mutate("port = 5020", 'port = "5020"'),
        "plc[P1].port: must be a whole number, not text",
        id="wrong-type",
    ),
    pytest.param(
        mutate('reference = "L1"\n', ""),
        "point[R1.dp].reference: is missing",
        id="dp-without-reference",
    ),
    pytest.param(
        mutate('type = "bool"', 'type = "float32"'),
        "point[L1-IN.closed].type: a discrete_input holds single bits",
        id="bit-table-not-bool",
    ),
    pytest.param(
        mutate('outer_door = "L1-OUT"', 'outer_door = "L9-OUT"'),
        "airlock[L1].outer_door: unknown door 'L9-OUT'",
        id="airlock-unknown-door",
    ),
    pytest.param(
        mutate("setpoint_pa = 45", 'setpoint_pa = 45\ncolour = "red"'),
        "space[R1].colour: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        mutate(
            'host = "127.0.0.1"\nport = 5020',
            'host = "127.0.0.1"\nport = 5020\n\n'
            '[[plc]]\nid = "P2"\nhost = "127.0.0.1"\nport = 5020',
        ),
        "plc[P2].port: duplicate address: 127.0.0.1:5020 device 1 is already PLC P1",
        id="duplicate-plc-address",
    ),
    pytest.param(
        mutate('quantity = "temperature"', 'quantity = "wind"'),
        "point[R1.t].quantity: 'wind' is not one of",
        id="unknown-quantity",
    ),
    pytest.param(
        mutate("address = 2", "address = 65535"),
        "point[R1.t].address: 65535 + 2 registers runs past the end",
        id="address-past-end",
    ),
    pytest.param("[site\nname =", "<file>: is not valid TOML", id="not-toml"),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_each_mistake_is_named_with_its_key_path(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    text = mutate('grade = "B"', 'grade = "E"').replace("port = 5020", "port = 0")
    problems = problems_of(text)
    assert any(p.startswith("space[R1].grade") for p in problems)
    assert any(p.startswith("plc[P1].port") for p in problems)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="cannot be read"):
        load_site(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SiteError, match="not UTF-8"):
        load_site(binary)


def test_check_site_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-site", str(DEFAULT_SITE_PATH)]) == 0
    assert "21 spaces" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(mutate('grade = "B"', 'grade = "E"').replace("port = 5020", "port = 0"))
    assert main(["check-site", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "space[R1].grade" in err
    assert "plc[P1].port" in err
    assert "Traceback" not in err


def test_check_site_cli_process_never_tracebacks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[space]]\nid = 3\n")
    result = subprocess.run(
        [sys.executable, "-m", "necstgen_desk", "check-site", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "space[0].id: must be text" in result.stderr


def test_plan_command_counts_requests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 0
    assert "one scan of the site: 8 Modbus requests" in capsys.readouterr().out


# ---------------------------------------------------------------- alarm settings

DP_LIMITS = "limits = { action_low = 10, alert_low = 12, alert_high = 25, action_high = 30 }"
JUSTIFIED = 'door_holdoff_s = 10\nholdoff_justification = "the door equalises the rooms"'


def with_dp(extra: str) -> str:
    return mutate(DP_LIMITS, f"{DP_LIMITS}\n{extra}")


def with_alarms(table: str) -> str:
    return f"{GOOD}\n[alarms]\n{table}\n"


ALARM_BROKEN = [
    pytest.param(
        with_dp("door_holdoff_s = 10"),
        "point[R1.dp].holdoff_justification: is missing: an alarm delay while a door is open "
        "must be configured with a justification",
        id="holdoff-without-justification",
    ),
    pytest.param(
        with_dp('holdoff_justification = "why"'),
        "point[R1.dp].holdoff_justification: there is no door_holdoff_s to go with it",
        id="justification-without-holdoff",
    ),
    pytest.param(
        mutate('quantity = "temperature"', 'quantity = "temperature"\ndoor_holdoff_s = 5'),
        "point[R1.t].door_holdoff_s: applies to differential-pressure points only",
        id="holdoff-on-temperature",
    ),
    pytest.param(
        mutate('quantity = "temperature"', 'quantity = "temperature"\ncritical = true'),
        "point[R1.t].critical: applies to differential-pressure points only",
        id="critical-temperature",
    ),
    pytest.param(
        with_dp("critical = 1"),
        "point[R1.dp].critical: must be true or false, not a whole number",
        id="critical-not-bool",
    ),
    pytest.param(
        with_dp('priority = { action = "urgent" }'),
        "point[R1.dp].priority.action: 'urgent' is not one of 'high', 'medium', 'low'",
        id="unknown-priority",
    ),
    pytest.param(
        with_dp('priority = { alarm = "high" }'),
        "point[R1.dp].priority.alarm: unknown key",
        id="priority-unknown-level",
    ),
    pytest.param(
        with_dp('priority = "high"'),
        "point[R1.dp].priority: must be a table { alert = ..., action = ... }",
        id="priority-not-a-table",
    ),
    pytest.param(
        with_dp("on_delay_s = -1"),
        "point[R1.dp].on_delay_s: is -1, below the smallest allowed 0",
        id="negative-on-delay",
    ),
    pytest.param(
        with_dp("off_delay_s = 100000"),
        "point[R1.dp].off_delay_s: is 100000, above the largest allowed 86400",
        id="off-delay-too-long",
    ),
    pytest.param(
        with_dp("deadband = 7"),
        "point[R1.dp].deadband: 7 is too wide for the limits band 12 .. 25",
        id="deadband-too-wide",
    ),
    pytest.param(
        mutate('quantity = "temperature"', 'quantity = "temperature"\non_delay_s = 5'),
        "point[R1.t].on_delay_s: the point has no limits, so it has no limit alarms",
        id="delay-without-limits",
    ),
    pytest.param(
        with_dp(f'{JUSTIFIED}\nholdoff_doors = ["L9-IN"]'),
        "point[R1.dp].holdoff_doors[0]: unknown door 'L9-IN'",
        id="unknown-holdoff-door",
    ),
    pytest.param(
        with_dp(f'{JUSTIFIED}\nholdoff_doors = ["L1-OUT", "L1-OUT"]'),
        "point[R1.dp].holdoff_doors: names a door twice",
        id="holdoff-door-twice",
    ),
    pytest.param(
        with_dp(JUSTIFIED).replace('reference = "L1"', 'reference = "AMBIENT"', 1),
        "point[R1.dp].door_holdoff_s: no door joins R1 and AMBIENT",
        id="holdoff-without-a-door",
    ),
    pytest.param(
        with_alarms("flood_start = 10\nflood_end = 11"),
        "alarms.flood_end: 11 is above flood_start 10",
        id="flood-end-above-start",
    ),
    pytest.param(
        with_alarms("flood_start = 0"),
        "alarms.flood_start: is 0; it must be between 1 and 100000",
        id="flood-start-zero",
    ),
    pytest.param(
        with_alarms("flood = 3"),
        "alarms.flood: unknown key",
        id="alarms-unknown-key",
    ),
    pytest.param(
        with_alarms("cleanup_minutes = -5"),
        "alarms.cleanup_minutes: is -5, below the smallest allowed 0",
        id="negative-cleanup",
    ),
    pytest.param(
        with_alarms("shelve_max_hours = 0"),
        "alarms.shelve_max_hours: is 0; it must be more than 0",
        id="shelve-zero",
    ),
    pytest.param(
        with_alarms("gap_s = 1.5").replace(DP_LIMITS, f"{DP_LIMITS}\ncritical = true", 1),
        "alarms.gap_s: 1.5 s is not longer than two scan periods of PLC P1 (1 s), "
        "which reads the critical point R1.dp",
        id="gap-shorter-than-scans",
    ),
    pytest.param(
        GOOD.replace("[site]", "alarms = 3\n[site]", 1),
        "alarms: must be a table [alarms], not a whole number",
        id="alarms-not-a-table",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ALARM_BROKEN)
def test_each_alarm_setting_mistake_is_named_with_its_key_path(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert any(expected in p for p in problems), problems


def test_alarm_settings_are_read() -> None:
    text = with_dp(
        f'{JUSTIFIED}\nholdoff_doors = ["L1-OUT"]\ncritical = true\n'
        'priority = { alert = "low", action = "high" }\n'
        "on_delay_s = 5\noff_delay_s = 3.5\ndeadband = 0.5"
    )
    text = with_alarms("cleanup_minutes = 15\ndoor_held_open_s = 90\nflood_start = 20").replace(
        GOOD, text, 1
    )
    site = parse_site(text)
    alarm = site.point_by_id["R1.dp"].alarm
    assert alarm == AlarmSettings(
        alert_priority=Priority.LOW,
        action_priority=Priority.HIGH,
        on_delay_s=5,
        off_delay_s=3.5,
        deadband=0.5,
        door_holdoff_s=10,
        holdoff_justification="the door equalises the rooms",
        holdoff_doors=("L1-OUT",),
        critical=True,
    )
    assert site.alarms == AlarmPolicy(cleanup_minutes=15, door_held_open_s=90, flood_start=20)
    assert site.point_by_id["R1.t"].alarm == AlarmSettings()


def test_the_default_site_justifies_every_hold_off() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    assert site.alarms == AlarmPolicy()  # the file states the defaults
    held = [p for p in site.points if p.alarm.door_holdoff_s > 0]
    assert len(held) == 20
    assert all(p.alarm.holdoff_justification for p in held)
    critical = {p.id for p in site.points if p.alarm.critical}
    assert critical == {
        *(f"B-0{n}.dp" for n in range(1, 9)),
        *(f"PAL-0{n}.dp" for n in range(1, 9)),
        "C-COR.dp",
    }


def test_records_settings_are_read_and_checked() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    assert site.records.idle_lock_minutes == 10
    assert site.records.clean_hold_hours == 72
    assert site.records.db_url is None
    text = GOOD + '\n[records]\ndb_url = "sqlite:////tmp/x.sqlite"\nidle_lock_minutes = 3\n'
    assert parse_site(text).records.db_url == "sqlite:////tmp/x.sqlite"
    assert parse_site(text).records.idle_lock_minutes == 3
    problems = problems_of(GOOD + "\n[records]\nidle_lock_minutes = 0\nqualification_months = 13\n")
    assert any(p.startswith("records.idle_lock_minutes") for p in problems), problems
    assert any(p.startswith("records.qualification_months") for p in problems), problems
    problems = problems_of(GOOD + "\n[records]\nidle_lock = 5\n")
    assert any(p.startswith("records.idle_lock: unknown key") for p in problems), problems


# ---------------------------------------------------------------- historian settings


def with_historian(table: str) -> str:
    return f"{GOOD}\n[historian]\n{table}\n"


def test_historian_settings_default_and_are_read() -> None:
    assert parse_site(GOOD).historian == HistorianPolicy()
    assert load_site(DEFAULT_SITE_PATH).historian == HistorianPolicy()  # the file states them
    assert HistorianPolicy() == HistorianPolicy(
        raw_days=90, minute_days=730, quarter_hour_days=3650, forced_s=60
    )
    site = parse_site(
        with_historian("raw_days = 1\nminute_days = 30.5\nquarter_hour_days = 400\nforced_s = 5")
    )
    assert site.historian == HistorianPolicy(
        raw_days=1, minute_days=30.5, quarter_hour_days=400, forced_s=5
    )
    site = parse_site(with_historian('raw_days = 7\nquarter_hour_days = "forever"'))
    assert site.historian == HistorianPolicy(raw_days=7, quarter_hour_days=None)
    forever = '"forever"'
    site = parse_site(
        with_historian(
            f"raw_days = {forever}\nminute_days = {forever}\nquarter_hour_days = {forever}\n"
            "forced_s = 3600"
        )
    )
    assert site.historian == HistorianPolicy(
        raw_days=None, minute_days=None, quarter_hour_days=None, forced_s=3600
    )
    assert parse_site(with_historian("minute_days = 36525\nquarter_hour_days = 36525")).historian


KEEP_LONGER = (
    "a coarser tier must be kept at least as long, "
    "or long trends would show nothing where the finer tier still has data"
)
HISTORIAN_BROKEN = [
    pytest.param(
        with_historian("raw_days = 0"),
        "historian.raw_days: is 0; it must be more than 0",
        id="raw-days-zero",
    ),
    pytest.param(
        with_historian("minute_days = -30"),
        "historian.minute_days: is -30; it must be more than 0",
        id="minute-days-negative",
    ),
    pytest.param(
        with_historian('quarter_hour_days = "never"'),
        "historian.quarter_hour_days: 'never' is not a number of days or \"forever\"",
        id="days-unknown-text",
    ),
    pytest.param(
        with_historian('raw_days = "Forever"'),
        "historian.raw_days: 'Forever' is not a number of days or \"forever\"",
        id="days-forever-capitalised",
    ),
    pytest.param(
        with_historian("raw_days = true"),
        'historian.raw_days: must be a number of days or "forever", not true/false',
        id="days-bool",
    ),
    pytest.param(
        with_historian("minute_days = [30]"),
        'historian.minute_days: must be a number of days or "forever", not a list',
        id="days-list",
    ),
    pytest.param(
        with_historian("quarter_hour_days = 40000"),
        "historian.quarter_hour_days: is 40000, above the largest allowed 36525",
        id="days-beyond-a-century",
    ),
    pytest.param(
        with_historian("raw_days = nan"),
        "historian.raw_days: must be a finite number",
        id="days-nan",
    ),
    pytest.param(
        with_historian("forced_s = 0"),
        "historian.forced_s: is 0; it must be more than 0",
        id="forced-zero",
    ),
    pytest.param(
        with_historian("forced_s = 3601"),
        "historian.forced_s: is 3601, above the largest allowed 3600",
        id="forced-over-an-hour",
    ),
    pytest.param(
        with_historian('forced_s = "forever"'),
        "historian.forced_s: must be a number, not text",
        id="forced-forever",
    ),
    pytest.param(
        with_historian("minute_days = 30"),
        f"historian.minute_days: 30 days is shorter than raw_days (90 days): {KEEP_LONGER}",
        id="minutes-shorter-than-raw",
    ),
    pytest.param(
        with_historian('raw_days = "forever"'),
        f"historian.minute_days: 730 days is shorter than raw_days (forever): {KEEP_LONGER}",
        id="raw-forever-minutes-not",
    ),
    pytest.param(
        with_historian("quarter_hour_days = 365"),
        "historian.quarter_hour_days: 365 days is shorter than minute_days (730 days): "
        f"{KEEP_LONGER}",
        id="quarter-hours-shorter-than-minutes",
    ),
    pytest.param(
        with_historian("raw_day = 30"),
        "historian.raw_day: unknown key (known keys: forced_s, minute_days, quarter_hour_days, "
        "raw_days)",
        id="historian-unknown-key",
    ),
    pytest.param(
        GOOD.replace("[site]", "historian = 3\n[site]", 1),
        "historian: must be a table [historian], not a whole number",
        id="historian-not-a-table",
    ),
]


@pytest.mark.parametrize(("text", "expected"), HISTORIAN_BROKEN)
def test_each_historian_mistake_is_the_one_problem_named(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_every_historian_mistake_is_listed_at_once() -> None:
    problems = problems_of(
        with_historian('raw_days = 0\nminute_days = "x"\nquarter_hour_days = -1\nforced_s = 0')
    )
    assert [p.split(":", 1)[0] for p in problems] == [
        "historian.raw_days",
        "historian.minute_days",
        "historian.quarter_hour_days",
        "historian.forced_s",
    ]
