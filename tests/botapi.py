"""A local stand-in for the Telegram Bot API, for end-to-end tests of the bot.

The server runs in a background thread on 127.0.0.1 (free port), so it works with any event
loop. Point python-telegram-bot at it with ``ApplicationBuilder().base_url(api.base_url)
.base_file_url(api.base_file_url)`` (or ``Bot(token, base_url=..., base_file_url=...)``).

Typical use::

    with BotAPI() as api:                 # or: async with BotAPI() as api
        ...start an Application polling with timeout=1...
        api.push(api.private_message(42, "/start"))
        reply = await api.wait_for_async(method="sendMessage", chat_id=42)
        assert "Welcome" in reply.text

Request bodies are decoded the way PTB 22 encodes them (``telegram/request/_requestparameter.py``):
form-encoded or multipart fields whose non-string values are JSON strings. JSON bodies and
query strings are accepted as well. Everything the bot calls (except ``getUpdates``) is kept in
``api.calls`` as :class:`Record` objects; ``sent()`` filters them and ``wait_for()`` /
``wait_for_async()`` wait for one.

Deliberate leniency (set ``strict=True`` to get Telegram's errors instead): unknown chats are
synthesised rather than answered with "chat not found", and editing/deleting a message the
stand-in never saw succeeds instead of failing with "message to edit not found". MarkdownV2 is
not validated; HTML is (tags, attributes, balance, stray ``<``), and a bare ``&`` is accepted
like Telegram does. Text length limits count Unicode code points after entity parsing.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html.parser
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_USERNAME",
    "DEFAULT_BOT_ID",
    "BotAPI",
    "Record",
    "UploadedFile",
    "compute_entities",
    "parse_html",
]

BOT_USERNAME = "factcheck_test_bot"
BOT_FIRST_NAME = "Fact Check Bot"
DEFAULT_BOT_ID = 123  # matches the token "123:TEST"
TELEGRAM_SERVICE_USER = {"id": 777000, "is_bot": False, "first_name": "Telegram"}

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER_LENGTH = 200

# Update types Telegram leaves out unless they are asked for via allowed_updates.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Parameters whose values are plain strings even when they look like JSON ("123", "true").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "language_code",
        "description",
        "short_description",
        "name",
        "emoji",
        "action",
        "message_effect_id",
        "business_connection_id",
        "file_id",
        "title",
        "secret_token",
        "ip_address",
        "photo",
        "document",
        "certificate",
        "thumbnail",
        "cache_key",
    }
)

_ALLOWED_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "blockquote",
        "span",
        "tg-emoji",
    }
)

_MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})


class _APIError(Exception):
    """A Telegram error response."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str, parameters: dict[str, Any] | None = None) -> _APIError:
    return _APIError(400, f"Bad Request: {detail}", parameters)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Record:
    """One Bot API call made by the bot (``getUpdates`` is not recorded)."""

    method: str
    params: dict[str, Any]
    timestamp: float
    ok: bool = True
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | str | None:
        return _norm_chat_id(self.params.get("chat_id"))

    @property
    def text(self) -> str | None:
        """The raw ``text`` (or ``caption``) parameter as sent, markup included."""
        value = self.params.get("text", self.params.get("caption"))
        return None if value is None else str(value)

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    @property
    def callback_data(self) -> list[str]:
        """All callback_data values of the inline keyboard, row by row."""
        markup = self.reply_markup or {}
        return [
            button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
            if isinstance(button, dict) and "callback_data" in button
        ]


@dataclass
class _Fault:
    method: str
    error_code: int | None
    description: str | None
    parameters: dict[str, Any] | None
    delay: float
    remaining: int | None
    chat_id: int | str | None


# ----------------------------------------------------------------------------------------------
# helpers


def _norm_chat_id(value: Any) -> int | str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_value(name: str, value: str) -> Any:
    """Undo PTB's encoding: non-string values are sent as JSON strings."""
    if name in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "[", '"', "-") or stripped[:1].isdigit() or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _parse_multipart(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], dict[str, UploadedFile]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad_request("invalid multipart body")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, sep, val = line.partition(":")
            if sep:
                headers[key.strip().lower()] = val.strip()
        disposition = headers.get("content-disposition", "")
        params = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', disposition))
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            files[name] = UploadedFile(name, params["filename"], headers.get("content-type"), data)
        else:
            fields.append((name, data.decode("utf-8", "replace")))
    return fields, files


def compute_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram attaches to an incoming text: bot_command, mention, url (UTF-16 offsets)."""
    spans: list[tuple[int, int, str]] = []
    for m in re.finditer(r"(?:(?<=\s)|^)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])", text):
        spans.append((m.start(), m.end(), "bot_command"))
    for m in re.finditer(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?!\w)", text):
        spans.append((m.start(), m.end(), "mention"))
    for m in re.finditer(r"\bhttps?://[^\s<>\"]+", text):
        end = m.end()
        while end > m.start() and text[end - 1] in ".,;:!?)]'":
            end -= 1
        spans.append((m.start(), end, "url"))
    spans.sort()
    entities: list[dict[str, Any]] = []
    last_end = -1
    for start, end, kind in spans:
        if start < last_end:
            continue
        offset = _utf16_len(text[:start])
        entities.append({"type": kind, "offset": offset, "length": _utf16_len(text[start:end])})
        last_end = end
    return entities


class _HTMLError(Exception):
    pass


class _TelegramHTML(html.parser.HTMLParser):
    """Validates Telegram's HTML subset and extracts the plain text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.stack: list[str] = []
        self.out: list[str] = []
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(source) if ch == "\n"]

    def _offset(self) -> int:
        line, col = self.getpos()
        index = self._line_starts[line - 1] + col
        return len(self.source[:index].encode("utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_HTML_TAGS:
            raise _HTMLError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _HTMLError(f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}')
        if tag == "tg-emoji" and not attributes.get("emoji-id"):
            raise _HTMLError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {self._offset()}')
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _HTMLError(f'Unsupported start tag "{tag}/" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _HTMLError(f'Unexpected end tag "{tag}" at byte offset {self._offset()}')
        expected = self.stack.pop()
        if expected != tag:
            raise _HTMLError(
                f'Unmatched end tag at byte offset {self._offset()}, expected "</{expected}>", found "</{tag}>"'
            )

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise _HTMLError(f"Unexpected end of name token at byte offset {self._offset() + data.index('<')}")
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name, f"&{name}"))

    def handle_charref(self, name: str) -> None:
        try:
            self.out.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))
        except (ValueError, OverflowError) as exc:
            raise _HTMLError(f"Invalid character reference at byte offset {self._offset()}") from exc

    def handle_comment(self, data: str) -> None:
        raise _HTMLError(f'Unsupported start tag "!--" at byte offset {self._offset()}')

    def handle_decl(self, decl: str) -> None:
        raise _HTMLError(f'Unsupported start tag "!" at byte offset {self._offset()}')

    def handle_pi(self, data: str) -> None:
        raise _HTMLError(f'Unsupported start tag "?" at byte offset {self._offset()}')

    def unknown_decl(self, data: str) -> None:
        raise _HTMLError(f'Unsupported start tag "!" at byte offset {self._offset()}')


def parse_html(text: str) -> str:
    """Validate Telegram HTML and return the plain text.

    Raises ``ValueError`` with Telegram's wording (the part after "can't parse entities: ").
    """
    parser = _TelegramHTML(text)
    try:
        parser.feed(text)
        parser.close()
    except _HTMLError as exc:
        raise ValueError(str(exc)) from None
    if parser.stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    return "".join(parser.out)


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    if status not in _MEMBER_STATUSES:
        raise ValueError(f"unknown chat member status {status!r}; use one of {sorted(_MEMBER_STATUSES)}")
    member: dict[str, Any] = {"status": status, "user": copy.deepcopy(user)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
        )
    elif status == "restricted":
        member.update(
            is_member=True,
            until_date=0,
            can_send_messages=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_manage_topics=False,
            can_edit_tag=False,
            can_react_to_messages=False,
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


# ----------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api: BotAPI) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave in one segment (no Nagle/delayed-ACK stalls)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        try:
            body = self._read_body()
            status, content_type, payload = self.server.api._handle_http(
                self.path, self.headers.get("Content-Type", ""), body
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True


# ----------------------------------------------------------------------------------------------
# the stand-in


class BotAPI:
    """In-process fake of the Telegram Bot API server.

    Args:
        token: if given, only this token is accepted (others get 401 Unauthorized) and the bot id
            is taken from it; by default every token is accepted.
        bot_id / username / first_name: the bot user returned by getMe and used as ``from``.
        strict: answer unknown chats/messages/query ids with Telegram's errors instead of
            synthesising them.
        max_poll_timeout: upper bound (seconds) for how long getUpdates long-polls.
        default_member_status: getChatMember status for pairs not in :attr:`members`.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_id: int | None = None,
        username: str = BOT_USERNAME,
        first_name: str = BOT_FIRST_NAME,
        strict: bool = False,
        max_poll_timeout: float = 10.0,
        default_member_status: str = "member",
    ) -> None:
        if bot_id is None:
            prefix = (token or "").split(":", 1)[0]
            bot_id = int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID
        self.token = token
        self.strict = strict
        self.max_poll_timeout = max_poll_timeout
        self.default_member_status = default_member_status
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._cond = threading.Condition(threading.RLock())
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._methods: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]]] = {}
        for attr in dir(self):
            if attr.startswith("_m_"):
                name = attr[3:]
                self._methods[name.lower()] = (name, getattr(self, attr))
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving (idempotent); returns ``self``."""
        if self._server is not None:
            return self
        self._closing.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="BotAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake long polls and drop open connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            connections = list(server.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=2)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("BotAPI is not running; use start() or a with-block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends ``<TOKEN>/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def reset(self) -> None:
        """Forget all calls, updates, faults, messages, chats, commands and member statuses."""
        with self._cond:
            self.calls: list[Record] = []
            self.members: dict[tuple[int, int], str] = {}
            self.menu_buttons: dict[int | None, dict[str, Any]] = {}
            self.bot_texts: dict[tuple[str, str], str] = {}
            self._updates: list[dict[str, Any]] = []
            self._next_update_id = 1
            self._faults: list[_Fault] = []
            self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
            self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
            self._message_ids: dict[int | str, int] = {}
            self._chats: dict[int | str, dict[str, Any]] = {}
            self._users: dict[int, dict[str, Any]] = {}
            self._files: dict[str, dict[str, Any]] = {}
            self._callback_ids: set[str] = set()
            self._inline_ids: set[str] = set()
            self._answered: set[str] = set()
            self._allowed_updates: list[str] | None = None
            self._webhook_url = ""
            self._poll_generation = 0
            self.polls = 0

    # -- inspecting what the bot did -----------------------------------------------------------

    def sent(
        self, method: str | None = None, chat_id: int | str | None = None, *, include_failed: bool = False
    ) -> list[Record]:
        """Recorded calls, optionally filtered by method name and chat_id (successful ones only by default)."""
        with self._cond:
            return [r for r in self.calls if self._matches(r, None, method, chat_id, include_failed)]

    def mark(self) -> int:
        """Current number of records; pass it as ``after=`` to wait only for newer calls."""
        with self._cond:
            return len(self.calls)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """The command list currently set for a scope/language (as setMyCommands stored it)."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current state of a message the stand-in knows (sent by the bot or injected)."""
        with self._cond:
            msg = self._messages.get((_norm_chat_id(chat_id), message_id))  # type: ignore[arg-type]
            return copy.deepcopy(msg)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._updates)

    @staticmethod
    def _matches(
        record: Record,
        predicate: Callable[[Record], bool] | None,
        method: str | None,
        chat_id: int | str | None,
        include_failed: bool,
    ) -> bool:
        if not include_failed and not record.ok:
            return False
        if method is not None and record.method.lower() != method.lower():
            return False
        if chat_id is not None and record.chat_id != _norm_chat_id(chat_id):
            return False
        return predicate is None or bool(predicate(record))

    def _find(self, predicate, method, chat_id, after, include_failed) -> Record | None:  # type: ignore[no-untyped-def]
        for record in self.calls[after:]:
            if self._matches(record, predicate, method, chat_id, include_failed):
                return record
        return None

    def _timeout_error(self, timeout: float, method: str | None, chat_id: Any, after: int) -> TimeoutError:
        recent = ", ".join(
            f"{r.method}(chat_id={r.chat_id!r}{', FAILED' if not r.ok else ''})" for r in self.calls[after:][-10:]
        )
        return TimeoutError(
            f"no matching Bot API call within {timeout}s (method={method!r}, chat_id={chat_id!r}); "
            f"calls since mark {after}: [{recent}]"
        )

    def wait_for(
        self,
        predicate: Callable[[Record], bool] | None = None,
        timeout: float = 5.0,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        after: int = 0,
        include_failed: bool = False,
    ) -> Record:
        """Block until a matching record exists (among ``calls[after:]``) and return it.

        Thread-safe. Do not call it from a coroutine running in the bot's event loop (that would
        block the bot): use :meth:`wait_for_async` there; this raises RuntimeError in that case.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("BotAPI.wait_for() would block the running event loop; use `await api.wait_for_async()`")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._find(predicate, method, chat_id, after, include_failed)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(timeout, method, chat_id, after)
                self._cond.wait(remaining)

    async def wait_for_async(
        self,
        predicate: Callable[[Record], bool] | None = None,
        timeout: float = 5.0,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        after: int = 0,
        include_failed: bool = False,
    ) -> Record:
        """Like :meth:`wait_for` but awaitable, so the bot keeps running in the same loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                found = self._find(predicate, method, chat_id, after, include_failed)
                if found is not None:
                    return found
                if time.monotonic() >= deadline:
                    raise self._timeout_error(timeout, method, chat_id, after)
            await asyncio.sleep(0.005)

    # -- errors on demand ----------------------------------------------------------------------

    def fail(
        self,
        method: str,
        error_code: int = 400,
        description: str = "Bad Request: something went wrong",
        *,
        times: int | None = 1,
        parameters: dict[str, Any] | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any but getUpdates; ``times=None``:
        until :meth:`clear_faults`) fail with this error, optionally only for one ``chat_id``."""
        self._add_fault(_Fault(method, error_code, description, parameters, 0.0, times, _norm_chat_id(chat_id)))

    def fail_retry_after(
        self, method: str, retry_after: int = 1, *, times: int | None = 1, chat_id: int | str | None = None
    ) -> None:
        """429 Too Many Requests with ``parameters.retry_after`` (PTB raises RetryAfter)."""
        self.fail(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            times=times,
            parameters={"retry_after": retry_after},
            chat_id=chat_id,
        )

    def fail_blocked(
        self, method: str = "sendMessage", *, times: int | None = 1, chat_id: int | str | None = None
    ) -> None:
        """403 Forbidden: bot was blocked by the user (PTB raises Forbidden)."""
        self.fail(method, 403, "Forbidden: bot was blocked by the user", times=times, chat_id=chat_id)

    def fail_edit_not_found(
        self, method: str = "editMessageText", *, times: int | None = 1, chat_id: int | str | None = None
    ) -> None:
        """400 Bad Request: message to edit not found."""
        self.fail(method, 400, "Bad Request: message to edit not found", times=times, chat_id=chat_id)

    def fail_migrated(
        self, method: str, migrate_to_chat_id: int, *, times: int | None = 1, chat_id: int | str | None = None
    ) -> None:
        """400 with ``parameters.migrate_to_chat_id`` (PTB raises ChatMigrated)."""
        self.fail(
            method,
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            times=times,
            parameters={"migrate_to_chat_id": migrate_to_chat_id},
            chat_id=chat_id,
        )

    def delay(self, method: str, seconds: float, *, times: int | None = 1, chat_id: int | str | None = None) -> None:
        """Sleep ``seconds`` before answering the next ``times`` calls (then answer normally, as
        Telegram would: the call takes effect even if the client has timed out by then)."""
        self._add_fault(_Fault(method, None, None, None, seconds, times, _norm_chat_id(chat_id)))

    def clear_faults(self, method: str | None = None) -> None:
        with self._cond:
            self._faults = [f for f in self._faults if method is not None and f.method.lower() != method.lower()]

    def _add_fault(self, fault: _Fault) -> None:
        if fault.method != "*" and fault.method.lower() not in self._methods:
            raise ValueError(f"BotAPI does not implement {fault.method!r}")
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be >= 1 or None")
        with self._cond:
            self._faults.append(fault)

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        chat_id = _norm_chat_id(params.get("chat_id"))
        for fault in self._faults:
            if fault.method == "*" and method == "getUpdates":
                continue
            if fault.method != "*" and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
            return fault
        return None

    # -- chat member table -----------------------------------------------------------------------

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Status getChatMember reports: creator/administrator/member/restricted/left/kicked."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        with self._cond:
            self.members[(int(chat_id), int(user_id))] = status

    # -- files -----------------------------------------------------------------------------------

    def add_file(self, data: bytes, *, kind: str = "photos", file_name: str | None = None) -> str:
        """Register downloadable content; returns its file_id (getFile + base_file_url serve it)."""
        with self._cond:
            n = next(self._ids)
            file_id = f"AgAC{n:06d}TESTFILE"
            ext = (file_name or "").rsplit(".", 1)[-1] if file_name and "." in file_name else "jpg"
            self._files[file_id] = {
                "file_id": file_id,
                "file_unique_id": f"AQAD{n:06d}",
                "file_size": len(data),
                "file_path": f"{kind}/file_{n}.{ext}",
                "data": bytes(data),
            }
            return file_id

    # -- update builders -------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates, assigning the next update_id; returns the queued update."""
        if not isinstance(update, dict):
            raise TypeError("push() expects an update dict from one of the builders")
        with self._cond:
            queued = copy.deepcopy(update)
            queued.pop("update_id", None)
            queued = {"update_id": self._next_update_id, **queued}
            self._next_update_id += 1
            self._updates.append(queued)
            self._cond.notify_all()
            return copy.deepcopy(queued)

    def user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """Register/update a user (remembered for getChatMember and later builders); returns its dict.

        Arguments left as None keep what is known about the user (new users: first_name "Tester",
        language_code "en"); pass "" to omit an optional field.
        """
        with self._cond:
            known = self._users.get(user_id)
            if known is None:
                known = {"first_name": "Tester", "language_code": "en"}
            user: dict[str, Any] = {
                "id": user_id,
                "is_bot": is_bot,
                "first_name": first_name or known.get("first_name") or "Tester",
            }
            for key, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
                value = value if value is not None else known.get(key)
                if value:
                    user[key] = value
            self._users[user_id] = user
            return copy.deepcopy(user)

    def chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Register/update a group, supergroup or channel chat; returns its dict."""
        with self._cond:
            known = self._chats.get(chat_id, {})
            kind = chat_type or known.get("type") or ("supergroup" if chat_id < 0 else "private")
            if kind == "private":
                user = self._users.get(chat_id) or self.user(chat_id)
                chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
                for key in ("last_name", "username"):
                    if key in user:
                        chat[key] = user[key]
            else:
                chat = {"id": chat_id, "type": kind, "title": title or known.get("title") or "Test Group"}
                name = username or known.get("username")
                if name:
                    chat["username"] = name
            self._chats[chat_id] = chat
            return copy.deepcopy(chat)

    def private_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        forward_from_name: str | None = None,
        forward_from_chat: dict[str, Any] | None = None,
        caption: str | None = None,
        photo: bool | bytes = False,
        sticker: str | bool | None = None,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update in the private chat with ``user_id``.

        ``forward_from_name`` makes it a forward from a user hiding their account;
        ``forward_from_chat`` (a chat dict, e.g. from :meth:`chat`) a forward from a channel.
        ``photo=True`` (or bytes) / ``sticker="😀"`` give media messages; ``caption`` goes with photo.
        Entities (bot_command, mention, url) are computed unless given.
        """
        with self._cond:
            sender = self.user(
                user_id, first_name=first_name, last_name=last_name, username=username, language_code=language_code
            )
            chat = self.chat(user_id, chat_type="private")
            msg = self._incoming(
                chat,
                sender,
                text,
                caption=caption,
                photo=photo,
                sticker=sticker,
                reply_to=reply_to,
                entities=entities,
                forward_from_name=forward_from_name,
                forward_from_chat=forward_from_chat,
            )
            return {"message": msg}

    def group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        reply_to: dict[str, Any] | None = None,
        title: str | None = None,
        chat_type: str = "supergroup",
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        forward_from_name: str | None = None,
        forward_from_chat: dict[str, Any] | None = None,
        caption: str | None = None,
        photo: bool | bytes = False,
        sticker: str | bool | None = None,
        entities: list[dict[str, Any]] | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update from ``user_id`` in group ``chat_id``.

        ``reply_to`` is a message dict (e.g. ``record.result`` of the bot's message or
        ``update["message"]``); entities for /commands and @mentions are computed automatically.
        """
        with self._cond:
            sender = self.user(
                user_id, first_name=first_name, last_name=last_name, username=username, language_code=language_code
            )
            chat = self.chat(chat_id, chat_type=chat_type, title=title)
            msg = self._incoming(
                chat,
                sender,
                text,
                caption=caption,
                photo=photo,
                sticker=sticker,
                reply_to=reply_to,
                entities=entities,
                forward_from_name=forward_from_name,
                forward_from_chat=forward_from_chat,
                message_thread_id=message_thread_id,
            )
            return {"message": msg}

    def channel_post(
        self,
        channel_id: int,
        text: str | None = None,
        *,
        title: str = "Test Channel",
        username: str | None = None,
        caption: str | None = None,
        photo: bool | bytes = False,
    ) -> dict[str, Any]:
        """A ``channel_post`` update (bot is an admin of the channel)."""
        with self._cond:
            channel = self.chat(channel_id, chat_type="channel", title=title, username=username)
            msg = self._incoming(channel, None, text, caption=caption, photo=photo, sender_chat=channel)
            return {"channel_post": msg}

    def automatic_forward(
        self,
        chat_id: int,
        channel_id: int,
        text: str | None = None,
        *,
        channel_title: str = "Test Channel",
        channel_username: str | None = None,
        group_title: str | None = None,
        channel_message_id: int | None = None,
        caption: str | None = None,
        photo: bool | bytes = False,
    ) -> dict[str, Any]:
        """A channel post automatically forwarded into its linked discussion group ``chat_id``:
        ``is_automatic_forward`` true, ``sender_chat`` the channel, ``from`` the Telegram service user."""
        with self._cond:
            channel = self.chat(channel_id, chat_type="channel", title=channel_title, username=channel_username)
            group = self.chat(chat_id, chat_type="supergroup", title=group_title)
            if channel_message_id is None:
                channel_message_id = self._next_message_id(channel_id)
            msg = self._incoming(
                group,
                TELEGRAM_SERVICE_USER,
                text,
                caption=caption,
                photo=photo,
                sender_chat=channel,
                extra={
                    "is_automatic_forward": True,
                    "forward_origin": {
                        "type": "channel",
                        "chat": channel,
                        "message_id": channel_message_id,
                        "date": int(time.time()),
                    },
                },
            )
            return {"message": msg}

    channel_forward = automatic_forward

    def edited_message(
        self, message: dict[str, Any], text: str | None = None, *, caption: str | None = None
    ) -> dict[str, Any]:
        """An ``edited_message`` (or ``edited_channel_post``) update for a message dict or a
        message update returned by a builder, with new text/caption and ``edit_date``."""
        for key in ("message", "channel_post", "edited_message", "edited_channel_post"):
            if isinstance(message.get(key), dict):
                message = message[key]
                break
        with self._cond:
            msg = copy.deepcopy(message)
            if text is not None:
                msg["text"] = text
                msg.pop("entities", None)
                if entities := compute_entities(text):
                    msg["entities"] = entities
            if caption is not None:
                msg["caption"] = caption
                msg.pop("caption_entities", None)
                if entities := compute_entities(caption):
                    msg["caption_entities"] = entities
            msg["edit_date"] = int(time.time())
            self._messages[(msg["chat"]["id"], msg["message_id"])] = copy.deepcopy(msg)
            kind = "edited_channel_post" if msg["chat"].get("type") == "channel" else "edited_message"
            return {kind: msg}

    def callback_query(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        message: dict[str, Any] | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A ``callback_query`` update: ``user_id`` pressed a button with ``data`` on message
        ``message_id`` in ``chat_id``. The message is the one the bot sent (current state) if
        known, else ``message`` or a synthesised bot message."""
        with self._cond:
            sender = self.user(user_id, first_name=first_name, username=username, language_code=language_code)
            key = (chat_id, message_id)
            if message is None:
                message = self._messages.get(key)
            if message is None:
                chat = self._chat_for(chat_id)
                message = {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": copy.deepcopy(self.bot_user),
                    "text": "…",
                }
                self._messages[key] = copy.deepcopy(message)
            query_id = str(4_000_000_000_000_000_000 + next(self._ids))
            self._callback_ids.add(query_id)
            return {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": copy.deepcopy(message),
                    "chat_instance": str(8_000_000_000_000_000_000 + abs(int(chat_id)) % 10**15),
                    "data": data,
                }
            }

    def inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "sender",
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """An ``inline_query`` update (``@factcheck_test_bot query`` typed by ``user_id``)."""
        with self._cond:
            sender = self.user(user_id, first_name=first_name, username=username, language_code=language_code)
            query_id = str(5_000_000_000_000_000_000 + next(self._ids))
            self._inline_ids.add(query_id)
            body: dict[str, Any] = {"id": query_id, "from": sender, "query": query, "offset": offset}
            if chat_type is not None:
                body["chat_type"] = chat_type
            return {"inline_query": body}

    def my_chat_member(
        self,
        chat_id: int,
        user_id: int,
        old_status: str,
        new_status: str,
        chat_type: str = "supergroup",
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A ``my_chat_member`` update: ``user_id`` changed the bot's status in ``chat_id``
        (e.g. "left" -> "member" when added to a group). Also updates :attr:`members`."""
        with self._cond:
            sender = self.user(user_id, first_name=first_name, username=username)
            chat = self.chat(chat_id, chat_type=chat_type, title=title)
            self.members[(int(chat_id), self.bot_user["id"])] = new_status
            return {
                "my_chat_member": {
                    "chat": chat,
                    "from": sender,
                    "date": int(time.time()),
                    "old_chat_member": _member(self._bot_as_user(), old_status),
                    "new_chat_member": _member(self._bot_as_user(), new_status),
                }
            }

    # -- builder internals -----------------------------------------------------------------------

    def _bot_as_user(self) -> dict[str, Any]:
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _next_message_id(self, chat_id: int | str) -> int:
        current = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = current
        return current

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        sizes = []
        for width in (90, 320, 800):
            file_id = self.add_file(data, kind="photos")
            info = self._files[file_id]
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": info["file_unique_id"],
                    "width": width,
                    "height": width * 3 // 4,
                    "file_size": len(data),
                }
            )
        return sizes

    def _incoming(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any] | None,
        text: str | None,
        *,
        caption: str | None = None,
        photo: bool | bytes = False,
        sticker: str | bool | None = None,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        forward_from_name: str | None = None,
        forward_from_chat: dict[str, Any] | None = None,
        sender_chat: dict[str, Any] | None = None,
        message_thread_id: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if text is None and not photo and not sticker:
            raise ValueError("a message needs text, photo=... or sticker=...")
        if text is not None and (photo or sticker):
            raise ValueError("use caption= with photo; stickers carry no text")
        now = int(time.time())
        msg: dict[str, Any] = {"message_id": self._next_message_id(chat["id"])}
        if sender is not None:
            msg["from"] = copy.deepcopy(sender)
        if sender_chat is not None:
            msg["sender_chat"] = copy.deepcopy(sender_chat)
        msg["chat"] = copy.deepcopy(chat)
        msg["date"] = now
        if message_thread_id is not None:
            msg["message_thread_id"] = message_thread_id
            msg["is_topic_message"] = True
        if forward_from_name is not None:
            msg["forward_origin"] = {"type": "hidden_user", "sender_user_name": forward_from_name, "date": now - 60}
        elif forward_from_chat is not None:
            msg["forward_origin"] = {
                "type": "channel",
                "chat": copy.deepcopy(forward_from_chat),
                "message_id": 1,
                "date": now - 60,
            }
        if reply_to is not None:
            reply = copy.deepcopy(reply_to.get("message", reply_to))
            reply.pop("reply_to_message", None)
            msg["reply_to_message"] = reply
        if text is not None:
            msg["text"] = text
            ents = compute_entities(text) if entities is None else entities
            if ents:
                msg["entities"] = ents
        if photo:
            msg["photo"] = self._photo_sizes(
                photo if isinstance(photo, bytes) else b"\xff\xd8\xff\xe0 test jpeg \xff\xd9"
            )
        if sticker:
            n = next(self._ids)
            msg["sticker"] = {
                "file_id": f"CAAC{n:06d}STICKER",
                "file_unique_id": f"AgAD{n:06d}",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": sticker if isinstance(sticker, str) else "🙂",
                "set_name": "TestStickers",
            }
        if caption is not None:
            msg["caption"] = caption
            ents = compute_entities(caption)
            if ents:
                msg["caption_entities"] = ents
        if extra:
            msg.update(copy.deepcopy(extra))
        self._messages[(chat["id"], msg["message_id"])] = copy.deepcopy(msg)
        return msg

    # -- request handling --------------------------------------------------------------------------

    def _handle_http(self, raw_path: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
        url = urlsplit(raw_path)
        file_match = re.fullmatch(r"/file/bot([^/]+)/(.+)", url.path)
        if file_match:
            return self._serve_file(file_match.group(1), file_match.group(2))
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", url.path)
        if not match or ":" not in match.group(1):
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = match.groups()
        if self.token is not None and token != self.token:
            return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        try:
            params, files = self._parse_params(url.query, content_type, body)
        except _APIError as exc:
            return self._json(exc.error_code, exc.payload())
        status, payload = self._call(method, params, files)
        return self._json(status, payload)

    @staticmethod
    def _json(status: int, payload: dict[str, Any]) -> tuple[int, str, bytes]:
        return status, "application/json", json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _serve_file(self, token: str, file_path: str) -> tuple[int, str, bytes]:
        if self.token is not None and token != self.token:
            return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        with self._cond:
            for info in self._files.values():
                if info["file_path"] == file_path:
                    return 200, "application/octet-stream", info["data"]
        return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    @staticmethod
    def _parse_params(query: str, content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        pairs: list[tuple[str, str]] = parse_qsl(query, keep_blank_values=True)
        ctype = content_type.split(";", 1)[0].strip().lower()
        if body:
            if ctype == "application/json":
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise _bad_request("can't parse JSON object") from None
                if not isinstance(decoded, dict):
                    raise _bad_request("can't parse JSON object")
                params.update(decoded)
            elif ctype == "multipart/form-data":
                fields, files = _parse_multipart(body, content_type)
                pairs.extend(fields)
            else:
                pairs.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        for name, value in pairs:
            params[name] = _decode_value(name, value)
        return params, files

    def _call(self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> tuple[int, dict[str, Any]]:
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        with self._cond:
            fault = self._take_fault(name, params) if entry else None
        if fault is not None and fault.delay:
            self._closing.wait(fault.delay)
        error: _APIError | None = None
        result: Any = None
        if entry is None:
            error = _APIError(404, "Not Found: method not found")
        elif fault is not None and fault.error_code is not None:
            error = _APIError(fault.error_code, fault.description or "", copy.deepcopy(fault.parameters))
        else:
            try:
                with self._cond:
                    result = entry[1](params, files)
            except _APIError as exc:
                error = exc
        with self._cond:
            if name != "getUpdates":
                self.calls.append(
                    Record(
                        method=name,
                        params=params,
                        timestamp=time.time(),
                        ok=error is None,
                        result=copy.deepcopy(result),
                        error_code=error.error_code if error else None,
                        description=error.description if error else None,
                        files=files,
                    )
                )
            self._cond.notify_all()
        if error is not None:
            return error.error_code, error.payload()
        return 200, {"ok": True, "result": result}

    # -- validation --------------------------------------------------------------------------------

    def _formatted(self, text: Any, parse_mode: Any, *, limit: int, what: str) -> str:
        """Validate text/caption like Telegram; returns the text after entity parsing."""
        text = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                plain = parse_html(text)
            except ValueError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            plain = text
        else:
            raise _bad_request("unsupported parse_mode")
        if len(plain.strip()) > limit:
            raise _bad_request("message is too long" if what == "text" else "message caption is too long")
        return plain.strip()

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        """Validate an inline keyboard; returns the markup to echo (inline keyboards only)."""
        if markup is None:
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = str(button["callback_data"]).encode("utf-8")
                    if not data or len(data) > MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(?i)(https?|tg)://\S+$", str(button["url"])):
                    raise _bad_request("BUTTON_URL_INVALID")
        return copy.deepcopy(markup)

    def _chat_for(self, chat_id: Any) -> dict[str, Any]:
        norm = _norm_chat_id(chat_id)
        if norm is None or norm == "":
            raise _bad_request("chat_id is empty")
        if isinstance(norm, str):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == norm.lstrip("@").lower():
                    return copy.deepcopy(chat)
            if self.strict:
                raise _bad_request("chat not found")
            synthetic = {
                "id": -1_000_000_000_000 - len(self._chats),
                "type": "channel",
                "title": norm,
                "username": norm.lstrip("@"),
            }
            self._chats[synthetic["id"]] = synthetic
            return copy.deepcopy(synthetic)
        if norm in self._chats:
            return copy.deepcopy(self._chats[norm])
        if self.strict:
            raise _bad_request("chat not found")
        return self.chat(norm)

    def _stored(self, params: dict[str, Any], *, what: str) -> tuple[tuple[int | str, int], dict[str, Any]]:
        chat = self._chat_for(params.get("chat_id"))
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        key = (chat["id"], message_id)
        msg = self._messages.get(key)
        if msg is None:
            if self.strict:
                raise _bad_request(f"message to {what} not found")
            msg = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": copy.deepcopy(self.bot_user),
            }
            self._messages[key] = msg
        return key, msg

    def _new_bot_message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_for(params.get("chat_id"))
        msg: dict[str, Any] = {"message_id": self._next_message_id(chat["id"])}
        if chat["type"] == "channel":
            msg["sender_chat"] = copy.deepcopy(chat)
        else:
            msg["from"] = copy.deepcopy(self.bot_user)
        msg["chat"] = chat
        msg["date"] = int(time.time())
        if isinstance(params.get("message_thread_id"), int):
            msg["message_thread_id"] = params["message_thread_id"]
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
        if isinstance(reply_id, int):
            replied = self._messages.get((chat["id"], reply_id))
            if replied is not None:
                replied = copy.deepcopy(replied)
                replied.pop("reply_to_message", None)
                msg["reply_to_message"] = replied
        msg.update(content)
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None:
            msg["reply_markup"] = markup
        self._messages[(chat["id"], msg["message_id"])] = copy.deepcopy(msg)
        return msg

    def _file_param(
        self, name: str, params: dict[str, Any], files: dict[str, UploadedFile], *, register: bool = True
    ) -> tuple[str | None, bytes]:
        """Resolve an upload/file_id/URL parameter to (file_id, data); registers new content if asked."""
        upload = files.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
        if upload is not None:
            file_id = self.add_file(upload.data, kind=f"{name}s", file_name=upload.filename) if register else None
            return file_id, upload.data
        if isinstance(value, str) and value:
            if value in self._files:
                return value, self._files[value]["data"]
            if re.match(r"(?i)https?://", value):
                data = b"downloaded from " + value.encode()
                return (self.add_file(data, kind=f"{name}s") if register else None), data
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {name} in the request")

    # -- methods (named _m_<TelegramMethod>; called with the lock held) ------------------------------

    def _m_getMe(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return copy.deepcopy(self.bot_user)

    def _m_logOut(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _m_close(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _m_getUpdates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.polls += 1
        if self._webhook_url:
            raise _APIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_timeout)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # an older long poll is terminated with 409, as on Telegram
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise _APIError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            batch = [u for u in self._updates if self._deliverable(u)][:limit]
            if batch or self._closing.is_set():
                return copy.deepcopy(batch)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(remaining)

    def _deliverable(self, update: dict[str, Any]) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _NOT_DELIVERED_BY_DEFAULT

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {"url": self._webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else "commands must be an array")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params.get("scope"), params.get("language_code"))] = copy.deepcopy(commands)
        return True

    def _m_getMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return copy.deepcopy(
            self._commands.get(self._commands_key(params.get("scope"), params.get("language_code")), [])
        )

    def _m_deleteMyCommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _set_bot_text(self, kind: str, params: dict[str, Any], limit: int) -> bool:
        value = str(params.get(kind) or "")
        if len(value) > limit:
            raise _bad_request(f"{kind.upper()}_INVALID")
        self.bot_texts[(kind, str(params.get("language_code") or ""))] = value
        return True

    def _m_setMyDescription(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_bot_text("description", params, 512)

    def _m_setMyShortDescription(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_bot_text("short_description", params, 120)

    def _m_setMyName(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_bot_text("name", params, 64)

    def _m_setChatMenuButton(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise _bad_request("can't parse menu button")
        chat_id = _norm_chat_id(params.get("chat_id"))
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = copy.deepcopy(button)
        return True

    def _m_getChatMenuButton(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = _norm_chat_id(params.get("chat_id"))
        key = chat_id if isinstance(chat_id, int) else None
        return copy.deepcopy(self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"})

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._chat_for(params.get("chat_id"))
        if not params.get("action"):
            raise _bad_request("wrong parameter action in request")
        return True

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._chat_for(params.get("chat_id"))
        plain = self._formatted(params.get("text"), params.get("parse_mode"), limit=MAX_MESSAGE_LENGTH, what="text")
        if not plain:
            raise _bad_request("message text is empty")
        return self._new_bot_message(params, {"text": plain})

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._chat_for(params.get("chat_id"))
        content: dict[str, Any] = {}
        if params.get("caption"):
            plain = self._formatted(
                params["caption"], params.get("parse_mode"), limit=MAX_CAPTION_LENGTH, what="caption"
            )
            if plain:
                content["caption"] = plain
        self._check_markup(params.get("reply_markup"))
        _, data = self._file_param("photo", params, files, register=False)
        content = {"photo": self._photo_sizes(data), **content}
        return self._new_bot_message(params, content)

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._chat_for(params.get("chat_id"))
        content: dict[str, Any] = {}
        if params.get("caption"):
            plain = self._formatted(
                params["caption"], params.get("parse_mode"), limit=MAX_CAPTION_LENGTH, what="caption"
            )
            if plain:
                content["caption"] = plain
        self._check_markup(params.get("reply_markup"))
        file_id, data = self._file_param("document", params, files)
        assert file_id is not None
        upload = files.get("document")
        document = {
            "file_id": file_id,
            "file_unique_id": self._files[file_id]["file_unique_id"],
            "file_name": (upload.filename if upload else None) or "document",
            "mime_type": (upload.content_type if upload else None) or "application/octet-stream",
            "file_size": len(data),
        }
        return self._new_bot_message(params, {"document": document, **content})

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        plain = self._formatted(params.get("text"), params.get("parse_mode"), limit=MAX_MESSAGE_LENGTH, what="text")
        if not plain:
            raise _bad_request("message text is empty")
        markup = self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        _, msg = self._stored(params, what="edit")
        if msg.get("from", {}).get("id") != self.bot_user["id"] and "sender_chat" not in msg:
            raise _bad_request("message can't be edited")
        if "text" not in msg and ("photo" in msg or "document" in msg or "sticker" in msg):
            raise _bad_request("there is no text in the message to edit")
        if msg.get("text") == plain and msg.get("reply_markup") == markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        msg["text"] = plain
        msg.pop("reply_markup", None)
        if markup is not None:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    def _m_editMessageCaption(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        plain = self._formatted(
            params.get("caption"), params.get("parse_mode"), limit=MAX_CAPTION_LENGTH, what="caption"
        )
        markup = self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        _, msg = self._stored(params, what="edit")
        if msg.get("caption", "") == plain and msg.get("reply_markup") == markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        msg.pop("caption", None)
        if plain:
            msg["caption"] = plain
        msg.pop("reply_markup", None)
        if markup is not None:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        markup = self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        _, msg = self._stored(params, what="edit")
        if msg.get("reply_markup") == markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        msg.pop("reply_markup", None)
        if markup is not None:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key, _ = self._stored(params, what="delete")
        del self._messages[key]
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id:
            raise _bad_request("query_id is empty")
        if self.strict and (query_id not in self._callback_ids or query_id in self._answered):
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._answered.add(query_id)
        return True

    def _m_answerInlineQuery(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("inline_query_id") or "")
        if not query_id:
            raise _bad_request("query_id is empty")
        if self.strict and (query_id not in self._inline_ids or query_id in self._answered):
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict):
                raise _bad_request("can't parse inline query result")
            result_id = str(result.get("id", ""))
            if not result_id or len(result_id.encode()) > 64:
                raise _bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._check_markup(result.get("reply_markup"))
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                plain = self._formatted(
                    content["message_text"], content.get("parse_mode"), limit=MAX_MESSAGE_LENGTH, what="text"
                )
                if not plain:
                    raise _bad_request("MESSAGE_EMPTY")
        self._answered.add(query_id)
        return True

    def _user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_user["id"]:
            return self._bot_as_user()
        known = self._users.get(user_id)
        return copy.deepcopy(known) if known else {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}

    def _m_getChatMember(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_for(params.get("chat_id"))
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        status = self.members.get((chat["id"], user_id), self.default_member_status)
        return _member(self._user_dict(user_id), status)

    def _m_getChat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_for(params.get("chat_id"))
        chat.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        return chat

    def _m_leaveChat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_for(params.get("chat_id"))
        if chat["type"] == "private":
            raise _bad_request("chat member status can't be changed in private chats")
        self.members[(chat["id"], self.bot_user["id"])] = "left"
        return True

    def _m_getFile(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        info = self._files.get(str(params.get("file_id") or ""))
        if info is None:
            raise _bad_request("invalid file_id")
        return {k: info[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}
