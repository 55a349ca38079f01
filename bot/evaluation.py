"""Measure the matcher on a question set: how often it answers right, answers wrong, or abstains.

A question set is YAML: ``questions: [{q: ..., expect: <entry id, or a list of equally right ids, or none>,
lang: en}]``. In-scope questions (those with an expected entry) are counted as correct, wrong or abstained;
out-of-scope questions (``expect: none``) as answered or not. ``tune`` searches the thresholds that answer the most
in-scope questions correctly while keeping wrong answers and answered out-of-scope questions under given rates.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from bot.matching import Judgement, Matcher, Thresholds, answers

NONE = "none"

#: The leads over the best group of declined questions that ``tune`` weighs (``Thresholds.decline_lead``).
DECLINE_LEADS = tuple(round(x, 1) for x in np.arange(0.0, 1.01, 0.1))


@dataclass(frozen=True)
class Question:
    text: str
    expect: str  # an entry id, or "none"
    lang: str = "?"
    also: tuple[str, ...] = ()  # other entries that answer it equally well

    def accepts(self, entry_id: str | None) -> bool:
        return entry_id is not None and (entry_id == self.expect or entry_id in self.also)


@dataclass
class Tally:
    """Counts for one language (or all)."""

    in_scope: int = 0
    correct: int = 0
    wrong: int = 0
    abstained: int = 0
    suggested: int = 0  # abstained, but the expected entry was among the "did you mean" choices
    out_of_scope: int = 0
    oos_answered: int = 0
    lang_right: int = 0  # questions whose answer language is the language they were asked in
    lang_known: int = 0  # questions whose language the set states

    def rate(self, part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def accuracy(self) -> float:
        return self.rate(self.correct, self.in_scope)

    @property
    def wrong_rate(self) -> float:
        return self.rate(self.wrong, self.in_scope)

    @property
    def abstain_rate(self) -> float:
        return self.rate(self.abstained, self.in_scope)

    @property
    def oos_rate(self) -> float:
        return self.rate(self.oos_answered, self.out_of_scope)


@dataclass(frozen=True)
class Outcome:
    question: Question
    status: str
    got: str | None  # the answered entry id, if any
    score: float
    alternatives: tuple[str, ...]
    declined_as: str | None = None  # the group of declined questions it came closest to, when that won

    @property
    def ok(self) -> bool:
        if self.question.expect == NONE:
            return self.got is None
        return self.question.accepts(self.got)


@dataclass
class Result:
    outcomes: list[Outcome]
    by_lang: dict[str, Tally] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)


def load_questions(path: str | Path) -> list[Question]:
    """Read a question set; raises ValueError with the item number when an item is malformed."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a mapping with a list 'questions'")
    out = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not str(item.get("q", "")).strip() or not item.get("expect"):
            raise ValueError(f"{path}: question {n} needs 'q' and 'expect'")
        expect = item["expect"]
        ids = [str(e) for e in expect] if isinstance(expect, list) else [str(expect)]
        if not ids or (NONE in ids and len(ids) > 1):
            raise ValueError(f"{path}: question {n}: 'expect' is an entry id, a list of ids, or none")
        out.append(Question(str(item["q"]), ids[0], str(item.get("lang", "?")), tuple(ids[1:])))
    return out


def evaluate(matcher: Matcher, questions: Iterable[Question]) -> Result:
    result = Result([])
    by_lang: dict[str, Tally] = defaultdict(Tally)
    for q in questions:
        match = matcher.search(q.text)
        got = match.best.entry.id if match.best else None
        alts = tuple(c.entry.id for c in match.alternatives)
        score = match.candidates[0].score if match.candidates else 0.0
        outcome = Outcome(q, match.status, got, score, alts, match.off_topic)
        result.outcomes.append(outcome)
        for tally in (by_lang[q.lang], result.total):
            if q.lang != "?":
                tally.lang_known += 1
                tally.lang_right += match.lang == q.lang
            if q.expect == NONE:
                tally.out_of_scope += 1
                tally.oos_answered += got is not None
            else:
                tally.in_scope += 1
                if got is None:
                    tally.abstained += 1
                    tally.suggested += any(q.accepts(a) for a in alts)
                elif q.accepts(got):
                    tally.correct += 1
                else:
                    tally.wrong += 1
    result.by_lang = dict(sorted(by_lang.items()))
    return result


def unknown_ids(matcher: Matcher, questions: Iterable[Question]) -> list[str]:
    """Expected ids that are not in the knowledge base (a stale question set)."""
    ids = {i for q in questions if q.expect != NONE for i in (q.expect, *q.also)}
    return sorted(i for i in ids if i not in matcher.kb.by_id)


def tune(
    matcher: Matcher,
    questions: Sequence[Question],
    max_wrong: float = 0.02,
    max_oos: float = 0.03,
) -> tuple[Thresholds, Tally]:
    """The thresholds that answer the most in-scope questions correctly within the given error rates.

    Each question is scored once, with the n-grams alone and (with an embedding model) with the model too. The search
    then runs over a grid of answer thresholds, margin weights and leads over the declined questions, and with a
    model over where the shortcut lies (the n-gram score at which the model is not asked), since an answer the
    shortcut gives wrongly costs as much as any other. Among equally good settings it takes the smallest lead over
    the declined questions (none, unless one buys something), then the one that leaves the most questions to the
    shortcut (the fastest), then the one whose answer threshold has the widest range that changes no outcome, and the
    middle of that range: the threshold then sits as far as it can from the nearest question on either side.
    """
    base = matcher.thresholds
    pairs = [matcher.judge_both(q.text) for q in questions]
    out_of_scope = np.array([q.expect == NONE for q in questions], dtype=bool)
    full = _Verdicts([j for _, j in pairs], questions)
    quick = _Verdicts([k for k, _ in pairs if k is not None], questions) if matcher.semantic is not None else None
    shortcuts: list[float | None] = [None]
    if quick is not None:
        highest = (1 + base.shortcut_margin) * base.top(False)
        shortcuts += [round(float(x), 2) for x in np.arange(1.0, highest + 0.01, 0.1)]
    grid = np.round(np.arange(0.40, base.top(matcher.semantic is not None) + 0.2, 0.01), 2)
    n_in, n_out = int((~out_of_scope).sum()), int(out_of_scope.sum())
    best: tuple[tuple[int, int, float, int, int], Thresholds, Tally] | None = None
    for decline_lead, shortcut in itertools.product(DECLINE_LEADS, shortcuts):
        sure = np.zeros(len(questions), dtype=bool)
        if quick is not None and shortcut is not None:
            sure = quick.answered(shortcut, replace(base, margin=base.shortcut_margin, decline_lead=decline_lead))
        right = np.where(sure, quick.right, full.right) if quick is not None else full.right
        for margin in np.arange(0.0, 3.01, 0.25):
            weighed = replace(base, margin=round(float(margin), 2), decline_lead=decline_lead)
            answered = full.answered(grid[:, None], weighed) | sure  # one row per answer threshold
            correct = (answered & ~out_of_scope & right).sum(axis=1)
            wrong = (answered & ~out_of_scope & ~right).sum(axis=1)
            oos = (answered & out_of_scope).sum(axis=1)
            allowed = (wrong <= max_wrong * n_in) & (oos <= max_oos * n_out)
            for row in np.flatnonzero(allowed):
                # the answer thresholds that answer exactly the same questions form a range: take its middle, as
                # far as the grid allows from both the question it leaves out and the one it keeps
                same = (correct == correct[row]) & (wrong == wrong[row]) & (oos == oos[row])
                if row > 0 and same[row - 1]:
                    continue  # inside a range already weighed
                width = len(grid) - row if same[row:].all() else int(np.argmin(same[row:]))
                key = (int(correct[row]), -int(wrong[row] + oos[row]), -decline_lead, int(sure.sum()), width)
                if best is None or key > best[0]:
                    middle = row + (width - 1) // 2
                    candidate = replace(weighed, answer=float(grid[middle]),
                                        shortcut=shortcut if quick is not None else base.shortcut)
                    tally = Tally(in_scope=n_in, correct=int(correct[row]), wrong=int(wrong[row]),
                                  abstained=n_in - int(correct[row] + wrong[row]), out_of_scope=n_out,
                                  oos_answered=int(oos[row]))
                    best = (key, candidate, tally)
    if best is None:
        raise ValueError("no thresholds meet those error rates on this question set")
    return best[1], best[2]


class _Verdicts:
    """One verdict per question as arrays: its best and second scores, whether a declined group won, and whether
    the winner is an entry the question accepts."""

    def __init__(self, judgements: Sequence[Judgement], questions: Sequence[Question]) -> None:
        self.best = np.array([j.best for j in judgements], dtype=np.float64)
        self.second = np.array([j.second for j in judgements], dtype=np.float64)
        self.declined = np.array([j.declined for j in judgements], dtype=bool)
        self.declined_best = np.array([j.declined_best for j in judgements], dtype=np.float64)
        self.right = np.array([q.accepts(j.top) for q, j in zip(questions, judgements, strict=True)], dtype=bool)

    def answered(self, answer: float | np.ndarray, thresholds: Thresholds) -> np.ndarray:
        """Which questions the matcher would answer with these thresholds (``answer`` replacing theirs, broadcast
        over an array of bars)."""
        return ~self.declined & answers(self.best, self.second, self.declined_best, thresholds, answer)


def format_report(result: Result, show_misses: bool = True) -> str:
    """A table per language, then each miss with what the matcher did instead."""
    lines = [
        f"{'lang':<9}{'in-scope':>9}{'correct':>9}{'wrong':>8}{'abstain':>9}{'(sugg.)':>9}{'out-of-sc':>10}"
        f"{'answered':>10}{'lang ok':>9}"
    ]
    for lang, t in list(result.by_lang.items()) + [("all", result.total)]:
        lines.append(
            f"{lang:<9}{t.in_scope:>9}{t.accuracy:>9.1%}{t.wrong_rate:>8.1%}{t.abstain_rate:>9.1%}"
            f"{t.rate(t.suggested, t.in_scope):>9.1%}{t.out_of_scope:>10}{t.oos_rate:>10.1%}"
            f"{t.rate(t.lang_right, t.lang_known):>9.1%}"
        )
    if show_misses:
        misses = [o for o in result.outcomes if not o.ok]
        if misses:
            lines.append("")
            lines.append(f"misses ({len(misses)}):")
        for o in misses:
            if o.got is not None:
                what = f"answered {o.got}"
            elif o.declined_as is not None:
                what = f"declined as {o.declined_as}"
            else:
                what = f"{o.status}" + (f" (offered {', '.join(o.alternatives)})" if o.alternatives else "")
            score = f", score {o.score:.2f}" if o.declined_as is None else ""  # no entry was in the running
            lines.append(f"  [{o.question.lang}] {o.question.text[:80]!r}: expected {o.question.expect}, {what}{score}")
    return "\n".join(lines)
