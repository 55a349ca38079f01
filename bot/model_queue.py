"""Questions waiting for the embedding model, read together.

The model reads several texts in one call about twice as fast, per text, as one at a time (``bench/bot.py`` and the
README give the figures). When questions arrive while the model is busy, they wait here, and the next call reads them
all (up to ``MAX_BATCH``) in a worker thread, so that the event loop keeps serving other chats. A question that
arrives when the model is idle is read at once, alone: batching never delays a quiet bot.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.matching import Draft, Match, Matcher

#: The most questions one call to the model reads (past 16 the model gains little, and the first asker waits longer).
MAX_BATCH = 16


@dataclass
class _Waiting:
    matcher: Matcher
    draft: Draft
    limit: int
    answer: asyncio.Future[Match]


class ModelQueue:
    """``conclude`` drafts that need the embedding model, gathering those that arrive together into one call."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches: list[int] = []  # how many questions each call read, the latest 300

    async def conclude(self, matcher: Matcher, draft: Draft, limit: int = 3) -> Match:
        """``matcher.conclude(draft, limit)``, read in the same model call as the other questions waiting."""
        answer: asyncio.Future[Match] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(matcher, draft, limit, answer))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        while self._waiting:
            # one call per matcher and limit: a reload may swap the matcher while questions wait
            first = self._waiting[0]
            batch = [w for w in self._waiting if w.matcher is first.matcher and w.limit == first.limit]
            batch = batch[: self.max_batch]
            taken = {id(w) for w in batch}
            self._waiting = [w for w in self._waiting if id(w) not in taken]
            live = [w for w in batch if not w.answer.done()]  # an asker whose handler was cancelled is skipped
            if not live:
                continue
            self.batches = [*self.batches[-299:], len(live)]
            try:
                matches = await asyncio.to_thread(first.matcher.conclude_many, [w.draft for w in live], first.limit)
            except Exception as exc:  # never left unanswered: each asker's handler sees the error
                for w in live:
                    if not w.answer.done():
                        w.answer.set_exception(exc)
                continue
            for w, match in zip(live, matches, strict=True):
                if not w.answer.done():
                    w.answer.set_result(match)
