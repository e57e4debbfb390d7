"""qa eval: metrics on hand-made question files over a three-article index, with exact expected values."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.answer import Answer
from qa.cli import main
from qa.evaluation.cases import QuestionSet, load_question_set
from qa.evaluation.evaluate import Report, evaluate
from qa.evaluation.metrics import (
    answer_metrics,
    best_threshold,
    not_found_metrics,
    question_type,
    retrieval_metrics,
)
from qa.evaluation.report import write_report
from qa.ingest.articles import Article
from qa.library import Library

BRIDGE = ("The new harbour bridge opened in Da Nang on March 3. Mayor Tran Van Binh cut the ribbon at the "
          "ceremony. The bridge cost 40 million dollars.")
RICE = ("Farmers in the Mekong Delta harvested a record rice crop this year. Heavy rains in October flooded "
        "2,000 hectares of fields. The ministry promised seed support to the affected households.")
FOOTBALL = ("Hanoi FC won the national football cup on Sunday. Striker Nguyen Van Quyet scored both goals in the "
            "final. The club will play in the Asian Champions League next season.")
ARTICLES = (
    Article("bridge", "Harbour bridge opens in Da Nang", BRIDGE, "bridge.txt"),
    Article("rice", "Record rice harvest in the Mekong Delta", RICE, "rice.txt"),
    Article("football", "Hanoi FC wins the national cup", FOOTBALL, "football.txt"),
)


def _question(question: str, article_id: str, sentence_contains: str) -> dict:
    return {"question": question, "article_id": article_id, "sentence_contains": sentence_contains}


QUESTION_LINES = [
    json.dumps(_question("Who cut the ribbon at the bridge ceremony?", "bridge", "Mayor Tran Van Binh")),
    json.dumps(_question("When did the harbour bridge open?", "bridge", "opened in Da Nang")),
    json.dumps(_question("How much did the bridge cost?", "bridge", "40 million")),
    '{"question": "What flooded the rice fields in October?", "article_id": "rice"',  # line 4: broken JSON
    json.dumps(_question("What flooded the rice fields in October?", "rice", "Heavy rains")),
    json.dumps(_question("Who scored both goals in the cup final?", "football", "Nguyen Van Quyet")),
    json.dumps(_question("Which league will Hanoi FC play in next season?", "football", "Asian Champions League")),
    json.dumps(_question("Where did the farmers harvest a record crop?", "rice", "Mekong Delta harvested")),
    json.dumps({"question": "What is the population of Canada?", "answerable": False}),
    json.dumps({"question": "How many satellites did the space agency launch?", "answerable": False}),
    json.dumps({"question": "Who won the cup?", "article_id": "football"}),  # line 11: no sentence_contains
]


def _index_snapshot(index_dir: Path) -> dict[str, str]:
    """sha256 of every file of an index folder, but SQLite's shared-memory file, which readers touch."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(index_dir.iterdir())
            if p.is_file() and not p.name.endswith("-shm")}


def _without_latency(report: Report) -> list:
    return [(m.mode, m.retrieval, m.not_found, m.by_type,
             [dataclasses.replace(r, latency_s=0.0) for r in m.results]) for m in report.modes]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    folder = tmp_path_factory.mktemp("tiny") / "tiny.idx"
    library = Library.create(folder, encoder)
    library.sync(ARTICLES)
    library.store.close()
    return folder


@pytest.fixture(scope="module")
def library(index_dir: Path, encoder: Encoder) -> Library:
    return Library.open(index_dir, encoder)


@pytest.fixture(scope="module")
def questions_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("questions") / "tiny.jsonl"
    path.write_text("\n".join(QUESTION_LINES) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def report(questions_file: Path, library: Library) -> Report:
    return evaluate(load_question_set(questions_file), library, modes=("hybrid", "dense", "lexical"))


# Pure metrics, on hand-computed values.

@pytest.mark.parametrize(("question", "expected"), [
    ("Who led the Japanese delegation?", "who"), ("Whose book was it?", "who"), ("what is FTS5", "what"),
    ("When was it held?", "when"), ("The game was played where?", "where"), ("In which year?", "which"),
    ("How many soldiers does Israel have?", "how many"), ("How did they rate it?", "other"),
    ("Why did they meet?", "other"), ("Whcih book did he present?", "other"), ("Does Vietnam agree?", "other"),
])
def test_question_type_comes_from_the_first_question_word(question: str, expected: str) -> None:
    assert question_type(question) == expected


def test_retrieval_metrics_count_misses_as_zero() -> None:
    metrics = retrieval_metrics([1, 2, None, 4, 10])
    assert (metrics.hit_at_1, metrics.hit_at_3, metrics.hit_at_5, metrics.hit_at_10) == (0.2, 0.4, 0.6, 0.8)
    assert metrics.mrr_at_10 == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 10) / 5)
    assert retrieval_metrics([]).hit_at_1 is None


def test_not_found_metrics_and_best_threshold() -> None:
    confidences = [0.9, 0.8, 0.3, 0.6, 0.2, 0.4]
    unanswerable = [False, False, False, True, True, True]
    found = [c >= 0.5 for c in confidences]  # threshold 0.5: says "not found" for 0.3, 0.2, 0.4
    metrics = not_found_metrics(found, unanswerable, confidences, threshold=0.5)
    assert (metrics.unanswerable, metrics.predicted_not_found) == (3, 3)
    assert (metrics.precision, metrics.recall) == pytest.approx((2 / 3, 2 / 3))
    assert metrics.f1 == pytest.approx(2 / 3)
    # Below 0.7 everything but 0.8 and 0.9 is "not found": precision 3/4, recall 1, F1 6/7.
    assert metrics.best_threshold == pytest.approx(0.7)
    assert metrics.best_f1 == pytest.approx(6 / 7)


def test_not_found_metrics_are_undefined_without_unanswerable_questions() -> None:
    metrics = not_found_metrics([True, False], [False, False], [0.9, 0.1], threshold=0.5)
    assert (metrics.precision, metrics.recall, metrics.f1) == (0.0, None, None)
    assert best_threshold([0.9, 0.1], [False, False]) == (None, None)


def test_answer_metrics_count_what_the_user_is_shown() -> None:
    # An answerable question ranked first but "not found" is not answered; an unanswerable one is right when it is
    # "not found", however its closest sentences rank. A conversation passes only if every turn is right.
    metrics = answer_metrics(answerable=[True, True, True, False, True, False],
                             found=[True, False, True, False, True, True],
                             ranks=[1, 1, 2, None, 1, None],
                             conversation_ids=["", "", "", "", "a", "a"])
    assert metrics.answered_right == pytest.approx(2 / 4)
    assert (metrics.conversations, metrics.conversations_passing) == (1, 0)
    passing = answer_metrics([True, False], [True, False], [1, None], ["b", "b"])
    assert (passing.answered_right, passing.conversations, passing.conversations_passing) == (1.0, 1, 1)
    assert answer_metrics([False], [False], [None], [""]).answered_right is None


# evaluate() over the tiny index with the real model.

def test_hybrid_metrics_on_the_tiny_index(report: Report) -> None:
    hybrid = report.mode("hybrid")
    assert len(hybrid.results) == 9
    assert dataclasses.astuple(hybrid.retrieval) == (7, 1.0, 1.0, 1.0, 1.0, 1.0)
    not_found = hybrid.not_found
    assert (not_found.unanswerable, not_found.predicted_not_found) == (2, 2)
    assert (not_found.precision, not_found.recall, not_found.f1, not_found.best_f1) == (1.0, 1.0, 1.0, 1.0)
    # The best threshold lies midway between the surest unanswerable and the least sure answerable question.
    lowest_answerable = min(r.confidence for r in hybrid.results if r.answerable)
    highest_unanswerable = max(r.confidence for r in hybrid.results if not r.answerable)
    assert not_found.best_threshold == pytest.approx((lowest_answerable + highest_unanswerable) / 2)
    assert hybrid.latency.p50_ms is not None and hybrid.latency.p50_ms <= hybrid.latency.p95_ms


def test_dense_mode_ranks_the_league_question_second(report: Report) -> None:
    dense = report.mode("dense")
    assert (dense.retrieval.hit_at_1, dense.retrieval.hit_at_3) == (pytest.approx(6 / 7), 1.0)
    assert dense.retrieval.mrr_at_10 == pytest.approx((6 + 1 / 2) / 7)
    league = next(r for r in dense.results if r.question.startswith("Which league"))
    assert league.hit_rank == 2
    assert dataclasses.astuple(report.mode("lexical").retrieval) == (7, 1.0, 1.0, 1.0, 1.0, 1.0)


def test_counts_and_hit_at_1_by_question_type(report: Report) -> None:
    by_type = {t.question_type: (t.questions, t.answerable, t.hit_at_1) for t in report.mode("dense").by_type}
    assert by_type == {"who": (2, 2, 1.0), "what": (2, 1, 1.0), "when": (1, 1, 1.0), "where": (1, 1, 1.0),
                       "which": (1, 1, 0.0), "how many": (1, 0, None), "other": (1, 1, 1.0)}


def test_malformed_lines_are_reported_by_number_and_the_rest_is_asked(report: Report) -> None:
    assert len(report.skipped) == 2
    assert "tiny.jsonl:4: Expecting ',' delimiter" in report.skipped[0]
    assert "tiny.jsonl:11: an answerable question needs 'article_id' and 'sentence_contains'" in report.skipped[1]
    assert [r.line for r in report.mode("hybrid").results] == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert report.questions == 9 and not report.interrupted


def test_two_runs_give_identical_results(report: Report, questions_file: Path, library: Library) -> None:
    again = evaluate(load_question_set(questions_file), library, modes=("hybrid", "dense", "lexical"))
    assert _without_latency(again) == _without_latency(report)


def test_empty_question_set_is_a_value_error(library: Library) -> None:
    with pytest.raises(ValueError, match="holds no questions"):
        evaluate(QuestionSet(), library)


def test_ctrl_c_keeps_the_questions_already_asked(questions_file: Path, library: Library,
                                                  tmp_path: Path) -> None:
    class InterruptedLibrary:
        """The tiny library, but the sixth ask() is a Ctrl-C."""

        not_found_threshold = None
        settings = library.settings

        def __init__(self) -> None:
            self.calls = 0

        def ask(self, question: str, **options: object) -> Answer:
            self.calls += 1
            if self.calls == 6:
                raise KeyboardInterrupt
            return library.ask(question, **options)

    partial = evaluate(load_question_set(questions_file), InterruptedLibrary(), modes=("hybrid", "dense"))
    assert partial.interrupted
    # Questions 1 and 2 in both modes; question 3 was asked in hybrid only, so it is dropped from both.
    assert [len(m.results) for m in partial.modes] == [2, 2]
    write_report(partial, tmp_path, "partial", {})
    assert json.loads((tmp_path / "summary.json").read_text())["interrupted"] is True


# Conversations, through a stand-in for qa.chat.Chat (the evaluation loop only, not the follow-up rules).

class RewritingChat:
    """Resolves follow-ups from a fixed table, as Chat does by rules."""

    REWRITES = {"How much did it cost?": "How much did the harbour bridge cost?"}
    made: list[RewritingChat] = []

    def __init__(self, library: Library) -> None:
        self.library = library
        self.asked: list[tuple[str, int]] = []
        RewritingChat.made.append(self)

    def ask(self, question: str, top_k: int = 3) -> Answer:
        self.asked.append((question, top_k))
        return self.library.ask(self.REWRITES.get(question, question), top_k=top_k)


def test_conversations_are_asked_turn_by_turn_through_one_chat_each(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "conversations.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in [
        {"id": "bridge", "turns": [_question("When did the harbour bridge open?", "bridge", "opened in Da Nang"),
                                   _question("How much did it cost?", "bridge", "40 million")]},
        {"id": "cup", "turns": [_question("Who scored both goals in the cup final?", "football", "Quyet"),
                                {"question": "What is the population of Canada?", "answerable": False}]},
    ]) + "\n", encoding="utf-8")
    RewritingChat.made.clear()
    conversations = load_question_set(path)
    hybrid = evaluate(conversations, library, chat_factory=RewritingChat).mode("hybrid")
    assert [(r.conversation_id, r.turn, r.hit_rank, r.found) for r in hybrid.results] == [
        ("bridge", 1, 1, True), ("bridge", 2, 1, True), ("cup", 1, 1, True), ("cup", 2, None, False)]
    assert (hybrid.answers.conversations, hybrid.answers.conversations_passing) == (2, 2)
    assert [len(chat.asked) for chat in RewritingChat.made] == [2, 2]
    assert {top_k for chat in RewritingChat.made for _, top_k in chat.asked} == {10}
    dense_only = evaluate(conversations, library, modes=("dense",), chat_factory=RewritingChat)
    assert dense_only.mode("dense").results == ()
    assert "4 conversation turns not asked" in dense_only.skipped[0]


# The command line.

def test_eval_command_writes_the_report_and_leaves_the_index_alone(
        index_dir: Path, questions_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    before = _index_snapshot(index_dir)
    out = tmp_path / "run1"
    assert main(["eval", str(questions_file), "--index", str(index_dir), "--out", str(out),
                 "--compare", "hybrid,dense"]) == 0
    assert _index_snapshot(index_dir) == before
    printed = capsys.readouterr().out
    assert "hit@1" in printed and "0.857" in printed  # dense's 6/7 in the side-by-side table
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["modes"]["dense"]["retrieval"]["hit_at_1"] == pytest.approx(6 / 7)
    assert summary["modes"]["hybrid"]["hit_at_k"] == [1.0] * 10
    assert len(summary["skipped"]) == 2 and summary["interrupted"] is False
    with (out / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 18
    assert rows[0]["expected"] == "bridge: Mayor Tran Van Binh" and rows[0]["hit_rank"] == "1"
    assert rows[0]["citation_1"].startswith("bridge:53-104 Mayor Tran Van Binh")
    for plot in ("hit_at_k.png", "confidence.png", "latency.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| hit@1 | 1.000 | 0.857 |" in (out / "report.md").read_text(encoding="utf-8")


def test_save_threshold_stores_the_best_threshold(encoder: Encoder, questions_file: Path, tmp_path: Path) -> None:
    index = tmp_path / "own.idx"
    Library.create(index, encoder).sync(ARTICLES)
    assert main(["eval", str(questions_file), "--index", str(index), "--out", str(tmp_path / "out"),
                 "--save-threshold"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    saved = Library.open(index, encoder).not_found_threshold
    assert saved == pytest.approx(summary["modes"]["hybrid"]["not_found"]["best_threshold"])


@pytest.mark.slow
def test_squad_v2_file_is_evaluated_on_a_temporary_index(tmp_path: Path) -> None:
    squad = {"version": "v2.0", "data": [{"title": "Harbour_Bridge", "paragraphs": [
        {"context": BRIDGE, "qas": [
            {"id": "1", "question": "Who cut the ribbon?", "is_impossible": False,
             "answers": [{"text": "Mayor Tran Van Binh", "answer_start": BRIDGE.index("Mayor")}]},
            {"id": "2", "question": "What is the population of Canada?", "is_impossible": True,
             "answers": [], "plausible_answers": [{"text": "Da Nang", "answer_start": BRIDGE.index("Da Nang")}]},
        ]},
        {"context": RICE, "qas": [
            {"id": "3", "question": "What flooded the fields in October?", "is_impossible": False,
             "answers": [{"text": "Heavy rains", "answer_start": RICE.index("Heavy rains")}]},
        ]},
    ]}]}
    path = tmp_path / "squad-v2.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    assert main(["eval", str(path), "--out", str(tmp_path / "out")]) == 0
    hybrid = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["modes"]["hybrid"]
    assert hybrid["retrieval"]["answerable"] == 2 and hybrid["retrieval"]["hit_at_1"] == 1.0
    assert hybrid["not_found"]["unanswerable"] == 1
    assert (hybrid["not_found"]["precision"], hybrid["not_found"]["recall"]) == (1.0, 1.0)


@pytest.mark.parametrize(("content", "message"), [
    ("", "is empty"),
    ("\n  \n", "is empty"),
    ("not json\n{\"question\": \"\"}\n", "holds no valid questions (2 malformed lines)"),
])
def test_a_file_without_questions_gives_a_clear_message(content: str, message: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text(content, encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_mode_is_refused_with_the_valid_ones(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "questions.jsonl", "--compare", "hybrid,sparse"])
    assert "unknown retrieval mode 'sparse': use hybrid, dense or lexical" in capsys.readouterr().err
