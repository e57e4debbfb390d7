"""Saved news pages through the project's reader: the story kept, the page furniture left out. Trafilatura
(qa/ingest/pages.py, what `qa index` uses) beside the visible-text reader it replaced (qa.ingest.articles.html_to_text,
which now reads only feed entries' HTML fragments), on the same pages, in the same run.

Pages: the development set's four HTML pages (cookie banners, menus, share buttons, related stories, footers).
- answer sentences kept: the `sentence_contains` snippets of the development questions about each page;
- furniture blocks kept: text blocks of the page outside its <article> element (banner, header, menu, aside,
  footer), each a line of 3 or more words, found in the reader's text;
- copyright lines kept: lines with "©" or "copyright".

The public trafilatura benchmark the issue cites (945 pages) is not installed here, so it is not re-run.

    .venv/bin/python -m benchmarks.extraction

Writes benchmarks/results/extraction.md and extraction.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html

from benchmarks.report import markdown, save_results
from qa.ingest.articles import html_to_text
from qa.ingest.pages import extract_page

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "news-dev"


def _folded(text: str) -> str:
    return " ".join(text.split()).lower()


def furniture_blocks(markup: str) -> list[str]:
    """Text blocks of a page outside its <article>, of 3 words or more."""
    tree = lxml.html.fromstring(markup)
    for node in tree.xpath("//article | //script | //style | //head | //noscript"):
        node.drop_tree()
    blocks = []
    for node in tree.iter():
        text = " ".join(t.strip() for t in node.xpath("text()") if t.strip())
        if len(text.split()) >= 3:
            blocks.append(_folded(text))
    return blocks


def measure_page(path: Path, snippets: list[str]) -> list[dict]:
    markup = path.read_text(encoding="utf-8")
    furniture = furniture_blocks(markup)
    rows = []
    for reader, text in (("visible text (before)", html_to_text(markup)[1]), ("trafilatura (now)", extract_page(
            markup).text)):
        folded = _folded(text)
        rows.append({"page": path.name, "reader": reader, "snippets": len(snippets),
                     "answers kept": sum(_folded(s) in folded for s in snippets),
                     "furniture blocks": len(furniture), "furniture kept": sum(b in folded for b in furniture),
                     "copyright lines kept": len(re.findall(r"©|copyright", text, re.IGNORECASE))})
    return rows


def main() -> None:
    questions = [json.loads(line) for line in (DEV / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = []
    for path in sorted((DEV / "articles").glob("*.html")):
        snippets = [q["sentence_contains"] for q in questions if q.get("article_id") == path.stem]
        rows += measure_page(path, snippets)
    for reader in ("visible text (before)", "trafilatura (now)"):
        mine = [r for r in rows if r["reader"] == reader]
        rows.append({"page": "all 4", "reader": reader, **{key: sum(r[key] for r in mine) for key in (
            "snippets", "answers kept", "furniture blocks", "furniture kept", "copyright lines kept")}})
    columns = ["page", "reader", "snippets", "answers kept", "furniture blocks", "furniture kept",
               "copyright lines kept"]
    save_results("extraction", markdown(rows, columns), rows)


if __name__ == "__main__":
    main()
