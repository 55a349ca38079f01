"""Flood control: budgets per asker and per group, one notice, then silence."""

import types

import limits.storage.memory
import limits.strategies
import pytest

from bot.budget import Budget, Verdict


def test_an_asker_past_the_budget_gets_one_notice_then_silence() -> None:
    b = Budget(per_asker=3, per_group=100)
    assert [b.check(1) for _ in range(6)] == [Verdict.ALLOW] * 3 + [Verdict.NOTICE, Verdict.SILENT, Verdict.SILENT]
    assert b.check(2) is Verdict.ALLOW  # another asker is not affected


def test_a_group_budget_is_shared_by_its_members() -> None:
    b = Budget(per_asker=100, per_group=4)
    verdicts = [b.check(user, -100) for user in range(1, 8)]
    assert verdicts[:4] == [Verdict.ALLOW] * 4
    assert verdicts[4] is Verdict.NOTICE and set(verdicts[5:]) == {Verdict.SILENT}
    assert b.over_group(-100) and not b.over_group(-200)
    assert b.check(1, -200) is Verdict.ALLOW  # another group is not affected


def test_a_spent_budget_refills_as_the_minute_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_020.0]  # the start of one of the sliding window counter's fixed minutes (16,667 x 60 s)
    clock = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(limits.strategies, "time", clock)
    b = Budget(per_asker=3, per_group=100)
    assert [b.check(1) for _ in range(4)] == [Verdict.ALLOW] * 3 + [Verdict.NOTICE]
    now[0] += 30
    assert b.check(1) is Verdict.SILENT  # still spent half a minute later
    now[0] += 120
    assert b.check(1) is Verdict.ALLOW  # two minutes on, the whole budget is back
    assert [b.check(1) for _ in range(3)] == [Verdict.ALLOW] * 2 + [Verdict.NOTICE]


def test_expired_counters_are_swept_every_few_seconds_not_every_10_ms() -> None:
    """The override of limits' private sweep scheduler is in force (it would be silently ignored if renamed)."""
    from bot import budget

    b = Budget(per_asker=3, per_group=100)
    storage = b._limiter.storage  # type: ignore[attr-defined]
    storage.timer.join()  # limits' first sweep, started with the storage
    for asker in range(50):
        b.check(asker)
    assert storage.timer.interval == budget.SWEEP >= 1 and storage.timer.daemon and storage.timer.is_alive()
