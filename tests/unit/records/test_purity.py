"""The records package is pure: stdlib and argon2 only, no Qt, no database (ADR 0003)."""

from __future__ import annotations

import subprocess
import sys

MODULES = ("errors", "roles", "passwords", "hashing", "lifecycle", "cleaning", "gowning")
FORBIDDEN = ("PySide6", "pyqtgraph", "qasync", "sqlalchemy", "alembic", "hal", "ui")
SCRIPT = f"""
import sys
for name in {(*MODULES, "signatures")!r}:
    __import__("necstgen_desk.records." + name)
top = {{m.split(".")[0] for m in sys.modules}}
inner = {{m for m in sys.modules if m.startswith("necstgen_desk.")}}
bad = sorted(top & set({FORBIDDEN!r}))
bad += sorted(m for m in inner if not m.startswith("necstgen_desk.records"))
print(",".join(bad))
"""


def test_records_imports_no_qt_and_no_database() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
