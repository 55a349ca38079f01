"""The test harness for the Telegram bot: the real application, started against the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import classifier, semantic
from bot.app import build_application
from bot.config import Settings
from bot.facts import DEFAULT_DIR, require_knowledge
from bot.live import LiveKnowledge, Snapshot, build
from bot.services import KEY, Services
from tests.botapi import BotAPI, Record

TOKEN = "123:TEST"
ALICE = 111_222_333  # a private asker
BOB = 444_555_666  # a group member
ADMIN = 777_888_999
GROUP = -100_123_456_789


@dataclass
class Bot:
    api: BotAPI
    app: Any
    db: Path

    @property
    def services(self) -> Services:
        return self.app.bot_data[KEY]  # type: ignore[no-any-return]

    async def reply_to(self, update: dict[str, Any], method: str = "sendMessage", timeout: float = 5) -> Record:
        mark = self.api.mark()
        self.api.push(update)
        return await self.api.wait_for_async(method=method, after=mark, timeout=timeout)

    async def silence(self, update: dict[str, Any], wait: float = 0.6) -> None:
        """Push an update and check the bot sends nothing in reply."""
        mark = self.api.mark()
        self.api.push(update)
        with pytest.raises(TimeoutError):
            await self.api.wait_for_async(
                lambda r: r.method not in ("getChatMember", "answerCallbackQuery"), after=mark, timeout=wait
            )


def settings_for(api: BotAPI, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        token=TOKEN, api_url=api.base_url, database=tmp_path / "bot.sqlite3", rate_limit=0, hash_key=b"k" * 32,
        auto_reply_cooldown=60,
    )
    values.update(overrides)
    return Settings(**values)


def derived_copies(folder: Path) -> dict[str, str]:
    """Environment variables that give a bot copies, in ``folder``, of the bundled knowledge's committed phrasing
    vectors and trained classifiers: it reads what a fresh deployment reads and writes nothing to the repository.

    Each bot process a test starts gets its own: the session's shared copy holds only the classifiers most recently
    trained (``classifier.KEEP``), and once the bundled knowledge's had been pushed out by other tests' a bot spent
    its start-up training them again (49 s here for both; over the start-up tests' minute in CI on a slow day)."""
    folder.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    for variable, committed in (("EMBEDDING_CACHE", semantic.cache_path(DEFAULT_DIR, env={})),
                                ("CLASSIFIER_CACHE", classifier.store_path(DEFAULT_DIR, env={}))):
        copy = folder / committed.name
        if committed.is_file() and not copy.exists():
            shutil.copy(committed, copy)
        env[variable] = str(copy)
    return env


_SNAPSHOTS: dict[tuple[str, ...], Snapshot] = {}


def bundled_knowledge(settings: Settings) -> LiveKnowledge | None:
    """The bundled knowledge as the bot would load it, built once per test session and per matching setting (about
    1.7 s a start otherwise); None for any other knowledge folder, which the bot then loads itself. A snapshot is
    immutable: a test that attaches phrasings or reloads gets a new one in its own ``LiveKnowledge``."""
    if settings.knowledge_dir.resolve() != DEFAULT_DIR.resolve():
        return None
    key = (str(DEFAULT_DIR), *(f"{k}={v}" for k, v in sorted(os.environ.items())
                               if k.startswith(("SEMANTIC_", "EMBEDDING_", "CLASSIFIER", "KNOWLEDGE_"))))
    if key not in _SNAPSHOTS:
        _SNAPSHOTS[key] = build(require_knowledge(DEFAULT_DIR))
    return LiveKnowledge(DEFAULT_DIR, _SNAPSHOTS[key])


async def start_bot(settings: Settings) -> Any:
    app = build_application(settings, bundled_knowledge(settings))
    await app.initialize()
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    return app


async def stop_bot(app: Any) -> None:
    await app.updater.stop()
    await app.stop()
    await app.post_shutdown(app)
    await app.shutdown()


async def running(api: BotAPI, settings: Settings) -> AsyncIterator[Bot]:
    """Start the bot, yield it, and stop it (for fixtures)."""
    app = await start_bot(settings)
    try:
        yield Bot(api, app, settings.database)
    finally:
        await stop_bot(app)


def buttons(record: Record) -> list[str]:
    return record.callback_data


def count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


async def eventually(condition: Callable[[], bool], timeout: float = 3) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


ANONYMOUS_ADMIN_BOT = 1_087_968_824  # Telegram's GroupAnonymousBot


def anonymous(update: dict[str, Any]) -> dict[str, Any]:
    """The same group message, sent by an admin posting anonymously as the group."""
    message = update["message"]
    message["from"] = {"id": ANONYMOUS_ADMIN_BOT, "is_bot": True, "first_name": "Group",
                       "username": "GroupAnonymousBot"}
    message["sender_chat"] = message["chat"]
    return update
