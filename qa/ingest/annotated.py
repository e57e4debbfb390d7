"""What ingest hands the store: an article, its sentences, and what was found in each of them at index time
(entities and verbs, who each sentence is about, which are photo captions), with the article's MinHash.

The store only keeps these; finding them is ingest's work, done before the store's transaction begins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.ingest.articles import Article
from qa.ingest.entities import Annotation
from qa.ingest.sentences import Span, is_photo_caption
from qa.ingest.subjects import subject_positions


@dataclass(frozen=True)
class AnnotatedArticle:
    """An article ready for the store."""

    article: Article
    spans: tuple[Span, ...]
    annotations: tuple[Annotation, ...]  # entities and verb count, per sentence
    subjects: tuple[int | None, ...]  # per sentence: the position of the one that introduced who it is about
    captions: tuple[bool, ...]  # per sentence: part of a photo caption
    minhash: np.ndarray  # uint64 signature of its five-word runs (qa/ingest/near_duplicates.py)

    @property
    def sentences(self) -> list[str]:
        return [self.article.text[span.start:span.end] for span in self.spans]


def annotated(article: Article, spans: Sequence[Span], annotations: Sequence[Annotation],
              minhash: np.ndarray) -> AnnotatedArticle:
    """Add who each sentence is about and which are captions to what the recogniser found."""
    texts = [article.text[span.start:span.end] for span in spans]
    return AnnotatedArticle(article, tuple(spans), tuple(annotations), tuple(subject_positions(texts)),
                            tuple(is_photo_caption(article.text, span) for span in spans), minhash)
