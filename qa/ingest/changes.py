"""What an index run changes: which articles are new, which replace their earlier version, which are gone, and
which would have taken an id that another article holds.

An article id is never silently taken from a different article. The same file read again (or a feed entry or
page, whose id is its URL, fetched again) replaces its earlier version; a different file, or another upload,
whose id is already taken keeps both: it gets the id with "~2" (or the next free number) and a note that says so.
Articles are removed only when they came from a file under the folder being indexed and that file is gone:
never an upload or a fetched page, whatever the working directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from qa.ingest.articles import Article

UPLOAD_ORIGIN = "upload:"


@dataclass(frozen=True)
class StoredRecord:
    """What the plan needs of a stored article."""

    content_hash: str
    path: str


@dataclass(frozen=True)
class ChangePlan:
    """The changes an index run makes, and the notes it owes the user."""

    added: tuple[Article, ...]  # new ids, embedded
    updated: tuple[Article, ...]  # the new version of a stored id (same file, or same URL), embedded
    removed: tuple[str, ...]  # ids whose files are gone from the indexed folder
    unchanged: int
    kept_both: tuple[tuple[str, str], ...]  # (the id wanted, the id given) where another article held it
    # (id, the id of the article it copies, the share of their five-word runs in common): not indexed again.
    near_copies: tuple[tuple[str, str, float], ...] = ()

    @property
    def embedded(self) -> tuple[Article, ...]:
        return self.added + self.updated

    def notes(self) -> list[str]:
        """What the user is told besides the counts."""
        return [f"{wanted} already names a different article, so this one is {given} (to replace the old one: "
                f"qa remove {wanted}, then index again)" for wanted, given in self.kept_both] + [
                f"{copy} is a near copy of {original} ({shared:.0%} of its text in common): indexed once, as "
                f"{original}" for copy, original, shared in self.near_copies]


def origin(path: str) -> str:
    """Where an article came from: its file (a JSONL line or feed entry's file), an upload, or a URL."""
    return path.split("#")[0]


def _is_global_id(article_id: str) -> bool:
    """A URL or URN id (a feed entry's, a fetched page's) names one story wherever it was read from."""
    return "://" in article_id or article_id.startswith(("urn:", "tag:"))


def plan_changes(articles: Sequence[Article], stored: Mapping[str, StoredRecord],
                 folder: Path | None = None) -> ChangePlan:
    """Compare what was read with what is stored; `folder`, if given, is the folder that was read in full."""
    taken = set(stored)
    added, updated, kept_both, seen = [], [], [], set()
    unchanged = 0
    for article in articles:
        given = _id_for(article, stored, taken)
        seen.add(given)
        record = stored.get(given)
        if record is not None and record.content_hash == article.content_hash:
            unchanged += 1
            continue
        if given != article.article_id:
            if record is None:  # a new id for it now; an id given on an earlier run is simply its id
                kept_both.append((article.article_id, given))
            article = replace(article, article_id=given)
        (updated if record is not None else added).append(article)
        taken.add(given)
    removed = tuple(article_id for article_id, record in stored.items()
                    if article_id not in seen and folder is not None and _file_under(origin(record.path), folder))
    return ChangePlan(tuple(added), tuple(updated), removed, unchanged, tuple(kept_both))


def _id_for(article: Article, stored: Mapping[str, StoredRecord], taken: set[str]) -> str:
    """The id an incoming article is stored under: its own, the one its source already has, or a free one."""
    wanted = article.article_id
    variants = [wanted] + sorted((i for i in stored if i.startswith(f"{wanted}~")), key=len)
    for candidate in variants:
        record = stored.get(candidate)
        if record is None:
            continue
        if record.content_hash == article.content_hash:
            return candidate  # already stored as it is
        same_file = origin(record.path) == origin(article.path) and not article.path.startswith(UPLOAD_ORIGIN)
        if same_file or (candidate == wanted and _is_global_id(wanted)):
            return candidate  # a new version of the same file or story
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted}~{number}" in taken:
        number += 1
    return f"{wanted}~{number}"


def _file_under(path: str, folder: Path) -> bool:
    """True for an absolute file path inside `folder` (a folder, or the folder of a file that was read)."""
    if not path.startswith("/"):
        return False  # an upload, a URL, or a path stored by an older version relative to some other directory
    root = folder.resolve()
    root = root if root.is_dir() else root.parent
    return Path(path).is_relative_to(root)
