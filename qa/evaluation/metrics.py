"""Pure metrics over per-question results: hit@k and MRR, "not found" F1 and its best threshold, latency."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KS = (1, 3, 5, 10)
MAX_RANK = 10
QUESTION_TYPES = ("who", "what", "when", "where", "which", "how many", "other")
_WH_WORDS = {"who": "who", "whom": "who", "whose": "who", "what": "what", "when": "when", "where": "where",
             "which": "which", "how": "how", "why": "other"}
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class RetrievalMetrics:
    """Ranking quality on answerable questions; None where there are none."""

    answerable: int
    hit_at_1: float | None
    hit_at_3: float | None
    hit_at_5: float | None
    hit_at_10: float | None
    mrr_at_10: float | None


@dataclass(frozen=True)
class NotFoundMetrics:
    """"Not found" as a classifier: positive = unanswerable, predicted = the answer was not found.

    Precision, recall and F1 are None where undefined (nothing predicted, or no unanswerable question).
    """

    unanswerable: int
    predicted_not_found: int
    precision: float | None
    recall: float | None
    f1: float | None
    threshold: float  # the library's threshold these predictions were made with
    best_threshold: float | None  # the one that maximises F1 on these questions (None: needs both classes)
    best_f1: float | None


@dataclass(frozen=True)
class AnswerMetrics:
    """What a user is shown, not how the sentences rank: a question is right when it is answered (found) with the
    expected sentence first or, if the articles do not answer it, when it is "not found"."""

    answered_right: float | None  # share of the answerable questions answered with the expected sentence first
    conversations: int
    conversations_passing: int  # conversations whose every turn is right


@dataclass(frozen=True)
class LatencyMetrics:
    """Seconds per question, as milliseconds."""

    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class TypeMetrics:
    """Counts and hit@1 of one question type."""

    question_type: str
    questions: int
    answerable: int
    hit_at_1: float | None


def question_type(question: str) -> str:
    """Classify a question by its first wh-word: who / what / when / where / which / how many / other."""
    tokens = _WORD.findall(question.lower())
    for position, token in enumerate(tokens):
        kind = _WH_WORDS.get(token)
        if kind == "how":
            return "how many" if tokens[position + 1:position + 2] == ["many"] else "other"
        if kind:
            return kind
    return "other"


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first right citation is within the top k (None: no questions)."""
    if not ranks:
        return None
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def retrieval_metrics(ranks: Sequence[int | None]) -> RetrievalMetrics:
    """hit@1/3/5/10 and MRR@10 from the 1-based rank of each answerable question's first hit (None: none)."""
    if not ranks:
        return RetrievalMetrics(0, None, None, None, None, None)
    mrr = sum(1 / rank for rank in ranks if rank is not None and rank <= MAX_RANK) / len(ranks)
    return RetrievalMetrics(len(ranks), *(hit_at(ranks, k) for k in KS), mrr)


def _f1(predicted: np.ndarray, actual: np.ndarray) -> tuple[float | None, float | None, float | None]:
    true_positives = int((predicted & actual).sum())
    precision = true_positives / int(predicted.sum()) if predicted.any() else None
    recall = true_positives / int(actual.sum()) if actual.any() else None
    if precision is None or recall is None:
        return precision, recall, None
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_threshold(confidences: Sequence[float], unanswerable: Sequence[bool]
                   ) -> tuple[float | None, float | None]:
    """Return the confidence threshold (not found below it) that maximises "not found" F1, and that F1.

    Candidates lie midway between neighbouring observed confidences, so a saved threshold is not on the edge
    of a question seen here; ties go to the lowest threshold, which says "not found" least often.
    """
    scores = np.asarray(confidences, dtype=np.float64)
    actual = np.asarray(unanswerable, dtype=bool)
    if not actual.any() or actual.all():
        return None, None
    levels = np.unique(scores)
    candidates = np.concatenate([(levels[:-1] + levels[1:]) / 2, [np.nextafter(levels[-1], np.inf)]])
    best: tuple[float | None, float | None] = (None, -1.0)
    for candidate in candidates:
        f1 = _f1(scores < candidate, actual)[2] or 0.0
        if f1 > best[1]:
            best = (float(candidate), f1)
    return best


def not_found_metrics(found: Sequence[bool], unanswerable: Sequence[bool], confidences: Sequence[float],
                      threshold: float) -> NotFoundMetrics:
    """Score the library's "not found" decisions and find the threshold that would have scored best."""
    predicted = ~np.asarray(found, dtype=bool)
    actual = np.asarray(unanswerable, dtype=bool)
    precision, recall, f1 = _f1(predicted, actual)
    best, best_f1 = best_threshold(confidences, unanswerable)
    return NotFoundMetrics(int(actual.sum()), int(predicted.sum()), precision, recall, f1, threshold, best,
                           best_f1)


def answer_metrics(answerable: Sequence[bool], found: Sequence[bool], ranks: Sequence[int | None],
                   conversation_ids: Sequence[str]) -> AnswerMetrics:
    """Score the answers as shown: a "not found" answer presents no citation, however well it ranked."""
    right = [(is_found and rank == 1) if is_answerable else not is_found
             for is_answerable, is_found, rank in zip(answerable, found, ranks, strict=True)]
    answered = [ok for ok, is_answerable in zip(right, answerable, strict=True) if is_answerable]
    passing: dict[str, bool] = {}
    for ok, conversation_id in zip(right, conversation_ids, strict=True):
        if conversation_id:
            passing[conversation_id] = passing.get(conversation_id, True) and ok
    return AnswerMetrics(sum(answered) / len(answered) if answered else None, len(passing),
                         sum(passing.values()))


@dataclass(frozen=True)
class ReliabilityBin:
    """Questions whose confidence fell in [low, high): how confident they were and how often the first citation
    was right."""

    low: float
    high: float
    questions: int
    mean_confidence: float | None
    share_right: float | None


@dataclass(frozen=True)
class CalibrationMetrics:
    """Does confidence mean what it says? Right = the first citation is the expected sentence (never, for a
    question the articles do not answer)."""

    expected_calibration_error: float | None  # the questions-weighted mean |confidence - share right| over bins
    wrong_at_90: float | None  # share of all questions answered (found) wrongly at confidence >= 0.9
    bins: tuple[ReliabilityBin, ...]


CALIBRATION_BINS = 10
CONFIDENT = 0.9


def calibration_metrics(confidences: Sequence[float], right: Sequence[bool], found: Sequence[bool]
                        ) -> CalibrationMetrics:
    """Reliability bins (equal width), expected calibration error and confident wrong answers."""
    scores = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(right, dtype=bool)
    shown = np.asarray(found, dtype=bool)
    if not len(scores):
        return CalibrationMetrics(None, None, ())
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    bins, error = [], 0.0
    for n in range(CALIBRATION_BINS):
        chosen = which == n
        count = int(chosen.sum())
        mean, share = (float(scores[chosen].mean()), float(correct[chosen].mean())) if count else (None, None)
        if count:
            error += count * abs(mean - share)
        bins.append(ReliabilityBin(float(edges[n]), float(edges[n + 1]), count, mean, share))
    wrong_confident = shown & ~correct & (scores >= CONFIDENT)
    return CalibrationMetrics(error / len(scores), float(wrong_confident.mean()), tuple(bins))


def latency_metrics(seconds: Sequence[float]) -> LatencyMetrics:
    """Median and 95th percentile of per-question latency."""
    if not seconds:
        return LatencyMetrics(None, None)
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    return LatencyMetrics(float(p50), float(p95))


def type_metrics(types: Sequence[str], ranks: Sequence[int | None], answerable: Sequence[bool]
                 ) -> tuple[TypeMetrics, ...]:
    """Counts and hit@1 per question type, in QUESTION_TYPES order, types without questions left out."""
    rows = []
    for kind in QUESTION_TYPES:
        chosen = [i for i, t in enumerate(types) if t == kind]
        if chosen:
            kind_ranks = [ranks[i] for i in chosen if answerable[i]]
            rows.append(TypeMetrics(kind, len(chosen), len(kind_ranks), hit_at(kind_ranks, 1)))
    return tuple(rows)
