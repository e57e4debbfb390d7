"""Removing an article from an HNSW index: retiring its vectors (shipped) against rebuilding the graph (before).

Real sentence vectors (benchmarks/vector_cache.py's, the scale corpus's first N), one HNSW index built as a
library builds it; then an article's worth of vectors (25) is removed, timed both ways on copies of the same
index in the same run, and recall@10 is measured after retiring 1% and 9% of the vectors (the most it retires
before rebuilding), against exact search over the live vectors, with the development questions as queries.

    .venv/bin/python -m benchmarks.hnsw_removal --vectors 100000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import embeddings.index
from benchmarks.report import markdown, save_results
from embeddings.index import VectorIndex

ARTICLE = 25  # sentences removed by one article's removal or update


def main(argv: list[str] | None = None) -> None:
    from benchmarks.scale import QUESTIONS
    from benchmarks.vector_cache import VectorCache
    from embeddings.encoder import load_encoder
    from qa.evaluation.cases import load_question_set

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    args = parser.parse_args(argv)
    cache = VectorCache()
    vectors = cache.vectors[:args.vectors].astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(len(vectors), dtype=np.int64)
    queries = load_encoder().encode([c.question for p in QUESTIONS for c in load_question_set(p).cases])
    started = time.perf_counter()
    index = VectorIndex(vectors.shape[1], approximate=True)
    index.add(ids, vectors)
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    first = int(rng.integers(0, len(ids) - ARTICLE))
    article = ids[first:first + ARTICLE]

    def timed_removal(share: float) -> float:
        copy, shipped = index.copy(), embeddings.index.MAX_RETIRED_SHARE
        embeddings.index.MAX_RETIRED_SHARE = share
        try:
            began = time.perf_counter()
            copy.remove(article)
            return time.perf_counter() - began
        finally:
            embeddings.index.MAX_RETIRED_SHARE = shipped

    retire_s, rebuild_s = timed_removal(embeddings.index.MAX_RETIRED_SHARE), timed_removal(0.0)

    def recall(retired_share: float) -> tuple[float, float]:
        copy = index.copy()
        gone = rng.choice(ids, int(retired_share * len(ids)), replace=False)
        copy.remove(gone)
        live = ~np.isin(ids, gone)
        exact = VectorIndex.restore(ids[live], [vectors[live]], vectors.shape[1])
        times, found = [], []
        for query in queries:
            began = time.perf_counter()
            got = copy.search(query[None, :], 10)[0]
            times.append((time.perf_counter() - began) * 1000)
            want = exact.search(query[None, :], 10)[0]
            found.append(sum(score >= want[-1][1] - 1e-6 for _, score in got) / 10)
        return float(np.mean(found)), statistics.median(times)

    rows = []
    for share in (0.0, 0.01, 0.09):
        found, ms = recall(share)
        rows.append({"vectors": len(ids), "retired": f"{share:.0%}", "recall@10": round(found, 3),
                     "search p50 ms": round(ms, 2)})
    table = markdown(rows, list(rows[0]))
    summary = (f"\n\nHNSW build of {len(ids):,} vectors: {build_s:.1f} s. Removing one article ({ARTICLE} vectors): "
               f"retired in {retire_s * 1000:.1f} ms, graph rebuilt in {rebuild_s:.1f} s "
               f"({rebuild_s / max(retire_s, 1e-9):,.0f}x).")
    save_results("hnsw_removal", table + summary, {"rows": rows, "build s": build_s, "retire s": retire_s,
                                                    "rebuild s": rebuild_s})


if __name__ == "__main__":
    main()
