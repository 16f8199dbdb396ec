"""The roles table is exactly ADR 0003's, and a refusal names who may."""

from __future__ import annotations

import pytest

from necstgen_desk.records.errors import PermissionDenied
from necstgen_desk.records.roles import (
    ROLE_PERMISSIONS,
    SIGNED_PERMISSIONS,
    Permission,
    Role,
    describe_role,
    may,
    require,
    roles_allowed,
    same_user,
)

# Copied from docs/adr/0003-gmp-records.md (first row split into its three permissions).
#                                    operator shift_lead maintenance qa admin
ADR_TABLE = """
log_gowning                          x        x          .           x  .
log_cleaning                         x        x          .           x  .
change_room_status                   x        x          .           x  .
verify_cleaning                      x        x          .           x  .
release_room                         .        .          .           x  .
set_maintenance                      .        x          x           x  .
manage_qualifications                .        .          .           x  .
correct_record                       x        x          .           x  .
view_audit_trail                     .        x          .           x  x
archive_historian                    .        .          .           x  x
acknowledge_alarm                    x        x          x           x  .
shelve_alarm                         .        x          .           x  .
acknowledge_interlock_fault          .        .          x           .  .
manage_users                         .        .          .           .  x
"""
COLUMNS = (Role.OPERATOR, Role.SHIFT_LEAD, Role.MAINTENANCE, Role.QA, Role.ADMIN)


def adr_table() -> dict[Role, set[Permission]]:
    table: dict[Role, set[Permission]] = {role: set() for role in Role}
    for line in ADR_TABLE.strip().splitlines():
        name, *marks = line.split()
        assert len(marks) == len(COLUMNS)
        for role, mark in zip(COLUMNS, marks, strict=True):
            if mark == "x":
                table[role].add(Permission(name))
    return table


def test_every_permission_is_a_row_of_the_table() -> None:
    rows = {line.split()[0] for line in ADR_TABLE.strip().splitlines()}
    assert rows == {p.value for p in Permission}


def test_role_permissions_are_exactly_the_adr_table() -> None:
    expected = adr_table()
    assert set(ROLE_PERMISSIONS) == set(Role)
    for role in Role:
        assert ROLE_PERMISSIONS[role] == frozenset(expected[role]), role


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_may_and_require_agree_with_the_table(role: Role, permission: Permission) -> None:
    allowed = permission in adr_table()[role]
    assert may(role, permission) is allowed
    if allowed:
        require(role, permission, username="someone")
    else:
        with pytest.raises(PermissionDenied):
            require(role, permission, username="someone")


def test_permission_denied_names_user_role_action_and_who_may() -> None:
    with pytest.raises(PermissionDenied) as caught:
        require(Role.OPERATOR, Permission.RELEASE_ROOM, username="jdoe")
    err = caught.value
    assert (err.username, err.role, err.allowed) == ("jdoe", "Operator", ("QA",))
    assert str(err) == "jdoe (Operator) may not release a cleaned room for use: only QA may."


def test_permission_denied_lists_several_roles() -> None:
    with pytest.raises(PermissionDenied, match=r"only Shift lead, Maintenance or QA may\.$"):
        require(Role.ADMIN, Permission.SET_MAINTENANCE, username="root")


def test_roles_allowed_in_role_order() -> None:
    assert roles_allowed(Permission.RELEASE_ROOM) == (Role.QA,)
    assert roles_allowed(Permission.VIEW_AUDIT_TRAIL) == (Role.SHIFT_LEAD, Role.QA, Role.ADMIN)
    assert roles_allowed(Permission.ACKNOWLEDGE_INTERLOCK_FAULT) == (Role.MAINTENANCE,)
    assert roles_allowed(Permission.ARCHIVE_HISTORIAN) == (Role.QA, Role.ADMIN)


def test_administrators_sign_no_gmp_record() -> None:
    assert not ROLE_PERMISSIONS[Role.ADMIN] & SIGNED_PERMISSIONS


def test_archiving_historian_data_is_audited_data_management_not_a_signature() -> None:
    # Administrators hold it, and they sign no GMP record (ADR 0003).
    assert not Permission.ARCHIVE_HISTORIAN.needs_signature
    with pytest.raises(
        PermissionDenied,
        match=r"^olga \(Operator\) may not archive and purge raw historian data .*: "
        r"only QA or Administrator may\.$",
    ):
        require(Role.OPERATOR, Permission.ARCHIVE_HISTORIAN, username="olga")


def test_signed_permissions_are_the_five_of_the_issue() -> None:
    assert {p for p in Permission if p.needs_signature} == {
        Permission.RELEASE_ROOM,
        Permission.VERIFY_CLEANING,
        Permission.ACKNOWLEDGE_INTERLOCK_FAULT,
        Permission.SHELVE_ALARM,
        Permission.CORRECT_RECORD,
    }


@pytest.mark.parametrize("role", list(Role))
def test_describe_role_is_one_sentence_per_permission(role: Role) -> None:
    lines = describe_role(role)
    assert len(lines) == len(ROLE_PERMISSIONS[role])
    for line in lines:
        assert line.startswith("May ") and line.endswith(".")
    assert role.display_name


def test_describe_role_marks_signatures() -> None:
    assert describe_role(Role.QA)[4] == (
        "May release a cleaned room for use (with an electronic signature)."
    )
    assert describe_role(Role.ADMIN) == [
        "May view the audit trail and export it as CSV.",
        "May archive and purge raw historian data (with an audited CSV file and its sha256).",
        "May manage user accounts: create, change role, disable, unlock, reset password.",
    ]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("jdoe", "jdoe", True),
        ("JDoe", " jdoe ", True),
        ("jdoe", "jdoe2", False),
        ("", "", False),
        (None, "jdoe", False),
        ("jdoe", None, False),
    ],
)
def test_same_user(a: str | None, b: str | None, same: bool) -> None:
    assert same_user(a, b) is same
