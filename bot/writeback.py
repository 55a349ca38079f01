"""Write phrasings that moderators attached in the bot back into the knowledge files, for review like any edit.

Each phrasing is inserted as one new line at the end of its entry's question list for its language (a new list is
added when the entry has none in that language). Nothing else in the file changes: not comments, not order, not
line wrapping, so the pull request shows exactly the added questions. Positions come from PyYAML's node marks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Written:
    entry_id: str
    text: str
    lang: str
    file: str


def scalar(text: str) -> str:
    """``text`` as a one-line YAML scalar, quoted when YAML needs it."""
    out = yaml.safe_dump(text, allow_unicode=True, width=1_000_000, default_style=None).strip()
    return out.removesuffix("\n...").removesuffix("...").strip()


def write_phrasings(knowledge_dir: Path, phrasings: Iterable[tuple[str, str, str]]) -> list[Written]:
    """Insert ``(entry_id, text, lang)`` phrasings into the entry files; returns what was written, in order.

    Phrasings whose entry is not found in any file are skipped (the entry was removed since).
    """
    pending: dict[str, list[tuple[str, str]]] = {}
    for entry_id, text, lang in phrasings:
        pending.setdefault(entry_id, []).append((text, lang))
    written: list[Written] = []
    for path in sorted((knowledge_dir / "entries").glob("*.y*ml")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines(keepends=True)
        root = yaml.compose(source)
        if not isinstance(root, yaml.MappingNode):
            continue
        edits: list[tuple[int, str]] = []  # (line index to insert before, text)
        for entry in _entries(root):
            entry_id = _scalar_value(entry, "id")
            if entry_id not in pending:
                continue
            for text, lang in pending.pop(entry_id):
                edits.append(_insertion(entry, lang, text, lines))
                written.append(Written(entry_id, text, lang, str(path)))
        if edits:
            for index, text in sorted(edits, key=lambda e: e[0], reverse=True):
                lines.insert(index, text)
            path.write_text("".join(lines), encoding="utf-8")
    return written


def _entries(root: yaml.MappingNode) -> list[yaml.MappingNode]:
    for key, value in root.value:
        if key.value == "entries" and isinstance(value, yaml.SequenceNode):
            return [n for n in value.value if isinstance(n, yaml.MappingNode)]
    return []


def _child(node: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    return next(((k, v) for k, v in node.value if k.value == name), None)


def _scalar_value(node: yaml.MappingNode, name: str) -> str | None:
    found = _child(node, name)
    return str(found[1].value) if found and isinstance(found[1], yaml.ScalarNode) else None


def _insertion(entry: yaml.MappingNode, lang: str, text: str, lines: list[str]) -> tuple[int, str]:
    questions = _child(entry, "questions")
    if questions is None or not isinstance(questions[1], yaml.MappingNode):
        raise ValueError("an entry without a questions mapping cannot take phrasings")
    key, mapping = questions
    found = _child(mapping, lang)
    if found is not None and isinstance(found[1], yaml.SequenceNode) and found[1].value and not found[1].flow_style:
        items = found[1].value
        last = items[-1]
        column = items[0].start_mark.column - 2  # where the dash is
        return _line_after(last, lines), f"{' ' * column}- {scalar(text)}\n"
    if found is not None:
        raise ValueError(f"the {lang} questions are not a block list: add this phrasing by hand: {text}")
    # no list in this language yet: a new key after the last one
    column = mapping.value[0][0].start_mark.column if mapping.value else key.start_mark.column + 2
    block = f"{' ' * column}{lang}:\n{' ' * (column + 2)}- {scalar(text)}\n"
    last_value = mapping.value[-1][1] if mapping.value else key
    return _line_after(last_value, lines), block


def _line_after(node: yaml.Node, lines: list[str]) -> int:
    """The index of the first line after ``node``. A block collection's end mark sits where the next token starts,
    so when only indentation precedes it on its line, that line is already the next one."""
    end = node.end_mark
    if end.line >= len(lines):
        return len(lines)
    return end.line if not lines[end.line][: end.column].strip() else end.line + 1
