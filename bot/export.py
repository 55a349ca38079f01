"""Export the knowledge base for others: ClaimReview JSON-LD for search engines, JSON and CSV for researchers.

- ``claimreview``: a JSON array with one schema.org ClaimReview per ``claim`` entry (English), see
  ``bot.site.claim_review``.
- ``json``: the whole set: ``{"version", "updated", "entries", "sources", "topics"}``, every language, each entry's
  citations resolved to their sources.
- ``csv``: one row per entry and language (RFC 4180, UTF-8).

JSON output escapes ``<``, ``>`` and ``&`` (as ``\\u003c`` ...) so it can be pasted into an HTML ``<script>`` element
as is; parsers read the same text back. Moderators' source notes are internal and are never exported.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from bot import languages
from bot.facts import Entry, KnowledgeBase, Source
from bot.site import DEFAULT_BASE_URL, claim_review, json_for_html, page_url

Format = Literal["claimreview", "json", "csv"]
FORMATS: tuple[Format, ...] = ("claimreview", "json", "csv")

CSV_COLUMNS = ("id", "kind", "verdict", "topic", "lang", "title", "answer", "sources", "reviewed", "version")
URL_SEPARATOR = " | "


def claim_reviews(kb: KnowledgeBase, base_url: str = DEFAULT_BASE_URL) -> list[dict[str, Any]]:
    """One ClaimReview per claim entry, in English, in the knowledge base's order."""
    return [claim_review(e, kb, base_url, "en") for e in kb.entries if e.kind == "claim" and e.verdict]


def _ordered(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A per-language mapping with the supported languages first, in their display order."""
    if values is None:
        return None
    order = {lang: n for n, lang in enumerate(languages.SUPPORTED)}
    return {lang: values[lang] for lang in sorted(values, key=lambda lang: (order.get(lang, len(order)), lang))}


def source_json(source: Source) -> dict[str, Any]:
    """A source for the public: every field but the moderators' note."""
    return source.model_dump(mode="json", exclude={"note"})


def entry_json(entry: Entry, kb: KnowledgeBase, base_url: str = DEFAULT_BASE_URL) -> dict[str, Any]:
    """Every field of an entry, in every language, with its citations resolved and its pages' addresses."""
    data = entry.model_dump(mode="json")
    for key in ("title", "answer", "questions", "claimant"):
        data[key] = _ordered(data[key])
    data["sources"] = [
        {**source_json(source), **citation.model_dump(mode="json", exclude_none=True)}
        for source, citation in kb.cited(entry)
    ]
    data["pages"] = {lang: page_url(base_url, lang, entry.id) for lang in languages.SUPPORTED}
    return data


def knowledge_json(kb: KnowledgeBase, base_url: str = DEFAULT_BASE_URL) -> dict[str, Any]:
    """The whole knowledge base as one JSON document."""
    return {
        "version": kb.version,
        "updated": kb.updated.isoformat(),
        "entries": [entry_json(e, kb, base_url) for e in kb.entries],
        "sources": [source_json(s) for s in kb.sources.values()],
        "topics": [{"id": topic.id, "title": _ordered(dict(topic.title))} for topic in kb.topics],
    }


def csv_rows(kb: KnowledgeBase) -> list[dict[str, str]]:
    """One row per entry and language (the supported languages the entry has a title in)."""
    rows = []
    for entry in kb.entries:
        urls = URL_SEPARATOR.join(source.url for source, _ in kb.cited(entry))
        for lang in languages.SUPPORTED:
            if lang not in entry.title:
                continue
            rows.append({
                "id": entry.id,
                "kind": entry.kind,
                "verdict": entry.verdict or "",
                "topic": entry.topic,
                "lang": lang,
                "title": entry.text("title", lang),
                "answer": entry.text("answer", lang),
                "sources": urls,
                "reviewed": entry.reviewed.isoformat(),
                "version": kb.version,
            })
    return rows


def to_csv(kb: KnowledgeBase) -> str:
    """The CSV export: a header row, then ``csv_rows``; CRLF line ends and quoting as RFC 4180 has them."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(csv_rows(kb))
    return buffer.getvalue()


def export(kb: KnowledgeBase, fmt: Format, base_url: str = DEFAULT_BASE_URL) -> str:
    """The text of an export in ``fmt``."""
    if fmt == "claimreview":
        return json_for_html(claim_reviews(kb, base_url), indent=2) + "\n"
    if fmt == "json":
        return json_for_html(knowledge_json(kb, base_url), indent=2) + "\n"
    if fmt == "csv":
        return to_csv(kb)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
