"""Every alarm of a site, derived from the site file (limits are site data, not code).

| alarm | per | priority (default) | room |
|---|---|---|---|
| limit, action level | point with limits | high (T/RH: medium) | the point's space |
| limit, alert level | point with limits | medium (T/RH: low) | the point's space |
| clean-up: at-rest limits not met | space with particle points | high | the space |
| both doors open | airlock | high (warning-only airlock: medium) | the airlock |
| door held open | door with a closed-state point | medium | its airlock, else its inner side |
| interlock fault (codes 1-5, "unknown") | airlock with a fault point | as both open | the airlock |
| PLC link lost, heartbeat frozen | PLC | high | — |
| point bad | polled point | medium | — |
| record gap | critical differential | medium | — |
| audit chain broken | the site | high | — |

A point's ``priority`` table in the site file overrides the limit defaults.
Alarm ids are stable text (``B-01.dp/action``, ``PAL-01/fault/forced_open``)
because the journal keys on them across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from hal.points import Access, Quantity
from necstgen_desk.alarms.model import (
    AlarmDefinition,
    AlarmKind,
    AlarmLevel,
    InterlockFault,
    Priority,
)
from necstgen_desk.site.model import Door, InterlockKind, PointConfig, Site

__all__ = [
    "AUDIT_SOURCE",
    "FAULT_CODES",
    "LIMIT_QUANTITIES",
    "PARTICLE_QUANTITIES",
    "SiteAlarms",
    "alarm_id",
    "default_priority",
    "fault_alarm_id",
    "holdoff_doors",
    "limit_alarm_id",
    "site_alarms",
]

#: The subsystem name of the audit-chain alarm.
AUDIT_SOURCE = "audit"
LIMIT_QUANTITIES = frozenset(
    {
        Quantity.DIFFERENTIAL_PRESSURE,
        Quantity.TEMPERATURE,
        Quantity.HUMIDITY,
        Quantity.PARTICLES_0_5,
        Quantity.PARTICLES_5,
    }
)
PARTICLE_QUANTITIES = frozenset({Quantity.PARTICLES_0_5, Quantity.PARTICLES_5})
#: The codes that have their own alarm; any other non-zero code raises the "unknown" one.
FAULT_CODES = tuple(code for code in InterlockFault if code is not InterlockFault.NONE)

_QUANTITY_TITLES = {
    Quantity.TEMPERATURE: "temperature",
    Quantity.HUMIDITY: "relative humidity",
    Quantity.PARTICLES_0_5: "particles ≥0.5 µm",
    Quantity.PARTICLES_5: "particles ≥5 µm",
}


def alarm_id(source: str, kind: AlarmKind) -> str:
    return f"{source}/{kind.value}"


def limit_alarm_id(point_id: str, level: AlarmLevel) -> str:
    return f"{point_id}/{level.value}"


def fault_alarm_id(airlock_id: str, code: InterlockFault | None) -> str:
    name = code.name.lower() if code is not None else "unknown"
    return f"{airlock_id}/fault/{name}"


def default_priority(quantity: Quantity, level: AlarmLevel) -> Priority:
    """Action limits are deviations, alerts early warnings; temperature and humidity
    drift slowly and do not threaten the product within minutes, so a level lower."""
    climate = quantity in (Quantity.TEMPERATURE, Quantity.HUMIDITY)
    if level is AlarmLevel.ACTION:
        return Priority.MEDIUM if climate else Priority.HIGH
    return Priority.LOW if climate else Priority.MEDIUM


def point_title(site: Site, point: PointConfig) -> str:
    hal = point.hal
    if hal.quantity is Quantity.DIFFERENTIAL_PRESSURE:
        reference = hal.reference or site.ambient
        return f"{hal.target} ΔP to {reference}"
    what = _QUANTITY_TITLES.get(hal.quantity, hal.quantity.value)
    return f"{hal.target} {what}"


def holdoff_doors(site: Site, point: PointConfig) -> tuple[str, ...]:
    """The doors that hold a differential's alarms off: those joining its two
    spaces, then the extra ones the site file names."""
    if point.alarm.door_holdoff_s <= 0:
        return ()
    sides = {point.hal.target, point.hal.reference or site.ambient}
    joining = [d.id for d in site.doors if set(d.between) == sides]
    extra = [d for d in point.alarm.holdoff_doors if d not in joining]
    return (*joining, *extra)


def door_room(site: Site, door: Door) -> str | None:
    """The space whose status suppresses a door's alarms."""
    if door.airlock is not None:
        return door.airlock
    inner = door.between[1]
    return inner if inner in site.space_by_id else None


@dataclass(frozen=True)
class SiteAlarms:
    """The definitions of a site, and the structure the engine wires them by."""

    site: Site
    definitions: tuple[AlarmDefinition, ...]

    @cached_property
    def by_id(self) -> dict[str, AlarmDefinition]:
        return {d.id: d for d in self.definitions}

    def of_kind(self, kind: AlarmKind) -> tuple[AlarmDefinition, ...]:
        return tuple(d for d in self.definitions if d.kind is kind)


def site_alarms(site: Site) -> SiteAlarms:
    """Every alarm definition of ``site`` (see the module table)."""
    out: list[AlarmDefinition] = []
    out.extend(_limit_alarms(site))
    out.extend(_cleanup_alarms(site))
    out.extend(_door_alarms(site))
    out.extend(_system_alarms(site))
    return SiteAlarms(site, tuple(out))


def _source_alarm(
    kind: AlarmKind,
    source: str,
    *,
    title: str,
    priority: Priority,
    room: str | None = None,
    level: AlarmLevel | None = None,
    on_delay_s: float = 0.0,
) -> AlarmDefinition:
    """The one alarm of ``kind`` about ``source``: its id is :func:`alarm_id` of the two
    (limit and interlock-fault alarms, several a source, have ids of their own)."""
    return AlarmDefinition(
        id=alarm_id(source, kind),
        kind=kind,
        source=source,
        title=title,
        priority=priority,
        room=room,
        level=level,
        on_delay_s=on_delay_s,
    )


def _limit_alarms(site: Site) -> list[AlarmDefinition]:
    out: list[AlarmDefinition] = []
    for point in site.points:
        q = point.hal.quantity
        if q not in LIMIT_QUANTITIES or point.hal.access is not Access.READ:
            continue
        limits = [point.limits, *([point.limits_at_rest] if point.limits_at_rest else [])]
        if all(lim.empty for lim in limits):
            continue
        settings = point.alarm
        doors = holdoff_doors(site, point) if q is Quantity.DIFFERENTIAL_PRESSURE else ()
        for level in (AlarmLevel.ALERT, AlarmLevel.ACTION):
            if level is AlarmLevel.ALERT:
                has = any(lim.alert_low is not None or lim.alert_high is not None for lim in limits)
                chosen = settings.alert_priority
            else:
                has = any(
                    lim.action_low is not None or lim.action_high is not None for lim in limits
                )
                chosen = settings.action_priority
            if not has:
                continue
            out.append(
                AlarmDefinition(
                    id=limit_alarm_id(point.id, level),
                    kind=AlarmKind.LIMIT,
                    source=point.id,
                    title=f"{point_title(site, point)} {level.value} limit",
                    priority=chosen or default_priority(q, level),
                    room=point.hal.target if point.hal.target in site.space_by_id else None,
                    level=level,
                    on_delay_s=settings.on_delay_s,
                    off_delay_s=settings.off_delay_s,
                    deadband=settings.deadband,
                    door_holdoff_s=settings.door_holdoff_s if doors else 0.0,
                    holdoff_justification=settings.holdoff_justification if doors else "",
                    holdoff_doors=doors,
                    unit=point.hal.unit,
                )
            )
    return out


def _cleanup_alarms(site: Site) -> list[AlarmDefinition]:
    rooms = {
        p.hal.target
        for p in site.points
        if p.hal.quantity in PARTICLE_QUANTITIES
        and p.limits_at_rest is not None
        and p.limits_at_rest.action_high is not None
    }
    return [
        _source_alarm(
            AlarmKind.CLEANUP,
            space.id,
            title=f"{space.id} at-rest particle limits not met after clean-up",
            priority=Priority.HIGH,
            room=space.id,
            level=AlarmLevel.ACTION,
        )
        for space in site.spaces
        if space.id in rooms
    ]


def _door_alarms(site: Site) -> list[AlarmDefinition]:
    out: list[AlarmDefinition] = []
    held = site.alarms.door_held_open_s
    watched = {p.hal.target for p in site.points if p.hal.quantity is Quantity.DOOR_CLOSED}
    faulted = {p.hal.target for p in site.points if p.hal.quantity is Quantity.INTERLOCK_FAULT}
    for airlock in site.airlocks:
        grade_b = airlock.interlock is InterlockKind.INTERLOCKED
        priority = Priority.HIGH if grade_b else Priority.MEDIUM
        if airlock.outer_door in watched and airlock.inner_door in watched:
            out.append(
                _source_alarm(
                    AlarmKind.BOTH_DOORS_OPEN,
                    airlock.id,
                    title=f"{airlock.id} both doors open",
                    priority=priority,
                    room=airlock.id,
                )
            )
        if airlock.id in faulted:
            for code in (*FAULT_CODES, None):
                name = code.display_name if code is not None else "unknown fault code"
                out.append(
                    AlarmDefinition(
                        id=fault_alarm_id(airlock.id, code),
                        kind=AlarmKind.INTERLOCK_FAULT,
                        source=airlock.id,
                        title=f"{airlock.id} interlock fault: {name}",
                        priority=priority,
                        room=airlock.id,
                        fault_code=int(code) if code is not None else None,
                    )
                )
    for door in site.doors:
        if door.id in watched:
            out.append(
                _source_alarm(
                    AlarmKind.DOOR_HELD_OPEN,
                    door.id,
                    title=f"door {door.id} held open longer than {held:g} s",
                    priority=Priority.MEDIUM,
                    room=door_room(site, door),
                    on_delay_s=held,
                )
            )
    return out


def _system_alarms(site: Site) -> list[AlarmDefinition]:
    out: list[AlarmDefinition] = []
    heartbeats = {p.plc for p in site.points if p.hal.quantity is Quantity.HEARTBEAT}
    for plc in site.plcs:
        out.append(
            _source_alarm(
                AlarmKind.LINK_LOST,
                plc.id,
                title=f"PLC {plc.id} link lost",
                priority=Priority.HIGH,
            )
        )
        if plc.id in heartbeats:
            out.append(
                _source_alarm(
                    AlarmKind.HEARTBEAT_FROZEN,
                    plc.id,
                    title=f"PLC {plc.id} heartbeat frozen",
                    priority=Priority.HIGH,
                )
            )
    for point in site.points:
        if point.hal.access is not Access.READ:
            continue
        out.append(
            _source_alarm(
                AlarmKind.POINT_BAD,
                point.id,
                title=f"{point.id} bad value",
                priority=Priority.MEDIUM,
            )
        )
        if point.alarm.critical:
            out.append(
                _source_alarm(
                    AlarmKind.RECORD_GAP,
                    point.id,
                    title=f"{point_title(site, point)}: gap in the record",
                    priority=Priority.MEDIUM,
                )
            )
    out.append(
        _source_alarm(
            AlarmKind.AUDIT_CHAIN,
            AUDIT_SOURCE,
            title="audit trail hash chain broken",
            priority=Priority.HIGH,
        )
    )
    return out
