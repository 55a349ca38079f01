"""Process updates concurrently across chats, in order of arrival within each chat.

python-telegram-bot handles updates one at a time by default, so one slow chat holds up all others; its concurrent
mode drops ordering altogether. This processor keeps a lock per chat: updates from different chats overlap, while two
messages in one chat are answered in the order they arrived. Locks are dropped as soon as a chat goes idle.

The limit on concurrent updates applies to updates that hold their chat's lock, never to updates queued behind it:
python-telegram-bot's own limit is taken before ``do_process_update``, so a flood in one chat whose answers are slow
(a group waiting on its rate limit) would fill every slot with updates waiting for that chat, and stall all others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

_ADMIT_ALL = 2**31 - 1  # python-telegram-bot's semaphore, taken before the chat's lock: made too large to matter


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(_ADMIT_ALL)
        self._running = asyncio.Semaphore(max_concurrent_updates)  # updates being handled, each holding its lock
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._running:  # asyncio locks are fair: waiters go in the order they arrived
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:  # inline queries have no chat: order them per user
        return update.effective_user.id
    return None
