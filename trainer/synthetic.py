"""Synthetic packed shards in the packer's format, for tests, benches and a demo without a curated mix.

Each document starts at a random token and follows one fixed successor rule (next = 31·prev + 7 mod vocab), so a model
learns it within a few steps and the loss visibly falls; its first quarter is unsupervised like a user turn, and rows
are filled with whole documents up to `row_tokens`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from trainer.loss import IGNORE_INDEX

PACKED_SCHEMA = pa.schema([
    ("input_ids", pa.list_(pa.int32())), ("labels", pa.list_(pa.int32())), ("seq_lengths", pa.list_(pa.int32())),
    ("position_ids", pa.list_(pa.int32())), ("sample_ids", pa.list_(pa.string())),
    ("domains", pa.list_(pa.string())), ("num_tokens", pa.int32()), ("num_supervised", pa.int32()),
])


def synthetic_document(rng: random.Random, length: int, vocab_size: int) -> tuple[list[int], list[int]]:
    """(input_ids, unshifted labels): a successor chain, its first quarter and first token unsupervised."""
    input_ids = [rng.randrange(vocab_size)]
    while len(input_ids) < length:
        input_ids.append((31 * input_ids[-1] + 7) % vocab_size)
    prompt = max(1, length // 4)
    return input_ids, [IGNORE_INDEX] * prompt + input_ids[prompt:]


def synthetic_rows(num_rows: int, row_tokens: int, doc_lengths: tuple[int, int], vocab_size: int,
                   seed: int = 0) -> list[dict]:
    """Packed rows of whole documents, each row holding ≤ row_tokens tokens."""
    rng = random.Random(seed)
    rows = []
    for row_index in range(num_rows):
        row = {name: [] for name in ("input_ids", "labels", "seq_lengths", "position_ids", "sample_ids", "domains")}
        while True:
            length = min(rng.randint(*doc_lengths), row_tokens)
            if row["seq_lengths"] and sum(row["seq_lengths"]) + length > row_tokens:
                break
            input_ids, labels = synthetic_document(rng, length, vocab_size)
            row["input_ids"] += input_ids
            row["labels"] += labels
            row["seq_lengths"].append(length)
            row["position_ids"] += list(range(length))
            row["sample_ids"].append(f"synthetic-{row_index}-{len(row['seq_lengths'])}")
            row["domains"].append(rng.choice(["math", "code", "chat"]))
            if sum(row["seq_lengths"]) == row_tokens:
                break
        row["num_tokens"] = len(row["input_ids"])
        row["num_supervised"] = sum(label != IGNORE_INDEX for label in row["labels"])
        rows.append(row)
    return rows


def write_packed_dir(out_dir: Path, rows: list[dict], rows_per_shard: int = 64, rows_per_group: int = 8) -> Path:
    """Write rows as `out_dir/packed/part-*.parquet` plus a minimal manifest.json; returns out_dir."""
    packed = out_dir / "packed"
    packed.mkdir(parents=True, exist_ok=True)
    for shard, start in enumerate(range(0, len(rows), rows_per_shard)):
        table = pa.Table.from_pylist(rows[start:start + rows_per_shard], schema=PACKED_SCHEMA)
        pq.write_table(table, packed / f"part-{shard:05d}.parquet", row_group_size=rows_per_group)
    manifest = {"rows": len(rows), "tokens": sum(r["num_tokens"] for r in rows), "source": "trainer.synthetic"}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out_dir
