"""``necstgen-desk audit verify [--db URL]``: check the audit chain from the command line.

Exit codes: 0 the chain is intact, 1 it is broken (the message names the first
broken entry), 2 the database cannot be opened or is not a NECSTGEN Desk
database. Never a traceback: every outcome is one or two plain lines.
"""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy import inspect

from necstgen_desk.storage.audit import verify_chain
from necstgen_desk.storage.engine import default_db_url, describe_url, make_engine, sqlite_path
from necstgen_desk.storage.errors import StorageError

EXIT_INTACT = 0
EXIT_BROKEN = 1
EXIT_UNAVAILABLE = 2


def audit_verify(
    db_url: str | None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Verify the audit chain of ``db_url`` (default: the app's database); print a report.

    Returns :data:`EXIT_INTACT`, :data:`EXIT_BROKEN` or :data:`EXIT_UNAVAILABLE`.
    """
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    where = db_url or "(default database)"
    try:
        url = db_url if db_url is not None else default_db_url()
        where = describe_url(url)
        path = sqlite_path(url)
        if path is not None and not path.is_file():
            # Opening would create an empty file: a typo must not look like a database.
            print(f"Cannot open the database {where}: no such file.", file=stderr)
            return EXIT_UNAVAILABLE
        engine = make_engine(url)
    except StorageError as error:
        print(str(error), file=stderr)
        return EXIT_UNAVAILABLE
    except Exception as error:  # a malformed URL, an unknown driver: plain words, no traceback
        print(f"Cannot open the database {where}: {error}", file=stderr)
        return EXIT_UNAVAILABLE
    try:
        if not inspect(engine).has_table("audit_entries"):
            print(
                f"{where} is not a NECSTGEN Desk database (it has no audit trail).",
                file=stderr,
            )
            return EXIT_UNAVAILABLE
        report = verify_chain(engine)
    except StorageError as error:
        print(str(error), file=stderr)
        return EXIT_UNAVAILABLE
    except Exception as error:  # the CLI's edge: report, do not crash
        print(
            f"Cannot read the audit trail of {where}: {type(error).__name__}: {error}",
            file=stderr,
        )
        return EXIT_UNAVAILABLE
    finally:
        engine.dispose()
    print(f"{where}: {report.message}", file=stdout)
    if report.ok:
        return EXIT_INTACT
    print(
        f"The {report.entries_checked} entries before it are intact. The audit trail was "
        "altered outside NECSTGEN Desk: report this to QA.",
        file=stdout,
    )
    return EXIT_BROKEN
