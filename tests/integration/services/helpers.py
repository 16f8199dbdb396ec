"""Sample people, clock, blockers and records for the services tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from necstgen_desk.records.cleaning import CleaningEntry, CleaningType
from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.records.passwords import PasswordPolicy
from necstgen_desk.records.roles import Role
from necstgen_desk.services import (
    CleaningView,
    RecordChange,
    Records,
    RoomStatusView,
    SignatureRequest,
    UserSession,
)
from necstgen_desk.site import DEFAULT_SITE_PATH, load_site
from necstgen_desk.storage import repo
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.models import AuditEntry

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
#: argon2id at its cheapest: the tests check the rules, not the hash cost.
FAST_POLICY = PasswordPolicy(time_cost=1, memory_cost=8, parallelism=1)
#: The local zone of the CSV export in the tests (CET).
LOCAL = timezone(timedelta(hours=1))
SITE = load_site(DEFAULT_SITE_PATH)

PASSWORD = "correct horse 42"
TEMPORARY = "temporary pass 1"
ROLES = {
    "admin": Role.ADMIN,
    "op1": Role.OPERATOR,
    "op2": Role.OPERATOR,
    "lead": Role.SHIFT_LEAD,
    "maint": Role.MAINTENANCE,
    "qa1": Role.QA,
    "qa2": Role.QA,
}


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class FakeBlockers:
    """What the alarm engine would say blocks a release, set by the test."""

    def __init__(self) -> None:
        self.active: dict[str, list[str]] = {}

    def blockers(self, room_id: str) -> list[str]:
        return list(self.active.get(room_id, []))


def sign(session: UserSession, password: str = PASSWORD) -> SignatureRequest:
    """User ID and password: valid for the first and every later signing."""
    return SignatureRequest(password=password, username=session.user.username)


@dataclass
class Env:
    records: Records
    clock: FakeClock
    blockers: FakeBlockers
    engine: Engine
    changes: list[RecordChange] = field(default_factory=list)
    sessions: dict[str, UserSession] = field(default_factory=dict)

    def __getitem__(self, name: str) -> UserSession:
        """The logged-in session of one of :data:`ROLES`, its account made on first use."""
        if name not in self.sessions:
            accounts = self.records.accounts
            if name == "admin":
                if not accounts.has_users():
                    accounts.create_first_admin("admin", "Ada Admin", PASSWORD)
                self.sessions[name] = accounts.login("admin", PASSWORD)
            else:
                accounts.create_user(
                    self["admin"],
                    name,
                    f"{name.capitalize()} Person",
                    ROLES[name],
                    TEMPORARY,
                    "new colleague",
                )
                session = accounts.login(name, TEMPORARY)
                accounts.change_own_password(session, TEMPORARY, PASSWORD)
                self.sessions[name] = session
        return self.sessions[name]

    # ------------------------------------------------------------ room steps

    def change(self, who: str, room: str, action: RoomAction, **kwargs: object) -> RoomStatusView:
        signature = sign(self[who]) if action is RoomAction.RELEASE else None
        return self.records.rooms.change(
            self[who],
            room,
            action,
            reason=str(kwargs.get("reason", f"{action.value} by {who}")),
            product=_text(kwargs.get("product")),
            batch=_text(kwargs.get("batch")),
            signature=signature,
        )

    def log_cleaning(self, who: str, room: str) -> CleaningView:
        entry = cleaning_entry(self.clock.now, room, who)
        self.clock.advance(minutes=1)
        return self.records.cleaning.log(self[who], entry, signature=sign(self[who]))

    def bring_to(
        self,
        room: str,
        status: RoomStatus,
        *,
        performer: str = "op1",
        verifier: str = "op2",
        marker: str = "op1",
        releaser: str = "qa1",
    ) -> None:
        """Walk a never-logged room along the main path up to ``status``."""
        path = [
            RoomStatus.TO_BE_CLEANED,
            RoomStatus.CLEANING,
            RoomStatus.CLEANED,
            RoomStatus.RELEASED,
            RoomStatus.IN_OPERATION,
        ]
        target = path.index(status)
        if target >= 1:
            self.change(marker, room, RoomAction.START_CLEANING)
            self.clock.advance(minutes=45)
        if target >= 2:
            cleaning = self.log_cleaning(performer, room)
            self.records.cleaning.verify(
                self[verifier], cleaning.id, signature=sign(self[verifier])
            )
            self.clock.advance(minutes=2)
            self.change(marker, room, RoomAction.FINISH_CLEANING)
            self.clock.advance(minutes=5)
        if target >= 3:
            self.change(releaser, room, RoomAction.RELEASE)
            self.clock.advance(minutes=30)
        if target >= 4:
            self.change(
                marker, room, RoomAction.START_OPERATION, product="CAR-T 19", batch="B-2611"
            )
            self.clock.advance(hours=2)

    def audit(
        self,
        *,
        action: str | None = None,
        username: str | None = None,
        record_type: str | None = None,
        record_id: str | int | None = None,
    ) -> list[AuditEntry]:
        """The audit entries, oldest first, read straight from the database."""
        with Session(for_reading(self.engine)) as db:
            return repo.list_audit_entries(
                db,
                action=action,
                username=username,
                record_type=record_type,
                record_id=record_id,
                newest_first=False,
            )

    def drop_protection(self, table: str) -> None:
        """The attacker's first step: switch a table's append-only triggers off."""
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "sqlite":
                for operation in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER {table}_no_{operation}"))
            else:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def cleaning_entry(
    now: datetime,
    room: str,
    performed_by: str,
    *,
    period: tuple[datetime, datetime] | None = None,
    contact_min: tuple[float, float] = (10.0, 12.5),
) -> CleaningEntry:
    """A good sporicidal clean that ended a few minutes before ``now`` (or over
    ``period``), with an agent lot prepared two days before ``now``."""
    started, ended = period or (now - timedelta(minutes=40), now - timedelta(minutes=5))
    return CleaningEntry(
        room_id=room,
        started_at=started,
        ended_at=ended,
        cleaning_type=CleaningType.SPORICIDAL,
        agent="Spor-Klenz RTU",
        agent_lot="LOT-0042",
        agent_prepared_on=(now - timedelta(days=2)).date(),
        agent_expires_on=(now + timedelta(days=30)).date(),
        required_contact_min=contact_min[0],
        achieved_contact_min=contact_min[1],
        performed_by=performed_by,
    )
