"""Per-document causal attention over a packed row, registered with transformers as "cascade_docs".

The trainer calls the model with one flattened sequence (batch 1) and the packed-flash-attention kwargs that
transformers defines: `position_ids` (restarting at 0 per document), `cu_seq_lens_q` / `cu_seq_lens_k` (int32,
document boundaries, [0, ..., L]) and `max_length_q` / `max_length_k` (python ints). Attention then never crosses a
boundary, whatever the position ids say (transformers' SDPA/eager with packed position ids alone leak, DESIGN §6).

Kernels, by device and dtype:
- CUDA, bf16/fp16: `flash_attn_varlen_func` when flash-attn is installed; otherwise torch 2.13's
  `torch.nn.attention.varlen.varlen_attn` (FlashAttention-2 kernels inside torch, with backward, causal via
  window_size=(-1, 0), native GQA). It needs no extra package and, unlike FlexAttention, no BlockMask build of
  O(L²/block²) per step and no torch.compile, so it is the default GPU path.
  (The GPU machines lent here carry torch 2.11, whose varlen_attn lacks enable_gqa: keys/values are then repeated.)
- Anything else (CPU, fp32): causal SDPA run per document segment, cost Σ len² like varlen, never an L² mask.
Without cu_seq_lens each batch row is one causal document (ordinary unpacked inference).

Only plain causal attention is implemented: a layer that passes `sliding_window`, `softcap` or `s_aux` (sinks) is
refused instead of silently attended in full (trainer.hybrid's allow-list keeps such models out of the trainer).
"""

from __future__ import annotations

import importlib.util
import inspect
import math

import torch
import torch.nn.functional as F
from transformers import AttentionInterface

ATTENTION_NAME = "cascade_docs"
_UNSUPPORTED_FEATURES = ("sliding_window", "softcap", "s_aux")
_HAS_FLASH_ATTN = importlib.util.find_spec("flash_attn") is not None


def document_attention_forward(
    module: torch.nn.Module,
    query_BHLD: torch.Tensor,
    key_BKLD: torch.Tensor,
    value_BKLD: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    cu_seq_lens_q: torch.Tensor | None = None,
    max_length_q: int | None = None,
    **kwargs: object,
) -> tuple[torch.Tensor, None]:
    """transformers attention-interface signature; returns the output as [B, L, H, D]."""
    unsupported = [name for name in _UNSUPPORTED_FEATURES if kwargs.get(name) is not None]
    if unsupported:
        raise ValueError(
            f"{type(module).__name__} asks for {', '.join(unsupported)}, which the {ATTENTION_NAME!r} attention does "
            "not implement (plain causal attention only); packed training of this model would be silently wrong"
        )
    if cu_seq_lens_q is None:
        out_BHLD = F.scaled_dot_product_attention(
            query_BHLD, key_BKLD, value_BKLD, attn_mask=attention_mask, dropout_p=dropout, scale=scaling,
            is_causal=attention_mask is None, enable_gqa=True,
        )
        return out_BHLD.transpose(1, 2).contiguous(), None
    assert query_BHLD.shape[0] == 1, "packed attention expects one flattened row (batch size 1)"
    assert int(cu_seq_lens_q[-1]) == query_BHLD.shape[2], "cu_seq_lens_q must end at the row length"
    if query_BHLD.is_cuda and query_BHLD.dtype in (torch.bfloat16, torch.float16):
        max_len = int(max_length_q) if max_length_q is not None else int((cu_seq_lens_q[1:] - cu_seq_lens_q[:-1]).max())
        query_LHD, key_LKD, value_LKD = (t[0].transpose(0, 1).contiguous() for t in (query_BHLD, key_BKLD, value_BKLD))
        out_LHD = _varlen_cuda(query_LHD, key_LKD, value_LKD, cu_seq_lens_q, max_len, scaling, dropout)
        return out_LHD.unsqueeze(0), None
    return _per_document_sdpa(query_BHLD, key_BKLD, value_BKLD, cu_seq_lens_q, scaling, dropout), None


def _per_document_sdpa(
    query_BHLD: torch.Tensor, key_BKLD: torch.Tensor, value_BKLD: torch.Tensor,
    cu_seqlens_N: torch.Tensor, scaling: float | None, dropout: float,
) -> torch.Tensor:
    bounds = cu_seqlens_N.tolist()
    outputs = []
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        outputs.append(F.scaled_dot_product_attention(
            query_BHLD[:, :, start:end], key_BKLD[:, :, start:end], value_BKLD[:, :, start:end],
            dropout_p=dropout, scale=scaling, is_causal=True, enable_gqa=True,
        ))
    return torch.cat(outputs, dim=2).transpose(1, 2).contiguous()


def _varlen_cuda(
    query_LHD: torch.Tensor, key_LKD: torch.Tensor, value_LKD: torch.Tensor,
    cu_seqlens_N: torch.Tensor, max_len: int, scaling: float | None, dropout: float,
) -> torch.Tensor:
    cu_seqlens_N = cu_seqlens_N.to(device=query_LHD.device, dtype=torch.int32)
    if _HAS_FLASH_ATTN:
        from flash_attn import flash_attn_varlen_func

        return flash_attn_varlen_func(query_LHD, key_LKD, value_LKD, cu_seqlens_N, cu_seqlens_N, max_len, max_len,
                                      dropout_p=dropout, softmax_scale=scaling, causal=True)
    from torch.nn.attention.varlen import varlen_attn

    assert dropout == 0.0, "torch varlen_attn has no dropout; use flash-attn for attention dropout"
    options = inspect.signature(varlen_attn).parameters
    if "enable_gqa" not in options and key_LKD.shape[1] != query_LHD.shape[1]:  # torch < 2.12: no native GQA
        repeats = query_LHD.shape[1] // key_LKD.shape[1]
        key_LKD, value_LKD = key_LKD.repeat_interleave(repeats, 1), value_LKD.repeat_interleave(repeats, 1)
    causal = {"window_size": (-1, 0)} if "window_size" in options else {"is_causal": True}  # torch 2.9 took is_causal
    gqa = {"enable_gqa": True} if "enable_gqa" in options else {}
    scale = {"scale": scaling} if "scale" in options else {}
    head_dim = query_LHD.shape[-1]
    if not scale and scaling is not None and not math.isclose(scaling, head_dim**-0.5, rel_tol=1e-6):
        raise ValueError(f"attention scaling {scaling} ≠ head_dim**-0.5 and this torch's varlen_attn takes no scale "
                         "(install flash-attn or a newer torch)")
    return varlen_attn(query_LHD, key_LKD, value_LKD, cu_seqlens_N, cu_seqlens_N, max_len, max_len,
                       **causal, **gqa, **scale)


AttentionInterface.register(ATTENTION_NAME, document_attention_forward)
