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
from collections.abc import Iterator, Sequence

import numpy as np

from embeddings.encoder import BACKEND_ENV_VAR, Encoder, provenance

logger = logging.getLogger(__name__)

# Fewer texts than this are embedded here: a question or a small upload is not worth a trip to the cluster.
RAY_MIN_TEXTS = 1024
RAY_BATCH_SIZE = 256  # texts a worker embeds at once
RAY_BLOCK_TEXTS = 2048  # texts per Ray Data block: work is handed out, and comes back in order, by blocks


class _Embedder:
    """A Ray actor: one encoder, loaded once, embedding batches of texts."""

    def __init__(self, model_name: str, backend: str, expected: dict, threads: int) -> None:
        from embeddings.encoder import _load_encoder

        os.environ[BACKEND_ENV_VAR] = backend
        self.encoder = _load_encoder(model_name, backend, local_only=True)
        if provenance(self.encoder) != expected:
            raise RuntimeError(f"this worker's encoder {provenance(self.encoder)} is not the driver's {expected}: "
                               "install the same project and model on every node")
        # The CPUs Ray gave this actor, not every core of its node: N actors would otherwise run N x cores
        # threads. (A GPU actor's threads only feed the GPU.)
        if hasattr(self.encoder, "use_batch_threads"):
            self.encoder.use_batch_threads(threads)
        else:
            import torch

            torch.set_num_threads(threads)

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
        return next(self.encode_batches([texts], show_progress))

    def encode_batches(self, batches: Sequence[Sequence[str]], show_progress: bool | None = None
                       ) -> Iterator[np.ndarray]:
        """Each batch's vectors, in order. Every batch goes into one Ray Dataset, so the encoder actors are made
        (and load the model) once a build, and keep embedding the next batches while the caller stores the
        first ones (Ray Data's streaming execution)."""
        sizes = [len(batch) for batch in batches]
        if sum(sizes) < RAY_MIN_TEXTS:
            yield from (self._local.encode(list(batch)) for batch in batches)
            return
        import ray

        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # vectors must come back in the texts' order
        context.enable_progress_bars = bool(show_progress)
        # Blocks made here, in the driver (from_items runs no task): with every CPU held by an encoder actor, a
        # repartition task would wait for a CPU forever. Small blocks, so the first batch is ready early.
        items = [{"text": t} for batch in batches for t in batch]
        blocks = max(self.workers * 4, -(-len(items) // RAY_BLOCK_TEXTS))
        dataset = ray.data.from_items(items, override_num_blocks=blocks)
        embedded = dataset.map_batches(
            _Embedder, fn_constructor_kwargs={"model_name": self.name, "backend": self._backend_name(),
                                              "expected": provenance(self._local), "threads": 1},
            batch_size=RAY_BATCH_SIZE, concurrency=self.workers, num_gpus=1 if self.use_gpus else 0,
            num_cpus=0 if self.use_gpus else 1, batch_format="numpy")
        arriving = (block["vector"] for block in embedded.iter_batches(batch_size=None, batch_format="numpy"))
        held = np.zeros((0, self.dim), dtype=np.float32)
        for size in sizes:
            parts = [held]
            while sum(len(p) for p in parts) < size:
                block = next(arriving, None)
                if block is None:
                    raise RuntimeError(f"Ray returned {sum(len(p) for p in parts)} vectors for a batch of {size}")
                parts.append(block)
            joined = np.vstack(parts).astype(np.float32, copy=False)
            held = joined[size:]
            yield joined[:size]

    def _backend_name(self) -> str:
        """The QA_ENCODER_BACKEND value that loads this encoder on a worker (int8 is its own backend there)."""
        return "onnx-int8" if self.backend == "onnx" and self.precision == "int8" else self.backend

    def close(self) -> None:
        import ray

        ray.shutdown()
