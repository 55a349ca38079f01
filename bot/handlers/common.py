"""Small helpers the feature handlers share: the reply language, sending a ``Reply``, and admin checks."""

from __future__ import annotations

import logging

from telegram import (
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import languages
from bot.matching import Match, Matcher
from bot.model_queue import ModelQueue
from bot.replies import Reply
from bot.services import Services

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Context = ContextTypes.DEFAULT_TYPE


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.text,
                    callback_data=b.data,
                    url=b.url,
                    switch_inline_query=b.inline_query,
                )
                for b in row
            ]
            for row in reply.buttons
        ]
    )


async def send(chat: Chat, reply: Reply, *, reply_to: Message | None = None) -> Message | None:
    """Send a reply to a chat, as a reply to ``reply_to`` when given. A chat that blocked the bot is skipped."""
    try:
        return await chat.send_message(
            reply.html,
            parse_mode="HTML",
            reply_markup=markup(reply),
            link_preview_options=NO_PREVIEW,
            reply_parameters=(
                ReplyParameters(reply_to.message_id, allow_sending_without_reply=True) if reply_to else None
            ),
        )
    except Forbidden:
        log.info("not sent: the bot was blocked or removed from the chat")
        return None


async def edit(message: Message, reply: Reply) -> None:
    """Replace a message's text and buttons (paging, settings); unchanged or deleted messages are fine."""
    try:
        await message.edit_text(reply.html, parse_mode="HTML", reply_markup=markup(reply),
                                link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower() and "not found" not in str(exc).lower():
            raise


async def find_match(queue: ModelQueue, matcher: Matcher, question: str, hint: str | None, *,
                     shortcut: bool = True) -> Match:
    """Match a question: the n-grams on the event loop (about a millisecond: a worker thread would cost more in
    handing over than it saves), the embedding model, when it is needed, in a worker thread so that other chats do
    not wait for it, reading together the questions that arrive while it is busy (``bot.model_queue``)."""
    draft = matcher.draft(question, hint, shortcut)
    if draft.settled:
        return matcher.conclude(draft)
    return await queue.conclude(matcher, draft)


async def hint_lang(update: Update, svc: Services) -> str | None:
    """The chat's /lang setting, else the user's Telegram language (None when neither is known). The matcher takes
    it as a preference, used only when a question shows no language of its own."""
    chat = update.effective_chat
    if chat is not None:
        chosen = (await svc.store.chat_settings(chat.id)).lang
        if chosen:
            return chosen
    user = update.effective_user
    return languages.canonical(user.language_code if user else None)


async def ui_lang(update: Update, svc: Services) -> str:
    """The language for the bot's own messages: ``hint_lang``, else English."""
    return await hint_lang(update, svc) or languages.DEFAULT


async def is_group_admin(context: Context, chat: Chat, user_id: int | None) -> bool:
    """Ask Telegram whether this user administers this chat (never trusted from the message)."""
    if user_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def question_text(message: Message | None) -> str:
    if message is None:
        return ""
    return (message.text or message.caption or "").strip()
