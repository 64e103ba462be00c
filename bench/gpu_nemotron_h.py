"""GPU check of packed Nemotron-H training: the packed row's loss equals its documents' run one by one, tokens/s.

Run by bench/gpu_nemotron_h.sh on a lent H200, one process per phase (transformers picks the Mamba kernels when
it is imported, so the torch path and the fused path cannot share a process):

  --phase torch  no mamba_ssm / causal_conv1d: the segment-aware torch path (trainer/mamba_segments.py).
  --phase fused  with them: the fused kernels fed `seq_idx` (what prepare_for_packing picks on CUDA), and the
                 segment-aware torch path forced, in the same process.

Each phase prints JSON lines: `check` (fp32, TF32 off: the packed row through the patched model vs each document
alone through transformers' own path, loss and gradients; and the unpatched model on the packed row, which must
differ) and `speed` (bf16 forward + backward of one packed row; tokens/s and the ratio to the anchor measured in the
same process: the unpatched model on the same row — it leaks, but costs what packing without the fix costs).
The model has Nemotron-3-Nano-shaped layers (hidden 2688, 64 Mamba heads x 64, state 128, 8 groups, chunk 128,
32/2 attention heads of 128) in the pattern MEM*E with 16 experts (top 6) and an 8K vocab, so it fits a short lease.
`--smoke` runs the same steps on CPU with a small model, to check this script before spending device time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from transformers import AttentionInterface, NemotronHConfig, NemotronHForCausalLM
from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHMamba2Mixer

from trainer.hybrid import mamba_mixers, prepare_for_packing
from trainer.mamba_segments import fused_kernels_available

VOCAB = 8192
ATTENTION = "bench_per_document_sdpa"


def per_document_sdpa(module, query_BHLD, key_BKLD, value_BKLD, attention_mask, scaling=None, dropout=0.0,
                      cu_seq_lens_q=None, **kwargs):
    """Causal SDPA inside each document (the whole row is one document without cu_seq_lens_q)."""
    bounds = [0, query_BHLD.shape[2]] if cu_seq_lens_q is None else cu_seq_lens_q.tolist()
    outputs = [F.scaled_dot_product_attention(query_BHLD[:, :, s:e], key_BKLD[:, :, s:e], value_BKLD[:, :, s:e],
                                              is_causal=True, scale=scaling, enable_gqa=True)
               for s, e in zip(bounds[:-1], bounds[1:], strict=True)]
    return torch.cat(outputs, dim=2).transpose(1, 2).contiguous(), None


AttentionInterface.register(ATTENTION, per_document_sdpa)


NANO_SHAPED = dict(hidden_size=2688, num_attention_heads=32, num_key_value_heads=2, head_dim=128, mamba_num_heads=64,
                   mamba_head_dim=64, ssm_state_size=128, n_groups=8, chunk_size=128, n_routed_experts=16,
                   num_experts_per_tok=6, moe_intermediate_size=1856, moe_shared_expert_intermediate_size=3712)
SMOKE = dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16, mamba_num_heads=8,
             mamba_head_dim=8, ssm_state_size=16, n_groups=2, chunk_size=16, n_routed_experts=4, num_experts_per_tok=2,
             moe_intermediate_size=32, moe_shared_expert_intermediate_size=32)


def build_model(dims: dict, device: torch.device) -> NemotronHForCausalLM:
    config = NemotronHConfig(vocab_size=VOCAB, hybrid_override_pattern="MEM*E", conv_kernel=4, use_cache=False,
                             attn_implementation=ATTENTION, **dims)
    torch.manual_seed(0)
    with torch.device(device):
        model = NemotronHForCausalLM(config).float().train()
    prepare_for_packing(model)
    return model


@contextlib.contextmanager
def unpatched(model: torch.nn.Module) -> Iterator[None]:
    """The plain transformers mixers for the duration (same weights): the leaking baseline."""
    mixers = [mixer for _, mixer in mamba_mixers(model)]
    patched_class = type(mixers[0])
    for mixer in mixers:
        mixer.__class__ = NemotronHMamba2Mixer
    try:
        yield
    finally:
        for mixer in mixers:
            mixer.__class__ = patched_class


def set_backend(model: torch.nn.Module, backend: str) -> None:
    for _, mixer in mamba_mixers(model):
        mixer.packing_backend = backend


def packed_row(row_tokens: int, doc_range: tuple[int, int], seed: int, device: torch.device) -> dict:
    generator = torch.Generator().manual_seed(seed)
    lengths = []
    while sum(lengths) < row_tokens:
        lengths.append(min(int(torch.randint(*doc_range, (1,), generator=generator)), row_tokens - sum(lengths)))
    cu_seqlens_N = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32, device=device)
    return dict(
        input_ids=torch.randint(0, VOCAB, (1, row_tokens), generator=generator).to(device),
        position_ids=torch.cat([torch.arange(n) for n in lengths])[None].to(device),
        cu_seq_lens_q=cu_seqlens_N, cu_seq_lens_k=cu_seqlens_N, max_length_q=max(lengths), max_length_k=max(lengths),
    )


def next_token_loss_sum(logits_LV: torch.Tensor, ids_L: torch.Tensor, bounds: list[int]) -> torch.Tensor:
    return sum(F.cross_entropy(logits_LV[s:e - 1].float(), ids_L[s + 1:e], reduction="sum")
               for s, e in zip(bounds[:-1], bounds[1:], strict=True))


def packed_loss(model, row) -> torch.Tensor:
    return next_token_loss_sum(model(**row).logits[0], row["input_ids"][0], row["cu_seq_lens_q"].tolist())


def documents_loss(model, row) -> torch.Tensor:
    bounds = row["cu_seq_lens_q"].tolist()
    return sum(next_token_loss_sum(model(input_ids=row["input_ids"][:, s:e]).logits[0], row["input_ids"][0, s:e],
                                   [0, e - s]) for s, e in zip(bounds[:-1], bounds[1:], strict=True))


def loss_and_grads(model, loss_fn) -> tuple[float, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    return loss.item(), {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def gaps(got: tuple[float, dict], want: tuple[float, dict]) -> dict[str, float]:
    """Relative loss gap and the largest gradient gap relative to its tensor's largest entry."""
    grad_gap = max((got[1][n] - g).abs().max().item() / max(g.abs().max().item(), 1e-12) for n, g in want[1].items())
    return {"loss_rel_gap": abs(got[0] - want[0]) / abs(want[0]), "grad_rel_gap": grad_gap}


def check(model, phase: str, row_tokens: int, tolerance: dict[str, float]) -> list[dict]:
    """fp32, TF32 off: packed (each backend of this phase) vs documents one by one vs the unpatched packed row."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    row = packed_row(row_tokens, (row_tokens // 64, row_tokens // 4), seed=1, device=model.device)
    reference = loss_and_grads(model, lambda: documents_loss(model, row))
    results = []
    for backend in (["torch"] if phase == "torch" else ["fused", "torch"]):
        set_backend(model, backend)
        got = gaps(loss_and_grads(model, lambda: packed_loss(model, row)), reference)
        ok = got["loss_rel_gap"] <= tolerance["loss"] and got["grad_rel_gap"] <= tolerance["grad"]
        results.append({"kind": "check", "phase": phase, "path": f"segment-aware ({backend})", "tokens": row_tokens,
                        "documents": len(row["cu_seq_lens_q"]) - 1, **got, "tolerance": tolerance,
                        "verdict": "EQUAL" if ok else "DIFFERENT (bug)"})
    with unpatched(model):
        leak = gaps(loss_and_grads(model, lambda: packed_loss(model, row)), reference)
    results.append({"kind": "check", "phase": phase, "path": "unpatched transformers (must differ)", **leak,
                    "verdict": "DIFFERS (expected)" if leak["grad_rel_gap"] > 10 * tolerance["grad"] else
                    "does not differ: the check cannot fail (bug)"})
    return results


def tokens_per_second(model, row, repeats: int) -> tuple[float, float]:
    """Forward + backward of one packed row: (tokens/s, peak GiB)."""
    def step():
        model.zero_grad(set_to_none=True)
        packed_loss(model, row).backward()
    on_gpu = model.device.type == "cuda"
    step()  # warm-up: Triton autotune / JIT, allocator
    if on_gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if on_gpu:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / repeats
    return row["input_ids"].shape[1] / seconds, torch.cuda.max_memory_allocated() / 2**30 if on_gpu else 0.0


def speed(model, phase: str, row_tokens: int, repeats: int) -> list[dict]:
    torch.backends.cuda.matmul.allow_tf32 = True
    row = packed_row(row_tokens, (row_tokens // 64, row_tokens // 2), seed=2, device=model.device)
    with unpatched(model):
        anchor, anchor_gib = tokens_per_second(model, row, repeats)
    anchor_name = "unpatched (leaks; " + ("fused kernels, no seq_idx)" if phase == "fused" else "torch path)")
    results = [{"kind": "speed", "phase": phase, "path": anchor_name, "tokens": row_tokens,
                "tokens_per_s": round(anchor), "ratio_to_anchor": 1.0, "peak_gib": round(anchor_gib, 1)}]
    for backend in (["torch"] if phase == "torch" else ["fused", "torch"]):
        set_backend(model, backend)
        rate, gib = tokens_per_second(model, row, repeats)
        results.append({"kind": "speed", "phase": phase, "path": f"segment-aware ({backend})", "tokens": row_tokens,
                        "tokens_per_s": round(rate), "ratio_to_anchor": round(rate / anchor, 3),
                        "peak_gib": round(gib, 1)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=["torch", "fused"], required=True)
    parser.add_argument("--check-tokens", type=int, default=4096)
    parser.add_argument("--speed-tokens", default="16384,65536", help="comma-separated packed-row lengths")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="CPU, small model and rows: check the script itself")
    args = parser.parse_args()
    if args.smoke:
        args.check_tokens, args.speed_tokens = 512, "1024"
    elif not torch.cuda.is_available():
        raise SystemExit("this bench needs a CUDA GPU (or --smoke)")
    if args.phase == "fused" and not fused_kernels_available():
        raise SystemExit("fused phase: mamba_ssm / causal_conv1d do not import here")
    model = build_model(SMOKE if args.smoke else NANO_SHAPED, torch.device("cpu" if args.smoke else "cuda"))
    # Triton's SSD kernels use TF32 dots even for fp32 inputs, so the fused path gets looser tolerances.
    tolerance = {"loss": 1e-5, "grad": 1e-3} if args.phase == "torch" else {"loss": 2e-3, "grad": 5e-2}
    for result in check(model, args.phase, args.check_tokens, tolerance):
        print(json.dumps(result), flush=True)
    model.to(torch.bfloat16)
    for row_tokens in map(int, args.speed_tokens.split(",")):
        for result in speed(model, args.phase, row_tokens, args.repeats):
            print(json.dumps(result), flush=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
