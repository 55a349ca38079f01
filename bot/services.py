"""What every handler shares: settings, the live knowledge, the store, the flood budget and the model's queue.

``app.py`` builds one ``Services`` at start-up and keeps it in ``application.bot_data``; handlers reach it with
``services(context)``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bot.budget import Budget
from bot.config import Settings
from bot.live import LiveKnowledge
from bot.model_queue import ModelQueue
from bot.store import Store

KEY = "services"
ASKED_MEMORY = 5000

#: Entries offered as example questions on /start.
EXAMPLES = ("what-are-overseas-police-stations", "claim-stations-do-not-exist", "safety-if-contacted")


@dataclass(frozen=True)
class Asked:
    """What an answer card (or a "did you mean" choice) in a private chat answered: the question (empty when the bot
    may not keep it), its language, the runners-up it was matched against, whether the asker has already said it
    did not help, and its number once it is among the unanswered questions."""

    question: str
    lang: str
    alternatives: tuple[str, ...] = ()  # entry ids, best first
    flagged: bool = False
    question_id: int | None = None  # its number among the unanswered questions, once recorded there


@dataclass
class Services:
    settings: Settings
    live: LiveKnowledge
    store: Store
    budget: Budget
    examples: tuple[str, ...] = EXAMPLES
    last_update: float = field(default_factory=time.time)  # when an update last arrived (for health checks)
    last_auto_reply: dict[int, float] = field(default_factory=dict)  # group id -> monotonic time
    model_queue: ModelQueue = field(default_factory=ModelQueue)  # questions waiting for the embedding model
    # what each recent answer card answered, so a "not helpful" vote can show moderators the question and offer the
    # asker the runners-up; in memory only, the newest few thousand
    _asked: OrderedDict[tuple[int, int], Asked] = field(default_factory=OrderedDict)

    def remember_question(self, chat_id: int, message_id: int, asked: Asked) -> None:
        self._asked[(chat_id, message_id)] = asked
        while len(self._asked) > ASKED_MEMORY:
            self._asked.popitem(last=False)

    def asked_question(self, chat_id: int, message_id: int) -> Asked | None:
        return self._asked.get((chat_id, message_id))

    def forget_questions(self, chat_id: int) -> None:
        """Drop what this chat's cards answered (``/forget``): a later vote on them flags no question."""
        for key in [k for k in self._asked if k[0] == chat_id]:
            del self._asked[key]

    def is_moderator_id(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.moderators


def services(context: Any) -> Services:
    """The shared services, from a handler's context."""
    return context.application.bot_data[KEY]  # type: ignore[no-any-return]
