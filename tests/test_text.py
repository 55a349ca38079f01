"""Cleaning, folding and language detection."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import languages
from bot.matching import Matcher
from bot.text import (
    MAX_MATCH_CHARS,
    Aliases,
    chinese_script,
    clean,
    fold,
    is_pinyin,
    name_pattern,
    read_language,
)


def test_fold_makes_spellings_of_one_question_equal() -> None:
    assert fold("ＨＯＷ many Police-Stations?!") == fold("how many police stations")
    assert fold("230,000 people") == fold("230000 people") == fold("230.000 people")
    assert fold("perché è così") == "perche e cosi"
    assert fold("中國在荷蘭有警察站嗎？") == fold("中国在荷兰有警察站吗") == "中国在荷兰有警察站吗"
    assert fold("🚔🚔 police!!! 👮") == "police"


def test_clean_removes_invisible_and_control_characters() -> None:
    hostile = "po\u200blice\u202e station\x00\x07 \ufeff"
    assert clean(hostile) == "police station"
    assert "\u202e" not in fold(hostile)
    # format characters vanish inside a word (as they are invisible), controls part words
    assert clean("Rot\u00adter\u200bdam\u2060 po\u200dli\u200cce\x00station") == "Rotterdam police station"


def test_clean_reads_cyrillic_and_greek_look_alikes_inside_latin_words_as_latin() -> None:
    # Cyrillic о, а, с, е, р and Greek ο inside Latin words: the Latin letters they imitate
    assert clean("Is there a Chinese p\u043elice st\u0430tion in R\u043etterdam?") == (
        "Is there a Chinese police station in Rotterdam?")
    assert clean("\u0421hinese \u0440olice \u0455t\u03bfre") == "Chinese police store"
    assert clean("\u0406RELAND, \u0399reland") == "IRELAND, Ireland"  # capital I, not the l Unicode's table gives
    # words in one script stay as written: Russian, Greek, and a Latin word beside them
    for text in ("полиция в Роттердаме", "η αστυνομία", "Rotterdam полиция", "περίπου 100 police"):
        assert clean(text) == text
    # a Cyrillic letter with no Latin look-alike keeps its word as it is
    assert clean("p\u0436lice") == "p\u0436lice"


def test_look_alike_letters_are_read_in_one_pass_over_a_hostile_word() -> None:
    # a pattern that looked ahead for both scripts from every letter took 2.3 s for a 20,000-letter Cyrillic word
    # (quadratic); word by word it is linear: about a millisecond for 40,000 letters, far under this bound anywhere
    import time

    start = time.perf_counter()
    assert clean("\u0434" * 40_000 + " a") == "\u0434" * 40_000 + " a"
    assert clean("a\u043e " * 30_000).startswith("ao ao ")
    assert time.perf_counter() - start < 2.0


def test_read_language_of_a_question_typed_with_look_alike_letters() -> None:
    from bot.text import read_language

    plain = read_language("is there a chinese police station in my city")
    disguised = read_language("is there a chinese p\u043elice st\u0430tion in my \u0441ity")
    assert disguised.lang == plain.lang == "en" and not disguised.foreign


def test_clean_bounds_hostile_input_length() -> None:
    assert len(fold("a" * 100_000)) <= MAX_MATCH_CHARS
    assert len(clean("警" * 100_000, 500)) == 500


def test_fold_survives_lone_surrogates_and_combining_floods() -> None:
    assert fold("\ud800police") == "police"
    assert fold("e" + "\u0301" * 5000) == "e"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("海外警察服務站", "zh-Hant"),
        ("海外警察服务站", "zh-Hans"),
        ("中国", "zh-Hans"),
        ("警察", None),
        ("police", None),
        ("佢哋搞晒啲咩", None),  # Cantonese 晒 ("all") is in both scripts, though OpenCC converts it
        ("多謝晒", "zh-Hant"),
        ("我们去晒太阳", "zh-Hans"),  # the other characters still tell
    ],
)
def test_chinese_script(text: str, script: str | None) -> None:
    assert chinese_script(text) == script


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [
        ("How many stations are there?", None, "en"),
        ("How many stations are there?", "zh-hans", "en"),  # the question's own language wins
        ("中国在荷兰有警察站吗", None, "zh-Hans"),
        ("中國在荷蘭有警察站嗎", "en", "zh-Hant"),
        ("Safeguard Defenders說的是真的嗎", None, "zh-Hant"),
        ("Rotterdam 那个 station 关了没", None, "zh-Hans"),
        ("警察", "zh-TW", "zh-Hant"),  # no script-specific character: the hint decides
        ("警察", None, "zh-Hans"),
        ("102?", "zh-HK", "zh-Hant"),  # no words at all: the hint decides
        ("👀", None, "en"),
        ("Is the 福州 station real?", None, "en"),
        ("佢哋搞晒啲咩站", None, "zh-Hant"),  # written Cantonese, no script-specific character but 晒
    ],
)
def test_the_answer_language(text: str, hint: str | None, lang: str) -> None:
    assert read_language(text, hint).lang == lang


@pytest.mark.parametrize(
    ("code", "canonical"),
    [("zh-hans", "zh-Hans"), ("zh_TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh", "zh-Hans"), ("en-GB", "en"),
     ("ZH-HANT", "zh-Hant"), ("xx", None), ("", None), (None, None)],
)
def test_language_codes(code: str | None, canonical: str | None) -> None:
    assert languages.canonical(code) == canonical


@pytest.mark.parametrize(
    ("text", "hint", "lang", "foreign"),
    [
        ("es verdad que china tiene comisarias secretas en madrid", None, "es", False),
        ("wat zei de nederlandse regering over de chinese politiebureaus", None, "nl", False),
        ("quante stazioni di polizia cinesi ci sono in italia", None, "it", False),
        ("est-ce que la chine a des commissariats à paris", None, "fr", False),
        ("gibt es eine chinesische polizeistation in frankfurt", None, "de", False),
        ("quantas esquadras chinesas existem em portugal", None, "pt", False),
        ("Rotterdam?", "nl", "nl", False),  # a bare name: the hint decides
        ("qué dijo 赵立坚 sobre las comisarías", None, "es", False),  # a Chinese name inside Spanish
        ("czy w Polsce jest chińska stacja policji", None, "en", True),  # Polish: English, with a note
        ("中国の警察署は日本にありますか", None, "en", True),  # Japanese kana
        ("Есть ли китайская полиция в Москве", None, "en", True),
        ("동방명주 中國警察站", None, "zh-Hant", False),  # a Korean name inside Chinese stays Chinese
        ("伯明翰有冇中共嘅警察站？", None, "zh-Hant", False),  # no script shown, but written Cantonese: Traditional
        ("唔該晒！", None, "zh-Hant", False),
        ("伯明翰有冇中共嘅警察站？", "zh-CN", "zh-Hans", False),  # ... unless the chat or the user prefers Simplified
        ("伦敦有没有中国警察站", None, "zh-Hans", False),  # Mandarin with no script shown: Simplified
        ("helan you zhongguo jingchazhan ma", "es", "en", True),  # Chinese in pinyin: the phrasings are in characters
        ("Nǐ hǎo, Hélán yǒu jǐngchá zhàn ma?", None, "en", True),
        ("ma e legale?", None, "it", False),  # valid pinyin too, but short: Italian
        ("la casa de mi tío en madrid", None, "es", False),
    ],
)
def test_read_language_in_every_supported_language(text: str, hint: str | None, lang: str, foreign: bool) -> None:
    from bot.text import read_language

    reading = read_language(text, hint)
    assert (reading.lang, reading.foreign) == (lang, foreign)


@pytest.mark.parametrize("text", ["did the netherlands close the chinese police stations in amsterdam",
                                  "hay comisarias chinas en madrid y barcelona", "wat is dit nou weer",
                                  "quante stazioni di polizia cinesi ci sono in italia"])
def test_a_longer_texts_confidence_comes_from_the_wider_detector_as_the_restricted_one_gives_it(text: str) -> None:
    from bot.text import _LINGUA, LIKELY_CONFIDENCE, _detector, latin_language

    restricted = _detector(True).compute_language_confidence_values(text)
    lang, confidence, likely = latin_language(text)
    assert (lang, confidence) == (_LINGUA[restricted[0].language.name], pytest.approx(restricted[0].value))
    assert likely == tuple(_LINGUA[v.language.name] for v in restricted if v.value >= LIKELY_CONFIDENCE)


def test_a_reading_names_the_languages_a_latin_question_may_be_in() -> None:
    from bot.text import read_language

    sure = read_language("gibt es eine chinesische polizeistation in frankfurt")
    assert sure.sure and sure.likely == ("de",)
    # names of places and "police" pull towards Dutch: English, not sure, and Dutch still among the likely ones
    named = read_language("did the netherlands close the chinese police stations in amsterdam")
    assert (named.lang, named.sure) == ("en", False)
    assert {"en", "nl"} <= set(named.likely) < {"en", "es", "nl", "it", "fr", "de", "pt"}
    hinted = read_language("Rotterdam?", "nl")  # the hint decides, and is among the languages read
    assert "nl" in hinted.likely
    assert read_language("海外警察站是真的吗").likely == ()
    assert read_language("czy w Polsce jest chińska stacja policji").likely == ()


NAMES = [
    ["Netherlands", "Nederland", "Pays-Bas", "荷兰"],
    ["Rotterdam", "鹿特丹"],
    ["New York", "Nueva York", "纽约"],
    ["Safeguard Defenders", "保护卫士"],
    ["York", "约克"],
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Het politiebureau in 鹿特丹?", "het politiebureau in rotterdam"),  # a Chinese name in a Dutch question
        ("鹿特丹的警察站", "rotterdam 的警察站"),  # ... set off as a word of its own
        ("荷蘭政府關閉了嗎", "netherlands 政府关闭了吗"),  # Traditional script folds to the same name
        ("Les postes aux PAYS-BAS", "les postes aux netherlands"),  # case, hyphen
        ("NUEVA YORK y York", "new york y york"),  # the longest name wins; York stays York
        ("Nederlander Rotterdammer", "nederlander rotterdammer"),  # whole words only
        ("保護衛士报告", "safeguard defenders 报告"),
        ("nothing to see", "nothing to see"),
    ],
)
def test_aliases_give_one_name_to_one_thing(text: str, expected: str) -> None:
    assert Aliases(NAMES).apply(fold(text)) == expected


def test_aliases_without_names_change_nothing() -> None:
    assert Aliases().apply("het politiebureau in 鹿特丹") == "het politiebureau in 鹿特丹" and len(Aliases()) == 0


def test_a_place_within_a_country_also_names_the_country() -> None:
    aliases = Aliases([["Germany", "Deutschland", "德国"], ["Berlin", "柏林"]], within=[["Germany", "Berlin"]])
    assert aliases.apply(fold("Polizeistation in Berlin?")) == "polizeistation in berlin germany"
    assert aliases.apply(fold("柏林有警察站吗")) == "berlin germany 有警察站吗"
    assert aliases.apply(fold("Deutschland")) == "germany"  # never the other way round
    twice = Aliases([["Germany", "德国"], ["Berlin", "柏林"]], within=[["Germany", "Berlin", "Berlin"]])
    assert twice.apply("berlin") == "berlin germany"


_WORDS = Aliases([["United States", "Estados Unidos", "USA"], ["Seoul", "Seúl", "Seul", "Séoul"]],
                 words=[["USA", "es", "pt"], ["Seul", "fr"]])


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("la policía china usa estas estaciones?", "es", "la policia china usa estas estaciones"),  # uses
        ("¿Usa China estas oficinas?", "es", "usa china estas oficinas"),  # a capital letter is not capitals
        ("comisaría china en USA", "es", "comisaria china en united states"),
        ("a polícia usa as esquadras?", "pt", "a policia usa as esquadras"),
        ("chinese police station usa", "en", "chinese police station united states"),  # a word in other languages
        ("la polizia cinese negli usa", "it", "la polizia cinese negli united states"),  # not listed for Italian
        ("la policía china usa estas estaciones?", None, "la policia china united states estas estaciones"),
        ("un seul poste à Séoul ?", "fr", "un seul poste a seoul"),  # alone; Séoul is Seoul
        ("hay una comisaría en Seúl?", "es", "hay una comisaria en seoul"),
        ("UN SEUL POSTE À SÉOUL", "fr", "un seoul poste a seoul"),  # in capitals it is the name
    ],
)
def test_a_name_that_is_an_ordinary_word_in_the_texts_language_stays_a_word(
    text: str, lang: str | None, expected: str
) -> None:
    assert _WORDS.apply(fold(text), _WORDS.ordinary_words(text, lang)) == expected


def test_ordinary_words_are_found_as_fold_reads_the_text() -> None:
    """Punctuation inside a name and accents are read as ``fold`` reads them; only the case counts besides."""
    aliases = Aliases([["Netherlands", "Pays-Bas"]], words=[["Pays-Bas", "fr"]])
    assert aliases.ordinary_words("les pays-bas ?", "fr") == {"pays bas"}
    assert aliases.ordinary_words("les pays–bäs ?", "fr") == {"pays bas"}
    assert aliases.ordinary_words("les PAYS-BAS ?", "fr") == frozenset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quem é a Safeguard Defenders?", "quem é a ?"),  # one spelling in every language
        ("Was sagt SAFEGUARD-DEFENDERS?", "Was sagt ?"),  # case and punctuation as ``fold`` sees them
        ("quienes son 保護衛士", "quienes son "),  # a Chinese name, in either script
        ("les postes aux Pays-Bas", "les postes aux Pays-Bas"),  # a form of one language: evidence, kept
        ("Nueva York y Rotterdam", "Nueva York y "),  # New York has several forms, Rotterdam one
        ("Rotterdammer", "Rotterdammer"),  # whole words only
    ],
)
def test_names_spelt_alike_in_every_language_are_left_out_of_language_reading(text: str, expected: str) -> None:
    assert Aliases(NAMES).without_neutral_names(text) == (expected, "保" in text)  # Chinese names are counted


def test_language_is_read_without_names_unless_they_are_all_there_is() -> None:
    aliases = Aliases(NAMES)
    assert read_language("quem é a Safeguard Defenders?", None, aliases).lang == "pt"
    assert read_language("quienes son 保护卫士", None, aliases).lang == "es"
    assert read_language("保护卫士的报告", None, aliases).lang == "zh-Hans"
    assert read_language("保護衛士 BBC", None, aliases).lang == "zh-Hant"  # a Chinese name counts as a word
    assert read_language("Safeguard Defenders", "de", aliases).lang == "de"  # names alone: the hint decides ...
    assert read_language("Safeguard Defenders?", None, aliases).lang == "en"  # ... or they are read as they are
    assert read_language("保护卫士", "de", aliases).lang == "zh-Hans"  # Chinese characters still mean Chinese


_NAME_PIECES = st.text(alphabet="ab 荷兰.-", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAME_PIECES, min_size=1, max_size=8, unique=True), st.text(alphabet="ab 荷兰.-x", max_size=30))
def test_the_names_trie_finds_what_a_longest_first_list_finds(names: list[str], text: str) -> None:
    """``name_pattern`` (a trie) against the plain pattern it replaced: every name as an alternative, longest first,
    with what follows a name required to match too (as the word boundary after a Latin name is)."""
    listed = "(?:" + "|".join(regex.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"
    for tail in ("", "(?![ab])"):
        expected = [m.span() for m in regex.finditer(listed + tail, text)]
        assert [m.span() for m in regex.finditer(name_pattern(names) + tail, text)] == expected


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("helan you zhongguo jingchazhan ma", True),
        ("xibanya de jingchaju guanbi le ma", True),
        ("ni3 hao3 helan you jing3cha2zhan4 ma", True),  # tone numbers
        ("zhongguo jingchazhan", False),  # two words: too short to tell
        ("la casa de mi", False),  # all valid syllables, but no sound only pinyin spells so
        ("is there a chinese police station in madrid", False),
    ],
)
def test_pinyin_is_told_apart_from_the_bots_languages(text: str, pinyin: bool) -> None:
    assert is_pinyin(text) is pinyin


def test_a_long_word_that_almost_splits_into_pinyin_is_refused_in_one_pass() -> None:
    # zhon's word pattern backtracks exponentially on such words (1.3 s at 39 letters, doubling every two more):
    # a message could stall the bot
    assert not is_pinyin("ma ma zhong " + "ao" * 100 + "x")
    assert not is_pinyin("zhuang " * 3 + "zhuang" * 30 + "q")
    assert is_pinyin("women dou shi zhonghuarenmingongheguo de gongmin")


def test_names_in_pinyin_do_not_make_a_question_pinyin(matcher: Matcher) -> None:
    assert is_pinyin("chi è Wang Jingyu")  # Italian, but every word is a pinyin syllable (è, with its tone)
    assert not matcher.language("chi è Wang Jingyu").foreign  # the name is taken out first: two words remain
