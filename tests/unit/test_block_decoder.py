"""The compiled block decoder gives exactly what decode_block gives, point by point."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from hal.codec import BlockDecoder, DecodeError, decode_block
from hal.points import ByteOrder, DataType, PointDef, Quantity, Table, Value, WordOrder

TYPES = [
    DataType.UINT16,
    DataType.INT16,
    DataType.UINT32,
    DataType.INT32,
    DataType.FLOAT32,
    DataType.BOOL,
]


@st.composite
def register_maps(draw: st.DrawFn) -> tuple[list[PointDef], int, int]:
    points: list[PointDef] = []
    address = draw(st.integers(0, 20))
    start = address
    for index in range(draw(st.integers(1, 12))):
        address += draw(st.integers(0, 3))  # a gap
        data_type = draw(st.sampled_from(TYPES))
        bit = (
            draw(st.integers(0, 15)) if data_type is DataType.BOOL and draw(st.booleans()) else None
        )
        scaled = data_type not in (DataType.BOOL,) and draw(st.booleans())
        point = PointDef(
            id=f"p{index}",
            table=Table.INPUT,
            address=address,
            data_type=data_type,
            quantity=Quantity.TEMPERATURE,
            target="R",
            bit=bit,
            scale=draw(st.sampled_from([0.1, 2.0, -1.5])) if scaled else 1.0,
            offset=draw(st.sampled_from([0.0, 5.0])) if scaled else 0.0,
        )
        points.append(point)
        address = point.end
    return points, start, address - start


def _same(a: Value | DecodeError, b: Value | DecodeError) -> bool:
    if isinstance(a, DecodeError) or isinstance(b, DecodeError):
        return isinstance(a, DecodeError) and isinstance(b, DecodeError) and str(a) == str(b)
    return type(a) is type(b) and a == b


NAN_WORDS = list(struct.unpack(">HH", struct.pack(">f", float("nan"))))
INF_WORDS = list(struct.unpack(">HH", struct.pack(">f", float("inf"))))


@settings(max_examples=300, deadline=None)
@given(
    register_maps(),
    st.sampled_from(list(WordOrder)),
    st.sampled_from(list(ByteOrder)),
    st.data(),
)
def test_block_decoder_equals_decode_block(
    layout: tuple[list[PointDef], int, int],
    word_order: WordOrder,
    byte_order: ByteOrder,
    data: st.DataObject,
) -> None:
    points, start, count = layout
    registers = data.draw(
        st.lists(
            st.one_of(st.integers(0, 0xFFFF), st.sampled_from(NAN_WORDS + INF_WORDS)),
            min_size=count,
            max_size=count,
        )
    )
    fast = BlockDecoder(points, start, count, word_order, byte_order).decode(registers)
    careful = decode_block(points, start, registers, word_order, byte_order)
    assert fast.keys() == careful.keys()
    for point in points:
        assert _same(fast[point.id], careful[point.id]), (point, fast[point.id], careful[point.id])


def test_nan_is_an_error_and_neighbours_are_fine() -> None:
    points = [
        PointDef("a", Table.INPUT, 0, DataType.FLOAT32, Quantity.TEMPERATURE, "R"),
        PointDef("b", Table.INPUT, 2, DataType.FLOAT32, Quantity.TEMPERATURE, "R"),
    ]
    good = list(struct.unpack(">HH", struct.pack(">f", 21.5)))
    result = BlockDecoder(points, 0, 4, WordOrder.BIG, ByteOrder.BIG).decode(NAN_WORDS + good)
    assert isinstance(result["a"], DecodeError)
    assert "NaN" in str(result["a"])
    assert result["b"] == 21.5


def test_out_of_range_register_falls_back_to_the_careful_path() -> None:
    points = [PointDef("a", Table.INPUT, 0, DataType.UINT16, Quantity.TEMPERATURE, "R")]
    result = BlockDecoder(points, 0, 1, WordOrder.BIG, ByteOrder.BIG).decode([70000])
    assert isinstance(result["a"], DecodeError)
