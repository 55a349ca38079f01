"""The bot's own words (labels, buttons, notices) in every supported language, from gettext catalogues.

The catalogues are standard gettext ``.po`` files, ``bot/locales/<locale>/LC_MESSAGES/messages.po``, read with Babel
(so translators can use Poedit, Weblate or any .po tool). Message ids are short keys (``btn.helpful``); the English
catalogue holds the source text, and the others carry it as a comment for translators. A message missing in a
language falls back to English; Traditional Chinese is derived from Simplified with OpenCC unless written out.
``python -m bot i18n`` checks every catalogue and adds missing messages to them.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot import languages
from bot.text import to_traditional

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"

_VERDICT_MARKS = {
    "false": "❌",
    "misleading": "⚠️",
    "unproven": "❓",
    "disputed": "⚖️",
    "mostly-accurate": "☑️",
    "accurate": "✅",
}
_KIND_MARKS = {"fact": "📌", "claim": "🔎", "denial": "🏛"}


def locale_of(lang: str) -> str:
    """The gettext locale directory name of a language code (zh-Hans -> zh_Hans)."""
    return lang.replace("-", "_")


def catalog_path(lang: str) -> Path:
    return LOCALES / locale_of(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(lang: str) -> Catalog | None:
    path = catalog_path(lang)
    if not path.exists():
        return None
    with path.open("rb") as f:
        return read_po(f, locale=locale_of(lang))


def _own(lang: str, key: str) -> str | None:
    cat = catalog(lang)
    message = cat.get(key) if cat is not None else None
    if message is None or not message.string or message.fuzzy:
        return None
    return str(message.string)


@cache
def t(key: str, lang: str) -> str:
    """The message ``key`` in ``lang``: derived for Traditional Chinese, English when missing."""
    own = _own(lang, key)
    if own is not None:
        return own
    if lang in languages.DERIVED:
        derived = _own(languages.DERIVED[lang], key)
        if derived is not None:
            return to_traditional(derived)
    english = _own(languages.DEFAULT, key)
    if english is None:
        raise KeyError(f"no message {key!r} in the English catalogue")
    return english


def verdict_mark(verdict: str) -> str:
    return _VERDICT_MARKS.get(verdict, "")


def kind_mark(kind: str) -> str:
    return _KIND_MARKS.get(kind, "")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def check_catalogs(update: bool = False) -> list[str]:
    """Problems with the catalogues: missing or extra messages, placeholders that differ from English.

    With ``update``, messages missing from a catalogue are added to it (empty, with the English as a comment), so a
    translator finds them; nothing is removed or changed.
    """
    source = catalog(languages.DEFAULT)
    if source is None:
        return [f"{catalog_path(languages.DEFAULT)} is missing"]
    problems = []
    for lang in languages.SUPPORTED:
        if lang == languages.DEFAULT or lang in languages.DERIVED:
            continue
        cat = catalog(lang)
        path = catalog_path(lang)
        if cat is None:
            cat = Catalog(locale=locale_of(lang), project="overseas-police-factcheck", charset="utf-8")
            cat.fuzzy = False
        missing = [m for m in source if m.id and (cat.get(m.id) is None or not cat.get(m.id).string)]
        for m in missing:
            problems.append(f"{path}: {m.id!r} is not translated")
            if update and cat.get(m.id) is None:
                cat.add(m.id, "", auto_comments=[f"English: {m.string}"])
        for m in cat:
            if not m.id:
                continue
            english = source.get(m.id)
            if english is None:
                problems.append(f"{path}: {m.id!r} is not an English message (remove it)")
            elif m.string and placeholders(m.string) != placeholders(english.string):
                problems.append(f"{path}: {m.id!r} uses {sorted(placeholders(m.string))}, English uses "
                                f"{sorted(placeholders(english.string))}")
        if update and missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as f:
                write_po(f, cat, width=0, sort_output=False)
            catalog.cache_clear()
            t.cache_clear()
    return problems
