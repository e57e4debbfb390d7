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
def test_save_restore_round_trip(tmp_path: Path, approximate: bool) -> None:
    vectors = unit_vectors(20)
    index = VectorIndex(8, approximate=approximate)
    index.add(np.arange(20) * 3, vectors)
    assert index.save(tmp_path / "g.faiss") == approximate and (tmp_path / "g.faiss").exists() == approximate
    graph = tmp_path / "g.faiss" if approximate else None
    # The vectors come back from the caller (the store), in chunks, as float16.
    chunks = [vectors[:7].astype(np.float16), vectors[7:].astype(np.float16)]
    loaded = VectorIndex.restore(np.arange(20) * 3, chunks, 8, graph=graph)
    assert loaded.approximate == approximate and len(loaded) == 20
    assert np.array_equal(loaded.vectors(), index.vectors())  # float16 bytes are FAISS's fp16 codes, bit for bit
    assert loaded.search(vectors[4:5], 1)[0][0][0] == 12
    assert [i for i, _ in loaded.search(vectors[:3], 5)[0]] == [i for i, _ in index.search(vectors[:3], 5)[0]]


def test_the_graph_file_holds_no_vectors(tmp_path: Path) -> None:
    vectors = unit_vectors(2000, dim=64)
    index = VectorIndex(64, approximate=True)
    index.add(np.arange(2000), vectors)
    index.save(tmp_path / "g.faiss")
    # 64 float16 components are 128 bytes a vector; the graph's level 0 alone is 2 * 32 neighbours * 4 bytes.
    assert (tmp_path / "g.faiss").stat().st_size < 2000 * (2 * 32 * 4 + 64)
    # An exact index has no graph, and saving it removes a graph an earlier, larger index left.
    assert not VectorIndex(64).save(tmp_path / "g.faiss") and not (tmp_path / "g.faiss").exists()


def test_a_damaged_or_mismatched_graph_is_refused(tmp_path: Path) -> None:
    vectors = unit_vectors(30)
    index = VectorIndex(8, approximate=True)
    index.add(np.arange(30), vectors)
    index.save(tmp_path / "g.faiss")
    with pytest.raises(ValueError, match="expected 29 of 8"):
        VectorIndex.restore(np.arange(29), [vectors[:29]], 8, graph=tmp_path / "g.faiss")
    with pytest.raises(ValueError, match="expected 30 of 16"):
        VectorIndex.restore(np.arange(30), [unit_vectors(30, dim=16)], 16, graph=tmp_path / "g.faiss")
    with pytest.raises(ValueError, match="ascending"):
        VectorIndex.restore(np.arange(30)[::-1], [vectors], 8, graph=tmp_path / "g.faiss")
    with pytest.raises(ValueError, match="30 ids but 29 vectors"):
        VectorIndex.restore(np.arange(30), [vectors[:29]], 8)
    data = (tmp_path / "g.faiss").read_bytes()
    (tmp_path / "g.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        VectorIndex.restore(np.arange(30), [vectors], 8, graph=tmp_path / "g.faiss")


def test_a_copy_of_a_restored_graph_outlives_it(tmp_path: Path) -> None:
    import gc

    vectors = unit_vectors(40)
    index = VectorIndex(8, approximate=True)
    index.add(np.arange(40), vectors)
    index.save(tmp_path / "g.faiss")
    restored = VectorIndex.restore(np.arange(40), [vectors], 8, graph=tmp_path / "g.faiss")
    twin = restored.copy()
    twin.add([100], unit_vectors(1, seed=3))
    del restored
    gc.collect()
    assert twin.search(vectors[5:6], 1)[0][0][0] == 5 and len(twin) == 41


def test_ids_out_of_order_and_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = unit_vectors(12)
    index = VectorIndex(8)
    index.add([10, 2, 7], vectors[:3])
    index.add([5, 20], vectors[3:5])  # 5 falls between ids already held
    assert index.ids().tolist() == [2, 5, 7, 10, 20]
    assert [index.search(vectors[i:i + 1], 1)[0][0][0] for i in range(5)] == [10, 2, 7, 5, 20]
    with pytest.raises(ValueError, match="new and unique"):
        index.add([5], vectors[:1])
    with pytest.raises(ValueError, match="new and unique"):
        index.add([30, 30], vectors[:2])
    assert len(index) == 5


def test_an_exact_index_becomes_hnsw_as_it_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    import embeddings.index

    monkeypatch.setattr(embeddings.index, "APPROX_MIN_VECTORS", 10)
    vectors = unit_vectors(14)
    index = VectorIndex(8)
    index.add(np.arange(6), vectors[:6])
    assert not index.approximate
    index.add(np.arange(6, 14), vectors[6:])  # a batched build passes the threshold
    assert index.approximate and index.ids().tolist() == list(range(14))
    assert [index.search(vectors[i:i + 1], 1)[0][0][0] for i in range(14)] == list(range(14))


def test_copy_is_independent() -> None:
    index = VectorIndex(8)
    index.add([1, 2], unit_vectors(2))
    twin = index.copy()
    twin.add([3], unit_vectors(1, seed=5))
    assert len(index) == 2 and len(twin) == 3


def test_hnsw_search_effort_grows_with_the_index(tmp_path: Path) -> None:
    assert [ef_search_for(n) for n in (0, 200_000, 500_000, 1_000_000, 5_000_000)] == [256, 256, 512, 1024, 1024]
    index = VectorIndex(8, approximate=True)
    index.add(np.arange(20), unit_vectors(20))
    index.set_ef_search(16)
    index.save(tmp_path / "v.faiss")
    assert index.ef_search == 16
    restored = VectorIndex.restore(np.arange(20), [unit_vectors(20)], 8, graph=tmp_path / "v.faiss")
    assert restored.ef_search == 256  # set by size on load, not as it was saved
    assert VectorIndex(8).ef_search is None
    index.add([100], unit_vectors(1, seed=1))
    assert index.ef_search == 256  # and again after every add


def test_vectors_are_kept_as_float16(tmp_path: Path) -> None:
    vectors = unit_vectors(30)
    assert VectorIndex(8).kind == "flat-fp16" and VectorIndex(8, approximate=True).kind == "hnsw-fp16"
    new = VectorIndex.build(np.arange(30), vectors, 8)
    assert np.abs(new.vectors() - vectors).max() < 1e-3 and new.vectors().dtype == np.float32
    exact = vectors @ vectors[:5].T
    for q in range(5):  # float16 finds the float32 top 5 on these vectors
        assert [i for i, _ in new.search(vectors[q:q + 1], 5)[0]] == list(np.argsort(-exact[:, q])[:5])


def test_removing_from_hnsw_retires_vectors_until_a_tenth_then_rebuilds(tmp_path: Path) -> None:
    """A removal keeps the graph (rebuilding it takes minutes at a million vectors): the removed vectors stay as
    waypoints, skipped by every search and kept in the graph file, since the caller's store no longer has them."""
    vectors, ids = unit_vectors(1000, dim=16), np.arange(1000) * 2 + 7
    index = VectorIndex(16, approximate=True)
    index.add(ids, vectors)
    graph_nodes = index._index.ntotal
    removed = ids[::25]  # 40 of 1,000: under MAX_RETIRED_SHARE
    index.remove(removed)
    assert index.retired == 40 and len(index) == 960 and index._index.ntotal == graph_nodes
    assert not np.isin(removed, index.ids()).any() and len(index.vectors()) == 960
    results = index.search(vectors, 10)
    assert not np.isin([i for row in results for i, _ in row], removed).any()
    assert all(row[0][0] == ids[n] for n, row in enumerate(results) if ids[n] not in removed)
    with pytest.raises(ValueError, match="new and unique"):  # the graph still holds a retired id
        index.add(removed[:1], vectors[:1])
    newer = unit_vectors(5, dim=16, seed=9)  # added after a retirement: searched like the others
    index.add(np.arange(5) + 5000, newer)
    assert [row[0][0] for row in index.search(newer, 1)] == list(range(5000, 5005))
    vectors, ids = np.vstack([vectors, newer]), np.concatenate([ids, np.arange(5) + 5000])
    results = index.search(vectors, 10)
    # Saved and restored from the live vectors alone (as the store gives them): the same graph, the same answers.
    index.save(tmp_path / "g.faiss")
    live = ~np.isin(ids, removed)
    restored = VectorIndex.restore(ids[live], [vectors[live][:500], vectors[live][500:]], 16,
                                   graph=tmp_path / "g.faiss")
    assert restored.retired == 40 and np.array_equal(restored.ids(), ids[live])
    assert restored.search(vectors, 10) == results
    with pytest.raises(ValueError, match="other ids"):  # the graph was made for other live ids
        VectorIndex.restore(ids[:960], [vectors[:960]], 16, graph=tmp_path / "g.faiss")
    # Past a tenth retired, the graph is built again from the live vectors.
    restored.remove(ids[live][:70])
    assert restored.retired == 0 and len(restored) == 895 and restored._index.ntotal == 895
    assert restored.search(vectors[live][100:101], 1)[0][0][0] == ids[live][100]


def test_a_graph_older_than_the_store_catches_up_instead_of_being_rebuilt(tmp_path: Path) -> None:
    """A build interrupted (or still running) past a committed batch leaves the graph behind the store: it takes
    in the ids added since (all newer than its own) and retires the removed ones."""
    vectors, ids = unit_vectors(600, dim=16), np.arange(600) * 2
    index = VectorIndex(16, approximate=True)
    index.add(ids[:400], vectors[:400])
    index.save(tmp_path / "g.faiss")
    graph_nodes = index._index.ntotal
    # The store now: 10 of the graph's sentences deleted, 200 newer ones added.
    now = np.concatenate([ids[10:400], ids[400:]])
    chunks = [vectors[10:300], vectors[300:]]  # a chunk runs across the graph's last id
    with pytest.raises(ValueError, match="other ids"):
        VectorIndex.restore(now, chunks, 16, graph=tmp_path / "g.faiss")
    caught_up = VectorIndex.restore(now, iter(chunks), 16, graph=tmp_path / "g.faiss", catch_up=True)
    assert np.array_equal(caught_up.ids(), now) and caught_up.retired == 10
    assert caught_up._index.ntotal == graph_nodes + 200  # the graph kept, not built again
    found = [row[0][0] for row in caught_up.search(vectors, 1)]
    assert found[10:] == now.tolist() and not set(found[:10]) & set(ids[:10].tolist())
    # Ids older than the graph's newest cannot be placed in it: that takes a rebuild.
    with pytest.raises(ValueError, match="other ids"):
        VectorIndex.restore(np.sort(np.concatenate([ids[:400], [3]])), [vectors[:401]], 16,
                            graph=tmp_path / "g.faiss", catch_up=True)
    with pytest.raises(ValueError, match="ids but"):
        VectorIndex.restore(now, [vectors[11:]], 16, graph=tmp_path / "g.faiss", catch_up=True)
