"""The running bot's heartbeat file, and the check ``python -m bot health`` makes of it.

The bot writes ``<database>.health`` (beside the database, ``bot.health`` for ``bot.sqlite3``) at start-up and every
``INTERVAL`` seconds: a small JSON object saying when, in which mode, which knowledge it serves and whether its own
checks passed (updates arriving: a recent successful ``getUpdates`` in polling mode, the server listening in webhook
mode; the database accepting a write). On shutdown it writes ``ok: false`` with the reason "stopped". The file holds
no token, no id and no message text.

``check`` reads it from another process (a container's HEALTHCHECK, a monitoring script): healthy when the file is
younger than ``STALE_AFTER`` intervals and says ok. This module imports nothing from Telegram, so the check is quick.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

INTERVAL = 30  # seconds between heartbeats
STALE_AFTER = 3  # a heartbeat older than this many intervals means the bot is stuck or gone
BEAT_KEY = "heartbeat"  # where the running bot keeps its latest heartbeat in ``application.bot_data``


def heartbeat_path(database: Path) -> Path:
    return Path(database).with_suffix(".health")


def write_heartbeat(database: Path, beat: dict[str, Any]) -> None:
    """Replace the heartbeat file atomically (a reader never sees half of it)."""
    path = heartbeat_path(database)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(beat, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def beat(*, mode: str, knowledge: str, database_ok: bool, updates_ok: bool, reason: str = "",
         interval: float = INTERVAL, now: float | None = None) -> dict[str, Any]:
    """A heartbeat record; ``reason`` says what is wrong when a check failed."""
    now = time.time() if now is None else now
    if not reason:
        if not updates_ok:
            reason = "no updates: " + ("no successful getUpdates recently" if mode == "polling" else
                                       "the webhook server is not listening")
        elif not database_ok:
            reason = "the database does not accept writes"
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "unix": round(now, 3),
        "interval": interval,
        "mode": mode,
        "knowledge": knowledge,
        "database": "ok" if database_ok else "failed",
        "updates": "ok" if updates_ok else "failed",
        "ok": database_ok and updates_ok and not reason,
        "reason": reason,
    }


def assess(data: dict[str, Any] | None, now: float | None = None) -> tuple[bool, str]:
    """(healthy, one-line reason) for a heartbeat record as read from the file (or kept in memory)."""
    if data is None:
        return False, "no heartbeat: the bot is not running (or has not finished starting)"
    now = time.time() if now is None else now
    try:
        age = now - float(data["unix"])
        interval = float(data.get("interval") or INTERVAL)
        mode, knowledge = str(data["mode"]), str(data["knowledge"])
    except (KeyError, TypeError, ValueError):
        return False, "the heartbeat file is malformed"
    if age > STALE_AFTER * interval:
        return False, f"the last heartbeat is {age:.0f} s old (at {data.get('time')}): the bot is stuck or stopped"
    if not data.get("ok"):
        return False, f"unhealthy ({mode}, {max(age, 0):.0f} s ago): {data.get('reason') or 'a check failed'}"
    return True, f"healthy: {mode}, knowledge {knowledge}, database ok, last heartbeat {max(age, 0):.0f} s ago"


def read_heartbeat(database: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(heartbeat_path(database).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # present but unreadable: assess() calls it malformed
    return data if isinstance(data, dict) else {}


def check(database: Path, now: float | None = None) -> tuple[bool, str]:
    return assess(read_heartbeat(database), now)
