"""Embedding on Ray (embeddings/ray_encoder.py): a local Ray cluster with 2 worker processes, started by the test,
builds the same index as one process: the same articles and sentence ids; the encoders' vectors equal within 1e-6
(stored in 8 bits, within one step of that vector's scale)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder
from qa.library import Library

ray = pytest.importorskip("ray", reason="the ray extra is part of the dev install (setup.sh --dev)")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray-articles")
    shutil.copytree(ROOT / "seeds", folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.jsonl"))
    for n in range(12):
        (folder / f"port-{n}.txt").write_text(
            f"Port report {n}\n\n" + " ".join(f"Ship {n}-{k} unloaded {k * 7 + n} containers of grain at berth {k}."
                                              for k in range(8)), encoding="utf-8")
    return folder


def test_a_ray_build_equals_a_single_process_build(articles: Path, tmp_path: Path, encoder: Encoder,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import embeddings.ray_encoder as ray_encoder

    monkeypatch.setattr(ray_encoder, "RAY_MIN_TEXTS", 1)  # the test's 117 sentences go to the cluster too
    alone = Library.build(articles, tmp_path / "alone.idx", encoder)
    texts = [row.text for row in alone.store.sentences(alone.store.all_vectors(encoder.dim)[0].tolist()).values()]
    on_ray = ray_encoder.RayEncoder(encoder, "local", workers=2)
    try:
        assert on_ray.workers == 2 and ray.cluster_resources()["CPU"] == 2
        # The encoders agree within 1e-6, in the texts' order.
        assert float(np.abs(on_ray.encode(texts) - encoder.encode(texts)).max()) <= 1e-6
        # A build's batches all go through one Ray Dataset (its actors made once) and come back cut at the
        # batch boundaries: 40-sentence batches, Ray blocks of 16 texts.
        monkeypatch.setattr("qa.library.SYNC_BATCH_SENTENCES", 40)
        monkeypatch.setattr(ray_encoder, "RAY_BLOCK_TEXTS", 16)
        sizes = [len(b) for b in (texts[:7], texts[7:50], texts[50:])]
        streamed = list(on_ray.encode_batches([texts[:7], texts[7:50], texts[50:]]))
        assert [len(v) for v in streamed] == sizes
        assert float(np.abs(np.vstack(streamed) - encoder.encode(texts)).max()) <= 1e-6
        spread = Library.build(articles, tmp_path / "ray.idx", on_ray)
    finally:
        on_ray.close()
    assert [a.article_id for a in spread.articles()] == [a.article_id for a in alone.articles()]
    ids_alone, vectors_alone = alone.store.all_vectors(encoder.dim)
    ids_ray, vectors_ray = spread.store.all_vectors(encoder.dim)
    assert len(ids_alone) > 100 and np.array_equal(ids_alone, ids_ray)
    # Stored in 8 bits: equal, but where a value lay within 1e-6 of a rounding boundary (one step: the vector's
    # largest absolute value / 127).
    step = np.abs(vectors_alone).max(axis=1, keepdims=True) / 127
    assert bool((np.abs(vectors_alone - vectors_ray) <= step * 1.001).all())
    # The index built on Ray is an ordinary index: opened with the plain encoder, it answers.
    reopened = Library.open(tmp_path / "ray.idx", encoder)
    answer = reopened.ask("Who co-chaired the Israel dialogue?")
    assert answer.found and answer.citations[0].article_id == "004_e8ce38fb4ece313b"


def test_qa_index_refuses_a_bad_worker_count(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from qa.cli import main

    code = main(["index", "seeds", "--index", str(tmp_path / "never.idx"), "--ray", "local", "--ray-workers", "0"])
    assert code != 0 and "--ray-workers must be 1 or more, got 0" in capsys.readouterr().err
    assert not (tmp_path / "never.idx").exists()
