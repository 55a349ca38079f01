"""Moderators: /reload, /unanswered (attach or dismiss), /flagged, /stats, and the daily digest.

A moderator is a user listed in MODERATOR_IDS, or a member of the moderators' group (MODERATOR_CHAT_ID), checked
with Telegram on every call. Everyone else gets exactly the reply an unknown command gets. Every moderator action
goes to the audit log, the moderator as a keyed hash.
"""

from __future__ import annotations

import html
import logging

from telegram import ChatMember, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot import moderation
from bot.facts import load_knowledge
from bot.handlers.asking import on_unknown_command
from bot.handlers.common import Context, edit, send
from bot.live import ReloadResult
from bot.matching import Phrasing
from bot.replies import Button, Callback, Reply, answer_reply, text_reply
from bot.services import Services, services
from bot.text import fold

log = logging.getLogger(__name__)

DAYS = 7
LISTED = 8  # unanswered groups shown with buttons
ATTACH_CHOICES = 6


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("reload", on_reload),
        CommandHandler("unanswered", on_unanswered),
        CommandHandler("flagged", on_flagged),
        CommandHandler("stats", on_stats),
    ]


async def is_moderator(context: Context, user_id: int | None) -> bool:
    svc = services(context)
    if user_id is None:
        return False
    if svc.is_moderator_id(user_id):
        return True
    chat = svc.settings.moderator_chat
    if chat is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def _moderator(update: Update, context: Context) -> bool:
    """True for a moderator; anyone else gets the unknown-command reply, and nothing happens."""
    message = update.effective_message
    user = update.effective_user
    anonymous = message is not None and message.sender_chat is not None  # posting as a group or channel
    if not anonymous and await is_moderator(context, user.id if user else None):
        return True
    await on_unknown_command(update, context)
    return False


def _plain(text: str) -> Reply:
    return Reply(_escape(text[:4000]), (), text)


def _escape(text: str) -> str:
    return html.escape(text)


async def on_reload(update: Update, context: Context) -> None:
    if not await _moderator(update, context):
        return
    svc = services(context)
    result = await reload_knowledge(svc)
    await svc.store.audit(update.effective_user.id, "reload", "applied" if result.applied else "refused")  # type: ignore[union-attr]
    await send(update.effective_chat, _plain(moderation.reload_text(result, svc.live.snapshot.kb.version)))  # type: ignore[arg-type]


async def reload_knowledge(svc: Services) -> ReloadResult:
    """Reload the files (with the phrasings moderators attached); the old set stays live if they are invalid."""
    extra = [Phrasing(entry, text, lang) for _, entry, text, lang in await svc.store.phrasings()]
    result = await svc.live.reload(extra)
    log.info("knowledge reload %s; serving %s", "applied" if result.applied else "refused",
             svc.live.snapshot.kb.version)
    return result


async def on_unanswered(update: Update, context: Context) -> None:
    if not await _moderator(update, context):
        return
    svc = services(context)
    groups = moderation.group_questions(await svc.store.unanswered(days=DAYS))
    rows = tuple(
        (Button(f"➕ {n}. attach", f"ua:{g.head.id}"), Button(f"✖ {n}. dismiss", f"ud:{g.head.id}"))
        for n, g in enumerate(groups[:LISTED], 1)
    )
    text = moderation.unanswered_text(groups[:LISTED], DAYS)
    await send(update.effective_chat, Reply(_escape(text[:4000]), rows, text))  # type: ignore[arg-type]


async def on_flagged(update: Update, context: Context) -> None:
    if not await _moderator(update, context):
        return
    svc = services(context)
    text = moderation.flagged_text(await svc.store.flags(days=30), svc.live.snapshot.kb, 30)
    await send(update.effective_chat, _plain(text))  # type: ignore[arg-type]


async def on_stats(update: Update, context: Context) -> None:
    if not await _moderator(update, context):
        return
    svc = services(context)
    periods = [await svc.store.stats(7), await svc.store.stats(30)]
    await send(update.effective_chat, _plain(moderation.stats_text(periods, svc.live.snapshot.kb)))  # type: ignore[arg-type]


async def on_review_button(update: Update, context: Context, callback: Callback) -> None:
    """The buttons under /unanswered: open the attach choices, attach to an entry, or dismiss."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    if not await is_moderator(context, query.from_user.id):
        await query.answer(text_reply("not_understood", "en").text)
        return
    message = query.message if isinstance(query.message, Message) else None
    group = moderation.find_group(await svc.store.unanswered(days=DAYS * 5), callback.page)
    if group is None:
        await query.answer("Already handled.")
        return
    snap = svc.live.snapshot
    if callback.action == "review" and callback.value == "d":
        await svc.store.close_unanswered(group.ids, "dismissed")
        await svc.store.audit(query.from_user.id, "dismiss", f"{len(group.ids)} question(s)")
        await query.answer(f"Dismissed {group.count} question(s).")
        return
    if callback.action == "review":  # choose the entry: the closest ones to the question, as buttons
        likely = snap.matcher.language(group.head.text, group.head.lang).likely
        choices = snap.matcher.rank(group.head.text, ATTACH_CHOICES, likely)
        rows = tuple((Button(c.entry.text("title", "en")[:60], f"uA:{group.head.id}:{c.entry.id}"),) for c in choices)
        text = f"Attach “{group.head.text}” (×{group.count}) to which entry?"
        await query.answer()
        if message is not None:
            await send(message.chat, Reply(_escape(text), rows, text))
        return
    entry = snap.kb.entry(callback.entry_id)
    if entry is None:
        await query.answer("That entry no longer exists.")
        return
    taken = _taken_elsewhere(svc, entry.id, [u.text for u in group.items])
    texts = [(u.text, u.lang) for u in group.items if u.text not in taken]
    await svc.store.add_phrasings(entry.id, texts)
    await svc.store.close_unanswered(group.ids, "attached")
    await svc.store.audit(query.from_user.id, "attach", f"{len(texts)} phrasing(s) to {entry.id}")
    extra = [Phrasing(e, text, lang) for _, e, text, lang in await svc.store.phrasings()]
    await svc.live.rebuild(extra)
    notified = await _notify(context, svc, group.ids, entry.id)
    await query.answer(f"Attached {len(texts)} phrasing(s) to {entry.id}.")
    if message is not None:
        summary = (f"Attached {len(texts)} phrasing(s) to {entry.id}; live now. {notified} asker(s) notified."
                   + (f" Skipped (a phrasing of another entry): {', '.join(taken)}" if taken else ""))
        await edit(message, _plain(summary))


def _taken_elsewhere(svc: Services, entry_id: str, texts: list[str]) -> list[str]:
    """Texts that are already a phrasing of another entry: attaching them would make the knowledge invalid."""
    kb = svc.live.snapshot.kb
    owners = {fold(q).replace(" ", ""): e.id for e in kb.entries for qs in e.questions.values() for q in qs}
    return [t for t in texts if owners.get(fold(t).replace(" ", ""), entry_id) != entry_id]


async def _notify(context: Context, svc: Services, question_ids: list[int], entry_id: str) -> int:
    """Send the answer once to everyone who asked to be told; their requests are deleted as they are read."""
    snap = svc.live.snapshot
    entry = snap.kb.entry(entry_id)
    sent = 0
    for chat_id, lang in await svc.store.take_subscriptions(question_ids):
        if entry is None:
            break
        card = answer_reply(entry, snap.kb, lang)
        intro = text_reply("notified", lang)
        try:
            await context.bot.send_message(chat_id, f"{intro.html}\n\n{card.html}", parse_mode="HTML")
            sent += 1
        except TelegramError:
            log.info("a notification could not be delivered")
    return sent


async def digest(context: Context) -> None:
    """The daily digest to the moderators' group: new unanswered questions, flags, and the files' validity."""
    svc = services(context)
    chat = svc.settings.moderator_chat
    if chat is None:
        return
    groups = moderation.group_questions(await svc.store.unanswered(days=1))
    flags = await svc.store.flags(days=1)
    _, report = load_knowledge(svc.live.directory)
    text = moderation.digest_text(groups, flags, report, svc.live.snapshot.kb.version)
    try:
        await context.bot.send_message(chat, _escape(text), parse_mode="HTML")
    except TelegramError:
        log.warning("the daily digest could not be delivered")


async def watch(context: Context) -> None:
    """KNOWLEDGE_WATCH: reload when the files change, and tell the moderators' group."""
    svc = services(context)
    job = context.job
    fingerprint = svc.live.fingerprint()
    previous = job.data if job is not None else None
    if job is not None:
        job.data = fingerprint
    if previous is None or previous == fingerprint:
        return
    result = await reload_knowledge(svc)
    if svc.settings.moderator_chat is not None:
        text = moderation.reload_text(result, svc.live.snapshot.kb.version)
        try:
            await context.bot.send_message(svc.settings.moderator_chat, _escape(text[:4000]), parse_mode="HTML")
        except TelegramError:
            log.warning("the reload summary could not be delivered")

