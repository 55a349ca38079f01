"""Settings: /lang for any chat (admins only in groups) and /settings for group admins (language, auto-reply).

Who is an admin is asked of Telegram on every change, never taken from the message. Anonymous admins (posting as
the group) cannot be identified, so they are asked to use their own account.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.handlers.common import Context, edit, is_group, is_group_admin, send, ui_lang
from bot.replies import lang_reply, settings_reply, text_reply
from bot.services import services
from bot.store import ChatSettings


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [CommandHandler("lang", on_lang), CommandHandler("settings", on_settings)]


async def _may_configure(update: Update, context: Context) -> bool:
    chat = update.effective_chat
    if not is_group(chat):
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return False  # an anonymous admin or a channel: no user to check
    user = update.effective_user
    return await is_group_admin(context, chat, user.id if user else None)  # type: ignore[arg-type]


async def on_lang(update: Update, context: Context) -> None:
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    lang = await ui_lang(update, svc)
    if not await _may_configure(update, context):
        await send(chat, text_reply("admins_only", lang), reply_to=update.effective_message)
        return
    current = (await svc.store.chat_settings(chat.id)).lang
    await send(chat, lang_reply(lang, current))


async def on_settings(update: Update, context: Context) -> None:
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    lang = await ui_lang(update, svc)
    if not is_group(chat):
        await send(chat, text_reply("settings_in_groups", lang))
        return
    if not await _may_configure(update, context):
        await send(chat, text_reply("admins_only", lang), reply_to=update.effective_message)
        return
    current = await svc.store.chat_settings(chat.id)
    await send(chat, settings_reply(lang, current.lang, current.auto_reply))


async def on_group_setting(update: Update, context: Context, value: str) -> None:
    """A press on a /settings button: checked against Telegram's admin list before anything changes."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    chat = update.effective_chat
    lang = await ui_lang(update, svc)
    if chat is None or not is_group(chat) or not await is_group_admin(context, chat, query.from_user.id):
        await query.answer(text_reply("admins_only", lang).text, show_alert=True)
        return
    current = await svc.store.chat_settings(chat.id)
    if value in ("auto-on", "auto-off"):
        new = ChatSettings(current.lang, value == "auto-on")
    else:
        code = value.removeprefix("lang-")
        new = ChatSettings(None if code == "auto" else code, current.auto_reply)
    await svc.store.set_chat_settings(chat.id, new)
    await query.answer()
    if query.message is not None:
        await edit(query.message, settings_reply(new.lang or lang, new.lang, new.auto_reply))  # type: ignore[arg-type]
