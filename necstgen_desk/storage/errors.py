"""Errors of the storage layer, in plain words.

Two kinds, kept apart so the screen can say the right thing:

* :class:`StorageEnvironmentError` and its subclasses: the machine, not the
  program — the database is locked by someone else, the disk is full, the file
  cannot be opened, the server does not answer, the database was written by a
  newer version. Nothing is wrong with the program; the user (or IT) can act.
* Everything else is a bug or a refused operation of the program:
  :class:`ReasonRequired`, :class:`AppendOnlyViolation`, and any SQLAlchemy
  error that is not translated (those keep their traceback for the log).

Engines made by :func:`necstgen_desk.storage.engine.make_engine` raise the
environment errors in place of the driver's exceptions (the original stays
chained as ``__cause__``).
"""

from __future__ import annotations

import errno
import sqlite3
from typing import ClassVar

import psycopg
from sqlalchemy import exc as sa_exc


class StorageError(Exception):
    """Base of every error the storage layer raises on purpose."""

    #: True for problems of the machine or the network, False for refusals and bugs.
    environment: ClassVar[bool] = False


class StorageEnvironmentError(StorageError):
    """The database cannot be used right now because of its surroundings."""

    environment = True


class DatabaseBusy(StorageEnvironmentError):
    """Another program or user holds the database lock longer than we wait."""


class DiskFull(StorageEnvironmentError):
    """The disk (or the server's disk) has no room for the change; nothing was saved."""


class DatabaseUnavailable(StorageEnvironmentError):
    """The database cannot be opened or reached: missing folder, no permission,
    unreachable server, damaged file."""


class SchemaTooNew(StorageEnvironmentError):
    """The database was upgraded by a newer version of NECSTGEN Desk."""


class ReasonRequired(StorageError, ValueError):
    """A change was attempted without a reason (every change needs one)."""


class AppendOnlyViolation(StorageError):
    """Something tried to UPDATE or DELETE a GMP record; the database refused."""


_SQLITE_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_SQLITE_FULL = {sqlite3.SQLITE_FULL}
_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_AUTH,
}


def _sqlite_error(error: sqlite3.Error, where: str) -> StorageError | None:
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error)
    lowered = text.casefold()
    if "append-only" in lowered:
        return AppendOnlyViolation(f"Refused by the database: {text}.")
    if primary in _SQLITE_BUSY or "database is locked" in lowered:
        return DatabaseBusy(
            f"The database{where} is busy: another program or user is writing to it. "
            "Nothing was saved; try again in a moment."
        )
    if primary in _SQLITE_FULL or "disk is full" in lowered:
        return DiskFull(
            f"The disk holding the database{where} is full. Nothing was saved; "
            "free some space and try again."
        )
    if primary in _SQLITE_UNAVAILABLE or "unable to open" in lowered:
        return DatabaseUnavailable(f"Cannot use the database{where}: {text}.")
    return None


# SQLSTATE classes and codes (PostgreSQL appendix A).
# Lock not available, deadlock, serialization failure, statement cancelled.
_PG_BUSY = {"55P03", "40P01", "40001", "57014"}
_PG_FULL = {"53100", "53200"}  # disk full, out of memory
_PG_UNAVAILABLE_CLASSES = {"08", "57", "3D", "28", "58", "XX"}


def _postgres_error(error: psycopg.Error, where: str) -> StorageError | None:
    state = error.sqlstate
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "append-only" in text:
        return AppendOnlyViolation(f"Refused by the database: {text}.")
    if state in _PG_BUSY:
        return DatabaseBusy(
            f"The database{where} is busy: another user holds the lock ({text}). "
            "Nothing was saved; try again in a moment."
        )
    if state in _PG_FULL:
        return DiskFull(f"The database server{where} is out of space: {text}. Nothing was saved.")
    if state is None and isinstance(error, psycopg.OperationalError):
        return DatabaseUnavailable(f"The database server{where} does not answer: {text}.")
    if state is not None and state[:2] in _PG_UNAVAILABLE_CLASSES:
        return DatabaseUnavailable(f"Cannot use the database{where}: {text}.")
    return None


def storage_error_from(error: BaseException, where: str = "") -> StorageError | None:
    """The :class:`StorageError` that explains ``error`` in plain words, or None for a bug.

    ``where`` names the database (a path or a URL without password) in the message.
    """
    if isinstance(error, StorageError):
        return error
    where = f" {where}" if where else ""
    original: BaseException = error
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        original = error.orig
    if isinstance(original, sqlite3.Error):
        return _sqlite_error(original, where)
    if isinstance(original, psycopg.Error):
        return _postgres_error(original, where)
    if isinstance(original, OSError):
        if original.errno == errno.ENOSPC:
            return DiskFull(f"The disk holding the database{where} is full: {original}.")
        return DatabaseUnavailable(f"Cannot use the database{where}: {original}.")
    return None
