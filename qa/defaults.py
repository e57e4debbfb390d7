"""The default library: the seed articles, indexed on first use into a folder beside them."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from qa.library import Library

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_ROOT / "seeds"
INDEX_ENV_VAR = "QA_INDEX"

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_libraries: dict[Path, Library] = {}


def default_index_dir() -> Path:
    """Return $QA_INDEX, else .qa/seeds.idx in the project folder."""
    return Path(os.environ.get(INDEX_ENV_VAR) or PROJECT_ROOT / ".qa" / "seeds.idx")


def default_library() -> Library:
    """Open (building or updating on first use) the seed-article index; shared within the process."""
    index_dir = default_index_dir()
    with _lock:
        if index_dir not in _libraries:
            if os.environ.get(INDEX_ENV_VAR):
                _libraries[index_dir] = Library.open(index_dir)
            else:
                _libraries[index_dir] = _build_seed_index(index_dir)
        return _libraries[index_dir]


def _build_seed_index(index_dir: Path) -> Library:
    """Build or update the seed index; one that this version cannot read (an older format, a damaged file) is
    only a cache of seeds/, so it is rebuilt instead of refused."""
    try:
        return Library.build(SEEDS_DIR, index_dir)
    except ValueError as error:
        logger.warning("Rebuilding the seed index %s: %s", index_dir, error)
        return Library.rebuild(SEEDS_DIR, index_dir)
