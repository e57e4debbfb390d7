"""Exact (flat) vs approximate (HNSW) FAISS search by corpus size: where does VectorIndex switch?

Synthetic 384-d unit vectors drawn around 2,000 centres with heavy noise: a hard case for HNSW, since the
noise makes most vectors nearly equidistant (real sentence embeddings have more structure). Queries are
perturbed corpus vectors. Reports the
single-query search time (one thread, as in a served query), HNSW build time, and HNSW time and recall@10
against the exact result for several efSearch values.

    .venv/bin/python -m benchmarks.vector_index [--sizes 50000,100000,200000,500000,1000000] [--ef 128,1024]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from embeddings.index import VectorIndex

ROOT = Path(__file__).resolve().parent.parent


DIM = 384
QUERIES = 200


def synthetic(count: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((2000, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), count)] + 0.6 * rng.standard_normal((count, DIM)).astype(
        np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def timed_searches(index: VectorIndex, queries: np.ndarray) -> tuple[float, list[list[int]]]:
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        (hits,) = index.search(query[None, :], 10)
        times.append(time.perf_counter() - started)
        results.append([i for i, _ in hits])
    return 1000 * statistics.median(times), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--ef", default="128,256,512,1024,2048,4096", help="HNSW efSearch values to time")
    parser.add_argument("--out", default="vector_index", help="result file stem under benchmarks/results/")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        vectors = synthetic(size, rng)
        queries = vectors[rng.integers(0, size, QUERIES)] + 0.3 * rng.standard_normal((QUERIES, DIM)).astype(
            np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        flat = VectorIndex(DIM, approximate=False)
        flat.add(np.arange(size), vectors)
        flat_ms, exact = timed_searches(flat, queries)
        del flat
        started = time.perf_counter()
        hnsw = VectorIndex(DIM, approximate=True)
        hnsw.add(np.arange(size), vectors)
        build_s = time.perf_counter() - started
        for ef_search in (int(e) for e in args.ef.split(",")):
            hnsw.set_ef_search(ef_search)
            hnsw_ms, approximate = timed_searches(hnsw, queries)
            recall = statistics.mean(len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact, strict=True))
            rows.append({"vectors": size, "flat query ms (p50)": flat_ms, "hnsw efSearch": ef_search,
                         "hnsw query ms (p50)": hnsw_ms, "hnsw build s": build_s, "hnsw recall@10": recall,
                         "flat / hnsw time": flat_ms / hnsw_ms})
            print(rows[-1], flush=True)
        del hnsw, vectors
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in columns) + " |"
              for r in rows]
    print("\n".join(lines))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{args.out}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (results / f"{args.out}.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
