"""An alarm engine on the default site with a hand-driven clock and hand-made samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from hal.points import LinkState, LinkStatus, Quality, Sample, Value
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import Alarm, AlarmChange, AlarmState, FloodStatus
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.site import DEFAULT_SITE_PATH, Site, load_site

T0 = 1_800_000_000.0  # 2027-01-15, any fixed instant


@cache
def default_site() -> Site:
    return load_site(DEFAULT_SITE_PATH)


@dataclass
class Harness:
    site: Site = field(default_factory=default_site)
    now: float = T0
    changes: list[AlarmChange] = field(default_factory=list)
    floods: list[FloodStatus] = field(default_factory=list)
    time_lapse: float = 1.0

    def __post_init__(self) -> None:
        self.engine = AlarmEngine(self.site, clock=lambda: self.now, time_lapse=self.time_lapse)
        self.engine.on_change(self.changes.extend)
        self.engine.on_flood(self.floods.append)

    # ------------------------------------------------------------ driving

    def feed(self, point_id: str, value: Value | None, quality: Quality = Quality.GOOD) -> None:
        reason = "" if quality is Quality.GOOD else f"test {quality.value}"
        self.engine.feed([Sample(point_id, value, quality, self.now, reason)])

    def feed_many(self, values: dict[str, Value]) -> None:
        self.engine.feed([Sample(p, v, Quality.GOOD, self.now) for p, v in values.items()])

    def advance(self, seconds: float, *, step: float | None = None) -> None:
        """Move the clock on, ticking every ``step`` seconds (default: once at the end)."""
        end = self.now + seconds
        if step is not None:
            while self.now + step < end:
                self.now += step
                self.engine.tick()
        self.now = end
        self.engine.tick()

    def link(self, plc_id: str, state: LinkState) -> None:
        self.engine.set_link(LinkStatus(plc_id, state, self.now, "test"))

    def room(self, room_id: str, status: RoomStatus) -> None:
        self.engine.set_room_status(room_id, status, datetime.fromtimestamp(self.now, UTC))

    # ------------------------------------------------------------ reading

    def state(self, alarm_id: str) -> AlarmState:
        return self.engine.alarm(alarm_id).state

    def alarm(self, alarm_id: str) -> Alarm:
        return self.engine.alarm(alarm_id)

    def listed(self) -> set[str]:
        return {a.id for a in self.engine.active_alarms()}

    def changes_of(self, alarm_id: str) -> list[AlarmChange]:
        return [c for c in self.changes if c.alarm_id == alarm_id]
