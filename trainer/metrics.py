"""Per-step metrics: loss, lr, grad norm, throughput and (on GPU) MFU from the real document lengths.

Model FLOPs of a step = 6 × active body parameters × tokens (matmuls, forward + backward; a routed-experts module
                        counts top_k / num_experts of its parameters, trainer.moe.active_body_params)
                      + 6 × attention layers × heads × head_dim × Σ len²   (causal attention over each document)
                      + 6 × hidden × vocab × supervised tokens             (the LM head only runs where a loss is)
                      + SSD scan FLOPs per token × tokens                  (Mamba-2 layers, see `ssd_scan_flops`)
Σ len² comes from the packed documents, not L² of the row: rows of equal tokens differ many-fold in attention work.
Counting every routed expert instead would overstate an MoE model's MFU by total / active parameters (~9x for
Nemotron-3-Nano: 128 experts, 6 per token).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from rich.console import Console

from trainer.hybrid import mamba_mixers
from trainer.moe import active_body_params

PEAK_BF16_FLOPS = {"H200": 989e12, "H100": 989e12, "B200": 2250e12, "A100": 312e12, "L40S": 362e12}


def peak_flops(device: torch.device) -> float | None:
    """Dense bf16 peak of the accelerator (override with CASCADE_PEAK_TFLOPS); None on CPU or when unknown."""
    if "CASCADE_PEAK_TFLOPS" in os.environ:
        return float(os.environ["CASCADE_PEAK_TFLOPS"]) * 1e12
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in name), None)


def ssd_scan_flops(num_heads: int, head_dim: int, state_size: int, groups: int, chunk_size: int) -> float:
    """Training FLOPs per token of one Mamba-2 layer's chunked SSD scan (what its parameter count misses).

    Per token, forward, with Q = chunk_size, N = state_size, P = head_dim, G = groups, H = heads:
      intra-chunk scores C·Bᵀ over the causal half of its chunk, per group:      G · Q · N
      those scores (decay-masked) times X, per head:                              H · Q · P
      chunk state Bᵀ·X and the state's output C·state, per head:                  H · 4 · N · P
    and the backward pass twice the forward: 3 · (G·Q·N + H·(Q·P + 4·N·P)). The inter-chunk state recurrence
    (chunks × H·N·P per row) and the depthwise conv are small next to these and not counted.
    """
    return 3.0 * (groups * chunk_size * state_size + num_heads * (chunk_size * head_dim + 4 * state_size * head_dim))


@dataclass(frozen=True)
class FlopModel:
    body_params: int  # active ones: routed experts at top_k / num_experts
    attention_layers: int
    attention_width: int  # heads × head_dim
    hidden: int
    vocab: int
    ssd_flops_per_token: float = 0.0  # all Mamba-2 layers together

    @classmethod
    def of(cls, causal_lm: torch.nn.Module) -> FlopModel:
        config = causal_lm.config
        body = active_body_params(causal_lm)
        attention_layers = sum(1 for m in causal_lm.modules() if type(m).__name__.endswith("Attention"))
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        ssd = sum(ssd_scan_flops(mixer.num_heads, mixer.head_dim, mixer.ssm_state_size, mixer.n_groups,
                                 mixer.chunk_size) for _, mixer in mamba_mixers(causal_lm))
        return cls(body, attention_layers, config.num_attention_heads * head_dim, config.hidden_size,
                   config.vocab_size, ssd)

    @property
    def matmul_flops_per_token(self) -> float:
        """Forward + backward FLOPs of the body's weight matmuls for one token."""
        return 6.0 * self.body_params

    def step_flops(self, tokens: int, supervised_tokens: int, attention_cost: float) -> float:
        return ((self.matmul_flops_per_token + self.ssd_flops_per_token) * tokens
                + 6.0 * self.attention_layers * self.attention_width * attention_cost
                + 6.0 * self.hidden * self.vocab * supervised_tokens)


@dataclass
class StepMetrics:
    step: int
    loss: float
    lr: float
    grad_norm: float
    tokens: int
    supervised_tokens: int
    step_seconds: float
    tokens_per_second: float
    tflops_per_gpu: float
    mfu: float | None
    peak_memory_gib: float | None


class MetricsLogger:
    """Rank 0 writes one JSON line per step to OUTPUT/metrics.jsonl (appended to when resuming), a console line,
    and TensorBoard scalars if tensorboard is installed."""

    def __init__(self, output_dir: Path, enabled: bool, log_every: int = 1, append: bool = False) -> None:
        self.enabled = enabled
        self.log_every = log_every
        self.console = Console(highlight=False, soft_wrap=True)
        self._jsonl = None
        self._tensorboard = None
        if enabled:
            output_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = (output_dir / "metrics.jsonl").open("a" if append else "w", encoding="utf-8")
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                SummaryWriter = None
            if SummaryWriter is not None:
                self._tensorboard = SummaryWriter(str(output_dir / "tensorboard"))

    def log(self, metrics: StepMetrics) -> None:
        if not self.enabled:
            return
        record = asdict(metrics)
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        if self._tensorboard is not None:
            for key, value in record.items():
                if key != "step" and value is not None:
                    self._tensorboard.add_scalar(f"train/{key}", value, metrics.step)
        if metrics.step % self.log_every == 0:
            mfu = f" mfu {metrics.mfu:.1%}" if metrics.mfu is not None else ""
            memory = f" mem {metrics.peak_memory_gib:.1f}GiB" if metrics.peak_memory_gib is not None else ""
            self.console.print(
                f"step {metrics.step:>6} loss {metrics.loss:.4f} lr {metrics.lr:.2e} gnorm {metrics.grad_norm:.3f} "
                f"tok {metrics.tokens} sup {metrics.supervised_tokens} {metrics.tokens_per_second:,.0f} tok/s"
                f"{mfu}{memory} ({metrics.step_seconds:.2f}s)"
            )

    def info(self, message: str) -> None:
        if self.enabled:
            self.console.print(message)

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
        if self._tensorboard is not None:
            self._tensorboard.close()
