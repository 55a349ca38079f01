"""Chinese typed in pinyin: read as such, compared with the Chinese phrasings written out in pinyin."""

from __future__ import annotations

import numpy as np
import pytest

from bot.facts import KnowledgeBase
from bot.matching import PINYIN_THRESHOLDS, Matcher
from bot.pinyin import PinyinIndex, spell
from bot.render import render_match
from bot.text import Aliases, is_pinyin, read_language
from tests.test_semantic import WordEmbedder

NAMES = (("Netherlands", "Nederland", "荷兰"), ("South Korea", "韩国"), ("Rotterdam", "鹿特丹"))
WITHIN = (("Netherlands", "Rotterdam"),)
PHRASINGS = ((0, "荷兰有中国警察站吗"), (1, "韩国有中国警察站吗"), (2, "中国海外警察站是真的吗"),
             (0, "Is there one in Holland?"))  # not in Chinese characters: left out


def test_spell_writes_chinese_in_toneless_pinyin_as_one_run() -> None:
    assert spell("荷兰有中国警察站吗？") == "helanyouzhongguojingchazhanma"
    assert spell("女儿 110") == "nuer110"  # ü as u, digits kept


@pytest.fixture
def index() -> PinyinIndex:
    return PinyinIndex(PHRASINGS, 3, NAMES, WITHIN)


@pytest.mark.parametrize(
    "question",
    [
        "helan you zhongguo jingchazhan ma",
        "he lan you zhong guo jing cha zhan ma",  # a name's syllables apart
        "Nederland you zhongguo jingchazhan ma",  # the name in its local form
        "Rotterdam you zhongguo jingchazhan ma",  # a place in the country
        "hélán yǒu zhōngguó jǐngcházhàn ma",  # tone marks
        "he2lan2 you3 zhong1guo2 jing3cha2zhan4 ma",  # tone numbers
    ],
)
def test_the_named_country_leads_however_the_pinyin_is_typed(index: PinyinIndex, question: str) -> None:
    scores = index.scores(question)
    assert np.argmax(scores) == 0 and scores[0] > scores[1] > 0


def test_a_shared_name_counts_for_more_than_shared_letters() -> None:
    """"helan" and "nanhan" (South Korea) end alike: without the names, the longer question shares more."""
    plain = PinyinIndex(PHRASINGS, 3)
    named = PinyinIndex(PHRASINGS, 3, NAMES, WITHIN)
    question = "helan you zhongguo jingchazhan ma"
    gap = named.scores(question)[0] - named.scores(question)[1]
    assert gap > plain.scores(question)[0] - plain.scores(question)[1]


def test_nothing_in_common_scores_nothing(index: PinyinIndex) -> None:
    assert not index.scores("qqqq xxxx").any() and not index.scores("").any()


def test_pinyin_is_told_from_the_languages_whose_words_are_pinyin_syllables() -> None:
    assert is_pinyin("baohu weishi shi shenme zuzhi") and is_pinyin("zhong1guo2 you3 duo1shao3 ge4 jing3cha2zhan4")
    assert not is_pinyin("ni hao ma")  # too short to tell
    assert not is_pinyin("e la china che dice")  # Italian, every word a pinyin syllable but none sounds like pinyin
    assert not is_pinyin("la china de xi en chile que dijo de lo")  # Spanish naming Xi: "dijo" is no syllable
    assert not is_pinyin("shenme shi overseas police station")  # other words mixed in: not read as pinyin
    assert read_language("Rotterdam you zhongguo jingchazhan ma").pinyin is False  # without the names known ...
    assert read_language("Rotterdam you zhongguo jingchazhan ma", names=Aliases([("Rotterdam",)])).pinyin  # ... with


def test_a_pinyin_question_is_answered_from_the_chinese_phrasings(kb: KnowledgeBase, matcher: Matcher) -> None:
    match = matcher.search("baohu weishi shi shenme zuzhi")
    assert match.pinyin and match.foreign and match.lang == "en"
    assert match.best is not None and match.best.entry.id == "safeguard-defenders"
    card = render_match(match, kb)
    assert card.text.startswith("This looks like Chinese typed in pinyin") and "Safeguard Defenders" in card.text


def test_pinyin_questions_keep_to_their_own_thresholds(matcher: Matcher) -> None:
    """``PINYIN_THRESHOLDS``: the declined questions still decline, and a question close to two entries (the
    Netherlands and South Korea ask alike but for the name) gets a choice rather than a guess."""
    small_talk = matcher.search("ni hao ni shi jiqiren ma")
    assert small_talk.status == "none" and small_talk.off_topic == "small-talk"
    close = matcher.search("helan you zhongguo jingchazhan ma")
    assert close.status == "uncertain" and close.candidates[0].entry.id == "response-netherlands"
    assert all(c.score >= PINYIN_THRESHOLDS.suggest for c in close.candidates)


def test_tuning_gets_both_verdicts_for_a_pinyin_question_as_for_any(small_kb: KnowledgeBase) -> None:
    """``tune`` lines the n-grams' verdicts up with the questions: a pinyin question must not drop out of them."""
    for matcher in (Matcher(small_kb), Matcher(small_kb, embedder=WordEmbedder())):
        pairs = [matcher.judge_both(q) for q in ("haiwai jingchazhan you duoshao ge", "how many stations are there")]
        assert all((quick is None) == (matcher.semantic is None) for quick, _ in pairs)
        assert pairs[0][1].pinyin and not pairs[1][1].pinyin
