"""Split article text into sentences with exact character offsets (pysbd, plus news-wire conventions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

MAX_SENTENCE_CHARS = 1200

# "Hanoi (VNA) – ", "HÀ NỘI — ": a dateline opens the first sentence of a wire story; it is not part of it.
_LEADING_DATELINE = re.compile(
    r"^(?:[A-ZÀ-Ỹ][A-ZÀ-Ỹ .,]{2,40}|[A-ZÀ-Ỹ][\wÀ-ỹ .,]{1,40}\([A-Z]{2,6}\))\s*[–—-]\s+(?=\S)"
)
# A line that is only a dateline: "VIETNAM, June 2 -". Neither a sentence nor a title.
DATELINE_ONLY = re.compile(r"^[A-ZÀ-Ỹ][\w .'À-ỹ]*,\s+\w+\.?\s+\d{1,2}\s*[-–—]$")
# Agency marks and photo credits that end stories or captions: "/.", "VNA", "— VNS", "— VNA/VNS Photo".
_TRAILER_ONLY = re.compile(r"^[\s—–\-/.]*(?:(?:[A-Z]{2,6}/)*[A-Z]{2,6}(?: Photo)?)?[\s/.]*$")
# "hinh anh 1" ("image 1") is a photo marker that Vietnamese sites glue between a title and its caption.
PHOTO_MARKER = re.compile(r"\s*hinh anh \d+")
# A Markdown heading's marks, where a plain-text file starts a line with them ("# Title").
MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")


# A photo credit: "(Photo: qdnd.vn)", "— VNA/VNS Photo". The line that holds one is a caption.
_PHOTO_CREDIT = re.compile(r"\(Photo\b|[—–-]\s*(?:[A-Z]{2,6}/)*[A-Z]{2,6} Photo\s*$")


@dataclass(frozen=True)
class Span:
    """A sentence as offsets into its article: text[start:end]."""

    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[Span]:
    """Split text into sentence spans; text[span.start:span.end] is the exact sentence, trimmed."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        for piece_start, piece_end in _split_photo_marker(line.group(), line.start()):
            spans.extend(_split_piece(text, piece_start, piece_end))
    return spans


def is_photo_caption(text: str, span: Span) -> bool:
    """True when the sentence is part of a photo caption: its line carries a photo credit."""
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.end)
    line = text[line_start:] if line_end < 0 else text[line_start:line_end]
    marker = PHOTO_MARKER.search(line)  # a title glued before its caption is not part of it
    if marker and span.start < line_start + marker.end():
        return False
    return bool(_PHOTO_CREDIT.search(line))


def _split_photo_marker(line: str, offset: int) -> list[tuple[int, int]]:
    match = PHOTO_MARKER.search(line)
    if not match:
        return [(offset, offset + len(line))]
    return [(offset, offset + match.start()), (offset + match.end(), offset + len(line))]


def _split_piece(text: str, start: int, end: int) -> list[Span]:
    piece = text[start:end]
    if not piece.strip() or DATELINE_ONLY.match(piece.strip()):
        return []
    spans = []
    cursor = 0
    for segment in _segmenter().segment(piece):
        found = piece.find(segment.strip(), cursor) if segment.strip() else -1
        if found < 0:
            # pysbd changed the text (rare): keep the rest of the piece as one sentence rather than lose it.
            found, segment = cursor, piece[cursor:]
        cursor = found + len(segment.strip())
        span = _trim(text, start + found, start + cursor)
        if span is not None:
            spans.extend(_cap_length(text, span))
        if segment is piece[found:]:
            break
    return spans


def _trim(text: str, start: int, end: int) -> Span | None:
    sentence = text[start:end]
    dateline = _LEADING_DATELINE.match(sentence)
    if dateline:
        start += dateline.end()
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or _TRAILER_ONLY.match(text[start:end]):
        return None
    return Span(start, end)


def _cap_length(text: str, span: Span) -> list[Span]:
    """Cut run-on text (no punctuation for pages) at spaces into pieces the encoder can read in full."""
    spans = []
    start = span.start
    while span.end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        spans.append(Span(start, cut))
        start = cut
        while start < span.end and text[start].isspace():
            start += 1
    spans.append(Span(start, span.end))
    return spans
