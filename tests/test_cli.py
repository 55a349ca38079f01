"""The command line, run as a newcomer would: as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.facts import DEFAULT_DIR

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "good"

pytestmark = pytest.mark.usefixtures("fresh_derived_files")


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60,
        env=env,
    )


def test_ask_answers_in_english_with_sources() -> None:
    result = run("ask", "How many Chinese police stations are there abroad?")
    assert result.returncode == 0, result.stderr
    assert "Sources:" in result.stdout and "Safeguard Defenders" in result.stdout and "https://" in result.stdout


def test_ask_json_has_the_documented_fields() -> None:
    result = run("ask", "--json", "Is it true that the stations are inside Chinese embassies?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("question", "matched", "id", "kind", "verdict", "score", "lang", "answer", "sources", "alternatives"):
        assert key in data
    assert data["matched"] is True and data["id"] == "claim-stations-in-embassies" and data["kind"] == "claim"
    assert data["verdict"] == "false" and data["lang"] == "en" and data["score"] > 0.5
    assert all({"title", "publisher", "url", "date"} <= set(s) for s in data["sources"]) and data["sources"]


def test_ask_reads_questions_from_stdin_one_json_line_each() -> None:
    questions = "海外警察站在大使馆里面吗\n\n荷蘭政府有沒有關閉中國警察站\nwhat is the weather in glasgow\n"
    result = run("ask", "--json", stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["lang"] for d in lines] == ["zh-Hans", "zh-Hant", "en"]
    assert lines[0]["matched"] and lines[0]["id"] == "claim-stations-in-embassies" and "使馆" in lines[0]["answer"]
    # answered, or offered first as "did you mean": never another entry answered instead
    dutch = lines[1]
    assert dutch["id"] == "response-netherlands" or (
        not dutch["matched"] and dutch["alternatives"][0]["id"] == "response-netherlands"
    )
    assert lines[2]["matched"] is False and lines[2]["id"] is None


def test_ask_honours_the_language_preference_only_as_a_hint() -> None:
    result = run("ask", "--json", "--lang", "zh-TW", "what did Safeguard Defenders report")
    assert json.loads(result.stdout)["lang"] == "en"  # an English question: English
    result = run("ask", "--json", "--lang", "zh-TW", "警察站")
    assert json.loads(result.stdout)["lang"] == "zh-Hant"  # no script-specific character: the hint decides
    result = run("ask", "--json", "--lang", "zh-TW", "Safeguard Defenders")
    assert json.loads(result.stdout)["lang"] == "zh-Hant"  # a name alone, spelt alike in every language: the same


def test_chat_replies_like_the_bot_and_quits_on_eof() -> None:
    result = run("chat", stdin="how many stations did safeguard defenders count\n")
    assert result.returncode == 0, result.stderr
    assert "bot>" in result.stdout and "Sources:" in result.stdout


def test_validate_passes_on_the_bundled_knowledge() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK:") or "\nOK:" in result.stdout


def test_validate_fails_with_file_and_line_on_a_broken_edit(tmp_path: Path) -> None:
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, target)
    path = target / "entries" / "all.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("sources: [report-one]", "sources: [nope]", 1))
    result = run("validate", str(target))
    assert result.returncode == 1
    assert "knowledge/entries/all.yaml:" in result.stdout and "cites unknown source 'nope'" in result.stdout
    assert "NOT valid" in result.stdout


def test_a_broken_knowledge_dir_makes_ask_fail_cleanly(tmp_path: Path) -> None:
    result = run("ask", "--knowledge", str(tmp_path), "anything")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "validate" in result.stderr


def test_eval_reports_per_language_and_fails_below_threshold(tmp_path: Path) -> None:
    qs = tmp_path / "q.yaml"
    qs.write_text(
        "questions:\n"
        "  - {q: how many police stations are there abroad, expect: count-of-stations, lang: en}\n"
        "  - {q: 大使馆里有秘密警察站, expect: claim-in-embassies, lang: zh-Hans}\n"
        "  - {q: best pizza in town, expect: none, lang: en}\n"
        "  - {q: did china deny the stations, expect: claim-in-embassies, lang: en}\n",
        encoding="utf-8",
    )
    ok = run("eval", "--knowledge", str(FIXTURE), str(qs), "--min-accuracy", "0.5", "--max-wrong", "0.5")
    assert ok.returncode == 0, ok.stdout
    assert "zh-Hans" in ok.stdout and "expected claim-in-embassies, answered denial-volunteers" in ok.stdout
    strict = run("eval", "--knowledge", str(FIXTURE), str(qs), "--min-accuracy", "0.9", "--max-wrong", "0.5")
    assert strict.returncode == 1 and "FAILED: accuracy" in strict.stdout
    assert "(en)" in strict.stdout and "(zh-Hans)" not in strict.stdout  # each language is held to the bar


def test_knowledge_dir_from_the_environment(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "KNOWLEDGE_DIR": str(FIXTURE)}
    result = run("ask", "--json", "how many police stations are there abroad", env=env)
    assert json.loads(result.stdout)["id"] == "count-of-stations"
    assert DEFAULT_DIR.name == "knowledge"
