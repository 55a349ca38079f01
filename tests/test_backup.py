"""Backups (``python -m bot backup``) and upgrades (schema migrations from every earlier version)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import MIGRATIONS, ChatSettings, Store

KEY = b"k" * 32
USER = 987654321
GROUP = -1001234567890


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


# --- backups -------------------------------------------------------------------------------------------------------


async def test_backup_is_a_consistent_copy_while_the_bot_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    store = await Store.open(db, KEY)  # the running bot's connection, left open throughout
    await store.vote(USER, "entry-a", True)
    await store.set_chat_settings(GROUP, ChatSettings("zh-Hant", True))
    await store.record_unanswered("where is the station in Rome", "en")
    reader = sqlite3.connect(db)  # another process in the middle of a read transaction
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM votes").fetchone() == (1,)
    await store.vote(USER + 1, "entry-b", False)  # committed after the reader's snapshot: still in the WAL file
    assert Path(f"{db}-wal").stat().st_size > 0

    copy = tmp_path / "backups" / "bot-2026-01-10.sqlite3"
    assert main(["backup", str(copy), "--database", str(db)]) == 0
    out = capsys.readouterr().out
    assert "integrity ok" in out and "bot.key" in out  # and a reminder to keep the key separately
    reader.rollback()
    reader.close()

    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]  # one self-contained file, no -wal beside it
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600  # it holds unanswered questions: the owner's only
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert con.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert con.execute("SELECT entry_id, vote FROM votes ORDER BY entry_id").fetchall() == [("entry-a", 1),
                                                                                          ("entry-b", -1)]
    assert con.execute("SELECT text FROM unanswered").fetchall() == [("where is the station in Rome",)]
    con.close()
    # the copy is a working database: the bot (with the same key) reads its settings back
    restored = await Store.open(copy, KEY)
    assert await restored.chat_settings(GROUP) == ChatSettings("zh-Hant", True)
    assert await restored.votes("entry-b") == (0, 1)
    await restored.close()
    await store.close()


async def test_backup_replaces_an_older_copy_and_refuses_nonsense(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    store = await Store.open(db, KEY)
    copy = tmp_path / "copy.sqlite3"
    copy.write_text("an old backup")
    assert main(["backup", str(copy), "--database", str(db)]) == 0
    assert sqlite3.connect(copy).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert main(["backup", str(db), "--database", str(db)]) == 1  # never over the database itself
    assert main(["backup", str(copy), "--database", str(tmp_path / "missing.sqlite3")]) == 2
    assert not (tmp_path / "missing.sqlite3").exists()  # not created by looking
    assert "No database" in capsys.readouterr().err
    await store.close()


# --- upgrades: a database left at each earlier schema version ------------------------------------------------------

Hasher = Callable[[str, int], str]


def rows_at(version: int, _hash: Hasher) -> list[tuple[str, tuple[object, ...]]]:
    """Representative rows as a database at schema ``version`` held them (written with that version's columns;
    ``_hash`` is the store's keyed hash of Telegram ids)."""
    at = "2026-01-09T12:00:00+00:00"
    if version == 1:
        return [
            ("INSERT INTO meta (key, value) VALUES (?, ?)", ("health", at)),
            ("INSERT INTO chat_settings (chat, lang, auto_reply, updated) VALUES (?, ?, ?, ?)",
             (_hash("chat", GROUP), "zh-Hant", 1, at)),
            ("INSERT INTO votes (asker, entry_id, vote, updated) VALUES (?, ?, ?, ?)",
             (_hash("user", USER), "entry-a", 1, at)),
            ("INSERT INTO unanswered (key, text, lang, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
             ("where is the station in rome", "Where is the station in Rome?", "en", 3, at, at)),
            ("INSERT INTO daily_counts (day, entry_id, lang, count) VALUES (?, ?, ?, ?)",
             ("2026-01-09", "entry-a", "en", 4)),
            ("INSERT INTO audit (at, moderator, action, detail) VALUES (?, ?, ?, ?)",
             (at, _hash("user", USER), "reload", "")),
        ]
    raise AssertionError(f"no representative rows for schema {version}: add them when adding migration {version + 1}")


def test_every_earlier_schema_has_representative_rows() -> None:
    for version in range(1, len(MIGRATIONS)):
        assert rows_at(version, lambda kind, value: f"{kind}:{value}")


@pytest.mark.parametrize("version", range(len(MIGRATIONS)))
async def test_a_database_at_an_earlier_schema_is_upgraded_on_open_with_its_data(tmp_path: Path, version: int) -> None:
    hasher = await Store.open(":memory:", KEY)  # the keyed hash the bot uses for ids
    await hasher.close()
    db = tmp_path / "bot.sqlite3"
    con = sqlite3.connect(db)
    for number, script in enumerate(MIGRATIONS[:version], 1):  # as that version of the bot left it
        con.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    if version:
        with con:
            for sql, params in rows_at(version, hasher.hash_id):
                con.execute(sql, params)
    con.close()

    store = await Store.open(db, KEY, clock=Clock())
    await store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()

    store = await Store.open(db, KEY, clock=Clock())  # opened again: nothing to migrate twice
    try:
        if version >= 1:
            assert await store.chat_settings(GROUP) == ChatSettings("zh-Hant", True)
            assert await store.votes("entry-a") == (1, 0)
            (question,) = await store.unanswered(days=30)
            assert (question.text, question.count) == ("Where is the station in Rome?", 3)  # and open again
            assert await store.top_entries(days=30) == [("entry-a", 4)]
        # everything of the latest schema works on the upgraded database
        assert await store.add_phrasings("entry-a", [("is the station in rome real", "en")])
        assert await store.phrasings() == [(1, "entry-a", "is the station in rome real", "en")]
        assert await store.record_unanswered("a new question", "en") is not None
        assert await store.subscribe(1, USER, "en")
        assert await store.take_subscriptions([1]) == [(USER, "en")]
        assert await store.healthy()
    finally:
        await store.close()
