"""The interlock reset rules, from what the engine knows of an airlock."""

from __future__ import annotations

from necstgen_desk.alarms.interlocks import reset_outcome, reset_refusal
from tests.unit.alarms.harness import Harness


def test_reset_is_refused_until_it_can_work() -> None:
    h = Harness()
    engine = h.engine
    assert "not known" in (reset_refusal(engine.interlock("PAL-06")) or "")
    h.feed_many({"PAL-06-OUT.closed": True, "PAL-06-IN.closed": True, "PAL-06.fault": 0})
    assert "nothing to reset" in (reset_refusal(engine.interlock("PAL-06")) or "")
    h.feed_many({"PAL-06-IN.closed": False, "PAL-06.fault": 2})
    refusal = reset_refusal(engine.interlock("PAL-06"))
    assert refusal is not None and "must be acknowledged by maintenance" in refusal
    engine.acknowledge_interlock("PAL-06", by="tech", comment="forced by cleaner")
    refusal = reset_refusal(engine.interlock("PAL-06"))
    assert refusal == (
        "the PLC would keep the fault latched: its cause is still present (door PAL-06-IN is open)"
    )
    h.feed("PAL-06-IN.closed", True)
    assert reset_refusal(engine.interlock("PAL-06")) is None
    assert "no reset coil" in (reset_refusal(engine.interlock("PAL-06"), has_coil=False) or "")


def test_the_next_scan_tells_whether_the_reset_took() -> None:
    h = Harness()
    h.feed_many({"PAL-06-OUT.closed": True, "PAL-06-IN.closed": True, "PAL-06.fault": 4})
    kept = reset_outcome(h.engine.interlock("PAL-06"))
    assert not kept.cleared
    assert kept.message == (
        "the PLC kept the fault latched: its cause is still present (emergency release)"
    )
    h.feed("PAL-06.fault", 0)
    done = reset_outcome(h.engine.interlock("PAL-06"))
    assert done.cleared and done.message == "the fault on airlock PAL-06 is reset"
