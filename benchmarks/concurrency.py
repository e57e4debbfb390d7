"""Many writers and readers on one index, with real processes: the checks of issue 15.

1. Two writers: each round rewords one article in each of two folders and runs `qa index A` and `qa index B`
   (`--wait`) at once into one index.
2. A writer beside the server: each round changes an article of a third folder (a new figure in it) and runs
   `qa index C` into the index a running `qa serve` uses, while clients ask questions and upload files through
   its HTTP API; when the writer is done, the server is asked about the new figure.
3. Kills: `qa index` of a changed folder is SIGKILLed at a random moment, again and again; after each kill the
   index must open and hold every article.

After every round: the store's sentence ids equal the vector file's, the manifest's sha256 matches the file,
no article is lost. Prints a table and writes benchmarks/results/concurrency.md and .json.

    .venv/bin/python -m benchmarks.concurrency [--rounds 20] [--kills 100]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.report import markdown, save_results

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "news-dev" / "articles"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def qa(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", *args], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def state(index: Path) -> tuple[bool, set[str]]:
    """(the folder's files agree, the ids of its articles)."""
    from qa.index.folder import STORE, files_agree
    from qa.index.store import Store

    store = Store(index / STORE)
    try:
        articles = {a.article_id for a in store.articles()}
    finally:
        store.close()
    return files_agree(index), articles


def folder_of(root: Path, name: str, sources: list[Path]) -> Path:
    folder = root / name
    folder.mkdir()
    for source in sources:
        shutil.copy(source, folder / source.name)
    return folder


def reword(path: Path, token: str) -> None:
    """Change one word of the last paragraph: same sentence count, new text."""
    text = path.read_text(encoding="utf-8").rstrip()
    head, _, last = text.rpartition(" ")
    path.write_text(f"{head} {token}{last}\n", encoding="utf-8")


def two_writers(root: Path, rounds: int) -> dict:
    texts = sorted(DEV.glob("*.txt"))
    a, b = folder_of(root, "a", texts[:5]), folder_of(root, "b", texts[5:10])
    index = root / "two.idx"
    for folder in (a, b):
        qa("index", str(folder), "--index", str(index)).communicate()
    inconsistent = lost = failed = 0
    for n in range(rounds):
        reword(a / texts[n % 5].name, f"r{n}")
        reword(b / texts[5 + n % 5].name, f"r{n}")
        runs = [qa("index", str(folder), "--index", str(index), "--wait") for folder in (a, b)]
        failed += sum(run.wait() != 0 for run in runs)
        consistent, articles = state(index)
        inconsistent += not consistent
        lost += 10 - len(articles)
    return {"check": "two concurrent qa index runs, one index", "rounds": rounds, "failed runs": failed,
            "inconsistent indexes": inconsistent, "lost articles": lost, "stale answers": "-"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def writer_beside_server(root: Path, rounds: int) -> dict:
    from gradio_client import Client, handle_file

    folder = root / "c"
    folder.mkdir()
    story = folder / "ferry.txt"
    index = root / "served.idx"

    def write_story(n: int) -> None:
        story.write_text(f"Ferry news\n\nThe electric ferry carried {1000 + n} passengers on round {n} of its "
                         "trials, the operator said.\n", encoding="utf-8")

    write_story(0)
    qa("index", str(folder), "--index", str(index)).communicate()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port)],
                              cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop, errors, uploads = threading.Event(), [], []
    try:
        client = _connect(port)

        def load(client_number: int) -> None:
            mine = Client(f"http://127.0.0.1:{port}/", verbose=False)
            count = 0
            while not stop.is_set():
                try:
                    mine.predict("How many passengers did the electric ferry carry?", 3, api_name="/ask")
                    if count % 5 == 0:
                        # Each text its own (an identical one would be indexed once, as a near copy).
                        path = root / f"upload-{client_number}-{count}.txt"
                        path.write_text(f"Upload {client_number}-{count}\n\nClient {client_number} reports, in "
                                        f"upload {count}, a harbour crane {client_number * 1000 + count} meters "
                                        "tall.", encoding="utf-8")
                        mine.predict([handle_file(str(path))], api_name="/upload")
                        uploads.append(f"upload/{path.stem}")
                except Exception as error:  # noqa: BLE001 - counted and reported, the load goes on
                    errors.append(repr(error))
                count += 1
                time.sleep(0.05)

        clients = [threading.Thread(target=load, args=(n,)) for n in range(2)]
        for thread in clients:
            thread.start()
        inconsistent = stale = failed = 0
        for n in range(1, rounds + 1):
            write_story(n)
            failed += qa("index", str(folder), "--index", str(index), "--wait").wait() != 0
            answer = client.predict("How many passengers did the electric ferry carry?", 3, api_name="/ask")
            stale += not (answer["found"] and f"{1000 + n} passengers" in answer["citations"][0]["sentence"])
        stop.set()
        for thread in clients:
            thread.join()
        consistent, articles = state(index)
        inconsistent += not consistent
        lost = len(set(uploads) - articles) + ("ferry" not in articles)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"check": "qa index while qa serve answers and takes uploads", "rounds": rounds, "failed runs": failed,
            "inconsistent indexes": inconsistent, "lost articles": lost, "stale answers": stale,
            "client errors": len(errors), "uploads": len(uploads)}


def _connect(port: int):  # noqa: ANN202
    import httpx
    from gradio_client import Client

    started = time.monotonic()
    while True:
        try:
            return Client(f"http://127.0.0.1:{port}/", verbose=False)
        except (OSError, ValueError, httpx.HTTPError):
            if time.monotonic() - started > 120:
                raise
            time.sleep(0.2)


def kills(root: Path, count: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    texts = sorted(DEV.glob("*.txt"))[10:16]
    folder = folder_of(root, "d", texts)
    index = root / "killed.idx"
    qa("index", str(folder), "--index", str(index)).communicate()
    unloadable = lost = inconsistent_after_heal = 0
    for n in range(count):
        reword(folder / texts[n % len(texts)].name, f"k{n}")
        run = qa("index", str(folder), "--index", str(index), "--wait")
        time.sleep(rng.uniform(0.5, 5.0))
        run.send_signal(signal.SIGKILL)
        run.wait()
        opened = subprocess.run([sys.executable, "-c", "import sys\nfrom qa.library import Library\n"
                                 f"l = Library.open({str(index)!r})\nprint(len(l.articles()))"],
                                cwd=ROOT, env=ENV, capture_output=True, text=True)
        if opened.returncode != 0:
            unloadable += 1
        elif int(opened.stdout.split()[-1]) != len(texts):
            lost += 1
    qa("index", str(folder), "--index", str(index), "--wait").communicate()
    consistent, articles = state(index)
    inconsistent_after_heal += not consistent
    return {"check": "qa index SIGKILLed at a random moment (0.5-5 s)", "rounds": count,
            "failed runs": "-", "inconsistent indexes": inconsistent_after_heal, "lost articles": lost,
            "stale answers": "-", "unloadable": unloadable}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--parts", default="writers,server,kills", help="which checks to run, comma-separated")
    args = parser.parse_args()
    checks = {"writers": lambda root: two_writers(root, args.rounds),
              "server": lambda root: writer_beside_server(root, args.rounds),
              "kills": lambda root: kills(root, args.kills)}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for part in args.parts.split(","):
            rows.append(checks[part](Path(folder)))
            print(rows[-1], flush=True)
    columns = ["check", "rounds", "failed runs", "inconsistent indexes", "lost articles", "stale answers"]
    table = markdown(rows, columns)
    extra = [f"- {r['check']}: " + ", ".join(f"{k} {r[k]}" for k in r if k not in columns) for r in rows
             if set(r) - set(columns)]
    save_results("concurrency", table + "\n\n" + "\n".join(extra), rows)


if __name__ == "__main__":
    main()
