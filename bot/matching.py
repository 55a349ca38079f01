"""Find the entry that answers a question, or abstain.

Every phrasing of every entry is folded (``text.fold``: case, accents, punctuation, Traditional to Simplified) and cut
into character n-grams: 3-grams inside words for alphabetic scripts, single characters and pairs for Chinese, which
has no spaces for word-based scorers to use. The n-grams become integers and are sorted, so that rapidfuzz's Indel
distance between two phrasings, computed for all phrasings at once by ``process.cdist``, yields the size of their
common multiset and from it the Dice similarity. An entry scores as its best phrasing, plus a small bonus when the
question names one of the entry's keywords (places, people, numbers in any script). The matcher answers only when the
best entry clears a threshold *and* leads the next one by a margin; otherwise it offers "did you mean" alternatives
or nothing. The thresholds were chosen on the development question set (see ``bot.evaluation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import regex
from rapidfuzz import process
from rapidfuzz.distance import Indel

from bot.facts import Entry, KnowledgeBase
from bot.text import detect_language, fold

_HAN_RUN = regex.compile(r"\p{Han}+")
_WORD_NGRAM = 3


@dataclass(frozen=True)
class Phrasing:
    """A way of asking an entry's question: from the knowledge files or added by moderators."""

    entry_id: str
    text: str
    lang: str = ""


@dataclass(frozen=True)
class Thresholds:
    """When the matcher answers, suggests, or abstains. Scores run from 0 to 1."""

    answer: float = 0.50  # the best entry must score at least this to be answered outright
    margin: float = 0.06  # ... and lead the next entry by this much
    suggest: float = 0.36  # entries scoring this much are offered as "did you mean"
    keyword_bonus: float = 0.08  # added when the question names one of the entry's keywords


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one question."""

    question: str
    lang: str  # the language to answer in
    status: Literal["answer", "uncertain", "none"]
    candidates: tuple[Candidate, ...]  # best first; the answer when status is "answer"

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.status == "answer" else None

    @property
    def alternatives(self) -> tuple[Candidate, ...]:
        """Close entries for a "did you mean" choice (the runners-up when answered)."""
        return self.candidates[1:] if self.status == "answer" else self.candidates


def features(folded: str) -> list[str]:
    """The character n-grams a folded text is compared by."""
    grams: list[str] = []
    for word in folded.split():
        start = 0
        for run in _HAN_RUN.finditer(word):
            if run.start() > start:
                grams.extend(_word_grams(word[start : run.start()]))
            han = run.group()
            grams.extend(han)
            grams.extend(han[i : i + 2] for i in range(len(han) - 1))
            start = run.end()
        if start < len(word):
            grams.extend(_word_grams(word[start:]))
    return grams


def _word_grams(word: str) -> list[str]:
    padded = f" {word} "
    if len(padded) <= _WORD_NGRAM:
        return [padded]
    return [padded[i : i + _WORD_NGRAM] for i in range(len(padded) - _WORD_NGRAM + 1)]


class Matcher:
    """Matches questions against a knowledge base; built once per load, immutable, safe to share between threads."""

    def __init__(
        self,
        kb: KnowledgeBase,
        extra: Iterable[Phrasing] = (),
        thresholds: Thresholds | None = None,
    ) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        phrasings = [Phrasing(e.id, q, lang) for e in kb.entries for lang, qs in e.questions.items() for q in qs]
        phrasings += [p for p in extra if p.entry_id in kb.by_id]
        self._entry_index = {e.id: i for i, e in enumerate(kb.entries)}
        vocab: dict[str, int] = {}
        rows: list[tuple[int, list[int]]] = []
        seen: set[tuple[int, str]] = set()
        for p in phrasings:
            key = fold(p.text)
            owner = self._entry_index[p.entry_id]
            if not key or (owner, key) in seen:
                continue
            seen.add((owner, key))
            rows.append((owner, sorted(vocab.setdefault(g, len(vocab)) for g in features(key))))
        rows.sort(key=lambda r: r[0])  # grouped by entry, for the per-entry maximum
        self._vocab = vocab
        self._grams = [r[1] for r in rows]
        self._lengths = np.array([len(g) for g in self._grams], dtype=np.float32)
        owners = np.array([r[0] for r in rows], dtype=np.intp)
        self._group_starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else owners
        self._group_entries = owners[self._group_starts] if len(owners) else owners
        self._keywords = [tuple(k for k in {fold(w) for w in e.keywords} if k) for e in kb.entries]

    @property
    def size(self) -> int:
        """How many distinct phrasings are indexed."""
        return len(self._grams)

    def scores(self, question: str) -> np.ndarray:
        """Every entry's score for ``question``, in knowledge-base order (0 for entries with no phrasing)."""
        folded = fold(question)
        out = np.zeros(len(self.kb.entries), dtype=np.float32)
        if not folded or not self._grams:
            return out
        unknown = -1
        query: list[int] = []
        for g in features(folded):
            idx = self._vocab.get(g)
            if idx is None:
                idx, unknown = unknown, unknown - 1  # counts towards the length, matches nothing
            query.append(idx)
        query.sort()
        distance = process.cdist([query], self._grams, scorer=Indel.distance, dtype=np.int32)[0]
        total = self._lengths + len(query)
        dice = (total - distance) / total  # 2*|common| / (|q| + |p|)
        out[self._group_entries] = np.maximum.reduceat(dice, self._group_starts)
        bonus = self.thresholds.keyword_bonus
        if bonus:
            for i in np.argsort(-out, kind="stable")[:8]:
                if out[i] > 0 and _names_any(folded, self._keywords[i]):
                    out[i] += bonus
        return out

    def search(self, question: str, lang_hint: str | None = None, limit: int = 3) -> Match:
        """The best entry for ``question`` if the matcher is confident, else up to ``limit`` close alternatives."""
        lang = detect_language(question, lang_hint)
        scores = self.scores(question)
        order = np.argsort(-scores, kind="stable")[: max(limit, 2)]
        t = self.thresholds
        best = float(scores[order[0]]) if len(order) else 0.0
        second = float(scores[order[1]]) if len(order) > 1 else 0.0
        close = tuple(
            Candidate(self.kb.entries[i], round(float(scores[i]), 4)) for i in order[:limit] if scores[i] >= t.suggest
        )
        if best >= t.answer and best - second >= t.margin:
            status: Literal["answer", "uncertain", "none"] = "answer"
        elif close:
            status = "uncertain"
        else:
            status = "none"
        return Match(question, lang, status, close)

    def rank(self, question: str, limit: int = 10) -> Sequence[Candidate]:
        """The entries closest to ``question``, best first, however weak (for browsing and inline search)."""
        scores = self.scores(question)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [Candidate(self.kb.entries[i], round(float(scores[i]), 4)) for i in order if scores[i] > 0]


def _names_any(folded: str, keywords: Sequence[str]) -> bool:
    padded = f" {folded} "
    for k in keywords:
        if _HAN_RUN.search(k):
            if k in folded:
                return True
        elif f" {k} " in padded:
            return True
    return False
