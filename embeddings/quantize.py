"""Unit vectors kept in 8 bits: one signed byte a dimension and one float32 scale a vector.

What the store keeps on disk (388 bytes a 384-d vector, against 768 as float16 and 1,536 as float32), read
back as float32 for the vector index and the ranker. Each vector has its own scale (its largest absolute value
/ 127), so no training is needed: an index that starts with two articles and grows stays right, which FAISS's
8-bit scalar quantizer (one range a dimension, trained on the first vectors it sees) does not promise.

On all-MiniLM-L6-v2 sentence vectors (largest component 0.13-0.22) a cosine moves by 0.0004 (standard
deviation) and at most 0.003: BENCHMARKS.md, "Disk".
"""

from __future__ import annotations

import numpy as np

_LEVELS = 127  # -127..127: symmetric, so 0 stays 0 and -x is the negation of x


def layout(dim: int) -> np.dtype:
    """One stored vector: its scale, then its codes."""
    return np.dtype([("scale", "<f4"), ("codes", "i1", (dim,))])


def dim_of(row: bytes) -> int:
    """The dimension of one stored vector, from its length."""
    return len(row) - layout(0).itemsize


def to_int8(vectors: np.ndarray) -> np.ndarray:
    """The stored form of `vectors` (n × dim): a structured array; `row.tobytes()` is what goes on disk."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors contain NaN or infinity")
    peak = np.abs(vectors).max(axis=1) if vectors.shape[1] else np.zeros(len(vectors), dtype=np.float32)
    scale = np.where(peak > 0, peak / _LEVELS, 1.0).astype(np.float32)
    stored = np.empty(len(vectors), dtype=layout(vectors.shape[1]))
    stored["scale"] = scale
    stored["codes"] = np.clip(np.rint(vectors / scale[:, None]), -_LEVELS, _LEVELS)
    return stored


def from_int8(stored: bytes | np.ndarray, dim: int) -> np.ndarray:
    """float32 vectors (n × dim) from stored rows: bytes of one or more rows joined, or `to_int8`'s array."""
    rows = np.frombuffer(stored, dtype=layout(dim)) if isinstance(stored, bytes) else stored
    return rows["codes"].astype(np.float32) * rows["scale"][:, None]


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """`vectors` as they will read back from the store: what a writer gives its vector index too, so that the
    process that built an index searches the same vectors as one that opens it. Stored again, they give the
    same bytes."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return from_int8(to_int8(vectors), vectors.shape[1]) if len(vectors) else vectors
