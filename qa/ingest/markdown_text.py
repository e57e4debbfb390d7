"""Markdown to the plain text a reader sees: no `#`, `*`, list dashes or link syntax in a sentence.

markdown-it-py parses (CommonMark); each block (heading, paragraph, list item, quote line, table cell row) becomes
a paragraph of its inline text, link and image text kept, emphasis marks dropped, code kept as written.
"""

from __future__ import annotations

from functools import lru_cache

_BLOCK_ENDS = {"paragraph_close", "heading_close", "th_close", "td_close", "tr_close", "code_block", "fence"}


@lru_cache(maxsize=1)
def _parser():  # noqa: ANN202 - markdown_it is imported on first use
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


def markdown_to_text(markdown: str) -> str:
    """The text of a Markdown document, one paragraph per block, paragraphs separated by blank lines."""
    paragraphs: list[str] = []
    current: list[str] = []

    def close() -> None:
        text = " ".join("".join(current).split())
        if text:
            paragraphs.append(text)
        current.clear()

    for token in _parser().parse(markdown):
        if token.type == "inline":
            for child in token.children or ():
                if child.type in ("text", "code_inline"):
                    current.append(child.content)
                elif child.type == "image":
                    current.append(child.content)  # the alt text
                elif child.type in ("softbreak", "hardbreak"):
                    current.append(" ")
        elif token.type in ("code_block", "fence"):
            close()
            current.append(token.content)
            close()
        elif token.type in _BLOCK_ENDS:
            if token.type in ("th_close", "td_close"):
                current.append(" ")
            else:
                close()
    close()
    return "\n\n".join(paragraphs)
