"""The error handler: log what failed (never message text, user ids or the token) and apologise where it can."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot import languages
from bot.handlers.common import Context, send
from bot.replies import text_reply
from bot.services import services

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    kind = type(error).__name__
    if isinstance(error, Forbidden):
        log.info("blocked or removed from a chat (%s)", kind)
        return
    if isinstance(error, ChatMigrated):
        if isinstance(update, Update) and update.effective_chat is not None:
            await services(context).store.move_chat(update.effective_chat.id, error.new_chat_id)
        log.info("a group migrated to a supergroup; settings moved")
        return
    if isinstance(error, (TimedOut, NetworkError, RetryAfter)):
        log.warning("Telegram unreachable or busy (%s); the update is dropped", kind)
        return
    if isinstance(error, BadRequest) and "not found" in str(error).lower():
        log.info("a message to reply to or edit was deleted (%s)", kind)
        return
    # the type only: an exception's message can quote what a user sent; the traceback comes with LOG_LEVEL=DEBUG
    log.error("handling an update failed: %s", kind, exc_info=error if log.isEnabledFor(logging.DEBUG) else None)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        lang = languages.canonical(user.language_code if user else None) or languages.DEFAULT
        try:
            await send(update.effective_chat, text_reply("apology", lang))
        except Exception:  # the apology is best effort; the error handler must never raise
            log.warning("could not send the apology")
