"""What stops a room's release: its action-level alarms and latched interlock faults.

Implements :class:`necstgen_desk.records.lifecycle.ReleaseBlockers` (DESIGN.md
§3: "No release while the room has an active action-level alarm or
interlock fault"). An alarm counts while its condition is active, whatever
its state: shelving or suppression hides an alarm from the list, not from QA.
A room's interlock faults are those of the room itself when it is an
airlock, and of every airlock whose inner door opens into it.
"""

from __future__ import annotations

from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmKind
from necstgen_desk.site.model import Site

__all__ = ["AlarmReleaseBlockers", "airlocks_guarding"]


def airlocks_guarding(site: Site, room_id: str) -> tuple[str, ...]:
    """The airlocks whose faults block the release of ``room_id``."""
    found: list[str] = []
    for airlock in site.airlocks:
        inner = site.door_by_id.get(airlock.inner_door)
        leads_in = inner is not None and inner.between[1] == room_id
        if airlock.id == room_id or leads_in:
            found.append(airlock.id)
    return tuple(found)


class AlarmReleaseBlockers:
    """The release blockers of a room, as plain sentences, from the live engine."""

    def __init__(self, engine: AlarmEngine) -> None:
        self._engine = engine

    def blockers(self, room_id: str) -> list[str]:
        engine = self._engine
        out: list[str] = []
        for alarm in engine.active_conditions():
            d = alarm.definition
            if d.room == room_id and d.is_action_level:
                out.append(f"action-level alarm: {alarm.message}")
        for airlock_id in airlocks_guarding(engine.site, room_id):
            status = engine.interlock(airlock_id)
            if status.latched:
                acknowledged = "acknowledged" if status.acknowledged else "not acknowledged"
                out.append(
                    f"interlock fault latched on airlock {airlock_id}: {status.fault_text} "
                    f"({acknowledged}; maintenance must reset it)"
                )
            elif any(a.kind is AlarmKind.INTERLOCK_FAULT and a.active for a in status.alarms):
                out.append(f"interlock fault reported on airlock {airlock_id}")
        return out
