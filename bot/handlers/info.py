"""Information: /help, /about, /privacy, /forget and /topics (browsing the knowledge base by topic)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.handlers.common import Context, send, ui_lang
from bot.replies import text_reply, topics_reply
from bot.services import services


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("help", on_help),
        CommandHandler("about", on_about),
        CommandHandler("privacy", on_privacy),
        CommandHandler("forget", on_forget),
        CommandHandler("topics", on_topics),
    ]


async def on_help(update: Update, context: Context) -> None:
    lang = await ui_lang(update, services(context))
    await send(update.effective_chat, text_reply("help", lang, bot=context.bot.username))  # type: ignore[arg-type]


async def on_about(update: Update, context: Context) -> None:
    svc = services(context)
    kb = svc.live.snapshot.kb
    reply = text_reply("about", await ui_lang(update, svc), version=kb.version, date=kb.updated.isoformat(),
                       count=len(kb.entries))
    await send(update.effective_chat, reply)  # type: ignore[arg-type]


async def on_privacy(update: Update, context: Context) -> None:
    svc = services(context)
    reply = text_reply("privacy", await ui_lang(update, svc), days=svc.settings.retention_days)
    await send(update.effective_chat, reply)  # type: ignore[arg-type]


async def on_forget(update: Update, context: Context) -> None:
    """Delete everything stored about the asker: votes, this private chat's settings, and (in memory) the questions
    its recent cards answered."""
    svc = services(context)
    lang = await ui_lang(update, svc)
    user = update.effective_user
    if user is not None:
        await svc.store.forget_user(user.id)
        svc.forget_questions(user.id)  # a private chat's id is the user's id
    await send(update.effective_chat, text_reply("forgotten", lang))  # type: ignore[arg-type]


async def on_topics(update: Update, context: Context) -> None:
    svc = services(context)
    await send(update.effective_chat, topics_reply(svc.live.snapshot.kb, await ui_lang(update, svc)))  # type: ignore[arg-type]
