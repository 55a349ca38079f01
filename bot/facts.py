"""The knowledge base: load the moderators' YAML files, check them, and hold them as immutable typed objects.

``load_knowledge(directory)`` returns a ``KnowledgeBase`` and a ``Report`` of every problem found, each with its file
and line. The schema is declared once, as pydantic models; the checks that span files (ids, citations, links,
duplicate phrasings) follow. A knowledge base is only built when the report has no errors, so the bot can keep
serving the last good one when an edit is broken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, RootModel, ValidationError

from bot import languages
from bot.text import fold, to_traditional

#: Where the bundled knowledge base lives (the repository's ``knowledge/``).
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "knowledge"

MIN_QUESTIONS = 5  # per required language

# libyaml's parser when PyYAML was built with it (the wheels are): several times faster, same nodes and marks
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_TITLE = 100
MAX_ANSWER = 1000  # characters; a card adds the verdict, the other side and the sources and must stay under 4096
LONG_ANSWER = 700  # a warning: answers are meant to be read on a phone

Kind = Literal["fact", "claim", "denial"]
Verdict = Literal["false", "misleading", "unproven", "disputed", "mostly-accurate", "accurate"]
SourceKind = Literal[
    "ngo-report", "news", "official-statement", "government", "parliament", "court-record", "research", "other"
]

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PARTIAL_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_LANG_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


# --- field types -----------------------------------------------------------------------------------------------


MAX_ID = 48  # an id travels in button data (64 bytes at most) with a prefix and a language code


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("ids use lowercase letters, digits and single hyphens, e.g. 'response-ireland'")
    if len(value) > MAX_ID:
        raise ValueError(f"ids are at most {MAX_ID} characters (they travel in buttons)")
    return value


_HIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
                     r"\u3164\ufeff\ufff9-\ufffb]")  # spaces, controls, zero-width and bidi characters


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or _HIDDEN.search(value) or '"' in value:
        raise ValueError(f"not a valid http(s) address: {value!r}")
    return value


def _check_partial_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if not _PARTIAL_DATE.match(text):
        raise ValueError(f"dates are written YYYY-MM-DD (or YYYY-MM, YYYY when the day is unknown), not {text!r}")
    parts = [int(p) for p in text.split("-")] + [1, 1]
    dt.date(parts[0], parts[1], parts[2])  # raises ValueError on a month 13 or a 31 February
    return text


def _check_lang_tag(value: str) -> str:
    if not _LANG_TAG.match(value):
        raise ValueError(f"not a language code such as 'en', 'zh', 'es': {value!r}")
    return value


def _non_empty(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _localized_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for key, text in value.items():
            lang = languages.canonical(str(key))
            if lang is None or lang.lower() != str(key).lower():
                raise ValueError(f"unknown language {key!r}: use one of {', '.join(languages.SUPPORTED)}")
            out[lang] = text
        return out
    return value


def _derive_languages(value: dict[str, Any]) -> dict[str, Any]:
    for target, origin in languages.DERIVED.items():
        if target not in value and origin in value:
            source = value[origin]
            value[target] = (
                to_traditional(source) if isinstance(source, str) else tuple(to_traditional(s) for s in source)
            )
    return value


EntryId = Annotated[str, AfterValidator(_check_id)]
Text = Annotated[str, AfterValidator(_non_empty)]
Url = Annotated[str, AfterValidator(_check_url)]
PartialDate = Annotated[str, BeforeValidator(_check_partial_date)]
Localized = Annotated[dict[str, Text], BeforeValidator(_localized_keys), AfterValidator(_derive_languages)]
Phrasings = Annotated[dict[str, tuple[Text, ...]], BeforeValidator(_localized_keys)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Topic(_Model):
    """A heading entries are browsed under."""

    id: EntryId
    title: Localized


class Source(_Model):
    """A publication cited by entries: declared once, cited by id."""

    id: EntryId
    title: Text
    publisher: Text
    url: Url
    published: PartialDate
    language: Annotated[str, AfterValidator(_check_lang_tag)]
    kind: SourceKind
    archive_url: Url | None = None
    note: str | None = None


def _verdict(value: Any) -> Any:
    # YAML reads an unquoted `false` as a boolean: take it as the verdict the moderator meant.
    return "false" if value is False else value


def _citation(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class Citation(_Model):
    """An entry's reference to a source, optionally with a short quote or a page."""

    id: EntryId
    quote: Text | None = None
    page: str | int | None = None


class Entry(_Model):
    """One question and its curated, sourced answer."""

    id: EntryId
    kind: Kind
    topic: EntryId
    title: Localized
    answer: Localized
    questions: Phrasings
    keywords: tuple[Text, ...] = ()
    sources: tuple[Annotated[Citation, BeforeValidator(_citation)], ...]
    related: tuple[EntryId, ...] = ()
    reviewed: dt.date
    verdict: Annotated[Verdict | None, BeforeValidator(_verdict)] = None
    claimant: Localized | None = None

    def text(self, part: Literal["title", "answer", "claimant"], lang: str) -> str:
        """A localised field in ``lang``, falling back to English."""
        values = getattr(self, part) or {}
        return values.get(lang) or values.get(languages.DEFAULT) or ""


class OffTopic(_Model):
    """Questions the bot must not answer although they sound close (``knowledge/out-of-scope.yaml``).

    Consular services, other China topics, small talk, practical details the sources do not give: a question
    nearer to these phrasings than to any entry gets the plain "no answer" reply instead of a wrong card.
    """

    id: EntryId
    about: Text  # what kind of question, for the moderators
    questions: Phrasings


class NameGroup(RootModel[tuple[Text, ...]]):
    """One place, person or organisation under all the names people write it with (``knowledge/names.yaml``)."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)


class Translation(_Model):
    """One entry's texts in one translated language (``knowledge/translations/<lang>.yaml``)."""

    id: EntryId
    title: Text
    answer: Text
    questions: tuple[Text, ...]
    claimant: Text | None = None


class TopicTranslation(_Model):
    id: EntryId
    title: Text


_ITEM_MODELS: dict[str, type[_Model]] = {
    "topics": Topic,
    "sources": Source,
    "entries": Entry,
    "translations": Translation,
    "topic_translations": TopicTranslation,
    "out_of_scope": OffTopic,
    "names": NameGroup,
    "within": NameGroup,
    "words": NameGroup,
}

OFF_TOPIC_FILE = "out-of-scope.yaml"
NAMES_FILE = "names.yaml"


# --- problems --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge files, where it is, and whether it blocks loading."""

    file: str
    line: int | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Report:
    """Everything validation found; ``ok`` when nothing blocks loading."""

    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


class KnowledgeError(Exception):
    """The knowledge files have errors; ``report`` lists them."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__("\n".join(str(p) for p in report.errors))


# --- the knowledge base ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated fact set: entries, sources and topics, immutable once built."""

    entries: tuple[Entry, ...]
    sources: Mapping[str, Source]
    topics: tuple[Topic, ...]
    version: str  # a content hash of the files, so anyone can check an answer came from a published set
    updated: dt.date  # the most recent review date
    directory: str = ""
    off_topic: tuple[OffTopic, ...] = ()  # near-miss questions to decline, never answered
    names: tuple[tuple[str, ...], ...] = ()  # each: the names of one thing in several languages and scripts
    within: tuple[tuple[str, ...], ...] = ()  # each: a country, then places in it (names from ``names``)
    words: tuple[tuple[str, ...], ...] = ()  # each: a name, then the languages where it is also an ordinary word
    by_id: Mapping[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType({e.id: e for e in self.entries}))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    def entry(self, entry_id: str) -> Entry | None:
        return self.by_id.get(entry_id)

    def related(self, entry: Entry) -> tuple[Entry, ...]:
        return tuple(self.by_id[i] for i in entry.related if i in self.by_id)

    def cited(self, entry: Entry) -> tuple[tuple[Source, Citation], ...]:
        return tuple((self.sources[c.id], c) for c in entry.sources if c.id in self.sources)

    def in_topic(self, topic_id: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.topic == topic_id)


def load_knowledge(directory: str | Path = DEFAULT_DIR) -> tuple[KnowledgeBase | None, Report]:
    """Read and check every file under ``directory``; the knowledge base is None when there are errors."""
    root = Path(directory)
    problems: list[Problem] = []
    if not root.is_dir():
        return None, Report((Problem(str(root), None, "no such directory"),))

    digest = hashlib.sha256()
    items: dict[str, list[tuple[Any, _Place]]] = {key: [] for key in _ITEM_MODELS}
    broken: set[str] = set()  # ids of items that failed validation: reported once, not again as missing

    topics_file = root / "topics.yaml"
    files = [topics_file] + _yaml_files(root / "sources") + _yaml_files(root / "entries")
    files += _yaml_files(root / "translations")
    off_topic_file, names_file = root / OFF_TOPIC_FILE, root / NAMES_FILE
    files += [f for f in (off_topic_file, names_file) if f.is_file()]
    if not (root / "sources").is_dir() or not (root / "entries").is_dir():
        problems.append(Problem(str(root), None, "a knowledge directory needs the folders sources/ and entries/"))
    translations: dict[str, list[tuple[Translation, _Place]]] = {}
    topic_names: dict[str, list[tuple[TopicTranslation, _Place]]] = {}
    for path in files:
        name = _display(path, root)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(name, None, f"cannot read: {exc.strerror or exc}"))
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0" + raw + b"\0")
        parsed = _parse(name, raw, problems)
        if parsed is None:
            continue
        data, lines = parsed
        if path.parent.name == "translations":
            lang = path.stem
            if lang not in languages.TRANSLATED:
                problems.append(Problem(name, None, f"no translated language {lang!r}: name the file after one of "
                                        f"{', '.join(languages.TRANSLATED)}"))
                continue
            if not _shape(name, data, {"language", "entries", "topics"}, {"language", "entries"}, problems):
                continue
            if data["language"] != lang:
                problems.append(Problem(name, lines.get(("language",)), f"language: {data['language']!r} does not "
                                        f"match the file name {path.name!r}"))
                continue
            translations[lang] = list(_items(name, data, lines, "entries", "translations", problems, broken))
            topic_names[lang] = list(_items(name, data, lines, "topics", "topic_translations", problems, broken))
            continue
        key = {topics_file: "topics", off_topic_file: "out_of_scope", names_file: "names"}.get(path, path.parent.name)
        optional = {"within", "words"} if path == names_file else set()
        if _shape(name, data, {key} | optional, {key}, problems):
            for part in (key, *optional):
                items[part].extend(_items(name, data, lines, part, part, problems, broken))

    topics, sources, entries = items["topics"], items["sources"], items["entries"]
    problems.extend(_cross_checks(topics, sources, entries, broken))
    problems.extend(_translation_checks(entries, translations, topics, topic_names, broken))
    problems.extend(_off_topic_checks(entries, translations, items["out_of_scope"]))
    problems.extend(_name_checks(items["names"]))
    problems.extend(_within_checks(items["names"], items["within"]))
    problems.extend(_words_checks(items["names"], items["words"]))
    report = Report(tuple(problems))
    if not report.ok:
        return None, report
    merged_entries = _merge_entries(entries, translations)
    merged_topics = _merge_topics(topics, topic_names)
    kb = KnowledgeBase(
        entries=merged_entries,
        sources={s.id: s for s, _ in sources},
        topics=merged_topics,
        version=digest.hexdigest()[:12],
        updated=max((e.reviewed for e, _ in entries), default=dt.date(1970, 1, 1)),
        directory=str(root),
        off_topic=tuple(o for o, _ in items["out_of_scope"]),
        names=tuple(g.root for g, _ in items["names"]),
        within=tuple(g.root for g, _ in items["within"]),
        words=tuple(g.root for g, _ in items["words"]),
    )
    return kb, report


def require_knowledge(directory: str | Path = DEFAULT_DIR) -> KnowledgeBase:
    """Load the knowledge base or raise ``KnowledgeError`` listing the errors."""
    kb, report = load_knowledge(directory)
    if kb is None:
        raise KnowledgeError(report)
    return kb


# --- parsing with line numbers ---------------------------------------------------------------------------------

_Path = tuple[str | int, ...]


@dataclass(frozen=True)
class _Place:
    """Where an item was read from, so later checks can point at the right line."""

    file: str
    lines: Mapping[_Path, int]
    path: _Path

    def line(self, *more: str | int) -> int | None:
        return _line_of(self.lines, self.path + more)


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _parse(name: str, raw: bytes, problems: list[Problem]) -> tuple[Any, Mapping[_Path, int]] | None:
    """A file's data and the line of every key and item, or None (with the problem appended)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, None, f"not UTF-8 text (byte {exc.start})"))
        return None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                problems.append(Problem(name, None, "the file is empty"))
                return None
            lines: dict[_Path, int] = {}
            duplicates: list[Problem] = []
            _map_lines(node, (), lines, name, duplicates)
            if duplicates:
                problems.extend(duplicates)
                return None
            return loader.construct_document(node), lines
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.append(Problem(name, line, f"YAML syntax: {exc.problem or exc.context}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(name, None, f"YAML syntax: {exc}"))
    return None


def _items(
    name: str, data: Any, lines: Mapping[_Path, int], key: str, model_key: str, problems: list[Problem],
    broken: set[str],
) -> Iterator[tuple[Any, _Place]]:
    """The valid items of the list under ``key``, each with its place; problems are appended as found."""
    model = _ITEM_MODELS[model_key]
    for index, raw_item in enumerate(data.get(key) or ()):
        place = _Place(name, lines, (key, index))
        try:
            yield model.model_validate(raw_item), place
        except ValidationError as exc:
            owner = raw_item.get("id") if isinstance(raw_item, dict) else None
            if isinstance(owner, str):
                broken.add(owner)
            for err in exc.errors():
                loc = (key, index) + tuple(p for p in err["loc"] if p != "[key]")
                problems.append(Problem(name, _line_of(lines, loc), _describe(owner, loc, err)))


def _shape(name: str, data: Any, allowed: set[str], required: set[str], problems: list[Problem]) -> bool:
    """Whether a file's top level has the right keys, each list-valued key holding a list."""
    if not isinstance(data, dict) or not required <= set(data) or not set(data) <= allowed:
        want = ", ".join(f"'{k}:'" for k in sorted(allowed))
        problems.append(Problem(name, 1, f"this file's top level must be {want} (found {_keys(data)})"))
        return False
    for key in allowed - {"language"}:
        if key in data and not isinstance(data[key], list):
            problems.append(Problem(name, 1, f"'{key}:' must hold a list"))
            return False
    return True


def _keys(data: Any) -> str:
    return ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__


def _map_lines(node: yaml.Node, path: _Path, out: dict[_Path, int], name: str, dups: list[Problem]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                dups.append(Problem(name, key_node.start_mark.line + 1, f"the key {key!r} appears twice here"))
            seen.add(key)
            out[path + (key,)] = key_node.start_mark.line + 1
            _map_lines(value_node, path + (key,), out, name, dups)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, path + (index,), out, name, dups)


def _line_of(lines: Mapping[_Path, int], path: _Path) -> int | None:
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(str(p) if isinstance(p, str) else p for p in path[:end]))
        if line is not None:
            return line
    return None


def _describe(owner: Any, loc: _Path, err: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in loc[2:]) or "item"
    tag = f"[{owner}] " if isinstance(owner, str) else f"[{loc[0]} item {int(loc[1]) + 1}] "
    message = str(err["msg"])
    if err["type"] == "extra_forbidden":
        message = "unknown field (check its spelling and indentation)"
    elif err["type"] == "missing":
        message = "required field is missing"
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{tag}{where}: {message}"


# --- checks across files ---------------------------------------------------------------------------------------


def _cross_checks(
    topics: list[tuple[Topic, _Place]],
    sources: list[tuple[Source, _Place]],
    entries: list[tuple[Entry, _Place]],
    broken: set[str],
) -> Iterator[Problem]:
    yield from _duplicate_ids("topic", topics)
    yield from _duplicate_ids("source", sources)
    yield from _duplicate_ids("entry", entries)
    topic_ids = {t.id for t, _ in topics}
    source_ids = {s.id for s, _ in sources}
    entry_ids = {e.id for e, _ in entries}
    cited: set[str] = set()
    phrasings: dict[str, tuple[str, Entry, _Place, str, int]] = {}
    today = dt.date.today()

    for entry, place in entries:
        tag = f"[{entry.id}]"
        if entry.topic not in topic_ids and entry.topic not in broken:
            yield Problem(place.file, place.line("topic"), f"{tag} topic {entry.topic!r} is not in topics.yaml")
        if entry.kind == "claim" and entry.verdict is None:
            yield Problem(place.file, place.line("kind"), f"{tag} a claim needs a verdict")
        if entry.kind != "claim" and entry.verdict is not None:
            yield Problem(place.file, place.line("verdict"), f"{tag} only claims carry a verdict")
        if entry.kind != "claim" and entry.claimant is not None:
            yield Problem(place.file, place.line("claimant"), f"{tag} only claims name a claimant")
        if not entry.sources:
            yield Problem(place.file, place.line("sources"), f"{tag} cites no source: every answer needs one")
        for index, citation in enumerate(entry.sources):
            cited.add(citation.id)
            if citation.id not in source_ids and citation.id not in broken:
                yield Problem(
                    place.file, place.line("sources", index), f"{tag} cites unknown source {citation.id!r}"
                )
        for index, other in enumerate(entry.related):
            if other not in entry_ids and other in broken:
                continue
            if other not in entry_ids:
                yield Problem(place.file, place.line("related", index), f"{tag} related entry {other!r} does not exist")
            elif other == entry.id:
                yield Problem(place.file, place.line("related", index), f"{tag} is related to itself")
        for part in ("title", "answer"):
            values: dict[str, str] = getattr(entry, part)
            for lang in languages.REQUIRED:
                if lang not in values:
                    yield Problem(place.file, place.line(part), f"{tag} {part} has no {lang!r} text")
        if entry.claimant is not None:
            for lang in languages.REQUIRED:
                if lang not in entry.claimant:
                    yield Problem(place.file, place.line("claimant"), f"{tag} claimant has no {lang!r} text")
        for lang, title in entry.title.items():
            if len(title) > MAX_TITLE:
                yield Problem(
                    place.file, place.line("title", lang),
                    f"{tag} title.{lang} is {len(title)} characters; keep it under {MAX_TITLE} for buttons",
                    "warning",
                )
        for lang, answer in entry.answer.items():
            if len(answer) > MAX_ANSWER:
                yield Problem(
                    place.file, place.line("answer", lang),
                    f"{tag} answer.{lang} is {len(answer)} characters: too long for a chat answer (max {MAX_ANSWER})",
                )
            elif len(answer) > LONG_ANSWER:
                yield Problem(
                    place.file, place.line("answer", lang),
                    f"{tag} answer.{lang} is {len(answer)} characters; answers read best under {LONG_ANSWER}",
                    "warning",
                )
        for lang in languages.REQUIRED:
            count = len(entry.questions.get(lang, ()))
            if count < MIN_QUESTIONS:
                yield Problem(
                    place.file, place.line("questions", lang) or place.line("questions"),
                    f"{tag} has {count} {lang!r} question phrasings; at least {MIN_QUESTIONS} are needed",
                )
        if entry.reviewed > today:
            yield Problem(place.file, place.line("reviewed"), f"{tag} reviewed date is in the future", "warning")
        for lang, questions in entry.questions.items():
            for index, question in enumerate(questions):
                key = _question_key(question)
                line = place.line("questions", lang, index)
                if not key:
                    yield Problem(place.file, line, f"{tag} question {question!r} has no words to match")
                    continue
                seen = phrasings.get(key)
                if seen is None:
                    phrasings[key] = (question, entry, place, lang, index)
                elif seen[1].id != entry.id:
                    where = f"{seen[2].file}:{seen[2].line('questions', seen[3], seen[4])}"
                    yield Problem(
                        place.file, line,
                        f"{tag} question {question!r} is also a phrasing of {seen[1].id!r} ({where}): "
                        "a phrasing must belong to one entry",
                    )
                else:
                    yield Problem(place.file, line, f"{tag} question {question!r} is listed twice", "warning")

    for source, place in sources:
        if source.id not in cited:
            yield Problem(place.file, place.line("id"), f"source {source.id!r} is not cited by any entry", "warning")


def _question_key(text: str) -> str:
    """What two phrasings of one question have in common: spaces, punctuation, case and script do not count."""
    return fold(text).replace(" ", "")


def _off_topic_checks(
    entries: list[tuple[Entry, _Place]],
    translations: dict[str, list[tuple[Translation, _Place]]],
    off_topic: list[tuple[OffTopic, _Place]],
) -> Iterator[Problem]:
    """Declined questions have ids of their own and never repeat a phrasing that an entry answers."""
    entry_ids = {e.id for e, _ in entries}
    yield from _duplicate_ids("out-of-scope group", off_topic)
    answered = {_question_key(q): e.id for e, _ in entries for qs in e.questions.values() for q in qs}
    answered.update((_question_key(q), t.id) for items in translations.values() for t, _ in items
                    for q in t.questions)
    for group, place in off_topic:
        tag = f"[{group.id}]"
        if group.id in entry_ids:
            yield Problem(place.file, place.line("id"), f"{tag} is also an entry id: pick another id")
        for lang, questions in group.questions.items():
            for index, question in enumerate(questions):
                key = _question_key(question)
                line = place.line("questions", lang, index)
                if not key:
                    yield Problem(place.file, line, f"{tag} question {question!r} has no words to match")
                elif key in answered:
                    yield Problem(place.file, line, f"{tag} question {question!r} is a phrasing of entry "
                                  f"{answered[key]!r}: a question is either answered or declined")


def _name_checks(groups: list[tuple[NameGroup, _Place]]) -> Iterator[Problem]:
    """A name stands for one thing: it may not appear in two groups, and a group needs two names to be of use."""
    owner: dict[str, tuple[str, _Place, int]] = {}
    for group, place in groups:
        folded = [fold(n) for n in group.root]
        if len({f for f in folded if f}) < 2:
            yield Problem(place.file, place.line(), f"name group {list(group.root)} needs at least two different names")
        for index, (name, key) in enumerate(zip(group.root, folded, strict=True)):
            if not key:
                yield Problem(place.file, place.line(index), f"name {name!r} has no letters to match")
                continue
            seen = owner.get(key)
            if seen is None:
                owner[key] = (name, place, index)
            elif seen[1].path != place.path:
                yield Problem(place.file, place.line(index), f"name {name!r} is also in the group at line "
                              f"{seen[1].line(seen[2])} ({seen[0]!r}): a name may stand for one thing only")


def _within_checks(names: list[tuple[NameGroup, _Place]], within: list[tuple[NameGroup, _Place]]) -> Iterator[Problem]:
    """A ``within`` line is a country and places in it, each a name from ``names``; a place is in one country."""
    group_of = {fold(n): number for number, (group, _) in enumerate(names) for n in group.root}
    country_of: dict[int, str] = {}  # a place's group: the country it was first listed in
    for row, place in within:
        if len(row.root) < 2:
            yield Problem(place.file, place.line(), f"{list(row.root)}: name a country, then the places in it")
        for index, name in enumerate(row.root):
            group = group_of.get(fold(name))
            if group is None:
                yield Problem(place.file, place.line(index), f"{name!r} is not in 'names:': list its names there first")
            elif index and country_of.setdefault(group, row.root[0]) != row.root[0]:
                yield Problem(place.file, place.line(index), f"{name!r} is already within {country_of[group]!r}")


def _words_checks(names: list[tuple[NameGroup, _Place]], words: list[tuple[NameGroup, _Place]]) -> Iterator[Problem]:
    """A ``words`` line is a name from ``names``, then the languages the bot speaks where it is an ordinary word."""
    listed = {fold(n) for group, _ in names for n in group.root}
    for row, place in words:
        name, *langs = row.root
        if fold(name) not in listed:
            yield Problem(place.file, place.line(0), f"{name!r} is not in 'names:': list its names there first")
        if not langs:
            yield Problem(place.file, place.line(), f"{list(row.root)}: name a name, then the languages where it "
                          "is an ordinary word")
        for index, lang in enumerate(langs, 1):
            if lang not in languages.SUPPORTED or languages.is_chinese(lang):
                yield Problem(place.file, place.line(index), f"{lang!r} is not one of the bot's Latin-script "
                              f"languages ({', '.join(c for c in languages.SUPPORTED if not languages.is_chinese(c))})")


#: How a missing translation is reported: "warning" while a language is being translated, "error" once complete.
MISSING_TRANSLATION: Literal["error", "warning"] = "warning"


def _translation_checks(
    entries: list[tuple[Entry, _Place]],
    translations: dict[str, list[tuple[Translation, _Place]]],
    topics: list[tuple[Topic, _Place]],
    topic_names: dict[str, list[tuple[TopicTranslation, _Place]]],
    broken: set[str],
) -> Iterator[Problem]:
    by_id = {e.id: e for e, _ in entries}
    # a phrasing belongs to one entry whatever the language: seeded with the entry files' own phrasings
    phrasings: dict[str, str] = {
        _question_key(q): e.id for e, _ in entries for qs in e.questions.values() for q in qs
    }
    for lang in languages.TRANSLATED:
        items = translations.get(lang, [])
        seen: dict[str, _Place] = {}
        for item, place in items:
            tag = f"[{item.id}] ({lang})"
            entry = by_id.get(item.id)
            if item.id in seen:
                yield Problem(place.file, place.line("id"), f"{tag} is translated twice (also line "
                              f"{seen[item.id].line('id')})")
                continue
            seen[item.id] = place
            if entry is None:
                if item.id not in broken:
                    yield Problem(place.file, place.line("id"), f"{tag} there is no entry with this id")
                continue
            if entry.kind == "claim" and item.claimant is None:
                yield Problem(place.file, place.line("id"), f"{tag} a claim's translation needs its claimant")
            if entry.kind != "claim" and item.claimant is not None:
                yield Problem(place.file, place.line("claimant"), f"{tag} only claims name a claimant")
            if len(item.answer) > MAX_ANSWER:
                yield Problem(place.file, place.line("answer"), f"{tag} answer is {len(item.answer)} characters: "
                              f"too long for a chat answer (max {MAX_ANSWER})")
            if len(item.questions) < MIN_QUESTIONS:
                yield Problem(place.file, place.line("questions"), f"{tag} has {len(item.questions)} question "
                              f"phrasings; at least {MIN_QUESTIONS} are needed")
            for index, question in enumerate(item.questions):
                key = _question_key(question)
                owner = phrasings.setdefault(key, item.id)
                if owner != item.id:
                    yield Problem(place.file, place.line("questions", index), f"{tag} question {question!r} is also "
                                  f"a phrasing of {owner!r}: a phrasing must belong to one entry")
        if items or MISSING_TRANSLATION == "error":
            for entry_id in by_id:
                if entry_id not in seen:
                    where = items[0][1].file if items else f"knowledge/translations/{lang}.yaml"
                    yield Problem(where, None, f"[{entry_id}] has no {lang!r} translation", MISSING_TRANSLATION)
        topic_ids = {t.id for t, _ in topics}
        for item, place in topic_names.get(lang, []):
            if item.id not in topic_ids:
                yield Problem(place.file, place.line("id"), f"topic {item.id!r} ({lang}) is not in topics.yaml")


def _merge_entries(
    entries: list[tuple[Entry, _Place]], translations: dict[str, list[tuple[Translation, _Place]]]
) -> tuple[Entry, ...]:
    texts: dict[str, dict[str, Translation]] = {}
    for lang, items in translations.items():
        for item, _ in items:
            texts.setdefault(item.id, {})[lang] = item
    out = []
    for entry, _ in entries:
        extra = texts.get(entry.id)
        if extra:
            entry = entry.model_copy(update={
                "title": {**entry.title, **{lang: t.title for lang, t in extra.items()}},
                "answer": {**entry.answer, **{lang: t.answer for lang, t in extra.items()}},
                "questions": {**entry.questions, **{lang: t.questions for lang, t in extra.items()}},
                "claimant": None if entry.claimant is None else {
                    **entry.claimant, **{lang: t.claimant for lang, t in extra.items() if t.claimant}
                },
            })
        out.append(entry)
    return tuple(out)


def _merge_topics(
    topics: list[tuple[Topic, _Place]], names: dict[str, list[tuple[TopicTranslation, _Place]]]
) -> tuple[Topic, ...]:
    titles: dict[str, dict[str, str]] = {}
    for lang, items in names.items():
        for item, _ in items:
            titles.setdefault(item.id, {})[lang] = item.title
    return tuple(t.model_copy(update={"title": {**t.title, **titles.get(t.id, {})}}) for t, _ in topics)


def _duplicate_ids(what: str, items: list[tuple[Any, _Place]]) -> Iterator[Problem]:
    first: dict[str, _Place] = {}
    for item, place in items:
        if item.id in first:
            other = first[item.id]
            yield Problem(
                place.file, place.line("id"),
                f"{what} id {item.id!r} is already used at {other.file}:{other.line('id')}",
            )
        else:
            first[item.id] = place
