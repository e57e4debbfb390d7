"""Dynamic int8 quantization of the ONNX encoder, measured beside the shipped fp32 export in the same run: vector
agreement, speed, and the held-out ranking and confidence figures of training/fit_ranker.py with the ranker and
confidence re-fitted on int8 vectors in every fold. int8 is an option (QA_ENCODER_BACKEND=onnx-int8), not the
default (BENCHMARKS.md).

    .venv/bin/python -m benchmarks.int8

Writes benchmarks/results/int8.md and int8.json.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from benchmarks.cold_start import encoder_speed
from benchmarks.report import markdown, save_results
from embeddings.encoder import DEFAULT_MODEL_SHA256, resolve_model
from embeddings.onnx_encoder import OnnxEncoder
from qa.ingest.articles import read_articles
from qa.ingest.sentences import split_sentences
from qa.library import Library
from training.examples import SOURCES, gather
from training.fit_ranker import cross_validate, summary


def held_out(encoder: OnnxEncoder, folder: Path) -> dict:
    library = Library.build(SOURCES[0][1], folder / "dev.idx", encoder)  # type: ignore[arg-type]
    library.add_articles(read_articles(SOURCES[1][1]))
    validation = cross_validate(library, gather(library))
    return {"all": summary(validation.held, 0.5),
            "news-dev": summary([h for h in validation.held if h.example.source == "news-dev"], 0.5)}


def main() -> int:
    source, _ = resolve_model("all-MiniLM-L6-v2")
    model_dir = Path(source)
    folder = Path(tempfile.mkdtemp(prefix="qa-int8-"))
    # One thread each, for questions and batches alike: the speed of the graphs, not of the machine's cores.
    encoders = {f"{precision} ({label})": OnnxEncoder("all-MiniLM-L6-v2", model_dir, DEFAULT_MODEL_SHA256,
                                                      batch_threads=1, precision=precision)
                for precision, label in (("fp32", "default"), ("int8", "QA_ENCODER_BACKEND=onnx-int8"))}
    articles = read_articles(SOURCES[0][1])
    texts = [a.text[s.start:s.end] for a in articles for s in split_sentences(a.text)]
    reference = encoders["fp32 (default)"].encode(texts)
    rows = []
    for name, encoder in encoders.items():
        cosines = np.sum(reference * encoder.encode(texts), axis=1)
        query_ms, per_second = encoder_speed(encoder, texts)
        figures = held_out(encoder, folder / name.split()[0])
        rows.append({"encoder": name, "mean cosine to fp32": float(cosines.mean()),
                     "min cosine to fp32": float(cosines.min()), "query ms": query_ms,
                     "sentences/s": per_second, **{f"{part} {key}": value for part, values in figures.items()
                                                   for key, value in values.items() if isinstance(value, float)}})
    columns = ["encoder", "mean cosine to fp32", "min cosine to fp32", "query ms", "sentences/s",
               "news-dev hit_at_1", "news-dev answered_right", "all hit_at_1", "all answered_right",
               "all wrong_at_90", "all expected_calibration_error"]
    save_results("int8", markdown(rows, columns), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
