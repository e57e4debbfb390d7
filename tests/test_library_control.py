"""A library the user controls: list and remove articles, never a silent replacement of a different article with
the same id, removals only of the indexed folder's own files, links out of the folder and oversized files
skipped, and each citation's date, source and web address."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.ingest.articles import read_articles
from qa.library import Library
from qa.web import uploads

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def qa(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_same_id_from_another_folder_or_upload_keeps_both(tmp_path: Path, encoder: Encoder) -> None:
    _write(tmp_path / "a", "harbour.txt", "Harbour news\n\nThe harbour in Hai Phong reopened on Monday.")
    _write(tmp_path / "b", "harbour.txt", "Harbour works\n\nDredging of the Cai Mep harbour will cost 40 million.")
    index = tmp_path / "x.idx"
    Library.build(tmp_path / "a", index, encoder)
    library, plan = Library.build_with_changes(tmp_path / "b", index, encoder)
    assert plan.kept_both == (("harbour", "harbour~2"),) and [a.article_id for a in plan.added] == ["harbour~2"]
    assert "qa remove harbour" in plan.notes()[0]
    assert {a.article_id: a.title for a in library.articles()} == {"harbour": "Harbour news",
                                                                    "harbour~2": "Harbour works"}
    # Indexing either folder again changes nothing; editing b's file updates harbour~2, not harbour.
    _, again = Library.build_with_changes(tmp_path / "b", index, encoder)
    assert (again.added, again.updated, again.removed, again.unchanged) == ((), (), (), 1)
    _write(tmp_path / "b", "harbour.txt", "Harbour works\n\nDredging of the Cai Mep harbour will cost 45 million.")
    library, edited = Library.build_with_changes(tmp_path / "b", index, encoder)
    assert [a.article_id for a in edited.updated] == ["harbour~2"] and not edited.kept_both
    assert "45 million" in library.ask("How much will the dredging of the Cai Mep harbour cost?").citations[0].sentence
    # Two uploads of the same name with different text: both kept.
    for text in ("Zoo news\n\nThe Hanoi zoo welcomed twin tiger cubs.", "Zoo news\n\nThe Saigon zoo bought a bear."):
        path = _write(tmp_path / "up", "zoo.txt", text)
        message = uploads.add_uploads(library, [str(path)])
    assert "Kept both: upload/zoo is a different article already indexed, so this one is upload/zoo~2" in message
    assert {"upload/zoo", "upload/zoo~2"} <= {a.article_id for a in library.articles()}


def test_indexing_inside_the_folder_removes_only_its_own_deleted_files(tmp_path: Path, encoder: Encoder) -> None:
    folder = tmp_path / "news"
    _write(folder, "one.txt", "Storm news\n\nThe storm closed Da Nang airport for two days.")
    _write(folder, "two.txt", "Rice news\n\nRice exports rose to 1.2 million tonnes in January.")
    index = tmp_path / "n.idx"
    built = qa("index", ".", "--index", str(index), cwd=folder)
    assert built.returncode == 0, built.stderr
    library = Library.open(index, encoder)
    uploads.add_uploads(library, [str(_write(tmp_path / "up", "zoo.txt", "Zoo\n\nThe zoo welcomed tiger cubs."))])
    (folder / "two.txt").unlink()
    again = qa("index", ".", "--index", str(index), cwd=folder)
    assert again.returncode == 0 and "0 added, 0 updated, 1 removed, 1 unchanged" in again.stdout, again.stderr
    listed = qa("list", "--json", "--index", str(index), cwd=tmp_path)
    assert [json.loads(line)["article_id"] for line in listed.stdout.splitlines()] == ["one", "upload/zoo"]
    # From another directory, by absolute path: the same folder, the same articles.
    assert "0 added, 0 updated, 0 removed, 1 unchanged" in qa("index", str(folder), "--index", str(index)).stdout


def test_list_and_remove(tmp_path: Path, encoder: Encoder) -> None:
    records = [{"id": "w1", "title": "Ferry", "text": "The electric ferry Solveig entered service on Tuesday.",
                "date": "2025-03-04", "source": "Fjord Herald", "url": "https://fjord.example/ferry"},
               {"id": "w2", "title": "Tunnel", "text": "Miners broke through the Karwendel tunnel on Thursday."}]
    _write(tmp_path / "wire", "wire.jsonl", "\n".join(json.dumps(r) for r in records))
    index = tmp_path / "w.idx"
    Library.build(tmp_path / "wire", index, encoder)
    listed = qa("list", "--index", str(index))
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[0] == "w1\tFerry\t2025-03-04 · Fjord Herald\t1 sentences"
    citation = Library.open(index, encoder).ask("When did the Solveig enter service?").citations[0]
    assert (citation.date, citation.source, citation.url) == ("2025-03-04", "Fjord Herald",
                                                              "https://fjord.example/ferry")
    refused = qa("remove", "w2", "nope", "--index", str(index))
    assert refused.returncode == 2 and "not in the index: nope" in refused.stderr
    assert [a.article_id for a in Library.open(index, encoder).articles()] == ["w1", "w2"]  # nothing removed
    removed = qa("remove", "w2", "--index", str(index))
    assert removed.returncode == 0 and "Removed 1 article(s); 1 left" in removed.stdout
    library = Library.open(index, encoder)
    assert [a.article_id for a in library.articles()] == ["w1"]
    assert all(c.article_id == "w1" for c in library.search("Karwendel tunnel miners", top_k=5))


def test_a_feed_entry_fetched_again_with_new_text_replaces_its_old_version(tmp_path: Path, encoder: Encoder) -> None:
    def feed(text: str) -> str:
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Delta Wire</title><item><title>Dengue'
                f'</title><link>https://delta.example/dengue</link><description>{text}</description></item>'
                '</channel></rss>')
    _write(tmp_path / "feeds", "delta.rss", feed("Dengue cases in Can Tho fell by 40 percent in January."))
    index = tmp_path / "f.idx"
    Library.build(tmp_path / "feeds", index, encoder)
    _write(tmp_path / "feeds", "delta.rss", feed("Dengue cases in Can Tho fell by 45 percent in January."))
    library, plan = Library.build_with_changes(tmp_path / "feeds", index, encoder)
    assert [a.article_id for a in plan.updated] == ["https://delta.example/dengue"] and not plan.added
    assert [a.source for a in library.articles()] == ["Delta Wire"]
    assert "45 percent" in library.ask("By how much did dengue cases fall in Can Tho?").citations[0].sentence


def test_links_out_of_the_folder_and_oversized_files_are_skipped(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "news"
    _write(folder, "fine.txt", "Fine\n\nA fine article about the harbour.")
    secret = _write(tmp_path / "outside", "secret.txt", "root:x:0:0:root:/root:/bin/bash")
    (folder / "passwd.txt").symlink_to(secret)
    _write(folder, "big.txt", "Big\n\n" + "Word after word. " * 70_000)  # 1.1 MB
    with caplog.at_level(logging.WARNING):
        articles = read_articles(folder, max_file_bytes=1_048_576)
    assert [a.article_id for a in articles] == ["fine"]
    assert "passwd.txt: a link to" in caplog.text and "big.txt: 1.1 MB, over the 1.0 MB limit" in caplog.text
    assert [a.article_id for a in read_articles(folder, max_file_bytes=2_097_152)] == ["big", "fine"]


def test_a_syndicated_copy_is_indexed_once_with_a_note(tmp_path: Path, encoder: Encoder) -> None:
    story = (ROOT / "data" / "news-dev" / "articles" / "bergen-electric-ferry.txt").read_text(encoding="utf-8")
    title, body = story.split("\n", 1)
    _write(tmp_path / "wire", "original.txt", story)
    index = tmp_path / "s.idx"
    Library.build(tmp_path / "wire", index, encoder)
    _write(tmp_path / "wire", "syndicated.txt", f"Norway's first electric car ferry sails\n{body}\n\n(Reporting by "
           "Wire Desk; Editing by Copy Desk)")
    _write(tmp_path / "wire", "other.txt", (ROOT / "data" / "news-dev" / "articles" / "ghent-steel-furnace.txt")
           .read_text(encoding="utf-8"))
    library, plan = Library.build_with_changes(tmp_path / "wire", index, encoder)
    assert [a.article_id for a in plan.added] == ["other"]
    (copy,) = plan.near_copies
    assert copy[:2] == ("syndicated", "original") and copy[2] >= 0.9
    assert "syndicated is a near copy of original" in plan.notes()[0]
    assert [a.article_id for a in library.articles()] == ["original", "other"]
