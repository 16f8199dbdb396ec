"""The running facility: one poller per PLC feeding the point store.

The facility is also the app's :class:`~necstgen_desk.alarms.interlocks.CoilWriter`:
a coil write goes through the poller that owns the PLC's link.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hal.poller import Backoff, CoilWriteError, Poller
from necstgen_desk.live import PointStore
from necstgen_desk.site import Site


class Facility:
    """Owns the pollers of a site; the store is the one place their samples land."""

    def __init__(
        self,
        site: Site,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` stamps the samples (epoch seconds; default: the wall clock)."""
        self.site = site
        self.store = PointStore([p.id for p in site.points], [plc.id for plc in site.plcs])
        self.pollers = {
            plc.id: Poller(
                plc,
                self.store.publish,
                self.store.set_link,
                backoff=backoff,
                clock=clock,
            )
            for plc in site.plcs
        }
        for poller in self.pollers.values():
            self.store.set_link(poller.status)

    @property
    def requests_per_scan(self) -> int:
        return sum(p.requests_per_scan for p in self.pollers.values())

    async def write_coil(self, plc_id: str, address: int, value: bool) -> None:
        """Write one coil of one PLC (an interlock reset), between two of its scans.

        Raises :class:`~hal.poller.CoilWriteError` when the PLC is unknown, its link
        is not up, or the write is not answered or refused.
        """
        poller = self.pollers.get(plc_id)
        if poller is None:
            raise CoilWriteError(f"there is no PLC {plc_id!r} on the site {self.site.name}")
        await poller.write_coil(address, value)

    async def start(self) -> None:
        """Start polling every PLC (returns at once; polling runs as tasks)."""
        for poller in self.pollers.values():
            poller.start()

    async def stop(self) -> None:
        """Stop polling and close every connection."""
        await asyncio.gather(*(p.stop() for p in self.pollers.values()))
