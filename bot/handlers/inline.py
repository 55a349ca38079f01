"""Inline mode: "@bot words" in any chat lists matching entries; choosing one posts its full answer card.

An empty query lists the most asked entries; "=entry-id" (the share button) lists exactly that entry.
"""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.ext import BaseHandler, InlineQueryHandler

from bot import languages
from bot.handlers.common import NO_PREVIEW, Context
from bot.render import render_answer
from bot.replies import deep_link, inline_description
from bot.services import services

MAX_RESULTS = 20  # Telegram allows 50; a phone shows far fewer
CACHE_SECONDS = 300


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [InlineQueryHandler(on_inline_query)]


async def on_inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    assert query is not None
    svc = services(context)
    snap = svc.live.snapshot
    text = query.query.strip()
    hint = languages.canonical(query.from_user.language_code)
    reading = snap.matcher.language(text, hint) if text else None
    lang = reading.lang if reading else (hint or languages.DEFAULT)
    if text.startswith("="):
        found = snap.kb.entry(text[1:].strip())
        entries = [found] if found else []
    elif text:
        floor = snap.matcher.thresholds.suggest / 2
        likely = reading.likely if reading else ()
        entries = [c.entry for c in snap.matcher.rank(text, MAX_RESULTS, likely) if c.score >= floor]
    else:
        top = [snap.kb.entry(i) for i, _ in await svc.store.top_entries(limit=MAX_RESULTS)]
        entries = [e for e in top if e] or list(snap.kb.entries[:MAX_RESULTS])
    results = [
        InlineQueryResultArticle(
            id=entry.id,
            title=entry.text("title", lang),
            description=inline_description(entry, lang),
            input_message_content=InputTextMessageContent(
                render_answer(entry, snap.kb, lang).html, parse_mode="HTML", link_preview_options=NO_PREVIEW
            ),
            url=deep_link(context.bot.username, entry.id),
        )
        for entry in entries[:MAX_RESULTS]
    ]
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=False)
