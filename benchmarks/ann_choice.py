"""Which FAISS index for a large library? Measured on real sentence embeddings, not noise.

Takes every vector of an index folder built by benchmarks/scale.py (the development articles among distractor
prose) and the development and seed questions, encoded as ask() encodes them. Each candidate index is built
from the same vectors; for each search setting: recall@10 against exact search (the share of the exact top 10
found), the search time of one question on one thread (as ask() searches), the bytes per vector it keeps, and
its build time. The cheapest setting with recall@10 >= 0.95 is marked for each index type.

    .venv/bin/python -m benchmarks.ann_choice --index .qa/scale/library-100000.idx
    .venv/bin/python -m benchmarks.ann_choice --index .qa/scale/library-100000.idx --extra more-vectors.npy

At 300,000 the extra vectors are the next 200,000 distractor sentences, encoded alone (no index built).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.report import markdown, save_results
from benchmarks.scale import QUESTIONS
from qa.evaluation.cases import load_question_set
from qa.library import Library

K = 10
TARGET_RECALL = 0.95
EF_SEARCH = (16, 32, 64, 128, 256, 512)
NPROBE = (4, 8, 16, 32, 64, 128)


def candidates(dim: int, count: int) -> dict[str, tuple[faiss.Index, str, tuple[int, ...]]]:
    """name -> (untrained index, the search parameter swept, its values)."""
    nlist = int(4 * np.sqrt(count))
    hnsw_sq8 = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, 32, faiss.METRIC_INNER_PRODUCT)
    return {
        "flat (exact, float32)": (faiss.IndexFlatIP(dim), "", (0,)),
        "flat float16": (faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT),
                         "", (0,)),
        "flat int8 (SQ8)": (faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit,
                                                       faiss.METRIC_INNER_PRODUCT), "", (0,)),
        "HNSW32 float32": (faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT), "efSearch", EF_SEARCH),
        "HNSW32 SQ8": (hnsw_sq8, "efSearch", EF_SEARCH),
        "HNSW32 float16": (faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, 32, faiss.METRIC_INNER_PRODUCT),
                           "efSearch", EF_SEARCH),
        f"IVF{nlist} float32": (faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT),
                                "nprobe", NPROBE),
        f"IVF{nlist} SQ8": (faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist,
                                                          faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT),
                            "nprobe", NPROBE),
        f"IVF{nlist} PQ48": (faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, 48, 8, faiss.METRIC_INNER_PRODUCT),
                             "nprobe", NPROBE),
    }


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact, strict=True)]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--extra", type=Path, nargs="*", default=[],
                        help=".npy files of more sentence vectors (float32, unit length) to add to the index's")
    args = parser.parse_args(argv)
    library = Library.open(args.index)
    encoder = library.encoder
    _, vectors = library.store.all_vectors(encoder.dim)
    vectors = np.ascontiguousarray(np.vstack([vectors, *(np.load(path) for path in args.extra)]), dtype=np.float32)
    questions = [c.question for path in QUESTIONS for c in load_question_set(path).cases]
    queries = np.vstack([encoder.encode([q]) for q in questions]).astype(np.float32)
    faiss.omp_set_num_threads(2)  # builds use both cores
    rows = []
    exact = None
    for name, (index, parameter, values) in candidates(encoder.dim, len(vectors)).items():
        started = time.perf_counter()
        if not index.is_trained:
            sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 100_000), False)]
            index.train(sample)
        index.add(vectors)
        build_s = time.perf_counter() - started
        size = len(faiss.serialize_index(index)) / len(vectors)
        faiss.omp_set_num_threads(1)  # ask() searches one question on one thread
        chosen = False
        for value in values:
            if parameter == "efSearch":
                faiss.downcast_index(index).hnsw.efSearch = value
            elif parameter == "nprobe":
                index.nprobe = value
            found = np.zeros((len(queries), K), dtype=np.int64)
            started = time.perf_counter()
            for n, query in enumerate(queries):
                found[n] = index.search(query[None, :], K)[1][0]
            ms = (time.perf_counter() - started) * 1000 / len(queries)
            if exact is None:
                exact = found.copy()
            score = recall(found, exact)
            mark = score >= TARGET_RECALL and not chosen
            chosen |= mark
            rows.append({"index": name, "setting": f"{parameter}={value}" if parameter else "-",
                         "recall@10": round(score, 3), "ms/question (1 thread)": round(ms, 3),
                         "bytes/vector": round(size), "build s": round(build_s, 1),
                         "chosen": "**yes**" if mark else ""})
            print(json.dumps(rows[-1]), flush=True)
        faiss.omp_set_num_threads(2)
    save_results(f"ann_choice-{len(vectors)}",
                 f"{len(vectors)} vectors, {len(queries)} questions\n\n" + markdown(rows, list(rows[0])), rows)


if __name__ == "__main__":
    main()
