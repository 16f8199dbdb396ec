"""``Records``: the one door to the GMP records, built once by the app (ADR 0004)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine

from necstgen_desk.records.cleaning import DEFAULT_SPORICIDAL_ROTATION
from necstgen_desk.records.gowning import DEFAULT_QUALIFICATION_MONTHS
from necstgen_desk.records.lifecycle import DEFAULT_CLEAN_HOLD, NoBlockers, ReleaseBlockers
from necstgen_desk.records.passwords import DEFAULT_POLICY, PasswordPolicy
from necstgen_desk.services._core import Core, Settings, utc_now
from necstgen_desk.services.accounts import AccountService
from necstgen_desk.services.audit import AuditService
from necstgen_desk.services.cleaning import CleaningService
from necstgen_desk.services.gowning import GowningService
from necstgen_desk.services.rooms import RoomStatusService
from necstgen_desk.services.views import RecordChange
from necstgen_desk.site import Site

#: Annex 1 guidance: at-rest limits apply 15–20 min after operation ends.
DEFAULT_CLEANUP_PERIOD = timedelta(minutes=20)
DEFAULT_IDLE_LOCK = timedelta(minutes=10)
_NO_BLOCKERS = NoBlockers()


class Records:
    """The services over one database.

    ``clock`` gives aware UTC times (tests inject one); ``blockers`` is the
    alarm engine's list of what stops a release; ``sporicidal_rotation`` is one
    period for every classified room, or a period per room id.
    ``idle_lock`` is for the UI's screen-lock timer (the services cannot see
    input); unlocking with :meth:`AccountService.verify_password` restarts the
    signing continuity. ``local_tz`` is the zone of the CSV's local-time
    column (None: the computer's).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        site: Site,
        clock: Callable[[], datetime] = utc_now,
        password_policy: PasswordPolicy = DEFAULT_POLICY,
        blockers: ReleaseBlockers = _NO_BLOCKERS,
        clean_hold: timedelta = DEFAULT_CLEAN_HOLD,
        sporicidal_rotation: timedelta | Mapping[str, timedelta] = DEFAULT_SPORICIDAL_ROTATION,
        qualification_months: int = DEFAULT_QUALIFICATION_MONTHS,
        idle_lock: timedelta = DEFAULT_IDLE_LOCK,
        cleanup_period: timedelta = DEFAULT_CLEANUP_PERIOD,
        local_tz: tzinfo | None = None,
    ) -> None:
        if clean_hold <= timedelta(0):
            raise ValueError("the clean hold time must be longer than zero")
        if qualification_months < 1:
            raise ValueError("a qualification is valid for at least one month")
        rotation: timedelta | dict[str, timedelta] = (
            sporicidal_rotation
            if isinstance(sporicidal_rotation, timedelta)
            else dict(sporicidal_rotation)
        )
        periods = [rotation] if isinstance(rotation, timedelta) else list(rotation.values())
        if any(period <= timedelta(0) for period in periods):
            raise ValueError("a sporicidal rotation must be longer than zero")
        if isinstance(rotation, dict):
            unknown = sorted(set(rotation) - set(site.space_by_id))
            if unknown:
                raise ValueError(f"sporicidal rotation for rooms not on the site: {unknown}")
        self._core = Core(
            engine,
            Settings(
                site=site,
                clock=clock,
                password_policy=password_policy,
                blockers=blockers,
                clean_hold=clean_hold,
                sporicidal_rotation=rotation,
                qualification_months=qualification_months,
                idle_lock=idle_lock,
                cleanup_period=cleanup_period,
                local_tz=local_tz,
            ),
        )
        self.accounts = AccountService(self._core)
        self.rooms = RoomStatusService(self._core)
        self.cleaning = CleaningService(self._core)
        self.gowning = GowningService(self._core)
        self.audit = AuditService(self._core)

    @property
    def core(self) -> Core:
        """The shared core, for sibling services (the alarm service) on the same database."""
        return self._core

    @property
    def site(self) -> Site:
        return self._core.settings.site

    @property
    def idle_lock(self) -> timedelta:
        return self._core.settings.idle_lock

    def on_change(self, callback: Callable[[RecordChange], None]) -> Callable[[], None]:
        """Call ``callback`` after every commit that changed a record; returns the
        function that stops it. Callbacks run on the services' thread."""
        return self._core.on_change(callback)


__all__ = ["DEFAULT_CLEANUP_PERIOD", "DEFAULT_IDLE_LOCK", "Records"]
