"""Site loader properties: whatever the text, a Site or one SiteError naming every problem.

``parse_site`` must never let another exception out (no TypeError, KeyError,
AttributeError, OverflowError, RecursionError ...): a facility engineer edits
the site file by hand, and ``check-site`` must answer with key paths, not a
traceback. Documents are written with tomli-w from generated dicts, and the
mini-site of ``test_site_loader`` is the seed for targeted mutations.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hal.points import DataType, Quantity, Table
from necstgen_desk.site import (
    Grade,
    HistorianPolicy,
    InterlockKind,
    Site,
    SiteError,
    SiteProblem,
    parse_site,
)
from tests.unit.test_site_loader import GOOD

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECTIONS = {"site", "grades", "alarms", "historian", "plc", "space", "door", "airlock", "point"}


def outcome(text: str) -> Site | tuple[SiteProblem, ...]:
    """The Site, or the problems of the SiteError; any other exception fails the test."""
    try:
        site = parse_site(text, source="fuzz.toml")
    except SiteError as exc:
        problems = exc.problems
    except Exception as exc:  # the property under test: nothing else gets out
        pytest.fail(f"parse_site raised {type(exc).__name__}: {exc}")
    else:
        assert isinstance(site, Site)
        return site
    assert problems, "a SiteError without problems"
    for problem in problems:
        assert isinstance(problem, SiteProblem)
        assert isinstance(problem.path, str) and problem.path.strip(), problem
        assert isinstance(problem.message, str) and problem.message.strip(), problem
    assert "fuzz.toml" in str(SiteError("fuzz.toml", list(problems)))
    return problems


def problems_of(text: str) -> tuple[SiteProblem, ...]:
    result = outcome(text)
    assert not isinstance(result, Site), "expected the site to be rejected"
    return result


def names_key(path: str, key: str) -> bool:
    """Whether a problem path points at ``key`` (``a[x].key``, ``a.key.b``, ``a.key[0]``)."""
    return re.search(rf"\.{re.escape(key)}(?:$|[.\[])", path) is not None


# ---------------------------------------------------------------- strategies

WEIRD_TEXT = [
    "",
    " ",
    "\t",
    "AMBIENT",
    "R1",
    "L1",
    "P1",
    "L1-IN",
    "L1-OUT",
    "R1.dp",
    "B",
    "dp",
    "input",
    "float32",
    "bool",
    "interlocked",
    "🧪",
    "R1🧪",
    "\u202eR1",  # right-to-left override
    "غرفة",
    "R\x00",
    "R\x1b[2J",
    "line\nbreak",
    "x" * 65,
]
HUGE_NUMBERS: list[int | float] = [
    2**63,
    -(2**63) - 1,
    2**70,
    -(2**70),
    10**400,
    -(10**400),
    math.inf,
    -math.inf,
    math.nan,
    -0.0,
    5e-324,
    1.7976931348623157e308,
]

texts = st.one_of(st.sampled_from(WEIRD_TEXT), st.text(max_size=12))
scalars: st.SearchStrategy[Any] = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-70_000, max_value=70_000),
    st.sampled_from(HUGE_NUMBERS),
    st.floats(),
    texts,
    st.dates(),
    st.datetimes(),
    st.times(),
)
keys = st.one_of(
    st.sampled_from(["id", "name", "", " ", "🧪", "a.b", "\u202e"]), st.text(max_size=6)
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=12,
)

SITE_KEYS = ["name", "ambient"]
PLC_KEYS = ["id", "host", "port", "device_id", "word_order", "byte_order", "scan_period_s"]
PLC_KEYS += ["timeout_s", "max_gap_registers", "max_gap_bits", "heartbeat_timeout_s"]
SPACE_KEYS = ["id", "name", "grade", "setpoint_pa", "polygon"]
DOOR_KEYS = ["id", "between", "at"]
AIRLOCK_KEYS = ["id", "outer_door", "inner_door", "interlock"]
POINT_KEYS = ["id", "plc", "target", "quantity", "reference", "table", "address", "type"]
POINT_KEYS += ["scale", "offset", "bit", "unit", "access", "limits", "limits_at_rest"]
POINT_KEYS += ["priority", "on_delay_s", "off_delay_s", "deadband", "door_holdoff_s"]
POINT_KEYS += ["holdoff_justification", "holdoff_doors", "critical"]
ALARM_KEYS = ["cleanup_minutes", "door_held_open_s", "flood_start", "flood_window_min"]
ALARM_KEYS += ["flood_end", "shelve_max_hours", "gap_s"]
HISTORIAN_DAYS_KEYS = ["raw_days", "minute_days", "quarter_hour_days"]
HISTORIAN_KEYS = [*HISTORIAN_DAYS_KEYS, "forced_s"]
LIMIT_KEYS = ["action_low", "alert_low", "alert_high", "action_high"]

# Values the loader accepts somewhere, so generated documents get past the type checks.
plausible: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["R1", "L1", "P1", "L1-IN", "L1-OUT", "AMBIENT", "127.0.0.1", "big"]),
    st.just("forever"),
    st.sampled_from([*Grade, *InterlockKind, *Quantity, *Table, *DataType, "read", "write"]),
    st.integers(min_value=-3, max_value=20),
    st.floats(min_value=-50, max_value=50),
    st.lists(
        st.lists(st.integers(min_value=-2, max_value=12), min_size=2, max_size=2),
        min_size=2,
        max_size=5,
    ),
    st.fixed_dictionaries(
        {}, optional={k: st.floats(min_value=-40, max_value=40) for k in LIMIT_KEYS}
    ),
    st.fixed_dictionaries(
        {},
        optional={k: st.sampled_from(["high", "medium", "low", "x"]) for k in ("alert", "action")},
    ),
    st.booleans(),
)


def table_of(known: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.one_of(st.sampled_from(known), keys),
        st.one_of(plausible, plausible, values),
        max_size=len(known) + 1,
    )


grade_levels = st.fixed_dictionaries(
    {},
    optional={
        occupancy: st.one_of(
            st.fixed_dictionaries(
                {}, optional={"alert": st.one_of(plausible, values), "action": plausible}
            ),
            values,
        )
        for occupancy in ("at_rest", "in_operation")
    },
)
shaped_documents = st.fixed_dictionaries(
    {},
    optional={
        "site": st.one_of(table_of(SITE_KEYS), values),
        "alarms": st.one_of(table_of(ALARM_KEYS), values),
        "historian": st.one_of(table_of(HISTORIAN_KEYS), values),
        "grades": st.one_of(
            st.dictionaries(
                st.one_of(st.sampled_from([*Grade, "E"]), keys),
                st.one_of(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "particles_0_5": st.one_of(grade_levels, values),
                            "particles_5": grade_levels,
                        },
                    ),
                    values,
                ),
                max_size=3,
            ),
            values,
        ),
        "plc": st.one_of(st.lists(table_of(PLC_KEYS), max_size=3), values),
        "space": st.lists(table_of(SPACE_KEYS), max_size=3),
        "door": st.lists(table_of(DOOR_KEYS), max_size=3),
        "airlock": st.lists(table_of(AIRLOCK_KEYS), max_size=2),
        "point": st.one_of(st.lists(table_of(POINT_KEYS), max_size=4), values),
    },
)

# TOML literals written as text: numbers beyond any float or beyond str()'s 4300 digits,
# every float spelling, escapes, deep nesting.
literals = st.one_of(
    st.builds(lambda n: "1" * n, st.integers(1, 5000)),
    st.builds(lambda n: "-" + "9" * n, st.integers(300, 400)),
    st.builds(lambda n: "0x" + "f" * n, st.integers(1, 5000)),
    st.builds(lambda n: "0o" + "7" * n, st.integers(1, 6000)),
    st.builds(lambda n: "0b" + "1" * n, st.integers(1, 20000)),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(1, 3000)),
    st.builds(lambda n: "{a=" * n + "1" + "}" * n, st.integers(1, 3000)),
    st.sampled_from(["inf", "-inf", "+nan", "1e999", "-1e999", "1e-999", "0.0", "-0", "+0"]),
    st.sampled_from(['""', "''", '"\\u0000"', '"\\u202e"', '"🧪"', "true", "[]", "{}"]),
    st.sampled_from(["1979-05-27T07:32:00Z", "07:32:00", "2024-02-30"]),
    st.text(max_size=10),
)

GOOD_DOC: dict[str, Any] = tomllib.loads(GOOD)
Location = tuple[str | int, ...]


def _locations(doc: dict[str, Any]) -> list[Location]:
    """Every key of the document, as its path: ("space", 1, "setpoint_pa"), ..."""
    found: list[Location] = []
    for section, body in doc.items():
        entries = body if isinstance(body, list) else [body]
        for index, entry in enumerate(entries):
            base: Location = (section, index) if isinstance(body, list) else (section,)
            for key, value in entry.items():
                found.append((*base, key))
                if isinstance(value, dict):
                    found.extend((*base, key, sub) for sub in value)
    return found


LOCATIONS = _locations(GOOD_DOC)


def _parent(doc: dict[str, Any], location: Location) -> dict[str, Any]:
    node: Any = doc
    for part in location[:-1]:
        node = node[part]
    assert isinstance(node, dict)
    return node


# What each key of the mini-site must be: a value of another kind is always a problem.
KIND = {
    "name": "text",
    "ambient": "text",
    "id": "text",
    "host": "text",
    "port": "whole",
    "grade": "text",
    "setpoint_pa": "number",
    "polygon": "list",
    "between": "list",
    "at": "list",
    "outer_door": "text",
    "inner_door": "text",
    "interlock": "text",
    "plc": "text",
    "target": "text",
    "quantity": "text",
    "reference": "text",
    "table": "text",
    "address": "whole",
    "type": "text",
    "limits": "table",
    **dict.fromkeys(LIMIT_KEYS, "number"),
}
ACCEPTED_KINDS = {
    "text": {"text"},
    "whole": {"whole"},
    "number": {"whole", "float"},
    "list": {"list"},
    "table": {"table"},
}
ID_KEYS = {"id", "ambient", "outer_door", "inner_door", "plc", "target", "reference"}
CHOICES: dict[str, set[str]] = {
    "grade": {g.value for g in Grade},
    "interlock": {k.value for k in InterlockKind},
    "quantity": {q.value for q in Quantity},
    "table": {t.value for t in Table},
    "type": {d.value for d in DataType},
}
RANGES = {"port": (1, 65535), "address": (0, 65535), "setpoint_pa": (-1000, 1000)}
OPTIONAL = {"limits", *LIMIT_KEYS}


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "whole"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table"
    return "other"


def must_be_rejected(key: str, value: object) -> bool:
    """Whether ``value`` under ``key`` is wrong whatever the rest of the site says."""
    if _kind(value) not in ACCEPTED_KINDS[KIND[key]]:
        return True
    if isinstance(value, str):
        plain = 0 < len(value) <= 64 and all(c.isprintable() and not c.isspace() for c in value)
        return (
            not value.strip()
            or (key in ID_KEYS and not plain)
            or (key in CHOICES and value not in CHOICES[key])
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            if not math.isfinite(float(value)):
                return True
        except OverflowError:  # a whole number beyond any float
            return True
        low, high = RANGES.get(key, (-math.inf, math.inf))
        return not low <= value <= high
    return False


# ---------------------------------------------------------------- properties


def test_the_seed_loads() -> None:
    assert isinstance(outcome(GOOD), Site)
    assert isinstance(outcome(tomli_w.dumps(GOOD_DOC)), Site)


@FAST
@given(st.text())
def test_any_text(text: str) -> None:
    outcome(text)


@FAST
@given(st.text(alphabet="[]{}=.,\"'#\n -_0123456789abeinfxtrusl"))
def test_any_toml_like_text(text: str) -> None:
    outcome(text)


@FAST
@given(st.dictionaries(st.one_of(st.sampled_from(sorted(SECTIONS)), keys), values, max_size=6))
def test_any_document(doc: dict[str, Any]) -> None:
    outcome(tomli_w.dumps(doc))


@FAST
@given(shaped_documents)
def test_any_site_shaped_document(doc: dict[str, Any]) -> None:
    outcome(tomli_w.dumps(doc))


@FAST
@given(st.sampled_from(LOCATIONS), values)
def test_one_key_of_the_good_site_replaced(location: Location, value: Any) -> None:
    doc = copy.deepcopy(GOOD_DOC)
    key = location[-1]
    assert isinstance(key, str)
    _parent(doc, location)[key] = value
    result = outcome(tomli_w.dumps(doc))
    if must_be_rejected(key, value):
        assert not isinstance(result, Site), (location, value)
        assert any(names_key(p.path, key) for p in result), (location, value, result)
    if not isinstance(result, Site):
        roots = {re.split(r"[.\[]", p.path, maxsplit=1)[0] for p in result}
        assert roots <= SECTIONS, result


@FAST
@given(st.sampled_from(LOCATIONS))
def test_one_key_of_the_good_site_deleted(location: Location) -> None:
    doc = copy.deepcopy(GOOD_DOC)
    key = location[-1]
    assert isinstance(key, str)
    del _parent(doc, location)[key]
    result = outcome(tomli_w.dumps(doc))
    if key in OPTIONAL:
        return
    assert not isinstance(result, Site), location
    assert any(names_key(p.path, key) for p in result), (location, result)


GOOD_LINES = GOOD.splitlines()
VALUE_LINES = [i for i, line in enumerate(GOOD_LINES) if re.fullmatch(r"\w+ = .+", line)]


@FAST
@given(st.sampled_from(VALUE_LINES), literals)
def test_one_value_of_the_good_site_rewritten_as_text(line: int, literal: str) -> None:
    key = GOOD_LINES[line].split(" = ", 1)[0]
    lines = list(GOOD_LINES)
    lines[line] = f"{key} = {literal}"
    outcome("\n".join(lines))


addresses = st.one_of(
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=-70_000, max_value=70_000),
    st.sampled_from([-1, 65533, 65534, 65535, 65536, 70_000]),
)


@FAST
@given(addresses, addresses, addresses, st.booleans())
def test_registers_shifted(dp: int, t: int, closed: int, t_in_holding: bool) -> None:
    """Out of range, past the end or overlapping: named at the point's address, else loads."""
    doc = copy.deepcopy(GOOD_DOC)
    by_id = {point["id"]: point for point in doc["point"]}
    by_id["R1.dp"]["address"] = dp  # input register, float32
    by_id["R1.t"]["address"] = t  # input register (or holding), float32
    by_id["L1-IN.closed"]["address"] = closed  # discrete input, one bit
    if t_in_holding:
        by_id["R1.t"]["table"] = "holding"
    result = outcome(tomli_w.dumps(doc))

    def fits(address: int, width: int) -> bool:
        return address >= 0 and address + width <= 65536

    misplaced = [
        point_id
        for point_id, address, width in (
            ("R1.dp", dp, 2),
            ("R1.t", t, 2),
            ("L1-IN.closed", closed, 1),
        )
        if not fits(address, width)
    ]
    overlap = not t_in_holding and not misplaced and abs(dp - t) < 2
    if not misplaced and not overlap:
        assert isinstance(result, Site), result
        return
    assert not isinstance(result, Site)
    paths = {p.path for p in result}
    for point_id in misplaced:
        assert f"point[{point_id}].address" in paths, (point_id, result)
    if overlap:
        assert any(
            p.path in {"point[R1.dp].address", "point[R1.t].address"} and "overlaps" in p.message
            for p in result
        ), result


def _retention_days(value: object) -> tuple[bool, float | None]:
    """Whether the loader takes a retention value, and its days (None: "forever")."""
    if isinstance(value, str):
        return value == "forever", None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False, None
    try:
        days = float(value)
    except OverflowError:
        return False, None
    return math.isfinite(days) and 0 < days <= 36_525, days


historian_values = st.one_of(
    st.just("forever"),
    st.integers(min_value=-2, max_value=40_000),
    st.floats(min_value=-1, max_value=40_000),
    st.sampled_from(HUGE_NUMBERS),
    values,
)


@FAST
@given(st.fixed_dictionaries({}, optional=dict.fromkeys(HISTORIAN_KEYS, historian_values)))
def test_historian_table_is_read_exactly_or_refused_at_its_keys(table: dict[str, Any]) -> None:
    """Loaded: each tier as written ("forever" is None), defaults for the rest, finer
    tiers kept no longer than coarser ones. Refused: only at the table's own keys."""
    doc = copy.deepcopy(GOOD_DOC)
    doc["historian"] = table
    result = outcome(tomli_w.dumps(doc))
    default = HistorianPolicy()
    read = {
        key: _retention_days(table[key]) if key in table else (True, getattr(default, key))
        for key in HISTORIAN_DAYS_KEYS
    }
    days = {key: value for key, (_, value) in read.items()}
    forced = table.get("forced_s", default.forced_s)
    forced_ok = (
        not isinstance(forced, bool)
        and isinstance(forced, int | float)
        and 0 < forced <= 3600  # NaN fails both comparisons
    )
    kept = [math.inf if d is None else d for d in days.values()]
    good = all(ok for ok, _ in read.values()) and forced_ok and kept == sorted(kept)
    if not good:
        assert not isinstance(result, Site), (table, result)
        assert all(p.path.startswith("historian.") for p in result), result
        return
    assert isinstance(result, Site), (table, result)
    assert result.historian == HistorianPolicy(
        raw_days=days["raw_days"],
        minute_days=days["minute_days"],
        quarter_hour_days=days["quarter_hour_days"],
        forced_s=float(forced),
    )


@FAST
@given(st.sampled_from(LOCATIONS), values)
def test_problems_are_the_same_every_time(location: Location, value: Any) -> None:
    doc = copy.deepcopy(GOOD_DOC)
    key = location[-1]
    assert isinstance(key, str)
    _parent(doc, location)[key] = value
    text = tomli_w.dumps(doc)
    first, second = outcome(text), outcome(text)
    if isinstance(first, Site):
        assert isinstance(second, Site)
    else:
        assert first == second


# ---------------------------------------------------------------- regressions

# Each of these escaped parse_site as a traceback before the loader caught it.
CRASHES = [
    pytest.param("a = " + "1" * 5000, "<file>", "too many digits", id="int-beyond-str-limit"),
    pytest.param("a = " + "[" * 5000 + "]" * 5000, "<file>", "too deeply", id="deep-lists"),
    pytest.param(
        "a = " + "{b=" * 3000 + "1" + "}" * 3000, "<file>", "too deeply", id="deep-tables"
    ),
    pytest.param(
        GOOD.replace("port = 5020", "port = 0x" + "f" * 4000),
        "plc[P1].port",
        "about 4817 digits; it must be between 1 and 65535",
        id="hex-port-beyond-str-limit",
    ),
    pytest.param(
        GOOD.replace("setpoint_pa = 45", "setpoint_pa = " + "9" * 400),
        "space[R1].setpoint_pa",
        "far out of range",
        id="setpoint-beyond-float",
    ),
    pytest.param(
        GOOD.replace("alert_high = 25", "alert_high = -" + "9" * 400),
        "point[R1.dp].limits.alert_high",
        "a negative number of about 400 digits",
        id="limit-beyond-float",
    ),
    pytest.param(
        GOOD.replace("[[0, 0], [10, 0],", "[[0, 0], [1" + "0" * 400 + ", 0],"),
        "space[R1].polygon[1]",
        "must be finite",
        id="coordinate-beyond-float",
    ),
    pytest.param(
        "[grades.B]\nparticles_5 = { at_rest = { alert = 1, action = 2e999 } }\n" + GOOD,
        "grades.B.particles_5.at_rest.action",
        "finite",
        id="grade-limit-infinite",
    ),
    # Not crashes, but unreadable paths: an empty or invisible key, a control character id.
    pytest.param('"" = 1\n' + GOOD, "''", "unknown key", id="empty-top-key"),
    pytest.param(
        '[grades."\\u202e"]\n' + GOOD, "grades.'\\u202e'", "is not a grade", id="rtl-grade-key"
    ),
    pytest.param(
        GOOD.replace('id = "R1"', 'id = "R1\\u001b[2J"'),
        "space[0].id",
        "control characters",
        id="escape-sequence-id",
    ),
    pytest.param(
        "site = 3\n" + GOOD.split("\n\n", 1)[1],
        "site",
        "must be a [site] table",
        id="site-not-a-table",
    ),
]


@pytest.mark.parametrize(("text", "path", "message"), CRASHES)
def test_former_crashes_are_named(text: str, path: str, message: str) -> None:
    problems = problems_of(text)
    assert any(p.path == path and message in p.message for p in problems), problems
