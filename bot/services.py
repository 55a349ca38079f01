"""What every handler shares: settings, the live knowledge, the store and the flood budget.

``app.py`` builds one ``Services`` at start-up and keeps it in ``application.bot_data``; handlers reach it with
``services(context)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.budget import Budget
from bot.config import Settings
from bot.live import LiveKnowledge
from bot.store import Store

KEY = "services"

#: Entries offered as example questions on /start.
EXAMPLES = ("what-are-overseas-police-stations", "claim-stations-do-not-exist", "safety-if-contacted")


@dataclass
class Services:
    settings: Settings
    live: LiveKnowledge
    store: Store
    budget: Budget
    examples: tuple[str, ...] = EXAMPLES
    last_update: float = field(default_factory=time.time)  # when an update last arrived (for health checks)
    last_auto_reply: dict[int, float] = field(default_factory=dict)  # group id -> monotonic time


def services(context: Any) -> Services:
    """The shared services, from a handler's context."""
    return context.application.bot_data[KEY]  # type: ignore[no-any-return]
