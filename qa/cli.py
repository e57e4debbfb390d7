"""Command line: `qa index | ask | eval | serve`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sqlite3
import sys
from pathlib import Path

from qa.answer import Answer
from qa.index.folder import IndexBusy
from qa.ingest.articles import MAX_FILE_BYTES

EXIT_BAD_INPUT = 2


def _add_index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", type=Path, default=None,
                        help="index folder to use (default: $QA_INDEX, else the seed articles' index, built on "
                             "first use in .qa/seeds.idx)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Answer questions about news articles with cited "
                                     "sentences.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (model loading, embedding)")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build an index from a folder of articles, or update it",
                                description="Index .txt, .md, .html, .jsonl, .rss, .atom and feed .xml files "
                                "(recursively, any encoding). Re-running embeds only new or changed articles and "
                                "drops those whose files left the folder (never uploads or fetched pages). An id "
                                "already held by a different article is never replaced: the newcomer gets id~2.")
    index.add_argument("source", help="folder (or single file) of articles, or the http(s) URL of a page or feed")
    index.add_argument("--index", type=Path, required=True, help="index folder to create or update")
    index.add_argument("--model", default=None, help="sentence-transformers model name or local path "
                       "(default: $QA_MODEL, else all-MiniLM-L6-v2 from the pinned package)")
    index.add_argument("--rebuild", action="store_true", help="build from scratch, replacing the index folder "
                       "only once the new one is complete (for a damaged index or a new model)")
    index.add_argument("--wait", action="store_true", help="if another process is updating the index, wait for "
                       "it (default: stop at once with a message)")
    index.add_argument("--ray", metavar="ADDRESS", default=None,
                       help="embed on a Ray cluster: 'local' starts one here, 'auto' joins the one `ray start` "
                       "runs on this machine, ray://HOST:10001 a remote one (needs the ray extra: "
                       "pip install -e '.[ray]')")
    index.add_argument("--ray-workers", type=int, default=None, metavar="N",
                       help="encoder actors on the cluster (default: one per CPU, or per GPU with the torch backend)")
    index.add_argument("--shards", type=int, default=None, metavar="N",
                       help="split a new index's vectors into N shards searched in parallel, one thread each "
                       "(default 1; an existing index keeps its count: change it with --rebuild)")
    index.add_argument("--max-file-mb", type=float, default=MAX_FILE_BYTES / 1_048_576,
                       help=f"skip files larger than this, with a warning (default {MAX_FILE_BYTES // 1_048_576})")

    listing = commands.add_parser("list", help="list the indexed articles")
    _add_index_option(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per article")

    remove = commands.add_parser("remove", help="remove articles from the index by id (qa list shows them)")
    remove.add_argument("ids", nargs="+", metavar="ID", help="article ids")
    _add_index_option(remove)
    remove.add_argument("--wait", action="store_true", help="if another process is updating the index, wait")

    ask = commands.add_parser("ask", help="answer a question with cited sentences")
    ask.add_argument("question", help="the question, in quotes")
    _add_index_option(ask)
    ask.add_argument("--top-k", type=int, default=3, help="number of cited sentences (default 3)")
    ask.add_argument("--json", action="store_true", help="print the answer and citations as JSON")
    ask.add_argument("--within", action="append", default=[], metavar="ID",
                     help="answer only from this article (repeat for several; ids from qa list)")

    serve = commands.add_parser("serve", help="start the web chat UI")
    _add_index_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")

    from qa.evaluation.cli import add_eval_command

    add_eval_command(commands)

    return parser


def _open_library(index: Path | None):
    from qa.defaults import default_library
    from qa.library import Library

    return Library.open(index) if index is not None else default_library()


def _print_answer(answer: Answer) -> None:
    print(answer.text)
    if answer.searched_for and answer.searched_for != answer.question:
        print(f"(Searched for: {answer.searched_for})")
    print(f"Confidence: {answer.confidence:.2f}")
    for citation in answer.citations:
        print(f"\n[{citation.rank}] {citation.title} ({citation.article_id}, characters "
              f"{citation.start}-{citation.end}, score {citation.score:.3f})\n    {citation.sentence}")


def _print_listing(listing: list, as_json: bool) -> None:
    if as_json:
        for article in listing:
            print(json.dumps(dataclasses.asdict(article), ensure_ascii=False))
        return
    for article in listing:
        known = " · ".join(x for x in (article.date, article.source) if x)
        print(f"{article.article_id}\t{article.title}\t{known}\t{article.sentences} sentences")
    print(f"{len(listing)} article(s)", file=sys.stderr)


def _ray_encoder(args: argparse.Namespace) -> object:
    """The encoder of `qa index --ray`: the model the index uses, its batches embedded on the cluster."""
    if args.ray_workers is not None and args.ray_workers < 1:
        raise ValueError(f"--ray-workers must be 1 or more, got {args.ray_workers}")
    try:
        import ray  # noqa: F401
    except ImportError as error:
        raise ValueError(f"--ray needs Ray: pip install -e '.[ray]' ({error})") from error
    from embeddings.encoder import load_encoder
    from embeddings.ray_encoder import RayEncoder
    from qa.index.folder import MANIFEST, read_manifest

    model = args.model or (read_manifest(args.index)["model"] if (args.index / MANIFEST).exists() else None)
    return RayEncoder(load_encoder(model, local_only=model is not None and args.model is None), args.ray,
                      args.ray_workers)


def _run(args: argparse.Namespace) -> int:
    from qa.library import Library

    if args.command == "index":
        if args.max_file_mb <= 0:
            raise ValueError(f"--max-file-mb must be positive, got {args.max_file_mb}")
        max_bytes = int(args.max_file_mb * 1_048_576)
        if args.shards is not None and args.shards < 1:
            raise ValueError(f"--shards must be 1 or more, got {args.shards}")
        encoder = _ray_encoder(args) if args.ray else None
        if args.rebuild:
            library = Library.rebuild(args.source, args.index, encoder, model=args.model, max_file_bytes=max_bytes,
                                      wait=args.wait, shards=args.shards)
        else:
            library, plan = Library.build_with_changes(args.source, args.index, encoder, model=args.model,
                                                       max_file_bytes=max_bytes, wait=args.wait,
                                                       shards=args.shards)
            print(f"{len(plan.added)} added, {len(plan.updated)} updated, {len(plan.removed)} removed, "
                  f"{plan.unchanged} unchanged")
            for note in plan.notes():
                print(f"note: {note}")
        articles, sentences = library.counts()
        print(f"Index {args.index}: {articles} articles, {sentences} sentences ({library.encoder.name})")
    elif args.command == "list":
        _print_listing(_open_library(args.index).articles(), args.json)
    elif args.command == "remove":
        library = _open_library(args.index)
        library.wait_for_writer = args.wait
        removed = library.remove(args.ids)
        print(f"Removed {removed} article(s); {library.counts()[0]} left")
    elif args.command == "ask":
        answer = _open_library(args.index).ask(args.question, top_k=args.top_k, within=args.within)
        if args.json:
            print(json.dumps(dataclasses.asdict(answer), ensure_ascii=False, indent=2))
        else:
            _print_answer(answer)
    elif args.command == "serve":
        from qa.web.app import launch

        launch(_open_library(args.index), host=args.host, port=args.port)
    elif args.command == "eval":
        from qa.evaluation.cli import run_eval

        return run_eval(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="qa: %(message)s")
    try:
        return _run(args)
    except (ValueError, FileNotFoundError, FileExistsError, sqlite3.DatabaseError, IndexBusy) as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
