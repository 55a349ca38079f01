"""Loading the knowledge base, and every mistake a moderator can make in it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pydantic
import pytest

from bot.facts import DEFAULT_DIR, KnowledgeError, Report, load_knowledge, require_knowledge

GOOD = Path(__file__).parent / "fixtures" / "good"


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(GOOD, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture does not contain {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line containing ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def errors(report: Report) -> list[str]:
    return [str(p) for p in report.errors]


def only_error(kdir: Path) -> str:
    kb, report = load_knowledge(kdir)
    assert kb is None
    assert len(report.errors) == 1, errors(report)
    return str(report.errors[0])


def test_good_fixture_loads_without_problems() -> None:
    kb, report = load_knowledge(GOOD)
    assert kb is not None and report.problems == ()
    assert [e.id for e in kb.entries] == ["count-of-stations", "denial-volunteers", "claim-in-embassies"]
    claim = kb.by_id["claim-in-embassies"]
    assert claim.verdict == "false"  # unquoted YAML `false` is read as the verdict
    assert [s.id for s, _ in kb.cited(kb.by_id["denial-volunteers"])] == ["ministry"]
    assert kb.cited(kb.by_id["denial-volunteers"])[0][1].quote == "volunteers"
    assert kb.sources["ministry"].published == "2022-11"
    assert [e.id for e in kb.related(claim)] == ["denial-volunteers"]


def test_traditional_chinese_is_derived_when_not_written() -> None:
    kb = require_knowledge(GOOD)
    entry = kb.by_id["count-of-stations"]
    assert entry.answer["zh-Hant"].startswith("據")
    assert entry.title["zh-Hant"] == "報道了多少個服務站？"


def test_knowledge_objects_are_immutable() -> None:
    kb = require_knowledge(GOOD)
    with pytest.raises(pydantic.ValidationError):
        kb.entries[0].id = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        kb.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        kb.by_id["x"] = kb.entries[0]  # type: ignore[index]


def test_version_is_a_content_hash(kdir: Path) -> None:
    first = require_knowledge(kdir).version
    assert require_knowledge(kdir).version == first
    edit(kdir / "entries" / "all.yaml", "at least 102 stations", "at least 103 stations")
    assert require_knowledge(kdir).version != first


def test_yaml_syntax_error_has_a_line(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    kind: denial\n", "    kind: [denial\n")
    message = only_error(kdir)
    assert "entries/all.yaml:" in message and "YAML syntax" in message


def test_unknown_field_points_at_its_line(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    topic: claims\n", "    topic: claims\n    verdikt: false\n")
    message = only_error(kdir)
    line = line_of(kdir / "entries" / "all.yaml", "verdikt")
    assert f"all.yaml:{line}:" in message and "[claim-in-embassies]" in message and "unknown field" in message


def test_missing_field(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    reviewed: 2026-11-01\n", "", )
    message = only_error(kdir)
    assert "[count-of-stations]" in message and "reviewed" in message and "required field" in message


def test_duplicate_key_in_a_mapping(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    topic: network\n", "    topic: network\n    topic: claims\n")
    assert "'topic' appears twice" in only_error(kdir)


def test_duplicate_entry_id_across_files(kdir: Path) -> None:
    shutil.copy(kdir / "entries" / "all.yaml", kdir / "entries" / "copy.yaml")
    kb, report = load_knowledge(kdir)
    assert kb is None
    assert any("entry id 'count-of-stations' is already used at" in e for e in errors(report))


def test_unknown_source_cited(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    sources: [report-one]\n", "    sources: [report-two]\n")
    message = only_error(kdir)
    line = line_of(kdir / "entries" / "all.yaml", "report-two")
    assert "cites unknown source 'report-two'" in message and f"all.yaml:{line}:" in message


def test_unused_source_is_a_warning_not_an_error(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "      - id: ministry\n", "      - id: report-one\n")
    kb, report = load_knowledge(kdir)
    assert kb is not None
    assert [str(w) for w in report.warnings] == [
        f"knowledge/sources/all.yaml:{line_of(kdir / 'sources' / 'all.yaml', 'id: ministry')}: warning: "
        "source 'ministry' is not cited by any entry"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("url: https://example.gov/press", "url: example.gov/press", "not a valid http(s) address"),
        ("url: https://example.gov/press", "url: javascript:alert(1)", "not a valid http(s) address"),
        ("published: 2022-11\n", "published: 2022-13\n", "month must be in 1..12"),
        ("published: 2022-11\n", "published: Nov 2022\n", "dates are written YYYY-MM-DD"),
        ("kind: official-statement", "kind: tweet", "Input should be"),
    ],
)
def test_malformed_source_fields(kdir: Path, old: str, new: str, expected: str) -> None:
    edit(kdir / "sources" / "all.yaml", old, new)
    message = only_error(kdir)
    assert expected in message and "sources/all.yaml:" in message


def test_missing_required_language(kdir: Path) -> None:
    answer = "      zh-Hans: 外交部2022年11月2日表示，这些站点由志愿者运营。外交部称他们不是警察。\n"
    edit(kdir / "entries" / "all.yaml", answer, "")
    message = only_error(kdir)
    assert "[denial-volunteers] answer has no 'zh-Hans' text" in message


def test_unknown_language_code(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "      zh-Hans: 外交部怎么说？\n", "      zh-CN: 外交部怎么说？\n")
    kb, report = load_knowledge(kdir)
    assert kb is None
    assert any("unknown language 'zh-CN'" in e for e in errors(report))


def test_answer_too_long_for_a_chat_message(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "there were at least 102 stations", "there were " + "very " * 250 + "many")
    assert "too long for a chat answer" in only_error(kdir)


def test_related_entry_that_does_not_exist(kdir: Path) -> None:
    path = kdir / "entries" / "all.yaml"
    edit(path, "    related: [denial-volunteers]\n    reviewed", "    related: [nowhere]\n    reviewed")
    assert "related entry 'nowhere' does not exist" in only_error(kdir)


def test_same_phrasing_in_two_entries_even_when_spelt_differently(kdir: Path) -> None:
    # the same question after folding: case, punctuation and Traditional script do not make it different
    edit(kdir / "entries" / "all.yaml", "        - 中方否认了吗\n", "        - 海外警察站，有多少個？\n")
    message = only_error(kdir)
    path = kdir / "entries" / "all.yaml"
    assert "is also a phrasing of 'count-of-stations'" in message
    assert message.startswith(f"knowledge/entries/all.yaml:{line_of(path, '有多少個')}:")  # the duplicate
    assert f"all.yaml:{line_of(path, '海外警察站有多少个')})" in message  # and the original it repeats


def test_claim_without_verdict_and_fact_with_one(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    verdict: false\n", "")
    edit(kdir / "entries" / "all.yaml", "    kind: denial\n", "    kind: denial\n    verdict: accurate\n")
    kb, report = load_knowledge(kdir)
    assert kb is None
    messages = errors(report)
    assert any("[claim-in-embassies] a claim needs a verdict" in m for m in messages)
    assert any("[denial-volunteers] only claims carry a verdict" in m for m in messages)


def test_too_few_question_phrasings(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "        - 服务站的数量是多少\n        - 警察站网络有多大\n", "")
    assert "has 3 'zh-Hans' question phrasings; at least 5" in only_error(kdir)


def test_unknown_topic(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "    topic: claims\n", "    topic: rumours\n")
    assert "topic 'rumours' is not in topics.yaml" in only_error(kdir)


def test_bad_id(kdir: Path) -> None:
    edit(kdir / "entries" / "all.yaml", "  - id: claim-in-embassies\n", "  - id: Claim In Embassies\n")
    kb, report = load_knowledge(kdir)
    assert kb is None and any("ids use lowercase letters" in e for e in errors(report))


def test_not_utf8_and_empty_files(kdir: Path) -> None:
    (kdir / "entries" / "latin1.yaml").write_bytes("entries: []\n# caf\xe9\n".encode("latin-1"))
    (kdir / "entries" / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    kb, report = load_knowledge(kdir)
    assert kb is None
    messages = errors(report)
    assert any("latin1.yaml" in m and "not UTF-8" in m for m in messages)
    assert any("empty.yaml" in m and "empty" in m for m in messages)


def test_missing_directory(tmp_path: Path) -> None:
    kb, report = load_knowledge(tmp_path / "nope")
    assert kb is None and "no such directory" in errors(report)[0]
    with pytest.raises(KnowledgeError):
        require_knowledge(tmp_path / "nope")


def test_the_bundled_knowledge_base_is_valid() -> None:
    kb, report = load_knowledge(DEFAULT_DIR)
    assert kb is not None, "\n".join(errors(report))
    assert len(kb.entries) >= 50
    for entry in kb.entries:
        assert entry.sources, entry.id
        for lang in ("en", "zh-Hans", "zh-Hant"):
            assert entry.answer.get(lang) and entry.title.get(lang), (entry.id, lang)
        assert len(entry.questions["en"]) >= 5 and len(entry.questions["zh-Hans"]) >= 5, entry.id
        if entry.kind == "claim":
            assert entry.verdict and entry.claimant, entry.id


OFF_TOPIC = """\
out_of_scope:
  - id: consular
    about: Passports and visas.
    questions:
      en: [how do i renew my passport, visa for china]
      zh-Hans: [怎么换护照]
"""


def test_out_of_scope_questions_load(kdir: Path) -> None:
    (kdir / "out-of-scope.yaml").write_text(OFF_TOPIC, encoding="utf-8")
    kb, report = load_knowledge(kdir)
    assert kb is not None and report.problems == ()
    assert [g.id for g in kb.off_topic] == ["consular"]
    assert kb.off_topic[0].questions["en"] == ("how do i renew my passport", "visa for china")
    bare, _ = load_knowledge(GOOD)
    assert bare is not None and bare.off_topic == () and bare.version != kb.version  # the file is in the hash


def test_out_of_scope_question_an_entry_answers(kdir: Path) -> None:
    # a question is either answered or declined: the same words (after folding) in both is an error, with its line
    (kdir / "out-of-scope.yaml").write_text(OFF_TOPIC.replace("visa for china", "Number of overseas police "
                                                              "stations?"), encoding="utf-8")
    message = only_error(kdir)
    assert message.startswith("knowledge/out-of-scope.yaml:5:")
    assert "is a phrasing of entry 'count-of-stations'" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("id: consular", "id: count-of-stations", "is also an entry id"),
        ("    about: Passports and visas.\n", "", "about"),
        ("en: [how do i renew my passport, visa for china]", "xx: [hello]", "unknown language 'xx'"),
    ],
)
def test_out_of_scope_mistakes(kdir: Path, old: str, new: str, expected: str) -> None:
    (kdir / "out-of-scope.yaml").write_text(OFF_TOPIC.replace(old, new), encoding="utf-8")
    assert expected in only_error(kdir)


def test_out_of_scope_group_declared_twice(kdir: Path) -> None:
    twice = OFF_TOPIC + OFF_TOPIC.split("\n", 1)[1].replace("renew my passport", "get a visa")
    (kdir / "out-of-scope.yaml").write_text(twice, encoding="utf-8")
    message = only_error(kdir)
    assert "out-of-scope group id 'consular' is already used at knowledge/out-of-scope.yaml:2" in message


def test_names_load_and_a_name_belongs_to_one_group(kdir: Path) -> None:
    path = kdir / "names.yaml"
    path.write_text("names:\n  - [Rotterdam, 鹿特丹]\n  - [Netherlands, Nederland, 荷兰]\n", encoding="utf-8")
    kb, report = load_knowledge(kdir)
    assert kb is not None and report.problems == ()
    assert kb.names == (("Rotterdam", "鹿特丹"), ("Netherlands", "Nederland", "荷兰"))
    path.write_text("names:\n  - [Rotterdam, 鹿特丹]\n  - [Netherlands,\n     荷蘭, ROTTERDAM]\n", encoding="utf-8")
    assert only_error(kdir) == ("knowledge/names.yaml:4: error: name 'ROTTERDAM' is also in the group at line 2 "
                                "('Rotterdam'): a name may stand for one thing only")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("names:\n  - [Rotterdam]\n", "needs at least two different names"),
        ("names:\n  - [Rotterdam, ROTTERDAM!]\n", "needs at least two different names"),
        ("names:\n  - [Rotterdam, '!!', 鹿特丹]\n", "has no letters to match"),
        ("names:\n  - Rotterdam\n", "names.yaml:2"),
        ("names: Rotterdam\n", "'names:' must hold a list"),
    ],
)
def test_name_group_mistakes(kdir: Path, content: str, expected: str) -> None:
    (kdir / "names.yaml").write_text(content, encoding="utf-8")
    assert expected in only_error(kdir)


def test_names_that_are_ordinary_words_load_and_are_checked(kdir: Path) -> None:
    path = kdir / "names.yaml"
    names = "names:\n  - [United States, Estados Unidos, USA]\n  - [Seoul, Seul]\n"
    path.write_text(names + "words:\n  - [USA, es, pt]\n  - [seul, fr]\n", encoding="utf-8")
    kb, report = load_knowledge(kdir)
    assert kb is not None and report.problems == () and kb.words == (("USA", "es", "pt"), ("seul", "fr"))
    path.write_text(names + "words:\n  - [Usa, es]\n  - [Usted, es]\n", encoding="utf-8")
    assert only_error(kdir) == "knowledge/names.yaml:6: error: 'Usted' is not in 'names:': list its names there first"
    path.write_text(names + "words:\n  - [USA, es, ru]\n", encoding="utf-8")
    assert "names.yaml:5: error: 'ru' is not one of the bot's Latin-script languages (en, es" in only_error(kdir)
    path.write_text(names + "words:\n  - [USA, zh-Hans]\n", encoding="utf-8")
    assert "'zh-Hans' is not one of the bot's Latin-script languages" in only_error(kdir)
    path.write_text(names + "words:\n  - [USA]\n", encoding="utf-8")
    assert "name a name, then the languages where it is an ordinary word" in only_error(kdir)


def test_places_within_a_country_load_and_are_checked(kdir: Path) -> None:
    path = kdir / "names.yaml"
    names = "names:\n  - [Germany, 德国]\n  - [Spain, 西班牙]\n  - [Berlin, 柏林]\n"
    path.write_text(names + "within:\n  - [Germany, Berlin]\n", encoding="utf-8")
    kb, report = load_knowledge(kdir)
    assert kb is not None and report.problems == () and kb.within == (("Germany", "Berlin"),)
    path.write_text(names + "within:\n  - [Germany, Berlin, Munich]\n", encoding="utf-8")
    assert only_error(kdir) == "knowledge/names.yaml:6: error: 'Munich' is not in 'names:': list its names there first"
    path.write_text(names + "within:\n  - [Germany, Berlin]\n  - [Spain, 柏林]\n", encoding="utf-8")
    assert only_error(kdir) == "knowledge/names.yaml:7: error: '柏林' is already within 'Germany'"
    path.write_text(names + "within:\n  - [Germany]\n", encoding="utf-8")
    assert "name a country, then the places in it" in only_error(kdir)
