"""RSS and Atom feeds to articles' parts: each entry is one story, with its own id (the entry's id, else its
link), title, date, link and the feed's title as its source. feedparser reads every RSS and Atom version."""

from __future__ import annotations

import time
from dataclasses import dataclass

FEED_SUFFIXES = (".rss", ".atom", ".xml")


@dataclass(frozen=True)
class FeedEntry:
    """One story of a feed; `markup` is its content as the feed carries it (HTML, or plain text)."""

    entry_id: str
    title: str
    markup: str
    date: str  # YYYY-MM-DD, or ""
    url: str
    source: str  # the feed's title


def looks_like_feed(text: str) -> bool:
    """True for an RSS or Atom document (an .xml file may be anything else)."""
    head = text[:2048].lower()
    return "<rss" in head or "<feed" in head or "<rdf:rdf" in head


def read_feed(text: str) -> list[FeedEntry]:
    """Parse a feed; ValueError if it is not one, or holds no entry with text."""
    import feedparser

    parsed = feedparser.parse(text)
    if not parsed.entries:
        problem = getattr(parsed, "bozo_exception", None)
        raise ValueError(f"not an RSS or Atom feed with entries{f' ({problem})' if problem else ''}")
    source = " ".join(str(parsed.feed.get("title", "")).split())
    entries = []
    for entry in parsed.entries:
        # The entry's full content when the feed carries it; else its summary.
        contents = entry.get("content") or []
        markup = max((c.get("value", "") for c in contents), key=len, default="") or entry.get("summary", "")
        entry_id = str(entry.get("id") or entry.get("link") or "")
        if not entry_id or not markup.strip():
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        entries.append(FeedEntry(entry_id=entry_id, title=" ".join(str(entry.get("title", "")).split()),
                                 markup=markup, date=time.strftime("%Y-%m-%d", stamp) if stamp else "",
                                 url=str(entry.get("link", "")), source=source))
    if not entries:
        raise ValueError("the feed's entries have no id, link or text")
    return entries
