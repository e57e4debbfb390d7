"""The same story syndicated twice: articles whose texts share most of their five-word runs (estimated with
datasketch's MinHash, kept per article in the store) are indexed once.

Measured on the development, seed and unrelated test articles (96): the most alike pair of different stories
(two joint-committee reports from one template) shares 0.04-0.05 of its runs; a story copied under another
headline with an agency trailer added, 0.96; the same with its last two paragraphs cut, 0.90. The threshold sits
between, far from both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from qa.ingest.changes import ChangePlan
from qa.text import words

NEAR_COPY_JACCARD = 0.8
SIGNATURE_SIZE = 128  # hash functions: the Jaccard estimate's standard error is about 0.04 at 128
_SHINGLE_WORDS = 5
_SEED = 1  # the same hash functions in every process, so stored signatures stay comparable


def signature(text: str) -> np.ndarray:
    """The MinHash signature (SIGNATURE_SIZE uint64) of a text's five-word runs (folded words)."""
    from datasketch import MinHash

    tokens = words(text)
    shingles = [" ".join(tokens[i:i + _SHINGLE_WORDS]).encode() for i in range(max(1, len(tokens) - 4))]
    minhash = MinHash(num_perm=SIGNATURE_SIZE, seed=_SEED)
    minhash.update_batch(shingles)
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def most_similar(candidate: np.ndarray, signatures: np.ndarray) -> tuple[int, float]:
    """The row of `signatures` (n, SIGNATURE_SIZE) most like `candidate`, and their estimated Jaccard; (-1, 0)
    when there are none."""
    if not len(signatures):
        return -1, 0.0
    shared = (signatures == candidate[None, :]).mean(axis=1)
    best = int(np.argmax(shared))
    return best, float(shared[best])


def drop_near_copies(plan: ChangePlan, stored_ids: Sequence[str], stored: np.ndarray
                     ) -> tuple[ChangePlan, dict[str, np.ndarray]]:
    """Leave out of `plan.added` each article that is a near copy of one stored (and staying) or added before it;
    return the plan and the signature of every article it embeds. An update of a stored id is never left out: it
    is the same story's new version."""
    leaving = set(plan.removed) | {a.article_id for a in plan.updated}
    staying = [k for k, article_id in enumerate(stored_ids) if article_id not in leaving]
    known_ids = [stored_ids[k] for k in staying]
    known = stored[staying] if staying else np.zeros((0, SIGNATURE_SIZE), dtype=np.uint64)
    signatures = {a.article_id: signature(a.text) for a in plan.embedded}
    added, copies = [], []
    for article in plan.added:
        row, jaccard = most_similar(signatures[article.article_id], known)
        if jaccard >= NEAR_COPY_JACCARD:
            copies.append((article.article_id, known_ids[row], round(jaccard, 2)))
            del signatures[article.article_id]
            continue
        added.append(article)
        known = np.vstack([known, signatures[article.article_id][None, :]])
        known_ids.append(article.article_id)
    return replace(plan, added=tuple(added), near_copies=tuple(copies)), signatures
