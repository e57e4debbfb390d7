"""The sentence encoder on ONNX Runtime: the same vectors as sentence-transformers without importing torch.

The pinned model is exported once, with torch's own exporter, into an `onnx/` folder beside its weights (after
their sha256 is checked), under a file lock so two first runs do not export twice. The export records the
sha256 of the weights it came from and of the file it wrote; both are checked before every load, so a swapped
or damaged file is refused, not run. Mean pooling over the attention mask and L2 normalisation are done here,
as sentence-transformers' all-MiniLM-L6-v2 pipeline does (its modules.json: Transformer, Pooling, Normalize).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

from embeddings.atomic import replace_atomically, write_text_atomically
from embeddings.encoder import PROGRESS_MIN_TEXTS, sha256_of, verify_weights

logger = logging.getLogger(__name__)

EXPORT_FOLDER, EXPORTED, EXPORT_RECORD = "onnx", "model.onnx", "export.json"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json): longer text is truncated, as there
ONNX_OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


PRECISIONS = ("fp32", "int8")
# Each precision's file, and its sha256's key in the export record.
_FILES = {"fp32": (EXPORTED, "onnx_sha256"), "int8": ("model-int8.onnx", "int8_sha256")}


def export_model(model_dir: Path, weights_sha256: str | None, precision: str = "fp32") -> Path:
    """Export a local sentence-transformers model to ONNX once (and quantize it, for int8); return the file
    (checked)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    verify_weights(model_dir, weights_sha256)
    # The weights are hashed once per load: a pinned model's sum was just checked to be the pinned one.
    weights_sha256 = weights_sha256 or sha256_of(model_dir / "model.safetensors")
    folder = model_dir / EXPORT_FOLDER
    folder.mkdir(exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return checked_export(model_dir, weights_sha256, precision)
        except (FileNotFoundError, ValueError, KeyError) as error:
            logger.info("Exporting %s to ONNX, %s (%s)", model_dir, precision, error)
        try:
            record = json.loads((folder / EXPORT_RECORD).read_text(encoding="utf-8"))
            checked_export(model_dir, weights_sha256)
        except (FileNotFoundError, ValueError, KeyError):
            replace_atomically(folder / EXPORTED, lambda tmp: _export(model_dir, tmp))
            record = {"weights_sha256": weights_sha256, "onnx_sha256": sha256_of(folder / EXPORTED),
                      "opset": ONNX_OPSET}
        if precision == "int8":
            replace_atomically(folder / _FILES["int8"][0], lambda tmp: _quantize(folder / EXPORTED, tmp))
            record["int8_sha256"] = sha256_of(folder / _FILES["int8"][0])
        write_text_atomically(folder / EXPORT_RECORD, json.dumps(record, indent=2) + "\n")
        return checked_export(model_dir, weights_sha256, precision)


def checked_export(model_dir: Path, weights_sha256: str | None = None, precision: str = "fp32") -> Path:
    """The exported file of a precision, if its record names these weights (`weights_sha256`, hashed here if not
    given) and its sha256 matches; else raise."""
    folder = model_dir / EXPORT_FOLDER
    name, key = _FILES[precision]
    record = json.loads((folder / EXPORT_RECORD).read_text(encoding="utf-8"))
    if record["weights_sha256"] != (weights_sha256 or sha256_of(model_dir / "model.safetensors")):
        raise ValueError("exported from other weights")
    if record[key] != sha256_of(folder / name):
        raise ValueError(f"{folder / name} does not match the sha256 recorded at export")
    return folder / name


def _quantize(exported: Path, target: Path) -> None:
    """Dynamic int8 quantization of the weights (activations quantized per batch at run time), with ONNX Runtime's
    own tool: about 2x faster on these cores, vectors at cosine 0.96 to fp32 on average (BENCHMARKS.md)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(exported), str(target), weight_type=QuantType.QInt8)


def _export(model_dir: Path, target: Path) -> None:
    import torch  # only to export, once
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(model_dir, use_safetensors=True, trust_remote_code=False).eval()
    sample = AutoTokenizer.from_pretrained(model_dir)(["a short one", "and a somewhat longer second text"],
                                                      padding=True, return_tensors="pt")

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(HiddenStates(), tuple(sample[name] for name in _INPUTS), str(target),
                          input_names=list(_INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=ONNX_OPSET, dynamo=False)


# At least this many texts are encoded with every core (an index build); fewer (a question, a small upload) on one.
BATCH_MIN_TEXTS = 256


class OnnxEncoder:
    """Encoder's contract (name, dim, encode, token_vectors) on onnxruntime and tokenizers.

    Two sessions over the same file: a question runs on `threads` intra-op threads (one: a server answers up to
    4 questions at once, and on 2 cores threads of concurrent questions only fight; benchmarks/threads.py), and a
    batch of BATCH_MIN_TEXTS or more on `batch_threads` (every core: an index build has the machine to itself).
    The batch session is made on the first large batch, so a process that only answers never holds it.
    """

    def __init__(self, name: str, model_dir: Path, weights_sha256: str | None, batch_size: int = 32,
                 threads: int = 1, batch_threads: int | None = None, precision: str = "fp32") -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.precision = precision
        # 32, not 64: batches of similar length pad less; 374 vs 356 sentences/s on 5,027 news sentences.
        self.batch_size = batch_size
        self._path = export_model(model_dir, weights_sha256, precision)
        self._threads, self._batch_threads = threads, batch_threads or os.cpu_count() or 1
        self._session = self._new_session(threads)
        self._batch_session = self._session if self._batch_threads == threads else None
        self._session_lock = threading.Lock()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        self.dim = int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])

    backend = "onnx"

    @property
    def file_sha256(self) -> str:
        """The sha256 of the ONNX file that makes this encoder's vectors (recorded at export, checked at load)."""
        record = json.loads((self._path.parent / EXPORT_RECORD).read_text(encoding="utf-8"))
        return record[_FILES[self.precision][1]]

    def _new_session(self, threads: int):  # noqa: ANN202 - onnxruntime is imported lazily
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])

    def use_batch_threads(self, threads: int) -> None:
        """Run large batches on `threads` threads from now on (a Ray actor: the CPUs it was given)."""
        with self._session_lock:
            self._batch_threads = threads
            self._batch_session = self._session if threads == self._threads else None

    def _session_for(self, texts: int):  # noqa: ANN202
        if texts < BATCH_MIN_TEXTS:
            return self._session
        with self._session_lock:
            if self._batch_session is None:
                self._batch_session = self._new_session(self._batch_threads)
        return self._batch_session

    def _hidden(self, texts: list[str], session=None) -> tuple[np.ndarray, np.ndarray, list]:  # noqa: ANN001
        encodings = self._tokenizer.encode_batch(texts)
        feed = {name: np.array([getattr(e, attribute) for e in encodings], dtype=np.int64)
                for name, attribute in zip(_INPUTS, ("ids", "attention_mask", "type_ids"), strict=True)}
        return (session or self._session).run(None, feed)[0], feed["attention_mask"], encodings

    def encode(self, texts: list[str], show_progress: bool | None = None) -> np.ndarray:
        """Encode texts in batches into an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if show_progress is None:
            show_progress = len(texts) >= PROGRESS_MIN_TEXTS
        # Batches of similar length pad less: sort by length, encode, put back in order.
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        session = self._session_for(len(texts))
        from tqdm import tqdm

        for start in tqdm(range(0, len(texts), self.batch_size), disable=not show_progress, unit="batch"):
            chosen = order[start:start + self.batch_size]
            hidden, mask, _ = self._hidden([texts[k] for k in chosen], session)
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            vectors[chosen] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return vectors

    def token_vectors(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """The unit vector of each word piece of a text in its context, and each piece's character span in it
        (special tokens left out)."""
        hidden, _, encodings = self._hidden([text])
        pieces = encodings[0].offsets
        kept = [k for k, (start, end) in enumerate(pieces) if end > start]
        vectors = hidden[0][kept].astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors, [tuple(pieces[k]) for k in kept]
