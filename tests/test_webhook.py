"""``python -m bot run --webhook`` as a process, against the Bot API stand-in: Telegram's side of a webhook (posting
updates with the secret header) is played by the test, as a TLS reverse proxy would forward them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.botapi import BotAPI
from tests.harness import derived_copies

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123:TEST"
SECRET = "Xy7_secret-token-0123456789"
ASKER = 918273645
QUESTION = "Who are Safeguard Defenders?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(api: BotAPI, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.base_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELEGRAM_RATE_LIMIT": "0",
        "WEBHOOK_URL": "https://bot.example.org/telegram/hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": SECRET,
        "LOG_FORMAT": "json",
        **derived_copies(tmp_path / "derived"),
        **extra,
    }


def post(port: int, path: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(update).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def health(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "health"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_webhook_mode_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    with BotAPI() as api:
        env = bot_env(api, tmp_path, port)
        process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--webhook"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            registered = api.wait_for(method="setWebhook", timeout=30)
            assert registered.params["url"] == "https://bot.example.org/telegram/hook"
            assert registered.params["secret_token"] == SECRET
            assert "callback_query" in registered.params["allowed_updates"]
            deadline = time.monotonic() + 15
            while (status := get(port, "/healthz"))[0] != 200:  # the first heartbeat comes a second after start
                assert time.monotonic() < deadline, status
                time.sleep(0.2)
            assert status[1]["ok"] is True and status[1]["mode"] == "webhook" and status[1]["knowledge"]
            assert api.polls == 0  # no getUpdates in webhook mode

            update = {"update_id": 1, **api.private_message(ASKER, QUESTION, first_name="Wen")}
            mark = api.mark()
            assert post(port, "/telegram/hook", update, "wrong-secret-0123456789") == 403
            assert post(port, "/telegram/hook", update, None) == 403
            assert post(port, "/telegram/hook", {"update_id": 2, **update}, SECRET[:-1]) == 403
            time.sleep(1)
            assert api.mark() == mark  # refused: no call to Telegram at all

            assert post(port, "/telegram/hook", update, SECRET) == 200
            reply = api.wait_for(method="sendMessage", chat_id=ASKER, after=mark, timeout=30)
            assert "Madrid" in reply.text
            assert post(port, "/telegram/hook/", {**update, "update_id": 3}, SECRET) == 200  # trailing slash too
            api.wait_for(lambda r: r is not reply, method="sendMessage", chat_id=ASKER, after=mark, timeout=30)
            assert post(port, "/somewhere-else", update, SECRET) == 404

            running = health(env)
            assert running.returncode == 0 and "healthy: webhook" in running.stdout, running
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    stopped = health(env)
    assert stopped.returncode == 1 and "stopped" in stopped.stderr
    # LOG_FORMAT=json: every line one JSON object; no token, secret, asker id, name or message text anywhere
    lines = output.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines), output
    assert {"time", "level", "logger", "message"} <= set(json.loads(lines[0]))
    assert any(json.loads(line)["message"] == "database closed" for line in lines)
    for secret in (TOKEN, SECRET, str(ASKER), "Wen", "Safeguard Defenders"):
        assert secret not in output, secret
    # the heartbeat file carries nothing personal either
    beat = (tmp_path / "bot.health").read_text()
    for secret in (TOKEN, SECRET, str(ASKER)):
        assert secret not in beat


def test_webhook_mode_needs_its_settings(tmp_path: Path) -> None:
    with BotAPI() as api:
        env = bot_env(api, tmp_path, free_port())
        for missing, message in (("WEBHOOK_SECRET", "WEBHOOK_SECRET"), ("WEBHOOK_URL", "WEBHOOK_URL")):
            result = subprocess.run([sys.executable, "-m", "bot", "run", "--webhook"], cwd=ROOT,
                                    env={**env, missing: ""}, capture_output=True, text=True, timeout=60)
            assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
        result = subprocess.run([sys.executable, "-m", "bot", "run", "--webhook"], cwd=ROOT,
                                env={**env, "WEBHOOK_SECRET": "short"}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and "16 to 256 characters" in result.stderr
        assert api.sent(method="setWebhook") == []
        with socket.socket() as taken:  # another program on the port: one line, no traceback, no webhook set
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = str(taken.getsockname()[1])
            result = subprocess.run([sys.executable, "-m", "bot", "run", "--webhook"], cwd=ROOT,
                                    env={**env, "WEBHOOK_PORT": port}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and "cannot listen" in result.stderr and "Traceback" not in result.stderr
        assert api.sent(method="setWebhook") == []
