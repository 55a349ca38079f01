"""The queue that gathers the questions waiting for the embedding model into one call."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from bot.model_queue import ModelQueue


class SlowMatcher:
    """Stands in for ``Matcher.conclude_many``: its first call blocks until released, every call is recorded, and a
    draft named "boom" makes the call fail."""

    def __init__(self, name: str = "m") -> None:
        self.name = name
        self.calls: list[list[str]] = []
        self.release = threading.Event()
        self.entered = threading.Event()

    def conclude_many(self, drafts: Sequence[str], limit: int = 3) -> list[str]:
        self.calls.append(list(drafts))
        self.entered.set()
        self.release.wait(5)
        if "boom" in drafts:
            raise RuntimeError("engine failure")
        return [f"{self.name}:{d}:{limit}" for d in drafts]


def ask(queue: ModelQueue, matcher: Any, draft: str, limit: int = 3) -> asyncio.Task[Any]:
    return asyncio.create_task(queue.conclude(matcher, draft, limit))  # type: ignore[arg-type]


async def busy(matcher: SlowMatcher) -> None:
    """Wait until the matcher's first call is under way (in its worker thread)."""
    await asyncio.to_thread(matcher.entered.wait, 5)


async def test_a_lone_question_is_read_at_once_and_alone() -> None:
    queue, matcher = ModelQueue(), SlowMatcher()
    matcher.release.set()
    assert await ask(queue, matcher, "a") == "m:a:3"
    assert queue.batches == [1] and matcher.calls == [["a"]]


async def test_questions_arriving_while_the_model_is_busy_share_the_next_call() -> None:
    queue, matcher = ModelQueue(), SlowMatcher()
    first = ask(queue, matcher, "a")
    await busy(matcher)
    later = [ask(queue, matcher, d) for d in "bcde"]
    await asyncio.sleep(0)  # they are waiting now
    matcher.release.set()
    assert await first == "m:a:3"
    assert await asyncio.gather(*later) == ["m:b:3", "m:c:3", "m:d:3", "m:e:3"]  # each asker gets its own match
    assert matcher.calls == [["a"], ["b", "c", "d", "e"]] and queue.batches == [1, 4]


async def test_a_call_reads_at_most_max_batch_questions() -> None:
    queue, matcher = ModelQueue(max_batch=2), SlowMatcher()
    first = ask(queue, matcher, "a")
    await busy(matcher)
    later = [ask(queue, matcher, d) for d in "bcde"]
    await asyncio.sleep(0)
    matcher.release.set()
    await asyncio.gather(first, *later)
    assert queue.batches == [1, 2, 2]


async def test_questions_for_another_matcher_or_limit_are_never_mixed_in() -> None:
    """A reload swaps the matcher while questions wait: each is concluded by the matcher it was drafted by."""
    queue, old, new = ModelQueue(), SlowMatcher("old"), SlowMatcher("new")
    new.release.set()
    first = ask(queue, old, "a")
    await busy(old)
    later = [ask(queue, old, "b"), ask(queue, new, "c"), ask(queue, old, "d"), ask(queue, old, "e", limit=1)]
    await asyncio.sleep(0)
    old.release.set()
    assert await asyncio.gather(first, *later) == ["old:a:3", "old:b:3", "new:c:3", "old:d:3", "old:e:1"]
    assert old.calls == [["a"], ["b", "d"], ["e"]] and new.calls == [["c"]]


async def test_a_failed_call_reaches_its_askers_and_the_queue_goes_on() -> None:
    queue, matcher = ModelQueue(), SlowMatcher()
    first = ask(queue, matcher, "a")
    await busy(matcher)
    failing = [ask(queue, matcher, "boom"), ask(queue, matcher, "b")]
    await asyncio.sleep(0)
    matcher.release.set()
    assert await first == "m:a:3"
    for task in failing:
        with pytest.raises(RuntimeError, match="engine failure"):
            await task
    assert await ask(queue, matcher, "c") == "m:c:3"


async def test_an_asker_that_gave_up_is_not_read() -> None:
    queue, matcher = ModelQueue(), SlowMatcher()
    first = ask(queue, matcher, "a")
    await busy(matcher)
    gone, kept = ask(queue, matcher, "b"), ask(queue, matcher, "c")
    await asyncio.sleep(0)
    gone.cancel()
    matcher.release.set()
    assert await first == "m:a:3" and await kept == "m:c:3"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert matcher.calls == [["a"], ["c"]]
