"""Measuring the matcher on question sets, and tuning its thresholds on them."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

from bot import evaluation
from bot.evaluation import NONE, Question, Tally, evaluate, format_report, load_questions, tune
from bot.facts import KnowledgeBase, OffTopic
from bot.live import build_matcher
from bot.matching import SEMANTIC_THRESHOLDS, Matcher
from tests.test_semantic import WordEmbedder

EVAL = Path(__file__).resolve().parent.parent / "eval"


def counts(t: Tally) -> tuple[int, int, int, int, int]:
    return t.in_scope, t.correct, t.wrong, t.out_of_scope, t.oos_answered


def retuned(matcher: Matcher, questions: list[Question], max_wrong: float, max_oos: float) -> tuple[Matcher, Tally]:
    thresholds, tally = tune(matcher, questions, max_wrong, max_oos)
    again = dataclasses.replace(matcher.thresholds, answer=thresholds.answer, margin=thresholds.margin,
                                decline_lead=thresholds.decline_lead, shortcut=thresholds.shortcut)
    assert again == thresholds  # tuning moves only these four
    tuned = copy.copy(matcher)  # the same index, other thresholds
    tuned.thresholds = thresholds
    return tuned, tally


def test_tuning_reports_what_the_tuned_matcher_then_does(kb: KnowledgeBase) -> None:
    """Tuning predicts each question's fate from scores computed once; asking the tuned matcher must agree, shortcut
    included (the real knowledge, with the model when it is installed)."""
    matcher = build_matcher(kb)
    questions = [q for f in sorted(EVAL.glob("dev*.yaml")) for q in load_questions(f)][::12]
    assert len(questions) > 80 and any(q.expect == NONE for q in questions)
    tuned, predicted = retuned(matcher, questions, max_wrong=0.02, max_oos=0.05)
    measured = evaluate(tuned, questions).total
    assert counts(measured) == counts(predicted)
    assert measured.wrong <= 0.02 * measured.in_scope and measured.oos_answered <= 0.05 * measured.out_of_scope
    assert measured.accuracy > 0.8


def test_tuning_raises_the_shortcut_over_a_question_it_must_decline(small_kb: KnowledgeBase) -> None:
    """The n-grams alone would answer a phrasing word for word; when the set says it must be declined, no setting
    may let the shortcut answer it."""
    # the shipped thresholds, with the shortcut where the small fixture's n-grams (no classifier) can reach it
    thresholds = dataclasses.replace(SEMANTIC_THRESHOLDS, shortcut=1.9)
    matcher = Matcher(small_kb, embedder=WordEmbedder(), thresholds=thresholds)
    verbatim = "how many police stations are there abroad"
    quick, _ = matcher.judge_both(verbatim)
    assert quick is not None and matcher.shortcuts(quick, matcher.thresholds)  # that shortcut answers it
    questions = [
        Question(verbatim, NONE, "en"),
        Question("是不是在领事馆里面", "claim-in-embassies", "zh-Hans"),
        Question("number of overseas police stations", "count-of-stations", "en"),
        Question("did china deny the stations", "denial-volunteers", "en"),
    ]
    tuned, predicted = retuned(matcher, questions, max_wrong=0.0, max_oos=0.0)
    assert predicted.oos_answered == 0 and predicted.correct >= 1
    assert tuned.search(verbatim).best is None
    assert counts(evaluate(tuned, questions).total) == counts(predicted)


def test_a_miss_swallowed_by_a_declined_group_names_the_group(small_kb: KnowledgeBase) -> None:
    """A moderator reading the misses must see when a declined phrasing, not a weak score, kept an entry out."""
    group = OffTopic(id="consular", about="Passports.", questions={"en": ("how many passports can i renew abroad",)})
    matcher = Matcher(dataclasses.replace(small_kb, off_topic=(group,)))
    questions = [Question("how many passports can i renew abroad?", "count-of-stations", "en"),
                 Question("number of overseas police stations", "count-of-stations", "en")]
    result = evaluate(matcher, questions)
    assert [o.declined_as for o in result.outcomes] == ["consular", None]
    report = format_report(result)
    assert "expected count-of-stations, declined as consular\n" in report + "\n"


def test_tuning_leads_the_declined_questions_when_that_buys_an_answer(
    small_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An out-of-scope question can score higher, and lead the other entries by more, than a right one: then no
    answer bar and margin weight answer the right one alone, but a lead over the declined questions it resembles
    does. Tuning finds that lead, and weighs none when nothing needs it."""
    staff = OffTopic(id="staff", about="Staff.",
                     questions={"en": ("how many officers work at each chinese police station abroad",)})
    matcher = Matcher(dataclasses.replace(small_kb, off_topic=(staff,)))
    questions = [Question("how many police are there abroad", NONE, "en"),  # officers, not stations
                 Question("consulates?", "claim-in-embassies", "en")]
    tuned, predicted = retuned(matcher, questions, max_wrong=0.0, max_oos=0.0)
    assert (predicted.correct, predicted.oos_answered) == (1, 0) and tuned.thresholds.decline_lead > 0
    assert counts(evaluate(tuned, questions).total) == counts(predicted)
    _, alone = retuned(matcher, questions[1:], max_wrong=0.0, max_oos=0.0)
    assert alone.correct == 1 and tune(matcher, questions[1:], 0.0, 0.0)[0].decline_lead == 0.0
    monkeypatch.setattr(evaluation, "DECLINE_LEADS", (0.0,))
    _, without = retuned(matcher, questions, max_wrong=0.0, max_oos=0.0)
    assert (without.correct, without.oos_answered) == (0, 0)
