"""What a value or a door looks like to the operator: pure tables, no Qt."""

from __future__ import annotations

import math

import pytest

from hal.points import Quality, Quantity, Sample
from necstgen_desk.site.model import Limits
from ui.point_display import (
    DoorState,
    ValueState,
    classify_limits,
    compact_count,
    door_view,
    format_number,
    value_label,
    value_state,
    value_text,
)

T_LIMITS = Limits(action_low=18.0, alert_low=19.0, alert_high=23.0, action_high=24.0)
SINK = Limits(action_low=-25.0, alert_low=-20.0, alert_high=-8.0, action_high=-5.0)
UPPER_ONLY = Limits(alert_high=200_000.0, action_high=352_000.0)


@pytest.mark.parametrize(
    ("value", "limits", "expected"),
    [
        (21.0, T_LIMITS, ValueState.NORMAL),
        (19.0, T_LIMITS, ValueState.NORMAL),  # on the alert limit is still inside
        (23.5, T_LIMITS, ValueState.ALERT),
        (18.5, T_LIMITS, ValueState.ALERT),
        (24.1, T_LIMITS, ValueState.ACTION),
        (17.0, T_LIMITS, ValueState.ACTION),
        (-10.0, SINK, ValueState.NORMAL),
        (-6.0, SINK, ValueState.ALERT),
        (-3.0, SINK, ValueState.ACTION),  # a sink airlock losing its negative pressure
        (10.0, UPPER_ONLY, ValueState.NORMAL),
        (250_000.0, UPPER_ONLY, ValueState.ALERT),
        (400_000.0, UPPER_ONLY, ValueState.ACTION),
        (1e9, Limits(), ValueState.NORMAL),
    ],
)
def test_limits_classify_a_live_value(value: float, limits: Limits, expected: ValueState) -> None:
    assert classify_limits(value, limits) is expected


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (None, ValueState.NO_DATA),
        (Sample("p", 21.0, Quality.GOOD, 0.0), ValueState.NORMAL),
        (Sample("p", 30.0, Quality.GOOD, 0.0), ValueState.ACTION),
        (Sample("p", 21.0, Quality.STALE, 0.0), ValueState.STALE),
        (Sample("p", 30.0, Quality.STALE, 0.0), ValueState.STALE),  # quality first
        (Sample("p", None, Quality.COMM_FAIL, 0.0, "refused"), ValueState.COMM_FAIL),
        (Sample("p", None, Quality.BAD, 0.0, "exception 2"), ValueState.BAD),
        (Sample("p", math.nan, Quality.GOOD, 0.0), ValueState.BAD),
        (Sample("p", None, Quality.GOOD, 0.0), ValueState.BAD),
    ],
)
def test_quality_decides_before_limits(sample: Sample | None, expected: ValueState) -> None:
    state = value_state(sample, T_LIMITS)
    assert state is expected
    assert state.is_live == (expected in (ValueState.NORMAL, ValueState.ALERT, ValueState.ACTION))


@pytest.mark.parametrize(
    ("state", "tag"),
    [
        (ValueState.NORMAL, ""),
        (ValueState.ALERT, ""),
        (ValueState.NO_DATA, "?"),
        (ValueState.STALE, "STALE"),
        (ValueState.COMM_FAIL, "COMM"),
        (ValueState.BAD, "BAD"),
    ],
)
def test_every_value_that_is_not_live_has_a_tag(state: ValueState, tag: str) -> None:
    assert state.tag == tag


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (12.0, "12"),
        (999.0, "999"),
        (1_234.0, "1.2k"),
        (9_949.0, "9.9k"),
        (12_345.0, "12k"),
        (352_000.0, "352k"),
        (3_520_000.0, "3.5M"),
        (35_200_000.0, "35M"),
    ],
)
def test_particle_counts_are_compact(value: float, text: str) -> None:
    assert compact_count(value) == text


@pytest.mark.parametrize(
    ("quantity", "value", "text"),
    [
        (Quantity.DIFFERENTIAL_PRESSURE, 15.24, "+15.2"),
        (Quantity.DIFFERENTIAL_PRESSURE, -10.0, "\u221210.0"),  # a real minus sign
        (Quantity.TEMPERATURE, 21.04, "21.0"),
        (Quantity.HUMIDITY, 45.55, "45.5"),
        (Quantity.PARTICLES_5, 2_930.0, "2.9k"),
    ],
)
def test_numbers_have_the_precision_of_their_quantity(
    quantity: Quantity, value: float, text: str
) -> None:
    assert format_number(quantity, value) == text


def test_labels_name_the_pressure_reference() -> None:
    assert value_label(Quantity.DIFFERENTIAL_PRESSURE, "PAL-01") == "ΔP→PAL-01"
    assert value_label(Quantity.PARTICLES_0_5) == "≥0.5 µm"
    assert value_text(Quantity.TEMPERATURE, None) == "—"
    assert value_text(Quantity.TEMPERATURE, Sample("t", None, Quality.COMM_FAIL, 0.0)) == "—"


def _s(value: bool | int | None, quality: Quality = Quality.GOOD) -> Sample:
    return Sample("x", value, quality, 0.0, "why" if quality is not Quality.GOOD else "")


@pytest.mark.parametrize(
    ("closed", "locked", "fault", "state", "label"),
    [
        (_s(True), _s(False), _s(0), DoorState.CLOSED, ""),
        (_s(True), _s(True), _s(0), DoorState.LOCKED, ""),
        (_s(False), _s(False), _s(0), DoorState.OPEN, ""),
        (_s(False), _s(True), _s(2), DoorState.FAULT, "F2"),
        (_s(True), _s(False), _s(5), DoorState.FAULT, "F5"),
        (None, None, None, DoorState.UNKNOWN, ""),
        (_s(True, Quality.STALE), _s(False), _s(0), DoorState.UNKNOWN, ""),
        (_s(None, Quality.COMM_FAIL), _s(None, Quality.COMM_FAIL), _s(3), DoorState.UNKNOWN, "F3"),
    ],
)
def test_door_view_combines_position_lock_and_fault(
    closed: Sample | None,
    locked: Sample | None,
    fault: Sample | None,
    state: DoorState,
    label: str,
) -> None:
    view = door_view(closed, locked, fault, has_fault_point=True)
    assert view.state is state
    assert view.fault_label == label
    if state is DoorState.UNKNOWN:
        assert view.is_open is None
        assert view.problems


def test_a_stale_lock_is_unknown_not_unlocked() -> None:
    view = door_view(_s(True), _s(True, Quality.STALE), None, has_fault_point=False)
    assert view.state is DoorState.CLOSED
    assert view.is_locked is None
    assert any("lock" in p and "STALE" in p for p in view.problems)
    assert view.fault_code is None
