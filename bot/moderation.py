"""The moderators' desk, as plain functions: group what people asked, and report it. No Telegram import.

Used by the moderator commands in Telegram (``bot.handlers.moderation``) and by the command line (``stats``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.facts import KnowledgeBase, Report
from bot.live import ReloadResult
from bot.store import Flag, Stats, Unanswered
from bot.text import fold

SIMILAR = 75  # rapidfuzz token-sort ratio at which two unanswered questions count as one


@dataclass(frozen=True)
class QuestionGroup:
    """Near-duplicate unanswered questions: shown, attached or dismissed together."""

    items: tuple[Unanswered, ...]

    @property
    def head(self) -> Unanswered:
        return self.items[0]

    @property
    def count(self) -> int:
        return sum(u.count for u in self.items)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({u.lang for u in self.items}))

    @property
    def ids(self) -> list[int]:
        return [u.id for u in self.items]


def group_questions(items: Sequence[Unanswered]) -> list[QuestionGroup]:
    """Group near-duplicates (after folding case, script and punctuation), most asked first.

    Greedy: the most asked question not yet placed starts a group, and takes every unplaced question similar to it.
    """
    ordered = sorted(items, key=lambda u: (-u.count, u.id))
    if not ordered:
        return []
    keys = [fold(u.text) for u in ordered]
    similar = process.cdist(keys, keys, scorer=fuzz.token_sort_ratio, score_cutoff=SIMILAR)
    placed: set[int] = set()
    groups = []
    for i in range(len(ordered)):
        if i in placed:
            continue
        members = [j for j in range(i, len(ordered)) if j not in placed and (j == i or similar[i, j] >= SIMILAR)]
        placed.update(members)
        groups.append(QuestionGroup(tuple(ordered[j] for j in members)))
    groups.sort(key=lambda g: (-g.count, g.head.id))
    return groups


def find_group(items: Sequence[Unanswered], head_id: int) -> QuestionGroup | None:
    return next((g for g in group_questions(items) if g.head.id == head_id), None)


def unanswered_text(groups: Sequence[QuestionGroup], days: int) -> str:
    if not groups:
        return f"No unanswered questions in the last {days} days."
    lines = [f"Unanswered questions, last {days} days ({sum(g.count for g in groups)} asked, {len(groups)} groups):"]
    for n, g in enumerate(groups, 1):
        lines.append(f"{n}. ×{g.count} [{', '.join(g.languages)}] {g.head.text}")
        for u in g.items[1:4]:
            lines.append(f"     ≈ {u.text}")
        if len(g.items) > 4:
            lines.append(f"     … and {len(g.items) - 4} more")
    return "\n".join(lines)


def flagged_text(flags: Sequence[Flag], kb: KnowledgeBase, days: int) -> str:
    if not flags:
        return f"No answers were marked not helpful in the last {days} days."
    by_entry: dict[str, list[Flag]] = {}
    for f in flags:
        by_entry.setdefault(f.entry_id, []).append(f)
    lines = [f"Answers marked not helpful, last {days} days:"]
    for entry_id, items in sorted(by_entry.items(), key=lambda kv: -len(kv[1])):
        entry = kb.entry(entry_id)
        title = entry.text("title", "en") if entry else "(entry no longer exists)"
        lines.append(f"• {entry_id} ×{len(items)}: {title}")
        for f in items[:5]:
            lines.append(f"     [{f.lang}] {f.question or '(opened from a link or a list, no question)'}")
    return "\n".join(lines)


def stats_text(periods: Sequence[Stats], kb: KnowledgeBase | None = None) -> str:
    lines = []
    for s in periods:
        share = s.answered / s.questions if s.questions else 0.0
        votes = s.helpful + s.not_helpful
        ratio = f"{s.helpful / votes:.0%} helpful of {votes} votes" if votes else "no votes"
        lines.append(f"Last {s.days} days: {s.questions} questions, {share:.0%} answered; {ratio}.")
        if s.languages:
            lines.append("  languages: " + ", ".join(f"{lang} {n}" for lang, n in s.languages))
        if s.top_entries:
            lines.append("  most asked: " + ", ".join(f"{e} ({n})" for e, n in s.top_entries[:5]))
        if s.per_day:
            peak = max(n for _, n, _ in s.per_day) or 1
            for day, n, answered in s.per_day[-14:]:
                bar = "█" * max(1, round(20 * n / peak)) if n else ""
                lines.append(f"  {day} {bar} {n} ({answered} answered)")
    if kb is not None:
        lines.append(f"Knowledge base {kb.version}: {len(kb.entries)} entries, reviewed up to {kb.updated}.")
    return "\n".join(lines)


def problems_text(report: Report, limit: int = 30) -> str:
    lines = [str(p) for p in report.errors][:limit]
    more = len(report.errors) - len(lines)
    if more > 0:
        lines.append(f"… and {more} more; run python -m bot validate")
    return "\n".join(lines)


def reload_text(result: ReloadResult, version: str) -> str:
    if not result.applied:
        return (f"Reload refused: {len(result.report.errors)} error(s). Still serving {version}.\n"
                + problems_text(result.report))
    parts = [f"Reloaded: now serving {version}."]
    for label, ids in (("added", result.added), ("changed", result.changed), ("removed", result.removed)):
        if ids:
            parts.append(f"{label} ({len(ids)}): {', '.join(ids)}")
    if not (result.added or result.changed or result.removed):
        parts.append("No entry changed.")
    if result.report.warnings:
        parts.append(f"{len(result.report.warnings)} warning(s), e.g. {result.report.warnings[0]}")
    return "\n".join(parts)


def digest_text(groups: Sequence[QuestionGroup], flags: Sequence[Flag], report: Report, version: str) -> str:
    counts = Counter(f.entry_id for f in flags)
    lines = [f"Daily digest. Knowledge {version}: "
             + ("valid." if report.ok else f"the files on disk have {len(report.errors)} error(s)!")]
    lines.append(f"New unanswered questions: {sum(g.count for g in groups)} in {len(groups)} groups.")
    for g in groups[:5]:
        lines.append(f"  ×{g.count} {g.head.text}")
    lines.append(f"Answers marked not helpful: {len(flags)}"
                 + (f" (most: {', '.join(f'{e} ×{n}' for e, n in counts.most_common(3))})" if flags else "."))
    lines.append("/unanswered and /flagged for details.")
    return "\n".join(lines)
