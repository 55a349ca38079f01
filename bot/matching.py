"""Find the entry that answers a question, or abstain.

Every phrasing of every entry is folded (``text.fold``: case, accents, punctuation, Traditional to Simplified), its
names written one way (``text.Aliases`` over ``knowledge/names.yaml``: 鹿特丹 is Rotterdam, and Berlin is also Germany)
and cut into character n-grams: 3-grams inside words for alphabetic scripts, single characters and pairs for
Chinese, which has no spaces for word-based scorers to use. N-grams that few entries use weigh more than those every
entry has ("police station"), by inverse document frequency. An inverted index (sparse matrices) gives, for every
phrasing at once, the weighted n-grams it shares with a question, and from that their Dice similarity; an entry
scores as its best phrasing. Classifiers trained on all the phrasings (``bot.classifier``) add their probability
that the question belongs to each entry: one over character n-grams, and with an embedding model (``bot.semantic``)
one over its vectors, beside the model's similarity to the entry's closest phrasing above a floor. The knowledge
base's declined questions (``out-of-scope.yaml``) are scored like entries, and a question closest to them gets no
answer. The matcher answers only when the best entry's score, raised by its lead over the runner-up, clears a
threshold, and the entry also leads the closest group of declined questions by a margin; otherwise it offers "did
you mean" alternatives or nothing. A question the n-grams and their classifier answer clearly skips the model. A
long text (a forwarded message) is also compared sentence by sentence with the 200 phrasings the whole text shares
most with, by the same Dice similarity over those phrasings' rows; the model, which reads a text's first 150
characters, also reads the two sentence windows the n-grams rate highest. The thresholds were chosen on the
development question set (``python -m bot eval --tune``, see ``bot.evaluation``). A question typed in pinyin is
compared with the Chinese phrasings written out in pinyin instead (``bot.pinyin``), against thresholds of its own.
Last, an entry about a country neither answers nor is offered for a question that names only countries it does not
speak of (``bot.places``: "did Japan investigate the stations?" is not answered with Spain's entry).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import regex
from scipy import sparse

from bot import classifier
from bot.classifier import ClassifierStore, NgramClassifier
from bot.facts import Entry, KnowledgeBase
from bot.pinyin import PinyinIndex
from bot.places import CONTINENTS, SUBJECT, Gazetteer, covers, focus_of
from bot.semantic import EMBED_MAX_CHARS, Embedder, EmbeddingCache, SemanticIndex
from bot.text import MAX_MATCH_CHARS, Aliases, Reading, clean, fold, read_language

log = logging.getLogger(__name__)

_HAN_RUN = regex.compile(r"\p{Han}+")
_WORD_NGRAM = 3
_SENTENCE = regex.compile(r"(?<=[.!?。！？；;…\n])\s*|(?<=[：:])\s*(?=\S{12})")
LONG_TEXT = 80  # folded characters: beyond this a text is also read sentence by sentence
_MIN_WINDOW = 12  # folded characters a sentence window needs to be worth comparing
_MAX_WINDOWS = 24
_WINDOW_CANDIDATES = 200  # phrasings a long text's sentences are compared with
MODEL_WINDOWS = 2  # a text longer than the model reads: how many of its sentence windows it reads besides


@dataclass(frozen=True)
class Phrasing:
    """A way of asking an entry's question: from the knowledge files or added by moderators."""

    entry_id: str
    text: str
    lang: str = ""


@dataclass(frozen=True)
class Thresholds:
    """When the matcher answers, suggests, or abstains. Scores add up: the n-grams' similarity (0 to 1) and their
    classifier's probability times ``ngram_classifier_weight``; with an embedding model, its similarity above
    ``semantic_floor`` times ``semantic_weight`` and its classifier's probability times
    ``vector_classifier_weight``. ``Thresholds.top`` is the highest score there can be."""

    answer: float = 0.71  # answer outright when the best score plus ``margin`` times its lead reaches this
    margin: float = 0.75  # how much the lead over the second-best entry counts towards confidence
    min_lead: float = 0.03  # never answer when the runner-up is this close, however high both score
    # never answer when a group of declined questions is this close: they name the entries' people and places but ask
    # what no entry answers, so a question near them is more likely one of theirs than the runner-up entry would be
    decline_lead: float = 0.0
    suggest: float = 0.36  # entries scoring this much are offered as "did you mean"
    auto_reply: float = 0.85  # unrequested answers in groups (opt-in) need far more than answers to a question
    weight_levels: int = 4  # n-grams count 1..this many times, by how few entries use them (0: all count once)
    name_weight: int = 0  # a name from names.yaml also counts as this many n-grams of its own (then weighted)
    semantic_weight: float = 4.0  # with an embedding model: how much its similarity adds to the n-gram score ...
    semantic_floor: float = 0.85  # ... above this cosine similarity (the model rates any two questions over 0.7)
    # how much the classifiers' probabilities (0 to 1) add: the one over n-grams, and with an embedding model the one
    # over its vectors (``bot.classifier``)
    ngram_classifier_weight: float = 0.5
    vector_classifier_weight: float = 0.5
    # with an embedding model: the n-grams alone answer, without asking the model, when their score plus
    # ``shortcut_margin`` times their lead reaches ``shortcut`` (None: always ask the model)
    shortcut: float | None = None
    shortcut_margin: float = 1.0

    def top(self, semantic: bool) -> float:
        """The highest score an entry can get (with an embedding model, or with n-grams alone)."""
        lexical = 1.0 + self.ngram_classifier_weight
        return lexical + (self.semantic_weight * (1 - self.semantic_floor) + self.vector_classifier_weight
                          if semantic else 0.0)


#: Chosen with ``python -m bot eval --tune`` on the development sets (see the README): one set for the n-grams alone,
#: one for n-grams with the embedding model.
LEXICAL_THRESHOLDS = Thresholds(answer=0.96, margin=3.0, decline_lead=0.6, auto_reply=1.3, name_weight=1)
SEMANTIC_THRESHOLDS = Thresholds(answer=1.51, margin=2.75, decline_lead=0.5, auto_reply=2.15, shortcut=2.3,
                                 shortcut_margin=2.0)
#: An entry is about places when at least ``PLACED_SHARE`` of its phrasings name a country or continent
#: (``bot.places``), and then about those, and the people and organisations, that ``FOCUS_SHARE`` of them name: the
#: entries of countries (71-94% of their phrasings), Latin America (92%), Liu v. Poland (62%), Wang Jingyu (56%);
#: not Zhao Lijian's words (23%) nor the New York guilty plea (31%). See the README.
PLACED_SHARE = 0.5
FOCUS_SHARE = 0.1
#: How many entries past the limit a match looks at, to fill its alternatives when some are about other places.
_ELSEWHERE = 5
#: For a question typed in pinyin, scored by ``bot.pinyin`` alone (a Dice similarity, 0 to 1), with or without the
#: model: chosen on ``eval/pinyin.yaml`` (see the README).
PINYIN_THRESHOLDS = Thresholds(answer=0.9, margin=1.0, decline_lead=0.1, suggest=0.25, auto_reply=2.0)


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
    foreign: bool = False  # asked in a language the bot does not speak: answered in English, with a note
    off_topic: str | None = None  # the group of declined questions it resembles most (status "none")
    pinyin: bool = False  # Chinese typed in pinyin (``foreign`` too), matched with the phrasings in pinyin
    # not answered, and entries about other places were set aside: the countries and continents it names that no
    # entry names (``Matcher._unknown_places``), for the reply to say so ("no checked answer about Japan")
    unknown_places: tuple[str, ...] = ()

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
    """Matches questions against a knowledge base; built once per load, immutable, safe to share between threads.

    Entries and the knowledge base's groups of declined questions (``off_topic``) are indexed alike as "owners" of
    phrasings: entries first, in knowledge-base order, then the declined groups. A question whose best owner is a
    declined group gets no answer and no suggestion.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        extra: Iterable[Phrasing] = (),
        thresholds: Thresholds | None = None,
        embedder: Embedder | None = None,
        cache: EmbeddingCache | None = None,
        classifiers: ClassifierStore | None = None,
    ) -> None:
        self.kb = kb
        self.thresholds = thresholds or (SEMANTIC_THRESHOLDS if embedder else LEXICAL_THRESHOLDS)
        phrasings = [Phrasing(e.id, q, lang) for e in kb.entries for lang, qs in e.questions.items() for q in qs]
        phrasings += [Phrasing(e.id, t, lang) for e in kb.entries for lang, t in e.title.items()]
        phrasings += [p for p in extra if p.entry_id in kb.by_id]
        self._entry_index = {e.id: i for i, e in enumerate(kb.entries)}
        self._owner_ids = [e.id for e in kb.entries] + [g.id for g in kb.off_topic]
        for n, group in enumerate(kb.off_topic, len(kb.entries)):
            self._entry_index.setdefault(group.id, n)
            phrasings += [Phrasing(group.id, q, lang) for lang, qs in group.questions.items() for q in qs]
        self._aliases = Aliases(kb.names, marks=self.thresholds.name_weight, within=kb.within, words=kb.words)
        folded: list[tuple[int, str]] = []
        langs: list[str] = []
        texts: list[str] = []
        seen: set[tuple[int, str]] = set()
        for p in phrasings:
            key = self._aliases.apply(fold(p.text), self._aliases.ordinary_words(p.text, p.lang))
            owner = self._entry_index[p.entry_id]
            if not key or (owner, key) in seen:
                continue
            seen.add((owner, key))
            folded.append((owner, key))
            langs.append(p.lang)
            texts.append(p.text)
        order = sorted(range(len(folded)), key=lambda i: folded[i][0])  # grouped by owner, for the per-owner maximum
        folded = [folded[i] for i in order]
        langs = [langs[i] for i in order]
        texts = [texts[i] for i in order]
        self.phrasings: tuple[str, ...] = tuple(key for _, key in folded)  # folded, in index order
        grams = [(owner, features(key)) for owner, key in folded]
        weights = _weights(grams, len(self._owner_ids), self.thresholds.weight_levels)
        self._vocab: dict[str, int] = {}
        ids = [[self._vocab.setdefault(g, len(self._vocab)) for g in gs] for _, gs in grams]
        self._gram_weights = np.ones(len(self._vocab), dtype=np.int64)
        for g, idx in self._vocab.items():
            self._gram_weights[idx] = weights.get(g, 1)
        # each phrasing's n-grams and how much each weighs in it (weight x times): its row of the index, read by the
        # sentences of a long text against their likeliest phrasings
        starts = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum([len(row) for row in ids], out=starts[1:])
        columns = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(starts[-1]))
        gram_weights = self._gram_weights.astype(np.float32)
        self._weighted = sparse.csr_matrix((gram_weights[columns], columns, starts),
                                           shape=(len(ids), len(self._vocab)))
        self._weighted.sum_duplicates()  # an n-gram a phrasing has twice weighs twice
        self._lengths = np.asarray(self._weighted.sum(axis=1), dtype=np.float32).ravel()
        self._postings = _Postings(ids, gram_weights)
        # Phrasings by script: a question is compared only with phrasings sharing a script with it (a Chinese
        # question shares nothing but digits with an English phrasing).
        scripts = [_scripts(key) for _, key in folded]
        self._by_script: dict[tuple[bool, bool], np.ndarray] = {
            want: np.array([(have[0] and want[0]) or (have[1] and want[1]) for have in scripts], dtype=bool)
            for want in ((True, False), (False, True))
        }
        # Latin-script questions whose language is known: that language's phrasings and English ones (which carry
        # the names every language uses); the others add nothing but noise.
        self._by_lang: dict[str, np.ndarray] = {
            lang: np.array([x in (lang, "en", "") and scripts[i][1] for i, x in enumerate(langs)], dtype=bool)
            for lang in {x for x in langs if x and x not in ("zh-Hans", "zh-Hant")}
        }
        self._rows: dict[tuple[bool, bool] | frozenset[str], np.ndarray] = {
            k: np.flatnonzero(v) for k, v in self._by_script.items()
        }  # and the rows of each set of languages questions were read in, as they come (``_rows_of``)
        # ... and the index of each language's phrasings alone, read for such questions: an English question then
        # goes through the English phrasings' rows of its n-grams, not every language's (" de" is in most of them)
        self._by_lang_postings: dict[str, tuple[np.ndarray, _Postings]] = {}
        for lang in {*langs}:
            rows = np.flatnonzero(np.array([x == lang for x in langs], dtype=bool))
            self._by_lang_postings[lang] = (rows, _Postings([ids[i] for i in rows], gram_weights))
        # the Chinese phrasings in pinyin, for questions typed in pinyin (built by ``prepare``, or on the first one)
        self._pinyin = PinyinIndex([(owner, text) for (owner, _), text in zip(folded, texts, strict=True)],
                                   len(self._owner_ids), kb.names, kb.within)
        owners = np.array([r[0] for r in folded], dtype=np.intp)
        # where each entry is about (the places a share of its phrasings name), and every place it speaks of (those
        # and the places its titles and answers name): ``_about_places``
        self._gazetteer = Gazetteer(kb.names, kb.within)
        named: list[list[frozenset[str]]] = [[] for _ in kb.entries]
        for owner, key in folded:
            if owner < len(kb.entries):
                named[owner].append(self._gazetteer.places_in_folded(key))
        self._focus = [focus_of(places, PLACED_SHARE, FOCUS_SHARE) for places in named]
        self._scope = [
            focus.union(*(self._gazetteer.places(t) for t in (*e.title.values(), *e.answer.values())))
            for focus, e in zip(self._focus, kb.entries, strict=True)
        ]
        self._group_starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else owners
        self._group_entries = owners[self._group_starts] if len(owners) else owners
        # classifiers trained on the phrasings (bot.classifier), when there are enough of them to learn from
        store = classifiers if classifiers is not None else classifier.MEMORY
        if not classifier.worth_training(len(self.phrasings), len(set(owners.tolist()))):
            store = None
        self._classifier: NgramClassifier | None = None
        if store is not None:
            key = NgramClassifier.key_of(self.phrasings, owners.tolist(), len(self._owner_ids))
            self._classifier = store.obtain(key, NgramClassifier, lambda: NgramClassifier.train(
                key, self.phrasings, owners.tolist(), len(self._owner_ids)))
        self.semantic: SemanticIndex | None = None
        if embedder is not None:
            cache = cache if cache is not None else EmbeddingCache(None)
            self.semantic = SemanticIndex(embedder, cache, texts, owners, len(self._owner_ids), store)

    def _common_with_windows(
        self, sentences: Sequence[tuple[list[int], int]], windows: Sequence[tuple[int, ...]], chosen: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each window (a few of ``sentences``, each as its known n-gram ids and its number of unknown ones) and
        each ``chosen`` phrasing, the weighted size of the multiset of n-grams they share (windows by phrasings);
        and each window's own weighted size. The figures ``_common_with_all`` reads from the index, computed here
        over the chosen phrasings' own rows: the sentences' n-grams in a small table, and per phrasing n-gram the
        smaller of its weight there and in each window."""
        ids = np.fromiter(itertools.chain.from_iterable(s[0] for s in sentences), dtype=np.intp)
        member = np.zeros((len(windows), len(sentences)), dtype=np.float32)
        for n, window in enumerate(windows):
            member[n, list(window)] = 1
        unknown = member @ np.array([s[1] for s in sentences], dtype=np.float32) * _UNKNOWN_WEIGHT
        if not len(ids):
            return np.zeros((len(windows), len(chosen)), dtype=np.float32), unknown
        grams, column = np.unique(ids, return_inverse=True)
        width = len(grams)
        sentence = np.repeat(np.arange(len(sentences)), [len(s[0]) for s in sentences])
        table = np.bincount(sentence * width + column, weights=self._gram_weights[ids],
                            minlength=len(sentences) * width).reshape(len(sentences), width).astype(np.float32)
        weighted = member @ table  # windows by the text's n-grams: weight x times
        rows = self._weighted[chosen]
        where = np.minimum(np.searchsorted(grams, rows.indices), len(grams) - 1)
        shared = grams[where] == rows.indices
        before = np.concatenate([[0], np.cumsum(shared)])  # a phrasing's shared n-grams: before[its row's ends]
        smaller = np.minimum(weighted[:, where[shared]], rows.data[shared])
        total = np.zeros((len(windows), smaller.shape[1] + 1), dtype=np.float32)
        np.cumsum(smaller, axis=1, out=total[:, 1:])
        ends = before[rows.indptr]
        return total[:, ends[1:]] - total[:, ends[:-1]], weighted.sum(axis=1) + unknown

    def _common_with_all(self, grams: Sequence[str], langs: Sequence[str] | None = None) -> tuple[np.ndarray, float]:
        """For every phrasing, the weighted size of the multiset of n-grams it shares with a question's ``grams``;
        and the question's own weighted size, read from the inverted index: the work grows with how many phrasings
        share the question's n-grams, not with all of them (nor with the length of a forwarded text)."""
        known, unknown = self._ids(grams)
        counts = Counter(known)
        ids = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        times = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        length = float(self._gram_weights[ids] @ times) + _UNKNOWN_WEIGHT * unknown
        if langs is None:
            return self._postings.common(ids, times, len(self.phrasings)), length
        out = np.zeros(len(self.phrasings), dtype=np.float32)
        for lang in dict.fromkeys(langs):
            if lang in self._by_lang_postings:
                rows, postings = self._by_lang_postings[lang]
                out[rows] = postings.common(ids, times, len(rows))
        return out, length

    def _ids(self, grams: Iterable[str]) -> tuple[list[int], int]:
        """The ids of the known n-grams among ``grams``, and how many are unknown."""
        ids: list[int] = []
        unknown = 0
        vocab = self._vocab
        for g in grams:
            idx = vocab.get(g)
            if idx is None:
                unknown += 1
            else:
                ids.append(idx)
        return ids, unknown

    @property
    def classifier_keys(self) -> tuple[bytes, ...]:
        """The keys of the trained classifiers this matcher uses (``bot.classifier``)."""
        found = [self._classifier, self.semantic.classifier if self.semantic is not None else None]
        return tuple(c.key for c in found if c is not None)

    @property
    def size(self) -> int:
        """How many distinct phrasings are indexed."""
        return len(self.phrasings)

    def scores(self, question: str, langs: Sequence[str] = ()) -> np.ndarray:
        """Every entry's score for ``question``, in knowledge-base order (0 for entries with no phrasing).

        ``langs``: the languages the question may be in (``Reading.likely``); a Latin-script question is then
        compared only with phrasings in those languages and in English.
        """
        return self._owner_scores(question, langs)[: len(self.kb.entries)]

    def _owner_scores(self, question: str, langs: Sequence[str] = ()) -> np.ndarray:
        """The scores of every entry, then of every group of declined questions."""
        out = self._lexical_scores(question, langs)
        if self.semantic is not None:
            out += self._semantic_part(question)
        return out

    def _semantic_part(self, question: str) -> np.ndarray:
        return self._semantic_parts([question])[0]

    def _semantic_parts(self, questions: Sequence[str]) -> list[np.ndarray]:
        """What the model adds to every owner's score, for each question: one call to the model for them all (and
        for the windows of the long ones), which reads several texts about twice as fast as one at a time."""
        assert self.semantic is not None
        t = self.thresholds
        texts = [[question, *self._model_windows(question)] for question in questions]
        readings = iter(self.semantic.read_many([text for group in texts for text in group]))
        parts = []
        for group in texts:
            mine = [next(readings) for _ in group]
            similarity = np.max([r.similarity for r in mine], axis=0)
            probability = np.max([r.probability for r in mine], axis=0)
            parts.append(t.semantic_weight * np.clip(similarity - t.semantic_floor, 0, None)
                         + t.vector_classifier_weight * probability)
        return parts

    def _model_windows(self, question: str) -> list[str]:
        """For a text longer than the model reads (``EMBED_MAX_CHARS``: a forwarded message, whose first lines are
        often a header or a greeting), the ``MODEL_WINDOWS`` sentences or pairs of adjacent sentences the n-grams
        find most like a phrasing; the model reads them too, and each owner keeps its best reading. Empty for
        shorter texts."""
        if len(clean(question, MAX_MATCH_CHARS)) <= EMBED_MAX_CHARS:
            return []
        sentences, _, windows = _sentence_windows(question)
        texts = [" ".join(sentences[i] for i in w) for w in windows]
        return sorted(texts, key=lambda w: -float(self._lexical_scores(w, ()).max()))[:MODEL_WINDOWS]

    def _rows_of(self, langs: frozenset[str]) -> np.ndarray:
        """The rows of the Latin-script phrasings in ``langs``, in English, or in no language (names)."""
        rows = self._rows.get(langs)
        if rows is None:  # at most one per set of the bot's languages; a race only computes one twice
            rows = self._rows[langs] = np.flatnonzero(np.logical_or.reduce([self._by_lang[x] for x in langs]))
        return rows

    def _lexical_scores(self, question: str, langs: Sequence[str]) -> np.ndarray:
        # names that are ordinary words in the language the question most likely is in ("usa" in Spanish) stay words
        ordinary = self._aliases.ordinary_words(question, langs[0] if langs else None)
        folded = self._aliases.apply(fold(question), ordinary)
        out = np.zeros(len(self._owner_ids), dtype=np.float32)
        if not folded or not self.phrasings:
            return out
        script = _scripts(folded)
        # only the phrasings of its script or languages (both scripts, or neither: all of them)
        by_lang = bool(langs) and script == (False, True) and all(x in self._by_lang for x in langs)
        common, query_length = self._common_with_all(features(folded), (*langs, "en", "") if by_lang else None)
        rows = self._rows_of(frozenset(langs)) if by_lang else self._rows.get(script)
        if rows is not None:
            common = common[rows]
        lengths = self._lengths[rows] if rows is not None else self._lengths
        dice = 2 * common / (lengths + query_length)  # 2*|common| / (|q| + |p|)
        sentences, windows = _windows(question, folded, self._aliases, ordinary)
        if windows:
            # A forwarded text: its sentences are compared only with the phrasings the whole text contains most
            # of, so the cost stays flat however many phrasings there are.
            containment = common / lengths
            if len(containment) > _WINDOW_CANDIDATES:
                top = np.argpartition(-containment, _WINDOW_CANDIDATES)[:_WINDOW_CANDIDATES]
            else:
                top = np.arange(len(containment))
            chosen = rows[top] if rows is not None else top
            # a window's n-grams are its sentences' (``features`` reads word by word), looked up once a sentence
            common, sizes = self._common_with_windows([self._ids(features(s)) for s in sentences], windows, chosen)
            best = (2 * common / (lengths[top][None, :] + sizes[:, None])).max(axis=0)
            dice[top] = np.maximum(dice[top], best)
        if rows is not None:
            every = np.zeros(len(self.phrasings), dtype=np.float32)
            every[rows] = dice
            dice = every
        out[self._group_entries] = np.maximum.reduceat(dice, self._group_starts)
        if self._classifier is not None:
            out += self.thresholds.ngram_classifier_weight * self._classifier.probabilities(folded)
        return out

    def judge(self, question: str, lang_hint: str | None = None, shortcut: bool = True) -> Judgement:
        """The best owner of ``question`` (an entry or a declined group), its score and the runner-up's.

        With an embedding model, a question the n-grams alone answer clearly (``Thresholds.shortcut``) is settled
        without the model, which costs ten to a hundred times more: about half of real questions. ``shortcut=False``
        always asks the model, so that every score is on the same scale (auto-replies compare scores).
        """
        return self._settle(self.draft(question, lang_hint, shortcut))

    def draft(self, question: str, lang_hint: str | None = None, shortcut: bool = True) -> Draft:
        """The n-grams' reading of ``question`` (about a millisecond), settled when they suffice: without an
        embedding model, or when the shortcut applies. ``conclude`` turns it into a ``Match``, asking the model if
        needed; the bot runs only that last step in a worker thread (the model releases the GIL, the n-grams do not,
        and handing them to a thread costs more than they take)."""
        reading, scores, quick = self._lexical_judgement(question, lang_hint)
        if reading.pinyin:  # neither the model nor the classifiers read pinyin: settled on its own scale
            return Draft(question, reading, scores, self._verdict(reading, scores, sure=False))
        if quick is None:
            return Draft(question, reading, scores, self._verdict(reading, scores, sure=False))
        if shortcut and self.shortcuts(quick, self.thresholds):
            return Draft(question, reading, scores, replace(quick, sure=True))
        return Draft(question, reading, scores, None)

    def _settle(self, draft: Draft) -> Judgement:
        return self._settle_many([draft])[0]

    def _settle_many(self, drafts: Sequence[Draft]) -> list[Judgement]:
        """Each draft's verdict, the model reading every unsettled one in a single call."""
        pending = [d for d in drafts if d.judgement is None]
        parts: list[np.ndarray | None] = [None] * len(pending)
        if pending:
            try:
                parts = list(self._semantic_parts([d.question for d in pending]))
            except Exception:  # the model failed: n-gram scores fall short of its bar, so these abstain
                log.exception("the embedding model failed on %d question(s); answering from the n-grams alone",
                              len(pending))
        added = iter(parts)
        out = []
        for d in drafts:
            if d.judgement is not None:
                out.append(d.judgement)
                continue
            part = next(added)
            out.append(self._verdict(d.reading, d.scores if part is None else d.scores + part, sure=False))
        return out

    def judge_both(self, question: str, lang_hint: str | None = None) -> tuple[Judgement | None, Judgement]:
        """The n-grams' own verdict (None without an embedding model) and the verdict with the model: what tuning
        needs to weigh where the shortcut should lie."""
        reading, scores, quick = self._lexical_judgement(question, lang_hint)
        if reading.pinyin:  # on a scale of its own, which the other thresholds are not tuned on; one verdict
            verdict = self._verdict(reading, scores, sure=False)
            return (verdict if self.semantic is not None else None), verdict
        if quick is None:
            return None, self._verdict(reading, scores, sure=False)
        return quick, self._with_model(question, reading, scores)

    @staticmethod
    def shortcuts(quick: Judgement, thresholds: Thresholds) -> bool:
        """Whether the n-grams' verdict is clear enough to answer without asking the embedding model."""
        t = thresholds
        return t.shortcut is not None and not quick.declined and answers(
            quick.best, quick.second, quick.declined_best, replace(t, answer=t.shortcut, margin=t.shortcut_margin)
        )

    def prepare(self) -> None:
        """Build what is otherwise built on first use: the phrasings in pinyin (``bot.pinyin``, about 0.3 s)."""
        self._pinyin.build()

    def language(self, question: str, lang_hint: str | None = None) -> Reading:
        """The language ``question`` is answered in, read as ``search`` reads it: without the names spelt alike in
        every language (for callers that list entries rather than search, such as inline mode)."""
        return read_language(question, lang_hint, self._aliases)

    def _lexical_judgement(self, question: str, lang_hint: str | None) -> tuple[Reading, np.ndarray, Judgement | None]:
        reading = self.language(question, lang_hint)
        if reading.pinyin:
            return reading, self._pinyin.scores(question), None
        scores = self._lexical_scores(question, reading.likely)
        quick = self._verdict(reading, scores, sure=False) if self.semantic is not None else None
        return reading, scores, quick

    def _with_model(self, question: str, reading: Reading, scores: np.ndarray) -> Judgement:
        return self._settle_many([Draft(question, reading, scores, None)])[0]

    def _verdict(self, reading: Reading, scores: np.ndarray, sure: bool) -> Judgement:
        order = np.argsort(-scores, kind="stable")[:2]
        best = float(scores[order[0]]) if len(order) else 0.0
        second = float(scores[order[1]]) if len(order) > 1 else 0.0
        top = self._owner_ids[order[0]] if len(order) else ""
        n = len(self.kb.entries)
        declined = bool(len(order)) and order[0] >= n
        declined_best = float(scores[n:].max()) if len(scores) > n else 0.0
        return Judgement(reading.lang, reading.foreign, top, declined, best, second, scores[:n], declined_best, sure,
                         reading.pinyin)

    def search(self, question: str, lang_hint: str | None = None, limit: int = 3, shortcut: bool = True) -> Match:
        """The best entry for ``question`` if the matcher is confident, else up to ``limit`` close alternatives."""
        return self.conclude(self.draft(question, lang_hint, shortcut), limit)

    def conclude(self, draft: Draft, limit: int = 3) -> Match:
        """The match for a drafted question, asking the embedding model first when the draft is not settled."""
        return self.conclude_many([draft], limit)[0]

    def conclude_many(self, drafts: Sequence[Draft], limit: int = 3) -> list[Match]:
        """``conclude`` for several drafts, the embedding model reading all the unsettled ones in one call: the
        bot gathers the questions that arrive while the model is busy (``bot.model_queue``)."""
        return [self._match(d.question, j, limit) for d, j in zip(drafts, self._settle_many(drafts), strict=True)]

    def _match(self, question: str, j: Judgement, limit: int) -> Match:
        t = PINYIN_THRESHOLDS if j.pinyin else self.thresholds
        if j.declined:
            return Match(question, j.lang, "none", (), j.foreign, off_topic=j.top, pinyin=j.pinyin)
        order = np.argsort(-j.entry_scores, kind="stable")[: limit + _ELSEWHERE]
        order = [i for i in order if j.entry_scores[i] >= t.suggest]
        kept, named = self._about_places(question, j.lang, order)
        close = tuple(Candidate(self.kb.entries[i], round(float(j.entry_scores[i]), 4)) for i in kept[:limit])
        if (j.sure or answers(j.best, j.second, j.declined_best, t)) and kept and kept[0] == order[0]:
            return Match(question, j.lang, "answer", close, j.foreign, pinyin=j.pinyin)
        unknown = self._unknown_places(named) if len(kept) < len(order) else ()
        return Match(question, j.lang, "uncertain" if close else "none", close, j.foreign, pinyin=j.pinyin,
                     unknown_places=unknown)

    def _about_places(self, question: str, lang: str, order: Sequence[int]) -> tuple[list[int], frozenset[str]]:
        """The entries of ``order`` that may answer ``question`` for the places it names: every entry that is not
        about places (``_focus``), and those that are when they speak of a country or continent the question names,
        or of a person or organisation it names (``places.covers``). "Did Japan investigate the stations?" is not
        answered with Spain's entry, nor "is there a station in Auckland?" with Latin America's. With the places
        the question names (none read when no entry of ``order`` is about places)."""
        if not any(self._focus[i] for i in order):
            return list(order), frozenset()
        named = self._gazetteer.places(question, self._aliases.ordinary_words(question, lang))
        if not named:
            return list(order), named
        return [i for i in order if not self._focus[i] or covers(self._scope[i], named)], named

    def _unknown_places(self, named: frozenset[str]) -> tuple[str, ...]:
        """The countries of ``named`` that no entry names (in its phrasings, titles or answers), and its continents
        no entry names, nor any country in them (``places.covers``), in the order of their codes. Romania is one,
        though the entry on which countries were reported speaks of Europe: none says anything of Romania."""
        return tuple(sorted(p for p in named if not p.startswith(SUBJECT) and not any(
            covers(scope, frozenset({p})) if p in CONTINENTS else p in scope for scope in self._scope)))

    def rank(self, question: str, limit: int = 10, langs: Sequence[str] = ()) -> Sequence[Candidate]:
        """The entries closest to ``question``, best first, however weak (for browsing and inline search, which runs
        as the user types: by n-grams alone, in about a millisecond). ``langs``: the languages the question may be
        in (``Reading.likely``), read as ``search`` reads them ("usa" is a verb in Spanish); none: every
        language's phrasings, and every name as a name."""
        scores = self._lexical_scores(question, langs)[: len(self.kb.entries)]
        order = np.argsort(-scores, kind="stable")[:limit]
        return [Candidate(self.kb.entries[i], round(float(scores[i]), 4)) for i in order if scores[i] > 0]


@dataclass(frozen=True)
class Draft:
    """A question as the n-grams read it: its language, every owner's n-gram score, and the verdict when the n-grams
    settle it alone (None: the embedding model is still to be asked)."""

    question: str
    reading: Reading
    scores: np.ndarray
    judgement: Judgement | None

    @property
    def settled(self) -> bool:
        return self.judgement is not None


@dataclass(frozen=True)
class Judgement:
    """The raw material of a verdict: who scored best, by how much, and every entry's score."""

    lang: str
    foreign: bool
    top: str  # the best owner's id: an entry, or a group of declined questions when ``declined``
    declined: bool
    best: float
    second: float
    entry_scores: np.ndarray
    declined_best: float  # the best score of a group of declined questions (0.0 when the knowledge base has none)
    sure: bool = False  # settled by the n-grams alone, without the embedding model (scores are n-gram scores)
    pinyin: bool = False  # typed in pinyin: scores are ``bot.pinyin``'s, weighed against ``PINYIN_THRESHOLDS``


def answers(best: Any, second: Any, declined: Any, thresholds: Thresholds, answer: Any = None) -> Any:
    """Whether a best score, its runner-up's and the best declined group's are clear enough to answer outright
    (against ``thresholds.answer``, or ``answer`` when given). Scores may be numpy arrays, and ``answer`` an array of
    bars broadcasting with them: tuning weighs every question against every bar at once, by the same rule."""
    t = thresholds
    bar = t.answer if answer is None else answer
    return ((best >= t.suggest) & (best - second >= t.min_lead) & (best - declined >= t.decline_lead)
            & (confidence(best, second, t) >= bar))


_UNKNOWN_WEIGHT = 2  # what an n-gram no phrasing has adds to a question's size


class _Postings:
    """An inverted index: for each n-gram id, the phrasings that have it and how many times.

    Kept as one sparse matrix (scipy) of layers, n-grams by phrasings: layer k (its rows start at (k - 1) x the
    number of n-grams) holds the n-gram's weight where a phrasing has it at least k times. The weighted size of what
    a question shares with every phrasing, sum of weight x min(times in the question, times in the phrasing), is
    then one sum of rows: layer k's rows of the n-grams the question has at least k times (min(a, b) counts the k
    from 1 up to both)."""

    def __init__(self, rows: Sequence[Sequence[int]], weights: np.ndarray) -> None:
        gram_ids: list[int] = []
        phrasing: list[int] = []
        times: list[int] = []
        for row, ids in enumerate(rows):
            counted: dict[int, int] = {}
            for i in ids:
                counted[i] = counted.get(i, 0) + 1
            gram_ids.extend(counted)
            times.extend(counted.values())
            phrasing.extend([row] * len(counted))
        grams, rows_, counts = (np.array(x, dtype=np.intp) for x in (gram_ids, phrasing, times))
        self._grams = len(weights)
        self._depth = int(counts.max(initial=0))
        # one entry per n-gram, phrasing and layer up to its count there (layers numbered from 0)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        grams, rows_ = np.repeat(grams, counts), np.repeat(rows_, counts)
        layer = np.arange(len(grams), dtype=np.intp) - starts
        self._matrix = sparse.csr_matrix((weights[grams], (layer * self._grams + grams, rows_)),
                                         shape=(max(self._depth, 1) * self._grams, len(rows)), dtype=np.float32)

    def common(self, ids: np.ndarray, times: np.ndarray, n_rows: int) -> np.ndarray:
        """Per phrasing: the sum over the given n-grams of weight x min(times in the question, times in it)."""
        chosen = [ids]
        for k in range(2, self._depth + 1):
            deeper = ids[times >= k]
            if not len(deeper):
                break
            chosen.append(deeper + (k - 1) * self._grams)
        rows = np.concatenate(chosen)
        if not len(rows):
            return np.zeros(n_rows, dtype=np.float32)
        return np.asarray(self._matrix[rows].sum(axis=0), dtype=np.float32).ravel()


def confidence(best: Any, second: Any, thresholds: Thresholds) -> Any:
    """How sure the matcher is of its best entry: its score, raised by its lead over the runner-up.

    A high score alone is not enough when two entries score alike (a claim and the denial that answers it often
    share words): then the question is ambiguous, and a "did you mean" choice is better than a guess.
    """
    return best + thresholds.margin * (best - second)


_LATIN = regex.compile(r"[\p{L}--\p{Han}]", regex.V1)


def _scripts(folded: str) -> tuple[bool, bool]:
    """Whether a folded text has Chinese characters, and whether it has letters of other scripts."""
    return bool(_HAN_RUN.search(folded)), bool(_LATIN.search(folded))


def _sentence_windows(question: str) -> tuple[list[str], list[str], list[tuple[int, ...]]]:
    """A text's sentences (as written, and folded; those that fold to nothing left out) and the windows worth
    comparing: each sentence and each pair of adjacent ones, as sentence numbers, at least ``_MIN_WINDOW`` folded
    characters long, at most ``_MAX_WINDOWS`` of them. No windows for a single sentence."""
    split = [(s.strip(), f) for s in _SENTENCE.split(clean(question, MAX_MATCH_CHARS)) if (f := fold(s))]
    if len(split) < 2:
        return [], [], []
    written, folded = [w for w, _ in split], [f for _, f in split]
    pairs = list(itertools.pairwise(range(len(folded))))
    windows = [w for w in [(i,) for i in range(len(folded))] + pairs
               if sum(len(folded[i]) for i in w) + len(w) - 1 >= _MIN_WINDOW][:_MAX_WINDOWS]
    return written, folded, windows


def _windows(
    question: str, folded: str, aliases: Aliases, ordinary: frozenset[str] = frozenset()
) -> tuple[list[str], list[tuple[int, ...]]]:
    """For a long text (a forwarded message), its sentences, folded and with their names read (``aliases``, but for
    the ``ordinary`` words), and the windows to compare (``_sentence_windows``). A rumour states its claim in a
    sentence or two, and comparing the whole paragraph with a one-line phrasing would bury it."""
    if len(folded) <= LONG_TEXT:
        return [], []
    _, sentences, windows = _sentence_windows(question)
    if not windows:
        return [], []
    # the names in every sentence at once (the aliases' pattern is the costly part); "|" is never in folded text
    named = [s.strip() for s in aliases.apply(" | ".join(sentences), ordinary).split("|")]
    return named, windows


def _weights(rows: Sequence[tuple[int, Sequence[str]]], n_entries: int, levels: int) -> dict[str, int]:
    """How many times each n-gram counts: the fewer entries use it, the more it says (inverse document frequency,
    cut into ``levels`` integer steps)."""
    if levels <= 0 or n_entries < 2:
        return {}
    users: dict[str, set[int]] = {}
    for owner, grams in rows:
        for g in grams:
            users.setdefault(g, set()).add(owner)
    top = math.log(n_entries)
    return {g: max(1, math.ceil(levels * math.log(n_entries / len(o)) / top)) for g, o in users.items()}
