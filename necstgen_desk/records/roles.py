"""Roles and what each may do: the table of ADR 0003, as data.

Annex 11 §12 and Part 11 §11.10(d)/(g) ask that access is limited to
authorised people and that the system checks a person's authority before an
action; the services call :func:`require` before every change, so the check
does not depend on the screen hiding a button.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from necstgen_desk.records.errors import PermissionDenied


class Role(StrEnum):
    OPERATOR = "operator"
    SHIFT_LEAD = "shift_lead"
    MAINTENANCE = "maintenance"
    QA = "qa"
    ADMIN = "admin"

    @property
    def display_name(self) -> str:
        return _ROLE_NAMES[self]


_ROLE_NAMES: Mapping[Role, str] = {
    Role.OPERATOR: "Operator",
    Role.SHIFT_LEAD: "Shift lead",
    Role.MAINTENANCE: "Maintenance",
    Role.QA: "QA",
    Role.ADMIN: "Administrator",
}


class Permission(StrEnum):
    """One per row of the ADR 0003 roles table (its first row split in three)."""

    LOG_GOWNING = "log_gowning"
    LOG_CLEANING = "log_cleaning"
    CHANGE_ROOM_STATUS = "change_room_status"
    VERIFY_CLEANING = "verify_cleaning"
    RELEASE_ROOM = "release_room"
    SET_MAINTENANCE = "set_maintenance"
    MANAGE_QUALIFICATIONS = "manage_qualifications"
    CORRECT_RECORD = "correct_record"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    ARCHIVE_HISTORIAN = "archive_historian"
    ACKNOWLEDGE_ALARM = "acknowledge_alarm"
    SHELVE_ALARM = "shelve_alarm"
    ACKNOWLEDGE_INTERLOCK_FAULT = "acknowledge_interlock_fault"
    MANAGE_USERS = "manage_users"

    @property
    def description(self) -> str:
        """What the permission allows, as the end of "may ..."."""
        return _DESCRIPTIONS[self]

    @property
    def needs_signature(self) -> bool:
        """Whether the action is an electronic signature (issue 3, Part 11 §11.50)."""
        return self in SIGNED_PERMISSIONS


_DESCRIPTIONS: Mapping[Permission, str] = {
    Permission.LOG_GOWNING: "log gowning (entering and leaving a room)",
    Permission.LOG_CLEANING: "log a cleaning",
    Permission.CHANGE_ROOM_STATUS: (
        "change a room's status: start and end operation, start and finish cleaning (not release)"
    ),
    Permission.VERIFY_CLEANING: "verify another person's cleaning as the second person",
    Permission.RELEASE_ROOM: "release a cleaned room for use",
    Permission.SET_MAINTENANCE: "put a room into or out of maintenance or out of service",
    Permission.MANAGE_QUALIFICATIONS: "manage gowning qualifications",
    Permission.CORRECT_RECORD: "correct a logbook record by adding a new version",
    Permission.VIEW_AUDIT_TRAIL: "view the audit trail and export it as CSV",
    Permission.ARCHIVE_HISTORIAN: (
        "archive and purge raw historian data (with an audited CSV file and its sha256)"
    ),
    Permission.ACKNOWLEDGE_ALARM: "acknowledge alarms",
    Permission.SHELVE_ALARM: "shelve alarms",
    Permission.ACKNOWLEDGE_INTERLOCK_FAULT: "acknowledge and reset interlock faults",
    Permission.MANAGE_USERS: (
        "manage user accounts: create, change role, disable, unlock, reset password"
    ),
}

#: Actions that are electronic signatures (issue 3): release, verify a cleaning,
#: acknowledge an interlock fault, shelve an alarm, correct a record. Archiving
#: raw historian data is not one: it is data management (administrators hold it
#: and sign no GMP record), traced by its audit entry and the CSV's sha256.
SIGNED_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.VERIFY_CLEANING,
        Permission.RELEASE_ROOM,
        Permission.CORRECT_RECORD,
        Permission.SHELVE_ALARM,
        Permission.ACKNOWLEDGE_INTERLOCK_FAULT,
    }
)

_P = Permission

#: Exactly the ADR 0003 table. Administrators manage accounts but sign no GMP
#: record (segregation of duties).
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.OPERATOR: frozenset(
            {
                _P.LOG_GOWNING,
                _P.LOG_CLEANING,
                _P.CHANGE_ROOM_STATUS,
                _P.VERIFY_CLEANING,
                _P.CORRECT_RECORD,
                _P.ACKNOWLEDGE_ALARM,
            }
        ),
        Role.SHIFT_LEAD: frozenset(
            {
                _P.LOG_GOWNING,
                _P.LOG_CLEANING,
                _P.CHANGE_ROOM_STATUS,
                _P.VERIFY_CLEANING,
                _P.SET_MAINTENANCE,
                _P.CORRECT_RECORD,
                _P.VIEW_AUDIT_TRAIL,
                _P.ACKNOWLEDGE_ALARM,
                _P.SHELVE_ALARM,
            }
        ),
        Role.MAINTENANCE: frozenset(
            {
                _P.SET_MAINTENANCE,
                _P.ACKNOWLEDGE_ALARM,
                _P.ACKNOWLEDGE_INTERLOCK_FAULT,
            }
        ),
        Role.QA: frozenset(
            {
                _P.LOG_GOWNING,
                _P.LOG_CLEANING,
                _P.CHANGE_ROOM_STATUS,
                _P.VERIFY_CLEANING,
                _P.RELEASE_ROOM,
                _P.SET_MAINTENANCE,
                _P.MANAGE_QUALIFICATIONS,
                _P.CORRECT_RECORD,
                _P.VIEW_AUDIT_TRAIL,
                _P.ARCHIVE_HISTORIAN,
                _P.ACKNOWLEDGE_ALARM,
                _P.SHELVE_ALARM,
            }
        ),
        Role.ADMIN: frozenset({_P.VIEW_AUDIT_TRAIL, _P.ARCHIVE_HISTORIAN, _P.MANAGE_USERS}),
    }
)


def may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def roles_allowed(permission: Permission) -> tuple[Role, ...]:
    """The roles holding ``permission``, in the order of :class:`Role`."""
    return tuple(role for role in Role if permission in ROLE_PERMISSIONS[role])


def require(role: Role, permission: Permission, *, username: str) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` holds ``permission``."""
    if permission not in ROLE_PERMISSIONS[role]:
        raise PermissionDenied(
            username,
            role.display_name,
            permission.description,
            [r.display_name for r in roles_allowed(permission)],
        )


def describe_role(role: Role) -> list[str]:
    """The written list of what ``role`` may do, one sentence per permission."""
    lines = []
    for permission in Permission:
        if permission in ROLE_PERMISSIONS[role]:
            signed = " (with an electronic signature)" if permission.needs_signature else ""
            lines.append(f"May {permission.description}{signed}.")
    return lines


def same_user(a: str | None, b: str | None) -> bool:
    """Whether two user names name the same account (trimmed, case-insensitive).

    Used for every "second person" rule, so "JDoe" cannot verify "jdoe"'s work.
    """
    if a is None or b is None:
        return False
    left, right = a.strip().casefold(), b.strip().casefold()
    return bool(left) and left == right
