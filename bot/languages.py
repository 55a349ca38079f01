"""The languages the bot answers in, and how to read the language codes people and Telegram send."""

from __future__ import annotations

#: Every language an entry can answer in (BCP 47), in display order.
SUPPORTED: tuple[str, ...] = ("en", "zh-Hans", "zh-Hant", "es", "nl", "it", "fr", "de", "pt")

#: Languages written in the entry files themselves; every entry must have them.
REQUIRED: tuple[str, ...] = ("en", "zh-Hans")

#: Languages kept in one translation file each (knowledge/translations/<code>.yaml).
TRANSLATED: tuple[str, ...] = ("es", "nl", "it", "fr", "de", "pt")

#: Languages the knowledge base derives from another when a moderator writes none (target: source).
DERIVED: dict[str, str] = {"zh-Hant": "zh-Hans"}

DEFAULT = "en"

NAMES: dict[str, str] = {
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "es": "Español",
    "nl": "Nederlands",
    "it": "Italiano",
    "fr": "Français",
    "de": "Deutsch",
    "pt": "Português",
}

# Region subtags that mean Traditional script when a code gives no script (zh-TW, zh-HK, zh-MO).
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def canonical(code: str | None) -> str | None:
    """Map a user-supplied or Telegram language code to a supported code, or None.

    Accepts any case and either separator: ``zh-hant``, ``zh_TW``, ``zh-HK`` give ``zh-Hant``; ``zh``, ``zh-CN``,
    ``zh-SG`` give ``zh-Hans``; ``en-GB`` gives ``en``.
    """
    if not code:
        return None
    parts = code.strip().replace("_", "-").lower().split("-")
    primary = parts[0]
    if primary == "zh":
        rest = set(parts[1:])
        if "hant" in rest or rest & _TRADITIONAL_REGIONS:
            return "zh-Hant"
        return "zh-Hans"
    for lang in SUPPORTED:
        if lang.lower() == primary:
            return lang
    return None


def is_chinese(lang: str) -> bool:
    return lang.startswith("zh")
