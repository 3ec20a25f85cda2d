"""Near-duplicate comments by TF-IDF cosine similarity within each post (paper: 0.6 Reddit, 0.7 YouTube).

The paper's filter is per post: a comment is redundant when it repeats a better-ranked comment of the same post.
Fitting one `TfidfVectorizer` per post is slow (milliseconds per post), so a whole batch of posts goes through
one scikit-learn `CountVectorizer` and the per-post IDF (`smooth_idf`, l2 norm — what `TfidfVectorizer` fitted
on that post alone computes) is applied with sparse algebra. Results do not depend on how posts are batched.
"""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize


def per_group_tfidf(groups: list[list[str]]) -> tuple[sp.csr_matrix, np.ndarray]:
    """L2-normalised TF-IDF rows for every text, with the IDF of its own group; and each row's group index."""
    texts = [text for group in groups for text in group]
    group_of = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    try:
        counts = CountVectorizer(dtype=np.float64).fit_transform(texts).tocsr()
    except ValueError:  # no group has a single token (e.g. only one-letter words)
        return sp.csr_matrix((len(texts), 1)), group_of
    counts.sort_indices()
    present = counts.copy()
    present.data[:] = 1.0
    membership = sp.csr_matrix((np.ones(len(texts)), (group_of, np.arange(len(texts)))), shape=(len(groups), len(texts)))
    doc_freq = (membership.T @ (membership @ present)).multiply(present).tocsr()  # df of each (text, term) in its group
    doc_freq.sort_indices()
    group_sizes = np.array([len(g) for g in groups], dtype=np.float64)
    rows = np.repeat(np.arange(len(texts)), np.diff(counts.indptr))
    counts.data *= np.log((1.0 + group_sizes[group_of[rows]]) / (1.0 + doc_freq.data)) + 1.0
    return normalize(counts), group_of


def near_duplicates(groups: list[list[str]], threshold: float) -> list[list[bool]]:
    """For each group (one post's comments, best first) flag the comments whose cosine similarity to an
    earlier *kept* comment of the same group is >= `threshold`."""
    flags = [[False] * len(g) for g in groups]
    if not any(len(g) > 1 for g in groups):
        return flags
    vectors, group_of = per_group_tfidf(groups)
    starts = np.concatenate([[0], np.cumsum([len(g) for g in groups])])
    first, second = [], []
    for g, group in enumerate(groups):
        if len(group) > 1:
            i, j = np.triu_indices(len(group), k=1)
            first.append(i + starts[g])
            second.append(j + starts[g])
    first, second = np.concatenate(first), np.concatenate(second)
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
