"""Counting a stage's output shards into its ledger entry (in == kept + dropped + duplicates)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def count_rows(files: list[Path]) -> int:
    """Rows in Parquet files, from their footers (no data read)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def reason_counts(files: list[Path]) -> dict[str, int]:
    """`filter:reason` → rows, over reject or duplicate shards."""
    counts: Counter[str] = Counter()
    for f in files:
        column = pq.read_table(f, columns=["filter", "reason"])
        for check, reason in zip(column["filter"].to_pylist(), column["reason"].to_pylist(), strict=True):
            counts[f"{check}:{reason}"] += 1
    return dict(sorted(counts.items()))


def stage_shards(stage_dir: Path, folder: str) -> list[Path]:
    """A stage's shards of one kind (samples, rejects, duplicates), in name order."""
    return sorted((stage_dir / folder).glob("*.parquet"))


def stage_entry(in_rows: int, stage_dir: Path) -> dict[str, Any]:
    """Ledger entry of a datatrove stage, counted from its output files; asserts in == kept + dropped + dups."""
    kept = count_rows(stage_shards(stage_dir, "samples"))
    dropped = reason_counts(stage_shards(stage_dir, "rejects"))
    duplicates = reason_counts(stage_shards(stage_dir, "duplicates"))
    entry = {"in": in_rows, "kept": kept, "dropped": sum(dropped.values()), "duplicates": sum(duplicates.values()),
             "dropped_by_reason": dropped, "duplicates_by_kind": duplicates}
    assert in_rows == kept + entry["dropped"] + entry["duplicates"], f"{stage_dir.name} ledger does not add up: {entry}"
    return entry

