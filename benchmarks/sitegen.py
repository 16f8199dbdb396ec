"""Generate a large site file: N PLCs, each with a grid of rooms of up to 20 points.

The register map is laid out the way PLC programs usually are, not packed
for the planner's benefit: every room is a fixed-size block (a "UDT" per
room) with spare words at its end and in its middle, values of mixed types
(float32, uint32 counters, int16 and uint16 scaled by 0.1), a holding-register
block of secondary values after the heartbeat, and the doors as discrete
inputs at a stride of eight. Word and byte order vary by PLC.

Rooms are laid out in a grid per PLC, and the PLCs' grids in a grid, so the
floor plan can draw the whole site; each room has one door to the outside.

``python benchmarks/sitegen.py --plcs 20 --rooms 25 -o big.toml`` writes a
10,020-point site (20 × (25 × 20 + 1 heartbeat)).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["POINTS_PER_ROOM", "SiteShape", "generate_site", "main", "write_site"]

ROOM_W_M = 12.0
ROOM_H_M = 10.0
WALL_M = 2.0  # the outside (ambient) corridor between rooms
ZONE_GAP_M = 6.0

INPUT_STRIDE = 32  # registers per room block in the input table (21 used)
HOLDING_BASE = 16  # the heartbeat sits at 0; room blocks start here
HOLDING_STRIDE = 4  # registers per room in the holding table (2 used)
DOOR_STRIDE = 8  # discrete inputs per room (2 used)


@dataclass(frozen=True, slots=True)
class _Field:
    """One point of a room's block: where it lives and how it is encoded."""

    suffix: str
    quantity: str
    table: str
    offset: int
    type: str
    scale: float = 1.0
    reference: str | None = None  # "ambient" or "neighbour" for differentials
    unit: str = ""


# The first five are what the floor plan shows (ΔP, T, RH, particles); the
# rest are the secondary sensors a real room carries (more probes, a second
# counter, a second transmitter), polled and stored but not drawn.
_FIELDS: tuple[_Field, ...] = (
    _Field("dp", "dp", "input", 0, "float32", reference="ambient", unit="Pa"),
    _Field("t", "temperature", "input", 2, "float32", unit="°C"),
    _Field("rh", "rh", "input", 4, "float32", unit="%RH"),
    _Field("p05", "particles_0_5", "input", 6, "uint32", unit="/m³"),
    _Field("p5", "particles_5", "input", 8, "uint32", unit="/m³"),
    # +10..+13 spare
    _Field("t2", "temperature", "input", 14, "int16", 0.1, unit="°C"),
    _Field("t3", "temperature", "input", 15, "int16", 0.1, unit="°C"),
    _Field("rh2", "rh", "input", 16, "uint16", 0.1, unit="%RH"),
    _Field("rh3", "rh", "input", 17, "uint16", 0.1, unit="%RH"),
    _Field("dp2", "dp", "input", 18, "float32", reference="neighbour", unit="Pa"),
    _Field("dp3", "dp", "input", 20, "int16", 0.1, reference="ambient", unit="Pa"),
    # +21..+23 spare
    _Field("p05b", "particles_0_5", "input", 24, "float32", unit="/m³"),
    _Field("p5b", "particles_5", "input", 26, "float32", unit="/m³"),
    # +28..+31 spare
    _Field("t4", "temperature", "input", 12, "int16", 0.1, unit="°C"),
    _Field("t5", "temperature", "input", 13, "int16", 0.1, unit="°C"),
    _Field("rh4", "rh", "input", 22, "uint16", 0.1, unit="%RH"),
    _Field("t6", "temperature", "holding", 0, "int16", 0.1, unit="°C"),
    _Field("rh5", "rh", "holding", 1, "uint16", 0.1, unit="%RH"),
    _Field("closed", "door_closed", "discrete_input", 0, "bool"),
    _Field("locked", "door_locked", "discrete_input", 1, "bool"),
)
POINTS_PER_ROOM = len(_FIELDS)

_T_LIMITS = "{ action_low = 18.0, alert_low = 19.0, alert_high = 23.0, action_high = 24.0 }"
_RH_LIMITS = "{ action_low = 30.0, alert_low = 35.0, alert_high = 55.0, action_high = 60.0 }"

_GRADES = """\
[grades.B]
particles_0_5 = { at_rest = { alert = 2000, action = 3520 }, \
in_operation = { alert = 200000, action = 352000 } }
particles_5 = { at_rest = { alert = 20, action = 29 }, \
in_operation = { alert = 2000, action = 2930 } }

[grades.C]
particles_0_5 = { at_rest = { alert = 200000, action = 352000 }, \
in_operation = { alert = 2000000, action = 3520000 } }
particles_5 = { at_rest = { alert = 2000, action = 2930 }, \
in_operation = { alert = 20000, action = 29300 } }
"""


@dataclass(frozen=True, slots=True)
class SiteShape:
    """What a generated site holds."""

    plcs: int
    rooms_per_plc: int
    points_per_room: int

    @property
    def points(self) -> int:
        """Every point, the PLCs' heartbeats included."""
        return self.plcs * (self.rooms_per_plc * self.points_per_room + 1)


def plc_id(index: int) -> str:
    return f"PLC-{index + 1:02d}"


def room_id(plc: int, room: int) -> str:
    return f"P{plc + 1:02d}-R{room + 1:02d}"


def _grid(count: int) -> tuple[int, int]:
    """(columns, rows) of a near-square grid, a little wider than high."""
    columns = max(1, math.ceil(math.sqrt(count * 1.25)))
    return columns, max(1, math.ceil(count / columns))


def _limits_dp(nominal: float) -> str:
    return (
        f"{{ action_low = {nominal - 8:g}, alert_low = {nominal - 5:g}, "
        f"alert_high = {nominal + 5:g}, action_high = {nominal + 8:g} }}"
    )


def generate_site(
    plcs: int = 20,
    rooms_per_plc: int = 25,
    points_per_room: int = POINTS_PER_ROOM,
    *,
    name: str = "Generated site",
    host: str = "127.0.0.1",
    base_port: int = 16000,
    scan_period_s: float = 1.0,
    timeout_s: float = 0.5,
    heartbeat_timeout_s: float = 3.0,
) -> str:
    """The site file's text: ``plcs`` PLCs × ``rooms_per_plc`` rooms × ``points_per_room``.

    ``points_per_room`` takes the first N of the room template (1..20); the
    first five are the values the floor plan draws.
    """
    if plcs < 1 or rooms_per_plc < 1:
        raise ValueError("a site needs at least one PLC with one room")
    if not 1 <= points_per_room <= POINTS_PER_ROOM:
        raise ValueError(f"points_per_room must be 1..{POINTS_PER_ROOM}, not {points_per_room}")
    if base_port < 1 or base_port + plcs - 1 > 65535:
        raise ValueError(f"ports {base_port}..{base_port + plcs - 1} are outside 1..65535")
    fields = _FIELDS[:points_per_room]
    zone_cols, _ = _grid(plcs)
    room_cols, room_rows = _grid(rooms_per_plc)
    zone_w = room_cols * (ROOM_W_M + WALL_M) + ZONE_GAP_M
    zone_h = room_rows * (ROOM_H_M + WALL_M) + ZONE_GAP_M

    out: list[str] = [
        "# Generated by benchmarks/sitegen.py: "
        f"{plcs} PLCs x {rooms_per_plc} rooms x {points_per_room} points.",
        "",
        "[site]",
        f'name = "{name}"',
        'ambient = "AMBIENT"',
        "",
        _GRADES,
    ]
    spaces: list[str] = []
    doors: list[str] = []
    points: list[str] = []
    for p in range(plcs):
        pid = plc_id(p)
        # Mixed PLC families: every other one sends float32 low word first,
        # every fifth swaps the bytes of each register too.
        word_order = "little" if p % 2 else "big"
        byte_order = "little" if p % 5 == 4 else "big"
        out += [
            "[[plc]]",
            f'id = "{pid}"',
            f'host = "{host}"',
            f"port = {base_port + p}",
            "device_id = 1",
            f'word_order = "{word_order}"',
            f'byte_order = "{byte_order}"',
            f"scan_period_s = {scan_period_s:g}",
            f"timeout_s = {timeout_s:g}",
            f"heartbeat_timeout_s = {heartbeat_timeout_s:g}",
            "",
        ]
        points += [
            "[[point]]",
            f'id = "{pid}.heartbeat"',
            f'plc = "{pid}"',
            f'target = "{pid}"',
            'quantity = "heartbeat"',
            'table = "holding"',
            "address = 0",
            'type = "uint16"',
            "",
        ]
        zx = (p % zone_cols) * zone_w
        zy = (p // zone_cols) * zone_h
        for r in range(rooms_per_plc):
            rid = room_id(p, r)
            grade = "B" if (r // room_cols) % 2 == 0 else "C"
            setpoint = 45 if grade == "B" else 25
            x = zx + (r % room_cols) * (ROOM_W_M + WALL_M)
            y = zy + (r // room_cols) * (ROOM_H_M + WALL_M)
            spaces += [
                "[[space]]",
                f'id = "{rid}"',
                f'name = "Room {r + 1} of {pid}"',
                f'grade = "{grade}"',
                f"setpoint_pa = {setpoint}",
                f"polygon = [[{x:g}, {y:g}], [{x + ROOM_W_M:g}, {y:g}], "
                f"[{x + ROOM_W_M:g}, {y + ROOM_H_M:g}], [{x:g}, {y + ROOM_H_M:g}]]",
                "",
            ]
            door = f"{rid}-D"
            doors += [
                "[[door]]",
                f'id = "{door}"',
                f'between = ["AMBIENT", "{rid}"]',
                f"at = [{x + ROOM_W_M / 2:g}, {y + ROOM_H_M:g}]",
                "",
            ]
            # West neighbour in the same row, else the outside.
            neighbour = room_id(p, r - 1) if r % room_cols else None
            neighbour_sp = (45 if ((r - 1) // room_cols) % 2 == 0 else 25) if neighbour else 0
            for f in fields:
                if f.table == "input":
                    address = r * INPUT_STRIDE + f.offset
                elif f.table == "holding":
                    address = HOLDING_BASE + r * HOLDING_STRIDE + f.offset
                else:
                    address = r * DOOR_STRIDE + f.offset
                target = door if f.table == "discrete_input" else rid
                lines = [
                    "[[point]]",
                    f'id = "{target}.{f.suffix}"',
                    f'plc = "{pid}"',
                    f'target = "{target}"',
                    f'quantity = "{f.quantity}"',
                ]
                if f.reference == "ambient":
                    lines.append('reference = "AMBIENT"')
                    nominal: float | None = setpoint
                elif f.reference == "neighbour":
                    lines.append(f'reference = "{neighbour or "AMBIENT"}"')
                    nominal = setpoint - neighbour_sp
                else:
                    nominal = None
                lines += [f'table = "{f.table}"', f"address = {address}", f'type = "{f.type}"']
                if f.scale != 1.0:
                    lines.append(f"scale = {f.scale:g}")
                if f.unit:
                    lines.append(f'unit = "{f.unit}"')
                if nominal is not None:
                    lines.append(f"limits = {_limits_dp(nominal)}")
                elif f.quantity == "temperature":
                    lines.append(f"limits = {_T_LIMITS}")
                elif f.quantity == "rh":
                    lines.append(f"limits = {_RH_LIMITS}")
                points += [*lines, ""]
    return "\n".join([*out, *spaces, *doors, *points])


def write_site(
    path: Path,
    plcs: int = 20,
    rooms_per_plc: int = 25,
    points_per_room: int = POINTS_PER_ROOM,
    **options: Any,
) -> SiteShape:
    """Write a generated site to ``path`` (options as :func:`generate_site`); its shape."""
    text = generate_site(plcs, rooms_per_plc, points_per_room, **options)
    path.write_text(text, encoding="utf-8")
    return SiteShape(plcs, rooms_per_plc, points_per_room)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plcs", type=int, default=20)
    parser.add_argument("--rooms", type=int, default=25, help="rooms per PLC")
    parser.add_argument("--points", type=int, default=POINTS_PER_ROOM, help="points per room")
    parser.add_argument("--base-port", type=int, default=16000)
    parser.add_argument("--scan-period", type=float, default=1.0)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        text = generate_site(
            args.plcs,
            args.rooms,
            args.points,
            base_port=args.base_port,
            scan_period_s=args.scan_period,
        )
    except ValueError as exc:
        print(f"sitegen: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
