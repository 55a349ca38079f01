"""A minimal python-telegram-bot echo bot: the reference the fact-check bot's throughput is compared with.

Run by bench/bot.py as its own process: ``BOT_TOKEN=... TELEGRAM_API_URL=... python bench/echo_bot.py``.
"""

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_chat.send_message(update.effective_message.text)  # type: ignore[union-attr]


async def announce(app) -> None:  # type: ignore[no-untyped-def]
    await app.bot.set_my_commands([("echo", "echo")])  # tells the benchmark it is polling


if __name__ == "__main__":
    app = (ApplicationBuilder().token(os.environ["BOT_TOKEN"]).base_url(os.environ["TELEGRAM_API_URL"])
           .post_init(announce).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling()
