"""Wire the Telegram ``Application``: settings, rate limiter, lifecycle, handlers, command lists and jobs.

``post_init`` loads the knowledge and opens the database before the first update; ``post_shutdown`` closes the
database after the last one (python-telegram-bot runs both around ``run_polling`` and stops cleanly on SIGINT and
SIGTERM, letting answers in flight finish).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from http import HTTPStatus
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from bot import handlers, health
from bot.budget import Budget
from bot.config import Settings
from bot.handlers import moderation
from bot.i18n import t
from bot.live import LiveKnowledge
from bot.matching import Phrasing
from bot.ordering import ChatOrderedProcessor
from bot.services import KEY, Services
from bot.store import Store
from bot.text import warm_up

log = logging.getLogger(__name__)

EXPIRE_EVERY = 6 * 3600  # seconds between retention sweeps
COUNTS_EVERY = 60  # seconds between writes of the daily question counts (kept in memory meanwhile)
#: Connections to the Bot API. python-telegram-bot's default is 256, but httpx's pool does work in proportion to its
#: connections for each request, which under load cost more than the matching (measured with bench/bot.py: 90-100
#: answers/s with 256, 160-170 with 4 or 8). At Telegram's 30 messages a second, 8 connections still leave each
#: request a quarter of a second; the rest wait their turn for up to POOL_WAIT seconds rather than fail.
CONNECTIONS = 8
POOL_WAIT = 30.0
POLLS = "polls"  # bot_data key of the PollWatch

# Command lists per scope; Telegram shows them in the user's language ("zh" covers both scripts).
# (Moderators' commands are not listed: they are answered as unknown commands for everyone else.)
COMMANDS: dict[str, tuple[str, ...]] = {
    "private": ("start", "help", "topics", "lang", "privacy", "forget", "about"),
    "groups": ("ask", "help", "about", "privacy"),
    "admins": ("ask", "settings", "lang", "help", "about", "privacy"),
}
COMMAND_LANGUAGES = {"": "en", "zh": "zh-Hans"}


def build_application(
    settings: Settings, live: LiveKnowledge | None = None, **builder_options: Any
) -> Application:  # type: ignore[type-arg]
    """The application for these settings (not started). ``live``: knowledge already loaded (else ``post_init``
    loads it). ``builder_options`` are for tests (e.g. timeouts)."""
    # the builder's default getUpdates request (its get_updates_* options included), watched for the heartbeat
    options = {k.removeprefix("get_updates_"): builder_options.pop(k) for k in list(builder_options)
               if k.startswith("get_updates_") and k != "get_updates_request"}
    polls = builder_options.pop("get_updates_request", None) or PollWatch(**{"connection_pool_size": 1, **options})
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(_file_url(settings.api_url))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .concurrent_updates(ChatOrderedProcessor())
        .get_updates_request(polls)
        .connection_pool_size(CONNECTIONS)
        .pool_timeout(POOL_WAIT)
    )
    if settings.rate_limit > 0:
        builder = builder.rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.rate_limit,
                overall_time_period=1,
                group_max_rate=20,
                group_time_period=60,
                max_retries=3,
            )
        )
    for name, value in builder_options.items():
        builder = getattr(builder, name)(value)
    app = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["live"] = live
    app.bot_data[POLLS] = polls
    app.add_handler(TypeHandler(Update, _seen), group=-1)  # runs first for every update: health bookkeeping
    handlers.register(app)
    return app


class PollWatch(HTTPXRequest):
    """The getUpdates connection, watched: ``alive`` is when a long poll last succeeded, or began after one that
    did. Polling is healthy while that is recent; after failures it stops being refreshed until a poll succeeds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alive: float | None = None
        self._failing = False

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if not self._failing:
            self.alive = time.monotonic()  # waiting in a long poll after a good one (or the first) counts
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except Exception:
            self._failing = True
            raise
        self._failing = code != HTTPStatus.OK
        if not self._failing:
            self.alive = time.monotonic()
        return code, payload

    def polled_within(self, seconds: float) -> bool:
        return self.alive is not None and time.monotonic() - self.alive < seconds


def _file_url(api_url: str) -> str:
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


async def _seen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc: Services | None = context.application.bot_data.get(KEY)
    if svc is not None:
        svc.last_update = time.time()


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    settings: Settings = app.bot_data["settings"]
    live = app.bot_data.get("live") or LiveKnowledge.load(settings.knowledge_dir)
    await asyncio.to_thread(warm_up)  # the language detector's models, before the first question
    store = await Store.open(settings.database, settings.hash_key)
    svc = Services(settings, live, store, Budget(settings.asker_budget, settings.group_budget))
    app.bot_data[KEY] = svc
    attached = [Phrasing(entry, text, lang) for _, entry, text, lang in await store.phrasings()]
    if attached:
        await live.rebuild(attached)
    kb = live.snapshot.kb
    model = live.snapshot.matcher.semantic
    log.info("knowledge %s loaded: %d entries, %d attached phrasings; matching by n-grams%s", kb.version,
             len(kb.entries), len(attached), f" and {model.embedder.name}" if model else " alone")
    await register_commands(app)
    _reload_on_sighup(svc)
    jobs = app.job_queue
    if jobs is not None:
        jobs.run_repeating(_expire, interval=EXPIRE_EVERY, first=10, name="expire")
        jobs.run_repeating(_flush_counts, interval=COUNTS_EVERY, first=COUNTS_EVERY, name="counts")
        jobs.run_repeating(_heartbeat, interval=health.INTERVAL, first=1, name="heartbeat",
                           job_kwargs={"misfire_grace_time": None, "coalesce": True})  # late is better than never
        if settings.moderator_chat is not None:
            jobs.run_daily(moderation.digest, dt.time(settings.digest_hour, tzinfo=dt.UTC), name="digest")
        if settings.knowledge_watch > 0:
            jobs.run_repeating(moderation.watch, interval=settings.knowledge_watch, first=0, name="watch")


def _reload_on_sighup(svc: Services) -> None:
    """SIGHUP reloads the knowledge (as /reload does), where the platform has it."""
    loop = asyncio.get_running_loop()

    def reload() -> None:
        task = loop.create_task(moderation.reload_knowledge(svc))
        _background.add(task)
        task.add_done_callback(_background.discard)

    with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, reload)


_background: set[asyncio.Task[Any]] = set()  # tasks started by signals, kept referenced until they finish


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    svc: Services | None = app.bot_data.get(KEY)
    if svc is not None:
        stopped = health.beat(mode=app.bot_data.get("mode", "polling"), knowledge=svc.live.snapshot.kb.version,
                              database_ok=False, updates_ok=False, reason="the bot was stopped")
        _write_heartbeat(svc.settings, stopped)
        await svc.store.close()
        log.info("database closed")


async def _heartbeat(context: ContextTypes.DEFAULT_TYPE) -> None:
    await heartbeat(context.application)


async def heartbeat(app: Application) -> dict[str, Any]:  # type: ignore[type-arg]
    """Check updates are arriving and the database takes writes; record the result (``bot.health``)."""
    svc: Services = app.bot_data[KEY]
    mode = app.bot_data.get("mode", "polling")
    if mode == "webhook":
        from bot.webhook import STATE

        updates_ok = bool(getattr(app.bot_data.get(STATE), "listening", False))
    else:
        polls = app.bot_data.get(POLLS)
        updates_ok = bool(app.updater and app.updater.running and isinstance(polls, PollWatch)
                          and polls.polled_within(health.STALE_AFTER * health.INTERVAL))
    database_ok = await svc.store.healthy()
    beat = health.beat(mode=mode, knowledge=svc.live.snapshot.kb.version, database_ok=database_ok,
                       updates_ok=updates_ok)
    before = app.bot_data.get(health.BEAT_KEY)
    app.bot_data[health.BEAT_KEY] = beat
    if not beat["ok"] and (before is None or before["ok"]):
        log.warning("health check failed: %s", beat["reason"])
    elif beat["ok"] and before is not None and not before["ok"]:
        log.info("healthy again")
    _write_heartbeat(svc.settings, beat)
    return beat


def _write_heartbeat(settings: Settings, beat: dict[str, Any]) -> None:
    if str(settings.database) == ":memory:":
        return
    try:
        health.write_heartbeat(settings.database, beat)
    except OSError as exc:
        log.warning("could not write the heartbeat file: %s", type(exc).__name__)


async def _flush_counts(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data[KEY].store.flush_counts()


async def _expire(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc: Services = context.application.bot_data[KEY]
    await svc.store.expire(svc.settings.retention_days)


async def register_commands(app: Application) -> None:  # type: ignore[type-arg]
    scopes = {
        "private": BotCommandScopeAllPrivateChats(),
        "groups": BotCommandScopeAllGroupChats(),
        "admins": BotCommandScopeAllChatAdministrators(),
    }
    for scope_name, scope in scopes.items():
        for code, lang in COMMAND_LANGUAGES.items():
            commands = [BotCommand(c, t("cmd." + c, lang)) for c in COMMANDS[scope_name]]
            await app.bot.set_my_commands(commands, scope=scope, language_code=code or None)


def run(settings: Settings, live: LiveKnowledge | None = None, webhook: bool = False) -> None:
    """Run the bot until SIGINT or SIGTERM: long polling, or with ``webhook`` as a webhook server."""
    app = build_application(settings, live)
    if webhook:
        from bot import webhook as server

        server.run(app)
    else:
        app.bot_data["mode"] = "polling"
        app.run_polling(allowed_updates=Update.ALL_TYPES)
