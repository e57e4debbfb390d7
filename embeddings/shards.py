"""ShardedVectorIndex: one library's vectors split into N VectorIndex shards, searched in parallel and merged
exactly.

A shard holds the ids whose remainder by N is its number (`shard_of`; a store reads one shard's vectors with the
same rule). Each shard is exact or HNSW by its own size, so a million vectors in 2 shards are two 500,000-vector
graphs. A question's search runs on every shard at once, one thread each (FAISS releases the GIL), and the top k
of their results by score is the top k of one index holding everything: each shard's top k holds every one of
its vectors that can be in the overall top k. On 2 cores, 2 shards of 100,661 vectors searched in 0.58x the time
of one index (benchmarks/shards.py), which is what N shards on N machines would give without the merge's network
round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from embeddings.index import VectorIndex


def shard_of(ids: np.ndarray | Sequence[int], shards: int) -> np.ndarray:
    """The shard of each id: its remainder by `shards`."""
    return np.asarray(ids, dtype=np.int64) % shards


class ShardedVectorIndex:
    """VectorIndex's contract over N shards (N = 1 is one VectorIndex, searched on the caller's thread)."""

    def __init__(self, parts: Sequence[VectorIndex]) -> None:
        if not parts:
            raise ValueError("a sharded index needs at least one shard")
        self.parts = list(parts)
        self.dim = self.parts[0].dim
        self._pool = ThreadPoolExecutor(len(self.parts), thread_name_prefix="shard") if len(self.parts) > 1 else None

    @classmethod
    def build(cls, ids: np.ndarray | Sequence[int], vectors: np.ndarray, dim: int, shards: int = 1
              ) -> ShardedVectorIndex:
        """Each shard built from its ids' vectors, exact or approximate by its own size."""
        ids = np.asarray(ids, dtype=np.int64)
        which = shard_of(ids, shards)
        return cls([VectorIndex.build(ids[which == k], vectors[which == k], dim) for k in range(shards)])

    @property
    def shards(self) -> int:
        return len(self.parts)

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def ids(self) -> np.ndarray:
        """Every id held, sorted."""
        return np.sort(np.concatenate([part.ids() for part in self.parts]))

    def add(self, ids: np.ndarray | Sequence[int], vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors)
        if len(ids) != len(vectors):
            raise ValueError(f"expected {len(vectors)} ids, got {len(ids)}")
        which = shard_of(ids, self.shards)
        for k, part in enumerate(self.parts):
            part.add(ids[which == k], vectors[which == k])

    def remove(self, ids: np.ndarray | Sequence[int]) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        which = shard_of(ids, self.shards)
        for k, part in enumerate(self.parts):
            part.remove(ids[which == k])

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Per query, the k best (id, score) pairs of all shards, best first (ties in shard order)."""
        if self._pool is None:
            return self.parts[0].search(queries, k)
        per_shard = list(self._pool.map(lambda part: part.search(queries, k), self.parts))
        return [sorted((hit for shard in per_query for hit in shard), key=lambda hit: -hit[1])[:k]
                for per_query in zip(*per_shard, strict=True)]

    def copy(self) -> ShardedVectorIndex:
        return ShardedVectorIndex([part.copy() for part in self.parts])

    @property
    def kind(self) -> str:
        """What the manifest records: "hnsw-fp16" for one shard, "2 shards: flat-fp16, hnsw-fp16" for more."""
        kinds = [part.kind for part in self.parts]
        return kinds[0] if len(kinds) == 1 else f"{len(kinds)} shards: {', '.join(kinds)}"

    @property
    def approximate(self) -> bool:
        return any(part.approximate for part in self.parts)

    @property
    def ef_search(self) -> int | None:
        """The largest shard's HNSW efSearch; None when every shard is exact."""
        return max((part.ef_search for part in self.parts if part.ef_search is not None), default=None)

    def set_ef_search(self, ef_search: int) -> None:
        for part in self.parts:
            part.set_ef_search(ef_search)

    def save(self, graphs: Sequence[Path]) -> list[bool]:
        """Write each shard's graph to its path (VectorIndex.save); return which shards had one."""
        if len(graphs) != self.shards:
            raise ValueError(f"{self.shards} shards, {len(graphs)} graph paths")
        return [part.save(path) for part, path in zip(self.parts, graphs, strict=True)]
