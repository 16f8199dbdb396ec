"""Read planner: the fewest Modbus reads that cover a PLC's polled points.

Each request costs a round trip, so the scan time of a PLC is roughly its
request count times its latency. The planner merges neighbouring points into
one read, accepting a small gap of unused addresses (``max_gap_*``) to save a
round trip, but never reads past the protocol's per-request limits.
Pure: no I/O, deterministic output, so a plan can be logged and compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hal.points import Access, PlcDef, PointDef, Table

__all__ = ["MAX_BITS", "MAX_REGISTERS", "ReadRequest", "plan_plc", "plan_reads"]

MAX_REGISTERS = 125
"""Registers one read-holding/input-registers request may return (Modbus spec)."""

MAX_BITS = 2000
"""Coils or discrete inputs one read request may return (Modbus spec)."""

_TABLE_ORDER = {table: index for index, table in enumerate(Table)}


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One Modbus read: ``count`` addresses of ``table`` from ``address``.

    ``points`` are the points decoded from this read, sorted by address; each
    lies fully inside ``address .. address + count - 1``.
    """

    table: Table
    address: int
    count: int
    points: tuple[PointDef, ...]

    @property
    def end(self) -> int:
        """One past the last address read."""
        return self.address + self.count


def plan_reads(
    points: Iterable[PointDef],
    *,
    max_gap_registers: int = 16,
    max_gap_bits: int = 64,
    max_registers: int = MAX_REGISTERS,
    max_bits: int = MAX_BITS,
) -> tuple[ReadRequest, ...]:
    """Group the READ points into the fewest reads, ordered by table then address.

    Per table, points are taken in address order and each joins the current
    request if the unused gap before it is at most the table's max gap and
    the request stays within the size limit; otherwise it starts a new one.

    Why greedy is optimal (an exchange argument): take any valid plan and its
    request W holding the first point p. Greedy's first request G takes the
    longest run of sorted points that fits. The first misfit x either
    follows a gap wider than the max after everything before it, which W
    cannot bridge either, or ends past ``p.address + limit``, and then so
    does every later point except narrower ones nested inside x (points are
    at most 2 wide; ties sort wide first). So W holds G's points and perhaps
    some nested inside x. Replace W by G, move those into x's request (it
    reads their addresses anyway) and drop G's points from the other
    requests: what is left of each is a suffix whose gaps and span do not
    grow, so the plan stays valid and no larger. Repeating on the points
    after G, greedy never needs more requests than any valid plan.

    Ties sort wide first so that a table's reads never overlap unless two
    of its points partially overlap (which the site loader rejects).

    Raises ``ValueError`` for limits outside the protocol's, a negative gap,
    a point wider than the limit, or two points with the same id.
    """
    if not 1 <= max_registers <= MAX_REGISTERS:
        raise ValueError(f"max_registers must be 1..{MAX_REGISTERS}, got {max_registers}")
    if not 1 <= max_bits <= MAX_BITS:
        raise ValueError(f"max_bits must be 1..{MAX_BITS}, got {max_bits}")
    if max_gap_registers < 0 or max_gap_bits < 0:
        raise ValueError(
            f"gaps cannot be negative (max_gap_registers={max_gap_registers}, "
            f"max_gap_bits={max_gap_bits})"
        )

    by_table: dict[Table, list[PointDef]] = {}
    seen: set[str] = set()
    for point in points:
        if point.access is not Access.READ:
            continue
        if point.id in seen:
            raise ValueError(f"point {point.id!r} is listed twice; each point is read once")
        seen.add(point.id)
        by_table.setdefault(point.table, []).append(point)

    requests: list[ReadRequest] = []
    for table in sorted(by_table, key=_TABLE_ORDER.__getitem__):
        if table.is_bit:
            limit, max_gap = max_bits, max_gap_bits
        else:
            limit, max_gap = max_registers, max_gap_registers
        requests.extend(_plan_table(table, by_table[table], limit, max_gap))
    return tuple(requests)


def _plan_table(
    table: Table, points: list[PointDef], limit: int, max_gap: int
) -> list[ReadRequest]:
    ordered = sorted(points, key=lambda p: (p.address, -p.end, p.id))
    requests: list[ReadRequest] = []
    group: list[PointDef] = []
    start = end = 0
    for point in ordered:
        if point.width > limit:
            raise ValueError(
                f"point {point.id!r} is {point.width} addresses wide, more than the "
                f"{limit} one request may read"
            )
        if group and point.address - end <= max_gap and max(end, point.end) - start <= limit:
            group.append(point)
            end = max(end, point.end)
            continue
        if group:
            requests.append(ReadRequest(table, start, end - start, tuple(group)))
        group, start, end = [point], point.address, point.end
    if group:
        requests.append(ReadRequest(table, start, end - start, tuple(group)))
    return requests


def plan_plc(plc: PlcDef) -> tuple[ReadRequest, ...]:
    """Plan the reads of one PLC with its own gap settings."""
    return plan_reads(
        plc.points,
        max_gap_registers=plc.max_gap_registers,
        max_gap_bits=plc.max_gap_bits,
    )
