"""A large distractor corpus for the scale benchmarks, from text that installs here (no internet at run time).

Real English prose, written by people, from Debian packages (`sudo apt-get install $PACKAGES`, PACKAGES below):

- the Python 3 documentation (python3.11-dev's HTML pages, ~530): technical prose, paragraphs;
- the Debian Administrator's Handbook (debian-handbook, English HTML, ~130 pages);
- the Collaborative International Dictionary of English (dict-gcide, 40 MB): definitions and quotations, by
  headword, which gives the bulk past 200,000 sentences;
- the PostgreSQL 15 manual (postgresql-doc-15, ~1,170 HTML pages);
- WordNet 3.0's glosses (dict-wn), one sentence per sense ("air cell: a tiny sac for holding air in the lungs");
- added when those ran out at 593,247 sentences, after them: Perl's POD manuals (perl-doc), Git's (git-doc),
  SQLite's (sqlite3-doc) and GNU Octave's (octave-doc) HTML documentation, and the Linux kernel's
  (linux-doc-6.1), which takes the corpus to 1,000,000.

Sentences of fewer than MIN_WORDS words are left out (dictionary markup, citation tags).

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
POSTGRESQL_DOCS = Path("/usr/share/doc/postgresql-doc-15/html")
WORDNET = Path("/usr/share/dictd/wn.dict.dz")
PERL_PODS = Path("/usr/share/perl/5.36/pod")
GIT_DOCS = Path("/usr/share/doc/git-doc")
LINUX_DOCS = Path("/usr/share/doc/linux-doc-6.1/html")
SQLITE_DOCS = Path("/usr/share/doc/sqlite3")
OCTAVE_DOCS = Path("/usr/share/doc/octave")
PACKAGES = ("python3-doc debian-handbook dict-gcide postgresql-doc-15 dict-wn perl-doc git-doc sqlite3-doc octave-doc "
            "linux-doc-6.1")
SENTENCES_PER_ARTICLE = 25
# A sentence is kept when it has this many words of two letters or more: GCIDE's markup left thousands of
# copies of "]", "[WordNet 1.5]", "--Shak." and "n." as sentences of their own (8,986 of "]" in 568,000), which
# no library of articles holds, and which made HNSW's graph lose sentences (a clique of equal vectors).
MIN_WORDS = 4
_WORD = re.compile(r"[^\W\d_]{2,}")
_WORDNET_SENSE = re.compile(r"^\s+(?:(?:n|v|adj|adv)\s+)?\d+:\s")
_WORDNET_TAIL = re.compile(r"\[(?:syn|ant|also):.*$|;?\s*\"[^\"]*\"")
_SPACES = re.compile(r"\s+")
_POD_CODE = re.compile(r"[A-Z]<+\s?([^<>]*?)\s?>+")
_GCIDE_HEAD = re.compile(r"^(?P<word>[A-Z][\w' -]*) \\")
_GCIDE_NOISE = re.compile(r"\[1913 Webster\]|\[Webster 1913 Suppl\.\]|\[PJC\]|\[R\.\]|\[Obs\.\]")


def _pages(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """(title, paragraphs) of each HTML page under `folder`, in path order."""
    for path in sorted(folder.rglob("*.html")):
        if "_static" in path.parts or "_sources" in path.parts or not path.is_file():  # octave names folders *.html
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


def _wordnet() -> Iterator[tuple[str, list[str]]]:
    """(headword, paragraphs) of each WordNet entry: one sentence per sense, its gloss ("absolute: perfect or
    complete or pure."), without the quoted examples and synonym lists."""
    with gzip.open(WORDNET, "rt", encoding="utf-8", errors="replace") as lines:
        word, senses, current = "", [], []

        def flush() -> None:
            if current:
                gloss = _WORDNET_TAIL.sub("", _SPACES.sub(" ", " ".join(current))).strip(" ;")
                if gloss:
                    senses.append(f"{word}: {gloss}.")
                current.clear()

        for line in lines:
            if line.startswith("00-database") or not line.strip():
                continue
            if not line.startswith(" "):
                flush()
                if word and senses:
                    yield word, [" ".join(senses)]
                word, senses = line.strip(), []
            elif _WORDNET_SENSE.match(line):
                flush()
                current.append(_WORDNET_SENSE.sub("", line))
            elif current:
                current.append(line.strip())
        flush()
        if word and senses:
            yield word, [" ".join(senses)]


def _pods(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """(title, paragraphs) of each Perl POD file under `folder`: its ordinary paragraphs (not commands, which
    start with "=", nor verbatim code, which is indented), formatting codes such as B<...> and C<...> unwrapped."""
    for path in sorted(folder.glob("*.pod")):
        text = path.read_text(encoding="utf-8", errors="replace")
        title = path.stem
        paragraphs = []
        for block in re.split(r"\n\s*\n", text):
            if not block.strip() or block.startswith(("=", " ", "\t")):
                continue
            paragraph = _SPACES.sub(" ", _POD_CODE.sub(r"\1", _POD_CODE.sub(r"\1", block))).strip()
            if len(paragraph.split()) >= 6:
                paragraphs.append(paragraph)
        yield title, paragraphs


def prose(paragraph: str) -> str:
    """The paragraph's sentences with MIN_WORDS words or more."""
    text = paragraph
    kept = [text[s.start:s.end] for s in split_sentences(text) if len(_WORD.findall(text[s.start:s.end])) >= MIN_WORDS]
    return " ".join(kept)


def articles(target_sentences: int) -> Iterator[dict]:
    """Distractor articles of about SENTENCES_PER_ARTICLE sentences until `target_sentences` are reached."""
    total = 0
    sources = (("python-docs", _pages(PYTHON_DOCS)), ("debian-handbook", _pages(HANDBOOK)),
               ("gcide", _dictionary()), ("postgresql-docs", _pages(POSTGRESQL_DOCS)), ("wordnet", _wordnet()),
               # Added when the five above ran out at 593,247 sentences; after them, so the first 593,247 stay as
               # they were (and their cached vectors with them).
               ("perl-docs", _pods(PERL_PODS)), ("git-docs", _pages(GIT_DOCS)), ("sqlite-docs", _pages(SQLITE_DOCS)),
               ("octave-docs", _pages(OCTAVE_DOCS)), ("linux-docs", _pages(LINUX_DOCS)))
    for source, pages in sources:
        number, title, buffer, count = 0, "", [], 0
        for page_title, paragraphs in pages:
            for paragraph in filter(None, map(prose, paragraphs)):
                if not buffer:
                    title = page_title
                buffer.append(paragraph)
                count += len(split_sentences(paragraph))
                if count >= SENTENCES_PER_ARTICLE:
                    number += 1
                    text = "\n\n".join(buffer)
                    yield {"id": f"distractor/{source}/{number}", "title": title, "text": text}
                    total += len(split_sentences(text))  # as a library splits the article (paragraphs alone differ)
                    buffer, count = [], 0
                    if total >= target_sentences:
                        return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in (PYTHON_DOCS, HANDBOOK, GCIDE, POSTGRESQL_DOCS, WORDNET, PERL_PODS, GIT_DOCS, SQLITE_DOCS,
                 OCTAVE_DOCS, LINUX_DOCS):
        if not path.exists():
            raise SystemExit(f"{path} is missing: sudo apt-get install {PACKAGES}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with args.out.open("w", encoding="utf-8") as out:
        for article in articles(args.sentences):
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
            written += 1
    print(f"{written} articles, about {args.sentences} sentences: {args.out}")


if __name__ == "__main__":
    main()
