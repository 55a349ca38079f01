"""Webhook mode: Telegram posts each update to WEBHOOK_URL; a TLS reverse proxy forwards it to this server.

python-telegram-bot's ``run_webhook`` serves the webhook path only, and the bot also answers ``GET /healthz``, so
this follows the library's documented custom-webhook pattern: our own server (tornado, which PTB's ``webhooks`` extra
installs and its own webhook server uses) puts each update on ``application.update_queue``, and the application runs
as usual. The webhook handler does what PTB's does: JSON only, and the ``X-Telegram-Bot-Api-Secret-Token`` header
must equal WEBHOOK_SECRET (compared in constant time), otherwise 403 and nothing is processed. Nothing about a request
is logged: the body holds message text and user ids.

Start-up and shutdown mirror ``run_polling``: initialize, post_init, listen, setWebhook, start; on SIGTERM or SIGINT
stop listening, let updates in flight finish, stop, shutdown, post_shutdown. The webhook stays registered with
Telegram across restarts, so updates that arrive meanwhile are delivered once the bot is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import signal
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from telegram.ext import Application, ExtBot
from tornado.httpserver import HTTPServer

from bot import health
from bot.config import ConfigError, Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # bytes; an update is a few kilobytes
STATE = "webhook"  # bot_data key of the running server's state


class WebhookState:
    """Whether the server is listening (read by the heartbeat)."""

    def __init__(self) -> None:
        self.listening = False


class _UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, app: Application, secret: str) -> None:  # type: ignore[type-arg,override]
        self.app = app
        self.secret = secret.encode()

    async def post(self) -> None:
        token = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(token, self.secret):
            log.debug("webhook request refused: missing or wrong secret token")
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        try:
            update = Update.de_json(json.loads(self.request.body), self.app.bot)
        except Exception as exc:  # the body is not logged: it carries message text and user ids
            log.warning("webhook request refused: not a valid update (%s)", type(exc).__name__)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        if isinstance(self.app.bot, ExtBot):
            self.app.bot.insert_callback_data(update)
        await self.app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish()  # an empty body: say nothing to whoever is probing

    def log_exception(self, *args: Any) -> None:
        """Refused requests are expected; tornado would log them with the request line."""


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, app: Application) -> None:  # type: ignore[type-arg,override]
        self.app = app

    def get(self) -> None:
        beat = self.app.bot_data.get(health.BEAT_KEY)
        ok, reason = health.assess(beat)
        self.set_status(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Cache-Control", "no-store")
        self.finish({
            "ok": ok,
            "reason": reason,
            "mode": "webhook",
            "knowledge": (beat or {}).get("knowledge"),
            "time": (beat or {}).get("time"),
        })


class _Server(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: the proxy has one, and request lines are of no use here."""


def make_server(app: Application, settings: Settings) -> HTTPServer:  # type: ignore[type-arg]
    path = settings.webhook_path
    routes: list[Any] = [
        (r"/healthz", _HealthHandler, {"app": app}),
        (rf"{re.escape(path.rstrip('/'))}/?", _UpdateHandler, {"app": app, "secret": settings.webhook_secret or ""}),
    ]
    return HTTPServer(_Server(routes), max_body_size=MAX_BODY)


def run(app: Application) -> None:  # type: ignore[type-arg]
    """Serve the webhook until SIGTERM or SIGINT."""
    asyncio.run(_serve(app))


async def _serve(app: Application) -> None:  # type: ignore[type-arg]
    settings: Settings = app.bot_data["settings"]
    settings.check_webhook()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    state = WebhookState()
    app.bot_data[STATE] = state
    app.bot_data["mode"] = "webhook"
    server = make_server(app, settings)
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        try:
            server.listen(settings.webhook_port, address=settings.webhook_listen)
        except OSError as exc:
            raise ConfigError(f"cannot listen on WEBHOOK_LISTEN:WEBHOOK_PORT = {settings.webhook_listen}:"
                              f"{settings.webhook_port} ({exc.strerror or exc})") from None
        state.listening = True
        await app.bot.set_webhook(
            url=settings.webhook_url or "",
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        await app.start()
        log.info("webhook mode: listening on %s:%d, path %s", settings.webhook_listen, settings.webhook_port,
                 settings.webhook_path)
        await stop.wait()
        log.info("stopping: updates in flight finish first")
    finally:
        state.listening = False
        server.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.close_all_connections(), timeout=5)
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
