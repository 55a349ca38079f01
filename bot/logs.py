"""Logging for ``python -m bot run``: readable text by default, one JSON object per line with LOG_FORMAT=json.

The bot's own log lines never carry message text, user ids or the token. Two libraries would: httpx logs every
request's url at INFO, and the Bot API url holds the token, so it (and httpcore below it) is kept at WARNING;
python-telegram-bot logs update contents and call parameters only at DEBUG (and the Bot API url, token included,
once at start). As a last line of defence every record is redacted: the token and the webhook secret are replaced
wherever they appear, tracebacks included, at every level. APScheduler's "job executed" lines every few seconds are
noise, so they are kept at WARNING too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("httpx", "httpcore", "apscheduler", "tornado.access")
REDACTED = "[redacted]"


class Redact(logging.Filter):
    """Replace secrets in a record's message and traceback before any formatter sees them."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


def setup(level: str = "INFO", fmt: str = "text", secrets: Iterable[str | None] = ()) -> None:
    """Log to standard error at ``level`` as ``fmt`` (text or json), with ``secrets`` (the token...) redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact(secrets))
    if fmt == "json":
        # python-json-logger: maintained, a plain logging.Formatter, and it serialises the standard record fields,
        # the exception text and any ``extra`` values correctly escaped, which a hand-written formatter tends to
        # get wrong (quotes, newlines in tracebacks, non-ASCII).
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
            )
        )
        logging.captureWarnings(True)  # warnings as JSON records too, so every line of the output parses
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
