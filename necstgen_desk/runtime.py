"""The running facility: one poller per PLC feeding the point store.

(Interface fixed; implementation lands with hal.poller.)
"""

from __future__ import annotations

from necstgen_desk.live import PointStore
from necstgen_desk.site import Site


class Facility:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = PointStore([p.id for p in site.points], [plc.id for plc in site.plcs])

    async def start(self) -> None:
        """Start polling every PLC (returns at once; polling runs as tasks)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop polling and close every connection."""
        raise NotImplementedError
