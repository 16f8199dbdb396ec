"""The floor plan driven by a point store fed with hand-made samples."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hal.points import Quality, Sample, Value
from necstgen_desk.live import PointStore
from necstgen_desk.site import Site
from ui.bridge import LiveBridge
from ui.floorplan import FloorPlan
from ui.plan_items import RowStyle, SpaceItem
from ui.point_display import DISPLAYED, DoorState, ValueState

from .conftest import good, nominal_samples, nominal_value


@pytest.fixture
def plan(qtbot: QtBot, site: Site, store: PointStore) -> FloorPlan:
    view = FloorPlan(site, store)
    qtbot.addWidget(view)
    view.resize(1600, 830)
    return view


@pytest.fixture
def shown(qtbot: QtBot, plan: FloorPlan) -> FloorPlan:
    plan.show()
    qtbot.waitExposed(plan)
    return plan


def publish(plan: FloorPlan, *samples: Sample) -> None:
    plan.store.publish(samples)
    plan.refresh(plan.store.take_changes())


def door_state(plan: FloorPlan, door_id: str) -> DoorState:
    return plan.door_item(door_id).state


def auto_fit(plan: FloorPlan) -> bool:
    return plan.auto_fit


def last_value(plan: FloorPlan, point_id: str) -> Value | None:
    sample = plan.store.latest(point_id)
    return sample.value if sample is not None else None


def test_every_space_is_drawn_with_the_values_it_has(plan: FloorPlan, site: Site) -> None:
    publish(plan, *nominal_samples(site))
    assert {s.space_id for s in plan.space_items} == {s.id for s in site.spaces}
    for space in site.spaces:
        item = plan.space_item(space.id)
        expected = [q for q in DISPLAYED if site.point_for(space.id, q) is not None]
        assert [v.quantity for v in item.values] == expected, space.id
        assert all(v.state is ValueState.NORMAL for v in item.values), space.id
        assert item.worst_state is ValueState.NORMAL
    assert plan.spaces_without_live_values() == []
    assert plan.live_count() == (plan.live_count()[1], 118)


def test_values_read_as_the_operator_expects(plan: FloorPlan, site: Site) -> None:
    publish(plan, *nominal_samples(site))
    dp = plan.value_item("B-01.dp")
    assert (dp.label, dp.text, dp.unit) == ("ΔP→PAL-01", "+15.0", "Pa")
    sink = plan.value_item("PAL-07.dp")
    assert (sink.label, sink.text) == ("ΔP→C-COR", "\u221210.0")
    assert plan.value_item("B-01.t").text == "21.0"
    assert plan.value_item("B-01.rh").unit == "%RH"
    p05 = plan.value_item("B-01.p05")
    assert (p05.label, p05.text, p05.unit) == ("≥0.5 µm", "1.2k", "/m³")
    assert plan.value_item("B-01.p5").text == "12"


def test_layout_keeps_every_label_inside_its_room(plan: FloorPlan, site: Site) -> None:
    """Legibility: no value line spills over a wall or onto another line."""
    for item in plan.space_items:
        room = item.bounds
        rects = [v.sceneBoundingRect() for v in item.values]
        for value, rect in zip(item.values, rects, strict=True):
            assert room.contains(rect), (value.point_id, rect, room)
        for i, a in enumerate(rects):
            for b in rects[i + 1 :]:
                assert not a.intersects(b.adjusted(0.5, 0.5, -0.5, -0.5)), item.space_id
    airlock = plan.space_item("PAL-01")
    assert airlock.compact and not airlock.name_shown
    assert airlock.values[0].geometry.style is RowStyle.STACKED
    suite = plan.space_item("B-01")
    assert not suite.compact and suite.name_shown
    assert suite.values[0].geometry.style is RowStyle.ROW


def test_nothing_is_live_before_the_first_sample(plan: FloorPlan, site: Site) -> None:
    assert all(v.state is ValueState.NO_DATA and v.tag == "?" for v in plan.value_items)
    assert all(d.state is DoorState.UNKNOWN for d in plan.door_items)
    assert sorted(plan.spaces_without_live_values()) == sorted(s.id for s in site.spaces)


def test_door_symbols_follow_their_points(plan: FloorPlan, site: Site) -> None:
    publish(plan, *nominal_samples(site))
    assert door_state(plan, "PAL-01-OUT") is DoorState.CLOSED
    publish(plan, good("PAL-01-OUT.closed", False))
    assert door_state(plan, "PAL-01-OUT") is DoorState.OPEN
    assert "Open" in plan.door_item("PAL-01-OUT").toolTip()
    publish(plan, good("PAL-01-OUT.closed", True), good("PAL-01-OUT.locked", True))
    assert door_state(plan, "PAL-01-OUT") is DoorState.LOCKED
    assert plan.door_item("C-01-D").state is DoorState.CLOSED  # others untouched


def test_an_interlock_fault_marks_both_doors_of_its_airlock(plan: FloorPlan, site: Site) -> None:
    publish(plan, *nominal_samples(site))
    publish(plan, good("PAL-03.fault", 2))
    for door_id in ("PAL-03-OUT", "PAL-03-IN"):
        door = plan.door_item(door_id)
        assert door.state is DoorState.FAULT
        assert door.view.fault_label == "F2"
        assert "forced open while locked" in door.toolTip()
    assert plan.door_item("PAL-04-OUT").state is DoorState.CLOSED
    publish(plan, good("PAL-03.fault", 0))
    assert plan.door_item("PAL-03-IN").state is DoorState.CLOSED


def test_a_door_point_that_is_not_good_is_unknown(plan: FloorPlan, site: Site) -> None:
    publish(plan, *nominal_samples(site))
    publish(plan, Sample("C-02-D.closed", True, Quality.STALE, time.time()))
    door = plan.door_item("C-02-D")
    assert door.state is DoorState.UNKNOWN
    assert "STALE" in door.toolTip()


def test_a_plc_in_comm_fail_greys_its_values(plan: FloorPlan, site: Site) -> None:
    publish(plan, *nominal_samples(site))
    now = time.time()
    env2 = [p for p in site.points if p.plc == "ENV-2"]
    publish(
        plan,
        *(
            Sample(p.id, last_value(plan, p.id), Quality.COMM_FAIL, now, "Connection refused")
            for p in env2
        ),
    )
    for point in env2:
        if point.hal.quantity not in DISPLAYED:
            continue
        value = plan.value_item(point.id)
        assert value.state is ValueState.COMM_FAIL
        assert value.tag == "COMM" and not value.is_live
        assert "Connection refused" in value.toolTip()
        assert "not live" in value.toolTip()
    lost = {"B-05", "B-06", "B-07", "B-08", "PAL-05", "PAL-06", "PAL-07", "PAL-08"}
    assert set(plan.spaces_without_live_values()) == lost
    assert plan.space_item("B-05").all_values_unreliable
    assert plan.value_item("B-01.t").state is ValueState.NORMAL


@pytest.mark.parametrize(("quality", "tag"), [(Quality.STALE, "STALE"), (Quality.BAD, "BAD")])
def test_stale_and_bad_values_are_tagged(
    plan: FloorPlan, site: Site, quality: Quality, tag: str
) -> None:
    publish(plan, *nominal_samples(site))
    publish(plan, Sample("C-01.rh", 44.0, quality, time.time(), "Modbus exception 2"))
    value = plan.value_item("C-01.rh")
    assert value.tag == tag
    assert value.text == "44.0"  # the last value stays for context, marked as not live
    assert "Modbus exception 2" in value.toolTip()
    assert plan.space_item("C-01").has_live_value


@pytest.mark.parametrize(
    ("point_id", "value", "state"),
    [
        ("B-02.t", 23.5, ValueState.ALERT),
        ("B-02.t", 24.5, ValueState.ACTION),
        ("B-03.rh", 29.0, ValueState.ACTION),
        ("PAL-07.dp", -6.0, ValueState.ALERT),
        ("PAL-07.dp", -3.0, ValueState.ACTION),
        ("C-COR.p05", 2_500_000.0, ValueState.ALERT),
        ("B-01.p5", 3_000.0, ValueState.ACTION),
    ],
)
def test_limits_set_markers(
    plan: FloorPlan, site: Site, point_id: str, value: float, state: ValueState
) -> None:
    publish(plan, *nominal_samples(site))
    publish(plan, good(point_id, value))
    item = plan.value_item(point_id)
    assert item.state is state
    parent = item.parentItem()
    assert isinstance(parent, SpaceItem)
    assert parent.worst_state is state
    normal = nominal_value(site, point_id)
    assert normal is not None
    publish(plan, good(point_id, normal))
    assert item.state is ValueState.NORMAL
    assert parent.worst_state is ValueState.NORMAL


def test_the_bridge_touches_only_changed_items(
    qtbot: QtBot, site: Site, live_store: PointStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge = LiveBridge(live_store)
    plan = FloorPlan(site, live_store, bridge)
    qtbot.addWidget(plan)
    bridge.poll()  # drain the initial load
    touched: list[str] = []
    for item in plan.value_items:
        original = item.set_sample

        def spy(
            sample: Sample | None,
            _id: str = item.point_id,
            _f: Callable[[Sample | None], bool] = original,
        ) -> bool:
            touched.append(_id)
            return _f(sample)

        monkeypatch.setattr(item, "set_sample", spy)
    live_store.publish([good("B-04.t", 23.6)])
    with qtbot.waitSignal(bridge.points_changed) as signal:
        bridge.poll()
    assert signal.args == [frozenset({"B-04.t"})]
    assert touched == ["B-04.t"]
    assert plan.value_item("B-04.t").state is ValueState.ALERT
    with qtbot.assertNotEmitted(bridge.points_changed):
        bridge.poll()


def test_the_bridge_timer_refreshes_at_a_few_hertz(
    qtbot: QtBot, site: Site, store: PointStore
) -> None:
    bridge = LiveBridge(store)
    plan = FloorPlan(site, store, bridge)
    qtbot.addWidget(plan)
    bridge.start()
    store.publish([good("QC-LAB.t", 21.5)])
    qtbot.waitUntil(lambda: plan.value_item("QC-LAB.t").state is ValueState.NORMAL, timeout=2000)
    bridge.stop()
    assert not bridge.active


def test_zoom_actions_and_keys(qtbot: QtBot, shown: FloorPlan) -> None:
    plan = shown
    fitted = plan.zoom
    assert auto_fit(plan)
    assert plan.mapFromScene(plan.sceneRect()).boundingRect().width() <= plan.viewport().width() + 1
    plan.zoom_in_action.trigger()
    assert plan.zoom == pytest.approx(fitted * 1.25)
    assert not auto_fit(plan)
    plan.zoom_out_action.trigger()
    plan.zoom_out_action.trigger()
    assert plan.zoom == pytest.approx(fitted / 1.25)
    QTest.keyClick(plan, Qt.Key.Key_Plus)
    assert plan.zoom == pytest.approx(fitted)
    QTest.keyClick(plan, Qt.Key.Key_Plus)
    QTest.keyClick(plan, Qt.Key.Key_Minus)
    assert plan.zoom == pytest.approx(fitted)
    plan.zoom_in_action.trigger()
    plan.fit_action.trigger()
    assert plan.zoom == pytest.approx(fitted)
    assert auto_fit(plan)
    for _ in range(30):
        plan.zoom_out()
    assert plan.zoom == pytest.approx(fitted * 0.5, rel=0.01)  # never lost in the void


def test_fit_follows_the_window_until_the_user_zooms(qtbot: QtBot, shown: FloorPlan) -> None:
    plan = shown
    before = plan.zoom
    plan.resize(800, 500)
    qtbot.waitUntil(lambda: plan.zoom < before * 0.6)
    plan.zoom_in()
    zoomed = plan.zoom
    plan.resize(1200, 700)
    qtbot.waitUntil(lambda: plan.viewport().width() > 1000)
    assert plan.zoom == pytest.approx(zoomed)


def test_double_click_on_a_space_activates_it(qtbot: QtBot, shown: FloorPlan) -> None:
    plan = shown
    room = plan.space_item("QC-LAB").bounds
    corner = plan.mapFromScene(QPointF(room.left() + 8, room.bottom() - 8))
    with qtbot.waitSignal(plan.space_activated) as signal:
        QTest.mouseDClick(plan.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    assert signal.args == ["QC-LAB"]
    value = plan.value_item("B-07.t").sceneBoundingRect().center()
    assert plan.space_at(value) == "B-07"  # a value line belongs to its room
    with qtbot.assertNotEmitted(plan.space_activated):
        QTest.mouseDClick(plan.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))


def test_the_stylesheet_sets_the_plan_colours(qtbot: QtBot, plan: FloorPlan) -> None:
    plan.setStyleSheet("FloorPlan { qproperty-alertColor: #123456; qproperty-textColor: #010203; }")
    plan.ensurePolished()
    assert plan.property("alertColor") == QColor("#123456")
    assert plan.plan_style.palette.alert == QColor("#123456")
    assert plan.plan_style.palette.text == QColor("#010203")


def test_the_plan_renders(qtbot: QtBot, shown: FloorPlan, site: Site) -> None:
    publish(shown, *nominal_samples(site))
    publish(shown, good("B-02.t", 24.5), good("PAL-02-IN.closed", False), good("PAL-03.fault", 1))
    image = shown.grab().toImage()
    assert not image.isNull() and image.width() == shown.width()
    assert (
        len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 400, 7)}) > 3
    )


def test_drag_pans_and_the_wheel_zooms(qtbot: QtBot, shown: FloorPlan) -> None:
    plan = shown
    for _ in range(3):
        plan.zoom_in()
    bar = plan.horizontalScrollBar()
    bar.setValue((bar.minimum() + bar.maximum()) // 2)
    before = bar.value()
    start = plan.viewport().rect().center()
    QTest.mousePress(plan.viewport(), Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(plan.viewport(), start + QPoint(150, 0))
    QTest.mouseRelease(plan.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(150, 0))
    assert bar.value() < before  # dragging right shows what lies to the left

    zoom = plan.zoom
    centre = QPointF(start)
    wheel = QWheelEvent(
        centre,
        plan.viewport().mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(plan.viewport(), wheel)
    assert plan.zoom == pytest.approx(zoom * 1.25)
