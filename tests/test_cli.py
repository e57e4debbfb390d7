import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def qa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_index_then_ask_json(tmp_path: Path) -> None:
    built = qa("index", str(ROOT / "seeds"), "--index", str(tmp_path / "s.idx"))
    assert built.returncode == 0, built.stderr
    assert "2 articles, 21 sentences" in built.stdout
    asked = qa("ask", "--json", "--index", str(tmp_path / "s.idx"), "Who co-chaired the Israel dialogue?")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["found"] is True
    assert "Amir Eshel" in answer["citations"][0]["sentence"]
    assert {"article_id", "title", "sentence", "start", "end", "score", "context"} <= set(answer["citations"][0])
    unknown = qa("ask", "--json", "--index", str(tmp_path / "s.idx"), "Who won the 2018 World Cup?")
    assert unknown.returncode == 0 and json.loads(unknown.stdout)["found"] is False


@pytest.mark.slow
def test_bad_input_exits_non_zero_with_a_message(tmp_path: Path) -> None:
    missing = qa("ask", "--index", str(tmp_path / "none.idx"), "Who?")
    assert missing.returncode != 0 and "qa index" in missing.stderr
    (tmp_path / "broken.idx").mkdir()
    (tmp_path / "broken.idx" / "manifest.json").write_text("nope")
    broken = qa("ask", "--index", str(tmp_path / "broken.idx"), "Who?")
    assert broken.returncode != 0 and "damaged" in broken.stderr
    empty = qa("ask", "--index", str(tmp_path / "broken.idx"), "   ")
    assert empty.returncode != 0


def test_help_explains_every_flag() -> None:
    for command in ("index", "ask"):
        shown = qa(command, "--help")
        assert shown.returncode == 0
        for flag in {"index": ("--index", "--model", "--rebuild"), "ask": ("--index", "--top-k", "--json")}[command]:
            assert flag in shown.stdout
