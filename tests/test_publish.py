"""Publishing: ClaimReview/JSON/CSV exports, the static site and the knowledge diff; CLI commands as subprocesses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot import languages
from bot.diff import diff_knowledge, format_diff, sentences
from bot.export import CSV_COLUMNS, claim_reviews, csv_rows, export, knowledge_json, to_csv
from bot.facts import DEFAULT_DIR, KnowledgeBase, require_knowledge
from bot.i18n import t
from bot.site import (
    DEFAULT_BASE_URL,
    MANIFEST,
    PUBLISHER_NAME,
    RATING,
    build_site,
    claim_review,
    claim_text,
    page_url,
    search_index,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "good"
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_PARTIAL_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")

pytestmark = pytest.mark.usefixtures("fresh_derived_files")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small fixture with markup in a claim's title and answer."""
    target = tmp_path_factory.mktemp("hostile") / "knowledge"
    shutil.copytree(FIXTURE, target)
    entries = target / "entries" / "all.yaml"
    edit(entries, '"Claim: the stations are inside embassies"', f'"Claim: {HOSTILE} inside embassies"')
    edit(entries, "The reported sites were in restaurants", f"The reported {HOSTILE} sites were in restaurants")
    return target


@pytest.fixture(scope="module")
def hostile_kb(hostile_dir: Path) -> KnowledgeBase:
    return require_knowledge(hostile_dir)


# --- ClaimReview -----------------------------------------------------------------------------------------------


def _readme_ratings() -> dict[str, int]:
    text = (DEFAULT_DIR / "README.md").read_text(encoding="utf-8")
    return {m[1]: int(m[2]) for m in re.finditer(r"^\| `([a-z-]+)` \| [^|]+ \| (\d) \|$", text, re.MULTILINE)}


def test_ratings_follow_the_documented_scale() -> None:
    documented = _readme_ratings()
    assert documented == RATING
    assert documented == {"false": 1, "misleading": 2, "unproven": 3, "disputed": 3, "mostly-accurate": 4,
                          "accurate": 5}


def _check_claim_review(review: dict, kb: KnowledgeBase, base_url: str) -> None:
    """The fields Google's fact-check markup and schema.org consumers require, with sane values."""
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert isinstance(review["claimReviewed"], str) and 0 < len(review["claimReviewed"]) <= 100
    assert not review["claimReviewed"].lower().startswith("claim:")
    rating = review["reviewRating"]
    assert rating["@type"] == "Rating" and rating["bestRating"] == 5 and rating["worstRating"] == 1
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert isinstance(rating["alternateName"], str) and rating["alternateName"]
    entry_id = review["url"].rsplit("/", 1)[1].removesuffix(".html")
    entry = kb.by_id[entry_id]
    assert review["url"] == f"{base_url}/en/{entry_id}.html" and entry.kind == "claim"
    assert rating["ratingValue"] == RATING[entry.verdict]
    assert rating["alternateName"] == t(f"verdict.{entry.verdict}", "en")
    assert review["author"]["@type"] == "Organization" and review["author"]["name"] == PUBLISHER_NAME
    assert ISO_DATE.match(review["datePublished"]) and review["datePublished"] == entry.reviewed.isoformat()
    dt.date.fromisoformat(review["datePublished"])
    assert review["inLanguage"] == "en"
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    if entry.claimant:
        assert item["author"]["@type"] in ("Organization", "Person")
        assert item["author"]["name"] == entry.claimant["en"]
    urls = [s.url for s, _ in kb.cited(entry)]
    assert [a["url"] for a in item["appearance"]] == urls
    assert all(a["@type"] == "CreativeWork" for a in item["appearance"])
    dates = [a["datePublished"] for a in item["appearance"]] + [item["datePublished"]]
    assert all(ISO_PARTIAL_DATE.match(d) for d in dates)  # ISO 8601, reduced precision when the day is unknown
    assert item["datePublished"] == min(s.published for s, _ in kb.cited(entry))


def test_every_bundled_claim_has_a_complete_claim_review(kb: KnowledgeBase) -> None:
    reviews = claim_reviews(kb)
    claims = [e for e in kb.entries if e.kind == "claim"]
    assert len(reviews) == len(claims) > 5
    for review in reviews:
        _check_claim_review(review, kb, DEFAULT_BASE_URL)


def test_claim_review_drops_the_claim_label_and_uses_the_base_url(small_kb: KnowledgeBase) -> None:
    entry = small_kb.by_id["claim-in-embassies"]
    review = claim_review(entry, small_kb, "https://facts.example.net/site/")
    _check_claim_review(review, small_kb, "https://facts.example.net/site")
    assert review["claimReviewed"] == "the stations are inside embassies"
    assert review["reviewRating"]["ratingValue"] == 1 and review["reviewRating"]["alternateName"] == "False"
    assert review["itemReviewed"]["author"]["name"] == "Posts on <b>social</b> media"
    assert claim_text(entry, "zh-Hans") == "服务站设在大使馆里"
    with pytest.raises(ValueError):
        claim_review(small_kb.by_id["count-of-stations"], small_kb)


def test_page_url() -> None:
    assert page_url("https://a.org/f/", "zh-Hant", "x-1") == "https://a.org/f/zh-Hant/x-1.html"
    assert page_url(DEFAULT_BASE_URL, "en", "x") == "https://example.org/factcheck/en/x.html"


# --- JSON and CSV ----------------------------------------------------------------------------------------------


def test_json_export_holds_everything_in_every_language(kb: KnowledgeBase) -> None:
    data = json.loads(export(kb, "json"))
    assert data["version"] == kb.version and data["updated"] == kb.updated.isoformat()
    assert [e["id"] for e in data["entries"]] == [e.id for e in kb.entries]
    assert {s["id"] for s in data["sources"]} == set(kb.sources)
    assert [tp["id"] for tp in data["topics"]] == [tp.id for tp in kb.topics]
    for item in data["entries"]:
        entry = kb.by_id[item["id"]]
        for key in ("title", "answer", "questions"):
            assert list(item[key]) == list(languages.SUPPORTED)
        assert item["questions"]["en"] == list(entry.questions["en"])
        assert item["reviewed"] == entry.reviewed.isoformat() and item["related"] == list(entry.related)
        assert [s["id"] for s in item["sources"]] == [c.id for c in entry.sources]
        for source in item["sources"]:
            assert source["url"].startswith("http") and source["publisher"] and source["published"]
        assert item["pages"]["zh-Hant"] == page_url(DEFAULT_BASE_URL, "zh-Hant", entry.id)
    assert all("note" not in s for s in data["sources"])  # moderators' notes stay internal
    assert all("note" not in s for e in data["entries"] for s in e["sources"])


def test_json_export_keeps_citation_quotes(small_kb: KnowledgeBase) -> None:
    data = knowledge_json(small_kb)
    denial = next(e for e in data["entries"] if e["id"] == "denial-volunteers")
    assert denial["sources"] == [{**denial["sources"][0], "quote": "volunteers", "publisher": "A Ministry"}]
    assert denial["verdict"] is None and data["entries"][2]["claimant"]["zh-Hant"]


def test_csv_parses_back_one_row_per_entry_and_language(small_kb: KnowledgeBase) -> None:
    text = to_csv(small_kb)
    assert text.endswith("\r\n") and "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(1 for e in small_kb.entries for lang in languages.SUPPORTED if lang in e.title)
    assert {r["lang"] for r in rows} == {"en", "zh-Hans", "zh-Hant"}  # the fixture's languages
    assert rows == csv_rows(small_kb)
    first = rows[0]
    assert first["id"] == "count-of-stations" and first["lang"] == "en" and first["verdict"] == ""
    assert first["sources"] == "https://example.org/report?a=1&b=2" and first["version"] == small_kb.version
    claim = next(r for r in rows if r["id"] == "claim-in-embassies" and r["lang"] == "zh-Hant")
    assert claim["verdict"] == "false" and claim["title"] == small_kb.by_id["claim-in-embassies"].title["zh-Hant"]


def test_csv_quotes_commas_quotes_and_newlines(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    target = tmp_path / "k"
    shutil.copytree(FIXTURE, target)
    tricky = 'He said "no", then: a | b'
    edit(target / "entries" / "all.yaml", "en: What did the ministry say?", f"en: '{tricky}'")
    two_lines = "en: |-\n        Two\n        lines. On 2 November 2022"
    edit(target / "entries" / "all.yaml", "en: The ministry said on 2 November 2022", two_lines)
    kb = require_knowledge(target)
    rows = list(csv.DictReader(io.StringIO(to_csv(kb), newline="")))
    row = next(r for r in rows if r["id"] == "denial-volunteers" and r["lang"] == "en")
    assert row["title"] == tricky and row["answer"].startswith("Two\nlines.")


def test_csv_of_the_bundled_knowledge(kb: KnowledgeBase) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(kb), newline="")))
    assert len(rows) == sum(1 for e in kb.entries for lang in languages.SUPPORTED if lang in e.title)
    for row in rows:
        entry = kb.by_id[row["id"]]
        assert row["answer"] == entry.text("answer", row["lang"])
        assert row["sources"].split(" | ") == [s.url for s, _ in kb.cited(entry)]


# --- the CLI ---------------------------------------------------------------------------------------------------


def test_cli_export_claimreview_to_stdout_and_file(tmp_path: Path, kb: KnowledgeBase) -> None:
    result = run("export", "--format", "claimreview", "--base-url", "https://facts.example.net")
    assert result.returncode == 0, result.stderr
    reviews = json.loads(result.stdout)
    assert len(reviews) == sum(e.kind == "claim" for e in kb.entries)
    for review in reviews:
        _check_claim_review(review, kb, "https://facts.example.net")
    assert "placeholder" not in result.stderr

    out = tmp_path / "out" / "claims.jsonld"
    result = run("export", "--format", "claimreview", "--out", str(out), "--knowledge", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "placeholder" in result.stderr  # the default base url is flagged
    assert [r["url"] for r in json.loads(out.read_text(encoding="utf-8"))] == [
        "https://example.org/factcheck/en/claim-in-embassies.html"
    ]


def test_cli_export_json_and_csv(tmp_path: Path, small_kb: KnowledgeBase) -> None:
    result = run("export", "--format", "json", "--knowledge", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == small_kb.version
    out = tmp_path / "kb.csv"
    result = run("export", "--format", "csv", "--knowledge", str(FIXTURE), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().decode("utf-8") == to_csv(small_kb)
    result = run("export", "--format", "csv", "--knowledge", str(FIXTURE))
    assert list(csv.reader(io.StringIO(result.stdout, newline="")))[1][0] == "count-of-stations"


def test_cli_export_rejects_a_bad_format_and_a_broken_knowledge_base(tmp_path: Path) -> None:
    assert run("export", "--format", "xml").returncode == 2
    broken = tmp_path / "k"
    shutil.copytree(FIXTURE, broken)
    edit(broken / "entries" / "all.yaml", "sources: [report-one]", "sources: [nope]")
    result = run("export", "--format", "json", "--knowledge", str(broken))
    assert result.returncode == 2 and "nope" in result.stderr and result.stdout == ""


# --- the site --------------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Links, the root language, the ld+json blocks and the text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.html_lang: str | None = None
        self.ld_json: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._in_script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key] or "")
        if tag == "script":
            self.scripts.append(a)
            self._in_script = a.get("type") or "text/javascript"
            if self._in_script == "application/ld+json":
                self.ld_json.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script == "application/ld+json":
            self.ld_json[-1] += data
        elif self._in_script is None:
            self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "public"
    result = run("site", str(out), "--knowledge", str(FIXTURE), "--base-url", "https://facts.example.net/")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "file://" in result.stdout
    return out


def test_site_has_an_index_and_a_page_per_entry_and_language(small_site: Path, small_kb: KnowledgeBase) -> None:
    assert {"index.html", "style.css", "search.js"} <= {p.name for p in small_site.iterdir()}
    root = parse(small_site / "index.html")
    assert {f"{lang}/index.html" for lang in languages.SUPPORTED} <= set(root.links)
    for lang in languages.SUPPORTED:
        assert (small_site / f"search-{lang}.json").is_file()
        index = parse(small_site / lang / "index.html")
        assert index.html_lang == lang
        assert {f"{e.id}.html" for e in small_kb.entries} <= set(index.links)
        for entry in small_kb.entries:
            page = parse(small_site / lang / f"{entry.id}.html")
            assert page.html_lang == lang
            text = " ".join(page.text)
            assert entry.text("title", lang) in text and entry.text("answer", lang) in text
            assert t(f"kind.{entry.kind}", lang) in text
            assert entry.reviewed.isoformat() in text and small_kb.version in text
            for source, _ in small_kb.cited(entry):
                assert source.url in page.links and source.publisher in text and source.title in text
            assert small_kb.version in text


def test_site_pages_link_only_to_files_that_exist_or_to_the_web(small_site: Path) -> None:
    pages = list(small_site.rglob("*.html"))
    assert len(pages) == 1 + len(languages.SUPPORTED) * 4
    for path in pages:
        for link in parse(path).links:
            parts = urlsplit(link)
            if parts.scheme:
                assert parts.scheme == "https", (path, link)  # sources and canonical addresses only: no CDN
                continue
            assert (path.parent / parts.path).resolve().is_file(), (path, link)
        for script in parse(path).scripts:
            assert not (script.get("src") or "").startswith(("http", "//")), (path, script)


def test_site_claim_pages_embed_one_claim_review(small_site: Path, small_kb: KnowledgeBase) -> None:
    for lang in languages.SUPPORTED:
        for entry in small_kb.entries:
            page = parse(small_site / lang / f"{entry.id}.html")
            if entry.kind != "claim":
                assert page.ld_json == []
                continue
            assert len(page.ld_json) == 1
            review = json.loads(page.ld_json[0])
            assert review == claim_review(entry, small_kb, "https://facts.example.net", lang)
            assert review["url"] == f"https://facts.example.net/{lang}/{entry.id}.html"
            assert review["inLanguage"] == lang
    review = json.loads(parse(small_site / "en" / "claim-in-embassies.html").ld_json[0])
    _check_claim_review(review, small_kb, "https://facts.example.net")


def test_site_entry_page_shows_the_other_side_as_links(small_site: Path) -> None:
    page = parse(small_site / "en" / "claim-in-embassies.html")
    assert "denial-volunteers.html" in page.links and "The other side" in " ".join(page.text)
    denial = parse(small_site / "zh-Hans" / "denial-volunteers.html")
    assert {"claim-in-embassies.html", "count-of-stations.html"} <= set(denial.links)
    assert "../zh-Hant/denial-volunteers.html" in denial.links and "../en/denial-volunteers.html" in denial.links


def test_search_index_has_titles_and_phrasings(small_site: Path, small_kb: KnowledgeBase) -> None:
    data = json.loads((small_site / "search-en.json").read_text(encoding="utf-8"))
    assert data == search_index(small_kb, "en") and data["version"] == small_kb.version
    first = data["entries"][0]
    assert first["title"] == "How many stations were reported?"
    assert "number of overseas police stations" in first["terms"]
    hant = search_index(small_kb, "zh-Hant")["entries"][0]
    assert hant["title"] == small_kb.by_id["count-of-stations"].title["zh-Hant"]
    assert "海外警察站有多少个" in hant["terms"] and "海外警察站有多少個" in hant["terms"]  # either script finds it


def test_site_from_the_bundled_knowledge(tmp_path: Path, kb: KnowledgeBase) -> None:
    files = build_site(kb, tmp_path / "site")
    assert len(files) == 3 + len(languages.SUPPORTED) * (2 + len(kb.entries))
    page = parse(tmp_path / "site" / "en" / "response-ireland.html")
    assert "Dublin" in " ".join(page.text)
    claims = [e for e in kb.entries if e.kind == "claim"]
    for entry in claims:
        review = json.loads(parse(tmp_path / "site" / "zh-Hant" / f"{entry.id}.html").ld_json[0])
        assert review["@type"] == "ClaimReview" and review["inLanguage"] == "zh-Hant"


def test_rebuild_removes_pages_of_deleted_entries_only(tmp_path: Path, small_kb: KnowledgeBase) -> None:
    out = tmp_path / "site"
    build_site(small_kb, out)
    (out / "en" / "notes.txt").write_text("mine", encoding="utf-8")
    fewer = KnowledgeBase(entries=small_kb.entries[:2], sources=small_kb.sources, topics=small_kb.topics,
                          version="v2", updated=small_kb.updated)
    build_site(fewer, out)
    assert not (out / "en" / "claim-in-embassies.html").exists() and (out / "en" / "count-of-stations.html").exists()
    assert (out / "en" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert "en/claim-in-embassies.html" not in (out / MANIFEST).read_text(encoding="utf-8")


def test_site_refuses_a_directory_it_did_not_build(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("x", encoding="utf-8")
    result = run("site", str(tmp_path), "--knowledge", str(FIXTURE))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["precious.txt"]


# --- escaping --------------------------------------------------------------------------------------------------


def test_markup_in_the_knowledge_is_escaped_in_the_site(tmp_path: Path, hostile_dir: Path,
                                                        hostile_kb: KnowledgeBase) -> None:
    out = tmp_path / "site"
    result = run("site", str(out), "--knowledge", str(hostile_dir))
    assert result.returncode == 0, result.stderr
    for path in [*out.rglob("*.html"), *out.rglob("*.json")]:
        raw = path.read_text(encoding="utf-8")
        assert "<script>alert" not in raw and "<b>social" not in raw and "<one>" not in raw, path
    page = (out / "en" / "claim-in-embassies.html").read_text(encoding="utf-8")
    assert f"Claim: {ESCAPED} inside embassies" in page and f"reported {ESCAPED} sites" in page
    assert "Posts on &lt;b&gt;social&lt;/b&gt; media" in page and "Report &lt;one&gt; &amp; &quot;friends&quot;" in page
    assert 'href="https://example.org/report?a=1&amp;b=2"' in page
    assert ESCAPED in (out / "en" / "index.html").read_text(encoding="utf-8")
    parsed = parse(out / "en" / "claim-in-embassies.html")
    assert f"Claim: {HOSTILE} inside embassies" in parsed.text  # the reader sees the text, not markup
    review = json.loads(parsed.ld_json[0])
    assert review["claimReviewed"] == f"{HOSTILE} inside embassies"  # the JSON-LD carries the text unchanged
    index = json.loads((out / "search-en.json").read_text(encoding="utf-8"))
    assert index["entries"][2]["title"] == f"Claim: {HOSTILE} inside embassies"


def test_markup_in_the_knowledge_is_escaped_in_the_exports(hostile_kb: KnowledgeBase) -> None:
    for fmt in ("claimreview", "json"):
        text = export(hostile_kb, fmt)
        assert "<script>" not in text and "</script>" not in text and "\\u003cscript\\u003e" in text
        assert HOSTILE in json.dumps(json.loads(text), ensure_ascii=False)
    reviews = json.loads(export(hostile_kb, "claimreview"))
    assert reviews[0]["claimReviewed"] == f"{HOSTILE} inside embassies"
    # CSV is data, not markup: the text is kept exactly, quoted as RFC 4180 says, and reads back unchanged.
    rows = list(csv.DictReader(io.StringIO(export(hostile_kb, "csv"), newline="")))
    assert next(r for r in rows if r["id"] == "claim-in-embassies")["title"] == f"Claim: {HOSTILE} inside embassies"


# --- diff ------------------------------------------------------------------------------------------------------


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """The small fixture after a moderator's edit of every kind."""
    target = tmp_path / "new"
    shutil.copytree(FIXTURE, target)
    entries = target / "entries" / "all.yaml"
    edit(entries, "verdict: false", "verdict: misleading")
    edit(entries, "en: According to An NGO, there were at least 102 stations in 53 countries.",
         "en: According to An NGO, there were at least 102 stations. They were in 53 countries.")
    edit(entries, "        - how big is the police station network\n", "        - how large is the network\n")
    edit(entries, "    keywords: [\"102\", \"53\"]\n", "    keywords: [\"102\", \"53\", NGO]\n")
    tail = "    related: [denial-volunteers]\n    reviewed: 2026-11-{}\n  - id: denial"
    edit(entries, "    sources: [report-one]\n" + tail.format("01"),
         "    sources: [report-one, ministry]\n" + tail.format("20"))
    edit(entries, "        quote: \"volunteers\"", "        quote: \"run by volunteers\"")
    text = entries.read_text(encoding="utf-8")
    start = text.index("  - id: claim-in-embassies")
    claim = text[start:]
    entries.write_text(text[:start] + claim.replace("claim-in-embassies", "claim-in-consulates")
                       .replace("embassy", "consulate").replace("大使馆", "领事馆"), encoding="utf-8")
    edit(
        entries, "related: [count-of-stations, claim-in-embassies]", "related: [count-of-stations, claim-in-consulates]"
    )
    edit(target / "sources" / "all.yaml", "published: 2022-11\n", "published: 2022-11-02\n")
    edit(target / "topics.yaml", "{en: Claims, zh-Hans: 说法}", "{en: Claims that circulate, zh-Hans: 说法}")
    return target


def test_diff_lists_what_changed_field_by_field(edited: Path, small_kb: KnowledgeBase) -> None:
    new = require_knowledge(edited)
    diff = diff_knowledge(small_kb, new)
    assert diff.entries.added == ("claim-in-consulates",) and diff.entries.removed == ("claim-in-embassies",)
    changed = {c.id: c for c in diff.entries.changed}
    assert set(changed) == {"count-of-stations", "denial-volunteers"}
    count = changed["count-of-stations"]
    assert count.fields == ("answer[en]", "questions[en]", "keywords", "sources", "reviewed")
    answer = count.changes[0]
    assert answer.lines[:2] == ("--- old answer[en]", "+++ new answer[en]")
    assert "-According to An NGO, there were at least 102 stations in 53 countries." in answer.lines
    assert "+According to An NGO, there were at least 102 stations." in answer.lines
    assert "+They were in 53 countries." in answer.lines
    assert count.changes[1].lines == ("+ how large is the network", "- how big is the police station network")
    assert count.changes[2].lines == ("+ NGO",) and count.changes[3].lines == ("+ ministry",)
    assert (count.changes[4].old, count.changes[4].new) == ("2026-11-01", "2026-11-20")
    denial = changed["denial-volunteers"]
    assert denial.fields == ("related", "sources")
    assert denial.changes[1].lines == ("~ ministry quote: 'volunteers' -> 'run by volunteers'",)
    assert [(c.id, c.fields) for c in diff.sources.changed] == [("ministry", ("published",))]
    assert "cited by count-of-stations, denial-volunteers" in diff.sources.changed[0].note
    assert [(c.id, c.fields) for c in diff.topics.changed] == [("claims", ("title[en]",))]


def test_diff_shows_verdict_and_translations_changes(tmp_path: Path, small_kb: KnowledgeBase) -> None:
    target = tmp_path / "new"
    shutil.copytree(FIXTURE, target)
    entries = target / "entries" / "all.yaml"
    edit(entries, "verdict: false", "verdict: misleading")
    edit(entries, "zh-Hans: 说法：服务站设在大使馆里", "zh-Hans: 说法：服务站设在使馆里")
    diff = diff_knowledge(small_kb, require_knowledge(target))
    (claim,) = diff.entries.changed
    assert claim.fields == ("verdict", "title[zh-Hans]", "title[zh-Hant]")  # the derived Traditional text too
    assert (claim.changes[0].old, claim.changes[0].new) == ("false", "misleading")
    assert diff.entries.unchanged == 2


def test_cli_diff_prints_the_changes(edited: Path) -> None:
    result = run("diff", str(FIXTURE), str(edited))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "entries: 1 added, 1 removed, 2 changed, 0 unchanged" in out
    assert "  + claim-in-consulates: Claim: the stations are inside embassies" in out
    assert "  - claim-in-embassies: Claim: the stations are inside embassies" in out
    assert "  ~ count-of-stations: answer[en], questions[en], keywords, sources, reviewed" in out
    assert "      +They were in 53 countries." in out and "    reviewed: '2026-11-01' -> '2026-11-20'" in out
    assert "sources: 0 added, 0 removed, 1 changed, 1 unchanged" in out


def test_cli_diff_of_identical_sets_and_of_invalid_ones(tmp_path: Path) -> None:
    result = run("diff", str(FIXTURE), str(FIXTURE))
    assert result.returncode == 0 and "no changes" in result.stdout
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    edit(broken / "entries" / "all.yaml", "sources: [report-one]", "sources: [nope]")
    result = run("diff", str(FIXTURE), str(broken))
    assert result.returncode == 2 and result.stdout == ""
    assert "is not a valid knowledge base" in result.stderr and "cites unknown source 'nope'" in result.stderr
    result = run("diff", str(tmp_path / "missing"), str(FIXTURE))
    assert result.returncode == 2 and "no such directory" in result.stderr


def test_diff_of_the_bundled_knowledge_with_itself(kb: KnowledgeBase) -> None:
    diff = diff_knowledge(kb, kb)
    assert diff.empty and diff.entries.unchanged == len(kb.entries)
    assert "no changes" in format_diff(diff, kb, kb)


def test_sentences_split_english_and_chinese() -> None:
    assert sentences("One. Two? Three") == ["One.", "Two?", "Three"]
    assert sentences("第一句。第二句！第三") == ["第一句。", "第二句！", "第三"]
