"""Interlock faults: the reset rules, and the one write the app makes to a PLC.

DESIGN.md §3 and the issue: an interlock fault is acknowledged by maintenance
only, with a comment and a signature; after that a reset writes the airlock's
reset coil. The PLC keeps a fault latched while its cause persists, so the
app refuses a reset whose cause it can see (a door still open, a door whose
state it does not know) instead of writing a reset the PLC will ignore. A
cause it cannot see (an emergency release, a controller fault) shows after
the write: the fault code stays latched on the next scan
(:func:`reset_outcome`).

These are pure decisions on :class:`~necstgen_desk.alarms.model.InterlockStatus`;
the alarm service applies them with the permission, signature and audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from necstgen_desk.alarms.model import InterlockStatus

__all__ = ["CoilWriter", "ResetOutcome", "reset_outcome", "reset_refusal"]


class CoilWriter(Protocol):
    """Writes one coil of one PLC (implemented by the HAL's PLC link owner).

    Raises when the write did not reach the PLC (link down, exception answer).
    """

    async def write_coil(self, plc_id: str, address: int, value: bool) -> None: ...


def reset_refusal(status: InterlockStatus, *, has_coil: bool = True) -> str | None:
    """Why a reset of this airlock must not be written now, or ``None`` to go ahead."""
    airlock = status.airlock_id
    if not has_coil:
        return f"airlock {airlock} has no reset coil in the site file"
    if status.fault_code is None:
        return f"the fault code of airlock {airlock} is not known (no good value): cannot reset"
    if not status.latched:
        return f"no fault is latched on airlock {airlock}: there is nothing to reset"
    if not status.acknowledged:
        return (
            f"the fault on airlock {airlock} ({status.fault_text}) must be acknowledged "
            "by maintenance before it is reset"
        )
    if status.cause_present is not None:
        return (
            f"the PLC would keep the fault latched: its cause is still present "
            f"({status.cause_present})"
        )
    return None


@dataclass(frozen=True, slots=True)
class ResetOutcome:
    """What the next scan after a reset showed."""

    airlock_id: str
    cleared: bool
    message: str


def reset_outcome(after: InterlockStatus) -> ResetOutcome:
    """Judge a reset by the fault code read after it (the next scan)."""
    if after.latched:
        return ResetOutcome(
            after.airlock_id,
            False,
            f"the PLC kept the fault latched: its cause is still present ({after.fault_text})",
        )
    return ResetOutcome(after.airlock_id, True, f"the fault on airlock {after.airlock_id} is reset")
