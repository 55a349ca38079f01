"""The classifiers trained on the phrasings, and the file that keeps them."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import classifier, semantic
from bot.classifier import ClassifierStore, NgramClassifier, VectorClassifier
from bot.facts import KnowledgeBase
from bot.matching import LEXICAL_THRESHOLDS, Matcher
from bot.text import fold

TEXTS = ["how many police stations abroad", "number of chinese police stations", "how many stations are there",
         "who runs the stations", "which bureau set them up", "who opened the police stations",
         "is it safe to renew my licence there", "should i renew my driving licence at a station"]
OWNERS = [0, 0, 0, 1, 1, 1, 3, 3]  # owner 2 has no phrasing


def ngrams(texts: list[str] = TEXTS, owners: list[int] = OWNERS, n: int = 4) -> NgramClassifier:
    found = NgramClassifier.train(NgramClassifier.key_of(texts, owners, n), texts, owners, n)
    assert found is not None
    return found


def test_ngram_classifier_learns_which_owner_a_text_belongs_to() -> None:
    model = ngrams()
    for question, owner in (("how many police stations are there abroad", 0), ("who set up the stations", 1),
                            ("renew my licence at the station, safe?", 3)):
        p = model.probabilities(question)
        assert p.shape == (4,) and p.sum() == pytest.approx(1.0, abs=1e-5)
        assert p.argmax() == owner and p[2] == 0  # never an owner without phrasings
    assert model.probabilities("").sum() == pytest.approx(1.0, abs=1e-5)  # no known n-gram: the priors


@given(st.lists(st.text(alphabet="abcdefghij stationpolice中国警察站 ", max_size=60), min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_ngram_features_equal_the_fitted_vectorizers_transform(texts: list[str]) -> None:
    model = ngrams()
    expected = model._vectorizer.transform(texts)
    for n, text in enumerate(texts):
        ids, values = model.features(text)
        row = expected[n]
        got = dict(zip(ids.tolist(), values.tolist(), strict=True))
        assert set(got) == set(row.indices.tolist())
        for i, v in zip(row.indices.tolist(), row.data.tolist(), strict=True):
            assert got[i] == pytest.approx(v, abs=1e-5)


def test_vector_classifier_learns_from_vectors() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    vectors = np.vstack([c + 0.1 * rng.normal(size=(5, 16)) for c in centres]).astype(np.float32)
    owners = [0] * 5 + [2] * 5 + [4] * 5
    model = VectorClassifier.train(b"k" * 16, vectors, owners, 5)
    assert model is not None
    for owner, centre in zip((0, 2, 4), centres, strict=True):
        p = model.probabilities(centre.astype(np.float32))
        assert p.argmax() == owner and p[1] == p[3] == 0


def test_one_owner_trains_nothing_and_two_owners_work() -> None:
    assert NgramClassifier.train(b"k" * 16, ["a b c", "a b d"], [1, 1], 2) is None
    two = ngrams(["police stations abroad", "renew a driving licence"], [0, 2], 3)
    assert two.probabilities("police stations").argmax() == 0
    assert two.probabilities("driving licence").argmax() == 2


def test_the_key_changes_with_any_phrasing_or_owner() -> None:
    key = NgramClassifier.key_of(TEXTS, OWNERS, 4)
    assert key == NgramClassifier.key_of(list(TEXTS), list(OWNERS), 4)
    assert key != NgramClassifier.key_of([*TEXTS[:-1], TEXTS[-1] + "?"], OWNERS, 4)
    assert key != NgramClassifier.key_of(TEXTS, [*OWNERS[:-1], 2], 4)
    assert key != NgramClassifier.key_of(TEXTS, OWNERS, 5)
    assert key != VectorClassifier.key_of("model", TEXTS, OWNERS, 4)


def test_the_store_keeps_classifiers_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "trained" / "classifiers.npz"
    store = ClassifierStore(path)
    model = ngrams()
    store.put(model)
    assert store.save() and oct(path.stat().st_mode & 0o777) == "0o644"
    again = ClassifierStore(path)
    read = again.get(model.key)
    assert isinstance(read, NgramClassifier) and again.loaded == {model.key}
    for question in ("how many stations", "who runs them", "licence renewal", "nothing known here"):
        assert np.array_equal(read.probabilities(question), model.probabilities(question))  # exactly the same


def test_the_store_forgets_the_least_recently_used_and_retain_keeps_what_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    store = ClassifierStore(path)
    models = [ngrams(TEXTS, OWNERS, n) for n in range(4, 4 + classifier.KEEP + 1)]
    store.put(models[0])
    for m in models[1:]:
        store.get(models[0].key)  # used again: the second one becomes the oldest
        store.put(m)
    assert store.save()
    kept = ClassifierStore(path)
    assert [kept.get(m.key) is not None for m in models] == [True, False] + [True] * (classifier.KEEP - 1)
    assert kept.retain([models[-1].key]) == classifier.KEEP - 1 and kept.save()
    assert ClassifierStore(path).loaded == {models[-1].key}


def test_a_damaged_or_unwritable_store_is_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.npz"
    path.write_bytes(b"PK\x03\x04 not a zip")
    store = ClassifierStore(path)
    assert "unreadable" in caplog.text and len(store) == 0
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    unwritable = ClassifierStore(blocker / "c.npz")
    unwritable.put(ngrams())
    assert unwritable.save() is False and "not saved" in caplog.text
    assert len(unwritable) == 1  # still used from memory


def test_a_matcher_trains_once_and_reads_the_store_afterwards(kb: KnowledgeBase, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    store = ClassifierStore(tmp_path / "c.npz")
    with caplog.at_level(logging.INFO, logger="bot.classifier"):
        first = Matcher(kb, classifiers=store)
    said = [r.getMessage() for r in caplog.records]  # a slow start says why
    assert len(first.classifier_keys) == 1 and store.save()
    assert said[0].startswith("training the classifier over ngrams") and "trained in" in said[1]
    caplog.clear()
    calls: list[int] = []
    monkeypatch.setattr(NgramClassifier, "train", classmethod(lambda *a, **k: calls.append(1)))
    with caplog.at_level(logging.INFO, logger="bot.classifier"):
        second = Matcher(kb, classifiers=ClassifierStore(tmp_path / "c.npz"))
    assert calls == [] and second.classifier_keys == first.classifier_keys and not caplog.records
    question = "how many police stations are there abroad"
    assert np.array_equal(second.scores(question), first.scores(question))


def test_the_classifier_adds_its_probability_to_the_ngram_score(kb: KnowledgeBase) -> None:
    without = Matcher(kb, thresholds=dataclasses.replace(LEXICAL_THRESHOLDS, ngram_classifier_weight=0.0))
    with_it = Matcher(kb)
    question = "how many of these police stations exist"
    assert with_it._classifier is not None
    p = with_it._classifier.probabilities(with_it._aliases.apply(fold(question)))
    added = LEXICAL_THRESHOLDS.ngram_classifier_weight * p[: len(kb.entries)]
    assert np.allclose(with_it.scores(question), without.scores(question) + added, atol=1e-5)
    assert with_it.scores(question).argmax() == kb.entries.index(kb.by_id["how-many-stations"])


def test_a_small_knowledge_base_gets_no_classifier(small_kb: KnowledgeBase) -> None:
    """A few phrasings per entry teach a classifier their accidents: the n-grams alone judge."""
    assert Matcher(small_kb, classifiers=ClassifierStore(None)).classifier_keys == ()
    assert not classifier.worth_training(classifier.MIN_PHRASINGS - 1, 50)
    assert not classifier.worth_training(10_000, classifier.MIN_OWNERS - 1)


def test_the_bundled_classifiers_are_current(kb: KnowledgeBase) -> None:
    """Starting on the repository's knowledge trains nothing: the classifiers are in the committed file."""
    store = ClassifierStore(classifier.store_path(kb.directory, env={}))  # the committed file, not the tests' copy
    keys = Matcher(kb, classifiers=store).classifier_keys
    embedder = semantic.default_embedder()
    if embedder is not None:
        cache = semantic.EmbeddingCache(semantic.cache_path(kb.directory, env={}))
        keys += Matcher(kb, embedder=embedder, cache=cache, classifiers=store).classifier_keys
    assert set(keys) <= store.loaded, "run 'python -m bot validate' and commit knowledge/.trained/"


def test_the_store_finds_classifiers_another_process_saved(tmp_path: Path) -> None:
    """``validate`` trains an edit's classifiers in its own process; the running bot's ``/reload`` then reads them."""
    path = tmp_path / "c.npz"
    running = ClassifierStore(path)
    assert running.get(b"x" * 16) is None
    other = ClassifierStore(path)
    model = ngrams()
    other.put(model)
    assert other.save()
    found = running.get(model.key)
    assert isinstance(found, NgramClassifier)
    assert np.array_equal(found.probabilities("how many"), model.probabilities("how many"))


def test_a_classifier_that_cannot_be_trained_leaves_the_matcher_working(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("no room to train")

    monkeypatch.setattr(NgramClassifier, "train", classmethod(broken))
    matcher = Matcher(kb, classifiers=ClassifierStore(None))
    assert matcher.classifier_keys == () and "could not be trained" in caplog.text
    match = matcher.search("how many chinese police stations are there abroad")
    assert match.best is None or match.best.entry.id == "how-many-stations"  # fewer answers, never a wrong one
    assert any(c.entry.id == "how-many-stations" for c in match.candidates)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    from bot.arrays import write_npz

    target = tmp_path / "c.npz"
    write_npz(target, {"a": np.arange(3)})
    (tmp_path / "taken.npz").mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(OSError):
        write_npz(tmp_path / "taken.npz", {"a": np.arange(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz", "taken.npz"]
    with np.load(target) as data:
        assert data["a"].tolist() == [0, 1, 2]
