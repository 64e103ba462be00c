"""Process group and FSDP2 sharding: one `fully_shard` per decoder block, then the root.

Under bf16 mixed precision, modules the model keeps in fp32 (`_keep_in_fp32_modules(_strict)`, e.g. Nemotron-H's
MoE router `gate.weight`) get their own `fully_shard` with an fp32 policy first, so FSDP does not hand them bf16.

Works the same under `torchrun` (env:// rendezvous, any number of nodes) and as a plain single process (a
world of one over an in-memory store), so tests, the demo and multi-node jobs share one code path.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import NoReturn

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper
from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

from trainer.config import ParallelConfig
from trainer.model import PackedCausalLM, decoder_blocks


@dataclass(frozen=True)
class DistributedContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistributedContext:
    """nccl on GPU, gloo on CPU; a one-process group without torchrun's environment variables."""
    use_cuda = torch.cuda.is_available()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if use_cuda else "gloo"
        if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
            dist.init_process_group(backend=backend, device_id=device if use_cuda else None)
        else:
            dist.init_process_group(backend=backend, store=dist.HashStore(), rank=0, world_size=1)
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, device)


def finish_collectives() -> None:
    """The barrier that ends a successful run: when `train()` returns on any rank, every rank is past every
    collective of the run and rank 0 has written its export, so no rank tears down under a peer's collective."""
    dist.barrier()


def shutdown_distributed() -> None:
    """Destroy the process group; safe on error paths (no collective, so a dead peer cannot hang it)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def exit_without_finalizing(status: int) -> NoReturn:
    """End a trainer process once its run is shut down and closed, skipping interpreter finalisation.

    gloo's worker threads outlive `destroy_process_group()` (torch's DTensor caches keep the group alive until
    exit), and a worker may still be dropping a finished collective's tensors, which takes the GIL. A thread that
    takes the GIL while the interpreter finalises is unwound inside a C++ destructor: std::terminate, SIGABRT
    ("terminate called without an active exception"), and a finished run exits as failed. No barrier can order that
    release (gloo's barrier work itself holds the collectives still in flight), so the process must not finalise.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def mixed_precision_policy(config: ParallelConfig, device: torch.device) -> MixedPrecisionPolicy:
    """bf16 compute with fp32 gradient reduction on GPU (fp32 master weights stay in the shards); fp32 on CPU."""
    use_bf16 = config.mixed_precision == "bf16" or (config.mixed_precision == "auto" and device.type == "cuda")
    if use_bf16:
        return MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    return MixedPrecisionPolicy(param_dtype=torch.float32, reduce_dtype=torch.float32)


def shard_model(model: PackedCausalLM, config: ParallelConfig, context: DistributedContext) -> PackedCausalLM:
    """Activation-checkpoint each block (optional), `fully_shard` each block, then the root.

    Rank 0 holds the real weights (CPU); other ranks may hold the same model on the meta device. fully_shard moves
    one block at a time to the device and keeps this rank's shard; meta ranks then get rank 0's weights by
    broadcast, and every buffer (rotary frequencies are not in the state dict) is copied from rank 0.
    """
    full_state = model.state_dict() if context.is_main else {}
    on_meta = any(p.is_meta for p in model.parameters())
    assert not (on_meta and context.is_main), "rank 0 must hold the real weights"
    blocks = decoder_blocks(model.causal_lm)
    if config.activation_checkpointing:
        _wrap_blocks_for_checkpointing(model, blocks)
        blocks = [m for m in model.modules() if type(m).__name__ == "CheckpointWrapper"]
    policy = mixed_precision_policy(config, context.device)
    mesh = init_device_mesh(context.device.type, (context.world_size,))
    if policy.param_dtype != torch.float32:
        fp32_policy = MixedPrecisionPolicy(param_dtype=torch.float32, reduce_dtype=torch.float32)
        for module in keep_in_fp32_modules(model.causal_lm):
            assert all(module is not block for block in blocks), "an fp32 module must sit inside a block"
            fully_shard(module, mesh=mesh, mp_policy=fp32_policy)
    for block in blocks:
        fully_shard(block, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    if context.world_size > 1:
        if on_meta:
            model.to_empty(device=context.device)
        set_model_state_dict(model, full_state,
                             options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)
    return model


def keep_in_fp32_modules(causal_lm: nn.Module) -> list[nn.Module]:
    """The modules owning parameters that the model class keeps in fp32 even in bf16 (transformers'
    `_keep_in_fp32_modules` and `_keep_in_fp32_modules_strict`: dotted name fragments such as "gate.weight")."""
    fragments = set(getattr(causal_lm, "_keep_in_fp32_modules", None) or ()) | set(
        getattr(causal_lm, "_keep_in_fp32_modules_strict", None) or ())
    if not fragments:
        return []
    pattern = re.compile("|".join(rf"(^|\.){re.escape(fragment)}($|\.)" for fragment in sorted(fragments)))
    owners = {name.rpartition(".")[0] for name, _ in causal_lm.named_parameters() if pattern.search(name)}
    return [module for name, module in causal_lm.named_modules() if name in owners]


def _wrap_blocks_for_checkpointing(model: nn.Module, blocks: list[nn.Module]) -> None:
    """Replace every block by a non-reentrant checkpoint wrapper (DCP state dicts drop the wrapper's prefix)."""
    block_ids = {id(block) for block in blocks}
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in block_ids:
                parent.register_module(name, checkpoint_wrapper(child))
