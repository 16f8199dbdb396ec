"""Scenario files: a good one loads, broken ones say which step and key are wrong."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hal.points import Table
from hal.sim.scenario import (
    Action,
    ScenarioError,
    ScenarioTargets,
    load_scenario,
    parse_scenario,
)
from necstgen_desk.simulation import scenario_targets
from necstgen_desk.site.loader import DEFAULT_SITE_PATH, load_site

DEMO = DEFAULT_SITE_PATH.parents[1] / "scenarios" / "demo-faults.toml"

TARGETS = ScenarioTargets(
    doors=frozenset({"PAL-03-OUT", "PAL-03-IN"}),
    rooms=frozenset({"B-05"}),
    airlocks=frozenset({"PAL-03"}),
    plcs=frozenset({"ENV-3", "DOOR-1"}),
    points=frozenset({"B-05.dp", "PAL-03-OUT.closed"}),
)

GOOD = """
name = "everything once"

[[step]]
at = 30
action = "close_door"
door = "PAL-03-OUT"

[[step]]
at = 10.5
action = "open_door"
door = "PAL-03-OUT"
forced = true

[[step]]
at = 10.5
action = "set_activity"
room = "B-05"
level = 0.75

[[step]]
at = 40
action = "exception_response"
plc = "DOOR-1"
code = 4
table = "discrete_input"
address = 9

[[step]]
at = 41
action = "sensor_value"
point = "B-05.dp"
value = nan

[[step]]
at = 42
action = "sensor_value"
point = "PAL-03-OUT.closed"
value = false

[[step]]
at = 50
action = "slow_responses"
plc = "ENV-3"
delay = 0.8

[[step]]
at = 60
action = "latch_fault"
airlock = "PAL-03"
code = 3

[[step]]
at = 61
action = "plc_down"
plc = "ENV-3"

[[step]]
at = 62
action = "freeze_heartbeat"
plc = "DOOR-1"

[[step]]
at = 63
action = "release_sensor"
point = "B-05.dp"

[[step]]
at = 64
action = "clear_exceptions"
plc = "DOOR-1"
"""


def test_good_scenario_loads_sorted_by_time() -> None:
    scenario = parse_scenario(GOOD, targets=TARGETS)
    assert scenario.name == "everything once"
    assert [s.at for s in scenario.steps] == sorted(s.at for s in scenario.steps)
    first, second = scenario.steps[:2]
    assert (first.action, first.door, first.forced) == (Action.OPEN_DOOR, "PAL-03-OUT", True)
    assert (second.action, second.room, second.level) == (Action.SET_ACTIVITY, "B-05", 0.75)
    by_action = {s.action: s for s in scenario.steps}
    exception = by_action[Action.EXCEPTION_RESPONSE]
    assert (exception.code, exception.table, exception.address) == (4, Table.DISCRETE_INPUT, 9)
    nan_step = next(s for s in scenario.steps if s.point == "B-05.dp" and s.value is not None)
    assert isinstance(nan_step.value, float) and math.isnan(nan_step.value)
    assert by_action[Action.SLOW_RESPONSES].delay == 0.8
    assert "open_door door=PAL-03-OUT forced" in first.describe()


@pytest.mark.parametrize(
    "path", sorted(DEMO.parent.glob("*.toml")), ids=lambda p: getattr(p, "name", str(p))
)
def test_every_shipped_scenario_is_valid_for_the_default_site(path: Path) -> None:
    site = load_site(DEFAULT_SITE_PATH)
    scenario = load_scenario(path, targets=scenario_targets(site))
    assert scenario.steps and scenario.name


def test_demo_scenario_is_valid_for_the_default_site() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    scenario = load_scenario(DEMO, targets=scenario_targets(site))
    actions = [s.action for s in scenario.steps]
    assert Action.PLC_DOWN in actions and Action.PLC_UP in actions
    forced = [s for s in scenario.steps if s.forced]
    assert [s.door for s in forced] == ["PAL-03-IN"]
    assert any(s.action is Action.SET_ACTIVITY and s.room == "B-05" for s in scenario.steps)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[step]]\nat = 1\naction = 'fly'\n", "step[0].action: 'fly' is not one of open_door"),
        ("[[step]]\naction = 'plc_down'\nplc = 'ENV-3'\n", "step[0].at: is missing"),
        ("[[step]]\nat = -1\naction = 'plc_down'\nplc = 'ENV-3'\n", "step[0].at: is -1"),
        ("[[step]]\nat = 'soon'\naction = 'plc_down'\nplc = 'ENV-3'\n", "step[0].at: must be a"),
        ("[[step]]\nat = 1\naction = 'open_door'\n", "step[0].door: is missing"),
        (
            "[[step]]\nat = 1\naction = 'open_door'\ndoor = 'PAL-03-OUT'\nroom = 'B-05'\n",
            "step[0].room: not used by open_door",
        ),
        (
            "[[step]]\nat = 1\naction = 'set_activity'\nroom = 'B-05'\nlevel = 2\n",
            "step[0].level: is 2; it must be between 0 and 1",
        ),
        (
            "[[step]]\nat = 1\naction = 'latch_fault'\nairlock = 'PAL-03'\ncode = 7\n",
            "step[0].code: 7 is not a fault code (1, 2, 3, 4, 5)",
        ),
        (
            "[[step]]\nat = 1\naction = 'exception_response'\nplc = 'ENV-3'\ncode = 9\n",
            "step[0].code: 9 is not a Modbus exception code",
        ),
        (
            "[[step]]\nat = 1\naction = 'exception_response'\nplc = 'ENV-3'\ncode = 2\n"
            "table = 'register'\n",
            "step[0].table: 'register' is not one of 'coil'",
        ),
        (
            "[[step]]\nat = 1\naction = 'slow_responses'\nplc = 'ENV-3'\ndelay = -2\n",
            "step[0].delay: is -2",
        ),
        (
            "[[step]]\nat = 1\naction = 'sensor_value'\npoint = 'B-05.dp'\nvalue = 'high'\n",
            "step[0].value: must be a number (nan and inf allowed) or true/false, not text",
        ),
        (
            "[[step]]\nat = 1\naction = 'open_door'\ndoor = 'PAL-03-OUT'\nforced = 'yes'\n",
            "step[0].forced: must be true or false",
        ),
        ("[[step]]\nat = 1\naction = 'plc_down'\nplc = 'ENV-9'\n", "step[0].plc: unknown PLC"),
        (
            "[[step]]\nat = 1\naction = 'close_door'\ndoor = 'PAL-99'\n",
            "step[0].door: unknown door 'PAL-99'",
        ),
        ("name = 'x'\n", "step: the scenario has no steps"),
        ("step = 3\n", "step: must be a list of tables"),
        ("[[step]]\nat = 1\naction = 'plc_down'\nplc = 'ENV-3'\n[extra]\n", "extra: unknown key"),
        ("[[step]\nat = 1\n", "is not valid TOML"),
    ],
)
def test_broken_scenarios_name_the_step_and_key(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="broken.toml", targets=TARGETS)
    assert message in str(caught.value)
    assert str(caught.value).startswith("broken.toml: ")


def test_every_problem_is_reported_at_once() -> None:
    text = (
        "[[step]]\nat = 1\naction = 'open_door'\n"
        "[[step]]\nat = 2\naction = 'set_activity'\nroom = 'NOPE'\nlevel = 0.5\n"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, targets=TARGETS)
    assert caught.value.problems == (
        "step[0].door: is missing (open_door needs it)",
        "step[1].room: unknown room 'NOPE'",
    )
    assert "2 problems" in str(caught.value)


def test_ids_are_not_checked_without_targets() -> None:
    scenario = parse_scenario("[[step]]\nat = 1\naction = 'plc_down'\nplc = 'ANY'\n")
    assert scenario.steps[0].plc == "ANY"


def test_unreadable_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(binary)
