"""The issue's acceptance, below the GUI: the PAL-03 / ENV-3 / B-05 scenario end to end.

The in-process simulator plays ``resources/scenarios/pal03-cor-b05.toml`` at
twenty times real time against the real pollers and alarm engine; the
records live in a real database (SQLite, and PostgreSQL where it answers).
Exactly the scenario's alarms must come, with their priorities; then an
operator acknowledges what an operator may, is refused the interlock fault
and its reset, and maintenance acknowledges (signed) and resets it — the
reset reaching the simulated PLC — and every step is in the audit trail.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import Engine

import resources
from necstgen_desk.alarms.journal import AlarmJournal, JournalWriter
from necstgen_desk.alarms.model import AlarmState, Priority
from necstgen_desk.alarms.service import AlarmService
from necstgen_desk.records.roles import Role
from necstgen_desk.services import PermissionDenied, Records, SignatureRequest, UserSession
from necstgen_desk.site import Site
from tests.integration.alarms.conftest import fast_site, running
from tests.integration.services.helpers import FAST_POLICY
from tests.waiting import wait_until

SCENARIO = resources.path("scenarios", "pal03-cor-b05.toml")
SPEED = 20.0
PASSWORD = "correct horse 42"

EXPECTED = {
    "PAL-03/both_doors_open": Priority.HIGH,
    "PAL-03/fault/forced_open": Priority.HIGH,
    "ENV-3/link_lost": Priority.HIGH,
    "B-05.p05/alert": Priority.MEDIUM,
    "B-05.p05/action": Priority.HIGH,
}


def scenario_site() -> Site:
    """Short on-delays so the test runs in seconds; the door-held-open time and the
    record-gap time stay the site's own, as in the demo."""
    site = fast_site()
    return replace(site, alarms=replace(site.alarms, door_held_open_s=60.0, gap_s=30.0))


def people(records: Records) -> dict[str, UserSession]:
    accounts = records.accounts
    accounts.create_first_admin("admin", "Ada Admin", PASSWORD)
    admin = accounts.login("admin", PASSWORD)
    out: dict[str, UserSession] = {"admin": admin}
    for name, role in (("olga", Role.OPERATOR), ("max", Role.MAINTENANCE)):
        accounts.create_user(admin, name, name.capitalize(), role, "temporary pass 1", "new")
        session = accounts.login(name, "temporary pass 1")
        accounts.change_own_password(session, "temporary pass 1", PASSWORD)
        out[name] = session
    return out


@pytest.mark.timeout(90)
async def test_the_scenario_raises_exactly_its_alarms_and_people_clear_them(
    engine: Engine,
) -> None:
    async with running(scenario_site(), speed=SPEED, scenario=SCENARIO) as rig:
        records = Records(engine, site=rig.site, password_policy=FAST_POLICY)
        journal = AlarmJournal(engine)
        writer = JournalWriter(journal)
        writer.attach(rig.alarms)
        service = AlarmService(records.core, rig.alarms, journal, rig.facility)
        who = await asyncio.to_thread(people, records)
        olga, max_ = who["olga"], who["max"]

        await wait_until(lambda: rig.raised() >= set(EXPECTED), 30, "the scenario's alarms")
        await wait_until(lambda: not rig.alarms.alarm("ENV-3/link_lost").active, 10, "ENV-3 back")
        assert rig.raised() == set(EXPECTED), "exactly the scenario's alarms, nothing else"
        assert {i: rig.alarm(i).priority for i in EXPECTED} == EXPECTED
        listed = {a.id for a in rig.alarms.active_alarms()}
        assert listed == set(EXPECTED)
        assert "420,000" in rig.alarm("B-05.p05/action").message

        # The operator acknowledges what is theirs ...
        operator_ids = [i for i in EXPECTED if i != "PAL-03/fault/forced_open"]
        acked = await asyncio.to_thread(
            service.acknowledge, olga, operator_ids, "seen; maintenance and QA informed"
        )
        assert {c.alarm_id for c in acked} == set(operator_ids)
        # ... and is refused the interlock fault and its reset: nothing is written.
        with pytest.raises(PermissionDenied):
            await asyncio.to_thread(service.acknowledge, olga, ["PAL-03/fault/forced_open"], "seen")
        with pytest.raises(PermissionDenied):
            await service.reset(olga, "PAL-03", "reset please")
        assert rig.sim.expected_value("PAL-03.fault") == 2

        # Maintenance: acknowledge with a comment and signature, then reset.
        sign = SignatureRequest(password=PASSWORD, username="max")
        await asyncio.to_thread(
            service.acknowledge_interlock_fault, max_, "PAL-03", "door forced: closer checked", sign
        )
        assert rig.state("PAL-03/fault/forced_open") is AlarmState.ACKNOWLEDGED
        order = await service.reset(max_, "PAL-03", "interlock checked after the forced door")
        outcome = await service.await_outcome(order, timeout_s=5)
        assert outcome.cleared, outcome.message
        assert rig.sim.expected_value("PAL-03.fault") == 0
        await wait_until(
            lambda: rig.state("PAL-03/fault/forced_open") is AlarmState.NORMAL, 5, "normal"
        )

        await asyncio.to_thread(writer.flush)
        audit = await asyncio.to_thread(
            lambda: [
                (e.username, e.action, e.record_id)
                for e in records.audit.query(who["admin"], limit=100)
                if e.record_type in ("alarm", "interlock")
            ]
        )
        assert list(reversed(audit)) == [
            *[("olga", "acknowledge_alarm", i) for i in operator_ids],
            ("olga", "permission_denied", "PAL-03/fault/forced_open"),
            ("olga", "permission_denied", "PAL-03"),
            ("max", "acknowledge_interlock_fault", "PAL-03/fault/forced_open"),
            ("max", "reset_interlock", "PAL-03"),
        ]
        history = await asyncio.to_thread(service.fault_history, "PAL-03")
        assert [(e.event.value, e.username) for e in reversed(history)] == [
            ("condition_active", None),
            ("acknowledge", "max"),
            ("condition_cleared", None),
        ]
