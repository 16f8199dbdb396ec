"""Register codec: decode tables, encode tables, errors and round trips."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.codec import (
    DecodeError,
    decode_bit_block,
    decode_bits,
    decode_block,
    decode_registers,
    encode_value,
    set_bit,
)
from hal.points import ByteOrder, DataType, PointDef, Quantity, Table, Value, WordOrder

BB = (WordOrder.BIG, ByteOrder.BIG)
LB = (WordOrder.LITTLE, ByteOrder.BIG)
BL = (WordOrder.BIG, ByteOrder.LITTLE)
LL = (WordOrder.LITTLE, ByteOrder.LITTLE)
ALL_ORDERS = [BB, LB, BL, LL]
ORDER_IDS = ["wordBE-byteBE", "wordLE-byteBE", "wordBE-byteLE", "wordLE-byteLE"]

INT_RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
}


def point(
    data_type: DataType = DataType.INT16,
    *,
    table: Table = Table.HOLDING,
    address: int = 0,
    **kwargs: Any,
) -> PointDef:
    return PointDef(
        id=kwargs.pop("id", "P"),
        table=table,
        address=address,
        data_type=data_type,
        quantity=Quantity.TEMPERATURE,
        target="X",
        **kwargs,
    )


def f32(hex_bits: str) -> float:
    """The float32 with these bits, as Python's float."""
    value: float = struct.unpack(">f", bytes.fromhex(hex_bits))[0]
    return value


# -- decoding: every type x word order x byte order ------------------------------

# (data type, {orders: registers}, expected) — each row one logical value in all
# four wire layouts; the byte-swapped layouts are written out, not computed.
TYPE_ROWS: list[tuple[DataType, dict[tuple[WordOrder, ByteOrder], list[int]], Value]] = [
    (DataType.INT16, {BB: [0x1234], LB: [0x1234], BL: [0x3412], LL: [0x3412]}, 0x1234),
    (DataType.INT16, {BB: [0xFFFE], LB: [0xFFFE], BL: [0xFEFF], LL: [0xFEFF]}, -2),
    (DataType.INT16, {BB: [0x8000], LB: [0x8000], BL: [0x0080], LL: [0x0080]}, -32768),
    (DataType.INT16, {BB: [0x7FFF], LB: [0x7FFF], BL: [0xFF7F], LL: [0xFF7F]}, 32767),
    (DataType.UINT16, {BB: [0xFFFE], LB: [0xFFFE], BL: [0xFEFF], LL: [0xFEFF]}, 65534),
    (DataType.UINT16, {BB: [0x0001], LB: [0x0001], BL: [0x0100], LL: [0x0100]}, 1),
    (DataType.UINT16, {BB: [0x0000], LB: [0x0000], BL: [0x0000], LL: [0x0000]}, 0),
    (
        DataType.INT32,
        {BB: [0x1234, 0x5678], LB: [0x5678, 0x1234], BL: [0x3412, 0x7856], LL: [0x7856, 0x3412]},
        0x12345678,
    ),
    (
        DataType.INT32,
        {BB: [0xFFFF, 0xFFFE], LB: [0xFFFE, 0xFFFF], BL: [0xFFFF, 0xFEFF], LL: [0xFEFF, 0xFFFF]},
        -2,
    ),
    (
        DataType.INT32,
        {BB: [0x8000, 0x0000], LB: [0x0000, 0x8000], BL: [0x0080, 0x0000], LL: [0x0000, 0x0080]},
        -(2**31),
    ),
    (
        DataType.UINT32,
        {BB: [0xFFFF, 0xFFFE], LB: [0xFFFE, 0xFFFF], BL: [0xFFFF, 0xFEFF], LL: [0xFEFF, 0xFFFF]},
        4294967294,
    ),
    (
        DataType.UINT32,
        {BB: [0x0001, 0x0002], LB: [0x0002, 0x0001], BL: [0x0100, 0x0200], LL: [0x0200, 0x0100]},
        65538,
    ),
    (
        DataType.FLOAT32,
        {BB: [0x3F80, 0x0000], LB: [0x0000, 0x3F80], BL: [0x803F, 0x0000], LL: [0x0000, 0x803F]},
        1.0,
    ),
    (
        DataType.FLOAT32,
        {BB: [0xC148, 0x0000], LB: [0x0000, 0xC148], BL: [0x48C1, 0x0000], LL: [0x0000, 0x48C1]},
        -12.5,
    ),
    (
        DataType.FLOAT32,
        {BB: [0x42F6, 0xE979], LB: [0xE979, 0x42F6], BL: [0xF642, 0x79E9], LL: [0x79E9, 0xF642]},
        f32("42F6E979"),  # 123.456 as float32
    ),
    (
        DataType.FLOAT32,
        {BB: [0x8000, 0x0000], LB: [0x0000, 0x8000], BL: [0x0080, 0x0000], LL: [0x0000, 0x0080]},
        -0.0,
    ),
    (DataType.BOOL, {BB: [0x0000], LB: [0x0000], BL: [0x0000], LL: [0x0000]}, False),
    (DataType.BOOL, {BB: [0x0001], LB: [0x0001], BL: [0x0100], LL: [0x0100]}, True),
    (DataType.BOOL, {BB: [0x8000], LB: [0x8000], BL: [0x0080], LL: [0x0080]}, True),
]
CANONICAL_ROWS = TYPE_ROWS[:-1]  # any nonzero register decodes True, but True encodes to 1


def _cases(
    rows: list[tuple[DataType, dict[tuple[WordOrder, ByteOrder], list[int]], Value]],
) -> list[Any]:
    return [
        pytest.param(
            data_type,
            orders,
            layouts[orders],
            expected,
            id=f"{data_type.value}={expected!r}-{order_id}-{_hex(layouts[orders])}",
        )
        for data_type, layouts, expected in rows
        for orders, order_id in zip(ALL_ORDERS, ORDER_IDS, strict=True)
    ]


def _hex(registers: list[int]) -> str:
    return ".".join(f"{r:04X}" for r in registers)


DECODE_CASES = _cases(TYPE_ROWS)
ENCODE_CASES = _cases(CANONICAL_ROWS)


@pytest.mark.parametrize(("data_type", "orders", "registers", "expected"), DECODE_CASES)
def test_decode_every_type_and_order(
    data_type: DataType,
    orders: tuple[WordOrder, ByteOrder],
    registers: list[int],
    expected: Value,
) -> None:
    value = decode_registers(point(data_type), registers, *orders)
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, float):
        assert math.copysign(1.0, value) == math.copysign(1.0, expected)


@pytest.mark.parametrize(("data_type", "orders", "registers", "value"), ENCODE_CASES)
def test_encode_every_type_and_order(
    data_type: DataType,
    orders: tuple[WordOrder, ByteOrder],
    registers: list[int],
    value: Value,
) -> None:
    assert encode_value(point(data_type), value, *orders) == registers


def test_both_tables_decode_alike() -> None:
    registers = [0x3F80, 0x0000]
    assert decode_registers(point(DataType.FLOAT32, table=Table.INPUT), registers, *BB) == 1.0


# -- scale and offset ------------------------------------------------------------

SCALE_CASES = [
    # data type, scale, offset, registers (big/big), expected
    pytest.param(DataType.INT16, 0.1, 0.0, [215], 21.5, id="int16 tenths"),
    pytest.param(DataType.INT16, 0.1, 0.0, [0xFF38], -20.0, id="int16 negative tenths"),
    pytest.param(DataType.UINT16, 0.1, -50.0, [1000], 50.0, id="uint16 scale+offset"),
    pytest.param(DataType.UINT16, 1.0, 10.0, [5], 15.0, id="uint16 offset only"),
    pytest.param(DataType.INT16, 2.0, 0.0, [21], 42.0, id="int16 scale only gives float"),
    pytest.param(DataType.UINT32, 0.01, 0.0, [0x0001, 0x0000], 655.36, id="uint32 hundredths"),
    pytest.param(DataType.INT32, 0.001, 0.0, [0xFFFF, 0xFC18], -1.0, id="int32 thousandths"),
    pytest.param(DataType.FLOAT32, 1000.0, 0.0, [0x3F80, 0x0000], 1000.0, id="float32 kPa->Pa"),
    pytest.param(DataType.FLOAT32, 1.0, -273.15, [0x43A0, 0x0000], 46.85, id="float32 K->degC"),
]


@pytest.mark.parametrize(("data_type", "scale", "offset", "registers", "expected"), SCALE_CASES)
def test_scale_and_offset(
    data_type: DataType, scale: float, offset: float, registers: list[int], expected: float
) -> None:
    value = decode_registers(point(data_type, scale=scale, offset=offset), registers, *BB)
    assert type(value) is float
    assert value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("data_type", "registers", "expected"),
    [
        (DataType.INT16, [0xFFFF], -1),
        (DataType.UINT16, [0xFFFF], 65535),
        (DataType.INT32, [0x0000, 0x0003], 3),
        (DataType.UINT32, [0xFFFF, 0xFFFF], 2**32 - 1),
    ],
)
def test_identity_scale_keeps_integers_exact(
    data_type: DataType, registers: list[int], expected: int
) -> None:
    value = decode_registers(point(data_type), registers, *BB)
    assert type(value) is int
    assert value == expected


@pytest.mark.parametrize(
    ("data_type", "scale", "offset", "value", "registers"),
    [
        pytest.param(DataType.INT16, 0.1, 0.0, 21.54, [215], id="rounds down"),
        pytest.param(DataType.INT16, 0.1, 0.0, 21.56, [216], id="rounds up"),
        pytest.param(DataType.INT16, 0.1, 0.0, -20.0, [0xFF38], id="negative"),
        pytest.param(DataType.UINT16, 0.1, -50.0, 50.0, [1000], id="offset reversed"),
        pytest.param(DataType.INT32, 0.001, 0.0, -1.0, [0xFFFF, 0xFC18], id="int32"),
        pytest.param(DataType.FLOAT32, 1000.0, 0.0, 1000.0, [0x3F80, 0x0000], id="float32"),
    ],
)
def test_encode_reverses_scale_and_offset(
    data_type: DataType, scale: float, offset: float, value: float, registers: list[int]
) -> None:
    assert encode_value(point(data_type, scale=scale, offset=offset), value, *BB) == registers


# -- bits in registers -----------------------------------------------------------

BIT_CASES = [
    # bit, byte order, register on the wire, expected
    pytest.param(0, ByteOrder.BIG, 0x000A, False, id="bit0 of 0x000A"),
    pytest.param(1, ByteOrder.BIG, 0x000A, True, id="bit1 of 0x000A"),
    pytest.param(3, ByteOrder.BIG, 0x000A, True, id="bit3 of 0x000A"),
    pytest.param(15, ByteOrder.BIG, 0x8000, True, id="bit15 of 0x8000"),
    pytest.param(14, ByteOrder.BIG, 0x8000, False, id="bit14 of 0x8000"),
    pytest.param(0, ByteOrder.BIG, 0xFFFE, False, id="bit0 clear of 0xFFFE"),
    pytest.param(0, ByteOrder.LITTLE, 0x0100, True, id="swapped bit0"),
    pytest.param(8, ByteOrder.LITTLE, 0x0100, False, id="swapped bit8"),
    pytest.param(15, ByteOrder.LITTLE, 0x0080, True, id="swapped bit15"),
]


@pytest.mark.parametrize(("bit", "byte_order", "register", "expected"), BIT_CASES)
@pytest.mark.parametrize("data_type", [DataType.BOOL, DataType.UINT16, DataType.INT16])
@pytest.mark.parametrize("word_order", list(WordOrder))
def test_bit_of_register(
    bit: int,
    byte_order: ByteOrder,
    register: int,
    expected: bool,
    data_type: DataType,
    word_order: WordOrder,
) -> None:
    p = point(data_type, bit=bit, scale=10.0, offset=5.0)  # scaling never applies to bits
    assert decode_registers(p, [register], word_order, byte_order) is expected


@pytest.mark.parametrize(
    ("bit", "byte_order", "value", "registers"),
    [
        (0, ByteOrder.BIG, True, [0x0001]),
        (5, ByteOrder.BIG, True, [0x0020]),
        (15, ByteOrder.BIG, True, [0x8000]),
        (15, ByteOrder.BIG, False, [0x0000]),
        (0, ByteOrder.LITTLE, True, [0x0100]),
        (15, ByteOrder.LITTLE, True, [0x0080]),
    ],
)
def test_encode_bit_sets_only_that_bit(
    bit: int, byte_order: ByteOrder, value: bool, registers: list[int]
) -> None:
    assert (
        encode_value(point(DataType.BOOL, bit=bit), value, WordOrder.BIG, byte_order) == registers
    )


@pytest.mark.parametrize(
    ("register", "bit", "value", "expected"),
    [
        (0x0000, 3, True, 0x0008),
        (0x0008, 3, True, 0x0008),
        (0x0008, 3, False, 0x0000),
        (0xFFFF, 0, False, 0xFFFE),
        (0x7FFF, 15, True, 0xFFFF),
        (0x1234, 15, False, 0x1234),
    ],
)
def test_set_bit(register: int, bit: int, value: bool, expected: int) -> None:
    assert set_bit(register, bit, value) == expected


@pytest.mark.parametrize(("register", "bit"), [(0, 16), (0, -1), (-1, 0), (0x10000, 0)])
def test_set_bit_rejects_impossible_arguments(register: int, bit: int) -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.65535|does not exist"):
        set_bit(register, bit, True)


# -- decode errors ---------------------------------------------------------------

ERROR_CASES = [
    pytest.param(point(DataType.FLOAT32), [0x7FC0, 0x0000], BB, "decodes to NaN", id="nan"),
    pytest.param(
        point(DataType.FLOAT32), [0x0000, 0x7FC0], LB, "decodes to NaN", id="nan-low-word"
    ),
    pytest.param(
        point(DataType.FLOAT32), [0xFFFF, 0xFFFF], BB, "decodes to NaN", id="nan-all-ones"
    ),
    pytest.param(point(DataType.FLOAT32), [0x7F80, 0x0000], BB, r"decodes to \+inf", id="+inf"),
    pytest.param(point(DataType.FLOAT32), [0xFF80, 0x0000], BB, "decodes to -inf", id="-inf"),
    pytest.param(
        point(DataType.FLOAT32), [0x807F, 0x0000], BL, r"decodes to \+inf", id="+inf-swapped"
    ),
    pytest.param(
        point(DataType.FLOAT32, scale=1e300),
        [0x7F7F, 0xFFFF],
        BB,
        r"\+inf after scale",
        id="scaled-overflow",
    ),
    pytest.param(point(DataType.INT32), [0x0001], BB, "needs 2 register", id="int32-short"),
    pytest.param(point(DataType.FLOAT32), [1, 2, 3], BB, "needs 2 register", id="float32-long"),
    pytest.param(point(DataType.INT16), [1, 2], BB, "needs 1 register", id="int16-long"),
    pytest.param(point(DataType.UINT16), [], BB, "needs 1 register", id="empty"),
    pytest.param(point(DataType.INT32, bit=0), [1, 2], BB, "needs 1 register", id="bit-long"),
    pytest.param(point(DataType.INT16), [0x10000], BB, "outside 0..65535", id="too-big"),
    pytest.param(point(DataType.INT32), [0, -1], BB, "outside 0..65535", id="negative"),
    pytest.param(point(DataType.BOOL, bit=16), [0xFFFF], BB, "no bit 16", id="bit-16"),
    pytest.param(point(DataType.BOOL, table=Table.COIL), [1], BB, "decode_bits", id="bit-table"),
]


@pytest.mark.parametrize(("p", "registers", "orders", "message"), ERROR_CASES)
def test_decode_errors(
    p: PointDef, registers: list[int], orders: tuple[WordOrder, ByteOrder], message: str
) -> None:
    with pytest.raises(DecodeError, match=message) as caught:
        decode_registers(p, registers, *orders)
    assert "'P'" in str(caught.value)  # names the point


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


# -- encode errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "value", "message"),
    [
        pytest.param(point(DataType.INT16), 32768, "outside the int16 range", id="int16-high"),
        pytest.param(point(DataType.INT16), -32769, "outside the int16 range", id="int16-low"),
        pytest.param(point(DataType.UINT16), -1, "outside the uint16 range", id="uint16-neg"),
        pytest.param(point(DataType.UINT16), 65536, "outside the uint16 range", id="uint16-hi"),
        pytest.param(point(DataType.INT32), 2**31, "outside the int32 range", id="int32-high"),
        pytest.param(point(DataType.UINT32), 2**32, "outside the uint32", id="uint32-high"),
        pytest.param(
            point(DataType.INT16, scale=0.1), 4000.0, "raw 40000", id="scaled-out-of-range"
        ),
        pytest.param(point(DataType.UINT16, scale=0.1), -0.06, "raw -1", id="rounds-below-0"),
        pytest.param(point(DataType.FLOAT32), 1e39, "too large for float32", id="f32-overflow"),
        pytest.param(point(DataType.INT16), math.nan, "cannot be stored", id="int-nan"),
        pytest.param(point(DataType.INT32), math.inf, "cannot be stored", id="int-inf"),
        pytest.param(point(DataType.INT16, scale=0.0), 1.0, "scale 0", id="scale-0"),
        pytest.param(point(DataType.BOOL, table=Table.COIL), True, "bit table", id="coil"),
        pytest.param(point(DataType.BOOL, bit=16), True, "no bit 16", id="bit-16"),
    ],
)
def test_encode_errors(p: PointDef, value: Value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_value(p, value, *BB)


def test_encode_rejects_bool_for_numeric_point() -> None:
    with pytest.raises(TypeError, match="bool"):
        encode_value(point(DataType.FLOAT32), True, *BB)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_encode_float32_non_finite_for_fault_injection(value: float) -> None:
    registers = encode_value(point(DataType.FLOAT32), value, *LL)
    with pytest.raises(DecodeError):
        decode_registers(point(DataType.FLOAT32), registers, *LL)


# -- bit tables ------------------------------------------------------------------


@pytest.mark.parametrize("table", [Table.COIL, Table.DISCRETE_INPUT])
@pytest.mark.parametrize("bit", [True, False])
def test_decode_bits(table: Table, bit: bool) -> None:
    assert decode_bits(point(DataType.BOOL, table=table), [bit]) is bit


@pytest.mark.parametrize(
    ("p", "bits", "message"),
    [
        (point(DataType.BOOL, table=Table.COIL), [], "needs exactly 1 bit but got 0"),
        (point(DataType.BOOL, table=Table.COIL), [True, False], "got 2"),
        (point(DataType.BOOL, table=Table.HOLDING), [True], "register table"),
    ],
)
def test_decode_bits_errors(p: PointDef, bits: list[bool], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_bits(p, bits)


# -- blocks ----------------------------------------------------------------------


def test_decode_block_isolates_bad_points() -> None:
    t = point(DataType.INT16, id="t", address=100, scale=0.1)
    dp = point(DataType.FLOAT32, id="dp", address=101)
    door = point(DataType.BOOL, id="door", address=103, bit=2)
    code = point(DataType.UINT16, id="code", address=103)  # shares the register with door
    broken = point(DataType.FLOAT32, id="broken", address=104)
    straddles = point(DataType.INT32, id="straddles", address=106)
    before = point(DataType.INT16, id="before", address=99)
    # little word order: a float32's low word comes first
    registers = [
        215,  # 100: t
        0x0000,  # 101: dp low word
        0x41F0,  # 102: dp high word (30.0)
        0x0004,  # 103: code 4, door bit 2 set
        0x0000,  # 104: broken low word
        0x7FC0,  # 105: broken high word (NaN)
        0x0001,  # 106: first half of straddles; 107 was not read
    ]

    results = decode_block(
        [t, dp, door, code, broken, straddles, before],
        100,
        registers,
        WordOrder.LITTLE,
        ByteOrder.BIG,
    )

    assert list(results) == ["t", "dp", "door", "code", "broken", "straddles", "before"]
    assert results["t"] == pytest.approx(21.5)
    assert results["dp"] == 30.0
    assert results["door"] is True
    assert results["code"] == 4
    for bad, message in [
        ("broken", "NaN"),
        ("straddles", "outside the read block 100..106"),
        ("before", "outside the read block"),
    ]:
        error = results[bad]
        assert isinstance(error, DecodeError)
        assert message in str(error)


def test_decode_bit_block() -> None:
    points = [
        point(DataType.BOOL, id=f"d{address}", table=Table.DISCRETE_INPUT, address=address)
        for address in (10, 11, 12, 13, 9)
    ]
    results = decode_bit_block(points, 10, [True, False, True])
    assert results["d10"] is True
    assert results["d11"] is False
    assert results["d12"] is True
    assert isinstance(results["d13"], DecodeError)
    assert isinstance(results["d9"], DecodeError)


def test_decode_bit_block_reports_register_point_as_error() -> None:
    results = decode_bit_block([point(DataType.INT16, id="r", address=0)], 0, [True])
    assert isinstance(results["r"], DecodeError)


# -- round trips -----------------------------------------------------------------

orders_st = st.sampled_from(ALL_ORDERS)
int_type_st = st.sampled_from(list(INT_RANGES))


@st.composite
def int_type_and_value(draw: st.DrawFn) -> tuple[DataType, int]:
    data_type = draw(int_type_st)
    low, high = INT_RANGES[data_type]
    return data_type, draw(st.integers(low, high))


@given(int_type_and_value(), orders_st)
def test_round_trip_integers(
    case: tuple[DataType, int], orders: tuple[WordOrder, ByteOrder]
) -> None:
    data_type, value = case
    p = point(data_type)
    registers = encode_value(p, value, *orders)
    assert len(registers) == data_type.register_count
    assert all(0 <= r <= 0xFFFF for r in registers)
    decoded = decode_registers(p, registers, *orders)
    assert type(decoded) is int
    assert decoded == value


@given(st.floats(width=32, allow_nan=False, allow_infinity=False), orders_st)
def test_round_trip_float32_exact(value: float, orders: tuple[WordOrder, ByteOrder]) -> None:
    p = point(DataType.FLOAT32)
    decoded = decode_registers(p, encode_value(p, value, *orders), *orders)
    assert decoded == value
    assert isinstance(decoded, float)
    assert math.copysign(1.0, decoded) == math.copysign(1.0, value)


@given(st.floats(min_value=-3.4e38, max_value=3.4e38), orders_st)
def test_round_trip_float64_rounds_like_struct(
    value: float, orders: tuple[WordOrder, ByteOrder]
) -> None:
    p = point(DataType.FLOAT32)
    expected: float = struct.unpack("<f", struct.pack("<f", value))[0]
    assert decode_registers(p, encode_value(p, value, *orders), *orders) == expected


@given(
    st.sampled_from([DataType.INT16, DataType.UINT16, DataType.INT32, DataType.UINT32]),
    st.lists(st.integers(0, 0xFFFF), min_size=2, max_size=2),
    orders_st,
    st.sampled_from([(1.0, 0.0), (0.1, 0.0), (0.01, -50.0), (2.0, 273.15), (0.001, 0.5)]),
)
def test_registers_survive_decode_then_encode(
    data_type: DataType,
    words: list[int],
    orders: tuple[WordOrder, ByteOrder],
    scaling: tuple[float, float],
) -> None:
    """Whatever a PLC sends, the simulator can reproduce it exactly."""
    scale, offset = scaling
    p = point(data_type, scale=scale, offset=offset)
    registers = words[: data_type.register_count]
    assert encode_value(p, decode_registers(p, registers, *orders), *orders) == registers


@given(st.lists(st.integers(0, 0xFFFF), min_size=2, max_size=2), orders_st)
def test_float32_registers_survive_decode_then_encode(
    registers: list[int], orders: tuple[WordOrder, ByteOrder]
) -> None:
    p = point(DataType.FLOAT32)
    try:
        value = decode_registers(p, registers, *orders)
    except DecodeError:
        return  # NaN and infinities are refused, tested above
    assert encode_value(p, value, *orders) == registers


@given(
    st.integers(0, 15),
    st.booleans(),
    orders_st,
    st.integers(0, 0xFFFF),
)
def test_bit_round_trip_and_merge(
    bit: int, value: bool, orders: tuple[WordOrder, ByteOrder], other_bits: int
) -> None:
    p = point(DataType.BOOL, bit=bit)
    [register] = encode_value(p, value, *orders)
    assert decode_registers(p, [register], *orders) is value
    # merging into a register shared with other points leaves those bits alone
    merged = set_bit(other_bits, bit, value)
    assert merged & ~(1 << bit) == other_bits & ~(1 << bit)
    assert decode_registers(p, [merged], WordOrder.BIG, ByteOrder.BIG) is value
