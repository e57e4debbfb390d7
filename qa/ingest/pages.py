"""A saved news page to its story: trafilatura keeps the main text and reads the page's metadata; menus, cookie
banners, share buttons, related-story lists and copyright footers are left out, so they are never cited.

The headline leads the stored text as its first paragraph, as it does in a .txt article, so a question about the
headline has a sentence to cite. The stored text is this extracted text, and citations are offsets into it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """What a news page holds: its headline, story text and metadata (empty strings where the page has none)."""

    title: str
    text: str
    date: str  # ISO 8601 (YYYY-MM-DD), as trafilatura normalises it
    author: str
    source: str  # the site's name
    url: str  # the canonical URL the page declares


def extract_page(markup: str, url: str = "") -> Page:
    """Extract a page's story and metadata; ValueError if it holds no story text."""
    from trafilatura import bare_extraction

    document = bare_extraction(markup, url=url or None, with_metadata=True, include_comments=False,
                               include_tables=True, include_images=False, include_links=False, deduplicate=False)
    if document is None:
        raise ValueError("no story text found in the page")
    found = document if isinstance(document, dict) else document.as_dict()
    paragraphs = [" ".join(line.split()) for line in (found.get("text") or "").splitlines()]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise ValueError("no story text found in the page")
    title = " ".join((found.get("title") or "").split())
    if title and paragraphs[0] != title:
        paragraphs.insert(0, title)
    return Page(title=title, text="\n\n".join(paragraphs), date=str(found.get("date") or ""),
                author=str(found.get("author") or ""), source=str(found.get("sitename") or ""),
                url=str(found.get("url") or url or ""))
