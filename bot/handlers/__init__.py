"""Telegram handlers, one module per feature; ``register`` adds them to an application in the order that matters.

Order: moderators' commands first (they answer everyone else exactly as an unknown command does), then the other
commands (so "/ask@bot ..." is never taken for a plain question), then button presses and inline queries, then group
messages addressed to the bot, then private questions, then unknown commands, then auto-replies (the least specific:
only group messages nothing else claimed), and the error handler last.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import asking, errors, groups, info, inline, moderation, settings


def register(app: Application) -> None:  # type: ignore[type-arg]
    for module in (moderation, info, settings, asking, groups, inline):
        app.add_handlers(module.handlers())
    app.add_handlers(asking.unknown_command_handlers())
    app.add_handlers(groups.auto_reply_handlers())  # last: one handler per update, so addressed messages win
    app.add_error_handler(errors.on_error)
