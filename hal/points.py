"""Point and PLC definitions, samples and their quality.

These frozen types are the contract between the site configuration (which
builds them), the poller (which reads them) and the simulator (which serves
them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class Table(StrEnum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING = "holding"
    INPUT = "input"

    @property
    def is_bit(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE_INPUT)


class DataType(StrEnum):
    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def register_count(self) -> int:
        """Registers one value occupies in a register table (a bool takes one)."""
        return 2 if self in (DataType.INT32, DataType.UINT32, DataType.FLOAT32) else 1


class WordOrder(StrEnum):
    """Order of the 16-bit words of a 32-bit value."""

    BIG = "big"  # high word first (Modbus convention)
    LITTLE = "little"  # low word first (many PLCs)


class ByteOrder(StrEnum):
    """Order of the two bytes inside each 16-bit register."""

    BIG = "big"
    LITTLE = "little"


class Access(StrEnum):
    READ = "read"  # polled every scan
    WRITE = "write"  # a command (e.g. a reset coil); never polled


class Quantity(StrEnum):
    """What a point measures or commands; the simulator and the UI key on it."""

    DIFFERENTIAL_PRESSURE = "dp"
    TEMPERATURE = "temperature"
    HUMIDITY = "rh"
    PARTICLES_0_5 = "particles_0_5"
    PARTICLES_5 = "particles_5"
    DOOR_CLOSED = "door_closed"
    DOOR_LOCKED = "door_locked"
    INTERLOCK_FAULT = "interlock_fault"
    INTERLOCK_RESET = "interlock_reset"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class PointDef:
    """One value on one PLC.

    ``target`` is the space, door or airlock the point belongs to; for a
    differential pressure ``reference`` is the space it is measured against.
    ``bit`` selects one bit of a register (register tables only).
    """

    id: str
    table: Table
    address: int
    data_type: DataType
    quantity: Quantity
    target: str
    reference: str | None = None
    scale: float = 1.0
    offset: float = 0.0
    bit: int | None = None
    unit: str = ""
    access: Access = Access.READ

    @property
    def width(self) -> int:
        """Addresses the point occupies in its table."""
        if self.table.is_bit or self.bit is not None:
            return 1
        return self.data_type.register_count

    @property
    def end(self) -> int:
        """One past the last address the point occupies."""
        return self.address + self.width


@dataclass(frozen=True, slots=True)
class PlcDef:
    """One PLC: its endpoint, its codec settings and its points."""

    id: str
    host: str
    port: int
    device_id: int = 1
    word_order: WordOrder = WordOrder.BIG
    byte_order: ByteOrder = ByteOrder.BIG
    scan_period_s: float = 1.0
    timeout_s: float = 0.5
    max_gap_registers: int = 16
    max_gap_bits: int = 64
    heartbeat_timeout_s: float = 3.0
    points: tuple[PointDef, ...] = field(default_factory=tuple)

    @property
    def polled_points(self) -> tuple[PointDef, ...]:
        return tuple(p for p in self.points if p.access is Access.READ)


class Quality(StrEnum):
    GOOD = "good"
    STALE = "stale"  # no fresh read within 2 scan periods, or the heartbeat stopped
    COMM_FAIL = "comm_fail"  # PLC unreachable
    BAD = "bad"  # exception response or decode error; ``reason`` says which


Value = float | int | bool


class Sample(NamedTuple):
    """A point's value at a time (UTC epoch seconds), with its quality.

    ``value`` is the last decoded value; for COMM_FAIL and BAD it is ``None``
    or the last good value kept for context, never to be shown as live.

    A named tuple, not a dataclass: the pollers build one per point per scan
    (10,000 a second on a large site) and a tuple is built in a third of the time.
    """

    point_id: str
    value: Value | None
    quality: Quality
    timestamp: float
    reason: str = ""


class LinkState(StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    plc_id: str
    state: LinkState
    since: float
    reason: str = ""
    last_scan_s: float | None = None
