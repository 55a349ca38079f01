from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.facts import DEFAULT_DIR, KnowledgeBase, require_knowledge
from bot.matching import Matcher
from tests.botapi import BotAPI
from tests.harness import derived_copies

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
    with pytest.MonkeyPatch.context() as mp:
        for variable, copy in derived_copies(tmp_path_factory.mktemp("derived")).items():
            mp.setenv(variable, copy)
        yield


@pytest.fixture(scope="module")
def fresh_derived_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """For a module whose commands run in other processes: copies of the committed vectors and classifiers of its
    own, as a fresh checkout has them (``tests.harness.derived_copies`` says why the session's will not do)."""
    with pytest.MonkeyPatch.context() as mp:
        for variable, copy in derived_copies(tmp_path_factory.mktemp("derived")).items():
            mp.setenv(variable, copy)
        yield
