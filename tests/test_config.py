"""Settings from the environment."""

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.facts import DEFAULT_DIR


def test_defaults() -> None:
    s = Settings.from_env({"BOT_TOKEN": "123:abc"})
    assert s.api_url == "https://api.telegram.org/bot" and s.rate_limit == 30 and s.retention_days == 90
    assert s.knowledge_dir == DEFAULT_DIR and s.database == Path("data/bot.sqlite3") and s.moderators == frozenset()


def test_everything_set() -> None:
    s = Settings.from_env({
        "BOT_TOKEN": "123:abc", "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot", "DATABASE_PATH": "/tmp/x.db",
        "KNOWLEDGE_DIR": "/k", "MODERATOR_IDS": "1, 22,333", "TELEGRAM_RATE_LIMIT": "0", "RETENTION_DAYS": "30",
        "HASH_KEY": "x" * 40,
    })
    assert s.api_url == "http://127.0.0.1:8081/bot" and s.database == Path("/tmp/x.db")
    assert s.moderators == frozenset({1, 22, 333}) and s.rate_limit == 0 and s.retention_days == 30
    assert s.hash_key == b"x" * 40


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "BOT_TOKEN is not set. Create a bot with @BotFather"),
        ({"BOT_TOKEN": "nonsense"}, "does not look like a token"),
        ({"BOT_TOKEN": "1:a", "MODERATOR_IDS": "1,bob"}, "'bob' is not a number"),
        ({"BOT_TOKEN": "1:a", "TELEGRAM_RATE_LIMIT": "fast"}, "TELEGRAM_RATE_LIMIT must be a number"),
        ({"BOT_TOKEN": "1:a", "RETENTION_DAYS": "0"}, "RETENTION_DAYS must be at least 1"),
        ({"BOT_TOKEN": "1:a", "TELEGRAM_API_URL": "ftp://x"}, "must start with http"),
        ({"BOT_TOKEN": "1:a", "HASH_KEY": "short"}, "at least 32 characters"),
        ({"BOT_TOKEN": "1:a", "LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
        ({"BOT_TOKEN": "1:a", "LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of"),
        ({"BOT_TOKEN": "1:a", "WEBHOOK_URL": "http://bot.example.org/hook"}, "must be the bot's public https"),
        ({"BOT_TOKEN": "1:a", "WEBHOOK_SECRET": "short"}, "WEBHOOK_SECRET must be 16 to 256 characters"),
        ({"BOT_TOKEN": "1:a", "WEBHOOK_SECRET": "has spaces in it, sixteen+"}, "WEBHOOK_SECRET must be"),
        ({"BOT_TOKEN": "1:a", "WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT must be a port number"),
    ],
)
def test_bad_settings_explain_themselves_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_webhook_and_log_settings() -> None:
    s = Settings.from_env({"BOT_TOKEN": "123:abc"})
    assert s.log_format == "text" and s.webhook_url is None and s.webhook_listen == "0.0.0.0" and s.webhook_port == 8443
    with pytest.raises(ConfigError, match="WEBHOOK_URL"):
        s.check_webhook()  # polling needs none of them; webhook mode does
    s = Settings.from_env({
        "BOT_TOKEN": "123:abc", "LOG_FORMAT": "json", "WEBHOOK_URL": "https://bot.example.org/tg/hook",
        "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": "8080", "WEBHOOK_SECRET": "abc_DEF-0123456789",
    })
    s.check_webhook()
    assert s.log_format == "json" and s.webhook_listen == "127.0.0.1" and s.webhook_port == 8080
    assert s.webhook_path == "/tg/hook" and s.webhook_secret == "abc_DEF-0123456789"
    assert Settings.from_env({"BOT_TOKEN": "1:a", "WEBHOOK_URL": "https://bot.example.org"}).webhook_path == "/"
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        Settings.from_env({"BOT_TOKEN": "1:a", "WEBHOOK_URL": "https://bot.example.org"}).check_webhook()
    with pytest.raises(ConfigError, match="must not be /healthz"):
        Settings.from_env({"BOT_TOKEN": "1:a", "WEBHOOK_URL": "https://b.example.org/healthz",
                           "WEBHOOK_SECRET": "x" * 16}).check_webhook()
