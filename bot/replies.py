"""What the bot says, with its buttons, as plain data: no Telegram import.

Handlers turn a ``Reply`` into a Telegram message (``bot.handlers.common``); tests and the console read it directly.
Buttons carry short callback data (at most 64 bytes, Telegram's limit) in a small grammar that ``parse_callback``
reads back, rejecting anything forged or stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape as _e

from bot import languages
from bot.facts import Entry, KnowledgeBase
from bot.i18n import t, verdict_mark
from bot.matching import Match
from bot.render import MESSAGE_LIMIT, Card, first_sentence, fit, other_side, render_answer, render_match, render_short

TOPICS_PER_PAGE = 6
CALLBACK_LIMIT = 64  # bytes


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None  # callback data
    url: str | None = None
    inline_query: str | None = None  # switch to inline mode in a chat the user picks, with this query


@dataclass(frozen=True)
class Reply:
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    text: str = ""  # the plain-text form, for the console
    entry_id: str | None = None  # the entry this reply shows, if any


@dataclass(frozen=True)
class Callback:
    """A button press, read back from its callback data."""

    action: str  # "entry", "vote", "other", "sources", "topics", "topic", "lang", "group"
    entry_id: str = ""
    value: str = ""
    page: int = 0
    lang: str | None = None  # the language to answer in, when the button says


_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_CODES = "|".join(re.escape(code) for code in languages.SUPPORTED)
_LANG = rf"{_CODES}|auto"
_IN_LANG = rf"(?::(?P<lang>{_CODES}))?"  # the language the reply to this button should be in
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("entry", re.compile(rf"e:(?P<id>{_ID}){_IN_LANG}")),
    ("vote", re.compile(rf"v:(?P<value>[01]):(?P<id>{_ID})")),
    ("other", re.compile(rf"o:(?P<id>{_ID}){_IN_LANG}")),
    ("sources", re.compile(rf"s:(?P<id>{_ID}){_IN_LANG}")),
    ("topics", re.compile(r"t:(?P<page>\d{1,3})")),
    ("topic", re.compile(rf"T:(?P<id>{_ID}):(?P<page>\d{{1,3}})")),
    ("lang", re.compile(rf"l:(?P<value>{_LANG})")),
    ("group", re.compile(rf"g:(?P<value>auto-on|auto-off|lang-(?:{_LANG}))")),
    ("notify", re.compile(r"n:(?P<page>\d{1,9})")),
    ("review", re.compile(r"u(?P<value>[ad]):(?P<page>\d{1,9})")),  # moderators: attach menu, dismiss
    ("attach", re.compile(rf"uA:(?P<page>\d{{1,9}}):(?P<id>{_ID})")),  # moderators: attach to this entry
)


def parse_callback(data: str | None) -> Callback | None:
    """The callback a button carried, or None for anything this bot did not make."""
    if not data or not data.isascii() or len(data) > CALLBACK_LIMIT:  # the grammar is ASCII (no "٣" for \d)
        return None
    for action, pattern in _PATTERNS:
        m = pattern.fullmatch(data)
        if m:
            groups = m.groupdict()
            return Callback(
                action, groups.get("id") or "", groups.get("value") or "", int(groups.get("page") or 0),
                groups.get("lang"),
            )
    return None


def _data(text: str) -> str:
    assert len(text.encode()) <= CALLBACK_LIMIT, text
    return text


# --- answers --------------------------------------------------------------------------------------------------


def answer_reply(entry: Entry, kb: KnowledgeBase, lang: str) -> Reply:
    """The full answer card with its buttons: votes, the other side, sources, share."""
    card = render_answer(entry, kb, lang)
    rows: list[tuple[Button, ...]] = [
        (Button(t("btn.helpful", lang), _data(f"v:1:{entry.id}")),
         Button(t("btn.not_helpful", lang), _data(f"v:0:{entry.id}"))),
    ]
    second = [Button(t("btn.sources", lang), _data(f"s:{entry.id}:{lang}"))]
    if other_side(entry, kb):
        second.insert(0, Button(t("btn.other_side", lang), _data(f"o:{entry.id}:{lang}")))
    rows.append(tuple(second))
    rows.append((Button(t("btn.share", lang), inline_query=share_query(entry.id)),))
    return Reply(card.html, tuple(rows), card.text, entry.id)


def share_query(entry_id: str) -> str:
    """The inline query that brings up exactly one entry (used by the share button)."""
    return f"={entry_id}"


def match_reply(match: Match, kb: KnowledgeBase, *, question_id: int | None = None) -> Reply:
    """The reply to a question: the answer, "did you mean" buttons, or a plain "no answer".

    ``question_id``: the question was recorded for the moderators under this number; the reply says so and offers
    to notify the asker when it is answered.
    """
    if match.best is not None:
        reply = answer_reply(match.best.entry, kb, match.lang)
        if match.foreign:  # the card with its note ("I do not speak that language yet"), and the same buttons
            card = render_match(match, kb)
            return Reply(card.html, reply.buttons, card.text, reply.entry_id)
        return reply
    card = render_match(match, kb, recorded=question_id is not None)
    rows: list[tuple[Button, ...]]
    if match.status == "uncertain":
        rows = [(Button(_short(c.entry.text("title", match.lang)), _data(f"e:{c.entry.id}:{match.lang}")),)
                for c in match.alternatives]
    else:
        rows = [(Button("/topics", _data("t:0")),)]
    if question_id is not None:  # none of the choices may be it: the asker can still be told later
        rows.append((Button(t("btn.notify", match.lang), _data(f"n:{question_id}")),))
    return Reply(card.html, tuple(rows), card.text)


def not_helpful_reply(kb: KnowledgeBase, lang: str, alternatives: tuple[str, ...],
                      question_id: int | None = None) -> Reply:
    """The follow-up to a "not helpful" vote on an answer: the moderators will see it, and the other entries the
    question came close to (the runners-up of its match), to pick from; else the topics to browse. ``question_id``:
    the question was recorded among the unanswered ones under this number; the reply says so and offers to tell the
    asker when a moderator answers it.

    The matcher answers with the nearest checked entry, which may not cover the exact point asked (the README's
    probe9 and probe10): this is the asker's way on from there."""
    entries = [e for i in alternatives if (e := kb.entry(i)) is not None]
    text = t("not_helpful", lang) + " " + t("recorded" if question_id is not None else "flag_seen", lang)
    text += ("\n\n" + t("closer", lang)) if entries else (" " + t("try_topics", lang))
    rows = [(Button(_short(e.text("title", lang)), _data(f"e:{e.id}:{lang}")),) for e in entries]
    rows.append((Button("/topics", _data("t:0")),))
    if question_id is not None:
        rows.append((Button(t("btn.notify", lang), _data(f"n:{question_id}")),))
    return Reply(_e(text), tuple(rows), text)


def group_reply(entry: Entry, kb: KnowledgeBase, lang: str, bot_username: str) -> Reply:
    """A short answer for a group, with a deep link to the full card in a private chat."""
    card = render_short(entry, kb, lang, deep_link(bot_username, entry.id))
    return Reply(card.html, (), card.text, entry.id)


def deep_link(bot_username: str, entry_id: str) -> str:
    return f"https://t.me/{bot_username}?start={entry_id}"


def sources_reply(entry: Entry, kb: KnowledgeBase, lang: str) -> Reply:
    lines = [f"<b>{_e(t('sources', lang))}: {_e(entry.text('title', lang))}</b>"]
    plain = [f"{t('sources', lang)}: {entry.text('title', lang)}"]
    for n, (source, citation) in enumerate(kb.cited(entry), 1):
        quote = f' — “{_e(citation.quote)}”' if citation.quote else ""
        archive = f' (<a href="{_e(source.archive_url)}">archive</a>)' if source.archive_url else ""
        lines.append(f'{n}. <a href="{_e(source.url)}">{_e(source.title)}</a>{archive}, {_e(source.publisher)}, '
                     f"{_e(source.published)}{quote}")
        plain.append(f"{n}. {source.title}, {source.publisher}, {source.published} {source.url}")
    while len(lines) > 2 and len("\n".join(lines)) > MESSAGE_LIMIT:  # the sources that fit in one message
        lines.pop()
        plain.pop()
    card = fit(Card("\n".join(lines), "\n".join(plain)))
    return Reply(card.html, (), card.text, entry.id)


def other_side_reply(entry: Entry, kb: KnowledgeBase, lang: str) -> Reply:
    """The related claim or denial, as a full card (with its own buttons), or nothing when there is none."""
    sides = other_side(entry, kb)
    if not sides:
        return Reply(_e(t("not_found", lang)), (), t("not_found", lang))
    return answer_reply(sides[0], kb, lang)


# --- browsing and settings ------------------------------------------------------------------------------------


def start_reply(kb: KnowledgeBase, lang: str, examples: tuple[str, ...]) -> Reply:
    """The greeting: what the bot does, three example questions as buttons, and the privacy promise."""
    entries = [kb.by_id[i] for i in examples if i in kb.by_id][:3]
    text = f"{t('start', lang)}\n\n{t('privacy_promise', lang)}"
    rows = tuple((Button(_short(e.text("title", lang)), _data(f"e:{e.id}:{lang}")),) for e in entries)
    return Reply(_e(text), rows, text)


def topics_reply(kb: KnowledgeBase, lang: str, page: int = 0) -> Reply:
    topics = kb.topics
    pages = max(1, -(-len(topics) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = topics[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
    rows = [
        (Button(f"{_title(tp.title, lang)} ({len(kb.in_topic(tp.id))})", _data(f"T:{tp.id}:0")),) for tp in shown
    ]
    rows += _pager(page, pages, lambda p: f"t:{p}", lang)
    return Reply(_e(t("topics", lang)), tuple(rows), t("topics", lang))


def topic_reply(kb: KnowledgeBase, topic_id: str, lang: str, page: int = 0) -> Reply:
    topic = next((tp for tp in kb.topics if tp.id == topic_id), None)
    if topic is None:
        return topics_reply(kb, lang)
    entries = kb.in_topic(topic_id)
    pages = max(1, -(-len(entries) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = entries[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
    rows = [(Button(_label(e, lang), _data(f"e:{e.id}:{lang}")),) for e in shown]
    rows += _pager(page, pages, lambda p: f"T:{topic_id}:{p}", lang)
    rows.append((Button(t("btn.back", lang), _data("t:0")),))
    title = _title(topic.title, lang)
    card = fit(Card(f"<b>{_e(title)}</b>", title))
    return Reply(card.html, tuple(rows), card.text)


def lang_reply(lang: str, current: str | None, group: bool = False) -> Reply:
    prefix = "g:lang-" if group else "l:"
    rows = [(Button(("✓ " if current == code else "") + languages.NAMES[code], _data(prefix + code)),)
            for code in languages.SUPPORTED]
    rows.append((Button(("✓ " if current is None else "") + t("lang_auto", lang), _data(prefix + "auto")),))
    return Reply(_e(t("choose_lang", lang)), tuple(rows), t("choose_lang", lang))


def settings_reply(lang: str, chat_lang: str | None, auto_reply: bool) -> Reply:
    text = t("settings", lang).format(
        lang=languages.NAMES.get(chat_lang or "", t("lang_auto", lang)),
        auto=t("on" if auto_reply else "off", lang),
    )
    toggle = Button(t("btn.auto_off" if auto_reply else "btn.auto_on", lang),
                    _data("g:auto-off" if auto_reply else "g:auto-on"))
    rows = ((toggle,),) + lang_reply(lang, chat_lang, group=True).buttons
    return Reply(_e(text), rows, text)


def text_reply(key: str, lang: str, **values: object) -> Reply:
    """One of the bot's own messages, escaped for HTML."""
    text = t(key, lang).format(**values) if values else t(key, lang)
    return Reply(_e(text), (), text)


def inline_description(entry: Entry, lang: str) -> str:
    """One line for an inline result: the verdict (for claims) and the first sentence of the answer."""
    verdict = f"{verdict_mark(entry.verdict)} {t('verdict.' + entry.verdict, lang)} · " if entry.verdict else ""
    return _short(verdict + first_sentence(entry.text("answer", lang)), 200)


def _title(values: dict[str, str], lang: str) -> str:
    return values.get(lang) or values.get(languages.DEFAULT) or ""


def _label(entry: Entry, lang: str) -> str:
    mark = f"{verdict_mark(entry.verdict)} " if entry.verdict else ""
    return _short(mark + entry.text("title", lang))


def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _pager(page: int, pages: int, make: Callable[[int], str], lang: str) -> list[tuple[Button, ...]]:
    row = []
    if page > 0:
        row.append(Button(t("btn.prev", lang), _data(make(page - 1))))
    if page < pages - 1:
        row.append(Button(t("btn.next", lang), _data(make(page + 1))))
    return [tuple(row)] if row else []
