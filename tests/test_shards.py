"""Vector shards (embeddings/shards.py): searched in parallel and merged exactly, a library split into shards
answers as one index does, and each shard's graph is kept, checked and healed on its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder
from embeddings.index import VectorIndex
from embeddings.shards import ShardedVectorIndex, shard_of
from qa.index.folder import MANIFEST, files_agree
from qa.index.store import Store
from qa.library import Library

ROOT = Path(__file__).resolve().parent.parent


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("shards", [2, 3])
def test_the_merged_search_is_one_index_search(shards: int) -> None:
    vectors, queries = unit_vectors(300), unit_vectors(20, seed=1)
    ids = np.arange(300) * 7 + 5
    one = VectorIndex.build(ids, vectors, 16)
    split = ShardedVectorIndex.build(ids, vectors, 16, shards)
    assert [len(part) for part in split.parts] == np.bincount(shard_of(ids, shards)).tolist()
    assert np.array_equal(split.ids(), ids) and len(split) == 300
    assert split.search(queries, 10) == one.search(queries, 10)
    split.remove(ids[:40])
    split.add(np.arange(3000, 3010), unit_vectors(10, seed=2))
    one.remove(ids[:40])
    one.add(np.arange(3000, 3010), unit_vectors(10, seed=2))
    assert split.search(queries, 25) == one.search(queries, 25)
    assert split.kind == f"{shards} shards: " + ", ".join(["flat-fp16"] * shards)


def test_the_store_reads_a_shard_as_shard_of_splits_ids(tmp_path: Path) -> None:
    from tests.test_store import _add

    store = Store(tmp_path / "store.sqlite")
    ids = _add(store, "a", [f"Sentence {n} of the report." for n in range(11)])
    for number in range(3):
        mine = np.array(ids)[shard_of(ids, 3) == number]
        assert store.sentence_ids((number, 3)).tolist() == mine.tolist()
        assert sum(len(c) for c in store.vector_chunks(4, shard=(number, 3))) == len(mine)


def test_a_library_in_shards_answers_as_one_index(tmp_path: Path, encoder: Encoder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    articles = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", articles, ignore=shutil.ignore_patterns("*.jsonl"))
    one = Library.build(articles, tmp_path / "one.idx", encoder)
    monkeypatch.setattr("embeddings.index.APPROX_MIN_VECTORS", 5)  # each shard HNSW: a graph each
    split = Library.build(articles, tmp_path / "split.idx", encoder, shards=2)
    manifest = json.loads((tmp_path / "split.idx" / MANIFEST).read_text())
    assert manifest["shards"] == 2 and manifest["vector_index"] == "2 shards: hnsw-fp16, hnsw-fp16"
    assert all(manifest["graph_sha256"]) and files_agree(tmp_path / "split.idx")
    questions = ["Who co-chaired the Israel dialogue?", "What did the minister say about exports?",
                 "When was the agreement signed?"]
    for question in questions:
        assert [c.start for c in split.search(question, 5)] == [c.start for c in one.search(question, 5)]
    reopened = Library.open(tmp_path / "split.idx", encoder)
    assert reopened.vector_ids_match_the_store()
    assert reopened.ask(questions[0]).citations[0].article_id == one.ask(questions[0]).citations[0].article_id
    # One shard's graph damaged: that shard alone is rebuilt from the store, and the next write heals it.
    (tmp_path / "split.idx" / "graph-1.faiss").write_bytes(b"not a graph")
    healed = Library.open(tmp_path / "split.idx", encoder)
    assert healed.vector_ids_match_the_store() and not files_agree(tmp_path / "split.idx")
    Library.build(articles, tmp_path / "split.idx", encoder)
    assert files_agree(tmp_path / "split.idx")
    with pytest.raises(ValueError, match="has 2 vector shard"):
        Library.build(articles, tmp_path / "split.idx", encoder, shards=3)


def test_qa_index_refuses_a_bad_shard_count(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from qa.cli import main

    assert main(["index", str(ROOT / "seeds"), "--index", str(tmp_path / "x.idx"), "--shards", "0"]) != 0
    assert "--shards must be 1 or more, got 0" in capsys.readouterr().err and not (tmp_path / "x.idx").exists()


def test_a_rebuild_keeps_the_shard_count_and_a_killed_build_is_healed(tmp_path: Path, encoder: Encoder) -> None:
    articles = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", articles, ignore=shutil.ignore_patterns("*.jsonl"))
    Library.build(articles, tmp_path / "i.idx", encoder, shards=2)
    Library.rebuild(articles, tmp_path / "i.idx", encoder)
    assert json.loads((tmp_path / "i.idx" / MANIFEST).read_text())["shards"] == 2
    # A build killed after a batch's commit leaves the manifest behind the store; the next (no-op) build heals it.
    library = Library.open(tmp_path / "i.idx", encoder)
    with library.store.transaction() as db:
        library.store.set_setting(db, "generation", str(library.generation + 1))
    assert not files_agree(tmp_path / "i.idx")
    Library.build(articles, tmp_path / "i.idx", encoder)
    assert files_agree(tmp_path / "i.idx")
