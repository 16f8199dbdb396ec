"""Register codec: Modbus registers and bits to point values and back.

Pure functions with no I/O, so the poller, the simulator and the tests share
one definition of what a register means. Decoding problems are returned as
:class:`DecodeError` values by the block functions, so one bad point (a NaN
from a broken sensor) is marked BAD without spoiling its neighbours.

Conventions, applied in this order when decoding:

1. byte order: ``ByteOrder.LITTLE`` swaps the two bytes of every register,
   giving the logical 16-bit word;
2. word order: for 32-bit types ``WordOrder.BIG`` means the first register
   holds the high word, ``WordOrder.LITTLE`` the low word;
3. ``point.bit`` selects bit N (0 = least significant) of the logical word;
4. ``value * scale + offset`` for numeric types; integers stay ``int`` when
   the scaling is the identity, so counters and fault codes compare exactly.

Encoding applies the same steps in reverse.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence

from hal.points import ByteOrder, DataType, PointDef, Value, WordOrder

__all__ = [
    "BlockDecoder",
    "DecodeError",
    "decode_bit_block",
    "decode_bits",
    "decode_block",
    "decode_registers",
    "encode_value",
    "set_bit",
]

_REGISTER_MAX = 0xFFFF
_BITS_PER_REGISTER = 16

_INT_RANGES: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
}


class DecodeError(ValueError):
    """Registers or bits that do not make a valid value for their point.

    The message is a plain sentence meant for the point's BAD-quality reason
    and the engineer's log, so it names the point and the raw data.
    """


# -- helpers -------------------------------------------------------------------


def _describe(point: PointDef) -> str:
    where = f"{point.table.value} {point.address}"
    if point.bit is not None:
        return f"point {point.id!r} (bit {point.bit} of {where})"
    return f"point {point.id!r} ({point.data_type.value} at {where})"


def _hex(registers: Iterable[int]) -> str:
    return "[" + ", ".join(f"0x{r:04X}" for r in registers) + "]"


def _swap_bytes(register: int) -> int:
    return ((register & 0xFF) << 8) | (register >> 8)


def _expected_registers(point: PointDef) -> int:
    return 1 if point.bit is not None else point.data_type.register_count


def _check_bit_index(bit: int) -> None:
    if not 0 <= bit < _BITS_PER_REGISTER:
        raise ValueError(f"bit {bit} does not exist in a 16-bit register (use 0..15)")


def set_bit(register: int, bit: int, value: bool) -> int:
    """Return ``register`` with bit ``bit`` (0 = least significant) set or cleared."""
    if not 0 <= register <= _REGISTER_MAX:
        raise ValueError(f"register value {register} is outside 0..65535")
    _check_bit_index(bit)
    mask = 1 << bit
    return register | mask if value else register & ~mask


# -- decoding ------------------------------------------------------------------


def decode_registers(
    point: PointDef,
    registers: Sequence[int],
    word_order: WordOrder,
    byte_order: ByteOrder,
) -> Value:
    """Decode exactly the registers of one register-table point.

    Raises :class:`DecodeError` for a wrong register count, a register outside
    0..65535, a float32 that is NaN or infinite (a PLC's usual way of saying
    "no valid reading"), or a point that lives in a bit table.
    """
    if point.table.is_bit:
        raise DecodeError(
            f"{_describe(point)} is in a bit table; decode it with decode_bits, not from registers"
        )
    expected = _expected_registers(point)
    if len(registers) != expected:
        raise DecodeError(
            f"{_describe(point)} needs {expected} register(s) but got {len(registers)}"
        )
    for register in registers:
        if not isinstance(register, int) or not 0 <= register <= _REGISTER_MAX:
            raise DecodeError(
                f"{_describe(point)} got register value {register!r}, outside 0..65535"
            )

    words = (
        [_swap_bytes(r) for r in registers] if byte_order is ByteOrder.LITTLE else list(registers)
    )

    if point.bit is not None:
        if not 0 <= point.bit < _BITS_PER_REGISTER:
            raise DecodeError(f"{_describe(point)}: a 16-bit register has no bit {point.bit}")
        return bool((words[0] >> point.bit) & 1)

    data_type = point.data_type
    raw: int | float
    if data_type is DataType.BOOL:
        return words[0] != 0
    if data_type is DataType.UINT16:
        raw = words[0]
    elif data_type is DataType.INT16:
        raw = words[0] - 0x10000 if words[0] & 0x8000 else words[0]
    else:
        high, low = (words[0], words[1]) if word_order is WordOrder.BIG else (words[1], words[0])
        combined = (high << 16) | low
        if data_type is DataType.UINT32:
            raw = combined
        elif data_type is DataType.INT32:
            raw = combined - 0x1_0000_0000 if combined & 0x8000_0000 else combined
        else:
            raw = struct.unpack(">f", combined.to_bytes(4, "big"))[0]
            _check_finite(point, registers, raw, "")

    if point.scale == 1 and point.offset == 0:
        return raw
    value = raw * point.scale + point.offset
    _check_finite(point, registers, value, f" after scale {point.scale} and offset {point.offset}")
    return value


def _check_finite(point: PointDef, registers: Sequence[int], value: float, how: str) -> None:
    if math.isnan(value):
        text = "NaN"
    elif math.isinf(value):
        text = "+inf" if value > 0 else "-inf"
    else:
        return
    raise DecodeError(
        f"{_describe(point)} decodes to {text}{how} (registers {_hex(registers)}); "
        "the PLC reports no valid reading"
    )


def decode_bits(point: PointDef, bits: Sequence[bool]) -> bool:
    """Decode the single bit of a coil or discrete-input point.

    Trivial, but explicit so a register point handed to the wrong decoder, or
    a short read, is a clear error rather than an ``IndexError``.
    """
    if not point.table.is_bit:
        raise DecodeError(
            f"{_describe(point)} is in a register table; decode it with decode_registers"
        )
    if len(bits) != 1:
        raise DecodeError(f"{_describe(point)} needs exactly 1 bit but got {len(bits)}")
    return bool(bits[0])


def decode_block(
    points: Iterable[PointDef],
    start: int,
    registers: Sequence[int],
    word_order: WordOrder,
    byte_order: ByteOrder,
) -> dict[str, Value | DecodeError]:
    """Split one register read (starting at address ``start``) into point values.

    Errors are values, keyed like the good results, so the poller marks just
    the failing points BAD with the error's message as the reason.
    """
    results: dict[str, Value | DecodeError] = {}
    end = start + len(registers)
    for point in points:
        if point.address < start or point.end > end:
            results[point.id] = DecodeError(
                f"{_describe(point)} lies outside the read block {start}..{end - 1}"
            )
            continue
        chunk = registers[point.address - start : point.end - start]
        try:
            results[point.id] = decode_registers(point, chunk, word_order, byte_order)
        except DecodeError as error:
            results[point.id] = error
    return results


def decode_bit_block(
    points: Iterable[PointDef],
    start: int,
    bits: Sequence[bool],
) -> dict[str, bool | DecodeError]:
    """Split one coil or discrete-input read into point values, errors as values."""
    results: dict[str, bool | DecodeError] = {}
    end = start + len(bits)
    for point in points:
        if point.address < start or point.end > end:
            results[point.id] = DecodeError(
                f"{_describe(point)} lies outside the read block {start}..{end - 1}"
            )
            continue
        try:
            results[point.id] = decode_bits(point, bits[point.address - start : point.end - start])
        except DecodeError as error:
            results[point.id] = error
    return results


# -- encoding ------------------------------------------------------------------


def encode_value(
    point: PointDef,
    value: Value,
    word_order: WordOrder,
    byte_order: ByteOrder,
) -> list[int]:
    """Encode a point value into its registers: the inverse of :func:`decode_registers`.

    Scale and offset are reversed and integer types rounded to the nearest
    raw value. A value that does not fit raises ``ValueError``; a ``bool``
    for a numeric point raises ``TypeError`` (it is almost surely a mix-up).
    float32 accepts NaN and infinities so the simulator can inject a failed
    sensor. A bit-in-register point encodes to the one register with only
    that bit set or cleared; merge it into a shared register with
    :func:`set_bit`.
    """
    if point.table.is_bit:
        raise ValueError(
            f"{_describe(point)} is in a bit table; coils and discrete inputs hold bools, "
            "not registers"
        )

    if point.bit is not None:
        if not 0 <= point.bit < _BITS_PER_REGISTER:
            raise ValueError(f"{_describe(point)}: a 16-bit register has no bit {point.bit}")
        return _order([set_bit(0, point.bit, bool(value))], byte_order)

    data_type = point.data_type
    if data_type is DataType.BOOL:
        return _order([1 if value else 0], byte_order)

    if isinstance(value, bool):
        raise TypeError(f"{_describe(point)} is numeric; got the bool {value!r}")
    if point.scale == 0:
        raise ValueError(f"{_describe(point)} has scale 0, so no raw value gives {value!r}")

    # the identity keeps large integers exact (no trip through float)
    identity = point.scale == 1 and point.offset == 0
    raw = value if identity else (value - point.offset) / point.scale

    if data_type is DataType.FLOAT32:
        try:
            packed = struct.pack(">f", raw)
        except OverflowError:
            raise ValueError(
                f"{_describe(point)}: {value!r} gives raw {raw!r}, too large for float32"
            ) from None
        combined = int.from_bytes(packed, "big")
        return _order(_split(combined, word_order), byte_order)

    if not math.isfinite(raw):
        raise ValueError(f"{_describe(point)}: {value!r} cannot be stored as {data_type.value}")
    integer = raw if isinstance(raw, int) else round(raw)
    low, high = _INT_RANGES[data_type]
    if not low <= integer <= high:
        raise ValueError(
            f"{_describe(point)}: {value!r} gives raw {integer}, outside the "
            f"{data_type.value} range {low}..{high}"
        )
    if data_type.register_count == 1:
        return _order([integer & 0xFFFF], byte_order)
    return _order(_split(integer & 0xFFFF_FFFF, word_order), byte_order)


def _split(combined: int, word_order: WordOrder) -> list[int]:
    high, low = combined >> 16, combined & 0xFFFF
    return [high, low] if word_order is WordOrder.BIG else [low, high]


def _order(words: list[int], byte_order: ByteOrder) -> list[int]:
    return [_swap_bytes(w) for w in words] if byte_order is ByteOrder.LITTLE else words


# -- compiled block decoding (the poller's hot path) ----------------------------------


class BlockDecoder:
    """Decodes one planned register read with a single ``struct`` call.

    Built once per read request, so the per-scan cost is one pack of the
    answer into bytes and one unpack of every value, plus the NaN/inf check
    and scaling per point. Results equal :func:`decode_block`'s (a property
    test holds them side by side); any register outside 0..65535 falls back
    to it, so its per-point errors are kept.
    """

    __slots__ = (
        "_bit_points",
        "_bool_ids",
        "_byte_order",
        "_count",
        "_float_slots",
        "_points",
        "_scaled",
        "_start",
        "_struct",
        "_swap_pairs",
        "_value_ids",
        "_word_order",
    )

    def __init__(
        self,
        points: Sequence[PointDef],
        start: int,
        count: int,
        word_order: WordOrder,
        byte_order: ByteOrder,
    ) -> None:
        self._points = tuple(points)
        self._start = start
        self._count = count
        self._word_order = word_order
        self._byte_order = byte_order
        fmt = [">"]
        cursor = start
        value_ids: list[str] = []
        float_slots: list[tuple[int, PointDef]] = []
        scaled: list[tuple[int, PointDef]] = []
        swap_pairs: list[int] = []
        bit_points: list[PointDef] = []
        codes = {
            DataType.UINT16: "H",
            DataType.INT16: "h",
            DataType.UINT32: "I",
            DataType.INT32: "i",
            DataType.FLOAT32: "f",
            DataType.BOOL: "H",
        }
        for point in sorted(self._points, key=lambda p: p.address):
            if point.table.is_bit or point.address < start or point.end > start + count:
                raise ValueError(f"{_describe(point)} does not fit this register read")
            if point.bit is not None:
                bit_points.append(point)
                continue
            if point.address < cursor:
                raise ValueError(f"{_describe(point)} overlaps another point of the read")
            if point.address > cursor:
                fmt.append(f"{2 * (point.address - cursor)}x")
            fmt.append(codes[point.data_type])
            slot = len(value_ids)
            value_ids.append(point.id)
            if point.data_type is DataType.FLOAT32:
                float_slots.append((slot, point))
            if point.data_type is not DataType.BOOL and (point.scale != 1 or point.offset != 0):
                scaled.append((slot, point))
            if point.width == 2 and word_order is WordOrder.LITTLE:
                swap_pairs.append(point.address - start)
            cursor = point.end
        if cursor < start + count:
            fmt.append(f"{2 * (start + count - cursor)}x")
        self._struct = struct.Struct("".join(fmt))
        self._value_ids = tuple(value_ids)
        self._float_slots = tuple(float_slots)
        self._scaled = tuple(scaled)
        self._swap_pairs = tuple(swap_pairs)
        self._bit_points = tuple(bit_points)
        self._bool_ids = tuple(
            p.id for p in self._points if p.data_type is DataType.BOOL and p.bit is None
        )

    def decode(self, registers: Sequence[int]) -> dict[str, Value | DecodeError]:
        """Point values of one answer, errors as values (like :func:`decode_block`)."""
        if len(registers) != self._count:
            return decode_block(
                self._points, self._start, registers, self._word_order, self._byte_order
            )
        words = list(registers)
        for index in self._swap_pairs:  # low word first: put the high word first
            words[index], words[index + 1] = words[index + 1], words[index]
        try:
            packed = struct.pack(
                f"{'<' if self._byte_order is ByteOrder.LITTLE else '>'}{self._count}H", *words
            )
        except struct.error:  # a register outside 0..65535: let the careful path say which
            return decode_block(
                self._points, self._start, registers, self._word_order, self._byte_order
            )
        raw = self._struct.unpack(packed)
        results: dict[str, Value | DecodeError] = dict(zip(self._value_ids, raw, strict=True))
        for slot, point in self._float_slots:
            value = raw[slot]
            if not math.isfinite(value):
                results[point.id] = _non_finite(point, registers, self._start, value)
        for slot, point in self._scaled:
            current = results[point.id]
            if isinstance(current, DecodeError):
                continue
            value = raw[slot] * point.scale + point.offset
            if math.isfinite(value):
                results[point.id] = value
            else:
                results[point.id] = _non_finite(point, registers, self._start, value, scaled=True)
        for point_id in self._bool_ids:
            results[point_id] = results[point_id] != 0
        if self._bit_points:
            results.update(
                decode_block(
                    self._bit_points, self._start, registers, self._word_order, self._byte_order
                )
            )
        return results


def _non_finite(
    point: PointDef, registers: Sequence[int], start: int, value: float, *, scaled: bool = False
) -> DecodeError:
    """The same error :func:`decode_registers` raises for this point."""
    chunk = registers[point.address - start : point.end - start]
    how = f" after scale {point.scale} and offset {point.offset}" if scaled else ""
    try:
        _check_finite(point, chunk, value, how)
    except DecodeError as error:
        return error
    raise AssertionError(f"{value!r} is finite")  # callers pass NaN or ±inf only
