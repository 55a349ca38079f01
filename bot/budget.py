"""Flood control for incoming questions: a budget per asker and per group, in memory only.

Each key (an asker, a group) may ask so many questions a minute, counted with the ``limits`` library's sliding
window counter: this and the previous minute's counts, the previous one weighted by how much of it is still inside the
last sixty seconds. Its exact moving window keeps every hit's time instead, and its in-memory storage rescans all of
them every 10 ms: with 4,000 askers in the last minute that took 2.5 ms a pass, a quarter of a core spent on
bookkeeping (0.3 ms a pass with the counter).

Past the budget the bot sends one short notice, then stays silent until the budget refills, so a flood costs one
message, not hundreds. Nothing here is written to disk.
"""

from __future__ import annotations

import enum
import threading

from limits import RateLimitItemPerMinute, storage, strategies

#: Seconds between two sweeps of expired counters (see ``_Storage``).
SWEEP = 5.0


class _Storage(storage.MemoryStorage):
    """limits' in-memory storage, sweeping out expired counters every ``SWEEP`` seconds instead of 10 ms after any
    hit. A counter is dropped when it is read expired anyway (``MemoryStorage.get``), so the sweep only frees memory;
    at 10 ms it started a thread a hundred times a second, each walking every asker's counters: 7-11% of the bot's
    samples under load (py-spy, 8,000 askers). limits has no setting for it, so this overrides its private method
    (a test fails if limits renames it)."""

    def _MemoryStorage__schedule_expiry(self) -> None:
        if not self.timer.is_alive():
            self.timer = threading.Timer(SWEEP, self._MemoryStorage__expire_events)
            self.timer.daemon = True  # a pending sweep never holds up the process's exit
            self.timer.start()


class Verdict(enum.Enum):
    ALLOW = "allow"
    NOTICE = "notice"  # over budget: tell the asker once
    SILENT = "silent"  # over budget, already told


class Budget:
    def __init__(self, per_asker: int, per_group: int) -> None:
        self._limiter = strategies.SlidingWindowCounterRateLimiter(_Storage())
        self._asker = RateLimitItemPerMinute(per_asker)
        self._group = RateLimitItemPerMinute(per_group)
        self._notified = strategies.SlidingWindowCounterRateLimiter(_Storage())
        self._once = RateLimitItemPerMinute(1)

    def check(self, user_id: int | None, group_id: int | None = None) -> Verdict:
        """Spend one question from the asker's budget (and the group's, in a group)."""
        asker_ok = user_id is None or self._limiter.hit(self._asker, "asker", str(user_id))
        group_ok = group_id is None or (asker_ok and self._limiter.hit(self._group, "group", str(group_id)))
        if asker_ok and group_ok:
            return Verdict.ALLOW
        # one notice a minute per chat it would be posted in: the group, or the asker's private chat
        chat = ("group", str(group_id)) if group_id is not None else ("asker", str(user_id))
        return Verdict.NOTICE if self._notified.hit(self._once, *chat) else Verdict.SILENT

    def over_group(self, group_id: int) -> bool:
        """Whether the group's own budget is spent (the notice then speaks of the group, not the asker)."""
        return not self._limiter.test(self._group, "group", str(group_id))
