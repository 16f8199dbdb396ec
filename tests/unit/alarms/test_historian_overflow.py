"""A historian that drops samples raises a HIGH system alarm that outlives the episode."""

from __future__ import annotations

from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmKind, AlarmState, Priority
from necstgen_desk.historian.model import OverflowEpisode
from necstgen_desk.site import DEFAULT_SITE_PATH, load_site


def test_overflow_raises_and_stays_until_acknowledged() -> None:
    now = [1_000_000.0]
    engine = AlarmEngine(load_site(DEFAULT_SITE_PATH), clock=lambda: now[0])
    assert AlarmKind.HISTORIAN_OVERFLOW.is_system
    episode = OverflowEpisode(
        dropped=1200,
        first_drop_at=now[0],
        last_drop_at=now[0] + 5,
        oldest_sample_t=now[0] - 60,
        newest_sample_t=now[0] - 55,
        capacity=1000,
    )
    alarm = engine.raise_system(AlarmKind.HISTORIAN_OVERFLOW, "historian", episode.describe())
    assert alarm.definition.priority is Priority.HIGH
    assert alarm.state is AlarmState.UNACKNOWLEDGED
    assert "1,200" in alarm.message
    now[0] += 30
    ended = OverflowEpisode(
        dropped=1200,
        first_drop_at=episode.first_drop_at,
        last_drop_at=episode.last_drop_at,
        oldest_sample_t=episode.oldest_sample_t,
        newest_sample_t=episode.newest_sample_t,
        capacity=1000,
        ended=True,
    )
    cleared = engine.clear_system(AlarmKind.HISTORIAN_OVERFLOW, "historian", ended.describe())
    # The condition is gone but nobody has seen it yet: it stays on the list.
    assert cleared.state is AlarmState.RETURNED_UNACKNOWLEDGED
