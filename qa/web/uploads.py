"""Articles uploaded through the web UI: checked by extension, size and decoding, then indexed at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from qa.ingest.articles import ARTICLE_SUFFIXES, Article, parse_file
from qa.library import Library

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_FILES = 10
UPLOAD_ID_PREFIX = "upload/"  # uploads never replace an indexed article of the same name


def read_upload(path: Path) -> list[Article]:
    """Read one uploaded file into articles; ValueError saying why when it is refused."""
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        raise ValueError(f"not an article file; use {', '.join(ARTICLE_SUFFIXES)}")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(f"{size / 1_048_576:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1_048_576} MB")
    articles = parse_file(path.read_bytes(), path, path.stem)  # NotText, a ValueError, says why
    if not articles:
        raise ValueError("no article records; each line needs a JSON object with 'id' and 'text'"
                         if path.suffix.lower() == ".jsonl" else "not an RSS or Atom feed with entries")
    return [dataclasses.replace(a, article_id=UPLOAD_ID_PREFIX + a.article_id, path=f"upload:{path.name}")
            for a in articles]


def add_uploads(library: Library, paths: list[str] | None) -> str:
    """Index uploaded files at once; return a message naming what was added and what was refused, and why."""
    # The same file sent twice arrives as one cached path: read it once (a second read found it deleted).
    paths = list(dict.fromkeys(paths or []))
    articles, refused = [], []
    for number, name in enumerate(paths):
        path = Path(name)
        try:
            if number >= MAX_UPLOAD_FILES:
                raise ValueError(f"at most {MAX_UPLOAD_FILES} files at a time")
            articles += read_upload(path)
        except OSError as error:  # its message names the server's temporary path: never shown to the user
            refused.append(f"{path.name} (could not be read: {error.strerror or 'input/output error'})")
        except ValueError as error:
            refused.append(f"{path.name} ({error})")
        finally:
            path.unlink(missing_ok=True)  # the upload lives on in the index only; it is never served back
    lines = []
    if articles:
        plan = library.add_articles(articles)
        lines.append(f"Added {len(articles)} article(s) ({len(plan.added)} new, {len(plan.updated)} updated, "
                     f"{plan.unchanged} already indexed): "
                     + ", ".join(a.title for a in articles[:5]) + ("…" if len(articles) > 5 else ""))
        lines += [f"Kept both: {wanted} is a different article already indexed, so this one is {given}."
                  for wanted, given in plan.kept_both]
    if refused:
        lines.append("Refused: " + "; ".join(refused))
    return "\n".join(lines) or "No file received."
