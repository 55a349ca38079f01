from __future__ import annotations

from pathlib import Path

import pytest

from bot.facts import DEFAULT_DIR, KnowledgeBase, require_knowledge
from bot.matching import Matcher

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
