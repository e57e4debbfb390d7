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
# Removing from HNSW retires the vectors instead of rebuilding the graph (FAISS cannot delete from HNSW): they stay
# in the graph as waypoints, searches skip them, and the graph file keeps them (the store no longer has them).
# Past this share of retired vectors the graph is built again from the live ones. A rebuild takes minutes at a
# million vectors; before this, every removed or updated article paid it.
MAX_RETIRED_SHARE = 0.1
# The graph file: this header, the ids of every graph node (live and retired) as .npy, the retired nodes'
# positions and float16 vectors as .npy, then the FAISS graph without vectors (IO_FLAG_SKIP_STORAGE).
GRAPH_MAGIC = b"QA-HNSW-GRAPH-1\n"
# A single query gains nothing from OpenMP threads, which only compete with torch's (a peer measured 25 -> 18 ms).
FEW_QUERIES = 4


def ef_search_for(count: int) -> int:
    """The HNSW efSearch for an index of `count` vectors."""
    return int(min(HNSW_EF_SEARCH_MAX, max(HNSW_EF_SEARCH_MIN, count * HNSW_EF_SEARCH_PER_VECTOR)))


def _check_vectors(vectors: np.ndarray, dim: int, dtype: type = np.float32) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=dtype)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {vectors.shape}")
    if not np.isfinite(vectors).all():
        beyond = " (or values beyond float16's range)" if dtype is np.float16 else ""
        raise ValueError(f"vectors contain NaN or infinity{beyond}")
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
    graph's node n is the n-th smallest id, and a store read in id order gives the vectors in graph order. A
    removal from HNSW retires the vectors (MAX_RETIRED_SHARE): the graph file keeps their ids and vectors, which
    the store no longer has."""

    def __init__(self, dim: int, approximate: bool = False) -> None:
        self.dim = dim
        self.approximate = approximate
        self._ids = np.zeros(0, dtype=np.int64)  # FAISS position -> our id, ascending (retired ones too)
        self._retired = np.zeros(0, dtype=bool)  # FAISS position -> retired (removed, still in the HNSW graph)
        self._search_params: faiss.SearchParametersHNSW | None = None  # skips the retired, when there are any
        self._retired_count = 0  # kept with the mask: len() is read on every search
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
                graph: Path | BinaryIO | None = None, catch_up: bool = False) -> VectorIndex:
        """The index over `ids` (ascending) and their `vectors`, given in chunks in the same order (float16 or
        float32; chunks keep a million vectors from being held twice). With `graph` (a file `save` wrote for these
        vectors), search runs on that graph, with the vectors it retired; without it, an exact index is built.
        ValueError if the graph is unreadable or was made for other ids or another dimension.

        `catch_up`: the graph may be older than `ids` (a build was interrupted, or is still running): ids added
        since, all newer than the graph's, are added to it, and ids removed since are retired, with zero vectors
        (the graph file kept no vector of theirs), instead of the whole graph being built again."""
        ids = _check_ids(ids, len(ids))
        if len(ids) > 1 and not (np.diff(ids) > 0).all():
            raise ValueError("ids must be given in ascending order, as the graph was built")
        if graph is None:
            index = cls(dim)
            index._ids, index._retired = ids, np.zeros(len(ids), dtype=bool)
            chunks = _Rest(vectors)
            _fill_fp16(index._index, chunks, np.arange(len(ids)), len(ids), dim)
            if next(chunks, None) is not None:
                raise ValueError(f"{len(ids)} ids but more vectors")
            index._selector_changed()
            index.set_ef_search(ef_search_for(len(index)))
            return index
        if isinstance(graph, Path):
            with graph.open("rb") as file:
                return cls.restore(ids, vectors, dim, file, catch_up)
        try:
            nodes, retired, retired_vectors, hnsw = _read_graph(graph)
        except (RuntimeError, ValueError, OSError, EOFError) as error:
            raise ValueError(f"{getattr(graph, 'name', 'the graph')} is not a readable graph file ({error})"
                             ) from error
        mask = np.zeros(len(nodes), dtype=bool)
        mask[retired] = True
        if hnsw.d != dim or hnsw.ntotal != len(nodes):
            raise ValueError(f"the graph holds {hnsw.ntotal} {hnsw.d}-dimensional vectors, expected {len(ids)} of "
                             f"{dim}")
        in_graph = np.isin(ids, nodes)
        gone = ~mask & ~np.isin(nodes, ids)  # live in the graph, no longer in the store
        newer = ids[~in_graph]
        # Positions follow ids, so the graph can take only ids newer than all of its own; a retired id never
        # comes back (the store never reuses one).
        can_catch_up = catch_up and not np.isin(ids, nodes[mask]).any() and \
            (not len(newer) or not len(nodes) or newer[0] > nodes[-1])
        if not np.array_equal(nodes[~mask], ids) and not can_catch_up:
            raise ValueError(f"the graph holds {hnsw.ntotal} {hnsw.d}-dimensional vectors of other ids, expected "
                             f"{len(ids)} of {dim}")
        index = cls.__new__(cls)
        index.dim, index.approximate, index._ids, index._retired = dim, True, nodes, mask | gone
        index._storage = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        chunks = _Rest(vectors)
        _fill_fp16(index._storage, chunks, np.flatnonzero(~mask & ~gone), len(nodes), dim,
                   extra=(retired, retired_vectors))
        hnsw.storage, hnsw.own_fields = index._storage, False
        index._index = hnsw
        index._selector_changed()
        rest = [np.asarray(chunk, dtype=np.float32) for chunk in chunks]  # the vectors of the ids added since
        if sum(map(len, rest)) != len(newer):
            raise ValueError(f"{len(ids)} ids but {len(ids) - len(newer) + sum(map(len, rest))} vectors")
        if len(newer):
            index.add(newer, np.vstack(rest))
        index.set_ef_search(ef_search_for(len(index)))
        return index

    def __len__(self) -> int:
        """The vectors searched (the retired ones are not)."""
        return int(self._index.ntotal) - self._retired_count

    @property
    def retired(self) -> int:
        """Vectors removed but kept in the HNSW graph as waypoints, until it is built again."""
        return self._retired_count

    def ids(self) -> np.ndarray:
        """Every id held, sorted: a store and its vector index agree when their ids are the same."""
        return self._ids[~self._retired]

    def vectors(self) -> np.ndarray:
        """Every vector held (float32, as float16 kept them), in the order of ids()."""
        total = int(self._index.ntotal)
        every = self._index.reconstruct_n(0, total) if total else np.zeros((0, self.dim), np.float32)
        return every[~self._retired] if self._retired.any() else every

    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add vectors under the given ids (new ones). Past APPROX_MIN_VECTORS an exact index becomes HNSW."""
        vectors = _check_vectors(vectors, self.dim)
        ids = _check_ids(ids, len(vectors))
        if not len(ids):
            return
        order = np.argsort(ids, kind="stable")
        ids, vectors = ids[order], vectors[order]
        if len(np.unique(ids)) != len(ids) or np.isin(ids, self._ids).any():
            raise ValueError("ids must be new and unique")  # a retired id too: the graph still holds it
        approximate = self.approximate or len(self) + len(ids) >= APPROX_MIN_VECTORS
        if len(self._ids) and ids[0] < self._ids[-1] or approximate != self.approximate:
            # Out of order (or growing into HNSW): positions must follow ids, so the index is made again.
            merged = np.concatenate([self.ids(), ids])
            order = np.argsort(merged, kind="stable")
            ids, vectors = merged[order], np.vstack([self.vectors(), vectors])[order]
            self._rebuild(approximate)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        self._index.add(vectors)
        self._ids = np.concatenate([self._ids, ids])
        self._retired = np.concatenate([self._retired, np.zeros(len(ids), dtype=bool)])
        self._selector_changed()  # the selector's bitmap must cover the new positions, or searches skip them
        self.set_ef_search(ef_search_for(len(self)))

    def _rebuild(self, approximate: bool) -> None:
        self.approximate, self._storage = approximate, None
        self._ids, self._retired = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        self._index = _new_faiss_index(self.dim, approximate)
        self._selector_changed()

    def remove(self, ids: np.ndarray | list[int]) -> None:
        """Remove vectors by id. HNSW retires them (searches skip them; the graph keeps them as waypoints) until
        MAX_RETIRED_SHARE of its vectors are retired, then the graph is built again from the live ones. An exact
        index is made again from the vectors it keeps (a copy of float16 vectors: positions must follow ids)."""
        removing = np.isin(self._ids, np.asarray(ids, dtype=np.int64)) & ~self._retired
        if not removing.any():
            return
        if self.approximate and (self._retired | removing).sum() <= MAX_RETIRED_SHARE * len(self._ids):
            self._retired = self._retired | removing
            self._selector_changed()
            self.set_ef_search(ef_search_for(len(self)))
            return
        kept = ~removing[~self._retired]
        kept_ids, kept_vectors = self.ids()[kept], self.vectors()[kept]
        self._rebuild(self.approximate)
        self.add(kept_ids, kept_vectors)

    def _selector_changed(self) -> None:
        """Make the search parameters that skip the retired vectors (none while nothing is retired). The
        selector is kept here: FAISS holds only a pointer to it."""
        self._retired_count = int(self._retired.sum())
        if not self._retired_count:
            self._search_params = None
            return
        # IDSelectorBitmap reads bit i of byte i // 8, least significant bit first: numpy's "little" order.
        self._live_bits = np.packbits(~self._retired, bitorder="little")
        self._selector = faiss.IDSelectorBitmap(len(self._live_bits), faiss.swig_ptr(self._live_bits))  # bytes
        self._search_params = faiss.SearchParametersHNSW(sel=self._selector, efSearch=self._index.hnsw.efSearch)

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Return, per query, up to k (id, score) pairs, best first; k may exceed the index size."""
        queries = _check_vectors(queries, self.dim)
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        if len(queries) <= FEW_QUERIES:
            faiss.omp_set_num_threads(1)
        if self._search_params is None:
            scores, positions = self._index.search(queries, k)
        else:
            scores, positions = self._index.search(queries, k, params=self._search_params)
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
            if self._search_params is not None:
                self._search_params.efSearch = ef_search

    def copy(self) -> VectorIndex:
        """Return an independent copy, to update while readers keep searching this one."""
        twin = VectorIndex.__new__(VectorIndex)
        twin.dim, twin.approximate, twin._ids, twin._storage = self.dim, self.approximate, self._ids.copy(), None
        twin._retired = self._retired.copy()
        twin._index = faiss.clone_index(self._index)  # an HNSW clone owns a clone of its storage
        twin._selector_changed()
        return twin

    def save(self, graph: str | Path) -> bool:
        """Write the HNSW graph atomically (a crash leaves the previous file), without its vectors; return
        whether there was a graph to write. An exact index has none, and a graph file left at `graph` by an
        earlier, larger index is removed, so it can never be restored over other vectors."""
        graph = Path(graph)
        if not self.approximate:
            graph.unlink(missing_ok=True)
            return False
        replace_atomically(graph, self._write_graph)
        return True

    def _write_graph(self, path: Path) -> None:
        """The graph file (GRAPH_MAGIC): what restore() needs besides the live vectors the caller keeps."""
        retired = np.flatnonzero(self._retired)
        retired_vectors = self._index.reconstruct_batch(retired) if len(retired) \
            else np.zeros((0, self.dim), dtype=np.float32)
        with path.open("wb") as file:
            file.write(GRAPH_MAGIC)
            for array in (self._ids, retired.astype(np.int64), retired_vectors.astype(np.float16)):
                np.save(file, array, allow_pickle=False)
            faiss.write_index(self._index, faiss.PyCallbackIOWriter(file.write), faiss.IO_FLAG_SKIP_STORAGE)


def _read_graph(file: BinaryIO) -> tuple[np.ndarray, np.ndarray, np.ndarray, faiss.IndexHNSW]:
    """(node ids, retired positions, their vectors, the graph without vectors) from a file _write_graph wrote."""
    if file.read(len(GRAPH_MAGIC)) != GRAPH_MAGIC:
        raise ValueError("not a graph file of this version")
    nodes, retired, retired_vectors = (np.load(file, allow_pickle=False) for _ in range(3))
    if nodes.dtype != np.int64 or retired.dtype != np.int64 or len(retired) != len(retired_vectors) or \
            (len(retired) and (retired.min() < 0 or retired.max() >= len(nodes))):
        raise ValueError("its node list is damaged")
    # read_index returns the owning proxy of the most derived class (a downcast_index proxy would not own it,
    # and the index would be freed under it). Read through the open file: the one whose bytes the caller checked.
    hnsw = faiss.read_index(faiss.PyCallbackIOReader(file.read), faiss.IO_FLAG_SKIP_STORAGE)
    if not isinstance(hnsw, faiss.IndexHNSW):
        raise ValueError("it holds no HNSW graph")
    return nodes, retired, retired_vectors, hnsw


def _fill_fp16(index: faiss.IndexScalarQuantizer, chunks: _Rest, positions: np.ndarray, count: int,
               dim: int, extra: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Fill an empty fp16 index of `count` vectors: the first len(positions) vectors of `chunks` go to
    `positions` in order (a chunk that runs past them is split, and its rest is the next chunk the iterator
    gives), and `extra` (positions, vectors) to theirs. Written straight into its codes: a float16 vector's bytes
    are its fp16 code. Allocated once at the full size; adding chunk by chunk grew the codes by doubling, and a
    million vectors (768 MB) peaked at about three times that while being copied."""
    size = count * dim * 2
    index.codes.resize(size)
    codes = (faiss.rev_swig_ptr(index.codes.data(), size) if size else np.zeros(0, dtype=np.uint8)
             ).reshape(count, 2 * dim)
    filled, wanted = 0, len(positions)
    if extra is not None and len(extra[0]):
        codes[extra[0]] = _fp16_rows(extra[1], dim)
    while filled < wanted:
        chunk = next(chunks, None)
        if chunk is None:
            break
        rows = _fp16_rows(chunk, dim)
        if filled + len(rows) > wanted:
            chunks.put_back(chunk[wanted - filled:])
            rows = rows[:wanted - filled]
        codes[positions[filled:filled + len(rows)]] = rows
        filled += len(rows)
    if filled != wanted:
        raise ValueError(f"{wanted} ids but {filled} vectors")
    index.ntotal = count


class _Rest:
    """An iterator of chunks that can take back the part of a chunk not used yet."""

    def __init__(self, chunks: Iterable[np.ndarray]) -> None:
        self._chunks, self._back = iter(chunks), []

    def __iter__(self) -> _Rest:
        return self

    def __next__(self) -> np.ndarray:
        return self._back.pop() if self._back else next(self._chunks)

    def put_back(self, chunk: np.ndarray) -> None:
        if len(chunk):
            self._back.append(chunk)


def _fp16_rows(chunk: np.ndarray, dim: int) -> np.ndarray:
    """A chunk of vectors as rows of fp16 code bytes."""
    return _check_vectors(chunk, dim, np.float16).view(np.uint8).reshape(len(chunk), 2 * dim)


def _new_faiss_index(dim: int, approximate: bool) -> faiss.Index:
    fp16 = faiss.ScalarQuantizer.QT_fp16
    if not approximate:
        return faiss.IndexScalarQuantizer(dim, fp16, faiss.METRIC_INNER_PRODUCT)
    hnsw = faiss.IndexHNSWSQ(dim, fp16, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return hnsw
