"""The index folder: incremental updates, damage detection, and crash safety, on the real model."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder
from qa.index.folder import GRAPH, MANIFEST, STORE, files_agree
from qa.library import Library
from qa.search.retrieval import FEATURES, RetrievalSettings

ROOT = Path(__file__).resolve().parent.parent


class CountingEncoder:
    """Wraps the real encoder to count what gets embedded."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder, self.name, self.dim, self.encoded = encoder, encoder.name, encoder.dim, 0
        self.backend, self.precision, self.file_sha256 = encoder.backend, encoder.precision, encoder.file_sha256

    def encode(self, texts: list[str], show_progress: bool | None = None):
        self.encoded += len(texts)
        return self._encoder.encode(texts)


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ROOT / "seeds" / "000_455ed2948e93ac7b.txt", folder)
    (folder / "zoo.txt").write_text("Zoo news\n\nThe Hanoi zoo welcomed twin tiger cubs on Monday. "
                                    "Keepers named them Sun and Moon.", encoding="utf-8")
    return folder


def test_reindex_embeds_only_new_or_changed_and_drops_deleted(articles: Path, tmp_path: Path,
                                                              encoder: Encoder) -> None:
    counting = CountingEncoder(encoder)
    index_dir = tmp_path / "i.idx"
    library = Library.build(articles, index_dir, counting)
    assert library.counts() == (2, 15)
    first = counting.encoded
    Library.build(articles, index_dir, counting)
    assert counting.encoded == first  # nothing changed, nothing embedded

    (articles / "zoo.txt").write_text("Zoo news\n\nThe Hanoi zoo welcomed three lion cubs.", encoding="utf-8")
    (articles / "new.md").write_text("# Rain\n\nHeavy rain flooded Hue on Tuesday.", encoding="utf-8")
    (articles / "000_455ed2948e93ac7b.txt").unlink()
    library = Library.build(articles, index_dir, counting)
    assert counting.encoded - first == 2 + 2  # zoo (title + 1 sentence) and new.md (title + 1 sentence)
    assert library.counts() == (2, 4)
    assert library.search("How many lion cubs?", top_k=1)[0].article_id == "zoo"
    assert all(c.article_id != "000_455ed2948e93ac7b" for c in library.search("defence dialogue Japan"))
    reopened = Library.open(index_dir, counting)
    assert reopened.counts() == (2, 4)
    assert json.loads((index_dir / MANIFEST).read_text())["sentences"] == 4


def test_damaged_manifest_or_store_is_refused_and_left_alone(articles: Path, tmp_path: Path,
                                                              encoder: Encoder) -> None:
    index_dir = tmp_path / "i.idx"
    Library.build(articles, index_dir, encoder)
    (index_dir / MANIFEST).write_text("{ broken", encoding="utf-8")
    with pytest.raises(ValueError, match="rebuild it with: qa index"):
        Library.open(index_dir)
    assert (index_dir / MANIFEST).read_text() == "{ broken"

    index_dir = tmp_path / "j.idx"
    Library.build(articles, index_dir, encoder)
    store = index_dir / STORE
    store.write_bytes(store.read_bytes()[:3000])
    before = store.read_bytes()
    with pytest.raises(ValueError, match="damaged"):
        Library.open(index_dir)
    assert store.read_bytes() == before


def _same_vectors(one: Library, other: Library) -> bool:
    return np.array_equal(one._vectors.parts[0].vectors(), other._vectors.parts[0].vectors())


def test_an_exact_index_has_no_file_and_a_truncated_graph_is_rebuilt_from_the_store(
        articles: Path, tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    exact_dir, index_dir = tmp_path / "exact.idx", tmp_path / "i.idx"
    built = Library.build(articles, exact_dir, encoder)
    assert not (exact_dir / GRAPH).exists() and files_agree(exact_dir)  # its vectors are the store's alone
    # The writer searches the vectors a reader restores from the store (8 bits there), not the encoder's own.
    assert _same_vectors(built, Library.open(exact_dir, encoder))
    assert Library.open(exact_dir, encoder).search("tiger cubs", top_k=1)[0].article_id == "zoo"
    monkeypatch.setattr("embeddings.index.APPROX_MIN_VECTORS", 1)  # HNSW from the first vector: a graph file
    built = Library.build(articles, index_dir, encoder)
    assert _same_vectors(built, Library.open(index_dir, encoder))
    graph = index_dir / GRAPH
    assert files_agree(index_dir) and json.loads((index_dir / MANIFEST).read_text())["vector_index"] == "hnsw-fp16"
    graph.write_bytes(graph.read_bytes()[:100])
    library = Library.open(index_dir, encoder)
    assert library.search("tiger cubs", top_k=1)[0].article_id == "zoo" and library.vector_ids_match_the_store()


def test_removing_an_article_from_an_hnsw_index_keeps_its_graph(articles: Path, tmp_path: Path, encoder: Encoder,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Removed sentences are retired in the graph (not rebuilt), and a reader opening the folder restores them
    from the graph file, since the store no longer holds their vectors."""
    monkeypatch.setattr("embeddings.index.APPROX_MIN_VECTORS", 1)
    monkeypatch.setattr("embeddings.index.MAX_RETIRED_SHARE", 0.5)  # 3 of 15 sentences: past the shipped tenth
    index_dir = tmp_path / "i.idx"
    library = Library.build(articles, index_dir, encoder)
    graph_nodes = library._vectors.parts[0]._index.ntotal
    assert library.remove(["zoo"]) == 1
    part = library._vectors.parts[0]
    assert (part.retired, part._index.ntotal) == (3, graph_nodes) and files_agree(index_dir)
    reopened = Library.open(index_dir, encoder)
    assert reopened._vectors.parts[0].retired == 3 and reopened.vector_ids_match_the_store()
    assert _same_vectors(library, reopened)
    assert all(c.article_id != "zoo" for c in reopened.search("twin tiger cubs named Sun and Moon", top_k=15))


def test_index_from_another_model_is_refused(articles: Path, tmp_path: Path, encoder: Encoder) -> None:
    index_dir = tmp_path / "i.idx"
    Library.build(articles, index_dir, encoder)
    with pytest.raises(ValueError, match="built with model 'all-MiniLM-L6-v2', not 'other/model'"):
        Library.open(index_dir, model="other/model")
    manifest = json.loads((index_dir / MANIFEST).read_text())
    manifest["dim"] = 768
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="768-dimensional"):
        Library.open(index_dir, encoder)


@pytest.mark.slow
def test_an_index_records_its_vectors_maker_and_refuses_another_precision(articles: Path, tmp_path: Path,
                                                                         encoder: Encoder) -> None:
    from embeddings.encoder import DEFAULT_MODEL_SHA256, resolve_model
    from embeddings.onnx_encoder import OnnxEncoder

    int8 = OnnxEncoder("all-MiniLM-L6-v2", Path(resolve_model("all-MiniLM-L6-v2")[0]), DEFAULT_MODEL_SHA256,
                       precision="int8")
    Library.build(articles, tmp_path / "fp32.idx", encoder)
    Library.build(articles, tmp_path / "int8.idx", int8)
    made_by = json.loads((tmp_path / "int8.idx" / MANIFEST).read_text())["encoder"]
    assert made_by == {"backend": "onnx", "precision": "int8", "file_sha256": int8.file_sha256}
    assert json.loads((tmp_path / "fp32.idx" / MANIFEST).read_text())["encoder"]["precision"] == "fp32"
    with pytest.raises(ValueError, match="holds int8 vectors .* QA_ENCODER_BACKEND=onnx-int8"):
        Library.open(tmp_path / "int8.idx", encoder)
    with pytest.raises(ValueError, match="holds fp32 vectors .* QA_ENCODER_BACKEND=onnx,"):
        Library.open(tmp_path / "fp32.idx", int8)
    assert Library.open(tmp_path / "int8.idx", int8).ask("Who welcomed twin tiger cubs?").citations[0].article_id \
        == "zoo"
    # Another export of the same precision (other weights, say) is refused too.
    manifest = json.loads((tmp_path / "fp32.idx" / MANIFEST).read_text())
    manifest["encoder"]["file_sha256"] = "0" * 64
    (tmp_path / "fp32.idx" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="embedded by onnx file sha256 0000"):
        Library.open(tmp_path / "fp32.idx", encoder)


def test_index_of_an_older_format_is_refused_but_the_seed_index_is_rebuilt(tmp_path: Path, encoder: Encoder) -> None:
    from qa import defaults

    index_dir = tmp_path / "seeds.idx"
    Library.build(defaults.SEEDS_DIR, index_dir, encoder).store.close()
    manifest = json.loads((index_dir / MANIFEST).read_text())
    (index_dir / MANIFEST).write_text(json.dumps({**manifest, "format_version": 1}))
    with pytest.raises(ValueError, match="format version 1.*qa index"):
        Library.open(index_dir, encoder)
    rebuilt = defaults._build_seed_index(index_dir)
    assert rebuilt.ask("Who co-chaired the Israel dialogue?").found


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="qa index"):
        Library.open(tmp_path / "none.idx")


def test_rebuild_replaces_the_folder_only_when_done(articles: Path, tmp_path: Path, encoder: Encoder) -> None:
    index_dir = tmp_path / "i.idx"
    Library.build(articles, index_dir, encoder)
    (index_dir / MANIFEST).write_text("{ broken", encoding="utf-8")
    library = Library.rebuild(articles, index_dir, encoder)
    assert library.counts() == (2, 15)
    assert not (tmp_path / "i.idx.rebuilding").exists() and not (tmp_path / "i.idx.old").exists()


@pytest.mark.slow
def test_killed_index_run_leaves_the_previous_index_usable(articles: Path, tmp_path: Path,
                                                           encoder: Encoder) -> None:
    index_dir = tmp_path / "i.idx"
    Library.build(articles, index_dir, encoder)
    big = tmp_path / "big"
    shutil.copytree(articles, big)
    for n in range(60):
        (big / f"extra{n}.txt").write_text(f"Extra {n}\n\n" + " ".join(
            f"Sentence {i} of extra article {n} talks about rice harvests." for i in range(40)), encoding="utf-8")
    for delay in (4.0, 7.0, 10.0):
        process = subprocess.Popen([sys.executable, "-m", "qa", "index", str(big), "--index", str(index_dir)],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        library = Library.open(index_dir, encoder)
        articles_count, _ = library.counts()
        assert articles_count in (2, 62)
        assert library.search("tiger cubs", top_k=1)[0].article_id == "zoo"


def test_crash_between_store_commit_and_vector_save_is_recovered(articles: Path, tmp_path: Path,
                                                                 encoder: Encoder,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "i.idx"
    Library.build(articles, index_dir, encoder)
    (articles / "rain.txt").write_text("Rain\n\nHeavy rain flooded Hue on Tuesday.", encoding="utf-8")

    def power_cut(self, path) -> None:
        raise OSError("simulated crash while writing the graph")

    monkeypatch.setattr("embeddings.index.VectorIndex.save", power_cut)
    with pytest.raises(OSError, match="simulated crash"):
        Library.build(articles, index_dir, encoder)
    monkeypatch.undo()
    library = Library.open(index_dir, encoder)  # store is newer than the manifest: rebuilt from the store
    assert library.counts() == (3, 17)
    assert library.search("Which city flooded?", top_k=1)[0].article_id == "rain"


def test_near_duplicate_sentences_are_cited_once(tmp_path: Path, encoder: Encoder) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    shared = "The storm closed Da Nang airport for two days."
    (folder / "a.txt").write_text(f"Storm report\n\n{shared} Crews cleared the runway.", encoding="utf-8")
    (folder / "b.txt").write_text(f"Weather wrap\n\n{shared} Schools reopened on Friday.", encoding="utf-8")
    library = Library.build(folder, tmp_path / "w.idx", encoder)
    citations = library.search("Which airport did the storm close?", top_k=5)
    assert [c.sentence for c in citations].count(shared) == 1


def test_a_headline_is_told_from_a_lead_sentence_that_serves_as_title(tmp_path: Path, encoder: Encoder) -> None:
    """A headline ranks below the story unless asked for; a file without a headline line has its lead sentence
    as title, and that lead is the story."""
    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "headline.txt").write_text("Storm shuts Da Nang airport\n\nThe storm closed Da Nang airport for two "
                                         "days. Crews cleared the runway.", encoding="utf-8")
    (folder / "lead.txt").write_text("Floods cut the road to Hue for a week.\n\nSchools reopened on Friday.",
                                     encoding="utf-8")
    (folder / "heading.md").write_text("# Rain returns to Hanoi\n\nRain fell for three days.", encoding="utf-8")
    library = Library.build(folder, tmp_path / "w.idx", encoder)
    def roles(question: str) -> dict[str, float]:
        candidates = library.retriever.candidates(question, RetrievalSettings())
        return {candidates.rows[i].text: candidates.features[n, FEATURES.index("caption_or_headline")]
                for n, i in enumerate(candidates.ids)}

    asked = roles("What is the headline about the storm, the airport, the floods, the road and the rain?")
    assert asked["Storm shuts Da Nang airport"] == 1.0
    assert asked["Rain returns to Hanoi"] == 1.0  # the Markdown heading, rendered
    assert asked["Floods cut the road to Hue for a week."] == 0.0
    assert asked["The storm closed Da Nang airport for two days."] == 0.0
    # Not asked for, a short headline is page furniture and no candidate at all; the story's sentences are.
    story = roles("storm airport floods road rain")
    assert "Storm shuts Da Nang airport" not in story and "Rain returns to Hanoi" not in story
    assert story["Floods cut the road to Hue for a week."] == 0.0


def test_an_article_that_never_names_what_the_question_names_ranks_below(tmp_path: Path, encoder: Encoder) -> None:
    """The Lao article's sentence shares "held" and "border talks" with the question, but only the Cambodian one
    names Cambodia; a person named once in full and after by surname still counts as named."""
    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "laos.txt").write_text("Laos border talks\n\nVietnam and Laos held border talks in Vientiane on "
                                     "Monday.", encoding="utf-8")
    (folder / "cambodia.txt").write_text("Cambodia border talks\n\nThe Vietnam-Cambodia border talks took place "
                                         "in Phnom Penh. Minister Hun Manet opened them.", encoding="utf-8")
    library = Library.build(folder, tmp_path / "w.idx", encoder)
    candidates = library.retriever.candidates("Where were the Vietnam-Cambodia border talks held, and did Mr "
                                              "Manet attend?", RetrievalSettings())
    names = {candidates.rows[i].article_id: candidates.features[n, FEATURES.index("article_names")]
             for n, i in enumerate(candidates.ids)}
    assert names == {"laos": pytest.approx(1 / 3), "cambodia": 1.0}  # Vietnam, Cambodia, Manet (as "Hun Manet")


def test_a_build_commits_in_batches_and_a_failure_keeps_the_batches_before_it(
        tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.library
    from qa.ingest.articles import Article

    monkeypatch.setattr(qa.library, "SYNC_BATCH_SENTENCES", 4)
    articles = [Article(f"a{n}", f"Story {n}", f"Story {n}\n\nThe ferry number {n} sailed at dawn. It carried "
                        f"{n * 10} passengers. The crew cheered.", f"mem:{n}") for n in range(6)]
    library = Library.create(tmp_path / "batches.idx", encoder)
    committed = []
    real_add = library.store.add_article

    def failing_add(db, article, vectors):  # the fourth article's batch fails, as a killed build would stop
        if article.article.article_id == "a3":
            raise RuntimeError("stopped")
        committed.append(article.article.article_id)
        return real_add(db, article, vectors)

    monkeypatch.setattr(library.store, "add_article", failing_add)
    with pytest.raises(RuntimeError, match="stopped"):
        library.add_articles(articles)
    assert committed == ["a0", "a1", "a2"]  # each article (4 sentences) a batch of its own
    assert library.vector_ids_match_the_store()  # the process that failed searches the batches it committed
    reopened = Library.open(tmp_path / "batches.idx", encoder)  # the vector file is rebuilt from the store
    assert sorted(a.article_id for a in reopened.articles()) == ["a0", "a1", "a2"]
    assert reopened.vector_ids_match_the_store()
    assert reopened.search("How many passengers did ferry number 2 carry?", top_k=1)[0].article_id == "a2"
    # Run again, it adds only what is missing, and the folder's files agree.
    monkeypatch.undo()
    monkeypatch.setattr(qa.library, "SYNC_BATCH_SENTENCES", 4)
    plan = reopened.add_articles(articles)
    assert sorted(a.article_id for a in plan.added) == ["a3", "a4", "a5"] and plan.unchanged == 3
    assert files_agree(tmp_path / "batches.idx")


def test_a_graph_behind_an_interrupted_update_catches_up_instead_of_being_rebuilt(
        tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """An update killed after some batches leaves the HNSW graph behind the store: the next open adds the
    committed sentences to the saved graph instead of building it again (minutes at a million)."""
    import qa.library
    from qa.ingest.articles import Article

    monkeypatch.setattr("embeddings.index.APPROX_MIN_VECTORS", 1)
    monkeypatch.setattr(qa.library, "SYNC_BATCH_SENTENCES", 4)
    articles = [Article(f"a{n}", f"Story {n}", f"Story {n}\n\nThe ferry number {n} sailed at dawn. It carried "
                        f"{n * 10} passengers. The crew cheered.", f"mem:{n}") for n in range(6)]
    library = Library.create(tmp_path / "behind.idx", encoder)
    library.add_articles(articles[:3])
    graph_nodes = library._vectors.parts[0]._index.ntotal
    real_add = library.store.add_article

    def failing_add(db, article, vectors):  # the last article's batch fails, as a killed update would stop
        if article.article.article_id == "a5":
            raise RuntimeError("stopped")
        return real_add(db, article, vectors)

    monkeypatch.setattr(library.store, "add_article", failing_add)
    with pytest.raises(RuntimeError, match="stopped"):
        library.add_articles(articles)
    caplog.clear()
    reopened = Library.open(tmp_path / "behind.idx", encoder)
    assert "rebuilding" not in caplog.text
    part = reopened._vectors.parts[0]
    assert part.approximate and part._index.ntotal == graph_nodes + 8 and reopened.vector_ids_match_the_store()
    assert reopened.search("How many passengers did ferry number 4 carry?", top_k=1)[0].article_id == "a4"
    monkeypatch.setattr(reopened.store, "add_article", real_add)
    plan = reopened.add_articles(articles)
    assert [a.article_id for a in plan.added] == ["a5"] and files_agree(tmp_path / "behind.idx")
