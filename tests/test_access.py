"""Every group-admin action, tried by people who may not take it: all refused, nothing changed.

(Moderator commands have the same table in tests/test_moderation_e2e.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import ChatSettings
from tests.botapi import BotAPI
from tests.harness import ADMIN, BOB, GROUP, Bot, anonymous, running, settings_for

OTHER_GROUP = -100_777
OTHER_ADMIN = 888_111  # administers OTHER_GROUP only


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with BotAPI() as api:
        api.set_member(GROUP, ADMIN, "administrator")
        api.set_member(OTHER_GROUP, OTHER_ADMIN, "administrator")
        api.set_member(GROUP, OTHER_ADMIN, "member")
        async for b in running(api, settings_for(api, tmp_path)):
            yield b


WHO = {
    "an ordinary member": lambda api, text: api.group_message(GROUP, BOB, text),
    "an admin of another group": lambda api, text: api.group_message(GROUP, OTHER_ADMIN, text),
    "an anonymous admin": lambda api, text: anonymous(api.group_message(GROUP, ADMIN, text)),
}


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize("command", ["/settings", "/lang"])
async def test_admin_commands_are_refused(bot: Bot, who: str, command: str) -> None:
    before = await bot.services.store.chat_settings(GROUP)
    reply = await bot.reply_to(WHO[who](bot.api, command))
    assert "only this group&#x27;s admins" in reply.text and not reply.callback_data
    assert await bot.services.store.chat_settings(GROUP) == before


@pytest.mark.parametrize("who", [BOB, OTHER_ADMIN])
@pytest.mark.parametrize("data", ["g:auto-on", "g:lang-zh-Hant", "l:zh-Hant", "l:auto"])
async def test_admin_buttons_are_refused(bot: Bot, who: int, data: str) -> None:
    await bot.services.store.set_chat_settings(GROUP, ChatSettings("en", False))
    ack = await bot.reply_to(bot.api.callback_query(who, GROUP, 1, data), method="answerCallbackQuery")
    assert "only this group" in ack.params["text"]
    assert await bot.services.store.chat_settings(GROUP) == ChatSettings("en", False)


async def test_the_groups_own_admin_may(bot: Bot) -> None:
    panel = await bot.reply_to(bot.api.group_message(GROUP, ADMIN, "/settings"))
    assert "g:auto-on" in panel.callback_data
    await bot.reply_to(bot.api.callback_query(ADMIN, GROUP, panel.result["message_id"], "g:auto-on"),
                       method="editMessageText")
    assert (await bot.services.store.chat_settings(GROUP)).auto_reply
