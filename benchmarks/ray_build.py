"""Index build throughput on Ray against one process, same articles, same run (each build a fresh process).

Builds an index of distractor articles (benchmarks/large_corpus.py) of about N sentences three ways: in one
process (the ONNX batch session on every core), and with `qa index --ray local` at 1 and 2 encoder workers.
Each row is a fresh `qa index` process timed from start to exit, so Ray's start-up is counted.

    .venv/bin/python -m benchmarks.ray_build --sentences 5000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import save_results
from benchmarks.scale import CORPUS, distractors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qa-ray-build-"))
    articles = distractors(args.corpus, args.sentences)
    source = work / "articles.jsonl"
    source.write_text("".join(json.dumps({"id": a.article_id, "title": a.title, "text": a.text}) + "\n"
                              for a in articles), encoding="utf-8")
    rows = []
    for name, extra in (("one process", []), ("Ray, 1 worker", ["--ray", "local", "--ray-workers", "1"]),
                        ("Ray, 2 workers", ["--ray", "local", "--ray-workers", "2"])):
        index = work / f"{len(rows)}.idx"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa.cli", "index", str(source), "--index", str(index), *extra],
                       check=True, capture_output=True)
        seconds = time.perf_counter() - started
        manifest = json.loads((index / "manifest.json").read_text())
        rows.append({"build": name, "sentences": manifest["sentences"], "seconds": round(seconds, 1),
                     "sentences/s": round(manifest["sentences"] / seconds, 1)})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["sentences/s"]
    lines = ["| build | sentences | seconds | sentences/s | vs one process |", "|---|---|---|---|---|"]
    lines += [f"| {r['build']} | {r['sentences']} | {r['seconds']} | {r['sentences/s']} | "
              f"{r['sentences/s'] / base:.2f}x |" for r in rows]
    save_results("ray_build", "\n".join(lines), rows)


if __name__ == "__main__":
    main()
