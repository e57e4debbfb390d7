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


# Tests that use these fixtures load the real model: they are `slow`, so `pytest -m "not slow"` runs without it.
MODEL_FIXTURES = frozenset({"encoder", "seed_library", "seeds_among_unrelated_articles", "library", "server_url",
                            "client", "fitted", "page", "mixed_library"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _quick_tests_never_load_the_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test not marked slow that loads the model fails, saying so (tests that start `qa` in another process
    are marked by hand)."""
    if request.node.get_closest_marker("slow") is None:
        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("this test loads the model: mark it @pytest.mark.slow")

        import embeddings.encoder

        monkeypatch.setattr(embeddings.encoder, "_load_encoder", refuse)
