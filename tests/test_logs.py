"""Logging set-up (``bot/logs.py``): JSON lines on request, noisy libraries quiet, secrets redacted at every level."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import logs
from tests.botapi import BotAPI
from tests.harness import derived_copies

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:AAsecret-token-value"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)
    logging.captureWarnings(False)


def test_json_lines_with_secrets_redacted(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("DEBUG", "json", secrets=(TOKEN, None))
    log = logging.getLogger("bot.test")
    log.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}")
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/getMe failed\nsecond line")
    except RuntimeError:
        log.exception("it failed")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
    logging.getLogger("apscheduler.executors.default").info('Running job "heartbeat"')
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]  # one JSON object a line, tracebacks included
    assert len(records) == 2  # httpx and APScheduler's INFO lines are silenced
    assert records[0]["message"] == "Set Bot API URL: https://api.telegram.org/bot[redacted]"
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert records[1]["level"] == "ERROR" and "RuntimeError" in records[1]["exc_info"]
    assert TOKEN not in "\n".join(lines) and "[redacted]/getMe" in records[1]["exc_info"]


def test_text_by_default(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("INFO")
    logging.getLogger("bot.test").info("hello %d", 42)
    logging.getLogger("bot.test").debug("not shown")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(" INFO bot.test: hello 42")


def test_the_token_never_reaches_the_log_even_at_debug(tmp_path: Path) -> None:
    with BotAPI() as api:
        env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url, "TELEGRAM_RATE_LIMIT": "0",
               "DATABASE_PATH": str(tmp_path / "bot.sqlite3"), "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json",
               **derived_copies(tmp_path / "derived")}
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            api.wait_for(method="setMyCommands", timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert all(json.loads(line) for line in output.splitlines())
    assert TOKEN not in output and "Set Bot API URL" in output and "[redacted]" in output
