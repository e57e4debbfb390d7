"""`qa eval`: the command-line face of qa.evaluation.evaluate."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.evaluation.cases import QuestionSet, load_question_set
from qa.library import Library
from qa.search.retrieval import RetrievalSettings

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
THRESHOLD_MODE = "hybrid"  # ask() searches in this mode, so its "not found" threshold is the one to save
EXAMPLE_LINE = '{"question": "...", "article_id": "...", "sentence_contains": "..."}'


def _modes(text: str) -> tuple[str, ...]:
    modes = tuple(dict.fromkeys(mode.strip() for mode in text.split(",") if mode.strip()))
    if not modes:
        raise argparse.ArgumentTypeError("name at least one retrieval mode: hybrid, dense or lexical")
    for mode in modes:
        try:
            RetrievalSettings(mode=mode)  # an unknown mode is refused, with the valid ones named
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error
    return modes


def add_eval_command(commands: argparse._SubParsersAction) -> None:
    """Register `qa eval` and its flags."""
    parser = commands.add_parser(
        "eval", help="score the bot on a question set: hit@k, MRR, \"not found\" F1, latency",
        description="Ask every question of a question file and report how often the right sentence is cited "
        "(hit@1/3/5/10, MRR@10), how well \"not found\" separates unanswerable questions, and latency. "
        "Reads our JSONL (questions or multi-turn conversations) and SQuAD v1.1 / v2.0 JSON; a SQuAD file is "
        "evaluated on a temporary index of its paragraphs. Ctrl-C stops early and keeps the results so far.")
    parser.add_argument("questions", type=Path, help="question file (.jsonl, or SQuAD .json)")
    parser.add_argument("--index", type=Path, default=None,
                        help="index folder to evaluate (default: $QA_INDEX, else the seed articles' index); "
                             "not with a SQuAD file")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder: summary.json, results.csv, report.md, plots "
                             "(default: reports/QUESTION_FILE_STEM)")
    parser.add_argument("--compare", type=_modes, default=("hybrid",), metavar="MODES",
                        help="comma-separated retrieval modes to run side by side, e.g. hybrid,dense,lexical "
                             "(default: hybrid)")
    parser.add_argument("--save-threshold", action="store_true",
                        help="store the confidence threshold that maximises \"not found\" F1 (hybrid mode) "
                             "in the index, so ask() uses it; without this flag the index is never written")


def run_eval(args: argparse.Namespace) -> int:
    """Run `qa eval`: evaluate, print the summary, write the report folder; return the exit code."""
    from qa.evaluation.evaluate import evaluate
    from qa.evaluation.report import format_summary, write_report

    question_set = _load(args.questions)
    _check_threshold_request(args, question_set)
    out_dir = args.out or Path("reports") / args.questions.stem
    with _library_for(question_set, args) as (library, index_description):
        report = evaluate(question_set, library, args.compare, show_progress=True)
        title = f"qa eval {args.questions}"
        print(format_summary(report, f"{title}: {report.questions} questions, index {index_description}"))
        paths = write_report(report, out_dir, title, {"questions file": str(args.questions),
                                                      "index": index_description,
                                                      "model": library.encoder.name})
        print(f"\nReport written to {out_dir}/: " + ", ".join(p.name for p in paths))
        if report.interrupted:
            print("qa: interrupted: the report holds the questions asked so far", file=sys.stderr)
            return EXIT_INTERRUPTED
        if args.save_threshold:
            return _save_threshold(library, report.mode(THRESHOLD_MODE).not_found.best_threshold)
    return 0


def _load(path: Path) -> QuestionSet:
    """Read a question file; ValueError with what a valid one looks like if it holds no questions."""
    if path.is_file() and not path.read_text(encoding="utf-8", errors="replace").strip():
        raise ValueError(f"{path} is empty: write one question per line, e.g. {EXAMPLE_LINE}")
    try:
        question_set = load_question_set(path)
    except (KeyError, TypeError, AttributeError) as error:
        problem = f"{type(error).__name__}: {error}"
        raise ValueError(f"{path} is not a SQuAD v1.1 / v2.0 file ({problem})") from error
    if not question_set.cases and not question_set.conversations:
        raise ValueError(f"{path} holds no valid questions ({len(question_set.errors)} malformed lines): "
                         f"write one question per line, e.g. {EXAMPLE_LINE}")
    return question_set


def _check_threshold_request(args: argparse.Namespace, question_set: QuestionSet) -> None:
    """Refuse --save-threshold before the run when it could not be honoured after it."""
    if not args.save_threshold:
        return
    if question_set.articles:
        raise ValueError("--save-threshold needs a lasting index; a SQuAD file is evaluated on a temporary "
                         "one")
    if THRESHOLD_MODE not in args.compare:
        raise ValueError(f"--save-threshold saves the {THRESHOLD_MODE} mode's threshold (the mode ask() "
                         f"uses): add {THRESHOLD_MODE} to --compare")
    cases = list(question_set.cases) + [turn for c in question_set.conversations for turn in c.turns]
    if all(case.answerable for case in cases) or not any(case.answerable for case in cases):
        raise ValueError("--save-threshold needs both answerable and unanswerable questions "
                         '(unanswerable: "answerable": false) to choose a threshold')


@contextmanager
def _library_for(question_set: QuestionSet, args: argparse.Namespace) -> Iterator[tuple[Library, str]]:
    """The index to evaluate: a temporary one of a SQuAD file's paragraphs, --index, or the default."""
    if not question_set.articles:
        from qa.defaults import default_library

        library = Library.open(args.index) if args.index is not None else default_library()
        yield library, str(library.index_dir)
        return
    if args.index is not None:
        raise ValueError(f"{args.questions} brings its own paragraphs and is evaluated on a temporary "
                         "index of them: leave out --index")
    from embeddings.encoder import load_encoder

    with tempfile.TemporaryDirectory(prefix="qa-eval-") as workdir:
        print(f"Indexing {len(question_set.articles)} paragraphs of {args.questions} into a temporary index",
              file=sys.stderr)
        library = Library.create(Path(workdir) / "eval.idx", load_encoder())
        try:
            library.sync(question_set.articles)
            yield library, f"temporary, {len(question_set.articles)} paragraphs of {args.questions}"
        finally:
            library.close()


def _save_threshold(library: Library, threshold: float | None) -> int:
    if threshold is None:
        print("qa: error: no threshold saved: no question was both asked and unanswerable", file=sys.stderr)
        return EXIT_BAD_INPUT
    library.save_not_found_threshold(threshold)
    print(f"Saved \"not found\" threshold {threshold:.4f} in {library.index_dir}: ask() now uses it")
    return 0
