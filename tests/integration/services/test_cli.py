"""``necstgen-desk user add``: the first administrator, then only with an administrator."""

from __future__ import annotations

import io
from collections.abc import Iterator

from sqlalchemy.orm import Session

from necstgen_desk.records.roles import Role
from necstgen_desk.services.cli import EXIT_CREATED, EXIT_REFUSED, user_add
from necstgen_desk.storage import repo
from necstgen_desk.storage.engine import make_engine
from tests.integration.services.helpers import FAST_POLICY, PASSWORD, TEMPORARY


def _run(
    db_url: str,
    username: str,
    role: str,
    *,
    stdin: str | None = None,
    answers: tuple[str, ...] = (),
    admin: str | None = None,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    replies: Iterator[str] = iter(answers)

    def ask(prompt: str) -> str:
        assert prompt.endswith(": ")
        return next(replies)

    code = user_add(
        db_url,
        username,
        role,
        None,
        stdin is not None,
        admin,
        stdin=io.StringIO(stdin or ""),
        out=out,
        err=err,
        ask=ask,
        password_policy=FAST_POLICY,
    )
    return code, out.getvalue(), err.getvalue()


def _users(db_url: str) -> dict[str, tuple[Role, bool]]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as db:
            return {u.username: (u.role, u.must_change_password) for u in repo.list_users(db)}
    finally:
        engine.dispose()


def test_the_first_account_is_an_administrator_made_on_an_empty_database(db_url: str) -> None:
    code, _, err = _run(db_url, "qa1", "qa", stdin=PASSWORD + "\n")
    assert code == EXIT_REFUSED
    assert err.strip() == (
        "No account exists yet: the first account must be an administrator (--role admin)."
    )
    code, out, err = _run(db_url, "root", "admin", answers=(PASSWORD, PASSWORD))
    assert (code, err) == (EXIT_CREATED, "")
    assert out.strip() == "Created the first administrator root (root)."
    assert _users(db_url) == {"root": (Role.ADMIN, False)}


def test_further_accounts_need_an_administrator_and_are_audited_as_them(db_url: str) -> None:
    assert _run(db_url, "root", "admin", stdin=PASSWORD + "\n")[0] == EXIT_CREATED
    code, _, err = _run(db_url, "op1", "operator", stdin=TEMPORARY + "\n")
    assert code == EXIT_REFUSED and "give --admin NAME" in err

    code, _, err = _run(
        db_url, "op1", "operator", stdin=f"{TEMPORARY}\nwrong password\n", admin="root"
    )
    assert code == EXIT_REFUSED
    assert err.strip() == "No account was created: The user name or password is not correct."

    code, out, err = _run(
        db_url, "op1", "operator", answers=(PASSWORD, TEMPORARY, TEMPORARY), admin="root"
    )
    assert (code, err) == (EXIT_CREATED, "")
    assert "must change the password at the first login" in out
    assert _users(db_url)["op1"] == (Role.OPERATOR, True)

    engine = make_engine(db_url)
    try:
        with Session(engine) as db:
            created = repo.list_audit_entries(db, action="create", record_type="user")
    finally:
        engine.dispose()
    assert (created[0].username, created[0].reason) == (
        "root",
        "account added from the command line (necstgen-desk user add)",
    )


def test_plain_refusals_never_a_traceback(db_url: str) -> None:
    code, _, err = _run(db_url, "root", "wizard", stdin=PASSWORD + "\n")
    assert code == EXIT_REFUSED and err.startswith("'wizard' is not a role; choose one of")
    code, _, err = _run(db_url, "root", "admin", answers=(PASSWORD, "something else"))
    assert (code, err.strip()) == (
        EXIT_REFUSED,
        "The two passwords differ; no account was created.",
    )
    code, _, err = _run(db_url, "root", "admin", stdin="")
    assert code == EXIT_REFUSED and "No password for root on standard input" in err
    code, _, err = _run(db_url, "root", "admin", stdin="short\n")
    assert code == EXIT_REFUSED
    assert err.strip() == (
        "No account was created: First administrator refused: the password has 5 characters; "
        "it needs at least 10"
    )
    code, _, err = _run(db_url, "root", "admin", stdin=PASSWORD + "\n", admin="someone")
    assert code == EXIT_REFUSED and "leave out --admin" in err
    assert _users(db_url) == {}


def test_an_unusable_database_is_reported() -> None:
    code, _, err = _run("sqlite:////nonexistent-folder/x/db.sqlite", "root", "admin", stdin="x\n")
    assert code == EXIT_REFUSED
    assert err.startswith("No account was created") and "Traceback" not in err
