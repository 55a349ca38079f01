"""Tests of the local Bot API stand-in (tests/botapi.py), driven by a real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import threading
import time

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from tests.botapi import BOT_USERNAME, BotAPI, compute_entities, parse_html

TOKEN = "123:TEST"


@pytest.fixture
async def bot(api: BotAPI):
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as tg_bot:
        yield tg_bot


def test_sync_context_manager_and_urls() -> None:
    with BotAPI() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/bot"
        assert server.base_file_url == f"http://127.0.0.1:{server.port}/file/bot"
        response = httpx.get(f"{server.base_url}{TOKEN}/getMe")
        assert response.json()["result"]["username"] == BOT_USERNAME
    with pytest.raises(RuntimeError):
        _ = server.base_url


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123
    assert me.is_bot
    assert me.username == BOT_USERNAME
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is True


async def test_send_message_is_recorded(api: BotAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sources", callback_data="src:1")]])
    message = await bot.send_message(42, "<b>Hello</b> 世界", parse_mode="HTML", reply_markup=keyboard)
    assert message.text == "Hello 世界"  # Telegram returns the text after entity parsing
    assert message.from_user.username == BOT_USERNAME
    assert message.chat.id == 42
    assert message.reply_markup == keyboard
    [record] = api.sent("sendMessage", chat_id=42)
    assert record.params["chat_id"] == 42
    assert record.params["text"] == "<b>Hello</b> 世界"
    assert record.params["parse_mode"] == "HTML"
    assert record.params["reply_markup"] == keyboard.to_dict()
    assert record.callback_data == ["src:1"]
    assert record.result["message_id"] == message.message_id
    assert api.sent(chat_id=7) == []
    second = await bot.send_message(42, "again", reply_to_message_id=message.message_id)
    assert second.message_id == message.message_id + 1
    assert second.reply_to_message.message_id == message.message_id


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"text": "<b>unclosed", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<div>x</div>", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "1 < 2", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "   "}, "message text is empty"),
        (
            {"text": "hi", "reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])},
            "button_data_invalid",
        ),
    ],
)
async def test_send_message_validation(api: BotAPI, bot: Bot, kwargs: dict, expected: str) -> None:
    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(42, **kwargs)
    assert expected in excinfo.value.message.lower()
    assert api.sent("sendMessage") == []
    [failed] = api.sent("sendMessage", include_failed=True)
    assert failed.ok is False
    assert failed.error_code == 400


async def test_limits_are_not_off_by_one(bot: Bot) -> None:
    await bot.send_message(42, "x" * 4096)
    await bot.send_message(42, "<i>" + "y" * 4096 + "</i>", parse_mode="HTML")  # the limit applies after entity parsing
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="é" * 32)]])  # 64 bytes
    await bot.send_message(42, "ok", reply_markup=keyboard)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB 22.2+: int retry_after is deprecated
async def test_retry_after(api: BotAPI, bot: Bot) -> None:
    api.fail_retry_after("sendMessage", 3)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(42, "hi")
    retry_after = excinfo.value.retry_after
    seconds = retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after
    assert seconds == 3
    assert (await bot.send_message(42, "hi")).text == "hi"  # only the next call failed


async def test_forbidden_for_one_chat_only(api: BotAPI, bot: Bot) -> None:
    api.fail_blocked("sendMessage", chat_id=42, times=None)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hi")
    with pytest.raises(Forbidden):
        await bot.send_message(42, "hi again")
    await bot.send_message(43, "other user")
    api.clear_faults()
    await bot.send_message(42, "unblocked")


async def test_edit_errors_and_migration(api: BotAPI, bot: Bot) -> None:
    message = await bot.send_message(-1001, "draft")
    api.fail_edit_not_found()
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("final", chat_id=-1001, message_id=message.message_id)
    edited = await bot.edit_message_text("final", chat_id=-1001, message_id=message.message_id)
    assert edited.text == "final"
    assert api.message(-1001, message.message_id)["text"] == "final"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("final", chat_id=-1001, message_id=message.message_id)
    api.fail_migrated("sendMessage", -1009999)
    with pytest.raises(ChatMigrated) as excinfo:
        await bot.send_message(-1001, "hi")
    assert excinfo.value.new_chat_id == -1009999


async def test_slow_response_times_out(api: BotAPI, bot: Bot) -> None:
    api.delay("sendMessage", 0.3)
    with pytest.raises(TimedOut):
        await bot.send_message(42, "slow", read_timeout=0.05)
    # Like Telegram, the message is still delivered even though the client gave up.
    record = await api.wait_for_async(method="sendMessage", timeout=1)
    assert record.params["text"] == "slow"


async def test_unknown_method_and_bad_token(api: BotAPI) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}{TOKEN}/sendFooBar", data={"chat_id": "1"})
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    with BotAPI(token=TOKEN) as strict_token:
        assert httpx.get(f"{strict_token.base_url}999:OTHER/getMe").status_code == 401


async def test_commands_menu_and_chat_member(api: BotAPI, bot: Bot) -> None:
    scope = BotCommandScopeChat(-1001)
    await bot.set_my_commands([BotCommand("check", "Check a claim")], scope=scope, language_code="zh")
    await bot.set_my_commands([BotCommand("start", "Start")])
    assert [c.command for c in await bot.get_my_commands(scope=scope, language_code="zh")] == ["check"]
    assert api.commands() == [{"command": "start", "description": "Start"}]
    [record, _] = api.sent("setMyCommands")
    assert record.params["scope"] == {"type": "chat", "chat_id": -1001}
    assert record.params["language_code"] == "zh"
    await bot.delete_my_commands(scope=scope, language_code="zh")
    assert api.commands(scope={"type": "chat", "chat_id": -1001}, language_code="zh") == []
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Check", "uppercase is invalid")])

    await bot.set_chat_menu_button()
    api.set_member(-1001, 42, "administrator")
    api.set_member(-1001, 43, "creator")
    assert (await bot.get_chat_member(-1001, 42)).status == "administrator"
    assert (await bot.get_chat_member(-1001, 43)).status == "creator"
    assert (await bot.get_chat_member(-1001, 44)).status == "member"
    chat = await bot.get_chat(-1001)
    assert chat.type == "supergroup"
    assert await bot.leave_chat(-1001)
    assert api.members[(-1001, 123)] == "left"


async def test_callback_and_inline_answers(api: BotAPI, bot: Bot) -> None:
    update = api.push(api.callback_query(42, 42, 1, "src:1"))
    assert await bot.answer_callback_query(update["callback_query"]["id"], text="ok")
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(update["callback_query"]["id"], text="x" * 201)
    query = api.push(api.inline_query(42, "police station"))["inline_query"]
    results = [InlineQueryResultArticle(str(i), f"r{i}", InputTextMessageContent("t")) for i in range(51)]
    with pytest.raises(BadRequest, match=r"(?i)results_too_much"):
        await bot.answer_inline_query(query["id"], results)
    assert await bot.answer_inline_query(query["id"], results[:50])
    assert len(api.sent("answerInlineQuery")[0].params["results"]) == 50


async def test_send_photo_upload_and_download(api: BotAPI, bot: Bot) -> None:
    data = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    message = await bot.send_photo(42, photo=data, caption="<b>Bild</b> 图片", parse_mode="HTML")
    assert message.caption == "Bild 图片"
    [record] = api.sent("sendPhoto")
    assert record.files["photo"].data == data
    assert record.params["caption"] == "<b>Bild</b> 图片"
    tg_file = await bot.get_file(message.photo[-1].file_id)
    assert bytes(await tg_file.download_as_bytearray()) == data


async def test_get_updates_long_poll(api: BotAPI, bot: Bot) -> None:
    threading.Timer(0.2, lambda: api.push(api.private_message(42, "late"))).start()
    started = time.monotonic()
    updates = await bot.get_updates(timeout=1)
    assert 0.1 < time.monotonic() - started < 1.0
    assert [u.message.text for u in updates] == ["late"]
    api.push(api.private_message(42, "second"))
    again = await bot.get_updates(offset=updates[0].update_id)  # not confirmed yet -> delivered again
    assert [u.message.text for u in again] == ["late", "second"]
    assert await bot.get_updates(offset=again[-1].update_id + 1, timeout=0) == ()
    assert api.pending_updates == []


def test_update_builders_parse_with_ptb() -> None:
    api = BotAPI()
    tg_bot = Bot(TOKEN)
    command = Update.de_json(api.push(api.private_message(42, "/start", language_code="de")), tg_bot)
    assert command.message.entities[0].type == "bot_command"
    assert command.message.entities[0].offset == 0
    assert command.effective_user.language_code == "de"

    group = api.group_message(-1001, 42, "@factcheck_test_bot is this true?", reply_to=command.message.to_dict())
    parsed = Update.de_json(api.push(group), tg_bot)
    assert parsed.message.parse_entities(["mention"]) == {parsed.message.entities[0]: "@factcheck_test_bot"}
    assert parsed.message.reply_to_message.text == "/start"

    photo = Update.de_json(api.push(api.private_message(42, photo=True, caption="look", forward_from_name="X")), tg_bot)
    assert photo.message.photo and photo.message.caption == "look"
    assert photo.message.forward_origin.sender_user_name == "X"
    assert Update.de_json(api.push(api.private_message(42, sticker="😀")), tg_bot).message.sticker.emoji == "😀"

    forward = Update.de_json(api.push(api.automatic_forward(-1001, -1002, "channel post")), tg_bot)
    assert forward.message.is_automatic_forward
    assert forward.message.sender_chat.type == "channel"

    member = Update.de_json(api.push(api.my_chat_member(-1001, 42, "left", "administrator")), tg_bot)
    assert member.my_chat_member.new_chat_member.status == "administrator"
    assert member.my_chat_member.new_chat_member.user.username == BOT_USERNAME

    edited = Update.de_json(api.push(api.edited_message(group, "edited")), tg_bot)
    assert edited.edited_message.text == "edited"
    assert edited.edited_message.edit_date is not None

    cbq = Update.de_json(api.push(api.callback_query(42, 42, 99, "src:1")), tg_bot)
    assert cbq.callback_query.data == "src:1"
    assert cbq.callback_query.from_user.language_code == "de"  # users are remembered between builders
    assert cbq.callback_query.message.from_user.username == BOT_USERNAME
    inline = Update.de_json(api.push(api.inline_query(42, "query")), tg_bot)
    assert inline.inline_query.query == "query"
    ids = [u["update_id"] for u in api.pending_updates]
    assert ids == list(range(1, len(ids) + 1))


def test_helpers() -> None:
    text = "hi /check@factcheck_test_bot 😀 @someone"
    assert [e["type"] for e in compute_entities(text)] == ["bot_command", "mention"]
    assert compute_entities("😀 @someone")[0]["offset"] == 3  # UTF-16 code units
    assert parse_html('<a href="https://x">x</a> &amp; <tg-spoiler>s</tg-spoiler>') == "x & s"
    with pytest.raises(ValueError, match="Unmatched end tag"):
        parse_html("<b><i>x</b></i>")


def test_wait_for_threads_and_timeout() -> None:
    with BotAPI() as server:
        url = f"{server.base_url}{TOKEN}/sendMessage"
        threading.Timer(0.1, lambda: httpx.post(url, data={"chat_id": "5", "text": "x"})).start()
        record = server.wait_for(lambda r: r.text == "x", timeout=2)
        assert record.chat_id == 5
        mark = server.mark()
        with pytest.raises(TimeoutError):
            server.wait_for(method="sendMessage", after=mark, timeout=0.1)


async def test_wait_for_refuses_to_block_the_event_loop(api: BotAPI) -> None:
    with pytest.raises(RuntimeError, match="wait_for_async"):
        api.wait_for(timeout=0.1)


async def test_application_end_to_end(api: BotAPI) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
        await update.message.reply_text("Welcome", reply_markup=keyboard)

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("More details")

    application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).base_file_url(api.base_file_url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(more))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            api.push(api.private_message(42, "hello bot"))
            reply = await api.wait_for_async(method="sendMessage", chat_id=42, timeout=2)
            assert reply.params["text"] == "hello bot"

            mark = api.mark()
            api.push(api.group_message(-1001, 42, f"/start@{BOT_USERNAME}"))
            welcome = await api.wait_for_async(method="sendMessage", chat_id=-1001, after=mark, timeout=2)
            assert welcome.params["text"] == "Welcome"
            assert welcome.callback_data == ["more"]

            mark = api.mark()
            api.push(api.callback_query(42, -1001, welcome.result["message_id"], "more"))
            edit = await api.wait_for_async(method="editMessageText", after=mark, timeout=2)
            assert edit.result["text"] == "More details"
            assert api.sent("answerCallbackQuery", include_failed=True)[0].ok
        finally:
            await application.updater.stop()
            await application.stop()
    await asyncio.sleep(0)
    assert api.pending_updates == []  # the updater confirmed everything on shutdown
