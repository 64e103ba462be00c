"""Distributed, deterministic, resumable loader over packed Parquet shards.

Every rank derives the same schedule from (seed, step): epoch e shuffles all rows with seed + e, step s takes the
next `global_rows` of that order (a trailing partial batch is dropped), and the rows of a step are dealt to ranks
with equal counts, largest attention cost Σ len² first onto the least-loaded rank (the slowest rank sets the FSDP step
time). Resuming therefore needs only the step number, plus a fingerprint that the shards did not change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch

from trainer.config import BatchConfig
from trainer.loss import IGNORE_INDEX, supervised_positions

ROW_COLUMNS = ["input_ids", "labels", "seq_lengths"]


def packed_shard_files(packed_dir: str | Path) -> list[Path]:
    """`DIR/packed/*.parquet` (a pack/build output) or `DIR/*.parquet`, sorted."""
    root = Path(packed_dir)
    files = sorted((root / "packed").glob("*.parquet")) or sorted(root.glob("*.parquet"))
    if not files:
        raise ValueError(f"{root}: no packed shards (expected {root}/packed/*.parquet or {root}/*.parquet)")
    return files


def packed_manifest(packed_dir: str | Path) -> dict[str, Any] | None:
    """The pack (or build) manifest.json beside the packed shards: `DIR/manifest.json` for `DIR/packed/`."""
    root = Path(packed_dir)
    candidates = [root / "manifest.json"] + ([root.parent / "manifest.json"] if root.name == "packed" else [])
    for path in candidates:
        if path.is_file():
            manifest = json.loads(path.read_text())
            return manifest if isinstance(manifest, dict) else None
    return None


@dataclass(frozen=True)
class RowLocation:
    file_index: int
    row_group: int
    row_in_group: int


class PackedDataset:
    """Index of every packed row: where it lives, its token count and attention cost (reads seq_lengths only)."""

    def __init__(self, packed_dir: str | Path) -> None:
        self.packed_dir = Path(packed_dir)
        self.files = packed_shard_files(packed_dir)
        self.manifest = packed_manifest(packed_dir) or {}
        self.locations: list[RowLocation] = []
        tokens, costs = [], []
        for file_index, path in enumerate(self.files):
            parquet = pq.ParquetFile(path)
            missing = [c for c in ROW_COLUMNS if c not in parquet.schema_arrow.names]
            if missing:
                raise ValueError(f"{path}: packed shard lacks column(s) {missing}")
            for group in range(parquet.num_row_groups):
                lengths = parquet.read_row_group(group, columns=["seq_lengths"]).column("seq_lengths").to_pylist()
                for row, row_lengths in enumerate(lengths):
                    lengths_D = np.asarray(row_lengths, dtype=np.int64)
                    tokens.append(int(lengths_D.sum()))
                    costs.append(float((lengths_D.astype(np.float64) ** 2).sum()))
                    self.locations.append(RowLocation(file_index, group, row))
        self.tokens_R = np.asarray(tokens, dtype=np.int64)
        self.attention_cost_R = np.asarray(costs, dtype=np.float64)
        self._cached_group: tuple[int, int] | None = None
        self._cached_table: pa.Table | None = None

    def __len__(self) -> int:
        return len(self.locations)

    def fingerprint(self) -> str:
        """Changes when the shards' names, row counts or token counts change (resume safety check)."""
        digest = hashlib.sha256()
        digest.update("\n".join(p.name for p in self.files).encode())
        digest.update(self.tokens_R.tobytes())
        return digest.hexdigest()[:16]

    @property
    def tokenizer(self) -> dict[str, Any] | None:
        """The manifest's record of the tokenizer the rows were made with (name_or_path, vocab_size, sha256)."""
        record = self.manifest.get("tokenizer")
        return record if isinstance(record, dict) else None

    def max_token_id(self) -> int:
        """Upper bound of the rows' token ids: the pack's recorded maximum, else its tokenizer's size − 1, else a
        scan of the input_ids column of every shard (once, at startup)."""
        recorded = self.manifest.get("totals", {}).get("max_token_id")
        if recorded is not None:
            return int(recorded)
        if self.tokenizer is not None and self.tokenizer.get("vocab_size"):
            return int(self.tokenizer["vocab_size"]) - 1
        scanned = (pc.max(pc.list_flatten(pq.read_table(path, columns=["input_ids"]).column("input_ids"))).as_py()
                   for path in self.files)
        return max((m for m in scanned if m is not None), default=-1)

    def read_row(self, index: int) -> dict[str, np.ndarray]:
        """One row's columns as int64 arrays (straight from Arrow buffers: a 256K-token row is never a list)."""
        location = self.locations[index]
        key = (location.file_index, location.row_group)
        if self._cached_group != key:
            self._cached_table = pq.ParquetFile(self.files[location.file_index]).read_row_group(
                location.row_group, columns=ROW_COLUMNS)
            self._cached_group = key
        row = {name: self._cached_table.column(name)[location.row_in_group].values.to_numpy().astype(np.int64)
               for name in ROW_COLUMNS}
        if not len(row["input_ids"]) == len(row["labels"]) == int(row["seq_lengths"].sum()):
            raise ValueError(f"{self.files[location.file_index]}: row {location.row_in_group} of row group "
                             f"{location.row_group}: input_ids, labels and sum(seq_lengths) differ in length")
        return row


def check_tokenizer_matches_model(dataset: PackedDataset, model_vocab_size: int, model_tokenizer: Any = None,
                                  tokenizer_source: str | None = None) -> None:
    """Refuse rows made for another model: an id ≥ the embedding size would fail (or index garbage) mid-run, and a
    different tokenizer of the same size would train silently on the wrong token meanings."""
    max_token_id = dataset.max_token_id()
    if max_token_id >= model_vocab_size:
        made_with = f" (tokenized with {dataset.tokenizer['name_or_path']!r})" if dataset.tokenizer else ""
        raise ValueError(f"{dataset.packed_dir}: packed rows hold token id {max_token_id}{made_with}, but the "
                         f"model's vocabulary has {model_vocab_size} entries (train.model); tokenize with the model's "
                         "tokenizer")
    if model_tokenizer is None or dataset.tokenizer is None or "sha256" not in dataset.tokenizer:
        return
    from packers.tokenize import tokenizer_record

    model_record = tokenizer_record(model_tokenizer)
    if model_record["sha256"] != dataset.tokenizer["sha256"]:
        raise ValueError(f"{dataset.packed_dir}: packed rows were tokenized with {dataset.tokenizer['name_or_path']!r} "
                         f"(vocab {dataset.tokenizer.get('vocab_size')}, sha256 {dataset.tokenizer['sha256'][:12]}), "
                         f"but the model's tokenizer is {tokenizer_source!r} (vocab {model_record['vocab_size']}, "
                         f"sha256 {model_record['sha256'][:12]}); re-tokenize with it or set train.model.tokenizer")


@dataclass
class MicroBatch:
    """Rows concatenated into one flattened sequence with document boundaries; what `PackedCausalLM` consumes."""

    input_ids_1L: torch.Tensor
    position_ids_1L: torch.Tensor
    cu_seqlens_N: torch.Tensor  # int32, [0, ..., L]
    max_seqlen: int
    predictor_index_S: torch.Tensor  # positions whose hidden state predicts a supervised token
    target_S: torch.Tensor
    num_tokens: int
    attention_cost: float  # Σ len² over its documents

    @property
    def num_supervised(self) -> int:
        return int(self.target_S.shape[0])

    def model_inputs(self, device: torch.device) -> dict[str, torch.Tensor | int]:
        return dict(
            input_ids_1L=self.input_ids_1L.to(device, non_blocking=True),
            position_ids_1L=self.position_ids_1L.to(device, non_blocking=True),
            cu_seqlens_N=self.cu_seqlens_N.to(device, non_blocking=True), max_seqlen=self.max_seqlen,
            predictor_index_S=self.predictor_index_S.to(device, non_blocking=True),
            target_S=self.target_S.to(device, non_blocking=True),
        )


def make_micro_batch(rows: list[dict[str, np.ndarray | list[int]]]) -> MicroBatch:
    """Concatenate packed rows; position ids restart per document and every document's first label is ignored."""
    input_ids_L = torch.from_numpy(np.concatenate([np.asarray(r["input_ids"], dtype=np.int64) for r in rows]))
    labels_L = torch.from_numpy(np.concatenate([np.asarray(r["labels"], dtype=np.int64) for r in rows]))
    lengths_D = torch.from_numpy(np.concatenate([np.asarray(r["seq_lengths"], dtype=np.int64) for r in rows]))
    lengths_D = lengths_D[lengths_D > 0]
    starts_D = torch.cumsum(lengths_D, 0) - lengths_D
    position_ids_L = torch.arange(input_ids_L.shape[0]) - torch.repeat_interleave(starts_D, lengths_D)
    labels_L[starts_D] = IGNORE_INDEX  # a document's last token never predicts the next document's first
    predictor_index_S, target_S = supervised_positions(labels_L)
    cu_seqlens_N = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lengths_D, 0)]).to(torch.int32)
    return MicroBatch(
        input_ids_1L=input_ids_L[None], position_ids_1L=position_ids_L[None], cu_seqlens_N=cu_seqlens_N,
        max_seqlen=int(lengths_D.max()), predictor_index_S=predictor_index_S, target_S=target_S,
        num_tokens=int(input_ids_L.shape[0]), attention_cost=float((lengths_D.double() ** 2).sum()),
    )


def balanced_assignment(costs: list[float], world_size: int) -> list[list[int]]:
    """Deal items to `world_size` bins of equal count, costliest first onto the cheapest open bin (LPT)."""
    per_bin = len(costs) // world_size
    assert per_bin * world_size == len(costs), "items must split evenly over ranks"
    bins: list[list[int]] = [[] for _ in range(world_size)]
    loads = [0.0] * world_size
    for item in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        open_bins = [b for b in range(world_size) if len(bins[b]) < per_bin]
        target = min(open_bins, key=lambda b: (loads[b], b))
        bins[target].append(item)
        loads[target] += costs[item]
    return [sorted(b) for b in bins]


class PackedRowLoader:
    """This rank's micro batches for any step; a pure function of (seed, step), hence trivially resumable."""

    def __init__(self, dataset: PackedDataset, batch: BatchConfig, rank: int, world_size: int, seed: int,
                 balance_attention: bool = True) -> None:
        self.dataset = dataset
        self.global_rows = batch.global_rows
        self.micro_rows = batch.micro_rows
        self.accumulation = batch.accumulation_steps(world_size)
        self.rank, self.world_size, self.seed = rank, world_size, seed
        self.balance_attention = balance_attention
        self.steps_per_epoch = len(dataset) // self.global_rows
        if self.steps_per_epoch == 0:
            raise ValueError(f"train.batch.global_rows={self.global_rows} exceeds the {len(dataset)} packed rows "
                             f"in {dataset.files[0].parent}")

    def global_batch(self, step: int) -> list[int]:
        epoch, offset = divmod(step, self.steps_per_epoch)
        order = torch.randperm(len(self.dataset), generator=torch.Generator().manual_seed(self.seed + epoch))
        return order[offset * self.global_rows:(offset + 1) * self.global_rows].tolist()

    def rank_rows(self, step: int) -> list[int]:
        rows = self.global_batch(step)
        if self.balance_attention:
            bins = balanced_assignment([float(self.dataset.attention_cost_R[r]) for r in rows], self.world_size)
            return [rows[i] for i in bins[self.rank]]
        per_rank = len(rows) // self.world_size
        return rows[self.rank * per_rank:(self.rank + 1) * per_rank]

    def micro_batches(self, step: int) -> list[MicroBatch]:
        rows = self.rank_rows(step)
        return [make_micro_batch([self.dataset.read_row(r) for r in rows[i:i + self.micro_rows]])
                for i in range(0, len(rows), self.micro_rows)]

    def state_dict(self) -> dict[str, int | str]:
        """What the schedule depends on besides the step (saved in the checkpoint, compared on resume)."""
        return {"seed": self.seed, "rows": len(self.dataset), "fingerprint": self.dataset.fingerprint()}

    def check_resume(self, state: dict[str, int | str]) -> None:
        """Refuse to resume on different data or a different shuffle: the loss curve would silently change."""
        expected = self.state_dict()
        for key in ("seed", "rows", "fingerprint"):
            if state[key] != expected[key]:
                raise ValueError(f"cannot resume: data {key} was {state[key]!r} at checkpoint time, now "
                                 f"{expected[key]!r} (packed shards or seed changed)")
