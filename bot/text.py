"""Text handling shared by matching and rendering: cleaning, folding for comparison, script and language.

``clean`` makes any input safe to work with (Unicode NFKC, no control or invisible characters, Cyrillic and Greek
look-alike letters inside Latin words read as the Latin letters they imitate, bounded length).
``fold`` turns text into the key the matcher compares: case-folded, accents removed, punctuation and emoji dropped,
digit groups joined, and Traditional Chinese converted to Simplified with OpenCC (``tw2sp``, which also maps Taiwan
vocabulary) so both scripts compare equal.
``Aliases`` rewrites the names of one place, person or organisation in any language or script to one form.
``read_language`` decides which language to answer in from the question itself, with a caller's hint.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import opencc
import regex
import zhon.pinyin

from bot import languages

#: Matching looks at this many characters of a question at most (a forwarded article states its claim early).
MAX_MATCH_CHARS = 2000
#: The language detector reads this many characters of a text: its cost grows with the length, and a forwarded
#: message shows its language in its first lines (on the development sets, no text's reading changed at 120).
LANGUAGE_SAMPLE_CHARS = 200

#: invisible formatting inside words (zero-width space and joiners, soft hyphen, byte-order mark, bidi marks):
#: dropped, so that "po\u00adlice" is still "police", as it looks
_FORMAT = regex.compile(r"\p{Cf}+")
_INVISIBLE = regex.compile(r"[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]+")
_SPACES = regex.compile(r"\s+")
_MARKS = regex.compile(r"\p{M}+")
_NOT_WORD = regex.compile(r"[^\p{L}\p{N}]+")
_DIGIT_GROUP = regex.compile(r"(?<=\d)[,.\u00a0' ](?=\d{3}(?!\d))")
_HAN = regex.compile(r"\p{Han}")
#: a word mixing Latin letters with Cyrillic or Greek ones ("pоlice" with a Cyrillic о): look-alikes, typed to slip
#: past filters or by a keyboard left in another layout
_LOOKALIKE_SCRIPT = regex.compile(r"[\p{Cyrillic}\p{Greek}]")
_LATIN_LETTER = regex.compile(r"\p{Latin}")
_LETTERS = regex.compile(r"\p{L}+")  # a word: a run of letters
_LETTER = regex.compile(r"\p{L}")

_converters_lock = threading.Lock()


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def convert(text: str, config: str) -> str:
    """Convert Chinese text with an OpenCC configuration (``t2s``, ``s2t``, ``s2twp`` ...)."""
    with _converters_lock:
        return _converter(config).convert(text)


def to_simplified(text: str) -> str:
    """Simplified script, with Taiwan vocabulary mapped to mainland usage (義大利 -> 意大利, 網路 -> 网络).

    Text goes to Traditional first, so that both scripts take the same path: the vocabulary mapping works on
    Traditional input only, and otherwise 联络 and 聯絡 would fold apart.
    """
    return convert(convert(text, "s2t"), "tw2sp") if _HAN.search(text) else text


def to_traditional(text: str) -> str:
    """Traditional script in Taiwan's standard character forms (群, 裡, 為), which Hong Kong readers also read
    without friction; OpenCC's plain ``s2t`` gives older variants (羣, 裏, 爲) that both find odd."""
    return convert(text, "s2tw") if _HAN.search(text) else text


def clean(text: str, limit: int | None = None) -> str:
    """NFKC-normalise, drop format characters (zero-width, soft hyphen, bidi marks: invisible, often inside a word
    copied from a web page), replace control, private-use and unassigned characters by spaces, collapse white space,
    and cut to ``limit`` characters."""
    if limit is not None:
        text = text[: limit * 2]  # NFKC can only grow a string; cut early so hostile input stays cheap
    text = unicodedata.normalize("NFKC", text)
    text = _FORMAT.sub("", text)
    text = _INVISIBLE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if _LOOKALIKE_SCRIPT.search(text):
        text = _LETTERS.sub(_as_latin, text)  # word by word: linear, however long a hostile word is
    return text[:limit] if limit is not None else text


def _as_latin(word: regex.Match[str]) -> str:
    """A word mixing Latin letters with Cyrillic or Greek ones, with those that look Latin made Latin."""
    text = word.group()
    if _LATIN_LETTER.search(text) and _LOOKALIKE_SCRIPT.search(text):
        return text.translate(_latin_lookalikes())
    return text


@cache
def _latin_lookalikes() -> dict[int, str]:
    """Cyrillic and Greek letters that look like a Latin one (а, о, р, с, ο, ν ...), from Unicode's confusables
    (``confusable_homoglyphs``), as a ``str.translate`` table: a Latin letter of the same case when Unicode lists
    one. Unicode draws I, l and 1 as one prototype, l: a capital (Ι, І) is read as I, the letter it stands for."""
    from confusable_homoglyphs import categories, confusables

    table: dict[int, str] = {}
    # Greek and Coptic, Cyrillic, Cyrillic Supplement, and the Greek and Cyrillic small capitals among the phonetic
    # extensions
    for code in [*range(0x370, 0x530), *range(0x1D00, 0x1D80)]:
        char = chr(code)
        if not char.isalpha() or categories.alias(char) not in ("CYRILLIC", "GREEK"):
            continue
        found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
        latin = [h["c"] for h in found[0]["homoglyphs"] if len(h["c"]) == 1 and h["c"].isascii()
                 and h["c"].isalpha()] if found else []
        if char.isupper():
            latin = ["I" if c == "l" else c for c in latin]
        same_case = [c for c in latin if c.isupper() == char.isupper()]
        if same_case or latin:
            table[code] = (same_case or latin)[0]
    return table


def fold(text: str) -> str:
    """The comparison key of a text: what two spellings of the same question have in common."""
    text = clean(text, MAX_MATCH_CHARS).casefold()
    text = to_simplified(text)
    text = _DIGIT_GROUP.sub("", text)
    text = _MARKS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


class Aliases:
    """Names that mean one thing (Rotterdam, 鹿特丹; Pays-Bas, Nederland, 荷兰), rewritten in folded text to the
    first Latin-script name of their group, so that a question and a phrasing naming it differently still share it.

    Latin-script names match whole words; Chinese names match anywhere (Chinese has no spaces), and the name put in
    their place is set off with spaces so it stays a word of its own. With ``marks``, each name found is also
    followed by that many copies of a one-character word standing for its group (a private-use character): a
    matcher comparing n-grams then counts a shared name as much as a whole word, not as a few letters among many.

    ``within`` lists a country, then places (or institutions) in it (names from ``groups``): a place is then read as
    itself followed by its country, so a question naming Berlin also meets the phrasings that name Germany.

    ``words`` lists names that are also ordinary words, each with the languages where they are: "usa" (uses) in
    Spanish, "seul" (alone) in French. ``ordinary_words`` finds them in a text of such a language written other than
    in capitals, and ``apply`` then leaves them as they are.
    """

    def __init__(
        self,
        groups: Iterable[Sequence[str]] = (),
        marks: int = 0,
        within: Iterable[Sequence[str]] = (),
        words: Iterable[Sequence[str]] = (),
    ) -> None:
        self._to: dict[str, str] = {}
        forms_of: dict[str, list[str]] = {}  # any folded name: every folded name of its group
        for number, group in enumerate(groups):
            forms = [f for f in (fold(n) for n in group) if f]
            if not forms:
                continue
            target = next((f for f in forms if not _HAN.search(f)), forms[0])
            mark = chr(_MARK_BASE + number) if number < _MARK_COUNT else ""
            replacement = " ".join([target] + [mark] * marks if mark else [target])
            for form in forms:
                self._to.setdefault(form, replacement)
                forms_of.setdefault(form, forms)
        for country, *places in within:
            country_form = self._to.get(fold(country))
            if country_form is None:
                continue
            for form in {f for place in places for f in forms_of.get(fold(place), ())}:
                if not self._to[form].endswith(country_form):
                    self._to[form] = f"{self._to[form]} {country_form}"
        self._pattern = _names_pattern(self._to)
        # names that say nothing of the language a text is in: one Latin spelling in every language (Safeguard
        # Defenders, Zhao Lijian, Prato), and any name in Chinese characters. They are looked for among all names,
        # so that the longest wins (York inside Nueva York is not York).
        self._neutral: set[str] = set()
        for forms in forms_of.values():
            latin_forms = {f for f in forms if not _HAN.search(f)}
            self._neutral |= {f for f in forms if _HAN.search(f)} | (latin_forms if len(latin_forms) == 1 else set())
        self._every = _names_pattern(sorted(forms_of))
        # language -> a pattern finding, in a text without its accents, the names that are ordinary words in it
        self._words: dict[str, Any] = {}
        forms_in: dict[str, set[str]] = {}
        for name, *langs in words:
            for lang in langs:
                forms_in.setdefault(lang, set()).add(fold(name))
        for lang, forms in forms_in.items():
            self._words[lang] = regex.compile(r"(?<![\p{L}\p{N}])" + name_pattern(forms) + r"(?![\p{L}\p{N}])",
                                              regex.IGNORECASE)

    def __len__(self) -> int:
        return len(self._to)

    def without_neutral_names(self, text: str) -> tuple[str, int]:
        """``text`` (cleaned, not folded) without the names spelt alike in every language (Safeguard Defenders,
        赵立坚), and how many of those taken out were in Chinese characters: such names say little of the language
        a text is in, and a detector reads "quem é a Safeguard Defenders?" as English, or "quienes son 保护卫士" as
        Chinese. Forms that differ by language (España, Países Bajos) stay: they are evidence."""
        return self._without(text, every=False)

    def without_names(self, text: str) -> str:
        """``text`` (cleaned, not folded) without any of the names (people named in pinyin, such as Wang Jingyu,
        are not evidence that a text is written in pinyin)."""
        return self._without(text, every=True)[0]

    def _without(self, text: str, every: bool) -> tuple[str, int]:
        if self._every is None:
            return text, 0
        # each character as ``fold`` leaves it (case, accents, punctuation, script), remembering where it came from
        chars: list[str] = []
        origin: list[int] = []
        for i, c in enumerate(text):
            for k in _folded_char(c):
                if k == " " and (not chars or chars[-1] == " "):
                    continue
                chars.append(k)
                origin.append(i)
        pieces, last, han = [], 0, 0
        for m in self._every.finditer("".join(chars)):
            if not every and m.group() not in self._neutral:
                continue
            pieces += [text[last : origin[m.start()]], " "]
            last = origin[m.end() - 1] + 1
            han += bool(_HAN.search(m.group()))
        if not pieces:
            return text, 0
        return _SPACES.sub(" ", "".join(pieces) + text[last:]), han

    def ordinary_words(self, text: str, lang: str | None) -> frozenset[str]:
        """The names in ``text`` (not folded), written in ``lang``, that it uses as ordinary words: those ``words``
        lists for ``lang``, written other than in capitals ("la policía china usa ...", not "USA"), folded. Taken as
        such everywhere in the text, should it also have them in capitals."""
        pattern = self._words.get(lang) if lang else None
        if pattern is None:
            return frozenset()
        # the text as ``fold`` reads it, but for the case: "Seúl" is "Seul", "Pays-Bas" is "Pays Bas"
        plain = _NOT_WORD.sub(" ", _MARKS.sub("", unicodedata.normalize("NFD", clean(text, MAX_MATCH_CHARS))))
        return frozenset(fold(m.group()) for m in pattern.finditer(plain) if not m.group().isupper())

    def apply(self, folded: str, ordinary: frozenset[str] = frozenset()) -> str:
        """``folded`` (the output of ``fold``) with every known name in its group's form, except the ``ordinary``
        words (``ordinary_words``)."""
        if self._pattern is None:
            return folded
        to = self._to
        if ordinary:
            out = self._pattern.sub(lambda m: m.group() if m.group() in ordinary else f" {to[m.group()]} ", folded)
        else:
            out = self._pattern.sub(lambda m: f" {to[m.group()]} ", folded)
        return _SPACES.sub(" ", out).strip() if out != folded else folded


def _names_pattern(names: Iterable[str]) -> Any:
    """One pattern for folded names: Latin-script ones as whole words, Chinese ones anywhere; None for no names."""
    latin = [n for n in names if not _HAN.search(n)]
    han = [n for n in names if _HAN.search(n)]
    parts = []
    if latin:
        parts.append(r"(?<![\p{L}\p{N}--\p{Han}])" + name_pattern(latin) + r"(?![\p{L}\p{N}--\p{Han}])")
    if han:
        parts.append(name_pattern(han))
    return regex.compile("|".join(parts), regex.V1) if parts else None


@lru_cache(maxsize=4096)  # bounded: a hostile text may hold any characters
def _folded_char(c: str) -> str:
    """One character as ``fold`` leaves it (a space for anything it drops)."""
    return fold(c) or " "


def name_pattern(names: Iterable[str]) -> str:
    """A pattern matching any of ``names``, the longest first where several start at one place ("new york" before
    "new"), as a trie: shared beginnings are written once and each character is tried once, where a list of
    alternatives tries every name in turn (54 to 36 µs a folded text with the knowledge's names). Greedy optional
    groups give the longest-first order: a longer name is tried, and a shorter one only when the rest of the pattern
    fails."""
    trie: dict[str, Any] = {}
    for name in names:
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}  # a name ends here

    def written(node: dict[str, Any]) -> str:
        branches = [regex.escape(char) + written(child) for char, child in sorted(node.items()) if char]
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return ("(?:" + body + ")?" if "" in node else body) if branches else ""

    return "(?:" + written(trie) + ")"


_MARK_BASE = 0xF0000  # Supplementary Private Use Area-A: never in folded text (``clean`` removes private use)
_MARK_COUNT = 0xFFFE
#: The marks ``Aliases(marks=...)`` puts after the names it finds, one character standing for each group.
NAME_MARK = regex.compile(f"[{chr(_MARK_BASE)}-{chr(_MARK_BASE + _MARK_COUNT - 1)}]")


_OTHER_WORD = regex.compile(r"[\p{L}--\p{Han}]+", regex.V1)

#: Chinese characters per word, roughly: a run of Han characters is weighed as words before comparing.
_HAN_PER_WORD = 1.5


def han_share(text: str, names: int = 0) -> float:
    """How much of ``text`` is Chinese, from 0.0 to 1.0: Chinese characters (weighed as words), and ``names`` Chinese
    names taken out of it (a word each), against other words."""
    han = len(_HAN.findall(text)) / _HAN_PER_WORD + names
    if not han:
        return 0.0
    return han / (han + len(_OTHER_WORD.findall(text)))


@cache
def _cantonese_detector():  # type: ignore[no-untyped-def]
    from cantonesedetect import CantoneseDetector

    return CantoneseDetector()


def is_cantonese(text: str) -> bool:
    """Whether Chinese ``text`` is written Cantonese (冇, 嘅, 唔該, 點樣 ...), as cantonesedetect judges it. Written
    Cantonese is mostly Hong Kong's, in Traditional characters: it decides the script of a text whose characters
    show none ("伯明翰有冇中共嘅警察站？"), when the chat or the user gives no Chinese preference."""
    return str(_cantonese_detector().judge(text)) == "cantonese"


#: Characters that OpenCC converts but written Cantonese, mostly Hong Kong's and Traditional, uses as they are: the
#: particle 晒 ("all": "閂晒", "多謝晒"), which OpenCC takes only for the Simplified form of 曬 (to dry in the sun).
_EITHER_SCRIPT = frozenset("晒")


def chinese_script(text: str) -> str | None:
    """``zh-Hant`` or ``zh-Hans`` when the Chinese characters in ``text`` show a script, else None.

    A text is Traditional when converting it to Simplified changes it, Simplified when converting it to Traditional
    does; characters common to both scripts decide nothing, nor do those written Cantonese uses in both
    (``_EITHER_SCRIPT``).
    """
    han = "".join(c for c in _HAN.findall(text) if c not in _EITHER_SCRIPT)
    if not han:
        return None
    to_s = convert(han, "t2s")
    to_t = convert(han, "s2tw")
    trad = sum(1 for a, b in zip(han, to_s, strict=True) if a != b)
    simp = sum(1 for a, b in zip(han, to_t, strict=True) if a != b)
    if trad > simp:
        return "zh-Hant"
    if simp > trad:
        return "zh-Hans"
    return None


_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")  # Japanese: Chinese text never has kana
_FOREIGN_SCRIPT = regex.compile(r"[\p{Hangul}\p{Cyrillic}\p{Arabic}\p{Hebrew}\p{Thai}\p{Greek}\p{Devanagari}]")
_LATIN_WORD = regex.compile(r"[\p{Latin}]{2,}")

#: lingua's confidence below which a Latin-script question is too short or too mixed to say; the hint decides.
MIN_CONFIDENCE = 0.5
#: lingua's confidence above which the language is taken as certain.
SURE_CONFIDENCE = 0.8
#: lingua's confidence from which a language counts among those a Latin-script question may be in (the matcher reads
#: only their phrasings and English ones): chosen on the development sets, see ``Reading.likely``.
LIKELY_CONFIDENCE = 0.05

# Languages lingua tells apart. Those the bot does not speak are there so that, say, a Polish question is known as
# such and answered in English with a note, instead of being taken for the nearest supported language.
_LINGUA: dict[str, str | None] = {
    "ENGLISH": "en", "SPANISH": "es", "DUTCH": "nl", "ITALIAN": "it", "FRENCH": "fr", "GERMAN": "de",
    "PORTUGUESE": "pt", "POLISH": None, "ROMANIAN": None, "SWEDISH": None, "CZECH": None, "HUNGARIAN": None,
    "TURKISH": None, "INDONESIAN": None, "VIETNAMESE": None, "TAGALOG": None,
}


#: Latin-script words a text needs before the bot considers it might be in a language it does not speak.
FOREIGN_MIN_WORDS = 4


@cache
def _detector(supported_only: bool):  # type: ignore[no-untyped-def]
    """lingua's detector, built once: restricted to the bot's Latin-script languages, or with the others above too
    (used only to tell that a longer text is in a language the bot does not speak)."""
    from lingua import Language, LanguageDetectorBuilder

    names = [name for name, code in _LINGUA.items() if code or not supported_only]
    return LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in names)).build()


def warm_up() -> None:
    """Load the language models now (lingua loads them on first use, which would make the first askers wait), the
    pinyin syllables and the look-alike letters."""
    for supported_only in (True, False):
        _detector(supported_only).compute_language_confidence_values("is there a police station here")
    _cantonese_detector()
    _pinyin_syllables()
    _latin_lookalikes()


def latin_language(text: str) -> tuple[str | None, float, tuple[str, ...]]:
    """The language of Latin-script ``text`` among the bot's own, with lingua's confidence, and every language of the
    bot's that lingua gives at least ``LIKELY_CONFIDENCE``, most likely first; None (with the confidence, and no
    likely language) when a longer text is, with more confidence, in a language the bot does not speak."""
    values: list[tuple[str, float]] = []
    if len(_LATIN_WORD.findall(text)) >= FOREIGN_MIN_WORDS:
        wider = _detector(False).compute_language_confidence_values(text)
        if wider and _LINGUA.get(wider[0].language.name) is None and wider[0].value >= MIN_CONFIDENCE:
            return None, float(wider[0].value), ()
        # lingua's confidences are shares of one total: among the bot's languages they are those of the restricted
        # detector, scaled (equal to 1e-15 on 10,392 texts), without running it too (0.15 ms of 0.6)
        ours = [(v.language.name, float(v.value)) for v in wider if _LINGUA.get(v.language.name)]
        total = sum(value for _, value in ours)
        values = [(name, value / total) for name, value in ours] if total > 0 else []
    if not values:
        values = [(v.language.name, float(v.value)) for v in _detector(True).compute_language_confidence_values(text)]
    if not values:
        return None, 0.0, ()
    lang, confidence = _LINGUA[values[0][0]], values[0][1]
    likely = tuple(code for name, value in values if value >= LIKELY_CONFIDENCE and (code := _LINGUA[name]))
    return lang, confidence, likely


#: Chinese written in pinyin has at least this many words to be read as such: shorter, a few words of the bot's own
#: languages are valid pinyin too ("ma e legale?", "la casa de mi")
PINYIN_MIN_WORDS = 4
# spelt so in pinyin, seldom in the bot's other languages (English has sh, but few of its words are pinyin syllables)
_PINYIN_SOUND = regex.compile(r"zh|sh[aeiou]|x[iu]|qi|[aeiou]ng\b|uo|iao", regex.IGNORECASE)
_INITIALS = ("", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r", "z", "c",
             "s", "y", "w")
_FINALS = ("a", "o", "e", "i", "u", "v", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ve", "ue", "er", "an", "en", "in",
           "un", "vn", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong", "ua", "uo", "uai", "uan", "uang")


@cache
def _pinyin_syllables() -> frozenset[str]:
    """Every pinyin syllable without its tone: each initial with each final, kept when zhon's syllable pattern
    accepts it (412)."""
    syllable = re.compile(zhon.pinyin.syllable, re.IGNORECASE)
    return frozenset(s for i in _INITIALS for f in _FINALS if syllable.fullmatch(s := i + f))


def _is_pinyin_word(word: str) -> bool:
    """Whether ``word`` (lower case, tone marks removed) splits into pinyin syllables, in one pass over it: zhon's own
    word pattern backtracks exponentially on a long word that almost matches (1.3 s for 39 letters, doubling with
    every two more), which a hostile message could send."""
    syllables = _pinyin_syllables()
    ends = [True] + [False] * len(word)  # ends[i]: word[:i] splits into syllables
    for i in range(1, len(word) + 1):
        # a syllable starting with a, e or o begins a word (inside one, pinyin writes an apostrophe: xi'an)
        ends[i] = any(ends[i - k] and word[i - k : i] in syllables and (k == i or word[i - k] not in "aeo")
                      for k in range(1, min(6, i) + 1))
    return ends[-1]


def is_pinyin(text: str) -> bool:
    """Whether Latin-script ``text`` is Chinese written in pinyin ("helan you zhongguo jingchazhan ma"): at least
    ``PINYIN_MIN_WORDS`` words, every one made of pinyin syllables (with tone marks, tone numbers or neither), one
    of them with a sound pinyin spells in a way the bot's other languages seldom do (zh, sh, xi, qi, a final -ng, uo,
    iao; not qu: "que", "quando"). A text with any other word is not pinyin: Spanish, Portuguese and Italian have many
    words that are pinyin syllables ("la", "de", "china", "chi"; see the README)."""
    words = [_MARKS.sub("", unicodedata.normalize("NFD", w.lower())) for w in _LETTERS.findall(text)]
    return (len(words) >= PINYIN_MIN_WORDS and all(_is_pinyin_word(w) for w in words)
            and any(_PINYIN_SOUND.search(w) for w in words))


@dataclass(frozen=True)
class Reading:
    lang: str  # the language to answer in
    foreign: bool = False  # written in a language the bot does not speak (answered in English, with a note)
    sure: bool = False  # the detector was confident (``likely`` is then this language alone)
    # Latin-script text in a language the bot speaks: the languages it may well be in, ``lang`` among them (the
    # matcher reads only their phrasings, and English ones); empty when not known (Chinese, foreign, no letters)
    likely: tuple[str, ...] = ()
    pinyin: bool = False  # Chinese typed in pinyin (``foreign`` too: answered in English, with a note of its own)


def read_language(text: str, hint: str | None = None, names: Aliases | None = None) -> Reading:
    """The language to answer ``text`` in, and whether it is one the bot does not speak.

    Chinese characters decide for Chinese (a few of them among Latin words still count: people write English names
    inside Chinese sentences); the script of those characters picks Simplified or Traditional, and the hint settles
    text that shows neither. Latin-script text goes to lingua, restricted to the languages the bot knows; when it is
    not confident (two words, a name), the hint decides. Text with no letters of its own takes the hint. Anything
    else is answered in English. With ``names``, the names spelt alike in every language are not read (see
    ``Aliases.without_neutral_names``); a text of such names alone takes the hint, or is read as it is.
    """
    preferred = languages.canonical(hint)
    cleaned = clean(text, MAX_MATCH_CHARS)
    words, han_names = cleaned, 0
    if names is not None:
        unnamed, taken = names.without_neutral_names(cleaned[:LANGUAGE_SAMPLE_CHARS])
        if _LETTER.search(unnamed):
            words, han_names = unnamed + cleaned[LANGUAGE_SAMPLE_CHARS:], taken
        elif preferred and not _HAN.search(cleaned):
            return Reading(preferred)  # Latin-script names alone ("Safeguard Defenders?"): the hint decides
    share = han_share(words, han_names)
    if _KANA.search(cleaned) or (share < 0.4 and _FOREIGN_SCRIPT.search(words)):
        return Reading(languages.DEFAULT, foreign=True)  # Japanese, Korean, Russian ...: not a language it speaks
    if share >= 0.4:
        script = chinese_script(cleaned)
        if script:
            return Reading(script)
        if preferred and languages.is_chinese(preferred):
            return Reading(preferred)
        return Reading("zh-Hant" if is_cantonese(cleaned) else "zh-Hans")
    if share == 0.0 and not _LETTER.search(words):
        return Reading(preferred or languages.DEFAULT)
    if share > 0.0 and preferred and languages.is_chinese(preferred):
        return Reading(chinese_script(cleaned) or preferred)
    if not _LATIN_WORD.search(words):
        return Reading(preferred or languages.DEFAULT)
    sample = words[:LANGUAGE_SAMPLE_CHARS]
    unnamed = sample if names is None else names.without_names(sample)  # names alone are no pinyin text
    if is_pinyin(unnamed):
        return Reading(languages.DEFAULT, foreign=True, pinyin=True)  # matched with the phrasings in pinyin
    lang, confidence, likely = latin_language(sample)
    if confidence < MIN_CONFIDENCE:
        chosen = preferred if preferred and not languages.is_chinese(preferred) else lang or languages.DEFAULT
        return Reading(chosen, likely=tuple(dict.fromkeys((*likely, chosen))) if likely else ())
    if lang is None:
        return Reading(languages.DEFAULT, foreign=True)
    sure = confidence >= SURE_CONFIDENCE
    return Reading(lang, sure=sure, likely=(lang,) if sure else likely)
