"""Scripted scenarios: timed steps (simulated seconds) that drive the simulator.

A scenario is a TOML file a trainer or a test writes::

    name = "Interlock fault and a PLC outage"

    [[step]]
    at = 10.0
    action = "open_door"
    door = "PAL-03-OUT"

The loader checks every step and reports all problems at once, each with the
step's index and key (``step[2].door: unknown door 'PAL-99'``), so a broken
training script fails at load rather than half-way through a session.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from hal.points import Table, Value

__all__ = [
    "Action",
    "Scenario",
    "ScenarioError",
    "ScenarioTargets",
    "Step",
    "load_scenario",
    "parse_scenario",
]


class Action(StrEnum):
    OPEN_DOOR = "open_door"
    CLOSE_DOOR = "close_door"
    SET_ACTIVITY = "set_activity"
    PLC_DOWN = "plc_down"
    PLC_UP = "plc_up"
    FREEZE_HEARTBEAT = "freeze_heartbeat"
    UNFREEZE_HEARTBEAT = "unfreeze_heartbeat"
    EXCEPTION_RESPONSE = "exception_response"
    CLEAR_EXCEPTIONS = "clear_exceptions"
    SENSOR_VALUE = "sensor_value"
    RELEASE_SENSOR = "release_sensor"
    SLOW_RESPONSES = "slow_responses"
    LATCH_FAULT = "latch_fault"
    RESET_FAULT = "reset_fault"


# For each action: (required keys, optional keys), besides "at" and "action".
_KEYS: dict[Action, tuple[frozenset[str], frozenset[str]]] = {
    Action.OPEN_DOOR: (frozenset({"door"}), frozenset({"forced"})),
    Action.CLOSE_DOOR: (frozenset({"door"}), frozenset()),
    Action.SET_ACTIVITY: (frozenset({"room", "level"}), frozenset()),
    Action.PLC_DOWN: (frozenset({"plc"}), frozenset()),
    Action.PLC_UP: (frozenset({"plc"}), frozenset()),
    Action.FREEZE_HEARTBEAT: (frozenset({"plc"}), frozenset()),
    Action.UNFREEZE_HEARTBEAT: (frozenset({"plc"}), frozenset()),
    Action.EXCEPTION_RESPONSE: (frozenset({"plc", "code"}), frozenset({"table", "address"})),
    Action.CLEAR_EXCEPTIONS: (frozenset({"plc"}), frozenset()),
    Action.SENSOR_VALUE: (frozenset({"point", "value"}), frozenset()),
    Action.RELEASE_SENSOR: (frozenset({"point"}), frozenset()),
    Action.SLOW_RESPONSES: (frozenset({"plc", "delay"}), frozenset()),
    Action.LATCH_FAULT: (frozenset({"airlock", "code"}), frozenset()),
    Action.RESET_FAULT: (frozenset({"airlock"}), frozenset()),
}

# The Modbus exception codes a server may answer with (pymodbus ExcCodes).
MODBUS_EXCEPTION_CODES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 10, 11})
_FAULT_CODES = range(1, 6)
_MAX_DELAY_S = 3600.0


@dataclass(frozen=True, slots=True)
class Step:
    """One validated step; only the fields its action uses are set."""

    index: int  # position in the file, for messages
    at: float  # simulated seconds from the start
    action: Action
    door: str | None = None
    room: str | None = None
    plc: str | None = None
    point: str | None = None
    airlock: str | None = None
    forced: bool = False
    level: float | None = None
    code: int | None = None
    table: Table | None = None
    address: int | None = None
    value: Value | None = None
    delay: float | None = None

    def describe(self) -> str:
        """A one-line account for logs: ``t=10 s open_door door=PAL-03-OUT``."""
        parts = [f"t={self.at:g} s", self.action.value]
        for key in (
            "door",
            "room",
            "plc",
            "point",
            "airlock",
            "level",
            "code",
            "table",
            "address",
            "value",
            "delay",
        ):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value}")
        if self.forced:
            parts.append("forced")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]  # sorted by ``at``; equal times keep file order
    source: str = "<scenario>"


@dataclass(frozen=True, slots=True)
class ScenarioTargets:
    """The ids a scenario may name; the loader checks steps against them."""

    doors: frozenset[str]
    rooms: frozenset[str]
    airlocks: frozenset[str]
    plcs: frozenset[str]
    points: frozenset[str]


class ScenarioError(ValueError):
    """The scenario cannot be used; ``problems`` lists every reason with its key."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {count} {noun} in the scenario file:\n{lines}")


def load_scenario(path: str | Path, targets: ScenarioTargets | None = None) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` with every problem."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError(source, [f"cannot be read: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, [f"is not UTF-8 text (byte {exc.start})"]) from None
    return parse_scenario(text, source=source, targets=targets)


def parse_scenario(
    text: str, *, source: str = "<scenario>", targets: ScenarioTargets | None = None
) -> Scenario:
    """Validate scenario TOML text; ids are checked when ``targets`` is given."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [f"is not valid TOML: {exc}"]) from None
    problems: list[str] = []
    for key in data:
        if key not in {"name", "description", "step"}:
            problems.append(f"{key}: unknown key (known keys: description, name, step)")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str):
        problems.append(f"name: must be text, not {_describe(name)}")
        name = source
    raw_steps = data.get("step")
    steps: list[Step] = []
    if raw_steps is None:
        problems.append("step: the scenario has no steps: add [[step]] tables")
    elif not isinstance(raw_steps, list):
        problems.append(f"step: must be a list of tables ([[step]]), not {_describe(raw_steps)}")
    else:
        for index, entry in enumerate(raw_steps):
            if not isinstance(entry, dict):
                problems.append(f"step[{index}]: must be a table, not {_describe(entry)}")
                continue
            step = _step(index, entry, problems)
            if step is not None:
                steps.append(step)
    if targets is not None:
        for step in steps:
            problems.extend(check_targets(step, targets))
    if problems:
        raise ScenarioError(source, problems)
    steps.sort(key=lambda s: (s.at, s.index))
    return Scenario(name=name, steps=tuple(steps), source=source)


def check_targets(step: Step, targets: ScenarioTargets) -> list[str]:
    """Problems with the ids a step names (empty when all exist)."""
    problems: list[str] = []
    for key, known, kind in (
        ("door", targets.doors, "door"),
        ("room", targets.rooms, "room"),
        ("plc", targets.plcs, "PLC"),
        ("point", targets.points, "point"),
        ("airlock", targets.airlocks, "airlock"),
    ):
        value = getattr(step, key)
        if value is not None and value not in known:
            problems.append(f"step[{step.index}].{key}: unknown {kind} {value!r}")
    return problems


# ---------------------------------------------------------------- one step


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _step(index: int, entry: dict[str, Any], problems: list[str]) -> Step | None:
    where = f"step[{index}]"
    before = len(problems)

    at = entry.get("at")
    if at is None:
        problems.append(f"{where}.at: is missing (simulated seconds from the start)")
    elif isinstance(at, bool) or not isinstance(at, int | float):
        problems.append(f"{where}.at: must be a number of seconds, not {_describe(at)}")
    elif not math.isfinite(at) or at < 0:
        problems.append(f"{where}.at: is {at}; it must be a finite number of seconds ≥ 0")

    raw_action = entry.get("action")
    if raw_action is None:
        problems.append(f"{where}.action: is missing")
        return None
    try:
        action = Action(raw_action) if isinstance(raw_action, str) else None
    except ValueError:
        action = None
    if action is None:
        options = ", ".join(a.value for a in Action)
        problems.append(f"{where}.action: {raw_action!r} is not one of {options}")
        return None

    required, optional = _KEYS[action]
    allowed = required | optional | {"at", "action"}
    for key in entry:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            problems.append(f"{where}.{key}: not used by {action.value} (its keys: {known})")
    for key in sorted(required):
        if key not in entry:
            problems.append(f"{where}.{key}: is missing ({action.value} needs it)")

    fields: dict[str, Any] = {}
    for key in ("door", "room", "plc", "point", "airlock"):
        if key in entry and key in required | optional:
            value = entry[key]
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}.{key}: must be a non-empty id, not {_describe(value)}")
            else:
                fields[key] = value
    if "forced" in entry and "forced" in optional:
        if isinstance(entry["forced"], bool):
            fields["forced"] = entry["forced"]
        else:
            problems.append(f"{where}.forced: must be true or false")
    if "level" in entry and "level" in required:
        level = entry["level"]
        if isinstance(level, bool) or not isinstance(level, int | float):
            problems.append(f"{where}.level: must be a number from 0 to 1, not {_describe(level)}")
        elif not 0.0 <= level <= 1.0:
            problems.append(f"{where}.level: is {level}; it must be between 0 and 1")
        else:
            fields["level"] = float(level)
    if "code" in entry and "code" in required:
        code = entry["code"]
        valid = MODBUS_EXCEPTION_CODES if action is Action.EXCEPTION_RESPONSE else _FAULT_CODES
        if isinstance(code, bool) or not isinstance(code, int):
            problems.append(f"{where}.code: must be a whole number, not {_describe(code)}")
        elif code not in valid:
            choices = ", ".join(str(c) for c in sorted(valid))
            what = "Modbus exception" if action is Action.EXCEPTION_RESPONSE else "fault"
            problems.append(f"{where}.code: {code} is not a {what} code ({choices})")
        else:
            fields["code"] = code
    if "table" in entry and "table" in optional:
        table = entry["table"]
        try:
            fields["table"] = Table(table) if isinstance(table, str) else None
        except ValueError:
            fields["table"] = None
        if fields["table"] is None:
            options = ", ".join(repr(t.value) for t in Table)
            problems.append(f"{where}.table: {table!r} is not one of {options}")
    if "address" in entry and "address" in optional:
        address = entry["address"]
        if isinstance(address, bool) or not isinstance(address, int):
            problems.append(f"{where}.address: must be a whole number, not {_describe(address)}")
        elif not 0 <= address <= 65535:
            problems.append(f"{where}.address: is {address}; it must be between 0 and 65535")
        else:
            fields["address"] = address
    if "value" in entry and "value" in required:
        value = entry["value"]
        if isinstance(value, bool | int | float):
            fields["value"] = value
        else:
            problems.append(
                f"{where}.value: must be a number (nan and inf allowed) or true/false, "
                f"not {_describe(value)}"
            )
    if "delay" in entry and "delay" in required:
        delay = entry["delay"]
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            problems.append(f"{where}.delay: must be a number of seconds, not {_describe(delay)}")
        elif not (math.isfinite(delay) and 0 <= delay <= _MAX_DELAY_S):
            problems.append(
                f"{where}.delay: is {delay}; it must be between 0 and {_MAX_DELAY_S:g} seconds"
            )
        else:
            fields["delay"] = float(delay)

    if len(problems) > before or not isinstance(at, int | float):
        return None
    return Step(index=index, at=float(at), action=action, **fields)
