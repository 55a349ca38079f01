"""Asking: questions and forwarded messages in private chats, /start with deep links, and the answer buttons."""

from __future__ import annotations

from dataclasses import replace

from telegram import Chat, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.budget import Verdict
from bot.handlers.common import (
    Context,
    edit,
    find_match,
    hint_lang,
    is_group,
    is_group_admin,
    question_text,
    send,
    ui_lang,
)
from bot.replies import (
    Reply,
    answer_reply,
    group_reply,
    match_reply,
    not_helpful_reply,
    other_side_reply,
    parse_callback,
    sources_reply,
    start_reply,
    text_reply,
    topic_reply,
    topics_reply,
)
from bot.services import Asked, Services, services
from bot.store import ChatSettings


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CallbackQueryHandler(on_button),
        MessageHandler(private & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, on_private_question),
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_media),
    ]


def unknown_command_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Registered last: any command nothing else took (in a group, silence: it may be another bot's)."""
    return [MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, on_unknown_command)]


async def on_unknown_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is not None and not is_group(chat):
        await send(chat, text_reply("unknown_command", await ui_lang(update, services(context))))


async def start(update: Update, context: Context) -> None:
    svc = services(context)
    snap = svc.live.snapshot
    lang = await ui_lang(update, svc)
    chat = update.effective_chat
    assert chat is not None
    payload = context.args[0] if context.args else ""
    entry = snap.kb.entry(payload) if payload else None
    if entry is not None:
        await send(chat, answer_reply(entry, snap.kb, lang))
        return
    await send(chat, start_reply(snap.kb, lang, svc.examples))


async def on_private_question(update: Update, context: Context) -> None:
    message = update.effective_message
    await respond(update, context, question_text(message), reply_to=None, record=True)


async def on_media(update: Update, context: Context) -> None:
    chat = update.effective_chat
    assert chat is not None
    await send(chat, text_reply("media", await ui_lang(update, services(context))))


async def respond(
    update: Update,
    context: Context,
    question: str,
    *,
    reply_to: Message | None,
    record: bool,
) -> None:
    """Answer ``question`` in the update's chat: the shared path of private chats and groups.

    ``record``: whether an unanswered question may be kept for the moderators (only text the asker wrote to the
    bot; never someone else's message that was passed on for checking).
    """
    svc = services(context)
    chat = update.effective_chat
    user = update.effective_user
    if chat is None:
        return
    group = is_group(chat)
    verdict = svc.budget.check(user.id if user else None, chat.id if group else None)
    if verdict is not Verdict.ALLOW:
        if verdict is Verdict.NOTICE:
            key = "group_slow_down" if group and svc.budget.over_group(chat.id) else "slow_down"
            await send(chat, text_reply(key, await ui_lang(update, svc)), reply_to=reply_to)
        return
    if not question:
        await send(chat, text_reply("ask_usage", await ui_lang(update, svc)), reply_to=reply_to)
        return
    snap = svc.live.snapshot  # one snapshot for the whole answer, even if a reload happens meanwhile
    match = await find_match(svc.model_queue, snap.matcher, question, await hint_lang(update, svc))
    best = match.best
    svc.store.count_question(best.entry.id if best else None, match.lang)
    question_id = None
    if best is None and record:
        question_id = await svc.store.record_unanswered(question, match.lang)
    if group and best is not None:
        reply = group_reply(best.entry, snap.kb, match.lang, context.bot.username)
    else:
        reply = match_reply(match, snap.kb, question_id=question_id if not group else None)
    sent = await send(chat, reply, reply_to=reply_to)
    if sent is not None and not group and match.status != "none":
        # what the card (or the "did you mean" choice) answered, for a "not helpful" vote on it
        alternatives = tuple(c.entry.id for c in match.alternatives)
        asked = Asked(question if record else "", match.lang, alternatives, question_id=question_id)
        svc.remember_question(chat.id, sent.message_id, asked)


async def on_button(update: Update, context: Context) -> None:
    """Every inline button press. Callback data is parsed strictly: anything forged gets a polite no-op."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    snap = svc.live.snapshot
    lang = await ui_lang(update, svc)
    callback = parse_callback(query.data)
    message = query.message if isinstance(query.message, Message) else None
    chat: Chat | None = message.chat if message else None
    if callback is None or chat is None:
        await query.answer(text_reply("not_understood", lang).text)
        return

    if callback.action in ("entry", "vote", "other", "sources"):
        lang = callback.lang or lang  # a card's buttons answer in the card's language
        entry = snap.kb.entry(callback.entry_id)
        if entry is None:
            await query.answer(text_reply("not_found", lang).text)
            return
        if callback.action == "vote":
            follow_up = await on_vote(svc, query.from_user.id, entry.id, callback.value == "1", chat, message, lang)
            await query.answer(text_reply("vote_thanks", lang).text)
            if follow_up is not None:
                sent = await send(chat, follow_up)
                asked = svc.asked_question(chat.id, message.message_id) if message is not None else None
                if sent is not None and asked is not None:  # the entries it offers answer the same question
                    svc.remember_question(chat.id, sent.message_id, replace(asked, flagged=False))
            return
        await query.answer()
        if callback.action == "entry":
            reply = (group_reply(entry, snap.kb, lang, context.bot.username) if is_group(chat)
                     else answer_reply(entry, snap.kb, lang))
        elif callback.action == "other":
            reply = other_side_reply(entry, snap.kb, lang)
        else:
            reply = sources_reply(entry, snap.kb, lang)
        sent = await send(chat, reply)
        if callback.action == "entry" and sent is not None and message is not None and not is_group(chat):
            # an entry chosen among those offered for a question: its card answers that question too
            asked = svc.asked_question(chat.id, message.message_id)
            if asked is not None:
                others = tuple(i for i in asked.alternatives if i != entry.id)
                svc.remember_question(chat.id, sent.message_id, replace(asked, alternatives=others, flagged=False))
        return

    if callback.action in ("topics", "topic"):
        await query.answer()
        if message is not None:
            page = (topics_reply(snap.kb, lang, callback.page) if callback.action == "topics"
                    else topic_reply(snap.kb, callback.entry_id, lang, callback.page))
            await edit(message, page)
        return

    if callback.action == "lang":
        if is_group(chat) and not await is_group_admin(context, chat, query.from_user.id):
            await query.answer(text_reply("admins_only", lang).text, show_alert=True)
            return
        chosen = None if callback.value == "auto" else callback.value
        current = await svc.store.chat_settings(chat.id)
        await svc.store.set_chat_settings(chat.id, ChatSettings(chosen, current.auto_reply))
        new_lang = chosen or lang
        await query.answer(text_reply("lang_set", new_lang).text if chosen else None)
        from bot.replies import lang_reply

        if message is not None:
            await edit(message, lang_reply(new_lang, chosen))
        return

    if callback.action == "group":
        from bot.handlers.settings import on_group_setting

        await on_group_setting(update, context, callback.value)
        return

    if callback.action == "notify":
        if not is_group(chat) and await svc.store.subscribe(callback.page, chat.id, lang):
            await query.answer(text_reply("notify_ok", lang).text, show_alert=True)
        else:
            await query.answer(text_reply("not_understood", lang).text)
        return

    if callback.action in ("review", "attach"):
        from bot.handlers.moderation import on_review_button

        await on_review_button(update, context, callback)
        return
    await query.answer()


async def on_vote(svc: Services, user_id: int, entry_id: str, helpful: bool, chat: Chat, message: Message | None,
                  lang: str) -> Reply | None:
    """Record the vote. "Not helpful" on an answer to a question also flags it for the moderators (once a card),
    puts the question among the unanswered ones, and returns the follow-up offering the asker the other entries
    the question came close to and to be told when a moderator answers it."""
    await svc.store.vote(user_id, entry_id, helpful)
    if helpful:
        return None
    asked = svc.asked_question(chat.id, message.message_id) if message is not None else None
    if message is None or asked is None:  # a card not sent in answer to a question, or from before a restart
        await svc.store.flag(entry_id, "", lang)
        return None
    if asked.flagged:
        return None
    await svc.store.flag(entry_id, asked.question, asked.lang)
    # the question joins the unanswered ones (once), so a moderator can attach it to the entry that answers it
    question_id = asked.question_id
    if question_id is None and asked.question:
        question_id = await svc.store.record_unanswered(asked.question, asked.lang)
    svc.remember_question(chat.id, message.message_id, replace(asked, flagged=True, question_id=question_id))
    return not_helpful_reply(svc.live.snapshot.kb, asked.lang, asked.alternatives, question_id)
