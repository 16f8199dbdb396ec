"""Read planner: tables for small maps, properties for coverage, limits and minimality."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.planner import MAX_BITS, MAX_REGISTERS, ReadRequest, plan_plc, plan_reads
from hal.points import Access, DataType, PlcDef, PointDef, Quantity, Table

REGISTER_TABLES = (Table.HOLDING, Table.INPUT)
BIT_TABLES = (Table.COIL, Table.DISCRETE_INPUT)
TABLE_ORDER = list(Table)


def point(
    id: str,
    address: int,
    data_type: DataType = DataType.INT16,
    table: Table = Table.HOLDING,
    *,
    bit: int | None = None,
    access: Access = Access.READ,
) -> PointDef:
    return PointDef(
        id=id,
        table=table,
        address=address,
        data_type=data_type,
        quantity=Quantity.TEMPERATURE,
        target="X",
        bit=bit,
        access=access,
    )


def coil(id: str, address: int, *, access: Access = Access.READ) -> PointDef:
    return point(id, address, DataType.BOOL, Table.COIL, access=access)


def spans(plan: Sequence[ReadRequest]) -> list[tuple[Table, int, int]]:
    return [(r.table, r.address, r.count) for r in plan]


def ids(plan: Sequence[ReadRequest]) -> list[list[str]]:
    return [[p.id for p in r.points] for r in plan]


# -- tables ----------------------------------------------------------------------


def test_nothing_to_read() -> None:
    assert plan_reads([]) == ()
    assert plan_reads([coil("reset", 0, access=Access.WRITE)]) == ()


def test_single_point() -> None:
    p = point("t", 10, DataType.FLOAT32, Table.INPUT)
    assert plan_reads([p]) == (ReadRequest(Table.INPUT, 10, 2, (p,)),)


@pytest.mark.parametrize(
    ("second_address", "expected"),
    [
        pytest.param(1, [(Table.HOLDING, 0, 2)], id="adjacent"),
        pytest.param(16, [(Table.HOLDING, 0, 17)], id="gap 15"),
        pytest.param(17, [(Table.HOLDING, 0, 18)], id="gap 16 = max"),
        pytest.param(18, [(Table.HOLDING, 0, 1), (Table.HOLDING, 18, 1)], id="gap 17 > max"),
    ],
)
def test_register_gap_at_the_limit(
    second_address: int, expected: list[tuple[Table, int, int]]
) -> None:
    assert spans(plan_reads([point("a", 0), point("b", second_address)])) == expected


@pytest.mark.parametrize(
    ("second_address", "expected"),
    [
        pytest.param(65, [(Table.COIL, 0, 66)], id="gap 64 = max"),
        pytest.param(66, [(Table.COIL, 0, 1), (Table.COIL, 66, 1)], id="gap 65 > max"),
    ],
)
def test_bit_gap_at_the_limit(second_address: int, expected: list[tuple[Table, int, int]]) -> None:
    assert spans(plan_reads([coil("a", 0), coil("b", second_address)])) == expected


def test_gap_measured_from_the_end_of_a_wide_point() -> None:
    plan = plan_reads([point("f", 0, DataType.FLOAT32), point("g", 2 + 3)], max_gap_registers=3)
    assert spans(plan) == [(Table.HOLDING, 0, 6)]
    plan = plan_reads([point("f", 0, DataType.FLOAT32), point("g", 2 + 4)], max_gap_registers=3)
    assert spans(plan) == [(Table.HOLDING, 0, 2), (Table.HOLDING, 6, 1)]


def test_zero_gap_merges_only_adjacent_points() -> None:
    points = [point("a", 0), point("b", 1), point("c", 3)]
    assert spans(plan_reads(points, max_gap_registers=0)) == [
        (Table.HOLDING, 0, 2),
        (Table.HOLDING, 3, 1),
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(125, [(Table.INPUT, 0, 125)], id="125 registers"),
        pytest.param(126, [(Table.INPUT, 0, 125), (Table.INPUT, 125, 1)], id="126 registers"),
        pytest.param(250, [(Table.INPUT, 0, 125), (Table.INPUT, 125, 125)], id="250 registers"),
    ],
)
def test_register_limit_exactly(count: int, expected: list[tuple[Table, int, int]]) -> None:
    points = [point(f"p{a}", a, DataType.UINT16, Table.INPUT) for a in range(count)]
    assert spans(plan_reads(points)) == expected


def test_float32_that_would_cross_the_register_limit_starts_a_new_read() -> None:
    # 62 floats fill 0..123; a 63rd at 123..124 fits exactly, a 64th does not
    floats = [point(f"f{i}", 2 * i, DataType.FLOAT32, Table.INPUT) for i in range(62)]
    last_fits = point("last", 123, DataType.FLOAT32, Table.INPUT)
    assert spans(plan_reads([*floats, last_fits])) == [(Table.INPUT, 0, 125)]
    too_far = point("far", 124, DataType.FLOAT32, Table.INPUT)
    assert spans(plan_reads([*floats, too_far])) == [(Table.INPUT, 0, 124), (Table.INPUT, 124, 2)]


def test_narrow_point_nested_in_a_misfit_follows_it_so_reads_do_not_overlap() -> None:
    a = point("a", 0)
    wide = point("wide", 124, DataType.FLOAT32)
    narrow = point("narrow", 124)  # e.g. the high word of the float on its own
    plan = plan_reads([narrow, wide, a], max_gap_registers=200)
    assert spans(plan) == [(Table.HOLDING, 0, 1), (Table.HOLDING, 124, 2)]
    assert ids(plan) == [["a"], ["wide", "narrow"]]


def test_partially_overlapping_points_are_still_each_read_once() -> None:
    # the site loader rejects such maps; the planner still covers them, with overlapping reads
    first = point("first", 0, DataType.FLOAT32)
    second = point("second", 1, DataType.FLOAT32)
    plan = plan_reads([first, second], max_registers=2)
    assert spans(plan) == [(Table.HOLDING, 0, 2), (Table.HOLDING, 1, 2)]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(2000, [(Table.DISCRETE_INPUT, 0, 2000)], id="2000 bits"),
        pytest.param(
            2001, [(Table.DISCRETE_INPUT, 0, 2000), (Table.DISCRETE_INPUT, 2000, 1)], id="2001 bits"
        ),
    ],
)
def test_bit_limit_exactly(count: int, expected: list[tuple[Table, int, int]]) -> None:
    points = [point(f"d{a}", a, DataType.BOOL, Table.DISCRETE_INPUT) for a in range(count)]
    assert spans(plan_reads(points)) == expected


def test_span_limit_applies_even_when_the_gap_is_allowed() -> None:
    points = [point("a", 0), point("b", 124)]
    assert spans(plan_reads(points, max_gap_registers=500)) == [(Table.HOLDING, 0, 125)]
    points = [point("a", 0), point("b", 125)]
    assert len(plan_reads(points, max_gap_registers=500)) == 2


def test_smaller_limits() -> None:
    points = [point(f"p{a}", a) for a in range(10)]
    assert spans(plan_reads(points, max_registers=4)) == [
        (Table.HOLDING, 0, 4),
        (Table.HOLDING, 4, 4),
        (Table.HOLDING, 8, 2),
    ]
    coils = [coil(f"c{a}", a) for a in range(5)]
    assert spans(plan_reads(coils, max_bits=2)) == [
        (Table.COIL, 0, 2),
        (Table.COIL, 2, 2),
        (Table.COIL, 4, 1),
    ]


def test_mixed_tables_ordered_by_table_then_address() -> None:
    points = [
        point("in-b", 50, DataType.FLOAT32, Table.INPUT),
        point("hr", 3, DataType.UINT16, Table.HOLDING),
        point("in-a", 0, DataType.FLOAT32, Table.INPUT),
        point("di", 3, DataType.BOOL, Table.DISCRETE_INPUT),
        coil("co", 3),
    ]
    assert spans(plan_reads(points)) == [
        (Table.COIL, 3, 1),
        (Table.DISCRETE_INPUT, 3, 1),
        (Table.HOLDING, 3, 1),
        (Table.INPUT, 0, 2),
        (Table.INPUT, 50, 2),
    ]


def test_write_points_are_never_read_and_do_not_bridge_gaps() -> None:
    points = [coil("a", 0), coil("reset", 5, access=Access.WRITE), coil("b", 10)]
    plan = plan_reads(points, max_gap_bits=4)
    assert spans(plan) == [(Table.COIL, 0, 1), (Table.COIL, 10, 1)]
    assert "reset" not in {p.id for r in plan for p in r.points}


def test_bits_of_one_register_share_one_read() -> None:
    word = point("word", 7, DataType.UINT16)
    bits = [point(f"bit{n}", 7, DataType.BOOL, bit=n) for n in (3, 0, 2, 1)]
    plan = plan_reads([*bits, word])
    assert spans(plan) == [(Table.HOLDING, 7, 1)]
    assert ids(plan) == [["bit0", "bit1", "bit2", "bit3", "word"]]


def test_overlapping_points_are_each_covered_once() -> None:
    f = point("f", 0, DataType.FLOAT32)
    low = point("low", 1, DataType.UINT16)
    plan = plan_reads([low, f])
    assert plan == (ReadRequest(Table.HOLDING, 0, 2, (f, low)),)


def test_plan_does_not_depend_on_input_order() -> None:
    points = [point(f"p{a}", a * 7 % 40, DataType.FLOAT32) for a in range(20)]
    assert (
        plan_reads(points)
        == plan_reads(reversed(points))
        == plan_reads(sorted(points, key=lambda p: p.id))
    )


def test_plan_plc_uses_the_plc_gap_settings() -> None:
    registers = (point("a", 0), point("b", 5))
    coils = (coil("c", 0), coil("d", 5))
    tight = PlcDef(
        "plc", "127.0.0.1", 5020, max_gap_registers=3, max_gap_bits=3, points=registers + coils
    )
    loose = PlcDef("plc", "127.0.0.1", 5020, points=registers + coils)
    assert len(plan_plc(tight)) == 4
    assert spans(plan_plc(loose)) == [(Table.COIL, 0, 6), (Table.HOLDING, 0, 6)]


def test_read_request_end() -> None:
    assert ReadRequest(Table.HOLDING, 10, 5, ()).end == 15


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_registers": MAX_REGISTERS + 1}, "max_registers"),
        ({"max_registers": 0}, "max_registers"),
        ({"max_bits": MAX_BITS + 1}, "max_bits"),
        ({"max_bits": 0}, "max_bits"),
        ({"max_gap_registers": -1}, "negative"),
        ({"max_gap_bits": -1}, "negative"),
    ],
)
def test_rejects_impossible_settings(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_reads([point("a", 0)], **kwargs)


def test_rejects_point_wider_than_the_limit() -> None:
    with pytest.raises(ValueError, match="2 addresses wide"):
        plan_reads([point("f", 0, DataType.FLOAT32)], max_registers=1)


def test_rejects_a_point_listed_twice() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        plan_reads([point("a", 0), point("a", 0)])


# -- an independent optimum ------------------------------------------------------


def valid_read(points: Sequence[PointDef], limit: int, max_gap: int) -> bool:
    """Whether one request may serve ``points``, judged on addresses, not the greedy's steps."""
    covered = {a for p in points for a in range(p.address, p.end)}
    low, high = min(covered), max(covered) + 1
    if high - low > limit:
        return False
    run = 0
    for address in range(low, high):
        run = 0 if address in covered else run + 1
        if run > max_gap:
            return False
    return True


def dp_minimum(points: Sequence[PointDef], limit: int, max_gap: int) -> int:
    """Fewest requests over every split of the address-sorted points into runs."""
    ordered = sorted(points, key=lambda p: (p.address, p.end))
    best = [0] + [len(ordered) + 1] * len(ordered)
    for i in range(1, len(ordered) + 1):
        for j in range(i):
            if best[j] + 1 < best[i] and valid_read(ordered[j:i], limit, max_gap):
                best[i] = best[j] + 1
    return best[-1]


def brute_minimum(points: Sequence[PointDef], limit: int, max_gap: int) -> int:
    """Fewest requests over every set partition of the points (tiny inputs only)."""
    best = len(points)
    blocks: list[list[PointDef]] = []

    def assign(i: int) -> None:
        nonlocal best
        if len(blocks) >= best:
            return
        if i == len(points):
            if all(valid_read(b, limit, max_gap) for b in blocks):
                best = len(blocks)
            return
        for block in blocks:
            block.append(points[i])
            assign(i + 1)
            block.pop()
        blocks.append([points[i]])
        assign(i + 1)
        blocks.pop()

    assign(0)
    return best


def test_independent_optimum_on_a_known_case() -> None:
    # a float at 2 straddles the 4-register windows [0, 4): any plan needs 3 reads
    points = [point("a", 0), point("b", 1), point("f", 2, DataType.FLOAT32), point("c", 4)]
    points += [point("d", 5), point("e", 6)]
    assert dp_minimum(points, 3, 0) == brute_minimum(points, 3, 0) == 3
    assert len(plan_reads(points, max_registers=3, max_gap_registers=0)) == 3


# -- properties ------------------------------------------------------------------


def partially_overlaps(a: PointDef, b: PointDef) -> bool:
    """Two points share some addresses but neither holds the other."""
    shared = a.address < b.end and b.address < a.end
    nested = (a.address <= b.address and b.end <= a.end) or (
        b.address <= a.address and a.end <= b.end
    )
    return a.table is b.table and shared and not nested


@st.composite
def point_maps(
    draw: st.DrawFn, max_points: int = 30, max_address: int = 300, *, well_formed: bool = False
) -> list[PointDef]:
    """Random maps over all tables; ``well_formed`` drops partial overlaps, as the loader would."""
    specs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(list(Table)),
                st.integers(0, max_address),
                st.sampled_from(list(DataType)),
                st.one_of(st.none(), st.integers(0, 15)),
                st.sampled_from([Access.READ, Access.READ, Access.READ, Access.WRITE]),
            ),
            max_size=max_points,
        )
    )
    points: list[PointDef] = []
    for n, (table, address, drawn_type, drawn_bit, access) in enumerate(specs):
        bit = None if table.is_bit else drawn_bit
        data_type = DataType.BOOL if table.is_bit or bit is not None else drawn_type
        new = point(f"p{n}", address, data_type, table, bit=bit, access=access)
        if well_formed and any(partially_overlaps(new, old) for old in points):
            continue
        points.append(new)
    return points


limits = st.fixed_dictionaries(
    {
        "max_gap_registers": st.integers(0, 20),
        "max_gap_bits": st.integers(0, 70),
        "max_registers": st.one_of(st.integers(2, 12), st.just(MAX_REGISTERS)),
        "max_bits": st.one_of(st.integers(1, 12), st.just(MAX_BITS)),
    }
)


def table_limits(table: Table, settings: dict[str, int]) -> tuple[int, int]:
    if table.is_bit:
        return settings["max_bits"], settings["max_gap_bits"]
    return settings["max_registers"], settings["max_gap_registers"]


@given(point_maps(), limits)
def test_every_polled_point_is_read_exactly_once(
    points: list[PointDef], settings: dict[str, int]
) -> None:
    plan = plan_reads(points, **settings)
    served = Counter(p.id for r in plan for p in r.points)
    polled = {p.id for p in points if p.access is Access.READ}
    assert set(served) == polled
    assert all(n == 1 for n in served.values())
    for request in plan:
        for p in request.points:
            assert p.table is request.table
            assert request.address <= p.address
            assert p.end <= request.end


@given(point_maps(), limits)
def test_requests_respect_limits_and_gaps_and_are_tight(
    points: list[PointDef], settings: dict[str, int]
) -> None:
    for request in plan_reads(points, **settings):
        limit, max_gap = table_limits(request.table, settings)
        assert 1 <= request.count <= limit
        assert request.address == min(p.address for p in request.points)
        assert request.end == max(p.end for p in request.points)
        assert valid_read(request.points, limit, max_gap)


@given(point_maps(max_address=60, well_formed=True), limits)
def test_requests_are_ordered_and_do_not_overlap(
    points: list[PointDef], settings: dict[str, int]
) -> None:
    plan = plan_reads(points, **settings)
    keys = [(TABLE_ORDER.index(r.table), r.address) for r in plan]
    assert keys == sorted(keys)
    for before, after in pairwise(plan):
        if before.table is after.table:
            assert before.end <= after.address


@given(st.data(), point_maps(max_points=20), limits)
def test_plan_is_independent_of_input_order(
    data: st.DataObject, points: list[PointDef], settings: dict[str, int]
) -> None:
    shuffled = data.draw(st.permutations(points))
    assert plan_reads(shuffled, **settings) == plan_reads(points, **settings)


@given(point_maps(max_points=40, max_address=120), limits)
def test_greedy_count_equals_dp_optimum(points: list[PointDef], settings: dict[str, int]) -> None:
    plan = plan_reads(points, **settings)
    for table in Table:
        polled = [p for p in points if p.table is table and p.access is Access.READ]
        limit, max_gap = table_limits(table, settings)
        greedy = sum(1 for r in plan if r.table is table)
        assert greedy == dp_minimum(polled, limit, max_gap)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(REGISTER_TABLES),
            st.integers(0, 30),
            st.sampled_from([DataType.UINT16, DataType.FLOAT32]),
            st.booleans(),
        ),
        min_size=1,
        max_size=7,
    ),
    st.integers(2, 6),
    st.integers(0, 3),
)
def test_greedy_count_equals_brute_force_over_all_partitions(
    specs: list[tuple[Table, int, DataType, bool]], limit: int, max_gap: int
) -> None:
    points = [
        point(f"p{n}", address, data_type, table, bit=0 if as_bit else None)
        for n, (table, address, data_type, as_bit) in enumerate(specs)
    ]
    plan = plan_reads(points, max_registers=limit, max_gap_registers=max_gap)
    for table in REGISTER_TABLES:
        in_table = [p for p in points if p.table is table]
        greedy = sum(1 for r in plan if r.table is table)
        assert greedy == brute_minimum(in_table, limit, max_gap)


@st.composite
def contiguous_maps(draw: st.DrawFn) -> list[PointDef]:
    """Points laid end to end from a base address, some also read as bits or single words."""
    address = draw(st.integers(0, 1000))
    widths = draw(st.lists(st.sampled_from([1, 2]), min_size=1, max_size=60))
    points: list[PointDef] = []
    for n, width in enumerate(widths):
        if width == 2:
            points.append(point(f"f{n}", address, DataType.FLOAT32, Table.INPUT))
            for word in draw(st.lists(st.integers(0, 1), max_size=2, unique=True)):
                # one word of the float on its own, nested inside it
                points.append(point(f"f{n}.w{word}", address + word, DataType.UINT16, Table.INPUT))
        else:
            points.append(point(f"u{n}", address, DataType.UINT16, Table.INPUT))
            for b in draw(st.lists(st.integers(0, 15), max_size=2, unique=True)):
                points.append(point(f"u{n}.{b}", address, DataType.BOOL, Table.INPUT, bit=b))
        address += width
    return points


@given(contiguous_maps(), st.integers(2, 20))
def test_minimal_on_contiguous_register_maps(points: list[PointDef], limit: int) -> None:
    plan = plan_reads(points, max_registers=limit, max_gap_registers=0)
    span = max(p.end for p in points) - min(p.address for p in points)
    lower_bound = -(-span // limit)  # ceil: every read covers at most `limit` addresses
    assert lower_bound <= len(plan) == dp_minimum(points, limit, 0)
    # reads of a contiguous map tile it: no address skipped, none read twice
    assert sum(r.count for r in plan) == span


@given(st.integers(1, 400), st.integers(1, 40))
def test_contiguous_single_width_map_needs_exactly_ceil(span: int, limit: int) -> None:
    points = [point(f"c{a}", a, DataType.BOOL, Table.COIL) for a in range(span)]
    assert len(plan_reads(points, max_bits=limit, max_gap_bits=0)) == -(-span // limit)
