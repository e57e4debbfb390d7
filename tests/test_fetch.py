"""`qa index URL`: pages and feeds fetched from a real HTTP server started here on a loopback port."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ingest import PAGE, RSS  # tests/ is on the path (pytest prepends it)
from test_library_control import qa

from qa.ingest.articles import read_articles


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "ferry.html").write_bytes(PAGE.encode("cp1252"))
    (site / "delta.rss").write_bytes(RSS.encode())
    (site / "huge.html").write_bytes(b"<p>" + b"word " * 300_000 + b"</p>")
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def test_a_fetched_page_is_one_article_named_by_its_canonical_url(server: str) -> None:
    (article,) = read_articles(f"{server}/ferry.html")
    assert article.article_id == "https://fjord.example/ferry" == article.url
    assert article.path == f"{server}/ferry.html" and article.date == "2025-03-04"
    assert "said captain Åse Nilsen" in article.text and "cookies" not in article.text


def test_a_fetched_feed_gives_an_article_per_entry(server: str) -> None:
    articles = read_articles(f"{server}/delta.rss")
    assert [a.article_id for a in articles] == ["https://delta.example/dengue", "https://delta.example/rice"]
    assert articles[0].path == f"{server}/delta.rss#1" and articles[0].source == "Delta Wire"


def test_fetch_errors_say_what_went_wrong(server: str) -> None:
    with pytest.raises(ValueError, match="answered HTTP 404"):
        read_articles(f"{server}/missing.html")
    with pytest.raises(ValueError, match="over the 1.0 MB limit"):
        read_articles(f"{server}/huge.html", max_file_bytes=1_048_576)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(ValueError, match="could not fetch .* offline"):
        read_articles(f"http://127.0.0.1:{closed}/page.html")


@pytest.mark.slow
def test_qa_index_url_then_ask(server: str, tmp_path: Path) -> None:
    index = str(tmp_path / "web.idx")
    built = qa("index", f"{server}/ferry.html", "--index", index)
    assert built.returncode == 0 and "1 added" in built.stdout, built.stderr
    fed = qa("index", f"{server}/delta.rss", "--index", index)
    assert fed.returncode == 0 and "2 added, 0 updated, 0 removed" in fed.stdout, fed.stderr
    asked = qa("ask", "--index", index, "How many passengers did the Solveig carry on its maiden trip?")
    assert asked.returncode == 0 and "312 passengers" in asked.stdout
    offline = qa("index", "http://127.0.0.1:9/none.html", "--index", index)
    assert offline.returncode == 2 and "could not fetch http://127.0.0.1:9/none.html" in offline.stderr
