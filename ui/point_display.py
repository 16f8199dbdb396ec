"""What the screen shows for a point or a door, decided without Qt.

The floor plan and any later room or list view share these rules, so an
operator reads a value the same way everywhere, and the rules are tested as
plain tables: which state a sample is in (live, beyond a limit, or not to be
trusted), how a value is written, and what a door's three points mean
together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from hal.points import Quality, Quantity, Sample
from necstgen_desk.site.model import Limits


class ValueState(StrEnum):
    """What a displayed value means to the operator, worst first in ``SEVERITY``."""

    NO_DATA = "no_data"  # nothing received yet
    NORMAL = "normal"
    ALERT = "alert"  # outside the alert limits
    ACTION = "action"  # outside the action limits
    STALE = "stale"
    COMM_FAIL = "comm_fail"
    BAD = "bad"

    @property
    def is_live(self) -> bool:
        """A value the operator may read as the present state of the room."""
        return self in (ValueState.NORMAL, ValueState.ALERT, ValueState.ACTION)

    @property
    def tag(self) -> str:
        """The short text shown next to a value that is not live."""
        return _TAGS.get(self, "")


_TAGS = {
    ValueState.NO_DATA: "?",
    ValueState.STALE: "STALE",
    ValueState.COMM_FAIL: "COMM",
    ValueState.BAD: "BAD",
}

_QUALITY_STATE = {
    Quality.STALE: ValueState.STALE,
    Quality.COMM_FAIL: ValueState.COMM_FAIL,
    Quality.BAD: ValueState.BAD,
}


def classify_limits(value: float, limits: Limits) -> ValueState:
    """NORMAL, ALERT or ACTION for a live value against its limits."""
    if (limits.action_low is not None and value < limits.action_low) or (
        limits.action_high is not None and value > limits.action_high
    ):
        return ValueState.ACTION
    if (limits.alert_low is not None and value < limits.alert_low) or (
        limits.alert_high is not None and value > limits.alert_high
    ):
        return ValueState.ALERT
    return ValueState.NORMAL


def value_state(sample: Sample | None, limits: Limits) -> ValueState:
    """The state of a sample: its quality first, then its limits."""
    if sample is None:
        return ValueState.NO_DATA
    if sample.quality is not Quality.GOOD:
        return _QUALITY_STATE[sample.quality]
    value = sample.value
    if value is None or isinstance(value, bool):
        return ValueState.NORMAL if value is not None else ValueState.BAD
    if math.isnan(value):
        return ValueState.BAD
    return classify_limits(float(value), limits)


# ------------------------------------------------------------------ formatting

MINUS = "\u2212"  # a real minus sign: a hyphen is easy to miss on a plan


def compact_count(value: float) -> str:
    """A particle count that fits a small room: 12, 1.2k, 352k, 3.5M."""
    magnitude = abs(value)
    if magnitude < 1_000:
        text = f"{value:.0f}"
    elif magnitude < 10_000:
        text = f"{value / 1_000:.1f}k"
    elif magnitude < 1_000_000:
        text = f"{value / 1_000:.0f}k"
    elif magnitude < 10_000_000:
        text = f"{value / 1_000_000:.1f}M"
    else:
        text = f"{value / 1_000_000:.0f}M"
    return text.replace("-", MINUS)


def format_number(quantity: Quantity, value: float) -> str:
    """The number alone, with the precision an operator needs for that quantity."""
    if quantity in (Quantity.PARTICLES_0_5, Quantity.PARTICLES_5):
        return compact_count(value)
    if quantity is Quantity.DIFFERENTIAL_PRESSURE:
        return f"{value:+.1f}".replace("-", MINUS)
    return f"{value:.1f}".replace("-", MINUS)


UNITS = {
    Quantity.DIFFERENTIAL_PRESSURE: "Pa",
    Quantity.TEMPERATURE: "°C",
    Quantity.HUMIDITY: "%RH",
    Quantity.PARTICLES_0_5: "/m³",
    Quantity.PARTICLES_5: "/m³",
}

LABELS = {
    Quantity.DIFFERENTIAL_PRESSURE: "ΔP",
    Quantity.TEMPERATURE: "T",
    Quantity.HUMIDITY: "RH",
    Quantity.PARTICLES_0_5: "≥0.5 µm",
    Quantity.PARTICLES_5: "≥5 µm",
}

# The measured quantities the plan shows, in the order it shows them.
DISPLAYED = (
    Quantity.DIFFERENTIAL_PRESSURE,
    Quantity.TEMPERATURE,
    Quantity.HUMIDITY,
    Quantity.PARTICLES_0_5,
    Quantity.PARTICLES_5,
)


def value_label(quantity: Quantity, reference: str | None = None) -> str:
    """The label of a value line: 'ΔP→PAL-01', 'T', '≥0.5 µm'."""
    label = LABELS.get(quantity, quantity.value)
    if quantity is Quantity.DIFFERENTIAL_PRESSURE and reference:
        return f"{label}→{reference}"
    return label


def value_text(quantity: Quantity, sample: Sample | None) -> str:
    """The number to show, or an em dash when there is none to show."""
    if sample is None or sample.value is None or isinstance(sample.value, bool):
        return "—"
    value = float(sample.value)
    if math.isnan(value):
        return "—"
    return format_number(quantity, value)


# ------------------------------------------------------------------ doors


class DoorState(StrEnum):
    """A door as the plan draws it; FAULT wins over the door's position."""

    UNKNOWN = "unknown"  # its closed point is not GOOD (or never read)
    CLOSED = "closed"
    LOCKED = "locked"  # closed and locked
    OPEN = "open"
    FAULT = "fault"  # its airlock reports an interlock fault code ≠ 0


FAULT_TEXT = {
    1: "both doors open",
    2: "door forced open while locked",
    3: "door held open too long",
    4: "emergency release",
    5: "controller fault",
}


def fault_text(code: int) -> str:
    return FAULT_TEXT.get(code, f"unknown fault code {code}")


@dataclass(frozen=True, slots=True)
class DoorView:
    """Everything the plan needs to draw one door, derived from its points."""

    state: DoorState
    is_open: bool | None  # None: unknown
    is_locked: bool | None  # None: unknown
    fault_code: int | None  # None: unknown or the door has no airlock
    problems: tuple[str, ...] = ()  # why parts of the picture are unknown

    @property
    def fault_label(self) -> str:
        """'F2' for a latched fault, '' otherwise."""
        return f"F{self.fault_code}" if self.fault_code else ""


def _known(sample: Sample | None) -> bool:
    return sample is not None and sample.quality is Quality.GOOD and sample.value is not None


def _problem(what: str, sample: Sample | None) -> str:
    if sample is None:
        return f"{what}: no data yet"
    reason = f" ({sample.reason})" if sample.reason else ""
    return f"{what}: {sample.quality.value.upper()}{reason}"


def door_view(
    closed: Sample | None,
    locked: Sample | None,
    fault: Sample | None,
    *,
    has_fault_point: bool,
) -> DoorView:
    """Combine a door's closed and locked points with its airlock's fault code."""
    problems: list[str] = []
    is_open: bool | None = None
    is_locked: bool | None = None
    fault_code: int | None = None
    if _known(closed):
        assert closed is not None
        is_open = not bool(closed.value)
    else:
        problems.append(_problem("door position", closed))
    if _known(locked):
        assert locked is not None
        is_locked = bool(locked.value)
    else:
        problems.append(_problem("lock", locked))
    if has_fault_point:
        if _known(fault):
            assert fault is not None and fault.value is not None
            fault_code = int(fault.value)
        else:
            problems.append(_problem("interlock fault code", fault))

    if is_open is None:
        state = DoorState.UNKNOWN
    elif fault_code:
        state = DoorState.FAULT
    elif is_open:
        state = DoorState.OPEN
    elif is_locked:
        state = DoorState.LOCKED
    else:
        state = DoorState.CLOSED
    return DoorView(state, is_open, is_locked, fault_code, tuple(problems))
