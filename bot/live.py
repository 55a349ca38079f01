"""The knowledge the bot serves right now, swapped whole when moderators reload it.

A ``Snapshot`` pairs a knowledge base with the matcher built for it. Handlers take ``live.snapshot`` once per
update and use only that, so a reload in the middle of an answer cannot mix two versions. Loading runs off the event
loop; a knowledge base that fails validation never replaces the one being served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot import classifier, semantic
from bot.classifier import ClassifierStore
from bot.facts import KnowledgeBase, Report, load_knowledge
from bot.matching import Matcher, Phrasing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    kb: KnowledgeBase
    matcher: Matcher


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: the report, and the entry ids added, changed and removed (when it was applied)."""

    applied: bool
    report: Report
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def build(kb: KnowledgeBase, extra: Iterable[Phrasing] = ()) -> Snapshot:
    return Snapshot(kb, build_matcher(kb, extra))


_caches: dict[str, semantic.EmbeddingCache] = {}
_stores: dict[str, ClassifierStore] = {}


def classifier_store(kb: KnowledgeBase) -> ClassifierStore:
    """The trained classifiers of ``kb``'s directory (one store per file for the process; memory only when the
    knowledge base has no directory)."""
    if not kb.directory:
        return classifier.MEMORY
    path = classifier.store_path(kb.directory)
    store = _stores.get(str(path))
    if store is None:
        store = _stores[str(path)] = ClassifierStore(path)
    return store


def build_matcher(kb: KnowledgeBase, extra: Iterable[Phrasing] = (), use_semantic: bool | None = None) -> Matcher:
    """The matcher for ``kb``: with the embedding model unless ``SEMANTIC_MATCHING=off`` or it cannot be loaded.

    Phrasing vectors come from the knowledge directory's cache file, trained classifiers from its classifier file
    (one object per file for the process); what had to be computed anew is written back.
    """
    if use_semantic is None:
        use_semantic = semantic.enabled()
    embedder = semantic.default_embedder() if use_semantic else None
    store = classifier_store(kb)
    cache = None
    if embedder is not None:
        path = semantic.cache_path(kb.directory) if kb.directory else None
        cache = _caches.get(str(path))
        if cache is None:
            cache = _caches[str(path)] = semantic.EmbeddingCache(path)
    matcher = Matcher(kb, extra, embedder=embedder, cache=cache, classifiers=store)
    matcher.prepare()  # now, off the event loop, rather than on the first question typed in pinyin
    if cache is not None:
        cache.save()
    store.save()
    return matcher


class LiveKnowledge:
    """Holds the current snapshot; ``reload`` replaces it only with a valid one."""

    def __init__(self, directory: Path, snapshot: Snapshot) -> None:
        self.directory = directory
        self._snapshot = snapshot
        self._changing = asyncio.Lock()  # one reload or rebuild at a time, so none undoes another

    @classmethod
    def load(cls, directory: Path) -> LiveKnowledge:
        """Load at start-up; raises ``KnowledgeError`` when the files are invalid (there is nothing to fall back on)."""
        from bot.facts import require_knowledge

        return cls(directory, build(require_knowledge(directory)))

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    async def rebuild(self, extra: Iterable[Phrasing]) -> None:
        """Same knowledge, new phrasings attached by moderators: a new matcher, swapped in whole."""
        extra = tuple(extra)
        async with self._changing:
            self._snapshot = await asyncio.to_thread(build, self._snapshot.kb, extra)

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """Names, sizes and modification times of the knowledge files: cheap to compare, to notice edits."""
        files = sorted(p for p in self.directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)

    async def reload(self, extra: Iterable[Phrasing] = ()) -> ReloadResult:
        """Load and check the files again in a worker thread; swap them in only if they are valid."""
        extra = tuple(extra)

        def work() -> tuple[Snapshot | None, Report]:
            kb, report = load_knowledge(self.directory)
            return (build(kb, extra) if kb else None), report

        async with self._changing:
            return self._swap(*await asyncio.to_thread(work))

    def _swap(self, new: Snapshot | None, report: Report) -> ReloadResult:
        if new is None:
            log.warning("knowledge reload rejected: %d error(s); still serving %s",
                        len(report.errors), self._snapshot.kb.version)
            return ReloadResult(False, report)
        old = self._snapshot.kb
        self._snapshot = new  # one reference assignment: atomic for every reader
        before, after = old.by_id, new.kb.by_id
        return ReloadResult(
            True,
            report,
            added=tuple(sorted(set(after) - set(before))),
            changed=tuple(sorted(i for i in set(after) & set(before) if after[i] != before[i])),
            removed=tuple(sorted(set(before) - set(after))),
        )
