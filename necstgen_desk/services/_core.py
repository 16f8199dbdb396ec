"""What every service shares: the unit of work, refusals that are audited, the
actor check, the permission check and the signature check (ADR 0004).

A use case runs as ``core.write(work)``: one transaction in which ``work``
checks and writes the record, its signature and its audit entries; it commits
before ``write`` returns, and only then are listeners told. A refusal that must
leave a trace (a permission denied, a wrong signature password, a failed
login) is raised inside ``work`` as :class:`Refusal`: the use case is rolled
back, the refusal's own entries are written and committed in a transaction of
their own, and the refusal's error is raised to the caller.
"""

from __future__ import annotations

import csv
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from necstgen_desk.records.errors import (
    AuthenticationError,
    PermissionDenied,
    RecordError,
    RuleViolation,
    SignatureError,
)
from necstgen_desk.records.lifecycle import ReleaseBlockers
from necstgen_desk.records.passwords import (
    MAX_FAILED_LOGINS,
    LoginOutcome,
    LoginState,
    PasswordPolicy,
    apply_login_attempt,
    verify_password,
)
from necstgen_desk.records.roles import Permission, Role, require
from necstgen_desk.records.signatures import SignatureManifest, SignatureMeaning
from necstgen_desk.services.errors import NotFound, PasswordChangeRequired, SessionEnded
from necstgen_desk.services.views import (
    RecordChange,
    SignatureRequest,
    SignatureView,
    UserInfo,
    UserSession,
)
from necstgen_desk.site import Site, Space
from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import AUDIT_LOCK_KEY, append_audit
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.models import NAME_LENGTH, Base, Signature, User

log = logging.getLogger(__name__)

USER_RECORD = User.RECORD_TYPE


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def audit_id(text: str) -> str:
    """``text`` cut to fit an audit entry's record id (e.g. a typed user name)."""
    cleaned = " ".join(text.split()) or "(blank)"
    return cleaned[:NAME_LENGTH]


def reason_or_problem(reason: str | None, problems: list[str]) -> str:
    """The trimmed reason; appends "a reason is required" to ``problems`` when blank."""
    why = reason.strip() if isinstance(reason, str) else ""
    if not why:
        problems.append("a reason is required")
    return why


@dataclass
class Tx:
    """One unit of work: its session, its one "now", what changed, what runs after commit."""

    db: Session
    now: datetime
    changes: list[RecordChange] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def changed(self, record_type: str, record_id: str | int, room_id: str | None) -> None:
        self.changes.append(RecordChange(record_type, str(record_id), room_id))


class Refusal(Exception):
    """Raised inside a unit of work: roll back, run ``record`` in a transaction
    of its own (the audit trail of the refusal), then raise ``error``."""

    def __init__(self, error: RecordError, record: Callable[[Tx], None]) -> None:
        super().__init__(str(error))
        self.error = error
        self.record = record


@dataclass(frozen=True)
class Settings:
    """The facade's configuration, shared by every service."""

    site: Site
    clock: Callable[[], datetime]
    password_policy: PasswordPolicy
    blockers: ReleaseBlockers
    clean_hold: timedelta
    sporicidal_rotation: timedelta | dict[str, timedelta]
    qualification_months: int
    idle_lock: timedelta
    cleanup_period: timedelta
    local_tz: tzinfo | None


def user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        active=user.active,
        locked=user.locked,
        must_change_password=user.must_change_password,
    )


class Core:
    """The engine, the settings and the listeners, with the checks every use case makes."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._listeners: list[Callable[[RecordChange], None]] = []
        self._listeners_lock = threading.Lock()

    # ------------------------------------------------------------ time, site

    def now(self) -> datetime:
        value = self.settings.clock()
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the clock gave a time without a time zone; it must give UTC")
        return value.astimezone(UTC)

    def space(self, room_id: str) -> Space:
        space = self.settings.site.space_by_id.get(room_id)
        if space is None:
            raise NotFound(
                f"Room {room_id!r} is not a space of the site {self.settings.site.name}."
            )
        return space

    # ------------------------------------------------------------ units of work

    def write[T](self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one write transaction; commit; then notify listeners."""
        now = self.now()
        tx: Tx | None = None
        try:
            with Session(self.engine, expire_on_commit=False) as db, db.begin():
                _serialise(db)
                tx = Tx(db, now)
                result = work(tx)
        except Refusal as refusal:
            self._record_refusal(refusal, now)
            raise refusal.error from None
        assert tx is not None
        for hook in tx.after_commit:
            hook()
        self.notify(tx.changes)
        return result

    def read[T](self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in a read-only snapshot (never waits for a writer on SQLite)."""
        now = self.now()
        try:
            with Session(for_reading(self.engine), expire_on_commit=False) as db:
                return work(Tx(db, now))
        except Refusal as refusal:
            self._record_refusal(refusal, now)
            raise refusal.error from None

    def _record_refusal(self, refusal: Refusal, now: datetime) -> None:
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            _serialise(db)
            tx = Tx(db, now)
            refusal.record(tx)
        self.notify(tx.changes)

    # ------------------------------------------------------------ listeners

    def on_change(self, callback: Callable[[RecordChange], None]) -> Callable[[], None]:
        with self._listeners_lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def notify(self, changes: Iterable[RecordChange]) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for change in changes:
            for listener in listeners:
                try:
                    listener(change)
                except Exception:  # a broken view must not undo a committed record
                    log.exception("on_change listener %r failed for %s", listener, change)

    # ------------------------------------------------------------ who acts

    def actor(self, tx: Tx, session: UserSession, *, password_change_ok: bool = False) -> User:
        """The session's account as it is now; refuses an ended session, a disabled
        or locked account, and (unless ``password_change_ok``) one whose password
        an administrator set. Refreshes ``session.user``."""
        if session.ended_at is not None:
            raise SessionEnded(session.user.username)
        user = tx.db.get(User, session.user.id)
        if user is None:
            raise SessionEnded(session.user.username)
        if not user.active:
            raise AuthenticationError.account_disabled(user.username)
        if user.locked:
            raise AuthenticationError.account_locked(user.username)
        info = user_info(user)
        if info != session.user:
            session.user = info
        if user.must_change_password and not password_change_ok:
            raise PasswordChangeRequired(user.username)
        return user

    def permitted(
        self,
        tx: Tx,
        session: UserSession,
        permission: Permission,
        *,
        attempted: str,
        record_type: str,
        record_id: str | int,
    ) -> User:
        """The session's account (:meth:`actor`), refused unless its role has
        ``permission`` (:meth:`require`: the refusal audited as ``permission_denied``)."""
        actor = self.actor(tx, session)
        self.require(
            actor,
            permission,
            attempted=attempted,
            record_type=record_type,
            record_id=record_id,
        )
        return actor

    def require(
        self,
        actor: User,
        permission: Permission,
        *,
        attempted: str,
        record_type: str,
        record_id: str | int,
    ) -> None:
        """:func:`records.roles.require`, the refusal audited as ``permission_denied``."""
        try:
            require(actor.role, permission, username=actor.username)
        except PermissionDenied as error:
            raise self.denied(
                error,
                actor.username,
                attempted=attempted,
                record_type=record_type,
                record_id=record_id,
            ) from None

    def denied(
        self,
        error: PermissionDenied,
        username: str,
        *,
        attempted: str,
        record_type: str,
        record_id: str | int,
    ) -> Refusal:
        def record(tx: Tx) -> None:
            append_audit(
                tx.db,
                username=username,
                action="permission_denied",
                record_type=record_type,
                record_id=audit_id(str(record_id)),
                reason=f"attempted to {attempted}: {error}",
                at=tx.now,
            )

        return Refusal(error, record)

    # ------------------------------------------------------------ passwords and signatures

    def password_ok(self, user: User, password: str) -> bool:
        return verify_password(user.password_hash, password, self.settings.password_policy)

    def count_failure(self, tx: Tx, user_id: int, *, action: str, reason: str) -> None:
        """A wrong password of ``user_id``: count it (audited as ``action``) and lock
        the account at the fifth in a row (audited as ``account_locked``)."""
        user = tx.db.get(User, user_id)
        if user is None:
            return
        state, outcome = apply_login_attempt(
            LoginState(failed_count=user.failed_logins, locked=user.locked), False
        )
        old = user.failed_logins
        user.failed_logins = state.failed_count
        user.locked = state.locked
        append_audit(
            tx.db,
            username=user.username,
            action=action,
            record_type=USER_RECORD,
            record_id=user.id,
            field="failed_logins",
            old_value=old,
            new_value=state.failed_count,
            reason=reason,
            at=tx.now,
        )
        if outcome is LoginOutcome.LOCKED_NOW:
            append_audit(
                tx.db,
                username=user.username,
                action="account_locked",
                record_type=USER_RECORD,
                record_id=user.id,
                field="locked",
                old_value=False,
                new_value=True,
                reason=f"{MAX_FAILED_LOGINS} wrong passwords in a row; "
                "an administrator must unlock the account",
                at=tx.now,
            )
        tx.changed(USER_RECORD, user.id, None)

    def count_success(self, tx: Tx, user: User, *, action: str) -> None:
        """A right password ends a run of failures (the reset is audited)."""
        if user.failed_logins == 0:
            return
        old = user.failed_logins
        user.failed_logins = 0
        append_audit(
            tx.db,
            username=user.username,
            action=action,
            record_type=USER_RECORD,
            record_id=user.id,
            field="failed_logins",
            old_value=old,
            new_value=0,
            reason="the right password was entered",
            at=tx.now,
        )

    def check_signature(
        self,
        tx: Tx,
        actor: User,
        session: UserSession,
        request: SignatureRequest | None,
        meaning: SignatureMeaning,
        *,
        attempted: str,
        record_type: str,
        record_id: str | int,
    ) -> None:
        """Part 11 §11.200: user id + password on the first signing of the session,
        the password after that, never for someone else. A refusal is audited as
        ``signature_failed``; a wrong password also counts toward the lockout.
        The session counts as having signed once the use case commits."""
        if actor.role is Role.ADMIN:
            error = SignatureError(
                f"{actor.username} is an administrator: administrators manage accounts "
                "and sign no GMP record."
            )
            raise self._signature_refusal(
                error, actor, False, attempted, record_type, record_id
            ) from None
        if request is None:
            needed = (
                "your user ID and password"
                if session.signing.credentials_needed() == "user_and_password"
                else "your password"
            )
            raise SignatureError(
                f"To {attempted} you must sign electronically ({meaning.value}): enter {needed}."
            )
        ok = self.password_ok(actor, request.password)
        try:
            session.signing.check_credentials(actor.username, request.username, ok)
        except SignatureError as error:
            raise self._signature_refusal(
                error, actor, not ok, attempted, record_type, record_id
            ) from None
        self.count_success(tx, actor, action="password_ok")
        tx.after_commit.append(session.signing.mark_signed)

    def write_signed_correction(
        self,
        tx: Tx,
        actor: User,
        session: UserSession,
        signature: SignatureRequest | None,
        *,
        original: Base,
        correction: Base,
        label: str,
        problems: list[str],
        reason: str | None,
        attempted: str,
        record_type: str,
        record_id: int,
    ) -> None:
        """Add ``correction`` as the new version of ``original``, signed "corrected".

        The one path for correcting a logbook record: refused with every problem
        (including an original that was already corrected), the new version and
        its per-field audit entries, then the signature check and the signature.
        ``label`` names the record in refusals, e.g. "cleaning record 12".
        """
        why = reason_or_problem(reason, problems)
        superseded_problem(tx.db, original, label, "correct", problems)
        refuse(f"Correction of {label} refused", problems)
        try:
            repo.add_correction(
                tx.db, original, correction, username=actor.username, reason=why, at=tx.now
            )
        except ValueError as error:
            raise RuleViolation(f"Correction of {label} refused", str(error)) from None
        self.check_signature(
            tx,
            actor,
            session,
            signature,
            SignatureMeaning.CORRECTED,
            attempted=attempted,
            record_type=record_type,
            record_id=record_id,
        )
        repo.sign_record(
            tx.db,
            correction,
            signer=actor,
            meaning=SignatureMeaning.CORRECTED,
            reason=f"electronic signature: corrected ({why})",
            at=tx.now,
        )

    def _signature_refusal(
        self,
        error: SignatureError,
        actor: User,
        wrong_password: bool,
        attempted: str,
        record_type: str,
        record_id: str | int,
    ) -> Refusal:
        user_id, username = actor.id, actor.username

        def record(tx: Tx) -> None:
            append_audit(
                tx.db,
                username=username,
                action="signature_failed",
                record_type=record_type,
                record_id=audit_id(str(record_id)),
                reason=f"signature refused to {attempted}: {error}",
                at=tx.now,
            )
            if wrong_password:
                self.count_failure(
                    tx,
                    user_id,
                    action="password_failed",
                    reason=f"wrong password at the electronic signature to {attempted}",
                )

        return Refusal(error, record)

    # ------------------------------------------------------------ exports

    def write_csv_export(
        self,
        session: UserSession,
        target: Path,
        *,
        header: Sequence[str],
        rows: Iterable[Sequence[object]],
        record_type: str,
        span: str,
        reason: str,
    ) -> None:
        """Write ``header`` and ``rows`` to ``target`` as UTF-8 CSV, audited as
        ``export_csv`` (record id ``span``, new value the path, ``reason``).

        The rows go to a hidden partial file next to ``target`` (flushed to disk);
        it becomes ``target`` only once the audit entry is committed, and is
        removed when anything fails.
        """
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
                handle.flush()
                os.fsync(handle.fileno())

            def work(tx: Tx) -> None:
                actor = self.actor(tx, session)
                append_audit(
                    tx.db,
                    username=actor.username,
                    action="export_csv",
                    record_type=record_type,
                    record_id=span,
                    new_value=str(target),
                    reason=reason,
                    at=tx.now,
                )

            self.write(work)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    # ------------------------------------------------------------ views of signatures

    def signature_views(
        self, db: Session, records: Sequence[Base]
    ) -> dict[int, tuple[SignatureView, ...]]:
        """The signatures of each record (by row id), oldest first, each checked
        against the record's content now."""
        if not records:
            return {}
        record_type = type(records[0]).RECORD_TYPE
        by_id = {_row_id(record): record for record in records}
        rows = db.scalars(
            select(Signature)
            .where(
                Signature.record_type == record_type,
                Signature.record_id.in_([str(key) for key in by_id]),
            )
            .order_by(Signature.id)
        )
        hashes: dict[int, str] = {}
        out: dict[int, list[SignatureView]] = {}
        for signature in rows:
            if not signature.record_id.isdigit():
                continue
            key = int(signature.record_id)
            record = by_id.get(key)
            if record is None:
                continue
            if key not in hashes:
                hashes[key] = repo.content_hash(record)
            out.setdefault(key, []).append(signature_view(signature, hashes[key]))
        return {key: tuple(views) for key, views in out.items()}

    def superseded_by(self, db: Session, records: Sequence[Base]) -> dict[int, int]:
        """For each of ``records`` that was corrected: the id of its correction."""
        if not records:
            return {}
        model = type(records[0])
        table = model.__table__
        ids = [_row_id(record) for record in records]
        rows = db.execute(
            select(table.c.supersedes_id, table.c.id).where(table.c.supersedes_id.in_(ids))
        )
        return {int(old): int(new) for old, new in rows}


def _serialise(db: Session) -> None:
    """Make the whole unit of work one writer at a time, checks included.

    SQLite's ``BEGIN IMMEDIATE`` already does; on PostgreSQL the audit writers'
    advisory lock (re-entrant within the transaction) is taken first, so two
    clients cannot both see "Cleaned" and both release, or both create the
    first administrator.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


def _row_id(record: Base) -> int:
    value = getattr(record, "id", None)
    assert isinstance(value, int)
    return value


def signature_view(signature: Signature, current_hash: str) -> SignatureView:
    manifest = SignatureManifest(
        printed_name=signature.printed_name,
        username=signature.username,
        meaning=signature.meaning,
        signed_at=signature.signed_at,
        record_type=signature.record_type,
        record_id=signature.record_id,
        record_hash=signature.record_hash,
    )
    return SignatureView(id=signature.id, manifest=manifest, matches=manifest.matches(current_hash))


def superseded_problem(
    db: Session, record: Base, label: str, verb: str, problems: list[str]
) -> None:
    """When a newer version supersedes ``record``, appends to ``problems``:
    "``label`` has a newer version N; ``verb`` the newest version"."""
    newer = repo.superseded_by(db, record)
    if newer is not None:
        version = newer.__dict__.get("id")  # every versioned table has an integer id
        problems.append(f"{label} has a newer version {version}; {verb} the newest version")


def refuse(rule: str, problems: list[str]) -> None:
    """Raise :class:`RuleViolation` with ``problems`` when there are any."""
    if problems:
        raise RuleViolation(rule, problems)


__all__ = [
    "Core",
    "Refusal",
    "Settings",
    "Tx",
    "audit_id",
    "reason_or_problem",
    "refuse",
    "signature_view",
    "superseded_problem",
    "user_info",
    "utc_now",
]
