"""Moderators' tools end to end: access, the edit-to-live cycle, attaching questions, notifications, flags, stats."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.facts import DEFAULT_DIR
from tests.botapi import BotAPI
from tests.harness import ADMIN, ALICE, BOB, GROUP, Bot, anonymous, buttons, count, eventually, running, settings_for

MOD = 424_242  # in MODERATOR_IDS
TEAM = -100_555  # the moderators' group (MODERATOR_CHAT_ID)
TEAMMATE = 535_353  # a member of it
COMMANDS = ("/reload", "/unanswered", "/flagged", "/stats")
ROOT = Path(__file__).resolve().parent.parent
#: how long a step that retrains the classifiers (validate, export, attaching phrasings) may take before the test
#: gives up: a guard against a hang, not a speed test (about 40 s on two cores for 14,000 phrasings, and CI machines
#: can be several times slower; bench/core.py measures the speed)
TRAINING = 300

NEW_ENTRY = """entries:
  - id: iceland-question
    kind: fact
    topic: network
    title:
      en: Is there a reported station in Iceland?
      zh-Hans: 冰岛有报道中的服务站吗？
    answer:
      en: The sources this bot uses name no station in Iceland.
      zh-Hans: 本机器人使用的来源没有提到冰岛的服务站。
    questions:
      en: [is there a chinese police station in iceland, reykjavik police station china, iceland secret station,
           chinese station in reykjavik, does iceland have one of the stations]
      zh-Hans: [冰岛有中国警察站吗, 雷克雅未克有海外警察站吗, 冰岛 秘密警察站, 冰岛有没有服务站, 冰岛的海外110]
    keywords: [Iceland, 冰岛]
    sources: [sd-patrol-persuade]
    reviewed: 2026-11-22
"""


@pytest.fixture
async def api() -> AsyncIterator[BotAPI]:
    async with BotAPI(default_member_status="left") as server:
        yield server


@pytest.fixture
async def bot(api: BotAPI, tmp_path: Path) -> AsyncIterator[Bot]:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, knowledge)
    settings = settings_for(api, tmp_path, knowledge_dir=knowledge, moderators=frozenset({MOD}), moderator_chat=TEAM)
    api.set_member(TEAM, TEAMMATE, "member")
    api.set_member(GROUP, ADMIN, "administrator")
    async for b in running(api, settings):
        yield b


async def test_everyone_else_gets_the_unknown_command_reply_and_nothing_changes(bot: Bot) -> None:
    unknown = (await bot.reply_to(bot.api.private_message(ALICE, "/frobnicate"))).text
    assert "do not know that command" in unknown
    await bot.reply_to(bot.api.private_message(ALICE, "where is the police station in atlantis please"))
    version = bot.services.live.snapshot.kb.version
    for command in COMMANDS:
        assert (await bot.reply_to(bot.api.private_message(ALICE, command))).text == unknown  # an ordinary user
        await bot.silence(bot.api.group_message(GROUP, ADMIN, command))  # an admin of another group
        await bot.silence(anonymous(bot.api.group_message(GROUP, ADMIN, command)))  # an anonymous admin
    (question,) = await bot.services.store.unanswered()
    for data in (f"ua:{question.id}", f"ud:{question.id}", f"uA:{question.id}:which-countries"):
        for who, chat in ((ALICE, ALICE), (ADMIN, GROUP)):
            ack = await bot.reply_to(bot.api.callback_query(who, chat, 1, data), method="answerCallbackQuery")
            assert "did not understand" in ack.params["text"]
    assert count(bot.db, "audit") == 0 and count(bot.db, "phrasings") == 0
    assert [u.id for u in await bot.services.store.unanswered()] == [question.id]
    assert bot.services.live.snapshot.kb.version == version


async def test_moderators_by_id_and_by_team_membership(bot: Bot) -> None:
    stats = await bot.reply_to(bot.api.private_message(MOD, "/stats"))
    assert "Last 7 days" in stats.text and "Last 30 days" in stats.text
    team = await bot.reply_to(bot.api.private_message(TEAMMATE, "/stats"))
    assert "Last 7 days" in team.text


async def test_edit_validate_reload_and_see_the_new_answer(bot: Bot, tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    before = await bot.reply_to(bot.api.private_message(ALICE, "is there a chinese police station in iceland"))
    assert "iceland-question" not in before.text and "name no station in Iceland" not in before.text

    (knowledge / "entries" / "iceland.yaml").write_text(NEW_ENTRY, encoding="utf-8")
    validate = subprocess.run([sys.executable, "-m", "bot", "validate", str(knowledge)], cwd=ROOT,
                              capture_output=True, text=True, timeout=TRAINING)
    assert validate.returncode == 0, validate.stdout
    # a reload builds the matcher anew, the model's and classifiers' parts read from files validate wrote: 5-7 s on
    # this machine on a slow day, so no fixed five seconds here either
    summary = await bot.reply_to(bot.api.private_message(MOD, "/reload"), timeout=TRAINING)
    assert "Reloaded" in summary.text and "added (1): iceland-question" in summary.text
    after = await bot.reply_to(bot.api.private_message(ALICE, "is there a chinese police station in iceland"))
    assert "name no station in Iceland" in after.text

    # a broken edit: refused with file and line; the live set keeps answering
    (knowledge / "entries" / "iceland.yaml").write_text(NEW_ENTRY.replace("kind: fact", "kind: [fact"), "utf-8")
    refused = await bot.reply_to(bot.api.private_message(MOD, "/reload"))
    assert "Reload refused" in refused.text and "iceland.yaml:" in refused.text
    still = await bot.reply_to(bot.api.private_message(ALICE, "is there a chinese police station in iceland"))
    assert "name no station in Iceland" in still.text
    assert count(bot.db, "audit") == 2


async def test_attach_unanswered_questions_live_notify_and_export(bot: Bot, tmp_path: Path) -> None:
    question = "do the overseas police stations recruit chinese students as informants"
    first = await bot.reply_to(bot.api.private_message(ALICE, question))
    notify = next(d for d in buttons(first) if d.startswith("n:"))
    ack = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, first.result["message_id"], notify),
                             method="answerCallbackQuery")
    assert "send you the answer once" in ack.params["text"]
    variant = "Do overseas police stations recruit Chinese students as informants?"
    await bot.reply_to(bot.api.private_message(BOB, variant))

    listing = await bot.reply_to(bot.api.private_message(MOD, "/unanswered"))
    assert "×2" in listing.text and question in listing.text
    attach_menu = next(d for d in buttons(listing) if d.startswith("ua:"))
    menu = await bot.reply_to(bot.api.callback_query(MOD, MOD, listing.result["message_id"], attach_menu))
    target = f"uA:{attach_menu[3:]}:what-ngo-says-they-do"
    assert buttons(menu), "the closest entries are offered"
    mark = bot.api.mark()
    bot.api.push(bot.api.callback_query(MOD, MOD, menu.result["message_id"], target))
    # attaching retrains the classifiers on the new phrasings (bot/classifier.py): seconds, not milliseconds
    notified = await bot.api.wait_for_async(method="sendMessage", chat_id=ALICE, after=mark, timeout=TRAINING)
    assert "A moderator has answered" in notified.text
    done = await bot.api.wait_for_async(method="editMessageText", after=mark, timeout=5)
    assert "Attached 2 phrasing(s) to what-ngo-says-they-do" in done.text and "1 asker(s) notified" in done.text

    answer = await bot.reply_to(bot.api.private_message(BOB, question))  # live at once, no reload
    assert "v:1:what-ngo-says-they-do" in buttons(answer)
    empty = await bot.reply_to(bot.api.private_message(MOD, "/unanswered"))
    assert "No unanswered questions" in empty.text
    assert count(bot.db, "subscriptions") == 0  # used once, then forgotten

    knowledge = tmp_path / "knowledge"
    env = {**os.environ, "DATABASE_PATH": str(bot.db), "HASH_KEY": "k" * 32}
    exported = subprocess.run([sys.executable, "-m", "bot", "export-phrasings", "--knowledge", str(knowledge)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=TRAINING)
    assert exported.returncode == 0, exported.stderr
    assert "2 phrasing(s) written" in exported.stdout
    assert question in (knowledge / "entries" / "network.yaml").read_text(encoding="utf-8")
    validate = subprocess.run([sys.executable, "-m", "bot", "validate", str(knowledge)], cwd=ROOT,
                              capture_output=True, text=True, timeout=TRAINING)
    assert validate.returncode == 0, validate.stdout
    again = subprocess.run([sys.executable, "-m", "bot", "export-phrasings", "--knowledge", str(knowledge)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=TRAINING)
    assert "0 phrasing(s) written" in again.stdout  # each phrasing is exported once


async def test_dismiss(bot: Bot) -> None:
    await bot.reply_to(bot.api.private_message(ALICE, "what time does the supermarket open on sunday"))
    listing = await bot.reply_to(bot.api.private_message(MOD, "/unanswered"))
    dismiss = next(d for d in buttons(listing) if d.startswith("ud:"))
    ack = await bot.reply_to(bot.api.callback_query(MOD, MOD, listing.result["message_id"], dismiss),
                             method="answerCallbackQuery")
    assert "Dismissed" in ack.params["text"]
    assert "No unanswered" in (await bot.reply_to(bot.api.private_message(MOD, "/unanswered"))).text


async def test_flagged_answers_show_the_question_and_stats_count(bot: Bot) -> None:
    question = "How many Chinese police stations are there abroad?"
    card = await bot.reply_to(bot.api.private_message(ALICE, question))
    # the follow-up to the vote (the close entries) comes first
    await bot.reply_to(bot.api.callback_query(ALICE, ALICE, card.result["message_id"], "v:0:how-many-stations"))
    flagged = await bot.reply_to(bot.api.private_message(MOD, "/flagged"))
    assert "how-many-stations ×1" in flagged.text and question in flagged.text
    stats = await bot.reply_to(bot.api.private_message(MOD, "/stats"))
    assert "1 questions, 100% answered" in stats.text and "how-many-stations (1)" in stats.text
    assert "0% helpful of 1 votes" in stats.text
    await eventually(lambda: count(bot.db, "flags") == 1)
