"""Fitted logistic models read from a small versioned JSON file: the ranker and the confidence.

training/fit_ranker.py fits both with scikit-learn and writes qa/models/ranking.json; this module only reads
the coefficients back, so answering a question needs numpy, not scikit-learn. A file whose feature names differ
from the code's is refused: its coefficients would be applied to the wrong evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_FORMAT = 1
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "ranking.json"
_REFIT = "re-fit it with: python -m training.fit_ranker"


@dataclass(frozen=True)
class LogisticModel:
    """p = sigmoid(intercept + sum(coefficient * (feature - mean) / scale)), over named features."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float

    def logits(self, table: np.ndarray) -> np.ndarray:
        """The log-odds of each row of a (n, len(features)) table."""
        table = np.asarray(table, dtype=np.float64)
        if table.ndim != 2 or table.shape[1] != len(self.features):
            raise ValueError(f"expected a table of {len(self.features)} features, got shape {table.shape}")
        return ((table - np.array(self.means)) / np.array(self.scales)) @ np.array(self.coefficients) \
            + self.intercept

    def probabilities(self, table: np.ndarray) -> np.ndarray:
        """The probability of each row."""
        return 1.0 / (1.0 + np.exp(-self.logits(table)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "means": list(self.means), "scales": list(self.scales),
                "coefficients": list(self.coefficients), "intercept": self.intercept}

    @classmethod
    def from_json(cls, record: dict, expected_features: tuple[str, ...], where: str) -> LogisticModel:
        """Read one model; ValueError if its features are not `expected_features`, in order."""
        features = tuple(record["features"])
        if features != expected_features:
            missing = [f for f in expected_features if f not in features]
            unknown = [f for f in features if f not in expected_features]
            raise ValueError(f"{where} was fitted on features {list(features)}, but the code computes "
                             f"{list(expected_features)} (missing {missing}, unknown {unknown}): {_REFIT}")
        columns = (record["means"], record["scales"], record["coefficients"])
        if any(len(column) != len(features) for column in columns):
            raise ValueError(f"{where} is damaged: {len(features)} features but columns of other lengths: {_REFIT}")
        return cls(features, *(tuple(float(v) for v in column) for column in columns), float(record["intercept"]))


@dataclass(frozen=True)
class RankingModels:
    """The fitted ranker (does this candidate answer?) and confidence (does the first citation answer?)."""

    ranker: LogisticModel
    confidence: LogisticModel
    not_found_threshold: float
    training: dict  # what it was fitted on: data hash, library versions, cross-validated figures


def read_models(path: Path, ranker_features: tuple[str, ...], confidence_features: tuple[str, ...]
                ) -> RankingModels:
    """Read a model file; ValueError naming the fix if it is unreadable or fitted on other features."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("format") != MODEL_FORMAT:
            raise ValueError(f"model file format {record.get('format')!r}, this program reads {MODEL_FORMAT}")
        return RankingModels(
            LogisticModel.from_json(record["ranker"], ranker_features, f"{path} (ranker)"),
            LogisticModel.from_json(record["confidence"], confidence_features, f"{path} (confidence)"),
            float(record["not_found_threshold"]), dict(record.get("training", {})))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is missing or damaged ({error!r}): {_REFIT}") from error


def write_models(path: Path, models: RankingModels) -> None:
    """Write a model file (sorted keys and fixed rounding, so a re-fit on the same data gives the same file)."""
    record = {"format": MODEL_FORMAT, "ranker": models.ranker.to_json(), "confidence": models.confidence.to_json(),
              "not_found_threshold": models.not_found_threshold, "training": models.training}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_rounded(record), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


@lru_cache(maxsize=4)
def load_models(path: Path, ranker_features: tuple[str, ...], confidence_features: tuple[str, ...]
                ) -> RankingModels:
    """read_models, once per process."""
    return read_models(path, ranker_features, confidence_features)
