"""Segment-aware Mamba-2 for packed rows: the causal conv and the SSD scan restart at every document boundary.

transformers' pure-torch Mamba-2 path (the only one without the mamba_ssm / causal_conv1d kernels) ignores document
boundaries, so a packed row leaks conv taps and SSM state from one document into the next. The fused kernels take a
per-token `seq_idx` for exactly this; here the same cut is written in torch, following the SSD equations

    h_t = exp(dt_t A) h_{t-1} + dt_t B_t x_t        (h_t = 0 before the first token of each document)
    y_t = C_t · h_t + D x_t

Shape suffixes: B batch, T tokens, C chunks, L and S target and source positions in a chunk, Z chunk-boundary slots
(the initial state, then each chunk's end), H heads, G head groups, P head dim, N state size, D conv channels,
W conv width. `B_BTHN` is the input matrix B with shape (batch, tokens, heads, state); `A_H` the per-head log-decay
rate; `seq_idx_BT` numbers the document each token belongs to: equal within one document and non-decreasing along
the row (a new document gets a larger id). Non-decreasing matters: `segsum` and the chunk carry decide "same
document" by comparing the ids at the two ends of a span only, so ids like 0, 1, 0 would join the two outer documents.
"""

from __future__ import annotations

import functools
import importlib

import torch
import torch.nn.functional as F
from transformers.cache_utils import Cache
from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHMamba2Mixer, apply_mask_to_padding_states


def seq_idx_from_cu_seqlens(cu_seqlens_N: torch.Tensor, batch_size: int, seq_len: int) -> torch.Tensor:
    """Per-token document index from flash-attention style `cu_seqlens` over the flattened (batch * seq_len) tokens."""
    cu_seqlens_N = cu_seqlens_N.to(torch.long).flatten()
    total = batch_size * seq_len
    if cu_seqlens_N.numel() < 2 or int(cu_seqlens_N[0]) != 0 or int(cu_seqlens_N[-1]) != total:
        raise ValueError(
            f"cu_seqlens must start at 0 and end at the number of tokens in the batch ({total}); "
            f"got {cu_seqlens_N.tolist()[:4]}…{cu_seqlens_N.tolist()[-2:]}"
        )
    if bool((cu_seqlens_N[1:] < cu_seqlens_N[:-1]).any()):
        raise ValueError("cu_seqlens must be non-decreasing")
    token_T = torch.arange(total, device=cu_seqlens_N.device)
    seq_idx_T = torch.searchsorted(cu_seqlens_N[1:], token_T, right=True)  # non-decreasing, as cu_seqlens is
    return seq_idx_T.view(batch_size, seq_len).to(torch.int32)


def seq_idx_from_position_ids(position_ids_BT: torch.Tensor) -> torch.Tensor | None:
    """Per-token document index from packed `position_ids` (a new document wherever the position restarts at 0).

    None when no row restarts after its first token, i.e. the batch is not packed. Non-decreasing by construction
    (a running count of restarts), as the segment-aware scan requires.
    """
    restarts_BT = position_ids_BT == 0
    if not bool(restarts_BT[:, 1:].any()):
        return None
    return restarts_BT.to(torch.int32).cumsum(dim=-1, dtype=torch.int32)


def segment_causal_conv1d(
    x_BTD: torch.Tensor, weight_DW: torch.Tensor, bias_D: torch.Tensor | None, seq_idx_BT: torch.Tensor
) -> torch.Tensor:
    """Depthwise causal conv whose window never reaches back into an earlier document.

    y_t = bias + Σ_lag weight[:, W-1-lag] · x_{t-lag} · [doc(t-lag) = doc(t)]  (no activation applied here).
    Inputs in the weight's dtype, sums in fp32 (as conv kernels accumulate), result in the weight's dtype.
    """
    batch, seq_len, channels = x_BTD.shape
    width = weight_DW.shape[-1]
    x_BTD = x_BTD.to(weight_DW.dtype)
    y_BTD = x_BTD.new_zeros(batch, seq_len, channels, dtype=torch.float32)
    if bias_D is not None:
        y_BTD = y_BTD + bias_D.float()
    for lag in range(width):
        seq_lagged_BT = F.pad(seq_idx_BT, (lag, 0), value=-1)[:, :seq_len]
        same_doc_BT1 = (seq_lagged_BT == seq_idx_BT).unsqueeze(-1)
        x_lagged_BTD = F.pad(x_BTD, (0, 0, lag, 0))[:, :seq_len] * same_doc_BT1
        y_BTD = y_BTD + weight_DW[:, width - 1 - lag].float() * x_lagged_BTD
    return y_BTD.to(weight_DW.dtype)


def segsum(a_XL: torch.Tensor, same_doc_XLS: torch.Tensor) -> torch.Tensor:
    """out[..., l, s] = a_{s+1} + … + a_l for s ≤ l within one document, −inf elsewhere.

    exp(out) is then the decay from position s to position l, and exactly 0 across a document boundary.
    Summed with a masked cumsum (not a difference of cumsums) for stability, like the Mamba-2 reference.
    """
    length = a_XL.size(-1)
    a_XLS = a_XL[..., :, None].expand(*a_XL.shape, length)
    strictly_lower_LS = torch.tril(torch.ones(length, length, dtype=torch.bool, device=a_XL.device), diagonal=-1)
    sums_XLS = torch.cumsum(a_XLS.masked_fill(~strictly_lower_LS, 0), dim=-2)
    causal_LS = torch.tril(torch.ones(length, length, dtype=torch.bool, device=a_XL.device))
    return sums_XLS.masked_fill(~(causal_LS & same_doc_XLS), -torch.inf)


def segment_ssd_scan(
    x_BTHP: torch.Tensor,
    dt_BTH: torch.Tensor,
    A_H: torch.Tensor,
    B_BTGN: torch.Tensor,
    C_BTGN: torch.Tensor,
    seq_idx_BT: torch.Tensor,
    chunk_size: int,
) -> torch.Tensor:
    """Chunked SSD scan (without the D skip) whose state and decay restart at every document boundary.

    `dt_BTH` is already discretised (softplus, bias, clamp). Computed in fp32. Returns y_BTHP in fp32.
    """
    batch, seq_len, n_heads, head_dim = x_BTHP.shape
    heads_per_group = n_heads // B_BTGN.shape[2]
    B_BTHN = B_BTGN.float().repeat_interleave(heads_per_group, dim=2)
    C_BTHN = C_BTGN.float().repeat_interleave(heads_per_group, dim=2)
    xdt_BTHP = x_BTHP.float() * dt_BTH.float()[..., None]
    a_BTH = A_H.float() * dt_BTH.float()  # log-decay of each step, ≤ 0

    # Pad to whole chunks: padded steps have no input and no decay, and stay in the row's last document.
    pad = (-seq_len) % chunk_size
    n_chunks = (seq_len + pad) // chunk_size
    seq_padded_BT = torch.cat([seq_idx_BT, seq_idx_BT[:, -1:].expand(batch, pad)], dim=1)
    seq_BCL = seq_padded_BT.view(batch, n_chunks, chunk_size)

    def chunked(t_BTX: torch.Tensor) -> torch.Tensor:
        padded_BTX = F.pad(t_BTX, (0, 0) * (t_BTX.dim() - 2) + (0, pad))
        return padded_BTX.view(batch, n_chunks, chunk_size, *t_BTX.shape[2:])

    xdt_BCLHP, B_BCLHN, C_BCLHN = chunked(xdt_BTHP), chunked(B_BTHN), chunked(C_BTHN)
    a_BHCL = chunked(a_BTH).permute(0, 3, 1, 2)
    a_cum_BHCL = torch.cumsum(a_BHCL, dim=-1)

    # 1. Within a chunk (diagonal blocks): y_l = Σ_{s ≤ l, same doc} (C_l · B_s) exp(a_{s+1} + … + a_l) xdt_s.
    same_doc_BCLS = seq_BCL[..., :, None] == seq_BCL[..., None, :]
    decay_BHCLS = torch.exp(segsum(a_BHCL, same_doc_BCLS[:, None]))
    scores_BCLSH = torch.einsum("bclhn,bcshn->bclsh", C_BCLHN, B_BCLHN)
    y_diag_BCLHP = torch.einsum("bclsh,bhcls,bcshp->bclhp", scores_BCLSH, decay_BHCLS, xdt_BCLHP)

    # 2. Each chunk's end state, built only from the tokens of the document the chunk ends in.
    in_last_doc_BCL = seq_BCL == seq_BCL[..., -1:]
    decay_to_end_BHCL = torch.exp(a_cum_BHCL[..., -1:] - a_cum_BHCL) * in_last_doc_BCL[:, None]
    state_BCHPN = torch.einsum("bclhn,bhcl,bclhp->bchpn", B_BCLHN, decay_to_end_BHCL, xdt_BCLHP)

    # 3. State entering each chunk: end states carried across whole chunks, cut where the document changes.
    #    Slot z = 0 is the (zero) initial state, slot z = c + 1 the end of chunk c; target c is the start of chunk c.
    seq_at_slot_BZ = torch.cat([seq_BCL[:, :1, 0], seq_BCL[:, :, -1]], dim=1)
    seq_at_start_BC = seq_BCL[:, :, 0]
    same_doc_BCZ = seq_at_start_BC[:, :, None] == seq_at_slot_BZ[:, None, :-1]
    chunk_decay_BHZ = F.pad(a_cum_BHCL[..., -1], (1, 0))
    carry_BHCZ = torch.exp(segsum(chunk_decay_BHZ[..., :-1], same_doc_BCZ[:, None]))
    slot_state_BZHPN = torch.cat([torch.zeros_like(state_BCHPN[:, :1]), state_BCHPN[:, :-1]], dim=1)
    entering_BCHPN = torch.einsum("bhcz,bzhpn->bchpn", carry_BHCZ, slot_state_BZHPN)

    # 4. The entering state reaches position l only while l is still in the chunk's first document.
    in_first_doc_BCL = seq_BCL == seq_BCL[..., :1]
    decay_from_start_BHCL = torch.exp(a_cum_BHCL) * in_first_doc_BCL[:, None]
    y_off_BCLHP = torch.einsum("bclhn,bchpn,bhcl->bclhp", C_BCLHN, entering_BCHPN, decay_from_start_BHCL)

    y_BTHP = (y_diag_BCLHP + y_off_BCLHP).reshape(batch, n_chunks * chunk_size, n_heads, head_dim)
    return y_BTHP[:, :seq_len]


@functools.cache
def fused_kernels_available() -> bool:
    """True when mamba_ssm and causal_conv1d import, i.e. transformers routes the mixer to their fused kernels."""
    try:
        importlib.import_module("mamba_ssm.ops.triton.ssd_combined")
        importlib.import_module("causal_conv1d")
    except Exception:  # a broken CUDA build fails with errors other than ImportError too
        return False
    return True


def packed_seq_idx(hidden_BTE: torch.Tensor, mixer_kwargs: dict) -> torch.Tensor | None:
    """The document index of each token, from the `seq_idx` or `cu_seq_lens_q` the decoder passes to the mixer."""
    batch, seq_len, _ = hidden_BTE.shape
    seq_idx = mixer_kwargs.get("seq_idx")
    if seq_idx is not None:
        if tuple(seq_idx.shape) != (batch, seq_len):
            raise ValueError(f"seq_idx has shape {tuple(seq_idx.shape)}, expected {(batch, seq_len)}")
        if bool((seq_idx[:, 1:] < seq_idx[:, :-1]).any()):
            raise ValueError("seq_idx must be non-decreasing along each row (a larger id for each new document)")
        return seq_idx.to(device=hidden_BTE.device, dtype=torch.int32)
    cu_seqlens_N = mixer_kwargs.get("cu_seq_lens_q")
    if cu_seqlens_N is not None:
        return seq_idx_from_cu_seqlens(cu_seqlens_N.to(hidden_BTE.device), batch, seq_len)
    return None


class SegmentAwareNemotronHMamba2Mixer(NemotronHMamba2Mixer):
    """NemotronHMamba2Mixer that keeps the documents of a packed row apart (same parameters, same state dict).

    Without document boundaries (or with a generation cache) it is the transformers mixer unchanged. With them it
    runs the fused kernels with `seq_idx` when they are installed and the tensors are on CUDA (`backend="auto"`),
    else the segment-aware torch path above. `backend` = "torch" or "fused" forces one.
    """

    packing_backend: str = "auto"

    def forward(
        self,
        hidden_states: torch.Tensor,
        cache: Cache | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> torch.Tensor:
        seq_idx_BT = packed_seq_idx(hidden_states, kwargs)
        if seq_idx_BT is None:
            return super().forward(hidden_states, cache=cache, attention_mask=attention_mask, **kwargs)
        if cache is not None:
            raise ValueError("a packed row (seq_idx / cu_seq_lens_q given) cannot be run with a generation cache")
        if self._use_fused(hidden_states):
            return super().forward(hidden_states, attention_mask=attention_mask, **(kwargs | {"seq_idx": seq_idx_BT}))
        return self._segment_forward(hidden_states, seq_idx_BT, attention_mask)

    def _use_fused(self, hidden_states: torch.Tensor) -> bool:
        if self.packing_backend == "torch":
            return False
        fused_ok = fused_kernels_available() and hidden_states.is_cuda
        if self.packing_backend == "fused" and not fused_ok:
            raise ValueError("backend='fused' needs CUDA tensors and the mamba_ssm and causal_conv1d packages")
        return fused_ok

    def _segment_forward(
        self, hidden_BTE: torch.Tensor, seq_idx_BT: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """The transformers torch path, step for step, with the conv and the scan made segment-aware."""
        batch, seq_len, _ = hidden_BTE.shape
        dtype = hidden_BTE.dtype
        projected_BTX = self.in_proj(apply_mask_to_padding_states(hidden_BTE, attention_mask))
        gate_BTI, xBC_BTD, dt_BTH = projected_BTX.split([self.intermediate_size, self.conv_dim, self.num_heads], -1)

        conv_BTD = segment_causal_conv1d(xBC_BTD, self.conv1d.weight.squeeze(1), self.conv1d.bias, seq_idx_BT)
        xBC_BTD = apply_mask_to_padding_states(self.act(conv_BTD).to(dtype), attention_mask)
        state_width = self.n_groups * self.ssm_state_size
        x_BTI, B_BTX, C_BTX = xBC_BTD.split([self.intermediate_size, state_width, state_width], dim=-1)

        dt_BTH = F.softplus(dt_BTH + self.dt_bias.to(dt_BTH.dtype)).clamp(*self.time_step_limit)
        A_H = -torch.exp(self.A_log.float())
        x_BTHP = x_BTI.reshape(batch, seq_len, self.num_heads, self.head_dim)
        y_BTHP = segment_ssd_scan(
            x_BTHP,
            dt_BTH,
            A_H,
            B_BTX.reshape(batch, seq_len, self.n_groups, self.ssm_state_size),
            C_BTX.reshape(batch, seq_len, self.n_groups, self.ssm_state_size),
            seq_idx_BT,
            self.chunk_size,
        )
        y_BTHP = y_BTHP + self.D.float()[:, None] * x_BTHP.float()
        y_BTI = self.norm(y_BTHP.reshape(batch, seq_len, -1), gate_BTI)
        return self.out_proj(y_BTI.to(dtype))
