"""A static website of the knowledge base, and the schema.org ClaimReview of each claim.

``build_site(kb, out_dir)`` writes, for every language in ``languages.SUPPORTED``, an index page by topic with a
search box that runs in the browser, and one page per entry (``{lang}/{id}.html``): kind and verdict, title, answer,
the other side as links, the sources, the reviewed date and the knowledge base version. Claim pages embed their
ClaimReview as JSON-LD. Links are relative and nothing is fetched from the network, so the site works from
``file://`` as well as from any static host.

``page_url(base_url, lang, entry_id)`` is where an entry's page lives once published; ``DEFAULT_BASE_URL`` is a
placeholder: pass the real address (``--base-url``) when publishing, because ClaimReview urls and canonical links
are absolute.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import regex

from bot import languages
from bot.facts import Entry, KnowledgeBase
from bot.i18n import kind_mark, t, verdict_mark
from bot.render import first_sentence, other_side
from bot.text import to_traditional

#: A placeholder: the address the site will be published at is not decided yet. Set it with ``--base-url``.
DEFAULT_BASE_URL = "https://example.org/factcheck"

#: Who publishes the fact-checks (the ClaimReview ``author``).
PUBLISHER_NAME = "Overseas Police Stations Fact-Check"

#: The ClaimReview rating of each verdict, on the 1-5 scale documented in knowledge/README.md.
RATING: dict[str, int] = {
    "false": 1,
    "misleading": 2,
    "unproven": 3,
    "disputed": 3,
    "mostly-accurate": 4,
    "accurate": 5,
}
BEST_RATING = 5
WORST_RATING = 1

#: The file listing what the last build wrote, so a rebuild removes the pages of deleted entries (and nothing else).
MANIFEST = ".factcheck-site"

# "Claim: ..." / "说法：..." at the start of a title is a label, not part of the claim.
_CLAIM_PREFIX = regex.compile(r"^\s*(?:claim|说法|說法)\s*[:：]\s*", regex.IGNORECASE)

# The site's own words. Kept here (not in bot.i18n) because they only appear on the website.
def ui(key: str, lang: str) -> str:
    """A site string from the interface catalogues (``site.*`` messages in bot/locales)."""
    return t("site." + key, lang)


def page_url(base_url: str, lang: str, entry_id: str) -> str:
    """The published address of an entry's page: ``{base_url}/{lang}/{entry_id}.html``."""
    return f"{base_url.rstrip('/')}/{lang}/{entry_id}.html"


def json_for_html(data: Any, *, indent: int | None = None) -> str:
    """JSON that is also safe inside an HTML ``<script>`` element: ``<``, ``>`` and ``&`` are written as ``\\u``
    escapes, so no text can close the element. Any JSON parser reads it back unchanged."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def claim_text(entry: Entry, lang: str = "en") -> str:
    """What a claim says, for ``claimReviewed``: its title without a leading "Claim:" label."""
    return _CLAIM_PREFIX.sub("", entry.text("title", lang)).strip()


def claim_review(entry: Entry, kb: KnowledgeBase, base_url: str = DEFAULT_BASE_URL, lang: str = "en") -> dict[str, Any]:
    """The schema.org ClaimReview (JSON-LD) of a claim entry, in ``lang``."""
    if entry.kind != "claim" or entry.verdict is None:
        raise ValueError(f"{entry.id!r} is not a claim with a verdict")
    cited = kb.cited(entry)
    item: dict[str, Any] = {"@type": "Claim"}
    if entry.claimant:
        # The knowledge format does not say whether a claimant is a person; most are groups or institutions.
        item["author"] = {"@type": "Organization", "name": entry.text("claimant", lang)}
    item["appearance"] = [
        {
            "@type": "CreativeWork",
            "url": source.url,
            "name": source.title,
            "publisher": {"@type": "Organization", "name": source.publisher},
            "datePublished": source.published,
        }
        for source, _ in cited
    ]
    dates = [source.published for source, _ in cited]
    if dates:
        item["datePublished"] = min(dates)  # ISO 8601 strings sort by date; a partial date ("2022-11") sorts first
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page_url(base_url, lang, entry.id),
        "claimReviewed": claim_text(entry, lang),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING[entry.verdict],
            "bestRating": BEST_RATING,
            "worstRating": WORST_RATING,
            "alternateName": t("verdict." + entry.verdict, lang),
        },
        "itemReviewed": item,
        "author": {"@type": "Organization", "name": PUBLISHER_NAME, "url": base_url.rstrip("/") + "/"},
        "datePublished": entry.reviewed.isoformat(),
        "inLanguage": lang,
    }


# --- the website -----------------------------------------------------------------------------------------------


class SiteError(Exception):
    """The output directory cannot be used."""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def label(entry: Entry, lang: str) -> str:
    """The kind, and a claim's verdict, in words with their marks (as on the bot's cards)."""
    text = f"{kind_mark(entry.kind)} {t('kind.' + entry.kind, lang)}"
    if entry.verdict:
        text += f" · {t('verdict', lang)}: {verdict_mark(entry.verdict)} {t('verdict.' + entry.verdict, lang)}"
    return text


def search_index(kb: KnowledgeBase, lang: str) -> dict[str, Any]:
    """What the browser searches: each entry's title, question phrasings and keywords in ``lang``.

    Chinese pages also get the phrasings in the other script (and Simplified converted to Traditional), so a search
    typed in either script finds the entry, as the bot's matcher does.
    """
    script_langs = ["zh-Hans", "zh-Hant"] if languages.is_chinese(lang) else [lang]
    items = []
    for entry in kb.entries:
        terms: list[str] = []
        for other in script_langs:
            terms.append(entry.text("title", other))
            terms.extend(entry.questions.get(other, ()))
        if lang == "zh-Hant":
            terms.extend(to_traditional(q) for q in entry.questions.get("zh-Hans", ()))
        terms.extend(entry.keywords)
        title = entry.text("title", lang)
        items.append({
            "id": entry.id,
            "title": title,
            "label": label(entry, lang),
            "terms": [term for term in dict.fromkeys(terms) if term and term != title],
        })
    return {"lang": lang, "version": kb.version, "entries": items}


def _page(lang: str, title: str, body: str, *, depth: int, head: str = "", scripts: str = "") -> str:
    up = "../" * depth
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n"
        f'<link rel="stylesheet" href="{up}style.css">\n{head}</head>\n'
        f"<body>\n{body}\n{scripts}</body>\n</html>\n"
    )


def _language_nav(lang: str, target: str) -> str:
    """Links to the same page in the other languages (``target`` is the file name inside each language folder)."""
    links = []
    for other in languages.SUPPORTED:
        name = _e(languages.NAMES.get(other, other))
        if other == lang:
            links.append(f'<li><span lang="{_e(other)}" aria-current="page">{name}</span></li>')
        else:
            links.append(f'<li><a href="../{_e(other)}/{_e(target)}" hreflang="{_e(other)}" lang="{_e(other)}">'
                         f"{name}</a></li>")
    return f'<nav class="languages" aria-label="{_e(ui("languages", lang))}"><ul>{"".join(links)}</ul></nav>'


def _header(lang: str, target: str) -> str:
    return (f'<header>\n<p class="site"><a href="index.html">{_e(ui("site_title", lang))}</a></p>\n'
            f"{_language_nav(lang, target)}\n</header>")


def _footer(kb: KnowledgeBase, lang: str) -> str:
    text = ui("updated", lang).format(version=kb.version, date=kb.updated.isoformat(), count=len(kb.entries))
    return f'<footer>\n<p class="version">{_e(text)}</p>\n</footer>'


def _entry_link(entry: Entry, lang: str) -> str:
    return (f'<a href="{_e(entry.id)}.html">{_e(entry.text("title", lang))}</a> '
            f'<span class="label label-{_e(entry.verdict or entry.kind)}">{_e(label(entry, lang))}</span>')


def index_page(kb: KnowledgeBase, lang: str) -> str:
    """A language's home page: the search box and every entry by topic."""
    sections = []
    for topic in kb.topics:
        entries = kb.in_topic(topic.id)
        if not entries:
            continue
        items = "\n".join(f"<li>{_entry_link(e, lang)}</li>" for e in entries)
        heading = topic.title.get(lang) or topic.title[languages.DEFAULT]
        sections.append(f'<section id="topic-{_e(topic.id)}">\n<h2>{_e(heading)}</h2>\n'
                        f"<ul class=\"entries\">\n{items}\n</ul>\n</section>")
    search = (
        f'<form id="search" role="search" data-index="../search-{_e(lang)}.json" '
        f'data-none="{_e(ui("no_results", lang))}" data-count="{_e(ui("results", lang))}">\n'
        f'<label for="q">{_e(ui("search_label", lang))}</label>\n'
        f'<input id="q" name="q" type="search" autocomplete="off" placeholder="{_e(ui("search_placeholder", lang))}">\n'
        f'<button type="submit">{_e(ui("search_button", lang))}</button>\n</form>\n'
        '<p id="search-status" aria-live="polite"></p>\n<ul id="results" class="entries"></ul>\n'
        f'<noscript><p>{_e(ui("no_script", lang))}</p></noscript>'
    )
    body = (
        f"{_header(lang, 'index.html')}\n<main>\n<h1>{_e(ui('site_title', lang))}</h1>\n"
        f'<p class="intro">{_e(ui("intro", lang))}</p>\n{search}\n'
        f'<h2 class="all">{_e(ui("all_answers", lang))}</h2>\n'
        + "\n".join(sections)
        + f"\n</main>\n{_footer(kb, lang)}"
    )
    # The index is inlined as inert JSON as well as written to search-{lang}.json: browsers refuse fetch() on
    # file:// pages, and the site must work from a folder.
    scripts = (f'<script id="search-data" type="application/json">{json_for_html(search_index(kb, lang))}</script>\n'
               '<script src="../search.js"></script>\n')
    return _page(lang, ui("site_title", lang), body, depth=1, scripts=scripts)


def entry_page(entry: Entry, kb: KnowledgeBase, lang: str, base_url: str = DEFAULT_BASE_URL) -> str:
    """One entry's page in ``lang``."""
    title = entry.text("title", lang)
    parts = [f'<p class="label label-{_e(entry.verdict or entry.kind)}">{_e(label(entry, lang))}</p>',
             f"<h1>{_e(title)}</h1>"]
    if entry.claimant:
        parts.append(f'<p class="claimant">{_e(t("claimant", lang))}: {_e(entry.text("claimant", lang))}</p>')
    paragraphs = [p.strip() for p in entry.text("answer", lang).split("\n\n") if p.strip()]
    parts.append('<div class="answer">' + "".join(f"<p>{_e(p)}</p>" for p in paragraphs) + "</div>")

    sides = other_side(entry, kb)
    if sides:
        items = "\n".join(
            f"<li>{_entry_link(side, lang)}<br>{_e(first_sentence(side.text('answer', lang)))}</li>" for side in sides
        )
        parts.append(f'<section class="other-side">\n<h2>{_e(t("other_side", lang))}</h2>\n<ul>\n{items}\n</ul>\n'
                     "</section>")
    rest = [r for r in kb.related(entry) if r not in sides]
    if rest:
        items = "\n".join(f"<li>{_entry_link(r, lang)}</li>" for r in rest)
        parts.append(f'<section class="related">\n<h2>{_e(ui("related", lang))}</h2>\n<ul>\n{items}\n</ul>\n</section>')

    cited = kb.cited(entry)
    if cited:
        items = []
        for source, citation in cited:
            line = (f'<a href="{_e(source.url)}" rel="noopener noreferrer" hreflang="{_e(source.language)}">'
                    f"{_e(source.publisher)}</a>, <time>{_e(source.published)}</time>: "
                    f'<cite lang="{_e(source.language)}">{_e(source.title)}</cite>')
            if source.archive_url:
                archived = _e(ui("archived", lang))
                line += f' (<a href="{_e(source.archive_url)}" rel="noopener noreferrer">{archived}</a>)'
            if citation.quote:
                line += f'<br><q lang="{_e(source.language)}">{_e(citation.quote)}</q>'
            items.append(f"<li>{line}</li>")
        parts.append(f'<section class="sources">\n<h2>{_e(t("sources", lang))}</h2>\n<ol>\n' + "\n".join(items)
                     + "\n</ol>\n</section>")
    reviewed = t("reviewed", lang).format(date=entry.reviewed.isoformat(), version=kb.version)
    parts.append(f'<p class="reviewed">{_e(reviewed)}</p>')

    head = f'<link rel="canonical" href="{_e(page_url(base_url, lang, entry.id))}">\n'
    head += "".join(
        f'<link rel="alternate" hreflang="{_e(other)}" href="{_e(page_url(base_url, other, entry.id))}">\n'
        for other in languages.SUPPORTED
    )
    if entry.kind == "claim" and entry.verdict:
        review = json_for_html(claim_review(entry, kb, base_url, lang), indent=1)
        head += f'<script type="application/ld+json">\n{review}\n</script>\n'
    body = f"{_header(lang, entry.id + '.html')}\n<main>\n" + "\n".join(parts) + f"\n</main>\n{_footer(kb, lang)}"
    return _page(lang, f"{title} · {ui('site_title', lang)}", body, depth=1, head=head)


def root_page(kb: KnowledgeBase) -> str:
    """``index.html`` at the top: one link per language."""
    links = "\n".join(
        f'<li><a href="{_e(lang)}/index.html" hreflang="{_e(lang)}" lang="{_e(lang)}">'
        f"{_e(languages.NAMES.get(lang, lang))}: {_e(ui('site_title', lang))}</a></li>"
        for lang in languages.SUPPORTED
    )
    heading = " / ".join(f'<span lang="{_e(lang)}">{_e(ui("choose_language", lang))}</span>'
                         for lang in languages.SUPPORTED)
    body = f'<main>\n<h1>{heading}</h1>\n<ul class="choose">\n{links}\n</ul>\n</main>\n{_footer(kb, "en")}'
    return _page("en", ui("site_title", "en"), body, depth=0)


STYLE = """\
:root { color-scheme: light dark; --accent: #1f5fa8; --muted: #666; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei",
  "Noto Sans CJK SC", sans-serif; line-height: 1.55; max-width: 44rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
header { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5rem; border-bottom: 1px solid #ccc; }
header .site { margin: .5rem 0; font-weight: 600; }
nav.languages ul { list-style: none; display: flex; gap: .8rem; margin: .5rem 0; padding: 0; }
h1 { font-size: 1.5rem; line-height: 1.3; }
h2 { font-size: 1.15rem; margin-top: 1.6rem; }
.label { font-size: .9rem; color: var(--muted); }
.label-false, .label-misleading { color: #b3261e; }
.label-accurate, .label-mostly-accurate { color: #1b7a34; }
.claimant { font-style: italic; }
ul.entries { padding-left: 1.2rem; }
ul.entries li { margin: .35rem 0; }
form#search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 1rem 0 .3rem; }
form#search input { flex: 1 1 14rem; font-size: 1rem; padding: .4rem; }
form#search label { width: 100%; font-weight: 600; }
.sources li { margin: .5rem 0; }
footer { margin-top: 2rem; border-top: 1px solid #ccc; color: var(--muted); font-size: .9rem; }
"""

SEARCH_JS = """\
// In-browser search over the entries' titles, question phrasings and keywords. No network: the index is inlined in
// the page (browsers block fetch() on file:// pages); search-{lang}.json is fetched only if it is not.
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) { return; }
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  var items = null;

  // as the bot reads a question: width and case folded, invisible format characters dropped, accents ignored
  function norm(text) {
    return text.normalize("NFKC").replace(/\\p{Cf}+/gu, "").toLowerCase().normalize("NFD")
      .replace(/\\p{M}+/gu, "").normalize("NFC").replace(/[\\s\\p{P}\\p{S}]+/gu, " ").trim();
  }
  function prepare(data) {
    return data.entries.map(function (e) {
      return { entry: e, title: norm(e.title), text: norm([e.title].concat(e.terms).join(" | ")) };
    });
  }
  function load() {
    if (items) { return Promise.resolve(items); }
    var inline = document.getElementById("search-data");
    if (inline) { items = prepare(JSON.parse(inline.textContent)); return Promise.resolve(items); }
    return fetch(form.getAttribute("data-index"))
      .then(function (r) { return r.json(); })
      .then(function (data) { items = prepare(data); return items; });
  }
  function search(query) {
    var q = norm(query);
    if (!q) { return []; }
    var tokens = q.split(" ");
    var scored = [];
    items.forEach(function (item, order) {
      var score = 0;
      if (item.title.indexOf(q) >= 0) { score = 4; }
      else if (item.text.indexOf(q) >= 0) { score = 3; }
      else if (tokens.every(function (tok) { return item.title.indexOf(tok) >= 0; })) { score = 2; }
      else if (tokens.every(function (tok) { return item.text.indexOf(tok) >= 0; })) { score = 1; }
      if (score) { scored.push({ item: item, score: score, order: order }); }
    });
    scored.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    return scored.map(function (s) { return s.item.entry; });
  }
  function show(query) {
    load().then(function () {
      var found = search(query);
      list.textContent = "";
      if (!norm(query)) { status.textContent = ""; return; }
      status.textContent = found.length ? form.getAttribute("data-count").replace("{n}", String(found.length))
                                        : form.getAttribute("data-none");
      found.forEach(function (e) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = e.id + ".html";
        a.textContent = e.title;
        var span = document.createElement("span");
        span.className = "label";
        span.textContent = " " + e.label;
        li.appendChild(a);
        li.appendChild(span);
        list.appendChild(li);
      });
    });
  }
  input.addEventListener("input", function () { show(input.value); });
  form.addEventListener("submit", function (event) { event.preventDefault(); show(input.value); });
  if (input.value) { show(input.value); }
})();
"""


def site_files(kb: KnowledgeBase, base_url: str = DEFAULT_BASE_URL) -> dict[str, str]:
    """Every file of the site: relative path (with ``/``) -> text."""
    files: dict[str, str] = {"index.html": root_page(kb), "style.css": STYLE, "search.js": SEARCH_JS}
    for lang in languages.SUPPORTED:
        files[f"search-{lang}.json"] = json_for_html(search_index(kb, lang)) + "\n"
        files[f"{lang}/index.html"] = index_page(kb, lang)
        for entry in kb.entries:
            files[f"{lang}/{entry.id}.html"] = entry_page(entry, kb, lang, base_url)
    return files


def build_site(kb: KnowledgeBase, out_dir: str | Path, base_url: str = DEFAULT_BASE_URL) -> list[Path]:
    """Write the site into ``out_dir`` and return the files written.

    ``out_dir`` must be new, empty, or a site this function built before; in that case the files of the last build
    that are no longer part of the site (the pages of deleted entries) are removed, and nothing else is touched.
    """
    out = Path(out_dir)
    manifest = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is not a directory")
    if out.is_dir() and not manifest.is_file() and any(out.iterdir()):
        raise SiteError(f"{out} is not empty and was not built by this command: choose a new or empty directory")
    previous = set(manifest.read_text(encoding="utf-8").split()) if manifest.is_file() else set()

    files = site_files(kb, base_url)
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    for stale in sorted(previous - set(files)):
        path = out / stale
        if ".." not in Path(stale).parts and path.is_file():
            path.unlink()
    manifest.write_text("".join(f"{relative}\n" for relative in sorted(files)), encoding="utf-8")
    return written

