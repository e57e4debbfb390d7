"""The encoder on ONNX Runtime: the same vectors as sentence-transformers, and an exported file that was changed
is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import DEFAULT_MODEL_SHA256, Encoder, resolve_model
from embeddings.onnx_encoder import EXPORT_FOLDER, EXPORTED, OnnxEncoder, checked_export
from qa.ingest.articles import read_articles
from qa.ingest.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent


def _sentences() -> list[str]:
    articles = read_articles(ROOT / "seeds") + read_articles(ROOT / "data" / "news-dev" / "articles")
    return [a.text[s.start:s.end] for a in articles for s in split_sentences(a.text)]


@pytest.mark.slow
def test_onnx_vectors_match_the_torch_model_on_seeds_and_development_articles(encoder: Encoder) -> None:
    assert isinstance(encoder, OnnxEncoder)  # what load_encoder gives for the pinned model
    texts = _sentences()
    torch_vectors = Encoder().encode(texts)
    onnx_vectors = encoder.encode(texts)
    assert len(texts) == 644 and onnx_vectors.shape == torch_vectors.shape
    assert float(np.min(np.sum(torch_vectors * onnx_vectors, axis=1))) >= 0.9999
    # One at a time (no padding) gives the same vectors as in a padded batch.
    single = np.vstack([encoder.encode([t]) for t in texts[:20]])
    assert float(np.min(np.sum(single * onnx_vectors[:20], axis=1))) >= 0.9999


def test_a_changed_exported_file_is_refused(tmp_path: Path, encoder: Encoder) -> None:
    source, _ = resolve_model("all-MiniLM-L6-v2")
    copy = tmp_path / "model"
    shutil.copytree(source, copy)
    checked_export(copy)  # the export made for the session's encoder passes
    with (copy / EXPORT_FOLDER / EXPORTED).open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\1\2\3\4")
    with pytest.raises(ValueError, match="does not match the sha256 recorded at export"):
        checked_export(copy)


@pytest.mark.slow
def test_a_damaged_export_is_made_again_from_the_verified_weights(tmp_path: Path, encoder: Encoder) -> None:
    source, _ = resolve_model("all-MiniLM-L6-v2")
    copy = tmp_path / "model"
    shutil.copytree(source, copy)
    (copy / EXPORT_FOLDER / EXPORTED).write_bytes(b"not a model")
    fresh = OnnxEncoder("all-MiniLM-L6-v2", copy, DEFAULT_MODEL_SHA256)
    checked_export(copy)
    question = "Who co-chaired the Israel dialogue?"
    assert float(fresh.encode([question])[0] @ encoder.encode([question])[0]) >= 0.9999


@pytest.mark.slow
def test_a_large_batch_on_every_core_gives_the_vectors_of_single_questions(encoder: Encoder) -> None:
    from embeddings.onnx_encoder import BATCH_MIN_TEXTS

    texts = _sentences()[:BATCH_MIN_TEXTS + 20]
    batch = encoder.encode(texts)
    assert encoder._batch_session is not None and encoder._batch_session is not encoder._session
    single = np.vstack([encoder.encode([t]) for t in texts[-30:]])
    assert float(np.min(np.sum(single * batch[-30:], axis=1))) >= 0.9999


@pytest.mark.slow
def test_int8_vectors_are_near_but_not_the_fp32_ones(encoder: Encoder) -> None:
    int8 = OnnxEncoder("all-MiniLM-L6-v2", Path(resolve_model("all-MiniLM-L6-v2")[0]), DEFAULT_MODEL_SHA256,
                       precision="int8")
    assert int8.file_sha256 != encoder.file_sha256
    texts = _sentences()
    cosines = np.sum(int8.encode(texts) * encoder.encode(texts), axis=1)
    print(f"int8 vs fp32 cosine: mean {cosines.mean():.4f}, min {cosines.min():.4f}")
    assert 0.958 <= float(cosines.mean()) < 0.999  # measured: mean 0.9592, min 0.8669


HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "gradio", "matplotlib", "spacy", "sklearn",
                 "pandas", "scipy", "trafilatura", "feedparser", "datasketch", "httpx")


@pytest.mark.slow
def test_a_question_imports_none_of_the_heavy_libraries(seed_library) -> None:  # noqa: ANN001
    """The question path (issue 13): a new process that opens an index and answers imports no torch, no UI, no
    indexing or fetching library."""
    import subprocess
    import sys

    code = (f"import sys\nfrom qa.library import Library\nanswer = Library.open({str(seed_library.index_dir)!r})"
            ".ask('Who co-chaired the Israel dialogue?')\nassert answer.found\n"
            f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
