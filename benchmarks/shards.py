"""Vector shards (embeddings/shards.py, `qa index --shards N`) against one index of the same vectors: the dense
search of every development and seed question, on real sentence embeddings, 2 cores.

ShardedVectorIndex splits the vectors by id into N shards, searches each on a thread of its own and merges the
top k by score: an exact merge, so the candidates must be those of the one index. This measures that, and the
latency of one question, against one VectorIndex built in the same run.

    .venv/bin/python -m benchmarks.shards --index .qa/scale/library-100000.idx
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.report import save_results
from benchmarks.scale import QUESTIONS
from embeddings.index import VectorIndex
from embeddings.shards import ShardedVectorIndex
from qa.evaluation.cases import load_question_set
from qa.library import Library

CANDIDATES = 50


def _same_ranking(merged: list[tuple[int, float]], one: list[tuple[int, float]]) -> bool:
    """The same scores in the same order, and the same ids wherever a score is not tied with another (equal scores
    come in any order, and a tie at the 50th place may keep either sentence: the distractors repeat sentences)."""
    scores = [round(s, 6) for _, s in merged]
    if scores != [round(s, 6) for _, s in one]:
        return False
    unique = {s for s in scores if scores.count(s) == 1 and s != scores[-1]}  # the last may tie one left out
    return all(a == b for (a, s), (b, _) in zip(merged, one, strict=True) if round(s, 6) in unique)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 3, 4])
    args = parser.parse_args(argv)
    library = Library.open(args.index)
    ids, vectors = library.store.all_vectors(library.encoder.dim)
    questions = [c.question for path in QUESTIONS for c in load_question_set(path).cases]
    queries = np.vstack([library.encoder.encode([q]) for q in questions])
    whole = VectorIndex.build(ids, vectors, library.encoder.dim)

    def timed(search) -> tuple[list, float]:
        found, times = [], []
        for query in queries:
            started = time.perf_counter()
            found.append(search(query[None, :]))
            times.append((time.perf_counter() - started) * 1000)
        return found, statistics.median(times)

    one, one_ms = timed(lambda q: whole.search(q, CANDIDATES)[0])
    lines = [f"{len(ids)} sentences, {len(questions)} questions, top {CANDIDATES}; one index: p50 {one_ms:.2f} ms",
             "",
             "| shards | sentences per shard (min-max) | same top 50 as one index (ties in any order) "
             "| p50 ms, shards in parallel | vs one index |",
             "|---|---|---|---|---|"]
    for count in args.shards:
        sharded = ShardedVectorIndex.build(ids, vectors, library.encoder.dim, count)
        found, ms = timed(lambda q, sharded=sharded: sharded.search(q, CANDIDATES)[0])
        same = sum(1 for a, b in zip(found, one, strict=True) if _same_ranking(a, b))
        sizes = [len(part) for part in sharded.parts]
        lines.append(f"| {count} | {min(sizes)}-{max(sizes)} | {same}/{len(one)} | {ms:.2f} | {ms / one_ms:.2f}x |")
    save_results("shards", "\n".join(lines), lines)


if __name__ == "__main__":
    main()
