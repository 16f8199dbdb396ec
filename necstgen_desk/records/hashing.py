"""Canonical record hashing: the one encoding shared by the audit chain and the signatures.

ADR 0003: ``canonical_json`` is ``json.dumps(obj, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` after turning values into JSON
types one fixed way, so the same record always gives the same text and hash.
Part 11 §11.10(e) and Annex 11 §9 want an audit trail that cannot be altered
unnoticed; Part 11 §11.70 and Annex 11 §14 want a signature linked to its
record. Both rest on these functions; the storage layer calls them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

#: ``prev_hash`` of the first audit entry.
GENESIS_HASH = "0" * 64

type JSONValue = bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None


def to_json_value(obj: object) -> JSONValue:
    """``obj`` as plain JSON types, by the fixed rules of :func:`canonical_json`.

    - datetime: must be timezone-aware (a naive one raises ``ValueError``: its
      instant is unknown); ISO 8601 in UTC with microseconds,
      ``2026-11-26T16:00:00.000000+00:00``.
    - date: ISO 8601, ``2026-11-26``.
    - Enum: its value. UUID: its string.
    - float: a JSON number (Python's shortest round-trip repr); NaN and
      infinities raise ``ValueError``.
    - Decimal: a string of its normalised fixed-point value (``Decimal("1.50")``
      → ``"1.5"``), so a database column's scale does not change the hash.
    - tuple and list: list. Mapping: object with ``str`` (or ``str``-Enum) keys.
    - anything else (sets, bytes, objects): ``TypeError``.
    """
    if isinstance(obj, Enum):
        return to_json_value(obj.value)
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"{obj!r} has no canonical JSON form")
        return obj
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError(f"{obj!r} has no canonical JSON form")
        if obj.is_zero():
            return "0"
        text = format(obj, "f")  # exact, no rounding to the context precision
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(obj, datetime):
        if obj.tzinfo is None or obj.utcoffset() is None:
            raise ValueError(f"naive datetime {obj.isoformat()} has no time zone; use UTC")
        return obj.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, UUID):
        return str(obj)
    if isinstance(obj, list | tuple):
        return [to_json_value(item) for item in obj]
    if isinstance(obj, Mapping):
        out: dict[str, JSONValue] = {}
        for raw_key, value in obj.items():
            key = raw_key.value if isinstance(raw_key, Enum) else raw_key
            if not isinstance(key, str):
                raise TypeError(f"key {key!r} is not a string")
            if key in out:
                raise ValueError(f"key {key!r} appears twice")
            out[key] = to_json_value(value)
        return out
    raise TypeError(f"{type(obj).__name__} has no canonical JSON form")


def canonical_json(obj: object) -> str:
    """The canonical JSON text of ``obj`` (see :func:`to_json_value` for the rules)."""
    return json.dumps(
        to_json_value(obj),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(record_type: str, content: Mapping[str, object]) -> str:
    """The hash a signature binds: ``sha256_hex(canonical_json({"record_type": ...,
    "content": content}))``. Any change to the content changes it (Part 11 §11.70)."""
    return sha256_hex(canonical_json({"record_type": record_type, "content": content}))


def chain_hash(prev_hash: str, entry: Mapping[str, object]) -> str:
    """``sha256_hex(prev_hash + canonical_json(entry without "hash"))`` (ADR 0003).

    Every other field is hashed, ``id`` and ``prev_hash`` included: the writer
    must know the id before it inserts (the database refuses the later
    UPDATE). ``prev_hash`` is set to the argument; an entry that carries a
    different one raises ``ValueError``.
    """
    fields = {key: value for key, value in entry.items() if key != "hash"}
    if "prev_hash" in fields and fields["prev_hash"] != prev_hash:
        raise ValueError("the entry's prev_hash differs from the one given")
    fields["prev_hash"] = prev_hash
    return sha256_hex(prev_hash + canonical_json(fields))


def first_broken(
    entries: Iterable[Mapping[str, object]], *, start: str = GENESIS_HASH
) -> int | None:
    """The ``id`` of the first entry that breaks the chain, or ``None`` if it holds.

    ``entries`` come in chain order (by id). An entry is broken when its
    ``prev_hash`` is not the previous entry's ``hash`` (``start`` for the first;
    a deleted, inserted or reordered entry) or its ``hash`` is not the hash of
    its own fields (an edited entry).
    """
    prev = start
    for entry in entries:
        entry_id = entry.get("id")
        if not isinstance(entry_id, int) or isinstance(entry_id, bool):
            raise TypeError(f"audit entry id {entry_id!r} is not an integer")
        if entry.get("prev_hash") != prev:
            return entry_id
        try:
            expected = chain_hash(prev, entry)
        except (TypeError, ValueError):
            return entry_id
        stored = entry.get("hash")
        if not isinstance(stored, str) or stored != expected:
            return entry_id
        prev = stored
    return None
