"""Load test of the web app: concurrent gradio_client users asking questions while an upload is indexed.

Starts `python app.py` on a free loopback port over a temporary copy of the seed articles, then runs
--clients threads, each with its own gradio_client session, asking --questions questions in all (the seed
questions, round robin). Once a few answers are in, one more client uploads an article through /upload.
Prints errors (must be 0) and p50/p95 latency, and writes benchmarks/results/load_test.json.

    .venv/bin/python -m benchmarks.load_test [--clients 20] [--questions 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from qa.evaluation.cases import load_question_set

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


SERVER_START_SECONDS = 180
UPLOAD_AFTER_ANSWERS = 40
UPLOAD_QUESTION = "Who designs the ferries at the Mwanza shipyard?"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _upload_article(folder: Path, sentences: int = 60) -> Path:
    """A made-up article long enough that indexing it takes a noticeable moment."""
    lines = ["Lake Victoria Shipping News", "",
             "The ferries at the Mwanza shipyard are designed by the naval architect Rehema Lusekelo."]
    lines += [f"Ferry number {n} carried {100 + n} passengers across the lake on its trial voyage in week {n}."
              for n in range(1, sentences)]
    path = folder / "mwanza-shipyard.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start_server(index_dir: Path, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index_dir)],
                              stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with code {server.returncode}; see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"the app did not answer within {SERVER_START_SECONDS} s; see {log}")


class Load:
    """Shared counters of one run."""

    def __init__(self, questions: list[str], total: int) -> None:
        self.questions, self.total = questions, total
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.next_question = 0
        self.lock = threading.Lock()
        self.answered = threading.Event()

    def take(self) -> str | None:
        with self.lock:
            if self.next_question >= self.total:
                return None
            self.next_question += 1
            return self.questions[(self.next_question - 1) % len(self.questions)]

    def record(self, seconds: float | None, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(seconds)
            else:
                self.errors.append(error)
            if len(self.latencies) + len(self.errors) >= UPLOAD_AFTER_ANSWERS:
                self.answered.set()


def _ask_until_done(url: str, load: Load) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as error:  # noqa: BLE001 - any failure to connect is a counted error, not a crash
        load.record(None, f"connect: {error!r}")
        return
    while (question := load.take()) is not None:
        started = time.perf_counter()
        try:
            reply = client.predict(question, 3, api_name="/ask")
            error = None if isinstance(reply, dict) and "citations" in reply else f"bad reply {reply!r:.80}"
        except Exception as failure:  # noqa: BLE001 - every failed request is counted and reported
            error = repr(failure)
        load.record(time.perf_counter() - started, error)


def _upload_while_asking(url: str, article: Path, load: Load, report: dict) -> None:
    from gradio_client import Client, handle_file

    load.answered.wait()
    client = Client(url, verbose=False)
    started = time.perf_counter()
    try:
        report["upload_message"] = client.predict([handle_file(str(article))], api_name="/upload")
        report["upload_seconds"] = round(time.perf_counter() - started, 3)
        reply = client.predict(UPLOAD_QUESTION, 1, api_name="/ask")
        report["upload_answerable"] = reply["citations"][0]["article_id"] == "upload/mwanza-shipyard"
    except Exception as error:  # noqa: BLE001 - reported as an error of the run
        load.record(None, f"upload: {error!r}")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(clients: int, total: int) -> dict:
    """Run the load test; return the report."""
    questions = [case.question for case in load_question_set(ROOT / "seeds" / "questions.jsonl").cases]
    with tempfile.TemporaryDirectory(prefix="qa-load-") as workdir:
        work = Path(workdir)
        shutil.copytree(ROOT / "seeds", work / "articles", ignore=shutil.ignore_patterns("*.jsonl"))
        subprocess.run([sys.executable, "-m", "qa", "index", str(work / "articles"), "--index",
                        str(work / "index.idx")], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        port = _free_port()
        server = _start_server(work / "index.idx", port, work / "server.log")
        url = f"http://127.0.0.1:{port}/"
        load, report = Load(questions, total), {}
        try:
            threads = [threading.Thread(target=_ask_until_done, args=(url, load)) for _ in range(clients)]
            uploader = threading.Thread(target=_upload_while_asking,
                                        args=(url, _upload_article(work), load, report))
            started = time.perf_counter()
            for thread in [*threads, uploader]:
                thread.start()
            for thread in [*threads, uploader]:
                thread.join()
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = load.latencies or [float("nan")]
    return {
        "clients": clients, "questions": total, "answered": len(load.latencies), "errors": len(load.errors),
        "error_samples": load.errors[:5],
        "latency_seconds": {"p50": round(_percentile(latencies, 0.50), 3),
                            "p95": round(_percentile(latencies, 0.95), 3),
                            "max": round(max(latencies), 3), "mean": round(statistics.fmean(latencies), 3)},
        "throughput_per_second": round(len(load.latencies) / elapsed, 2), "wall_seconds": round(elapsed, 1),
        **report,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent client sessions (default 20)")
    parser.add_argument("--questions", type=int, default=500, help="questions in all (default 500)")
    args = parser.parse_args()
    report = run(args.clients, args.questions)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load_test.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    latency = report["latency_seconds"]
    print(f"{report['answered']}/{report['questions']} answered by {report['clients']} clients, "
          f"errors: {report['errors']}")
    print(f"latency p50 {latency['p50']} s, p95 {latency['p95']} s, max {latency['max']} s; "
          f"{report['throughput_per_second']} questions/s")
    print(f"upload during the load: {report.get('upload_seconds')} s, answerable after: "
          f"{report.get('upload_answerable')} ({report.get('upload_message')})")
    for sample in report["error_samples"]:
        print("error:", sample)
    sys.exit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()
