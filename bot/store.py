"""The bot's state in SQLite: the only module that touches the database.

What is kept, and nothing more (``/privacy`` and the README say the same):
- per-chat settings (reply language; in groups also auto-reply), keyed by a keyed hash of the chat id;
- feedback votes: one per asker and entry, the asker as a keyed hash (HMAC-SHA256) whose key is not in the database;
- unanswered questions: the text, its language, how often and when first and last asked, with no asker;
- per-entry and per-language daily counts;
- the moderators' audit log (the moderator as a keyed hash);
- phrasings moderators attached to entries, and answers flagged "not helpful" with the question that led to them;
- "notify me" requests: the chat to notify, encrypted (AES-GCM) with a key derived from the one outside the database,
  deleted once the answer is sent or after the retention period.
Telegram user ids, usernames and names are never written. Rows older than the retention period are deleted by
``expire``. Schema changes are numbered migrations applied at start-up; the database runs in WAL mode.

Writes never take the bot down: a locked, read-only or full database is retried briefly, then the write is dropped
and counted (``dropped``), and answering goes on from memory.

Answering a question touches no disk: every chat's settings are read into memory when the store opens (only chats
that chose something have a row), and the daily counts are added up in memory and written by ``flush_counts``
(the bot calls it every minute and on closing; the statistics call it before they read). A failed flush keeps its
counts for the next one, so a fault delays them and loses none; a crash loses at most the last minute's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.text import clean, fold

#: Whether this SQLite returns rows from an insert (3.35, 2021): an unanswered question's number then comes back
#: with its upsert, in one call to the database's thread instead of three.
RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
_T = TypeVar("_T")

MAX_QUESTION_CHARS = 500  # an unanswered question is kept at most this long

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE chat_settings (
        chat TEXT PRIMARY KEY,
        lang TEXT,
        auto_reply INTEGER NOT NULL DEFAULT 0,
        updated TEXT NOT NULL
    );
    CREATE TABLE votes (
        asker TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        updated TEXT NOT NULL,
        PRIMARY KEY (asker, entry_id)
    );
    CREATE INDEX votes_entry ON votes (entry_id);
    CREATE INDEX votes_updated ON votes (updated);
    CREATE TABLE unanswered (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        lang TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE INDEX unanswered_last_seen ON unanswered (last_seen);
    CREATE TABLE daily_counts (
        day TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, entry_id, lang)
    );
    CREATE TABLE audit (
        at TEXT NOT NULL,
        moderator TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_at ON audit (at);
    """,
    # 2: moderators' tools: phrasings attached to entries, flagged answers, unanswered status, notifications
    """
    ALTER TABLE unanswered ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
    CREATE TABLE phrasings (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        text TEXT NOT NULL,
        lang TEXT NOT NULL,
        added TEXT NOT NULL,
        exported INTEGER NOT NULL DEFAULT 0,
        UNIQUE (entry_id, text)
    );
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        question TEXT NOT NULL,
        lang TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX flags_at ON flags (at);
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        question INTEGER NOT NULL,
        chat BLOB NOT NULL,
        lang TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX subscriptions_question ON subscriptions (question);
    """,
)

UNANSWERED = ""  # the entry id daily counts use for questions that got no answer


@dataclass(frozen=True)
class ChatSettings:
    lang: str | None = None
    auto_reply: bool = False


_DEFAULT_SETTINGS = ChatSettings()


@dataclass(frozen=True)
class Unanswered:
    id: int
    text: str
    lang: str
    count: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class Flag:
    entry_id: str
    question: str
    lang: str
    at: str


@dataclass(frozen=True)
class Stats:
    """Counts over a period, for /stats and ``python -m bot stats``."""

    days: int
    per_day: tuple[tuple[str, int, int], ...]  # (day, questions, answered)
    top_entries: tuple[tuple[str, int], ...]
    languages: tuple[tuple[str, int], ...]
    helpful: int
    not_helpful: int

    @property
    def questions(self) -> int:
        return sum(n for _, n, _ in self.per_day)

    @property
    def answered(self) -> int:
        return sum(a for _, _, a in self.per_day)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_key(database: Path) -> bytes:
    """The hashing key kept beside the database (``<name>.key``), created with owner-only permissions if missing.

    The key is deliberately not inside the database: a copy of the database alone cannot be matched against known
    Telegram ids. Keep the key out of backups that leave the server, or set HASH_KEY instead.
    """
    path = database.with_suffix(".key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class Store:
    """The bot's database. Open it with ``await Store.open(...)``; close it with ``await store.close()``."""

    def __init__(self, db: aiosqlite.Connection, key: bytes, clock: Clock, retries: int, retry_delay: float) -> None:
        self._db = db
        self._key = key
        self._cipher_key = hmac.new(key, b"subscriptions", hashlib.sha256).digest()  # AES-256 key, derived
        self._clock = clock
        self._retries = retries
        self._retry_delay = retry_delay
        self._lock = asyncio.Lock()
        self._settings: dict[str, ChatSettings] = {}  # hashed chat id -> settings, for every chat that chose any
        self._counts: Counter[tuple[str, str, str]] = Counter()  # (day, entry, lang) -> questions not yet written
        self._settings_read = False
        self.dropped = 0  # writes given up after retries (a locked, read-only or full database)
        self._path: Path | None = None
        self._busy_timeout = 0.2
        self._failing = False  # a write was given up: writes now try once each, without waiting for locks

    @classmethod
    async def open(
        cls,
        path: str | Path,
        key: bytes | None = None,
        clock: Clock = _utcnow,
        retries: int = 2,
        retry_delay: float = 0.05,
        busy_timeout: float = 0.2,
    ) -> Store:
        """Open (creating and migrating as needed). ``busy_timeout``: how long one statement waits for a lock;
        short, because answers wait for their write (``_write_many`` keeps a long fault from adding up)."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        key = key or load_key(path)
        db = await _connect(path, busy_timeout)
        store = cls(db, key, clock, retries, retry_delay)
        store._path = None if str(path) == ":memory:" else path
        store._busy_timeout = busy_timeout
        await store._load_settings()
        return store

    async def close(self) -> None:
        await self.flush_counts()
        await self._db.close()

    # --- identities ------------------------------------------------------------------------------------------

    def hash_id(self, kind: str, value: int) -> str:
        """A keyed hash of a Telegram id: stable for this key, useless without it."""
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

    # --- settings ---------------------------------------------------------------------------------------------

    async def chat_settings(self, chat_id: int) -> ChatSettings:
        """The chat's settings, from memory (read on every update)."""
        return self._settings.get(self.hash_id("chat", chat_id), _DEFAULT_SETTINGS)

    async def _load_settings(self) -> None:
        """Read every chat's settings. If the database refuses, chats get the defaults meanwhile and the next
        ``flush_counts`` tries again; what was set in the meantime wins over what is read."""
        rows = await self._read("SELECT chat, lang, auto_reply FROM chat_settings", ())
        if rows is None:
            log.error("chat settings could not be read: the defaults apply until they can be")
            return
        read = {r[0]: ChatSettings(r[1], bool(r[2])) for r in rows}
        self._settings = {c: v for c, v in read.items() if v != _DEFAULT_SETTINGS} | self._settings
        self._settings_read = True

    def _remember_settings(self, chat: str, settings: ChatSettings | None) -> None:
        if settings is None or settings == _DEFAULT_SETTINGS:
            self._settings.pop(chat, None)
        else:
            self._settings[chat] = settings

    async def set_chat_settings(self, chat_id: int, settings: ChatSettings) -> bool:
        # memory first: the chat gets its setting even if the disk refuses
        self._remember_settings(self.hash_id("chat", chat_id), settings)
        return await self._write(
            "INSERT INTO chat_settings (chat, lang, auto_reply, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (chat) DO UPDATE SET lang = excluded.lang, auto_reply = excluded.auto_reply, "
            "updated = excluded.updated",
            (self.hash_id("chat", chat_id), settings.lang, int(settings.auto_reply), self._now()),
        )

    async def forget_chat(self, chat_id: int) -> bool:
        """Delete a chat's settings (the bot left the group, or an asker ran /forget)."""
        chat = self.hash_id("chat", chat_id)
        self._remember_settings(chat, None)
        return await self._write("DELETE FROM chat_settings WHERE chat = ?", (chat,))

    async def move_chat(self, old_id: int, new_id: int) -> bool:
        """Carry a group's settings over to its new id (a group that became a supergroup)."""
        old, new = self.hash_id("chat", old_id), self.hash_id("chat", new_id)
        moved = self._settings.pop(old, None)
        if moved is not None:
            self._settings[new] = moved
        return await self._write("UPDATE OR REPLACE chat_settings SET chat = ? WHERE chat = ?", (new, old))

    # --- feedback ---------------------------------------------------------------------------------------------

    async def vote(self, user_id: int, entry_id: str, helpful: bool) -> bool:
        """Record or change this asker's vote on an entry (one per asker and entry)."""
        return await self._write(
            "INSERT INTO votes (asker, entry_id, vote, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (asker, entry_id) DO UPDATE SET vote = excluded.vote, updated = excluded.updated",
            (self.hash_id("user", user_id), entry_id, 1 if helpful else -1, self._now()),
        )

    async def votes(self, entry_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes on an entry."""
        row = await self._read(
            "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes WHERE entry_id = ?",
            (entry_id,),
            one=True,
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def forget_user(self, user_id: int) -> bool:
        """Delete everything tied to this asker: votes, their private chat's settings, notification requests."""
        asker = self.hash_id("user", user_id)
        ok = await self._write("DELETE FROM votes WHERE asker = ?", (asker,))
        rows = await self._read("SELECT id, chat FROM subscriptions", ()) or []
        mine = [r[0] for r in rows if self._open(r[1]) == user_id]  # a private chat's id is the user's id
        if mine:
            ok = await self._write(f"DELETE FROM subscriptions WHERE id IN ({','.join('?' * len(mine))})",
                                   tuple(mine)) and ok
        return await self.forget_chat(user_id) and ok

    # --- questions --------------------------------------------------------------------------------------------

    async def record_unanswered(self, question: str, lang: str) -> int | None:
        """Count a question nobody could answer (its text and language only; never who asked).

        Returns the question's number (for "notify me"), or None when nothing was recorded.
        """
        text = clean(question, MAX_QUESTION_CHARS)
        key = fold(text)[:MAX_QUESTION_CHARS]
        if not key:
            return None
        now = self._now()
        upsert = ("INSERT INTO unanswered (key, text, lang, count, first_seen, last_seen) VALUES (?, ?, ?, 1, ?, ?) "
                  "ON CONFLICT (key) DO UPDATE SET count = count + 1, last_seen = excluded.last_seen, status = 'open'")
        if not RETURNING:  # an SQLite older than 3.35: the number takes a query of its own
            if not await self._write(upsert, (key, text, lang, now, now)):
                return None
            row = await self._read("SELECT rowid FROM unanswered WHERE key = ?", (key,), one=True)
            return int(row[0]) if row else None
        returned: list[Any] = []
        ok = await self._write_many([(upsert + " RETURNING rowid", (key, text, lang, now, now))], returned)
        return int(returned[0][0]) if ok and returned else None

    async def unanswered(self, days: int = 7, limit: int = 200, status: str = "open") -> list[Unanswered]:
        since = (self._clock() - dt.timedelta(days=days)).isoformat()
        rows = await self._read(
            "SELECT rowid, text, lang, count, first_seen, last_seen FROM unanswered WHERE last_seen >= ? "
            "AND status = ? ORDER BY count DESC, last_seen DESC LIMIT ?",
            (since, status, limit),
        )
        return [Unanswered(*r) for r in rows or ()]

    async def unanswered_by_id(self, ids: list[int]) -> list[Unanswered]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self._read(
            f"SELECT rowid, text, lang, count, first_seen, last_seen FROM unanswered WHERE rowid IN ({marks})",
            tuple(ids),
        )
        return [Unanswered(*r) for r in rows or ()]

    async def close_unanswered(self, ids: list[int], status: str) -> bool:
        """Mark questions as attached to an entry, or dismissed: they leave /unanswered."""
        marks = ",".join("?" * len(ids))
        return await self._write(f"UPDATE unanswered SET status = ? WHERE rowid IN ({marks})", (status, *ids))

    def count_question(self, entry_id: str | None, lang: str) -> None:
        """Add one to today's count for an entry (or for unanswered questions) in a language, in memory until the
        next ``flush_counts``."""
        self._counts[(self._clock().date().isoformat(), entry_id or UNANSWERED, lang)] += 1

    async def flush_counts(self) -> bool:
        """Write the counts added up since the last flush, in one transaction. If the write fails they stay in
        memory and go with the next flush. (It also reads the chats' settings again if they could not be read.)"""
        if not self._settings_read:
            await self._load_settings()
        if not self._counts:
            return True
        pending, self._counts = self._counts, Counter()
        ok = await self._write_many([
            ("INSERT INTO daily_counts (day, entry_id, lang, count) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (day, entry_id, lang) DO UPDATE SET count = count + excluded.count", (*key, n))
            for key, n in sorted(pending.items())
        ])
        if not ok:
            self._counts.update(pending)
        return ok

    async def top_entries(self, days: int = 30, limit: int = 10) -> list[tuple[str, int]]:
        await self.flush_counts()
        since = (self._clock().date() - dt.timedelta(days=days)).isoformat()
        rows = await self._read(
            "SELECT entry_id, SUM(count) AS n FROM daily_counts WHERE day >= ? AND entry_id != ? "
            "GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
            (since, UNANSWERED, limit),
        )
        return [(r[0], int(r[1])) for r in rows or ()]

    # --- flagged answers -------------------------------------------------------------------------------------

    async def flag(self, entry_id: str, question: str, lang: str) -> bool:
        """An answer marked "not helpful", with the question that led to it (never who asked)."""
        return await self._write(
            "INSERT INTO flags (entry_id, question, lang, at) VALUES (?, ?, ?, ?)",
            (entry_id, clean(question, MAX_QUESTION_CHARS), lang, self._now()),
        )

    async def flags(self, days: int = 30, limit: int = 100) -> list[Flag]:
        since = (self._clock() - dt.timedelta(days=days)).isoformat()
        rows = await self._read(
            "SELECT entry_id, question, lang, at FROM flags WHERE at >= ? ORDER BY at DESC LIMIT ?", (since, limit)
        )
        return [Flag(*r) for r in rows or ()]

    # --- phrasings added by moderators ------------------------------------------------------------------------

    async def add_phrasings(self, entry_id: str, texts: list[tuple[str, str]]) -> bool:
        """Attach question phrasings ``(text, lang)`` to an entry; they take effect in the matcher at once."""
        now = self._now()
        return await self._write_many(
            [
                ("INSERT OR IGNORE INTO phrasings (entry_id, text, lang, added) VALUES (?, ?, ?, ?)",
                 (entry_id, clean(text, MAX_QUESTION_CHARS), lang, now))
                for text, lang in texts
            ]
        )

    async def phrasings(self, include_exported: bool = True) -> list[tuple[int, str, str, str]]:
        """(id, entry id, text, lang) of every attached phrasing."""
        rows = await self._read(
            "SELECT id, entry_id, text, lang FROM phrasings"
            + ("" if include_exported else " WHERE exported = 0")
            + " ORDER BY id",
            (),
        )
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows or ()]

    async def mark_exported(self, ids: list[int]) -> bool:
        marks = ",".join("?" * len(ids))
        return await self._write(f"UPDATE phrasings SET exported = 1 WHERE id IN ({marks})", tuple(ids))

    # --- notifications ----------------------------------------------------------------------------------------

    async def subscribe(self, question_id: int, chat_id: int, lang: str) -> bool:
        """Remember to send the answer to this chat once a moderator answers the question. The chat id is
        encrypted with the key kept outside the database, and deleted once used or after the retention period.
        False, and nothing stored, when there is no such open question (a stale or forged button)."""
        found = await self._read("SELECT 1 FROM unanswered WHERE rowid = ? AND status = 'open'", (question_id,),
                                 one=True)
        if not found:
            return False
        return await self._write(
            "INSERT INTO subscriptions (question, chat, lang, created) VALUES (?, ?, ?, ?)",
            (question_id, self._seal(chat_id), lang, self._now()),
        )

    async def take_subscriptions(self, question_ids: list[int]) -> list[tuple[int, str]]:
        """The (chat id, language) waiting for these questions; they are deleted as they are handed out."""
        if not question_ids:
            return []
        marks = ",".join("?" * len(question_ids))
        rows = await self._read(
            f"SELECT id, chat, lang FROM subscriptions WHERE question IN ({marks})", tuple(question_ids)
        )
        if not rows:
            return []
        await self._write(f"DELETE FROM subscriptions WHERE id IN ({','.join('?' * len(rows))})",
                          tuple(r[0] for r in rows))
        out = []
        for _, sealed, lang in rows:
            chat = self._open(sealed)
            if chat is not None:
                out.append((chat, lang))
        return out

    def _seal(self, value: int) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self._cipher_key).encrypt(nonce, str(value).encode(), b"chat")

    def _open(self, sealed: bytes) -> int | None:
        try:
            return int(AESGCM(self._cipher_key).decrypt(sealed[:12], sealed[12:], b"chat"))
        except (InvalidTag, ValueError):
            return None  # sealed under another key: useless, and dropped

    # --- statistics -------------------------------------------------------------------------------------------

    async def stats(self, days: int) -> Stats:
        await self.flush_counts()
        since = (self._clock().date() - dt.timedelta(days=days - 1)).isoformat()
        per_day = await self._read(
            "SELECT day, SUM(count), SUM(CASE WHEN entry_id != ? THEN count ELSE 0 END) FROM daily_counts "
            "WHERE day >= ? GROUP BY day ORDER BY day",
            (UNANSWERED, since),
        )
        langs = await self._read(
            "SELECT lang, SUM(count) AS n FROM daily_counts WHERE day >= ? GROUP BY lang ORDER BY n DESC", (since,)
        )
        votes = await self._read(
            "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes WHERE updated >= ?",
            (since,),
            one=True,
        )
        return Stats(
            days,
            tuple((r[0], int(r[1]), int(r[2])) for r in per_day or ()),
            tuple(await self.top_entries(days=days)),
            tuple((r[0], int(r[1])) for r in langs or ()),
            int(votes[0]) if votes else 0,
            int(votes[1]) if votes else 0,
        )

    # --- moderators -------------------------------------------------------------------------------------------

    async def audit(self, moderator_id: int, action: str, detail: str = "") -> bool:
        return await self._write(
            "INSERT INTO audit (at, moderator, action, detail) VALUES (?, ?, ?, ?)",
            (self._now(), self.hash_id("user", moderator_id), action, detail[:500]),
        )

    # --- housekeeping -----------------------------------------------------------------------------------------

    async def expire(self, retention_days: int) -> bool:
        """Delete rows older than the retention period."""
        await self.flush_counts()  # so that old counts still in memory go too
        cutoff = self._clock() - dt.timedelta(days=retention_days)
        stamp, day = cutoff.isoformat(), cutoff.date().isoformat()
        ok = await self._write_many(
            [
                ("DELETE FROM votes WHERE updated < ?", (stamp,)),
                ("DELETE FROM unanswered WHERE last_seen < ?", (stamp,)),
                ("DELETE FROM daily_counts WHERE day < ?", (day,)),
                ("DELETE FROM audit WHERE at < ?", (stamp,)),
                ("DELETE FROM flags WHERE at < ?", (stamp,)),
                ("DELETE FROM subscriptions WHERE created < ?", (stamp,)),
                ("DELETE FROM chat_settings WHERE updated < ? AND auto_reply = 0 AND lang IS NULL", (stamp,)),
            ]
        )
        return ok  # the rows it deletes hold default settings, which memory does not keep

    async def healthy(self) -> bool:
        """The database answers and accepts a write."""
        return await self._write(
            "INSERT INTO meta (key, value) VALUES ('health', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (self._now(),),
        )

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _now(self) -> str:
        return self._clock().isoformat()

    async def _read(self, sql: str, params: tuple[Any, ...], one: bool = False) -> Any:
        try:
            async with self._db.execute(sql, params) as cursor:
                return await (cursor.fetchone() if one else cursor.fetchall())
        except sqlite3.Error as exc:
            log.warning("database read failed: %s", type(exc).__name__)
            return None

    async def _write(self, sql: str, params: tuple[Any, ...]) -> bool:
        return await self._write_many([(sql, params)])

    async def _write_many(
        self, statements: list[tuple[str, tuple[Any, ...]]], returned: list[Any] | None = None
    ) -> bool:
        """Write in one transaction. While the database is failing (a write was just given up), each write makes
        one attempt that does not wait for locks, so answers never queue behind a broken database; the first write
        that succeeds ends the fault. ``returned`` receives the last statement's rows (``RETURNING``), read in the
        same call to the database's thread as the statement runs."""
        await self._reopen_if_gone()
        probe = self._failing

        async def transaction() -> None:
            async with self._lock:
                if self._failing and not probe:  # it failed while this write waited for the lock
                    raise sqlite3.OperationalError("the database is failing")
                if probe:  # a probe does not wait for a lock: it fails at once or succeeds
                    await self._db.execute("PRAGMA busy_timeout = 0")
                try:
                    for n, (sql, params) in enumerate(statements, 1):
                        if returned is not None and n == len(statements):
                            returned[:] = await self._db.execute_fetchall(sql, params)
                        else:
                            await self._db.execute(sql, params)
                    await self._db.commit()
                except BaseException:
                    await self._db.rollback()
                    raise
                finally:
                    if probe:
                        await self._db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

        ok = await self._retrying(transaction, retries=0 if probe else self._retries)
        if ok and self._failing:
            self._failing = False
            log.warning("database writes work again (%d dropped during the fault)", self.dropped)
        elif not ok:
            self._failing = True
        return ok

    async def _retrying(self, action: Callable[[], Awaitable[_T]], retries: int) -> bool:
        for attempt in range(retries + 1):
            try:
                await action()
                return True
            except sqlite3.Error as exc:
                if attempt == retries:
                    self.dropped += 1
                    if not self._failing or retries == 0:
                        log.error("database write dropped after %d tries: %s (%d dropped so far)",
                                  attempt + 1, type(exc).__name__, self.dropped)
                    return False
                await asyncio.sleep(self._retry_delay * (2**attempt))
        return False

    async def _reopen_if_gone(self) -> None:
        """If the database file was deleted under the open connection (writes would vanish with it), start a new
        one at the same path, so what is written from now on survives a restart."""
        if self._path is None or self._path.exists():
            return
        async with self._lock:
            if self._path.exists():
                return
            log.error("the database file disappeared; starting a new, empty one at the same path")
            with contextlib.suppress(sqlite3.Error):
                await self._db.close()
            self._db = await _connect(self._path, self._busy_timeout)
            self._settings.clear()  # the new database has none


def backup(database: str | Path, target: str | Path) -> int:
    """Copy the database to ``target`` with SQLite's online backup API; returns the copy's schema version.

    Safe while the bot runs: the copy is one consistent snapshot that includes what is still in the write-ahead log
    (a plain file copy would miss it, or catch a page half-written). The copy is a single self-contained file
    (rollback journal, not WAL), readable by the owner only, checked with ``PRAGMA integrity_check`` and moved into
    place atomically, so ``target`` is never a partial copy. The hashing key is not in it (see ``load_key``).
    """
    database, target = Path(database), Path(target)
    if target.exists() and target.resolve() == database.resolve():
        raise ValueError("the backup must not overwrite the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
        try:
            copy = sqlite3.connect(tmp)
            try:
                source.backup(copy)  # all pages in one step: one snapshot, whatever writers do meanwhile
                copy.execute("PRAGMA journal_mode=DELETE")
                check = copy.execute("PRAGMA integrity_check").fetchone()[0]
                version = int(copy.execute("PRAGMA user_version").fetchone()[0])
            finally:
                copy.close()
        finally:
            source.close()
        if check != "ok":
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return version


async def _connect(path: Path, busy_timeout: float) -> aiosqlite.Connection:
    db = await aiosqlite.connect(str(path), timeout=busy_timeout)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await migrate(db)
    except BaseException:
        await db.close()
        raise
    return db


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply the migrations this database has not had yet; returns the schema version."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    for number, script in enumerate(MIGRATIONS[version:], version + 1):
        await db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
        log.info("database migrated to schema %d", number)
    return len(MIGRATIONS)
