"""Typed training configuration: one dataclass per concern, each validated from a plain dict.

A recipe's `train:` section and a standalone YAML config both go through `TrainConfig.from_dict`, which raises
ValueError naming the offending key (`train.optim.lr: ...`). Defaults mirror Cascade-2 SFT (DESIGN §6): global batch
64 packed rows, AdamW β2 0.98, weight decay 0.1, lr 5e-5 → 5e-6 cosine after 200 warmup steps, ~1.5 epochs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.typed_config import build_dataclass

ARCHITECTURES = ("llama", "qwen3", "nemotron_h")


@dataclass
class TinyModelSpec:
    """A small model built from a transformers config: tests, the demo and GPU benches without the hub."""

    arch: str = "llama"
    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    head_dim: int | None = None
    intermediate: int = 128
    vocab_size: int = 512
    max_position: int = 262_144
    rope_theta: float = 1_000_000.0
    tie_embeddings: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # passed verbatim to the transformers config

    def validate(self, path: str) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"{path}.arch: {self.arch!r} is not one of {ARCHITECTURES}")
        if self.heads % self.kv_heads:
            raise ValueError(f"{path}.kv_heads: {self.kv_heads} does not divide heads={self.heads}")


@dataclass
class ModelConfig:
    """Either `name_or_path` (hub id or local directory of a HF causal LM) or `tiny` (build from a config)."""

    name_or_path: str | None = None
    tiny: TinyModelSpec | None = None
    trust_remote_code: bool = False
    tokenizer: str | None = None  # saved beside the HF export; defaults to name_or_path

    @property
    def tokenizer_source(self) -> str | None:
        return self.tokenizer or self.name_or_path

    def validate(self, path: str) -> None:
        if (self.name_or_path is None) == (self.tiny is None):
            raise ValueError(f"{path}: set exactly one of name_or_path and tiny")
        if self.tiny is not None:
            self.tiny.validate(f"{path}.tiny")


@dataclass
class DataConfig:
    """Packed shards: `DIR/packed/*.parquet` (a build or pack output) or a directory of Parquet files."""

    packed_dir: str = ""
    balance_attention: bool = True  # spread rows over ranks by Σ len², since the slowest rank sets the step time

    def validate(self, path: str) -> None:
        if not self.packed_dir:
            raise ValueError(f"{path}.packed_dir: required (directory of packed Parquet shards)")


@dataclass
class OptimConfig:
    """AdamW with linear warmup then cosine decay to `min_lr`."""

    lr: float = 5e-5
    min_lr: float = 5e-6
    warmup_steps: int = 200
    beta1: float = 0.9
    beta2: float = 0.98
    eps: float = 1e-8
    weight_decay: float = 0.1
    grad_clip: float = 1.0

    def validate(self, path: str) -> None:
        if not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"{path}.min_lr: must lie in [0, lr={self.lr}]")
        if self.warmup_steps < 0:
            raise ValueError(f"{path}.warmup_steps: must be >= 0")
        if self.grad_clip <= 0:
            raise ValueError(f"{path}.grad_clip: must be > 0")

    def lr_at(self, step: int, total_steps: int) -> float:
        """Learning rate of the optimizer update made at 0-based `step`."""
        warmup = min(self.warmup_steps, max(total_steps - 1, 0))
        if step < warmup:
            return self.lr * (step + 1) / warmup
        decay_steps = max(total_steps - warmup - 1, 1)
        progress = min((step - warmup) / decay_steps, 1.0)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * progress))


@dataclass
class BatchConfig:
    """Batch sizes in packed rows; gradient accumulation = global / (micro × world size)."""

    global_rows: int = 64
    micro_rows: int = 1
    max_steps: int | None = None  # sets the schedule length; when absent it follows from `epochs`
    epochs: float = 1.5

    def validate(self, path: str) -> None:
        if self.global_rows < 1 or self.micro_rows < 1:
            raise ValueError(f"{path}: global_rows and micro_rows must be >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"{path}.max_steps: must be >= 1")
        if self.epochs <= 0:
            raise ValueError(f"{path}.epochs: must be > 0")

    def accumulation_steps(self, world_size: int) -> int:
        per_rank, remainder = divmod(self.global_rows, world_size * self.micro_rows)
        if remainder or per_rank == 0:
            raise ValueError(
                f"train.batch.global_rows={self.global_rows} is not a multiple of micro_rows={self.micro_rows} "
                f"x world size {world_size}"
            )
        return per_rank

    def total_steps(self, dataset_rows: int) -> int:
        if self.max_steps is not None:
            return self.max_steps
        steps_per_epoch = dataset_rows // self.global_rows
        if steps_per_epoch == 0:
            raise ValueError(f"train.batch.global_rows={self.global_rows} exceeds the {dataset_rows} packed rows")
        return max(1, math.ceil(self.epochs * steps_per_epoch))


@dataclass
class ParallelConfig:
    """FSDP2 and memory settings; `mixed_precision` auto = bf16 params / fp32 reduce on GPU, fp32 on CPU."""

    activation_checkpointing: bool = True
    mixed_precision: str = "auto"
    loss_chunk_tokens: int = 4096  # LM head + CE run over this many supervised tokens at a time
    # true: reduce-scatter gradients once per step (after the last micro batch) instead of after every micro batch.
    # Less communication, but each rank then holds the unsharded gradients of the whole model (in the param dtype,
    # so bf16 accumulation under mixed precision): off by default, since for the 30B base that is ~60 GB per GPU.
    defer_grad_sync: bool = False

    def validate(self, path: str) -> None:
        if self.mixed_precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"{path}.mixed_precision: {self.mixed_precision!r} is not auto, bf16 or fp32")
        if self.loss_chunk_tokens < 1:
            raise ValueError(f"{path}.loss_chunk_tokens: must be >= 1")


@dataclass
class CheckpointConfig:
    """Checkpoint every `interval` steps (0: only at the end); export HF safetensors at the end."""

    interval: int = 500
    export: bool = True
    export_interval: int = 0
    export_dtype: str = "bfloat16"

    def validate(self, path: str) -> None:
        if self.interval < 0 or self.export_interval < 0:
            raise ValueError(f"{path}: interval and export_interval must be >= 0")
        if self.export_dtype not in ("bfloat16", "float16", "float32"):
            raise ValueError(f"{path}.export_dtype: {self.export_dtype!r} is not bfloat16, float16 or float32")


@dataclass
class TrainConfig:
    """Everything one SFT run needs; `output_dir` receives checkpoints/, export/ and metrics.jsonl."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    output_dir: str = "runs/train"
    seed: int = 0
    log_every: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str = "train") -> TrainConfig:
        config = build_dataclass(cls, data, path)
        config.validate(path)
        return config

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self, path: str = "train") -> None:
        for name in ("model", "data", "optim", "batch", "parallel", "checkpoint"):
            getattr(self, name).validate(f"{path}.{name}")
        if self.log_every < 1:
            raise ValueError(f"{path}.log_every: must be >= 1")

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir)
