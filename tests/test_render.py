"""Answer cards: content, escaping, and Telegram's length limit."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from bot.facts import Entry, KnowledgeBase
from bot.matching import Matcher
from bot.render import MESSAGE_LIMIT, Card, first_sentence, render_answer, render_match, render_short

ALLOWED_TAGS = {"b", "i", "a"}


class _TagChecker(HTMLParser):
    """Fails on any tag Telegram's HTML mode does not allow, or on an unbalanced one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, tag
        if tag == "a":
            assert [name for name, _ in attrs] == ["href"], attrs
            assert re.match(r"https?://", attrs[0][1] or "")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag


def assert_valid_telegram_html(card: Card) -> None:
    assert len(card.html) <= MESSAGE_LIMIT
    checker = _TagChecker()
    checker.feed(card.html)
    checker.close()
    assert checker.stack == []


def test_claim_card_shows_verdict_claimant_other_side_and_sources(small_kb: KnowledgeBase) -> None:
    card = render_answer(small_kb.by_id["claim-in-embassies"], small_kb, "en")
    assert "Claim · Verdict: ❌ False" in card.text
    assert "Claimed by: Posts on <b>social</b> media" in card.text  # plain text keeps the moderator's words
    assert "Claimed by: Posts on &lt;b&gt;social&lt;/b&gt; media" in card.html  # HTML escapes them
    assert "The other side" in card.text and "What did the ministry say?" in card.text
    assert '<a href="https://example.org/report?a=1&amp;b=2">An NGO</a>, 2022-09-12' in card.html
    assert "Report &lt;one&gt; &amp; &quot;friends&quot;" in card.html
    assert f"knowledge base {small_kb.version}" in card.text
    assert_valid_telegram_html(card)


def test_card_in_chinese_scripts(small_kb: KnowledgeBase) -> None:
    hans = render_answer(small_kb.by_id["count-of-stations"], small_kb, "zh-Hans")
    hant = render_answer(small_kb.by_id["count-of-stations"], small_kb, "zh-Hant")
    assert "事实" in hans.text and "来源" in hans.text and "至少有102个服务站" in hans.text
    assert "事實" in hant.text and "來源" in hant.text and "至少有102個服務站" in hant.text


def test_fact_card_shows_the_denial_as_other_side(small_kb: KnowledgeBase) -> None:
    card = render_answer(small_kb.by_id["count-of-stations"], small_kb, "en")
    assert "The other side" in card.text and "run by volunteers" in card.text
    assert "They are not police" not in card.text  # only the first sentence of the other side


def test_hostile_knowledge_text_is_escaped(small_kb: KnowledgeBase) -> None:
    entry = small_kb.by_id["count-of-stations"]
    evil = '<a href="javascript:alert(1)">x</a><script>&amp;</script>'
    hostile = entry.model_copy(update={"answer": {**entry.answer, "en": evil}, "title": {**entry.title, "en": evil}})
    card = render_answer(hostile, small_kb, "en")
    assert "<script>" not in card.html and "javascript:" not in re.findall(r'href="([^"]*)"', card.html)
    assert html.escape(evil) in card.html
    assert_valid_telegram_html(card)


def test_card_always_fits_the_message_limit(small_kb: KnowledgeBase) -> None:
    entry: Entry = small_kb.by_id["claim-in-embassies"]
    huge = entry.model_copy(update={"answer": {**entry.answer, "en": "<&> " * 3000}})
    card = render_answer(huge, small_kb, "en")
    assert_valid_telegram_html(card)
    assert "Sources" in card.text  # the answer was cut, the source kept


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("One sentence. Two.", "One sentence."),
        ("据称有102个。外交部否认。", "据称有102个。"),
        ("Dec. 2022 is when.", "Dec. 2022 is when."),
        ("The U.S. Justice Department said so. Next.", "The U.S. Justice Department said so."),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    assert first_sentence(text) == first


def test_short_card_for_groups(small_kb: KnowledgeBase) -> None:
    card = render_short(small_kb.by_id["count-of-stations"], small_kb, "en", "https://t.me/bot?start=count-of-stations")
    assert card.html.count("<a ") == 2 and "?start=count-of-stations" in card.html
    assert_valid_telegram_html(card)


def test_render_match_covers_answer_uncertain_and_none(small_kb: KnowledgeBase, small_matcher: Matcher) -> None:
    answered = render_match(small_matcher.search("how many police stations are there abroad"), small_kb)
    assert "102 stations" in answered.text
    nothing = render_match(small_matcher.search("best pizza in town"), small_kb)
    assert "no checked answer" in nothing.text and "recorded" not in nothing.text
    recorded = render_match(small_matcher.search("best pizza in town"), small_kb, recorded=True)
    assert "recorded, without your name" in recorded.text
    zh = render_match(small_matcher.search("今天天气怎么样"), small_kb)
    assert "还没有经过核实的答案" in zh.text


def test_a_question_in_a_language_the_bot_does_not_speak_is_told_which_it_does(
    small_kb: KnowledgeBase, small_matcher: Matcher
) -> None:
    russian = small_matcher.search("Какая погода будет завтра в Москве?")  # not answered, and not a language it speaks
    assert russian.foreign and russian.best is None
    card = render_match(russian, small_kb, recorded=True)
    assert card.text.startswith("I do not speak that language yet. You can ask me in English, Chinese")
    assert "no checked answer" in card.text and "recorded, without your name" in card.text
    assert_valid_telegram_html(card)
    for status in ("uncertain", "none"):  # the same note above a "did you mean" list
        candidates = () if status == "none" else small_matcher.search("how many police stations").candidates
        for foreign in (True, False):
            text = render_match(replace(russian, status=status, candidates=candidates, foreign=foreign), small_kb).text
            assert text.startswith("I do not speak that language yet") is foreign


def test_a_reply_without_an_answer_says_which_places_it_has_nothing_on(small_kb: KnowledgeBase,
                                                                       small_matcher: Matcher) -> None:
    uncertain = replace(small_matcher.search("how many police stations are there abroad"), status="uncertain")
    nothing = replace(uncertain, status="none", candidates=())
    for match in (uncertain, nothing):
        before = render_match(match, small_kb).text
        assert "Japan" not in before
        for lang, says in (("en", "no checked answer yet for: Japan and New Zealand."), ("zh-Hans", "关于日本和新西兰"),
                           ("zh-Hant", "關於日本和紐西蘭"), ("fr", "pour : Japon et Nouvelle-Zélande.")):
            card = render_match(replace(match, lang=lang, unknown_places=("JP", "NZ")), small_kb)
            assert says in card.text and says in html.unescape(card.html), (lang, card.text)
    # the same choices follow
    choices = render_match(uncertain, small_kb).text.splitlines()
    assert render_match(replace(uncertain, unknown_places=("JP",)), small_kb).text.splitlines()[1:] == choices[1:]
    assert len(choices) > 1


def test_every_bundled_entry_renders_valid_cards(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        for lang in ("en", "zh-Hans", "zh-Hant"):
            assert_valid_telegram_html(render_answer(entry, kb, lang))
            assert_valid_telegram_html(render_short(entry, kb, lang, "https://t.me/x?start=" + entry.id))
