"""The core's live state: the latest sample of every point and each PLC's link.

Pollers publish into the store; views read it. The store keeps a set of
changed point ids so a view can redraw from coalesced state a few times a
second (``take_changes``) instead of once per sample.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from hal.points import LinkState, LinkStatus, Quality, Sample

log = logging.getLogger(__name__)

SampleListener = Callable[[list[Sample]], None]
LinkListener = Callable[[LinkStatus], None]


class PointStore:
    def __init__(self, point_ids: Iterable[str], plc_ids: Iterable[str]) -> None:
        self._latest: dict[str, Sample | None] = dict.fromkeys(point_ids)
        self._links: dict[str, LinkStatus | None] = dict.fromkeys(plc_ids)
        self._changed: set[str] = set()
        self._links_changed = False
        self._sample_listeners: list[SampleListener] = []
        self._link_listeners: list[LinkListener] = []

    # ------------------------------------------------------------ writers

    def publish(self, samples: Iterable[Sample]) -> None:
        """Record samples (unknown point ids are ignored and logged once)."""
        accepted: list[Sample] = []
        for sample in samples:
            if sample.point_id not in self._latest:
                log.warning("sample for unknown point %r ignored", sample.point_id)
                continue
            self._latest[sample.point_id] = sample
            self._changed.add(sample.point_id)
            accepted.append(sample)
        if accepted:
            for listener in list(self._sample_listeners):
                listener(accepted)

    def set_link(self, status: LinkStatus) -> None:
        self._links[status.plc_id] = status
        self._links_changed = True
        for listener in list(self._link_listeners):
            listener(status)

    # ------------------------------------------------------------ readers

    def latest(self, point_id: str) -> Sample | None:
        return self._latest.get(point_id)

    def link(self, plc_id: str) -> LinkStatus | None:
        return self._links.get(plc_id)

    @property
    def point_ids(self) -> tuple[str, ...]:
        return tuple(self._latest)

    @property
    def links(self) -> tuple[LinkStatus, ...]:
        return tuple(s for s in self._links.values() if s is not None)

    def take_changes(self) -> set[str]:
        """Point ids changed since the last call (and forget them)."""
        changed, self._changed = self._changed, set()
        return changed

    def take_link_changes(self) -> bool:
        changed, self._links_changed = self._links_changed, False
        return changed

    def count_live(self) -> int:
        """Points whose latest sample is GOOD."""
        return sum(1 for s in self._latest.values() if s is not None and s.quality is Quality.GOOD)

    def any_link_up(self) -> bool:
        return any(s is not None and s.state is LinkState.UP for s in self._links.values())

    # ------------------------------------------------------------ listeners

    def on_samples(self, listener: SampleListener) -> Callable[[], None]:
        """Call ``listener`` with each accepted batch; returns an unsubscribe function."""
        self._sample_listeners.append(listener)
        return lambda: self._sample_listeners.remove(listener)

    def on_link(self, listener: LinkListener) -> Callable[[], None]:
        self._link_listeners.append(listener)
        return lambda: self._link_listeners.remove(listener)
