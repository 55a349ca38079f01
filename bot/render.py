"""Turn a match or an entry into a chat reply: Telegram HTML with everything escaped, and plain text for terminals.

A card shows the kind (and a claim's verdict), the entry's title and curated answer, the other side where a related
claim or denial exists, and the sources as links with publisher and date. Every card stays under Telegram's message
limit: if it would not, the other side goes first, then sources beyond the first, then the answer is cut.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import regex

from bot.facts import Citation, Entry, KnowledgeBase, Source
from bot.i18n import kind_mark, t, verdict_mark
from bot.matching import Match
from bot.places import place_names

MESSAGE_LIMIT = 4096
# A sentence ends at . ! ? after two lower-case letters or digits ("U.S. officials" and "Mr. Wang" do not end one)
# and before a capital, or at a Chinese full stop.
_SENTENCE_END = regex.compile(r"(?<=[\p{Ll}\d)\"'”’]{2}[.!?])\s+(?=[\p{Lu}\p{Han}\"“])|(?<=[。！？])")


@dataclass(frozen=True)
class Card:
    """A reply in both forms: ``html`` for Telegram (parse_mode HTML) and ``text`` for a terminal."""

    html: str
    text: str


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def first_sentence(text: str) -> str:
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0].strip()


def other_side(entry: Entry, kb: KnowledgeBase) -> tuple[Entry, ...]:
    """Related entries that answer this one from the other side: a claim's denials, a denial's claims and facts."""
    wanted = {"claim": {"denial"}, "denial": {"claim", "fact"}, "fact": {"denial"}}[entry.kind]
    return tuple(r for r in kb.related(entry) if r.kind in wanted)


def heading(entry: Entry, lang: str) -> str:
    """The plain-text label line: kind, and a claim's verdict."""
    label = f"{kind_mark(entry.kind)} {t('kind.' + entry.kind, lang)}"
    if entry.verdict:
        label += f" · {t('verdict', lang)}: {verdict_mark(entry.verdict)} {t('verdict.' + entry.verdict, lang)}"
    return label


def render_answer(entry: Entry, kb: KnowledgeBase, lang: str, *, limit: int = MESSAGE_LIMIT) -> Card:
    """The full answer card for ``entry`` in ``lang``."""
    answer = entry.text("answer", lang)
    sides = other_side(entry, kb)[:2]
    cited = kb.cited(entry)
    # Ever shorter versions until one fits: all of it; without the other side; one source; the answer cut.
    attempts = [(answer, sides, cited), (answer, (), cited), (answer, (), cited[:1])]
    attempts += [(_cut(answer, size), (), cited[:1]) for size in (1500, 800, 300)]
    for text, shown_sides, shown_sources in attempts:
        card = _card(entry, kb, lang, text, shown_sides, shown_sources)
        if len(card.html) <= limit:
            return card
    return fit(card, limit)  # only with absurdly long titles or urls


def fit(card: Card, limit: int = MESSAGE_LIMIT) -> Card:
    """``card`` if its HTML fits in ``limit`` characters, else its plain text, escaped and cut to fit.

    The last resort for absurdly long knowledge texts: cutting the HTML itself could split a tag or an entity, which
    Telegram refuses; the plain text is cut before escaping, until its escaped form fits.
    """
    if len(card.html) <= limit:
        return card
    size = limit
    while len(escaped := _e(_cut(card.text, size))) > limit:
        size = max(1, min(size - 1, size * limit // len(escaped)))
    return Card(escaped, card.text)


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _card(
    entry: Entry,
    kb: KnowledgeBase,
    lang: str,
    answer: str,
    sides: tuple[Entry, ...],
    cited: tuple[tuple[Source, Citation], ...],
) -> Card:
    h: list[str] = [f"<b>{_e(heading(entry, lang))}</b>", f"<b>{_e(entry.text('title', lang))}</b>"]
    p: list[str] = [heading(entry, lang), entry.text("title", lang)]
    if entry.claimant:
        who = f"{t('claimant', lang)}: {entry.text('claimant', lang)}"
        h.append(f"<i>{_e(who)}</i>")
        p.append(who)
    h += ["", _e(answer)]
    p += ["", answer]
    if sides:
        h += ["", f"<b>{_e(t('other_side', lang))}</b>"]
        p += ["", t("other_side", lang) + ":"]
        for side in sides:
            line = f"{side.text('title', lang)} {first_sentence(side.text('answer', lang))}"
            h.append(f"• <i>{_e(side.text('title', lang))}</i> {_e(first_sentence(side.text('answer', lang)))}")
            p.append(f"  - {line}")
    if cited:
        h += ["", f"<b>{_e(t('sources', lang))}</b>"]
        p += ["", t("sources", lang) + ":"]
        for n, (source, _citation) in enumerate(cited, 1):
            h.append(f'{n}. <a href="{_e(source.url)}">{_e(source.publisher)}</a>, {_e(source.published)}: '
                     f"{_e(source.title)}")
            p.append(f"  {n}. {source.publisher}, {source.published}: {source.title}\n     {source.url}")
    footer = t("reviewed", lang).format(date=entry.reviewed.isoformat(), version=kb.version)
    h += ["", f"<i>{_e(footer)}</i>"]
    p += ["", footer]
    return Card("\n".join(h), "\n".join(p))


def render_short(entry: Entry, kb: KnowledgeBase, lang: str, more_url: str | None = None) -> Card:
    """A group-sized answer: the verdict line, the first sentence, one source link, and a link to the full card."""
    answer = first_sentence(entry.text("answer", lang))
    h = [f"<b>{_e(heading(entry, lang))}</b>", f"<b>{_e(entry.text('title', lang))}</b>", _e(answer)]
    p = [heading(entry, lang), entry.text("title", lang), answer]
    cited = kb.cited(entry)
    if cited:
        source = cited[0][0]
        h.append(f'{_e(t("sources", lang))}: <a href="{_e(source.url)}">{_e(source.publisher)}</a>, '
                 f"{_e(source.published)}")
        p.append(f"{t('sources', lang)}: {source.publisher}, {source.published} {source.url}")
    if more_url:
        h.append(f'<a href="{_e(more_url)}">{_e(t("more", lang))} »</a>')
        p.append(f"{t('more', lang)}: {more_url}")
    return fit(Card("\n".join(h), "\n".join(p)))


def render_match(match: Match, kb: KnowledgeBase, *, recorded: bool = False) -> Card:
    """The reply a private chat gets: the answer card, a "did you mean" list, or a plain "no answer" (saying the
    question was recorded for the moderators when the caller did record it)."""
    lang = match.lang
    if match.best is not None:
        if match.foreign:
            note = t("pinyin_note" if match.pinyin else "foreign_note", lang)
            head = f"<i>{_e(note)}</i>\n"
            card = render_answer(match.best.entry, kb, lang, limit=MESSAGE_LIMIT - len(head))
            return Card(head + card.html, f"{note}\n{card.text}")
        return render_answer(match.best.entry, kb, lang)
    # a question in a language the bot does not speak: say so, and which languages it does, before the rest
    notes = [t("pinyin_languages" if match.pinyin else "foreign_languages", lang)] if match.foreign else []
    # a question about a place no entry speaks of says so ("no checked answer about Japan"), not only "not sure"
    places = place_names(match.unknown_places, lang)
    if match.status == "uncertain":
        titles = [c.entry.text("title", lang) for c in match.alternatives]
        lead = t("uncertain_places", lang).format(places=places) if places else t("uncertain", lang)
        h = [f"<i>{_e(line)}</i>" for line in notes] + [_e(lead)]
        h += [f"• {_e(title)}" for title in titles]
        p = [*notes, lead] + [f"  {n}. {title}" for n, title in enumerate(titles, 1)]
        return fit(Card("\n".join(h), "\n".join(p)))
    lead = t("no_match_places", lang).format(places=places) if places else t("no_match", lang)
    text = lead + (" " + t("recorded", lang) if recorded else "") + " " + t("try_topics", lang)
    return Card("\n".join([*(f"<i>{_e(line)}</i>" for line in notes), _e(text)]), "\n".join([*notes, text]))
