"""Shared fixtures: the real model, loaded once per test session, an index of the seed articles, and one of the
seed articles among unrelated ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.encoder import Encoder, load_encoder
from qa.ingest.articles import read_articles
from qa.library import Library

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
UNRELATED_ARTICLES = Path(__file__).resolve().parent / "data" / "unrelated_articles.jsonl"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder()


@pytest.fixture(scope="session")
def seed_library(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Library:
    """The seed articles indexed in a temporary folder (never the user's .qa/ index)."""
    return Library.build(SEEDS_DIR, tmp_path_factory.mktemp("seeds") / "seeds.idx", encoder)


@pytest.fixture(scope="session")
def seeds_among_unrelated_articles(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Library:
    """The seed articles among 54 unrelated ones (tests/data/README.md): a user's library is rarely two articles,
    and word rarity, which much of the evidence weighs by, changes with what else the library holds."""
    library = Library.build(SEEDS_DIR, tmp_path_factory.mktemp("mixed") / "mixed.idx", encoder)
    library.add_articles(read_articles(UNRELATED_ARTICLES))
    return library
