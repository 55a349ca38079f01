"""Which entry a question belongs to, as learnt from the phrasings: linear classifiers trained by scikit-learn.

Comparing a question with each phrasing (``bot.matching``'s n-grams, ``bot.semantic``'s closest vector) treats
every n-gram and every direction of a vector alike, weighted at most by how rare it is. A classifier trained on all
the phrasings, each labelled with its owner (an entry or a group of declined questions), learns which features tell
the owners apart, and its probabilities say how clearly a question belongs to one of them. Two are trained:

- ``NgramClassifier``: character 1- to 4-grams within words, TF-IDF weighted (scikit-learn's ``TfidfVectorizer``),
  then one logistic regression per owner fitted to convergence (``LogisticRegression``, liblinear): about 9 s for
  12,100 phrasings on one core;
- ``VectorClassifier``: a logistic regression (``LogisticRegression``) over the embedding model's vectors: about 7 s.

Both are plain arrays once trained (weights, and the vocabulary for n-grams): ``ClassifierStore`` keeps them in one
``.npz`` file keyed by a hash of what they were trained on, so a start, a reload or the command line trains only
when the phrasings changed. Numbers behind the choices (development set, ``python -m bot eval``): in the README.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from bot.arrays import write_npz

log = logging.getLogger(__name__)

_KEY_BYTES = 16
#: Below these, a knowledge base is not worth a classifier: from a handful of phrasings per entry it learns their
#: accidents (in a three-entry test set, "今天天气怎么样" went to an entry with 99% confidence for sharing 怎么样).
MIN_PHRASINGS = 500
MIN_OWNERS = 8


def worth_training(phrasings: int, owners: int) -> bool:
    """Whether there are enough phrasings and owners to train classifiers on."""
    return phrasings >= MIN_PHRASINGS and owners >= MIN_OWNERS


#: trained classifiers a store keeps (the knowledge as loaded, as extended by moderators' phrasings, a test's...)
KEEP = 6


def _owner_key(kind: str, settings: str, texts: Sequence[str], owners: Sequence[int], n_owners: int) -> bytes:
    h = hashlib.blake2b(f"{kind}\0{settings}\0{n_owners}".encode(), digest_size=_KEY_BYTES)
    for text, owner in zip(texts, owners, strict=True):
        h.update(f"\0{owner}\0{text}".encode())
    return h.digest()


class _Linear:
    """A fitted linear classifier's class scores turned into probabilities as scikit-learn's ``predict_proba`` does
    (softmax for a multinomial model; for one-vs-rest, each class's sigmoid over their sum), spread over every owner
    (0 for owners never seen)."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, owners: np.ndarray, n_owners: int,
                 one_vs_rest: bool) -> None:
        # rounded to float16 precision, as the file stores them: a classifier read back answers exactly like the
        # one just trained
        self.weights = np.asarray(weights, dtype=np.float16).astype(np.float32)  # classes x features
        self.bias = np.asarray(bias, dtype=np.float32)
        self.owners = np.asarray(owners, dtype=np.intp)  # the owner of each class
        self.n_owners = n_owners
        self.one_vs_rest = one_vs_rest

    @classmethod
    def of(cls, model: object, n_owners: int, one_vs_rest: bool) -> _Linear:
        """From a fitted scikit-learn linear classifier (``coef_``, ``intercept_``, ``classes_``)."""
        return cls.fitted(model.coef_, model.intercept_, model.classes_, n_owners, one_vs_rest)  # type: ignore[attr-defined]

    @classmethod
    def fitted(cls, weights: np.ndarray, bias: np.ndarray, classes: np.ndarray, n_owners: int,
               one_vs_rest: bool) -> _Linear:
        """From fitted weights (classes x features), biases and class labels, as scikit-learn gives them."""
        if len(classes) == 2:  # scikit-learn keeps one row for two classes: the second's log-odds against the first
            weights, bias = np.vstack([-weights / 2, weights / 2]), np.array([-bias[0] / 2, bias[0] / 2])
            one_vs_rest = False  # a softmax over (-z/2, z/2) is the sigmoid of z
        return cls(weights, bias, classes, n_owners, one_vs_rest)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """``scores``: the weights times the features, one per class (the bias is added here)."""
        z = scores + self.bias
        p = 1 / (1 + np.exp(-z)) if self.one_vs_rest else np.exp(z - z.max())
        out = np.zeros(self.n_owners, dtype=np.float32)
        total = p.sum()
        out[self.owners] = p / total if total > 0 else 1 / len(p)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights.astype(np.float16), "bias": self.bias, "owners": self.owners,
                "n_owners": np.array([self.n_owners]), "one_vs_rest": np.array([self.one_vs_rest])}

    @classmethod
    def from_arrays(cls, data: Mapping[str, np.ndarray]) -> _Linear:
        return cls(data["weights"], data["bias"], data["owners"], int(data["n_owners"][0]),
                   bool(data["one_vs_rest"][0]))


class NgramClassifier:
    """Owner probabilities from a folded text's character n-grams."""

    kind = "ngrams"
    #: inverse regularisation strength, chosen on the development sets among 10, 30, 100, 300 and 1000
    C = 300.0
    SETTINGS = f"char_wb 1-4 min_df=2 sublinear; one-vs-rest logistic liblinear C={C:g}"

    def __init__(self, key: bytes, vocabulary: Sequence[str], idf: np.ndarray, linear: _Linear) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.key = key
        self._vocabulary = np.asarray(vocabulary)
        self._index = {str(t): i for i, t in enumerate(self._vocabulary)}
        # the fitted vectorizer, rebuilt: ``features`` uses its analyzer (how a text is cut into n-grams)
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True,
                                           vocabulary=self._index, dtype=np.float32)
        self._vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        self._analyze = self._vectorizer.build_analyzer()
        self._idf = np.asarray(idf, dtype=np.float32)
        self._linear = linear
        self._weights_t = np.ascontiguousarray(linear.weights.T)  # features x classes: a question picks rows

    @staticmethod
    def key_of(texts: Sequence[str], owners: Sequence[int], n_owners: int) -> bytes:
        return _owner_key(NgramClassifier.kind, NgramClassifier.SETTINGS, texts, owners, n_owners)

    @classmethod
    def train(cls, key: bytes, texts: Sequence[str], owners: Sequence[int], n_owners: int) -> NgramClassifier | None:
        """Fit on folded phrasings; None when there is nothing to tell apart (fewer than two owners)."""
        if len(set(owners)) < 2:
            return None
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        # n-grams of a single phrasing are noise for the classifier (min_df=2), unless the phrasings are very few
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True,
                                     min_df=2 if len(texts) >= MIN_PHRASINGS else 1, dtype=np.float32)
        matrix = vectorizer.fit_transform(texts)
        # one binary classifier per owner, each fitted to its optimum, which is unique: the same phrasings always give
        # the same classifier, and an edit moves only what it changes. (Five passes of stochastic gradient descent,
        # used before, moved the development figures by up to three points with the random seed alone, and answered
        # fewer questions: see the README.) liblinear releases the interpreter lock while it fits.
        model = OneVsRestClassifier(LogisticRegression(solver="liblinear", C=cls.C))
        model.fit(matrix, np.asarray(owners))
        weights = np.vstack([estimator.coef_ for estimator in model.estimators_])
        bias = np.concatenate([estimator.intercept_ for estimator in model.estimators_])
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        return cls(key, vocabulary, vectorizer.idf_,
                   _Linear.fitted(weights, bias, model.classes_, n_owners, one_vs_rest=True))

    def features(self, folded: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's TF-IDF row as (feature ids, values): what the fitted vectorizer's ``transform`` gives (sublinear
        counts times idf, to unit length), computed here because scikit-learn's checks of its input took longer
        than the arithmetic (0.6 of 1 ms a question). A test holds the two equal."""
        counts: dict[int, int] = {}
        for gram, n in Counter(self._analyze(folded)).items():
            i = self._index.get(gram)
            if i is not None:
                counts[i] = n
        ids = np.fromiter(counts, dtype=np.intp, count=len(counts))
        values = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self._idf[ids]
        norm = float(np.linalg.norm(values))
        return ids, values / norm if norm else values

    def probabilities(self, folded: str) -> np.ndarray:
        ids, values = self.features(folded)
        logits = values @ self._weights_t[ids] if len(ids) else np.zeros(len(self._linear.bias), np.float32)
        return self._linear.probabilities(logits)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self._linear.arrays(), "vocabulary": self._vocabulary, "idf": self._vectorizer.idf_}

    @classmethod
    def from_arrays(cls, key: bytes, data: Mapping[str, np.ndarray]) -> NgramClassifier:
        return cls(key, data["vocabulary"], data["idf"], _Linear.from_arrays(data))


class VectorClassifier:
    """Owner probabilities from a question's embedding vector (``bot.semantic``)."""

    kind = "vectors"
    C = 100.0  # inverse regularisation strength, chosen on the development set among 10, 100 and 1000

    def __init__(self, key: bytes, linear: _Linear) -> None:
        self.key = key
        self._linear = linear

    @staticmethod
    def key_of(model: str, texts: Sequence[str], owners: Sequence[int], n_owners: int) -> bytes:
        return _owner_key(f"{VectorClassifier.kind}:{model}", f"C={VectorClassifier.C}", texts, owners, n_owners)

    @classmethod
    def train(cls, key: bytes, vectors: np.ndarray, owners: Sequence[int], n_owners: int) -> VectorClassifier | None:
        """Fit on phrasing vectors; None when there is nothing to tell apart (fewer than two owners). Always from
        scratch: starting from the previous classifier took 0.05 s instead of 4 s after an attached phrasing, but
        stopped short of the optimum (probabilities 0.07 apart), so the same phrasings would have answered
        differently depending on the edits before."""
        if len(set(owners)) < 2:
            return None
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=cls.C, max_iter=1000).fit(vectors, np.asarray(owners))
        return cls(key, _Linear.of(model, n_owners, one_vs_rest=False))

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        return self._linear.probabilities(self._linear.weights @ vector)

    def arrays(self) -> dict[str, np.ndarray]:
        return self._linear.arrays()

    @classmethod
    def from_arrays(cls, key: bytes, data: Mapping[str, np.ndarray]) -> VectorClassifier:
        return cls(key, _Linear.from_arrays(data))


Classifier = NgramClassifier | VectorClassifier
_C = TypeVar("_C", NgramClassifier, VectorClassifier)
_KINDS: dict[str, type[NgramClassifier] | type[VectorClassifier]] = {
    NgramClassifier.kind: NgramClassifier, VectorClassifier.kind: VectorClassifier,
}


class ClassifierStore:
    """Trained classifiers by key, in memory and in one ``.npz`` file (``None``: memory only).

    Keeps the ``KEEP`` most recently used. A missing or damaged file starts empty (the classifiers are retrained);
    saving writes a new file and renames it over the old one; an unwritable location keeps them in memory (logged).
    The file holds only numbers and strings (read without pickle), derived from public phrasings.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._items: dict[bytes, Classifier] = {}  # least recently used first
        self._dirty = False
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None  # the file's (mtime, size) when last read
        self._read_file()
        self.loaded = frozenset(self._items)  # the keys read from the file at start

    def _read_file(self) -> None:
        """Add the file's classifiers to those in memory, if the file changed since it was last read (``validate``
        in another process trains the classifiers of an edit, then ``/reload`` finds them here)."""
        if self.path is None:
            return
        try:
            stat = self.path.stat()
        except OSError:
            return
        if self._seen == (stat.st_mtime_ns, stat.st_size):
            return
        self._seen = (stat.st_mtime_ns, stat.st_size)
        try:
            found = _read(self.path)
        except Exception as exc:  # truncated, not an npz, missing arrays: retrain rather than fail
            log.warning("classifier file %s is unreadable (%s): classifiers will be retrained", self.path, exc)
            return
        self._items = {**found, **self._items}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: bytes) -> Classifier | None:
        with self._lock:
            if key not in self._items:
                self._read_file()
            item = self._items.pop(key, None)
            if item is not None:
                self._items[key] = item
            return item

    def obtain(self, key: bytes, kind: type[_C], train: Callable[[], _C | None]) -> _C | None:
        """The classifier of ``key``: from memory or the file, else ``train()``ed now and kept. A training failure
        (memory, a library error) is logged and gives None: scores without the classifier fall short of the
        thresholds, so the matcher answers less, never wrongly."""
        found = self.get(key)
        if isinstance(found, kind):
            return found
        # tens of seconds on two cores (the bundled knowledge's two: 36 s and 13 s), said so that a slow start or
        # reload explains itself
        log.info("training the classifier over %s (none trained for these phrasings in %s)", kind.kind,
                 self.path or "memory")
        started = time.perf_counter()
        try:
            trained = train()
        except Exception:
            log.exception("the classifier over %s could not be trained; matching without it", kind.kind)
            return None
        if trained is not None:
            self.put(trained)
            log.info("classifier over %s trained in %.1f s", kind.kind, time.perf_counter() - started)
        return trained

    def put(self, item: Classifier) -> None:
        with self._lock:
            self._items.pop(item.key, None)
            self._items[item.key] = item
            while len(self._items) > KEEP:
                del self._items[next(iter(self._items))]
            self._dirty = True

    def retain(self, keys: Sequence[bytes]) -> int:
        """Forget every classifier but those of ``keys`` (``validate`` keeps the knowledge folder's file to its own
        knowledge). Returns how many were dropped."""
        with self._lock:
            before = len(self._items)
            wanted = set(keys)
            self._items = {k: v for k, v in self._items.items() if k in wanted}
            self._dirty = self._dirty or len(self._items) != before
            return before - len(self._items)

    def save(self) -> bool:
        """Write the file if anything changed; False (logged) when the location is not writable."""
        with self._lock:
            if not self._dirty or self.path is None:
                return True
            arrays: dict[str, np.ndarray] = {}
            for n, item in enumerate(self._items.values()):
                arrays[f"{n}/key"] = np.frombuffer(item.key, dtype=np.uint8)
                arrays[f"{n}/kind"] = np.array(item.kind)
                arrays |= {f"{n}/{name}": value for name, value in item.arrays().items()}
            self._dirty = False
        try:
            write_npz(self.path, arrays)
            return True
        except OSError as exc:
            log.warning("classifier file %s not saved (%s): classifiers stay in memory", self.path, exc)
            return False


def _read(path: Path) -> dict[bytes, Classifier]:
    items: dict[bytes, Classifier] = {}
    with np.load(path, allow_pickle=False) as data:
        n = 0
        while f"{n}/key" in data:
            fields = {name.split("/", 1)[1]: data[name] for name in data.files if name.startswith(f"{n}/")}
            key = np.asarray(fields["key"], dtype=np.uint8).tobytes()
            items[key] = _KINDS[str(fields["kind"])].from_arrays(key, fields)
            n += 1
    return items


#: the store of matchers built without one (tests, benchmarks): in memory, shared by the process
MEMORY = ClassifierStore(None)


def store_path(knowledge_dir: Path | str, env: Mapping[str, str] | None = None) -> Path:
    """Where a knowledge directory keeps its trained classifiers: beside the files (the repository commits the
    bundled knowledge's), unless ``CLASSIFIER_CACHE`` names another file."""
    override = (os.environ if env is None else env).get("CLASSIFIER_CACHE", "").strip()
    return Path(override) if override else Path(knowledge_dir) / ".trained" / "classifiers.npz"
