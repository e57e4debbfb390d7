"""Folding: the fast paths of qa.text.fold give exactly what its definition gives."""

import random
import re
import unicodedata
from pathlib import Path

from qa.text import _ORDINALS, _UNDECOMPOSED, fold, text_words, words

DEV_ARTICLES = Path(__file__).resolve().parent.parent / "data" / "news-dev" / "articles"


def reference_fold(text: str) -> str:
    """fold as defined: every combining mark dropped, the Vietnamese names joined, ordinals as "<n>th"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    joined = re.sub(r"\b(viet)\s+(nam)\b|\b(ha)\s+(noi)\b|\b(da)\s+(nang)\b|\b(sai)\s+(gon)\b|\b(hai)\s+(phong)\b",
                    lambda m: "".join(g for g in m.groups() if g), plain)
    return re.sub(r"\b(?:(\d+)(?:st|nd|rd|th)|(" + "|".join(_ORDINALS) + r"))\b",
                  lambda m: f"{m.group(1)}th" if m.group(1) else _ORDINALS[m.group(2)], joined)


def test_fold_matches_its_definition_on_news_and_on_any_unicode():
    texts = [path.read_text(encoding="utf-8") for path in sorted(DEV_ARTICLES.iterdir())]
    rng = random.Random(7)
    texts += ["".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(500)) for _ in range(40)]
    texts += ["Hà Nội and Viet  Nam, ha nam; the 21st and sixth-ranked Hai Phong; fifteenth; Sài Gòn",
              "Ελληνικά ﬁne ① ا۟لْ नमस्ते Łódź Ærø straße"]
    lines = [line for text in texts for line in text.splitlines()]
    assert [fold(line) for line in lines] == [reference_fold(line) for line in lines]


def test_folded_words():
    assert words("Hoàng Xuân Chiến met Đà Nẵng's 2nd team in Ha Noi") == [
        "hoang", "xuan", "chien", "met", "danang", "s", "2th", "team", "in", "hanoi"]
    assert text_words("The second round") == ("the", "2th", "round")


def test_the_stemmer_is_the_c_build_and_stems_as_fts5_and_pure_python_snowball_do() -> None:
    import sqlite3

    import Stemmer  # PyStemmer: snowballstemmer runs it when installed
    from snowballstemmer.porter_stemmer import PorterStemmer

    from qa.index.terms import _STEMMER, stem

    assert isinstance(_STEMMER, Stemmer.Stemmer)
    words = ["recorded", "record", "generously", "dialogues", "cooperation", "negotiating", "ministries",
             "flooding", "hopeful", "relational", "conditional", "troubles", "agreed", "defence", "happily"]
    python = PorterStemmer()
    assert [stem(w) for w in words] == [python.stemWord(w) for w in words]
    # FTS5's porter tokenizer stores the same stems (read back through fts5vocab).
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    db.executemany("INSERT INTO t (x) VALUES (?)", [(w,) for w in words])
    assert {term for (term,) in db.execute("SELECT term FROM v")} == {stem(w) for w in words}
