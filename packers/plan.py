"""Best-fit-decreasing packing plan over a whole mix, on sample lengths only.

BFD places each sample, longest first, into the open row with the least free space that still fits it. Its
decisions depend only on the multiset of free capacities, so samples of equal length are placed as one group:
the group walks the distinct free capacities upward from its length, and every row at capacity `c` takes
`c // length` of them at once. A two-level bitmap finds the next occupied capacity. The Python work is one step per
(length group, capacity value) touched instead of one segment-tree walk per sample, which is what makes it fast;
the result is the same row count and row loads as the sample-at-a-time BFD (tests check both against a reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

OversizePolicy = Literal["drop", "truncate", "error"]
OVERSIZE_POLICIES: tuple[str, ...] = ("drop", "truncate", "error")


class _NextOccupied:
    """Set of ints in [0, size] answering "smallest member ≥ x" in O(1) big-int word operations."""

    def __init__(self, size: int):
        self.shift = max(6, (size.bit_length() + 1) // 2)
        self.low_mask = (1 << self.shift) - 1
        self.words = [0] * ((size >> self.shift) + 1)
        self.summary = 0

    def add(self, x: int) -> None:
        w = x >> self.shift
        self.words[w] |= 1 << (x & self.low_mask)
        self.summary |= 1 << w

    def discard(self, x: int) -> None:
        w = x >> self.shift
        word = self.words[w] & ~(1 << (x & self.low_mask))
        self.words[w] = word
        if not word:
            self.summary &= ~(1 << w)

    def at_least(self, x: int) -> int:
        """Smallest member ≥ x, or -1."""
        w = x >> self.shift
        rest = self.words[w] >> (x & self.low_mask)
        if rest:
            return x + (rest & -rest).bit_length() - 1
        higher = self.summary >> (w + 1)
        if not higher:
            return -1
        w += (higher & -higher).bit_length()
        word = self.words[w]
        return (w << self.shift) + (word & -word).bit_length() - 1


class _OpenBins:
    """Bins with free room 0 < room < capacity, grouped by room; full bins leave, the caller opens fresh ones."""

    def __init__(self, capacity: int):
        self.rooms = _NextOccupied(capacity)
        self.by_room: dict[int, list[int]] = {}

    def tightest_room(self, length: int) -> int:
        """The least free room that still fits `length`, or -1."""
        return self.rooms.at_least(length)

    def take(self, room: int, count: int) -> list[int]:
        """Up to `count` bins at exactly `room` (the most recently arrived first)."""
        waiting = self.by_room[room]
        if count < len(waiting):
            taken = waiting[-count:]
            del waiting[-count:]
            return taken
        del self.by_room[room]
        self.rooms.discard(room)
        return waiting

    def put(self, bins: list[int], room: int) -> None:
        if room == 0:
            return
        waiting = self.by_room.get(room)
        if waiting is None:
            self.by_room[room] = bins
            self.rooms.add(room)
        else:
            waiting.extend(bins)


def best_fit_decreasing(lengths: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """BFD of positive `lengths` (each ≤ capacity) into bins of `capacity`.

    Returns (bin_of_item, placement_order): the bin index of every item, bins numbered in the order they open, and the
    item indices in the order they were placed (longest first, ties by index), which is the document order in a row.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    assert lengths.ndim == 1 and (lengths > 0).all() and (lengths <= capacity).all()
    placement_order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[placement_order]
    group_starts = np.flatnonzero(np.r_[True, sorted_lengths[1:] != sorted_lengths[:-1]]) if len(lengths) else []
    group_lengths = sorted_lengths[group_starts].tolist()
    group_sizes = np.diff(np.r_[group_starts, len(lengths)]).tolist()

    open_bins = _OpenBins(capacity)
    placed_bins: list[int] = []  # placements in order, run-length coded: placed_counts[i] items go to placed_bins[i]
    placed_counts: list[int] = []
    num_bins = 0

    def fill(bins: list[int], room: int, length: int, left: int) -> int:
        """Each of `bins` (all at `room`) takes room // length of the `left` items in turn; the last may take fewer."""
        per_bin = room // length
        full = min(len(bins), left // per_bin)
        placed_bins.extend(bins[:full])
        placed_counts.extend([per_bin] * full)
        left -= full * per_bin
        if full:
            open_bins.put(bins[:full] if full < len(bins) else bins, room - per_bin * length)
        if full < len(bins):
            assert full == len(bins) - 1 and 0 < left < per_bin
            placed_bins.append(bins[-1])
            placed_counts.append(left)
            open_bins.put([bins[-1]], room - left * length)
            left = 0
        return left

    for length, left in zip(group_lengths, group_sizes, strict=True):
        while left and (room := open_bins.tightest_room(length)) > 0:
            left = fill(open_bins.take(room, -(-left // (room // length))), room, length, left)
        if left:  # no open bin fits: open as many fresh bins as the rest needs
            count = -(-left // (capacity // length))
            left = fill(list(range(num_bins, num_bins + count)), capacity, length, left)
            num_bins += count
        assert left == 0

    bin_in_placement_order = np.repeat(np.asarray(placed_bins, dtype=np.int64), np.asarray(placed_counts, np.int64))
    bin_of_item = np.empty(len(lengths), dtype=np.int64)
    bin_of_item[placement_order] = bin_in_placement_order
    return bin_of_item, placement_order


def lower_bound_rows(total_tokens: int, seq_len: int) -> int:
    """No packing can use fewer rows than ⌈Σ tokens / seq_len⌉."""
    return math.ceil(total_tokens / seq_len)


@dataclass(frozen=True)
class PackPlan:
    """Where every input sample goes. Arrays are indexed by input sample (its order in the token shards)."""

    seq_len: int
    seed: int
    oversize: str
    num_rows: int
    sample_row: np.ndarray  # int64, output row after the shuffle; -1 when dropped
    sample_offset: np.ndarray  # int64, first token position inside its row; -1 when dropped
    sample_tokens: np.ndarray  # int64, tokens the sample contributes (truncated length; 0 when dropped)
    oversize_samples: int  # samples longer than seq_len (dropped or truncated by the policy)
    oversize_tokens_removed: int  # tokens lost to the policy (whole samples when dropped, the tail when truncated)
    empty_samples: int  # samples of length 0 (nothing to pack)

    @property
    def total_tokens(self) -> int:
        return int(self.sample_tokens.sum())

    @property
    def lower_bound(self) -> int:
        return lower_bound_rows(self.total_tokens, self.seq_len)

    @property
    def fill_vs_lower_bound(self) -> float:
        """1.0 is optimal: the plan uses exactly the lower-bound number of rows."""
        return self.lower_bound / self.num_rows if self.num_rows else 1.0

    def row_tokens(self) -> np.ndarray:
        kept = self.sample_row >= 0
        return np.bincount(self.sample_row[kept], weights=self.sample_tokens[kept], minlength=self.num_rows).astype(
            np.int64
        )


def plan_packing(
    lengths: np.ndarray,
    seq_len: int,
    seed: int = 0,
    oversize: OversizePolicy = "drop",
) -> PackPlan:
    """Plan rows of ≤ seq_len tokens with BFD over all samples, then shuffle the rows with `seed`."""
    if oversize not in OVERSIZE_POLICIES:
        raise ValueError(f"oversize policy must be one of {OVERSIZE_POLICIES}, got {oversize!r}")
    if seq_len <= 0:
        raise ValueError(f"seq_len must be positive, got {seq_len}")
    lengths = np.asarray(lengths, dtype=np.int64)
    if (lengths < 0).any():
        raise ValueError(f"negative sample length at index {int(np.flatnonzero(lengths < 0)[0])}")
    too_long = lengths > seq_len
    if oversize == "error" and too_long.any():
        first = int(np.flatnonzero(too_long)[0])
        raise ValueError(
            f"sample {first}: length {int(lengths[first])} exceeds seq_len {seq_len} "
            f"({int(too_long.sum())} oversize samples; use oversize='drop' or 'truncate')"
        )
    tokens = lengths.copy()
    if oversize == "truncate":
        tokens[too_long] = seq_len
    else:
        tokens[too_long] = 0
    removed = int(lengths.sum() - tokens.sum())

    packed = np.flatnonzero(tokens > 0)
    bin_of_item, placement_order = best_fit_decreasing(tokens[packed], seq_len)
    num_rows = int(bin_of_item.max()) + 1 if len(packed) else 0
    row_of_bin = np.random.default_rng(seed).permutation(num_rows)

    # Offsets inside a row: documents sit in placement order, so a stable sort by row keeps that order.
    by_row = placement_order[np.argsort(bin_of_item[placement_order], kind="stable")]
    offsets_by_row = _offsets_within_rows(tokens[packed][by_row], bin_of_item[by_row])

    sample_row = np.full(len(lengths), -1, dtype=np.int64)
    sample_offset = np.full(len(lengths), -1, dtype=np.int64)
    sample_row[packed] = row_of_bin[bin_of_item]
    sample_offset[packed[by_row]] = offsets_by_row
    return PackPlan(
        seq_len=seq_len,
        seed=seed,
        oversize=oversize,
        num_rows=num_rows,
        sample_row=sample_row,
        sample_offset=sample_offset,
        sample_tokens=tokens,
        oversize_samples=int(too_long.sum()),
        oversize_tokens_removed=removed,
        empty_samples=int((lengths == 0).sum()),
    )


def _offsets_within_rows(doc_tokens: np.ndarray, doc_bin: np.ndarray) -> np.ndarray:
    """Start of each document inside its bin, for documents grouped by bin (exclusive cumsum restarting per bin)."""
    if len(doc_tokens) == 0:
        return doc_tokens.astype(np.int64)
    ends = np.cumsum(doc_tokens)
    starts = ends - doc_tokens
    first_of_bin = np.r_[True, doc_bin[1:] != doc_bin[:-1]]
    bin_base = np.maximum.accumulate(np.where(first_of_bin, starts, 0))
    return starts - bin_base
