"""A minimal python-telegram-bot echo bot: the reference the fact-check bot's throughput is compared with.

Run by bench/bot.py as its own process: ``BOT_TOKEN=... TELEGRAM_API_URL=... python bench/echo_bot.py [--card]``.
With ``--card`` it answers every message with one of the fact-check bot's answer cards (its HTML and its buttons:
the English card of median length), without reading the question: what sending that reply costs on its own.
"""

import os
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_chat.send_message(update.effective_message.text)  # type: ignore[union-attr]


def card_echo():  # type: ignore[no-untyped-def]
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bot.facts import load_knowledge
    from bot.handlers.common import send
    from bot.replies import answer_reply

    kb, _ = load_knowledge()
    assert kb is not None
    cards = sorted((answer_reply(entry, kb, "en") for entry in kb.entries), key=lambda r: len(r.html))
    reply = cards[len(cards) // 2]

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await send(update.effective_chat, reply)  # type: ignore[arg-type]

    return answer


async def announce(app) -> None:  # type: ignore[no-untyped-def]
    await app.bot.set_my_commands([("echo", "echo")])  # tells the benchmark it is polling


if __name__ == "__main__":
    app = (ApplicationBuilder().token(os.environ["BOT_TOKEN"]).base_url(os.environ["TELEGRAM_API_URL"])
           .post_init(announce).build())
    app.add_handler(MessageHandler(filters.TEXT, card_echo() if "--card" in sys.argv else echo))
    app.run_polling()
