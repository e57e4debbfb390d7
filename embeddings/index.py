"""VectorIndex: a FAISS inner-product index addressed by stable integer ids."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from embeddings.atomic import replace_atomically

# Exact search up to this many vectors; past it, HNSW. Measured by benchmarks/vector_index.py (2 cores, 384-d,
# one query at a time): flat search costs ~12 ms per 100k vectors (14 ms at 100k, 35 ms at 300k), so at 200k it
# already exceeds the ~17 ms MiniLM forward pass that every query pays.
APPROX_MIN_VECTORS = 200_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
# efSearch grows with the index. On deliberately hard synthetic vectors, 1024 keeps recall@10 against exact
# search at 0.99 (100k) and 0.96 (300k), at 6.6 and 5.6 ms, but only 0.74 at 1M, where 4096 gives 0.97 at 19 ms
# (exact: 127 ms) and 8192 gives 0.99 at 50 ms (BENCHMARKS.md).
HNSW_EF_SEARCH_MIN = 1024
HNSW_EF_SEARCH_MAX = 4096
HNSW_EF_SEARCH_PER_VECTOR = HNSW_EF_SEARCH_MAX / 1_000_000
# A single query gains nothing from OpenMP threads, which only compete with torch's (a peer measured 25 -> 18 ms).
FEW_QUERIES = 4


def ef_search_for(count: int) -> int:
    """The HNSW efSearch for an index of `count` vectors."""
    return int(min(HNSW_EF_SEARCH_MAX, max(HNSW_EF_SEARCH_MIN, count * HNSW_EF_SEARCH_PER_VECTOR)))


def _check_vectors(vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors contain NaN or infinity")
    return vectors


def _check_ids(ids: np.ndarray | list[int], count: int) -> np.ndarray:
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if ids.shape != (count,):
        raise ValueError(f"expected {count} ids, got shape {ids.shape}")
    if (ids < 0).any():
        raise ValueError("ids must be non-negative: FAISS uses -1 for 'no result'")
    return ids


class VectorIndex:
    """Inner-product search over unit vectors, so scores are cosine similarities.

    Vectors are kept as float16 (FAISS's fp16 scalar quantizer, which needs no training): half the memory and
    file of float32, and the search is faster for it. Measured on 100,661 real sentence embeddings and 294
    development questions (benchmarks/ann_choice.py, one thread): exact search finds the same top 10 (recall@10
    1.000) in 5.4 ms instead of 9.3 ms. The ranker's features never read these vectors: they read the store's
    copy (also float16, read back as float32)."""

    def __init__(self, dim: int, approximate: bool = False) -> None:
        self.dim = dim
        self.approximate = approximate
        fp16 = faiss.ScalarQuantizer.QT_fp16
        if approximate:
            inner = faiss.IndexHNSWSQ(dim, fp16, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            inner.hnsw.efSearch = ef_search_for(0)
        else:
            inner = faiss.IndexScalarQuantizer(dim, fp16, faiss.METRIC_INNER_PRODUCT)
        # IndexIDMap2 keeps our ids (the store's sentence ids) and can reconstruct vectors by id.
        self._index = faiss.IndexIDMap2(inner)

    @classmethod
    def build(cls, ids: np.ndarray | list[int], vectors: np.ndarray, dim: int) -> VectorIndex:
        """Build a new index, exact or approximate by size."""
        index = cls(dim, approximate=len(ids) >= APPROX_MIN_VECTORS)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """Every id held, sorted: a store and its vector index agree when their ids are the same."""
        return np.sort(faiss.vector_to_array(self._index.id_map).astype(np.int64))

    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add vectors under the given ids."""
        vectors = _check_vectors(vectors, self.dim)
        ids = _check_ids(ids, len(vectors))
        if len(ids):
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            self._index.add_with_ids(vectors, ids)
            self.set_ef_search(ef_search_for(len(self)))

    def remove(self, ids: np.ndarray | list[int]) -> None:
        """Remove vectors by id; HNSW cannot delete in place, so it is rebuilt from the vectors it keeps."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        if not self.approximate:
            self._index.remove_ids(ids)
            return
        all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        keep = all_ids[~np.isin(all_ids, ids)]
        vectors = np.vstack([self._index.reconstruct(int(i)) for i in keep]) if len(keep) else None
        rebuilt = VectorIndex(self.dim, approximate=True)
        if vectors is not None:
            rebuilt.add(keep, vectors)
        self._index = rebuilt._index

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Return, per query, up to k (id, score) pairs, best first; k may exceed the index size."""
        queries = _check_vectors(queries, self.dim)
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        if len(queries) <= FEW_QUERIES:
            faiss.omp_set_num_threads(1)
        scores, ids = self._index.search(queries, k)
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i != -1]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    @property
    def kind(self) -> str:
        """What the manifest records: the index type and how it keeps vectors ("flat-fp16", "hnsw-fp16")."""
        inner = faiss.downcast_index(self._index.index)
        precision = "fp16" if isinstance(inner, faiss.IndexScalarQuantizer | faiss.IndexHNSWSQ) else "fp32"
        return f"{'hnsw' if self.approximate else 'flat'}-{precision}"

    @property
    def ef_search(self) -> int | None:
        """HNSW's efSearch; None for an exact index."""
        return int(faiss.downcast_index(self._index.index).hnsw.efSearch) if self.approximate else None

    def set_ef_search(self, ef_search: int) -> None:
        """Trade HNSW speed for recall (no effect on an exact index); add() sets it by size again."""
        if self.approximate:
            faiss.downcast_index(self._index.index).hnsw.efSearch = ef_search

    def copy(self) -> VectorIndex:
        """Return an independent copy, to update while readers keep searching this one."""
        twin = VectorIndex.__new__(VectorIndex)
        twin.dim, twin.approximate = self.dim, self.approximate
        twin._index = faiss.clone_index(self._index)
        return twin

    def save(self, path: str | Path) -> None:
        """Write the index atomically: a crash leaves the previous file in place."""
        replace_atomically(Path(path), lambda tmp: faiss.write_index(self._index, str(tmp)))

    @classmethod
    def load(cls, path: str | Path, dim: int) -> VectorIndex:
        """Read an index written by save(); raise ValueError if it is damaged or of another dimension."""
        try:
            raw = faiss.read_index(str(path))
        except RuntimeError as error:
            raise ValueError(f"{path} is not a readable FAISS index ({error})") from error
        if raw.d != dim:
            raise ValueError(f"{path} holds {raw.d}-dimensional vectors, expected {dim}")
        index = cls.__new__(cls)
        index.dim = dim
        index._index = faiss.downcast_index(raw) if not isinstance(raw, faiss.IndexIDMap2) else raw
        if not isinstance(index._index, faiss.IndexIDMap2):
            raise ValueError(f"{path} is not an id-mapped index written by VectorIndex.save")
        # An index written before float16 (IndexFlatIP, IndexHNSWFlat) is read and searched as it is.
        index.approximate = isinstance(faiss.downcast_index(index._index.index), faiss.IndexHNSW)
        index.set_ef_search(ef_search_for(len(index)))
        return index
