"""Health: the heartbeat the running bot writes, and ``python -m bot health``, which judges it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import health
from bot.app import POLLS, heartbeat
from bot.cli import main
from tests.botapi import BotAPI
from tests.harness import Bot, eventually, running, settings_for


def run_health(database: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["health", "--database", str(database)])
    out = capsys.readouterr()
    lines = (out.out + out.err).strip().splitlines()
    assert len(lines) == 1  # one line, whatever the outcome
    return code, lines[0]


def good(**changes: object) -> dict[str, object]:
    beat = health.beat(mode="polling", knowledge="abc123", database_ok=True, updates_ok=True)
    beat.update(changes)
    return beat


def test_a_fresh_good_heartbeat_is_healthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "bot.sqlite3"
    health.write_heartbeat(db, good())
    assert (tmp_path / "bot.health").exists()
    assert run_health(db, capsys) == (0, "healthy: polling, knowledge abc123, database ok, last heartbeat 0 s ago")


@pytest.mark.parametrize(
    ("beat", "reason"),
    [
        (None, "no heartbeat: the bot is not running"),
        ({"age": 3 * health.INTERVAL + 5}, "s old"),  # stuck: three intervals without a beat
        ({"database_ok": False}, "database does not accept"),
        ({"updates_ok": False}, "no successful getUpdates"),
        ({"mode": "webhook", "updates_ok": False}, "server is not listening"),
        ({"mode": "webhook", "database_ok": False, "updates_ok": False, "reason": "the bot was stopped"}, "stopped"),
        ({"raw": {"nonsense": 1}}, "malformed"),
    ],
)
def test_anything_else_is_unhealthy_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], beat: dict[str, object] | None, reason: str
) -> None:
    db = tmp_path / "bot.sqlite3"
    if beat is not None:  # made now, not at collection: the suite may run for minutes
        fields: dict[str, object] = {"mode": "polling", "knowledge": "k", "database_ok": True, "updates_ok": True}
        fields.update(beat)
        raw = fields.pop("raw", None)
        age = float(fields.pop("age", 0))  # type: ignore[arg-type]
        health.write_heartbeat(db, raw or health.beat(now=time.time() - age, **fields))  # type: ignore[arg-type]
    code, line = run_health(db, capsys)
    assert code == 1 and reason in line, line


def test_a_garbled_heartbeat_file_is_unhealthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bot.health").write_text('{"ok": tr')
    assert run_health(tmp_path / "bot.sqlite3", capsys) == (1, "the heartbeat file is malformed")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with BotAPI() as api:
        async for b in running(api, settings_for(api, tmp_path)):
            yield b


async def test_the_running_bot_beats_and_reports_what_fails(bot: Bot, tmp_path: Path) -> None:
    path = tmp_path / "bot.health"
    await eventually(path.exists, timeout=10)  # the first beat comes a second after start
    beat = json.loads(path.read_text())
    assert beat["ok"] is True and beat["mode"] == "polling" and beat["database"] == "ok"
    assert beat["knowledge"] == bot.services.live.snapshot.kb.version
    assert set(beat) == {"time", "unix", "interval", "mode", "knowledge", "database", "updates", "ok", "reason"}

    async def refuses() -> bool:
        return False

    bot.services.store.healthy = refuses  # type: ignore[method-assign]  # a full or read-only disk
    beat = await heartbeat(bot.app)
    assert beat["ok"] is False and beat["database"] == "failed"
    assert json.loads(path.read_text())["reason"] == "the database does not accept writes"
    del bot.services.store.healthy
    assert (await heartbeat(bot.app))["ok"] is True

    bot.app.bot_data[POLLS].alive -= 3 * health.INTERVAL + 1  # getUpdates has not worked for three intervals
    beat = await heartbeat(bot.app)
    assert beat["ok"] is False and beat["updates"] == "failed"


async def test_polling_stops_counting_as_alive_while_getupdates_fails(bot: Bot) -> None:
    polls = bot.app.bot_data[POLLS]
    await eventually(lambda: polls.polled_within(2), timeout=5)
    bot.api.fail("getUpdates", 502, "Bad Gateway", times=None)
    await eventually(lambda: polls._failing, timeout=10)
    alive = polls.alive
    await asyncio.sleep(2.6)  # PTB retries after 1 s, then 1.5 s: failing retries are no sign of life
    assert polls._failing and polls.alive == alive
    bot.api.clear_faults("getUpdates")
    await eventually(lambda: not polls._failing and polls.alive > alive, timeout=15)
