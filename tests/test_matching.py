"""The matcher: finding the right entry, in any script or spelling, and abstaining when unsure."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import matching
from bot.facts import KnowledgeBase, OffTopic
from bot.matching import Matcher, Phrasing, Thresholds, features
from bot.text import fold, to_traditional


def test_features_cut_chinese_into_characters_and_pairs_and_words_into_trigrams() -> None:
    assert features("警察站") == ["警", "察", "站", "警察", "察站"]
    assert features("ok") == [" ok", "ok "]
    assert features("fbi查") == [" fb", "fbi", "bi ", "查"]


def test_exact_phrasing_matches_its_entry(small_matcher: Matcher) -> None:
    match = small_matcher.search("how many police stations are there abroad")
    assert match.status == "answer" and match.best is not None
    assert match.best.entry.id == "count-of-stations"
    assert match.best.score > 0.9


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("How many police stations are there abroad??", "count-of-stations"),  # punctuation
        ("how many polise stattions are ther abroad", "count-of-stations"),  # typos
        ("HOW MANY POLICE STATIONS ABROAD 🚔", "count-of-stations"),  # case, emoji
        ("are the secret police stations inside the chinese embassy?", "claim-in-embassies"),  # paraphrase
        ("海外警察站有多少個", "count-of-stations"),  # Traditional script against Simplified phrasings
        ("警察站在大使館裡面嗎？", "claim-in-embassies"),
        ("中國外交部怎麼回應", "denial-volunteers"),
    ],
)
def test_variants_of_a_question_find_the_entry(small_matcher: Matcher, question: str, entry_id: str) -> None:
    """Normalisation puts the entry first; whether that is sure enough to answer outright is the thresholds' call,
    which are tuned on the real knowledge base (this three-entry one has no classifier to add to its scores)."""
    match = small_matcher.search(question)
    assert match.status != "none" and match.candidates, match
    assert match.candidates[0].entry.id == entry_id


def test_invisible_characters_inside_words_change_nothing(small_matcher: Matcher) -> None:
    """Text copied from a web page or a forward can carry soft hyphens and zero-width spaces inside its words."""
    plain = small_matcher.search("how many police stations are there in rotterdam")
    hidden = small_matcher.search("how many po\u00adlice sta\u200btions are there in rot\u200dter\u2060dam\ufeff")
    assert hidden.candidates == plain.candidates and hidden.status == plain.status and hidden.lang == plain.lang


def test_look_alike_letters_change_nothing(small_matcher: Matcher) -> None:
    """Cyrillic letters that look Latin (о, а, с, е), typed to slip past filters or from another keyboard layout."""
    plain = small_matcher.search("how many police stations are there in rotterdam")
    disguised = small_matcher.search("how m\u0430ny p\u043elice st\u0430tions \u0430re there in r\u043etterd\u0430m")
    assert disguised.candidates == plain.candidates and disguised.status == plain.status
    assert disguised.lang == plain.lang == "en" and not disguised.foreign


@pytest.mark.parametrize("question", ["best pizza in town", "今天天气怎么样", "hello", "", "   ", "🙂🙂", "?!"])
def test_unrelated_questions_get_no_answer(small_matcher: Matcher, question: str) -> None:
    match = small_matcher.search(question)
    assert match.best is None


def test_answer_language_follows_the_question(small_matcher: Matcher) -> None:
    assert small_matcher.search("海外警察站有多少個").lang == "zh-Hant"
    assert small_matcher.search("海外警察站有多少个").lang == "zh-Hans"
    assert small_matcher.search("how many police stations are there abroad", "zh-Hans").lang == "en"


def test_an_ambiguous_question_offers_alternatives_instead_of_guessing(small_kb: KnowledgeBase) -> None:
    # Two entries with the same phrasing strength: the matcher must not pick one.
    matcher = Matcher(small_kb, extra=[Phrasing("denial-volunteers", "how many police stations are there abroad")])
    match = matcher.search("how many police stations are there abroad")
    assert match.status == "uncertain" and match.best is None
    assert {c.entry.id for c in match.alternatives} >= {"count-of-stations", "denial-volunteers"}


def test_weak_resemblance_is_offered_not_answered(small_kb: KnowledgeBase) -> None:
    matcher = Matcher(small_kb, thresholds=Thresholds(answer=0.99, margin=0.0, suggest=0.3))
    match = matcher.search("how many police stations are there in other countries")
    assert match.status == "uncertain"
    assert match.alternatives[0].entry.id == "count-of-stations"


def test_a_declined_group_close_behind_keeps_the_entry_out(small_kb: KnowledgeBase) -> None:
    """Declined questions name the entries' subjects but ask what no entry answers: a question that comes within
    ``decline_lead`` of one of them is offered, not answered, however clear its lead over the other entries."""
    staff = OffTopic(id="staff", about="Staff.",
                     questions={"en": ("how many officers work at each chinese police station abroad",)})
    kb = dataclasses.replace(small_kb, off_topic=(staff,))
    near, far = "how many police are there abroad", "did the ministry deny"
    lenient = Thresholds(answer=0.4, margin=0.0)
    j = Matcher(kb, thresholds=lenient).judge(near)
    assert j.top == "count-of-stations" and not j.declined and 0 < j.declined_best < j.best
    gap = j.best - j.declined_best
    outcomes = []
    for lead in (gap - 0.01, gap + 0.01):
        matcher = Matcher(kb, thresholds=dataclasses.replace(lenient, decline_lead=lead))
        outcomes.append((matcher.search(near), matcher.search(far)))
    (near_before, far_before), (near_after, far_after) = outcomes
    assert near_before.status == "answer" and near_before.candidates[0].entry.id == "count-of-stations"
    assert near_after.status == "uncertain" and near_after.candidates[0].entry.id == "count-of-stations"
    assert far_before.status == far_after.status == "answer"  # far from the declined question: the lead is met


def test_phrasings_added_by_moderators_take_effect(small_kb: KnowledgeBase, small_matcher: Matcher) -> None:
    question = "do the chinese overseas stations sit in diplomatic missions"
    before = small_matcher.search(question)
    assert before.best is None or before.best.entry.id != "claim-in-embassies" or before.best.score < 0.9
    matcher = Matcher(small_kb, extra=[Phrasing("claim-in-embassies", question, "en"), Phrasing("gone", "x y z")])
    after = matcher.search(question)
    assert after.best is not None and after.best.entry.id == "claim-in-embassies" and after.best.score > 0.99
    assert matcher.size == small_matcher.size + 1  # the phrasing for an unknown entry is ignored


def test_a_terse_query_ranks_the_entry_it_shares_words_with(small_matcher: Matcher) -> None:
    # no question words, numbers the phrasings do not have: "stations" and "countries" still point at the count
    ranked = small_matcher.rank("102 stations 53 countries?")
    assert ranked[0].entry.id == "count-of-stations"


def test_long_forwarded_text_does_not_crash_and_stays_bounded(small_matcher: Matcher) -> None:
    text = "FORWARDED: " + "the chinese embassy hides a secret police station, share this! " * 2000
    match = small_matcher.search(text)
    assert match.status in ("answer", "uncertain", "none")
    if match.candidates:
        assert match.candidates[0].entry.id == "claim-in-embassies"


def test_results_are_deterministic_and_thread_safe(small_matcher: Matcher) -> None:
    questions = ["how many police stations", "大使馆里有警察站吗", "did china deny it", "nonsense words here"] * 25
    expected = [small_matcher.search(q) for q in questions]
    results: list[list[object]] = []

    def work() -> None:
        results.append([small_matcher.search(q) for q in questions])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r == expected for r in results)


# --- the bundled knowledge base ---------------------------------------------------------------------------------


def test_every_phrasing_finds_its_own_entry(matcher: Matcher, kb: KnowledgeBase) -> None:
    misses = []
    for entry in kb.entries:
        for lang, questions in entry.questions.items():
            for q in questions:
                ranked = matcher.rank(q, 1)
                if not ranked or ranked[0].entry.id != entry.id:
                    misses.append((entry.id, lang, q, ranked[0].entry.id if ranked else None))
    assert misses == []


def test_simplified_phrasings_also_match_in_traditional_script(matcher: Matcher, kb: KnowledgeBase) -> None:
    misses = []
    for entry in kb.entries:
        for q in entry.questions.get("zh-Hans", ()):
            traditional = to_traditional(q)
            assert fold(traditional) == fold(q) or traditional == q
            match = matcher.search(traditional)
            if match.best is None or match.best.entry.id != entry.id:
                misses.append((entry.id, traditional))
            elif match.lang != "zh-Hant" and traditional != q:
                misses.append((entry.id, traditional, match.lang))
    assert misses == []


def test_a_name_in_another_script_counts_as_the_same_name(small_kb: KnowledgeBase) -> None:
    """names.yaml: 'Beijing' in an English phrasing and 北京 in an English question are one word to the matcher."""
    question = "are they volunteers according to 北京"
    plain = Matcher(small_kb)
    named = Matcher(dataclasses.replace(small_kb, names=(("Beijing", "Pekín", "北京"),)))
    entry = small_kb.entries.index(small_kb.by_id["denial-volunteers"])
    assert named.scores(question)[entry] > plain.scores(question)[entry]
    assert named.scores(question)[entry] == pytest.approx(named.scores("are they volunteers according to Pekín")[entry])
    assert named.search(question).best is not None and named.search(question).best.entry.id == "denial-volunteers"


def _shared(matcher: Matcher, grams: list[str], text: str) -> float:
    """By hand: the weighted n-grams a question's ``grams`` share with an indexed (folded) phrasing."""
    mine, theirs = Counter(grams), Counter(features(text))
    return float(sum(matcher._gram_weights[matcher._vocab[g]] * min(n, theirs[g])
                     for g, n in mine.items() if g in matcher._vocab))


def _size(matcher: Matcher, grams: list[str]) -> float:
    """By hand: a question's weighted size (an n-gram no phrasing has counts twice)."""
    return float(sum(matcher._gram_weights[matcher._vocab[g]] if g in matcher._vocab else matching._UNKNOWN_WEIGHT
                     for g in grams))


def test_a_phrasings_row_weighs_each_of_its_ngrams_by_how_often_it_has_it(small_matcher: Matcher) -> None:
    for row, text in enumerate(small_matcher.phrasings):
        stored = small_matcher._weighted[row]
        have = dict(zip(stored.indices.tolist(), stored.data.tolist(), strict=True))
        counted = Counter(features(text))
        assert have == {small_matcher._vocab[g]: float(small_matcher._gram_weights[small_matcher._vocab[g]] * n)
                        for g, n in counted.items()}
        assert small_matcher._lengths[row] == _size(small_matcher, features(text))


_SAMPLES = ("how many police stations are there abroad", "海外警察站有多少个", "denuncia comisaría china",
            "volunteers renew driving licences 换驾照")
_WORDS = sorted({w for e in _SAMPLES for w in e.split()})
_TEXT = st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=8)), max_size=12).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_the_inverted_index_counts_the_ngrams_a_question_shares_with_every_phrasing(
    small_matcher: Matcher, text: str
) -> None:
    """The index reads, for every phrasing, the weighted multiset it shares with a question: the sum, over their
    n-grams, of weight x the fewer times either has it."""
    grams = features(fold(text))
    common, length = small_matcher._common_with_all(grams)
    assert length == _size(small_matcher, grams)
    assert common.tolist() == [_shared(small_matcher, grams, p) for p in small_matcher.phrasings]


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT.map(fold).filter(bool), min_size=1, max_size=5), st.data())
def test_a_long_texts_windows_count_what_they_share_with_the_chosen_phrasings(
    small_matcher: Matcher, sentences: list[str], data: st.DataObject
) -> None:
    """A window (one sentence, or two joined) against the phrasings chosen for it: the same figures as for a
    question of the window's text, by hand."""
    pairs = [(i, i + 1) for i in range(len(sentences) - 1)]
    windows = [(i,) for i in range(len(sentences))] + pairs
    chosen = np.array(data.draw(st.lists(st.integers(0, small_matcher.size - 1), min_size=1, max_size=8)))
    common, sizes = small_matcher._common_with_windows([small_matcher._ids(features(s)) for s in sentences],
                                                       windows, chosen)
    for n, window in enumerate(windows):
        grams = features(" ".join(sentences[i] for i in window))
        assert sizes[n] == _size(small_matcher, grams)
        assert common[n].tolist() == [_shared(small_matcher, grams, small_matcher.phrasings[i]) for i in chosen]


def test_a_city_no_phrasing_names_meets_its_countrys_entry(kb: KnowledgeBase, matcher: Matcher) -> None:
    """names.yaml's `within:`: Stuttgart is in Germany, though no phrasing names it."""
    owners = [*kb.entries, *kb.off_topic]  # entries' phrasings in every language, and the declined questions
    texts = [q for owner in owners for qs in owner.questions.values() for q in qs]
    assert not any("stuttgart" in q.lower() or "斯图加特" in q for q in texts)
    without = Matcher(dataclasses.replace(kb, within=()))
    germany = [e.id for e in kb.entries].index("response-germany")
    for question in ("Gibt es eine chinesische Polizeistation in Stuttgart?", "斯图加特有中国警察站吗"):
        assert matcher.rank(question, 1)[0].entry.id == "response-germany"
        assert matcher.scores(question)[germany] > without.scores(question)[germany]


def test_an_institution_of_one_country_meets_its_countrys_entry(kb: KnowledgeBase, matcher: Matcher) -> None:
    """`within:` lists institutions too: a question naming the Bundeskriminalamt or the Garda is about Germany or
    Ireland, although it names neither country."""
    without = Matcher(dataclasses.replace(kb, within=()))
    ids = [e.id for e in kb.entries]
    for question, expected in (("Hat das BKA gegen die chinesische Polizeistation ermittelt?", "response-germany"),
                               ("what did the gardai find at the chinese police station", "response-ireland"),
                               ("英国内政部怎么说中国海外警察站", "response-uk")):
        index = ids.index(expected)
        assert matcher.rank(question, 1)[0].entry.id == expected
        assert matcher.scores(question)[index] > without.scores(question)[index]


def test_a_place_is_not_read_as_the_name_inside_it(matcher: Matcher) -> None:
    """Chinese names match anywhere in a text, and a Latin one can end a longer name: Taiwan's 布里斯本 (Brisbane)
    holds 里斯本 (Lisbon), 罗马尼亚 (Romania) holds 罗马 (Rome), Northern Ireland holds Ireland. Each was answered
    with the other country's entry until names.yaml listed it."""
    def answer(question: str) -> str | None:
        best = matcher.search(question).best
        return best.entry.id if best else None

    assert answer("布里斯本有中國警察站嗎") == "response-australia"
    assert answer("罗马尼亚有中国警察站吗") != "response-italy"
    assert answer("北爱尔兰有没有中国警察站") == "response-uk"
    assert answer("is there a chinese police station in northern ireland") == "response-uk"


def test_a_name_that_is_an_ordinary_word_in_the_questions_language_is_read_as_the_word(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    """names.yaml's `words:`: "usa" is a verb in Spanish and Portuguese, "seul" a French adjective. Read as the United
    States and Seoul, they brought those countries' entries into questions about neither."""
    without = Matcher(dataclasses.replace(kb, words=()))
    ids = [e.id for e in kb.entries]
    for question, lang, country in (
        ("la policía china usa estas estaciones para presionar a la gente?", "es", "response-united-states"),
        ("a polícia chinesa usa essas esquadras para pressionar as famílias?", "pt", "response-united-states"),
        ("il n'y a qu'un seul poste de police chinois en France ?", "fr", "response-south-korea"),
    ):
        assert matcher.language(question).lang == lang
        assert country not in [c.entry.id for c in matcher.search(question).candidates]
        assert country in [c.entry.id for c in without.search(question).candidates]
        assert matcher.scores(question, (lang,))[ids.index(country)] < without.scores(question, (lang,))[
            ids.index(country)]
        # browsing (inline mode, the moderators' attach choices) reads them the same way when given the language
        assert country not in [c.entry.id for c in matcher.rank(question, 3, matcher.language(question).likely)]
        assert country in [c.entry.id for c in matcher.rank(question, 3)]
    for question in ("¿hay una comisaría china en USA?", "hay comisarias chinas en Seúl?"):  # the names still are
        assert matcher.search(question).candidates[0].entry.id in ("response-united-states", "response-south-korea")


def test_a_latin_question_meets_its_likely_languages_and_english(kb: KnowledgeBase, matcher: Matcher) -> None:
    """``Reading.likely``: the phrasings of other languages are not read, and adding a language that has no better
    phrasing changes nothing for the entry."""
    entry = next(e for e in kb.entries if e.questions.get("es"))
    question, index = entry.questions["es"][0], kb.entries.index(entry)
    readings = (("es",), ("es", "de"), ("de",))
    spanish, also_german, german = (matcher.scores(question, langs)[index] for langs in readings)
    assert spanish == also_german == matcher.scores(question)[index]
    assert german < spanish
