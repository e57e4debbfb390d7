"""Batch evaluation: ask every question of a question set, per retrieval mode, and score the answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from tqdm import tqdm

from qa.answer import Answer
from qa.evaluation.cases import Case, Conversation, QuestionSet
from qa.evaluation.metrics import (
    MAX_RANK,
    AnswerMetrics,
    CalibrationMetrics,
    LatencyMetrics,
    NotFoundMetrics,
    RetrievalMetrics,
    TypeMetrics,
    answer_metrics,
    calibration_metrics,
    latency_metrics,
    not_found_metrics,
    question_type,
    retrieval_metrics,
    type_metrics,
)
from qa.library import Library
from qa.search.retrieval import RetrievalSettings

logger = logging.getLogger(__name__)

TOP_CITATIONS_SHOWN = 3
# Conversations go through Chat, which searches with the library's default settings, as the UI does.
CONVERSATION_MODE = "hybrid"


class Conversing(Protocol):
    """What evaluation needs of qa.chat.Chat: one Answer per turn, earlier turns remembered."""

    def ask(self, question: str, top_k: int = ...) -> Answer: ...


ChatFactory = Callable[[Library], Conversing]


@dataclass(frozen=True)
class CaseResult:
    """One question asked in one mode: where the right sentence ranked and what the bot decided."""

    mode: str
    question: str
    expected: str
    answerable: bool
    question_type: str
    hit_rank: int | None  # 1-based rank of the first right citation in the top 10, None if absent
    confidence: float
    found: bool
    top_citations: tuple[str, ...]
    latency_s: float
    conversation_id: str = ""
    turn: int = 0  # 1-based within its conversation; 0 for a single question
    line: int = 0


@dataclass(frozen=True)
class ModeReport:
    """Every result of one retrieval mode and the metrics over them."""

    mode: str
    results: tuple[CaseResult, ...]
    retrieval: RetrievalMetrics
    not_found: NotFoundMetrics
    answers: AnswerMetrics
    calibration: CalibrationMetrics
    latency: LatencyMetrics
    by_type: tuple[TypeMetrics, ...]


@dataclass(frozen=True)
class Report:
    """What evaluate() returns: one ModeReport per mode, what it skipped, and whether it was cut short."""

    modes: tuple[ModeReport, ...]
    skipped: tuple[str, ...]  # malformed lines and questions that could not be asked, each with why
    interrupted: bool
    questions: int  # in the question set, conversation turns included; fewer were asked if interrupted

    def mode(self, name: str) -> ModeReport:
        """Return the report of one mode; KeyError if it was not evaluated."""
        for mode_report in self.modes:
            if mode_report.mode == name:
                return mode_report
        raise KeyError(f"mode {name!r} was not evaluated; evaluated: {[m.mode for m in self.modes]}")


def evaluate(question_set: QuestionSet, library: Library, modes: Sequence[str] = ("hybrid",),
             show_progress: bool = False, chat_factory: ChatFactory | None = None) -> Report:
    """Ask every question in each retrieval mode and score rankings, "not found" decisions and latency.

    Args:
        modes: retrieval modes to compare; conversations are asked once, in CONVERSATION_MODE, if listed.
        show_progress: draw a tqdm progress bar on stderr.
        chat_factory: makes the Chat for each conversation (default: qa.chat.Chat, the one the UI uses).

    A Ctrl-C stops the run and returns what was asked so far, with interrupted=True.
    """
    turns = sum(len(c.turns) for c in question_set.conversations)
    if not question_set.cases and not turns:
        malformed = f" ({len(question_set.errors)} malformed lines skipped)" if question_set.errors else ""
        raise ValueError(f"The question set holds no questions{malformed}: nothing to evaluate.")
    # An unknown mode fails now, with the valid ones named; each mode keeps the library's fitted models.
    settings = {mode: replace(library.settings, mode=mode) for mode in dict.fromkeys(modes)}
    conversations = question_set.conversations if CONVERSATION_MODE in settings else ()
    skipped = list(question_set.errors)
    if turns and not conversations:
        skipped.append(f"{turns} conversation turns not asked: conversations run in {CONVERSATION_MODE} mode "
                       "only (Chat searches as the UI does)")
    total = len(question_set.cases) * len(settings) + (turns if conversations else 0)
    results: list[CaseResult] = []
    interrupted = False
    with tqdm(total=total, unit="question", disable=not show_progress, leave=False) as progress:
        try:
            for case in question_set.cases:
                results += _ask_case(library, case, settings, skipped)
                progress.update(len(settings))
            for conversation in conversations:
                chat = (chat_factory or _ui_chat)(library)
                _ask_conversation(chat, conversation, results, skipped, progress)
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:  # logged once the progress bar is gone, so the two do not share a line
        logger.warning("Interrupted after %d of %d questions", progress.n, total)
    threshold = library.not_found_threshold
    threshold = library.settings.models().not_found_threshold if threshold is None else threshold
    mode_reports = tuple(_mode_report(mode, [r for r in results if r.mode == mode], threshold)
                         for mode in settings)
    return Report(mode_reports, tuple(skipped), interrupted, len(question_set.cases) + turns)


def _ui_chat(library: Library) -> Conversing:
    from qa.chat import Chat  # imported only for conversation files

    return Chat(library)


def _ask_case(library: Library, case: Case, settings: dict[str, RetrievalSettings],
              skipped: list[str]) -> list[CaseResult]:
    """Ask one question in every mode; all or nothing, so modes stay comparable after a Ctrl-C."""
    results = []
    for mode, mode_settings in settings.items():
        started = time.perf_counter()
        try:
            # One retrieval gives both the decision and the ranking: a not-found answer keeps it in `closest`.
            answer = library.ask(case.question, top_k=MAX_RANK, settings=mode_settings)
        except ValueError as error:
            skipped.append(f"{_where(case)}: {error}")
            return []
        results.append(_result(mode, case, answer, time.perf_counter() - started))
    return results


def _ask_conversation(chat: Conversing, conversation: Conversation, results: list[CaseResult],
                      skipped: list[str], progress: tqdm) -> None:
    """Ask the turns in order through one Chat, appending each result as it comes (a Ctrl-C keeps them)."""
    for number, turn in enumerate(conversation.turns, start=1):
        started = time.perf_counter()
        try:
            answer = chat.ask(turn.question, top_k=MAX_RANK)
        except ValueError as error:
            skipped.append(f"line {turn.line}, conversation {conversation.conversation_id}, turn {number}: "
                           f"{error}")
        else:
            results.append(_result(CONVERSATION_MODE, turn, answer, time.perf_counter() - started,
                                   conversation.conversation_id, number))
        progress.update()


def _result(mode: str, case: Case, answer: Answer, latency_s: float, conversation_id: str = "",
            turn: int = 0) -> CaseResult:
    ranked = (answer.citations or answer.closest)[:MAX_RANK]
    hit_rank = next((c.rank for c in ranked if case.is_hit(c)), None)
    shown = tuple(f"{c.article_id}:{c.start}-{c.end} {c.sentence}" for c in ranked[:TOP_CITATIONS_SHOWN])
    return CaseResult(mode, case.question, _expected(case), case.answerable, question_type(case.question),
                      hit_rank, answer.confidence, answer.found, shown, latency_s, conversation_id, turn,
                      case.line)


def _where(case: Case) -> str:
    return f"line {case.line}" if case.line else repr(case.question[:60])


def _expected(case: Case) -> str:
    if not case.answerable:
        return "(not in the articles)"
    if case.sentence_contains:
        return f"{case.article_id}: {case.sentence_contains}"
    return f"{case.article_id} at character {', '.join(map(str, case.answer_starts))}"


def _mode_report(mode: str, results: list[CaseResult], threshold: float) -> ModeReport:
    answerable = [r for r in results if r.answerable]
    return ModeReport(
        mode=mode,
        results=tuple(results),
        retrieval=retrieval_metrics([r.hit_rank for r in answerable]),
        not_found=not_found_metrics([r.found for r in results], [not r.answerable for r in results],
                                    [r.confidence for r in results], threshold),
        answers=answer_metrics([r.answerable for r in results], [r.found for r in results],
                               [r.hit_rank for r in results], [r.conversation_id for r in results]),
        calibration=calibration_metrics([r.confidence for r in results],
                                        [r.answerable and r.hit_rank == 1 for r in results],
                                        [r.found for r in results]),
        latency=latency_metrics([r.latency_s for r in results]),
        by_type=type_metrics([r.question_type for r in results], [r.hit_rank for r in results],
                             [r.answerable for r in results]),
    )
