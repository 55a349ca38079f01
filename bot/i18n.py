"""The bot's own words (labels, notices) in every supported language.

One catalogue, keyed by message id. Traditional Chinese is derived from Simplified with OpenCC unless written out.
"""

from __future__ import annotations

from functools import cache

from bot import languages
from bot.text import to_traditional

_MESSAGES: dict[str, dict[str, str]] = {
    "kind.fact": {"en": "Fact", "zh-Hans": "事实"},
    "kind.claim": {"en": "Claim", "zh-Hans": "说法"},
    "kind.denial": {"en": "Official statement", "zh-Hans": "官方表态"},
    "verdict": {"en": "Verdict", "zh-Hans": "结论"},
    "verdict.false": {"en": "False", "zh-Hans": "错误"},
    "verdict.misleading": {"en": "Misleading", "zh-Hans": "误导"},
    "verdict.unproven": {"en": "Unproven", "zh-Hans": "未经证实"},
    "verdict.disputed": {"en": "Disputed", "zh-Hans": "有争议"},
    "verdict.mostly-accurate": {"en": "Mostly accurate", "zh-Hans": "基本属实"},
    "verdict.accurate": {"en": "Accurate", "zh-Hans": "属实"},
    "claimant": {"en": "Claimed by", "zh-Hans": "说法来源"},
    "other_side": {"en": "The other side", "zh-Hans": "另一方的说法"},
    "sources": {"en": "Sources", "zh-Hans": "来源"},
    "reviewed": {
        "en": "Reviewed {date} · knowledge base {version}",
        "zh-Hans": "审核日期 {date} · 知识库版本 {version}",
    },
    "more": {"en": "More", "zh-Hans": "详情"},
    "no_match": {
        "en": "I have no checked answer to that question yet, and I would rather say nothing than guess.",
        "zh-Hans": "这个问题我还没有经过核实的答案，与其猜测，不如不答。",
    },
    "recorded": {
        "en": "Your question was recorded, without your name, so the moderators can add an answer.",
        "zh-Hans": "你的问题已被匿名记录，供核查员补充答案。",
    },
    "try_topics": {
        "en": "Send /topics to browse what I can answer.",
        "zh-Hans": "发送 /topics 可浏览我能回答的内容。",
    },
    "uncertain": {
        "en": "I am not sure which question you mean. Did you mean one of these?",
        "zh-Hans": "我不确定你问的是哪一个问题。你是想问下面哪一个？",
    },
}

_VERDICT_MARKS = {
    "false": "❌",
    "misleading": "⚠️",
    "unproven": "❓",
    "disputed": "⚖️",
    "mostly-accurate": "☑️",
    "accurate": "✅",
}
_KIND_MARKS = {"fact": "📌", "claim": "🔎", "denial": "🏛"}


@cache
def t(key: str, lang: str) -> str:
    """The message ``key`` in ``lang``: derived for Traditional Chinese, English when missing."""
    texts = _MESSAGES[key]
    if lang in texts:
        return texts[lang]
    if lang == "zh-Hant" and "zh-Hans" in texts:
        return to_traditional(texts["zh-Hans"])
    return texts[languages.DEFAULT]


def verdict_mark(verdict: str) -> str:
    return _VERDICT_MARKS.get(verdict, "")


def kind_mark(kind: str) -> str:
    return _KIND_MARKS.get(kind, "")
