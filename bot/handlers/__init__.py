"""Telegram handlers, one module per feature; ``register`` adds them to an application in the order that matters.

Order: commands first (so "/ask@bot ..." is never taken for a plain question), then button presses and inline
queries, then group messages addressed to the bot, then private questions, then auto-replies (the least specific:
only group messages nothing else claimed), and the error handler last.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import asking, errors, groups, info, inline, settings


def register(app: Application) -> None:  # type: ignore[type-arg]
    for module in (info, settings, asking, groups, inline):
        app.add_handlers(module.handlers())
    app.add_handlers(groups.auto_reply_handlers())  # last: one handler per update, so addressed messages win
    app.add_error_handler(errors.on_error)
