"""VectorIndex: a FAISS inner-product index addressed by stable integer ids; on disk, only its HNSW graph."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np

from embeddings.atomic import replace_atomically

# Exact search up to this many vectors; past it, HNSW. Measured by benchmarks/vector_index.py (2 cores, 384-d,
# one query at a time): flat search costs ~12 ms per 100k vectors (14 ms at 100k, 35 ms at 300k), so at 200k it
# already exceeds the ~17 ms MiniLM forward pass that every query pays.
APPROX_MIN_VECTORS = 200_000
# 16, not 32: on the 593,891 real sentence vectors of benchmarks/scale.py (efConstruction 200, built in one go),
# 16 neighbours keep a 144-byte graph per vector instead of 272 and find 0.984 / 0.990 of the exact top 10 at
# efSearch 256 / 512 (32 neighbours: 0.989 / 0.994), at the same speed (0.92 / 1.74 ms against 1.24 / 2.37).
HNSW_NEIGHBOURS = 16
# 200, not 80: on 567,859 real sentence vectors (benchmarks/scale.py's corpus before its dictionary markup was
# cleaned), one graph built with 80 found at most 0.78 of the exact top 10 whatever efSearch (up to 2048), one
# built with 200 found 0.93 (efSearch 1024), for 2.5x the build time (253 s instead of 99 s on 2 cores).
HNSW_EF_CONSTRUCTION = 200
# efSearch grows with the index, set on real sentence vectors (benchmarks/scale.py, 593,891 sentences, 294
# questions, recall@10 against exact search): 128 finds 0.977 of the exact top 10 in 0.6 ms, 256 0.989 in 1.1 ms,
# 512 0.993 in 2.2 ms, 1024 0.995 in 4.3 ms; the rule before (2432 there, set on synthetic noise) 0.997 in 10.4 ms.
# From 256 to 1024 at a million: twice the measured need for 0.95 or more at every size.
HNSW_EF_SEARCH_MIN = 256
HNSW_EF_SEARCH_MAX = 1024
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
    """Inner-product search over unit vectors, so scores are cosine similarities, addressed by the caller's ids.

    Vectors are kept as float16 (FAISS's fp16 scalar quantizer, which needs no training): half the memory of
    float32, and the search is faster for it. Measured on 100,661 real sentence embeddings and 294 development
    questions (benchmarks/ann_choice.py, one thread): exact search finds the same top 10 (recall@10 1.000) in
    5.4 ms instead of 9.3 ms.

    The vectors are the caller's to keep on disk (the store keeps them in 8 bits, embeddings/quantize.py): `save`
    writes only what cannot be remade from them quickly, the HNSW graph, and `restore` takes the vectors back. So
    each vector is on disk once (the store and a FAISS file used to hold a copy each: 1.5 of 2.6 KB a sentence at
    100,000).

    Ids are kept in ascending order beside FAISS's positions (the store's ids only grow: AUTOINCREMENT), so the
    graph's node n is the n-th smallest id, and a store read in id order gives the vectors in graph order."""

    def __init__(self, dim: int, approximate: bool = False) -> None:
        self.dim = dim
        self.approximate = approximate
        self._ids = np.zeros(0, dtype=np.int64)  # FAISS position -> our id, ascending
        self._storage: faiss.Index | None = None  # a graph's vectors, attached by restore(): kept alive here
        self._index = _new_faiss_index(dim, approximate)

    @classmethod
    def build(cls, ids: np.ndarray | list[int], vectors: np.ndarray, dim: int) -> VectorIndex:
        """Build a new index, exact or approximate by size."""
        index = cls(dim, approximate=len(ids) >= APPROX_MIN_VECTORS)
        index.add(ids, vectors)
        return index

    @classmethod
    def restore(cls, ids: np.ndarray, vectors: Iterable[np.ndarray], dim: int,
                graph: Path | BinaryIO | None = None) -> VectorIndex:
        """The index over `ids` (ascending) and their `vectors`, given in chunks in the same order (float16 or
        float32; chunks keep a million vectors from being held twice). With `graph` (a file `save` wrote for these
        vectors), search runs on that graph; without it, an exact index is built. ValueError if the graph is
        unreadable or was made for another number of vectors or dimension."""
        ids = _check_ids(ids, len(ids))
        if len(ids) > 1 and not (np.diff(ids) > 0).all():
            raise ValueError("ids must be given in ascending order, as the graph was built")
        if graph is None:
            index = cls(dim)
            index._ids = ids
            _fill_fp16(index._index, vectors, len(ids), dim)
        else:
            index = cls.__new__(cls)
            index.dim, index.approximate, index._ids = dim, True, ids
            try:
                # read_index returns the owning proxy of the most derived class (a downcast_index proxy would
                # not own it, and the index would be freed under it).
                if isinstance(graph, Path):
                    hnsw = faiss.read_index(str(graph), faiss.IO_FLAG_SKIP_STORAGE)
                else:  # an open file: the one whose bytes the caller checked, even if the path was replaced since
                    hnsw = faiss.read_index(faiss.PyCallbackIOReader(graph.read), faiss.IO_FLAG_SKIP_STORAGE)
            except RuntimeError as error:
                raise ValueError(f"{graph} is not a readable FAISS graph ({error})") from error
            if not isinstance(hnsw, faiss.IndexHNSW) or hnsw.d != dim or hnsw.ntotal != len(ids):
                raise ValueError(f"{graph} is a graph of {hnsw.ntotal} {hnsw.d}-dimensional vectors, expected "
                                 f"{len(ids)} of {dim}")
            index._storage = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                                        faiss.METRIC_INNER_PRODUCT)
            _fill_fp16(index._storage, vectors, len(ids), dim)
            hnsw.storage, hnsw.own_fields = index._storage, False
            index._index = hnsw
        index.set_ef_search(ef_search_for(len(index)))
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """Every id held, sorted: a store and its vector index agree when their ids are the same."""
        return self._ids.copy()

    def vectors(self) -> np.ndarray:
        """Every vector held (float32, as float16 kept them), in the order of ids()."""
        return self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), np.float32)

    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add vectors under the given ids (new ones). Past APPROX_MIN_VECTORS an exact index becomes HNSW."""
        vectors = _check_vectors(vectors, self.dim)
        ids = _check_ids(ids, len(vectors))
        if not len(ids):
            return
        order = np.argsort(ids, kind="stable")
        ids, vectors = ids[order], vectors[order]
        if len(np.unique(ids)) != len(ids) or np.isin(ids, self._ids).any():
            raise ValueError("ids must be new and unique")
        approximate = self.approximate or len(self) + len(ids) >= APPROX_MIN_VECTORS
        if len(self._ids) and ids[0] < self._ids[-1] or approximate != self.approximate:
            # Out of order (or growing into HNSW): positions must follow ids, so the index is made again.
            merged = np.concatenate([self._ids, ids])
            order = np.argsort(merged, kind="stable")
            ids, vectors = merged[order], np.vstack([self.vectors(), vectors])[order]
            self._rebuild(approximate)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        self._index.add(vectors)
        self._ids = np.concatenate([self._ids, ids])
        self.set_ef_search(ef_search_for(len(self)))

    def _rebuild(self, approximate: bool) -> None:
        self.approximate, self._storage = approximate, None
        self._ids = np.zeros(0, dtype=np.int64)
        self._index = _new_faiss_index(self.dim, approximate)

    def remove(self, ids: np.ndarray | list[int]) -> None:
        """Remove vectors by id. The index is made again from the vectors it keeps: positions must follow ids
        (and HNSW cannot delete in place); a copy of float16 vectors, and a new graph for HNSW."""
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        if keep.all():
            return
        kept_ids, kept_vectors = self._ids[keep], self.vectors()[keep]
        self._rebuild(self.approximate)
        self.add(kept_ids, kept_vectors)

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Return, per query, up to k (id, score) pairs, best first; k may exceed the index size."""
        queries = _check_vectors(queries, self.dim)
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        if len(queries) <= FEW_QUERIES:
            faiss.omp_set_num_threads(1)
        scores, positions = self._index.search(queries, k)
        return [
            [(int(self._ids[p]), float(s)) for p, s in zip(row_positions, row_scores, strict=True) if p != -1]
            for row_positions, row_scores in zip(positions, scores, strict=True)
        ]

    @property
    def kind(self) -> str:
        """What the manifest records: the index type and how it keeps vectors ("flat-fp16", "hnsw-fp16")."""
        return f"{'hnsw' if self.approximate else 'flat'}-fp16"

    @property
    def ef_search(self) -> int | None:
        """HNSW's efSearch; None for an exact index."""
        return int(self._index.hnsw.efSearch) if self.approximate else None

    def set_ef_search(self, ef_search: int) -> None:
        """Trade HNSW speed for recall (no effect on an exact index); add() sets it by size again."""
        if self.approximate:
            self._index.hnsw.efSearch = ef_search

    def copy(self) -> VectorIndex:
        """Return an independent copy, to update while readers keep searching this one."""
        twin = VectorIndex.__new__(VectorIndex)
        twin.dim, twin.approximate, twin._ids, twin._storage = self.dim, self.approximate, self._ids.copy(), None
        twin._index = faiss.clone_index(self._index)  # an HNSW clone owns a clone of its storage
        return twin

    def save(self, graph: str | Path) -> bool:
        """Write the HNSW graph atomically (a crash leaves the previous file), without its vectors; return
        whether there was a graph to write. An exact index has none, and a graph file left at `graph` by an
        earlier, larger index is removed, so it can never be restored over other vectors."""
        graph = Path(graph)
        if not self.approximate:
            graph.unlink(missing_ok=True)
            return False
        replace_atomically(graph, lambda tmp: faiss.write_index(self._index, str(tmp), faiss.IO_FLAG_SKIP_STORAGE))
        return True


def _fill_fp16(index: faiss.IndexScalarQuantizer, vectors: Iterable[np.ndarray], count: int, dim: int) -> None:
    """Fill an empty fp16 index with `count` vectors given in chunks, written straight into its codes: a
    float16 vector's bytes are its fp16 code. Allocated once at the full size; adding chunk by chunk grew the
    codes by doubling, and a million vectors (768 MB) peaked at about three times that while being copied."""
    size = count * dim * 2
    index.codes.resize(size)
    codes = faiss.rev_swig_ptr(index.codes.data(), size) if size else np.zeros(0, dtype=np.uint8)
    filled = 0
    for chunk in vectors:
        chunk = np.ascontiguousarray(chunk, dtype=np.float16)
        if chunk.ndim != 2 or chunk.shape[1] != dim:
            raise ValueError(f"expected vectors of shape (n, {dim}), got {chunk.shape}")
        if not np.isfinite(chunk).all():
            raise ValueError("vectors contain NaN or infinity (or values beyond float16's range)")
        raw = chunk.view(np.uint8).ravel()
        if filled + len(raw) > size:
            raise ValueError(f"{count} ids but more vectors")
        codes[filled:filled + len(raw)] = raw
        filled += len(raw)
    if filled != size:
        raise ValueError(f"{count} ids but {filled // (2 * dim)} vectors")
    index.ntotal = count


def _new_faiss_index(dim: int, approximate: bool) -> faiss.Index:
    fp16 = faiss.ScalarQuantizer.QT_fp16
    if not approximate:
        return faiss.IndexScalarQuantizer(dim, fp16, faiss.METRIC_INNER_PRODUCT)
    hnsw = faiss.IndexHNSWSQ(dim, fp16, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return hnsw
