"""What an edit of the knowledge base changes, entry by entry, for the reviewer of a pull request.

``diff_knowledge(old, new)`` compares two loaded knowledge bases and returns the entries, sources and topics added,
removed and changed; for a changed item, every field that changed: texts per language (answers with a unified diff,
sentence by sentence), question phrasings, keywords and related entries as items added and removed, citations added,
removed or changed. ``format_diff`` prints it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from bot import languages
from bot.facts import Citation, Entry, KnowledgeBase, Source, Topic

# A sentence ends at . ! ? followed by a space, or at a Chinese full stop: answers are one paragraph, so a line diff
# of them would show the whole answer replaced; a sentence diff shows what was edited.
_SENTENCE = regex.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


@dataclass(frozen=True)
class FieldChange:
    """One changed field. ``old``/``new`` for a value; ``lines`` for a diff or items added (``+``) and removed
    (``-``)."""

    field: str  # "verdict", "title[en]", "answer[zh-Hans]", "questions[en]", "sources", ...
    old: str | None = None
    new: str | None = None
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemChange:
    """An entry, source or topic present in both versions, and what changed in it."""

    id: str
    changes: tuple[FieldChange, ...]
    note: str = ""  # e.g. which entries cite a changed source

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.changes)


@dataclass(frozen=True)
class Section:
    """The items of one kind added, removed and changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[ItemChange, ...] = ()
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class KnowledgeDiff:
    """Everything an edit changes."""

    old_version: str
    new_version: str
    entries: Section
    sources: Section
    topics: Section

    @property
    def empty(self) -> bool:
        return self.entries.empty and self.sources.empty and self.topics.empty


def sentences(text: str) -> list[str]:
    """A text cut into sentences, for a readable diff."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def text_diff(old: str, new: str, name: str = "") -> tuple[str, ...]:
    """A unified diff of two texts, one sentence per line."""
    return tuple(difflib.unified_diff(
        sentences(old), sentences(new), fromfile=f"old {name}".strip(), tofile=f"new {name}".strip(), lineterm="", n=1,
    ))


def _languages(*mappings: Mapping[str, Any] | None) -> list[str]:
    present = {lang for m in mappings if m for lang in m}
    order = {lang: n for n, lang in enumerate(languages.SUPPORTED)}
    return sorted(present, key=lambda lang: (order.get(lang, len(order)), lang))


def _show(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _items(old: Sequence[str], new: Sequence[str]) -> tuple[str, ...]:
    """Items added and removed, as ``+ item`` / ``- item`` lines (order kept, duplicates ignored)."""
    before, after = dict.fromkeys(old), dict.fromkeys(new)
    return tuple(f"+ {i}" for i in after if i not in before) + tuple(f"- {i}" for i in before if i not in after)


def _localized(name: str, old: Mapping[str, str] | None, new: Mapping[str, str] | None,
               *, unified: bool = False) -> Iterable[FieldChange]:
    for lang in _languages(old, new):
        a, b = (old or {}).get(lang), (new or {}).get(lang)
        if a == b:
            continue
        field = f"{name}[{lang}]"
        if unified and a is not None and b is not None:
            yield FieldChange(field, a, b, text_diff(a, b, field))
        else:
            yield FieldChange(field, a, b)


def _citations(old: Sequence[Citation], new: Sequence[Citation]) -> Iterable[FieldChange]:
    before, after = {c.id: c for c in old}, {c.id: c for c in new}
    lines = [f"+ {i}" for i in after if i not in before] + [f"- {i}" for i in before if i not in after]
    for cid in after:
        if cid in before and before[cid] != after[cid]:
            a, b = before[cid], after[cid]
            for part in ("quote", "page"):
                if getattr(a, part) != getattr(b, part):
                    lines.append(f"~ {cid} {part}: {_show(getattr(a, part))!r} -> {_show(getattr(b, part))!r}")
    if not lines and [c.id for c in old] != [c.id for c in new]:
        lines.append("~ order: " + ", ".join(after))
    if lines:
        yield FieldChange("sources", lines=tuple(lines))


def entry_changes(old: Entry, new: Entry) -> tuple[FieldChange, ...]:
    """The fields that differ between two versions of an entry."""
    changes: list[FieldChange] = []
    for name in ("kind", "verdict", "topic"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            changes.append(FieldChange(name, _show(a), _show(b)))
    changes += _localized("title", old.title, new.title)
    changes += _localized("claimant", old.claimant, new.claimant)
    changes += _localized("answer", old.answer, new.answer, unified=True)
    for lang in _languages(old.questions, new.questions):
        lines = _items(old.questions.get(lang, ()), new.questions.get(lang, ()))
        if lines:
            changes.append(FieldChange(f"questions[{lang}]", lines=lines))
    for name in ("keywords", "related"):
        lines = _items(getattr(old, name), getattr(new, name))
        if lines:
            changes.append(FieldChange(name, lines=lines))
    changes += _citations(old.sources, new.sources)
    if old.reviewed != new.reviewed:
        changes.append(FieldChange("reviewed", _show(old.reviewed), _show(new.reviewed)))
    return tuple(changes)


def source_changes(old: Source, new: Source) -> tuple[FieldChange, ...]:
    fields = type(new).model_fields
    return tuple(FieldChange(name, _show(getattr(old, name)), _show(getattr(new, name)))
                 for name in fields if getattr(old, name) != getattr(new, name))


def topic_changes(old: Topic, new: Topic) -> tuple[FieldChange, ...]:
    return tuple(_localized("title", old.title, new.title))


def _section(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    compare: Callable[[Any, Any], tuple[FieldChange, ...]],
    note: Callable[[str], str] | None = None,
) -> Section:
    added = tuple(i for i in new if i not in old)
    removed = tuple(i for i in old if i not in new)
    changed, unchanged = [], 0
    for item_id in new:
        if item_id not in old:
            continue
        changes = compare(old[item_id], new[item_id])
        if changes:
            changed.append(ItemChange(item_id, changes, note(item_id) if note else ""))
        else:
            unchanged += 1
    return Section(added, removed, tuple(changed), unchanged)


def diff_knowledge(old: KnowledgeBase, new: KnowledgeBase) -> KnowledgeDiff:
    """Compare two knowledge bases."""

    def cited_by(source_id: str) -> str:
        ids = [e.id for e in new.entries if any(c.id == source_id for c in e.sources)]
        return "cited by " + ", ".join(ids) if ids else "cited by no entry"

    return KnowledgeDiff(
        old_version=old.version,
        new_version=new.version,
        entries=_section(old.by_id, new.by_id, entry_changes),
        sources=_section(old.sources, new.sources, source_changes, cited_by),
        topics=_section({t.id: t for t in old.topics}, {t.id: t for t in new.topics}, topic_changes),
    )


def _format_change(change: FieldChange) -> list[str]:
    if change.lines:  # a text's unified diff, or items added and removed
        return [f"    {change.field}:"] + [f"      {line}" for line in change.lines]
    return [f"    {change.field}: {_quote(change.old)} -> {_quote(change.new)}"]


def _quote(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


def format_diff(diff: KnowledgeDiff, old: KnowledgeBase, new: KnowledgeBase) -> str:
    """The diff as text for a reviewer: a summary line per kind, then every item added, removed or changed."""
    out = [f"knowledge base {diff.old_version} -> {diff.new_version}"]
    if diff.empty:
        out.append("no changes to entries, sources or topics" + (
            " (only formatting or comments changed)" if diff.old_version != diff.new_version else ""))
        return "\n".join(out) + "\n"
    titles = {
        "entries": lambda i, kb: kb.by_id[i].text("title", languages.DEFAULT),
        "sources": lambda i, kb: kb.sources[i].title,
        "topics": lambda i, kb: next(t.title.get(languages.DEFAULT, "") for t in kb.topics if t.id == i),
    }
    for name in ("entries", "sources", "topics"):
        section: Section = getattr(diff, name)
        out.append("")
        out.append(f"{name}: {len(section.added)} added, {len(section.removed)} removed, "
                   f"{len(section.changed)} changed, {section.unchanged} unchanged")
        for item_id in section.added:
            out.append(f"  + {item_id}: {titles[name](item_id, new)}")
        for item_id in section.removed:
            out.append(f"  - {item_id}: {titles[name](item_id, old)}")
        for item in section.changed:
            out.append(f"  ~ {item.id}" + (f" ({item.note})" if item.note else "") + ": " + ", ".join(item.fields))
            for change in item.changes:
                out.extend(_format_change(change))
    return "\n".join(out) + "\n"
