"""The named-entity recogniser: verified before it loads, and its entities as exact offsets into article text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.ingest.entities import PIPELINE_SHA256, load_recognizer, pipeline_dir, verify_pipeline


def test_a_changed_pipeline_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "pipeline"
    shutil.copytree(pipeline_dir(), copy)
    verify_pipeline(copy)  # the installed pipeline passes
    with (copy / "ner" / "model").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0\0\0\0")
    with pytest.raises(ValueError, match=r"ner/model has sha256 .* expected .*--force-reinstall"):
        verify_pipeline(copy)


def test_every_pipeline_file_is_pinned() -> None:
    installed = {p.relative_to(pipeline_dir()).as_posix() for p in pipeline_dir().rglob("*") if p.is_file()}
    # accuracy.json only reports the pipeline's scores; README and licences are text.
    assert set(PIPELINE_SHA256) == installed - {"README.md", "LICENSE", "LICENSES_SOURCES", "accuracy.json"}


@pytest.mark.slow
def test_entities_are_offsets_into_the_article_text() -> None:
    text = "Ferry opens\n\nBERGEN, Norway — Ingrid Solberg opened the route on Monday. It carries 600 passengers."
    sentences = ["Ferry opens", "BERGEN, Norway — Ingrid Solberg opened the route on Monday.",
                 "It carries 600 passengers."]
    spans = [(text.index(s), text.index(s) + len(s)) for s in sentences]
    annotated = load_recognizer().annotate([text], [spans])[0]
    found = {(text[e.start:e.end], e.label) for a in annotated for e in a.entities}
    assert {("Ingrid Solberg", "PERSON"), ("Monday", "DATE"), ("600", "CARDINAL")} <= found
    for (start, end), annotation in zip(spans, annotated, strict=True):
        assert all(start <= e.start < e.end <= end for e in annotation.entities)
    assert annotated[1].verbs >= 1 and annotated[2].verbs >= 1
