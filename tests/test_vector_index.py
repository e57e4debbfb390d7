from pathlib import Path

import numpy as np
import pytest

from embeddings.index import VectorIndex, ef_search_for


def unit_vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("approximate", [False, True])
def test_search_returns_our_ids_best_first(approximate: bool) -> None:
    vectors = unit_vectors(50)
    index = VectorIndex(8, approximate=approximate)
    index.add(np.arange(50) + 1000, vectors)
    results = index.search(vectors[:3], 5)
    assert [r[0][0] for r in results] == [1000, 1001, 1002]
    # Vectors are kept as float16: a cosine comes back to about three decimals.
    assert all(r[0][1] == pytest.approx(1.0, abs=1e-3) for r in results)
    assert all(scores == sorted(scores, reverse=True) for scores in ([s for _, s in r] for r in results))


@pytest.mark.parametrize("approximate", [False, True])
def test_remove_and_k_larger_than_index(approximate: bool) -> None:
    vectors = unit_vectors(10)
    index = VectorIndex(8, approximate=approximate)
    index.add(np.arange(10), vectors)
    index.remove([0, 3])
    (result,) = index.search(vectors[:1], 100)
    assert len(result) == 8 and {0, 3}.isdisjoint(i for i, _ in result)
    assert all(i != -1 for i, _ in result)


def test_empty_index_searches_to_nothing() -> None:
    assert VectorIndex(8).search(unit_vectors(2), 5) == [[], []]


def test_bad_vectors_and_ids_are_rejected() -> None:
    index = VectorIndex(8)
    bad = unit_vectors(2)
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        index.add([1, 2], bad)
    with pytest.raises(ValueError, match="shape"):
        index.add([1], unit_vectors(1, dim=4))
    with pytest.raises(ValueError, match="non-negative"):
        index.add([-1], unit_vectors(1))
    assert len(index) == 0


def test_float64_and_strided_input_is_accepted() -> None:
    vectors = unit_vectors(6).astype(np.float64)[::2]
    index = VectorIndex(8)
    index.add([7, 8, 9], vectors)
    assert index.search(vectors[:1], 1)[0][0][0] == 7


@pytest.mark.parametrize("approximate", [False, True])
def test_save_load_round_trip(tmp_path: Path, approximate: bool) -> None:
    vectors = unit_vectors(20)
    index = VectorIndex(8, approximate=approximate)
    index.add(np.arange(20) * 3, vectors)
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", 8)
    assert loaded.approximate == approximate and len(loaded) == 20
    assert loaded.search(vectors[4:5], 1)[0][0][0] == 12


def test_damaged_or_wrong_dimension_file_is_refused(tmp_path: Path) -> None:
    index = VectorIndex(8)
    index.add([1], unit_vectors(1))
    index.save(tmp_path / "v.faiss")
    with pytest.raises(ValueError, match="dimensional"):
        VectorIndex.load(tmp_path / "v.faiss", 16)
    data = (tmp_path / "v.faiss").read_bytes()
    (tmp_path / "v.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        VectorIndex.load(tmp_path / "v.faiss", 8)


def test_copy_is_independent() -> None:
    index = VectorIndex(8)
    index.add([1, 2], unit_vectors(2))
    twin = index.copy()
    twin.add([3], unit_vectors(1, seed=5))
    assert len(index) == 2 and len(twin) == 3


def test_hnsw_search_effort_grows_with_the_index(tmp_path: Path) -> None:
    assert [ef_search_for(n) for n in (0, 200_000, 500_000, 1_000_000, 5_000_000)] == [1024, 1024, 2048, 4096, 4096]
    index = VectorIndex(8, approximate=True)
    index.add(np.arange(20), unit_vectors(20))
    index.set_ef_search(16)
    index.save(tmp_path / "v.faiss")
    assert index.ef_search == 16
    assert VectorIndex.load(tmp_path / "v.faiss", 8).ef_search == 1024  # set by size on load, not as it was saved
    assert VectorIndex(8).ef_search is None
    index.add([100], unit_vectors(1, seed=1))
    assert index.ef_search == 1024  # and again after every add


def test_vectors_are_kept_as_float16_and_an_older_float32_file_still_loads(tmp_path: Path) -> None:
    import faiss

    vectors = unit_vectors(30)
    assert VectorIndex(8).kind == "flat-fp16" and VectorIndex(8, approximate=True).kind == "hnsw-fp16"
    old = faiss.IndexIDMap2(faiss.IndexFlatIP(8))  # what earlier versions wrote
    old.add_with_ids(vectors, np.arange(30))
    faiss.write_index(old, str(tmp_path / "old.faiss"))
    loaded = VectorIndex.load(tmp_path / "old.faiss", 8)
    assert loaded.kind == "flat-fp32" and loaded.search(vectors[:1], 1)[0][0][0] == 0
    new = VectorIndex.build(np.arange(30), vectors, 8)
    new.save(tmp_path / "new.faiss")
    assert (tmp_path / "new.faiss").stat().st_size < (tmp_path / "old.faiss").stat().st_size * 0.7
    exact = vectors @ vectors[:5].T
    for q in range(5):  # float16 finds the float32 top 5 on these vectors
        assert [i for i, _ in new.search(vectors[q:q + 1], 5)[0]] == list(np.argsort(-exact[:, q])[:5])
