"""bot.places: the countries, continents and subjects a text names, and which entries may answer for them."""

from __future__ import annotations

import dataclasses

import pytest

from bot.facts import KnowledgeBase
from bot.matching import LEXICAL_THRESHOLDS, Matcher
from bot.places import Gazetteer, continent_of, covers, focus_of, place_names


@pytest.fixture(scope="module")
def gazetteer(kb: KnowledgeBase) -> Gazetteer:
    return Gazetteer(kb.names, kb.within)


@pytest.mark.parametrize("text, expected", [
    ("Did Japan investigate?", "JP"), ("¿Investigó Japón?", "JP"), ("Il Giappone ha indagato?", "JP"),
    ("日本有没有？", "JP"), ("Nieuw-Zeeland", "NZ"), ("紐西蘭有嗎", "NZ"), ("a Nova Zelândia", "NZ"),
    ("in Auckland", "NZ"), ("奥克兰", "NZ"), ("Gab es eine Station in Bukarest?", "RO"), ("Zurigo", "CH"),
    ("Rotterdam", "NL"), ("鹿特丹有吗", "NL"), ("die Tweede Kamer", "NL"), ("the Garda", "IE"),
    ("en Canarias", "ES"), ("na Madeira", "PT"),
])
def test_a_country_is_found_under_any_of_its_names_and_through_its_places(
    gazetteer: Gazetteer, text: str, expected: str
) -> None:
    """CLDR's country and time-zone city names in the bot's languages and scripts, and names.yaml's places in
    their countries (``within``)."""
    assert expected in gazetteer.places(text)


def test_regions_name_their_continent_and_people_are_subjects(gazetteer: Gazetteer) -> None:
    for text in ("stations in Latin America", "en América Latina", "拉丁美洲有吗"):
        assert gazetteer.places(text) == {"Americas"}
    assert gazetteer.places("Who is Wang Jingyu?") == gazetteer.places("王靖渝是谁") == {"@Wang Jingyu"}


def test_china_ordinary_words_and_names_inside_other_words_are_no_place(gazetteer: Gazetteer) -> None:
    """Every question is about China; "cita" (an appointment) is Chita in Russia to CLDR, 沿海地区 (coastal areas)
    holds 海地 (Haiti), and "usa" is a Spanish verb when the matcher says so."""
    assert gazetteer.places("China 中国 中國") == frozenset()
    assert gazetteer.places("tengo cita en el consulado") == frozenset()
    assert gazetteer.places("沿海地区的侨团") == frozenset()
    assert gazetteer.places("la policía china usa estas estaciones") == {"US"}
    assert gazetteer.places("la policía china usa estas estaciones", frozenset({"usa"})) == frozenset()


def test_a_country_lies_in_the_continent_of_most_of_its_time_zones() -> None:
    continents = continent_of()
    assert continents["RU"] == "Asia" and continents["NZ"] == "Oceania" and continents["CL"] == "Americas"
    assert continents["ES"] == "Europe" and continents["EC"] == "Americas"  # ties: Ceuta, the Galápagos
    assert "IS" not in continents  # an ocean's island


def test_an_entry_covers_its_countries_their_continent_when_named_and_its_subjects() -> None:
    spain = frozenset({"ES"})
    americas = frozenset({"Americas", "BR", "EC"})
    wang = frozenset({"NL", "@Wang Jingyu"})
    assert covers(spain, frozenset({"ES", "JP"}))  # one named country is enough
    assert not covers(spain, frozenset({"JP"}))
    assert covers(spain, frozenset({"Europe"}))  # "stations in Europe?": Spain is in it
    assert not covers(spain, frozenset({"Africa"}))
    assert covers(americas, frozenset({"MX"}))  # the entry names the continent
    assert not covers(americas, frozenset({"CH"}))
    assert covers(wang, frozenset({"CH", "@Wang Jingyu"}))  # "I live in Zurich: who is Wang Jingyu?"
    assert not covers(wang, frozenset({"CH", "@Zhao Lijian"}))
    assert covers(spain, frozenset({"@Zhao Lijian"}))  # no country named: nothing to hold the entry back


def test_an_entry_is_about_places_when_most_of_its_phrasings_name_one() -> None:
    netherlands, wang = frozenset({"NL"}), frozenset({"@Wang Jingyu"})
    mostly = [netherlands | wang] * 6 + [wang] * 4
    assert focus_of(mostly, placed=0.5, share=0.1) == {"NL", "@Wang Jingyu"}
    sometimes = [netherlands] * 4 + [wang] * 6  # a subject is not a place
    assert focus_of(sometimes, placed=0.5, share=0.1) == frozenset()
    assert focus_of([], placed=0.5, share=0.1) == frozenset()


def test_a_country_no_entry_covers_gets_no_other_countrys_entry(kb: KnowledgeBase) -> None:
    """With the bar to answer at nothing, the matcher answers its best guess: for a question about a country no
    entry speaks of, the n-grams' best is an entry about another country (Spain's, Italy's), since the question
    shares every word with it but the country's name. That entry and the other countries' are left out; a
    question naming the entry's own country, or a person the entry is about, is answered as before."""
    eager = Matcher(kb, thresholds=dataclasses.replace(LEXICAL_THRESHOLDS, answer=0.0, min_lead=0.0, decline_lead=-9))
    about_countries = {e.id for e, focus in zip(kb.entries, eager._focus, strict=True) if focus}
    for question in ("Did Japan investigate the Chinese police stations?", "日本政府调查了海外警察站吗？",
                     "A Nova Zelândia investigou alguma delegacia da polícia chinesa?"):
        assert eager.rank(question, 1)[0].entry.id in about_countries  # the guess, before the places are read
        match = eager.search(question)
        assert not {c.entry.id for c in match.candidates} & about_countries, question
        assert match.best is None or match.best.entry.id not in about_countries
    for question, expected in (("Did Spain investigate the Chinese police stations?", "response-spain"),
                               ("I live in Zurich. Who is Wang Jingyu?", "person-wang-jingyu")):
        best = eager.search(question).best
        assert best is not None and best.entry.id == expected


def test_an_unanswered_question_names_the_countries_no_entry_names(kb: KnowledgeBase) -> None:
    """With the bar to answer out of reach, no question is answered; when entries about other countries were set
    aside for it, the match lists the countries it names that no entry names (Japan, New Zealand, Romania), not
    those an entry does (Spain), and nothing for a question naming no country."""
    strict = Matcher(kb, thresholds=dataclasses.replace(LEXICAL_THRESHOLDS, answer=99.0))
    cases = [("Did Japan investigate the Chinese police stations?", ("JP",)),
             ("日本和西班牙政府调查了海外警察站吗？", ("JP",)),
             ("A Nova Zelândia investigou alguma delegacia da polícia chinesa?", ("NZ",)),
             ("Gab es eine chinesische Polizeistation in Bukarest?", ("RO",)),  # an entry speaks of Europe
             ("Did Spain investigate the Chinese police stations?", ()),
             ("Did the government investigate the Chinese police stations?", ())]
    for question, unknown in cases:
        match = strict.search(question)
        assert match.best is None and match.unknown_places == unknown, (question, match.unknown_places)


@pytest.mark.parametrize("places, lang, expected", [
    (("JP",), "en", "Japan"), (("JP", "KR"), "en", "Japan and South Korea"), (("JP", "KR"), "zh-Hans", "日本和韩国"),
    (("NZ",), "zh-Hant", "紐西蘭"), (("JP", "Asia"), "es", "Japón y Asia"), (("Oceania",), "de", "Ozeanien"),
    (("@Wang Jingyu",), "en", ""),
])
def test_places_are_named_in_the_askers_language(places: tuple[str, ...], lang: str, expected: str) -> None:
    assert place_names(places, lang) == expected
