"""ONNX Runtime intra-op threads for questions: 1 against 2, one question at a time and 4 at once (the web
server's queue answers 4 together), over the synthetic 30,000-sentence library of benchmarks/query_path.py.

Same process, same library, same questions (the development questions); only the encoder's question session
changes. Reports p50 / p95 latency per question and questions answered per second.

    .venv/bin/python -m benchmarks.threads [--sentences 30000] [--questions 60]

Writes benchmarks/results/threads.md and threads.json.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.query_path import DEV, large_library
from benchmarks.report import markdown, save_results
from embeddings.encoder import DEFAULT_MODEL_SHA256, resolve_model
from embeddings.onnx_encoder import OnnxEncoder
from qa.evaluation.cases import load_question_set
from qa.library import Library

CONCURRENT = 4


def timed_asks(library: Library, questions: list[str], clients: int) -> tuple[list[float], float]:
    """Each of `clients` threads asks every question once; return each ask's seconds and the wall seconds."""
    times: list[float] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        for question in questions[offset:] + questions[:offset]:
            started = time.perf_counter()
            library.ask(question)
            with lock:
                times.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(n * len(questions) // clients,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=30000)
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    questions = [case.question for case in load_question_set(DEV / "questions.jsonl").cases][:args.questions]
    index_dir = large_library(args.sentences).index_dir
    rows = []
    for threads in (1, 2):
        encoder = OnnxEncoder("all-MiniLM-L6-v2", Path(resolve_model("all-MiniLM-L6-v2")[0]), DEFAULT_MODEL_SHA256,
                              threads=threads)
        library = Library.open(index_dir, encoder)  # type: ignore[arg-type]
        timed_asks(library, questions[:10], 1)  # warm
        for clients in (1, CONCURRENT):
            times, wall = timed_asks(library, questions, clients)
            rows.append({"threads": threads, "clients": clients, "asks": len(times),
                         "p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * float(np.percentile(times, 95)),
                         "per_second": len(times) / wall})
    table = markdown([{"ONNX Runtime threads per question": r["threads"], "questions at once": r["clients"],
                       "asks": r["asks"], "p50 ms": f"{r['p50_ms']:.1f}", "p95 ms": f"{r['p95_ms']:.1f}",
                       "questions/s": f"{r['per_second']:.1f}"} for r in rows],
                     ["ONNX Runtime threads per question", "questions at once", "asks", "p50 ms", "p95 ms",
                      "questions/s"])
    save_results("threads", table, {"sentences": args.sentences, "rows": rows})


if __name__ == "__main__":
    main()
