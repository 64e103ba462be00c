"""MoE in the trainer: FLOPs count the experts a token uses, and bf16 FSDP keeps the router in fp32."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributed.fsdp import FSDPModule
from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHExperts, NemotronHTopkRouter

from tests.test_nemotron_h_packed import TINY_SPEC
from trainer.config import ModelConfig, ParallelConfig, TinyModelSpec
from trainer.data import make_micro_batch
from trainer.metrics import FlopModel, ssd_scan_flops
from trainer.model import PackedCausalLM, build_causal_lm, decoder_blocks
from trainer.parallel import init_distributed, keep_in_fp32_modules, shard_model, shutdown_distributed
from trainer.synthetic import synthetic_rows


def _tiny_nemotron_h() -> nn.Module:
    return build_causal_lm(ModelConfig(tiny=TinyModelSpec(**TINY_SPEC)), seed=0)


def _non_embedding_params(causal_lm: nn.Module) -> dict[int, tuple[nn.Module, nn.Parameter]]:
    """Every body parameter with the module that owns it (embeddings and LM head left out)."""
    embeddings = {id(causal_lm.get_input_embeddings().weight), id(causal_lm.get_output_embeddings().weight)}
    return {id(p): (module, p) for module in causal_lm.modules() for p in module.parameters(recurse=False)
            if id(p) not in embeddings}


def test_moe_matmul_flops_count_only_the_experts_a_token_uses() -> None:
    causal_lm = _tiny_nemotron_h()
    config = causal_lm.config
    params = _non_embedding_params(causal_lm).values()
    routed = sum(p.numel() for module, p in params if isinstance(module, NemotronHExperts))
    dense = sum(p.numel() for module, p in params if not isinstance(module, NemotronHExperts))
    assert routed > 0 and dense > 0
    flops = FlopModel.of(causal_lm)
    active = dense + routed * config.num_experts_per_tok / config.n_routed_experts
    assert flops.matmul_flops_per_token == 6 * active
    assert flops.matmul_flops_per_token < 6 * (dense + routed)  # counting every expert would overstate it
    mamba_layers = config.hybrid_override_pattern.count("M")
    scan = ssd_scan_flops(config.mamba_num_heads, config.mamba_head_dim, config.ssm_state_size, config.n_groups,
                          config.chunk_size)
    assert flops.ssd_flops_per_token == mamba_layers * scan > 0
    assert flops.attention_layers == config.hybrid_override_pattern.count("*")
    assert flops.step_flops(tokens=7, supervised_tokens=0, attention_cost=0.0) == 7 * (6 * active + mamba_layers * scan)


def test_dense_llama_flops_are_six_times_all_body_params() -> None:
    spec = TinyModelSpec(arch="llama", hidden=32, layers=2, heads=4, kv_heads=2, intermediate=64, vocab_size=100)
    causal_lm = build_causal_lm(ModelConfig(tiny=spec), seed=0)
    flops = FlopModel.of(causal_lm)
    body = sum(p.numel() for _, p in _non_embedding_params(causal_lm).values())
    assert (flops.matmul_flops_per_token, flops.ssd_flops_per_token) == (6 * body, 0.0)
    assert flops.step_flops(10, 4, 100.0) == 6 * body * 10 + 6 * 2 * 32 * 100 + 6 * 32 * 100 * 4


def test_ssd_scan_flops_grow_with_chunk_and_state() -> None:
    base = ssd_scan_flops(num_heads=4, head_dim=8, state_size=8, groups=2, chunk_size=4)
    assert base == 3 * (2 * 4 * 8 + 4 * (4 * 8 + 4 * 8 * 8))
    assert ssd_scan_flops(4, 8, 8, 2, 8) - base == 3 * (2 * 4 * 8 + 4 * 4 * 8)  # linear in the chunk


def _parameter_dtypes_in_forward(mixed_precision: str) -> tuple[dict[str, torch.dtype], list[nn.Module]]:
    """Shard the tiny Nemotron-H in a one-process gloo world, run one packed forward + backward, and record the
    dtype each router's and each block Linear's weight has when its forward starts."""
    causal_lm = _tiny_nemotron_h()
    routers = [m for m in causal_lm.modules() if isinstance(m, NemotronHTopkRouter)]
    linears = [m for block in decoder_blocks(causal_lm) for m in block.modules() if isinstance(m, nn.Linear)]
    assert routers and linears
    seen: dict[str, torch.dtype] = {}

    def record_weight_dtype(kind: str, module: nn.Module) -> None:
        def hook(module: nn.Module, args: tuple) -> None:
            seen.setdefault(f"{kind} {id(module)}", module.weight.dtype)

        module.register_forward_pre_hook(hook)

    context = init_distributed()
    try:
        model = shard_model(PackedCausalLM(causal_lm, loss_chunk_tokens=16),
                            ParallelConfig(mixed_precision=mixed_precision), context)
        for kind, modules in (("router", routers), ("linear", linears)):
            for module in modules:
                record_weight_dtype(kind, module)
        row = synthetic_rows(1, 40, (3, 15), vocab_size=TINY_SPEC["vocab_size"], seed=3)[0]
        loss = model(**make_micro_batch([row]).model_inputs(context.device))
        loss.backward()
        assert torch.isfinite(loss)
        assert all(router.weight.grad is not None for router in routers)
    finally:
        shutdown_distributed()
    assert len(seen) == len(routers) + len(linears)  # every hook fired
    return seen, routers


def test_bf16_sharding_keeps_the_router_in_fp32_and_the_rest_in_bf16() -> None:
    seen, routers = _parameter_dtypes_in_forward("bf16")
    assert {dtype for key, dtype in seen.items() if key.startswith("router")} == {torch.float32}
    assert {dtype for key, dtype in seen.items() if key.startswith("linear")} == {torch.bfloat16}
    assert all(isinstance(router, FSDPModule) for router in routers)


def test_fp32_sharding_is_unchanged() -> None:
    seen, routers = _parameter_dtypes_in_forward("auto")  # CPU: fp32 everywhere, no extra FSDP units
    assert set(seen.values()) == {torch.float32}
    assert not any(isinstance(router, FSDPModule) for router in routers)


def test_keep_in_fp32_modules_are_the_routers() -> None:
    causal_lm = _tiny_nemotron_h()
    routers = [m for m in causal_lm.modules() if isinstance(m, NemotronHTopkRouter)]
    assert len(routers) == TINY_SPEC["extra"]["hybrid_override_pattern"].count("E")
    assert [id(m) for m in keep_in_fp32_modules(causal_lm)] == [id(m) for m in routers]
    llama = build_causal_lm(ModelConfig(tiny=TinyModelSpec(arch="llama", hidden=16, layers=1)), seed=0)
    assert keep_in_fp32_modules(llama) == []
