"""The store's 8-bit vectors (embeddings/quantize.py): how far they move, and that storing twice changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.quantize import as_stored, dim_of, from_int8, to_int8


def _unit(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_vector_comes_back_within_half_a_step_and_cosines_within_a_hundredth() -> None:
    vectors = _unit(500, 384)
    stored = to_int8(vectors)
    back = from_int8(stored.tobytes(), 384)
    step = np.abs(vectors).max(axis=1, keepdims=True) / 127
    assert bool((np.abs(back - vectors) <= step / 2 + 1e-7).all())
    assert float(np.abs(back @ vectors.T - vectors @ vectors.T).max()) < 0.01
    assert len(stored[0].tobytes()) == 4 + 384 and dim_of(stored[0].tobytes()) == 384


def test_storing_what_was_read_back_gives_the_same_bytes() -> None:
    vectors = _unit(200, 64, seed=1)
    once = as_stored(vectors)
    assert to_int8(once).tobytes() == to_int8(vectors).tobytes()
    assert np.array_equal(as_stored(once), once)


def test_the_largest_component_and_zero_are_exact() -> None:
    vectors = np.array([[0.5, -0.25, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    back = as_stored(vectors)
    assert back[0, 0] == pytest.approx(0.5, abs=1e-7) and back[0, 2] == 0.0
    assert np.array_equal(back[1], np.zeros(3, dtype=np.float32))


def test_bad_vectors_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN or infinity"):
        to_int8(np.array([[np.nan, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="2-d"):
        to_int8(np.zeros(3, dtype=np.float32))
