"""Text fingerprints for deduplication: exact hash, MinHash signature with LSH band keys, and
lead shingles that let a truncated snippet find the article it was cut from.

Pure functions: computed in the extraction workers, compared by the store.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from functools import lru_cache

import numpy as np

from extractors.article_text import normalize_text
from extractors.records import Fingerprint

NUM_PERM = 128
BANDS, ROWS = 42, 3  # 126 of the 128 permutations; P(candidate) is 0.94 at J=0.4, 0.29 at J=0.2
SHINGLE = 5  # words: long enough that shared stock phrases of one topic rarely repeat
LEAD_WORDS, LEAD_SHINGLE = 60, 4
# A copy of the same story: estimated Jaccard on 5-word shingles at least this ...
SAME_STORY_JACCARD = 0.45
# ... or the shorter text mostly contained in the longer one (a copy with paragraphs cut).
SAME_STORY_CONTAINMENT = 0.6
MIN_CONTAINED_SHINGLES = 40
# A snippet (a lead cut off with "...") joins the article whose lead holds most of its words.
SNIPPET_MAX_WORDS = 120
SNIPPET_LEAD_SHARE = 0.5
SNIPPET_MIN_HITS = 5
_ELLIPSIS = re.compile(r"(?:\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")


# datasketch is imported where it is used: it pulls in scipy and redis (0.6 s), which every
# command would pay at start-up, `newsmon sql` included, though only extraction needs it.


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32).permutations


def preload() -> None:
    """Set up what fingerprints need now (extraction workers do, while discovery runs)."""
    _permutations()


def _key(*parts: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(b"\x1f".join(parts), digest_size=8).digest(), "little")


def _shingles(words: list[str], size: int) -> set[bytes]:
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    # Windows of `size` words: the shifted lists end together at the last full window.
    shifted = (words[i:] for i in range(size))
    return {" ".join(gram).encode() for gram in zip(*shifted, strict=False)}


def is_snippet(text: str) -> bool:
    return len(text.split()) <= SNIPPET_MAX_WORDS or bool(_ELLIPSIS.search(text.strip()))


def fingerprint(text: str, normalized: str | None = None) -> Fingerprint:
    """`normalized` is normalize_text(text), when the caller has it already."""
    snippet = is_snippet(text)
    # Normalising folds a trailing ellipsis away with the rest of the punctuation. A snippet's
    # last word is often cut mid-way ("tension due to sev..."): leave it out.
    words = (normalize_text(text) if normalized is None else normalized).split()
    if snippet and len(words) > LEAD_SHINGLE:
        words = words[:-1]
    shingles = _shingles(words, SHINGLE)
    from datasketch import MinHash

    minhash = MinHash(
        num_perm=NUM_PERM, hashfunc=zlib.crc32, permutations=_permutations(), scheme="affine32"
    )
    minhash.update_batch(list(shingles))
    values = minhash.hashvalues.astype(np.uint32)
    bands = [
        _key(b"band", bytes([band]), values[band * ROWS : (band + 1) * ROWS].tobytes())
        for band in range(BANDS)
    ]
    leads = sorted({_key(b"lead", s) for s in _shingles(words[:LEAD_WORDS], LEAD_SHINGLE)})
    return Fingerprint([int(v) for v in values], len(shingles), bands, leads, snippet)


def jaccard(a: list[int] | np.ndarray, b: list[int] | np.ndarray) -> float:
    return float(np.mean(np.asarray(a, dtype=np.uint32) == np.asarray(b, dtype=np.uint32)))


def same_story(a: Fingerprint, b_minhash: list[int], b_shingles: int) -> bool:
    """Two full texts are copies of one story: similar overall, or one mostly inside the other."""
    j = jaccard(a.minhash, b_minhash)
    if j >= SAME_STORY_JACCARD:
        return True
    small, large = sorted((a.shingles, b_shingles))
    if small < MIN_CONTAINED_SHINGLES or j <= 0:
        return False
    # |A∩B| = J(|A|+|B|)/(1+J); containment of the smaller set in the larger one.
    containment = j * (small + large) / ((1 + j) * small)
    return containment >= SAME_STORY_CONTAINMENT


def snippet_joins(snippet_lead_count: int, hits: int) -> bool:
    """Enough of a snippet's lead shingles occur in another text's lead."""
    return hits >= SNIPPET_MIN_HITS and hits >= SNIPPET_LEAD_SHARE * snippet_lead_count
