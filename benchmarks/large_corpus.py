"""A large distractor corpus for the scale benchmarks, from text that installs here (no internet at run time).

Real English prose, written by people, from three Debian packages (`sudo apt-get install python3-doc
debian-handbook dict-gcide`):

- the Python 3 documentation (python3.11-dev's HTML pages, ~530): technical prose, paragraphs;
- the Debian Administrator's Handbook (debian-handbook, English HTML, ~130 pages);
- the Collaborative International Dictionary of English (dict-gcide, 40 MB): definitions and quotations, by
  headword, which gives the bulk past 200,000 sentences.

None of it is news, so it tests a library that is mostly unrelated text; news-like near misses at scale are
not reproduced (the development set has those among its own 40 articles). Articles are cut to about 25
sentences, as news articles run, and get ids `distractor/<source>/<n>`; the corpus is deterministic: the same
packages give the same articles in the same order.

    .venv/bin/python -m benchmarks.large_corpus --sentences 100000 --out .qa/scale/distractors-100000.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

from lxml import html as lxml_html

from qa.ingest.sentences import split_sentences

PYTHON_DOCS = Path("/usr/share/doc/python3.11-dev/html")
HANDBOOK = Path("/usr/share/doc/debian-handbook/html/en-US")
GCIDE = Path("/usr/share/dictd/gcide.dict.dz")
SENTENCES_PER_ARTICLE = 25
_SPACES = re.compile(r"\s+")
_GCIDE_HEAD = re.compile(r"^(?P<word>[A-Z][\w' -]*) \\")
_GCIDE_NOISE = re.compile(r"\[1913 Webster\]|\[Webster 1913 Suppl\.\]|\[PJC\]|\[R\.\]|\[Obs\.\]")


def _pages(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """(title, paragraphs) of each HTML page under `folder`, in path order."""
    for path in sorted(folder.rglob("*.html")):
        if "_static" in path.parts or "_sources" in path.parts:
            continue
        tree = lxml_html.parse(str(path))
        title = _SPACES.sub(" ", " ".join(tree.xpath("//title//text()"))).strip()
        paragraphs = [_SPACES.sub(" ", p.text_content()).strip() for p in tree.xpath("//p")]
        yield title, [p for p in paragraphs if len(p.split()) >= 6]


def _dictionary() -> Iterator[tuple[str, list[str]]]:
    """(headword, paragraphs) of each GCIDE entry with a definition of a sentence or more."""
    with gzip.open(GCIDE, "rt", encoding="utf-8", errors="replace") as lines:
        word, body = "", []
        for line in lines:
            head = _GCIDE_HEAD.match(line)
            if head and not line.startswith(" "):
                if word and body:
                    yield word, [_SPACES.sub(" ", " ".join(body)).strip()]
                word, body = head.group("word"), []
            elif word and line.startswith("   "):
                text = _GCIDE_NOISE.sub("", line).strip()
                if text:
                    body.append(text)
        if word and body:
            yield word, [_SPACES.sub(" ", " ".join(body)).strip()]


def articles(target_sentences: int) -> Iterator[dict]:
    """Distractor articles of about SENTENCES_PER_ARTICLE sentences until `target_sentences` are reached."""
    total = 0
    sources = (("python-docs", _pages(PYTHON_DOCS)), ("debian-handbook", _pages(HANDBOOK)),
               ("gcide", _dictionary()))
    for source, pages in sources:
        number, title, buffer, count = 0, "", [], 0
        for page_title, paragraphs in pages:
            for paragraph in paragraphs:
                if not buffer:
                    title = page_title
                buffer.append(paragraph)
                count += len(split_sentences(paragraph))
                if count >= SENTENCES_PER_ARTICLE:
                    number += 1
                    yield {"id": f"distractor/{source}/{number}", "title": title, "text": "\n\n".join(buffer)}
                    total += count
                    buffer, count = [], 0
                    if total >= target_sentences:
                        return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in (PYTHON_DOCS, HANDBOOK, GCIDE):
        if not path.exists():
            raise SystemExit(f"{path} is missing: sudo apt-get install python3-doc debian-handbook dict-gcide")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with args.out.open("w", encoding="utf-8") as out:
        for article in articles(args.sentences):
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
            written += 1
    print(f"{written} articles, about {args.sentences} sentences: {args.out}")


if __name__ == "__main__":
    main()
