"""What dedup compares: the distinguishing content of a sample, its exact key and its word n-gram shingles.

Shingling only the distinguishing content (the user turns, optionally the final answer) is the point:
tool-calling and SWE samples share long system prompts and tool schemas, and shingling whole transcripts
collapses them (DESIGN §5). Shingles are 64-bit hashes of word n-grams, computed with numpy from one xxhash per
word (a polynomial over the n word hashes) — datatrove hashes every n-gram string in Python, which is its
bottleneck.
"""

from __future__ import annotations

import hashlib

import numpy as np
import xxhash

from curate.documents import final_answer, normalize_words
from curate.schema import Sample

_POLY_BASE = np.uint64(0x100000001B3)  # FNV prime: odd, so every power is invertible mod 2^64


def distinguishing_text(sample: Sample, include_answer: bool = False) -> str:
    """Every user turn (the problem statement and each follow-up: two conversations that open alike but ask
    different things are different samples), plus the final answer when two answers to one prompt count as
    different samples. Samples without a user turn fall back to their first non-system turn."""
    users = [m.content for m in sample.messages if m.role == "user" and m.content.strip()]
    if not users:
        users = [next((m.content for m in sample.messages if m.role != "system"), "")]
    prompt = "\n\n".join(users)
    return f"{prompt}\n\n{final_answer(sample)}" if include_answer else prompt


def exact_key(domain: str, text: str) -> str | None:
    """Domain-scoped hash of the normalised words: case, accents, punctuation and spacing do not matter.
    None when no words remain: content-free samples share no key (they are never deduplicated)."""
    words = normalize_words(text)
    if not words:
        return None
    return hashlib.sha1(f"{domain}\x00{' '.join(words)}".encode()).hexdigest()


def word_hashes(words: list[str]) -> np.ndarray:
    return np.fromiter((xxhash.xxh64_intdigest(w) for w in words), dtype=np.uint64, count=len(words))


def shingles(text: str, n: int, scope: str = "") -> np.ndarray:
    """Sorted unique uint64 hashes of the word n-grams of `text` (one shingle for texts under n words).

    `scope` (the domain) is mixed into every shingle, so identical texts from different domains never match.
    """
    hashes = word_hashes(normalize_words(text))
    if hashes.size == 0:
        return hashes
    with np.errstate(over="ignore"):
        if hashes.size < n:
            acc = np.zeros(1, dtype=np.uint64)
            for h in hashes:
                acc = acc * _POLY_BASE + h
        else:
            count = hashes.size - n + 1
            acc = np.zeros(count, dtype=np.uint64)
            for k in range(n):
                acc = acc * _POLY_BASE + hashes[k : k + count]
        acc ^= np.uint64(xxhash.xxh64_intdigest(scope))
    return np.unique(acc)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """True Jaccard similarity of two sorted unique shingle arrays (0 when both are empty: nothing to compare)."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
