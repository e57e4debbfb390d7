import json
import logging
from pathlib import Path

import pytest

from qa.ingest.articles import html_to_text, make_title, read_articles


def test_reads_txt_md_html_jsonl_recursively(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Title A\n\nBody of A.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("# Title B\n\nBody of B.", encoding="utf-8")
    (tmp_path / "c.html").write_text("<html><head><title>Title C</title><script>var x = 1;</script></head>"
                                     "<body><p>Body of C.</p><style>p {}</style></body></html>", encoding="utf-8")
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "d1", "title": "Title D", "text": "Body of D.",
                                                  "url": "http://x", "date": "2020-01-01"}) + "\n",
                                      encoding="utf-8")
    articles = {a.article_id: a for a in read_articles(tmp_path)}
    assert set(articles) == {"a", "sub/b", "c", "d1"}
    assert articles["a"].title == "Title A" and articles["sub/b"].title == "Title B"
    assert articles["c"].title == "Title C" and articles["c"].text == "Title C\n\nBody of C."  # headline first
    assert articles["d1"].url == "http://x" and articles["d1"].date == "2020-01-01"


def test_bad_files_are_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "good.txt").write_text("Good\n\nA fine article.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "mixed.jsonl").write_text('{"id": "ok", "text": "Fine."}\nnot json\n{"id": "x"}\n',
                                          encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        articles = read_articles(tmp_path)
    assert sorted(a.article_id for a in articles) == ["good", "ok"]
    for name in ("empty.txt", "binary.txt", "mixed.jsonl"):
        assert name in caplog.text


def test_duplicate_article_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("Same\n\nSame text.", encoding="utf-8")
    (tmp_path / "two.txt").write_text("Same\n\nSame text.", encoding="utf-8")
    assert [a.article_id for a in read_articles(tmp_path)] == ["one"]


def test_seed_titles_are_readable() -> None:
    seeds = {a.article_id: a for a in read_articles(Path(__file__).resolve().parent.parent / "seeds")}
    assert seeds["000_455ed2948e93ac7b"].title == "Vietnam, Japan hold 7th defence policy dialogue"
    assert seeds["004_e8ce38fb4ece313b"].title.startswith("Signing ceremony for the minutes of the second")


def test_text_is_kept_byte_for_byte() -> None:
    seed = Path(__file__).resolve().parent.parent / "seeds" / "000_455ed2948e93ac7b.txt"
    (article,) = read_articles(seed)
    assert article.text == seed.read_bytes().decode("utf-8")


def test_title_skips_bare_dateline() -> None:
    assert make_title("VIETNAM, June 2 -\n\nReal headline here\n\nBody.") == "Real headline here"


def test_html_hides_scripts_and_keeps_paragraphs() -> None:
    title, text = html_to_text("<title> T </title><p>One.</p><script>alert(1)</script><p>Two &amp; three.</p>")
    assert title == "T" and text == "One.\n\nTwo & three."


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_articles(tmp_path / "nope")
