"""Text handling shared by matching and rendering: cleaning, folding for comparison, script and language.

``clean`` makes any input safe to work with (Unicode NFKC, no control or invisible characters, bounded length).
``fold`` turns text into the key the matcher compares: case-folded, accents removed, punctuation and emoji dropped,
digit groups joined, and Traditional Chinese converted to Simplified with OpenCC (``tw2sp``, which also maps Taiwan
vocabulary) so both scripts compare equal.
``detect_language`` decides which language to answer in from the question itself, with a caller's hint.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache

import opencc
import regex

from bot import languages

#: Matching looks at this many characters of a question at most (a forwarded article states its claim early).
MAX_MATCH_CHARS = 2000

_INVISIBLE = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]+")
_SPACES = regex.compile(r"\s+")
_MARKS = regex.compile(r"\p{M}+")
_NOT_WORD = regex.compile(r"[^\p{L}\p{N}]+")
_DIGIT_GROUP = regex.compile(r"(?<=\d)[,.\u00a0' ](?=\d{3}(?!\d))")
_HAN = regex.compile(r"\p{Han}")
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
    """NFKC-normalise, replace control, format (zero-width, bidi override) and unassigned characters by spaces,
    collapse white space, and cut to ``limit`` characters."""
    if limit is not None:
        text = text[: limit * 2]  # NFKC can only grow a string; cut early so hostile input stays cheap
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:limit] if limit is not None else text


def fold(text: str) -> str:
    """The comparison key of a text: what two spellings of the same question have in common."""
    text = clean(text, MAX_MATCH_CHARS).casefold()
    text = to_simplified(text)
    text = _DIGIT_GROUP.sub("", text)
    text = _MARKS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


_OTHER_WORD = regex.compile(r"[\p{L}--\p{Han}]+", regex.V1)

#: Chinese characters per word, roughly: a run of Han characters is weighed as words before comparing.
_HAN_PER_WORD = 1.5


def han_share(text: str) -> float:
    """How much of ``text`` is Chinese, from 0.0 to 1.0: Chinese characters (weighed as words) against other words."""
    han = len(_HAN.findall(text)) / _HAN_PER_WORD
    if not han:
        return 0.0
    return han / (han + len(_OTHER_WORD.findall(text)))


def chinese_script(text: str) -> str | None:
    """``zh-Hant`` or ``zh-Hans`` when the Chinese characters in ``text`` show a script, else None.

    A text is Traditional when converting it to Simplified changes it, Simplified when converting it to Traditional
    does; characters common to both scripts decide nothing.
    """
    han = "".join(_HAN.findall(text))
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


def detect_language(text: str, hint: str | None = None) -> str:
    """The language to answer ``text`` in.

    Chinese characters decide for Chinese (a few of them among Latin words still count: people write English names
    inside Chinese sentences); the script of those characters picks Simplified or Traditional, and the hint settles
    text that shows neither. Text with no letters of its own takes the hint. Latin-script text is English for now.
    """
    preferred = languages.canonical(hint)
    cleaned = clean(text, MAX_MATCH_CHARS)
    share = han_share(cleaned)
    if share >= 0.4:
        script = chinese_script(cleaned)
        if script:
            return script
        return preferred if preferred and languages.is_chinese(preferred) else "zh-Hans"
    if share == 0.0 and not _LETTER.search(cleaned):
        return preferred or languages.DEFAULT
    if share > 0.0 and preferred and languages.is_chinese(preferred):
        return chinese_script(cleaned) or preferred
    return languages.DEFAULT
