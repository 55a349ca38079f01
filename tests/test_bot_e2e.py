"""The real application against a local stand-in of the Bot API: every flow, in English and Chinese.

Each test pushes updates into the stand-in and waits for the requests the bot makes, exactly as Telegram would see
them (form-encoded bodies, HTML validated, callback data length checked).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import COMMANDS
from bot.services import Services
from bot.store import ChatSettings
from tests.botapi import BOT_USERNAME, BotAPI
from tests.harness import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    KEY,
    Bot,
    buttons,
    count,
    eventually,
    running,
    settings_for,
    start_bot,
    stop_bot,
)


@pytest.fixture
async def bot(api: BotAPI, tmp_path: Path) -> AsyncIterator[Bot]:
    async for b in running(api, settings_for(api, tmp_path)):
        yield b


# --- private chats -------------------------------------------------------------------------------------------


async def test_commands_are_registered_per_scope_and_language(bot: Bot) -> None:
    for scope, names in (("all_private_chats", COMMANDS["private"]), ("all_group_chats", COMMANDS["groups"]),
                         ("all_chat_administrators", COMMANDS["admins"])):
        english = bot.api.commands({"type": scope})
        chinese = bot.api.commands({"type": scope}, language_code="zh")
        assert [c["command"] for c in english] == list(names) == [c["command"] for c in chinese]
        assert english != chinese


async def test_start_greets_with_examples_and_privacy_promise(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "/start", language_code="en"))
    assert "overseas police stations" in r.text and "never store your name" in r.text
    assert len([d for d in buttons(r) if d.startswith("e:")]) == 3
    zh = await bot.reply_to(bot.api.private_message(ALICE + 1, "/start", language_code="zh-hans"))
    assert "你好" in zh.text and "不会保存你的名字" in zh.text


async def test_start_deep_link_opens_an_entry(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "/start response-ireland"))
    assert "Ireland" in r.text and "Sources" in r.text and "v:1:response-ireland" in buttons(r)


async def test_english_question_gets_a_sourced_card_with_buttons(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "How many Chinese police stations are there abroad?"))
    assert r.params["parse_mode"] == "HTML" and "Safeguard Defenders" in r.text and "<a href=" in r.text
    assert buttons(r)[:2] == ["v:1:how-many-stations", "v:0:how-many-stations"]
    assert "s:how-many-stations:en" in buttons(r)


async def test_traditional_question_gets_a_traditional_answer(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "海外警察站是不是設在中國大使館裡面？", language_code="en"))
    assert "來源" in r.text and "說法" in r.text


async def test_forwarded_message_is_checked_as_a_claim(bot: Bot) -> None:
    update = bot.api.private_message(
        ALICE, "BREAKING: China arrested 230,000 people through its overseas police stations!!! share",
        forward_from_name="Some Channel",
    )
    r = await bot.reply_to(update)
    assert "230,000" in r.text or "230 000" in r.text or "230000" in r.text


async def test_media_without_text_gets_an_explanation(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, photo=True))
    assert "only read text" in r.text
    r = await bot.reply_to(bot.api.private_message(ALICE, sticker="🙂", language_code="zh-hant"))
    assert "文字" in r.text


async def test_unanswerable_question_is_said_plainly_and_recorded_without_the_asker(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "What is the weather like in Lisbon tomorrow?",
                                                   first_name="Alice", username="alice_w"))
    assert "no checked answer" in r.text and "recorded" in r.text
    assert buttons(r)[0] == "t:0" and buttons(r)[1].startswith("n:")
    rows = sqlite3.connect(bot.db).execute("SELECT text, lang, count FROM unanswered").fetchall()
    assert rows == [("What is the weather like in Lisbon tomorrow?", "en", 1)]


AUCKLAND = {"紐西蘭奧克蘭有中國警察站嗎？": "關於紐西蘭", "新西兰奥克兰有中国警察站吗": "关于新西兰",
            "Is there a Chinese police station in Auckland?": "I have no checked answer yet for: New Zealand."}


async def test_a_question_about_a_country_no_entry_names_is_told_so_and_recorded(bot: Bot) -> None:
    matcher = bot.services.live.snapshot.matcher
    question, says = next((q, says) for q, says in AUCKLAND.items()
                          if (m := matcher.search(q)).best is None and m.unknown_places == ("NZ",))
    r = await bot.reply_to(bot.api.private_message(ALICE, question))
    assert r.text.startswith(says) and buttons(r)[-1].startswith("n:")
    stored = sqlite3.connect(bot.db).execute("SELECT text FROM unanswered").fetchall()
    assert stored == [(unicodedata.normalize("NFKC", question),)]  # as the bot keeps it (full-width "？" folded)


VAGUE = ["荷兰那边怎么样了", "警察站的事", "这个新闻是真的吗", "他们后来怎么样了"]


async def test_uncertain_question_offers_did_you_mean_then_answers(bot: Bot) -> None:
    matcher = bot.services.live.snapshot.matcher
    question, match = next((q, m) for q in VAGUE if (m := matcher.search(q)).status == "uncertain")
    r = await bot.reply_to(bot.api.private_message(ALICE, question))
    choices = [d for d in buttons(r) if d.startswith("e:")]
    assert r.text.startswith("我不确定") and 1 <= len(choices) <= 3
    assert choices == [f"e:{c.entry.id}:zh-Hans" for c in match.candidates]  # best first
    card = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, r.result["message_id"], choices[0]))
    assert match.candidates[0].entry.title["zh-Hans"] in card.text and "来源" in card.text


async def test_votes_are_one_per_person_and_changeable(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "/start response-uk"))
    message_id = r.result["message_id"]
    ack = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, message_id, "v:1:response-uk"),
                             method="answerCallbackQuery")
    assert "Thanks" in ack.params["text"]
    await bot.reply_to(bot.api.callback_query(ALICE, ALICE, message_id, "v:0:response-uk"),
                       method="answerCallbackQuery")
    await bot.reply_to(bot.api.callback_query(BOB, BOB, message_id, "v:0:response-uk"), method="answerCallbackQuery")
    assert await bot.services.store.votes("response-uk") == (0, 2)


# questions on an entry's subject whose match has runners-up: a "not helpful" vote offers those
CLOSE = ["did the police arrest anyone in New York?", "Is there a Chinese police station in Rotterdam?",
         "How many Chinese police stations are there abroad?"]


async def test_not_helpful_flags_the_question_once_and_offers_the_close_entries(bot: Bot) -> None:
    matcher = bot.services.live.snapshot.matcher
    question, match = next((q, m) for q in CLOSE if (m := matcher.search(q)).best and m.alternatives)
    assert match.best is not None
    entry = match.best.entry.id
    card = await bot.reply_to(bot.api.private_message(ALICE, question))
    mark = bot.api.mark()
    bot.api.push(bot.api.callback_query(ALICE, ALICE, card.result["message_id"], f"v:0:{entry}"))
    ack = await bot.api.wait_for_async(method="answerCallbackQuery", after=mark)
    follow_up = await bot.api.wait_for_async(method="sendMessage", after=mark)
    assert "Thanks" in ack.params["text"] and "recorded" in follow_up.text
    # the runners-up, the topics, and to be told when a moderator answers the question, now among the unanswered
    notify = buttons(follow_up)[-1]
    assert buttons(follow_up) == [f"e:{c.entry.id}:en" for c in match.alternatives] + ["t:0", notify]
    db = sqlite3.connect(bot.db)
    assert db.execute("SELECT rowid, text FROM unanswered").fetchall() == [(int(notify[2:]), question)]
    await eventually(lambda: count(bot.db, "flags") == 1)
    assert db.execute("SELECT entry_id, question FROM flags").fetchall() == [(entry, question)]
    ok = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, follow_up.result["message_id"], notify),
                            method="answerCallbackQuery")
    assert "send you the answer" in ok.params["text"] and count(bot.db, "subscriptions") == 1
    # the same card again: the vote stands, without a second flag or follow-up
    await bot.silence(bot.api.callback_query(ALICE, ALICE, card.result["message_id"], f"v:0:{entry}"))
    assert count(bot.db, "flags") == 1
    # a card not sent in answer to a question (a deep link) is flagged without one, and nothing follows
    r = await bot.reply_to(bot.api.private_message(ALICE, "/start response-uk"))
    await bot.silence(bot.api.callback_query(ALICE, ALICE, r.result["message_id"], "v:0:response-uk"))
    await eventually(lambda: count(bot.db, "flags") == 2)
    assert db.execute("SELECT question FROM flags ORDER BY rowid").fetchall() == [(question,), ("",)]
    assert count(bot.db, "unanswered") == 1 and await bot.services.store.votes(entry) == (0, 1)


async def test_a_chosen_entry_answers_the_question_it_was_offered_for(bot: Bot) -> None:
    """A card opened from "did you mean" or from the follow-up to a vote carries the question: "not helpful" on it
    flags that question and offers the entries not yet shown."""
    matcher = bot.services.live.snapshot.matcher
    question, match = next((q, m) for q in VAGUE if (m := matcher.search(q)).status == "uncertain"
                           and len(m.candidates) >= 2)
    offered = [c.entry.id for c in match.candidates]
    choice = await bot.reply_to(bot.api.private_message(ALICE, question))
    card = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, choice.result["message_id"],
                                                     f"e:{offered[0]}:zh-Hans"))
    follow_up = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, card.result["message_id"],
                                                          f"v:0:{offered[0]}"))
    # the question was recorded when the bot was unsure: the same number, and it is not counted again
    (number,) = sqlite3.connect(bot.db).execute("SELECT rowid FROM unanswered").fetchone()
    assert buttons(choice)[-1] == f"n:{number}"
    assert buttons(follow_up) == [f"e:{i}:zh-Hans" for i in offered[1:]] + ["t:0", f"n:{number}"]
    second = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, follow_up.result["message_id"],
                                                       f"e:{offered[1]}:zh-Hans"))
    last = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, second.result["message_id"], f"v:0:{offered[1]}"))
    assert buttons(last) == [f"e:{i}:zh-Hans" for i in offered[2:]] + ["t:0", f"n:{number}"]
    assert sqlite3.connect(bot.db).execute("SELECT count FROM unanswered").fetchall() == [(1,)]
    await eventually(lambda: count(bot.db, "flags") == 2)
    flags = sqlite3.connect(bot.db).execute("SELECT entry_id, question FROM flags ORDER BY rowid").fetchall()
    assert flags == [(offered[0], question), (offered[1], question)]


async def test_other_side_and_sources_buttons(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "/start claim-stations-do-not-exist"))
    assert "o:claim-stations-do-not-exist:en" in buttons(r)
    other = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, r.result["message_id"],
                                                      "o:claim-stations-do-not-exist"))
    assert "Official statement" in other.text
    sources = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, r.result["message_id"],
                                                        "s:claim-stations-do-not-exist"))
    assert sources.text.startswith("<b>Sources:") and sources.text.count('<a href="https://') >= 2


async def test_forged_or_stale_callback_data_changes_nothing(bot: Bot) -> None:
    for data in ("v:1:no-such-entry", "v:9:response-uk", "g:auto-on", "garbage", "e:" + "x" * 60):
        ack = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, 1, data), method="answerCallbackQuery")
        assert ack.params.get("text")  # a polite no-op
    assert count(bot.db, "votes") == 0


async def test_topics_browse_with_paging(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "/topics"))
    topic_buttons = [d for d in buttons(r) if d.startswith("T:")]
    assert topic_buttons and all(d.endswith(":0") for d in topic_buttons)
    edited = await bot.reply_to(bot.api.callback_query(ALICE, ALICE, r.result["message_id"], "T:responses:0"),
                                method="editMessageText")
    assert any(d.startswith("e:response-") for d in buttons(edited)) and "T:responses:1" in buttons(edited)


async def test_lang_choice_applies_to_the_bots_own_messages(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.private_message(ALICE, "/lang", language_code="en"))
    assert "l:zh-Hant" in buttons(r)
    await bot.reply_to(bot.api.callback_query(ALICE, ALICE, r.result["message_id"], "l:zh-Hant"),
                       method="editMessageText")
    help_ = await bot.reply_to(bot.api.private_message(ALICE, "/help", language_code="en"))
    assert "群組" in help_.text
    answer = await bot.reply_to(bot.api.private_message(ALICE, "who are Safeguard Defenders"))
    assert "Sources" in answer.text  # an English question still gets an English answer
    answer = await bot.reply_to(bot.api.private_message(ALICE, "Safeguard Defenders"))
    assert "來源" in answer.text  # a name alone is in no language: the chat's choice decides


async def test_privacy_about_and_forget(bot: Bot) -> None:
    privacy = await bot.reply_to(bot.api.private_message(ALICE, "/privacy"))
    assert "90 days" in privacy.text and "never" in privacy.text
    about = await bot.reply_to(bot.api.private_message(ALICE, "/about"))
    assert bot.services.live.snapshot.kb.version in about.text
    card = await bot.reply_to(bot.api.private_message(ALICE, "/start response-uk"))
    await bot.reply_to(bot.api.callback_query(ALICE, ALICE, card.result["message_id"], "v:1:response-uk"),
                       method="answerCallbackQuery")
    question = "How many Chinese police stations are there abroad?"
    answer = await bot.reply_to(bot.api.private_message(ALICE, question))
    lang = await bot.reply_to(bot.api.private_message(ALICE, "/lang"))
    await bot.reply_to(bot.api.callback_query(ALICE, ALICE, lang.result["message_id"], "l:zh-Hans"),
                       method="editMessageText")
    done = await bot.reply_to(bot.api.private_message(ALICE, "/forget"))
    assert "已删除" in done.text  # answered in the language that was just forgotten
    assert count(bot.db, "votes") == 0 and count(bot.db, "chat_settings") == 0
    # the question the answer card answered was forgotten too (it was only in memory): a vote now flags none
    assert bot.services.asked_question(ALICE, answer.result["message_id"]) is None
    await bot.silence(bot.api.callback_query(ALICE, ALICE, answer.result["message_id"], "v:0:how-many-stations"))
    await eventually(lambda: count(bot.db, "flags") == 1)
    assert sqlite3.connect(bot.db).execute("SELECT question FROM flags").fetchall() == [("",)]


async def test_flood_from_one_asker_gets_one_notice_and_others_still_get_answers(api: BotAPI, tmp_path: Path) -> None:
    app = await start_bot(settings_for(api, tmp_path, asker_budget=3))
    try:
        mark = api.mark()
        for _ in range(10):
            api.push(api.private_message(ALICE, "how many police stations are there"))
        api.push(api.private_message(BOB, "how many police stations are there"))
        await api.wait_for_async(method="sendMessage", chat_id=BOB, after=mark, timeout=5)
        await api.wait_for_async(lambda r: "very fast" in (r.text or ""), after=mark, timeout=5)
        to_alice = api.sent("sendMessage", chat_id=ALICE)
        assert len(to_alice) == 4 and sum("very fast" in (r.text or "") for r in to_alice) == 1
    finally:
        await stop_bot(app)


async def test_a_user_who_blocked_the_bot_does_not_break_it(bot: Bot) -> None:
    bot.api.fail_blocked("sendMessage", times=1)
    mark = bot.api.mark()
    bot.api.push(bot.api.private_message(ALICE, "Safeguard Defenders"))
    blocked = await bot.api.wait_for_async(method="sendMessage", chat_id=ALICE, after=mark, include_failed=True)
    assert blocked.error_code == 403
    r = await bot.reply_to(bot.api.private_message(BOB, "Safeguard Defenders"))
    assert r.chat_id == BOB and "Sources" in r.text


# --- groups --------------------------------------------------------------------------------------------------


async def test_group_chatter_is_ignored_and_not_stored(bot: Bot) -> None:
    await bot.silence(bot.api.group_message(GROUP, BOB, "China has 230,000 secret police agents in Europe!!"))
    await bot.silence(bot.api.group_message(GROUP, BOB, "dinner at 8? the chinese embassy is near the restaurant"))
    dump = "\n".join(str(r) for t in ("unanswered", "daily_counts") for r in
                     sqlite3.connect(bot.db).execute(f"SELECT * FROM {t}"))
    assert dump == ""


async def test_group_ask_command_answers_short_as_a_reply(bot: Bot) -> None:
    question = "what did the UK find about the chinese police stations"
    update = bot.api.group_message(GROUP, BOB, f"/ask@{BOT_USERNAME} {question}")
    r = await bot.reply_to(update)
    assert r.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert f"https://t.me/{BOT_USERNAME}?start=response-uk" in r.params["text"]
    assert r.params["text"].count("<a href=") == 2 and "Bob" not in r.text
    plain = await bot.reply_to(bot.api.group_message(GROUP, BOB, "/fact 赵立坚说海外警察站都是志愿者"))
    assert "更多" in plain.text or "完整" in plain.text or "详情" in plain.text


async def test_group_mention_and_reply_to_the_bot(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.group_message(GROUP, BOB, f"@{BOT_USERNAME} is the Dublin station closed?"))
    assert "start=response-ireland" in r.params["text"]
    follow = await bot.reply_to(bot.api.group_message(GROUP, BOB, "what about the netherlands government",
                                                      reply_to=bot.api.message(GROUP, r.result["message_id"])))
    assert follow.params["reply_parameters"]["message_id"]


async def test_ask_as_a_reply_checks_someone_elses_message_without_keeping_it(bot: Bot) -> None:
    rumour = bot.api.group_message(GROUP, BOB, "The Chinese police stations are all inside the embassies, spread it")
    await bot.silence(rumour)
    r = await bot.reply_to(bot.api.group_message(GROUP, ALICE, "/ask", reply_to=rumour["message"]))
    assert r.params["reply_parameters"]["message_id"] == rumour["message"]["message_id"]
    assert "start=claim-stations-in-embassies" in r.params["text"]
    odd = bot.api.group_message(GROUP, BOB, "my cousin says the weather in Oslo is lovely")
    await bot.silence(odd)
    await bot.reply_to(bot.api.group_message(GROUP, ALICE, "/ask", reply_to=odd["message"]))
    assert count(bot.db, "unanswered") == 0


async def test_bare_ask_explains_how(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.group_message(GROUP, BOB, "/ask"))
    assert "/ask" in r.text


async def test_added_to_a_group_introduces_itself_and_removed_forgets_it(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.my_chat_member(GROUP, ADMIN, "left", "member"))
    assert "stay silent" in r.text and "/settings" in r.text
    await bot.services.store.set_chat_settings(GROUP, ChatSettings("zh-Hant", True))
    bot.api.push(bot.api.my_chat_member(GROUP, ADMIN, "member", "left"))
    await eventually(lambda: count(bot.db, "chat_settings") == 0)


async def test_settings_are_for_admins_checked_with_telegram(bot: Bot) -> None:
    bot.api.set_member(GROUP, ADMIN, "administrator")
    refused = await bot.reply_to(bot.api.group_message(GROUP, BOB, "/settings"))
    assert "only this group&#x27;s admins" in refused.text
    panel = await bot.reply_to(bot.api.group_message(GROUP, ADMIN, "/settings"))
    assert "g:auto-on" in buttons(panel)
    message_id = panel.result["message_id"]
    no = await bot.reply_to(bot.api.callback_query(BOB, GROUP, message_id, "g:auto-on"), method="answerCallbackQuery")
    assert "only this group's admins" in no.params["text"]
    assert not (await bot.services.store.chat_settings(GROUP)).auto_reply
    await bot.reply_to(bot.api.callback_query(ADMIN, GROUP, message_id, "g:auto-on"), method="editMessageText")
    assert (await bot.services.store.chat_settings(GROUP)).auto_reply


async def test_auto_reply_answers_known_claims_once_per_cooldown(bot: Bot) -> None:
    await bot.services.store.set_chat_settings(GROUP, ChatSettings(None, True))
    index = bot.services.live.snapshot.matcher.semantic
    embedded: list[str] = []
    if index is not None:  # count what reaches the embedding model: chatter like no entry should not
        model = index.embedder

        class Counting:
            name = model.name

            def embed(self, text: str) -> Any:
                embedded.append(text)
                return model.embed(text)

        index.embedder = Counting()
    await bot.silence(bot.api.group_message(GROUP, BOB, "anyone free for dim sum on saturday?"))
    assert embedded == []
    claim = bot.api.group_message(GROUP, BOB, "the chinese police stations are inside the chinese embassies")
    r = await bot.reply_to(claim)
    assert r.params["reply_parameters"]["message_id"] == claim["message"]["message_id"]
    assert index is None or embedded == ["the chinese police stations are inside the chinese embassies"]
    await bot.silence(bot.api.group_message(GROUP, BOB, "the chinese police stations are inside the embassies"))


async def test_automatic_channel_forwards_follow_the_auto_reply_setting(bot: Bot) -> None:
    post = "The Chinese police stations are all inside the Chinese embassies"
    await bot.silence(bot.api.automatic_forward(GROUP, -100_999, post))
    await bot.services.store.set_chat_settings(GROUP, ChatSettings(None, True))
    r = await bot.reply_to(bot.api.automatic_forward(GROUP, -100_999, post))
    assert "start=claim-stations-in-embassies" in r.params["text"]


# --- inline mode ---------------------------------------------------------------------------------------------


async def test_inline_query_lists_matching_cards(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.inline_query(ALICE, "dublin police station"), method="answerInlineQuery")
    results = r.params["results"]
    assert 1 <= len(results) <= 50 and results[0]["id"] == "response-ireland"
    assert results[0]["input_message_content"]["parse_mode"] == "HTML"
    assert "Sources" in results[0]["input_message_content"]["message_text"]
    assert r.params["cache_time"] == 300


async def test_inline_results_are_in_the_querys_language_as_the_matcher_reads_it(bot: Bot) -> None:
    # a Chinese name in a Spanish query: the names spelt alike in every language say nothing of the language
    r = await bot.reply_to(bot.api.inline_query(ALICE, "quienes son 保护卫士", language_code="en"),
                           method="answerInlineQuery")
    kb = bot.services.live.snapshot.kb
    first = r.params["results"][0]
    assert first["id"] == "safeguard-defenders" and first["title"] == kb.by_id["safeguard-defenders"].title["es"]


async def test_inline_results_read_the_query_in_its_language(bot: Bot) -> None:
    # "usa" is a Spanish verb here, not the United States
    query = "la policía china usa estas estaciones para presionar a la gente"
    r = await bot.reply_to(bot.api.inline_query(ALICE, query), method="answerInlineQuery")
    ids = [result["id"] for result in r.params["results"]]
    assert ids and "response-united-states" not in ids[:3]
    assert ids[0] == bot.services.live.snapshot.matcher.search(query).candidates[0].entry.id


async def test_inline_empty_query_and_share_query(bot: Bot) -> None:
    r = await bot.reply_to(bot.api.inline_query(ALICE, ""), method="answerInlineQuery")
    assert 1 <= len(r.params["results"]) <= 50
    one = await bot.reply_to(bot.api.inline_query(ALICE, "=liu-v-poland"), method="answerInlineQuery")
    assert [x["id"] for x in one.params["results"]] == ["liu-v-poland"]
    long = await bot.reply_to(bot.api.inline_query(ALICE, "警" * 256), method="answerInlineQuery")
    assert len(long.params["results"]) <= 50


# --- privacy and persistence ---------------------------------------------------------------------------------


def database_text(tmp_path: Path) -> str:
    out = []
    for path in tmp_path.glob("bot.sqlite3*"):
        out.append(path.read_bytes().decode("latin-1"))
    con = sqlite3.connect(tmp_path / "bot.sqlite3")
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        out += [" ".join(map(str, row)) for row in con.execute(f"SELECT * FROM {table}")]
    return "\n".join(out)


async def test_no_ids_names_or_group_chatter_in_the_database_and_restart_keeps_state(
    api: BotAPI, tmp_path: Path
) -> None:
    app = await start_bot(settings_for(api, tmp_path))
    bot = Bot(api, app, tmp_path / "bot.sqlite3")
    try:
        await bot.reply_to(api.private_message(ALICE, "where is the secret police office in Reykjavik harbour",
                                               first_name="Zyxwarth", username="zyx_private_user"))
        card = await bot.reply_to(api.private_message(ALICE, "/start response-uk", first_name="Zyxwarth"))
        await bot.reply_to(api.callback_query(ALICE, ALICE, card.result["message_id"], "v:1:response-uk"),
                           method="answerCallbackQuery")
        await bot.services.store.set_chat_settings(GROUP, ChatSettings("zh-Hant", False))
        await bot.silence(api.group_message(GROUP, BOB, "Qwertyuiop chatter nobody addressed to the bot",
                                            first_name="Bobbington"))
    finally:
        await stop_bot(app)
    from bot.export import export

    kb = bot.services.live.snapshot.kb
    dump = database_text(tmp_path) + "".join(export(kb, fmt) for fmt in ("json", "csv", "claimreview"))
    for secret in (str(ALICE), str(BOB), str(GROUP), str(abs(GROUP)), "Zyxwarth", "zyx_private_user",
                   "Bobbington", "Qwertyuiop"):
        assert secret not in dump, secret

    app = await start_bot(settings_for(api, tmp_path))  # restart on the same database and key
    try:
        svc: Services = app.bot_data[KEY]
        assert await svc.store.votes("response-uk") == (1, 0)
        assert (await svc.store.chat_settings(GROUP)).lang == "zh-Hant"
    finally:
        await stop_bot(app)
