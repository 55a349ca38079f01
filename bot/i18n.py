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
    "start": {
        "en": "Hello! I answer questions about the reported Chinese \"overseas police stations\" with checked answers: "
        "who says what, with the sources. Ask in English or Chinese, or forward me a message you want checked. "
        "For example:",
        "zh-Hans": "你好！我回答有关所谓中国“海外警察站”的问题，答案都经过核实：谁说了什么，并附上来源。"
        "可以用中文或英文提问，也可以把想核实的消息转发给我。例如：",
    },
    "privacy_promise": {
        "en": "I never store your name, username or Telegram id. /privacy says exactly what I keep.",
        "zh-Hans": "我不会保存你的名字、用户名或 Telegram ID。发送 /privacy 查看我保存的全部内容。",
    },
    "media": {
        "en": "I can only read text. Send me a question, or forward a message with text you want checked.",
        "zh-Hans": "我只能读文字。请发送问题，或转发一条你想核实的文字消息。",
    },
    "help": {
        "en": "Ask me a question about the reported Chinese overseas police stations, or forward a message to check.\n"
        "In a group: /ask followed by a question, mention me, or reply to a message with /ask to check it.\n"
        "Anywhere: type @{bot} and a few words to insert a fact card.\n\n"
        "/topics browse by topic · /lang reply language · /privacy what I store · /forget delete it · /about",
        "zh-Hans": "向我提问有关所谓中国海外警察站的问题，或转发一条消息让我核实。\n"
        "在群组中：发送 /ask 加问题、@我，或用 /ask 回复一条消息来核实它。\n"
        "在任何聊天中：输入 @{bot} 和几个字，即可插入一张事实卡片。\n\n"
        "/topics 按主题浏览 · /lang 回复语言 · /privacy 我保存什么 · /forget 删除 · /about 关于",
    },
    "about": {
        "en": "This bot returns only curated, sourced entries; it never writes an answer of its own. The facts are "
        "kept by volunteer moderators as an open, reviewed knowledge base. To suggest a fact or a correction, ask "
        "your question here: unanswered questions reach the moderators.\n\n"
        "Knowledge base version {version}, last reviewed {date}, {count} entries.",
        "zh-Hans": "本机器人只提供经过整理并附有来源的条目，从不自行编写答案。事实由志愿核查员维护，是公开且经过审核的知识库。"
        "如需建议补充或更正，直接在这里提问：未能回答的问题会转给核查员。\n\n"
        "知识库版本 {version}，最后审核于 {date}，共 {count} 条。",
    },
    "privacy": {
        "en": "What I store, and for how long:\n"
        "• Your name, username and Telegram id: never.\n"
        "• Your votes (helpful / not helpful): under a keyed hash of your id that cannot be reversed without a "
        "secret key kept outside the database; deleted after {days} days or by /forget.\n"
        "• Questions I could not answer: their text and language only, never who asked; deleted after {days} days.\n"
        "• Your reply language (/lang): under a keyed hash of the chat; deleted by /forget.\n"
        "• In groups: only messages addressed to me are read; nothing else said in a group is stored.\n"
        "• Daily counts of questions per entry and language, with no link to anyone.\n"
        "Telegram itself sees every message you send; this bot cannot change that.",
        "zh-Hans": "我保存什么、保存多久：\n"
        "• 你的名字、用户名和 Telegram ID：从不保存。\n"
        "• 你的投票（有帮助/没帮助）：以你 ID 的加密散列保存，没有存放在数据库之外的密钥就无法还原；{days} 天后或发送 /forget 时删除。\n"
        "• 我未能回答的问题：只保存文字和语言，从不记录是谁问的；{days} 天后删除。\n"
        "• 你选择的回复语言（/lang）：以聊天 ID 的加密散列保存；发送 /forget 时删除。\n"
        "• 在群组中：只读取发给我的消息，群里的其他内容一概不保存。\n"
        "• 每个条目、每种语言的每日提问次数，与任何人都没有关联。\n"
        "Telegram 本身能看到你发送的每条消息，这一点本机器人无法改变。",
    },
    "forgotten": {
        "en": "Done: your votes and settings are deleted.",
        "zh-Hans": "已完成：你的投票和设置已删除。",
    },
    "choose_lang": {"en": "Reply language for this chat:", "zh-Hans": "选择此聊天的回复语言："},
    "lang_set": {"en": "I will reply in English here.", "zh-Hans": "我将在这里用简体中文回复。"},
    "lang_auto": {"en": "Automatic (the language of each question)", "zh-Hans": "自动（跟随每个问题的语言）"},
    "topics": {"en": "Browse by topic:", "zh-Hans": "按主题浏览："},
    "vote_thanks": {"en": "Thanks, your vote was recorded.", "zh-Hans": "谢谢，你的投票已记录。"},
    "btn.helpful": {"en": "👍 Helpful", "zh-Hans": "👍 有帮助"},
    "btn.not_helpful": {"en": "👎 Not helpful", "zh-Hans": "👎 没帮助"},
    "btn.other_side": {"en": "⚖️ Other side", "zh-Hans": "⚖️ 另一方"},
    "btn.sources": {"en": "📚 Sources", "zh-Hans": "📚 来源"},
    "btn.share": {"en": "📤 Share", "zh-Hans": "📤 分享"},
    "btn.back": {"en": "« Back", "zh-Hans": "« 返回"},
    "btn.next": {"en": "Next »", "zh-Hans": "下一页 »"},
    "btn.prev": {"en": "« Previous", "zh-Hans": "« 上一页"},
    "btn.more": {"en": "Full answer", "zh-Hans": "完整答案"},
    "ask_usage": {
        "en": "Write /ask followed by your question, or reply to a message with /ask to check it.",
        "zh-Hans": "请在 /ask 后面写上问题，或用 /ask 回复一条消息来核实它。",
    },
    "slow_down": {
        "en": "You are sending questions very fast. I will answer again in a minute.",
        "zh-Hans": "你提问太快了，请一分钟后再试。",
    },
    "group_slow_down": {
        "en": "This group is asking very fast. I will answer again in a minute.",
        "zh-Hans": "本群提问太频繁，请一分钟后再试。",
    },
    "apology": {
        "en": "Sorry, something went wrong on my side. Please try again in a moment.",
        "zh-Hans": "抱歉，我这边出了点问题，请稍后再试。",
    },
    "intro": {
        "en": "Hello! I answer questions about the reported Chinese \"overseas police stations\" with checked, sourced "
        "answers. Ask with /ask followed by a question, mention @{bot}, or reply to a message with /ask to check it. "
        "Otherwise I stay silent and store nothing said here. Admins: /settings.",
        "zh-Hans": "大家好！我用经过核实、附有来源的答案回答有关所谓中国“海外警察站”的问题。发送 /ask 加问题、@{bot}，"
        "或用 /ask 回复一条消息来核实它。除此之外我保持沉默，也不保存群里的任何内容。管理员可发送 /settings 进行设置。",
    },
    "settings": {
        "en": "Group settings.\nReply language: {lang}\nAuto-reply to messages that match a known claim: {auto}\n"
        "Auto-reply only works if I can see group messages: make me an admin, or turn off privacy mode with "
        "@BotFather and add me again.",
        "zh-Hans": "群组设置。\n回复语言：{lang}\n自动回复与已知说法高度吻合的消息：{auto}\n"
        "自动回复需要我能看到群消息：把我设为管理员，或在 @BotFather 关闭隐私模式后重新把我加入群组。",
    },
    "on": {"en": "on", "zh-Hans": "开"},
    "off": {"en": "off", "zh-Hans": "关"},
    "btn.auto_on": {"en": "Turn auto-reply on", "zh-Hans": "开启自动回复"},
    "btn.auto_off": {"en": "Turn auto-reply off", "zh-Hans": "关闭自动回复"},
    "admins_only": {
        "en": "Sorry, only this group's admins can change its settings.",
        "zh-Hans": "抱歉，只有本群管理员可以更改设置。",
    },
    "settings_in_groups": {
        "en": "/settings is for group admins, in their group. Here, use /lang.",
        "zh-Hans": "/settings 供群管理员在群内使用。在这里请用 /lang。",
    },
    "btn.notify": {"en": "🔔 Tell me when it is answered", "zh-Hans": "🔔 有答案时通知我"},
    "notify_ok": {
        "en": "I will send you the answer once, when a moderator adds it, then forget this request. /forget cancels it.",
        "zh-Hans": "核查员补充答案后，我会把答案发给你一次，然后删除这个请求。发送 /forget 可以取消。",
    },
    "notified": {
        "en": "A moderator has answered a question you asked:",
        "zh-Hans": "你之前问的问题，核查员已经补充了答案：",
    },
    "unknown_command": {
        "en": "Sorry, I do not know that command. /help lists what I can do.",
        "zh-Hans": "抱歉，我不认识这个命令。发送 /help 查看我能做什么。",
    },
    "foreign_note": {
        "en": "I do not speak that language yet, so here is the closest answer in English.",
        "zh-Hans": "我还不会这种语言，下面是最接近的英文答案。",
    },
    "not_found": {"en": "That entry no longer exists.", "zh-Hans": "该条目已不存在。"},
    "not_understood": {"en": "Sorry, I did not understand that.", "zh-Hans": "抱歉，我没看懂。"},
    "cmd.start": {"en": "Start and see examples", "zh-Hans": "开始，查看示例"},
    "cmd.help": {"en": "How to use this bot", "zh-Hans": "使用说明"},
    "cmd.topics": {"en": "Browse answers by topic", "zh-Hans": "按主题浏览"},
    "cmd.lang": {"en": "Choose the reply language", "zh-Hans": "选择回复语言"},
    "cmd.privacy": {"en": "What the bot stores", "zh-Hans": "本机器人保存什么"},
    "cmd.forget": {"en": "Delete your votes and settings", "zh-Hans": "删除你的投票和设置"},
    "cmd.about": {"en": "Who curates the facts", "zh-Hans": "谁在维护这些事实"},
    "cmd.ask": {"en": "Ask a question (or reply to a message to check it)", "zh-Hans": "提问（或回复一条消息来核实）"},
    "cmd.settings": {"en": "Group settings (admins)", "zh-Hans": "群组设置（管理员）"},
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
