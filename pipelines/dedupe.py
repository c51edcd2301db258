"""The text's MinHash signature: what finds a report's republished copies.

The same CCDI report appears on ccdi.gov.cn, Sina, people.com.cn, 12371 and
aggregators, sometimes in traditional characters.  Each document's clean text
is folded (traditional → simplified with OpenCC, punctuation, whitespace and
letter case removed), cut into character 5-grams and summarised by a MinHash
signature (datasketch).  The archive groups the copies
(:mod:`archive.copy_groups`): candidates share a band of :data:`BANDS` ×
:data:`ROWS` values, and those whose estimated Jaccard similarity reaches
:data:`THRESHOLD` are copies.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from datasketch.minhash import _fmix  # the scheme's mixing of a hash value (test_provenance checks the result)

from .classify import fold_simplified

try:  # pipelines/_shingles.c, built by the install where a C compiler is present
    from pipelines._shingles import shingle_hashes as _compiled_shingle_hashes
except (ImportError, TypeError):  # TypeError: setuptools' loader inside an egg (scrapyd-deploy's)
    _compiled_shingle_hashes = None

NUM_PERM = 64
THRESHOLD = 0.7
SHINGLE = 5
BANDS, ROWS = _optimal_param(THRESHOLD, NUM_PERM, 0.5, 0.5)
_NOT_WORD = re.compile(r"[\W_]+")
# Signatures are stored, so the hashing scheme is pinned: a datasketch upgrade
# that changed its default must not silently make old and new signatures disagree.
SCHEME = "affine32"
_A, _B = MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations  # computed once, not per document
_sha1 = hashlib.sha1
_HASHES_PER_BLOCK = 4096  # 2 MB of permuted values at a time


def fold(text: str) -> str:
    return _NOT_WORD.sub("", fold_simplified(text)).lower()


def signature(text: str) -> np.ndarray:
    folded = fold(text)
    if _compiled_shingle_hashes is not None:
        hashes = np.frombuffer(_compiled_shingle_hashes(folded, SHINGLE), dtype="<u4").astype(np.uint32, copy=False)
    else:
        hashes = _shingle_hashes(folded)
    # What MinHash(scheme=SCHEME).update_batch(hashes) computes, without its
    # per-value Python loop: each hash mixed, permuted by every (a, b), the minimum kept —
    # a block of hashes at a time: all at once, a 2 MB text took 380 MB (512 bytes a shingle);
    # mixed block by block too (mixing all at once took 8 bytes a shingle more).
    minima = np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, len(hashes), _HASHES_PER_BLOCK):
        mixed = _fmix(hashes[start : start + _HASHES_PER_BLOCK], 32)
        np.minimum(minima, (mixed[:, None] * _A + _B).min(axis=0), out=minima)
    return minima


def _shingle_hashes(folded: str) -> np.ndarray:
    """datasketch's default hash (the first 4 bytes of SHA-1, little-endian) of each
    distinct shingle, without its per-shingle Python wrapper: the digests joined and
    read as little-endian 32-bit words, the first of every five (a digest is 20 bytes)."""
    shingles = {folded[i : i + SHINGLE] for i in range(max(1, len(folded) - SHINGLE + 1))}
    digests = b"".join([_sha1(s.encode()).digest() for s in shingles])
    return np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32)
