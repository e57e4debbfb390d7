"""Read news articles from files: .txt, .md, .html, .jsonl and RSS / Atom feeds, in any encoding, one bad file
never stopping the rest. Pages go through trafilatura (qa/ingest/pages.py), Markdown is rendered to its text
(qa/ingest/markdown_text.py), bytes are decoded by what they declare or what charset-normalizer finds
(qa/ingest/decoding.py)."""

from __future__ import annotations

import hashlib
import html.parser
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.decoding import decode
from qa.ingest.feeds import FEED_SUFFIXES, looks_like_feed, read_feed
from qa.ingest.fetch import fetch_text, is_url
from qa.ingest.markdown_text import markdown_to_text
from qa.ingest.pages import extract_page
from qa.ingest.sentences import DATELINE_ONLY, MARKDOWN_HEADING, PHOTO_MARKER

logger = logging.getLogger(__name__)

# A larger file is skipped with a warning: 50 MB of text is about 800,000 "sentences" and hours of embedding.
MAX_FILE_BYTES = 10 * 1024 * 1024
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", *FEED_SUFFIXES)
MAX_TITLE_CHARS = 160

# What follows a title on its line: a photo marker and the caption glued after it ("... dialogue hinh anh 1The
# 7th ..."), or a photo credit ("... on Thursday. — VNA/VNS Photo").
_TITLE_TAIL = re.compile(rf"{PHOTO_MARKER.pattern}.*$|\s*[—–-]+\s*[\w/]+ Photo\s*$")


@dataclass(frozen=True)
class Article:
    """One article: `text` is exactly what the file holds, and citations are offsets into it."""

    article_id: str
    title: str
    text: str
    path: str
    url: str = ""
    date: str = ""
    source: str = ""  # the publication: a page's site name, a feed's title, a JSONL record's "source"

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\0{self.text}".encode("utf-8", "surrogatepass")).hexdigest()


def make_title(text: str) -> str:
    """Pick a readable title: the first non-empty line, skipping a bare dateline and photo markers."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines[:3]:
        if DATELINE_ONLY.match(line):
            continue
        title = _TITLE_TAIL.sub("", MARKDOWN_HEADING.sub("", line)).strip()
        if title:
            return title[:MAX_TITLE_CHARS]
    return lines[0][:MAX_TITLE_CHARS] if lines else ""


def read_articles(source: str | Path, max_file_bytes: int = MAX_FILE_BYTES) -> list[Article]:
    """Read every article in a file or folder (recursively), or fetch a page or feed by http(s) URL; skip bad
    files with a warning naming them.

    A file in a folder that is a link to somewhere outside the folder is skipped (a link to the password file is
    not an article), and so is a file over `max_file_bytes`.
    """
    if is_url(source):
        return _fetched_articles(str(source), max_file_bytes)
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"No such file or folder: {source}")
    root = source.resolve() if source.is_dir() else source.resolve().parent
    paths = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    articles: list[Article] = []
    seen_hashes: dict[str, str] = {}
    seen_ids: set[str] = set()
    for path in paths:
        if path.suffix.lower() not in ARTICLE_SUFFIXES:
            if source.is_file():
                logger.warning("Skipped %s: not an article file (%s)", path, ", ".join(ARTICLE_SUFFIXES))
            continue
        if source.is_dir() and not path.resolve().is_relative_to(root):
            logger.warning("Skipped %s: a link to %s, outside %s", path, path.resolve(), source)
            continue
        size = path.stat().st_size
        if size > max_file_bytes:
            logger.warning("Skipped %s: %.1f MB, over the %.1f MB limit for one file (qa index --max-file-mb)",
                           path, size / 1_048_576, max_file_bytes / 1_048_576)
            continue
        for article in _read_file(path, source if source.is_dir() else path.parent):
            if article.content_hash in seen_hashes:
                logger.warning("Skipped %s: same content as %s", article.article_id, seen_hashes[article.content_hash])
                continue
            if article.article_id in seen_ids:
                logger.warning("Skipped %s in %s: article id already used", article.article_id, path)
                continue
            seen_hashes[article.content_hash] = article.article_id
            seen_ids.add(article.article_id)
            articles.append(article)
    return articles


def _read_file(path: Path, root: Path) -> list[Article]:
    """The articles of one file; its path is stored absolute, so a later run from any directory knows it."""
    article_id = _file_article_id(path, root)
    path = path.resolve()
    try:
        return parse_file(path.read_bytes(), path, article_id)
    except (OSError, ValueError) as error:  # NotText is a ValueError
        logger.warning("Skipped %s: %s", path, error)
        return []


def parse_file(raw: bytes, path: Path, article_id: str) -> list[Article]:
    """The articles in one file's bytes, by its suffix: a JSONL file's records and a feed's entries (bad ones
    skipped with a warning; an XML file that is no feed gives none), or one article. NotText or ValueError when
    the file as a whole is unusable."""
    suffix = path.suffix.lower()
    text = decode(raw, nul_means_binary=suffix != ".jsonl")  # in JSONL a NUL byte spoils one record, not the file
    if suffix == ".jsonl":
        return _parse_jsonl(text, path)
    if suffix in FEED_SUFFIXES:
        if not looks_like_feed(text):
            logger.info("Skipped %s: XML, but not an RSS or Atom feed", path)
            return []
        return _feed_articles(text, path)
    return [parse_article(text, path, article_id)]


def parse_article(text: str, path: Path, article_id: str) -> Article:
    """Make one Article from a file's decoded text: a page's story (trafilatura), Markdown's rendered text, or
    plain text as it is."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        page = extract_page(text)
        return Article(article_id=article_id, title=page.title or make_title(page.text), text=page.text,
                       path=str(path), url=page.url, date=page.date, source=page.source)
    if suffix in (".md", ".markdown"):
        text = markdown_to_text(text)
    if not text.strip():
        raise ValueError("empty file")
    return Article(article_id=article_id, title=make_title(text), text=text, path=str(path))


def _fetched_articles(url: str, max_bytes: int) -> list[Article]:
    """A page (one article, its id the page's canonical URL) or a feed (an article per entry) fetched by URL."""
    final_url, text = fetch_text(url, max_bytes)
    if looks_like_feed(text):
        return _feed_articles(text, final_url)
    page = extract_page(text, final_url)
    article_id = page.url or final_url
    return [Article(article_id=article_id, title=page.title or make_title(page.text), text=page.text,
                    path=final_url, url=article_id, date=page.date, source=page.source)]


def _feed_articles(text: str, path: Path | str) -> list[Article]:
    """Each entry of a feed as an article, its id the entry's id (or link)."""
    articles = []
    for number, entry in enumerate(read_feed(text), start=1):
        body = html_to_text(entry.markup)[1] if "<" in entry.markup else entry.markup.strip()
        if not body:
            continue
        articles.append(Article(article_id=entry.entry_id, title=entry.title or make_title(body), text=body,
                                path=f"{path}#{number}", url=entry.url, date=entry.date, source=entry.source))
    return articles


def _file_article_id(path: Path, root: Path) -> str:
    """Use the file name without extension; files in subfolders keep their folder to stay unique."""
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    return relative.with_suffix("").as_posix()


def _parse_jsonl(text: str, path: Path) -> list[Article]:
    """Read article records; a JSONL file with no article record at all (say, a question set) is skipped whole."""
    articles, problems = [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)  # a line with a NUL byte or other control character is not JSON
            if record.get("id") in (None, ""):
                raise ValueError("no id (null or empty)")
            article_id, body = str(record["id"]), record["text"]
            if not isinstance(body, str) or not body.strip():
                raise ValueError("empty text")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
            problems.append(f"line {line_number}: {error!r}")
            continue
        title = str(record.get("title") or "") or make_title(body)
        articles.append(Article(
            article_id=article_id,
            title=title,
            text=body,
            path=f"{path}#{line_number}",
            url=str(record.get("url") or ""),
            date=str(record.get("date") or ""),
            source=str(record.get("source") or ""),
        ))
    if not articles and _is_question_set(text):
        logger.info("Skipped %s: a question set, not articles", path)
    elif not articles:
        logger.warning("Skipped %s: no article records (each line needs 'id' and 'text')", path)
    else:
        for problem in problems:
            logger.warning("Skipped %s %s (needs 'id' and 'text')", path, problem)
    return articles


def _is_question_set(text: str) -> bool:
    """seeds/ holds questions.jsonl and conversations.jsonl beside the articles: skip those quietly."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(record, dict) and ("question" in record or "turns" in record)


class _VisibleText(html.parser.HTMLParser):
    _HIDDEN = {"script", "style", "noscript", "template", "head"}
    _BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "header",
               "footer", "blockquote", "pre", "figcaption", "ul", "ol", "table", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._hidden_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._hidden_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str]:
    """Return (title, visible text) of an HTML page; blocks become paragraphs."""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return " ".join("".join(parser.title_parts).split()), "\n\n".join(p for p in paragraphs if p)
