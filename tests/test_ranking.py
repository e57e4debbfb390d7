"""The fitted ranker and confidence without the encoder: the combiner on hand-built feature tables, the model file,
answer-type evidence and the calibration metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.evaluation.metrics import calibration_metrics
from qa.index.store import ArticleSummary, SentenceRow
from qa.index.terms import EMPTY_CORPUS, article_statistics
from qa.ingest.entities import Entity
from qa.search.answer_type import COUNT, MONEY, ORG, PERSON_OR_GROUP, PLACE, TIME, asked_kind, new_entities
from qa.search.confidence import CONFIDENCE_FEATURES
from qa.search.evidence import QuestionEvidence
from qa.search.ranking_model import DEFAULT_MODEL_PATH, LogisticModel, RankingModels, read_models, write_models
from qa.search.retrieval import FEATURES, Candidates
from qa.search.sentence_evidence import SENTENCE_FEATURES, sentence_evidence
from training.examples import Example, data_hash
from training.fit_ranker import fit_ranker, hit_rank

NAMES = ("cosine", "names", "furniture")


def _model() -> LogisticModel:
    return LogisticModel(NAMES, means=(0.5, 0.0, 0.0), scales=(0.25, 1.0, 1.0), coefficients=(2.0, 1.0, -3.0),
                         intercept=-1.0)


def test_the_combiner_ranks_a_hand_built_table_exactly() -> None:
    table = np.array([
        [0.9, 0.0, 1.0],  # closest, but page furniture: 2*1.6 + 0 - 3 - 1 = -0.8
        [0.7, 1.0, 0.0],  # names the question's names: 2*0.8 + 1 - 1 = 1.6
        [0.8, 0.0, 0.0],  # 2*1.2 - 1 = 1.4
        [0.3, 0.0, 0.0],  # 2*(-0.8) - 1 = -2.6
    ])
    logits = _model().logits(table)
    assert np.allclose(logits, [-0.8, 1.6, 1.4, -2.6])
    assert list(np.argsort(-logits)) == [1, 2, 0, 3]
    assert np.allclose(_model().probabilities(table), 1 / (1 + np.exp(-logits)))


def test_the_combiner_refuses_a_table_of_other_width() -> None:
    with pytest.raises(ValueError, match="3 features"):
        _model().logits(np.zeros((2, 4)))


def _models(ranker_names: tuple[str, ...] = NAMES) -> RankingModels:
    ranker = LogisticModel(ranker_names, (0.0,) * len(ranker_names), (1.0,) * len(ranker_names),
                           (1.0,) * len(ranker_names), 0.0)
    confidence = LogisticModel(("top_logit",), (0.0,), (1.0,), (1.0,), 0.0)
    return RankingModels(ranker, confidence, 0.5, {"data_sha256": "x"})


def test_a_model_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "ranking.json"
    write_models(path, _models())
    read = read_models(path, NAMES, ("top_logit",))
    assert read.ranker == _models().ranker and read.not_found_threshold == 0.5
    assert read.training == {"data_sha256": "x"}


def test_loading_refuses_a_model_fitted_on_other_features(tmp_path: Path) -> None:
    path = tmp_path / "ranking.json"
    write_models(path, _models(("cosine", "names", "lead")))
    with pytest.raises(ValueError, match=r"missing \['furniture'\], unknown \['lead'\].*python -m training.fit_ranker"):
        read_models(path, NAMES, ("top_logit",))


def test_loading_refuses_a_damaged_model_file(tmp_path: Path) -> None:
    path = tmp_path / "ranking.json"
    write_models(path, _models())
    record = json.loads(path.read_text())
    del record["ranker"]["coefficients"]
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="damaged"):
        read_models(path, NAMES, ("top_logit",))
    with pytest.raises(ValueError, match="missing or damaged"):
        read_models(tmp_path / "absent.json", NAMES, ("top_logit",))


def test_the_shipped_model_matches_the_code_and_the_committed_data() -> None:
    """A feature added or renamed, or a training file changed, without a re-fit fails here."""
    models = read_models(DEFAULT_MODEL_PATH, FEATURES, CONFIDENCE_FEATURES)
    assert models.training["data_sha256"] == data_hash()
    assert 0 < models.not_found_threshold < 1


def _example(features: np.ndarray, right: int) -> Example:
    labels = np.zeros(len(features), dtype=bool)
    labels[right] = True
    candidates = Candidates(list(range(len(features))), features, np.zeros((len(features), 2)),
                            QuestionEvidence({}, {}, {}, {}, EMPTY_CORPUS), {})
    return Example(None, "test", "g", candidates, labels, "q")  # type: ignore[arg-type]


@pytest.mark.parametrize("objective", ["listwise", "pointwise"])
def test_a_fitted_ranker_learns_which_evidence_marks_the_answer(objective: str) -> None:
    """In every question the answer has the highest value of one column; another column is noise."""
    generator = np.random.default_rng(0)
    examples = []
    for _ in range(60):
        features = generator.random((8, len(FEATURES)))
        right = int(generator.integers(8))
        features[right, FEATURES.index("answer_type")] = 1.5
        examples.append(_example(features, right))
    ranker = fit_ranker(examples[:40], objective=objective)
    assert ranker.coefficients[FEATURES.index("answer_type")] == max(ranker.coefficients)
    for example in examples[40:]:
        assert hit_rank(ranker.logits(example.candidates.features), example.labels) == 1


def _row(text: str, position: int = 3, entities: tuple[Entity, ...] = (), verbs: int = 1,
         article: int = 1) -> SentenceRow:
    return SentenceRow(id=position, article_id="a", title="t", position=position, start=100, end=100 + len(text),
                       text=text, article_rowid=article, subject=None, caption=False, entities=entities, verbs=verbs)


def test_questions_ask_for_kinds_of_entity() -> None:
    assert asked_kind("Who opened the lantern festival?").labels == PERSON_OR_GROUP
    assert asked_kind("When does the law come into force?").labels == TIME
    assert asked_kind("Where was vo thanh luan arrested?").labels == PLACE
    ferry = asked_kind("How many passengers can the ferry carry?")
    assert ferry.labels == COUNT and ferry.unit == "passenger"
    assert asked_kind("How much did the repairs cost?").labels == MONEY
    assert asked_kind("Which Belgian club bought Kwame Asante?").labels == ORG
    assert asked_kind("Why did the coach go?").why and not asked_kind("What did she say?").labels


def test_an_entity_the_question_already_names_is_not_an_answer() -> None:
    sentence = "Amir Eshel met Hoàng Xuân Chiến in Hà Nội."
    eshel, chien = Entity(100, 110, "PERSON"), Entity(115, 130, "PERSON")
    question_words = frozenset({"who", "met", "amir", "eshel"})
    assert new_entities((eshel, chien), sentence, 100, PERSON_OR_GROUP, question_words) == [chien]


def test_sentence_evidence_reads_entities_units_and_furniture() -> None:
    ferry = "The ferry can carry 600 passengers and 200 cars."
    rows = [_row(ferry, entities=(Entity(120, 123, "CARDINAL"),)),
            _row("Share on Facebook", position=0, verbs=0)]
    sentences = [ferry, "Share on Facebook", "The ferry sailed on Monday."]
    counts = article_statistics("", " ".join(sentences), sentences, [" ", " ", ""])
    article = QuestionEvidence({}, {}, {1: ArticleSummary(np.zeros(2), counts.sentences, counts.words)},
                               {1: dict(counts.terms)}, EMPTY_CORPUS)
    table = sentence_evidence(rows, asked_kind("How many passengers can the ferry carry?"),
                              frozenset({"how", "many", "passengers", "can", "the", "ferry", "carry"}), [], article)
    column = {name: table[:, n] for n, name in enumerate(SENTENCE_FEATURES)}
    assert list(column["answer_type"]) == [1.0, 0.0] and list(column["asked_unit"]) == [1.0, 0.0]
    assert list(column["no_verb"]) == [0.0, 1.0] and list(column["short"]) == [0.0, 1.0]
    assert list(column["early"]) == [0.25, 1.0]
    # "passengers" and "carry" are in the ferry sentence alone; "ferry" is in two of the article's three.
    assert column["article_rare_words"][0] == 1.0 and column["article_rare_words"][1] == 0.0


def test_calibration_metrics_on_hand_counted_bins() -> None:
    confidences = [0.95, 0.95, 0.92, 0.15, 0.15, 0.55]
    right = [True, True, False, False, False, True]
    found = [True, True, True, False, False, True]
    metrics = calibration_metrics(confidences, right, found)
    top = metrics.bins[9]
    assert top.questions == 3 and top.share_right == pytest.approx(2 / 3)
    # |0.94 - 2/3| * 3 + |0.15 - 0| * 2 + |0.55 - 1| * 1, over 6 questions
    assert metrics.expected_calibration_error == pytest.approx((abs(0.94 - 2 / 3) * 3 + 0.3 + 0.45) / 6)
    assert metrics.wrong_at_90 == pytest.approx(1 / 6)
