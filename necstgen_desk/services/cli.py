"""``necstgen-desk user add NAME --role ROLE [--full-name TEXT] [--password-stdin]
[--admin ADMIN] [--db URL]``: add an account from the command line.

Safe by construction: it creates the **first** administrator of an empty
database, or any account when an existing administrator's user name and
password are given (the account is then created, and audited, as that
administrator, through the same service the app uses). Passwords are read
without echo, the new one twice; with ``--password-stdin`` the new password is
the first line of standard input and the administrator's the second.

Exit codes: 0 the account was created, 2 it was not (one plain line says why).
Never a traceback.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from necstgen_desk.records.errors import RecordError
from necstgen_desk.records.passwords import DEFAULT_POLICY, PasswordPolicy
from necstgen_desk.records.roles import Role
from necstgen_desk.services.facade import Records
from necstgen_desk.site import DEFAULT_SITE_PATH, load_site
from necstgen_desk.storage.engine import default_db_url, describe_url, make_engine
from necstgen_desk.storage.errors import StorageError
from necstgen_desk.storage.migrate import upgrade_database

EXIT_CREATED = 0
EXIT_REFUSED = 2
CLI_REASON = "account added from the command line (necstgen-desk user add)"
ROLE_CHOICES = tuple(role.value for role in Role)


class _Refused(Exception):
    """A plain-words reason to stop, printed as it is."""


def _read_line(stdin: TextIO, what: str) -> str:
    line = stdin.readline()
    if not line:
        raise _Refused(f"No {what} on standard input (--password-stdin).")
    value = line.rstrip("\r\n")
    if not value:
        raise _Refused(f"The {what} on standard input is empty.")
    return value


def _new_password(username: str, from_stdin: bool, stdin: TextIO, ask: Callable[[str], str]) -> str:
    if from_stdin:
        return _read_line(stdin, f"password for {username}")
    first = ask(f"New password for {username}: ")
    second = ask("Type it again: ")
    if first != second:
        raise _Refused("The two passwords differ; no account was created.")
    return first


def user_add(
    db_url: str | None,
    username: str,
    role: str,
    full_name: str | None,
    password_from_stdin: bool,
    admin: str | None = None,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
    password_policy: PasswordPolicy = DEFAULT_POLICY,
) -> int:
    """Add the account ``username`` with ``role`` to the database ``db_url``
    (default: the app's), migrating it first. Returns :data:`EXIT_CREATED` or
    :data:`EXIT_REFUSED`."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    source = stdin if stdin is not None else sys.stdin
    where = db_url or "(default database)"
    try:
        try:
            wanted = Role(role.strip().lower())
        except ValueError:
            raise _Refused(
                f"{role!r} is not a role; choose one of {', '.join(ROLE_CHOICES)}."
            ) from None
        url = db_url if db_url is not None else default_db_url()
        where = describe_url(url)
        upgrade_database(url)
        engine = make_engine(url)
        try:
            records = Records(
                engine, site=load_site(DEFAULT_SITE_PATH), password_policy=password_policy
            )
            created = _add(
                records, username, wanted, full_name, password_from_stdin, admin, source, ask
            )
        finally:
            engine.dispose()
    except _Refused as refused:
        print(str(refused), file=stderr)
        return EXIT_REFUSED
    except (KeyboardInterrupt, EOFError):
        print("Cancelled; no account was created.", file=stderr)
        return EXIT_REFUSED
    except (RecordError, StorageError) as error:
        print(f"No account was created: {error}", file=stderr)
        return EXIT_REFUSED
    except Exception as error:  # the CLI's edge: plain words, no traceback
        print(f"No account was created in {where}: {type(error).__name__}: {error}", file=stderr)
        return EXIT_REFUSED
    print(created, file=stdout)
    return EXIT_CREATED


def _add(
    records: Records,
    username: str,
    role: Role,
    full_name: str | None,
    from_stdin: bool,
    admin: str | None,
    stdin: TextIO,
    ask: Callable[[str], str],
) -> str:
    name = username.strip()
    printed = (full_name or "").strip() or name
    accounts = records.accounts
    if not accounts.has_users():
        if role is not Role.ADMIN:
            raise _Refused(
                "No account exists yet: the first account must be an administrator (--role admin)."
            )
        if admin is not None:
            raise _Refused(
                "No account exists yet, so there is no administrator to act as: leave out --admin."
            )
        password = _new_password(name, from_stdin, stdin, ask)
        info = accounts.create_first_admin(name, printed, password)
        return f"Created the first administrator {info.username} ({info.full_name})."
    if admin is None:
        raise _Refused(
            "Accounts exist already: only an administrator adds accounts; "
            "give --admin NAME and that administrator's password."
        )
    if from_stdin:
        password = _new_password(name, True, stdin, ask)
        admin_password = _read_line(stdin, f"password of {admin}")
    else:
        admin_password = ask(f"Password of the administrator {admin}: ")
        password = ""
    session = accounts.login(admin, admin_password)
    try:
        if not from_stdin:
            password = _new_password(name, False, stdin, ask)
        info = accounts.create_user(session, name, printed, role, password, CLI_REASON)
    finally:
        accounts.logout(session)
    return (
        f"Created the account {info.username} ({info.full_name}, {info.role.display_name}); "
        "its owner must change the password at the first login."
    )


__all__ = ["EXIT_CREATED", "EXIT_REFUSED", "ROLE_CHOICES", "user_add"]
