"""Near-duplicate comments by TF-IDF cosine similarity within each post (paper: 0.6 Reddit, 0.7 YouTube).

The paper's filter is per post: a comment is redundant when it repeats a better-ranked comment of the same post.
Fitting one `TfidfVectorizer` per post is slow (milliseconds per post), so a whole batch of posts is tokenized
at once with `CountVectorizer`'s tokenization (lower-cased, its default token pattern), the terms get ids from one
Arrow `dictionary_encode` (a C++ hash table; `CountVectorizer.fit_transform`'s Python vocabulary loop was the cost), and
the per-post IDF (`smooth_idf`, l2 norm — what `TfidfVectorizer` fitted on that post alone computes) is applied
with sparse algebra. Results do not depend on how posts are batched.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.preprocessing import normalize

# `CountVectorizer`'s default token pattern `(?u)\b\w\w+\b` finds the same tokens: a greedy run of word
# characters starts and ends at word boundaries. Without the boundary checks it is a quarter faster.
_TOKENIZE = re.compile(r"\w{2,}").findall
# ASCII text is tokenized in bulk instead: this byte table lower-cases letters and blanks every other byte that is
# not a word character, so splitting at spaces finds the regex's runs (plus one-character ones, dropped by length).
# The bytes of non-ASCII UTF-8 are kept.
_ASCII_WORDS = bytes(
    c if c > 127 else ord(chr(c).lower()) if chr(c).isalnum() or chr(c) == "_" else ord(" ") for c in range(256)
)


def term_ids(texts: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Every token of `texts` as (term id, text index), in text order, terms numbered by first appearance (what
    numbering `[_TOKENIZE(t.lower()) for t in texts]`, flattened, gives); and the number of terms.

    The regex costs ~0.5 µs per token, most of the dedup. ASCII texts without NUL (nearly all) are joined, put
    through `_ASCII_WORDS` and split and numbered by Arrow, with no Python object per token; the others go through
    the regex and join the batch as their tokens separated by spaces, which the byte table leaves as they are.
    """
    plain = [t if t.isascii() and "\x00" not in t else " ".join(_TOKENIZE(t.lower())) for t in texts]
    data = "\x00".join([*plain, ""]).encode()  # NUL after each text: no text holds one
    offsets = np.zeros(len(plain) + 1, np.int64)
    offsets[1:] = np.flatnonzero(np.frombuffer(data, np.uint8) == 0) + 1
    text = pa.py_buffer(data.translate(_ASCII_WORDS))  # the NULs become spaces: the offsets keep the texts apart
    strings = pa.LargeStringArray.from_buffers(len(plain), pa.py_buffer(offsets), text)
    runs = pc.ascii_split_whitespace(strings)
    words = pc.list_flatten(runs)
    # two characters or more: an ASCII text's runs are ASCII, the others' are regex tokens (two characters at
    # least), so counting bytes tells the same
    keep = pc.greater_equal(pc.binary_length(words), 2)
    terms = pc.dictionary_encode(words.filter(keep))  # ids by first appearance
    text_of = pc.list_parent_indices(runs).filter(keep)
    return terms.indices.to_numpy().astype(np.int64), text_of.to_numpy().astype(np.int64), len(terms.dictionary)


def per_group_tfidf(groups: list[list[str]]) -> tuple[sp.csr_matrix, np.ndarray]:
    """L2-normalised TF-IDF rows for every text, with the IDF of its own group; and each row's group index."""
    sizes = np.array([len(g) for g in groups], dtype=np.int64)
    group_of = np.repeat(np.arange(len(groups)), sizes)
    terms, token_text, n_terms = term_ids([text for group in groups for text in group])
    counts = sp.csr_matrix(
        (np.ones(len(terms)), (token_text, terms)), shape=(len(group_of), max(n_terms, 1))
    )  # duplicate (text, term) entries are summed: term counts
    counts.sum_duplicates()
    entry_group = group_of[np.repeat(np.arange(len(group_of)), np.diff(counts.indptr))]
    doc_freq = _same_key_counts(entry_group * counts.shape[1] + counts.indices)  # of the entry's term in its group
    counts.data *= np.log((1.0 + sizes[entry_group]) / (1.0 + doc_freq)) + 1.0
    return normalize(counts), group_of


def _same_key_counts(keys: np.ndarray) -> np.ndarray:
    """For each of the (non-negative) `keys`, how many are equal to it. The keys come in runs of a group's
    entries, which a stable sort (timsort) takes whole: a third of the time of `np.unique`'s sort."""
    order = np.argsort(keys, kind="stable")
    starts = np.flatnonzero(np.diff(keys[order], prepend=-1))
    lengths = np.diff(starts, append=len(keys))
    counts = np.empty(len(keys), np.int64)
    counts[order] = np.repeat(lengths, lengths)
    return counts


def _pairs(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (first, second) of every pair first < second inside each group, groups laid out one after
    another with these sizes."""
    ends = np.repeat(np.cumsum(sizes), sizes)
    index = np.arange(len(ends))
    later = ends - index - 1  # partners after each text in its group
    first = np.repeat(index, later)
    step = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    return first, first + 1 + step


def near_duplicates(groups: list[list[str]], threshold: float) -> list[list[bool]]:
    """For each group (one post's comments, best first) flag the comments whose cosine similarity to an
    earlier *kept* comment of the same group is >= `threshold`."""
    flags = [[False] * len(g) for g in groups]
    if not any(len(g) > 1 for g in groups):
        return flags
    vectors, group_of = per_group_tfidf(groups)
    sizes = np.array([len(g) for g in groups], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    first, second = _pairs(sizes)
    similarity = np.asarray(vectors[first].multiply(vectors[second]).sum(axis=1)).ravel()
    hits = similarity >= threshold
    removed: set[int] = set()
    for a, b in sorted(zip(first[hits].tolist(), second[hits].tolist()), key=lambda pair: (pair[1], pair[0])):
        if a not in removed:
            removed.add(b)
    for index in removed:
        g = group_of[index]
        flags[g][index - starts[g]] = True
    return flags


def content_hash(path: str | None = None, url: str | None = None) -> str:
    """SHA-1 of the media bytes when the file is there, else of the normalised URL (duplicate-media filter)."""
    if path:
        with open(path, "rb") as fh:
            return "sha1:" + hashlib.file_digest(fh, "sha1").hexdigest()
    return "url:" + hashlib.sha1((url or "").strip().lower().rstrip("/").encode()).hexdigest()
