"""canonical_json, record_hash and the audit chain: fixed encoding, tampering detected."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from necstgen_desk.records.hashing import (
    GENESIS_HASH,
    canonical_json,
    chain_hash,
    first_broken,
    record_hash,
    sha256_hex,
)


class Colour(StrEnum):
    RED = "red"


AT = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def test_canonical_json_example() -> None:
    value = {
        "b": (1, 2.5, Decimal("1.50")),
        "a": AT,
        "d": date(2026, 11, 26),
        "e": Colour.RED,
        "n": None,
        "t": True,
        "ü": "Reinraum B-01 – µm",
        "u": UUID(int=1),
    }
    assert canonical_json(value) == (
        '{"a":"2026-11-26T16:00:00.000000+00:00","b":[1,2.5,"1.5"],"d":"2026-11-26",'
        '"e":"red","n":null,"t":true,"u":"00000000-0000-0000-0000-000000000001",'
        '"ü":"Reinraum B-01 – µm"}'
    )


def test_the_same_instant_in_any_zone_encodes_the_same() -> None:
    plus_one = AT.astimezone(timezone(timedelta(hours=1)))
    assert canonical_json(plus_one) == canonical_json(AT) == '"2026-11-26T16:00:00.000000+00:00"'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("100"), '"100"'),
        (Decimal("1E+2"), '"100"'),
        (Decimal("-0.00"), '"0"'),
        (Decimal("0.10"), '"0.1"'),
        (0.1, "0.1"),
        (1.0, "1.0"),
        (1, "1"),
        ((), "[]"),
    ],
)
def test_numbers(value: object, text: str) -> None:
    assert canonical_json(value) == text


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (datetime(2026, 11, 26, 16, 0), ValueError),  # naive: its instant is unknown
        ({"at": datetime(2026, 1, 1)}, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (Decimal("NaN"), ValueError),
        ({1: "x"}, TypeError),
        ({1, 2}, TypeError),
        (b"bytes", TypeError),
        (object(), TypeError),
    ],
)
def test_refused_values(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        canonical_json(value)


def test_sha256_hex_and_genesis() -> None:
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert GENESIS_HASH == "0" * 64


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_round_trips_plain_json(value: object) -> None:
    text = canonical_json(value)
    assert json.loads(text) == value
    assert canonical_json(json.loads(text)) == text


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=6), st.randoms())
def test_key_order_does_not_matter(value: dict[str, object], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(value)


def test_record_hash_binds_type_and_content() -> None:
    content = {"room_id": "B-01", "agent": "Spor-Klenz", "ended_at": AT}
    h = record_hash("cleaning", content)
    assert h == record_hash("cleaning", dict(reversed(content.items())))
    assert h != record_hash("gowning", content)
    assert h != record_hash("cleaning", {**content, "agent": "Spor-Klenz "})
    assert h != record_hash("cleaning", {**content, "ended_at": AT + timedelta(microseconds=1)})


# ---------------------------------------------------------------- the audit chain

aware_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
entry_fields = st.fixed_dictionaries(
    {
        "at": aware_times,
        "username": st.text(min_size=1, max_size=8),
        "action": st.sampled_from(["create", "update", "sign"]),
        "record_type": st.sampled_from(["cleaning", "gowning", "room_status", "user"]),
        "record_id": st.integers(1, 10_000),
        "field": st.text(max_size=8),
        "old_value": st.none() | st.text(max_size=8),
        "new_value": st.none() | st.text(max_size=8),
        "reason": st.text(max_size=12),
    }
)


def build_chain(fields: list[dict[str, object]]) -> list[dict[str, object]]:
    """What the storage writer does: id, prev_hash, then hash over everything else."""
    chain: list[dict[str, object]] = []
    prev = GENESIS_HASH
    for number, item in enumerate(fields, start=1):
        entry = {"id": number, **item, "prev_hash": prev}
        entry["hash"] = chain_hash(prev, entry)
        prev = str(entry["hash"])
        chain.append(entry)
    return chain


def changed(value: object) -> object:
    """A value whose canonical form differs from ``value``'s."""
    if isinstance(value, bool) or value is None:
        return "tampered"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    return f"{value}x"


chains = st.lists(entry_fields, min_size=1, max_size=8).map(build_chain)


@given(chains)
def test_an_intact_chain_verifies(chain: list[dict[str, object]]) -> None:
    assert first_broken(chain) is None


@given(chains, st.data())
def test_tampering_any_field_is_detected_at_that_entry(
    chain: list[dict[str, object]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain) - 1))
    key = data.draw(st.sampled_from(sorted(chain[index])))
    tampered = [dict(entry) for entry in chain]
    tampered[index][key] = changed(tampered[index][key])
    assert first_broken(tampered) == tampered[index]["id"]


@given(chains, st.data())
def test_reordering_is_detected_at_the_first_moved_entry(
    chain: list[dict[str, object]], data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(chain))))
    if order == list(range(len(chain))):
        return
    reordered = [chain[i] for i in order]
    first_moved = next(pos for pos, i in enumerate(order) if pos != i)
    assert first_broken(reordered) == reordered[first_moved]["id"]


@given(chains.filter(lambda c: len(c) >= 2), st.data())
def test_deleting_an_entry_is_detected_at_the_next(
    chain: list[dict[str, object]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(chain) - 2))
    shortened = chain[:index] + chain[index + 1 :]
    assert first_broken(shortened) == chain[index + 1]["id"]


def test_cutting_the_tail_is_not_visible_to_the_chain_alone() -> None:
    """A limit of any hash chain: the storage layer must keep the head (count, last
    hash) somewhere else to see a truncated tail."""
    chain = build_chain([{"n": n} for n in range(3)])
    assert first_broken(chain[:2]) is None


def test_chain_hash_is_the_adr_formula() -> None:
    entry = {"id": 1, "at": AT, "username": "jdoe", "prev_hash": GENESIS_HASH}
    expected = sha256_hex(GENESIS_HASH + canonical_json(entry))
    assert chain_hash(GENESIS_HASH, entry) == expected
    assert chain_hash(GENESIS_HASH, {**entry, "hash": "anything"}) == expected
    without_prev = {k: v for k, v in entry.items() if k != "prev_hash"}
    assert chain_hash(GENESIS_HASH, without_prev) == expected


def test_chain_hash_refuses_a_different_prev_hash() -> None:
    with pytest.raises(ValueError, match="prev_hash"):
        chain_hash(GENESIS_HASH, {"id": 1, "prev_hash": "1" * 64})


def test_unencodable_tampering_is_a_broken_entry() -> None:
    chain = build_chain([{"n": n} for n in range(3)])
    chain[1]["n"] = datetime(2026, 1, 1)  # naive: cannot be encoded
    assert first_broken(chain) == 2


def test_verifying_from_a_known_head() -> None:
    chain = build_chain([{"n": n} for n in range(4)])
    assert first_broken(chain[2:], start=str(chain[1]["hash"])) is None
    assert first_broken(chain[2:]) == 3


def test_entry_ids_must_be_integers() -> None:
    with pytest.raises(TypeError):
        first_broken([{"id": "1", "prev_hash": GENESIS_HASH, "hash": ""}])
