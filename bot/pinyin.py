"""Chinese typed in pinyin: the knowledge's Chinese phrasings written out in pinyin, for a pinyin question to meet.

People without a Chinese keyboard, and those who speak Mandarin but do not write it, type "helan you zhongguo
jingchazhan ma". Its words share no character with the Chinese phrasings, so the matcher compares such a question
(``text.is_pinyin``) with those phrasings written in toneless pinyin by pypinyin instead. Names are written the way of
their group in ``knowledge/names.yaml``, as the pinyin of its Chinese form: "Rotterdam", "Róterdam" and 鹿特丹 are all
"lutedan", and a place in a country (``within:``) is followed by the country, as the matcher reads it elsewhere. Both
texts lose their spaces (people join a word's syllables or not: "zhongguo", "zhong guo"), their tone marks and tone
numbers ("zhōngguó", "zhong1guo2"), and write ü as u ("lv", "lü" and "lu" alike). They are compared by the Dice
similarity of their sets of character 3-grams, each weighted by how few owners have it, and of their names, each
weighing ``NAME_WEIGHT`` times as much; an owner (an entry, or a group of declined questions) scores as its best
phrasing. ``build`` writes the phrasings out (about 0.15 ms each) when the knowledge is loaded; else the first pinyin
question does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
import regex
from pypinyin import Style, lazy_pinyin
from scipy import sparse

from bot.text import NAME_MARK, Aliases, fold

_HAN = regex.compile(r"\p{Han}")
_TONE_NUMBER = regex.compile(r"(?<=\p{L})[1-5]")
_NOT_LETTER_OR_DIGIT = regex.compile(r"[^\p{L}\p{N}]+")
_GRAM = 3
_MIN_SPELT_NAME = 5  # letters a name's pinyin needs to be looked for inside a run ("helan", "faguo"; not "ri")
_NAME = "#"  # a name's feature: this and its group's mark (never a 3-gram of pinyin, which has no "#")
#: How many 3-grams a shared name counts for.
NAME_WEIGHT = 3.0


def spell(text: str) -> str:
    """``text`` in toneless pinyin, Chinese characters and all, as one run of letters and digits."""
    pinyin = " ".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))
    return _NOT_LETTER_OR_DIGIT.sub("", fold(pinyin)).replace("v", "u")


def _grams(run: str) -> set[str]:
    return {run[i : i + _GRAM] for i in range(max(1, len(run) - _GRAM + 1))} if run else set()


class PinyinIndex:
    """The Chinese phrasings of every owner, in pinyin; ``scores`` rates a pinyin question against them."""

    def __init__(
        self,
        phrasings: Iterable[tuple[int, str]],
        n_owners: int,
        names: Iterable[Sequence[str]] = (),
        within: Iterable[Sequence[str]] = (),
    ) -> None:
        """``phrasings``: (owner number, text) of the phrasings in Chinese characters; ``names`` and ``within`` as
        in ``knowledge/names.yaml``."""
        self._phrasings = [(owner, text) for owner, text in phrasings if _HAN.search(text)]
        self._n_owners = n_owners
        # each group of names read as the pinyin of its Chinese form, where it has one
        groups = [[spell(next(n for n in group if _HAN.search(n))), *group] if any(_HAN.search(n) for n in group)
                  else list(group) for group in names]
        self._aliases = Aliases(groups, marks=1, within=within)
        # the same names found in the run of pinyin itself, for those who split them into syllables ("he lan"),
        # with the marks the aliases give them (a place's and its country's)
        spelt = {group[0]: frozenset(NAME_MARK.findall(self._aliases.apply(group[0]))) for group in groups
                 if len(group[0]) >= _MIN_SPELT_NAME and group[0].isascii() and any(_HAN.search(n) for n in group)}
        self._spelt = spelt
        self._spelt_pattern = (regex.compile("|".join(regex.escape(n) for n in sorted(spelt, key=len, reverse=True)))
                               if spelt else None)
        self._lock = threading.Lock()
        self._built: tuple[sparse.csr_matrix, dict[str, int], np.ndarray, np.ndarray, np.ndarray, float] | None = None

    def _read(self, text: str) -> str:
        """A text (a phrasing in characters, or a question in pinyin) as the run of pinyin letters compared, each
        name followed by its group's mark (a private-use character, which ``_features`` takes out)."""
        folded = _TONE_NUMBER.sub("", fold(text))
        named = self._aliases.apply(folded)
        marks = "".join(NAME_MARK.findall(named))
        return spell(NAME_MARK.sub(" ", named)) + marks

    def _features(self, text: str) -> set[str]:
        """The 3-grams of a text's run of pinyin, and a feature for each name in it: a shared name then counts for
        more than a few shared letters ("nanhan" and "helan" end alike)."""
        read = self._read(text)
        run = NAME_MARK.sub("", read)
        marks = set(NAME_MARK.findall(read))
        if self._spelt_pattern is not None:
            for m in self._spelt_pattern.finditer(run):
                marks |= self._spelt[m.group()]
        return _grams(run) | {_NAME + mark for mark in marks}

    def build(self) -> None:
        """Write out the phrasings in pinyin now rather than on the first pinyin question (off the event loop)."""
        self._index()

    def _index(self) -> tuple[sparse.csr_matrix, dict[str, int], np.ndarray, np.ndarray, np.ndarray, float]:
        with self._lock:
            if self._built is None:
                vocab: dict[str, int] = {}
                rows = [[vocab.setdefault(g, len(vocab)) for g in self._features(text)]
                        for _, text in self._phrasings]
                owners = np.array([owner for owner, _ in self._phrasings], dtype=np.intp)
                # a 3-gram weighs by how few owners have it (inverse document frequency): the syllables of a name
                # ("helan", "hanguo") tell more than those every question has ("jingchazhan")
                holders: dict[int, set[int]] = {}
                for owner, row in zip(owners.tolist(), rows, strict=True):
                    for column in row:
                        holders.setdefault(column, set()).add(owner)
                n = max(1, len(set(owners.tolist())))
                weights = np.ones(max(1, len(vocab)), dtype=np.float32)
                for column, have in holders.items():
                    weights[column] = np.log1p(n / len(have))
                rarest = float(weights.max())  # of the 3-grams, before the names weigh more
                for gram, column in vocab.items():
                    if gram.startswith(_NAME):
                        weights[column] *= NAME_WEIGHT
                starts = np.zeros(len(rows) + 1, dtype=np.int64)
                np.cumsum([len(r) for r in rows], out=starts[1:])
                columns = np.fromiter((c for r in rows for c in r), dtype=np.int32, count=int(starts[-1]))
                matrix = sparse.csr_matrix((weights[columns], columns, starts), shape=(len(rows), len(weights)))
                lengths = np.asarray(matrix.sum(axis=1), dtype=np.float32).ravel()
                self._built = (matrix, vocab, lengths, owners, weights, rarest)
            return self._built

    def scores(self, question: str) -> np.ndarray:
        """Every owner's score for a pinyin ``question``: the weighted Dice similarity of its best phrasing, 0.0 to
        1.0 (a 3-gram no phrasing has, such as a typo's, weighs as much as the rarest one a phrasing has)."""
        out = np.zeros(self._n_owners, dtype=np.float32)
        matrix, vocab, lengths, owners, weights, rarest = self._index()
        grams = self._features(question)
        known = [vocab[g] for g in grams if g in vocab]
        if not known or not len(owners):
            return out
        query = np.zeros(matrix.shape[1], dtype=np.float32)
        query[known] = 1.0
        size = float(weights[known].sum() + rarest * (len(grams) - len(known)))
        dice = 2 * (matrix @ query) / (lengths + size)
        np.maximum.at(out, owners, dice.astype(np.float32))
        return out
