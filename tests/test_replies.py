"""Replies as plain data: buttons, callback data within Telegram's limits, forged data rejected."""

from __future__ import annotations

import pytest

from bot.facts import KnowledgeBase
from bot.matching import Matcher
from bot.replies import (
    CALLBACK_LIMIT,
    Reply,
    answer_reply,
    lang_reply,
    match_reply,
    not_helpful_reply,
    parse_callback,
    settings_reply,
    share_query,
    start_reply,
    topic_reply,
    topics_reply,
)


def datas(reply: Reply) -> list[str]:
    return [b.data for row in reply.buttons for b in row if b.data]


def test_answer_buttons_vote_other_side_sources_share(small_kb: KnowledgeBase) -> None:
    reply = answer_reply(small_kb.by_id["claim-in-embassies"], small_kb, "en")
    assert datas(reply) == ["v:1:claim-in-embassies", "v:0:claim-in-embassies", "o:claim-in-embassies:en",
                            "s:claim-in-embassies:en"]
    assert [b.inline_query for row in reply.buttons for b in row if b.inline_query] == ["=claim-in-embassies"]
    assert reply.entry_id == "claim-in-embassies"


def test_not_helpful_follow_up_offers_the_runners_up_then_the_topics(small_kb: KnowledgeBase) -> None:
    reply = not_helpful_reply(small_kb, "zh-Hans", ("count-of-stations", "gone-entry", "claim-in-embassies"))
    assert datas(reply) == ["e:count-of-stations:zh-Hans", "e:claim-in-embassies:zh-Hans", "t:0"]
    labels = [b.text for row in reply.buttons for b in row]
    assert labels[0] == small_kb.by_id["count-of-stations"].text("title", "zh-Hans") and "管理员" in reply.text
    # nothing close: the asker is pointed to the topics instead
    alone = not_helpful_reply(small_kb, "en", ())
    assert datas(alone) == ["t:0"] and "moderators check" in alone.text and "/topics" in alone.text
    assert "close to your question" not in alone.text and "recorded" not in alone.text
    # the question recorded among the unanswered ones: said, and the asker can be told when it is answered
    recorded = not_helpful_reply(small_kb, "en", ("count-of-stations",), question_id=7)
    assert datas(recorded) == ["e:count-of-stations:en", "t:0", "n:7"] and "recorded" in recorded.text


def test_no_other_side_button_without_a_related_claim_or_denial(small_kb: KnowledgeBase) -> None:
    entry = small_kb.by_id["count-of-stations"].model_copy(update={"related": ()})
    assert not any(d.startswith("o:") for d in datas(answer_reply(entry, small_kb, "en")))


def test_uncertain_match_offers_entries_as_buttons(small_kb: KnowledgeBase, small_matcher: Matcher) -> None:
    from bot.matching import Candidate, Match

    pair = (Candidate(small_kb.entries[0], 0.5), Candidate(small_kb.entries[2], 0.4))
    match = Match("q", "zh-Hant", "uncertain", pair)
    reply = match_reply(match, small_kb)
    assert datas(reply) == ["e:count-of-stations:zh-Hant", "e:claim-in-embassies:zh-Hant"]
    assert "你是想問" in reply.html and reply.buttons[0][0].text == "報道了多少個服務站？"
    none = match_reply(small_matcher.search("best pizza in town"), small_kb, question_id=17)
    assert datas(none) == ["t:0", "n:17"] and "recorded" in none.text
    unrecorded = match_reply(small_matcher.search("best pizza in town"), small_kb)
    assert datas(unrecorded) == ["t:0"] and "recorded" not in unrecorded.text


def test_every_callback_the_bot_makes_fits_and_parses_back(kb: KnowledgeBase) -> None:
    replies = [start_reply(kb, "en", ("what-are-overseas-police-stations",)), topics_reply(kb, "en", 0),
               lang_reply("en", None), lang_reply("en", "zh-Hant", group=True), settings_reply("en", None, True)]
    replies += [topic_reply(kb, tp.id, "zh-Hant", page) for tp in kb.topics for page in range(3)]
    replies += [answer_reply(e, kb, "en") for e in kb.entries]
    for reply in replies:
        for data in datas(reply):
            assert len(data.encode()) <= CALLBACK_LIMIT
            assert parse_callback(data) is not None, data


@pytest.mark.parametrize(
    "data",
    [None, "", "x", "v:2:entry", "v:1:", "v:1:Entry", "e:../../etc", "e:a b", "t:-1", "t:99999", "l:xx",
     "g:auto-maybe", "e:" + "a" * 70, "v:1:entry;DROP TABLE votes", "T:network", "e:entry\n"],
)
def test_forged_callback_data_is_rejected(data: str | None) -> None:
    assert parse_callback(data) is None


def test_parsed_callbacks() -> None:
    assert parse_callback("v:0:claim-x") == parse_callback("v:0:claim-x")
    cb = parse_callback("T:network:2")
    assert cb is not None and (cb.action, cb.entry_id, cb.page) == ("topic", "network", 2)
    cb = parse_callback("g:lang-zh-Hant")
    assert cb is not None and (cb.action, cb.value) == ("group", "lang-zh-Hant")


def test_topics_are_paged_and_list_their_entries(kb: KnowledgeBase) -> None:
    first = topics_reply(kb, "en", 0)
    assert any("The network" in b.text for row in first.buttons for b in row)
    topic = kb.topics[0]
    entries = kb.in_topic(topic.id)
    pages = [topic_reply(kb, topic.id, "en", p) for p in range(10)]
    listed = {d.split(":")[1] for p in pages for d in datas(p) if d.startswith("e:")}
    assert listed == {e.id for e in entries}
    assert topic_reply(kb, "no-such-topic", "en").html == topics_reply(kb, "en").html


def test_share_query_brings_up_one_entry() -> None:
    assert share_query("response-ireland") == "=response-ireland"


def test_a_question_in_a_language_the_bot_does_not_speak_gets_the_note_and_the_buttons(kb: KnowledgeBase) -> None:
    from bot.matching import Candidate, Match

    entry = kb.by_id["how-many-stations"]
    reply = match_reply(Match("ile jest chińskich posterunków", "en", "answer", (Candidate(entry, 0.9),), True), kb)
    assert reply.text.startswith("I do not speak that language yet") and "v:1:how-many-stations" in datas(reply)
