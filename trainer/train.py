"""The SFT training loop: packed rows → FSDP2 model → chunked loss → AdamW, with exact resume and HF export.

Single process:   python -m trainer.train CONFIG.yaml [--resume] [--max-steps N] [--out DIR]
Multi-process:    torchrun --nproc-per-node 8 [--nnodes ... --rdzv-endpoint ...] -m trainer.train CONFIG.yaml
(`cascade train` does the same and can launch torchrun itself with --nproc-per-node.)

Loss of a step = Σ supervised-token losses over all ranks and micro batches / global supervised-token count: each
micro batch backpropagates loss_sum × world / count, because FSDP's reduce-scatter averages gradients over ranks
(once per step, after the last micro batch, with `parallel.defer_grad_sync`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.fsdp import FSDPModule
from torch.distributed.tensor import DTensor

from trainer.checkpoint import (
    check_resume_settings,
    checkpoint_dir,
    latest_checkpoint,
    load_checkpoint,
    run_settings,
    save_checkpoint,
)
from trainer.config import OptimConfig, TrainConfig
from trainer.data import MicroBatch, PackedDataset, PackedRowLoader, check_tokenizer_matches_model
from trainer.export import export_hf, load_export_tokenizer
from trainer.metrics import FlopModel, MetricsLogger, StepMetrics, peak_flops
from trainer.model import PackedCausalLM, build_causal_lm
from trainer.parallel import (
    DistributedContext,
    exit_without_finalizing,
    finish_collectives,
    init_distributed,
    shard_model,
    shutdown_distributed,
)


@dataclass
class TrainResult:
    losses: dict[int, float] = field(default_factory=dict)  # 1-based step → loss, for the steps this run made
    final_step: int = 0
    export_dir: Path | None = None


def build_optimizer(model: torch.nn.Module, config: OptimConfig) -> torch.optim.AdamW:
    """AdamW; matrices decay, 1-D parameters (norm scales, biases) do not."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), eps=config.eps)


def clip_gradients(model: torch.nn.Module, max_norm: float) -> float:
    """Global gradient norm over all shards, then clip; returns the norm before clipping."""
    parameters = [p for p in model.parameters() if p.grad is not None]
    total_norm = torch.nn.utils.get_total_norm([p.grad for p in parameters], foreach=True)
    if isinstance(total_norm, DTensor):
        total_norm = total_norm.full_tensor()
    torch.nn.utils.clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=True)
    return float(total_norm)


@dataclass
class StepOutcome:
    loss: float  # Σ supervised-token losses / global supervised tokens
    grad_norm: float
    tokens: int  # global, all ranks
    supervised_tokens: int
    attention_cost: float  # Σ len² over all documents of the step


def train_step(model: PackedCausalLM, optimizer: torch.optim.Optimizer, micro_batches: list[MicroBatch], lr: float,
               grad_clip: float, context: DistributedContext, defer_grad_sync: bool = False) -> StepOutcome:
    """One optimizer step over this rank's micro batches (gradient accumulation), normalised globally; with
    `defer_grad_sync` an FSDP model reduce-scatters the summed gradients once, after the last micro batch."""
    totals = torch.tensor([sum(mb.num_supervised for mb in micro_batches), sum(mb.num_tokens for mb in micro_batches),
                           sum(mb.attention_cost for mb in micro_batches)], dtype=torch.float64, device=context.device)
    dist.all_reduce(totals)
    global_supervised, global_tokens, global_attention_cost = totals.tolist()
    backward_scale = context.world_size / max(global_supervised, 1.0)  # FSDP averages gradients over ranks

    loss_sum = torch.zeros((), dtype=torch.float32, device=context.device)
    for index, micro_batch in enumerate(micro_batches):
        if defer_grad_sync and isinstance(model, FSDPModule):
            model.set_requires_gradient_sync(index == len(micro_batches) - 1)
        micro_loss_sum = model(**micro_batch.model_inputs(context.device))
        (micro_loss_sum * backward_scale).backward()
        loss_sum += micro_loss_sum.detach()
    grad_norm = clip_gradients(model, grad_clip)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    dist.all_reduce(loss_sum)
    return StepOutcome(float(loss_sum) / max(global_supervised, 1.0), grad_norm, int(global_tokens),
                       int(global_supervised), global_attention_cost)


def train(config: TrainConfig, resume: bool = False, on_step_end: Callable[[int], None] | None = None) -> TrainResult:
    """Run (or continue, with `resume`) the configured training; `on_step_end(step)` runs after each step's saves.

    Returns on a rank only once every rank is done (rank 0's export is on disk); on every path the row prefetcher is
    joined and a process group this call created is destroyed before it returns or raises."""
    output_dir = config.output_path
    if not resume and latest_checkpoint(output_dir) is not None:
        raise ValueError(f"{output_dir} already holds checkpoints of a run: pass --resume to continue it, or choose "
                         "another output directory")
    owns_process_group = not dist.is_initialized()
    context = init_distributed()
    logger = MetricsLogger(output_dir, enabled=context.is_main, log_every=config.log_every, append=resume)
    try:
        dataset = PackedDataset(config.data.packed_dir)
        loader = PackedRowLoader(dataset, config.batch, context.rank, context.world_size, config.seed,
                                 config.data.balance_attention)
        total_steps = config.batch.total_steps(len(dataset))
        tokenizer = load_export_tokenizer(config.model.tokenizer_source, config.model.trust_remote_code)
        causal_lm = build_causal_lm(config.model, config.seed, on_meta=not context.is_main)
        check_tokenizer_matches_model(dataset, causal_lm.get_input_embeddings().num_embeddings, tokenizer,
                                      config.model.tokenizer_source)
        flop_model = FlopModel.of(causal_lm)
        model = shard_model(PackedCausalLM(causal_lm, config.parallel.loss_chunk_tokens), config.parallel, context)
        optimizer = build_optimizer(model, config.optim)

        start_step = 0
        checkpoint = latest_checkpoint(output_dir) if resume else None
        if checkpoint is not None:
            state = load_checkpoint(checkpoint, model, optimizer, context)
            check_resume_settings(checkpoint, state.get("settings", {}), run_settings(config, total_steps))
            loader.check_resume(state["data"])
            start_step = int(state["step"])
            logger.info(f"resumed from {checkpoint} at step {start_step}")
        elif resume:
            logger.info(f"--resume: no checkpoint under {output_dir / 'checkpoints'}, starting from step 0")
        if context.is_main:
            (output_dir / "train_config.json").write_text(json.dumps(config.to_dict(), indent=2))
        logger.info(f"{len(dataset)} packed rows, {total_steps} steps of {config.batch.global_rows} rows "
                    f"({loader.accumulation} micro batches of {config.batch.micro_rows} per rank, "
                    f"world size {context.world_size}, device {context.device.type})")

        result = TrainResult(final_step=start_step)
        device_peak = peak_flops(context.device)
        # The prefetcher reads + decodes the next step's rows during this step. Leaving the block joins it on every
        # path, so no reader thread is alive when the process group or the interpreter goes away.
        with ThreadPoolExecutor(max_workers=1) as prefetcher:
            next_batches = prefetcher.submit(loader.micro_batches, start_step)
            for step in range(start_step, total_steps):
                step_start = time.perf_counter()
                micro_batches = next_batches.result()
                if step + 1 < total_steps:
                    next_batches = prefetcher.submit(loader.micro_batches, step + 1)
                lr = config.optim.lr_at(step, total_steps)
                outcome = train_step(model, optimizer, micro_batches, lr, config.optim.grad_clip, context,
                                     config.parallel.defer_grad_sync)
                completed = step + 1
                result.losses[completed] = outcome.loss
                result.final_step = completed
                if context.device.type == "cuda":
                    torch.cuda.synchronize(context.device)
                seconds = time.perf_counter() - step_start
                flops_per_gpu = flop_model.step_flops(outcome.tokens, outcome.supervised_tokens,
                                                      outcome.attention_cost) / context.world_size
                logger.log(StepMetrics(
                    step=completed, loss=outcome.loss, lr=lr, grad_norm=outcome.grad_norm, tokens=outcome.tokens,
                    supervised_tokens=outcome.supervised_tokens, step_seconds=seconds,
                    tokens_per_second=outcome.tokens / seconds, tflops_per_gpu=flops_per_gpu / seconds / 1e12,
                    mfu=flops_per_gpu / seconds / device_peak if device_peak else None,
                    peak_memory_gib=torch.cuda.max_memory_allocated(context.device) / 2**30
                    if context.device.type == "cuda" else None,
                ))

                interval = config.checkpoint.interval
                if completed == total_steps or (interval and completed % interval == 0):
                    trainer_state = {"step": completed, "settings": run_settings(config, total_steps),
                                     "data": loader.state_dict()}
                    save_checkpoint(checkpoint_dir(output_dir, completed), model, optimizer, trainer_state, context)
                export_interval = config.checkpoint.export_interval
                if export_interval and completed % export_interval == 0 and completed < total_steps:
                    export_hf(model, output_dir / "exports" / f"step-{completed:08d}", config.checkpoint.export_dtype,
                              context, tokenizer)
                if on_step_end is not None:
                    on_step_end(completed)

        if config.checkpoint.export:
            result.export_dir = export_hf(model, output_dir / "export", config.checkpoint.export_dtype, context,
                                          tokenizer)
            if result.export_dir is not None:
                logger.info(f"exported HF model to {result.export_dir}")
        finish_collectives()  # shutdown order: background work joined → barrier → process group destroyed (finally)
        return result
    finally:
        logger.close()
        if owns_process_group:
            shutdown_distributed()


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m trainer.train` and `torchrun ... -m trainer.train`; returns the exit status."""
    from trainer.launch import load_train_config

    parser = argparse.ArgumentParser(prog="trainer.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="training config YAML, or a recipe whose mix is already built")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    parser.add_argument("--max-steps", type=int, default=None, help="override train.batch.max_steps")
    parser.add_argument("--out", default=None, help="override train.output_dir")
    parser.add_argument("--build-dir", default=None, help="recipes: the folder `cascade build` wrote")
    args = parser.parse_args(argv)
    try:
        config = load_train_config(Path(args.config), max_steps=args.max_steps, output_dir=args.out, build=False,
                                   build_dir=args.build_dir)
        train(config, resume=args.resume)
    except ValueError as error:  # a user mistake: one line per rank, not a traceback per rank
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    exit_without_finalizing(main())  # train() has joined its threads, closed its files and destroyed the group
