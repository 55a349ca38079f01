"""``python -m bot run`` as a process: configuration errors, answering over long polling, a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.botapi import BotAPI
from tests.harness import derived_copies

ROOT = Path(__file__).resolve().parent.parent


def start(api: BotAPI, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "BOT_TOKEN": "123:TEST",
        "TELEGRAM_API_URL": api.base_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELEGRAM_RATE_LIMIT": "0",
        **derived_copies(tmp_path / "derived"),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )


def test_missing_token_explains_how_to_get_one() -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "@BotFather" in result.stderr and "python -m bot chat" in result.stderr
    assert "Traceback" not in result.stderr


def test_runs_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with BotAPI() as api:
        process = start(api, tmp_path)
        try:
            api.wait_for(method="setMyCommands", timeout=30)
            api.push(api.private_message(42, "Who are Safeguard Defenders?", first_name="Wen"))
            reply = api.wait_for(method="sendMessage", chat_id=42, timeout=30)
            assert "Madrid" in reply.text
            card_id = reply.result["message_id"]
            api.push(api.callback_query(42, 42, card_id, "v:1:safeguard-defenders"))
            api.wait_for(method="answerCallbackQuery", timeout=10)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "database closed" in output
        assert "123:TEST" not in output and "Wen" not in output and "Who are" not in output  # no token, no text
    con = sqlite3.connect(tmp_path / "bot.sqlite3")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT vote FROM votes").fetchall() == [(1,)]


def test_invalid_knowledge_stops_start_up_with_its_errors(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    with BotAPI() as api:
        process = start(api, tmp_path, KNOWLEDGE_DIR=str(tmp_path / "k"))
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 2 and "validate" in output and "Traceback" not in output


def test_json_logs_and_health_while_polling(tmp_path: Path) -> None:
    import json

    health = [sys.executable, "-m", "bot", "health", "--database", str(tmp_path / "bot.sqlite3")]
    with BotAPI() as api:
        process = start(api, tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO")
        try:
            api.wait_for(method="setMyCommands", timeout=30)
            api.push(api.private_message(918273645, "Who are Safeguard Defenders?", first_name="Wen"))
            assert "Madrid" in api.wait_for(method="sendMessage", chat_id=918273645, timeout=30).text
            for _ in range(50):  # the first heartbeat comes a second after start
                running = subprocess.run(health, cwd=ROOT, capture_output=True, text=True, timeout=60)
                if running.returncode == 0:
                    break
                time.sleep(0.2)
            assert running.returncode == 0 and "healthy: polling" in running.stdout, running
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    stopped = subprocess.run(health, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 1 and "stopped" in stopped.stderr
    records = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["message"] == "Application started" for r in records)
    for secret in ("123:TEST", "918273645", "Wen", "Safeguard Defenders", "httpx"):
        assert secret not in output, secret
