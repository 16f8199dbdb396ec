"""The child of the crash test: writes records with their audit entries until it is killed.

``python -m tests.integration.storage.crash_writer URL`` prints ``ready`` once it
can write, then for each committed transaction the id of its record, *after*
the commit returned: every id printed was reported saved to the parent.
"""

from __future__ import annotations

import sys

from sqlalchemy.orm import Session

from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import append_audit
from necstgen_desk.storage.engine import make_engine
from tests.integration.storage import factories


def main(argv: list[str]) -> int:
    engine = make_engine(argv[1])
    with engine.connect():
        pass
    print("ready", flush=True)
    n = 0
    while True:
        with Session(engine) as session, session.begin():
            record = repo.add_record(session, factories.cleaning(n=n % 500), username="crash")
            if n % 3 == 0:  # some transactions carry several entries
                for field in ("agent", "agent_lot"):
                    append_audit(
                        session,
                        username="crash",
                        action="note",
                        record_type=record.RECORD_TYPE,
                        record_id=record.id,
                        field=field,
                        new_value=f"checked {n}",
                        reason="crash test",
                    )
            record_id = record.id
        sys.stdout.write(f"{record_id}\n")
        sys.stdout.flush()
        n += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
