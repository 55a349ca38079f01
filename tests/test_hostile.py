"""Hostile input: whatever people (or forged clients) send, and whatever lands in the knowledge files, the bot neither
crashes nor sends Telegram anything it would refuse, and never lets injected markup through.

Property-based (hypothesis) over the core (``fold``, ``read_language``, ``Matcher.search``, the renderers and replies)
and over callback data, then end to end through the Bot API stand-in with a few dozen hostile updates.

The property tests try ``FUZZ_EXAMPLES`` inputs each (default 200, so the suite stays fast) and are derandomized, so
CI sees the same inputs on every run. The long fuzz run::

    FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/test_hostile.py -k "not end_to_end" \\
        --hypothesis-show-statistics

``FUZZ_RANDOM=1`` turns derandomization off, so that each run (or ``--hypothesis-seed=N``) explores new inputs.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import math
import os
import re
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import languages
from bot.facts import MAX_ANSWER, MAX_ID, KnowledgeBase, load_knowledge, require_knowledge
from bot.matching import Candidate, Match, Matcher
from bot.render import MESSAGE_LIMIT, Card, render_answer, render_match, render_short
from bot.replies import (
    CALLBACK_LIMIT,
    Callback,
    Reply,
    answer_reply,
    deep_link,
    group_reply,
    inline_description,
    lang_reply,
    match_reply,
    other_side_reply,
    parse_callback,
    settings_reply,
    sources_reply,
    start_reply,
    topic_reply,
    topics_reply,
)
from bot.text import MAX_MATCH_CHARS, Aliases, fold, read_language
from tests.botapi import BOT_USERNAME, BotAPI, parse_html
from tests.harness import ADMIN, ALICE, BOB, GROUP, Bot, running, settings_for
from tests.test_render import assert_valid_telegram_html

FIXTURE = Path(__file__).parent / "fixtures" / "good"
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,  # a slow CI machine must not turn a slow example into a failure
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    suppress_health_check=list(HealthCheck),  # big inputs are the point here
    print_blob=True,
)

# --- hostile text ---------------------------------------------------------------------------------------------

CANARY = "QZX7"  # in every injected snippet, in no knowledge file: a reply containing it echoed the question
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f"
CONTROLS = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f\u2028\u2029\ue000\U000e0001\U0010ffff"
SURROGATES = "\ud800\udbff\udc00\udfff"
INJECTIONS = (
    f"<b>{CANARY}</b>", f'<a href="javascript:alert(\'{CANARY}\')">{CANARY}</a>', f"</i>{CANARY}", "</b></a>",
    "&amp;", "&lt;b&gt;", "&#0;", "&#xD800;", "&#99999999;", "&bogus;", "&", "<", ">", '"', "'",
    f"*{CANARY}*", f"_{CANARY}_", f"[{CANARY}](tg://user?id=1)", f"`{CANARY}`", f"```{CANARY}```",
    f"<script>{CANARY}</script>", f"<!--{CANARY}-->", f"<![CDATA[{CANARY}]]>", "<?xml ?>", f"<tg-spoiler>{CANARY}",
    f'<span class="tg-spoiler">{CANARY}</span>', f"<a href='http://{CANARY}.example'>",
    f'<img src=x onerror="{CANARY}">',
    f'<a href="tg://user?id=1">{CANARY}</a>', f"<pre><code class=\"language-{CANARY}\">", "\\", "%00", "${jndi:x}",
    "{lang}", "{0}", "%s", f"@{BOT_USERNAME}", "/start", f"/ask {CANARY}",
)
QUESTIONS = (  # real questions, so that the hostile texts around them also reach answer cards
    "how many police stations are there abroad", "海外警察站有多少个", "海外警察站是不是設在中國大使館裡面？",
    "are the police stations inside the embassy", "The Chinese police stations are all inside the embassies.",
    "what did the UK find about the chinese police stations", "Safeguard Defenders", "what does the ministry say",
    "¿Cuántas comisarías chinas hay en el extranjero?", "Wie viele chinesische Polizeistationen gibt es?",
    "Czy Chiny mają posterunki policji w Polsce?", "中国の警察署は海外にありますか", "중국 경찰서", "Сколько станций",
)
MARKS = ("\u0301", "\u0336", "\u20dd", "\u0489", "\u0e49", "\u302a", "\u0345", "\U0001d167")

any_char = st.characters(exclude_categories=())  # all of Unicode: controls, unassigned, private use, surrogates
special = st.sampled_from(BIDI + ZERO_WIDTH + CONTROLS + SURROGATES)


def combining_flood(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda c, mark, n: c + mark * n, base, st.sampled_from(MARKS), st.integers(1, 5000))


pieces = st.one_of(
    st.text(any_char, max_size=40), st.sampled_from(INJECTIONS), st.sampled_from(QUESTIONS), special,
    st.text(special, min_size=1, max_size=20), combining_flood(any_char),
)
long_text = st.builds(
    lambda parts, size: ("".join(parts) * (size // max(1, len("".join(parts))) + 1))[:size],
    st.lists(pieces, min_size=1, max_size=4), st.integers(2000, 100_000),
)
hostile_text = st.one_of(
    st.text(any_char, max_size=300),
    st.lists(pieces, max_size=12).map("".join),
    long_text,
)
hints = st.one_of(st.none(), st.sampled_from(("en", "zh-hans", "zh-TW", "zh", "pt-BR", "de", "xx", "", "EN_us")),
                  st.text(any_char, max_size=12))

_FOLDED = regex.compile(r"(?:[\p{L}\p{N}]+(?: [\p{L}\p{N}]+)*)?")


def assert_telegram_html(text: str) -> str:
    """Valid for Telegram's HTML mode (only b, i, a with an http(s) href; balanced; nothing Telegram would refuse),
    within the message limit, not empty; returns the text Telegram would show."""
    assert_valid_telegram_html(Card(text, ""))
    plain = parse_html(text)
    assert plain.strip(), "an empty message"
    assert len(plain.strip()) <= MESSAGE_LIMIT
    return plain


def assert_reply(reply: Reply | Card) -> str:
    plain = assert_telegram_html(reply.html)
    for row in getattr(reply, "buttons", ()):
        for button in row:
            assert button.text.strip()
            if button.data is not None:
                assert len(button.data.encode()) <= CALLBACK_LIMIT
                assert parse_callback(button.data) is not None, button.data
    return plain


def assert_no_echo(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text


# --- the core, on questions -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def names(kb: KnowledgeBase) -> Aliases:
    """The knowledge's names, as the matcher reads a question's language with them."""
    return Aliases(kb.names, within=kb.within)


@FUZZ
@given(question=hostile_text, hint=hints)
def test_core_on_any_question_never_raises_is_deterministic_and_replies_are_valid(
    question: str, hint: str | None, kb: KnowledgeBase, matcher: Matcher, names: Aliases
) -> None:
    folded = fold(question)
    assert folded == fold(question)
    assert _FOLDED.fullmatch(folded), "fold keeps letters and digits, single spaces between words"
    assert len(folded) <= 3 * MAX_MATCH_CHARS

    reading = read_language(question, hint, names)
    assert reading.lang in languages.SUPPORTED

    match = matcher.search(question, hint)  # reads the language again: the same reading each time
    assert match == matcher.search(question, hint)
    assert match.lang == reading.lang and match.status in ("answer", "uncertain", "none")
    assert len(match.candidates) <= 3 and (match.status == "none") == (not match.candidates)
    assert all(math.isfinite(c.score) and c.score >= 0 for c in match.candidates)

    for recorded in (False, True):
        card = render_match(match, kb, recorded=recorded)
        assert card == render_match(match, kb, recorded=recorded)
        assert_reply(card)
        assert_no_echo(card.html, card.text)
    for question_id in (None, 17):
        reply = match_reply(match, kb, question_id=question_id)
        assert reply == match_reply(match, kb, question_id=question_id)
        assert_reply(reply)
        assert_no_echo(reply.html, reply.text, *(b.text for row in reply.buttons for b in row))


@FUZZ
@given(question=hostile_text, hint=hints)
def test_the_small_fixture_matcher_too(question: str, hint: str | None, small_kb: KnowledgeBase,
                                       small_matcher: Matcher) -> None:
    match = small_matcher.search(question, hint)
    assert match == small_matcher.search(question, hint)
    reply = match_reply(match, small_kb, question_id=1)
    assert_reply(reply)
    assert_no_echo(reply.html, reply.text)


# --- the core, on hostile knowledge ---------------------------------------------------------------------------

_knowledge_char = st.characters(exclude_categories=("Cs",))  # YAML files are UTF-8: no lone surrogates
_knowledge_piece = st.one_of(st.text(_knowledge_char, max_size=30), st.sampled_from(INJECTIONS),
                             st.sampled_from(BIDI + ZERO_WIDTH + CONTROLS), combining_flood(_knowledge_char))


@functools.cache
def knowledge_text(max_size: int) -> st.SearchStrategy[str]:
    """A text a moderator (or an attacker with write access to the files) could put in a field of this size; the
    validator strips it and requires something left."""
    short = st.lists(_knowledge_piece, min_size=1, max_size=8).map("".join)
    long = st.builds(lambda s, n: (s * (n // max(1, len(s)) + 1))[:n], short, st.integers(200, max_size))
    text = st.one_of(short, short, long) if max_size > 200 else short
    return text.map(lambda s: s[:max_size]).map(lambda s: s if s.strip() else s + "x")


_host = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}", fullmatch=True)
_url_tail = st.text(st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), exclude_characters='"'),
                    max_size=60)
urls = st.builds(lambda scheme, host, tail, n: f"{scheme}://{host}/{tail * n}", st.sampled_from(("http", "https")),
                 _host, _url_tail, st.sampled_from((1, 1, 1, 30, 200)))


@functools.cache
def _fixture_kb() -> KnowledgeBase:
    return require_knowledge(FIXTURE)


@st.composite
def hostile_knowledge(draw: st.DrawFn) -> KnowledgeBase:
    """The fixture with its titles, answers, claimants, quotes, source titles, publishers, urls and topic titles
    replaced by hostile text (within the validator's limits: answers at most MAX_ANSWER characters)."""
    base = _fixture_kb()

    def text(max_size: int) -> str:
        return draw(knowledge_text(max_size))

    entries = []
    for e in base.entries:
        claimant = None
        if e.claimant is not None or draw(st.booleans()):
            claimant = {lang: text(300) for lang in ("en", "zh-Hans", "zh-Hant")}
        citations = tuple(c.model_copy(update={"quote": draw(st.none() | knowledge_text(400))}) for c in e.sources)
        entries.append(e.model_copy(update={
            "title": {lang: text(2000) for lang in e.title},
            "answer": {lang: text(MAX_ANSWER) for lang in e.answer},
            "claimant": claimant,
            "sources": citations,
        }))
    sources = {
        sid: s.model_copy(update={"title": text(2000), "publisher": text(2000), "url": draw(urls),
                                  "archive_url": draw(st.none() | urls)})
        for sid, s in base.sources.items()
    }
    topics = tuple(tp.model_copy(update={"title": {lang: text(300) for lang in tp.title}}) for tp in base.topics)
    kb = KnowledgeBase(entries=tuple(entries), sources=sources, topics=topics, version=base.version,
                       updated=base.updated, directory=base.directory)
    return kb


def _formatted(card_html: str) -> bool:
    """Whether a card kept its formatting (the last resort for absurd lengths is escaped plain text)."""
    return "<b>" in card_html


@FUZZ
@given(kb=hostile_knowledge(), lang=st.sampled_from(languages.SUPPORTED), page=st.integers(-2, 5),
       foreign=st.booleans(), status=st.sampled_from(("answer", "uncertain", "none")),
       question_id=st.none() | st.just(7))
def test_hostile_knowledge_renders_valid_html_with_the_text_only_escaped(
    kb: KnowledgeBase, lang: str, page: int, foreign: bool, status: str, question_id: int | None
) -> None:
    for entry in kb.entries:
        title = entry.text("title", lang)
        full = render_answer(entry, kb, lang)
        plain = assert_reply(full)
        if _formatted(full.html):
            assert f"<b>{html.escape(title)}</b>" in full.html and title in plain
            if entry.claimant:
                assert html.escape(entry.text("claimant", lang)) in full.html
            publisher = kb.cited(entry)[0][0].publisher
            assert f">{html.escape(publisher)}</a>" in full.html and publisher in plain
        else:
            assert plain.startswith(full.text[:100])
        short = render_short(entry, kb, lang, deep_link(BOT_USERNAME, entry.id))
        plain = assert_reply(short)
        if _formatted(short.html):
            assert f"<b>{html.escape(title)}</b>" in short.html and title in plain
        for reply in (answer_reply(entry, kb, lang), sources_reply(entry, kb, lang), other_side_reply(entry, kb, lang),
                      group_reply(entry, kb, lang, BOT_USERNAME)):
            assert_reply(reply)
        sources = sources_reply(entry, kb, lang)
        if _formatted(sources.html):
            assert html.escape(title) in sources.html
        inline_description(entry, lang)
    for tp in kb.topics:
        assert_reply(topic_reply(kb, tp.id, lang, page))
    assert_reply(topics_reply(kb, lang, page))
    assert_reply(start_reply(kb, lang, tuple(e.id for e in kb.entries)))

    candidates = tuple(Candidate(e, 0.5) for e in kb.entries[: 1 if status == "answer" else 3])
    match = Match("q", lang, status, () if status == "none" else candidates, foreign)  # type: ignore[arg-type]
    assert_reply(render_match(match, kb, recorded=question_id is not None))
    assert_reply(match_reply(match, kb, question_id=question_id))


def test_every_bundled_entry_and_reply_is_valid_in_every_language(kb: KnowledgeBase) -> None:
    for lang in languages.SUPPORTED:
        for entry in kb.entries:
            for reply in (answer_reply(entry, kb, lang), sources_reply(entry, kb, lang),
                          other_side_reply(entry, kb, lang), group_reply(entry, kb, lang, BOT_USERNAME)):
                assert_reply(reply)
        for tp in kb.topics:
            assert_reply(topic_reply(kb, tp.id, lang, 0))
        assert_reply(topics_reply(kb, lang))


_FIXTURE_URL = "https://example.gov/press"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)", "javascript://example.org/%0aalert(1)", "data:text/html,<script>alert(1)</script>",
        "mailto:someone@example.org", "tg://user?id=1", "ftp://example.org/file", "file:///etc/passwd",
        "https://example.org/a b", "https://exa mple.org/", "https://example.org/\tx",
        "https://example.org/\nx", 'https://example.org/"><script>', 'https://example.org/a"b', "https://",
        "https:///path", "http:example.org", "//example.org/x", "example.org", "", "https//example.org",
        # once accepted by mistake: a port or user with no host, hidden characters
        *(pytest.param(url, id=why)
          for url, why in (("https://:443/", "a port, no host"), ("https://user@/", "a user, no host"),
                           ("https://example.org/\u202egnp.exe", "a bidi override"),
                           ("https://exa\u200bmple.org/", "a zero-width space in the host"),
                           ("https://example.org/\x00", "a control character"))),
    ],
)
def test_malformed_source_urls_are_rejected_by_the_validator(url: str, tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    path = knowledge / "sources" / "all.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"url: {_FIXTURE_URL}" in text
    quoted = '"' + url.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") \
        .replace("\x00", "\\0") + '"'
    path.write_text(text.replace(f"url: {_FIXTURE_URL}", f"url: {quoted}"), encoding="utf-8")
    kb, report = load_knowledge(knowledge)
    assert kb is None
    assert [p for p in report.errors if p.file.endswith("sources/all.yaml")], [str(p) for p in report.errors]


# --- callback data --------------------------------------------------------------------------------------------

_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_LANG = "(?:" + "|".join(re.escape(code) for code in languages.SUPPORTED) + ")"
#: The grammar of every callback the bot makes, written out independently of bot/replies.py.
GRAMMAR = re.compile(
    "|".join((
        rf"[eos]:{_ID}(?::{_LANG})?", rf"v:[01]:{_ID}", r"t:[0-9]{1,3}", rf"T:{_ID}:[0-9]{{1,3}}",
        rf"l:(?:{_LANG}|auto)", rf"g:(?:auto-on|auto-off|lang-(?:{_LANG}|auto))", r"n:[0-9]{1,9}",
        r"u[ad]:[0-9]{1,9}", rf"uA:[0-9]{{1,9}}:{_ID}",
    )),
    re.ASCII,
)


def in_grammar(data: str) -> bool:
    return data.isascii() and len(data) <= CALLBACK_LIMIT and GRAMMAR.fullmatch(data) is not None


def unparse(cb: Callback) -> str:
    lang = f":{cb.lang}" if cb.lang else ""
    return {
        "entry": f"e:{cb.entry_id}{lang}", "vote": f"v:{cb.value}:{cb.entry_id}", "other": f"o:{cb.entry_id}{lang}",
        "sources": f"s:{cb.entry_id}{lang}", "topics": f"t:{cb.page}", "topic": f"T:{cb.entry_id}:{cb.page}",
        "lang": f"l:{cb.value}", "group": f"g:{cb.value}", "notify": f"n:{cb.page}", "review": f"u{cb.value}:{cb.page}",
        "attach": f"uA:{cb.page}:{cb.entry_id}",
    }[cb.action]


_grammar_data = st.from_regex(GRAMMAR, fullmatch=True)
callback_data = st.one_of(
    st.text(any_char, max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.text(st.sampled_from("evostTlgnuAad:01-9zh-HansHant\u0663\uff11\u00b2 \n"), max_size=70),
    _grammar_data,
    st.tuples(_grammar_data, st.integers(0, 80), any_char).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:]),
    st.tuples(_grammar_data, st.integers(0, 80)).map(lambda t: t[0][: t[1]] + t[0][t[1] + 1:]),
)


@FUZZ
@given(data=st.none() | callback_data)
@example(data="\ud800")  # a lone surrogate: str.encode raised
@example(data="t:\u0663")  # an Arabic-Indic digit: \d took it for page 3
@example(data="n:\uff11\uff12")  # fullwidth digits
@example(data="e:" + "a" * 198)
@example(data="")
def test_parse_callback_accepts_exactly_the_bots_grammar(data: str | None) -> None:
    parsed = parse_callback(data)
    assert parsed == parse_callback(data)
    if data is None or not in_grammar(data):
        assert parsed is None, (data, parsed)
        return
    assert parsed is not None, data
    assert parse_callback(unparse(parsed)) == parsed


_entry_ids = st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12), min_size=1,
                      max_size=6).map(lambda parts: "-".join(parts)[:MAX_ID].rstrip("-"))  # every valid id


@FUZZ
@given(entry_id=_entry_ids, topic_id=_entry_ids, lang=st.sampled_from(languages.SUPPORTED),
       question_id=st.integers(1, 10**9 - 1), page=st.integers(0, 50))
def test_every_callback_the_bot_makes_round_trips(
    entry_id: str, topic_id: str, lang: str, question_id: int, page: int, small_kb: KnowledgeBase
) -> None:
    first, *others = small_kb.entries  # the first (a fact with a denial for its other side) takes the drawn id
    entries = (first.model_copy(update={"id": entry_id, "topic": topic_id}),)
    entries += tuple(e.model_copy(update={"topic": topic_id, "related": (entry_id,)}) for e in others)
    topics = (small_kb.topics[0].model_copy(update={"id": topic_id}),)
    kb = KnowledgeBase(entries=entries, sources=small_kb.sources, topics=topics, version="v", updated=small_kb.updated)
    candidates = tuple(Candidate(e, 0.5) for e in entries)
    replies = [answer_reply(e, kb, lang) for e in entries]
    replies += [match_reply(Match("q", lang, "uncertain", candidates), kb, question_id=question_id),
                match_reply(Match("q", lang, "none", ()), kb, question_id=question_id),
                topics_reply(kb, lang, page), topic_reply(kb, topic_id, lang, page), start_reply(kb, lang, (entry_id,)),
                lang_reply(lang, None), lang_reply(lang, lang, group=True), settings_reply(lang, lang, True),
                settings_reply(lang, None, False)]
    made = [b.data for r in replies for row in r.buttons for b in row if b.data]
    assert f"v:1:{entry_id}" in made and f"T:{topic_id}:0" in made and f"n:{question_id}" in made
    for data in made:
        assert in_grammar(data), data
        parsed = parse_callback(data)
        assert parsed is not None and unparse(parsed) == data


# --- end to end -----------------------------------------------------------------------------------------------

_INJECTED = f'<b>{CANARY}</b><a href="javascript:alert(1)">{CANARY}</a></i>&amp;*{CANARY}*[x](tg://user?id=1)'
_RAW_TAG = re.compile(r"<(?!/?(?:b|i|a)\b)[a-zA-Z!?/]|javascript:|tg://user")


@pytest.fixture
async def bot(api: BotAPI, tmp_path: Path) -> AsyncIterator[Bot]:
    settings_ = settings_for(api, tmp_path, asker_budget=1000, group_budget=1000)
    async for b in running(api, settings_):
        yield b


def _without_from(update: dict[str, Any], sender_chat: dict[str, Any]) -> dict[str, Any]:
    message = update["message"]
    message.pop("from")
    message["sender_chat"] = sender_chat
    return update


def _hostile_updates(api: BotAPI) -> Iterable[dict[str, Any]]:
    user = 900_000_000
    texts = [
        (_INJECTED * 1300)[:100_000],  # 100k characters
        (_INJECTED * 60)[:4096],  # exactly Telegram's limit
        "how many police stations are there abroad " + _INJECTED,  # an answer card, with markup around the question
        "海外警察站有多少个" + _INJECTED,
        f"\u202e{CANARY}\u202c\u2066<b>\u2069 are the stations in embassies\u200b\u200d\ufeff",
        "a" + "\u0301" * 50_000, "\u0336" * 4000 + CANARY, "\x00\x01\x1b\x7f\u2028\u2029" + _INJECTED,
        "&amp; &lt;b&gt; &#0; &#xD800; &#99999999; &bogus; </i></b></a>", f"*{CANARY}* _x_ `y` ```z``` [x](tg://user)",
        "\U0010ffff\ue000\U000e0001" * 100, "中国の警察署は" + _INJECTED, "   ", ".", "/start <b>x</b>",
        "/start " + "a" * 5000, "/start ../../etc/passwd", "/unknowncommand " + _INJECTED, "/lang " + _INJECTED,
    ]
    for text in texts:
        user += 1
        yield api.private_message(user, text)
    yield api.private_message(user + 1, photo=True, caption=_INJECTED)
    yield api.private_message(user + 2, photo=True, caption=(_INJECTED * 20)[:1024])
    yield api.private_message(user + 3, "The stations are inside embassies " + _INJECTED,
                              forward_from_name=f"<b>{CANARY}</b>")
    anonymous = api.private_message(user + 4, "how many stations" + _INJECTED, first_name=f"<i>{CANARY}",
                                    username="", language_code="")
    assert "language_code" not in anonymous["message"]["from"] and "username" not in anonymous["message"]["from"]
    yield anonymous
    original = api.private_message(user + 5, "how many police stations are there abroad")
    yield api.edited_message(original, "how many police stations are there abroad " + _INJECTED)

    # groups: addressed, not addressed, without a sender
    yield api.group_message(GROUP, BOB, "/ask " + _INJECTED)
    yield api.group_message(GROUP, BOB, f"/ask@{BOT_USERNAME} are the stations in embassies " + _INJECTED)
    yield api.group_message(GROUP, BOB, f"@{BOT_USERNAME} " + (_INJECTED * 200)[:4096])
    yield api.group_message(GROUP, BOB, photo=True, caption=f"@{BOT_USERNAME} {_INJECTED}")
    yield api.group_message(GROUP, BOB, _INJECTED)  # chatter: silence
    channel = api.chat(-100_777, chat_type="channel", title=f"<b>{CANARY}</b>")
    yield _without_from(api.group_message(GROUP, BOB, "/ask how many stations " + _INJECTED), channel)
    yield _without_from(api.group_message(GROUP, BOB, "/settings"), api.chat(GROUP))  # an anonymous admin
    yield _without_from(api.group_message(GROUP, BOB, "/lang"), channel)
    yield _without_from(api.group_message(GROUP, BOB, f"@{BOT_USERNAME} {_INJECTED}"), channel)
    yield api.automatic_forward(GROUP, -100_777, "The police stations are inside the embassies " + _INJECTED)
    yield api.channel_post(-100_777, "/ask " + _INJECTED)
    yield api.edited_message(api.channel_post(-100_777, "x"), _INJECTED)
    yield api.edited_message(api.group_message(GROUP, BOB, "/ask x"), "/ask " + _INJECTED)

    # inline queries
    yield api.inline_query(ALICE, (_INJECTED * 10)[:256])
    yield api.inline_query(ALICE, ("=" + _INJECTED * 10)[:256])
    yield api.inline_query(ALICE, "警" * 256)
    yield api.inline_query(user + 6, "\u202e" + "police " * 36, language_code="")

    # button presses: oversized, forged, stale, on missing or inaccessible messages
    forged = ("e:" + "a" * 198, "v:1:<b>x</b>", "v:1:no-such-entry", "t:99999", "t:999", "T:no-topic:999",
              "T:responses:999", "l:xx", "g:auto-on", "g:lang-zh-Hans", "n:999999999", "ua:1", "uA:1:response-uk",
              "e:response-uk:\u0663", "t:\u0663", "\u202ee:response-uk", _INJECTED[:64], "")
    for n, data in enumerate(forged):
        yield api.callback_query(ALICE, ALICE, 100 + n, data)  # one message each: no "message is not modified"
    yield api.callback_query(BOB, GROUP, 2, "l:zh-Hant")  # a non-admin in a group
    yield api.callback_query(BOB, GROUP, 3, "e:claim-stations-in-embassies:zh-Hant")
    inline_message = api.callback_query(ALICE, ALICE, 4, "e:response-uk")
    inline_message["callback_query"].pop("message")
    inline_message["callback_query"]["inline_message_id"] = "AgAAAxyz"
    yield inline_message
    inaccessible = api.callback_query(ALICE, ALICE, 5, "v:1:response-uk")
    inaccessible["callback_query"]["message"] = {"chat": api.chat(ALICE), "message_id": 5, "date": 0}
    yield inaccessible
    no_data = api.callback_query(ALICE, ALICE, 6, "x")
    no_data["callback_query"].pop("data")
    no_data["callback_query"]["game_short_name"] = "game"
    yield no_data

    # membership: a private chat blocks and unblocks the bot; a hostile group adds it
    yield api.my_chat_member(ALICE, ALICE, "member", "kicked", chat_type="private")
    yield api.my_chat_member(ALICE, ALICE, "kicked", "member", chat_type="private")
    yield api.my_chat_member(GROUP - 1, ADMIN, "left", "member", title=f"<b>{CANARY}</b>")


async def _settle(api: BotAPI, quiet: float = 1.0, timeout: float = 60) -> None:
    """Wait until every update was fetched and the bot has made no call for ``quiet`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen, since = api.mark(), loop.time()
    while loop.time() - since < quiet:
        await asyncio.sleep(0.05)
        assert loop.time() < deadline, "the bot did not settle"
        if api.mark() != seen or api.pending_updates:
            seen, since = api.mark(), loop.time()


async def _replies_at_least(api: BotAPI, mark: int, wanted: dict[str, int], timeout: float = 120) -> None:
    """Wait until the bot has made, since ``mark``, at least so many calls of each method (a bot that died never
    does: the test then fails here, saying which are missing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        made = Counter(c.method for c in api.sent(include_failed=True)[mark:])
        missing = {m: (made[m], n) for m, n in wanted.items() if made[m] < n}
        if not missing:
            return
        assert loop.time() < deadline, f"calls made / wanted after {timeout:.0f} s: {missing}"
        await asyncio.sleep(0.05)


_REPLY_METHODS = ("sendMessage", "editMessageText", "answerInlineQuery", "answerCallbackQuery")


def _texts(record: Any) -> list[str]:
    params = record.params
    out = [str(params.get(k)) for k in ("text", "caption") if params.get(k) is not None]
    for result in params.get("results") or []:
        out += [str(result.get(k, "")) for k in ("title", "description")]
        out.append(str((result.get("input_message_content") or {}).get("message_text", "")))
    markup = params.get("reply_markup") or {}
    if isinstance(markup, dict):
        out += [str(b.get("text", "")) for row in markup.get("inline_keyboard", []) for b in row]
    return out


async def test_end_to_end_hostile_updates_leave_the_bot_alive_and_every_reply_valid(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    read_language("warm up the language detector")  # loaded once, so that the bot never pauses long below
    caplog.set_level(logging.WARNING)
    updates = list(_hostile_updates(bot.api))
    assert len(updates) >= 60
    mark = bot.api.mark()
    for update in updates:
        bot.api.push(update)
    # until the replies counted below have come, then a quiet second: on slow days the bot paused mid-flood for one
    # second, then for more than three (the embedding model reading a batch while CI ran), and a quiet spell alone
    # counted the replies before most were sent (this failed at 3f9f43b and d4f64a0 too)
    await _replies_at_least(bot.api, mark, {"sendMessage": 30, "answerInlineQuery": 4, "answerCallbackQuery": 20})
    await _settle(bot.api, quiet=1.0)

    # still alive, and still answering
    r = await bot.reply_to(bot.api.private_message(ALICE, "How many Chinese police stations are there abroad?"))
    assert "Safeguard Defenders" in r.text and '<a href="https://' in r.text
    await _settle(bot.api, quiet=0.3)

    calls = bot.api.sent(include_failed=True)[mark:]
    failed = [f"{c.method}: {c.description}" for c in calls if not c.ok and c.method in _REPLY_METHODS]
    assert failed == []
    replies = [c for c in calls if c.method in _REPLY_METHODS]
    assert len([c for c in replies if c.method == "sendMessage"]) >= 30
    assert len([c for c in replies if c.method == "answerInlineQuery"]) == 4
    assert len([c for c in replies if c.method == "answerCallbackQuery"]) >= 20
    for call in replies:
        for text in _texts(call):
            assert CANARY not in text, (call.method, text[:200])
            assert not _RAW_TAG.search(text), (call.method, text[:200])
        if call.method in ("sendMessage", "editMessageText"):
            assert_telegram_html(call.params["text"])
    apology = "something went wrong"
    assert not any(apology in (c.text or "") for c in replies)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def test_a_photo_whose_caption_mentions_the_bot_in_a_group_is_answered(bot: Bot) -> None:
    photo = bot.api.group_message(GROUP, BOB, photo=True, caption=f"@{BOT_USERNAME} is the Dublin station closed?")
    r = await bot.reply_to(photo)
    assert r.params["reply_parameters"]["message_id"] == photo["message"]["message_id"]
    assert "start=response-ireland" in r.params["text"]
