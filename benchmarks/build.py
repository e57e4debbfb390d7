"""Index build throughput: `Library.sync` of about 5,000 news sentences (split, embedded, annotated by spaCy,
stored) beside a plain sentence-transformers `model.encode` of the same sentences, in the same run.

Each row runs in a fresh process, with its models loaded and warmed before the clock starts; the plain row uses
torch's default threads (every core), as a plain script would. The sentences are the synthetic news of
benchmarks/query_path.py (the development articles recombined).

    .venv/bin/python -m benchmarks.build [--sentences 5000]

Writes benchmarks/results/build.md and build.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import markdown, save_results

ROOT = Path(__file__).resolve().parent.parent
ROWS = {
    "plain sentence-transformers model.encode (torch, every core)": "plain",
    "ONNX Runtime fp32 encode only (every core)": "encode-fp32",
    "ONNX Runtime int8 encode only (every core)": "encode-int8",
    "index build, fp32 (default)": "build-fp32",
    "index build, int8 (QA_ENCODER_BACKEND=onnx-int8)": "build-int8",
}


def run_part(part: str, sentences: int) -> dict:
    """Time one row in this process: {"sentences": n, "seconds": s}."""
    from benchmarks.query_path import synthetic_articles
    from qa.ingest.sentences import split_sentences

    articles = synthetic_articles(sentences)
    texts = [a.text[s.start:s.end] for a in articles for s in split_sentences(a.text)]
    if part == "plain":
        from sentence_transformers import SentenceTransformer

        from embeddings.encoder import resolve_model

        model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu")
        model.encode(texts[:64])
        started = time.perf_counter()
        model.encode(texts, normalize_embeddings=True)
        return {"sentences": len(texts), "seconds": time.perf_counter() - started}
    from embeddings.encoder import DEFAULT_MODEL_SHA256, resolve_model
    from embeddings.onnx_encoder import BATCH_MIN_TEXTS, OnnxEncoder

    kind, precision = part.split("-")
    encoder = OnnxEncoder("all-MiniLM-L6-v2", Path(resolve_model("all-MiniLM-L6-v2")[0]), DEFAULT_MODEL_SHA256,
                          precision=precision)
    encoder.encode(texts[:BATCH_MIN_TEXTS], show_progress=False)  # makes and warms the batch session
    if kind == "encode":
        started = time.perf_counter()
        encoder.encode(texts, show_progress=False)
        return {"sentences": len(texts), "seconds": time.perf_counter() - started}
    from qa.ingest.entities import load_recognizer
    from qa.library import Library

    load_recognizer().annotate([articles[0].text], [[(0, 10)]])
    with tempfile.TemporaryDirectory() as folder:
        library = Library.create(Path(folder) / "build.idx", encoder)  # type: ignore[arg-type]
        started = time.perf_counter()
        library.sync(articles)
        seconds = time.perf_counter() - started
        return {"sentences": library.counts()[1], "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--part", choices=sorted(ROWS.values()), help=argparse.SUPPRESS)  # one row, in a child
    args = parser.parse_args()
    if args.part:
        print(json.dumps(run_part(args.part, args.sentences)))
        return
    rows = []
    for label, part in ROWS.items():
        done = subprocess.run([sys.executable, "-m", "benchmarks.build", "--part", part, "--sentences",
                               str(args.sentences)], capture_output=True, text=True, check=True, cwd=ROOT)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append({"row": label, **result, "per_second": result["sentences"] / result["seconds"]})
    plain = rows[0]["per_second"]
    table = markdown([{"what": r["row"], "sentences": r["sentences"], "seconds": f"{r['seconds']:.1f}",
                       "sentences/s": f"{r['per_second']:.0f}", "× plain": f"{r['per_second'] / plain:.2f}"}
                      for r in rows], ["what", "sentences", "seconds", "sentences/s", "× plain"])
    save_results("build", table, {"rows": rows})


if __name__ == "__main__":
    main()
