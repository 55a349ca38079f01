"""Groups, supergroups and channels' discussion groups.

The bot answers only what is addressed to it: ``/ask`` and ``/fact`` (with a question, or as a reply to a message to
check that message), a message that mentions it, and replies to its own messages. It never reads further, and never
stores anything else said in a group. When a group admin turns on auto-reply, messages that match a known claim with
very high confidence get a short answer, at most once per cooldown. Joining a group posts one introduction; leaving
deletes the group's settings.
"""

from __future__ import annotations

import time

from telegram import ChatMember, ChatMemberUpdated, Message, MessageEntity, Update
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler, MessageHandler, filters

from bot.handlers.asking import respond
from bot.handlers.common import Context, find_match, is_group, question_text, send, ui_lang
from bot.replies import group_reply, text_reply
from bot.services import services

AUTO_REPLY_MIN_CHARS = 10  # too short to be a claim worth answering unasked

_IN = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}
_OUT = {ChatMember.LEFT, ChatMember.BANNED}


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    groups = filters.ChatType.GROUPS
    text = filters.TEXT | filters.CAPTION
    mention = filters.Entity(MessageEntity.MENTION) | filters.CaptionEntity(MessageEntity.MENTION)  # a photo's too
    return [
        CommandHandler(["ask", "fact"], on_ask),
        ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
        MessageHandler(groups & text & ~filters.COMMAND & mention, on_mention),
        MessageHandler(groups & text & ~filters.COMMAND & filters.REPLY, on_reply_to_bot),
    ]


def auto_reply_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [MessageHandler(filters.ChatType.GROUPS & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, on_chatter)]


async def on_ask(update: Update, context: Context) -> None:
    """/ask QUESTION, or /ask as a reply to a message: check that message."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or ()).strip()
    target = message.reply_to_message
    if not question and target is not None and not _from_this_bot(target, context):
        # checking someone else's message: answer under it, and never keep its text
        await respond(update, context, question_text(target), reply_to=target, record=False)
        return
    await respond(update, context, question, reply_to=message if is_group(message.chat) else None, record=True)


async def on_mention(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    handle = f"@{context.bot.username}".lower()
    text = message.text or message.caption or ""
    entities = message.parse_entities([MessageEntity.MENTION]) or message.parse_caption_entities(
        [MessageEntity.MENTION]
    )
    if not any(value.lower() == handle for value in entities.values()):
        await on_reply_to_bot(update, context)  # mentions someone else: perhaps still a reply to the bot
        return
    question = _strip_mention(text, handle)
    target = message.reply_to_message
    if not question and target is not None and not _from_this_bot(target, context):
        await respond(update, context, question_text(target), reply_to=target, record=False)
        return
    await respond(update, context, question, reply_to=message, record=True)


async def on_reply_to_bot(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    if _from_this_bot(message.reply_to_message, context):
        await respond(update, context, question_text(message), reply_to=message, record=True)
    else:
        await on_chatter(update, context)


async def on_chatter(update: Update, context: Context) -> None:
    """Group messages not addressed to the bot: ignored, unless the group turned auto-reply on.

    Nothing from here is stored or counted: an unmatched message leaves no trace.
    """
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    svc = services(context)
    if not (await svc.store.chat_settings(chat.id)).auto_reply:
        return
    text = question_text(message)
    if len(text) < AUTO_REPLY_MIN_CHARS:
        return
    now = time.monotonic()
    if now - svc.last_auto_reply.get(chat.id, -1e9) < svc.settings.auto_reply_cooldown:
        return
    snap = svc.live.snapshot
    closest = snap.matcher.rank(text, 1)  # n-grams alone, about a millisecond: most chatter stops here
    if not closest or closest[0].score < snap.matcher.thresholds.suggest:
        return
    lang = (await svc.store.chat_settings(chat.id)).lang
    # no shortcut: the score is compared with the auto-reply bar, which is on the scale of the model's scores
    match = await find_match(svc.model_queue, snap.matcher, text, lang, shortcut=False)
    best = match.best
    if best is None or best.score < snap.matcher.thresholds.auto_reply or best.entry.kind != "claim":
        return
    svc.last_auto_reply[chat.id] = now
    svc.store.count_question(best.entry.id, match.lang)
    await send(chat, group_reply(best.entry, snap.kb, match.lang, context.bot.username), reply_to=message)


async def on_membership(update: Update, context: Context) -> None:
    """Added to a group: introduce the bot once. Removed: delete the group's settings."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    old, new = change.old_chat_member.status, change.new_chat_member.status
    chat = change.chat
    svc = services(context)
    if new in _OUT:
        await svc.store.forget_chat(chat.id)
    elif old in _OUT and new in _IN and is_group(chat):
        lang = await ui_lang(update, svc)
        await send(chat, text_reply("intro", lang, bot=context.bot.username))


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup (a new chat id): carry its settings over."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    svc = services(context)
    await svc.store.move_chat(message.chat.id, message.migrate_to_chat_id)


def _from_this_bot(message: Message, context: Context) -> bool:
    return message.from_user is not None and message.from_user.id == context.bot.id


def _strip_mention(text: str, handle: str) -> str:
    lowered = text.lower()
    start = lowered.find(handle)
    if start < 0:
        return text.strip()
    return (text[:start] + text[start + len(handle) :]).strip(" \n,:;，：")
