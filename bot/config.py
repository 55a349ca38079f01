"""Settings from the environment, checked once at start-up.

``Settings.from_env()`` raises ``ConfigError`` with a one-line explanation for a missing or malformed setting; the
command line prints it and exits, never with a traceback. The README's configuration table lists every variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from bot.facts import DEFAULT_DIR

TELEGRAM_API = "https://api.telegram.org/bot"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # Telegram allows 1-256 of these; 16 makes guessing useless


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    token: str
    api_url: str = TELEGRAM_API
    database: Path = Path("data") / "bot.sqlite3"
    knowledge_dir: Path = DEFAULT_DIR
    moderators: frozenset[int] = field(default_factory=frozenset)
    moderator_chat: int | None = None  # every member of this group is a moderator too; the daily digest goes there
    rate_limit: float = 30.0  # outgoing messages per second overall; 0 turns the limiter off
    asker_budget: int = 10  # questions per asker per minute
    group_budget: int = 20  # questions per group per minute
    retention_days: int = 90
    hash_key: bytes | None = None  # None: a key file beside the database
    auto_reply_cooldown: int = 300  # seconds between two unrequested answers in one group
    log_level: str = "INFO"
    knowledge_watch: int = 0  # seconds between checks of KNOWLEDGE_DIR for edits (0: reload only on request)
    digest_hour: int = 8  # UTC hour of the daily digest to the moderators' group
    log_format: str = "text"  # "text" (readable) or "json" (one object per line)
    # webhook mode (``run --webhook``): Telegram posts updates to webhook_url, a TLS reverse proxy forwards them to
    # webhook_listen:webhook_port, on the url's path; requests without the secret header are refused
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        token = env.get("BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), then run "
                "BOT_TOKEN=123456:ABC... python -m bot run. To try the answers without Telegram: python -m bot chat"
            )
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ConfigError("BOT_TOKEN does not look like a token from @BotFather (digits, a colon, then letters)")
        api_url = env.get("TELEGRAM_API_URL", TELEGRAM_API).strip() or TELEGRAM_API
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"TELEGRAM_API_URL must start with http:// or https://, not {api_url!r}")
        key = env.get("HASH_KEY", "").strip()
        if key and len(key) < 32:
            raise ConfigError("HASH_KEY must be at least 32 characters (e.g. the output of: openssl rand -hex 32)")
        digest_hour = _number(env, "DIGEST_HOUR", 8, int)
        webhook_url = env.get("WEBHOOK_URL", "").strip() or None
        if webhook_url is not None and not (webhook_url.startswith("https://") and urlsplit(webhook_url).hostname):
            raise ConfigError(f"WEBHOOK_URL must be the bot's public https:// address, not {webhook_url!r}")
        webhook_secret = env.get("WEBHOOK_SECRET", "").strip() or None
        if webhook_secret is not None and not WEBHOOK_SECRET.fullmatch(webhook_secret):
            raise ConfigError("WEBHOOK_SECRET must be 16 to 256 characters of A-Z, a-z, 0-9, _ and - "
                              "(e.g. the output of: openssl rand -hex 32)")
        webhook_port = _number(env, "WEBHOOK_PORT", 8443, int, minimum=1)
        if webhook_port > 65535:
            raise ConfigError(f"WEBHOOK_PORT must be a port number from 1 to 65535, not {webhook_port}")
        if digest_hour > 23:
            raise ConfigError(f"DIGEST_HOUR must be an hour from 0 to 23, not {digest_hour}")
        return cls(
            token=token,
            api_url=api_url,
            database=Path(env.get("DATABASE_PATH", "").strip() or cls.database),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or DEFAULT_DIR),
            moderators=_ids(env.get("MODERATOR_IDS", "")),
            moderator_chat=_chat_id(env.get("MODERATOR_CHAT_ID", "")),
            rate_limit=_number(env, "TELEGRAM_RATE_LIMIT", 30.0, float),
            asker_budget=_number(env, "ASKER_QUESTIONS_PER_MINUTE", 10, int, minimum=1),
            group_budget=_number(env, "GROUP_QUESTIONS_PER_MINUTE", 20, int, minimum=1),
            retention_days=_number(env, "RETENTION_DAYS", 90, int, minimum=1),
            hash_key=key.encode() if key else None,
            auto_reply_cooldown=_number(env, "AUTO_REPLY_COOLDOWN", 300, int),
            log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            knowledge_watch=_number(env, "KNOWLEDGE_WATCH", 0, int),
            digest_hour=digest_hour,
            log_format=_choice(env, "LOG_FORMAT", "TEXT", ("TEXT", "JSON")).lower(),
            webhook_url=webhook_url,
            webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or cls.webhook_listen,
            webhook_port=webhook_port,
            webhook_secret=webhook_secret,
        )

    def check_webhook(self) -> None:
        """Raise ``ConfigError`` unless the settings webhook mode needs are there."""
        if not self.webhook_url:
            raise ConfigError("webhook mode needs WEBHOOK_URL, the public https:// address Telegram will post to "
                              "(a TLS reverse proxy forwards it to WEBHOOK_LISTEN:WEBHOOK_PORT)")
        if self.webhook_path == "/healthz":
            raise ConfigError("WEBHOOK_URL's path must not be /healthz: the health check answers there")
        if not self.webhook_secret:
            raise ConfigError("webhook mode needs WEBHOOK_SECRET (16+ characters of A-Z, a-z, 0-9, _ and -), "
                              "e.g. the output of: openssl rand -hex 32")

    @property
    def webhook_path(self) -> str:
        """The path the local server answers updates on: the path of WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path.rstrip("/") or "/"


def _ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"MODERATOR_IDS must be Telegram user ids separated by commas; {part!r} is not a number")
        ids.add(int(part))
    return frozenset(ids)


def _chat_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit():
        raise ConfigError(f"MODERATOR_CHAT_ID must be a Telegram chat id (such as -1001234567890), not {raw!r}")
    return int(raw)


_N = TypeVar("_N", int, float)


def _number(env: Mapping[str, str], name: str, default: _N, kind: type[_N], minimum: float = 0) -> _N:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().upper() or default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw
