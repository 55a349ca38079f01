"""The storage module: what it keeps, what it never keeps, retention, and surviving a broken database."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.store import MIGRATIONS, ChatSettings, Store, load_key

USER = 987654321
GROUP = -1001234567890


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = await Store.open(tmp_path / "db.sqlite3", b"k" * 32, clock=Clock())
    yield s
    await s.close()


def all_text(path: Path) -> str:
    """Every value in every table, as text (for privacy checks)."""
    con = sqlite3.connect(path)
    out = []
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in con.execute(f"SELECT * FROM {table}"):  # table names come from sqlite_master
            out.append(" ".join(map(str, row)))
    con.close()
    return "\n".join(out)


async def test_schema_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    s = await Store.open(tmp_path / "db.sqlite3", b"k" * 32)
    await s.close()
    con = sqlite3.connect(tmp_path / "db.sqlite3")
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    again = await Store.open(tmp_path / "db.sqlite3", b"k" * 32)  # opening twice migrates nothing twice
    await again.close()


async def test_votes_one_per_asker_and_entry_changeable(store: Store) -> None:
    await store.vote(USER, "entry-a", True)
    await store.vote(USER, "entry-a", False)
    await store.vote(USER + 1, "entry-a", True)
    assert await store.votes("entry-a") == (1, 1)
    assert await store.votes("entry-b") == (0, 0)


async def test_no_raw_ids_in_the_database(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    s = await Store.open(path, b"k" * 32)
    await s.vote(USER, "entry-a", True)
    await s.set_chat_settings(GROUP, ChatSettings("zh-Hant", True))
    await s.set_chat_settings(USER, ChatSettings("en"))
    await s.audit(USER, "reload")
    await s.close()
    dump = all_text(path)
    assert str(USER) not in dump and str(GROUP) not in dump and str(abs(GROUP)) not in dump
    assert "entry-a" in dump  # the data itself is there


async def test_hash_depends_on_the_key(tmp_path: Path) -> None:
    a = await Store.open(tmp_path / "a.sqlite3", b"a" * 32)
    b = await Store.open(tmp_path / "b.sqlite3", b"b" * 32)
    assert a.hash_id("user", USER) != b.hash_id("user", USER)
    assert a.hash_id("user", USER) != a.hash_id("chat", USER)
    await a.close()
    await b.close()


def test_key_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    key = load_key(db)
    path = db.with_suffix(".key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_key(db) == key and len(key) == 64


@pytest.mark.parametrize("returning", [True, False])  # False: the path for an SQLite older than 3.35
async def test_unanswered_questions_are_grouped_and_carry_no_asker(
    store: Store, returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.RETURNING", returning)
    first = await store.record_unanswered("Where is the station in ROME?", "en")
    again = await store.record_unanswered("where is the station in rome", "en")
    other = await store.record_unanswered("罗马的站在哪里", "zh-Hans")
    got = await store.unanswered()
    assert [(u.count, u.lang) for u in got] == [(2, "en"), (1, "zh-Hans")]
    assert [first, again, other] == [got[0].id, got[0].id, got[1].id]  # the number, new or counted again
    assert got[0].text == "Where is the station in ROME?"


async def test_unanswered_text_is_cleaned_and_bounded(store: Store) -> None:
    await store.record_unanswered("x\u202e\u200b" + "y" * 5000, "en")
    (u,) = await store.unanswered()
    assert len(u.text) <= 500 and "\u202e" not in u.text


async def test_forget_user_removes_votes_and_private_settings(store: Store) -> None:
    await store.vote(USER, "entry-a", True)
    await store.set_chat_settings(USER, ChatSettings("zh-Hans"))
    await store.vote(USER + 1, "entry-a", True)
    await store.forget_user(USER)
    assert await store.votes("entry-a") == (1, 0)
    assert await store.chat_settings(USER) == ChatSettings()


async def test_settings_follow_a_group_that_migrates(store: Store) -> None:
    await store.set_chat_settings(-42, ChatSettings("zh-Hant", True))
    await store.move_chat(-42, GROUP)
    assert await store.chat_settings(GROUP) == ChatSettings("zh-Hant", True)
    assert await store.chat_settings(-42) == ChatSettings()


async def test_retention_deletes_old_rows_only(tmp_path: Path) -> None:
    clock = Clock()
    s = await Store.open(tmp_path / "db.sqlite3", b"k" * 32, clock=clock)
    await s.vote(USER, "old", True)
    await s.record_unanswered("old question", "en")
    s.count_question("old", "en")
    await s.audit(USER, "old action")
    clock.now += dt.timedelta(days=80)
    await s.vote(USER, "new", True)
    await s.record_unanswered("new question", "en")
    s.count_question("new", "en")
    clock.now += dt.timedelta(days=20)  # "old" rows are 100 days old, "new" ones 20
    await s.expire(90)
    assert await s.votes("old") == (0, 0) and await s.votes("new") == (1, 0)
    assert [u.text for u in await s.unanswered(days=365)] == ["new question"]
    assert [e for e, _ in await s.top_entries(days=365)] == ["new"]
    await s.close()
    assert "old action" not in all_text(tmp_path / "db.sqlite3")


async def test_daily_counts(store: Store) -> None:
    for entry in ("a", "a", "b", None):
        store.count_question(entry, "en")
    assert await store.top_entries() == [("a", 2), ("b", 1)]


async def test_counts_wait_in_memory_until_a_flush_or_closing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    s = await Store.open(path, b"k" * 32)
    s.count_question("a", "en")
    assert rows_of(path, "SELECT COUNT(*) FROM daily_counts") == 0  # answering wrote nothing
    assert await s.flush_counts()
    s.count_question("a", "en")
    s.count_question("b", "nl")
    await s.close()  # closing writes what is left
    assert rows_of(path, "SELECT SUM(count) FROM daily_counts") == 3
    again = await Store.open(path, b"k" * 32)
    assert await again.top_entries() == [("a", 2), ("b", 1)]
    await again.close()


async def test_settings_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    s = await Store.open(path, b"k" * 32)
    await s.set_chat_settings(GROUP, ChatSettings("zh-Hant", True))
    await s.set_chat_settings(USER, ChatSettings("en"))
    await s.set_chat_settings(-42, ChatSettings())  # back to the defaults
    await s.close()
    again = await Store.open(path, b"k" * 32)
    assert await again.chat_settings(GROUP) == ChatSettings("zh-Hant", True)
    assert await again.chat_settings(USER) == ChatSettings("en")
    assert await again.chat_settings(-42) == ChatSettings()
    assert rows_of(path, "SELECT COUNT(*) FROM chat_settings WHERE lang IS NOT NULL OR auto_reply = 1") == 2
    await again.close()


async def test_settings_that_could_not_be_read_at_start_are_read_at_the_next_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.sqlite3"
    s = await Store.open(path, b"k" * 32)
    await s.set_chat_settings(GROUP, ChatSettings("zh-Hant", True))
    await s.close()
    read = Store._read

    async def refuse_settings(self: Store, sql: str, params: tuple[object, ...], one: bool = False) -> object:
        return None if "FROM chat_settings" in sql else await read(self, sql, params, one)

    monkeypatch.setattr(Store, "_read", refuse_settings)
    again = await Store.open(path, b"k" * 32)
    assert await again.chat_settings(GROUP) == ChatSettings()  # the defaults meanwhile, no error
    await again.set_chat_settings(USER, ChatSettings("en"))
    monkeypatch.setattr(Store, "_read", read)
    await again.flush_counts()
    assert await again.chat_settings(GROUP) == ChatSettings("zh-Hant", True)
    assert await again.chat_settings(USER) == ChatSettings("en")
    await again.close()


def rows_of(path: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute(sql).fetchone()[0] or 0)


async def test_a_locked_database_drops_the_write_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    s = await Store.open(path, b"k" * 32, retries=2, retry_delay=0.01, busy_timeout=0.01)
    locker = sqlite3.connect(path, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    assert await s.vote(USER, "a", True) is False
    assert s.dropped == 1
    assert await s.vote(USER, "b", True) is False and s.dropped == 2  # a probe, without retries
    assert await s.chat_settings(GROUP) == ChatSettings()  # reads degrade to defaults, never raise
    locker.rollback()
    locker.close()
    assert await s.vote(USER, "a", True) is True
    assert await s.votes("a") == (1, 0)
    assert await s.healthy()
    await s.close()


async def test_notification_requests_only_for_open_questions(store: Store) -> None:
    question = await store.record_unanswered("where is the station in oslo", "en")
    assert question is not None
    assert await store.subscribe(question, USER, "en")
    assert not await store.subscribe(question + 999, USER, "en")  # a forged or stale button stores nothing
    assert await store.take_subscriptions([question, question + 999]) == [(USER, "en")]
