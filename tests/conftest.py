from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot import classifier, semantic
from bot.facts import DEFAULT_DIR, KnowledgeBase, require_knowledge
from bot.matching import Matcher
from tests.botapi import BotAPI

FIXTURE = Path(__file__).parent / "fixtures" / "good"


@pytest.fixture(scope="session")
def small_kb() -> KnowledgeBase:
    return require_knowledge(FIXTURE)


@pytest.fixture(scope="session")
def small_matcher(small_kb: KnowledgeBase) -> Matcher:
    return Matcher(small_kb)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return require_knowledge(DEFAULT_DIR)


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


@pytest.fixture
async def api() -> AsyncIterator[BotAPI]:
    """A fresh local stand-in of the Bot API for one test (test files that need other defaults override it)."""
    async with BotAPI() as server:
        yield server


@pytest.fixture(autouse=True, scope="session")
def _derived_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests read the committed vectors and classifiers of the bundled knowledge but write new ones to copies, never
    to the repository."""
    folder = tmp_path_factory.mktemp("derived")
    with pytest.MonkeyPatch.context() as mp:
        for variable, committed in (("EMBEDDING_CACHE", semantic.cache_path(DEFAULT_DIR, env={})),
                                    ("CLASSIFIER_CACHE", classifier.store_path(DEFAULT_DIR, env={}))):
            copy = folder / committed.name
            if committed.is_file():
                shutil.copy(committed, copy)
            mp.setenv(variable, str(copy))
        yield
