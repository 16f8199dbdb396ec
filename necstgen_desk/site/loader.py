"""Load and validate a site file (TOML) into the frozen :class:`Site`.

The loader never stops at the first mistake: it collects every problem with
its key path and a plain sentence, and raises one :class:`SiteError`. It never
lets a TOML, type or lookup error escape as a traceback.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import resources
from hal.points import (
    Access,
    ByteOrder,
    DataType,
    PlcDef,
    PointDef,
    Quantity,
    Table,
    WordOrder,
)
from necstgen_desk.site.errors import SiteError, SiteProblem
from necstgen_desk.site.model import (
    Airlock,
    AlarmPolicy,
    AlarmSettings,
    Door,
    Grade,
    HistorianPolicy,
    InterlockKind,
    Limits,
    PointConfig,
    Priority,
    RecordsPolicy,
    Site,
    Space,
)

DEFAULT_SITE_PATH = resources.path("sites", "necstgen.toml")

_TOP_KEYS = {
    "site",
    "grades",
    "alarms",
    "records",
    "historian",
    "plc",
    "space",
    "door",
    "airlock",
    "point",
}
_SITE_KEYS = {"name", "ambient"}
_PLC_KEYS = {
    "id",
    "host",
    "port",
    "device_id",
    "word_order",
    "byte_order",
    "scan_period_s",
    "timeout_s",
    "max_gap_registers",
    "max_gap_bits",
    "heartbeat_timeout_s",
}
_SPACE_KEYS = {"id", "name", "grade", "setpoint_pa", "polygon"}
_DOOR_KEYS = {"id", "between", "at"}
_AIRLOCK_KEYS = {"id", "outer_door", "inner_door", "interlock"}
_POINT_KEYS = {
    "id",
    "plc",
    "target",
    "quantity",
    "reference",
    "table",
    "address",
    "type",
    "scale",
    "offset",
    "bit",
    "unit",
    "access",
    "limits",
    "limits_at_rest",
    # alarm settings (AlarmSettings)
    "priority",
    "on_delay_s",
    "off_delay_s",
    "deadband",
    "door_holdoff_s",
    "holdoff_justification",
    "holdoff_doors",
    "critical",
    # historian
    "hist_deadband",
}
_PRIORITY_KEYS = ("alert", "action")
_ALARM_POLICY_KEYS = {
    "cleanup_minutes",
    "door_held_open_s",
    "flood_start",
    "flood_window_min",
    "flood_end",
    "shelve_max_hours",
    "gap_s",
}
_MAX_DELAY_S = 86_400.0
_LIMIT_KEYS = ("action_low", "alert_low", "alert_high", "action_high")
_PARTICLES = (Quantity.PARTICLES_0_5, Quantity.PARTICLES_5)
_MAX_ID_LENGTH = 64
_MAX_COORD = 100_000.0
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _Problems:
    def __init__(self) -> None:
        self.items: list[SiteProblem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(SiteProblem(path, message))


def load_site(path: str | Path) -> Site:
    """Read and validate a site file; raise :class:`SiteError` listing every problem."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SiteError(source, [SiteProblem("<file>", f"cannot be read: {reason}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SiteError(
            source, [SiteProblem("<file>", f"is not UTF-8 text (byte {exc.start})")]
        ) from None
    return parse_site(text, source=source)


def parse_site(text: str, *, source: str = "<site>") -> Site:
    """Validate site TOML text; raise :class:`SiteError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(source, [SiteProblem("<file>", f"is not valid TOML: {exc}")]) from None
    except ValueError:
        # tomllib lets Python's limit on the digits of a whole number escape as a ValueError.
        problem = SiteProblem("<file>", "is not valid TOML: a whole number has too many digits")
        raise SiteError(source, [problem]) from None
    except RecursionError:
        problem = SiteProblem("<file>", "nests lists or tables too deeply to be read")
        raise SiteError(source, [problem]) from None
    problems = _Problems()
    site = _build(data, problems)
    if problems.items or site is None:
        raise SiteError(source, problems.items)
    return site


# ---------------------------------------------------------------- readers


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


def _show(value: int | float) -> str:
    """A number for a message; a huge whole number by its size (``str`` refuses 4300+ digits)."""
    if isinstance(value, int) and value.bit_length() > 64:
        digits = int((value.bit_length() - 1) * math.log10(2)) + 1
        sign = "negative " if value < 0 else ""
        return f"a {sign}number of about {digits} digits"
    return str(value)


def _join(path: str, key: str) -> str:
    """``path.key``; a key that is not a bare TOML key is quoted, so it always shows."""
    shown = key if _BARE_KEY.fullmatch(key) else repr(key)
    return f"{path}.{shown}" if path else shown


def _plain_id(value: object) -> bool:
    """Whether ``value`` is an id that may stand in a key path as it is."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= _MAX_ID_LENGTH
        and all(c.isprintable() and not c.isspace() for c in value)
    )


def _unknown_keys(table: dict[str, Any], allowed: Iterable[str], path: str, p: _Problems) -> None:
    allowed_set = set(allowed)
    for key in table:
        if key not in allowed_set:
            known = ", ".join(sorted(allowed_set))
            p.add(_join(path, key), f"unknown key (known keys: {known})")


def _text(
    table: dict[str, Any], key: str, path: str, p: _Problems, *, required: bool = True
) -> str | None:
    if key not in table:
        if required:
            p.add(f"{path}.{key}", "is missing")
        return None
    value = table[key]
    if not isinstance(value, str):
        p.add(f"{path}.{key}", f"must be text, not {_describe(value)}")
        return None
    if not value.strip():
        p.add(f"{path}.{key}", "must not be empty")
        return None
    return value


def _ident(table: dict[str, Any], key: str, path: str, p: _Problems) -> str | None:
    value = _text(table, key, path, p)
    if value is None:
        return None
    if len(value) > _MAX_ID_LENGTH:
        p.add(f"{path}.{key}", f"is longer than {_MAX_ID_LENGTH} characters")
        return None
    if any(c.isspace() or not c.isprintable() for c in value):
        p.add(f"{path}.{key}", f"{value!r} must not contain spaces or control characters")
        return None
    return value


def _number(
    table: dict[str, Any],
    key: str,
    path: str,
    p: _Problems,
    *,
    default: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> float | None:
    if key not in table:
        if default is None:
            p.add(f"{path}.{key}", "is missing")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        p.add(f"{path}.{key}", f"must be a number, not {_describe(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:
        p.add(f"{path}.{key}", f"is {_show(value)}, far out of range")
        return None
    if not math.isfinite(number):
        p.add(f"{path}.{key}", "must be a finite number")
        return None
    if minimum is not None and number < minimum:
        p.add(f"{path}.{key}", f"is {_show(value)}, below the smallest allowed {minimum:g}")
        return None
    if maximum is not None and number > maximum:
        p.add(f"{path}.{key}", f"is {_show(value)}, above the largest allowed {maximum:g}")
        return None
    if above is not None and number <= above:
        p.add(f"{path}.{key}", f"is {_show(value)}; it must be more than {above:g}")
        return None
    return number


def _integer(
    table: dict[str, Any],
    key: str,
    path: str,
    p: _Problems,
    *,
    default: int | None = None,
    minimum: int,
    maximum: int,
) -> int | None:
    if key not in table:
        if default is None:
            p.add(f"{path}.{key}", "is missing")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        p.add(f"{path}.{key}", f"must be a whole number, not {_describe(value)}")
        return None
    if not minimum <= value <= maximum:
        p.add(f"{path}.{key}", f"is {_show(value)}; it must be between {minimum} and {maximum}")
        return None
    return value


def _choice[E](
    table: dict[str, Any],
    key: str,
    path: str,
    p: _Problems,
    enum: Callable[[str], E],
    choices: Iterable[str],
    *,
    default: E | None = None,
) -> E | None:
    if key not in table and default is not None:
        return default
    value = _text(table, key, path, p)
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        options = ", ".join(repr(c) for c in choices)
        p.add(f"{path}.{key}", f"{value!r} is not one of {options}")
        return None


def _xy(value: object, path: str, p: _Problems) -> tuple[float, float] | None:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    )
    if not ok:
        p.add(path, "must be a pair of numbers [x, y]")
        return None
    assert isinstance(value, list)
    try:
        x, y = float(value[0]), float(value[1])
    except OverflowError:  # a whole number beyond any float
        x = y = math.inf
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > _MAX_COORD:
        p.add(path, f"coordinates must be finite and within ±{_MAX_COORD:g} m")
        return None
    return (x, y)


def _entries(data: dict[str, Any], key: str, p: _Problems) -> list[tuple[str, dict[str, Any]]]:
    """The array of tables ``key`` with a readable path per entry."""
    value = data.get(key, [])
    if not isinstance(value, list):
        p.add(key, f"must be a list of tables ([[{key}]]), not {_describe(value)}")
        return []
    result: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            p.add(f"{key}[{index}]", f"must be a table, not {_describe(entry)}")
            continue
        ident = entry.get("id")
        label = ident if isinstance(ident, str) and _plain_id(ident) else str(index)
        result.append((f"{key}[{label}]", entry))
    return result


# ---------------------------------------------------------------- sections


def _build(data: dict[str, Any], p: _Problems) -> Site | None:
    _unknown_keys(data, _TOP_KEYS, "", p)
    header = data.get("site")
    name, ambient = "Site", "AMBIENT"
    if header is None:
        p.add("site", "is missing: add a [site] table with name and ambient")
    elif not isinstance(header, dict):
        p.add("site", f"must be a [site] table with name and ambient, not {_describe(header)}")
    else:
        _unknown_keys(header, _SITE_KEYS, "site", p)
        name = _text(header, "name", "site", p) or name
        ambient = _ident(header, "ambient", "site", p) or ambient

    grades = _grade_limits(data.get("grades", {}), p)
    policy = _alarm_policy(data.get("alarms", {}), p)
    records_policy = _records_policy(data.get("records", {}), p)
    historian_policy = _historian_policy(data.get("historian", {}), p)
    plcs = [plc for path, t in _entries(data, "plc", p) if (plc := _plc(t, path, p))]
    spaces = [s for path, t in _entries(data, "space", p) if (s := _space(t, path, p))]
    doors = [d for path, t in _entries(data, "door", p) if (d := _door(t, path, p))]
    airlocks = [a for path, t in _entries(data, "airlock", p) if (a := _airlock(t, path, p))]
    raw_points = [
        (path, pc) for path, t in _entries(data, "point", p) if (pc := _point(t, path, p))
    ]

    if not data.get("space"):
        p.add("space", "the site has no spaces: add [[space]] tables")
    if not data.get("plc"):
        p.add("plc", "the site has no PLCs: add [[plc]] tables")

    _check_unique("plc", [x.id for x in plcs], p)
    _check_unique("space", [x.id for x in spaces], p)
    _check_unique("door", [x.id for x in doors], p)
    _check_unique("airlock", [x.id for x in airlocks], p)
    _check_unique("point", [x.id for _, x in raw_points], p)
    _check_endpoints(plcs, p)
    _check_polygons_apart(spaces, p)

    space_ids = {s.id for s in spaces}
    if ambient in space_ids:
        p.add(f"space[{ambient}].id", f"{ambient!r} is the site's ambient id and cannot be a space")
    door_by_id = {d.id: d for d in doors}
    for door in doors:
        for index, side in enumerate(door.between):
            if side not in space_ids and side != ambient:
                p.add(
                    f"door[{door.id}].between[{index}]",
                    f"unknown space {side!r} (neither a space nor the ambient {ambient!r})",
                )
        if door.between[0] == door.between[1]:
            p.add(f"door[{door.id}].between", "a door must join two different spaces")

    airlock_of: dict[str, str] = {}
    space_by_id = {s.id: s for s in spaces}
    for airlock in airlocks:
        path = f"airlock[{airlock.id}]"
        if airlock.id not in space_ids:
            p.add(f"{path}.id", f"unknown space {airlock.id!r}: an airlock is one of the spaces")
        if airlock.outer_door == airlock.inner_door:
            p.add(f"{path}.inner_door", "the inner and outer door must be different doors")
        for key, door_id in (
            ("outer_door", airlock.outer_door),
            ("inner_door", airlock.inner_door),
        ):
            found = door_by_id.get(door_id)
            if found is None:
                p.add(f"{path}.{key}", f"unknown door {door_id!r}")
                continue
            if airlock.id not in found.between:
                p.add(
                    f"{path}.{key}",
                    f"door {door_id!r} joins {found.between[0]} and {found.between[1]}, "
                    f"not the airlock {airlock.id}",
                )
            if door_id in airlock_of:
                p.add(
                    f"{path}.{key}",
                    f"door {door_id!r} already belongs to airlock {airlock_of[door_id]}",
                )
            airlock_of[door_id] = airlock.id
        if airlock.interlock is InterlockKind.WARNING:
            continue
        # An interlocked airlock guards a Grade B (or A) room.
        sides = {
            s
            for d in (airlock.outer_door, airlock.inner_door)
            if (dd := door_by_id.get(d))
            for s in dd.between
        }
        grades_seen = {space_by_id[s].grade for s in sides if s in space_by_id}
        if grades_seen and not grades_seen & {Grade.A, Grade.B}:
            p.add(
                f"{path}.interlock",
                "'interlocked' is for airlocks into Grade A/B; use 'warning' for C/D",
            )
    doors = [replace(d, airlock=airlock_of.get(d.id)) for d in doors]

    plc_by_id = {x.id: x for x in plcs}
    # PLCs that are named but broken: their own problems are listed; their points stay quiet.
    broken_plcs = {
        t["id"] for _, t in _entries(data, "plc", _Problems()) if isinstance(t.get("id"), str)
    } - set(plc_by_id)
    targets = space_ids | set(door_by_id) | {a.id for a in airlocks} | set(plc_by_id)
    points: list[PointConfig] = []
    for path, pc in raw_points:
        if pc.plc in broken_plcs:
            continue
        point_ok = _check_point_refs(
            pc,
            path,
            plc_by_id,
            space_ids,
            set(door_by_id),
            {a.id for a in airlocks},
            targets,
            ambient,
            p,
        )
        if not point_ok:
            continue
        limits, at_rest = pc.limits, pc.limits_at_rest
        if pc.hal.quantity in _PARTICLES and pc.hal.target in space_by_id:
            grade = space_by_id[pc.hal.target].grade
            from_grade = grades.get((grade, pc.hal.quantity))
            if from_grade is not None:
                if limits.empty:
                    limits = from_grade[1]
                if at_rest is None:
                    at_rest = from_grade[0]
        resolved = replace(pc, limits=limits, limits_at_rest=at_rest)
        if _check_alarm_settings(resolved, path, doors, ambient, p):
            points.append(resolved)
    _check_heartbeats(points, plc_by_id, p)
    _check_overlaps(points, plc_by_id, p)
    _check_gap(policy, points, plc_by_id, p)

    if p.items:
        return None
    plcs_with_points = tuple(
        replace(plc, points=tuple(pc.hal for pc in points if pc.plc == plc.id)) for plc in plcs
    )
    return Site(
        name=name,
        ambient=ambient,
        spaces=tuple(spaces),
        doors=tuple(doors),
        airlocks=tuple(airlocks),
        plcs=plcs_with_points,
        points=tuple(points),
        alarms=policy,
        records=records_policy,
        historian=historian_policy,
    )


def _check_unique(section: str, ids: list[str], p: _Problems) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            p.add(f"{section}[{ident}].id", f"duplicate id {ident!r}: ids must be unique")
        seen.add(ident)


def _check_endpoints(plcs: list[PlcDef], p: _Problems) -> None:
    seen: dict[tuple[str, int, int], str] = {}
    for plc in plcs:
        key = (plc.host, plc.port, plc.device_id)
        if key in seen:
            p.add(
                f"plc[{plc.id}].port",
                f"duplicate address: {plc.host}:{plc.port} device {plc.device_id} "
                f"is already PLC {seen[key]}",
            )
        seen.setdefault(key, plc.id)


def _check_polygons_apart(spaces: list[Space], p: _Problems) -> None:
    for space in spaces:
        xs = [pt[0] for pt in space.polygon]
        ys = [pt[1] for pt in space.polygon]
        area2 = sum(
            space.polygon[i][0] * space.polygon[(i + 1) % len(space.polygon)][1]
            - space.polygon[(i + 1) % len(space.polygon)][0] * space.polygon[i][1]
            for i in range(len(space.polygon))
        )
        if abs(area2) < 1e-9 or max(xs) == min(xs) or max(ys) == min(ys):
            p.add(f"space[{space.id}].polygon", "has no area (its points lie on one line)")


def _check_point_refs(
    pc: PointConfig,
    path: str,
    plcs: dict[str, PlcDef],
    spaces: set[str],
    doors: set[str],
    airlocks: set[str],
    targets: set[str],
    ambient: str,
    p: _Problems,
) -> bool:
    ok = True
    point = pc.hal
    if pc.plc not in plcs:
        p.add(f"{path}.plc", f"unknown PLC {pc.plc!r}")
        ok = False
    q = point.quantity
    expected: tuple[str, set[str]]
    if q in (Quantity.DOOR_CLOSED, Quantity.DOOR_LOCKED):
        expected = ("door", doors)
    elif q in (Quantity.INTERLOCK_FAULT, Quantity.INTERLOCK_RESET):
        expected = ("airlock", airlocks)
    elif q is Quantity.HEARTBEAT:
        expected = ("PLC", set(plcs))
    else:
        expected = ("space", spaces)
    if point.target not in expected[1]:
        what = "unknown" if point.target not in targets else "not a"
        p.add(
            f"{path}.target",
            f"{what} {expected[0]} {point.target!r} (a {q.value} point belongs to a {expected[0]})",
        )
        ok = False
    if q is Quantity.HEARTBEAT and point.target != pc.plc and pc.plc in plcs:
        p.add(f"{path}.target", f"a heartbeat belongs to its own PLC {pc.plc!r}")
        ok = False
    if q is Quantity.DIFFERENTIAL_PRESSURE:
        if point.reference is None:
            p.add(
                f"{path}.reference",
                "is missing: a differential pressure needs the space it is measured against",
            )
            ok = False
        elif point.reference not in spaces and point.reference != ambient:
            p.add(f"{path}.reference", f"unknown space {point.reference!r}")
            ok = False
        elif point.reference == point.target:
            p.add(f"{path}.reference", "a differential is measured against another space")
            ok = False
    elif point.reference is not None:
        p.add(f"{path}.reference", "only differential-pressure points have a reference")
        ok = False
    return ok


def _check_heartbeats(points: list[PointConfig], plcs: dict[str, PlcDef], p: _Problems) -> None:
    seen: set[str] = set()
    for pc in points:
        if pc.hal.quantity is Quantity.HEARTBEAT:
            if pc.plc in seen:
                p.add(f"point[{pc.id}].quantity", f"PLC {pc.plc} already has a heartbeat point")
            seen.add(pc.plc)


def _check_overlaps(points: list[PointConfig], plcs: dict[str, PlcDef], p: _Problems) -> None:
    """Two points may share a register only as different bits of it."""
    by_table: dict[tuple[str, Table], list[PointDef]] = {}
    for pc in points:
        by_table.setdefault((pc.plc, pc.hal.table), []).append(pc.hal)
    for (plc_id, table), group in by_table.items():
        group.sort(key=lambda pt: (pt.address, pt.end))
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if b.address >= a.end:
                    break
                if a.bit is not None and b.bit is not None and a.bit != b.bit:
                    continue
                where = (
                    f"{table.value} {b.address}"
                    if b.width == 1
                    else (f"{table.value} {b.address}-{b.end - 1}")
                )
                p.add(
                    f"point[{b.id}].address",
                    f"overlaps point {a.id!r} on PLC {plc_id} ({where})",
                )


def _grade_limits(raw: object, p: _Problems) -> dict[tuple[Grade, Quantity], tuple[Limits, Limits]]:
    """(grade, quantity) -> (at rest, in operation) particle limits."""
    result: dict[tuple[Grade, Quantity], tuple[Limits, Limits]] = {}
    if not isinstance(raw, dict):
        p.add("grades", f"must be a table of grades, not {_describe(raw)}")
        return result
    for grade_key, entry in raw.items():
        path = _join("grades", grade_key)
        try:
            grade = Grade(grade_key)
        except ValueError:
            p.add(path, f"{grade_key!r} is not a grade ({', '.join(g.value for g in Grade)})")
            continue
        if not isinstance(entry, dict):
            p.add(path, f"must be a table, not {_describe(entry)}")
            continue
        _unknown_keys(entry, [q.value for q in _PARTICLES], path, p)
        for q in _PARTICLES:
            levels = entry.get(q.value)
            if levels is None:
                continue
            qpath = f"{path}.{q.value}"
            if not isinstance(levels, dict):
                p.add(qpath, "must be a table with at_rest and in_operation")
                continue
            _unknown_keys(levels, ["at_rest", "in_operation"], qpath, p)
            pair: list[Limits] = []
            for occupancy in ("at_rest", "in_operation"):
                opath = f"{qpath}.{occupancy}"
                level = levels.get(occupancy)
                if not isinstance(level, dict):
                    p.add(opath, "must be a table { alert = N, action = N }")
                    continue
                _unknown_keys(level, ["alert", "action"], opath, p)
                alert = _number(level, "alert", opath, p, minimum=0)
                action = _number(level, "action", opath, p, minimum=0)
                if alert is None or action is None:
                    continue
                if alert >= action:
                    p.add(f"{opath}.alert", f"alert {alert:g} must be below action {action:g}")
                    continue
                pair.append(Limits(alert_high=alert, action_high=action))
            if len(pair) == 2:
                result[(grade, q)] = (pair[0], pair[1])
    return result


def _plc(t: dict[str, Any], path: str, p: _Problems) -> PlcDef | None:
    before = len(p.items)
    _unknown_keys(t, _PLC_KEYS, path, p)
    ident = _ident(t, "id", path, p)
    host = _text(t, "host", path, p)
    port = _integer(t, "port", path, p, minimum=1, maximum=65535)
    device_id = _integer(t, "device_id", path, p, default=1, minimum=0, maximum=255)
    word_order = _choice(
        t, "word_order", path, p, WordOrder, [w.value for w in WordOrder], default=WordOrder.BIG
    )
    byte_order = _choice(
        t, "byte_order", path, p, ByteOrder, [b.value for b in ByteOrder], default=ByteOrder.BIG
    )
    period = _number(t, "scan_period_s", path, p, default=1.0, minimum=0.05, maximum=3600)
    timeout = _number(t, "timeout_s", path, p, default=0.5, minimum=0.01, maximum=60)
    gap_r = _integer(t, "max_gap_registers", path, p, default=16, minimum=0, maximum=124)
    gap_b = _integer(t, "max_gap_bits", path, p, default=64, minimum=0, maximum=1999)
    hb = _number(t, "heartbeat_timeout_s", path, p, default=3.0, minimum=0.1, maximum=3600)
    if len(p.items) > before:
        return None
    assert ident and host and port is not None and device_id is not None
    assert word_order and byte_order and period and timeout and hb
    assert gap_r is not None and gap_b is not None
    if timeout >= period * 2:
        p.add(
            f"{path}.timeout_s",
            f"{timeout:g} s is too long for a {period:g} s scan period "
            "(keep it below twice the period)",
        )
        return None
    return PlcDef(
        id=ident,
        host=host,
        port=port,
        device_id=device_id,
        word_order=word_order,
        byte_order=byte_order,
        scan_period_s=period,
        timeout_s=timeout,
        max_gap_registers=gap_r,
        max_gap_bits=gap_b,
        heartbeat_timeout_s=hb,
    )


def _space(t: dict[str, Any], path: str, p: _Problems) -> Space | None:
    before = len(p.items)
    _unknown_keys(t, _SPACE_KEYS, path, p)
    ident = _ident(t, "id", path, p)
    name = _text(t, "name", path, p)
    grade = _choice(t, "grade", path, p, Grade, [g.value for g in Grade])
    setpoint = _number(t, "setpoint_pa", path, p, minimum=-1000, maximum=1000)
    polygon: list[tuple[float, float]] = []
    raw = t.get("polygon")
    if raw is None:
        p.add(f"{path}.polygon", "is missing")
    elif not isinstance(raw, list):
        p.add(f"{path}.polygon", f"must be a list of [x, y] points, not {_describe(raw)}")
    elif len(raw) < 3:
        p.add(f"{path}.polygon", f"has {len(raw)} point(s); a polygon needs at least 3")
    else:
        for i, item in enumerate(raw):
            xy = _xy(item, f"{path}.polygon[{i}]", p)
            if xy is not None:
                polygon.append(xy)
    if len(p.items) > before:
        return None
    assert ident and name and grade and setpoint is not None
    return Space(id=ident, name=name, grade=grade, setpoint_pa=setpoint, polygon=tuple(polygon))


def _door(t: dict[str, Any], path: str, p: _Problems) -> Door | None:
    before = len(p.items)
    _unknown_keys(t, _DOOR_KEYS, path, p)
    ident = _ident(t, "id", path, p)
    between = t.get("between")
    pair: tuple[str, str] | None = None
    if between is None:
        p.add(f"{path}.between", "is missing")
    elif not (
        isinstance(between, list) and len(between) == 2 and all(isinstance(s, str) for s in between)
    ):
        p.add(f"{path}.between", "must be two space ids, [outer side, inner side]")
    else:
        pair = (between[0], between[1])
    at = _xy(t["at"], f"{path}.at", p) if "at" in t else None
    if "at" not in t:
        p.add(f"{path}.at", "is missing: where the door is drawn, [x, y]")
    if len(p.items) > before:
        return None
    assert ident and pair and at
    return Door(id=ident, between=pair, at=at)


def _airlock(t: dict[str, Any], path: str, p: _Problems) -> Airlock | None:
    before = len(p.items)
    _unknown_keys(t, _AIRLOCK_KEYS, path, p)
    ident = _ident(t, "id", path, p)
    outer = _ident(t, "outer_door", path, p)
    inner = _ident(t, "inner_door", path, p)
    kind = _choice(t, "interlock", path, p, InterlockKind, [k.value for k in InterlockKind])
    if len(p.items) > before:
        return None
    assert ident and outer and inner and kind
    return Airlock(id=ident, outer_door=outer, inner_door=inner, interlock=kind)


def _limits(raw: object, path: str, p: _Problems) -> Limits | None:
    if not isinstance(raw, dict):
        p.add(path, "must be a table { action_low, alert_low, alert_high, action_high }")
        return None
    before = len(p.items)
    _unknown_keys(raw, _LIMIT_KEYS, path, p)
    values: dict[str, float | None] = {}
    for key in _LIMIT_KEYS:
        values[key] = _number(raw, key, path, p) if key in raw else None
    if len(p.items) > before:
        return None
    limits = Limits(**values)
    lo_act, lo_al, hi_al, hi_act = (values[k] for k in _LIMIT_KEYS)
    if lo_act is not None and lo_al is not None and lo_al < lo_act:
        p.add(
            f"{path}.alert_low",
            f"alert outside action: alert_low {lo_al:g} is below action_low {lo_act:g}",
        )
        return None
    if hi_act is not None and hi_al is not None and hi_al > hi_act:
        p.add(
            f"{path}.alert_high",
            f"alert outside action: alert_high {hi_al:g} is above action_high {hi_act:g}",
        )
        return None
    lows = [v for v in (lo_act, lo_al) if v is not None]
    highs = [v for v in (hi_al, hi_act) if v is not None]
    if lows and highs and max(lows) >= min(highs):
        p.add(
            path, f"the low limits ({max(lows):g}) must be below the high limits ({min(highs):g})"
        )
        return None
    return limits


def _point(t: dict[str, Any], path: str, p: _Problems) -> PointConfig | None:
    before = len(p.items)
    _unknown_keys(t, _POINT_KEYS, path, p)
    ident = _ident(t, "id", path, p)
    plc = _ident(t, "plc", path, p)
    target = _ident(t, "target", path, p)
    quantity = _choice(t, "quantity", path, p, Quantity, [q.value for q in Quantity])
    reference = _ident(t, "reference", path, p) if "reference" in t else None
    table = _choice(t, "table", path, p, Table, [x.value for x in Table])
    address = _integer(t, "address", path, p, minimum=0, maximum=65535)
    data_type = _choice(t, "type", path, p, DataType, [d.value for d in DataType])
    scale = _number(t, "scale", path, p, default=1.0)
    offset = _number(t, "offset", path, p, default=0.0) if "offset" in t else 0.0
    bit = _integer(t, "bit", path, p, minimum=0, maximum=15) if "bit" in t else None
    unit = _text(t, "unit", path, p, required=False) or ""
    access = _choice(t, "access", path, p, Access, [a.value for a in Access], default=Access.READ)
    limits = _limits(t["limits"], f"{path}.limits", p) if "limits" in t else Limits()
    at_rest = (
        _limits(t["limits_at_rest"], f"{path}.limits_at_rest", p) if "limits_at_rest" in t else None
    )
    alarm = _alarm_settings(t, path, p, quantity)
    hist_deadband = (
        _number(t, "hist_deadband", path, p, minimum=0) if "hist_deadband" in t else None
    )
    if scale == 0:
        p.add(f"{path}.scale", "must not be 0")
    if len(p.items) > before:
        return None
    assert ident and plc and target and quantity and table and data_type and access
    assert address is not None and scale is not None and offset is not None and limits
    assert alarm is not None
    if table.is_bit and data_type is not DataType.BOOL:
        p.add(f"{path}.type", f"a {table.value} holds single bits; its type must be 'bool'")
        return None
    if table.is_bit and bit is not None:
        p.add(f"{path}.bit", f"a {table.value} is already a single bit; remove 'bit'")
        return None
    if not table.is_bit and data_type is DataType.BOOL and bit is None:
        p.add(f"{path}.bit", f"a bool in a {table.value} register needs 'bit' (0-15)")
        return None
    if bit is not None and data_type is not DataType.BOOL:
        p.add(f"{path}.type", "a point with 'bit' must have type 'bool'")
        return None
    if access is Access.WRITE and hist_deadband is not None:
        p.add(f"{path}.hist_deadband", "a write-only point is never read, so never recorded")
        return None
    if access is Access.WRITE and table not in (Table.COIL, Table.HOLDING):
        p.add(
            f"{path}.access",
            f"a {table.value} is read-only; only coils and holding registers can be written",
        )
        return None
    point = PointDef(
        id=ident,
        table=table,
        address=address,
        data_type=data_type,
        quantity=quantity,
        target=target,
        reference=reference,
        scale=scale,
        offset=offset,
        bit=bit,
        unit=unit,
        access=access,
    )
    if point.end > 65536:
        p.add(
            f"{path}.address",
            f"{address} + {point.width} registers runs past the end of the address space (65535)",
        )
        return None
    return PointConfig(
        hal=point,
        plc=plc,
        limits=limits,
        limits_at_rest=at_rest,
        alarm=alarm,
        hist_deadband=hist_deadband,
    )


# ---------------------------------------------------------------- alarm settings


def _flag(table: dict[str, Any], key: str, path: str, p: _Problems) -> bool | None:
    value = table.get(key, False)
    if not isinstance(value, bool):
        p.add(f"{path}.{key}", f"must be true or false, not {_describe(value)}")
        return None
    return value


def _priorities(
    t: dict[str, Any], path: str, p: _Problems
) -> tuple[Priority | None, Priority | None]:
    raw = t.get("priority")
    if raw is None:
        return None, None
    ppath = f"{path}.priority"
    choices = ", ".join(repr(x.value) for x in Priority)
    if not isinstance(raw, dict):
        p.add(ppath, f"must be a table {{ alert = ..., action = ... }} of {choices}")
        return None, None
    _unknown_keys(raw, _PRIORITY_KEYS, ppath, p)
    found: list[Priority | None] = []
    for key in _PRIORITY_KEYS:
        found.append(
            _choice(raw, key, ppath, p, Priority, [x.value for x in Priority])
            if key in raw
            else None
        )
    return found[0], found[1]


def _alarm_settings(
    t: dict[str, Any], path: str, p: _Problems, quantity: Quantity | None
) -> AlarmSettings | None:
    """The point's alarm keys, each checked on its own (cross-checks come later)."""
    before = len(p.items)
    alert_priority, action_priority = _priorities(t, path, p)
    on_delay = _number(t, "on_delay_s", path, p, default=0.0, minimum=0, maximum=_MAX_DELAY_S)
    off_delay = _number(t, "off_delay_s", path, p, default=0.0, minimum=0, maximum=_MAX_DELAY_S)
    deadband = _number(t, "deadband", path, p, default=0.0, minimum=0)
    holdoff = _number(t, "door_holdoff_s", path, p, default=0.0, minimum=0, maximum=3600)
    justification = (
        _text(t, "holdoff_justification", path, p) if "holdoff_justification" in t else ""
    )
    doors: list[str] = []
    raw_doors = t.get("holdoff_doors", [])
    if not isinstance(raw_doors, list):
        p.add(f"{path}.holdoff_doors", f"must be a list of door ids, not {_describe(raw_doors)}")
    else:
        for index, item in enumerate(raw_doors):
            if not _plain_id(item):
                p.add(f"{path}.holdoff_doors[{index}]", "must be a door id (text without spaces)")
                continue
            assert isinstance(item, str)
            doors.append(item)
    critical = _flag(t, "critical", path, p)
    if len(p.items) > before:
        return None
    assert on_delay is not None and off_delay is not None and deadband is not None
    assert holdoff is not None and critical is not None
    dp = quantity is Quantity.DIFFERENTIAL_PRESSURE
    if quantity is not None and not dp:
        for key in ("door_holdoff_s", "holdoff_justification", "holdoff_doors", "critical"):
            if key in t and t[key] not in (False, 0, 0.0, "", []):
                p.add(f"{path}.{key}", "applies to differential-pressure points only")
                return None
    if holdoff > 0 and not justification:
        p.add(
            f"{path}.holdoff_justification",
            "is missing: an alarm delay while a door is open must be configured "
            "with a justification",
        )
        return None
    if holdoff == 0 and (justification or doors):
        key = "holdoff_justification" if justification else "holdoff_doors"
        p.add(f"{path}.{key}", "there is no door_holdoff_s to go with it")
        return None
    if len(set(doors)) != len(doors):
        p.add(f"{path}.holdoff_doors", "names a door twice")
        return None
    return AlarmSettings(
        alert_priority=alert_priority,
        action_priority=action_priority,
        on_delay_s=on_delay,
        off_delay_s=off_delay,
        deadband=deadband,
        door_holdoff_s=holdoff,
        holdoff_justification=(justification or "").strip(),
        holdoff_doors=tuple(doors),
        critical=critical,
    )


_LIMIT_ALARM_KEYS: tuple[tuple[str, Callable[[AlarmSettings], bool]], ...] = (
    ("priority", lambda a: a.alert_priority is not None or a.action_priority is not None),
    ("on_delay_s", lambda a: a.on_delay_s > 0),
    ("off_delay_s", lambda a: a.off_delay_s > 0),
    ("deadband", lambda a: a.deadband > 0),
    ("door_holdoff_s", lambda a: a.door_holdoff_s > 0),
)


def _check_alarm_settings(
    pc: PointConfig, path: str, doors: list[Door], ambient: str, p: _Problems
) -> bool:
    """Checks that need the resolved limits and the doors."""
    alarm = pc.alarm
    ok = True
    if pc.limits.empty and (pc.limits_at_rest is None or pc.limits_at_rest.empty):
        for key, given in _LIMIT_ALARM_KEYS:
            if given(alarm):
                p.add(f"{path}.{key}", "the point has no limits, so it has no limit alarms")
                ok = False
    for label, limits in (("limits", pc.limits), ("limits_at_rest", pc.limits_at_rest)):
        if limits is None or alarm.deadband == 0:
            continue
        for low, high in (
            (limits.alert_low, limits.alert_high),
            (limits.action_low, limits.action_high),
        ):
            if low is not None and high is not None and 2 * alarm.deadband >= high - low:
                p.add(
                    f"{path}.deadband",
                    f"{alarm.deadband:g} is too wide for the {label} band {low:g} .. {high:g}: "
                    "an alarm could never clear (keep it below half the band)",
                )
                ok = False
                break
    door_ids = {d.id for d in doors}
    for index, door_id in enumerate(alarm.holdoff_doors):
        if door_id not in door_ids:
            p.add(f"{path}.holdoff_doors[{index}]", f"unknown door {door_id!r}")
            ok = False
    if alarm.door_holdoff_s > 0 and not alarm.holdoff_doors:
        sides = {pc.hal.target, pc.hal.reference or ambient}
        if not any(set(d.between) == sides for d in doors):
            p.add(
                f"{path}.door_holdoff_s",
                f"no door joins {pc.hal.target} and {pc.hal.reference or ambient}: "
                "name the doors that hold the alarm off in holdoff_doors",
            )
            ok = False
    return ok


def _settings_table(
    raw: object, path: str, keys: Iterable[str], p: _Problems
) -> dict[str, Any] | None:
    """A site-wide settings table such as ``[alarms]``, its unknown keys listed;
    None (listed too) when it is not a table."""
    if not isinstance(raw, dict):
        p.add(path, f"must be a table [{path}], not {_describe(raw)}")
        return None
    _unknown_keys(raw, keys, path, p)
    return raw


def _alarm_policy(table: object, p: _Problems) -> AlarmPolicy:
    default = AlarmPolicy()
    before = len(p.items)
    path = "alarms"
    raw = _settings_table(table, path, _ALARM_POLICY_KEYS, p)
    if raw is None:
        return default
    cleanup = _number(
        raw, "cleanup_minutes", path, p, default=default.cleanup_minutes, minimum=0, maximum=1440
    )
    held = _number(
        raw, "door_held_open_s", path, p, default=default.door_held_open_s, above=0, maximum=3600
    )
    start = _integer(
        raw, "flood_start", path, p, default=default.flood_start, minimum=1, maximum=100_000
    )
    window = _number(
        raw, "flood_window_min", path, p, default=default.flood_window_min, above=0, maximum=1440
    )
    end = _integer(raw, "flood_end", path, p, default=default.flood_end, minimum=1, maximum=100_000)
    shelve = _number(
        raw, "shelve_max_hours", path, p, default=default.shelve_max_hours, above=0, maximum=720
    )
    gap = _number(raw, "gap_s", path, p, default=default.gap_s, above=0, maximum=_MAX_DELAY_S)
    if len(p.items) > before:
        return default
    assert cleanup is not None and held is not None and start is not None
    assert window is not None and end is not None and shelve is not None and gap is not None
    if end > start:
        p.add(
            "alarms.flood_end",
            f"{end} is above flood_start {start}: a flood must end below where it starts",
        )
        return default
    return AlarmPolicy(
        cleanup_minutes=cleanup,
        door_held_open_s=held,
        flood_start=start,
        flood_window_min=window,
        flood_end=end,
        shelve_max_hours=shelve,
        gap_s=gap,
    )


_RECORDS_KEYS = (
    "db_url",
    "idle_lock_minutes",
    "clean_hold_hours",
    "sporicidal_rotation_days",
    "qualification_months",
)


def _records_policy(table: object, p: _Problems) -> RecordsPolicy:
    default = RecordsPolicy()
    before = len(p.items)
    path = "records"
    raw = _settings_table(table, path, _RECORDS_KEYS, p)
    if raw is None:
        return default
    db_url = _text(raw, "db_url", path, p, required=False)
    idle = _number(
        raw,
        "idle_lock_minutes",
        path,
        p,
        default=default.idle_lock_minutes,
        minimum=1,
        maximum=480,
    )
    hold = _number(
        raw,
        "clean_hold_hours",
        path,
        p,
        default=default.clean_hold_hours,
        above=0,
        maximum=24 * 365,
    )
    rotation = _number(
        raw,
        "sporicidal_rotation_days",
        path,
        p,
        default=default.sporicidal_rotation_days,
        above=0,
        maximum=365,
    )
    months = _integer(
        raw,
        "qualification_months",
        path,
        p,
        default=default.qualification_months,
        minimum=1,
        maximum=12,
    )
    if len(p.items) > before:
        return default
    assert idle is not None and hold is not None and rotation is not None
    assert months is not None
    return RecordsPolicy(
        db_url=db_url,
        idle_lock_minutes=idle,
        clean_hold_hours=hold,
        sporicidal_rotation_days=rotation,
        qualification_months=months,
    )


#: The retention keys, finest tier first: a coarser tier is kept at least as long.
_HISTORIAN_DAYS_KEYS = ("raw_days", "minute_days", "quarter_hour_days")
_HISTORIAN_KEYS = (*_HISTORIAN_DAYS_KEYS, "forced_s")
_FOREVER = "forever"
_MAX_RETENTION_DAYS = 36_525.0  # a century; longer is "forever"


def _days(
    table: dict[str, Any], key: str, path: str, p: _Problems, *, default: float | None
) -> float | None:
    """A retention in days; None for "forever" (and when broken: the problem is listed)."""
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, str) and value == _FOREVER:
        return None
    if isinstance(value, str):
        p.add(f"{path}.{key}", f'{value!r} is not a number of days or "{_FOREVER}"')
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        p.add(f"{path}.{key}", f'must be a number of days or "{_FOREVER}", not {_describe(value)}')
        return None
    return _number(table, key, path, p, above=0, maximum=_MAX_RETENTION_DAYS)


def _historian_policy(table: object, p: _Problems) -> HistorianPolicy:
    default = HistorianPolicy()
    before = len(p.items)
    path = "historian"
    raw = _settings_table(table, path, _HISTORIAN_KEYS, p)
    if raw is None:
        return default
    days = {
        key: _days(raw, key, path, p, default=getattr(default, key)) for key in _HISTORIAN_DAYS_KEYS
    }
    forced = _number(raw, "forced_s", path, p, default=default.forced_s, above=0, maximum=3600)
    if len(p.items) > before:
        return default
    assert forced is not None
    for finer, coarser in pairwise(_HISTORIAN_DAYS_KEYS):
        kept, kept_coarser = days[finer], days[coarser]
        if kept_coarser is not None and (kept is None or kept_coarser < kept):
            shown = _FOREVER if kept is None else f"{kept:g} days"
            p.add(
                f"{path}.{coarser}",
                f"{kept_coarser:g} days is shorter than {finer} ({shown}): a coarser tier must "
                "be kept at least as long, or long trends would show nothing where the finer "
                "tier still has data",
            )
            return default
    return HistorianPolicy(
        raw_days=days["raw_days"],
        minute_days=days["minute_days"],
        quarter_hour_days=days["quarter_hour_days"],
        forced_s=forced,
    )


def _check_gap(
    policy: AlarmPolicy, points: list[PointConfig], plcs: dict[str, PlcDef], p: _Problems
) -> None:
    """A gap must be longer than the scans of the PLCs that read critical differentials."""
    for pc in points:
        plc = plcs.get(pc.plc)
        if not pc.alarm.critical or plc is None:
            continue
        if policy.gap_s <= 2 * plc.scan_period_s:
            p.add(
                "alarms.gap_s",
                f"{policy.gap_s:g} s is not longer than two scan periods of PLC {plc.id} "
                f"({plc.scan_period_s:g} s), which reads the critical point {pc.id}",
            )
            return
