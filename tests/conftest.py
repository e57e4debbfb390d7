"""Shared fixtures: the real model, loaded once per test session, and an index of the seed articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.encoder import Encoder, load_encoder
from qa.library import Library

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder()


@pytest.fixture(scope="session")
def seed_library(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Library:
    """The seed articles indexed in a temporary folder (never the user's .qa/ index)."""
    return Library.build(SEEDS_DIR, tmp_path_factory.mktemp("seeds") / "seeds.idx", encoder)
