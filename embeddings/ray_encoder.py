"""Embedding on a Ray cluster: an Encoder whose batches are embedded by encoder actors on the cluster's workers.

Embedding is most of a build, and each sentence is embedded on its own, so it spreads over machines as is. A
batch of texts becomes a Ray Dataset; `map_batches` runs it through `_Embedder` actors (each loads the same
pinned model once, and refuses to run if its file differs from the driver's: an index holds one encoder's
vectors); the vectors come back in the texts' order. Everything else of a build (splitting, entities, the
store, the write lock) stays in the process that writes the index.

A worker needs this project and the pinned model installed (the same `./setup.sh`), as every node of a Ray
cluster runs the driver's code. With the torch backend (QA_ENCODER_BACKEND=torch) on a cluster with GPUs,
each actor takes a GPU.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from embeddings.encoder import BACKEND_ENV_VAR, Encoder, provenance

logger = logging.getLogger(__name__)

# Fewer texts than this are embedded here: a question or a small upload is not worth a trip to the cluster.
RAY_MIN_TEXTS = 1024
RAY_BATCH_SIZE = 256  # texts a worker embeds at once: the ONNX batch session's size for every core


class _Embedder:
    """A Ray actor: one encoder, loaded once, embedding batches of texts."""

    def __init__(self, model_name: str, backend: str, expected: dict) -> None:
        from embeddings.encoder import _load_encoder

        os.environ[BACKEND_ENV_VAR] = backend
        self.encoder = _load_encoder(model_name, backend, local_only=True)
        if provenance(self.encoder) != expected:
            raise RuntimeError(f"this worker's encoder {provenance(self.encoder)} is not the driver's {expected}: "
                               "install the same project and model on every node")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"vector": self.encoder.encode(texts)}


class RayEncoder:
    """Encodes like `encoder` (same name, dimension and provenance: an index cannot tell the vectors apart), but
    batches of RAY_MIN_TEXTS or more are embedded by `workers` actors on a Ray cluster.

    `address`: "local" starts a Ray cluster in this process with `workers` CPUs; anything else is passed to
    ray.init ("auto": the cluster `ray start` runs on this machine; "ray://host:10001": a remote one).
    """

    def __init__(self, encoder: Encoder, address: str = "local", workers: int | None = None) -> None:
        import ray

        self._local = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.backend, self.precision, self.file_sha256 = encoder.backend, encoder.precision, encoder.file_sha256
        if not ray.is_initialized():
            if address == "local":
                ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        resources = ray.cluster_resources()
        self.use_gpus = self.backend == "torch" and resources.get("GPU", 0) >= 1
        available = int(resources.get("GPU" if self.use_gpus else "CPU", 1))
        self.workers = max(1, min(workers or available, available))
        logger.info("Embedding on Ray: %d %s worker(s)", self.workers, "GPU" if self.use_gpus else "CPU")

    def encode(self, texts: Sequence[str], show_progress: bool | None = None) -> np.ndarray:
        if len(texts) < RAY_MIN_TEXTS:
            return self._local.encode(list(texts))
        import ray

        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # vectors must come back in the texts' order
        context.enable_progress_bars = bool(show_progress)
        # Blocks made here, in the driver (from_items runs no task): with every CPU held by an encoder actor, a
        # repartition task would wait for a CPU forever.
        dataset = ray.data.from_items([{"text": t} for t in texts], override_num_blocks=self.workers * 4)
        embedded = dataset.map_batches(
            _Embedder, fn_constructor_kwargs={"model_name": self.name, "backend": self._backend_name(),
                                              "expected": provenance(self._local)},
            batch_size=RAY_BATCH_SIZE, concurrency=self.workers, num_gpus=1 if self.use_gpus else 0,
            num_cpus=0 if self.use_gpus else 1, batch_format="numpy")
        vectors = np.vstack([batch["vector"] for batch in embedded.iter_batches(batch_size=None,
                                                                                batch_format="numpy")])
        if len(vectors) != len(texts):
            raise RuntimeError(f"Ray returned {len(vectors)} vectors for {len(texts)} texts")
        return vectors.astype(np.float32, copy=False)

    def _backend_name(self) -> str:
        """The QA_ENCODER_BACKEND value that loads this encoder on a worker (int8 is its own backend there)."""
        return "onnx-int8" if self.backend == "onnx" and self.precision == "int8" else self.backend

    def close(self) -> None:
        import ray

        ray.shutdown()
